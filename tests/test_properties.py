"""Property-based tests of normalisation and answer parsing.

Any cell value a reader can return (text, numbers including NaN and infinities, booleans,
dates, times, durations, empty) gives either a value or the toolkit's own error with a
message, never another exception; normalising twice equals normalising once.
"""

import datetime as dt
import unicodedata

import pytest
from conftest import examples
from hypothesis import example, given, settings
from hypothesis import strategies as st

from analysis.codebook import load_codebook
from analysis.ingest.normalise import (
    InvalidValue,
    match_key,
    normalise_text,
    parse_bool,
    parse_date,
    parse_fiscal_year,
    parse_int,
    parse_respondent_id,
    split_codes,
)
from analysis.ingest.validate import parse_value

CODEBOOK = load_codebook("fy2021")

# What a spreadsheet reader hands over, plus the awkward corners of text.
texts = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=("Cs",)), max_size=30)
japanese = st.text(
    st.sampled_from("０１２３４５６７８９令和平成年度元ＦＹＲＨ　 \u3000\u2fa6①⑩㈱～〜ー−‐―\t\nUuＵｕ-_;、,/"),
    max_size=12,
)
cells = st.one_of(
    texts,
    japanese,
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
)
PARSERS = [
    parse_fiscal_year,
    parse_int,
    parse_respondent_id,
    parse_date,
    split_codes,
    lambda v: parse_bool(v, CODEBOOK.true_words, CODEBOOK.false_words),
]


def _value_or_own_error(function, value):
    try:
        return function(value)
    except InvalidValue as error:
        assert str(error).strip(), "an error must say what was expected"
        return error


@given(cells)
@example("\u2fa6融　 ＡＢＣ１２\n")
@example(float("nan"))
def test_normalising_twice_equals_once(value):
    once = normalise_text(value)
    assert normalise_text(once) == once
    assert match_key(match_key(value)) == match_key(value)
    assert once == once.strip() and "  " not in once
    assert unicodedata.normalize("NFKC", once) == once


@given(cells)
@settings(max_examples=examples(300))
def test_every_parser_gives_a_value_or_its_own_error(value):
    for parser in PARSERS:
        _value_or_own_error(parser, value)


@given(cells)
def test_respondent_ids_are_idempotent(value):
    parsed = _value_or_own_error(parse_respondent_id, value)
    if not isinstance(parsed, InvalidValue):
        assert parse_respondent_id(parsed) == parsed


@given(st.integers(1990, 2100), st.sampled_from(["{}", "FY{}", "{}年度", " {} ", "fy{}"]), st.booleans())
def test_fiscal_year_spellings_round_trip(year, pattern, full_width):
    text = pattern.format(year)
    if full_width:
        text = text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert parse_fiscal_year(text) == year


@given(st.integers(2019, 2100), st.sampled_from(["令和{}年度", "R{}", "令和{}年", "r{}"]))
def test_reiwa_years(year, pattern):
    assert parse_fiscal_year(pattern.format(year - 2018)) == year


@given(cells)
@settings(max_examples=examples(300))
def test_answers_parse_to_a_level_a_reason_or_an_error(value):
    outcome = _value_or_own_error(CODEBOOK.parse_score, value)
    levels = {level["value"] for level in CODEBOOK.meta["scale"]["levels"]}
    reasons = {code["reason"] for code in CODEBOOK.meta["missing"]}
    if isinstance(outcome, InvalidValue):
        assert "expected a whole number from 1 to 5" in str(outcome)
    else:
        score, reason = outcome
        assert (score in levels and reason is None) or (score is None and reason in reasons)


@given(st.integers(1, 5), st.sampled_from([int, float, str, "full", "label_ja", "label_en", "spaced"]))
def test_every_spelling_of_a_level_reads_as_that_level(level, spelling):
    labels = {lv["value"]: lv for lv in CODEBOOK.meta["scale"]["levels"]}
    value = {
        int: level,
        float: float(level),
        str: str(level),
        "full": chr(0xFF10 + level),
        "label_ja": labels[level]["label_ja"],
        "label_en": labels[level]["label_en"].upper(),
        "spaced": f"\u3000{level} ",
    }[spelling]
    assert CODEBOOK.parse_score(value) == (level, None)


@given(cells)
def test_remembered_answers_equal_fresh_ones(value):
    # parse_score and lookup keep what they worked out; the kept answer must be the fresh one.
    fresh = _value_or_own_error(CODEBOOK._parse_score, value)
    kept = _value_or_own_error(CODEBOOK.parse_score, value)
    assert type(fresh) is type(kept)
    if not isinstance(fresh, InvalidValue):
        assert fresh == kept
    from analysis.ingest.validate import _key, _text

    assert _key(value) == match_key(value) and _text(value) == normalise_text(value)


@given(st.sampled_from(sorted(CODEBOOK.meta["codelists"])), cells)
def test_code_lookups_give_a_listed_code_or_an_error(codelist, value):
    outcome = _value_or_own_error(lambda v: CODEBOOK.lookup(codelist, v), value)
    if not isinstance(outcome, InvalidValue):
        assert outcome in set(CODEBOOK.code_index(codelist).values())


@pytest.mark.parametrize("codelist", sorted(CODEBOOK.meta["codelists"]))
def test_every_code_looks_up_as_itself(codelist):
    for code in set(CODEBOOK.code_index(codelist).values()):
        assert CODEBOOK.lookup(codelist, code) == code
        assert CODEBOOK.lookup(codelist, f" {code}\u3000") == code


SPECS = [spec for sheets in CODEBOOK.sheets.values() for sheet in sheets for spec in sheet.columns]


@given(st.sampled_from(SPECS), cells)
@settings(max_examples=examples(400))
def test_every_declared_column_parses_any_cell_or_says_why(spec, value):
    outcome = _value_or_own_error(lambda v: parse_value(spec, v, CODEBOOK), value)
    if outcome is None:
        assert not spec.required
    if spec.type == "date" and isinstance(outcome, str):
        dt.date.fromisoformat(outcome)


@given(cells)
def test_split_codes_parts_are_normalised_and_non_empty(value):
    parts = split_codes(value)
    assert all(part and part == normalise_text(part) for part in parts)
    assert split_codes(";".join(parts)) == parts
