"""Pre-survey by maturity: one table per pre-survey question against the maturity level.

The level comes from :func:`analysis.maturity.classification.maturity_table` (imported lazily through
:func:`analysis.tabulation.crosstabs.maturity_levels`); without it the tables are by respondent group.
Titles and notes are codebook data (``report_tables.csv``; words: :class:`analysis.codebook.words.Words`).
"""

from __future__ import annotations

import re

from analysis.codebook.words import Words, table_texts
from analysis.report.registry import ReportContext, ReportTable
from analysis.study.load import Study
from analysis.tabulation.crosstabs import CrossTab, join_sentences, maturity_levels, presurvey_by
from analysis.tabulation.suppression import TableLayout

__all__ = ["presurvey_tables"]

SECTION = "crosstabs"


def _margin_links(table: CrossTab, frame, maturity, year) -> tuple:
    """Link the total row to the maturity level distribution (and its total to the number of
    companies) when it is that distribution: every classified company answered the pre-survey.
    Publication then hides each level's count everywhere or nowhere."""
    if maturity is None or year is None:
        return ()
    levels = maturity["level"].astype("object").where(maturity["level"].notna(), "unclassified")
    layout = frame.attrs["layout"]
    totals = table.counts.loc["total"].astype(int).to_dict()
    links = []
    for key, column in zip(table.counts.columns, frame.attrs["count_columns"], strict=True):
        level = "unclassified" if key == "missing:unclassified" else key
        quantity = ("respondents", int(year)) if key == "total" else ("maturity_level", int(year), level)
        expected = len(levels) if key == "total" else int((levels == level).sum())
        if totals.get(key) != expected:
            return ()
        links.append((layout["total_row"], column, quantity))
    return tuple(links)


def _item(table: CrossTab, by: str, ctx: ReportContext, fallback: bool, maturity=None, year=None) -> ReportTable:
    codebook = table.codebook
    question = table.row.name
    notes, texts = {}, {}
    for lang in ("ja", "en"):
        # A whole-table test printed in a note cannot be hidden with the counts it uses: a
        # published table states the test made, not its result.
        note = table.note(lang, with_test=not ctx.publish, ci=True)
        notes[lang] = (
            join_sentences(lang, note, Words(codebook, lang).label("by_group_fallback", "crosstab"))
            if fallback
            else note
        )
        texts[lang] = table.row.title(lang).removeprefix(question).strip()
    by_title = {lang: table.column.title(lang) for lang in ("ja", "en")}
    titled = table_texts(codebook, "presurvey_by", question=question, by=by_title, text=texts, note=notes)
    # Column ids (n:A, pct:A, p_value…); their headers ("成熟度A(高) n") are the table's own.
    frame = table.frame(ctx.lang, ci=True, ids=True)
    name = "presurvey_" + re.sub(r"\W", "_", table.row.name.lower()) + f"_by_{by}"
    # The layout (totals, a multiple-response table's options and answered row) is in
    # frame.attrs["layout"]: each % is a percentage of its count (percent_of) and each interval
    # bound is derived from its count (derived_from), so publication hides a bound with its
    # count and with its denominator (the bound of a 0 count gives the denominator away). The
    # p-value of an option row uses its counts and the answered row (a row statistic); a
    # q-value uses every option's p (a table statistic). Publication hides them with the
    # counts they use (analysis.report.publication).
    layout = TableLayout.from_mapping(frame.attrs["layout"])
    if by == "maturity":
        layout = TableLayout.from_mapping(
            {**layout.as_mapping(), "links": [list(x) for x in _margin_links(table, frame, maturity, year)]}
        )
    statistics = tuple(c for c in ("p_value",) if c in frame)
    table_statistics = tuple(c for c in frame.attrs["table_statistics"] if c in frame)
    return ReportTable(
        name=name,
        frame=frame,
        section=SECTION,
        counts=tuple(frame.attrs["count_columns"]),
        percents=tuple(frame.attrs["percent_columns"]),
        statistics=statistics,
        table_statistics=table_statistics,
        layout=layout.as_mapping(),
        scope="crosstab",
        headers=frame.attrs["headers"],
        **titled,
    )


def presurvey_tables(study: Study, ctx: ReportContext) -> list[ReportTable]:
    """One table per tabulable pre-survey question against maturity (or respondent group)."""
    presurvey = study.tables.get("presurvey")
    if presurvey is None or presurvey.empty:
        return []
    maturity = maturity_levels(study)
    by = "maturity" if maturity is not None else "group"
    tables = presurvey_by(study, by, maturity=maturity)
    return [_item(t, by, ctx, fallback=maturity is None, maturity=maturity, year=study.fiscal_year) for t in tables]
