"""Reading spreadsheets into plain grids of cell values (the input edge of the ingest).

python-calamine parses xlsx, xls and ods several times faster than openpyxl (see the
README's performance section). Calamine silently drops a formula cell that has no cached
value, so for xlsx files the sheet XML is also scanned for such cells: they are reported
instead of being read as blank answers.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import python_calamine
from defusedxml import ElementTree as SafeET

__all__ = ["Grid", "RawWorkbook", "UnreadableFile", "cell_name", "read_workbook", "SPREADSHEET_SUFFIXES"]

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class UnreadableFile(Exception):
    """A file that cannot be read as a spreadsheet; the message says why and what to do."""


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

    @property
    def n_cols(self) -> int:
        return self.left + max((len(r) for r in self.rows), default=0)


@dataclass(frozen=True)
class RawWorkbook:
    """The sheets of one workbook, keyed by sheet name, in workbook order."""

    path: Path
    sheets: dict[str, Grid] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return self.path.name


def read_workbook(path: Path) -> RawWorkbook:
    """Read every sheet of the spreadsheet at ``path``.

    Raises
    ------
    UnreadableFile
        If the file is empty, is not the spreadsheet its name says, or the parser rejects it.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SPREADSHEET_SUFFIXES:
        raise UnreadableFile(
            f"not a spreadsheet: expected one of {', '.join(SPREADSHEET_SUFFIXES)}, got {suffix or 'no extension'}"
        )
    with path.open("rb") as handle:
        head = handle.read(8)
    if not head:
        raise UnreadableFile("the file is empty (0 bytes); save the workbook again from Excel")
    expected = _OLE_MAGIC if suffix == ".xls" else _ZIP_MAGIC
    if not head.startswith(expected[: len(head)]) or len(head) < 4:
        kind = "an OLE2 (.xls) file" if suffix == ".xls" else "a zip package (.xlsx/.ods)"
        raise UnreadableFile(
            f"not a spreadsheet: a {suffix} file must be {kind}; this one is not "
            "(a CSV or text file renamed?). Open it in Excel and save it as .xlsx"
        )
    missing_values: dict[str, tuple[str, ...]] = {}
    if suffix in (".xlsx", ".xlsm"):
        missing_values = _formulas_without_value(path)
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        try:
            sheets: dict[str, Grid] = {}
            for meta in book.sheets_metadata:
                if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                    continue
                sheet = book.get_sheet_by_name(meta.name)
                rows = sheet.to_python(skip_empty_area=True)
                top, left = sheet.start or (0, 0)
                sheets[meta.name] = Grid(
                    name=meta.name,
                    rows=rows,
                    top=top,
                    left=left,
                    hidden=meta.visible != python_calamine.SheetVisibleEnum.Visible,
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
    return RawWorkbook(path=path, sheets=sheets)


def _formulas_without_value(path: Path) -> dict[str, tuple[str, ...]]:
    """Find formula cells with no cached value in an xlsx package, by sheet name."""
    try:
        with zipfile.ZipFile(path) as package:
            names = set(package.namelist())
            if "xl/workbook.xml" not in names:
                return {}
            workbook = SafeET.fromstring(package.read("xl/workbook.xml"))
            rels = SafeET.fromstring(package.read("xl/_rels/workbook.xml.rels"))
            targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_NS_PKG_REL}Relationship")}
            found: dict[str, tuple[str, ...]] = {}
            for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
                target = targets.get(sheet.get(f"{_NS_REL}id"), "")
                member = str(PurePosixPath("xl") / target) if not target.startswith("/") else target[1:]
                if member not in names:
                    continue
                xml = package.read(member)
                if b"<f" not in xml and b":f" not in xml:
                    continue
                cells = tuple(_empty_formula_cells(xml))
                if cells:
                    found[sheet.get("name", "")] = cells
            return found
    except (zipfile.BadZipFile, KeyError, SafeET.ParseError, OSError):
        # The parser proper reports a broken package; nothing more to say here.
        return {}


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
