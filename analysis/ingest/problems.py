"""Problems found in input data, each pinned to a file, sheet and cell."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pandas as pd

from analysis.output.safe import escape_control

__all__ = ["Problem", "problems_frame", "format_problem", "PROBLEM_COLUMNS"]

PROBLEM_COLUMNS = ["severity", "file", "sheet", "cell", "message"]


@dataclass(frozen=True)
class Problem:
    """One problem: ``severity`` is ``error`` (the value did not land) or ``warning``."""

    severity: str
    file: str
    sheet: str
    cell: str
    message: str

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
