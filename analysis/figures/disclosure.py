"""Figures of the disclosure review: companies x items heatmap and trend per region.

Labels come from the codebook (Japanese by default, English with ``lang="en"``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from analysis.codebook import Codebook
from analysis.codebook.words import Words
from analysis.disclosure.review import heatmap_matrix, trend_by_region
from analysis.figures.plotting import OKABE_ITO, wrap_label  # importing it sets the Japanese font

__all__ = ["heatmap_figure", "trend_figure"]

_NOT_DISCLOSED, _DISCLOSED, _NOT_CODED, _HATCH = "#e4e4e4", OKABE_ITO[0], "#ffffff", "#c8c8c8"


def heatmap_figure(
    disclosures: pd.DataFrame,
    codebook: Codebook,
    lang: str = "ja",
    fiscal_year: int | None = None,
    show_ids: bool = True,
) -> Figure:
    """Companies (rows, grouped by region and country) x content items (columns) of the review year.

    Blue: disclosed; grey: not disclosed; hatched: not coded. Thick lines separate regions,
    thin lines countries; region names on the right. ``show_ids=False`` labels rows by country
    only (for publication).
    """
    matrix = heatmap_matrix(disclosures, codebook, fiscal_year)
    n_rows, n_cols = max(len(matrix), 1), matrix.shape[1]
    figure, ax = plt.subplots(figsize=(3.5 + 0.8 * n_cols, 3.2 + 0.32 * n_rows), layout="constrained")
    values = matrix.to_numpy(dtype=float) if len(matrix) else np.full((1, n_cols), np.nan)
    # Cells not coded are masked and show the hatched background.
    ax.set_facecolor(_NOT_CODED)
    ax.patch.set_hatch("///")
    ax.patch.set_edgecolor(_HATCH)
    sns.heatmap(
        values,
        ax=ax,
        cmap=ListedColormap([_NOT_DISCLOSED, _DISCLOSED]),
        vmin=0,
        vmax=1,
        cbar=False,
        linewidths=0.5,
        linecolor="white",
        mask=np.isnan(values),
    )
    items = [codebook.label("disclosure_items", item, lang) for item in matrix.columns]
    # Horizontal, wrapped to the column's width: read without tilting the head
    ax.set_xticks(
        np.arange(n_cols) + 0.5,
        [wrap_label(i, 5 if lang == "ja" else 7) for i in items],
        rotation=0,
        ha="center",
        fontsize=8,
    )
    if len(matrix):
        rows = matrix.index.to_frame(index=False)
        labels = [
            f"{c}  {codebook.label('countries', k, lang)}" if show_ids else codebook.label("countries", k, lang)
            for c, k in rows[["company_id", "country"]].itertuples(index=False)
        ]
        ax.set_yticks(np.arange(len(rows)) + 0.5, labels, rotation=0)
        for position in range(1, len(rows)):
            if rows["region"].iloc[position] != rows["region"].iloc[position - 1]:
                ax.axhline(position, color="black", linewidth=2)
            elif rows["country"].iloc[position] != rows["country"].iloc[position - 1]:
                ax.axhline(position, color="grey", linewidth=0.8)
        groups = [
            (region, (part.index.min() + part.index.max() + 1) / 2)
            for region, part in rows.groupby("region", sort=False)
        ]
        side = ax.secondary_yaxis("right")
        side.set_yticks(
            [middle for _, middle in groups], [codebook.label("regions", region, lang) for region, _ in groups]
        )
        side.tick_params(length=0, labelsize=11)
    else:
        ax.set_yticks([])
    ax.set_xlabel(Words(codebook, lang).label("item", "disclosure"))
    ax.set_ylabel(Words(codebook, lang).label("company", "disclosure"))
    figure.legend(
        handles=[
            Patch(facecolor=color, edgecolor="grey", hatch=hatch, label=Words(codebook, lang).label(term, "disclosure"))
            for term, color, hatch in (
                ("disclosed", _DISCLOSED, ""),
                ("not_disclosed", _NOT_DISCLOSED, ""),
                ("not_coded", _NOT_CODED, "///"),
            )
        ],
        loc="outside lower center",
        ncol=3,
        frameon=False,
    )
    return figure


def trend_figure(
    disclosures: pd.DataFrame, codebook: Codebook, lang: str = "ja", items: list[str] | None = None, columns: int = 5
) -> Figure:
    """Share of companies disclosing each item per fiscal year, one line per region, one panel per item.

    Each company counts in every year it was reviewed; the panel titles carry the item label.
    """
    trend = trend_by_region(disclosures, codebook)
    if items is not None:
        trend = trend[trend["item"].isin(items)]
    trend = trend[trend["total"] > 0]
    order = [i for i in codebook.table("disclosure_items").sort_values("order")["item"] if i in set(trend["item"])]
    order = order or (items or [])[:1]
    n_rows = max(1, -(-len(order) // columns))
    n_cols = min(columns, max(len(order), 1))
    figure, axes = plt.subplots(
        n_rows, n_cols, figsize=(2.8 * n_cols, 2.4 * n_rows + 0.6), sharex=True, sharey=True, squeeze=False
    )
    regions = list(codebook.table("regions")["region"])
    palette = dict(zip(regions, (OKABE_ITO * len(regions))[: len(regions)], strict=True))
    years = sorted(trend["fiscal_year"].unique())
    for ax, item in zip(axes.flat, order, strict=False):
        part = trend[trend["item"] == item]
        # Counts above the highest point of a year, below the lowest, beside any in between: two
        # regions at the same or near shares (7/7 and 7/8 at 100 %) never print on each other.
        rank = part.sort_values(["fiscal_year", "share", "region"], ascending=[True, False, True])
        rank = rank.assign(
            order=rank.groupby("fiscal_year").cumcount(),
            last=rank.groupby("fiscal_year")["share"].transform("size") - 1,
        )
        places = {
            (year, region): ("above" if order == 0 else "below" if order == last else "beside")
            for year, region, order, last in zip(
                rank["fiscal_year"], rank["region"], rank["order"], rank["last"], strict=True
            )
        }
        for region in regions:
            line = part[part["region"] == region]
            ax.plot(
                line["fiscal_year"],
                line["share"],
                marker="o",
                color=palette[region],
                label=codebook.label("regions", region, lang),
            )
            for year, share, n, total in line[["fiscal_year", "share", "n", "total"]].itertuples(index=False):
                # Counts beside the share: the denominators are small and change by year.
                place = places.get((year, region), "above")
                offset, ha, va = {
                    "above": ((0, 5), "center", "bottom"),
                    "below": ((0, -5), "center", "top"),
                    "beside": ((6, 0), "left", "center"),
                }[place]
                ax.annotate(
                    f"{n}/{total}",
                    (year, share),
                    textcoords="offset points",
                    xytext=offset,
                    ha=ha,
                    va=va,
                    fontsize=7,
                    color=palette[region],
                )
        ax.set_title(codebook.label("disclosure_items", item, lang), fontsize=9)
        ax.set_ylim(-0.2, 1.2)  # room for the counts above 100 % and below 0 %
        ax.yaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
        if years:
            ax.set_xticks(years, [str(y) for y in years])
    for ax in list(axes.flat)[len(order) :]:
        ax.set_visible(False)
    figure.supxlabel(Words(codebook, lang).label("fiscal_year", "disclosure"))
    figure.supylabel(Words(codebook, lang).label("share_disclosing", "disclosure"))
    handles = [Line2D([], [], color=palette[r], marker="o", label=codebook.label("regions", r, lang)) for r in regions]
    figure.legend(handles=handles, loc="upper center", ncol=len(regions), frameon=False)
    figure.tight_layout(rect=(0, 0, 1, 0.93))
    return figure
