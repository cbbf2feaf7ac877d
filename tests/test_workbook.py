import openpyxl
import pytest

from analysis.workbook import UnreadableFile, cell_name, read_workbook


def test_cell_names():
    assert cell_name(0, 0) == "A1" and cell_name(13, 3) == "D14"
    assert cell_name(0, 25) == "Z1" and cell_name(0, 26) == "AA1" and cell_name(9, 16383) == "XFD10"


def test_offset_grid_and_formula_without_value(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "S"
    sheet["B3"] = "x"
    sheet["C4"] = 4
    sheet["D5"] = "=1+1"
    book.save(tmp_path / "t.xlsx")
    grid = read_workbook(tmp_path / "t.xlsx").sheets["S"]
    assert grid.cell(2, 1) == "x" and grid.cell(3, 2) == 4.0 and grid.cell(0, 0) == ""
    assert grid.formulas_without_value == ("D5",)


@pytest.mark.parametrize(("name", "data", "pattern"), [
    ("a.xlsx", b"", "empty"), ("a.xlsx", b"a,b\n", "not a spreadsheet"), ("a.txt", b"x", "not a spreadsheet"),
])
def test_unreadable(tmp_path, name, data, pattern):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(UnreadableFile, match=pattern):
        read_workbook(tmp_path / name)
