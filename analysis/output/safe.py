"""Safe exports: text from respondents is data, never a spreadsheet formula.

Spreadsheet programs treat a cell beginning with ``=``, ``+``, ``-`` or ``@`` (and, on import,
tab, CR and LF) as a formula; ``DataFrame.to_excel`` and openpyxl store such text as a live
formula by default. The report therefore writes every text cell of the workbook as a string
(cell type ``s``, with Excel's quote prefix on the risky ones) and prefixes risky text in CSV
and Markdown with an apostrophe (OWASP's advice). Numbers stay numbers: ``-3`` as a number is
not text and is written as a number.

The processed tables' CSV copies, ``issues.csv`` and ``files.csv`` of the ingest use the same
rule (:func:`csv_safe_frame`), and control characters (ESC, DEL, C1 …) in names and cell text
are shown escaped (``\\x1b``) on the terminal and in CSV (:func:`escape_control`): a file or
sheet name chosen by a respondent must not drive the terminal. Parquet keeps the exact values.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

__all__ = ["RISKY_PREFIXES", "csv_safe_frame", "escape_control", "is_risky", "neutralise", "set_cell"]

# ASCII triggers and their full-width forms (an NFKC pass turns those into the ASCII ones, but
# report text need not have passed through NFKC).
RISKY_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

# Characters XML 1.0 cannot hold (openpyxl refuses them); tab, LF and CR are allowed.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# C0 controls, DEL and C1 controls; tab, LF and CR are layout in cell text (kept when asked).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_NOT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group(0)):02x}"


def escape_control(text: str, keep_layout: bool = False) -> str:
    """``text`` with control characters written as ``\\x1b`` (tab, LF, CR kept if ``keep_layout``)."""
    return (_CONTROL_NOT_LAYOUT if keep_layout else _CONTROL).sub(_escaped, text)


def csv_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` for a CSV a person opens: control characters escaped, formulas neutralised.

    Only text cells change (numbers stay numbers); multi-line text keeps its line breaks.
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].map(
                lambda v: neutralise(escape_control(v, keep_layout=True)) if isinstance(v, str) else v,
                na_action="ignore",
            )
    return out


def is_risky(value: object) -> bool:
    """True when ``value`` is text that a spreadsheet could read as a formula."""
    return isinstance(value, str) and value.startswith(RISKY_PREFIXES)


def neutralise(value: Any) -> Any:
    """Return risky text with a leading apostrophe (for CSV and Markdown); anything else as is."""
    return "'" + value if is_risky(value) else value


def set_cell(cell: Any, value: Any) -> None:
    """Put ``value`` in openpyxl ``cell``: text always as a string cell, never a formula.

    ``None`` leaves the cell empty; ``bool``, ``int`` and ``float`` are stored as numbers (or
    booleans). Any other value is stored as its text.
    """
    if value is None or isinstance(value, bool | int | float):
        cell.value = value
        return
    text = _ILLEGAL_XML.sub("\ufffd", str(value))
    cell.value = text
    # openpyxl types text by its first character ('=' -> formula, '#N/A' -> error): force text.
    cell.data_type = "s"
    if is_risky(text):
        cell.quotePrefix = True  # Excel keeps the cell as text even when a user edits it
