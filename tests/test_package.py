"""The zip package reader that the safety checks and the cell reader share."""

import io
import zipfile

import pytest

from analysis.collect.template import build_workbook, workbook_bytes
from analysis.ingest.package import PackageReader, UnreadableFile, zip_directory


def _reader(data: bytes) -> PackageReader:
    return PackageReader(data, zip_directory(data))


def test_worksheet_parts_and_their_sheet_names(codebook):
    data = workbook_bytes(build_workbook(codebook, "self_assessment", "ja"))
    reader = _reader(data)
    parts = sorted(n for n in reader.names if n.startswith("xl/worksheets/"))
    names = reader.sheet_names(set(parts))
    assert sorted(names) == parts
    # The names are the workbook's own, in any order of its parts.
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        workbook = zipped.read("xl/workbook.xml").decode()
    assert {"説明", "基本情報", "回答", "_meta"} <= set(names.values())
    assert all(f'name="{name}"' in workbook for name in names.values())


def test_sheet_names_of_a_package_without_a_workbook_part_are_none():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    reader = _reader(buffer.getvalue())
    assert reader.sheet_names({"xl/worksheets/sheet1.xml"}) == {}


def test_a_part_that_does_not_match_its_directory_is_damaged():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zipped:
        zipped.writestr("a.xml", "<a>hello</a>")
    data = buffer.getvalue().replace(b"hello", b"HELLO")
    with pytest.raises(UnreadableFile, match="part a.xml of the zip package is damaged"):
        _reader(data).read("a.xml")


@pytest.mark.parametrize("where", [0, (1 << 20) - 4, 3 * (1 << 20) - 9])
def test_a_large_part_is_searched_piece_by_piece(where):
    # Parts over 64 KB are searched as they are unpacked (1 MB at a time): a needle across
    # two pieces, or in the output inflate still holds when its input is used up, is found.
    text = b"x" * where + b"sheetData" + b"y" * (3 * (1 << 20) - where)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("big.xml", text)
        zipped.writestr("plain.bin", b"z" * (2 << 20))
    reader = _reader(buffer.getvalue())
    assert reader.contains("big.xml", (b"sheetData",))
    assert not reader.contains("plain.bin", (b"sheetData",))
    assert "big.xml" not in reader._whole  # never held whole


def test_a_large_part_that_lies_about_its_content_is_damaged():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("big.xml", b"a" * (1 << 20))
    data = bytearray(buffer.getvalue())
    infos = zip_directory(bytes(data))
    lying = [infos[0]._replace(CRC=infos[0].CRC ^ 1)]
    with pytest.raises(UnreadableFile, match="checksum"):
        PackageReader(bytes(data), lying).contains("big.xml", (b"sheetData",))
