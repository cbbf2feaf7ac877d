"""Small-cell suppression of count tables for publication.

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
  ``frame.attrs["layout"]``). Without one, every count cell is treated as an interior cell
  whose row and column sums the reader knows: safe whatever the table holds, where guessing
  totals from the sums is not (in a small table a column may equal the sum of the others by
  chance). :func:`detect_layout` still offers the guess, for a person to confirm. With
  ``margins=True`` row and column totals are assumed to be known even when the frame does
  not print them (they usually appear in another table).
* **Proof.** :func:`protection_intervals` solves, for every hidden cell, the smallest and
  largest value consistent with the visible cells, the totals and non-negativity (a linear
  programme); a cell is recoverable when that interval holds a single whole number.
  :func:`suppress_counts` keeps hiding cells until no hidden cell is recoverable.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linprog

__all__ = [
    "TableLayout",
    "detect_layout",
    "hidden_mask",
    "is_recoverable",
    "protection_intervals",
    "suppress_counts",
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
        row where a count is hidden, since with the margins they could point to the counts.
    """

    total_row: Hashable | None = None
    total_column: str | None = None
    additive_rows: tuple[Hashable, ...] | None = None
    percent_of: Mapping[str, str] = field(default_factory=dict)
    denominator_rows: tuple[Hashable, ...] | None = None
    dependent_columns: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, spec: Mapping[str, object]) -> TableLayout:
        """Build a layout from a plain dict (as stored in ``frame.attrs["layout"]``)."""
        def as_tuple(value: object) -> tuple | None:
            return None if value is None else tuple(value)  # type: ignore[arg-type]

        return cls(
            total_row=spec.get("total_row"),
            total_column=spec.get("total_column"),  # type: ignore[arg-type]
            additive_rows=as_tuple(spec.get("additive_rows")),
            percent_of=dict(spec.get("percent_of") or {}),  # type: ignore[call-overload]
            denominator_rows=as_tuple(spec.get("denominator_rows")),
            dependent_columns=tuple(spec.get("dependent_columns") or ()),  # type: ignore[arg-type]
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
        }


@dataclass(frozen=True)
class _Relation:
    """``sum(parts) - total == constant`` over the cells of one line of the table."""

    parts: tuple[Cell, ...]
    total: Cell | None
    constant: int  # the known value of the sum when ``total`` is None (a margin printed elsewhere)

    @property
    def cells(self) -> tuple[Cell, ...]:
        return self.parts + ((self.total,) if self.total is not None else ())


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

    Returns
    -------
    DataFrame
        Count columns as ``Int64`` and percent columns as ``Float64``, hidden cells NA;
        ``attrs["suppression"]`` records k and the number of cells hidden.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    count_columns = list(count_columns)
    values = _count_values(frame, count_columns)
    layout = _resolve_layout(frame, count_columns, values, layout)
    relations = _relations(frame, count_columns, values, layout, margins)
    total_cells = _total_cells(frame, count_columns, layout)

    primary = {
        cell for cell, value in values.items()
        if (0 < value < k) or (suppress_zero and value == 0)
    }
    hidden = set(primary)
    hidden = _complete(hidden, relations, values, total_cells)
    while True:
        determined = _determined(hidden, relations, values)
        if not determined:
            break
        extra = _best_extra(determined, hidden, relations, values, total_cells)
        if extra is None:
            warnings.warn(
                "some hidden counts equal a published total and cannot be protected; "
                "publish fewer totals or merge categories",
                stacklevel=2,
            )
            break
        hidden = _complete(hidden | {extra}, relations, values, total_cells)

    out = frame.copy()
    positions = {label: pos for pos, label in enumerate(frame.index)}
    for column in count_columns:
        column_values = pd.array(
            [values.get((pos, column)) for pos in range(len(frame))], dtype="Int64"
        )
        mask = np.array([(pos, column) in hidden for pos in range(len(frame))], dtype=bool)
        column_values[mask] = pd.NA
        out[column] = column_values
    hidden_percent = _percent_mask(frame, count_columns, values, hidden, percent_columns, layout, positions)
    for column, mask in hidden_percent.items():
        percent = pd.array(pd.to_numeric(frame[column], errors="coerce"), dtype="Float64")
        percent[mask] = pd.NA
        out[column] = percent
    rows_hidden = np.array([any((pos, c) in hidden for c in count_columns) for pos in range(len(frame))],
                           dtype=bool)
    for column in layout.dependent_columns:
        if column in out.columns and column not in hidden_percent:
            out[column] = out[column].mask(rows_hidden)
    out.attrs = dict(frame.attrs)
    out.attrs["layout"] = layout.as_mapping()
    out.attrs["suppression"] = {
        "k": k,
        "suppress_zero": suppress_zero,
        "primary": len(primary),
        "complementary": len(hidden - primary),
    }
    return out


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

    The reader knows the visible counts, the totals (``margins``) and that counts are not
    negative. Returns one row per hidden cell: ``row`` (index label), ``column``, ``value``
    (the true count), ``lower``, ``upper`` (``inf`` when nothing the reader knows bounds the
    cell) and ``recoverable`` (the range holds one whole number only).
    """
    count_columns = list(count_columns)
    values = _count_values(original, count_columns)
    if layout is None and "layout" in suppressed.attrs:
        layout = TableLayout.from_mapping(suppressed.attrs["layout"])
    layout = _resolve_layout(original, count_columns, values, layout)
    relations = _relations(original, count_columns, values, layout, margins)
    mask = hidden_mask(original, suppressed, count_columns)
    hidden = {
        (pos, column)
        for column in count_columns
        for pos, flag in enumerate(mask[column].to_numpy())
        if flag
    }
    bounds = _bounds(hidden, relations, values)
    rows = []
    for (pos, column), (lower, upper) in sorted(bounds.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        rows.append({
            "row": original.index[pos],
            "column": column,
            "value": values[(pos, column)],
            "lower": lower,
            "upper": upper,
            "recoverable": _single_integer(lower, upper),
        })
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


def _resolve_layout(frame: pd.DataFrame, count_columns: list[str], values: dict[Cell, int],
                    layout: TableLayout | None) -> TableLayout:
    if layout is None and isinstance(frame.attrs.get("layout"), Mapping):
        layout = TableLayout.from_mapping(frame.attrs["layout"])
    if layout is None:
        # No layout named: treat every count cell as an interior cell whose row and column sums
        # the reader knows. That over-states what a reader knows (a printed total column just
        # adds equations already implied), so it is safe whatever the table holds; guessing
        # totals from the sums is not (a column can equal the sum of the others by chance).
        return TableLayout()
    if layout.total_column is not None and layout.total_column not in count_columns:
        raise KeyError(f"total column {layout.total_column!r} is not one of the count columns")
    for label in [layout.total_row, *(layout.additive_rows or ()), *(layout.denominator_rows or ())]:
        if label is not None and label not in frame.index:
            raise KeyError(f"row {label!r} of the layout is not in the frame's index")
    return layout


def _detect(frame: pd.DataFrame, count_columns: list[str], values: dict[Cell, int]) -> TableLayout:
    n_rows = len(frame)
    total_column = None
    if len(count_columns) >= 3:
        # When several columns qualify (other columns all 0), the last is taken: totals are
        # printed after the cells they add up.
        for column in reversed(count_columns):
            others = [c for c in count_columns if c != column]
            rows = [pos for pos in range(n_rows) if (pos, column) in values]
            if rows and all(
                all((pos, c) in values for c in others)
                and values[(pos, column)] == sum(values[(pos, c)] for c in others)
                for pos in rows
            ) and any(values[(pos, column)] for pos in rows):
                total_column = column
                break
    total_row = None
    if n_rows >= 3:
        for pos in reversed(range(n_rows)):  # the last qualifying row, as for columns
            others = [p for p in range(n_rows) if p != pos]
            columns = [c for c in count_columns if (pos, c) in values]
            if columns and all(
                all((p, c) in values for p in others)
                and values[(pos, c)] == sum(values[(p, c)] for p in others)
                for c in columns
            ) and any(values[(pos, c)] for c in columns):
                total_row = frame.index[pos]
                break
    return TableLayout(total_row=total_row, total_column=total_column)


def _total_cells(frame: pd.DataFrame, count_columns: list[str], layout: TableLayout) -> set[Cell]:
    cells: set[Cell] = set()
    if layout.total_column is not None:
        cells |= {(pos, layout.total_column) for pos in range(len(frame))}
    if layout.total_row is not None:
        pos = frame.index.get_loc(layout.total_row)
        cells |= {(pos, c) for c in count_columns}
    return cells


def _relations(frame: pd.DataFrame, count_columns: list[str], values: dict[Cell, int],
               layout: TableLayout, margins: bool) -> list[_Relation]:
    relations: list[_Relation] = []
    positions = list(range(len(frame)))
    total_pos = None if layout.total_row is None else frame.index.get_loc(layout.total_row)
    if layout.additive_rows is not None:
        additive = [frame.index.get_loc(label) for label in layout.additive_rows]
    else:
        additive = [p for p in positions if p != total_pos]
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


def _n_hidden(relation: _Relation, hidden: set[Cell]) -> int:
    return sum(cell in hidden for cell in relation.cells)


def _candidate_key(cell: Cell, values: dict[Cell, int], total_cells: set[Cell],
                   relations_of: dict[Cell, list[_Relation]], hidden: set[Cell]) -> tuple:
    # Prefer, in order: a non-zero count (hiding a 0 protects little), a cell that also
    # completes another line left with one hidden cell, a cell inside the table rather
    # than a total, and the smallest count (least information lost).
    helps = sum(_n_hidden(r, hidden) == 1 for r in relations_of.get(cell, []))
    return (values[cell] == 0, -helps, cell in total_cells, values[cell], cell[0], cell[1])


def _complete(hidden: set[Cell], relations: list[_Relation], values: dict[Cell, int],
              total_cells: set[Cell]) -> set[Cell]:
    """Hide more cells until no line has exactly one hidden cell."""
    hidden = set(hidden)
    relations_of: dict[Cell, list[_Relation]] = {}
    for relation in relations:
        for cell in relation.cells:
            relations_of.setdefault(cell, []).append(relation)
    while True:
        lonely = [r for r in relations if _n_hidden(r, hidden) == 1]
        if not lonely:
            return hidden
        relation = lonely[0]
        candidates = [c for c in relation.cells if c not in hidden]
        best = min(candidates, key=lambda c: _candidate_key(c, values, total_cells, relations_of, hidden))
        hidden.add(best)


def _best_extra(determined: set[Cell], hidden: set[Cell], relations: list[_Relation],
                values: dict[Cell, int], total_cells: set[Cell]) -> Cell | None:
    relations_of: dict[Cell, list[_Relation]] = {}
    for relation in relations:
        for cell in relation.cells:
            relations_of.setdefault(cell, []).append(relation)
    candidates = {
        c
        for cell in determined
        for relation in relations_of.get(cell, [])
        for c in relation.cells
        if c not in hidden
    }
    if not candidates:
        return None
    return min(candidates, key=lambda c: _candidate_key(c, values, total_cells, relations_of, hidden))


def _determined(hidden: set[Cell], relations: list[_Relation], values: dict[Cell, int]) -> set[Cell]:
    return {cell for cell, (lo, hi) in _bounds(hidden, relations, values).items() if _single_integer(lo, hi)}


def _single_integer(lower: float, upper: float) -> bool:
    if math.isinf(upper):
        return False
    tolerance = 1e-7
    return math.floor(upper + tolerance) - math.ceil(lower - tolerance) < 1


def _bounds(hidden: set[Cell], relations: list[_Relation], values: dict[Cell, int]
            ) -> dict[Cell, tuple[float, float]]:
    """Smallest and largest value of each hidden cell given everything visible (an LP)."""
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
    # Only what the reader knows bounds a cell: counts are not negative, and nothing else
    # (the true counts must not leak in as a cap). A cell on a cycle of hidden cells with no
    # known total is unbounded above: its upper end is infinite.
    bounds: dict[Cell, tuple[float, float]] = {}
    for cell, i in index.items():
        objective = np.zeros(len(order))
        objective[i] = 1.0
        extremes = []
        for sign in (1.0, -1.0):
            result = linprog(sign * objective, A_eq=a_eq, b_eq=b_eq,
                             bounds=[(0, None)] * len(order), method="highs")
            if result.status == 3:  # unbounded (only a maximum can be: counts are >= 0)
                extremes.append(math.inf)
            elif not result.success:  # cannot happen for a consistent table; be safe
                extremes.append(values[cell])
            else:
                extremes.append(sign * result.fun)
        bounds[cell] = (float(extremes[0]), float(extremes[1]))
    return bounds


# -- percentages --------------------------------------------------------------------------------------


def _percent_mask(frame: pd.DataFrame, count_columns: list[str], values: dict[Cell, int], hidden: set[Cell],
                  percent_columns: Sequence[str] | Mapping[str, str], layout: TableLayout,
                  positions: dict[Hashable, int]) -> dict[str, np.ndarray]:
    if isinstance(percent_columns, Mapping):
        tied = dict(percent_columns)
        untied: list[str] = []
    else:
        tied = {c: layout.percent_of[c] for c in percent_columns if c in layout.percent_of}
        untied = [c for c in percent_columns if c not in tied]
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
    total_hidden = np.array([
        layout.total_column is not None and (pos, layout.total_column) in hidden for pos in range(n_rows)
    ])

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
