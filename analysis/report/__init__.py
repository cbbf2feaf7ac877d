"""Report: tables, figures and listings built from one processed year.

:mod:`.build` runs the builders (listed in :mod:`.builders`), applies the one publish rule
(:mod:`.publication`), audits the result (:mod:`.audit`) and writes it (:mod:`.writers`).
"""

from analysis.report.build import build_report, first_screen

__all__ = ["build_report", "first_screen"]
