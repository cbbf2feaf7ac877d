"""What the report holds: tables and figures declared by builders registered here.

A builder is one function ``(study, context) -> list[ReportTable | ReportFigure]``; adding a
table to the report is writing one such function in a module of ``analysis.report.builders``
and decorating it with :func:`register`. Builders compute; they never write files.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["ReportContext", "ReportFigure", "ReportTable", "builders", "register"]


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

    def title(self, lang: str) -> str:
        return self.title_ja if lang == "ja" else self.title_en


@dataclass(frozen=True)
class ReportFigure:
    """One figure of the report (a matplotlib Figure; the writer saves PNG and SVG).

    ``respondent_level`` marks figures that show one respondent (e.g. its radar chart).
    ``shows`` names the quantities (link keys such as ``("maturity_level", 2021, "A")``) whose
    size decides what the figure draws (a level drawn only when it has at least k companies):
    what is drawn tells which side of k each is on, so publication leaves the figure out when
    one of them is hidden.
    """

    name: str
    title_ja: str
    title_en: str
    figure: Any
    section: str = ""
    respondent_level: bool = False  # shows single respondents: left out in publish mode
    shows: tuple[tuple, ...] = ()

    def title(self, lang: str) -> str:
        return self.title_ja if lang == "ja" else self.title_en


@dataclass(frozen=True)
class ReportContext:
    """Options of one report build. ``previous`` is the prior year's Study, when given."""

    lang: str = "ja"
    publish: bool = False
    previous: Any = None
    options: dict[str, Any] = field(default_factory=dict)


Builder = Callable[[Any, ReportContext], list]
_REGISTRY: dict[str, tuple[int, Builder]] = {}


def register(name: str, order: int = 100) -> Callable[[Builder], Builder]:
    """Register a builder under ``name``; ``order`` sets its place in the report."""

    def decorate(builder: Builder) -> Builder:
        _REGISTRY[name] = (order, builder)
        return builder

    return decorate


def builders() -> list[tuple[str, Builder]]:
    """Every registered builder, in report order (imports ``analysis.report.builders.*``)."""
    from analysis.report import builders as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    return [(name, fn) for name, (order, fn) in sorted(_REGISTRY.items(), key=lambda kv: (kv[1][0], kv[0]))]
