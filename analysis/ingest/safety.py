"""Limits and pre-parse checks that keep an ingest of untrusted workbooks bounded.

Workbooks arrive by e-mail from outside the research team. Before any parser sees a file,
:func:`check_location` and :func:`inspect_package` look at it from the outside: where it
lives, its size, its zip directory (sizes, compression ratio, number of parts, encryption),
the ``<dimension>`` each sheet declares, document type declarations (the door of XML bombs
and external entities) and macros. A file that breaks a limit becomes one
:class:`LimitExceeded` naming the limit and the option that raises it; the parser never
runs on it. Parsing itself happens in worker processes with a memory limit and a timeout
(:mod:`analysis.ingest.isolation`), which catches whatever these checks cannot see.
"""

from __future__ import annotations

import os
import re
import stat
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TypeVar
from xml.parsers import expat

from defusedxml.common import DTDForbidden

from analysis.ingest.package import (
    SMALL_PART_BYTES,
    ZIP_MAGIC,
    ContentKey,
    PackageReader,
    UnreadableFile,
    ZipEntry,
    zip_directory,
)
from analysis.ingest.problems import Message, Text
from analysis.ingest.sheetxml import (
    UnreadablePosition,
    as_utf8,
    declared_cells,
    error_cells,
    formulas_without_value,
    plain_extent,
    used_extent,
)

__all__ = [
    "DEFAULT_LIMITS",
    "LimitExceeded",
    "Limits",
    "Package",
    "UnreadableFile",
    "UnsafeEnvironment",
    "check_location",
    "check_xml_defences",
    "inspect_package",
]

_MB = 1 << 20
_Number = TypeVar("_Number", int, float)
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
# Parts that make a zip package another format to a parser that guesses the format (it tries
# the next when one fails): in an xlsx, OpenDocument and xlsb parts; in an ods, Excel's.
_FOREIGN_PARTS = {
    "ods": frozenset({"xl/workbook.xml", "xl/workbook.bin"}),
    "excel": frozenset({"content.xml", "mimetype", "xl/workbook.bin"}),
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted OOXML workbook is an OLE compound file holding these streams (MS-OFFCRYPTO).
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
# Small parts compress extremely well (repeated tags); the ratio only means something for big ones.
_RATIO_FLOOR = _MB
# How far into a sheet's XML the <dimension> element is looked for.
_HEAD_BYTES = 64 * 1024
_DTD_RE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)
_ROOT_RE = re.compile(rb"<[^!?/\s]")  # the start of the first element: the prolog ends there


class LimitExceeded(UnreadableFile):
    """A file that breaks one of the :class:`Limits`; ``limit`` is the option that raises it."""

    def __init__(self, message: Message | str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit

    def __reduce__(self) -> tuple:
        return (type(self), (self.args[0], self.limit))


class UnsafeEnvironment(RuntimeError):
    """The XML defences the ingest relies on are missing from this Python environment."""


# Units in English and Japanese (the limit is said inside a message in either language).
_UNITS_JA = {"MB": "MB", "×": "倍", "cells": "セル", "parts": "個", "s": "秒"}


def _limit(default: _Number, option: str, unit: str, help_text: str) -> _Number:
    assert unit in _UNITS_JA, unit  # every unit has its Japanese word
    return field(default=default, metadata={"option": option, "unit": unit, "help": help_text})


@dataclass(frozen=True)
class Limits:
    """What one input file may cost. Defaults fit survey workbooks with a wide margin.

    Every limit has a command-line option of the same name (``--max-cells`` …) so that a
    user who trusts a large file can raise it.
    """

    max_file_mb: float = _limit(50, "--max-file-mb", "MB", "size of one input file on disk")
    max_uncompressed_mb: float = _limit(
        256, "--max-uncompressed-mb", "MB", "everything in one workbook's zip package, unpacked"
    )
    max_member_mb: float = _limit(128, "--max-member-mb", "MB", "one part of a zip package (e.g. a sheet), unpacked")
    max_ratio: float = _limit(
        100, "--max-ratio", "×", "unpacked ÷ packed size of one part larger than 1 MB (zip bombs)"
    )
    max_cells: int = _limit(
        5_000_000, "--max-cells", "cells", "cells the sheets of one workbook span (rows × columns, summed over sheets)"
    )
    max_members: int = _limit(2_000, "--max-members", "parts", "parts in one zip package")
    worker_memory_mb: int = _limit(
        1024, "--worker-memory-mb", "MB", "memory a parser worker may allocate beyond its start-up footprint"
    )
    timeout_s: float = _limit(60, "--timeout", "s", "time to parse one file")

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise ValueError(f"limit {item.metadata['option']} must be a positive number, got {value!r}")

    def describe(self, name: str) -> Text:
        """A limit's value with the option that raises it, in both languages:
        ``5,000,000セル(--max-cells)`` / ``5,000,000 cells (--max-cells)``."""
        item = next(f for f in fields(self) if f.name == name)
        value = getattr(self, name)
        shown = f"{value:,}" if isinstance(value, int) else f"{value:,g}"
        unit, option = item.metadata["unit"], item.metadata["option"]
        return Text(f"{shown}{_UNITS_JA[unit]}({option})", f"{shown}{' ' if unit != '×' else ''}{unit} ({option})")


DEFAULT_LIMITS = Limits()


def check_xml_defences() -> None:
    """Fail with a clear message unless defusedxml is importable and openpyxl uses it.

    openpyxl protects against XML bombs and external entities only when defusedxml is
    installed (it does not depend on it), and turns that off when ``OPENPYXL_DEFUSEDXML``
    is set to anything but ``True``.
    """
    try:
        import defusedxml  # noqa: F401
    except ImportError:
        raise UnsafeEnvironment(
            "defusedxml is not installed, so XML bombs and external entities in a workbook would not be "
            "refused; install the toolkit with its dependencies (pip install -e .) or `pip install defusedxml`"
        ) from None
    import openpyxl

    if not getattr(openpyxl, "DEFUSEDXML", False):
        raise UnsafeEnvironment(
            "openpyxl is not using defusedxml (is OPENPYXL_DEFUSEDXML set to something other than True?); "
            "unset OPENPYXL_DEFUSEDXML before ingesting workbooks from outside"
        )


def check_location(path: Path, raw_dir: Path) -> Message | None:
    """Why ``path`` must not be opened at all (``None`` when it may be).

    A symbolic link may point anywhere (``/dev/zero``, another user's files); a FIFO or a
    device would block or never end.
    """
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            if not Path(path).resolve().is_relative_to(Path(raw_dir).resolve()):
                return Message.of("link_outside")
            info = os.stat(path)
    except OSError as error:
        return Message.of("cannot_open", reason=str(error.strerror or error))
    if not stat.S_ISREG(info.st_mode):
        return Message.of("not_regular_file")
    return None


@dataclass(frozen=True)
class Package:
    """What the pre-parse checks learnt about a file.

    ``sheets`` holds what the checks read off each worksheet part of an xlsx package (among
    it the cells the cell reader puts back); ``notes`` are
    warnings for the user (e.g. macros found and ignored); ``reader`` unpacks other parts of a
    zip package that passed the checks.
    """

    kind: str  # "zip" or "ole"
    notes: tuple[Message, ...] = ()
    sheets: dict[str, PartFacts] = field(default_factory=dict)
    reader: PackageReader | None = None


def inspect_package(data: bytes, suffix: str, limits: Limits = DEFAULT_LIMITS) -> Package:
    """Check a file's bytes against ``limits`` before any parser sees them.

    Parameters
    ----------
    data
        The whole file (its size was checked against ``max_file_mb`` before reading).
    suffix
        The file's extension in lower case (``.xlsx``, ``.xlsm``, ``.xls``, ``.ods``).

    Raises
    ------
    UnreadableFile
        The file is empty, not what its name says, password-protected or damaged.
    LimitExceeded
        The file breaks a limit; the message names it and the option that raises it.
    """
    if not data:
        raise UnreadableFile(Message.of("empty_file"))
    if suffix == ".xls":
        if data.startswith(_OLE_MAGIC):
            return Package(kind="ole")
        if data.startswith(ZIP_MAGIC):
            raise UnreadableFile(Message.of("xlsx_named_xls"))
        raise UnreadableFile(Message.of("xls_not_ole"))
    if data.startswith(_OLE_MAGIC):
        if _ENCRYPTED_PACKAGE in data or _ENCRYPTION_INFO in data:
            raise UnreadableFile(Message.of("encrypted_ole"))
        raise UnreadableFile(Message.of("xls_named_other", suffix=suffix))
    if not data.startswith(ZIP_MAGIC) and not data.startswith(_EMPTY_ZIP_MAGIC):
        raise UnreadableFile(Message.of("not_zip", suffix=suffix))
    infos = zip_directory(data, suffix)
    _check_directory(infos, limits)
    package = PackageReader(data, infos)
    notes = _macro_notes(package.names)
    if suffix != ".ods" and "xl/workbook.xml" not in package.names:
        raise UnreadableFile(_not_a_workbook(package.names, suffix))
    # A package must not hold another format's parts: the parser could read those instead.
    foreign = sorted(n for n in package.names if n.lower() in _FOREIGN_PARTS["ods" if suffix == ".ods" else "excel"])
    if foreign:
        raise UnreadableFile(Message.of("mixed_package", part=foreign[0], suffix=suffix))
    if suffix == ".ods":
        _check_ods(package, limits)
        _check_declarations(package, {})
        return Package(kind="zip", notes=notes, reader=package)
    facts: dict[str, PartFacts] = {}
    sheets = _check_worksheets(package, limits, facts)
    _check_declarations(package, facts, checked=set(sheets))
    return Package(kind="zip", notes=notes, sheets=sheets, reader=package)


def _check_directory(infos: Sequence[ZipEntry], limits: Limits) -> None:
    if len(infos) > limits.max_members:
        raise LimitExceeded(
            Message.of("too_many_parts", n=f"{len(infos):,}", limit=limits.describe("max_members")), "max_members"
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        if info.filename in seen:
            raise UnreadableFile(Message.of("duplicate_part", part=info.filename))
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            raise UnreadableFile(Message.of("encrypted_parts"))
        size = info.file_size
        total += size
        if size > limits.max_member_mb * _MB:
            message = Message.of(
                "part_too_large", part=info.filename, mb=f"{size / _MB:,.1f}", limit=limits.describe("max_member_mb")
            )
            raise LimitExceeded(message, "max_member_mb")
        if size >= _RATIO_FLOOR and size > limits.max_ratio * max(info.compress_size, 1):
            ratio = size / max(info.compress_size, 1)
            message = Message.of(
                "zip_bomb",
                part=info.filename,
                ratio=f"{ratio:,.0f}",
                mb=f"{size / _MB:,.1f}",
                packed_mb=f"{info.compress_size / _MB:,.2f}",
                limit=limits.describe("max_ratio"),
            )
            raise LimitExceeded(message, "max_ratio")
    if total > limits.max_uncompressed_mb * _MB:
        message = Message.of(
            "package_too_large", mb=f"{total / _MB:,.1f}", limit=limits.describe("max_uncompressed_mb")
        )
        raise LimitExceeded(message, "max_uncompressed_mb")


def _macro_notes(names: set[str]) -> tuple[Message, ...]:
    found = sorted(
        n for n in names if n.lower().endswith("vbaproject.bin") or n.lower().startswith(("xl/macrosheets/", "basic/"))
    )
    if not found:
        return ()
    return (Message.of("macros", parts=tuple(found[:3])),)


def _not_a_workbook(names: set[str], suffix: str) -> Message:
    if "content.xml" in names:
        return Message.of("ods_named_other", suffix=suffix)
    if "word/document.xml" in names or "ppt/presentation.xml" in names:
        return Message.of("office_document", suffix=suffix)
    if "xl/workbook.bin" in names:
        return Message.of("xlsb")
    return Message.of("zip_not_workbook", suffix=suffix)


def _check_ods(package: PackageReader, limits: Limits) -> None:
    if "META-INF/manifest.xml" in package.names:
        manifest = package.read("META-INF/manifest.xml")  # its size was checked against the limits
        if b"encryption-data" in manifest:
            raise UnreadableFile(Message.of("encrypted"))
    _check_ods_tables(package, limits)


# python-calamine 0.9.1 (calamine 0.37) reads at most this many rows and columns of a table.
_ODS_MAX_ROWS = 1_048_576
_ODS_MAX_COLUMNS = 16_384
# calamine matches names as spelt (prefix included), not by namespace; so does the count.
_ODS_CELLS = frozenset({"table:table-cell", "table:covered-table-cell"})
# Attributes that give a cell a value to calamine; so does office:value-type="string".
_ODS_VALUE_ATTRS = frozenset(
    {"office:value", "office:string-value", "office:date-value", "office:time-value", "office:boolean-value"}
)


def _check_ods_tables(package: PackageReader, limits: Limits) -> None:
    """Refuse an OpenDocument workbook whose tables make the parser allocate more than
    ``max_cells`` cells, summed over its tables.

    Every part with table rows in it is measured, not only ``content.xml``: a part can reach
    the parser under another name in the directory (a zip Unicode-path field), so what is
    measured is decided by the content, as for xlsx.
    """
    budget = limits.max_cells
    for part in sorted(package.names):
        if _holds(package, part, "table:table-row"):
            budget -= _ods_tables_extent(part, package.read(part), budget, limits)


class _OdsRow:
    """One ``table:table-row`` as calamine reads it: the cells it stores (empty cells only when
    another cell follows them, ``pending`` until then) and the first and last stored position
    holding a value and a formula."""

    __slots__ = ("formulas", "pending", "repeats", "stored", "values")

    def __init__(self, repeats: int) -> None:
        self.repeats = repeats
        self.stored = self.pending = 0
        self.values: tuple[int, int] | None = None
        self.formulas: tuple[int, int] | None = None

    def add_cell(self, attrib: dict[str, str]) -> None:
        # Runs for every cell of the workbook: written for speed (no calls on the usual path).
        stored = self.stored
        if self.pending:  # the empty cells before this one are stored
            stored = min(stored + self.pending, _ODS_MAX_COLUMNS)
            self.pending = 0
        text = attrib.get("table:number-columns-repeated")
        repeats = 1 if text is None else _ods_repeats(text)
        if stored + repeats > _ODS_MAX_COLUMNS:
            repeats = _ODS_MAX_COLUMNS - stored
        value = not _ODS_VALUE_ATTRS.isdisjoint(attrib) or attrib.get("office:value-type") == "string"
        formula = bool(attrib.get("table:formula"))
        if not (value or formula):
            self.stored, self.pending = stored, repeats  # stored only if another cell follows
            return
        if repeats > 0:  # a repeated cell with a value is stored that many times
            span = (stored, stored + repeats - 1)
            if value:
                self.values = span if self.values is None else (self.values[0], span[1])
            if formula:
                self.formulas = span if self.formulas is None else (self.formulas[0], span[1])
        self.stored = stored + repeats


class _OdsGrid:
    """The rectangle calamine builds for a table's values (or formulas): from the first row
    holding one to the last, every row repeated as often as it says (empty rows between
    included), and from the leftmost such cell to the rightmost."""

    __slots__ = ("left", "right", "rows", "seen")

    def __init__(self) -> None:
        self.rows = self.seen = 0  # rows up to the last with content; rows since the first
        self.left, self.right = _ODS_MAX_COLUMNS, -1

    def add(self, repeats: int, span: tuple[int, int] | None) -> None:
        if span is None and self.right < 0:
            return  # empty rows before the first content are not allocated
        self.seen += repeats
        if span is not None:  # empty rows after the last content are not either
            self.rows = self.seen
            self.left, self.right = min(self.left, span[0]), max(self.right, span[1])

    @property
    def cells(self) -> int:
        return self.rows * (self.right - self.left + 1) if self.right >= 0 else 0


def _ods_repeats(text: str | None) -> int:
    """A repeat count (1 when absent). calamine fails on a count it cannot read, so any
    number will do then."""
    if text is None:
        return 1
    try:
        return max(int(text), 0)
    except ValueError:
        return 1


class _OdsTables:
    """Expat handlers that count, table by table, the cells calamine allocates (see
    :func:`_ods_tables_extent`)."""

    def __init__(self, part: str, budget: int, limits: Limits) -> None:
        self.part, self.budget, self.limits = part, budget, limits
        self.spent = 0  # by the tables read whole
        self.depth = 0  # of open tables
        self.name = ""  # of the outermost open table
        self.total_rows = self.stored = 0
        self.values, self.formulas = _OdsGrid(), _OdsGrid()
        self.rows: list[_OdsRow] = []  # open rows, innermost last

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if tag in _ODS_CELLS:
            if self.rows:
                self.rows[-1].add_cell(attrib)
        elif tag == "table:table-row":
            if self.depth:
                repeats = _ods_repeats(attrib.get("table:number-rows-repeated"))
                repeats = min(repeats, _ODS_MAX_ROWS - self.total_rows)  # calamine's cap
                self.total_rows += repeats
                self.rows.append(_OdsRow(repeats))
        elif tag == "table:table":
            self.depth += 1
            if self.depth == 1:
                self.name = attrib.get("table:name", "")
                self.total_rows = self.stored = 0
                self.values, self.formulas = _OdsGrid(), _OdsGrid()

    def end(self, tag: str) -> None:
        if tag == "table:table-row" and self.rows:
            row = self.rows.pop()
            self.stored += row.stored
            self.values.add(row.repeats, row.values)
            self.formulas.add(row.repeats, row.formulas)
            cells = self.cells
            if cells > self.budget - self.spent:  # stop here: the rest cannot make it smaller
                where = f"{self.part} ({self.name[:40]})" if self.name else self.part
                raise _too_many_cells(where, cells, "has cells spanning", self.limits)
        elif tag == "table:table" and self.depth:
            self.depth -= 1
            if self.depth == 0:
                self.spent += self.cells

    @property
    def cells(self) -> int:
        return max(self.stored, self.values.cells, self.formulas.cells)


def _forbid_dtd(name: str, *_: object) -> None:
    raise DTDForbidden(name, "", "")


def _ods_tables_extent(part: str, content: bytes, budget: int, limits: Limits) -> int:
    """Cells calamine allocates for the tables in one part: for each table the most of the
    cells it stores while reading rows (each row once) and of the rectangles it then builds
    for values and for formulas. Raise :class:`LimitExceeded` as soon as that passes ``budget``.

    Names are read as spelt, as calamine reads them (expat without namespaces: also 3× faster
    than ElementTree's parser, which costs more than the count). Where calamine would fail or
    skip (a row inside a row, a table inside a table) the count errs on the high side: every
    row in a table counts for its outermost table, every cell for its innermost row.
    """
    tables = _OdsTables(part, budget, limits)
    parser = expat.ParserCreate()
    # defusedxml's defence, as expat handlers: no document type declaration, so no entities.
    parser.StartDoctypeDeclHandler = _forbid_dtd
    parser.EntityDeclHandler = _forbid_dtd
    parser.StartElementHandler = tables.start
    parser.EndElementHandler = tables.end
    try:
        parser.Parse(content, True)
    except DTDForbidden:
        raise UnreadableFile(Message.of("xml_dtd", part=part)) from None
    except expat.ExpatError as error:
        # calamine's reader is lenient (it does not check end tags); what cannot be measured
        # is not parsed.
        reason = f"{part}: {expat.ErrorString(error.code)}, line {error.lineno}"
        raise UnreadableFile(Message.of("spreadsheet_unparsable", reason=reason)) from None
    return tables.spent


def _check_declarations(
    package: PackageReader, facts: dict[str, PartFacts], checked: AbstractSet[str] = frozenset()
) -> None:
    """The declaration check of every part a parser may read as XML, but ``checked``: by its
    name, or by its first bytes (a relationship can point a parser at a part of any name)."""
    for part in sorted(package.names - checked):
        known = _facts(package, part, facts)
        dtd = known.dtd
        if dtd is None and part.lower().endswith((".xml", ".rels")):
            dtd = _declares_dtd(package.head(part, 1024), package, part)
        if dtd:
            raise UnreadableFile(Message.of("xml_dtd", part=part))


def _declares_dtd(head: bytes, package: PackageReader, name: str) -> bool:
    """Whether a part's prolog carries a document type declaration.

    Spreadsheet programs never write one; entity declarations are how billion-laughs,
    quadratic blow-up and external-entity (XXE) attacks work. A declaration must come before
    the root element, so only the prolog is searched: the head of the part, or the whole part
    (bounded by the size limits) when comments pad the prolog past the head.
    """
    text = as_utf8(head)
    root = _ROOT_RE.search(text)
    if root is None:
        text = as_utf8(package.read(name))
        root = _ROOT_RE.search(text)
    prolog = text[: root.start()] if root else text
    return b"<!" in prolog and _DTD_RE.search(prolog) is not None


@dataclass(frozen=True)
class PartFacts:
    """What the checks read off one part of a package: facts of its content alone, so that a
    part met again byte for byte (the unchanged sheets of a template) is not read again.

    ``dtd`` is known for parts that look like XML and for worksheets (``None`` otherwise);
    the rest only for worksheets (parts holding ``sheetData``): the cells the ``<dimension>``
    declares, the cells they span when every cell names its place (``plain``; otherwise
    ``xml`` is kept, to be measured against what is left of the budget), and, once the sheet
    passed every check, the cells of note to the cell reader (``formulas`` without a value,
    ``errors``; ``None`` until then: such scans never run on a part the checks refuse).
    """

    sheet: bool
    dtd: bool | None
    declared: int = 0
    plain: int | None = None
    formulas: tuple[str, ...] | None = None
    errors: Mapping[str, str] | None = None
    xml: bytes | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        """Roughly what the facts hold in memory, in bytes (the cells of note dominate)."""
        notes = (*(self.formulas or ()), *(self.errors or {}), *(self.errors or {}).values())
        return 200 + sum(60 + len(text) for text in notes)


class _FactsMemo:
    """Facts of parts already checked, by their exact packed bytes (with the method, size and
    checksum their directory entry declares, which the unpacked content matched): equal keys
    unpack to equal content, so a forged checksum cannot borrow another part's facts. The
    least recently used go first; the memo stays within ``entries`` and ``max_bytes`` (keys
    and facts)."""

    def __init__(self, entries: int = 256, max_bytes: int = 8 * _MB) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self._facts: OrderedDict[ContentKey, PartFacts] = OrderedDict()
        self._bytes = 0

    def get(self, key: ContentKey) -> PartFacts | None:
        facts = self._facts.get(key)
        if facts is not None:
            self._facts.move_to_end(key)
        return facts

    def put(self, key: ContentKey, facts: PartFacts) -> None:
        cost = len(key[3]) + facts.size
        if key in self._facts or cost > self.max_bytes:
            return
        self._facts[key] = facts
        self._bytes += cost
        while len(self._facts) > self.entries or self._bytes > self.max_bytes:
            old, gone = self._facts.popitem(last=False)
            self._bytes -= len(old[3]) + gone.size

    def clear(self) -> None:
        self._facts.clear()
        self._bytes = 0


_MEMO = _FactsMemo()


def _facts(package: PackageReader, part: str, facts: dict[str, PartFacts]) -> PartFacts:
    """The facts of ``part`` (measured once per package, and once per content while the memo
    holds it). A worksheet's are remembered only once it passed the checks (:func:`_noted`)."""
    if part in facts:
        return facts[part]
    key = package.content_key(part)
    known = _MEMO.get(key) if key is not None else None
    if known is None:
        known = _measure(package, part)
        if key is not None and not known.sheet:
            _MEMO.put(key, known)
    facts[part] = known
    return known


def _measure(package: PackageReader, part: str) -> PartFacts:
    """The facts of one part that every check needs: scans linear in its size, nothing else."""
    if not _holds(package, part, "sheetData"):
        head = package.head(part, 1024)
        return PartFacts(sheet=False, dtd=_declares_dtd(head, package, part) if _looks_like_xml(head) else None)
    content = package.read(part)
    head = content[:_HEAD_BYTES]
    xml = as_utf8(content)
    plain = plain_extent(xml)
    return PartFacts(
        sheet=True,
        dtd=_declares_dtd(head, package, part),
        declared=declared_cells(head),
        plain=plain,
        xml=xml if plain is None else None,
    )


def _noted(package: PackageReader, part: str, known: PartFacts) -> PartFacts:
    """``known`` with the cells of note of a worksheet that passed the checks, remembered."""
    if known.formulas is not None and known.errors is not None:
        return known
    xml = known.xml if known.xml is not None else as_utf8(package.read(part))
    noted = replace(known, formulas=formulas_without_value(xml), errors=error_cells(xml), xml=None)
    key = package.content_key(part)
    if key is not None and known.plain is not None:  # a measured extent depends on the budget
        _MEMO.put(key, noted)
    return noted


def _check_worksheets(package: PackageReader, limits: Limits, facts: dict[str, PartFacts]) -> dict[str, PartFacts]:
    """Check the declared and actual extent of every part the parser could read as a worksheet;
    return their facts by part, with the cells of note.

    Those are the parts that hold a ``sheetData`` element, whatever their names: a package can
    point the parser at a part in ways a reader of its relationships does not see (python-calamine
    joins targets to ``xl/`` literally and looks them up in any case; another workbook part can be
    named in ``_rels/.rels``; a zip entry can be spelt with backslashes or renamed by a
    Unicode-path extra field), so what is measured is decided by the content, not by the names.
    """
    budget = limits.max_cells
    sheets: dict[str, PartFacts] = {}
    for part in sorted(package.names):
        known = _facts(package, part, facts)
        if not known.sheet:
            continue
        if known.dtd:
            raise UnreadableFile(Message.of("xml_dtd", part=part))
        if known.declared > budget:
            raise _too_many_cells(part, known.declared, "declares", limits)
        # The declared dimension may lie; the parser sizes its grid from the cells themselves.
        try:
            actual = known.plain if known.plain is not None else used_extent(known.xml or b"", budget)
        except UnreadablePosition as position:
            message = Message.of("cell_position_unreadable", part=part, value=str(position))
            raise LimitExceeded(message, "max_cells") from None
        if actual > budget:
            raise _too_many_cells(part, actual, "has cells spanning", limits)
        budget -= max(known.declared, actual)
        sheets[part] = known
    # Only now, every sheet within the limits, are they scanned for the cells of note.
    return {part: _noted(package, part, known) for part, known in sheets.items()}


def _holds(package: PackageReader, part: str, element: str) -> bool:
    """Whether a part has ``element``'s name in it (``sheetData``: a worksheet's cells;
    ``table:table-row``: an OpenDocument table's), in UTF-8 or, when the part starts as UTF-16
    XML does, in UTF-16. A small part is read whole once (the checks need it again); a large
    one is searched piece by piece."""
    small = package.infos[part].file_size <= SMALL_PART_BYTES
    start = package.read(part)[:4] if small else package.head(part, 4)
    names = [element.encode()]
    if start[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in start:
        names += [element.encode("utf-16-le"), element.encode("utf-16-be")]
    return package.contains(part, names)


def _looks_like_xml(head: bytes) -> bool:
    """Whether a part's first bytes are XML's (a ``<`` after a byte-order mark and spaces)."""
    return as_utf8(head).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _too_many_cells(part: str, cells: int, verb: str, limits: Limits) -> LimitExceeded:
    code = "cells_declared" if verb == "declares" else "cells_spanning"
    return LimitExceeded(Message.of(code, part=part, n=f"{cells:,}", limit=limits.describe("max_cells")), "max_cells")
