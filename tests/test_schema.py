"""The declared tables: conform gives one frame whatever form the rows come in."""

import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.study.schema import TABLES, conform

_MISSING = st.sampled_from([None, math.nan, pd.NA])


def _value(dtype: str) -> st.SearchStrategy:
    present = {"Int64": st.integers(-5, 5), "boolean": st.booleans(), "str": st.text("ab1", max_size=3)}[dtype]
    return st.one_of(present, _MISSING)


@st.composite
def _columns(draw: st.DrawFn) -> tuple[str, dict[str, list]]:
    name = draw(st.sampled_from(sorted(TABLES)))
    n = draw(st.integers(0, 6))
    columns = {
        column: [draw(_value(dtype)) for _ in range(n)]
        for column, dtype in TABLES[name].items()
        if draw(st.booleans())  # some columns absent: conform adds them, empty
    }
    return name, columns if columns else {next(iter(TABLES[name])): [None] * n}


@settings(max_examples=60, deadline=None)
@given(_columns())
def test_columns_and_a_frame_of_them_conform_alike(case):
    # The ingest hands conform lists (None, NaN or NA for a missing value); notebooks and
    # readers hand it frames. Both must give the same types, missing values and order.
    name, columns = case
    from_lists = conform(name, columns)
    from_frame = conform(name, pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in columns.items()}))
    pd.testing.assert_frame_equal(from_lists, from_frame)
    assert list(from_lists.columns) == list(TABLES[name])
    assert {str(t) for t in from_lists.dtypes} <= {"Int64", "boolean", "str"}


def test_a_categorical_level_with_a_gap_is_typed_with_its_fill(codebook):
    # typed_frame fills a missing level with "unclassified"; a column that is already
    # categorical (its categories without the fill) or numeric must take it too.
    from analysis.study.frames import typed_frame

    level = pd.Categorical(["A", None], categories=["A", "B", "C"])
    maturity = pd.DataFrame({"respondent_id": ["U01", "U02"], "fiscal_year": [2021, 2021], "level": level})
    assert list(typed_frame("maturity", maturity, codebook)["level"].astype(str)) == ["A", "unclassified"]


_ANY_VALUE = st.one_of(st.text(max_size=4), st.integers(-3, 3), st.floats(allow_nan=True), st.booleans(), _MISSING)


@settings(max_examples=200, deadline=None)
@given(st.lists(_ANY_VALUE, max_size=8))
def test_text_columns_are_typed_as_pandas_types_them(values):
    # Text goes through Arrow first (fast); whatever Arrow takes must come out as pandas makes it.
    from analysis.study.schema import _typed

    fast, plain = _typed(list(values), "str"), pd.array(list(values), dtype="str")
    pd.testing.assert_extension_array_equal(fast, plain)
