"""Reading spreadsheets into plain grids of cell values (the input edge of the ingest).

python-calamine parses xlsx, xls and ods several times faster than openpyxl (see the
README's performance section). Calamine silently drops a formula cell that has no cached
value, and reads a cell holding an Excel error value (``#DIV/0!``, ``#N/A`` …) as an empty
string; so for xlsx files the sheet XML is also scanned for such cells. Formulas without a value
are listed on the grid, error values are put back in their cells as :class:`ErrorValue`, so that
validation reports both instead of reading blank answers. Every file passes the checks of
:mod:`analysis.ingest.safety` before the parser sees it.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import cast

import python_calamine
from defusedxml import ElementTree as SafeET

from analysis.ingest.package import PackageReader
from analysis.ingest.problems import Message, Text
from analysis.ingest.safety import DEFAULT_LIMITS, LimitExceeded, Limits, Package, UnreadableFile, inspect_package

__all__ = ["ErrorValue", "Grid", "RawWorkbook", "UnreadableFile", "cell_name", "read_workbook", "SPREADSHEET_SUFFIXES"]

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_MB = 1 << 20


def cell_name(row: int, col: int) -> str:
    """Return the A1-style name of the cell at 0-based ``row`` and ``col`` (``(13, 3)`` → ``D14``)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


@dataclass(frozen=True)
class ErrorValue:
    """An Excel error value (``#DIV/0!``, ``#N/A`` …) stored in a cell: never an answer."""

    code: str

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True)
class Grid:
    """The used range of one sheet: ``rows`` start at 0-based (``top``, ``left``)."""

    name: str
    rows: list[list[object]]
    top: int = 0
    left: int = 0
    hidden: bool = False
    formulas_without_value: tuple[str, ...] = ()
    unread: bool = False  # listed but not parsed: the caller said it would not look inside

    def cell(self, row: int, col: int) -> object:
        """Return the value at absolute 0-based ``row``, ``col`` (``""`` outside the used range)."""
        r, c = row - self.top, col - self.left
        if 0 <= r < len(self.rows) and 0 <= c < len(self.rows[r]):
            return self.rows[r][c]
        return ""

    @property
    def n_rows(self) -> int:
        """Number of rows from row 1 to the last used row."""
        return self.top + len(self.rows)

    @cached_property
    def n_cols(self) -> int:
        """Number of columns from column A to the last used one (grids are read-only: kept once known)."""
        return self.left + max((len(r) for r in self.rows), default=0)


@dataclass(frozen=True)
class RawWorkbook:
    """The sheets of one workbook, keyed by sheet name, in workbook order."""

    path: Path
    sheets: dict[str, Grid] = field(default_factory=dict)
    notes: tuple[object, ...] = ()  # warnings about the file itself (e.g. macros found and ignored)
    sha256: str = ""  # of the bytes parsed: the ingest's manifest, without reading the file again

    @property
    def file(self) -> str:
        return self.path.name


def read_workbook(
    path: Path, limits: Limits = DEFAULT_LIMITS, skip: Callable[[str], bool] | None = None
) -> RawWorkbook:
    """Check the spreadsheet at ``path`` against ``limits``, then read every sheet.

    The checks of :func:`analysis.ingest.safety.inspect_package` always run first (on every part,
    skipped sheets included); the parser only sees files that pass them. This function does
    not isolate the parser: untrusted files should be read through :mod:`analysis.ingest.isolation`.

    Parameters
    ----------
    skip
        Sheets (by name) whose cells the caller will not look at: they are listed as empty
        grids marked ``unread`` and never parsed.

    Raises
    ------
    UnreadableFile
        If the file is empty, is not the spreadsheet its name says, breaks a limit
        (:class:`~analysis.ingest.safety.LimitExceeded`) or the parser rejects it.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SPREADSHEET_SUFFIXES:
        raise UnreadableFile(
            Message.of(
                "not_a_spreadsheet_suffix",
                allowed=SPREADSHEET_SUFFIXES,
                suffix=Text(suffix or "拡張子なし", suffix or "no extension"),
            )
        )
    data = _read_bounded(path, limits)
    package = inspect_package(data, suffix, limits)
    missing_values, error_values = _cells_of_note(package) if package.sheets else ({}, {})
    if suffix == ".ods" and package.reader is not None:
        error_values = _ods_error_cells(package.reader)
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            sheets: dict[str, Grid] = {}
            for meta in book.sheets_metadata:
                if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                    continue
                hidden = meta.visible != python_calamine.SheetVisibleEnum.Visible
                if skip is not None and skip(meta.name):
                    sheets[meta.name] = Grid(name=meta.name, rows=[], hidden=hidden, unread=True)
                    continue
                sheet = book.get_sheet_by_name(meta.name)
                # The grid owns these lists and may put ErrorValue cells into them.
                rows = cast("list[list[object]]", sheet.to_python(skip_empty_area=True))
                top, left = sheet.start or (0, 0)
                if meta.name in error_values:
                    top, left = _put_errors(rows, top, left, error_values[meta.name])
                sheets[meta.name] = Grid(
                    name=meta.name,
                    rows=rows,
                    top=top,
                    left=left,
                    hidden=hidden,
                    formulas_without_value=missing_values.get(meta.name, ()),
                )
        finally:
            book.close()
    except python_calamine.PasswordError:
        raise UnreadableFile(Message.of("password_protected")) from None
    except (python_calamine.CalamineError, ValueError, OSError) as error:
        raise UnreadableFile(Message.of("spreadsheet_unparsable", reason=_short(error))) from None
    return RawWorkbook(path=path, sheets=sheets, notes=package.notes, sha256=hashlib.sha256(data).hexdigest())


def _read_bounded(path: Path, limits: Limits) -> bytes:
    """The file's bytes, refused unread when it is larger than ``max_file_mb``."""
    limit = int(limits.max_file_mb * _MB)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError as error:
        raise UnreadableFile(Message.of("cannot_read", reason=str(error.strerror or error))) from None
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise LimitExceeded(
                Message.of("file_too_large", size=f"{size / _MB:,.1f}", limit=limits.describe("max_file_mb")),
                "max_file_mb",
            )
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, max(size + 1 - total, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as error:
        raise UnreadableFile(Message.of("cannot_read", reason=str(error.strerror or error))) from None
    finally:
        os.close(fd)
    if total > limit:  # it grew while being read
        raise LimitExceeded(Message.of("file_grew_too_large", limit=limits.describe("max_file_mb")), "max_file_mb")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _cells_of_note(package: Package) -> tuple[dict[str, tuple[str, ...]], dict[str, dict[str, str]]]:
    """Formula cells with no cached value, and cells holding an error value, by sheet name."""
    formulas = {part: facts.formulas for part, facts in package.sheets.items() if facts.formulas}
    errors = {part: dict(facts.errors) for part, facts in package.sheets.items() if facts.errors}
    # Only now are sheet names needed: map each worksheet part of note back to its name.
    names = package.reader.sheet_names(set(formulas) | set(errors)) if package.reader is not None else {}
    return (
        {names[p]: c for p, c in formulas.items() if p in names},
        {names[p]: c for p, c in errors.items() if p in names},
    )


_NS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_NS_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_ODS_ERROR_RE = re.compile(rb"""value-type\s*=\s*["']error["']""")
_ODS_MAX_PLACES = 10_000  # error cells placed per workbook (repeated cells are expanded up to this)


def _ods_error_cells(reader: PackageReader) -> dict[str, dict[str, str]]:
    """Cells of an OpenDocument workbook whose value type is error (LibreOffice's
    ``calcext:value-type="error"``), by sheet name: calamine reads them as 0 or an empty string.

    Positions follow the table's rows and cells, repeats included; the package passed the
    size and DTD checks before this runs.
    """
    try:
        content = reader.read("content.xml")
    except (KeyError, UnreadableFile):
        return {}  # the parser proper reports a broken package
    if not _ODS_ERROR_RE.search(content):
        return {}
    found: dict[str, dict[str, str]] = {}
    placed = 0
    sheet, row, col = "", -1, 0
    try:
        for event, element in SafeET.iterparse(io.BytesIO(content), events=("start", "end")):
            tag = element.tag
            if event == "start":
                if tag == f"{_NS_TABLE}table":
                    sheet, row = element.get(f"{_NS_TABLE}name", ""), -1
                elif tag == f"{_NS_TABLE}table-row":
                    row, col = row + 1, 0
                continue
            if tag == f"{_NS_TABLE}table-row":
                row += int(element.get(f"{_NS_TABLE}number-rows-repeated", "1") or 1) - 1
                element.clear()
            elif tag in (f"{_NS_TABLE}table-cell", f"{_NS_TABLE}covered-table-cell"):
                repeat = int(element.get(f"{_NS_TABLE}number-columns-repeated", "1") or 1)
                if any(key.endswith("}value-type") and value == "error" for key, value in element.attrib.items()):
                    text = "".join(element.itertext()).strip() or "#ERROR"
                    for c in range(col, col + min(repeat, _ODS_MAX_PLACES - placed)):
                        found.setdefault(sheet, {})[cell_name(row, c)] = text
                        placed += 1
                col += repeat
    except (SafeET.ParseError, ValueError):
        return found  # the parser proper reports a broken package
    return found


def _put_errors(rows: list[list[object]], top: int, left: int, errors: dict[str, str]) -> tuple[int, int]:
    """Write each error value into ``rows`` at its cell; return the grid's (possibly moved) corner.

    Calamine reads error cells as empty strings but keeps them in the used range; the grid
    still grows (and its corner moves) for any error cell it left out.
    """
    places = {}
    for ref, code in errors.items():
        match = _A1_RE.fullmatch(ref)
        if match:
            col = 0
            for letter in match.group(1):
                col = col * 26 + ord(letter) - 64
            places[(int(match.group(2)) - 1, col - 1)] = code
    if not places:
        return top, left
    if not rows:
        top, left = min(r for r, _ in places), min(c for _, c in places)
    new_top, new_left = min(top, *(r for r, _ in places)), min(left, *(c for _, c in places))
    if (new_top, new_left) != (top, left):
        rows[:] = [[] for _ in range(top - new_top)] + [[""] * (left - new_left) + list(r) for r in rows]
        top, left = new_top, new_left
    for (r, c), code in places.items():
        r, c = r - top, c - left
        while len(rows) <= r:
            rows.append([])
        row = rows[r]
        if len(row) <= c:
            row.extend([""] * (c + 1 - len(row)))
        row[c] = ErrorValue(code)
    return top, left


_A1_RE = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:160]
