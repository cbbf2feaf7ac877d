"""Directive scores: means over answered questions, missing reasons counted, exact means."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.maturity.scores import directive_scores, exact_means, reason_columns, wide_means
from analysis.study.load import study_from_tables

REASONS = {"unanswered", "not_applicable", "dont_know"}


def sa_rows(respondent_id: str, year: int, answers: dict[str, object]) -> list[dict]:
    """Tidy self-assessment rows; an answer is a score or a missing reason."""
    rows = []
    for qid, answer in answers.items():
        missing = answer if answer in REASONS or answer is None else None
        rows.append(
            {
                "respondent_id": respondent_id,
                "fiscal_year": year,
                "edition": "fy2021",
                "directive": int(qid.split("-")[0]),
                "question_id": qid,
                "score": None if missing or answer is None else answer,
                "missing_reason": missing,
                "source": f"{respondent_id}.xlsx!answers!C{len(rows) + 2}",
            }
        )
    return rows


def full(codebook, score=3, **overrides) -> dict[str, object]:
    answers = dict.fromkeys(codebook.questions["question_id"], score)
    answers.update({k.replace("_", "-").removeprefix("q"): v for k, v in overrides.items()})
    return answers


def row(scores: pd.DataFrame, rid: str, directive: int) -> pd.Series:
    hit = scores[(scores["respondent_id"] == rid) & (scores["directive"] == directive)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_mean_over_answered_questions_with_missing_counted(codebook):
    answers = full(
        codebook, 3, q1_1=5, q1_2=4, q1_3="not_applicable", q1_4="dont_know", q2_1="unanswered", q2_2=1, q2_3=2, q2_4=2
    )
    scores = directive_scores(pd.DataFrame(sa_rows("U01", 2021, answers)), codebook)
    d1 = row(scores, "U01", 1)
    assert (d1["n_questions"], d1["n_answered"], d1["score_sum"]) == (4, 2, 9)
    assert d1["mean"] == 4.5
    assert (d1["n_unanswered"], d1["n_not_applicable"], d1["n_dont_know"]) == (0, 1, 1)
    d2 = row(scores, "U01", 2)
    assert (d2["n_answered"], d2["score_sum"], d2["n_unanswered"]) == (3, 5, 1)
    assert d2["mean"] == pytest.approx(5 / 3)
    d3 = row(scores, "U01", 3)
    assert (d3["n_answered"], d3["mean"], d3["n_unanswered"]) == (4, 3.0, 0)


def test_directive_with_no_answered_question_has_no_mean(codebook):
    answers = full(codebook, 4, q5_1="dont_know", q5_2="dont_know", q5_3="not_applicable", q5_4="unanswered")
    scores = directive_scores(pd.DataFrame(sa_rows("U01", 2021, answers)), codebook)
    d5 = row(scores, "U01", 5)
    assert d5["n_answered"] == 0
    assert pd.isna(d5["mean"]) and pd.isna(d5["score_sum"])
    assert (d5["n_dont_know"], d5["n_not_applicable"], d5["n_unanswered"]) == (2, 1, 1)
    assert exact_means(scores)[("U01", 2021)][5] is None


def test_absent_question_rows_count_as_unanswered(codebook):
    answers = {q: 2 for q in codebook.questions["question_id"] if not q.startswith("7-") and q != "1-4"}
    answers["1-4"] = None  # a row with neither a score nor a reason
    scores = directive_scores(pd.DataFrame(sa_rows("U01", 2021, answers)), codebook)
    assert len(scores) == 10  # every directive of the codebook, even one with no rows
    d7 = row(scores, "U01", 7)
    assert (d7["n_questions"], d7["n_answered"], d7["n_unanswered"]) == (4, 0, 4)
    d1 = row(scores, "U01", 1)
    assert (d1["n_answered"], d1["n_unanswered"]) == (3, 1)


def test_mean_is_exact_where_float_arithmetic_is_not(codebook):
    # 3/3 + 4/3 + 2/3 in floats is 2.9999999999999996; the exact mean is 3.
    assert 3 / 3 + 4 / 3 + 2 / 3 < 3
    answers = full(codebook, 3, q4_1=3, q4_2=4, q4_3=2, q4_4="dont_know")
    scores = directive_scores(pd.DataFrame(sa_rows("U01", 2021, answers)), codebook)
    assert exact_means(scores)[("U01", 2021)][4] == Fraction(3)
    assert row(scores, "U01", 4)["mean"] == 3.0


def test_several_respondents_and_years_are_kept_apart(codebook):
    rows = (
        sa_rows("U01", 2020, full(codebook, 2))
        + sa_rows("U01", 2021, full(codebook, 4))
        + sa_rows("U02", 2021, full(codebook, 5))
    )
    scores = directive_scores(pd.DataFrame(rows), codebook)
    assert len(scores) == 30
    means = exact_means(scores)
    assert set(means) == {("U01", 2020), ("U01", 2021), ("U02", 2021)}
    assert means[("U01", 2020)][10] == 2 and means[("U01", 2021)][10] == 4 and means[("U02", 2021)][1] == 5
    wide = wide_means(scores)
    assert wide.shape == (3, 10)
    assert wide.loc[("U02", 2021), 3] == 5.0


def test_accepts_study_frames_and_does_not_change_them(codebook):
    study = study_from_tables(
        {"self_assessment": pd.DataFrame(sa_rows("U01", 2021, full(codebook, 3, q2_1="not_applicable")))}, codebook
    )
    before = study.self_assessment.copy()
    scores = directive_scores(study.self_assessment, codebook)
    pd.testing.assert_frame_equal(study.self_assessment, before)
    assert row(scores, "U01", 2)["n_not_applicable"] == 1
    assert (
        list(scores.columns[-4:])
        == reason_columns(codebook)
        == ["n_unanswered", "n_not_applicable", "n_dont_know", "n_invalid"]
    )
    assert str(scores["mean"].dtype) == "Float64" and str(scores["n_answered"].dtype) == "Int64"


def test_empty_input_gives_empty_frame(codebook):
    study = study_from_tables({}, codebook)
    scores = directive_scores(study.self_assessment, codebook)
    assert len(scores) == 0
    assert "mean" in scores.columns
    assert exact_means(scores) == {}


@st.composite
def _self_assessments(draw: st.DrawFn, codebook) -> pd.DataFrame:
    """Random self-assessment rows: codebook questions once each per respondent and year (as
    the ingest writes them), or with one oddity: a question twice, under another directive,
    outside the codebook, or a key missing."""
    questions = list(zip(codebook.questions["question_id"], codebook.questions["directive"], strict=True))
    rows = []
    for rid in draw(st.lists(st.sampled_from(["R1", "R2", "R3"]), min_size=1, max_size=3, unique=True)):
        for year in draw(st.lists(st.sampled_from([2020, 2021]), min_size=1, max_size=2, unique=True)):
            for qid, directive in draw(st.lists(st.sampled_from(questions), max_size=12, unique=True)):
                rows.append(
                    {
                        "respondent_id": rid,
                        "fiscal_year": year,
                        "directive": directive,
                        "question_id": qid,
                        "score": draw(st.one_of(st.none(), st.integers(1, 5))),
                        "missing_reason": draw(
                            st.sampled_from([None, "not_applicable", "dont_know", "invalid", "unanswered", "other"])
                        ),
                    }
                )
    oddity = draw(st.sampled_from(["", "twice", "directive", "outside", "no_key"]))
    if oddity and rows:
        i = draw(st.integers(0, len(rows) - 1))
        odd = dict(rows[i])
        if oddity == "twice":
            rows.append({**odd, "score": draw(st.one_of(st.none(), st.integers(1, 5)))})
        else:
            change = {"directive": {"directive": odd["directive"] % 10 + 1}, "outside": {"question_id": "99-9"}}
            rows[i] = {**odd, **change.get(oddity, {"respondent_id": None})}
    columns = ["respondent_id", "fiscal_year", "directive", "question_id", "score", "missing_reason"]
    return pd.DataFrame(rows, columns=columns).astype({"fiscal_year": "Int64", "directive": "Int64", "score": "Int64"})


@settings(max_examples=examples(150), deadline=None)
@given(data=st.data())
def test_counting_with_arrays_gives_what_merging_the_grid_gives(codebook, data):
    # The array count (taken when every row is a codebook question of its directive, once per
    # respondent and year, as the ingest writes them) must equal the reference merge on the grid.
    sa = data.draw(_self_assessments(codebook))
    pd.testing.assert_frame_equal(directive_scores(sa, codebook), directive_scores(sa, codebook, fast=False))


def test_a_complete_ingest_like_table_is_counted_with_arrays(codebook, monkeypatch):
    from analysis.maturity import scores

    answers = {qid: 1 + i % 5 for i, qid in enumerate(codebook.questions["question_id"])}
    answers["3-1"] = "dont_know"
    sa = pd.DataFrame(sa_rows("U1", 2021, answers) + sa_rows("U2", 2021, {"1-1": 4}))
    reference = directive_scores(sa, codebook, fast=False)
    monkeypatch.setattr(scores, "_counts_by_merging", None)  # would fail if called
    pd.testing.assert_frame_equal(directive_scores(sa, codebook), reference)
