"""Problems found in input data, each pinned to a file, sheet and cell, and the
:class:`Source` of a value (where in which file it was read)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import NamedTuple

import pandas as pd

from analysis.output.safe import escape_control

__all__ = ["PROBLEM_COLUMNS", "Problem", "Source", "cell_order", "format_problem", "problems_frame"]

PROBLEM_COLUMNS = ["severity", "file", "sheet", "cell", "message"]


class Source(NamedTuple):
    """Where a value was read: file, sheet and cell (``""`` when unknown).

    Its string form, ``file!sheet!cell``, is the ``source`` column of the tidy tables. A sheet
    name holding ``!`` or ``'`` is quoted as in an Excel reference (``file!'a!b'!C3``, a quote
    doubled), so that :meth:`parse` gives back the same three parts; a cell name never holds
    either, and file names may (the sheet is found from the end).
    """

    file: str
    sheet: str = ""
    cell: str = ""

    def __str__(self) -> str:
        sheet = self.sheet
        if "!" in sheet or "'" in sheet:
            sheet = "'" + sheet.replace("'", "''") + "'"
        # The cell comes last, so that a sheet's prefix (cell "") plus a cell name is its source.
        return f"{self.file}!{sheet}!{self.cell}"

    @classmethod
    def parse(cls, text: object) -> Source:
        """The source whose string form is ``text``; text with fewer than two ``!`` is a file alone."""
        rest, bang, cell = str(text).rpartition("!")
        if not bang:
            return cls(cell)
        if rest.endswith("'"):
            start = _opening_quote(rest)
            if start is not None:
                return cls(rest[: start - 1], rest[start + 1 : -1].replace("''", "'"), cell)
        file, bang, sheet = rest.rpartition("!")
        return cls(file, sheet, cell) if bang else cls(str(text))

    def sort_key(self) -> tuple:
        """Order by file, sheet, then cell row by row (``A2`` before ``A10``)."""
        return (self.file, self.sheet, cell_order(self.cell))


def _opening_quote(rest: str) -> int | None:
    """Index of the quote opening the quoted sheet at the end of ``rest`` (``None``: not quoted)."""
    i = len(rest) - 2
    while i >= 0:
        if rest[i] != "'":
            i -= 1
        elif i > 0 and rest[i - 1] == "'":
            i -= 2  # a doubled quote inside the name
        else:
            return i if i > 0 and rest[i - 1] == "!" else None
    return None


def cell_order(cell: str) -> tuple[int, int, str]:
    """Sort key of a cell name: by row, then column (``B2`` < ``AA2`` < ``A10``)."""
    letters = "".join(ch for ch in cell if ch.isalpha())
    digits = "".join(ch for ch in cell if ch.isdigit())
    return (int(digits) if digits else 0, len(letters), letters)


@dataclass(frozen=True)
class Problem:
    """One problem: ``severity`` is ``error`` (the value did not land) or ``warning``."""

    severity: str
    file: str
    sheet: str
    cell: str
    message: str

    @classmethod
    def at(cls, severity: str, source: Source, message: str) -> Problem:
        """A problem at ``source``."""
        return cls(severity, source.file, source.sheet, source.cell, message)

    @property
    def where(self) -> str:
        """``file: sheet!cell`` (parts that are unknown are left out)."""
        place = self.sheet + (f"!{self.cell}" if self.cell else "") if self.sheet else self.cell
        return f"{self.file}: {place}" if place else self.file


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """Return problems as a frame with the columns of ``issues.csv``, in a stable order."""
    frame = pd.DataFrame([asdict(p) for p in problems], columns=PROBLEM_COLUMNS, dtype="str")
    return frame.reset_index(drop=True)


def format_problem(problem: Problem) -> str:
    """One line for the terminal: ``ERROR   file: sheet!cell: message``."""
    # Names come from respondents' files: control characters are shown, never sent to the terminal.
    return escape_control(f"{problem.severity.upper():7} {problem.where}: {problem.message}")
