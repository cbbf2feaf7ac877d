"""Pre-survey by maturity in the report (analysis/report/builders/crosstabs.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.codebook.words import Words
from analysis.report.build import builders, publishable
from analysis.report.builders import crosstabs
from analysis.report.builders.crosstabs import presurvey_tables
from analysis.report.registry import ReportContext
from analysis.study.load import Study, study_from_tables
from analysis.tabulation.suppression import TableLayout, is_recoverable

IDS = [f"U{i:02d}" for i in range(1, 11)]
LEVELS = ["A", "A", "B", "B", "B", "B", "B", "C", "C", None]
Q11 = [1, 1, 2, 2, 2, 3, 3, 4, 4, 2]


@pytest.fixture
def study(codebook) -> Study:
    respondents = pd.DataFrame({"respondent_id": IDS, "group": "user", "fiscal_year": 2021})
    rows = [
        {"respondent_id": r, "fiscal_year": 2021, "topic": 1, "question_id": "Q1-1", "kind": "single", "option_code": v}
        for r, v in zip(IDS, Q11, strict=True)
    ]
    rows += [
        {
            "respondent_id": r,
            "fiscal_year": 2021,
            "topic": 1,
            "question_id": "Q1-2",
            "kind": "multiple",
            "option_code": 2,
        }
        for r in IDS[:7]
    ]
    base = study_from_tables({"respondents": respondents, "presurvey": pd.DataFrame(rows)}, codebook, fiscal_year=2021)
    maturity = pd.DataFrame({"respondent_id": IDS, "fiscal_year": 2021, "level": LEVELS})
    return Study(tables={**base.tables, "maturity": maturity}, codebook=codebook, fiscal_year=2021)


def test_registered_in_the_crosstab_band():
    assert "presurvey_by_maturity" in [name for name, _ in builders()]


def test_one_table_per_question(study):
    items = presurvey_tables(study, ReportContext(lang="ja"))
    questions = study.codebook.table("presurvey_questions")
    assert len(items) == int((questions["kind"] != "text").sum())
    first = items[0]
    assert first.name == "presurvey_q1_1_by_maturity"
    assert first.title_ja.startswith("事前アンケート Q1-1×成熟度") and first.title_en.startswith("Pre-survey Q1-1 by")
    assert "Fisher-Freeman-Halton" in first.note_en
    assert set(first.counts) | set(first.percents) <= set(first.frame.columns)
    # A-level column: U01, U02 answered option 1; the column's denominator is 2.
    frame = first.labelled(Words(study.codebook, "ja"))
    assert frame.loc[0, "成熟度A(高) n"] == 2 and frame.loc[0, "成熟度A(高) %"] == pytest.approx(1.0)
    assert frame.iloc[-1]["合計 n"] == 10


def test_fallback_to_respondent_group(study, monkeypatch):
    monkeypatch.setattr(crosstabs, "maturity_levels", lambda study: None)
    items = presurvey_tables(study, ReportContext(lang="en"))
    assert items[0].name == "presurvey_q1_1_by_group"
    assert "by respondent group" in items[0].note_en


def test_publish_withholds_tests_and_hides_small_cells(study):
    items = presurvey_tables(study, ReportContext(lang="ja", publish=True))
    first = items[0]
    assert "p = " not in first.note_en and "withheld" in first.note_en
    multiple = next(item for item in items if item.name == "presurvey_q1_2_by_maturity")
    shown_table = publishable([multiple], 5)[0]
    shown = shown_table.frame
    rows = (shown[list(multiple.counts)] == "x").any(axis=1)
    shown = shown_table.labelled(Words(study.codebook, "ja"))
    assert rows.any() and (shown.loc[rows, "p値"].isin(["x"]) | shown.loc[rows, "p値"].isna()).all()
    published = publishable(items[:1], 5)[0]
    counts = list(first.counts)
    assert (published.frame[counts] == "x").to_numpy().any()
    hidden = published.frame[counts].where(published.frame[counts] != "x")
    hidden = hidden.apply(pd.to_numeric).astype("Int64")
    layout = TableLayout.from_mapping(first.frame.attrs["layout"])
    # The margins (the level distribution) are hidden with their cells wherever they appear,
    # so the reader knows the printed totals only.
    assert not is_recoverable(first.frame, hidden, counts, layout=layout, margins=False)


def test_no_presurvey_no_tables(codebook):
    empty = study_from_tables({}, codebook, fiscal_year=2021)
    assert presurvey_tables(empty, ReportContext()) == []


def test_report_tables_carry_exact_intervals_and_q_values(study):
    items = presurvey_tables(study, ReportContext(lang="ja"))
    first = items[0]
    ci = first.frame.attrs["ci_columns"]
    assert ci and set(ci) <= set(first.percents) and not set(ci) & set(first.statistics)
    layout = TableLayout.from_mapping(first.layout)
    # declared derived from its count (and so from its denominator, the count's margin row)
    assert all(set(layout.derived_from[c]) <= set(first.counts) for c in ci)
    # A column: 2 of 2 chose option 1 -> [0.158, 1].
    words = Words(study.codebook, "ja")
    shown = first.labelled(words)
    assert shown.loc[0, "成熟度A(高) 95%信頼区間 下限"] == pytest.approx(0.025 ** (1 / 2))
    assert shown.loc[0, "成熟度A(高) 95%信頼区間 上限"] == 1.0
    assert "Clopper–Pearson" in first.note_ja and "Clopper–Pearson" in first.note_en
    multiple = next(item for item in items if item.name == "presurvey_q1_2_by_maturity")
    statistics = tuple(multiple.header(c, words) for c in multiple.table_statistics)
    assert statistics == ("q値(BH法)",) and "q値(BH法)" in multiple.labelled(words).columns
    assert "Benjamini–Hochberg" in multiple.note_ja


def test_publish_hides_intervals_with_their_counts(study):
    from analysis.report.audit import report_from_items
    from analysis.report.publication import PublicationRule, publish

    items = presurvey_tables(study, ReportContext(lang="ja", publish=True))
    first = items[0]
    published = publishable([first], k=5)[0].frame
    counts = list(first.counts)
    layout = TableLayout.from_mapping(first.layout)
    hidden = published[counts] == "x"
    assert hidden.any().any()
    margins = [p for p in (*layout.denominator_rows, layout.total_row)]
    checked = 0
    for column in first.frame.attrs["ci_columns"]:
        (count,) = layout.derived_from[column]
        had_value = first.frame[column].notna()
        # with its own count, and with its denominator (the bound of 0 of n tells n)
        must_hide = hidden[count] | bool(hidden[count].iloc[margins].any())
        assert (published.loc[must_hide & had_value, column] == "x").all()
        assert (published.loc[~must_hide & had_value, column] != "x").all()  # others stay printed
        assert published.loc[~had_value, column].isna().all()  # the total row has none
        checked += int((must_hide & had_value).sum())
    assert checked
    # q-values use every option's p: wholly hidden as soon as a count is; p-values with their row
    multiple = next(item for item in items if item.name == "presurvey_q1_2_by_maturity")
    words = Words(study.codebook, "ja")
    statistics = [multiple.header(c, words) for c in multiple.statistics]
    assert tuple(multiple.header(c, words) for c in multiple.table_statistics) == ("q値(BH法)",)
    assert "p値" in "".join(statistics)
    out = publish([multiple], PublicationRule(k=5))
    shown = out.items[0].frame
    if (shown[list(multiple.counts)] == "x").any().any():
        assert (out.items[0].labelled(words)["q値(BH法)"].dropna() == "x").all()
    # and the audit, reading the files a reader gets, finds no column printed beside a hidden count
    both = publish([first, multiple], PublicationRule(k=5))
    values = {("r0", t, r, c): v for (t, r, c), v in both.values.items()}
    from analysis.report.audit import audit_reports

    result = audit_reports([report_from_items(both.items, both.declaration)], values=values)
    assert len(result.frame) and result.ok and "computed_column" not in set(result.frame["method"])
