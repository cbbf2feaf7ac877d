"""Safe exports: text from respondents is data, never a spreadsheet formula.

Spreadsheet programs treat a cell beginning with ``=``, ``+``, ``-`` or ``@`` (and, on import,
tab, CR and LF) as a formula; ``DataFrame.to_excel`` and openpyxl store such text as a live
formula by default. The report therefore writes every text cell of the workbook as a string
(cell type ``s``, with Excel's quote prefix on the risky ones) and prefixes risky text in CSV
and Markdown with an apostrophe (OWASP's advice). Numbers stay numbers: ``-3`` as a number is
not text and is written as a number.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["RISKY_PREFIXES", "is_risky", "neutralise", "set_cell"]

# ASCII triggers and their full-width forms (an NFKC pass turns those into the ASCII ones, but
# report text need not have passed through NFKC).
RISKY_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

# Characters XML 1.0 cannot hold (openpyxl refuses them); tab, LF and CR are allowed.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


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
