"""Coded statements in the report: per respondent group, statements and respondents per
category, section x maturity mentioned, the findings layout, and (internal reports only) the
respondent x category matrix.

Titles and notes are codebook data (``crosstab_report.csv``); headers ``crosstab_labels.csv``.

Small-cell suppression (``--publish``) applies to the per-category table, which counts
respondents. The section x maturity table counts statements, not people, and every statement
it counts is printed in the findings table beside it, so hiding its cells would protect
nothing: its counts are not declared for suppression.
"""

from __future__ import annotations

import pandas as pd

from analysis.crosstab import labels
from analysis.report.builders.crosstabs import report_text
from analysis.report.registry import ReportContext, ReportTable, register
from analysis.statements import findings_layout, section_by_maturity, statement_matrix, statements_by_category
from analysis.suppression import TableLayout

__all__ = ["statement_tables"]

SECTION = "statements"


def _texts(codebook, key: str, group: str) -> dict[str, str]:
    groups = codebook.table("respondent_groups")
    out = {}
    for lang in ("ja", "en"):
        name = str(groups.loc[groups["group"] == group, f"label_{lang}"].iloc[0])
        out[f"title_{lang}"], out[f"note_{lang}"] = report_text(codebook, key, lang, group=name)
    return out


def _layout_frame(statements: pd.DataFrame, codebook, lang: str, group: str) -> pd.DataFrame:
    words = labels(codebook, lang)
    layout = findings_layout(statements, codebook, lang, group)
    return pd.DataFrame({
        words["section"]: layout["section"].to_numpy(),
        words["section_title"]: layout["section_title"].to_numpy(),
        words["category_label"]: layout["category"].to_numpy(),
        words["maturity"]: layout["maturity_label"].to_numpy(),
        words["text"]: layout["text"].to_numpy(),
    })


def statement_tables(study, ctx: ReportContext) -> list[ReportTable]:
    """The statement tables of every respondent group with statements (see the module notes)."""
    statements = study.tables.get("statements")
    if statements is None or statements.empty:
        return []
    codebook, lang = study.codebook, ctx.lang
    words = labels(codebook, lang)
    order = list(codebook.table("respondent_groups")["group"])
    present = set(statements["respondent_group"].astype(str))
    out: list[ReportTable] = []
    for group in [g for g in order if g in present]:
        by_category = statements_by_category(statements, codebook, lang, group)
        n_statements, n_respondents = by_category.attrs["count_columns"]
        # Categories overlap (one respondent, several categories): no totals; respondents with a
        # statement are at most the statements.
        layout = TableLayout(part_columns=(), row_inequalities=(((n_respondents,), (n_statements,)),))
        out.append(ReportTable(name=f"statements_by_category_{group}", frame=by_category, section=SECTION,
                               counts=tuple(by_category.attrs["count_columns"]), layout=layout.as_mapping(),
                               **_texts(codebook, "statements_by_category", group)))
        by_maturity = section_by_maturity(statements, codebook, lang, group)
        out.append(ReportTable(name=f"statements_by_maturity_{group}", frame=by_maturity, section=SECTION,
                               **_texts(codebook, "statements_by_maturity", group)))
        out.append(ReportTable(name=f"findings_{group}", frame=_layout_frame(statements, codebook, lang, group),
                               section=SECTION, **_texts(codebook, "findings_layout", group)))
        if not ctx.publish:
            matrix = statement_matrix(statements, codebook, value="count", respondent_group=group)
            matrix = matrix.reset_index().rename(columns={"respondent_id": words["respondent_id"]})
            out.append(ReportTable(name=f"statements_matrix_{group}", frame=matrix, section=SECTION,
                                   respondent_columns=(words["respondent_id"],),
                                   respondent_level=True,
                                   **_texts(codebook, "statements_matrix", group)))
    return out


@register("statements", order=35)
def _build(study, ctx: ReportContext) -> list[ReportTable]:
    return statement_tables(study, ctx)
