"""The toolkit attacks its own publication (``survey audit REPORT_DIR [REPORT_DIR2]``).

Reads only what a published report folder holds: the per-table CSVs and ``publication.json``
(the structure of the tables: count columns, layout, links; no value). For every hidden cell
of one or two years' reports it tries, as a reader would:

* **differencing**: the same quantity (link key) printed in another table or the other year;
* **row counting**: counting the rows of a published listing gives the quantity it lists;
* **computed columns**: a percentage, interval or test printed beside a hidden count;
* **linear programming** over all tables of both reports at once (shared keys are one
  variable): the smallest and largest value of each hidden cell;
* **integer programming** (:func:`scipy.optimize.milp`) on small groups of hidden cells, whose
  ranges can be narrower than the LP's.

A cell fails when its range is narrower than the protection interval of the codebook's rule
(:class:`analysis.report.publication.PublicationRule`; value-free unless the publisher passes the true
values). The result (``audit.csv``) holds ranges, never values.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.report.publication import Key, LinearModel, PublicationRule, TableSpec
from analysis.tabulation.suppression import TableLayout

__all__ = [
    "AUDIT_COLUMNS",
    "AuditResult",
    "PublishedReport",
    "audit_csv",
    "audit_folders",
    "audit_reports",
    "read_report",
    "report_from_items",
]

AUDIT_COLUMNS = ["report", "table", "row", "column", "lo", "hi", "method", "protected"]
ILP_LIMIT = 40  # hidden cells per group checked by integer programming (kept small: fast)


@dataclass(frozen=True)
class PublishedReport:
    """One report folder as a reader holds it: its declaration and its tables as text."""

    tag: str
    declaration: Mapping
    tables: Mapping[str, list[list[str]]]  # table name -> data rows (header dropped)


@dataclass
class AuditResult:
    """One row per hidden cell (see :data:`AUDIT_COLUMNS`), and the number of LP/ILP solves."""

    frame: pd.DataFrame
    solves: int

    @property
    def failures(self) -> pd.DataFrame:
        return self.frame[~self.frame["protected"]]

    @property
    def ok(self) -> bool:
        return self.failures.empty


def read_report(folder: Path, tag: str | None = None) -> PublishedReport:
    """Read ``publication.json`` and the CSVs it names (nothing else) from a report folder."""
    folder = Path(folder)
    path = folder / "publication.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not a published report (no publication.json; build it with --publish)")
    spec = json.loads(path.read_text(encoding="utf-8"))
    tables = {}
    for table in spec["tables"]:
        csv_path = (folder / table["file"]).resolve()
        if not csv_path.is_relative_to(folder.resolve()):
            raise ValueError(f"{path}: table {table['name']!r} names a file outside the report folder")
        if csv_path.is_file():
            # Report CSVs are UTF-8 with a BOM (for Excel); utf-8-sig reads them with or without.
            rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
            tables[table["name"]] = rows[1:]
    return PublishedReport(tag or folder.name, spec, tables)


def _number(text: str) -> int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if not math.isnan(value) and value.is_integer() else None


def audit_reports(
    reports: Sequence[PublishedReport],
    rule: PublicationRule | None = None,
    values: Mapping[tuple[str, str, int, str], int] | None = None,
) -> AuditResult:
    """Attack ``reports`` together (see the module notes).

    ``rule`` defaults to the first report's declared rule; ``values`` (publisher only: report
    tag, table, row, column -> true count) checks the protection levels around each value.
    """
    rule = rule or PublicationRule(**reports[0].declaration["rule"])
    specs: list[TableSpec] = []
    hidden_cells: list[tuple[str, str, int, str, Key]] = []
    known: dict[Key, float] = {}
    listings: list[tuple[tuple, int, dict[tuple, int]]] = []
    computed: set[tuple[str, str, int, str]] = set()  # hidden cells printed through a computed column
    for report in reports:
        marker = str(report.declaration.get("marker", "x"))
        for table in report.declaration["tables"]:
            rows = report.tables.get(table["name"])
            if rows is None:
                continue
            layout = TableLayout.from_mapping(table["layout"]) if table.get("layout") else TableLayout()
            offset = int(table.get("offset", 0))
            columns = [""] * offset + list(table["columns"])
            if layout.listing is not None:
                prefix, by = layout.listing
                where = [columns.index(c) for c in by if c in columns]
                counted: dict[tuple, int] = {}
                for row in rows:
                    group = (*prefix, *(row[i] for i in where))
                    counted[group] = counted.get(group, 0) + 1
                listings.append((tuple(prefix), len(where), counted))
            if not table["counts"]:
                continue
            present, cells_hidden = set(), []
            for column in table["counts"]:
                j = columns.index(column)
                for pos, row in enumerate(rows):
                    text = row[j] if j < len(row) else ""
                    if text == marker:
                        present.add((pos, column))
                        cells_hidden.append((pos, column))
                    elif _number(text) is not None:
                        present.add((pos, column))
            # Rows of a written declaration are positions (whole numbers).
            links = {(r, c): tuple(k) for r, c, k in layout.links if isinstance(r, int)}
            spec = TableSpec(
                f"{report.tag}:{table['name']}",
                report.tag,
                tuple(table["counts"]),
                len(rows),
                layout,
                frozenset(present),
                {c: k for c, k in links.items() if c in present},
            )
            specs.append(spec)
            for cell in present:
                value = _number(rows[cell[0]][columns.index(cell[1])])
                if cell not in cells_hidden and value is not None:  # present and not hidden: a number
                    known[spec.key(cell)] = float(value)
            hidden_cells += [
                (report.tag, table["name"], pos, column, spec.key((pos, column))) for pos, column in cells_hidden
            ]
            computed |= {
                (report.tag, table["name"], pos, column)
                for pos, column in _printed_beside(cells_hidden, rows, columns, table, layout, marker)
            }
    counted_keys: dict[Key, float] = {}
    for prefix, width, counted in listings:
        counted_keys.update({k: float(v) for k, v in counted.items()})
        for *_, key in hidden_cells:  # a listed kind of quantity with no row is a 0
            if len(key) == len(prefix) + width and key[: len(prefix)] == prefix and key not in counted:
                counted_keys.setdefault(key, 0.0)
    model = LinearModel.build(specs)
    hidden_keys = {key for *_, key in hidden_cells if key not in known and key not in counted_keys}
    ranges = model.ranges(hidden_keys, {**known, **counted_keys}, ilp_limit=ILP_LIMIT)
    solves = model.solves
    out = []
    for tag, name, pos, column, key in hidden_cells:
        if key in known:
            lo = hi = known[key]
            method = "differencing"
        elif key in counted_keys:
            lo = hi = counted_keys[key]
            method = "row_count"
        else:
            lo, hi, method = ranges[key]
        value = None if values is None else values.get((tag, name, pos, column))
        protected = rule.protected(lo, hi, value)
        if (tag, name, pos, column) in computed:
            method, protected = "computed_column", False
        out.append(
            {
                "report": tag,
                "table": name,
                "row": pos,
                "column": column,
                "lo": lo,
                "hi": hi,
                "method": method,
                "protected": protected,
            }
        )
    return AuditResult(pd.DataFrame(out, columns=AUDIT_COLUMNS), solves)


def _printed_beside(
    hidden: list[tuple[int, str]],
    rows: list[list[str]],
    columns: list[str],
    table: Mapping,
    layout: TableLayout,
    marker: str,
) -> set[tuple[int, str]]:
    """Hidden counts whose row prints a column computed from them: their percentage, a column
    derived from them, a test of the row, or a test of the whole table."""

    def printed(pos: int, column: str) -> bool:
        if column not in columns:
            return False
        j = columns.index(column)
        text = rows[pos][j] if j < len(rows[pos]) else ""
        return text not in ("", marker)

    untied = [c for c in table.get("percents", ()) if c not in layout.percent_of and c not in layout.derived_from]
    row_tests = [*layout.dependent_columns, *table.get("statistics", ()), *untied]
    out = set()
    for pos, column in hidden:
        beside = [p for p, c in layout.percent_of.items() if c == column]
        beside += [d for d, sources in layout.derived_from.items() if column in sources]
        if any(printed(pos, c) for c in (*beside, *row_tests)) or any(
            printed(p, c) for c in table.get("table_statistics", ()) for p in range(len(rows))
        ):
            out.add((pos, column))
    return out


def report_from_items(items: Sequence, declaration: Mapping, tag: str = "r0") -> PublishedReport:
    """The report a reader would hold, built in memory from published ``items`` (the same CSV
    text the writer produces), for tests and benchmarks."""
    from analysis.codebook.words import Words
    from analysis.report.registry import ReportFigure
    from analysis.report.writers import csv_bytes, prepare_table

    tables = {}
    for item in items:
        if not isinstance(item, ReportFigure):
            text = csv_bytes(prepare_table(item, Words(None))).decode("utf-8-sig")
            tables[item.name] = list(csv.reader(io.StringIO(text)))[1:]
    return PublishedReport(tag, declaration, tables)


def audit_folders(folders: Sequence[Path]) -> AuditResult:
    """Audit one or two published report folders (the later year first or second: any order)."""
    reports = [read_report(Path(f), tag=f"r{i}") for i, f in enumerate(folders)]
    return audit_reports(reports)


def audit_csv(result: AuditResult) -> bytes:
    """``audit.csv``: every hidden cell with the range a reader can work out (no true value)."""
    return result.frame.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")  # BOM: every CSV opens in Excel
