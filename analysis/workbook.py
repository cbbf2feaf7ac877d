"""Reading spreadsheets into plain grids of cell values (the input edge of the ingest).

python-calamine parses xlsx, xls and ods several times faster than openpyxl (see the
README's performance section). Calamine silently drops a formula cell that has no cached
value, so for xlsx files the sheet XML is also scanned for such cells: they are reported
instead of being read as blank answers. Every file passes the checks of
:mod:`analysis.safety` before the parser sees it.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath

import python_calamine
from defusedxml import ElementTree as SafeET

from analysis.safety import DEFAULT_LIMITS, LimitExceeded, Limits, Package, UnreadableFile, inspect_package

__all__ = ["Grid", "RawWorkbook", "UnreadableFile", "cell_name", "read_workbook", "SPREADSHEET_SUFFIXES"]

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_MB = 1 << 20
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def cell_name(row: int, col: int) -> str:
    """Return the A1-style name of the cell at 0-based ``row`` and ``col`` (``(13, 3)`` → ``D14``)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


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
    notes: tuple[str, ...] = ()  # warnings about the file itself (e.g. macros found and ignored)

    @property
    def file(self) -> str:
        return self.path.name


def read_workbook(path: Path, limits: Limits = DEFAULT_LIMITS,
                  skip: Callable[[str], bool] | None = None) -> RawWorkbook:
    """Check the spreadsheet at ``path`` against ``limits``, then read every sheet.

    The checks of :func:`analysis.safety.inspect_package` always run first (on every part,
    skipped sheets included); the parser only sees files that pass them. This function does
    not isolate the parser: untrusted files should be read through :mod:`analysis.isolation`.

    Parameters
    ----------
    skip
        Sheets (by name) whose cells the caller will not look at: they are listed as empty
        grids marked ``unread`` and never parsed.

    Raises
    ------
    UnreadableFile
        If the file is empty, is not the spreadsheet its name says, breaks a limit
        (:class:`~analysis.safety.LimitExceeded`) or the parser rejects it.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SPREADSHEET_SUFFIXES:
        raise UnreadableFile(
            f"not a spreadsheet: expected one of {', '.join(SPREADSHEET_SUFFIXES)}, got {suffix or 'no extension'}"
        )
    data = _read_bounded(path, limits)
    package = inspect_package(data, suffix, limits)
    missing_values = _formulas_without_value(data, package) if package.worksheets else {}
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
                rows = sheet.to_python(skip_empty_area=True)
                top, left = sheet.start or (0, 0)
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
        raise UnreadableFile(
            "the workbook is password-protected; remove the password and save it again"
        ) from None
    except (python_calamine.CalamineError, ValueError, OSError) as error:
        raise UnreadableFile(f"the spreadsheet could not be parsed ({_short(error)})") from None
    return RawWorkbook(path=path, sheets=sheets, notes=package.notes)


def _read_bounded(path: Path, limits: Limits) -> bytes:
    """The file's bytes, refused unread when it is larger than ``max_file_mb``."""
    limit = int(limits.max_file_mb * _MB)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError as error:
        raise UnreadableFile(f"the file cannot be read ({error.strerror or error})") from None
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise LimitExceeded(
                f"the file is {size / _MB:,.1f} MB, more than the limit of {limits.describe('max_file_mb')}; "
                "nothing from it was parsed", "max_file_mb")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, max(size + 1 - total, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as error:
        raise UnreadableFile(f"the file cannot be read ({error.strerror or error})") from None
    finally:
        os.close(fd)
    if total > limit:  # it grew while being read
        raise LimitExceeded(f"the file is larger than the limit of {limits.describe('max_file_mb')}; "
                            "nothing from it was parsed", "max_file_mb")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _formulas_without_value(data: bytes, package: Package) -> dict[str, tuple[str, ...]]:
    """Find formula cells with no cached value in an xlsx package, by sheet name."""
    by_part = {part: cells for part, xml in package.worksheets.items()
               if _HAS_FORMULA_RE.search(xml) or _HAS_NS_FORMULA_RE.search(xml)
               if (cells := tuple(_empty_formula_cells(xml)))}
    if not by_part:
        return {}
    # Only now are sheet names needed: map each worksheet part back to its name.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zipped:
            workbook = SafeET.fromstring(zipped.read("xl/workbook.xml"))
            rels = SafeET.fromstring(zipped.read("xl/_rels/workbook.xml.rels"))
    except (zipfile.BadZipFile, KeyError, SafeET.ParseError, OSError, ValueError):
        # The parser proper reports a broken package; nothing more to say here.
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_NS_PKG_REL}Relationship")}
    found: dict[str, tuple[str, ...]] = {}
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_NS_REL}id"), "")
        part = str(PurePosixPath("xl") / target) if not target.startswith("/") else target[1:]
        part = os.path.normpath(part).replace(os.sep, "/")
        if part in by_part:
            found[sheet.get("name", "")] = by_part[part]
    return found


# A formula element <f>, <f t="shared" …/> or with a namespace prefix (<x:f>); not <formula1>
# of a data validation. Two literal-led patterns are several times faster than one general one.
_HAS_FORMULA_RE = re.compile(rb"<f[ >/]")
_HAS_NS_FORMULA_RE = re.compile(rb":f[ >/]")
_CELL_RE = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF_RE = re.compile(rb'\br="([A-Z]+[0-9]+)"')
_F_RE = re.compile(rb"<(?:\w+:)?f\b")
_V_RE = re.compile(rb"<(?:\w+:)?v>\s*[^<\s]")


def _empty_formula_cells(xml: bytes) -> list[str]:
    cells = []
    for match in _CELL_RE.finditer(xml):
        body = match.group(2) or b""
        if _F_RE.search(body) and not _V_RE.search(body):
            ref = _REF_RE.search(match.group(1))
            cells.append(ref.group(1).decode() if ref else "?")
    return cells


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:160]
