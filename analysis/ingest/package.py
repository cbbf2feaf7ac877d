"""One reader of a workbook's zip package, shared by the safety checks and the cell reader.

:func:`zip_directory` reads the package's directory and :class:`PackageReader` unpacks its parts
from the bytes already in memory, each bounded by the size its directory entry declares, for
:mod:`analysis.ingest.safety` (which checks every part, by its content) and
:mod:`analysis.ingest.workbook`, which names the sheets of the cells it puts back
(:meth:`PackageReader.sheet_names`, from the workbook's relationships).
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
import zlib
from collections.abc import Sequence
from typing import NamedTuple

from defusedxml import ElementTree as SafeET

from analysis.ingest.problems import Message

__all__ = [
    "ContentKey",
    "PackageReader",
    "SMALL_PART_BYTES",
    "UnreadableFile",
    "ZIP_MAGIC",
    "ZipEntry",
    "damaged",
    "zip_directory",
]

ZIP_MAGIC = b"PK\x03\x04"
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class UnreadableFile(Exception):
    """A file that cannot be read as a spreadsheet; the message says why and what to do."""


class ZipEntry(NamedTuple):
    """One entry of a zip directory (the fields of :class:`zipfile.ZipInfo` used here)."""

    filename: str
    flag_bits: int
    compress_type: int
    CRC: int
    compress_size: int
    file_size: int
    header_offset: int


_EOCD = struct.Struct("<4sHHHHIIH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_ZIP64_FIELD = 0xFFFFFFFF
_UNICODE_PATH = 0x7075  # Info-ZIP Unicode Path extra field
SMALL_PART_BYTES = 64 * 1024  # parts up to this size are kept once read whole
# A part's content, exactly: compression method, declared CRC and size, packed bytes.
ContentKey = tuple[int, int, int, bytes]
_PIECE_BYTES = 1 << 20  # how much of a large part is unpacked at a time when searching it


def zip_directory(data: bytes, suffix: str = ".xlsx") -> Sequence[ZipEntry]:
    """The entries of a zip package's central directory.

    Only the layout every spreadsheet program writes is read: one end record at the very end
    (its comment exactly as long as it says), the directory right before it, no zip64 records,
    nothing before the package, no entry renamed by a Unicode-path extra field. Readers
    disagree about anything else (python-calamine's zip library and Python's zipfile pick
    different directories from a package glued to another, or from a zip64 record that points
    elsewhere; the former renames an entry by its Unicode-path field), so the checks could
    look at one package and the parser read another: such a file is refused.
    """
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if end < 0 or end + 22 > len(data):
        raise UnreadableFile(Message.of("zip_directory_broken"))
    entries: list[ZipEntry] = []
    _, disk, cd_disk, _, count, cd_size, cd_offset, comment = _EOCD.unpack_from(data, end)
    simple = (
        disk == cd_disk == 0
        and end + 22 + comment == len(data)
        and cd_offset + cd_size == end
        and count != 0xFFFF
        and _ZIP64_FIELD not in (cd_size, cd_offset)
        and data[end - 20 : end - 16] != b"PK\x06\x07"
    )
    position = cd_offset
    while simple and len(entries) < count:
        if position + 46 > end:
            raise UnreadableFile(Message.of("zip_directory_broken"))
        (signature, _, _, flags, method, _, _, crc, packed, size, name_length, extra_length, comment_length, disk_start,
         _, _, offset) = _CENTRAL.unpack_from(data, position)  # fmt: skip
        if signature != b"PK\x01\x02":
            raise UnreadableFile(Message.of("zip_directory_broken"))
        if _ZIP64_FIELD in (packed, size, offset) or disk_start != 0:
            simple = False
            break
        start = position + 46
        name = data[start : start + name_length].decode("utf-8" if flags & 0x800 else "cp437", "replace")
        # A Unicode-path extra field renames the entry for some readers, not for others.
        if extra_length and _UNICODE_PATH in _extra_ids(data[start + name_length : start + name_length + extra_length]):
            simple = False
            break
        entries.append(ZipEntry(name, flags, method, crc, packed, size, offset))
        position = start + name_length + extra_length + comment_length
    if not simple:
        raise UnreadableFile(Message.of("zip_layout_unusual", suffix=suffix))
    if position != end:
        raise UnreadableFile(Message.of("zip_directory_broken"))
    return entries


def _extra_ids(extra: bytes) -> set[int]:
    """The header ids of a zip entry's extra fields."""
    ids, position = set(), 0
    while position + 4 <= len(extra):
        header, size = struct.unpack_from("<HH", extra, position)
        ids.add(header)
        position += 4 + size
    return ids


class PackageReader:
    """Unpack parts of a zip package held in memory, bounded by the sizes of its directory.

    zipfile's reader costs tens of microseconds per part in Python overhead; the ingest
    reads ten parts per workbook, so deflate is driven directly here. A part whose data
    does not match its directory entry (size or CRC) is reported as damaged. Small parts read
    whole are kept (the checks look at most of them more than once).
    """

    def __init__(self, data: bytes, infos: Sequence[ZipEntry]) -> None:
        self.data = memoryview(data)
        self.infos = {info.filename: info for info in infos}
        self.names = set(self.infos)
        self._whole: dict[str, bytes] = {}

    def _compressed(self, info: ZipEntry) -> memoryview:
        offset = info.header_offset
        if bytes(self.data[offset : offset + 4]) != ZIP_MAGIC or offset + 30 > len(self.data):
            raise damaged(info.filename, "no local header where the directory points")
        name_length, extra_length = struct.unpack_from("<HH", self.data, offset + 26)
        start = offset + 30 + name_length + extra_length
        if start + info.compress_size > len(self.data):
            raise damaged(info.filename, "the file ends inside it")
        return self.data[start : start + info.compress_size]

    def content_key(self, name: str) -> ContentKey | None:
        """What identifies part ``name``'s content exactly without unpacking it: its method, its
        declared checksum and size, and its packed bytes (``None`` for a part larger than
        ``SMALL_PART_BYTES``, packed or unpacked, or packed in another way)."""
        info = self.infos[name]
        small = info.file_size <= SMALL_PART_BYTES and info.compress_size <= SMALL_PART_BYTES
        if not small or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return None
        return (info.compress_type, info.CRC, info.file_size, bytes(self._compressed(info)))

    def head(self, name: str, size: int) -> bytes:
        """The first ``size`` unpacked bytes of part ``name``."""
        if name in self._whole:
            return self._whole[name][:size]
        info = self.infos[name]
        if info.compress_type == zipfile.ZIP_STORED:
            return bytes(self._compressed(info)[:size])
        if info.compress_type != zipfile.ZIP_DEFLATED:
            return self._fallback(info)[:size]
        try:
            return zlib.decompressobj(-15).decompress(self._compressed(info), size)
        except zlib.error as error:
            raise damaged(name, error) from None

    def read(self, name: str) -> bytes:
        """All of part ``name``: never more than its directory entry declares (checked against the limits)."""
        if name in self._whole:
            return self._whole[name]
        info = self.infos[name]
        if info.compress_type == zipfile.ZIP_STORED:
            out = bytes(self._compressed(info))
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            try:
                out = zlib.decompressobj(-15).decompress(self._compressed(info), info.file_size + 1)
            except zlib.error as error:
                raise damaged(name, error) from None
        else:
            return self._fallback(info)
        if len(out) != info.file_size or zlib.crc32(out) != info.CRC:
            raise damaged(name, "its content does not match the size or checksum in the zip directory")
        if len(out) <= SMALL_PART_BYTES:
            self._whole[name] = out
        return out

    def contains(self, name: str, needles: Sequence[bytes]) -> bool:
        """Whether part ``name`` holds any of ``needles``, unpacked piece by piece (a large part,
        an image, is never held whole) and checked against its directory entry."""
        info = self.infos[name]
        if name in self._whole or info.file_size <= SMALL_PART_BYTES or info.compress_type != zipfile.ZIP_DEFLATED:
            data = self.read(name)
            return any(needle in data for needle in needles)
        overlap = max(len(needle) for needle in needles) - 1
        inflater, source = zlib.decompressobj(-15), bytes(self._compressed(info))
        found, size, crc, tail, pending = False, 0, 0, b"", source
        try:
            while not inflater.eof:
                # With the input used up, inflate may still hold output (a long match at the end).
                piece = inflater.decompress(pending, _PIECE_BYTES)
                pending = inflater.unconsumed_tail
                if not piece and not pending:
                    break  # the data ends before the stream does: damaged (below)
                size, crc = size + len(piece), zlib.crc32(piece, crc)
                if size > info.file_size:
                    break
                found = found or any(needle in tail + piece for needle in needles)
                tail = piece[-overlap:] if overlap else b""
        except zlib.error as error:
            raise damaged(name, error) from None
        if size != info.file_size or crc != info.CRC:
            raise damaged(name, "its content does not match the size or checksum in the zip directory")
        return found

    def _fallback(self, info: ZipEntry) -> bytes:
        # Other compression methods (rare in spreadsheets): zipfile stops at the declared size
        # and checks the CRC.
        try:
            with zipfile.ZipFile(io.BytesIO(self.data)) as zipped:
                return zipped.read(info.filename)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
            raise damaged(info.filename, error) from None

    def sheet_names(self, parts: set[str]) -> dict[str, str]:
        """The sheet name of each of ``parts`` (worksheet parts), by part; only for packages that
        passed the checks of :func:`analysis.ingest.safety.inspect_package` (no DTD anywhere)."""
        if not parts:
            return {}
        try:
            workbook = SafeET.fromstring(self.read(_WORKBOOK))
            rels = SafeET.fromstring(self.read(_WORKBOOK_RELS))
        except (KeyError, UnreadableFile, SafeET.ParseError, ValueError):
            return {}  # the parser proper reports a broken package
        targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_NS_PKG_REL}Relationship")}
        found: dict[str, str] = {}
        for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
            part = _part_of(targets.get(sheet.get(f"{_NS_REL}id"), ""))
            if part in parts:
                found[part] = sheet.get("name", "")
        return found


def _part_of(target: str) -> str:
    """The part a target of the workbook's relationships names (relative to ``xl/`` unless absolute)."""
    return posixpath.normpath(target[1:] if target.startswith("/") else "xl/" + target)


def damaged(name: str, why: object) -> UnreadableFile:
    """The error for part ``name`` that cannot be unpacked, with why."""
    return UnreadableFile(Message.of("part_damaged", part=name, why=str(why)[:80] or type(why).__name__))
