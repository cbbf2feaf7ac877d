"""Report section 2.4: the disclosure review, overseas companies against domestic ones.

Tables of :mod:`analysis.disclosure.review` with codebook labels and headers, the heatmap and trend
figures, and the checked findings of 2.4(2) (table ``findings``, also written as
``findings.csv``). Titles and notes come from ``report_tables.csv``, terms and code labels from
the codebook's words (scope ``disclosure``) and code lists. Tables keep their column ids
(``n_domestic``, ``p_fisher``) and get their headers when written (``n_{region}``: 国内 開示企業数).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import replace
from functools import partial

import pandas as pd

from analysis.codebook import Codebook
from analysis.codebook.words import Words, figure_titles, table_texts
from analysis.disclosure import review as ds
from analysis.disclosure.findings import FINDINGS, finding_title, run_checks
from analysis.figures.disclosure import heatmap_figure, trend_figure
from analysis.report.registry import ReportContext, ReportFigure, ReportItem, ReportTable, TableTexts
from analysis.study.load import Study
from analysis.tabulation.suppression import TableLayout

__all__ = ["disclosure_report", "findings_table"]

SECTION = "disclosures"


def _regions(codebook: Codebook) -> list[str]:
    return [str(region) for region in codebook.table("regions")["region"]]


def _region_table(
    codebook: Codebook,
    name: str,
    frame: pd.DataFrame,
    key: str,
    label: Callable[[str], str | None],
    header: str,
    p_term: str = "p_fisher",
) -> ReportTable:
    """A by-region comparison with rows labelled by ``label(code)`` (None: no label): column ids
    ``header`` (the rows' column), ``n_<region>``, ``total_<region>``, ``share_<region>`` and ``p_term``."""
    regions = _regions(codebook)
    out = frame.copy()
    out[key] = out[key].map(label)
    columns = {key: header, **{f"{s}_{r}": f"{s}_{r}" for r in regions for s in ("n", "total", "share")}}
    out = out.rename(columns={**columns, "p_value": p_term})[[*columns.values(), p_term]]
    counts = tuple(f"{s}_{r}" for r in regions for s in ("n", "total"))
    # Each row is its own 2 x 2 comparison: no total row or column; n <= N in every region. The
    # Fisher p-value of a row is computed from its counts (it can be inverted to recover them).
    layout = TableLayout(
        part_columns=(),
        row_inequalities=tuple(((f"n_{r}",), (f"total_{r}",)) for r in regions),
    )
    return ReportTable(
        name=name,
        frame=out,
        section=SECTION,
        counts=counts,
        percents=tuple(f"share_{r}" for r in regions),
        statistics=(p_term,),
        layout=layout.as_mapping(),
        scope="disclosure",
        **table_texts(codebook, name),
    )


def _long_table(
    codebook: Codebook,
    lang: str,
    name: str,
    frame: pd.DataFrame,
    labelled: dict[str, tuple[str, str | None]],
    counts: tuple[str, ...],
    percents: tuple[str, ...],
    ids: tuple[str, ...] = (),
    statistics: tuple[str, ...] = (),
    total: str | None = None,
    at_most: tuple[tuple[str, str], ...] = (),
    respondent_level: bool = False,
) -> ReportTable:
    """A long table: ``labelled`` maps column -> (its id in the report, code list of its values or None).

    Its layout: ``total`` (a count column the other counts add up to, else none: each count
    column stands alone) and ``at_most`` pairs ``(n, N)`` (n <= N in every row); ``statistics``
    are test results computed from a row's counts; ``respondent_level`` when a row is one
    company or one pair of companies (never published).
    """
    out = frame.copy()
    ids_of = {}
    for column, (term, codelist) in labelled.items():
        if codelist:
            out[column] = out[column].map(lambda code, cl=codelist: codebook.label(cl, code, lang))
        ids_of[column] = term
    out = out.rename(columns=ids_of)[list(ids_of.values())]
    layout = TableLayout(
        total_column=None if total is None else ids_of[total],
        part_columns=tuple(ids_of[c] for c in counts if c != total) if total is not None else (),
        row_inequalities=tuple(((ids_of[a],), (ids_of[b],)) for a, b in at_most),
    )
    return ReportTable(
        name=name,
        frame=out,
        section=SECTION,
        counts=tuple(ids_of[c] for c in counts),
        percents=tuple(ids_of[c] for c in percents),
        respondent_columns=tuple(ids_of[c] for c in ids),
        statistics=tuple(ids_of[c] for c in statistics),
        layout=layout.as_mapping() if counts else None,
        respondent_level=respondent_level,
        scope="disclosure",
        **table_texts(codebook, name),
    )


def findings_table(
    disclosures: pd.DataFrame, codebook: Codebook, publish: bool = False, lang: str = "ja"
) -> ReportTable:
    """The checked findings: frame columns finding, holds, evidence (in ``lang``); the titles go
    in the note.

    ``publish``: evidence names companies and prints counts hidden in the tables (6/7, GB 2/2),
    so the published variant has the verdict and the published tables that support it
    (``supported_by``, table names; the codebook's ``disclosure_finding_tables.csv``) instead.
    """
    checks = run_checks(disclosures, codebook)
    texts = _noted(
        table_texts(codebook, "findings"),
        {
            lang: "\n".join(f"{name}: {finding_title(name, codebook, lang)}" for name in FINDINGS)
            for lang in ("ja", "en")
        },
    )
    if not publish:
        return ReportTable(
            name="findings",
            frame=checks.assign(evidence=checks["evidence_ja" if lang == "ja" else "evidence"])[
                ["finding", "holds", "evidence"]
            ].reset_index(drop=True),
            section=SECTION,
            **texts,
        )
    support = codebook.table("disclosure_finding_tables")
    tables = {name: [t for t in support.loc[support["finding"] == name, "table"] if t] for name in checks["finding"]}
    frame = checks[["finding", "holds"]].reset_index(drop=True)
    frame["supported_by"] = [";".join(tables[name]) for name in frame["finding"]]
    named = dict.fromkeys(t for ts in tables.values() for t in ts)
    titles = {lang: {t: Words(codebook, lang).title(t) for t in named} for lang in ("ja", "en")}
    listed = {lang: "\n".join(f"{t}: {title}" for t, title in titles[lang].items() if title != t) for lang in titles}
    return ReportTable(name="findings", frame=frame, section=SECTION, **_noted(texts, listed))


def _noted(texts: TableTexts, lines: dict[str, str]) -> TableTexts:
    """``texts`` with ``lines`` (by language) added to the notes on lines of their own."""
    return TableTexts(
        title_ja=texts["title_ja"],
        title_en=texts["title_en"],
        note_ja=f"{texts['note_ja']}\n{lines['ja']}".strip(),
        note_en=f"{texts['note_en']}\n{lines['en']}".strip(),
    )


def disclosure_report(study: Study, ctx: ReportContext) -> list[ReportItem]:
    """Every table and figure of the disclosure review (nothing when no company was reviewed)."""
    disclosures, codebook = study.disclosures, study.codebook
    if disclosures.empty:
        return []
    lang = ctx.lang
    words = Words(codebook, lang)
    # A column is named by its id where the section has a word for it, else (region, country,
    # venue, basis: words of the instrument) by the instrument's header, shown as it is.
    headers = {
        spec.column: spec.header_ja if lang == "ja" else spec.header_en
        for sheet in codebook.instrument_sheets("disclosures")
        for spec in sheet.columns
    }
    terms = words.words("disclosure")

    def column(term: str) -> str:
        return term if term in terms else headers.get(term, term)

    def code(codelist: str) -> Callable[[str], str]:
        return lambda value: codebook.label(codelist, value, lang)

    def long(name: str, frame: pd.DataFrame, labelled: dict[str, tuple[str, str | None]], **layout) -> ReportTable:
        named = {c: (column(term), codelist) for c, (term, codelist) in labelled.items()}
        return _long_table(codebook, lang, name, frame, named, **layout)

    depth_labels = codebook.table("disclosure_depths").set_index("depth")[f"label_{ctx.lang}"].to_dict()
    by_region = ds.items_by_region(disclosures, codebook)
    by_country = ds.items_by_country(disclosures, codebook)
    trend = ds.trend_by_region(disclosures, codebook)
    tables = [
        _region_table(
            codebook, "disclosure_items_by_region", by_region, "item", code("disclosure_items"), column("item")
        ),
        long(
            "disclosure_items_by_country",
            by_country,
            {
                "region": ("region", "regions"),
                "country": ("country", "countries"),
                "item": ("item", "disclosure_items"),
                "n": ("n", None),
                "total": ("total", None),
                "share": ("share", None),
            },
            counts=("n", "total"),
            percents=("share",),
            at_most=(("n", "total"),),
        ),
        _region_table(
            codebook,
            "disclosure_depth_by_region",
            ds.depth_by_region(disclosures, codebook),
            "depth",
            depth_labels.get,
            column("depth"),
        ),
        _region_table(
            codebook,
            "disclosure_venues_by_region",
            ds.venues_by_region(disclosures, codebook),
            "venue",
            code("disclosure_venues"),
            column("venue"),
        ),
        _region_table(
            codebook,
            "disclosure_bases_by_region",
            ds.bases_by_region(disclosures, codebook),
            "basis",
            code("disclosure_bases"),
            column("basis"),
        ),
        _region_table(
            codebook,
            "disclosure_sustainability_by_region",
            ds.sustainability_by_region(disclosures, codebook),
            "measure",
            lambda _: words.label("sustainability", "disclosure"),
            column("measure"),
        ),
        long(
            "disclosure_peer_pairs",
            ds.peer_pair_summary(disclosures, codebook),
            {
                "overseas_id": ("overseas_id", None),
                "domestic_id": ("domestic_id", None),
                "compared": ("compared_items", None),
                "overseas_items": ("overseas_items", None),
                "domestic_items": ("domestic_items", None),
                "both": ("both", None),
                "overseas_only": ("overseas_only", None),
                "domestic_only": ("domestic_only", None),
                "neither": ("neither", None),
                "p_value": ("p_mcnemar", None),
            },
            counts=(),
            percents=(),
            ids=("overseas_id", "domestic_id"),
            statistics=("p_value",),
            respondent_level=True,
        ),  # one pair of companies per row
        long(
            "disclosure_peer_items",
            ds.peer_item_tests(disclosures, codebook),
            {
                "item": ("item", "disclosure_items"),
                "compared": ("compared_pairs", None),
                "both": ("both", None),
                "overseas_only": ("overseas_only", None),
                "domestic_only": ("domestic_only", None),
                "neither": ("neither", None),
                "p_value": ("p_mcnemar", None),
            },
            counts=("compared", "both", "overseas_only", "domestic_only", "neither"),
            percents=(),
            statistics=("p_value",),
            total="compared",
        ),
        long(
            "disclosure_trend",
            trend,
            {
                "fiscal_year": ("fiscal_year", None),
                "region": ("region", "regions"),
                "item": ("item", "disclosure_items"),
                "n": ("n", None),
                "total": ("total", None),
                "share": ("share", None),
            },
            counts=("n", "total"),
            percents=("share",),
            at_most=(("n", "total"),),
        ),
        findings_table(disclosures, codebook, publish=ctx.publish, lang=ctx.lang),
    ]
    tables = _linked(tables, _regions(codebook), by_region, by_country, trend)
    figures = [
        # One row per company (labelled by country when ids are hidden): internal only.
        ReportFigure(
            "disclosure_heatmap",
            draw=partial(heatmap_figure, disclosures, codebook, ctx.lang, show_ids=not ctx.publish),
            section=SECTION,
            respondent_level=True,
            **figure_titles(codebook, "disclosure_heatmap"),
        ),
        ReportFigure(
            "disclosure_trend_figure",
            draw=partial(trend_figure, disclosures, codebook, ctx.lang),
            section=SECTION,
            **figure_titles(codebook, "disclosure_trend_figure"),
        ),
    ]
    return tables + figures


def _count(value: object) -> int | None:
    """A count as printed in a table; None for a missing one (NA, NaN, None)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        return None
    return int(float(value))  # a whole number, held as int or float


def _linked(
    tables: list, regions: list[str], by_region: pd.DataFrame, by_country: pd.DataFrame, trend: pd.DataFrame
) -> list:
    """Declare the quantities the disclosure tables share, so that publication hides each one
    everywhere or nowhere: per region and item, companies disclosing it and companies reviewed
    (the by-region table, the trend's latest year); per country and item (the country table);
    companies reviewed per region in the depth, venue, basis and sustainability tables (the same
    number in every row); and that a region's counts are the sums of its countries'. A link is
    declared only where the numbers agree (one quantity, one value)."""
    head = {(stem, region): f"{stem}_{region}" for region in regions for stem in ("n", "total")}
    n_col, total_col = "n", "total"
    value_of: dict[tuple, int] = {}
    links: dict[str, list] = {t.name: [] for t in tables}

    def link(name: str, row: int, column: str, key: tuple, value: object) -> None:
        count = _count(value)
        if count is None or value_of.setdefault(key, count) != count:
            return
        links[name].append((row, column, key))

    for row, record in enumerate(by_region.itertuples(index=False)):
        for region in regions:
            link(
                "disclosure_items_by_region",
                row,
                head[("n", region)],
                ("disclosing", region, record.item),
                getattr(record, f"n_{region}"),
            )
            link(
                "disclosure_items_by_region",
                row,
                head[("total", region)],
                ("reviewed", region, record.item),
                getattr(record, f"total_{region}"),
            )
    for name in (
        "disclosure_depth_by_region",
        "disclosure_venues_by_region",
        "disclosure_bases_by_region",
        "disclosure_sustainability_by_region",
    ):
        table = next((t for t in tables if t.name == name), None)
        if table is None:
            continue
        for region in regions:
            column = table.frame[head[("total", region)]]
            if column.notna().any() and column.nunique() == 1:  # the same number in every row that has one
                for row, value in enumerate(column.tolist()):
                    link(name, row, head[("total", region)], ("reviewed", region), value)
    sums: dict[tuple, list] = {}
    for row, record in enumerate(by_country.itertuples(index=False)):
        for column, key, total, value in (
            (
                n_col,
                ("disclosing_country", record.country, record.item),
                ("disclosing", record.region, record.item),
                record.n,
            ),
            (
                total_col,
                ("reviewed_country", record.country, record.item),
                ("reviewed", record.region, record.item),
                record.total,
            ),
        ):
            link("disclosure_items_by_country", row, column, key, value)
            count = _count(value)
            if count is not None:
                sums.setdefault(total, []).append((key, count))
    identities = tuple(
        (total, tuple(k for k, _ in parts))
        for total, parts in sums.items()
        if value_of.get(total) == sum(v for _, v in parts)
    )
    latest = trend["fiscal_year"].max() if len(trend) else None
    for row, record in enumerate(trend.itertuples(index=False)):
        if record.fiscal_year == latest:
            link("disclosure_trend", row, n_col, ("disclosing", record.region, record.item), record.n)
            link("disclosure_trend", row, total_col, ("reviewed", record.region, record.item), record.total)
    out = []
    for table in tables:
        if links.get(table.name):
            layout = TableLayout.from_mapping(table.layout)
            extra = {"identities": identities} if table.name == "disclosure_items_by_country" else {}
            table = replace(table, layout=replace(layout, links=tuple(links[table.name]), **extra).as_mapping())
        out.append(table)
    return out
