"""What is read off a sheet's XML without parsing it: cells of note (extents: test_safety.py)."""

from analysis.ingest.sheetxml import error_cells, formulas_without_value


def test_error_cells_and_formulas_without_value_are_found_in_any_spelling():
    xml = (
        b'<sheetData><row r="1"><c r="A1" t="e"><v>#N/A</v></c><c r=\'B1\' t = \'e\'/>'
        b'<x:c r="C1"><x:f>1+1</x:f></x:c><c r="D1"><f>A1</f><v>2</v></c></row></sheetData>'
    )
    assert error_cells(xml) == {"A1": "#N/A", "B1": "#ERROR"}
    assert formulas_without_value(xml) == ("C1",)
    assert error_cells(b"<sheetData/>") == {} and formulas_without_value(b"<sheetData/>") == ()


def test_an_unclosed_cell_neither_swallows_the_next_nor_costs_a_pass_to_the_end():
    # A cell that never ends is not searched to the end of the part (once per such cell, that
    # was quadratic: 20,000 of them took seconds); the cells after it are still found.
    xml = b'<c r="A1" t="e">' * 20_000 + b'<c r="B2" t="e"><v>#DIV/0!</v></c><c r="C3"><f>1/0</f></c>'
    assert error_cells(xml) == {"B2": "#DIV/0!"}
    assert formulas_without_value(xml) == ("C3",)


def test_an_error_value_padded_with_whitespace_is_read_in_one_pass():
    # The value of an error cell, stripped, whatever whitespace pads it; a long run of it is not
    # retried from every position (120 KB of it took 12 s before: quadratic). Generous bound:
    # the scan takes milliseconds.
    import random
    import time

    padding = bytes(random.Random(1).choice(b" \t\r\n") for _ in range(120_000))
    xml = b'<row r="1"><c r="A1" t="e"><v>\n #N/A' + padding + b'.</v></c><c r="B1" t="e"><v> #REF! </v></c></row>'
    started = time.perf_counter()
    found = error_cells(xml)
    assert time.perf_counter() - started < 2.0
    assert found == {"A1": "#N/A" + padding.decode() + ".", "B1": "#REF!"}
