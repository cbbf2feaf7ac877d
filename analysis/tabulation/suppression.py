"""Small-cell suppression of count tables for publication.

This module is the per-table toolbox: one table's identities and inequalities
(:func:`table_constraints`), the columns computed from its counts (:func:`derived_masks`), and
:func:`suppress_counts` for a table on its own. A report is published by
:mod:`analysis.report.publication`, which links the tables and proves protection over all of them.

A count below ``k`` is hidden (primary suppression); more cells are then hidden
(complementary suppression) until no hidden cell can be worked out from what stays visible:
the other cells and the row and column totals, whether those totals are printed in the
frame or published elsewhere. Percentages tied to a hidden count are hidden as well.

Choices (documented because a reader of a published table needs them):

* **Zero stays visible.** A count of 0 is not a small cell: it identifies nobody, and
  hiding every 0 would empty most tables of ten respondents. Pass ``suppress_zero=True``
  where a 0 itself discloses something (e.g. "no company of group X did Y" when X is one
  company). Zeros may still be hidden as complements, but only when no non-zero cell will do.
* **Totals.** A total row or column is named in a :class:`TableLayout` (also read from
  ``frame.attrs["layout"]``), with the columns that add up to the total column
  (``part_columns``; other count columns stand alone) and, for a multiple-response table, its
  option rows and answered row. With ``margins=True`` row and column totals are assumed to be
  known to the reader even when the frame does not print them or hides them (they usually
  appear in another table: the maturity level distribution is the total row of every
  pre-survey-by-maturity table), so the proof treats every total cell as a known constant, and
  a line without a printed total as having a known sum.
* **Without a layout** the module cannot know how the counts add up, and no choice is safe
  against relations it is not told about (a column may be the sum of some others, or bound
  another). It then assumes the reader knows the sum of every count column and of every row
  over all count columns, the total row and column guessed by :func:`detect_layout` (a
  printed total is a known constant, its parts add up to it), and every equation "column t
  equals the sum of columns S" that holds in all rows. Every one of these equations is
  true of the table, so assuming them can only hide more, never less, than the truth needs;
  but a relation outside them (e.g. a row that is the sum of some other rows, or ``n <= N``)
  is not protected against: builders of published tables must declare a layout
  (:func:`analysis.report.build.publishable` warns when a table has none).
* **Inequalities.** A reader also knows that a count is at most another: an option of a
  multiple-response question is chosen by at most the respondents who answered it, and every
  respondent who answered chose at least one option (``answered <= sum of options``); a layout
  may add its own (``row_inequalities``, e.g. ``n <= N``). They take part in the proof.
* **Proof.** :func:`protection_intervals` solves, for every hidden cell, the smallest and
  largest value consistent with the visible cells, the totals, the inequalities and
  non-negativity (a linear programme); a cell is recoverable when that interval holds a single
  whole number.
  :func:`suppress_counts` keeps hiding cells until no hidden cell is recoverable.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import UnprotectedCellsWarning
from analysis.tabulation.linear import OPTIMAL, UNBOUNDED, LinearProgramme

__all__ = [
    "TableLayout",
    "derived_masks",
    "detect_layout",
    "hidden_mask",
    "is_recoverable",
    "protection_intervals",
    "percent_mask",
    "suppress_counts",
    "table_constraints",
]

Cell = tuple[int, str]  # (row position, count column)


@dataclass(frozen=True)
class TableLayout:
    """How the counts of a frame add up.

    Parameters
    ----------
    total_row
        Index label of the row holding the column totals (sum over ``additive_rows``).
    total_column
        Count column holding each row's total over the other count columns.
    additive_rows
        Index labels of the rows that add up to ``total_row`` (default: every other row).
        A multiple-response table's option rows do not add up; only its answered and
        missing rows do.
    percent_of
        Percent column -> the count column it is a percentage of.
    denominator_rows
        Index labels of rows whose counts are the denominators of column percentages
        (default: ``total_row``).
    dependent_columns
        Other columns computed from a row's counts (a p-value, a statistic): hidden in every
        row where a count is hidden, and in every row when a count of a denominator row (or
        the total row) is hidden, since a row's test uses those too.
    part_columns
        Count columns that add up to ``total_column`` in every row (default: every other
        count column). A count column that is neither a part nor the total stands alone: only
        its column sum is assumed known.
    option_rows, answered_row
        A multiple-response table: the option rows (each at most the answered row, in every
        column) and the answered row (at most the sum of the options). Inferred when not
        given from ``additive_rows``: the rows that are neither additive nor the total are the
        options, and the first of ``denominator_rows`` that is additive is the answered row.
    row_inequalities
        ``(smaller columns, larger columns)`` pairs: in every row the sum of the first is at
        most the sum of the second (e.g. ``(("n",), ("N",))``).
    derived_from
        Column -> the count columns it is computed from in the same row (a confidence interval,
        a rate): hidden wherever one of them is hidden in that row or in a denominator row.
    links
        ``(row, count column, key)`` triples: the cell holds the quantity named by ``key`` (a
        tuple, e.g. ``("maturity_level", 2021, "A")``), which other tables may publish too.
        :mod:`analysis.report.publication` hides a key everywhere or nowhere.
    listing
        For a table with one row per unit (no counts): ``(key prefix, columns)``; counting its
        rows by the values of ``columns`` gives the quantity ``(*prefix, *values)``.
    identities
        ``(total key, part keys)`` pairs: quantities of the report that add up across tables
        (a region's count is the sum of its countries' counts).
    """

    total_row: Hashable | None = None
    total_column: str | None = None
    additive_rows: tuple[Hashable, ...] | None = None
    percent_of: Mapping[str, str] = field(default_factory=dict)
    denominator_rows: tuple[Hashable, ...] | None = None
    dependent_columns: tuple[str, ...] = ()
    part_columns: tuple[str, ...] | None = None
    option_rows: tuple[Hashable, ...] | None = None
    answered_row: Hashable | None = None
    row_inequalities: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()
    derived_from: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    links: tuple[tuple[Hashable, str, tuple], ...] = ()
    listing: tuple[tuple, tuple[str, ...]] | None = None
    identities: tuple[tuple[tuple, tuple[tuple, ...]], ...] = ()

    @classmethod
    def from_mapping(cls, spec: Mapping[str, Any]) -> TableLayout:
        """Build a layout from a plain dict (as stored in ``frame.attrs["layout"]``).

        The values are plain data (JSON-like lists, dicts, labels) of no declared type.
        """

        def as_tuple(value: Iterable[Hashable] | None) -> tuple | None:
            return None if value is None else tuple(value)

        return cls(
            total_row=spec.get("total_row"),
            total_column=spec.get("total_column"),
            additive_rows=as_tuple(spec.get("additive_rows")),
            percent_of=dict(spec.get("percent_of") or {}),
            denominator_rows=as_tuple(spec.get("denominator_rows")),
            dependent_columns=tuple(spec.get("dependent_columns") or ()),
            part_columns=as_tuple(spec.get("part_columns")),
            option_rows=as_tuple(spec.get("option_rows")),
            answered_row=spec.get("answered_row"),
            row_inequalities=tuple(
                (tuple(small), tuple(large)) for small, large in (spec.get("row_inequalities") or ())
            ),
            derived_from={c: tuple(s) for c, s in dict(spec.get("derived_from") or {}).items()},
            links=tuple((row, column, _as_key(key)) for row, column, key in (spec.get("links") or ())),
            listing=None if not spec.get("listing") else (_as_key(spec["listing"][0]), tuple(spec["listing"][1])),
            identities=tuple(
                (_as_key(total), tuple(_as_key(p) for p in parts)) for total, parts in (spec.get("identities") or ())
            ),
        )

    def renamed(self, name: Callable[[str], str]) -> TableLayout:
        """The same layout with every column named ``name(column)`` (column ids to headers)."""

        def names(columns: Iterable[str]) -> tuple[str, ...]:
            return tuple(name(c) for c in columns)

        return replace(
            self,
            total_column=None if self.total_column is None else name(self.total_column),
            percent_of={name(c): name(of) for c, of in self.percent_of.items()},
            dependent_columns=names(self.dependent_columns),
            part_columns=None if self.part_columns is None else names(self.part_columns),
            row_inequalities=tuple((names(small), names(large)) for small, large in self.row_inequalities),
            derived_from={name(c): names(sources) for c, sources in self.derived_from.items()},
            links=tuple((row, name(column), key) for row, column, key in self.links),
            listing=None if self.listing is None else (self.listing[0], names(self.listing[1])),
        )

    def as_mapping(self) -> dict[str, object]:
        """The layout as a plain dict, for ``frame.attrs["layout"]``."""
        return {
            "total_row": self.total_row,
            "total_column": self.total_column,
            "additive_rows": None if self.additive_rows is None else list(self.additive_rows),
            "percent_of": dict(self.percent_of),
            "denominator_rows": None if self.denominator_rows is None else list(self.denominator_rows),
            "dependent_columns": list(self.dependent_columns),
            "part_columns": None if self.part_columns is None else list(self.part_columns),
            "option_rows": None if self.option_rows is None else list(self.option_rows),
            "answered_row": self.answered_row,
            "row_inequalities": [[list(small), list(large)] for small, large in self.row_inequalities],
            "derived_from": {c: list(s) for c, s in self.derived_from.items()},
            "links": [[row, column, list(key)] for row, column, key in self.links],
            "listing": None if self.listing is None else [list(self.listing[0]), list(self.listing[1])],
            "identities": [[list(total), [list(p) for p in parts]] for total, parts in self.identities],
        }


def _as_key(key: object) -> tuple:
    """A link key as a tuple (JSON gives lists; nested lists become tuples too)."""
    if isinstance(key, list | tuple):
        return tuple(_as_key(part) if isinstance(part, list | tuple) else part for part in key)
    return (key,)


@dataclass(frozen=True)
class _Relation:
    """``sum(parts) - total == constant`` over the cells of one line of the table."""

    parts: tuple[Cell, ...]
    total: Cell | None
    constant: int  # the known value of the sum when ``total`` is None (a margin printed elsewhere)

    @property
    def cells(self) -> tuple[Cell, ...]:
        return self.parts + ((self.total,) if self.total is not None else ())


@dataclass(frozen=True)
class _Inequality:
    """``sum(smaller) <= sum(larger)``, known to the reader."""

    smaller: tuple[Cell, ...]
    larger: tuple[Cell, ...]


@dataclass(frozen=True)
class _Structure:
    """What the reader knows of a table besides its visible cells."""

    relations: list[_Relation]
    inequalities: list[_Inequality]
    known: frozenset[Cell]  # cells known to the reader even when hidden (totals, margins=True)
    total_cells: set[Cell]


# -- public API -----------------------------------------------------------------------------------


def suppress_counts(
    frame: pd.DataFrame,
    count_columns: Sequence[str],
    k: int = 5,
    margins: bool = True,
    *,
    percent_columns: Sequence[str] | Mapping[str, str] = (),
    layout: TableLayout | None = None,
    suppress_zero: bool = False,
    name: str | None = None,
) -> pd.DataFrame:
    """Return a copy of ``frame`` with small counts and their complements hidden (NA).

    Parameters
    ----------
    frame
        The table; its other columns (labels) are kept as they are.
    count_columns
        The columns holding counts (whole numbers >= 0; NA cells are left alone).
    k
        Counts from 1 to ``k - 1`` are hidden (0 too when ``suppress_zero``).
    margins
        Whether row and column totals are known to the reader (printed here or elsewhere);
        when False only the totals found in the frame are protected against.
    percent_columns
        Columns of proportions or percentages. A mapping ties each to its count column; a
        plain list is tied through ``layout.percent_of`` when given, otherwise a listed
        column is hidden in every row where any count is hidden (and whole, when a total is).
    layout
        Totals and denominators; default ``frame.attrs["layout"]``, else detected.
    suppress_zero
        Hide zero counts as well (see the module notes).
    name
        The table's name, for warnings.

    Returns
    -------
    DataFrame
        Count columns as ``Int64`` and percent columns as ``Float64``, hidden cells NA;
        ``attrs["suppression"]`` records k, the number of cells hidden and ``unprotected``
        (a hidden count the totals still give away; also warned as
        :class:`~analysis.errors.UnprotectedCellsWarning`, in Japanese and English).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    count_columns = list(count_columns)
    values = _count_values(frame, count_columns)
    given = layout is not None or isinstance(frame.attrs.get("layout"), Mapping)
    layout = _resolve_layout(frame, count_columns, values, layout)
    structure = _structure(frame, count_columns, values, layout, margins, given)

    primary = {cell for cell, value in values.items() if (0 < value < k) or (suppress_zero and value == 0)}
    where_ja, where_en = (f"表 {name!r}: ", f"table {name!r}: ") if name else ("", "")
    unprotected = False
    # Cells the known totals fix whatever is hidden (e.g. the answered row of a question every
    # respondent answered equals the known total row): no suppression can protect them, and
    # trying would hide the whole table. They are constants of the proof from here on.
    forced = _determined(set(values), structure, values) if margins else set()
    if forced & primary:
        unprotected = True
        warnings.warn(
            UnprotectedCellsWarning(
                f"{where_ja}秘匿すべき件数が公表される合計と等しく、秘匿しても読者に分かります。"
                "合計の公表を減らすか、区分を統合してください",
                f"{where_en}some hidden counts equal a published total and cannot be protected "
                "(the totals known to readers fix them); publish fewer totals or merge categories",
            ),
            stacklevel=2,
        )
    structure = replace(structure, known=structure.known | frozenset(forced))
    hidden = set(primary)
    hidden = _complete(hidden, structure, values)
    # The totals themselves: known to readers of the other tables, but a reader of this table
    # alone must not work out a hidden total either (it may be published nowhere else). So a
    # hidden total is also checked against the printed cells only (no margins assumed).
    printed_only = _structure(frame, count_columns, values, layout, False, given) if margins else None
    total_cells = set(structure.known) - set(forced)
    while True:
        determined = _determined(hidden, structure, values)
        checked = structure
        if not determined and printed_only is not None:
            determined = _determined(hidden, printed_only, values) & total_cells
            checked = printed_only
        if not determined:
            break
        extra = _best_extra(determined, hidden, checked, values)
        if extra is None and checked is printed_only:
            # A total no line protects (e.g. no printed line holds it): hide a non-known cell
            # of its row or column through the full structure instead.
            extra = _best_extra(determined, hidden, replace(structure, known=frozenset(forced)), values)
        if extra is None:
            unprotected = True
            warnings.warn(
                UnprotectedCellsWarning(
                    f"{where_ja}合計から秘匿した件数が分かってしまい、追加の秘匿でも守れません。"
                    "合計の公表を減らすか、区分を統合してください",
                    f"{where_en}some hidden counts equal a published total and cannot be protected; "
                    "publish fewer totals or merge categories",
                ),
                stacklevel=2,
            )
            break
        hidden = _complete(hidden | {extra}, structure, values)
        if printed_only is not None:
            hidden = _complete(hidden, printed_only, values)

    out = frame.copy()
    positions = {label: pos for pos, label in enumerate(frame.index)}
    for column in count_columns:
        column_values = pd.array([values.get((pos, column)) for pos in range(len(frame))], dtype="Int64")
        mask = np.array([(pos, column) in hidden for pos in range(len(frame))], dtype=bool)
        column_values[mask] = pd.NA
        out[column] = column_values
    masks = derived_masks(frame, count_columns, values, hidden, layout, percent_columns, positions=positions)
    for column, mask in masks.items():
        if column in layout.percent_of or column in percent_columns:
            # pandas-stubs has no overload of pd.array for a Series with a masked dtype (pandas takes it).
            percent = pd.array(pd.to_numeric(frame[column], errors="coerce"), dtype="Float64")  # pyright: ignore[reportCallIssue, reportArgumentType]
            percent[mask] = pd.NA
            out[column] = percent
        else:
            out[column] = out[column].mask(mask)
    out.attrs = dict(frame.attrs)
    out.attrs["layout"] = layout.as_mapping()
    out.attrs["suppression"] = {
        "k": k,
        "suppress_zero": suppress_zero,
        "primary": len(primary),
        "complementary": len(hidden - primary),
        "unprotected": unprotected,
    }
    return out


def derived_masks(
    frame: pd.DataFrame,
    counts: Sequence[str],
    values: Mapping[Cell, int],
    hidden: set[Cell],
    layout: TableLayout,
    percents: Sequence[str] | Mapping[str, str] = (),
    statistics: Sequence[str] = (),
    table_statistics: Sequence[str] = (),
    positions: Mapping[Hashable, int] | None = None,
) -> dict[str, np.ndarray]:
    """Rows to hide in every column computed from counts, given the hidden count ``cells``.

    * a percentage (``layout.percent_of`` or ``percents``): with its count, or with its
      denominator (see :func:`percent_mask`);
    * ``layout.derived_from`` (a column computed from named counts of its row, e.g. an
      interval): wherever one of them is hidden in the row or in a denominator row (or total);
    * ``layout.dependent_columns`` and ``statistics`` (a test of a row): in every row with a
      hidden count, and in every row when a denominator or total count is hidden;
    * ``table_statistics`` (a test of the whole table): wholly, as soon as any count is hidden.

    ``positions`` maps the layout's row labels to positions (default: they are positions).
    """
    n = len(frame)
    counts = list(counts)
    positions = dict(positions) if positions is not None else {p: p for p in range(n)}
    if not isinstance(percents, Mapping):
        percents = [c for c in percents if c in frame]
    masks = percent_mask(frame, counts, dict(values), hidden, percents, layout, positions)
    row_hidden = np.array([any((p, c) in hidden for c in counts) for p in range(n)], dtype=bool)
    margins = [positions[label] for label in _margin_rows(layout)]
    margin_hidden = any(row_hidden[p] for p in margins)
    for column, sources in layout.derived_from.items():
        if column in frame:
            own = np.array([any((p, c) in hidden for c in sources) for p in range(n)], dtype=bool)
            denominator = any((p, c) in hidden for p in margins for c in sources)
            masks[column] = own | denominator
    for column in (*layout.dependent_columns, *statistics):
        if column in frame and column not in masks:
            masks[column] = np.ones(n, dtype=bool) if margin_hidden else row_hidden.copy()
    if row_hidden.any():
        for column in table_statistics:
            if column in frame:
                masks[column] = np.ones(n, dtype=bool)
    return masks


def detect_layout(frame: pd.DataFrame, count_columns: Sequence[str]) -> TableLayout:
    """Find a total column and a total row by their sums (see :class:`TableLayout`)."""
    count_columns = list(count_columns)
    values = _count_values(frame, count_columns)
    return _detect(frame, count_columns, values)


def hidden_mask(original: pd.DataFrame, suppressed: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """True where ``suppressed`` hides a value that ``original`` has."""
    return suppressed[list(columns)].isna() & original[list(columns)].notna()


def protection_intervals(
    original: pd.DataFrame,
    suppressed: pd.DataFrame,
    count_columns: Sequence[str],
    *,
    layout: TableLayout | None = None,
    margins: bool = True,
) -> pd.DataFrame:
    """For every hidden count, the range of values a reader could infer for it.

    The reader knows the visible counts, the totals (``margins``; then a hidden total is a
    known constant, left out of the result: no table can protect it), the inequalities of the
    layout and that counts are not negative. Returns one row per hidden cell: ``row`` (index
    label), ``column``, ``value`` (the true count), ``lower``, ``upper`` (``inf`` when nothing
    the reader knows bounds the cell) and ``recoverable`` (the range holds one whole number only).
    """
    count_columns = list(count_columns)
    values = _count_values(original, count_columns)
    if layout is None and "layout" in suppressed.attrs:
        layout = TableLayout.from_mapping(suppressed.attrs["layout"])
    given = layout is not None or isinstance(original.attrs.get("layout"), Mapping)
    layout = _resolve_layout(original, count_columns, values, layout)
    structure = _structure(original, count_columns, values, layout, margins, given)
    mask = hidden_mask(original, suppressed, count_columns)
    hidden = {
        (pos, column) for column in count_columns for pos, flag in enumerate(mask[column].to_numpy()) if flag
    } - structure.known
    bounds = _bounds(hidden, structure, values)
    rows = []
    for (pos, column), (lower, upper) in sorted(bounds.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        rows.append(
            {
                "row": original.index[pos],
                "column": column,
                "value": values[(pos, column)],
                "lower": lower,
                "upper": upper,
                "recoverable": _single_integer(lower, upper),
            }
        )
    return pd.DataFrame(rows, columns=["row", "column", "value", "lower", "upper", "recoverable"])


def is_recoverable(
    original: pd.DataFrame,
    suppressed: pd.DataFrame,
    count_columns: Sequence[str],
    *,
    layout: TableLayout | None = None,
    margins: bool = True,
) -> bool:
    """Whether any hidden count of ``suppressed`` can be worked out exactly (see
    :func:`protection_intervals`)."""
    intervals = protection_intervals(original, suppressed, count_columns, layout=layout, margins=margins)
    return bool(intervals["recoverable"].any())


def table_constraints(
    n_rows: int, count_columns: Sequence[str], present: Iterable[Cell], layout: TableLayout
) -> tuple[list[dict[Cell, float]], list[dict[Cell, float]]]:
    """What a reader knows of a table's counts besides their values, as linear rows over cells:
    equations ``sum(coefficient * cell) == 0`` (each printed total is the sum of its parts) and
    inequalities ``... <= 0`` (an option at most the answered, ``row_inequalities``). Only the
    printed totals are used: a total published in another table is linked there by a key
    (:mod:`analysis.report.publication`). ``layout`` rows are positions ``0..n_rows-1``."""
    frame = pd.DataFrame(index=pd.RangeIndex(n_rows))
    values = dict.fromkeys(present, 0)
    columns = list(count_columns)
    layout = _resolve_layout(frame.assign(**{c: 0 for c in columns}), columns, values, layout)
    structure = _structure(frame, columns, values, layout, margins=False, given=True)
    equations = []
    for relation in structure.relations:
        row: dict[Cell, float] = {}
        for cell in relation.parts:
            row[cell] = row.get(cell, 0.0) + 1.0
        if relation.total is not None:
            row[relation.total] = row.get(relation.total, 0.0) - 1.0
        equations.append(row)
    inequalities = []
    for inequality in structure.inequalities:
        row = {}
        for cell in inequality.smaller:
            row[cell] = row.get(cell, 0.0) + 1.0
        for cell in inequality.larger:
            row[cell] = row.get(cell, 0.0) - 1.0
        inequalities.append(row)
    return equations, inequalities


# -- structure --------------------------------------------------------------------------------------


def _count_values(frame: pd.DataFrame, count_columns: Sequence[str]) -> dict[Cell, int]:
    missing = [c for c in count_columns if c not in frame.columns]
    if missing:
        raise KeyError(f"count columns not in the frame: {missing}")
    if not frame.index.is_unique:
        raise ValueError("the frame's index must be unique (rows are named by it)")
    values: dict[Cell, int] = {}
    for column in count_columns:
        numbers = pd.to_numeric(frame[column], errors="raise")
        for pos, value in enumerate(numbers.tolist()):
            if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
                continue
            if value < 0 or float(value) != int(value):
                raise ValueError(f"{column!r} holds {value!r}; counts must be whole numbers >= 0")
            values[(pos, column)] = int(value)
    return values


def _resolve_layout(
    frame: pd.DataFrame, count_columns: list[str], values: dict[Cell, int], layout: TableLayout | None
) -> TableLayout:
    if layout is None and isinstance(frame.attrs.get("layout"), Mapping):
        layout = TableLayout.from_mapping(frame.attrs["layout"])
    if layout is None:
        # No layout named: see "Without a layout" in the module notes (_structure adds every
        # row and column sum and the guessed totals; none of it is a promise of safety).
        return TableLayout()
    if layout.total_column is not None and layout.total_column not in count_columns:
        raise KeyError(f"total column {layout.total_column!r} is not one of the count columns")
    named = [*(layout.part_columns or ()), *(c for pair in layout.row_inequalities for side in pair for c in side)]
    for column in named:
        if column not in count_columns:
            raise KeyError(f"column {column!r} of the layout is not one of the count columns")
    for label in [
        layout.total_row,
        layout.answered_row,
        *(layout.additive_rows or ()),
        *(layout.denominator_rows or ()),
        *(layout.option_rows or ()),
    ]:
        if label is not None and label not in frame.index:
            raise KeyError(f"row {label!r} of the layout is not in the frame's index")
    return layout


def _margin_rows(layout: TableLayout) -> list[Hashable]:
    """The rows whose counts every row's test or percentage may use: denominators and total."""
    rows = list(layout.denominator_rows or ())
    if layout.total_row is not None and layout.total_row not in rows:
        rows.append(layout.total_row)
    return rows


def _multiple_response(layout: TableLayout) -> tuple[tuple[Hashable, ...], Hashable] | None:
    """``(option rows, answered row)`` of a multiple-response layout, else None."""
    if layout.option_rows is not None and layout.answered_row is not None:
        return tuple(layout.option_rows), layout.answered_row
    return None


def _infer_multiple_response(frame: pd.DataFrame, layout: TableLayout) -> TableLayout:
    if layout.option_rows is not None or layout.additive_rows is None:
        return layout
    additive = set(layout.additive_rows)
    options = tuple(label for label in frame.index if label not in additive and label != layout.total_row)
    answered = next(
        (label for label in (layout.denominator_rows or ()) if label in additive and label != layout.total_row), None
    )
    if not options or answered is None:
        return layout
    return replace(layout, option_rows=options, answered_row=answered)


def _structure(
    frame: pd.DataFrame,
    count_columns: list[str],
    values: dict[Cell, int],
    layout: TableLayout,
    margins: bool,
    given: bool,
) -> _Structure:
    """Equations, inequalities and known cells of a table (see the module notes)."""
    layout = _infer_multiple_response(frame, layout)
    relations = _relations(frame, count_columns, values, layout, margins)
    known = _total_cells(frame, count_columns, layout) if margins else set()
    total_cells = _total_cells(frame, count_columns, layout)
    if not given:
        # No layout: also the printed totals that the sums suggest (true equations, so adding
        # them can only make the proof stricter).
        guessed = _detect(frame, count_columns, values)
        if guessed.total_row is not None or guessed.total_column is not None:
            seen = {(r.parts, r.total, r.constant) for r in relations}
            for relation in _relations(frame, count_columns, values, guessed, margins):
                if (relation.parts, relation.total, relation.constant) not in seen:
                    relations.append(relation)
            total_cells = _total_cells(frame, count_columns, guessed)
        relations.extend(_column_sums(frame, count_columns, values))
    positions = {label: pos for pos, label in enumerate(frame.index)}
    inequalities: list[_Inequality] = []
    multiple = _multiple_response(layout)
    if multiple is not None:
        options, answered = multiple
        a = positions[answered]
        for column in count_columns:
            option_cells = tuple((positions[o], column) for o in options if (positions[o], column) in values)
            if (a, column) not in values:
                continue
            for cell in option_cells:
                inequalities.append(_Inequality((cell,), ((a, column),)))
            if option_cells:
                inequalities.append(_Inequality(((a, column),), option_cells))
    for smaller, larger in layout.row_inequalities:
        for pos in range(len(frame)):
            small = tuple((pos, c) for c in smaller if (pos, c) in values)
            large = tuple((pos, c) for c in larger if (pos, c) in values)
            if small and len(large) == len(larger):
                inequalities.append(_Inequality(small, large))
    return _Structure(relations, inequalities, frozenset(known & set(values)), total_cells)


def _detect(frame: pd.DataFrame, count_columns: list[str], values: dict[Cell, int]) -> TableLayout:
    n_rows = len(frame)
    total_column = None
    if len(count_columns) >= 3:
        # When several columns qualify (other columns all 0), the last is taken: totals are
        # printed after the cells they add up.
        for column in reversed(count_columns):
            others = [c for c in count_columns if c != column]
            rows = [pos for pos in range(n_rows) if (pos, column) in values]
            if (
                rows
                and all(
                    all((pos, c) in values for c in others)
                    and values[(pos, column)] == sum(values[(pos, c)] for c in others)
                    for pos in rows
                )
                and any(values[(pos, column)] for pos in rows)
            ):
                total_column = column
                break
    total_row = None
    if n_rows >= 3:
        for pos in reversed(range(n_rows)):  # the last qualifying row, as for columns
            others = [p for p in range(n_rows) if p != pos]
            columns = [c for c in count_columns if (pos, c) in values]
            if (
                columns
                and all(
                    all((p, c) in values for p in others) and values[(pos, c)] == sum(values[(p, c)] for p in others)
                    for c in columns
                )
                and any(values[(pos, c)] for c in columns)
            ):
                total_row = frame.index[pos]
                break
    return TableLayout(total_row=total_row, total_column=total_column)


def _column_sums(
    frame: pd.DataFrame, count_columns: list[str], values: dict[Cell, int], limit: int = 12
) -> list[_Relation]:
    """Row equations ``t = sum(S)`` for every count column ``t`` equal, in every row, to the sum of
    a set ``S`` of two or more other count columns (e.g. ``Companies = A + B + C + Unclassified``
    beside other count columns). Used without a layout: each holds in the table, so assuming the
    reader knows it is conservative. Columns of zeros only are left out of the sets (they add
    nothing), and tables of more than ``limit`` count columns are not searched."""
    from itertools import combinations

    rows = range(len(frame))
    full = [c for c in count_columns if all((p, c) in values for p in rows)]
    if len(full) > limit:
        return []
    nonzero = [c for c in full if any(values[(p, c)] for p in rows)]
    relations = []
    for total in nonzero:
        others = [c for c in nonzero if c != total]
        for size in range(2, len(others) + 1):
            for parts in combinations(others, size):
                if all(values[(p, total)] == sum(values[(p, c)] for c in parts) for p in rows):
                    relations.extend(_Relation(tuple((p, c) for c in parts), (p, total), 0) for p in rows)
    return relations


def _row_position(frame: pd.DataFrame, label: Hashable) -> int:
    """Position of a row label."""
    pos = frame.index.get_loc(label)
    # The index is unique (_count_values checks it; table_constraints builds a RangeIndex), so
    # get_loc gives one position, never a slice or a mask.
    assert isinstance(pos, int)
    return pos


def _total_cells(frame: pd.DataFrame, count_columns: list[str], layout: TableLayout) -> set[Cell]:
    cells: set[Cell] = set()
    if layout.total_column is not None:
        cells |= {(pos, layout.total_column) for pos in range(len(frame))}
    if layout.total_row is not None:
        pos = _row_position(frame, layout.total_row)
        cells |= {(pos, c) for c in count_columns}
    return cells


def _relations(
    frame: pd.DataFrame, count_columns: list[str], values: dict[Cell, int], layout: TableLayout, margins: bool
) -> list[_Relation]:
    relations: list[_Relation] = []
    positions = list(range(len(frame)))
    total_pos = None if layout.total_row is None else _row_position(frame, layout.total_row)
    if layout.additive_rows is not None:
        additive = [_row_position(frame, label) for label in layout.additive_rows]
    else:
        additive = [p for p in positions if p != total_pos]
    if layout.part_columns is not None:
        part_columns = [c for c in layout.part_columns if c != layout.total_column]
    else:
        part_columns = [c for c in count_columns if c != layout.total_column]

    # Column lines: the rows of one count column add up to the total row (or a known margin).
    for column in count_columns:
        parts = tuple((p, column) for p in additive if (p, column) in values)
        if total_pos is not None and (total_pos, column) in values:
            relations.append(_Relation(parts, (total_pos, column), 0))
        elif margins and len(parts) >= 2:
            relations.append(_Relation(parts, None, sum(values[c] for c in parts)))
    # Row lines: the count columns of one row add up to the total column (or a known margin).
    for pos in positions:
        parts = tuple((pos, c) for c in part_columns if (pos, c) in values)
        if layout.total_column is not None and (pos, layout.total_column) in values:
            relations.append(_Relation(parts, (pos, layout.total_column), 0))
        elif margins and len(parts) >= 2:
            # Every row, additive or not (an option of a multiple-response question), has a
            # row total that a reader may know.
            relations.append(_Relation(parts, None, sum(values[c] for c in parts)))
    return [r for r in relations if len(r.cells) >= 2]


# -- complementary suppression ------------------------------------------------------------------------


def _n_hidden(relation: _Relation, hidden: set[Cell], known: frozenset[Cell] = frozenset()) -> int:
    return sum(cell in hidden and cell not in known for cell in relation.cells)


def _relations_of(structure: _Structure) -> dict[Cell, list[_Relation]]:
    relations_of: dict[Cell, list[_Relation]] = {}
    for relation in structure.relations:
        for cell in relation.cells:
            relations_of.setdefault(cell, []).append(relation)
    return relations_of


def _candidate_key(
    cell: Cell,
    values: dict[Cell, int],
    total_cells: set[Cell],
    relations_of: dict[Cell, list[_Relation]],
    hidden: set[Cell],
    known: frozenset[Cell] = frozenset(),
) -> tuple:
    # Prefer, in order: a non-zero count (hiding a 0 protects little), a cell that also
    # completes another line left with one hidden cell, a cell inside the table rather
    # than a total, and the smallest count (least information lost).
    helps = sum(_n_hidden(r, hidden, known) == 1 for r in relations_of.get(cell, []))
    return (values[cell] == 0, -helps, cell in total_cells, values[cell], cell[0], cell[1])


def _complete(hidden: set[Cell], structure: _Structure, values: dict[Cell, int]) -> set[Cell]:
    """Hide more cells until no line has exactly one hidden cell that the reader does not know."""
    hidden = set(hidden)
    known = structure.known
    relations_of = _relations_of(structure)
    while True:
        lonely = [r for r in structure.relations if _n_hidden(r, hidden, known) == 1]
        if not lonely:
            return hidden
        relation = lonely[0]
        candidates = [c for c in relation.cells if c not in hidden and c not in known]
        if not candidates:
            return hidden  # left to _determined / _best_extra, which warn
        best = min(
            candidates, key=lambda c: _candidate_key(c, values, structure.total_cells, relations_of, hidden, known)
        )
        hidden.add(best)


def _best_extra(
    determined: set[Cell], hidden: set[Cell], structure: _Structure, values: dict[Cell, int]
) -> Cell | None:
    relations_of = _relations_of(structure)
    candidates = {
        c
        for cell in determined
        for relation in relations_of.get(cell, [])
        for c in relation.cells
        if c not in hidden and c not in structure.known
    }
    # An inequality can pin a cell too (option = answered): its other cells are candidates.
    for inequality in structure.inequalities:
        cells = inequality.smaller + inequality.larger
        if determined & set(cells):
            candidates |= {c for c in cells if c not in hidden and c not in structure.known}
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda c: _candidate_key(c, values, structure.total_cells, relations_of, hidden, structure.known),
    )


def _determined(hidden: set[Cell], structure: _Structure, values: dict[Cell, int]) -> set[Cell]:
    bounds = _bounds(set(hidden) - structure.known, structure, values)
    return {cell for cell, (lo, hi) in bounds.items() if _single_integer(lo, hi)}


def _single_integer(lower: float, upper: float) -> bool:
    if math.isinf(upper):
        return False
    tolerance = 1e-7
    return math.floor(upper + tolerance) - math.ceil(lower - tolerance) < 1


def _bounds(hidden: set[Cell], structure: _Structure, values: dict[Cell, int]) -> dict[Cell, tuple[float, float]]:
    """Smallest and largest value of each hidden cell given everything visible (an LP).

    Cells of ``structure.known`` are constants even when hidden (totals known elsewhere)."""
    relations = structure.relations
    hidden = set(hidden) - structure.known
    order = sorted(hidden, key=lambda c: (c[0], c[1]))
    if not order:
        return {}
    index = {cell: i for i, cell in enumerate(order)}
    rows, rhs = [], []
    for relation in relations:
        coefficients = np.zeros(len(order))
        constant = float(relation.constant)
        involved = False
        for cell in relation.parts:
            if cell in index:
                coefficients[index[cell]] += 1.0
                involved = True
            else:
                constant -= values[cell]
        if relation.total is not None:
            if relation.total in index:
                coefficients[index[relation.total]] -= 1.0
                involved = True
            else:
                constant += values[relation.total]
        if involved:
            rows.append(coefficients)
            rhs.append(constant)
    a_eq = np.array(rows) if rows else None
    b_eq = np.array(rhs) if rows else None
    upper_rows, upper_rhs = [], []
    for inequality in structure.inequalities:
        coefficients = np.zeros(len(order))
        constant = 0.0
        for sign, cells in ((1.0, inequality.smaller), (-1.0, inequality.larger)):
            for cell in cells:
                if cell in index:
                    coefficients[index[cell]] += sign
                else:
                    constant -= sign * values[cell]
        if coefficients.any():
            upper_rows.append(coefficients)
            upper_rhs.append(constant)
    a_ub = np.array(upper_rows) if upper_rows else None
    b_ub = np.array(upper_rhs) if upper_rows else None
    # Only what the reader knows bounds a cell: counts are not negative, and nothing else
    # (the true counts must not leak in as a cap). A cell on a cycle of hidden cells with no
    # known total is unbounded above: its upper end is infinite.
    bounds: dict[Cell, tuple[float, float]] = {}
    programme = LinearProgramme(len(order), a_eq, b_eq, a_ub, b_ub)  # one model, every cell's bounds
    for cell, i in index.items():
        extremes = []
        for sign in (1.0, -1.0):
            result = programme.solve(i, sign)
            if result.status == UNBOUNDED:  # only a maximum can be: counts are >= 0
                extremes.append(math.inf)
            elif result.status != OPTIMAL:  # cannot happen for a consistent table; be safe
                extremes.append(values[cell])
            else:
                extremes.append(sign * result.fun)
        bounds[cell] = (float(extremes[0]), float(extremes[1]))
    return bounds


# -- percentages --------------------------------------------------------------------------------------


def percent_mask(
    frame: pd.DataFrame,
    count_columns: list[str],
    values: dict[Cell, int],
    hidden: set[Cell],
    percent_columns: Sequence[str] | Mapping[str, str],
    layout: TableLayout,
    positions: dict[Hashable, int],
) -> dict[str, np.ndarray]:
    if isinstance(percent_columns, Mapping):
        tied = dict(percent_columns)
        untied: list[str] = []
    else:
        tied = {c: layout.percent_of[c] for c in percent_columns if c in layout.percent_of}
        # A proportion declared derived from named counts (an interval bound) is tied to them.
        untied = [c for c in percent_columns if c not in tied and c not in layout.derived_from]
    for column in [*tied, *untied]:
        if column not in frame.columns:
            raise KeyError(f"percent column {column!r} is not in the frame")
    for column, count in tied.items():
        if count not in count_columns:
            raise KeyError(f"percent column {column!r} is tied to {count!r}, which is not a count column")

    n_rows = len(frame)
    denominators = layout.denominator_rows
    if denominators is None:
        denominators = () if layout.total_row is None else (layout.total_row,)
    denominator_pos = [positions[label] for label in denominators]
    any_hidden_row = np.array([any((pos, c) in hidden for c in count_columns) for pos in range(n_rows)])
    any_hidden_denominator = any((p, c) in hidden for p in denominator_pos for c in count_columns)
    total_hidden = np.array(
        [layout.total_column is not None and (pos, layout.total_column) in hidden for pos in range(n_rows)]
    )

    masks: dict[str, np.ndarray] = {}
    for column, count in tied.items():
        own = np.array([(pos, count) in hidden for pos in range(n_rows)])
        # A visible count over a hidden denominator would give the denominator away, unless
        # the count is 0 (0 % says nothing about the denominator).
        column_denominator = any((p, count) in hidden for p in denominator_pos)
        nonzero = np.array([values.get((pos, count), 0) != 0 for pos in range(n_rows)])
        masks[column] = own | ((total_hidden | column_denominator) & nonzero)
    for column in untied:
        masks[column] = any_hidden_row | any_hidden_denominator
    return masks
