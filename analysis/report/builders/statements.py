"""Coded statements in the report: per respondent group, statements and respondents per
category, section x maturity mentioned, the findings layout, and, with ``--per-respondent``, the
respondent x category matrix (one row per respondent: ``respondent_level``, so a published report
leaves it out and lists it in its appendix).

Titles and notes are codebook data (``report_tables.csv``); headers the cross-tabulation words
(:class:`analysis.codebook.words.Words`).

The publication rule for statements (``--publish``): the statements are published, grouped by
section, category and maturity as the study prints them, without respondent ids. Every count
of statements is a count of printed statements (the rows of ``findings_<group>``), so it is
printed exactly and not suppressed: hiding it would protect nothing. Counts of companies are
another matter: 発言した回答者数 (companies with a statement in a category) is not published,
since the statement count beside it narrows or pins it (1 statement, 1 company). A statement's
maturity group (高/中/低) is named only when the group's level has at least k companies in the
year; the others are gathered under one "withheld" group in the listing and in the section x
maturity table alike. The internal report flags the statements in which the ingest replaced a
name (``name_redacted``) so that the researcher can reword them.
"""

from __future__ import annotations

import pandas as pd

from analysis.codebook.words import Words, table_texts
from analysis.report.registry import ReportContext, ReportTable, TableTexts
from analysis.statements.coding import (
    WITHHELD,
    findings_layout,
    section_by_maturity,
    small_maturity_groups,
    statement_matrix,
    statements_by_category,
    withhold_maturity,
)
from analysis.study.load import Study
from analysis.tabulation.suppression import TableLayout

__all__ = ["statement_tables"]

SECTION = "statements"


def _texts(codebook, key: str, group: str) -> TableTexts:
    groups = codebook.table("respondent_groups").set_index("group")
    return table_texts(codebook, key, group={lang: groups.loc[group, f"label_{lang}"] for lang in ("ja", "en")})


def _layout_frame(statements: pd.DataFrame, codebook, lang: str, group: str, publish: bool) -> pd.DataFrame:
    """The statement listing by column id (headers: word scope ``crosstab``)."""
    layout = findings_layout(statements, codebook, lang, group)
    frame = pd.DataFrame(
        {
            "section": layout["section"].to_numpy(),
            "section_title": layout["section_title"].to_numpy(),
            "category_label": layout["category"].to_numpy(),
            "maturity": layout["maturity_label"].to_numpy(),
            "text": layout["text"].to_numpy(),
        }
    )
    if not publish:  # for the researcher: statements to reword before publication
        frame["name_redacted"] = layout["name_redacted"].to_numpy()
    return frame


def _with_note(texts: TableTexts, notes: dict[str, str]) -> TableTexts:
    return TableTexts(
        title_ja=texts["title_ja"],
        title_en=texts["title_en"],
        note_ja=" ".join(filter(None, (texts["note_ja"], notes.get("ja", "")))),
        note_en=" ".join(filter(None, (texts["note_en"], notes.get("en", "")))),
    )


def _published_statements(
    study, ctx: ReportContext, statements: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """The statements as published (maturity groups of fewer than k companies withheld), the
    note saying which groups were withheld (empty when none) and their codes (column ids)."""
    codebook = study.codebook
    k = codebook.suppression_k  # the publication rule's k (analysis.report.publication)
    small = small_maturity_groups(study.tables.get("maturity"), codebook, k, study.fiscal_year)
    if not small:
        return statements, {}, []
    notes = {}
    for lang in ("ja", "en"):
        words = Words(codebook, lang).words("crosstab")
        groups = codebook.table("maturity_groups")
        names = [str(g[f"label_{lang}"]) for _, g in groups.iterrows() if str(g["code"]) in small]
        notes[lang] = (
            words["note:maturity_withheld"]
            .replace("{k}", str(k))
            .replace("{groups}", ("、" if lang == "ja" else ", ").join(names))
            .replace("{label}", words["maturity_withheld"])
        )
    hidden = [str(code) for code in codebook.table("maturity_groups")["code"] if str(code) in small]
    return withhold_maturity(statements, small), notes, hidden


def statement_tables(study: Study, ctx: ReportContext) -> list[ReportTable]:
    """The statement tables of every respondent group with statements (see the module notes)."""
    statements = study.tables.get("statements")
    if statements is None or statements.empty:
        return []
    codebook, lang = study.codebook, ctx.lang
    words = Words(codebook, lang).words("crosstab")
    maturity_notes: dict[str, str] = {}
    hidden_groups: list[str] = []
    if ctx.publish:
        statements, maturity_notes, hidden_groups = _published_statements(study, ctx, statements)
    published = {lang_: Words(codebook, lang_).words("crosstab")["note:statements_published"] for lang_ in ("ja", "en")}
    order = list(codebook.table("respondent_groups")["group"])
    present = set(statements["respondent_group"].astype(str))
    out: list[ReportTable] = []
    for group in [g for g in order if g in present]:
        by_category = statements_by_category(statements, codebook, lang, group, ids=True)
        n_statements, n_respondents = by_category.attrs["count_columns"]
        if ctx.publish:
            # Statement counts are the rows of the listing: exact. Companies per category: left out.
            out.append(
                ReportTable(
                    name=f"statements_by_category_{group}",
                    frame=by_category.drop(columns=[n_respondents]),
                    section=SECTION,
                    scope="crosstab",
                    **_with_note(_texts(codebook, "statements_by_category", group), published),
                )
            )
        else:
            # Categories overlap (one respondent, several categories): no totals; respondents
            # with a statement are at most the statements.
            layout = TableLayout(part_columns=(), row_inequalities=(((n_respondents,), (n_statements,)),))
            out.append(
                ReportTable(
                    name=f"statements_by_category_{group}",
                    frame=by_category,
                    section=SECTION,
                    counts=tuple(by_category.attrs["count_columns"]),
                    layout=layout.as_mapping(),
                    scope="crosstab",
                    **_texts(codebook, "statements_by_category", group),
                )
            )
        # A withheld group's column would read as "no statement about this group": left out.
        by_maturity = section_by_maturity(statements, codebook, lang, group, ids=True).drop(columns=hidden_groups)
        withheld = maturity_notes if WITHHELD in by_maturity else {}
        out.append(
            ReportTable(
                name=f"statements_by_maturity_{group}",
                frame=by_maturity,
                section=SECTION,
                scope="crosstab",
                headers=by_maturity.attrs["headers"],
                **_with_note(_texts(codebook, "statements_by_maturity", group), withheld),
            )
        )
        listing = _layout_frame(statements, codebook, lang, group, ctx.publish)
        withheld = maturity_notes if (listing["maturity"] == words["maturity_withheld"]).any() else {}
        out.append(
            ReportTable(
                name=f"findings_{group}",
                frame=listing,
                section=SECTION,
                scope="crosstab",
                **_with_note(_texts(codebook, "findings_layout", group), withheld),
            )
        )
        # One row per respondent: a per-company artefact that grows with the study, so only on
        # request (--per-respondent), and marked respondent_level so that publication leaves it
        # out and lists it in the appendix.
        if not ctx.per_respondent:
            continue
        matrix = statement_matrix(statements, codebook, value="count", respondent_group=group)
        matrix = matrix.reset_index()
        # A reader sees the category's name, not only its id (u01-01 活用方法)
        categories = codebook.table("statement_categories")
        names = dict(zip(categories["category_id"].astype(str), categories[f"label_{lang}"].astype(str), strict=True))
        matrix = matrix.rename(columns={c: f"{c} {names[c]}" for c in matrix.columns if c in names})
        out.append(
            ReportTable(
                name=f"statements_matrix_{group}",
                frame=matrix,
                section=SECTION,
                respondent_columns=("respondent_id",),
                respondent_level=True,
                scope="crosstab",
                **_texts(codebook, "statements_matrix", group),
            )
        )
    return out
