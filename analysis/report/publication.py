"""Publication: the one place that decides what a published report shows.

Builders declare their tables (counts, layout, links between tables); this module

1. leaves out every item marked ``respondent_level`` (one row or mark per respondent), and
   every figure whose drawing depends on the size of a count it hides (``ReportFigure.shows``);
2. models **every** count cell of the report as one linked system: a cell is a variable named
   by a key (the table's own ``(scope, table, row, column)`` unless its layout links it to a
   shared quantity such as ``("maturity_level", 2021, "A")``), each table adds its additive
   identities and inequalities (:func:`analysis.tabulation.suppression.table_constraints`), and the
   previous year's tables join with their own keys when year-over-year tables publish both
   years;
3. hides every key holding a count from 1 to ``k - 1`` (everywhere it appears), then adds
   complementary cells (greedy: the smallest non-zero cell sharing an identity with an
   unprotected cell) until the linear programme over all tables at once proves every hidden
   cell protected (:class:`PublicationRule`); a table that cannot be protected even with all
   its counts hidden is left out with a reason;
4. hides every column computed from a hidden count (percentages, statistics, intervals);
5. lists what was left out in an appendix table, and returns the machine-readable structure
   (``publication.json``) that :mod:`analysis.report.audit` attacks before anything is written.

Pure computation: nothing here touches the file system.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from analysis.codebook.words import Words
from analysis.tabulation.linear import INFEASIBLE, LinearProgramme, Solution
from analysis.tabulation.suppression import TableLayout, derived_masks, table_constraints

__all__ = [
    "LinearModel",
    "PublicationError",
    "PublicationRule",
    "Published",
    "TableSpec",
    "declaration",
    "publish",
    "spec_of",
]

Cell = tuple[int, str]  # (row position, count column)
Key = tuple


class PublicationError(RuntimeError, ValueError):
    """The report cannot be published as declared (tables that contradict each other, a link
    naming two different numbers, a count last year's report gives away)."""


# -- the rule -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicationRule:
    """Threshold and protection interval, read from the codebook's ``[suppression]``.

    A count from 1 to ``k - 1`` is sensitive and hidden. Every hidden cell of value ``v`` needs a
    protection level ``P(v) = max(interval, ceil(share * v))``: given everything published, its
    feasible range ``[lo, hi]`` (linear programme over all tables, counts >= 0) must satisfy
    ``lo <= v - min(v, P)`` and ``hi >= v + P`` (tau-ARGUS/sdcTable lower and upper protection
    levels; below 0 nothing can be asked). Why ``interval = 1`` and ``share = 0`` for studies of
    about ten companies: what must stay open for a count of 1 is that the company may not be
    there at all (0) and that there may be one more (2); a cell of 2 narrowed to ``[2, 3]`` is not
    protected. A share only matters for large counts, where hiding is rare.

    A reader without the true values (:mod:`analysis.report.audit`) can still check the value-free
    consequence: ``hi - lo >= interval`` when ``lo`` is 0, else ``hi - lo >= min(lo, interval) + interval``.
    """

    k: int
    interval: int = 1
    share: float = 0.0

    def __post_init__(self) -> None:
        if self.k < 1 or self.interval < 1 or self.share < 0:
            raise ValueError(f"[suppression] needs k >= 1, interval >= 1, share >= 0; got {self}")

    @classmethod
    def from_codebook(cls, codebook: Any) -> PublicationRule:
        """The rule of the codebook's ``[suppression]`` table (``k`` is required there)."""
        spec = codebook.suppression
        if "k" not in spec:
            raise KeyError("the codebook's edition.toml has no [suppression] k; publication needs it")
        return cls(k=int(spec["k"]), interval=int(spec.get("interval", 1)), share=float(spec.get("share", 0.0)))

    def sensitive(self, value: int) -> bool:
        return 0 < value < self.k

    def level(self, value: int) -> int:
        return max(self.interval, math.ceil(self.share * value))

    def protected(self, lo: float, hi: float, value: int | None = None) -> bool:
        """Whether a hidden cell with feasible range ``[lo, hi]`` is protected (see the class notes);
        without ``value`` only the value-free condition is checked."""
        tol = 1e-6
        if math.isinf(hi) and value is None:
            return True
        if value is None:
            need = self.interval if lo <= tol else min(lo, self.interval) + self.interval
            return hi - lo >= need - tol
        p = self.level(value)
        return lo <= value - min(value, p) + tol and hi >= value + p - tol

    def as_mapping(self) -> dict[str, object]:
        return {"k": self.k, "interval": self.interval, "share": self.share}


# -- the linked model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableSpec:
    """What publication knows of one table: its count cells, layout (rows as positions) and keys."""

    name: str
    scope: str
    counts: tuple[str, ...]
    n_rows: int
    layout: TableLayout
    present: frozenset[Cell]  # count cells holding a number (NA cells are no cells)
    links: Mapping[Cell, Key] = field(default_factory=dict)

    def key(self, cell: Cell) -> Key:
        return self.links.get(cell, (self.scope, self.name, cell[0], cell[1]))


def _positional(layout: TableLayout, index: pd.Index) -> TableLayout:
    """The layout with row labels turned into row positions (files know positions only)."""

    def pos(label: Hashable) -> int | None:
        if label is None:
            return None
        position = index.get_loc(label)
        if not isinstance(position, int | np.integer):
            raise ValueError(f"row label {label!r} of a table layout is not unique")
        return int(position)

    def many(labels: Iterable[Hashable] | None) -> tuple[int, ...] | None:
        return None if labels is None else tuple(pos(label) for label in labels)  # type: ignore[misc]

    return replace(
        layout,
        total_row=pos(layout.total_row),
        additive_rows=many(layout.additive_rows),
        denominator_rows=many(layout.denominator_rows),
        option_rows=many(layout.option_rows),
        answered_row=pos(layout.answered_row),
        links=tuple((pos(row), column, key) for row, column, key in layout.links),
    )


def _undeclared(item: Any) -> bool:
    return item.layout is None and item.frame.attrs.get("layout") is None


def _layout_of(item: Any) -> TableLayout:
    spec = item.layout if item.layout is not None else item.frame.attrs.get("layout")
    if isinstance(spec, TableLayout):
        return spec
    if spec is None:  # a table without counts (a listing may still declare nothing)
        return TableLayout(part_columns=())
    return TableLayout.from_mapping(spec)


def spec_of(item: Any, scope: str = "") -> tuple[TableSpec, dict[Cell, int]]:
    """The :class:`TableSpec` of a report table with counts, and its count values."""
    frame = item.frame
    counts = tuple(c for c in item.counts if c in frame.columns)
    layout = _positional(_layout_of(item), frame.index)
    values: dict[Cell, int] = {}
    for column in counts:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        for pos, value in enumerate(numbers.tolist()):
            if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
                continue
            values[(pos, column)] = int(value)
    links = {
        (row, column): tuple(key)
        for row, column, key in layout.links
        if isinstance(row, int) and (row, column) in values
    }
    spec = TableSpec(_spec_name(item, scope), scope, counts, len(frame), layout, frozenset(values), links)
    return spec, values


def _spec_name(item: Any, scope: str) -> str:
    return f"{scope}:{item.name}" if scope else item.name


@dataclass
class LinearModel:
    """Every published count as variables named by keys, with every table's identities.

    ``equations`` and ``inequalities`` are lists of ``{key: coefficient}`` (``= 0`` and ``<= 0``):
    each table's own (:func:`analysis.tabulation.suppression.table_constraints`) and the ``identities`` its
    layout declares across tables.
    ``tables_of`` maps each key to the tables holding it.
    """

    specs: list[TableSpec]
    equations: list[dict[Key, float]] = field(default_factory=list)
    inequalities: list[dict[Key, float]] = field(default_factory=list)
    tables_of: dict[Key, set[str]] = field(default_factory=dict)
    solves: int = 0

    @classmethod
    def build(cls, specs: Sequence[TableSpec]) -> LinearModel:
        model = cls(list(specs))
        for spec in specs:
            for cell in spec.present:
                model.tables_of.setdefault(spec.key(cell), set()).add(spec.name)
            equations, inequalities = table_constraints(spec.n_rows, spec.counts, spec.present, spec.layout)
            for rows, target in ((equations, model.equations), (inequalities, model.inequalities)):
                for row in rows:
                    keyed: dict[Key, float] = {}
                    for cell, coefficient in row.items():
                        key = spec.key(cell)
                        keyed[key] = keyed.get(key, 0.0) + coefficient
                    keyed = {k: c for k, c in keyed.items() if c}
                    if keyed:
                        target.append(keyed)
        # Identities across tables, where every quantity they name is published somewhere.
        for spec in specs:
            for total, parts in spec.layout.identities:
                if total in model.tables_of and all(p in model.tables_of for p in parts):
                    row = {total: -1.0}
                    for part in parts:
                        row[part] = row.get(part, 0.0) + 1.0
                    model.equations.append(row)
        return model

    def _system(self, order: list[Key], known: Mapping[Key, float]):
        """``A_eq, b_eq, A_ub, b_ub`` over the keys of ``order`` (others are constants)."""
        index = {key: i for i, key in enumerate(order)}

        def system(rows: list[dict[Key, float]]):
            matrix, rhs = [], []
            for row in rows:
                if not any(k in index for k in row):
                    continue
                coefficients = np.zeros(len(order))
                constant = 0.0
                for key, coefficient in row.items():
                    if key in index:
                        coefficients[index[key]] += coefficient
                    else:
                        constant -= coefficient * known[key]
                matrix.append(coefficients)
                rhs.append(constant)
            if not rhs:
                return None, None
            dense = np.array(matrix)
            return (sparse.csr_matrix(dense) if len(order) > 200 else dense), np.array(rhs)

        return (*system(self.equations), *system(self.inequalities))

    def _solve(self, programme: LinearProgramme, i: int, sign: float) -> Solution:
        result = programme.solve(i, sign)
        self.solves += 1
        if result.status == INFEASIBLE:
            raise PublicationError("the published tables contradict each other")
        return result

    def ranges(
        self, hidden: set[Key], known: Mapping[Key, float], ilp_limit: int = 0
    ) -> dict[Key, tuple[float, float, str]]:
        """Smallest and largest value of each hidden key over counts >= 0, every other key a
        constant from ``known``, and how they were found: the linear programme (``"lp"``), then,
        in groups of at most ``ilp_limit`` keys, integer programming (``"ilp"``) wherever the LP
        optimum is not a whole-number point (where it is, the integer optimum is the same)."""
        out: dict[Key, tuple[float, float, str]] = {}
        for component in _components(hidden, self.equations + self.inequalities):
            order = sorted(component, key=repr)
            system = self._system(order, known)
            programme = LinearProgramme(len(order), *system)  # built once, solved per cell and side
            small = len(order) <= ilp_limit
            for i, key in enumerate(order):
                extremes, method = [], "lp"
                for sign in (1.0, -1.0):
                    result = self._solve(programme, i, sign)
                    if result.status == 3:
                        extremes.append(math.inf)
                        continue
                    value = sign * result.fun
                    if small and not np.allclose(result.x, np.round(result.x), atol=1e-7):
                        value, method = self._integer_extreme(i, sign, len(order), system, value), "ilp"
                    extremes.append(value)
                out[key] = (float(extremes[0]), float(extremes[1]), method)
        return out

    def _integer_extreme(self, i: int, sign: float, n: int, system, fallback: float) -> float:
        a_eq, b_eq, a_ub, b_ub = system
        constraints = []
        if a_eq is not None:
            constraints.append(LinearConstraint(sparse.csr_matrix(a_eq), b_eq, b_eq))
        if a_ub is not None:
            constraints.append(LinearConstraint(sparse.csr_matrix(a_ub), -np.inf, b_ub))
        objective = np.zeros(n)
        objective[i] = sign
        result = milp(objective, constraints=constraints, integrality=np.ones(n), bounds=Bounds(0, np.inf))
        self.solves += 1
        if result.x is None:
            # HiGHS's presolve (scipy 1.17) calls some feasible integer programmes infeasible
            # (tests/test_suppression.py holds one); the true table is always a solution, so ask again
            # without it.
            result = milp(
                objective,
                constraints=constraints,
                integrality=np.ones(n),
                bounds=Bounds(0, np.inf),
                options={"presolve": False},
            )
            self.solves += 1
        # Still no point (unbounded or infeasible): keep the LP's bound then.
        return fallback if result.x is None else sign * result.fun

    def failing(
        self,
        hidden: set[Key],
        known: Mapping[Key, float],
        values: Mapping[Key, int],
        rule: PublicationRule,
        only: set[Key] | None = None,
    ) -> set[Key]:
        """The hidden keys (of ``only``) whose range misses ``rule``'s protection levels around
        their true ``values``. Every solution found is a feasible point, and so a witness for the
        other keys of its programme: a side that some witness reaches needs no programme of its own."""
        out: set[Key] = set()
        for component in _components(hidden, self.equations + self.inequalities):
            wanted = component if only is None else component & only
            if not wanted:
                continue
            order = sorted(component, key=repr)
            index = {key: i for i, key in enumerate(order)}
            below = np.array([values[k] - min(values[k], rule.level(values[k])) for k in order], dtype=float)
            above = np.array([values[k] + rule.level(values[k]) for k in order], dtype=float)
            low_ok, high_ok = np.zeros(len(order), bool), np.zeros(len(order), bool)
            programme = LinearProgramme(len(order), *self._system(order, known))
            for key in sorted(wanted, key=repr):
                i = index[key]
                for sign, ok in ((-1.0, high_ok), (1.0, low_ok)):
                    if ok[i]:
                        continue
                    result = self._solve(programme, i, sign)
                    if result.status == 3:  # unbounded above
                        high_ok[i] = True
                        continue
                    x = result.x
                    high_ok |= x >= above - 1e-6
                    low_ok |= x <= below + 1e-6
                    if not ok[i]:
                        break
                if not (low_ok[i] and high_ok[i]):
                    out.add(key)
        return out


def _components(hidden: set[Key], rows: list[dict[Key, float]]) -> list[set[Key]]:
    """Hidden keys grouped by the constraints that tie them (each group is one LP)."""
    parent = {key: key for key in hidden}

    def find(key: Key) -> Key:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for row in rows:
        keys = [k for k in row if k in parent]
        for other in keys[1:]:
            a, b = find(keys[0]), find(other)
            if a != b:
                parent[a] = b
    groups: dict[Key, set[Key]] = {}
    for key in hidden:
        groups.setdefault(find(key), set()).add(key)
    return list(groups.values())


# -- suppression over the whole report -----------------------------------------------------------------


@dataclass
class Suppression:
    """The result of :func:`suppress_report`: hidden keys, omitted tables, LP solves."""

    hidden: set[Key]
    primary: set[Key]
    omitted: dict[str, str]  # table name -> reason code
    solves: int


def _values_by_key(specs: Sequence[TableSpec], values: Mapping[str, dict[Cell, int]]) -> dict[Key, int]:
    out: dict[Key, int] = {}
    where: dict[Key, str] = {}
    for spec in specs:
        for cell in spec.present:
            key, value = spec.key(cell), values[spec.name][cell]
            if key in out and out[key] != value:
                raise PublicationError(
                    f"tables {where[key]!r} and {spec.name!r} link {key!r} but hold {out[key]} "
                    f"and {value}: a link must name one quantity"
                )
            out[key], where[key] = value, spec.name
    return out


def suppress_report(
    specs: Sequence[TableSpec],
    values: Mapping[str, dict[Cell, int]],
    rule: PublicationRule,
    listed: Mapping[str, set[Key]] | None = None,
    *,
    fixed: Sequence[TableSpec] = (),
    fixed_hidden: Set[Key] = frozenset(),
) -> Suppression:
    """Hide keys until every hidden key meets ``rule`` over all tables (see the module notes).

    ``listed`` maps a listing table (one row per unit) to the keys its row counts reveal: a
    listing that reveals a hidden key is left out. ``fixed`` are tables already published (the
    previous year's report; their values in ``values`` too) with ``fixed_hidden`` the keys they
    hide: those stay hidden here, and what they show cannot be hidden any more.
    """
    specs = list(specs)
    fixed = list(fixed)
    fixed_names = {s.name for s in fixed}
    listed = dict(listed or {})
    omitted: dict[str, str] = {}
    solves = 0
    while True:
        by_key = _values_by_key([*fixed, *specs], values)
        shown_before = {s.key(c) for s in fixed for c in s.present} - set(fixed_hidden)
        # Sensitive counts this report prints; what only last year's report prints is as it was.
        current = {s.key(c) for s in specs for c in s.present}
        primary = {key for key in current if rule.sensitive(by_key[key])} | (set(fixed_hidden) & set(by_key))
        for name, keys in listed.items():
            if keys & primary:
                omitted.setdefault(name, "reveals_hidden")
        model = LinearModel.build([*fixed, *specs])
        hidden = set(primary)
        # The sensitive count each hidden key protects (itself for a sensitive one): a table
        # that cannot be protected is the one holding the count, not one the search reached.
        origin: dict[Key, Key] = {key: key for key in primary}
        stuck: Key | None = None
        pending: set[Key] | None = None  # keys whose ranges must be (re)computed
        clash = sorted(primary & shown_before, key=repr)
        if clash:
            stuck = clash[0]  # a count to hide that last year's report shows: cannot be protected here
        while stuck is None:
            known = {k: v for k, v in by_key.items() if k not in hidden}
            failing = sorted(model.failing(hidden, known, by_key, rule, only=pending), key=repr)
            if not failing:
                break
            added: set[Key] = set()
            for key in failing:
                if added and any(key in row and not added.isdisjoint(row) for row in model.equations):
                    continue  # a cell just hidden shares an identity with it: check again first
                choice = _complement(key, hidden | added | shown_before, model, by_key)
                if choice is None:
                    if not added:
                        stuck = key
                    break
                added.add(choice)
                origin.setdefault(choice, origin.get(key, key))
            hidden |= added
            # Hiding more only widens the other ranges (a constant becomes a free count), so only
            # the failing cells and the new ones need checking again.
            pending = added | set(failing)
        solves += model.solves
        if stuck is None:
            return Suppression(hidden, primary, omitted, solves)
        # Not protectable even with every neighbour hidden: leave out the tables of the count it
        # protects (a table reached on the way, e.g. one of zeros, stays) and start again.
        names = sorted(model.tables_of.get(origin.get(stuck, stuck), set()) - fixed_names)
        names = names or sorted(model.tables_of.get(stuck, set()) - fixed_names)
        if not names:
            raise PublicationError(f"{stuck!r} cannot be protected: the previous year's report already gives it away")
        for name in names:
            omitted.setdefault(name, "unprotectable")
        specs = [s for s in specs if s.name not in omitted]


def _complement(key: Key, hidden: set[Key], model: LinearModel, by_key: Mapping[Key, int]) -> Key | None:
    """The next cell to hide for ``key``: in an identity with it, preferring an identity with few
    hidden cells, a non-zero count (hiding a 0 protects little) and the smallest count."""
    best: tuple | None = None
    choice: Key | None = None
    for kind, rows in ((0, model.equations), (1, model.inequalities)):
        for row in rows:
            if key not in row:
                continue
            n_hidden = sum(k in hidden for k in row)
            for other in row:
                if other in hidden:
                    continue
                rank = (kind, n_hidden, by_key[other] == 0, by_key[other], repr(other))
                if best is None or rank < best:
                    best, choice = rank, other
    if choice is not None:
        return choice
    # No identity left to use: any visible count of the same tables.
    tables = model.tables_of.get(key, set())
    for spec in model.specs:
        if spec.name not in tables:
            continue
        for cell in sorted(spec.present):
            other = spec.key(cell)
            if other not in hidden:
                rank = (2, 0, by_key[other] == 0, by_key[other], repr(other))
                if best is None or rank < best:
                    best, choice = rank, other
    return choice


# -- the whole report ---------------------------------------------------------------------------------------


# The fields of a declared table that name columns.
_COLUMN_FIELDS = ("columns", "counts", "percents", "statistics", "table_statistics")


@dataclass
class Published:
    """What :func:`publish` returns: the items to write and what the audit needs."""

    items: list
    declaration: dict[str, Any]
    omitted: list[tuple[str, str, str, str]]  # (name, title ja, title en, reason code)
    hidden_cells: int
    solves: int
    values: dict[tuple[str, int, str], int]  # (table, row, column) -> true count of hidden cells (never written)
    specs: list[TableSpec] = field(default_factory=list)  # the published tables' model
    hidden_keys: set[Key] = field(default_factory=set)
    by_key: dict[Key, int] = field(default_factory=dict)  # every count by key (never written)

    def rescoped(self, scope: str) -> Published:
        """The same publication with its tables' own keys renamed into ``scope`` (a previous
        year's report beside this year's: table names may repeat, shared links stay shared)."""
        names = {s.name for s in self.specs}

        def rename(key: Key) -> Key:
            if len(key) == 4 and key[0] == "" and key[1] in names:
                return (scope, f"{scope}:{key[1]}", key[2], key[3])
            return key

        specs = [replace(s, name=f"{scope}:{s.name}", scope=scope) for s in self.specs]
        return replace(
            self,
            specs=specs,
            hidden_keys={rename(k) for k in self.hidden_keys},
            by_key={rename(k): v for k, v in self.by_key.items()},
        )

    def labelled(self, words: Words) -> Published:
        """The declaration and true values with columns named by their headers in ``words``, as
        the written files name them (:func:`analysis.report.writers.prepare_table`): what the
        audit of the files attacks. Headers of a table's columns must be distinct."""
        from analysis.report.registry import ReportTable

        items = {item.name: item for item in self.items if isinstance(item, ReportTable)}
        headers: dict[str, dict[str, str]] = {}
        tables = []
        for table in self.declaration["tables"]:
            item = items.get(table["name"])
            head = {c: item.header(c, words) if item else words.header(c, "report") for c in table["columns"]}
            if len(set(head.values())) < len(head):
                raise PublicationError(f"table {table['name']!r} gives two columns the same header: {head}")
            headers[table["name"]] = head

            def name(column: str, head: dict[str, str] = head) -> str:
                return head.get(column, column)

            layout = table["layout"]
            tables.append(
                {
                    **table,
                    **{f: [name(c) for c in table[f]] for f in _COLUMN_FIELDS},
                    "layout": None if layout is None else TableLayout.from_mapping(layout).renamed(name).as_mapping(),
                }
            )
        values = {
            (table, row, headers.get(table, {}).get(column, column)): value
            for (table, row, column), value in self.values.items()
        }
        return replace(self, declaration={**self.declaration, "tables": tables}, values=values)


def _listed_keys(item: Any) -> set[Key]:
    layout = _layout_of(item)
    if layout.listing is None:
        return set()
    prefix, columns = layout.listing
    columns = [c for c in columns if c in item.frame]
    if not columns:
        return set()
    groups = item.frame[columns].astype("object").itertuples(index=False, name=None)
    return {(*prefix, *group) for group in groups}


def publish(
    items: Sequence[Any],
    rule: PublicationRule,
    *,
    previous: Published | None = None,
    marker: str = "x",
    notes: tuple[str, str] = ("", ""),
    omitted_table: Any = None,
) -> Published:
    """Return the publishable report: respondent-level items left out, counts suppressed over
    all tables at once, computed columns hidden with their counts, hidden cells marked with
    ``marker`` and their tables' notes extended with ``notes`` (Japanese, English).

    ``previous`` is the previous year's report as published (``publish(...).rescoped("previous")``):
    year-over-year tables print both years, so its tables join the model, what it hides stays
    hidden and what it shows cannot be hidden any more.

    ``omitted_table(rows)`` builds the appendix table listing what was left out (rows of
    ``(name, title ja, title en, reason code)``); it is appended when anything was.
    """
    from analysis.report.registry import ReportFigure

    kept, omitted = [], []
    for item in items:
        if getattr(item, "respondent_level", False):
            omitted.append((item.name, item.title_ja, item.title_en, "respondent_level"))
        elif not isinstance(item, ReportFigure) and item.counts and _undeclared(item):
            # Without a layout nobody knows which sums a reader can use: fail closed.
            omitted.append((item.name, item.title_ja, item.title_en, "no_layout"))
        else:
            kept.append(item)
    tables = [i for i in kept if not isinstance(i, ReportFigure) and i.counts]
    specs, values = [], {}
    for item in tables:
        spec, cells = spec_of(item)
        specs.append(spec)
        values[spec.name] = cells
    fixed = [] if previous is None else list(previous.specs)
    fixed_values = {} if previous is None else {s.name: _spec_values(s, previous.by_key) for s in fixed}
    if set(fixed_values) & set(values):
        raise ValueError("the previous year's report must be rescoped (Published.rescoped) to join this one")
    listed = {i.name: _listed_keys(i) for i in kept if not isinstance(i, ReportFigure)}
    listed = {name: keys for name, keys in listed.items() if keys}
    result = suppress_report(
        specs,
        {**values, **fixed_values},
        rule,
        listed,
        fixed=fixed,
        fixed_hidden=set() if previous is None else previous.hidden_keys,
    )
    for item in kept:
        if isinstance(item, ReportFigure) and set(getattr(item, "shows", ())) & result.hidden:
            # What it draws depends on a hidden count's size (e.g. drawn only from k companies).
            result.omitted.setdefault(item.name, "figure_reveals_hidden")
        reason = result.omitted.get(item.name)
        if reason is not None:
            omitted.append((item.name, item.title_ja, item.title_en, reason))
    out, hidden_values, n_hidden = [], {}, 0
    spec_by_name = {s.name: s for s in specs}
    kept_specs = [s for s in specs if s.name not in result.omitted]
    by_key = _values_by_key(kept_specs, values)
    for item in kept:
        if item.name in result.omitted:
            continue
        if isinstance(item, ReportFigure):
            out.append(item)
            continue
        if not item.counts:
            ids = [c for c in item.respondent_columns if c in item.frame]
            out.append(replace(item, frame=item.frame.drop(columns=ids), respondent_columns=()))
            continue
        spec = spec_by_name[item.name]
        hidden_cells = {cell for cell in spec.present if spec.key(cell) in result.hidden}
        n_hidden += len(hidden_cells)
        for cell in hidden_cells:
            hidden_values[(item.name, cell[0], cell[1])] = values[spec.name][cell]
        frame = item.frame.reset_index(drop=True)
        shown = frame.copy()
        masks = derived_masks(
            frame,
            spec.counts,
            values[spec.name],
            hidden_cells,
            spec.layout,
            item.percents,
            item.statistics,
            item.table_statistics,
        )
        any_hidden = False
        for column in spec.counts:
            mask = np.array([(p, column) in hidden_cells for p in range(len(frame))], dtype=bool)
            if mask.any():
                any_hidden = True
                shown[column] = shown[column].astype("object").where(~mask, marker)
        for column, mask in masks.items():
            mask = mask & frame[column].notna().to_numpy()
            if mask.any():
                any_hidden = True
                shown[column] = shown[column].astype("object").where(~mask, marker)
        shown.index = item.frame.index
        changes = {}
        if any_hidden:
            changes = {
                "note_ja": " ".join(filter(None, (item.note_ja, notes[0]))),
                "note_en": " ".join(filter(None, (item.note_en, notes[1]))),
            }
        shown = shown.drop(columns=[c for c in item.respondent_columns if c in shown])
        out.append(replace(item, frame=shown, respondent_columns=(), **changes))
    if omitted and omitted_table is not None:
        out.append(omitted_table(omitted))
    hidden_keys = {key for key in result.hidden if key in by_key}
    return Published(
        out,
        declaration(out, rule, marker),
        omitted,
        n_hidden,
        result.solves,
        hidden_values,
        kept_specs,
        hidden_keys,
        by_key,
    )


def _spec_values(spec: TableSpec, by_key: Mapping[Key, int]) -> dict[Cell, int]:
    return {cell: by_key[spec.key(cell)] for cell in spec.present}


def declaration(items: Sequence[Any], rule: PublicationRule, marker: str) -> dict[str, Any]:
    """The structure of the published tables, for ``publication.json``: count columns, layout
    (rows as positions) and links of each table, and the rule. No value is in it."""
    from analysis.report.registry import ReportFigure
    from analysis.report.writers import file_stem, prepare_table

    tables = []
    for item in items:
        if isinstance(item, ReportFigure):
            continue
        layout = _positional(_layout_of(item), item.frame.index) if (item.counts or item.layout) else None
        columns = [str(c) for c in item.frame.columns]
        # The writer may print a meaningful index as leading columns: count them.
        offset = len(prepare_table(item, Words(None)).headers) - len(columns) if len(item.frame) else 0
        tables.append(
            {
                "name": item.name,
                "file": f"tables/{file_stem(item.name)}.csv",
                "columns": columns,
                "offset": offset,
                "counts": [str(c) for c in item.counts if c in item.frame],
                "percents": [str(c) for c in item.percents if c in item.frame],
                "statistics": [str(c) for c in item.statistics if c in item.frame],
                "table_statistics": [str(c) for c in item.table_statistics if c in item.frame],
                "n_rows": len(item.frame),
                "layout": None if layout is None else layout.as_mapping(),
            }
        )
    return {"rule": rule.as_mapping(), "marker": marker, "tables": tables}
