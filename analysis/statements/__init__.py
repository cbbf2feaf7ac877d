"""Coded interview statements (:mod:`.coding`) and the importer of the report's published
statements (:mod:`.findings_import`).
"""

from analysis.statements.coding import (
    find_statements,
    findings_html,
    findings_markdown,
    section_by_maturity,
    statement_matrix,
    statements_by_category,
)
from analysis.statements.findings_import import as_statements, compare_findings, parse_report_text

__all__ = [
    "as_statements",
    "compare_findings",
    "find_statements",
    "findings_html",
    "findings_markdown",
    "parse_report_text",
    "section_by_maturity",
    "statement_matrix",
    "statements_by_category",
]
