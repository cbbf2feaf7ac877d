"""Pre-parse checks and limits: each refuses the file before any parser sees it."""

import io
import os
import sys
import zipfile

import pytest
from conftest import examples
from hostile_corpus import (
    CONTENT_TYPES,
    ROOT_RELS,
    billion_laughs_in_shared_strings,
    billion_laughs_in_sheet,
    encrypted_workbook,
    external_entity,
    far_cell,
    minimal_xlsx,
    quadratic_blowup,
    shared_strings_xml,
    sheet_xml,
    with_macros,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.ingest.isolation import ParserPool
from analysis.ingest.safety import (
    DEFAULT_LIMITS,
    LimitExceeded,
    Limits,
    UnreadableFile,
    UnsafeEnvironment,
    check_location,
    check_xml_defences,
    inspect_package,
)
from analysis.ingest.workbook import RawWorkbook


def _inspect(path, limits=DEFAULT_LIMITS):
    return inspect_package(path.read_bytes(), path.suffix.lower(), limits)


def test_a_plain_workbook_passes_and_its_sheet_is_measured(tmp_path):
    package = _inspect(minimal_xlsx(tmp_path / "ok.xlsx"))
    assert package.kind == "zip" and package.notes == ()
    assert list(package.sheets) == ["xl/worksheets/sheet1.xml"]
    facts = package.sheets["xl/worksheets/sheet1.xml"]
    assert facts.sheet and facts.dtd is False and facts.plain is not None and facts.plain > 0


def test_limits_describe_their_option_and_refuse_nonsense():
    assert DEFAULT_LIMITS.describe("max_cells").en == "5,000,000 cells (--max-cells)"
    assert DEFAULT_LIMITS.describe("max_cells").ja == "5,000,000セル(--max-cells)"
    assert Limits(max_ratio=50).describe("max_ratio") == ("50倍(--max-ratio)", "50× (--max-ratio)")
    assert Limits(timeout_s=9).describe("timeout_s").ja == "9秒(--timeout)"
    with pytest.raises(ValueError, match="--timeout must be a positive number"):
        Limits(timeout_s=0)
    with pytest.raises(ValueError, match="--max-cells"):
        Limits(max_cells=-1)


@pytest.mark.parametrize(
    "build", [billion_laughs_in_sheet, billion_laughs_in_shared_strings, quadratic_blowup, external_entity]
)
def test_document_type_declarations_are_refused(tmp_path, build):
    with pytest.raises(UnreadableFile, match="document type declaration"):
        _inspect(build(tmp_path / "x.xlsx"))


def test_declared_dimension_over_the_cell_limit(tmp_path):
    path = far_cell(tmp_path / "far.xlsx")
    with pytest.raises(LimitExceeded, match=r"declares 17,179,869,184 cells .*--max-cells") as caught:
        _inspect(path)
    assert caught.value.limit == "max_cells"


def test_a_lying_dimension_is_caught_by_the_cells_themselves(tmp_path):
    path = far_cell(tmp_path / "liar.xlsx", honest_dimension=False)
    with pytest.raises(LimitExceeded, match=r"has cells spanning 17,179,869,184 cells"):
        _inspect(path)
    # Raised far enough, the limit lets it through to the parser (which the worker pool isolates).
    assert _inspect(path, Limits(max_cells=20_000_000_000)).sheets


def test_cell_limit_is_for_the_whole_workbook(tmp_path):
    cells = b'<row r="1"><c r="A1"><v>1</v></c></row><row r="100"><c r="J100"><v>1</v></c></row>'
    path = minimal_xlsx(tmp_path / "wide.xlsx", sheet=sheet_xml(cells, dimension=b"A1:J100"))
    assert _inspect(path, Limits(max_cells=1000)).sheets
    with pytest.raises(LimitExceeded, match="1,000 cells"):
        _inspect(path, Limits(max_cells=999))


def test_member_size_total_size_and_ratio(tmp_path):
    filler = b"<!--" + b" " * (3 << 20) + b"-->"
    path = minimal_xlsx(tmp_path / "big.xlsx", sheet=sheet_xml(tail=filler))
    with pytest.raises(LimitExceeded, match="unpacks to 3.0 MB, more than the limit of 2 MB") as caught:
        _inspect(path, Limits(max_member_mb=2))
    assert caught.value.limit == "max_member_mb"
    with pytest.raises(LimitExceeded, match="--max-uncompressed-mb"):
        _inspect(path, Limits(max_uncompressed_mb=2, max_ratio=1_000_000))
    with pytest.raises(LimitExceeded, match="zip bomb") as caught:
        _inspect(path)  # 3 MB of blanks pack into a few KB: far above 100×
    assert caught.value.limit == "max_ratio"
    assert _inspect(path, Limits(max_ratio=1_000_000)).sheets


def test_number_of_parts(tmp_path):
    extra = {f"xl/media/image{i}.png": b"x" for i in range(20)}
    path = minimal_xlsx(tmp_path / "many.xlsx", extra=extra)
    with pytest.raises(LimitExceeded, match="26 parts, more than the limit of 25 parts"):
        _inspect(path, Limits(max_members=25))


def test_file_size_is_checked_before_reading(tmp_path):
    from analysis.ingest.workbook import read_workbook

    path = tmp_path / "huge.xlsx"
    with path.open("wb") as handle:
        handle.truncate(3 << 20)  # a sparse file: nothing is written, nothing need be read
    with pytest.raises(LimitExceeded, match="3.0 MB, more than the limit of 2 MB") as caught:
        read_workbook(path, Limits(max_file_mb=2))
    assert caught.value.limit == "max_file_mb"


def test_macros_are_a_note_not_a_refusal(tmp_path):
    path = with_macros(minimal_xlsx(tmp_path / "plain.xlsx"), tmp_path / "macro.xlsm")
    (note,) = _inspect(path).notes
    assert "xl/vbaProject.bin" in note.en and "not run" in note.en and "マクロは実行しておらず" in note.ja


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"", "empty"),
        (b"respondent_id,answer\nU01,3\n", "a CSV or text file renamed"),
        (b"PK\x03\x04" + b"\0" * 100, "damaged or incomplete"),
    ],
)
def test_not_a_package(tmp_path, content, pattern):
    (tmp_path / "x.xlsx").write_bytes(content)
    with pytest.raises(UnreadableFile, match=pattern):
        _inspect(tmp_path / "x.xlsx")


def test_truncated_package(tmp_path):
    data = minimal_xlsx(tmp_path / "ok.xlsx").read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(UnreadableFile, match="damaged or incomplete"):
        _inspect(tmp_path / "cut.xlsx")


def test_a_part_that_lies_about_its_size_is_damaged(tmp_path):
    path = minimal_xlsx(tmp_path / "ok.xlsx")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as package:
        info = package.getinfo("xl/worksheets/sheet1.xml")
    # Patch the central directory's uncompressed size of the sheet (offset 24 in its entry).
    position = data.find(b"xl/worksheets/sheet1.xml", data.find(b"PK\x01\x02"))
    entry = data.rfind(b"PK\x01\x02", 0, position)
    data[entry + 24 : entry + 28] = (info.file_size // 2).to_bytes(4, "little")
    (tmp_path / "liar.xlsx").write_bytes(bytes(data))
    with pytest.raises(UnreadableFile, match="sheet1.xml of the zip package is damaged"):
        _inspect(tmp_path / "liar.xlsx")


def test_password_protected(tmp_path):
    with pytest.raises(UnreadableFile, match="password-protected"):
        _inspect(encrypted_workbook(tmp_path / "secret.xlsx"))


def test_encrypted_zip_members(tmp_path):
    data = bytearray(minimal_xlsx(tmp_path / "ok.xlsx").read_bytes())
    position = data.find(b"PK\x01\x02")
    data[position + 8] |= 0x1  # the "encrypted" flag of the first central directory entry
    (tmp_path / "enc.xlsx").write_bytes(bytes(data))
    with pytest.raises(UnreadableFile, match="password-protected"):
        _inspect(tmp_path / "enc.xlsx")


@pytest.mark.parametrize(
    ("suffix", "data", "pattern"),
    [
        (".xls", b"PK\x03\x04rest", "named .xls"),
        (".xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, r"Excel 97-2003 \(.xls\) file named .xlsx"),
    ],
)
def test_wrong_extension(suffix, data, pattern):
    with pytest.raises(UnreadableFile, match=pattern):
        inspect_package(data, suffix)


def test_other_zip_files_named_xlsx(tmp_path):
    path = tmp_path / "doc.xlsx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("word/document.xml", b"<w/>")
    with pytest.raises(UnreadableFile, match="Word or PowerPoint"):
        _inspect(path)


def test_location_checks(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "ok.xlsx").write_bytes(b"x")
    (tmp_path / "outside.xlsx").write_bytes(b"x")
    (raw / "out.xlsx").symlink_to(tmp_path / "outside.xlsx")
    (raw / "in.xlsx").symlink_to(raw / "ok.xlsx")
    os.mkfifo(raw / "pipe.xlsx")
    assert check_location(raw / "ok.xlsx", raw) is None
    assert check_location(raw / "in.xlsx", raw) is None
    assert "outside the raw folder" in str(check_location(raw / "out.xlsx", raw))
    assert "not a regular file" in str(check_location(raw / "pipe.xlsx", raw))


def test_xml_defences_are_checked(monkeypatch):
    import openpyxl

    check_xml_defences()  # this environment has them
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(UnsafeEnvironment, match="OPENPYXL_DEFUSEDXML"):
        check_xml_defences()


def test_missing_defusedxml_is_named(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "defusedxml", None)  # import now fails
    with pytest.raises(UnsafeEnvironment, match="defusedxml is not installed"):
        check_xml_defences()


def test_limit_exceeded_survives_pickling():
    import pickle

    error = pickle.loads(pickle.dumps(LimitExceeded("too big", "max_cells")))
    assert str(error) == "too big" and error.limit == "max_cells"


def test_a_declaration_hidden_behind_a_long_comment_or_in_utf16_is_found(tmp_path):
    padded = shared_strings_xml(b"&a;", doctype=b"<!--" + b"x" * 5000 + b'--><!DOCTYPE q [<!ENTITY a "b">]>')
    with pytest.raises(UnreadableFile, match="sharedStrings.xml carries an XML document type declaration"):
        _inspect(minimal_xlsx(tmp_path / "padded.xlsx", shared_strings=padded))
    utf16 = (
        shared_strings_xml(b"&a;", doctype=b'<!DOCTYPE q [<!ENTITY a "b">]>')
        .decode()
        .replace('encoding="UTF-8"', 'encoding="UTF-16"')
        .encode("utf-16")
    )
    with pytest.raises(UnreadableFile, match="document type declaration"):
        _inspect(minimal_xlsx(tmp_path / "utf16.xlsx", shared_strings=utf16))


def test_a_part_anywhere_in_the_package_is_checked(tmp_path):
    # The relationships decide which part holds the shared strings; every XML part is checked.
    evil = shared_strings_xml(b"&lol;", doctype=b'<!DOCTYPE l [<!ENTITY lol "lol">]>')
    with pytest.raises(UnreadableFile, match="custom/strings.xml carries"):
        _inspect(minimal_xlsx(tmp_path / "elsewhere.xlsx", extra={"custom/strings.xml": evil}))


@pytest.mark.parametrize(
    ("variant", "cells"),
    [
        ("single_quotes", 1_048_576 * 16_384),
        ("spaces_around_equals", 1_048_576 * 16_384),
        ("tabs_and_newlines", 1_048_576 * 16_384),
        ("lower_case", 1_048_576 * 16_384),
        ("character_reference", 1_048_576 * 16_384),
        ("gt_in_attribute", 1_048_576 * 16_384),
        ("prefixed_elements", 1_048_576 * 16_384),
        ("cells_without_r", 1_048_576 * 16),
        ("rows_without_r", 100_002 * 60),
    ],
)
def test_cell_extent_reads_positions_as_the_parser_does(variant, cells):
    from hostile_corpus import SHEET_VARIANTS, sheet_xml

    from analysis.ingest.sheetxml import plain_extent, used_extent

    xml = sheet_xml(SHEET_VARIANTS[variant])
    assert plain_extent(xml) is None and used_extent(xml) == cells


def test_plain_sheets_skip_the_extent_scan():
    from hostile_corpus import sheet_xml

    from analysis.ingest.sheetxml import plain_extent, used_extent

    xml = sheet_xml(
        b'<row r="1" spans="1:2"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>1</v></c></row>'
        b'<row r="40"><c r="ZZ40" s="1"><v>1</v></c></row>'
    )
    assert plain_extent(xml) == used_extent(xml) == 40 * 702


_SPELLINGS = ('r="{}"', "r='{}'", 'r = "{}"', "r\t=\t'{}'")


@settings(max_examples=examples(60), deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(1, 40)),  # the row's r (None: no r)
            st.lists(st.one_of(st.none(), st.tuples(st.integers(0, 30), st.integers(1, 40))), max_size=5),
            st.sampled_from(_SPELLINGS),
            st.booleans(),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_cell_extent_bounds_what_the_parser_allocates(tmp_path_factory, rows):
    # Whatever the spelling and order, the pre-parse extent is at least the parser's grid.
    import python_calamine
    from hostile_corpus import minimal_xlsx, sheet_xml

    from analysis.ingest.sheetxml import plain_extent, used_extent
    from analysis.ingest.workbook import cell_name

    xml = b""
    for row_r, cells, spelling, lower in rows:
        attrs = " " + spelling.format(row_r) if row_r else ""
        body = ""
        for cell in cells:
            ref = cell_name(cell[1] - 1, cell[0]) if cell else None
            ref = ref.lower() if ref and lower else ref
            body += f"<c {spelling.format(ref)}><v>1</v></c>" if ref else "<c><v>1</v></c>"
        xml += f"<row{attrs}>{body}</row>".encode()
    whole = sheet_xml(xml)
    path = minimal_xlsx(tmp_path_factory.mktemp("extent") / "s.xlsx", sheet=whole)
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        sheet = book.get_sheet_by_index(0)
        start, end = sheet.start, sheet.end
    finally:
        book.close()
    plain = plain_extent(whole)
    ours = used_extent(whole) if plain is None else plain
    if start is None:
        return
    parser = (end[0] - start[0] + 1) * (end[1] - start[1] + 1)
    assert ours >= parser
    if plain is not None:  # the plain form: no cell lies past ZZ9999, and positions are explicit
        assert end[0] < 9999 and end[1] < 702


# -- sheets the parser skips, and where the parser finds a sheet ---------------------------------

_REL_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"


def _two_sheet_package(
    entries: dict[str, bytes], targets: tuple[str, str], workbook_extra: bytes = b"", names=("説明", "回答")
) -> bytes:
    """A workbook whose first sheet (skipped by the ingest) and second sheet (read) point at
    ``targets``; ``entries`` are the package's worksheet parts by name."""
    import io

    sheets = b"".join(
        b'<sheet name="%s" sheetId="%d" r:id="rId%d"/>' % (name.encode(), i, i) for i, name in enumerate(names, 1)
    )
    workbook = (
        b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        + workbook_extra
        + b"<sheets>"
        + sheets
        + b"</sheets></workbook>"
    )
    rels = (
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + b"".join(
            b'<Relationship Id="rId%d" Type="%s" Target="%s"/>' % (i, _REL_WORKSHEET.encode(), t.encode())
            for i, t in enumerate(targets, 1)
        )
        + b"</Relationships>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
        package.writestr("_rels/.rels", ROOT_RELS)
        package.writestr("xl/workbook.xml", workbook)
        package.writestr("xl/_rels/workbook.xml.rels", rels)
        for name, data in entries.items():
            package.writestr(name, data)
    return buffer.getvalue()


def _marked_sheet(marker: str, far: bool = False) -> bytes:
    cell = b'<c r="A1" t="inlineStr"><is><t>%s</t></is></c>' % marker.encode()
    if far:
        cell += b'<c r="XFD1048576"><v>1</v></c>'
    return sheet_xml(b'<row r="1">' + cell + b"</row>")


def _far_past_the_relationships(far_cell: bool = True) -> dict[str, bytes]:
    """Packages whose far-cell part a reader of the relationships would not measure, each in
    a way an attacker found that python-calamine follows (it reads the far part as 回答)."""
    import struct
    import zlib

    far, decoy = _marked_sheet("far", far=far_cell), _marked_sheet("decoy")
    answers = '<sheet name="回答" sheetId="1" r:id="rId1"/>'.encode()
    rels = b'<Relationship Id="rId1" Type="%s" Target="worksheets/sheet1.xml"/>' % _REL_WORKSHEET.encode()
    unicode_path = b"\x01" + struct.pack("<I", zlib.crc32(b"zz/data.bin")) + b"xl/worksheets/sheet1.xml"
    renamed = zipfile.ZipInfo("zz/data.bin")
    renamed.extra = struct.pack("<HH", 0x7075, len(unicode_path)) + unicode_path
    return {
        # _rels/.rels names another workbook part: the parser takes its folder from there.
        "another workbook part": _package(
            {
                "xl/workbook.xml": _workbook(answers),
                "xl/_rels/workbook.xml.rels": _rels(rels),
                "xl/worksheets/sheet1.xml": decoy,
                "foo/workbook.xml": _workbook(answers),
                "foo/_rels/workbook.xml.rels": _rels(rels),
                "foo/worksheets/sheet1.xml": far,
            },
            root_target=b"foo/workbook.xml",
        ),
        # A second entry spelt with backslashes: the parser's lookup makes them slashes.
        "backslash entry": _package(
            {
                "xl/workbook.xml": _workbook(answers),
                "xl/_rels/workbook.xml.rels": _rels(rels),
                "xl/worksheets/sheet1.xml": decoy,
                "xl\\worksheets\\sheet1.xml": far,
            }
        ),
        # An entry renamed by an Info-ZIP Unicode-path extra field.
        "unicode path field": _package(
            {
                "xl/workbook.xml": _workbook(answers),
                "xl/_rels/workbook.xml.rels": _rels(rels),
                "xl/worksheets/sheet1.xml": decoy,
                renamed: far,
            }
        ),
        # A relationship element with a prefix of non-ASCII letters, targeting a part anywhere.
        "prefixed relationship": _package(
            {
                "xl/workbook.xml": _workbook(answers),
                "xl/_rels/workbook.xml.rels": _rels(
                    f'<é:Relationship Id="rId1" Type="{_REL_WORKSHEET}" Target="/evil/s.xml"/>'.encode()
                ),
                "evil/s.xml": far,
            }
        ),
    }


def _workbook(sheets: bytes) -> bytes:
    return (
        b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        + sheets
        + b"</sheets></workbook>"
    )


def _rels(body: bytes) -> bytes:
    return (
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + body
        + b"</Relationships>"
    )


def _package(entries: dict, root_target: bytes = b"xl/workbook.xml") -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
        package.writestr("_rels/.rels", ROOT_RELS.replace(b'Target="xl/workbook.xml"', b'Target="%s"' % root_target))
        for name, data in entries.items():
            if isinstance(name, zipfile.ZipInfo):
                name.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("attack", sorted(_far_past_the_relationships()))
def test_a_part_holding_cells_is_measured_whatever_the_relationships_say(attack):
    data = _far_past_the_relationships()[attack]
    # (An entry renamed by a Unicode-path field is refused before: an unusual zip layout.)
    with pytest.raises(UnreadableFile, match="has cells spanning|laid out unusually"):
        inspect_package(data, ".xlsx")


def test_the_parser_reads_the_far_part_of_each_attack_as_its_sheet():
    # The attacks are real: python-calamine reads the attacker's part, not the decoy, as the
    # sheet 回答 (shown without the far cell, which would make it abort).
    import subprocess
    import sys

    probe = (
        "import io, sys, python_calamine as c\n"
        "book = c.CalamineWorkbook.from_filelike(io.BytesIO(sys.stdin.buffer.read()))\n"
        "print(book.get_sheet_by_name('回答').to_python(nrows=1)[0][0])\n"
    )
    for attack, data in _far_past_the_relationships(far_cell=False).items():
        done = subprocess.run([sys.executable, "-c", probe], input=data, capture_output=True, timeout=60)
        assert done.stdout.decode().strip() == "far", (attack, done.stdout, done.stderr[-300:])


# Spellings of a relationship's target and of the part it may name: the reader joins some
# literally, some after normalising, and looks parts up in any case.
_TARGETS = [
    "worksheets/sheet2.xml",
    "/xl/worksheets/sheet2.xml",
    "x/../worksheets/sheet2.xml",
    "../data/s.xml",
    "/data/s.xml",
    "Worksheets/Sheet2.xml",
    "worksheets//sheet2.xml",
    "worksheets/./sheet2.xml",
    "xl/worksheets/sheet2.xml",
]
_ENTRIES = [
    "xl/worksheets/sheet2.xml",
    "xl/x/../worksheets/sheet2.xml",
    "xl/../data/s.xml",
    "data/s.xml",
    "xl/worksheets//sheet2.xml",
    "xl/worksheets/./sheet2.xml",
    "xl/xl/worksheets/sheet2.xml",
    "XL/WORKSHEETS/SHEET2.XML",
]


@settings(max_examples=examples(60), deadline=None)
@given(
    read_target=st.sampled_from(_TARGETS),
    skipped_target=st.sampled_from(_TARGETS + ["worksheets/sheet1.xml"]),
    entries=st.sets(st.sampled_from(_ENTRIES), min_size=1, max_size=4),
)
def test_every_part_the_parser_reads_was_checked(read_target, skipped_target, entries):
    """Whatever the targets and part names, the part python-calamine reads for a sheet the ingest
    reads is among the fully checked parts (each part holds its own marker in A1)."""
    import io

    import python_calamine

    parts = {name: _marked_sheet(name) for name in entries}
    parts.setdefault("xl/worksheets/sheet1.xml", _marked_sheet("xl/worksheets/sheet1.xml"))
    data = _two_sheet_package(parts, (skipped_target, read_target))
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = book.get_sheet_by_name("回答").to_python()
    except Exception:  # the parser finds no sheet there: nothing was read
        return
    read = str(rows[0][0])
    assert read in inspect_package(data, ".xlsx").sheets


def test_a_declaration_in_any_part_that_reads_as_xml_is_refused(tmp_path):
    # A relationship can point a parser at a part of any name; one that reads as XML is checked.
    evil = shared_strings_xml(b"&lol;", doctype=b'<!DOCTYPE l [<!ENTITY lol "lol">]>')
    with pytest.raises(UnreadableFile, match="zz/strings.bin carries"):
        _inspect(minimal_xlsx(tmp_path / "bin.xlsx", extra={"zz/strings.bin": evil}))
    # Binary parts (images) are not read as XML, whatever bytes they hold.
    image = b"\x89PNG\r\n\x1a\n" + b"<!DOCTYPE x>" + bytes(range(256))
    assert _inspect(minimal_xlsx(tmp_path / "png.xlsx", extra={"xl/media/image1.png": image})).kind == "zip"


# -- what a second attacker review found: spellings the parser reads its own way -----------------

_MARKER = b'<c r="A1" t="inlineStr"><is><t>MARKER</t></is></c>'
_SPELLED = {
    # Positions the parser reads past our patterns: leading zeros, four letters, a number past 2^32.
    "leading zeros": b'<row r="1">' + _MARKER + b'<c r="XFD0001048576"><v>1</v></c></row>',
    "four letters": b'<row r="1">' + _MARKER + b'<c r="AAAA01048576"><v>1</v></c></row>',
    "wrapping number": b'<row r="1">' + _MARKER + b'<c r="XFD4295015872"><v>1</v></c></row>',
    "row with leading zeros": b'<row r="1">' + _MARKER + b'<c r="XFD1"><v>1</v></c></row>'
    b'<row r="01048576"><c><v>1</v></c></row>',
    "row with letters": b'<row r="1">' + _MARKER + b'<c r="XFD1"><v>1</v></c></row>'
    b'<row r="A1048576"><c><v>1</v></c></row>',
    # Prefixes the parser splits at the first colon, whatever the letters (or none).
    "non-ASCII prefix": b'<row r="1">' + _MARKER + '<é:c r="XFD1048576"><v>1</v></é:c></row>'.encode(),
    "empty prefix": b'<row r="1">' + _MARKER + b'<:c r="XFD1048576"><v>1</v></:c></row>',
    # The parser moves to the next row at every </row>, even one that closes something else.
    "stray row ends": b'<row r="1">'
    + _MARKER
    + b'<c r="XFD1"><v>1</v></c></row>'
    + b"<x>" * 400
    + b"</row>" * 400
    + b"<row><c><v>1</v></c></row>",
}


@pytest.mark.parametrize("spelling", sorted(_SPELLED))
def test_positions_the_parser_reads_its_own_way_are_refused(tmp_path, spelling):
    path = minimal_xlsx(tmp_path / "x.xlsx", sheet=sheet_xml(_SPELLED[spelling]))
    # A small limit shows the stray row ends: 401 rows x 16,384 columns.
    with pytest.raises(LimitExceeded, match="has cells spanning|cannot be read|読み取れないセル位置") as caught:
        _inspect(path, Limits(max_cells=1_000_000))
    assert caught.value.limit == "max_cells"


def _glued(benign: bytes, hostile: bytes) -> bytes:
    """``hostile`` then ``benign`` whose end record claims a one-byte comment that is not there:
    Python's zipfile reads the second, python-calamine's zip library the first."""
    import struct

    tail = bytearray(benign)
    end = tail.rfind(b"PK\x05\x06")
    struct.pack_into("<H", tail, end + 20, 1)
    return hostile + bytes(tail)


def test_a_package_laid_out_unusually_is_refused(tmp_path):
    far = sheet_xml(b'<row r="1">' + _MARKER + b'</row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    hostile = minimal_xlsx(tmp_path / "m.xlsx", sheet=far).read_bytes()
    benign = minimal_xlsx(tmp_path / "b.xlsx").read_bytes()
    with pytest.raises(UnreadableFile, match="laid out unusually"):
        inspect_package(_glued(benign, hostile), ".xlsx")
    # A zip64 locator before the end record: the two readers differ on which directory counts.
    locator = b"PK\x06\x07" + bytes(16)
    end = benign.rfind(b"PK\x05\x06")
    with pytest.raises(UnreadableFile, match="laid out unusually"):
        inspect_package(benign[:end] + locator + benign[end:], ".xlsx")
    # Data before the package (a self-extracting stub): not a package at all.
    with pytest.raises(UnreadableFile, match="must be a zip package"):
        inspect_package(b"MZ" + bytes(100) + benign, ".xlsx")


@pytest.mark.parametrize("part", ["content.xml", "mimetype", "xl/workbook.bin"])
def test_a_workbook_holding_another_formats_parts_is_refused(tmp_path, part):
    # The parser tries OpenDocument (and xlsb) when its xlsx reader fails: an .xlsx holding an
    # OpenDocument content.xml could be read as that, which no check measured.
    path = minimal_xlsx(tmp_path / "mixed.xlsx", extra={part: b"<x/>"})
    with pytest.raises(UnreadableFile, match="another format"):
        _inspect(path)


# -- OpenDocument: the grid repeated rows and cells make the parser allocate ---------------------

_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"'
)
_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
)
_V = (
    '<table:table-cell office:value-type="float" office:value="1" calcext:value-type="float">'
    "<text:p>1</text:p></table:table-cell>"
)
_S = '<table:table-cell office:value-type="string" calcext:value-type="string"><text:p>x</text:p></table:table-cell>'
_FORMULA = '<table:table-cell table:formula="of:=1"/>'
_COVERED = '<table:covered-table-cell table:number-columns-repeated="4"/>'
_STYLED = ' table:style-name="ce1"'


def _empty(repeats: int = 1, extra: str = "") -> str:
    return f'<table:table-cell{extra} table:number-columns-repeated="{repeats}"/>'


def _values(repeats: int) -> str:
    return f'<table:table-cell office:value="1" table:number-columns-repeated="{repeats}"/>'


def _row(cells: str, repeats: int = 1) -> str:
    return f'<table:table-row table:number-rows-repeated="{repeats}">{cells}</table:table-row>'


def _ods_content(*tables: str) -> bytes:
    body = "".join(f'<table:table table:name="T{i}">{rows}</table:table>' for i, rows in enumerate(tables))
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} office:version="1.3">'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>"
    ).encode()


def _ods_package(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        for name, content in parts.items():
            package.writestr(name, content)
        package.writestr("META-INF/manifest.xml", _ODS_MANIFEST)
    return buffer.getvalue()


def _ods(*tables: str) -> bytes:
    return _ods_package({"content.xml": _ods_content(*tables)})


def _calamine_cells(data: bytes) -> int:
    """Cells of the grids python-calamine returns for the tables of an .ods, summed."""
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        grids = [book.get_sheet_by_name(name).to_python() for name in book.sheet_names]
    finally:
        book.close()
    return sum(len(rows) * len(rows[0]) for rows in grids if rows)


def _ods_count(*tables: str) -> int:
    from analysis.ingest.safety import _ods_tables_extent

    return _ods_tables_extent("content.xml", _ods_content(*tables), 10**12, DEFAULT_LIMITS)


# LibreOffice's usual fillers: 1024 columns declared, every row ends in an empty repeated cell
# up to column 1024, styled empty cells, and a last row repeated to the sheet's end.
_LIBREOFFICE_TABLE = (
    '<table:table-column table:style-name="co1" table:number-columns-repeated="1024" '
    'table:default-cell-style-name="Default"/>'
    + _row(_S * 4 + _empty(1020))
    + _row(_S + _V + _V + _empty(1, _STYLED) + _empty(1020)) * 30
    + _row(_empty(3) + _empty(2, _STYLED) + _empty(1019), 500)
    + _row(_empty(1024), 1048553 - 500 - 31)
    + _row(_empty(1024))
)
_LIBREOFFICE_EMPTY_TABLE = _row(_empty(1024), 1048576)


def test_an_ods_with_libreoffices_trailing_fillers_passes():
    data = _ods(_LIBREOFFICE_TABLE, _LIBREOFFICE_EMPTY_TABLE)
    assert inspect_package(data, ".ods", Limits(max_cells=1_000)).kind == "zip"
    # calamine returns 31 rows × 4 columns; it also stores the styled empty cells followed by
    # a filler (one per data row, and 5 of the 500 repeated rows, stored once): 129.
    assert _calamine_cells(data) == 31 * 4
    assert _ods_count(_LIBREOFFICE_TABLE, _LIBREOFFICE_EMPTY_TABLE) == 129


_HOSTILE_ODS = {
    # 1 KB: a value, 16,382 empty cells and a value; 6,000 empty rows; a value (98 million cells)
    "value_after_repeats": (_row(_S + _empty(16382) + _V) + _row(_empty(1), 6000) + _row(_V),),
    # a row holding a value, repeated: every repeat is allocated
    "repeated_value_row": (_row(_V + _empty(16382) + _V, 1000),),
    # a repeated cell with a value is stored that many times
    "repeated_value_cell": (_row(_values(16384), 400),),
    # no value at all, but the empty cells before a last one are stored, row by row (1.7 GB)
    "stored_empties": (_row(_empty(16383) + _empty(1)) * 2000,),
    # formulas get a grid of their own
    "far_formulas": (_row(_FORMULA) + _row(_empty(1), 5000) + _row(_empty(999) + _FORMULA),),
    # each table within the limit, the workbook not
    "summed_over_tables": (_row(_V + _empty(998) + _V) + _row(_empty(1), 2998) + _row(_V),) * 2,
    # rows inside header rows and groups are rows
    "grouped_rows": (
        "<table:table-header-rows>"
        + _row(_V)
        + "</table:table-header-rows><table:table-row-group>"
        + _row(_empty(1), 100_000)
        + _row(_empty(99) + _V)
        + "</table:table-row-group>",
    ),
}


@pytest.mark.parametrize("attack", sorted(_HOSTILE_ODS))
def test_an_ods_whose_repeats_span_too_many_cells_is_refused(attack):
    with pytest.raises(LimitExceeded) as error:
        inspect_package(_ods(*_HOSTILE_ODS[attack]), ".ods")
    assert error.value.limit == "max_cells" and error.value.args[0].code == "cells_spanning"
    assert "content.xml (T" in str(error.value)


def test_an_ods_table_is_measured_as_calamine_spells_it_under_any_part_name():
    hostile = _ods_content(*_HOSTILE_ODS["value_after_repeats"])
    # calamine matches "table:table-row" as spelt: whatever the prefix means, or if it means nothing
    elsewhere = hostile.replace(b'"urn:oasis:names:tc:opendocument:xmlns:table:1.0"', b'"urn:x"')
    undeclared = hostile.replace(b'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"', b"")
    for parts in [{"Content.xml": hostile}, {"content.xml": elsewhere}, {"content.xml": undeclared}]:
        with pytest.raises(LimitExceeded):
            inspect_package(_ods_package(parts), ".ods")
    # and reads nothing of a table spelt with another prefix
    prefixed = _ods_package({"content.xml": hostile.replace(b"xmlns:table=", b"xmlns:t=").replace(b"table:", b"t:")})
    assert inspect_package(prefixed, ".ods").kind == "zip" and _calamine_cells(prefixed) == 0


def test_an_ods_whose_tables_cannot_be_measured_is_refused():
    # calamine does not check end tags; the count cannot follow it there
    content = _ods_content(_row(_V)).replace(b"</table:table-row>", b"</table:row>")
    with pytest.raises(UnreadableFile, match="could not be parsed"):
        inspect_package(_ods_package({"content.xml": content}), ".ods")
    with pytest.raises(UnreadableFile, match="document type declaration"):
        inspect_package(_ods_package({"content": b"<!DOCTYPE x []>" + _ods_content(_row(_V))[38:]}), ".ods")


# Rows of one table, and whether the count is exactly calamine's grid (False: calamine also
# stores empty cells it does not return, or a grid of formulas, and the count is larger).
_ODS_CASES = {
    "trailing_empty_cells": (_row(_V + _empty(1020)), True),
    "two_trailing_fillers": (_row(_V + _empty(5, _STYLED) + _empty(1015)), False),
    "empty_rows_at_the_end": (_row(_V) + _row(_empty(1024), 1048553), True),
    "empty_rows_between": (_row(_V) + _row(_empty(3), 5) + _row(_V), True),
    "empty_cells_between": (_row(_V + _empty(7) + _V), True),
    "leading_empty_rows": (_row(_empty(4), 10) + _row(_V), True),
    "leading_empty_cells": (_row(_empty(9) + _V), False),
    "repeated_value_cells": (_row(_empty(2) + _values(6)), False),
    "repeated_value_row": (_row(_V + _empty(2) + _V, 7), True),
    "covered_cells": (_row(_V + _COVERED + _V), True),
    "style_only": (_row(_V + _empty(3, _STYLED)) + _row(_empty(6, _STYLED), 4), True),
    "header_rows": (
        "<table:table-header-rows>" + _row(_V + _empty(2) + _V, 3) + "</table:table-header-rows>" + _row(_V),
        True,
    ),
    "row_group": (
        _row(_V) + "<table:table-row-group>" + _row(_empty(2), 4) + _row(_empty(3) + _V) + "</table:table-row-group>",
        True,
    ),
    "value_after_large_empty": (_row(_V + _empty(100) + _V) + _row(_empty(1), 200) + _row(_V), True),
    "empty_string": (_row(_V) + _row(_empty(5) + '<table:table-cell office:value-type="string"/>'), True),
    "formula_without_value": (_row(_V) + _row(_empty(5) + _FORMULA), False),
    "rows_past_the_last_row": (_row(_V, 1048576) + _row(_V) + _row(_V + _empty(3) + _V), True),
    "columns_past_the_last_column": (_row(_V + _empty(16380) + _V + _empty(10) + _V), False),
    "all_empty": (_row(_empty(5), 10), True),
    "no_rows": ("", True),
}


@pytest.mark.parametrize("case", sorted(_ODS_CASES))
def test_the_ods_count_is_the_grid_calamine_allocates(case):
    rows, exact = _ODS_CASES[case]
    count, cells = _ods_count(rows), _calamine_cells(_ods(rows))
    assert count == cells if exact else count >= cells


_ODS_CELL_KINDS = [
    _values,
    lambda n: _S.replace(">", f' table:number-columns-repeated="{n}">', 1),
    _empty,
    lambda n: _empty(n, _STYLED),
    lambda n: _COVERED.replace('"4"', f'"{n}"'),
]


@settings(max_examples=examples(60), deadline=None)
@given(
    tables=st.lists(
        st.lists(
            st.tuples(
                st.lists(st.tuples(st.integers(0, len(_ODS_CELL_KINDS) - 1), st.integers(0, 5)), max_size=6),
                st.integers(1, 6),
            ),
            max_size=6,
        ),
        min_size=1,
        max_size=3,
    )
)
def test_the_ods_count_is_at_least_calamines_grid(tables):
    built = ["".join(_row("".join(_ODS_CELL_KINDS[k](n) for k, n in cells), rep) for cells, rep in t) for t in tables]
    count, cells = _ods_count(*built), _calamine_cells(_ods(*built))
    assert count >= cells
    if all(k < 2 for t in tables for row, _ in t for k, _ in row):
        assert count == cells  # only values: calamine stores nothing outside its grid


def test_plain_sheets_are_charged_the_cells_they_span():
    # Every position within ZZ9999 (the plain form, no full scan): the rectangle still counts,
    # per sheet and summed over the workbook's sheets.
    from analysis.ingest.sheetxml import plain_extent

    far_corner = sheet_xml(b'<row r="1"><c r="A1"><v>1</v></c></row><row r="9999"><c r="ZZ9999"><v>2</v></c></row>')
    assert plain_extent(far_corner) == 9999 * 702
    small = sheet_xml(
        b'<row r="2"><c r="B2"><v>1</v></c><c r="D2"><v>1</v></c></row><row r="5"><c r="C5"><v>1</v></c></row>'
    )
    assert plain_extent(small) == 4 * 3
    with pytest.raises(LimitExceeded, match="has cells spanning"):
        inspect_package(_package({"xl/workbook.xml": _workbook(b""), "xl/worksheets/sheet1.xml": far_corner}), ".xlsx")
    # Two sheets of 3,000,000 cells each: under the limit one by one, over it together.
    three_million = sheet_xml(b'<row r="1"><c r="A1"><v>1</v></c></row><row r="5000"><c r="WL5000"><v>2</v></c></row>')
    assert plain_extent(three_million) == 5000 * 610
    parts = {"xl/workbook.xml": _workbook(b""), "xl/worksheets/sheet1.xml": three_million}
    assert inspect_package(_package(parts), ".xlsx").sheets
    with pytest.raises(LimitExceeded, match="has cells spanning"):
        inspect_package(_package({**parts, "xl/worksheets/sheet2.xml": three_million}), ".xlsx")


def test_cells_without_positions_count_where_the_parser_puts_them():
    # Rows opened inside a row: the parser starts its column again only at a row end, so the
    # cells of the inner rows run on in one long row.
    from analysis.ingest.sheetxml import used_extent

    inner = "".join("<row>" + "<c><v>1</v></c>" * 50 for _ in range(40))
    xml = sheet_xml(b'<row r="1"><c r="A1"><v>1</v></c></row><row r="3">' + inner.encode() + b"</row>" * 41)
    assert used_extent(xml) >= 3 * 2000


def test_a_workbook_with_a_large_compressible_part_passes(tmp_path):
    # Parts over 64 KB are searched while unpacked; a valid one passes end to end (text that
    # compresses a few times, under the zip-bomb ratio; test_package holds the search itself
    # to the output inflate keeps after its input is used up).
    import random

    rng = random.Random(7)
    words = [bytes(rng.choices(b"abcdefghijklmnop", k=6)) for _ in range(5000)]
    big = b"<a>" + b" ".join(rng.choices(words, k=500_000)) + b"</a>"
    assert _inspect(minimal_xlsx(tmp_path / "big.xlsx", extra={"docProps/custom.xml": big})).kind == "zip"


def test_a_hostile_position_reaches_no_terminal_as_a_control_character(tmp_path):
    # The refusal quotes the position it could not read; a character reference can make that
    # an escape sequence. The message is shown with it escaped, never sent to the terminal.
    from analysis.ingest.problems import Problem, format_problem

    path = minimal_xlsx(
        tmp_path / "esc.xlsx", sheet=sheet_xml(b'<row r="1"><c r="&#27;]0;pwned&#7;A1"><v>1</v></c></row>')
    )
    with pytest.raises(LimitExceeded, match="cannot be read") as caught:
        _inspect(path)
    shown = format_problem(Problem("error", "esc.xlsx", "", "", caught.value.args[0]), "en")
    assert "pwned" in shown and "\x1b" not in shown and "\x07" not in shown


def test_a_part_met_again_is_not_measured_again_but_still_checked(tmp_path, monkeypatch):
    from analysis.ingest import safety

    cells = b'<row r="1"><c r="A1"><v>1</v></c></row><row r="3"><c r="C3"><f>A1</f></c></row>'
    path = minimal_xlsx(tmp_path / "a.xlsx", sheet=sheet_xml(cells, dimension=b"A1:C3"))
    monkeypatch.setattr(safety, "_MEMO", safety._FactsMemo())
    measured: list[str] = []
    measure = safety._measure
    monkeypatch.setattr(safety, "_measure", lambda package, part: measured.append(part) or measure(package, part))
    first = _inspect(path)
    assert "xl/worksheets/sheet1.xml" in measured
    measured.clear()
    second = _inspect(path)
    assert measured == [] and second.sheets == first.sheets
    assert second.sheets["xl/worksheets/sheet1.xml"].formulas == ("C3",)
    # What is remembered are facts, not verdicts: a smaller budget refuses the same parts.
    with pytest.raises(LimitExceeded) as error:
        _inspect(path, Limits(max_cells=8))
    assert error.value.args[0].code == "cells_declared"


def test_a_part_with_a_remembered_size_and_checksum_but_other_bytes_is_read_afresh(tmp_path):
    import struct

    path = minimal_xlsx(tmp_path / "a.xlsx")
    _inspect(path)  # its parts are remembered now
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as package:
        info = package.getinfo("xl/worksheets/sheet1.xml")
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    data[start + info.compress_size // 2] ^= 0x55  # the directory still declares the old size and checksum
    with pytest.raises(UnreadableFile, match="sheet1.xml of the zip package is damaged"):
        inspect_package(bytes(data), ".xlsx")


def test_the_memo_of_parts_stays_within_its_bounds():
    from analysis.ingest.safety import PartFacts, _FactsMemo

    facts = PartFacts(sheet=False, dtd=False)
    cost = 30 + facts.size  # the key's packed bytes and what the facts hold
    memo = _FactsMemo(entries=3, max_bytes=4 * cost)
    for i in range(5):
        memo.put((8, i, 10, bytes(30)), facts)
    assert memo.get((8, 0, 10, bytes(30))) is None and memo.get((8, 4, 10, bytes(30))) is facts
    memo.put((8, 9, 10, bytes(3 * cost - facts.size)), facts)  # the oldest go until the bytes fit
    assert memo.get((8, 9, 10, bytes(3 * cost - facts.size))) is facts and memo.get((8, 3, 10, bytes(30))) is None
    assert memo._bytes <= memo.max_bytes
    memo.put((8, 10, 10, bytes(4 * cost)), facts)  # larger than the memo: never kept
    assert memo.get((8, 10, 10, bytes(4 * cost))) is None


# -- parts of note that must not cost what the checks are there to bound ---------------------------

# Unclosed cells typed as errors: the cell scans' `<c …>(.*?)</c>` runs to the end of the part for
# each one (quadratic). 20,000 of them are 180 KB (2 KB packed): ~15 s of scanning.
_UNCLOSED_CELLS = b'<c t="e">' * 20_000

_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)

_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
)


def _ods_with_comment(comment: bytes) -> bytes:
    """A one-cell .ods whose content.xml carries ``comment`` in an XML comment (calamine ignores it)."""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} office:version="1.3">'
        '<office:body><office:spreadsheet><table:table table:name="T"><table:table-row>'
        '<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>'
        "</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"
    ).encode()
    content = content.replace(b"<office:body>", b"<!-- " + comment + b" --><office:body>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        package.writestr("content.xml", content)
        package.writestr("META-INF/manifest.xml", _ODS_MANIFEST)
    return buffer.getvalue()


def _read_in_pool(path, timeout_s: float = 3.0):
    with ParserPool(Limits(timeout_s=timeout_s), workers=1) as pool:
        ((_, outcome),) = list(pool.read([path]))
    return outcome


def test_an_ods_that_mentions_sheetdata_is_not_scanned_as_an_xlsx_sheet(tmp_path):
    # The scans for an xlsx sheet's cells of note run only on xlsx sheets that passed every
    # check: an .ods mentioning sheetData (in a comment) is read in milliseconds, not timed out.
    path = tmp_path / "return.ods"
    path.write_bytes(_ods_with_comment(b"sheetData " + _UNCLOSED_CELLS))
    outcome = _read_in_pool(path)
    assert isinstance(outcome, RawWorkbook), outcome


@pytest.mark.parametrize(
    ("options", "code"),
    [({"doctype": b"<!DOCTYPE x []>"}, "xml_dtd"), ({"dimension": b"A1:XFD1048576"}, "cells_declared")],
)
def test_a_sheet_refused_by_its_prolog_or_dimension_is_refused_for_that_not_a_timeout(tmp_path, options, code):
    # The verdicts come before any scan for cells of note (which, on unclosed cells, must not
    # be quadratic either): refused for what the sheet is, not timed out.
    path = minimal_xlsx(tmp_path / "r.xlsx", sheet=sheet_xml(b"<!--" + _UNCLOSED_CELLS + b"-->", **options))
    outcome = _read_in_pool(path)
    assert isinstance(outcome, UnreadableFile) and getattr(outcome.args[0], "code", None) == code, outcome


def _deep_size(facts) -> int:
    return (
        sys.getsizeof(facts.formulas)
        + sum(sys.getsizeof(ref) for ref in (facts.formulas or ()))
        + sys.getsizeof(facts.errors)
        + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in (facts.errors or {}).items())
    )


def test_the_memo_keeps_within_its_byte_bound(tmp_path, monkeypatch):
    # A 60 KB sheet of formula cells packs into ~360 bytes but its facts hold ~3,300 strings:
    # the memo's bound counts what the facts hold, not only the key.
    from analysis.ingest import safety

    memo = safety._FactsMemo(entries=256, max_bytes=1 << 20)
    monkeypatch.setattr(safety, "_MEMO", memo)
    for i in range(16):
        cells = b'<row r="1">' + b'<c r="A1"><f/></c>' * 3300 + b"</row><!--%d-->" % i
        inspect_package(minimal_xlsx(tmp_path / f"{i}.xlsx", sheet=sheet_xml(cells)).read_bytes(), ".xlsx")
    kept = sum(_deep_size(facts) for facts in memo._facts.values())
    assert kept <= memo.max_bytes, f"{kept:,} bytes kept, {memo._bytes:,} accounted"
