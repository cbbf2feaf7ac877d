"""Cross-tabulations on a hand-made study: every expected number worked out by hand below."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sp

from analysis.codebook.words import Words
from analysis.study.load import study_from_tables
from analysis.tabulation.crosstabs import (
    CrossTab,
    crosstab,
    describe_test,
    presurvey_by,
    variable,
    variable_names,
)
from analysis.tabulation.suppression import TableLayout, protection_intervals

# Eight user companies. Maturity: U1-U3 A, U4-U5 B, U6-U7 C, U8 unclassified.
IDS = [f"U{i}" for i in range(1, 9)]
LEVELS = ["A", "A", "A", "B", "B", "C", "C", None]
# Q1-1 (single): U6 has no row at all (unanswered), U7 answered "don't know".
Q11 = {"U1": 1, "U2": 1, "U3": 2, "U4": 2, "U5": 3, "U7": "dont_know", "U8": 1}
# Q1-2 (select all that apply), asked only of users of the guideline.
Q12 = {"U1": [1, 2], "U2": [2], "U3": [2, 6], "U4": [1], "U5": "not_applicable", "U7": "not_applicable", "U8": [2]}


def _rows() -> list[dict]:
    rows = []
    for question, kind, answers in (("Q1-1", "single", Q11), ("Q1-2", "multiple", Q12)):
        for respondent, answer in answers.items():
            base = {"respondent_id": respondent, "fiscal_year": 2021, "topic": 1, "question_id": question, "kind": kind}
            if isinstance(answer, str):
                rows.append(base | {"option_code": None, "missing_reason": answer})
            else:
                for code in answer if isinstance(answer, list) else [answer]:
                    rows.append(base | {"option_code": code})
    return rows


@pytest.fixture(scope="module")
def study():
    respondents = pd.DataFrame(
        {
            "respondent_id": IDS,
            "group": "user",
            "fiscal_year": 2021,
            "industry": ["manufacturing"] * 4 + ["finance_insurance"] * 3 + [None],
        }
    )
    return study_from_tables({"respondents": respondents, "presurvey": pd.DataFrame(_rows())}, fiscal_year=2021)


@pytest.fixture(scope="module")
def maturity():
    return pd.DataFrame({"respondent_id": IDS, "fiscal_year": 2021, "level": LEVELS})


@pytest.fixture(scope="module")
def single(study, maturity) -> CrossTab:
    return crosstab(study, "Q1-1", "maturity", maturity=maturity)


@pytest.fixture(scope="module")
def multiple(study, maturity) -> CrossTab:
    return crosstab(study, "Q1-2", "maturity", maturity=maturity)


def test_single_counts_with_missing_rows_and_margins(single):
    c = single.counts
    assert list(c.columns) == ["A", "B", "C", "missing:unclassified", "total"]
    assert list(c.index) == [
        "1",
        "2",
        "3",
        "4",
        "missing:unanswered",
        "missing:not_applicable",
        "missing:dont_know",
        "total",
    ]
    assert c.loc["1"].tolist() == [2, 0, 0, 1, 3]
    assert c.loc["2"].tolist() == [1, 1, 0, 0, 2]
    assert c.loc["3"].tolist() == [0, 1, 0, 0, 1]
    assert c.loc["missing:unanswered"].tolist() == [0, 0, 1, 0, 1]  # U6: no answer at all
    assert c.loc["missing:not_applicable"].tolist() == [0, 0, 0, 0, 0]  # kept although empty
    assert c.loc["missing:dont_know"].tolist() == [0, 0, 1, 0, 1]
    assert c.loc["total"].tolist() == [3, 2, 2, 1, 8]


def test_single_percentages(single):
    column = single.percent("column")
    assert column.loc["1", "A"] == pytest.approx(2 / 3)
    assert column.loc["missing:dont_know", "C"] == pytest.approx(1 / 2)
    assert column.loc["total"].tolist() == pytest.approx([1, 1, 1, 1, 1])
    row = single.percent("row")
    assert row.loc["1", "A"] == pytest.approx(2 / 3)
    assert row.loc["1", "missing:unclassified"] == pytest.approx(1 / 3)
    total = single.percent("total")
    assert total.loc["1", "A"] == pytest.approx(2 / 8)
    assert np.isnan(row.loc["4", "A"])  # 0 / 0: nobody chose option 4
    with pytest.raises(ValueError):
        single.percent("cell")


def test_single_test_by_hand(single):
    # Missing answers and empty rows/columns out: [[2, 0], [1, 1], [0, 1]] (options 1-3 x A, B).
    # With rows (2, 2, 1) and columns (3, 2), a table's probability is 0.4 / prod(x!(r-x)!);
    # the five tables have probabilities 0.2 (observed), 0.1, 0.2, 0.4, 0.1, so p = 0.6.
    assert single.test.test == "fisher_freeman_halton"
    assert single.test.p_value == pytest.approx(0.6)
    reference = sp.fisher_exact(np.array([[2, 0], [1, 1], [0, 1]]), method=sp.PermutationMethod(n_resamples=np.inf))
    assert single.test.p_value == pytest.approx(reference.pvalue)
    assert single.test.details["n"] == 5


def test_multiple_response_base_is_respondents_who_answered(multiple):
    c = multiple.counts
    assert c.loc["answered"].tolist() == [3, 1, 0, 1, 5]
    assert c.loc["1"].tolist() == [1, 1, 0, 0, 2]
    assert c.loc["2"].tolist() == [3, 0, 0, 1, 4]
    assert c.loc["6"].tolist() == [1, 0, 0, 0, 1]
    assert c.loc["missing:unanswered"].tolist() == [0, 0, 1, 0, 1]
    # Q1-2 is asked of Q1-1 = 1 or 2 (the codebook's filter): U5 (Q1-1 = 3) is not counted;
    # U6 and U7 gave no option of Q1-1, so nothing says they were not asked: counted.
    assert c.loc["missing:not_applicable"].tolist() == [0, 0, 1, 0, 1]
    assert c.loc["total"].tolist() == [3, 1, 2, 1, 7]
    share = multiple.percent("column")
    assert share.loc["1", "A"] == pytest.approx(1 / 3)  # of 3 answering, not of 5 mentions
    assert share.loc["2", "total"] == pytest.approx(4 / 5)
    assert share.loc["missing:not_applicable", "C"] == pytest.approx(1 / 2)  # of everybody in C
    # Mentions add up to more than the respondents: percentages of options exceed 100% together.
    assert share.loc[["1", "2", "6"], "A"].sum() == pytest.approx(5 / 3)


def test_multiple_response_tests_per_option(multiple):
    # Option 1 against A, B (C and unclassified out): chose [1, 1], did not [2, 0].
    # Top-left cell x in {1, 2}, each with probability C(3,x) C(1,2-x) / C(4,2) = 1/2, so p = 1.
    result = multiple.option_tests["1"]
    assert result.test == "fisher_exact"
    assert result.p_value == pytest.approx(1.0)
    assert result.p_value == pytest.approx(sp.fisher_exact([[1, 1], [2, 0]]).pvalue)
    assert multiple.option_tests["4"].test == "not_testable"


def test_frame_labels_and_denominator_row(single, multiple):
    frame = single.frame("ja")
    assert frame.iloc[0, 0] == "活用している"
    assert "成熟度A(高) n" in frame.columns and "成熟度A(高) %" in frame.columns
    assert "判定不能 n" in frame.columns
    assert frame.iloc[-1, 0] == "合計"
    assert frame.iloc[6, 0] == "わからない"
    english = multiple.frame("en")
    first = english.columns[0]
    assert english[first].tolist()[-2:] == ["Respondents answering (base of %)", "Respondents"]
    assert english.loc[english[first] == "Unanswered", "Total n"].item() == 1
    assert "p" in english.columns
    assert "not of mentions" in multiple.note("en")


def test_note_names_the_test(single):
    note = single.note("en")
    assert "Fisher-Freeman-Halton exact test" in note and "p = 0.6" in note
    assert "Fisher-Freeman-Halton正確確率検定" in single.note("ja")


def test_describe_monte_carlo_states_resamples(codebook):
    from analysis.tabulation.stats import fisher_monte_carlo

    result = fisher_monte_carlo([[3, 1, 0], [0, 2, 1], [1, 0, 2]], n_resamples=999, seed=5)
    text = describe_test(result, Words(codebook, "en").words("crosstab"))
    assert "999 resamples, seed 5" in text


def test_suppressed_frame_cannot_be_undone(single, multiple):
    for table in (single, multiple):
        frame = table.frame("ja")
        out = table.frame("ja", suppress=5)
        counts = frame.attrs["count_columns"]
        layout = TableLayout.from_mapping(frame.attrs["layout"])
        assert out[counts].isna().to_numpy().any()
        # Only cells that the known totals fix whatever is hidden (e.g. the answered row when
        # every respondent answered: it is the total row) may be recoverable.
        intervals = protection_intervals(frame, out, counts, layout=layout)
        everything = frame.copy()
        everything[counts] = everything[counts].astype("Float64") * pd.NA
        fixed = protection_intervals(frame, everything, counts, layout=layout)
        fixed = set(map(tuple, fixed.loc[fixed["recoverable"], ["row", "column"]].to_numpy().tolist()))
        leaks = set(map(tuple, intervals.loc[intervals["recoverable"], ["row", "column"]].to_numpy().tolist()))
        assert leaks <= fixed, leaks - fixed
        shares = frame.attrs["percent_columns"]
        for p, n in layout.percent_of.items():
            assert out.loc[out[n].isna(), p].isna().all()
        assert shares


def test_respondent_variables(study, maturity):
    table = crosstab(study, "industry", "group")
    assert table.counts.loc["manufacturing", "user"] == 4
    assert table.counts.loc["missing:unanswered", "user"] == 1  # U8 has no industry
    assert table.test.test == "not_testable"  # one column only
    by_level = crosstab(study, "industry", "maturity", maturity=maturity)
    assert by_level.counts.loc["finance_insurance"].tolist()[:3] == [0, 1, 2]


def test_variable_errors(study, maturity):
    with pytest.raises(KeyError, match="unknown variable"):
        variable(study, "Q9-9")
    with pytest.raises(ValueError, match="free-text"):
        variable(study, "Q1-4")
    with pytest.raises(ValueError, match="multiple response"):
        crosstab(study, "Q1-1", "Q1-2", maturity=maturity)
    assert "Q1-4" not in variable_names(study.codebook)


def test_single_response_with_two_options_is_an_error(study):
    rows = _rows() + [
        {
            "respondent_id": "U1",
            "fiscal_year": 2021,
            "topic": 1,
            "question_id": "Q1-1",
            "kind": "single",
            "option_code": 2,
        }
    ]
    broken = study_from_tables({"respondents": study.respondents, "presurvey": pd.DataFrame(rows)}, fiscal_year=2021)
    with pytest.raises(ValueError, match="single response"):
        variable(broken, "Q1-1")


def test_presurvey_by_maturity_one_table_per_question(study, maturity):
    tables = presurvey_by(study, "maturity", maturity=maturity)
    questions = study.codebook.table("presurvey_questions")
    expected = questions.loc[questions["kind"] != "text", "question_id"].tolist()
    assert [t.row.name for t in tables] == expected
    unasked = next(t for t in tables if t.row.name == "Q6-1")
    # Nobody answered Q6-1: everybody is counted as unanswered, nobody is dropped.
    assert unasked.counts.loc["missing:unanswered", "total"] == 8


def test_inputs_not_changed(study, maturity):
    before = maturity.copy()
    crosstab(study, "Q1-1", "maturity", maturity=maturity)
    pd.testing.assert_frame_equal(maturity, before)


# -- intervals and q-values (gtsummary's add_ci / add_q) -------------------------------------------


def _exact(k: int, n: int) -> tuple[float, float]:
    ci = sp.binomtest(k, n).proportion_ci(0.95, method="exact")
    return ci.low, ci.high


def test_intervals_are_exact_for_every_share(single, multiple):
    low, high = single.intervals()
    # Q1-1 option 1 in column A: 2 of the 3 A companies.
    assert (low.loc["1", "A"], high.loc["1", "A"]) == pytest.approx(_exact(2, 3))
    # A count of 0 still has an interval: 0 of the 2 B companies chose option 1.
    assert low.loc["1", "B"] == 0.0 and high.loc["1", "B"] == pytest.approx(_exact(0, 2)[1])
    # The total row is its own denominator (100 % by definition): no interval.
    assert low.loc["total"].isna().all() and high.loc["total"].isna().all()
    # Multiple response: option 2 in the total column is 4 of the 5 who answered.
    low, high = multiple.intervals()
    assert (low.loc["2", "total"], high.loc["2", "total"]) == pytest.approx(_exact(4, 5))
    assert (low.loc["answered", "A"], high.loc["answered", "A"]) == pytest.approx(_exact(3, 3))
    shares = multiple.percent()
    inside = (low <= shares) & (shares <= high)
    assert inside[low.notna()].fillna(False).to_numpy()[low.notna().to_numpy()].all()


def test_q_values_adjust_the_options_of_one_question(multiple):
    tested = {k: t.p_value for k, t in multiple.option_tests.items() if t.test != "not_testable"}
    expected = dict(zip(tested, sp.false_discovery_control(list(tested.values()), method="bh"), strict=True))
    q = multiple.q_values()
    assert set(q) == set(multiple.option_tests)
    for option, value in expected.items():
        assert q[option] == pytest.approx(value)
    assert np.isnan(q["4"])  # no test, and not counted in the family


def test_with_ci_long_form(single, multiple):
    long = single.with_ci()
    assert list(long.columns) == ["row", "column", "n", "denominator", "share", "ci_low", "ci_high"]
    cell = long[(long["row"] == "2") & (long["column"] == "B")].iloc[0]
    assert (cell["n"], cell["denominator"]) == (1, 2)
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx(_exact(1, 2))
    options = multiple.with_ci(confidence=0.9)
    assert {"p_value", "q_value"} <= set(options.columns) and options.attrs["confidence"] == 0.9
    row = options[(options["row"] == "2") & (options["column"] == "total")].iloc[0]
    ci = sp.binomtest(4, 5).proportion_ci(0.9, method="exact")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))


def test_frame_with_intervals_and_q_declares_them(single, multiple):
    frame = single.frame("ja", ci=True)
    layout = TableLayout.from_mapping(frame.attrs["layout"])
    assert frame.attrs["ci_columns"] == [c for c in frame.columns if "信頼区間" in c]
    assert len(frame.attrs["ci_columns"]) == 2 * 5
    for column in frame.attrs["ci_columns"]:  # each bound is derived from its count (printed as %)
        assert column not in layout.percent_of and column in frame.attrs["percent_columns"]
        (count,) = layout.derived_from[column]
        assert count.endswith(" n") and column.startswith(count.removesuffix(" n"))
    assert (
        TableLayout.from_mapping(single.frame("ja", "row", ci=True).attrs["layout"]).derived_from[
            frame.attrs["ci_columns"][0]
        ][1]
        == "合計 n"
    )  # a row % interval: the row's total too
    assert frame.columns.get_loc("成熟度A(高) 95%信頼区間 下限") == frame.columns.get_loc("成熟度A(高) %") + 1
    assert "Clopper–Pearson" in single.note("ja", ci=True) and "q値" not in single.note("ja", ci=True)
    english = multiple.frame("en")
    assert "q (BH)" in english.columns and english.attrs["table_statistics"] == ["q (BH)"]
    assert "Benjamini–Hochberg" in multiple.note("en", ci=True)
    assert "q (BH)" not in multiple.frame("en", q=False).columns


def test_suppression_hides_intervals_with_their_row_and_q_with_any_count(single, multiple):
    for table in (single, multiple):
        shown = table.frame("en", ci=True)
        out = table.frame("en", ci=True, suppress=5)
        counts = shown.attrs["count_columns"]
        hidden_rows = (out[counts].isna() & shown[counts].notna()).any(axis=1)
        assert hidden_rows.any()
        for column in shown.attrs["ci_columns"]:
            # The bound of a 0 count tells its denominator: hidden with any hidden count of its row.
            assert out.loc[hidden_rows, column].isna().all()
        for column in shown.attrs["table_statistics"]:
            assert out[column].isna().all()


# -- a filtered question: the denominator is those asked ---------------------------------------------

# Q1-2 is asked of Q1-1 = 1 or 2. W3 answered it anyway (the ingest marked the row not eligible);
# W4 was not asked and left it blank; W5 has no answer to Q1-1, so nothing says it was not asked.
FILTERED = [
    ("W1", "Q1-1", 1, True),
    ("W2", "Q1-1", 2, True),
    ("W3", "Q1-1", 3, True),
    ("W4", "Q1-1", 4, True),
    ("W1", "Q1-2", 1, True),
    ("W2", "Q1-2", 2, True),
    ("W3", "Q1-2", 1, False),
    ("W4", "Q1-2", None, False),
    ("W5", "Q1-2", 2, None),
]


@pytest.fixture(scope="module")
def filtered():
    ids = [f"W{i}" for i in range(1, 6)]
    respondents = pd.DataFrame({"respondent_id": ids, "group": "user", "fiscal_year": 2021})
    rows = [
        {
            "respondent_id": rid,
            "fiscal_year": 2021,
            "topic": 1,
            "question_id": qid,
            "kind": "single" if qid == "Q1-1" else "multiple",
            "option_code": code,
            "missing_reason": "unanswered" if code is None else None,
            "eligible": eligible,
        }
        for rid, qid, code, eligible in FILTERED
    ]
    study = study_from_tables({"respondents": respondents, "presurvey": pd.DataFrame(rows)}, fiscal_year=2021)
    levels = pd.DataFrame({"respondent_id": ids, "fiscal_year": 2021, "level": ["A", "A", "A", "B", "B"]})
    return crosstab(study, "Q1-2", "maturity", maturity=levels)


def test_an_answer_against_the_filter_is_not_in_the_percentages(filtered):
    c = filtered.counts
    # W3's option 1 would make it 2 of 4 answering; W3 and W4 are not counted at all.
    assert c.loc["1"].tolist() == [1, 0, 0, 0, 1]
    assert c.loc["answered"].tolist() == [2, 1, 0, 0, 3]
    assert c.loc["total"].tolist() == [2, 1, 0, 0, 3]
    assert filtered.percent().loc["1", "total"] == pytest.approx(1 / 3)
    assert filtered.percent().loc["2", "total"] == pytest.approx(2 / 3)


def test_a_filtered_table_says_whom_it_counts(filtered):
    expected = {"filter": "Q1-1 in 1;2", "eligible_n": 3, "answered_n": 3, "not_asked_n": 2, "eligibility_unknown_n": 1}
    assert filtered.eligibility == expected
    assert filtered.frame("en").attrs["eligibility"] == expected
    assert filtered.note("en").startswith(
        "Q1-2 is asked only of those who answered Q1-1 with 1 (Yes, we use it) or 2 (We use it in part): "
        "respondents not asked are left out"
    )
    assert filtered.note("ja").startswith(
        "Q1-2はQ1-1で「1=活用している」「2=一部活用している」と回答した方のみに尋ねた設問"
    )


def test_an_unfiltered_table_has_no_eligibility(single):
    assert single.eligibility == {} and single.frame().attrs["eligibility"] == {}
    assert "asked only of" not in single.note("en")


def test_a_frame_by_id_names_the_same_columns_and_carries_their_headers(single, multiple):
    for table in (single, multiple):
        labelled = table.frame("en", ci=True)
        by_id = table.frame("en", ci=True, ids=True)
        headers = by_id.attrs["headers"]
        assert [headers[c] for c in by_id.columns] == list(labelled.columns)
        assert by_id.attrs["count_columns"][-1] == "n:total" and "n:A" in by_id.columns
        assert [headers[c] for c in by_id.attrs["count_columns"]] == labelled.attrs["count_columns"]
        assert [headers[c] for c in by_id.attrs["ci_columns"]] == labelled.attrs["ci_columns"]
        layout = TableLayout.from_mapping(by_id.attrs["layout"]).renamed(lambda c, h=headers: h.get(c, c))
        assert layout == TableLayout.from_mapping(labelled.attrs["layout"])
        assert by_id.drop(columns="option").to_numpy().tolist() == labelled.iloc[:, 1:].to_numpy().tolist()


def test_a_filtered_column_question_counts_only_those_asked(study, maturity):
    """A single-choice question asked of some respondents only, used as the column: those not
    asked are out of the whole table, not in its 'unanswered' column (codebook filter on a
    column; today's edition filters only a multiple-choice question, so the rule is built here)."""
    from dataclasses import replace

    from analysis.codebook.filters import QuestionFilter

    plain = variable(study, "Q1-1")
    asked = {"U1", "U2", "U3", "U4", "U6"}  # U6 asked but gave no answer: it stays, as unanswered
    responses = plain.responses[plain.responses["respondent_id"].isin(asked)]
    rule = QuestionFilter(question="Q1-1", on="Q1-2", codes=(1,))
    filtered_column = replace(plain, filter=rule, responses=responses, not_asked=3)
    table = crosstab(study, "maturity", filtered_column, maturity=maturity)
    unfiltered = crosstab(study, "maturity", plain, maturity=maturity)
    assert int(unfiltered.counts.loc["total", "total"]) == 8
    assert int(table.counts.loc["total", "total"]) == len(asked)
    assert int(table.counts.loc["total", "missing:unanswered"]) == 1  # U6, asked
    assert table.counts.loc["A"].tolist()[:3] == [2, 1, 0]  # U1, U2 chose 1; U3 chose 2
    assert table.eligibility["column_filter"] == "Q1-2 in 1" and table.eligibility["column_not_asked_n"] == 3
    assert table.eligibility["filter"] is None
    assert "Q1-1 is asked only of" in table.note("en")
