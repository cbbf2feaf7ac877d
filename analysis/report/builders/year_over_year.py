"""Year over year: this year's comparable tables beside the previous year's, with the change.

Built only when the report is given the previous processed year (``survey report --previous``):
the maturity level distribution (each year's level distribution of the maturity section, from
the study's ``maturity`` table, when both years have one)
and, by region, the companies of the disclosure review that disclose each item.
In publish mode the change columns are left out: they would let a reader recompute a
suppressed count from the one beside it.
"""

from __future__ import annotations

import pandas as pd

from analysis.codebook.words import table_texts
from analysis.maturity.classification import rules_from_codebook
from analysis.report.builders.maturity import level_distribution_table, level_links, year_maturity
from analysis.report.registry import ReportContext, ReportTable
from analysis.study.load import Study
from analysis.tabulation.suppression import TableLayout

__all__ = [
    "disclosure_coverage",
    "disclosure_coverage_comparison",
    "maturity_level_comparison",
]


def _year_tokens(previous: int | None, current: int | None) -> tuple[str, str]:
    if previous is None or current is None or previous == current:
        return "previous", "current"
    return str(previous), str(current)


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    part, whole = part.astype("Float64"), whole.astype("Float64")
    return (part / whole.where(whole > 0)).astype("Float64")


# -- maturity levels -----------------------------------------------------------------------------


def maturity_level_comparison(
    current: Study, previous: Study, lang: str = "ja", with_change: bool = True
) -> pd.DataFrame:
    """Level distribution of ``previous`` and ``current`` side by side (count and share), with the change.

    Each year's columns are that year's :func:`~analysis.report.builders.maturity.level_distribution_table`.
    """
    rules = rules_from_codebook(current.codebook)
    (y_prev, prev), (y_cur, cur) = (year_maturity(study, lang) for study in (previous, current))
    prev_token, cur_token = _year_tokens(y_prev, y_cur)
    n_prev, n_cur = (level_distribution_table(rows, rules, current.codebook, lang) for rows in (prev, cur))
    frame = pd.DataFrame(
        {
            "level": n_cur["level"],
            f"n_{prev_token}": n_prev["n"],
            f"share_{prev_token}": n_prev["share"],
            f"n_{cur_token}": n_cur["n"],
            f"share_{cur_token}": n_cur["share"],
        }
    )
    if with_change:
        frame["change_n"] = (frame[f"n_{cur_token}"] - frame[f"n_{prev_token}"]).astype("Int64")
        # In percentage points (the column is labelled so), not a share: 0.3 -> 30.0 points.
        frame["change_share"] = (
            ((frame[f"share_{cur_token}"] - frame[f"share_{prev_token}"]) * 100).round(1).astype("Float64")
        )
    return frame


# -- disclosure coverage ---------------------------------------------------------------------------


def disclosure_coverage(disclosures: pd.DataFrame, fiscal_year: int | None = None) -> pd.DataFrame:
    """Per region and item: companies reviewed, companies disclosing, and the share.

    Uses the rows of ``fiscal_year`` (default: the latest fiscal year present). A company counts
    as reviewed for an item when its row has a yes/no answer.
    """
    columns = ["region", "item", "companies", "disclosing"]
    if disclosures.empty:
        return pd.DataFrame(columns=columns)
    year = fiscal_year if fiscal_year is not None else disclosures["fiscal_year"].max()
    rows = disclosures[(disclosures["fiscal_year"] == year) & disclosures["disclosed"].notna()]
    rows = rows.assign(region=rows["region"].astype("str"), item=rows["item"].astype("str"))
    reviewed = rows.groupby(["region", "item"], sort=True)["company_id"].nunique().rename("companies")
    yes = rows[rows["disclosed"].fillna(False).astype(bool)]
    disclosing = yes.groupby(["region", "item"], sort=True)["company_id"].nunique().rename("disclosing")
    out = pd.concat([reviewed, disclosing], axis=1).fillna(0).astype("Int64").reset_index()
    return out[columns]


def _latest_year(study: Study) -> int | None:
    years = study.disclosures["fiscal_year"].dropna()
    return int(years.max()) if len(years) else None


def disclosure_coverage_comparison(
    current: Study, previous: Study, lang: str = "ja", with_change: bool = True
) -> pd.DataFrame:
    """Disclosure coverage by region and item of the previous and the current review, side by side."""
    cb = current.codebook
    prev_token, cur_token = _year_tokens(previous.year_of("disclosures"), current.year_of("disclosures"))
    prev = disclosure_coverage(previous.disclosures, _latest_year(previous))
    cur = disclosure_coverage(current.disclosures, _latest_year(current))
    merged = prev.merge(cur, on=["region", "item"], how="outer", suffixes=("_prev", "_cur"))
    region_order = {r: i for i, r in enumerate(cb.table("regions")["region"])}
    items = cb.table("disclosure_items")
    item_order = dict(zip(items["item"], items["order"], strict=True))
    merged = merged.assign(
        _r=merged["region"].map(lambda r: region_order.get(r, len(region_order))),
        _i=merged["item"].map(lambda i: item_order.get(i, len(item_order) + 1)),
    ).sort_values(["_r", "_i", "region", "item"], kind="stable")
    frame = pd.DataFrame(
        {
            "region": [cb.label("regions", r, lang) for r in merged["region"]],
            "item": [cb.label("disclosure_items", i, lang) for i in merged["item"]],
        }
    )
    for token, suffix in ((prev_token, "_prev"), (cur_token, "_cur")):
        companies = merged[f"companies{suffix}"].astype("Int64").to_numpy()
        disclosing = merged[f"disclosing{suffix}"].astype("Int64").to_numpy()
        frame[f"companies_{token}"] = pd.array(companies, dtype="Int64")
        frame[f"disclosing_{token}"] = pd.array(disclosing, dtype="Int64")
        frame[f"share_{token}"] = _share(frame[f"disclosing_{token}"], frame[f"companies_{token}"])
    if with_change:
        # In percentage points (the column is labelled so), not a share: 0.3 -> 30.0 points.
        frame["change_share"] = (
            ((frame[f"share_{cur_token}"] - frame[f"share_{prev_token}"]) * 100).round(1).astype("Float64")
        )
    return frame.reset_index(drop=True)


# -- builders (listed in analysis.report.build.builders) --------------------------------------------------------


def build_maturity_levels(study: Study, ctx: ReportContext) -> list[ReportTable]:
    previous = ctx.previous
    if previous is None or "maturity" not in study.tables or "maturity" not in previous.tables:
        return []
    frame = maturity_level_comparison(study, previous, ctx.lang, with_change=not ctx.publish)
    counts = tuple(c for c in frame.columns if c.startswith("n_"))
    percents = tuple(c for c in frame.columns if c.startswith("share_"))
    years = {"previous": previous.year_of("maturity"), "current": study.year_of("maturity")}
    # Each year's counts are their own column with the total in the last row; the years do not add up.
    # Each year's column is that year's level distribution: linked to the maturity tables of
    # both years, so that publication hides a level's count everywhere or nowhere.
    rules = rules_from_codebook(study.codebook)
    links = tuple(
        link
        for column in counts
        if column.removeprefix("n_").isdigit()
        for link in level_links(int(column.removeprefix("n_")), rules, column)
        if len(frame) == len(rules.levels) + 2
    )
    layout = TableLayout(
        total_row=len(frame) - 1,
        part_columns=(),
        percent_of={p: "n_" + p.removeprefix("share_") for p in percents},
        links=links,
    )
    return [
        ReportTable(
            name="yoy_maturity_levels",
            frame=frame,
            section="year_over_year",
            counts=counts,
            percents=percents,
            layout=layout.as_mapping(),
            **table_texts(study.codebook, "yoy_maturity_levels", **years),
        )
    ]


def build_disclosure_coverage(study: Study, ctx: ReportContext) -> list[ReportTable]:
    previous = ctx.previous
    if previous is None or previous.disclosures.empty or study.disclosures.empty:
        return []
    frame = disclosure_coverage_comparison(study, previous, ctx.lang, with_change=not ctx.publish)
    counts = tuple(c for c in frame.columns if c.startswith("disclosing_"))
    percents = tuple(c for c in frame.columns if c.startswith("share_"))
    years = {"previous": previous.year_of("disclosures"), "current": study.year_of("disclosures")}
    # One row per region and item: rows do not add up, and each year's column stands alone.
    layout = TableLayout(
        part_columns=(),
        percent_of={
            p: "disclosing_" + p.removeprefix("share_")
            for p in percents
            if "disclosing_" + p.removeprefix("share_") in frame
        },
    )
    return [
        ReportTable(
            name="yoy_disclosure_coverage",
            frame=frame,
            section="year_over_year",
            counts=counts,
            percents=percents,
            layout=layout.as_mapping(),
            **table_texts(study.codebook, "yoy_disclosure_coverage", **years),
        )
    ]
