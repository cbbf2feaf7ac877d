import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


@pytest.mark.parametrize(
    "raw", [2021, 2021.0, "2021", "FY2021", "fy2021", "2021年度", "令和3年度", "令和３年度", "R3", "r3", "２０２１"]
)
def test_fiscal_year_spellings(raw):
    assert parse_fiscal_year(raw) == 2021


def test_fiscal_year_first_era_year_and_heisei():
    assert parse_fiscal_year("令和元年度") == 2019
    assert parse_fiscal_year("平成31年度") == 2019
    assert parse_fiscal_year("H30") == 2018


@pytest.mark.parametrize("raw", ["", "abc", "21", 3.5, "R", True, dt.date(2021, 4, 1), "9999"])
def test_fiscal_year_rejects_with_expectation(raw):
    with pytest.raises(InvalidValue, match="fiscal year such as 2021"):
        parse_fiscal_year(raw)


def test_text_nfkc_kangxi_fullwidth_and_spaces():
    assert normalise_text("\u2fa6融　 ＡＢＣ１２\n") == "金融 ABC12"
    assert normalise_text(None) == "" and normalise_text(float("nan")) == ""
    assert normalise_text(4.0) == "4"


def test_respondent_id():
    assert parse_respondent_id("Ｕ０１") == "U01"
    assert parse_respondent_id(" u 01 ") == "U01"
    with pytest.raises(InvalidValue, match="empty"):
        parse_respondent_id("  ")
    with pytest.raises(InvalidValue, match="U01"):
        parse_respondent_id("U01!")


def test_int_and_bool_and_date_and_codes():
    assert parse_int("４") == 4 and parse_int(4.0) == 4 and parse_int("4.0") == 4
    with pytest.raises(InvalidValue):
        parse_int(4.5)
    assert parse_bool("はい", ["はい"], ["いいえ"]) is True
    assert parse_bool("ＮＯ", ["yes"], ["no"]) is False
    with pytest.raises(InvalidValue, match="yes or no"):
        parse_bool("maybe", ["yes"], ["no"])
    assert parse_date("2021年9月10日") == dt.date(2021, 9, 10)
    assert parse_date(dt.datetime(2021, 9, 10, 13)) == dt.date(2021, 9, 10)
    with pytest.raises(InvalidValue):
        parse_date("2021-02-30")
    assert split_codes("1；３、5,  ") == ["1", "3", "5"]


@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=True), st.none(), st.booleans()))
def test_normalise_is_idempotent(value):
    once = normalise_text(value)
    assert normalise_text(once) == once


@given(st.one_of(st.text(max_size=12), st.integers(-10, 3000), st.floats()))
def test_parsers_give_a_value_or_their_own_error(value):
    for parser in (parse_fiscal_year, parse_int, parse_respondent_id, parse_date):
        try:
            parser(value)
        except InvalidValue as error:
            assert str(error)


@given(
    st.one_of(
        st.text(max_size=8),
        st.integers(),
        st.floats(allow_nan=True),
        st.booleans(),
        st.none(),
        st.dates(),
        st.lists(st.integers(), max_size=2),  # unhashable: not remembered, still normalised
    )
)
def test_remembered_keys_and_texts_are_the_fresh_ones(value):
    from analysis.ingest.normalise import _normalise_text

    for _ in range(2):  # the second call is answered from the cache
        assert normalise_text(value) == _normalise_text(value)
        assert match_key(value) == _normalise_text(value).casefold()


def test_remembered_keys_keep_types_apart():
    assert (match_key(True), match_key(1), match_key(1.0), match_key(1.5)) == ("true", "1", "1", "1.5")
