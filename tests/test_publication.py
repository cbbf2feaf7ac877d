"""Publication over the whole report (linked tables, protection interval) and the self-audit.

Each attack the audit makes has a test where an older, per-table publication leaks and the
linked publication does not; property tests generate small random studies of one and two
years and assert that the audit recovers nothing from what publication prints.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.maturity.bounds import bound_counts, level_ranges
from analysis.report.audit import audit_reports, report_from_items
from analysis.report.publication import PublicationRule, publish
from analysis.report.registry import ReportTable
from analysis.tabulation.suppression import TableLayout, suppress_counts

RULE = PublicationRule(k=5, interval=1)
LEVELS = ("A", "B", "C", "unclassified")


def counts_table(
    name: str,
    rows: dict[str, list[int]],
    columns: list[str],
    *,
    total_row: bool = True,
    total_column: str | None = None,
    links=(),
    **layout,
) -> ReportTable:
    frame = pd.DataFrame({"label": list(rows)})
    for j, column in enumerate(columns):
        frame[column] = pd.array([values[j] for values in rows.values()], dtype="Int64")
    spec = TableLayout(
        total_row=len(frame) - 1 if total_row else None,
        total_column=total_column,
        part_columns=None if total_column else (),
        links=tuple(links),
        **layout,
    )
    return ReportTable(name, name, name, frame, counts=tuple(columns), layout=spec.as_mapping())


def level_table(name: str, year: int, levels: dict[str, int], column: str = "n") -> ReportTable:
    rows = {level: [levels.get(level, 0)] for level in LEVELS}
    rows["total"] = [sum(levels.values())]
    links = [(i, column, ("maturity_level", year, level)) for i, level in enumerate(LEVELS)]
    links.append((len(LEVELS), column, ("respondents", year)))
    return counts_table(name, rows, [column], links=links)


def bounds_table(name: str, year: int, ranges: list, no_level: bool) -> ReportTable:
    """Unclassified companies per range (``ranges``: one ``(level_min, level_max)`` per company),
    then their total: the unclassified count of ``level_table``, as the report links it."""
    maturity = pd.DataFrame(
        {"level": [None] * len(ranges), "level_min": [r[0] for r in ranges], "level_max": [r[1] for r in ranges]}
    )
    counts = bound_counts(maturity, LEVELS[:-1], no_level)
    rows = {code: [int(n)] for code, n in counts.items()} | {"total": [len(ranges)]}
    return counts_table(name, rows, ["n"], links=[(len(counts), "n", ("maturity_level", year, "unclassified"))])


def crosstab(name: str, year: int, answers: dict[str, dict[str, int]], options: list[str]) -> ReportTable:
    """Answer (rows, then the total row) by level (columns, then the total column)."""
    columns = [*LEVELS, "total"]
    rows = {}
    for option in options:
        cells = [answers.get(level, {}).get(option, 0) for level in LEVELS]
        rows[option] = [*cells, sum(cells)]
    totals = [sum(rows[o][j] for o in options) for j in range(len(LEVELS))]
    rows["total"] = [*totals, sum(totals)]
    n = len(options)
    links = [(n, level, ("maturity_level", year, level)) for level in LEVELS] + [(n, "total", ("respondents", year))]
    return counts_table(name, rows, columns, total_column="total", links=links)


def audit(published, rule=RULE, *, tag="r0", others=()):
    report = report_from_items(published.items, published.declaration, tag)
    values = {(tag, table, row, column): v for (table, row, column), v in published.values.items()}
    return audit_reports([report, *others], rule, values=values)


def per_table(items, k=5):
    """The old rule: each table suppressed on its own (totals assumed known), nothing linked."""
    out = []
    for item in items:
        frame = suppress_counts(item.frame, list(item.counts), k=k, layout=TableLayout.from_mapping(item.layout))
        shown = item.frame.copy()
        for column in item.counts:
            hidden = frame[column].isna() & item.frame[column].notna()
            shown[column] = shown[column].astype("object").where(~hidden, "x")
        out.append(ReportTable(item.name, item.name, item.name, shown, counts=item.counts, layout=item.layout))
    return out


def as_published(items):
    """Published-looking result of ``items`` already suppressed (for the old rule)."""
    from analysis.report.publication import declaration

    class Old:
        pass

    old = Old()
    old.items, old.declaration, old.values = items, declaration(items, RULE, "x"), {}
    return old


# -- the rule ---------------------------------------------------------------------------------------------


def test_rule_comes_from_the_codebook(codebook):
    rule = PublicationRule.from_codebook(codebook)
    assert (rule.k, rule.interval) == (5, 1)


def test_a_cell_narrowed_to_two_whole_numbers_is_not_protected():
    assert not RULE.protected(2, 3, 2)  # the B cell of 2 narrowed to [2, 3]
    assert RULE.protected(1, 3, 2) and RULE.protected(0, 2, 1) and RULE.protected(0, float("inf"), 3)
    assert not RULE.protected(0, 1, 1) and not RULE.protected(2, 2, 2)
    # Without the value (a reader): [2, 3] is too narrow whatever the value; [0, 1] is not known to be.
    assert not RULE.protected(2, 3) and RULE.protected(0, 1) and RULE.protected(1, 3)
    with pytest.raises(ValueError):
        PublicationRule(k=5, interval=0)


# -- attacks: linked tables ------------------------------------------------------------------------------


def test_differencing_across_tables_recovers_what_per_table_suppression_hides():
    levels = level_table("levels", 2021, {"B": 6, "C": 2})
    table = crosstab("q1", 2021, {"B": {"no": 5, "yes": 1}, "C": {"no": 1, "yes": 1}}, ["yes", "no"])
    old = audit(as_published(per_table([levels, table])))
    assert not old.ok  # the per-table rule leaks: B = 6 hidden in one table, printed in the other...
    assert "differencing" in set(old.failures["method"])
    new = publish([levels, table], RULE)
    result = audit(new)
    assert result.ok, result.failures  # ...the linked one hides a quantity everywhere or nowhere
    shown = {t.name: t.frame for t in new.items}
    assert shown["levels"].loc[1, "n"] == shown["q1"].loc[2, "B"]
    assert shown["levels"].loc[4, "n"] == shown["q1"].loc[2, "total"]


def test_linear_programme_over_linked_tables_pins_what_each_table_alone_protects():
    # a + b = 5, b + c = 7, a + c = 6: each table alone leaves a range, together they fix a, b, c.
    t1 = counts_table(
        "t1", {"a": [2], "b": [3], "total": [5]}, ["n"], links=[(0, "n", ("q", "a")), (1, "n", ("q", "b"))]
    )
    t2 = counts_table(
        "t2", {"b": [3], "c": [4], "total": [7]}, ["n"], links=[(0, "n", ("q", "b")), (1, "n", ("q", "c"))]
    )
    t3 = counts_table(
        "t3", {"a": [2], "c": [4], "total": [6]}, ["n"], links=[(0, "n", ("q", "a")), (1, "n", ("q", "c"))]
    )
    old = per_table([t1, t2, t3])
    for item in old:
        assert (item.frame["n"] == "x").sum() == 2  # each table alone looks protected
    leaked = audit(as_published(old))
    assert not leaked.ok and set(leaked.failures["method"]) <= {"lp", "ilp"}
    result = audit(publish([t1, t2, t3], RULE))
    assert result.ok, result.failures


def test_row_counting_of_a_listing_recovers_a_hidden_count_and_publication_leaves_it_out(codebook):
    from analysis.report.build import _omitted_table

    counts = counts_table(
        "per_section",
        {"s1": [2], "s2": [7], "s3": [6], "total": [15]},
        ["n"],
        links=[(i, "n", ("statements", s)) for i, s in enumerate(("s1", "s2", "s3"))],
    )
    listing_frame = pd.DataFrame({"section": ["s1"] * 2 + ["s2"] * 7 + ["s3"] * 6, "text": ["…"] * 15})
    listing = ReportTable(
        "listing", "l", "l", listing_frame, layout=TableLayout(listing=(("statements",), ("section",))).as_mapping()
    )
    old = per_table([counts]) + [listing]
    leaked = audit(as_published(old))
    assert "row_count" in set(leaked.failures["method"])
    new = publish([counts, listing], RULE, omitted_table=_omitted_table(codebook))
    assert "listing" not in {t.name for t in new.items}
    appendix = next(t for t in new.items if t.name == "appendix_omitted")
    assert appendix.frame["omitted_item"].tolist() == ["listing"]
    assert "行数" in appendix.frame["omitted_reason"].iloc[0]
    assert audit(new).ok


def yoy_table(old: dict[str, int], new: dict[str, int]) -> ReportTable:
    rows = {level: [old.get(level, 0), new.get(level, 0)] for level in LEVELS}
    rows["total"] = [sum(old.values()), sum(new.values())]
    links = [
        (i, f"n_{y}", ("maturity_level", y, lv) if lv != "total" else ("respondents", y))
        for y in (2020, 2021)
        for i, lv in enumerate((*LEVELS, "total"))
    ]
    return counts_table("yoy", rows, ["n_2020", "n_2021"], links=links)


def test_differencing_across_years_and_the_previous_report_kept_as_published():
    old, new = {"A": 2, "B": 6, "C": 7}, {"A": 6, "B": 7, "C": 8}
    # Last year's report hid C (to protect d) and showed B.
    last_year = [
        level_table("levels", 2020, old),
        counts_table("t", {"c": [7], "d": [1], "total": [8]}, ["n"], links=[(0, "n", ("maturity_level", 2020, "C"))]),
    ]
    before = publish(last_year, RULE)
    assert before.items[0].frame["n"].tolist()[:3] == ["x", 6, "x"]
    previous_report = report_from_items(before.items, before.declaration, "r1")
    this_year = [level_table("levels", 2021, new), yoy_table(old, new)]
    # Published on its own, this year's table hides B instead and prints C: together with last
    # year's report, C is differenced and A = 15 - 6 - 7 follows.
    alone = audit(publish(this_year, RULE), others=[previous_report])
    assert {"differencing"} <= set(alone.failures["method"]) and len(alone.failures) >= 2
    linked = publish(this_year, RULE, previous=before.rescoped("previous"))
    result = audit(linked, others=[previous_report])
    assert result.ok, result.failures
    assert linked.items[1].frame["n_2020"].tolist()[:3] == ["x", 6, "x"]


def test_a_count_last_years_report_shows_cannot_be_hidden_this_year_so_its_table_is_left_out():
    before = publish([level_table("levels", 2020, {"A": 4, "B": 6})], PublicationRule(k=3))
    yoy = level_table("yoy", 2020, {"A": 4, "B": 6})
    other = counts_table("other", {"x": [9], "total": [9]}, ["n"])
    out = publish([yoy, other], RULE, previous=before.rescoped("previous"))
    assert [(name, reason) for name, *_, reason in out.omitted] == [("yoy", "unprotectable")]
    assert [t.name for t in out.items] == ["other"]


def test_a_percentage_or_test_printed_beside_a_hidden_count_is_an_attack():
    frame = pd.DataFrame(
        {
            "item": ["a", "b", "total"],
            "n": pd.array([2, 7, 9], dtype="Int64"),
            "share": [2 / 9, 7 / 9, 1.0],
            "p": [0.3, 0.4, None],
        }
    )
    layout = TableLayout(total_row=2, part_columns=(), percent_of={"share": "n"})
    table = ReportTable(
        "pct", "t", "t", frame, counts=("n",), percents=("share",), statistics=("p",), layout=layout.as_mapping()
    )
    leaky = table.frame.assign(n=table.frame["n"].astype("object").where([False, True, True], "x"))
    old = audit(
        as_published(
            [
                ReportTable(
                    "pct", "t", "t", leaky, counts=("n",), percents=("share",), statistics=("p",), layout=table.layout
                )
            ]
        )
    )
    assert set(old.failures["method"]) == {"computed_column"}
    new = publish([table], RULE)
    assert audit(new).ok
    assert (new.items[0].frame.loc[0, ["n", "share", "p"]] == "x").all()


# -- what publication prints -------------------------------------------------------------------------------


def test_columns_derived_from_a_count_are_hidden_with_it():
    frame = pd.DataFrame(
        {
            "item": ["a", "b", "c"],
            "n": pd.array([2, 7, 6], dtype="Int64"),
            "N": pd.array([9, 9, 9], dtype="Int64"),
            "ci_low": [0.05, 0.4, 0.3],
            "ci_high": [0.6, 0.95, 0.9],
            "p": [0.5, 0.1, 0.2],
        }
    )
    layout = TableLayout(
        part_columns=(),
        row_inequalities=((("n",), ("N",)),),
        derived_from={"ci_low": ("n", "N"), "ci_high": ("n", "N")},
    )
    table = ReportTable("ci", "t", "t", frame, counts=("n", "N"), statistics=("p",), layout=layout.as_mapping())
    (shown,) = publish([table], RULE).items
    hidden = (shown.frame[["n", "N"]] == "x").any(axis=1)
    assert hidden.iloc[0]
    for column in ("ci_low", "ci_high", "p"):
        assert (shown.frame.loc[hidden, column] == "x").all()
        assert (shown.frame.loc[~hidden, column] != "x").all()


def test_respondent_level_items_are_left_out_and_listed(codebook):
    from analysis.report.build import _omitted_table

    per_company = ReportTable(
        "per_company", "個社の表", "per company", pd.DataFrame({"score": [1.0, 2.0]}), respondent_level=True
    )
    kept = counts_table("kept", {"a": [6], "b": [7], "total": [13]}, ["n"])
    out = publish([per_company, kept], RULE, omitted_table=_omitted_table(codebook))
    names = [t.name for t in out.items]
    assert "per_company" not in names and names[-1] == "appendix_omitted"
    row = out.items[-1].frame.iloc[0]
    assert (row["omitted_item"], row["omitted_title"]) == ("per_company", "個社の表")
    assert row["omitted_reason"] == "個社が特定できるため非公開"


def test_a_figure_drawn_by_the_size_of_a_hidden_count_is_left_out(codebook):
    """A level radar drawn only for levels of at least k companies tells a hidden level's side
    of k (in the 2020 sample: A, B and C all hidden, none drawn, so each is at most 4 and, with
    the total of 10, at least 2): it goes when a level it depends on is hidden."""
    from analysis.report.build import _omitted_table
    from analysis.report.registry import ReportFigure

    levels = level_table("maturity_levels", 2020, {"A": 2, "B": 4, "C": 4})
    keys = tuple(("maturity_level", 2020, level) for level in ("A", "B", "C"))
    radar = ReportFigure("radar", "レーダー", "radar", figure=None, shows=keys)
    out = publish([levels, radar], RULE, omitted_table=_omitted_table(codebook))
    assert "radar" not in [i.name for i in out.items]
    row = out.items[-1].frame.iloc[0]
    assert row["omitted_item"] == "radar"
    assert row["omitted_reason"] == "図の内容から秘匿した件数の範囲が分かるため非公開"
    visible = level_table("maturity_levels", 2021, {"A": 5, "B": 5, "C": 6})
    radar = ReportFigure(
        "radar",
        "レーダー",
        "radar",
        figure=None,
        shows=tuple(("maturity_level", 2021, level) for level in ("A", "B", "C")),
    )
    assert "radar" in [i.name for i in publish([visible, radar], RULE).items]


def test_inconsistent_links_are_an_error():
    t1 = counts_table("t1", {"a": [2], "total": [2]}, ["n"], links=[(0, "n", ("q", "a"))])
    t2 = counts_table("t2", {"a": [3], "total": [3]}, ["n"], links=[(0, "n", ("q", "a"))])
    with pytest.raises(ValueError, match="link"):
        publish([t1, t2], RULE)


# -- random studies ------------------------------------------------------------------------------------------


def multiple_response(
    name: str, year: int, levels: list[str], chosen: list[frozenset[str]], options: list[str]
) -> ReportTable:
    """Options chosen (any number) by level: option rows, then unanswered, answered and total."""

    def column(level: str | None) -> list[int]:
        rows = [(lv, c) for lv, c in zip(levels, chosen, strict=True) if level is None or lv == level]
        answered = sum(1 for _, c in rows if c)
        return [*(sum(o in c for _, c in rows) for o in options), len(rows) - answered, answered, len(rows)]

    columns = {level: column(level) for level in LEVELS} | {"total": column(None)}
    labels = [*options, "unanswered", "answered", "total"]
    frame = pd.DataFrame({"label": labels})
    for name_, values in columns.items():
        frame[name_] = pd.array(values, dtype="Int64")
    n = len(options)
    links = [(n + 2, level, ("maturity_level", year, level)) for level in LEVELS] + [
        (n + 2, "total", ("respondents", year))
    ]
    layout = TableLayout(
        total_row=n + 2,
        total_column="total",
        additive_rows=(n, n + 1),
        option_rows=tuple(range(n)),
        answered_row=n + 1,
        denominator_rows=(n + 1, n + 2),
        links=tuple(links),
    )
    return ReportTable(name, name, name, frame, counts=(*LEVELS, "total"), layout=layout.as_mapping())


@st.composite
def studies(draw, year: int = 2021):
    n = draw(st.integers(3, 40))
    levels = draw(st.lists(st.sampled_from(LEVELS), min_size=n, max_size=n))
    n_questions = draw(st.integers(1, 2))
    items = []
    counts = {level: levels.count(level) for level in LEVELS}
    items.append(level_table("levels", year, counts))
    no_level = draw(st.booleans())
    ranges = level_ranges(LEVELS[:-1], no_level)
    unclassified = counts["unclassified"]
    items.append(
        bounds_table(
            "bounds",
            year,
            draw(st.lists(st.sampled_from(ranges), min_size=unclassified, max_size=unclassified)),
            no_level,
        )
    )
    for q in range(n_questions):
        options = ["o1", "o2", "o3"][: draw(st.integers(2, 3))]
        picks = draw(st.lists(st.sampled_from(options), min_size=n, max_size=n))
        answers: dict[str, dict[str, int]] = {}
        for level, pick in zip(levels, picks, strict=True):
            answers.setdefault(level, {}).setdefault(pick, 0)
            answers[level][pick] += 1
        items.append(crosstab(f"q{q}", year, answers, options))
    if draw(st.booleans()):
        options = ["m1", "m2", "m3"]
        chosen = draw(st.lists(st.frozensets(st.sampled_from(options)), min_size=n, max_size=n))
        items.append(multiple_response("multi", year, levels, chosen, options))
    return items, counts


FAST = settings(max_examples=examples(12), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(studies())
def test_the_audit_recovers_nothing_from_a_random_study(study):
    items, _ = study
    published = publish(items, RULE)
    result = audit(published)
    assert result.ok, result.failures
    assert len(result.frame) == published.hidden_cells


@FAST
@given(studies())
def test_the_bounds_table_never_narrows_a_hidden_unclassified_or_bound_count(study):
    items, _ = study
    published = publish(items, RULE)
    shown = {item.name: item.frame for item in published.items}
    assert "bounds" in shown  # always protectable: never left out
    # Its total is the same quantity as the level distribution's unclassified row.
    assert (shown["bounds"]["n"].iloc[-1] == "x") == (shown["levels"]["n"].iloc[LEVELS.index("unclassified")] == "x")
    truth = next(item for item in items if item.name == "bounds").frame["n"]
    assert all(s == "x" for s, n in zip(shown["bounds"]["n"], truth, strict=True) if 0 < n < RULE.k)
    result = audit(published)
    attacked = result.frame[result.frame["table"] == "bounds"]
    assert len(attacked) == (shown["bounds"]["n"] == "x").sum()  # every hidden cell attacked
    assert result.ok, result.failures


def test_a_bounds_table_printed_in_full_gives_away_the_unclassified_count():
    items = [
        level_table("levels", 2021, {"A": 6, "B": 7, "C": 5, "unclassified": 2}),
        bounds_table("bounds", 2021, [("B", "A"), ("C", "B")], False),
    ]
    published = publish(items, RULE)
    assert audit(published).ok
    assert published.items[1].frame["n"].tolist() == ["x", 0, "x", "x"]
    # The same report with the bounds printed as counted: their sum is the hidden 判定不能.
    leaked = replace(published, items=[published.items[0], items[1]])
    failures = audit(leaked).failures.set_index(["table", "row"])
    assert failures.loc[("levels", LEVELS.index("unclassified")), ["lo", "hi"]].tolist() == [2, 2]


@FAST
@given(studies(2020), studies(2021))
def test_the_audit_recovers_nothing_from_two_random_years(first, second):
    (old_items, old_counts), (new_items, new_counts) = first, second
    before = publish(old_items, RULE)
    yoy = yoy_table(old_counts, new_counts)
    published = publish([*new_items, yoy], RULE, previous=before.rescoped("previous"))
    result = audit(published, others=[report_from_items(before.items, before.declaration, "r1")])
    assert result.ok, result.failures


def test_the_files_name_columns_by_their_headers_and_the_audit_finds_the_same_cells(codebook):
    from analysis.codebook.words import Words
    from analysis.report.publication import PublicationError

    levels = level_table("levels", 2021, {"A": 2, "B": 6, "C": 7, "unclassified": 1})
    table = crosstab(
        "q1",
        2021,
        {"A": {"yes": 1, "no": 1}, "B": {"yes": 4, "no": 2}, "C": {"yes": 5, "no": 2}, "unclassified": {"no": 1}},
        ["yes", "no"],
    )
    published = publish([levels, table], RULE)
    labelled = published.labelled(Words(codebook, "ja"))
    (declared,) = [t for t in labelled.declaration["tables"] if t["name"] == "q1"]
    assert declared["columns"] == ["label", "A", "B", "C", "判定不能", "計"]
    assert declared["layout"]["total_column"] == "計"
    assert {column for _, column, _ in declared["layout"]["links"]} <= set(declared["columns"])
    assert {column for _, _, column in labelled.values} <= {"件数", "A", "B", "C", "判定不能", "計"}
    by_id, by_header = audit(published), audit(labelled)
    assert by_header.ok and len(by_header.frame) == len(by_id.frame) > 0
    headers = {"n": "件数", "unclassified": "判定不能", "total": "計"}
    assert by_header.frame["column"].tolist() == [headers.get(c, c) for c in by_id.frame["column"]]

    clash = counts_table("clash", {"a": [1, 1], "total": [1, 1]}, ["n", "件数"])
    with pytest.raises(PublicationError, match="same header"):
        publish([clash], RULE).labelled(Words(codebook, "ja"))


def test_a_table_the_search_reached_is_not_left_out_for_a_table_that_cannot_be_protected():
    # Everyone at level A: the multiple-response table cannot be protected (its small counts
    # have no complement in other levels). Protecting it reached the bounds table (all zeros)
    # through the shared unclassified count; that table holds nothing to hide and stays.
    levels = ["A"] * 9
    chosen = [frozenset({"m1", "m2"})] * 2 + [frozenset({"m2"})] * 3 + [frozenset()] * 4
    items = [
        level_table("levels", 2021, {"A": 9, "B": 0, "C": 0, "unclassified": 0}),
        bounds_table("bounds", 2021, [], False),
        crosstab("q0", 2021, {"A": {"o1": 8, "o2": 1}}, ["o1", "o2"]),
        crosstab("q1", 2021, {"A": {"o1": 8, "o2": 1}}, ["o1", "o2"]),
        multiple_response("multi", 2021, levels, chosen, ["m1", "m2", "m3"]),
    ]
    published = publish(items, RULE)
    assert [item.name for item in published.items] == ["levels", "bounds", "q0", "q1"]
    assert [name for name, *_ in published.omitted] == ["multi"]
    assert audit(published).ok
