"""Maturity classification: every clause, precedence, exact thresholds, missing directives,
sensitivity and year-over-year tables, on hand-made tidy frames."""

from __future__ import annotations

import copy
from dataclasses import replace
from fractions import Fraction

import pandas as pd
import pytest
from conftest import examples
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from analysis.maturity.classification import (
    classify,
    directive_change,
    directive_change_summary,
    maturity_table,
    one_year_only,
    rules_from_codebook,
    sensitivity,
    transition_matrix,
)
from analysis.maturity.scores import directive_scores
from analysis.study.load import Study

COLUMNS = [
    "respondent_id",
    "fiscal_year",
    "level",
    "level_min",
    "level_max",
    "n_below_3",
    "n_at_least_3",
    "n_at_least_4",
    "n_missing_directives",
    "rules_matched",
    "conflict",
    "reason",
    "reason_ja",
]

# Four answers giving each directive mean used below (exact: 4 questions per directive).
ANSWERS = {
    1: (1, 1, 1, 1),
    1.5: (1, 2, 1, 2),
    2: (2, 2, 2, 2),
    2.75: (3, 3, 2, 3),
    3: (3, 4, 2, "dont_know"),
    3.25: (3, 3, 3, 4),
    3.5: (3, 4, 3, 4),
    3.75: (4, 4, 3, 4),
    4: (3, 4, 5, 4),
    4.5: (4, 5, 4, 5),
    5: (5, 5, 5, 5),
    None: ("not_applicable", "dont_know", "unanswered", "dont_know"),
}
REASONS = {"unanswered", "not_applicable", "dont_know"}


def sa_rows(rid: str, year: int, means: list, codebook) -> list[dict]:
    """Tidy self-assessment rows for directive means ``means[0]`` … ``means[9]``."""
    rows = []
    for directive, mean in enumerate(means, start=1):
        qids = codebook.questions.loc[codebook.questions["directive"] == directive, "question_id"]
        for qid, answer in zip(qids, ANSWERS[mean], strict=True):
            missing = answer if answer in REASONS else None
            rows.append(
                {
                    "respondent_id": rid,
                    "fiscal_year": year,
                    "edition": "fy2021",
                    "directive": directive,
                    "question_id": qid,
                    "score": None if missing else answer,
                    "missing_reason": missing,
                    "source": f"sa_{rid}.xlsx!answers!C{len(rows) + 2}",
                }
            )
    return rows


def classified(tables: dict[str, pd.DataFrame], codebook) -> pd.DataFrame:
    """The maturity table of a study holding ``tables`` as given (not typed)."""
    return maturity_table(Study(tables=tables, codebook=codebook))


def table_for(profiles: dict[str, list], codebook, year: int = 2021, **tables) -> pd.DataFrame:
    rows = [r for rid, means in profiles.items() for r in sa_rows(rid, year, means, codebook)]
    return classified({"self_assessment": pd.DataFrame(rows), **tables}, codebook)


def one(profile: list, codebook) -> pd.Series:
    return table_for({"U01": profile}, codebook).iloc[0]


@pytest.fixture(scope="module")
def rules(codebook):
    return rules_from_codebook(codebook)


# -- rules as data ---------------------------------------------------------------------------


def test_rules_are_read_from_the_codebook(rules):
    assert dict(rules.thresholds) == {"low": 3, "high": 4}
    assert rules.precedence == ("A", "B", "C")
    assert [rules.counter_column(c) for c in rules.counters] == ["n_below_3", "n_at_least_3", "n_at_least_4"]
    assert rules.representatives() == (1, 3, 4)


@pytest.mark.parametrize(
    ("level", "counts", "holds"),
    [
        # A: no directive below 3 and 4 or more at >= 4 (one clause, two bounds).
        ("A", {"n_below_low": 0, "n_at_least_low": 10, "n_at_least_high": 4}, True),
        ("A", {"n_below_low": 1, "n_at_least_low": 9, "n_at_least_high": 9}, False),
        ("A", {"n_below_low": 0, "n_at_least_low": 10, "n_at_least_high": 3}, False),
        # B clause 1: 5 or more at >= 3.
        ("B", {"n_below_low": 5, "n_at_least_low": 5, "n_at_least_high": 0}, True),
        ("B", {"n_below_low": 6, "n_at_least_low": 4, "n_at_least_high": 3}, False),
        # B clause 2: 4 or more at >= 4, whatever is below 3.
        ("B", {"n_below_low": 6, "n_at_least_low": 4, "n_at_least_high": 4}, True),
        # C: 6 or more below 3.
        ("C", {"n_below_low": 6, "n_at_least_low": 4, "n_at_least_high": 0}, True),
        ("C", {"n_below_low": 5, "n_at_least_low": 5, "n_at_least_high": 0}, False),
    ],
)
def test_each_clause_of_each_rule(rules, level, counts, holds):
    assert rules.rule(level).holds(counts) is holds


@pytest.mark.parametrize(
    ("means", "level", "matched"),
    [
        ([3] * 6 + [4] * 4, "A", "A;B"),  # A: none below 3, exactly 4 at >= 4
        ([2.75] + [3] * 5 + [4] * 4, "B", "B"),  # one below 3 breaks A
        ([3] * 7 + [4] * 3, "B", "B"),  # three at >= 4 break A
        ([2] * 5 + [3] * 5, "B", "B"),  # B clause 1 on the boundary (5 at >= 3)
        ([1] * 6 + [4.5] * 4, "B", "B;C"),  # B clause 2 alone among B's clauses
        ([2] * 6 + [3.5] * 3 + [5], "C", "C"),  # C: six below 3, B's clauses both fail
        ([1] * 10, "C", "C"),
        ([5] * 10, "A", "A;B"),
    ],
)
def test_every_clause_on_complete_profiles(codebook, means, level, matched):
    result = one(means, codebook)
    assert result["level"] == level
    assert result["rules_matched"] == matched
    assert result["n_missing_directives"] == 0


def test_overlap_six_below_and_four_at_least_4_is_b_by_precedence(codebook):
    result = one([2, 1.5, 2.75, 2, 1, 2, 4, 4.5, 5, 4], codebook)
    assert result["level"] == "B"
    assert result["rules_matched"] == "B;C"
    assert bool(result["conflict"]) is True
    assert (result["n_below_3"], result["n_at_least_3"], result["n_at_least_4"]) == (6, 4, 4)
    assert "precedence" in result["reason"] and "C (6 or more directives with mean below 3)" in result["reason"]


def test_a_meeting_b_too_is_not_a_conflict(codebook, rules):
    # A implies B by the rules' own terms, so precedence decides nothing contestable there.
    assert ("A", "B") in rules.implications and ("B", "C") not in rules.implications
    result = one([3] * 6 + [4] * 4, codebook)
    assert bool(result["conflict"]) is False and pd.isna(result["reason"])


def test_precedence_is_data(codebook):
    meta = copy.deepcopy(codebook.meta)
    meta["maturity"]["precedence"] = ["A", "C", "B"]
    reordered = replace(codebook, meta=meta)
    result = table_for({"U01": [2] * 6 + [4] * 4}, reordered).iloc[0]
    assert result["level"] == "C" and result["rules_matched"] == "C;B" and bool(result["conflict"])


def test_thresholds_are_data(codebook):
    meta = copy.deepcopy(codebook.meta)
    meta["maturity"]["low_threshold"] = 3.5
    moved = replace(codebook, meta=meta)
    profile = [3.25] * 6 + [3.75] * 4
    assert table_for({"U01": profile}, codebook).iloc[0]["level"] == "B"
    result = table_for({"U01": profile}, moved).iloc[0]
    assert result["level"] == "C"
    assert "n_below_3.5" in result.index


# -- exact thresholds ------------------------------------------------------------------------


def test_mean_exactly_3_is_not_below_3_even_where_floats_say_otherwise(codebook):
    # Each mean of 3 comes from answers 3, 4, 2 (and one don't know): 3/3 + 4/3 + 2/3 < 3 in floats.
    assert 3 / 3 + 4 / 3 + 2 / 3 < 3
    result = one([3] * 6 + [4] * 4, codebook)
    assert result["level"] == "A"
    assert result["n_below_3"] == 0 and result["n_at_least_4"] == 4


def test_mean_just_below_a_threshold_counts_below(codebook):
    result = one([2.75] + [3] * 5 + [3.75] * 4, codebook)
    assert (result["n_below_3"], result["n_at_least_4"], result["level"]) == (1, 0, "B")


def test_classify_compares_fractions_exactly(rules):
    means = dict.fromkeys(range(1, 7), Fraction(3)) | dict.fromkeys(range(7, 11), Fraction(4))
    assert classify(means, rules).level == "A"
    means[1] = Fraction(3) - Fraction(1, 10**12)
    assert classify(means, rules).level == "B"


# -- unanswered directives -------------------------------------------------------------------


def test_missing_directive_that_cannot_change_the_level(codebook):
    result = one([3.5, 3.25, 3, 3.75, 2.75, 2.75, 3.5, 3.25, None, 3], codebook)
    assert result["level"] == "B"
    assert result["n_missing_directives"] == 1
    assert "directive 9" in result["reason"] and "every possible mean gives B" in result["reason"]


def test_c_stays_c_when_no_missing_mean_could_reach_b(codebook):
    # Seven below 3: even three missing directives at 5 give only 3 at >= 3 or >= 4.
    result = one([2] * 7 + [None] * 3, codebook)
    assert (result["level"], result["n_missing_directives"]) == ("C", 3)


def test_missing_directive_that_decides_the_level_leaves_it_unclassified(codebook):
    result = one([2.75, 2, 2.75, 2, 1, 3.25, 3.5, 3, 3.75, None], codebook)
    assert pd.isna(result["level"])
    assert "directive 10" in result["reason"] and "B or C" in result["reason"]
    assert bool(result["conflict"]) is False


def test_a_is_never_given_with_a_missing_directive(codebook):
    # Nine at 4.5 and one unknown: A if the unknown mean is >= 3, B if it is below 3.
    result = one([4.5] * 9 + [None], codebook)
    assert pd.isna(result["level"]) and "A or B" in result["reason"]


def test_b_determined_with_a_conflict_for_some_missing_means(codebook):
    # Four at >= 4 hold B whatever; five below 3 plus the missing one may also meet C.
    result = one([4] * 4 + [2] * 5 + [None], codebook)
    assert result["level"] == "B" and bool(result["conflict"]) is True
    assert result["rules_matched"] == "B"
    assert "C would also hold" in result["reason"]


def test_roster_user_without_answers_is_not_classified(codebook):
    # Interviewed but not self-assessed: no level at all, so that every table by maturity
    # counts the companies of the level distribution.
    roster = pd.DataFrame(
        {"respondent_id": ["U01", "U02", "V01"], "fiscal_year": [2021] * 3, "group": ["user", "user", "vendor"]}
    )
    table = table_for({"U01": [3] * 10}, codebook, respondents=roster)
    assert list(table["respondent_id"]) == ["U01"]


def test_table_columns_types_and_inputs_untouched(codebook):
    rows = pd.DataFrame(sa_rows("U02", 2021, [3] * 10, codebook) + sa_rows("U01", 2021, [2] * 10, codebook))
    before = rows.copy()
    table = classified({"self_assessment": rows}, codebook)
    pd.testing.assert_frame_equal(rows, before)
    assert list(table.columns) == COLUMNS
    assert list(table["respondent_id"]) == ["U01", "U02"]
    assert str(table["conflict"].dtype) == "boolean" and str(table["n_below_3"].dtype) == "Int64"
    assert list(table["level"]) == ["C", "B"]


def test_japanese_reasons(codebook):
    rows = pd.DataFrame(sa_rows("U01", 2021, [2] * 6 + [4] * 4, codebook))
    table = classified({"self_assessment": rows}, codebook)
    assert "優先順位" in table["reason_ja"].iloc[0]


# -- property: raising an answer never lowers the level ---------------------------------------

RANK = {"A": 0, "B": 1, "C": 2}


def _level(scores: list, codebook) -> object:
    qids = list(codebook.questions["question_id"])
    rows = pd.DataFrame(
        {
            "respondent_id": "U01",
            "fiscal_year": 2021,
            "directive": [int(q.split("-")[0]) for q in qids],
            "question_id": qids,
            "score": scores,
            "missing_reason": ["dont_know" if s is None else None for s in scores],
        }
    )
    return classified({"self_assessment": rows}, codebook)["level"].iloc[0]


@pytest.mark.slow
@settings(max_examples=examples(50), deadline=None)
@given(data=st.data())
def test_raising_any_answer_never_lowers_the_level(codebook, data):
    scores = data.draw(st.lists(st.integers(1, 5), min_size=40, max_size=40))
    index = data.draw(st.integers(0, 39))
    assume(scores[index] < 5)
    raised = list(scores)
    raised[index] = data.draw(st.integers(scores[index] + 1, 5))
    before, after = _level(scores, codebook), _level(raised, codebook)
    # With every question answered, every profile is classified.
    assert pd.notna(before) and pd.notna(after)
    assert RANK[after] <= RANK[before]


@pytest.mark.slow
@settings(max_examples=examples(50), deadline=None)
@given(data=st.data())
def test_raising_an_answer_with_directives_missing_never_lowers_a_level(codebook, data):
    scores = data.draw(st.lists(st.one_of(st.integers(1, 5), st.none()), min_size=40, max_size=40))
    index = data.draw(st.integers(0, 39))
    assume(scores[index] is not None and scores[index] < 5)
    raised = list(scores)
    raised[index] = data.draw(st.integers(scores[index] + 1, 5))
    before, after = _level(scores, codebook), _level(raised, codebook)
    # Unclassified is not a level: compare only where both are classified.
    if pd.notna(before) and pd.notna(after):
        assert RANK[after] <= RANK[before]


# -- invalid answers (rejected at ingest) --------------------------------------------------------


def _rows(answers: list, codebook) -> pd.DataFrame:
    """Self-assessment rows of U01 from 40 answers: a score, a missing reason or "invalid"."""
    qids = list(codebook.questions["question_id"])
    return pd.DataFrame(
        {
            "respondent_id": "U01",
            "fiscal_year": 2021,
            "directive": [int(q.split("-")[0]) for q in qids],
            "question_id": qids,
            "score": [a if isinstance(a, int) else None for a in answers],
            "missing_reason": [None if isinstance(a, int) else a for a in answers],
        }
    )


def test_invalid_answer_that_cannot_change_the_level_keeps_it(codebook):
    # Nine directives at 4, the tenth at 4 on three answers plus one rejected: A whatever it was.
    result = classified({"self_assessment": _rows([4] * 39 + ["invalid"], codebook)}, codebook).iloc[0]
    assert (result["level"], result["level_min"], result["level_max"]) == ("A", "A", "A")
    assert "directive 10 has an invalid answer" in result["reason"] and "the level is A" in result["reason"]


def test_invalid_answer_that_could_change_the_level_leaves_it_unclassified(codebook):
    # Five directives at 3 and five at 2: B. Directive 5 is 3,3,3 plus a rejected answer: a 1 or
    # a 2 there gives a mean below 3, five below → C is possible too.
    answers = [3] * 16 + [3, 3, 3, "invalid"] + [2] * 20
    table = classified({"self_assessment": _rows(answers, codebook)}, codebook)
    result = table.iloc[0]
    assert pd.isna(result["level"])
    assert (result["level_min"], result["level_max"]) == ("C", "B")
    assert "directive 5 has an invalid answer" in result["reason"] and "B or C" in result["reason"]
    ja = classified({"self_assessment": _rows(answers, codebook)}, codebook).iloc[0]
    assert "指示5に無効回答があり" in ja["reason_ja"]
    # Without the rejected answer (the same three answers, the fourth simply unanswered) it was B.
    plain = classified(
        {"self_assessment": _rows([3] * 16 + [3, 3, 3, "unanswered"] + [2] * 20, codebook)}, codebook
    ).iloc[0]
    assert plain["level"] == "B"


def test_unanswered_directive_keeps_the_reachable_levels(codebook):
    # Nine at 4.5 and one unknown: unclassified, but B or better whatever the missing mean.
    result = one([4.5] * 9 + [None], codebook)
    assert pd.isna(result["level"]) and (result["level_min"], result["level_max"]) == ("B", "A")


@pytest.mark.slow
@settings(max_examples=examples(30), deadline=None)
@given(data=st.data())
def test_any_valid_answer_in_place_of_an_invalid_one_stays_within_the_reachable_levels(codebook, data):
    answer = st.one_of(st.integers(1, 5), st.sampled_from(["unanswered", "dont_know"]))
    answers = data.draw(st.lists(answer, min_size=40, max_size=40))
    invalid = data.draw(st.sets(st.integers(0, 39), min_size=1, max_size=3))
    given_answers = [("invalid" if i in invalid else a) for i, a in enumerate(answers)]
    row = classified({"self_assessment": _rows(given_answers, codebook)}, codebook).iloc[0]
    truth = classified({"self_assessment": _rows(answers, codebook)}, codebook).iloc[0]["level"]
    if pd.notna(row["level"]):
        assert truth == row["level"]  # a level given despite the invalid answers is the true one
    if pd.notna(truth):
        assert pd.notna(row["level_max"]) and RANK[row["level_max"]] <= RANK[truth]
        assert pd.isna(row["level_min"]) or RANK[truth] <= RANK[row["level_min"]]


# -- sensitivity -----------------------------------------------------------------------------


def test_sensitivity_counts_changes_per_scenario(codebook):
    rows = (
        sa_rows("X", 2021, [3] * 10, codebook)
        + sa_rows("Y", 2021, [3.75] * 4 + [3] * 6, codebook)
        + sa_rows("Z", 2021, [3.25] * 10, codebook)
    )
    scores = directive_scores(pd.DataFrame(rows), codebook)
    table = sensitivity(scores, codebook).set_index("scenario")
    # By hand: X all 3; Y four 3.75 and six 3; Z all 3.25 (exactly on the moved low threshold).
    expected = {
        "baseline": (3.0, 4.0, 0, 3, 0, 0, 0, 0),
        "low -0.25": (2.75, 4.0, 0, 3, 0, 0, 0, 0),
        "low +0.25": (3.25, 4.0, 0, 1, 2, 2, 0, 2),  # X, Y -> C; Z stays B (3.25 is not below 3.25)
        "high -0.25": (3.0, 3.75, 1, 2, 0, 1, 1, 0),  # Y -> A
        "high +0.25": (3.0, 4.25, 0, 3, 0, 0, 0, 0),
        "all -0.25": (2.75, 3.75, 1, 2, 0, 1, 1, 0),
        "all +0.25": (3.25, 4.25, 0, 1, 2, 2, 0, 2),
    }
    assert list(table.index) == list(expected)
    for scenario, values in expected.items():
        got = table.loc[
            scenario, ["low_threshold", "high_threshold", "n_A", "n_B", "n_C", "n_changed", "n_up", "n_down"]
        ]
        assert tuple(got) == values, scenario
    assert table.loc["high -0.25", "changed"] == "Y (2021): B>A"
    assert (table["n_respondents"] == 3).all() and (table["n_unclassified"] == 0).all()
    # Without the list of companies (the report's default): the same counts, no ids anywhere.
    counts_only = sensitivity(scores, codebook, list_changed=False)
    assert "changed" not in counts_only
    assert counts_only.drop(columns=["scenario"]).equals(
        table.reset_index().drop(columns=["scenario", "changed"])[counts_only.columns.drop("scenario")]
    )


def test_sensitivity_delta_is_a_parameter(codebook):
    scores = directive_scores(pd.DataFrame(sa_rows("X", 2021, [3.5] * 10, codebook)), codebook)
    table = sensitivity(scores, codebook, delta=0.5).set_index("scenario")
    assert table.loc["low +0.5", "n_C"] == 0 and table.loc["low +0.5", "n_B"] == 1  # 3.5 not below 3.5
    assert table.loc["high -0.5", "n_A"] == 1


# -- year over year --------------------------------------------------------------------------


def maturity_frame(records: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(records, columns=["respondent_id", "fiscal_year", "level"]).astype(
        {"level": "str", "fiscal_year": "Int64"}
    )


def test_transition_matrix_and_one_year_only():
    table = maturity_frame(
        [
            ("U01", 2020, "B"),
            ("U01", 2021, "A"),
            ("U02", 2020, "C"),
            ("U02", 2021, "C"),
            ("U03", 2020, None),
            ("U03", 2021, "B"),
            ("U04", 2020, "A"),
            ("U05", 2021, "C"),
            ("U06", 2020, "B"),
            ("U06", 2021, "A"),
        ]
    )
    matrix = transition_matrix(table, 2020, 2021, ["A", "B", "C"]).set_index("from_level")
    assert list(matrix.columns) == ["A", "B", "C", "unclassified", "total"]
    assert matrix.loc["B", "A"] == 2 and matrix.loc["C", "C"] == 1 and matrix.loc["unclassified", "B"] == 1
    assert matrix["total"].sum() == 4  # U04 and U05 are in one year only
    assert matrix.loc["A", "total"] == 0
    only = one_year_only(table, 2020, 2021)
    assert list(zip(only["respondent_id"], only["fiscal_year"], only["level"], strict=True)) == [
        ("U04", 2020, "A"),
        ("U05", 2021, "C"),
    ]


def test_directive_change(codebook):
    rows = (
        sa_rows("U01", 2020, [2] * 10, codebook)
        + sa_rows("U01", 2021, [3] + [2] * 8 + [None], codebook)
        + sa_rows("U02", 2020, [4] * 10, codebook)
        + sa_rows("U02", 2021, [3.5] + [4] * 9, codebook)
        + sa_rows("U03", 2021, [5] * 10, codebook)
    )
    change = directive_change(directive_scores(pd.DataFrame(rows), codebook), 2020, 2021)
    assert set(change["respondent_id"]) == {"U01", "U02"}
    first = change[change["directive"] == 1].set_index("respondent_id")["change"]
    assert first["U01"] == 1.0 and first["U02"] == -0.5
    summary = directive_change_summary(change).set_index("directive")
    assert tuple(summary.loc[1, ["n", "n_up", "n_same", "n_down"]]) == (2, 1, 0, 1)
    assert summary.loc[1, "mean_change"] == pytest.approx(0.25)
    assert tuple(summary.loc[10, ["n", "n_up", "n_same", "n_down"]]) == (1, 0, 1, 0)  # U01 left it unanswered


# -- the integer classification against its Fraction oracle ------------------------------------------

_ANSWER = st.one_of(st.integers(1, 5), st.sampled_from(["unanswered", "not_applicable", "dont_know", "invalid"]))


@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_integer_classification_equals_the_fraction_oracle(codebook, data):
    """Every column (level, level_min, level_max, counters, reasons) is the same as one Fraction
    mean at a time gives, for any answers (missing and invalid ones included) and thresholds
    moved to any quarter, third or seventh."""
    from analysis.maturity.classification import _classified, _classified_exact

    n = data.draw(st.integers(1, 6))
    # Mostly one answer repeated per respondent with a few changes, so that whole directives
    # go missing or invalid as often as single answers do.
    frames = []
    for i in range(n):
        base = data.draw(_ANSWER)
        answers = [base] * 40
        for index, value in data.draw(st.dictionaries(st.integers(0, 39), _ANSWER, max_size=40)).items():
            answers[index] = value
        frames.append(_rows(answers, codebook).assign(respondent_id=f"R{i}", fiscal_year=2021 + i % 2))
    scores = directive_scores(pd.concat(frames, ignore_index=True), codebook)
    rules = rules_from_codebook(codebook)
    shift = {
        name: Fraction(data.draw(st.integers(-8, 8)), data.draw(st.sampled_from([1, 3, 4, 7])))
        for name, _ in rules.thresholds
    }
    rules = rules.shifted(shift)
    # Thresholds that meet name two counters alike: a table neither way can hold.
    assume(len({rules.counter_column(c) for c in rules.counters}) == len(rules.counters))
    reasons = {"reason": "en", "reason_ja": "ja"}
    pd.testing.assert_frame_equal(_classified(scores, rules, reasons), _classified_exact(scores, rules, reasons))


def test_integer_classification_falls_back_to_the_oracle_beyond_int64(codebook):
    # Products that could overflow int64 are compared by the oracle instead: still exact.
    from analysis.maturity.classification import _classified, _classified_exact

    scores = directive_scores(_rows([3] * 40, codebook), codebook)
    rules = rules_from_codebook(codebook).shifted({"low": Fraction(1, 1 << 61)})
    reasons = {"reason": "en"}
    pd.testing.assert_frame_equal(_classified(scores, rules, reasons), _classified_exact(scores, rules, reasons))
    assert _classified(scores, rules, reasons)["n_below_3"].iloc[0] == 10
