"""Raw workbooks → tidy tables and a list of problems (the input edge).

The chain, in the order a workbook meets it: :mod:`.safety` (package checks before parsing, on
the zip reader of :mod:`.package`), :mod:`.isolation` (parsing in a separate process),
:mod:`.workbook` (cells), :mod:`.normalise` (cell values), :mod:`.validate` (one workbook against
the codebook), :mod:`.redact`, :mod:`.problems` (problems and the sources of values), and
:mod:`.folder` (a folder of workbooks → an owned output folder).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names below resolve to, for type checkers
    from analysis.ingest.folder import ingest, list_inputs
    from analysis.ingest.workbook import read_workbook

# Resolved on first use, not at import: the codebook parses its own values with
# analysis.ingest.normalise, and the ingest chain needs the codebook.
_PUBLIC = {
    "ingest": "analysis.ingest.folder",
    "list_inputs": "analysis.ingest.folder",
    "read_workbook": "analysis.ingest.workbook",
}

__all__ = ["ingest", "list_inputs", "read_workbook"]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
