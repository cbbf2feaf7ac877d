"""Builders of hostile and broken input files, made from scratch in a test's tmp_path.

Each builder writes one file and returns its path. The xlsx packages are written part by
part so that a test controls every byte a parser sees.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from pathlib import Path

import openpyxl

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    b"</Types>"
)
ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    b'Target="worksheets/sheet1.xml"/>'
    b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
_PROLOG = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
SECRET_PATH = "/etc/passwd"  # what the XXE file tries to pull in


def sheet_xml(
    cells: bytes = b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
    dimension: bytes = b"A1",
    doctype: bytes = b"",
    tail: bytes = b"",
) -> bytes:
    return (
        _PROLOG + doctype + b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<dimension ref="' + dimension + b'"/><sheetData>' + cells + b"</sheetData>" + tail + b"</worksheet>"
    )


def shared_strings_xml(text: bytes = b"hello", doctype: bytes = b"") -> bytes:
    return (
        _PROLOG + doctype + b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'count="1" uniqueCount="1"><si><t>' + text + b"</t></si></sst>"
    )


def minimal_xlsx(
    path: Path, sheet: bytes | None = None, shared_strings: bytes | None = None, extra: dict[str, bytes] | None = None
) -> Path:
    """A one-sheet xlsx package written part by part (A1 = 'hello' unless told otherwise)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
        package.writestr("_rels/.rels", ROOT_RELS)
        package.writestr("xl/workbook.xml", _WORKBOOK)
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        package.writestr("xl/worksheets/sheet1.xml", sheet if sheet is not None else sheet_xml())
        package.writestr("xl/sharedStrings.xml", shared_strings if shared_strings is not None else shared_strings_xml())
        for name, data in (extra or {}).items():
            package.writestr(name, data)
    return path


def _laughs() -> bytes:
    entities = b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1)) * 10) for i in range(1, 10))
    return b'<!DOCTYPE lolz [<!ENTITY lol0 "lol">' + entities + b"]>"


def billion_laughs_in_sheet(path: Path) -> Path:
    cells = b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    return minimal_xlsx(path, sheet=sheet_xml(cells, doctype=_laughs()))


def billion_laughs_in_shared_strings(path: Path) -> Path:
    return minimal_xlsx(path, shared_strings=shared_strings_xml(b"&lol9;", doctype=_laughs()))


def quadratic_blowup(path: Path) -> Path:
    """One 100 KB entity referenced 50,000 times: 5 GB of text from a 100 KB declaration."""
    doctype = b'<!DOCTYPE q [<!ENTITY a "' + b"A" * 100_000 + b'">]>'
    return minimal_xlsx(path, shared_strings=shared_strings_xml(b"&a;" * 50_000, doctype=doctype))


def external_entity(path: Path) -> Path:
    doctype = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://' + SECRET_PATH.encode() + b'">]>'
    return minimal_xlsx(path, shared_strings=shared_strings_xml(b"&xxe;", doctype=doctype))


def gigabyte_sheet(path: Path, size: int = 1 << 30) -> Path:
    """A sheet that unpacks to ``size`` bytes (1 GiB: blanks in an XML comment) in a ~1 MB zip."""
    path.parent.mkdir(parents=True, exist_ok=True)
    head = (
        _PROLOG + b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<dimension ref="A1"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData><!--'
    )
    tail = b"--></worksheet>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
        package.writestr("_rels/.rels", ROOT_RELS)
        package.writestr("xl/workbook.xml", _WORKBOOK)
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        package.writestr("xl/sharedStrings.xml", shared_strings_xml())
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(head)
            block = b" " * (1 << 20)
            left = size - len(head) - len(tail)
            while left > 0:
                sheet.write(block[: min(left, len(block))])
                left -= len(block)
            sheet.write(tail)
    return path


def far_cell(path: Path, honest_dimension: bool = True) -> Path:
    """A tiny workbook with values in A1 and XFD1048576 (the last cell of a sheet).

    With ``honest_dimension=False`` the sheet's ``<dimension>`` is patched to claim ``A1``
    only, so that a check of the declared dimension alone would let it through.
    """
    book = openpyxl.Workbook()
    book.active["A1"] = 1
    book.active["XFD1048576"] = 2
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    if not honest_dimension:
        data = repack(
            data,
            {"xl/worksheets/sheet1.xml": lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', xml)},
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def repack(data: bytes, edits: dict) -> bytes:
    """The zip package ``data`` with some parts replaced: ``{name: function(old bytes) -> new bytes}``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename in edits:
                body = edits[info.filename](body)
            target.writestr(info.filename, body)
    return out.getvalue()


def with_macros(source: Path, path: Path) -> Path:
    """``source`` (an xlsx) saved as .xlsm with a VBA project part, as Excel does."""
    data = repack(source.read_bytes(), {})
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        parts = {info.filename: package.read(info.filename) for info in package.infolist()}
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"MACRO-PAYLOAD" * 40
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, body in parts.items():
            package.writestr(name, body)
    return path


# -- an encrypted (password-protected) workbook --------------------------------------------------

_FREE, _END, _FAT, _NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _dir_entry(name: str, kind: int, child: int = _NONE, right: int = _NONE, start: int = _END, size: int = 0) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<III", _NONE, right, child)
        + b"\0" * 16
        + b"\0" * 4
        + b"\0" * 16
        + struct.pack("<IQ", start, size)
    )


def encrypted_workbook(path: Path) -> Path:
    """What Excel writes for a workbook with an open password: an OLE compound file holding
    the streams ``EncryptionInfo`` and ``EncryptedPackage`` (MS-OFFCRYPTO), named .xlsx."""
    sector = 512
    stream = 4096  # at the mini-stream cutoff, so both streams live in ordinary sectors
    per_stream = stream // sector
    fat = [_FAT, _END]  # sector 0: the FAT itself; sector 1: the directory
    for first in (2, 2 + per_stream):
        fat += [first + i + 1 for i in range(per_stream - 1)] + [_END]
    fat += [_FREE] * (sector // 4 - len(fat))
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", _FREE) * 108
    )
    directory = (
        _dir_entry("Root Entry", 5, child=1)
        + _dir_entry("EncryptionInfo", 2, right=2, start=2, size=stream)
        + _dir_entry("EncryptedPackage", 2, start=2 + per_stream, size=stream)
        + _dir_entry("", 0)
    )
    body = header + struct.pack(f"<{len(fat)}I", *fat) + directory
    body += (b"\x04\x00\x04\x00\x40\x00\x00\x00" + b"\0" * (stream - 8)) + bytes(range(256)) * (stream // 256)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


_FAR = b"XFD1048576"
_A1 = b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
# Sheet XML that spells positions in ways a text search for r="…" misses; each spans far more
# cells than --max-cells allows, and the declared dimension says A1. Built by sheet_variant.
SHEET_VARIANTS: dict[str, bytes] = {
    "single_quotes": _A1 + b"<row r='1048576'><c r='" + _FAR + b"'><v>2</v></c></row>",
    "spaces_around_equals": _A1 + b'<row r = "1048576"><c r = "' + _FAR + b'"><v>2</v></c></row>',
    "tabs_and_newlines": _A1 + b'<row\tr\t=\t"1048576"><c\nr\n=\n"' + _FAR + b'"><v>2</v></c></row>',
    "lower_case": _A1 + b'<row r="1048576"><c r="xfd1048576"><v>2</v></c></row>',
    "character_reference": _A1 + b'<row r="1048576"><c r="&#88;FD1048576"><v>2</v></c></row>',
    "gt_in_attribute": _A1 + b'<row r="1048576"><c foo=">" r="' + _FAR + b'"><v>2</v></c></row>',
    "prefixed_elements": _A1 + b'<x:row xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'r="1048576"><x:c r="' + _FAR + b'"><x:v>2</x:v></x:c></x:row>',
    # Row 1048576 holds 16 cells without r: columns A…P by order.
    "cells_without_r": _A1 + b'<row r="1048576">' + b"<c><v>1</v></c>" * 16 + b"</row>",
    # Row 1, 100,000 rows without r, then one row of 60 cells without r: 100,002 × 60 cells.
    "rows_without_r": _A1 + b"<row/>" * 100_000 + b"<row>" + b"<c><v>1</v></c>" * 60 + b"</row>",
    "single_quoted_dimension": b"",  # see sheet_variant: the dimension itself declares the far cell
}


def sheet_variant(path: Path, name: str) -> Path:
    """A one-sheet workbook whose sheet XML is the variant ``name`` of :data:`SHEET_VARIANTS`."""
    if name == "single_quoted_dimension":
        xml = sheet_xml(_A1).replace(b'<dimension ref="A1"/>', b"<dimension ref = 'A1:" + _FAR + b"'/>")
    else:
        xml = sheet_xml(SHEET_VARIANTS[name])
    return minimal_xlsx(path, sheet=xml)
