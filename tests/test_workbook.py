import openpyxl
import pytest

from analysis.ingest.workbook import UnreadableFile, cell_name, read_workbook


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


@pytest.mark.parametrize(
    ("name", "data", "pattern"),
    [
        ("a.xlsx", b"", "empty"),
        ("a.xlsx", b"a,b\n", "not a spreadsheet"),
        ("a.txt", b"x", "not a spreadsheet"),
    ],
)
def test_unreadable(tmp_path, name, data, pattern):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(UnreadableFile, match=pattern):
        read_workbook(tmp_path / name)


def test_sheets_to_skip_are_listed_but_not_parsed(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "data"
    book.active["A1"] = "kept"
    book.create_sheet("_lists")["A1"] = "skipped"
    book.save(tmp_path / "t.xlsx")
    read = read_workbook(tmp_path / "t.xlsx", skip=lambda name: name.startswith("_"))
    assert list(read.sheets) == ["data", "_lists"]
    assert read.sheets["data"].rows == [["kept"]] and not read.sheets["data"].unread
    assert read.sheets["_lists"].rows == [] and read.sheets["_lists"].unread


def test_skipping_unused_sheets_changes_nothing_in_validation(tmp_path, codebook):
    from conftest import write_self_assessment

    from analysis.ingest.validate import parse_workbook, unused_sheets

    answers = dict.fromkeys(codebook.questions["question_id"], 3)
    answers.update({"1-1": "abc", "2-2": "該当なし"})
    path = write_self_assessment(tmp_path / "sa.xlsx", codebook, "U01", answers=answers)
    skip = unused_sheets(codebook)
    full, lean = read_workbook(path), read_workbook(path, skip=skip)
    assert [name for name, grid in lean.sheets.items() if grid.unread] == ["説明", "_lists"]
    a, b = parse_workbook(full, codebook), parse_workbook(lean, codebook)
    assert (a.records, a.columns, a.problems, a.cells_read, a.cells_reported) == (
        b.records,
        b.columns,
        b.problems,
        b.cells_read,
        b.cells_reported,
    )
    # A rejected workbook counts every cell of its data sheets: the skipped ones never counted.
    broken = openpyxl.load_workbook(path)
    del broken["回答"]
    broken.save(path)
    a, b = parse_workbook(read_workbook(path), codebook), parse_workbook(read_workbook(path, skip=skip), codebook)
    assert a.skipped and (a.cells_read, a.problems) == (b.cells_read, b.problems)


def test_dropdown_validation_is_not_a_formula(tmp_path, codebook):
    from conftest import write_self_assessment

    path = write_self_assessment(tmp_path / "sa.xlsx", codebook, "U01")  # dropdowns carry <formula1>
    assert all(grid.formulas_without_value == () for grid in read_workbook(path).sheets.values())


def test_macros_become_a_note(tmp_path):
    from hostile_corpus import minimal_xlsx, with_macros

    path = with_macros(minimal_xlsx(tmp_path / "plain.xlsx"), tmp_path / "m.xlsm")
    read = read_workbook(path)
    assert read.sheets["S"].rows == [["hello"]]
    (note,) = read.notes
    assert "vbaProject.bin" in str(note)


def test_opendocument_spreadsheet(tmp_path):
    import zipfile

    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
        '<office:spreadsheet><table:table table:name="S"><table:table-row><table:table-cell '
        'office:value-type="string"><text:p>回答</text:p></table:table-cell><table:table-cell '
        'office:value-type="float" office:value="4"><text:p>4</text:p></table:table-cell></table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(tmp_path / "t.ods", "w") as package:
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        package.writestr("content.xml", content)
        package.writestr("META-INF/manifest.xml", manifest)
    assert read_workbook(tmp_path / "t.ods").sheets["S"].rows == [["回答", 4.0]]
    with zipfile.ZipFile(tmp_path / "enc.ods", "w") as package:
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        package.writestr("content.xml", b"\x00" * 64)
        package.writestr("META-INF/manifest.xml", "<manifest:manifest><manifest:encryption-data/></manifest:manifest>")
    with pytest.raises(UnreadableFile, match="password-protected"):
        read_workbook(tmp_path / "enc.ods")
