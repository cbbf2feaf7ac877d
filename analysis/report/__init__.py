"""Report: tables, figures and listings built from one processed year.

:func:`build_report` loads a processed year, runs the builders of :func:`builders` (each a
function ``(study, ReportContext) -> list[ReportTable | ReportFigure]``), applies the one publish
rule (:mod:`.publication`), audits the result (:mod:`.audit`) and writes it (:mod:`.writers`).
:func:`first_screen` is the line that opens the report.
"""

from analysis.report.build import build_report, builders, first_screen
from analysis.report.registry import ReportContext, ReportFigure, ReportTable

__all__ = ["ReportContext", "ReportFigure", "ReportTable", "build_report", "builders", "first_screen"]
