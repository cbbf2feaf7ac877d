"""Figures of the self-assessment: radar charts (per respondent, against the all-respondent and the
same-industry mean, as the IPA tool shows them; per maturity level), a levels × directives heatmap
of the mean directive profile of each level (:func:`level_mean_heatmap`, the report's), and a
respondents × directives heatmap ordered by level (:func:`level_heatmap`, one row per company: the
report draws it with ``--per-respondent`` only). Labels come from the codebook
(``short_ja``/``short_en``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.projections.polar import PolarAxes

from analysis.codebook import Codebook
from analysis.codebook.words import Words
from analysis.figures.plotting import OKABE_ITO, SEQUENTIAL, wrap_label  # importing it sets a font with Japanese glyphs
from analysis.maturity.classification import UNCLASSIFIED, rules_from_codebook
from analysis.maturity.scores import KEYS, wide_means

__all__ = [
    "directive_labels",
    "level_heatmap",
    "level_label",
    "level_mean_heatmap",
    "level_means",
    "level_radar",
    "radar_references",
    "RadarReferences",
    "respondent_radar",
    "DEFAULT_MIN_INDUSTRY_N",
]

DEFAULT_MIN_INDUSTRY_N = 3


def directive_labels(codebook: Codebook, lang: str = "ja") -> list[str]:
    """Short directive labels in directive order (``short_ja`` or ``short_en``)."""
    frame = codebook.directives.sort_values("directive")
    column = "short_ja" if lang == "ja" else "short_en"
    return [f"{d}. {label}" for d, label in zip(frame["directive"], frame[column], strict=True)]


def level_label(level: object, codebook: Codebook, lang: str = "ja") -> str:
    """The codebook label of a maturity level; the codebook's "unclassified" label for NA."""
    # pd.isna takes any scalar; pandas-stubs lists its own scalar types only, not object.
    if level is None or pd.isna(level) or level == UNCLASSIFIED:  # pyright: ignore[reportCallIssue, reportArgumentType]
        return Words(codebook, lang).label("unclassified", "maturity")
    return rules_from_codebook(codebook).rule(str(level)).label(lang)


def _figure(**kwargs) -> Figure:
    # An Agg canvas: a bare Figure's base canvas does not draw, so missing glyphs would go unseen.
    figure = Figure(layout="constrained", **kwargs)
    FigureCanvasAgg(figure)
    return figure


def _year(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    return frame[frame["fiscal_year"] == year]


def _polar(fig: Figure, position: int, labels: Sequence[str], codebook: Codebook) -> PolarAxes:
    ax = fig.add_subplot(position, projection="polar")
    assert isinstance(ax, PolarAxes)  # what projection="polar" makes
    angles = np.linspace(0, 2 * np.pi, len(labels), endpoint=False)
    ax.set_theta_offset(np.pi / 2)
    ax.set_theta_direction(-1)
    ax.set_xticks(angles)
    ax.set_xticklabels(labels, fontsize=8)
    ax.tick_params(axis="x", pad=9)  # directive names clear of the scale numbers on the outer ring
    ax.set_rlabel_position(180 / len(labels))  # scale numbers between two directives, not on a label
    values = list(codebook.scale_values)
    ax.set_ylim(0, max(values))
    ax.set_yticks(values)
    ax.set_yticklabels([str(v) for v in values], fontsize=7, color="0.4")
    rules = rules_from_codebook(codebook)
    ring = np.linspace(0, 2 * np.pi, 200)
    for _, value in rules.thresholds:
        ax.plot(ring, np.full_like(ring, float(value)), color="0.5", linestyle=":", linewidth=0.8)
    return ax


def _trace(ax, values: Sequence[float] | np.ndarray, label: str, fill: bool = False, **style) -> None:
    angles = np.linspace(0, 2 * np.pi, len(values), endpoint=False)
    closed_angles = np.append(angles, angles[0])
    closed = np.append(np.asarray(values, dtype=float), values[0])
    ax.plot(closed_angles, closed, marker="o", markersize=3, label=label, **style)
    if fill and not np.isnan(closed).any():
        ax.fill(closed_angles, closed, alpha=0.12, color=style.get("color"))


@dataclass(frozen=True)
class RadarReferences:
    """What every company's radar of one year compares it with, computed once for all companies:
    the directive means of each company (``wide``), the overall mean, and per industry its
    companies and their mean (:func:`radar_references`)."""

    fiscal_year: int
    wide: pd.DataFrame
    overall: np.ndarray
    industry_of: dict[str, str | None]
    industry_n: dict[str, int]
    industry_mean: dict[str, np.ndarray]


def _industry(value: object) -> str | None:
    # pd.isna takes any scalar; pandas-stubs lists its own scalar types only, not object.
    if value is None or pd.isna(value) or value == "":  # pyright: ignore[reportCallIssue, reportArgumentType]
        return None
    return str(value)


def radar_references(scores: pd.DataFrame, respondents: pd.DataFrame, fiscal_year: int) -> RadarReferences:
    """The references of the radars of ``fiscal_year`` (see :class:`RadarReferences`)."""
    wide = wide_means(_year(scores, fiscal_year))
    roster = _year(respondents, fiscal_year).drop_duplicates(KEYS).set_index("respondent_id")["industry"]
    industry_of = {str(rid): _industry(value) for rid, value in roster.items()}
    rids = [str(rid) for rid, _ in wide.index]
    industries = pd.Series([industry_of.get(rid) for rid in rids], index=wide.index, dtype="object")
    grouped = wide.groupby(industries.to_numpy(), dropna=True)  # companies without an industry: no group
    return RadarReferences(
        fiscal_year=fiscal_year,
        wide=wide,
        overall=wide.mean(axis=0, skipna=True).to_numpy(),
        industry_of=industry_of,
        industry_n={str(k): int(v) for k, v in grouped.size().items()},
        industry_mean={str(k): row.to_numpy() for k, row in grouped.mean().iterrows()},
    )


def respondent_radar(
    scores: pd.DataFrame | None,
    respondents: pd.DataFrame | None,
    respondent_id: str,
    fiscal_year: int,
    codebook: Codebook,
    lang: str = "ja",
    min_industry_n: int = DEFAULT_MIN_INDUSTRY_N,
    references: RadarReferences | None = None,
) -> Figure:
    """Radar of one respondent's directive means against the all-respondent mean and its industry's.

    The industry mean covers the respondents of the same industry that year (this one included);
    when they are fewer than ``min_industry_n`` the overall mean is shown instead, and the panel
    says so. ``n`` is shown beside every mean. For many companies, compute
    :func:`radar_references` once and pass it as ``references`` (``scores`` and ``respondents``
    are then not read): each radar then costs the same whatever the number of companies.
    """
    if references is None:
        if scores is None or respondents is None:
            raise ValueError("respondent_radar needs scores and respondents, or references")
        references = radar_references(scores, respondents, fiscal_year)
    elif references.fiscal_year != fiscal_year:
        raise ValueError(f"references are of {references.fiscal_year}, not {fiscal_year}")
    words = Words(codebook, lang)  # captions and legends: figure:<key> of the maturity scope
    wide = references.wide
    if (respondent_id, fiscal_year) not in wide.index:
        raise KeyError(f"{respondent_id} has no self-assessment in {fiscal_year}")
    own = wide.loc[(respondent_id, fiscal_year), :].to_numpy()
    overall = references.overall
    total = len(wide)
    industry = references.industry_of.get(respondent_id)
    n_peers = references.industry_n.get(industry, 0) if industry is not None else 0
    industry_name = (
        codebook.label("industries", industry, lang) if industry else words.label("figure:no_industry", "maturity")
    )

    labels = directive_labels(codebook, lang)
    figure = _figure(figsize=(12, 5.6))
    title = words.label("figure:respondent", "maturity", rid=respondent_id, year=fiscal_year)
    left = _polar(figure, 121, labels, codebook)
    _trace(left, overall, words.label("figure:overall", "maturity", n=total), fill=True, color="0.45", linestyle="--")
    _trace(left, own, title, color=OKABE_ITO[0], linewidth=2)
    left.set_title(words.label("figure:vs_overall", "maturity"), pad=22)
    right = _polar(figure, 122, labels, codebook)
    if industry is not None and n_peers >= min_industry_n:
        _trace(
            right,
            references.industry_mean[industry],
            words.label("figure:industry", "maturity", industry=industry_name, n=n_peers),
            fill=True,
            color=OKABE_ITO[1],
            linestyle="--",
        )
    else:
        _trace(
            right,
            overall,
            words.label(
                "figure:fallback", "maturity", industry=industry_name, n=n_peers, min=min_industry_n, total=total
            ),
            fill=True,
            color="0.45",
            linestyle="--",
        )
    _trace(right, own, title, color=OKABE_ITO[0], linewidth=2)
    right.set_title(words.label("figure:vs_industry", "maturity"), pad=22)
    for ax in (left, right):
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), fontsize=8, frameon=False)
    figure.suptitle(title)
    return figure


def _levels_in_order(codebook: Codebook) -> list[str]:
    return [*rules_from_codebook(codebook).levels, UNCLASSIFIED]


def _levels_of(wide: pd.DataFrame, maturity: pd.DataFrame, fiscal_year: int) -> pd.Series:
    """Level of every row of ``wide`` (UNCLASSIFIED where none is given)."""
    levels = _year(maturity, fiscal_year).drop_duplicates(KEYS).set_index(KEYS)["level"].reindex(wide.index)
    return levels.astype("object").where(levels.notna(), UNCLASSIFIED)


def level_radar(
    scores: pd.DataFrame,
    maturity: pd.DataFrame,
    fiscal_year: int,
    codebook: Codebook,
    lang: str = "ja",
    min_n: int = 1,
    show_n: bool = True,
) -> Figure:
    """Radar of the mean directive profile of each maturity level (n per level in the legend).

    For publication: a level of fewer than ``min_n`` companies is not drawn (its mean profile
    describes those companies), and ``show_n=False`` leaves the sizes (which suppression may
    hide in the tables) out of the legend.
    """
    words = Words(codebook, lang)  # captions and legends: figure:<key> of the maturity scope
    wide = wide_means(_year(scores, fiscal_year))
    levels = _levels_of(wide, maturity, fiscal_year)
    figure = _figure(figsize=(7.5, 7))
    ax = _polar(figure, 111, directive_labels(codebook, lang), codebook)
    order = _levels_in_order(codebook)
    palette = sns.color_palette("viridis", n_colors=len(order))
    for colour, level in zip(palette, order, strict=True):
        members = wide[levels == level]
        if not len(members) or len(members) < min_n:
            continue
        label = (
            words.label("figure:level_n", "maturity", label=level_label(level, codebook, lang), n=len(members))
            if show_n
            else level_label(level, codebook, lang)
        )
        _trace(ax, members.mean(axis=0, skipna=True).to_numpy(), label, fill=True, color=colour, linewidth=2)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.06), fontsize=9, frameon=False, ncol=2)
    ax.set_title(words.label("figure:by_level", "maturity"), pad=22)
    return figure


def level_heatmap(
    scores: pd.DataFrame,
    maturity: pd.DataFrame,
    fiscal_year: int,
    codebook: Codebook,
    lang: str = "ja",
    hide_ids: bool = False,
) -> Figure:
    """Heatmap of respondents (rows, ordered by level then id) × directives (columns).

    ``hide_ids`` labels rows by level and a running number instead of respondent ids.
    """
    words = Words(codebook, lang)  # captions and legends: figure:<key> of the maturity scope
    wide = wide_means(_year(scores, fiscal_year))
    levels = _levels_of(wide, maturity, fiscal_year)
    order = _levels_in_order(codebook)
    frame = wide.reset_index().assign(
        _level=levels.to_numpy(), _rank=levels.map({level: i for i, level in enumerate(order)}).to_numpy()
    )
    frame = frame.sort_values(["_rank", "respondent_id"], kind="stable")
    counters: dict[str, int] = {}
    row_labels = []
    shorts: dict[object, str] = {
        level: level_label(level, codebook, lang) if level == UNCLASSIFIED else str(level) for level in order
    }
    for rid, level in zip(frame["respondent_id"], frame["_level"], strict=True):
        short = shorts.get(level, str(level))
        counters[short] = counters.get(short, 0) + 1
        row_labels.append(f"{short}-{counters[short]}" if hide_ids else f"{rid} ({short})")
    values = frame[list(wide.columns)].to_numpy(dtype=float)
    figure = _figure(figsize=(10, 1.6 + 0.42 * max(len(frame), 1)))
    ax = _directive_heatmap(figure, values, row_labels, codebook, lang, shrink=0.6)
    boundaries = np.flatnonzero(np.diff(frame["_rank"].to_numpy())) + 1
    for row in boundaries.tolist():
        ax.axhline(row, color="black", linewidth=1.5)
    ax.set_title(words.label("figure:heatmap", "maturity"))
    return figure


def level_means(
    scores: pd.DataFrame, maturity: pd.DataFrame, fiscal_year: int, codebook: Codebook
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per maturity level (rows, in the codebook's order, unclassified last; only levels with
    companies): the mean over its companies of each directive mean (columns: directives), and
    how many of its companies answered each directive (the second frame; its ``n`` column is
    the level's companies).

    The numbers of :func:`level_mean_heatmap`, and the means of the per-company table averaged
    by level: computed once over all companies, not company by company.
    """
    wide = wide_means(_year(scores, fiscal_year))
    levels = _levels_of(wide, maturity, fiscal_year).to_numpy()
    grouped = wide.groupby(levels, sort=False)
    present = set(levels.tolist())
    order = [level for level in _levels_in_order(codebook) if level in present]
    means = grouped.mean().reindex(order)
    answered = grouped.count().reindex(order).assign(n=grouped.size().reindex(order))
    return means, answered


def level_mean_heatmap(
    scores: pd.DataFrame,
    maturity: pd.DataFrame,
    fiscal_year: int,
    codebook: Codebook,
    lang: str = "ja",
    min_n: int = 1,
    show_n: bool = True,
) -> Figure:
    """Heatmap of maturity levels (rows) × directives (columns): each level's mean directive
    profile (:func:`level_means`), one row per level whatever the number of companies.

    For publication: a level of fewer than ``min_n`` companies is not drawn and a cell of fewer
    than ``min_n`` answering companies is left blank (such a mean describes those companies);
    ``show_n=False`` leaves the levels' sizes out of the row labels.
    """
    words = Words(codebook, lang)  # captions and legends: figure:<key> of the maturity scope
    means, answered = level_means(scores, maturity, fiscal_year, codebook)
    keep = answered["n"] >= min_n
    means, answered = means[keep], answered[keep]
    values = means.to_numpy(dtype=float)
    values[answered[list(means.columns)].to_numpy() < min_n] = np.nan
    rows = [
        words.label("figure:level_n", "maturity", label=level_label(level, codebook, lang), n=int(n))
        if show_n
        else level_label(level, codebook, lang)
        for level, n in zip(means.index, answered["n"], strict=True)
    ]
    figure = _figure(figsize=(10, 1.8 + 0.5 * max(len(rows), 1)))
    ax = _directive_heatmap(figure, values, rows, codebook, lang, shrink=0.8)
    ax.set_title(words.label("figure:level_heatmap", "maturity"))
    return figure


def _directive_heatmap(
    figure: Figure, values: np.ndarray, rows: list[str], codebook: Codebook, lang: str, shrink: float
) -> Axes:
    """Means on the answer scale, one column per directive, annotated; the axes drawn on."""
    scale = codebook.scale_values
    ax = figure.add_subplot(111)
    sns.heatmap(
        pd.DataFrame(values, index=rows, columns=directive_labels(codebook, lang)),
        ax=ax,
        vmin=min(scale),
        vmax=max(scale),
        cmap=SEQUENTIAL,
        annot=True,
        fmt=".2f",
        linewidths=0.5,
        linecolor="white",
        cbar_kws={"shrink": shrink},
        annot_kws={"fontsize": 8},
    )
    # Horizontal and wrapped (not slanted): neighbouring directive names never run into each other
    ax.set_xticklabels([wrap_label(t.get_text(), 7) for t in ax.get_xticklabels()], rotation=0, ha="center", fontsize=8)
    ax.set_yticklabels(ax.get_yticklabels(), rotation=0, fontsize=8)
    ax.set_xlabel("")
    ax.set_ylabel("")
    return ax
