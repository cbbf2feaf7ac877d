"""Problems and the sources of values: where in which file."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.ingest.problems import Source


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (Source("a.xlsx", "回答", "D2"), "a.xlsx!回答!D2"),
        (Source("sub/a!b.xlsx", "回答", "D2"), "sub/a!b.xlsx!回答!D2"),
        (Source("a.xlsx", "Q&A!", "B3"), "a.xlsx!'Q&A!'!B3"),
        (Source("a.xlsx", "Bob's", "B3"), "a.xlsx!'Bob''s'!B3"),
        (Source("a'!.xlsx", "'!'", "C1"), "a'!.xlsx!'''!'''!C1"),
        (Source("a.xlsx", "", ""), "a.xlsx!!"),
    ],
)
def test_source_string_form_and_parse(source, text):
    assert str(source) == text
    assert Source.parse(text) == source


def test_source_without_separators_is_a_file():
    assert Source.parse("notes.txt") == Source("notes.txt", "", "")
    assert Source.parse("a!b") == Source("a!b", "", "")


def test_source_prefix_plus_cell_is_the_source():
    assert str(Source("a.xlsx", "x!y", "")) + "D7" == str(Source("a.xlsx", "x!y", "D7"))


def test_source_sorts_cells_row_by_row():
    cells = ["A10", "B2", "AA2", "A2"]
    assert sorted(cells, key=lambda c: Source("f", "s", c).sort_key()) == ["A2", "B2", "AA2", "A10"]


@given(
    file=st.text(min_size=1, max_size=12),
    sheet=st.text(max_size=12),
    cell=st.one_of(st.just(""), st.from_regex(r"[A-Z]{1,3}[1-9][0-9]{0,5}", fullmatch=True)),
)
def test_source_round_trip(file, sheet, cell):
    source = Source(file, sheet, cell)
    assert Source.parse(str(source)) == source
