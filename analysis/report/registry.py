"""What the report holds: the tables and figures builders declare, and what a builder is given.

A builder is one function ``(study, context) -> list[ReportTable | ReportFigure]``; adding a
table to the report is writing one such function in a module of ``analysis.report.builders``
and listing it in :func:`analysis.report.build.builders`. Builders compute; they never write files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis.codebook.words import FigureTitles, TableTexts, Words
from analysis.maturity.classification import DEFAULT_DELTA
from analysis.study.load import Study

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Builder", "FigureTitles", "ReportContext", "ReportFigure", "ReportItem", "ReportTable", "TableTexts"]


@dataclass(frozen=True)
class ReportTable:
    """One table of the report.

    ``counts`` names the columns holding counts (small-cell suppression applies to them in
    publish mode), ``percents`` the columns holding proportions in [0, 1] (shown as %), and
    ``respondent_columns`` the columns holding respondent ids (dropped in publish mode).

    ``statistics`` names columns of test results computed from a row's counts (p-values,
    statistics, effect sizes): in publish mode they are hidden in every row with a hidden
    count, and in every row when a count of a denominator or total row is hidden.
    ``table_statistics`` names columns of tests over the whole table: hidden in every row as
    soon as any count is hidden. ``layout`` says how the counts add up (a
    :class:`analysis.tabulation.suppression.TableLayout` as a mapping; default ``frame.attrs["layout"]``),
    which columns derive from which counts, and which cells print a quantity other tables print
    too (``links``): every table with counts must have one, since without it suppression cannot
    know which relations between the counts a reader can use, and a table with counts and no
    layout is left out of a published report. ``respondent_level`` marks tables whose rows are
    single respondents (per-company scores, one-year-only lists, peer pairs, respondent x
    category matrices): they are left out in publish mode, whatever columns are dropped, and
    listed in the appendix. Builders declare; :mod:`analysis.report.publication` hides.

    Columns are named by id (``n``, ``share``, ``n_2021``); the writer gives them their headers
    (:meth:`header`): from the codebook's words in ``scope``, or, for ids of the table's own
    categories (``n:A`` of a cross-tabulation), from ``headers`` (in the report's language). So
    every column name above is an id.
    """

    name: str
    title_ja: str
    title_en: str
    frame: pd.DataFrame
    section: str = ""
    note_ja: str = ""
    note_en: str = ""
    counts: tuple[str, ...] = ()
    percents: tuple[str, ...] = ()
    respondent_columns: tuple[str, ...] = ()
    statistics: tuple[str, ...] = ()
    table_statistics: tuple[str, ...] = ()
    layout: Mapping[str, Any] | None = None
    respondent_level: bool = False  # rows are single respondents: left out in publish mode
    scope: str = "report"  # the word scope of its column ids (headers are given when written)
    headers: Mapping[str, str] = field(default_factory=dict)  # ids no word names (its own categories)

    def title(self, lang: str) -> str:
        return self.title_ja if lang == "ja" else self.title_en

    def header(self, column: object, words: Words) -> str:
        """The header of column id ``column``: the table's own, else its word in ``scope``."""
        return self.headers.get(str(column)) or words.header(column, self.scope)

    def labelled(self, words: Words) -> pd.DataFrame:
        """The frame with the headers a reader sees (``words``), for notebooks and checks."""
        return self.frame.rename(columns=lambda column: self.header(column, words))


@dataclass(frozen=True)
class ReportFigure:
    """One figure of the report: ``draw``, a function of no arguments that draws it (a matplotlib
    Figure), or an already drawn ``figure``. The writer saves PNG and SVG.

    Builders give ``draw`` (e.g. ``functools.partial(level_radar, scores, ...)``): the writer
    then draws each figure, saves it and lets it go before drawing the next, so that a report
    never holds all its figures at once, and a figure that publication leaves out is never
    drawn. :meth:`render` returns the figure either way.

    ``respondent_level`` marks figures that show one respondent (e.g. its radar chart).
    ``shows`` names the quantities (link keys such as ``("maturity_level", 2021, "A")``) whose
    size decides what the figure draws (a level drawn only when it has at least k companies):
    what is drawn tells which side of k each is on, so publication leaves the figure out when
    one of them is hidden.
    """

    name: str
    title_ja: str
    title_en: str
    figure: Figure | None = None
    section: str = ""
    respondent_level: bool = False  # shows single respondents: left out in publish mode
    shows: tuple[tuple, ...] = ()
    draw: Callable[[], Figure] | None = None

    def title(self, lang: str) -> str:
        return self.title_ja if lang == "ja" else self.title_en

    def render(self) -> Figure:
        """The figure: drawn now by ``draw`` (a new Figure at every call), else ``figure``."""
        if self.draw is not None:
            return self.draw()
        if self.figure is None:
            raise ValueError(f"report figure {self.name!r} has neither draw nor figure")
        return self.figure


@dataclass(frozen=True)
class ReportContext:
    """What one report build asks of every builder.

    ``lang`` is the report's language (``ja`` or ``en``); ``publish`` says the report will be
    published (builders then declare what publication must hide, and leave out what it may
    not show); ``previous`` is the prior year's study, for the year-over-year tables.
    ``maturity_delta`` is how far the sensitivity table moves the maturity thresholds, and
    ``min_industry_n`` the fewest companies of an industry a company's radar chart compares it
    with (``None``: the figure's default). ``per_respondent`` asks for the per-company tables and
    figures (one row or one figure per company: a radar per company, the per-company table and
    heatmap, the list of companies of one year only); without it the report holds aggregates
    only, whose size does not grow with the number of companies.
    """

    lang: str = "ja"
    publish: bool = False
    previous: Study | None = None
    maturity_delta: Fraction = DEFAULT_DELTA
    min_industry_n: int | None = None
    per_respondent: bool = False


ReportItem = ReportTable | ReportFigure
Builder = Callable[[Study, ReportContext], Sequence[ReportItem]]
