"""Level bounds: naming the range of levels an unclassified company could reach, and counting
unclassified companies per range with rows fixed by the rules."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from fractions import Fraction

import pandas as pd
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.maturity.bounds import bound_counts, level_range, level_ranges, no_level_possible
from analysis.maturity.classification import UNCLASSIFIED, Bound, classify, level_counts, rules_from_codebook

LEVELS = ("A", "B", "C")

# (level_min, level_max) -> machine form, Japanese, English.
NAMES = {
    ("B", "A"): ("B..A", "B以上", "B or better"),
    ("C", "A"): ("C..A", "C以上", "C or better"),
    ("C", "B"): ("C..B", "C〜B", "C to B"),
    (None, "A"): ("none..A", "A以下または該当レベルなし", "A or below, or no level"),
    (None, "B"): ("none..B", "B以下または該当レベルなし", "B or below, or no level"),
    (None, "C"): ("none..C", "Cまたは該当レベルなし", "C or no level"),
    (None, None): ("none", "該当レベルなし", "No level"),
    ("A", "A"): ("A", "A", "A"),
    ("C", "C"): ("C", "C", "C"),
}


@pytest.fixture(scope="module")
def rules(codebook):
    return rules_from_codebook(codebook)


@pytest.mark.parametrize(("bounds", "names"), NAMES.items())
def test_every_range_is_named_as_code_and_in_both_languages(codebook, bounds, names):
    code, ja, en = names
    assert level_range(*bounds, LEVELS) == code
    assert level_range(*bounds, LEVELS, codebook.words("ja", "maturity")) == ja
    assert level_range(*bounds, LEVELS, codebook.words("en", "maturity")) == en


@pytest.mark.parametrize("missing", [None, pd.NA, float("nan"), "", UNCLASSIFIED])
def test_every_spelling_of_no_level_is_no_level(missing):
    # A table as classified (NA), as read back from CSV (nan, "") or as loaded ("unclassified").
    assert level_range(missing, "B", LEVELS) == "none..B"
    assert level_range(missing, missing, LEVELS) == "none"


@pytest.mark.parametrize(
    ("low", "high", "message"),
    [("A", "C", "above"), ("D", "A", "not a level"), ("B", None, "without a highest"), ("B", "Z", "not a level")],
)
def test_impossible_ranges_are_refused(low, high, message):
    with pytest.raises(ValueError, match=message):
        level_range(low, high, LEVELS)


def test_the_rows_are_every_pair_then_the_no_level_variants():
    assert [level_range(*r, LEVELS) for r in level_ranges(LEVELS)] == [
        "B..A",
        "C..A",
        "C..B",
        "none..A",
        "none..B",
        "none..C",
        "none",
    ]
    assert level_ranges(LEVELS, no_level=False) == (("B", "A"), ("C", "A"), ("C", "B"))
    assert level_ranges(("A", "B", "C", "D"), no_level=False)[:3] == (("B", "A"), ("C", "A"), ("D", "A"))


def test_each_range_has_its_own_words_in_each_language(codebook):
    for lang in ("ja", "en"):
        words = codebook.words(lang, "maturity")
        names = [level_range(*r, LEVELS, words) for r in level_ranges(LEVELS)]
        assert len(set(names)) == len(names), names


def weaker_c(rules):
    """The edition's rules with C needing eight directives below 3: seven below and three at 3
    or more meet no rule."""
    c = rules.rule("C")
    loose = replace(c, clauses=((("n_below_low", Bound(min=8)),),))
    return replace(rules, rules=tuple(loose if r.level == "C" else r for r in rules.rules))


def test_whether_a_company_can_end_with_no_level_comes_from_the_rules(rules):
    # With the edition's rules fewer than five directives at 3 or more means six or more below 3.
    assert not no_level_possible(rules)
    assert no_level_possible(weaker_c(rules))


MEANS = st.sampled_from([None, Fraction(2), Fraction(3), Fraction(7, 2), Fraction(4), Fraction(5)])


@settings(max_examples=examples(200), deadline=None)
@given(
    means=st.lists(MEANS, min_size=10, max_size=10),
    invalid=st.dictionaries(st.integers(1, 10), st.frozensets(MEANS, min_size=1), max_size=3),
    weaker=st.booleans(),
)
def test_every_classification_falls_in_one_of_the_rows(rules, means, invalid, weaker):
    # Unanswered directives (None) and invalid answers (the means they could have given) alike.
    rules = weaker_c(rules) if weaker else rules
    result = classify(dict(enumerate(means, start=1)), rules, invalid)
    no_level = no_level_possible(rules)
    if result.level is None:
        assert (result.level_min, result.level_max) in level_ranges(rules.levels, no_level)
        one = pd.DataFrame({"level": [None], "level_min": [result.level_min], "level_max": [result.level_max]})
        assert bound_counts(one, rules.levels, no_level).sum() == 1
    else:
        assert result.level_min == result.level_max == result.level


@st.composite
def maturity_tables(draw):
    """Random maturity tables: classified rows (level = level_min = level_max) and unclassified
    rows with any range of the rows, in any spelling of "no level"."""
    no_level = draw(st.booleans())
    none = st.sampled_from([None, pd.NA, UNCLASSIFIED])
    classified = st.sampled_from(LEVELS).map(lambda v: (v, v, v))
    unclassified = st.tuples(none, st.sampled_from(level_ranges(LEVELS, no_level))).map(lambda t: (t[0], *t[1]))
    rows = draw(st.lists(st.one_of(classified, unclassified), max_size=30))
    frame = pd.DataFrame(rows, columns=["level", "level_min", "level_max"], dtype="object")
    return frame, no_level


@settings(max_examples=examples(100), deadline=None)
@given(table=maturity_tables())
def test_the_counts_add_up_to_the_unclassified_count_with_fixed_rows(table):
    maturity, no_level = table
    counts = bound_counts(maturity, LEVELS, no_level)
    assert counts.index.tolist() == [level_range(*r, LEVELS) for r in level_ranges(LEVELS, no_level)]
    assert (counts >= 0).all()
    assert counts.sum() == level_counts(maturity, LEVELS)[UNCLASSIFIED]
    unclassified = maturity[~maturity["level"].isin(LEVELS)]
    named = Counter(map(str, unclassified["level_min"].fillna("none") + ".." + unclassified["level_max"].fillna("")))
    assert counts["C..B"] == named["C..B"] and counts["B..A"] == named["B..A"]


def test_a_range_that_is_no_row_is_an_error():
    decided = pd.DataFrame({"level": [None], "level_min": ["B"], "level_max": ["B"]})
    with pytest.raises(ValueError, match="not one of"):
        bound_counts(decided, LEVELS)
    open_end = pd.DataFrame({"level": [None], "level_min": [None], "level_max": ["B"]})
    with pytest.raises(ValueError, match="none..B"):
        bound_counts(open_end, LEVELS, no_level=False)
    assert bound_counts(open_end, LEVELS)["none..B"] == 1
