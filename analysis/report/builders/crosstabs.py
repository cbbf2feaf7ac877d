"""Pre-survey by maturity: one table per pre-survey question against the maturity level.

The level comes from :func:`analysis.maturity.maturity_table` (imported lazily through
:func:`analysis.crosstab.maturity_levels`); without it the tables are by respondent group.
Titles and notes are codebook data (``crosstab_report.csv``, ``crosstab_labels.csv``).
"""

from __future__ import annotations

import re
import warnings

from analysis.crosstab import CrossTab, join_sentences, labels, maturity_levels, presurvey_by
from analysis.report.registry import ReportContext, ReportTable, register

__all__ = ["presurvey_tables", "report_text"]

SECTION = "crosstabs"
DEFAULT_K = 5


def report_text(codebook, key: str, lang: str, **values: object) -> tuple[str, str]:
    """Title and note of table ``key`` of ``crosstab_report.csv`` with ``{name}`` filled."""
    frame = codebook.table("crosstab_report")
    row = frame[frame["key"] == key].iloc[0]
    title, note = str(row[f"title_{lang}"]), str(row[f"note_{lang}"])
    for name, value in values.items():
        title, note = title.replace(f"{{{name}}}", str(value)), note.replace(f"{{{name}}}", str(value))
    return title, note


def _hides_cells(table: CrossTab, lang: str, k: int) -> bool:
    with warnings.catch_warnings():  # publishable() warns again, naming the table
        warnings.simplefilter("ignore", UserWarning)
        frame = table.frame(lang, suppress=k)
    return bool(frame[frame.attrs["count_columns"]].isna().to_numpy().any())


def _item(table: CrossTab, by: str, ctx: ReportContext, fallback: bool) -> ReportTable:
    codebook = table.codebook
    k = int(ctx.options.get("suppression_k", DEFAULT_K))
    withheld = ctx.publish and _hides_cells(table, ctx.lang, k)
    texts: dict[str, str] = {}
    for lang in ("ja", "en"):
        words = labels(codebook, lang)
        note = table.note(lang, with_test=not withheld, ci=True)
        if fallback:
            note = join_sentences(lang, note, words["by_group_fallback"])
        question = table.row.name
        text = table.row.title(lang).removeprefix(question).strip()
        title, note = report_text(codebook, "presurvey_by", lang, question=question, by=table.column.title(lang),
                                  text=text, note=note)
        texts[f"title_{lang}"], texts[f"note_{lang}"] = title, note
    frame = table.frame(ctx.lang, ci=True)
    words = labels(codebook, ctx.lang)
    if withheld and table.option_tests:
        frame = frame.drop(columns=[c for c in (words["p_value"], words["q_value"]) if c in frame])
    name = "presurvey_" + re.sub(r"\W", "_", table.row.name.lower()) + f"_by_{by}"
    # The layout (totals, a multiple-response table's options and answered row) is in
    # frame.attrs["layout"]; each % and each interval bound is declared derived from its count
    # there (percent_of). The p-value of an option row uses its counts and the answered row;
    # interval bounds are row statistics too, since the bound of a 0 count gives its
    # denominator away; a q-value uses every option's p, so it is a table statistic.
    statistics = tuple(c for c in (words["p_value"], *frame.attrs["ci_columns"]) if c in frame)
    table_statistics = tuple(c for c in frame.attrs["table_statistics"] if c in frame)
    return ReportTable(name=name, frame=frame, section=SECTION, counts=tuple(frame.attrs["count_columns"]),
                       percents=tuple(frame.attrs["percent_columns"]), statistics=statistics,
                       table_statistics=table_statistics, layout=frame.attrs.get("layout"), **texts)


def presurvey_tables(study, ctx: ReportContext) -> list[ReportTable]:
    """One table per tabulable pre-survey question against maturity (or respondent group)."""
    presurvey = study.tables.get("presurvey")
    if presurvey is None or presurvey.empty:
        return []
    maturity = maturity_levels(study)
    by = "maturity" if maturity is not None else "group"
    tables = presurvey_by(study, by, maturity=maturity)
    return [_item(t, by, ctx, fallback=maturity is None) for t in tables]


@register("presurvey_by_maturity", order=30)
def _build(study, ctx: ReportContext) -> list[ReportTable]:
    return presurvey_tables(study, ctx)

