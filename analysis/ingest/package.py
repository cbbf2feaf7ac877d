"""One reader of a workbook's zip package, shared by the safety checks and the cell reader.

:func:`zip_directory` reads the package's directory and :class:`PackageReader` unpacks its parts
from the bytes already in memory, each bounded by the size its directory entry declares. The
worksheet parts and their sheet names are resolved here, from the workbook's relationships,
for :mod:`analysis.ingest.safety` (which checks every worksheet part) and
:mod:`analysis.ingest.workbook` (which names the sheets of the cells it puts back).
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Sequence
from typing import NamedTuple

from defusedxml import ElementTree as SafeET

from analysis.ingest.problems import Message

__all__ = [
    "PackageReader",
    "UnreadableFile",
    "XML_ATTRS",
    "ZIP_MAGIC",
    "ZipEntry",
    "damaged",
    "unescape",
    "zip_directory",
]

ZIP_MAGIC = b"PK\x03\x04"
# An element's attributes as XML allows them: values in single or double quotes (either may
# hold '>'), spaces around '='. Shared with the sheet checks of analysis.ingest.safety.
# Possessive (Python 3.11+): a start tag that never ends costs one pass, not a backtracking storm.
XML_ATTRS = rb"""((?:[^>"']++|"[^"]*+"|'[^']*+')*+)"""
_SHEET_RE = re.compile(rb"<(?:[\w.-]+:)?sheet(?=[\s/>])" + XML_ATTRS + rb">")
_RELATIONSHIP_RE = re.compile(rb"<(?:[\w.-]+:)?Relationship(?=[\s/>])" + XML_ATTRS + rb">")
_ANY_ATTR_RE = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# A worksheet target every reader resolves to the same part: xl/worksheets/<name>.xml.
_PLAIN_TARGET_RE = re.compile(rb"/?(?:xl/)?worksheets/([A-Za-z0-9_-]+\.xml)")
_WORKSHEET_TYPE = b"/worksheet"
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class UnreadableFile(Exception):
    """A file that cannot be read as a spreadsheet; the message says why and what to do."""


class _Entry(NamedTuple):
    """One entry of a zip directory (the fields of :class:`zipfile.ZipInfo` used here)."""

    filename: str
    flag_bits: int
    compress_type: int
    CRC: int
    compress_size: int
    file_size: int
    header_offset: int


# A directory entry as read here or, for unusual packages, by zipfile.
ZipEntry = _Entry | zipfile.ZipInfo
_EOCD = struct.Struct("<4sHHHHIIH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_ZIP64_FIELD = 0xFFFFFFFF


def zip_directory(data: bytes) -> Sequence[ZipEntry]:
    """The entries of a zip package's central directory.

    The common case (one disk, no zip64, nothing before the package) is read directly,
    several times faster than :class:`zipfile.ZipFile`; anything else goes to zipfile.
    """
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    entries: list[_Entry] = []
    if end >= 0 and end + 22 <= len(data):
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
            if position + 46 > end or data[position : position + 4] != b"PK\x01\x02":
                simple = False
                break
            fields = _CENTRAL.unpack_from(data, position)
            flags, method, crc, packed, size = fields[3], fields[4], fields[7], fields[8], fields[9]
            name_length, extra_length, comment_length, offset = fields[10], fields[11], fields[12], fields[16]
            if _ZIP64_FIELD in (packed, size, offset) or fields[13] != 0:
                simple = False
                break
            raw = data[position + 46 : position + 46 + name_length]
            name = raw.decode("utf-8" if flags & 0x800 else "cp437", "replace")
            entries.append(_Entry(name, flags, method, crc, packed, size, offset))
            position += 46 + name_length + extra_length + comment_length
        if simple and position == end:
            return entries
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zipped:
            return zipped.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise UnreadableFile(Message.of("zip_directory_broken")) from None


class PackageReader:
    """Unpack parts of a zip package held in memory, bounded by the sizes of its directory.

    zipfile's reader costs tens of microseconds per part in Python overhead; the ingest
    reads ten parts per workbook, so deflate is driven directly here. A part whose data
    does not match its directory entry (size or CRC) is reported as damaged.
    """

    def __init__(self, data: bytes, infos: Sequence[ZipEntry]) -> None:
        self.data = memoryview(data)
        self.infos = {info.filename: info for info in infos}
        self.names = set(self.infos)
        self._by_lower: dict[str, list[str]] = {}
        for name in self.infos:
            self._by_lower.setdefault(name.lower(), []).append(name)
        self._relations: tuple[list, list] | None = None
        self._marked = False  # the workbook part or its relationships hold a comment or a reference

    def _compressed(self, info: ZipEntry) -> memoryview:
        offset = info.header_offset
        if bytes(self.data[offset : offset + 4]) != ZIP_MAGIC or offset + 30 > len(self.data):
            raise damaged(info.filename, "no local header where the directory points")
        name_length, extra_length = struct.unpack_from("<HH", self.data, offset + 26)
        start = offset + 30 + name_length + extra_length
        if start + info.compress_size > len(self.data):
            raise damaged(info.filename, "the file ends inside it")
        return self.data[start : start + info.compress_size]

    def head(self, name: str, size: int) -> bytes:
        """The first ``size`` unpacked bytes of part ``name``."""
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
        return out

    def _fallback(self, info: ZipEntry) -> bytes:
        # Other compression methods (rare in spreadsheets): zipfile stops at the declared size
        # and checks the CRC.
        try:
            with zipfile.ZipFile(io.BytesIO(self.data)) as zipped:
                return zipped.read(info.filename)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
            raise damaged(info.filename, error) from None

    def worksheet_parts(self) -> list[str]:
        """Every part a parser may read as a worksheet: ``xl/worksheets/*.xml`` and every target of
        the workbook's relationships that is of type worksheet or that a sheet points to, spelt as
        the package's other readers spell it (normalised, or literally as python-calamine joins it,
        in any case), character references resolved or not. Read without an XML parser: the checks
        run before any parser does; when in doubt, a part is in."""
        parts = {n for n in self.names if n.startswith("xl/worksheets/") and n.endswith(".xml")}
        sheets, relationships = self._sheets_and_relationships()
        pointed = {value for attrs in sheets for local, value in attrs if local == b"id"}
        for attrs in relationships:
            ids = {value for local, value in attrs if local == b"Id"}
            types = [value for local, value in attrs if local == b"Type"]
            if not (ids & pointed or any(t.endswith(_WORKSHEET_TYPE) for t in types)):
                continue
            for local, value in attrs:
                if local == b"Target":
                    parts |= self._resolve(value)
        return sorted(parts)

    def plain_sheet_parts(self) -> list[tuple[str, str]] | None:
        """Each sheet's name and worksheet part, in workbook order, when the workbook says them so
        plainly that every reader agrees; ``None`` otherwise.

        Plainly means: no comment, CDATA or reference in the workbook part or its relationships,
        no attribute twice in an element, every sheet with one name (no line break or tab in it)
        and one relationship id, every id once, and each sheet's target ``worksheets/<name>.xml``
        (with or without ``/xl/``) naming a part that exists once, in any case. Whatever else a
        reader makes of these parts, a sheet it reads is named and placed as here. A caller that
        skips work for a sheet by its name must do all of it when this is ``None``.
        """
        sheets, relationships = self._sheets_and_relationships()
        if not sheets or self._marked:
            return None
        targets: dict[bytes, bytes] = {}
        for pairs in relationships:
            attrs = _strict(pairs)
            if attrs is None or b"Id" not in attrs or attrs[b"Id"] in targets:
                return None
            targets[attrs[b"Id"]] = attrs.get(b"Target", b"") if attrs.get(b"TargetMode") != b"External" else b""
        found: list[tuple[str, str]] = []
        seen: set[bytes] = set()
        for pairs in sheets:
            attrs = _strict(pairs)
            if attrs is None or b"name" not in attrs or b"id" not in attrs or attrs[b"id"] in seen:
                return None
            if any(space in attrs[b"name"] for space in (b"\t", b"\n", b"\r")):
                return None  # a parser may normalise these to spaces: names must read alike
            seen.add(attrs[b"id"])
            plain = _PLAIN_TARGET_RE.fullmatch(targets.get(attrs[b"id"], b""))
            part = "xl/worksheets/" + plain.group(1).decode() if plain else ""
            if part not in self.names or len(self._by_lower.get(part.lower(), ())) != 1:
                return None
            try:
                found.append((attrs[b"name"].decode("utf-8"), part))
            except UnicodeDecodeError:
                return None
        return found

    def _sheets_and_relationships(self) -> tuple[list[list[tuple[bytes, bytes]]], list[list[tuple[bytes, bytes]]]]:
        """The attributes (local name, value) of each ``<sheet>`` of the workbook part and each
        ``<Relationship>`` of its relationships, as written; read once."""
        if self._relations is None:
            texts = []
            for part in (_WORKBOOK, _WORKBOOK_RELS):
                try:
                    texts.append(self.read(part) if part in self.names else b"")
                except UnreadableFile:
                    texts.append(b"")
            self._marked = any(mark in text for text in texts for mark in (b"<!", b"&"))
            self._relations = (
                [_pairs(m.group(1)) for m in _SHEET_RE.finditer(texts[0])],
                [_pairs(m.group(1)) for m in _RELATIONSHIP_RE.finditer(texts[1])],
            )
        return self._relations

    def _resolve(self, target: bytes) -> set[str]:
        """The parts a relationship's target may name (see :meth:`worksheet_parts`)."""
        found: set[str] = set()
        for spelling in {target, unescape(target)}:
            text = spelling.decode("utf-8", "replace")
            literal = text[1:] if text.startswith("/") else "xl/" + text
            for candidate in (_part_of(text), literal):
                found.update(self._by_lower.get(candidate.lower(), ()))
        return found

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


def _pairs(attrs: bytes) -> list[tuple[bytes, bytes]]:
    """An element's attributes as (local name, value) pairs, as written (repeats kept)."""
    return [(name.rpartition(b":")[2], double or single) for name, double, single in _ANY_ATTR_RE.findall(attrs)]


def _strict(pairs: list[tuple[bytes, bytes]]) -> dict[bytes, bytes] | None:
    """Attributes by local name, or ``None`` when one repeats (readers differ on which wins)."""
    attrs = dict(pairs)
    return attrs if len(attrs) == len(pairs) else None


_CHAR_REF_RE = re.compile(rb"&#(x[0-9A-Fa-f]+|[0-9]+);")
_XML_ENTITIES = {b"&lt;": b"<", b"&gt;": b">", b"&quot;": b'"', b"&apos;": b"'"}


def unescape(value: bytes) -> bytes:
    """An attribute value with character references (``&#88;``) and XML's own entities resolved,
    as a parser sees it."""
    if b"&" not in value:
        return value

    def char(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        number = int(code[1:], 16) if code[:1] in (b"x", b"X") else int(code)
        return chr(number).encode("utf-8", "replace") if number < 0x110000 else b"?"

    value = _CHAR_REF_RE.sub(char, value)
    for entity, text in _XML_ENTITIES.items():
        value = value.replace(entity, text)
    return value.replace(b"&amp;", b"&")


def _part_of(target: str) -> str:
    """The part a target of the workbook's relationships names (relative to ``xl/`` unless absolute)."""
    return posixpath.normpath(target[1:] if target.startswith("/") else "xl/" + target)


def damaged(name: str, why: object) -> UnreadableFile:
    """The error for part ``name`` that cannot be unpacked, with why."""
    return UnreadableFile(Message.of("part_damaged", part=name, why=str(why)[:80] or type(why).__name__))
