"""The zip package reader that the safety checks and the cell reader share."""

import io
import os
import struct
import zipfile
import zlib

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


def _small_parts_with_a_huge_packed_tail(parts: int, tail_mb: int) -> bytes:
    """``parts`` directory entries sharing one local entry: ~100 bytes unpacked, ``tail_mb`` MB
    packed (a deflate stream followed by bytes inflate never reaches)."""
    content = b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = deflate.compress(content) + deflate.flush() + os.urandom(1024) * (tail_mb * 1024)
    crc, first = zlib.crc32(content), b"xl/workbook.xml"
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(packed), len(content), len(first), 0)
    data = local + first + packed
    central = b""
    for name in [first] + [b"p%d.bin" % i for i in range(parts - 1)]:
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(packed), len(content), len(name),
            0, 0, 0, 0, 0, 0,
        ) + name  # fmt: skip
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, parts, parts, len(central), len(data), 0)
    return data + central + end


def test_the_content_key_of_a_small_part_is_small():
    # A part of 100 bytes can have megabytes behind its deflate stream, and many directory
    # entries can point at it: its key must not copy and hash all that.
    from analysis.ingest.package import SMALL_PART_BYTES, PackageReader, zip_directory

    data = _small_parts_with_a_huge_packed_tail(parts=2, tail_mb=4)
    reader = PackageReader(data, zip_directory(data))
    for name in reader.names:
        key = reader.content_key(name)
        packed = 0 if key is None else len(key[3])
        assert packed <= SMALL_PART_BYTES, (
            f"{name}: a key of {packed:,} packed bytes for {reader.infos[name].file_size} bytes"
        )
