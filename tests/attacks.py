"""Black-box attacks on the files that ``survey report --publish`` writes.

Each attack reads only a published report folder (or two: a year and the previous year) and
returns what an outsider recovers from it, the way a reader of the published report could:
counting the rows of listings, differencing the same quantity printed in two places, solving
the margins of a table as a linear programme, reading counts back from percentages and
evidence strings, and scanning every file for respondent ids, names and respondent-level
tables or figures.

The attacks know the report's vocabulary (labels such as 計, 合計, 成熟度A(高), 開示企業数),
as any reader of the open-source toolkit does, and nothing else: they never read processed
data. The tests give them the truth (the internal report, the respondents' ids and names)
only to judge what they found.

A recovered cell is a frame row ``attack, table, row, column, lo, hi, value, how``:
``table`` is ``<year>/<table name>``, ``row`` the table's row labels joined by `` | ``,
``[lo, hi]`` the feasible range the attack proved and ``value`` the whole number when the
range holds exactly one.

Not attempted (yet): reading the machine-readable layout file (publish writes
``publication.json``, which the toolkit's own audit, ``analysis.report.audit``, attacks; here the
table structure is inferred from labels), recomputing the sensitivity table from a
per-company listing with the codebook's rule, and lining two years' listings up by
industry to fill the transition table.

Run ``python tests/attacks.py PUBLISHED [PREVIOUS] [--internal REPORT [PREVIOUS_REPORT]]``
for a per-attack count of the hidden cells reached, recovered and narrowed.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

HIDDEN = "x"
TOTAL_LABELS = frozenset({"計", "合計", "総計", "total", "Total"})
COLUMNS = ["attack", "table", "row", "column", "lo", "hi", "value", "how"]

# Columns whose numbers are not counts even when they are whole numbers.
# q値 (Benjamini-Hochberg) and interval bounds (信頼区間) came with the intervals of the crosstabs.
_NOT_COUNT = ("%", "割合", "p値", "q値", "信頼区間", "平均", "最小", "最大", "閾値", "年度", "開催日", "発行時期")
_NOT_COUNT_NAMES = frozenset({"回", "No.", "節"})  # numbering columns
_REGIONS = {"domestic": "国内", "overseas": "海外"}
_COUNTRIES = {"GB": "英国", "US": "米国", "JP": "日本", "DE": "ドイツ", "FR": "フランス", "CH": "スイス"}


# --------------------------------------------------------------------------- reading


@dataclass
class Published:
    """The CSV tables of one published report folder, every cell kept as printed."""

    folder: Path
    year: int | None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def label_columns(self, name: str) -> list[str]:
        return _label_columns(self.tables[name])


def read_published(folder: Path | str) -> Published:
    """Every ``tables/*.csv`` of a published folder as text, and the folder's fiscal year."""
    folder = Path(folder)
    tables = {}
    for path in sorted((folder / "tables").glob("*.csv")):
        tables[path.stem] = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return Published(folder, _year_of(folder, tables), tables)


def _year_of(folder: Path, tables: dict[str, pd.DataFrame]) -> int | None:
    page = folder / "index.html"
    if page.exists():
        found = re.findall(r"(20\d\d)\s*年度", page.read_text(encoding="utf-8")[:4000])
        if found:
            return int(found[0])
    yoy = tables.get("yoy_maturity_levels")
    if yoy is not None:
        years = [int(y) for c in yoy.columns for y in re.findall(r"(20\d\d)年度", c)]
        if years:
            return max(years)
    return None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _label_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that label rows: every column holding text (neither a number nor the hidden
    mark) in some row, and the numeric columns before the first of them that hide nothing
    (a section number, a meeting number)."""

    def texty(column):
        values = [v for v in frame[column] if v not in ("", HIDDEN)]
        return bool(values) and any(_number(v) is None for v in values)

    columns = list(frame.columns)
    text = [c for c in columns if texty(c)]
    if not text:
        return [columns[0]]
    first = columns.index(text[0])
    leading = [c for c in columns[:first] if HIDDEN not in set(frame[c])]
    return leading + [c for c in text if c not in leading]


def _row_names(frame: pd.DataFrame, labels: list[str] | None = None) -> list[str]:
    labels = labels if labels is not None and set(labels) <= set(frame.columns) else _label_columns(frame)
    names = [" | ".join(str(frame.iloc[i][c]) for c in labels) for i in range(len(frame))]
    seen: dict = defaultdict(int)
    unique = []
    for name in names:  # repeated labels (one row per pair or company) get their row number
        seen[name] += 1
        unique.append(name if names.count(name) == 1 else f"{name} #{seen[name]}")
    return unique


def _is_count_column(frame: pd.DataFrame, column: str) -> bool:
    if column in _label_columns(frame) or column in _NOT_COUNT_NAMES or any(w in column for w in _NOT_COUNT):
        return False
    values = [v for v in frame[column] if v not in ("", HIDDEN)]
    numbers = [_number(v) for v in values]
    if any(n is None for n in numbers):
        return False
    return all(float(n).is_integer() and n >= 0 for n in numbers) and (HIDDEN in set(frame[column]) or values)


def hidden_cells(pub: Published) -> list[tuple[str, str, str]]:
    """Every hidden cell ``(table, row, column)`` of a folder's tables."""
    cells = []
    for name, frame in pub.tables.items():
        rows = _row_names(frame)
        for column in frame.columns:
            for i, value in enumerate(frame[column]):
                if value == HIDDEN:
                    cells.append((f"{pub.year}/{name}", rows[i], column))
    return cells


# --------------------------------------------------------------------------- labels -> quantities


def level_of(label: str) -> str | None:
    """The maturity level a label names (A/B/C/判定不能), whatever the table's wording."""
    text = unicodedata.normalize("NFKC", str(label)).strip()
    if "判定不能" in text:
        return "判定不能"
    found = re.search(r"成熟度\s*([ABC])", text) or re.fullmatch(r"([ABC])(?:の企業数| n)?", text)
    if found:
        return found.group(1)
    found = re.search(r"成熟度([高中低])", text)
    if found:
        return {"高": "A", "中": "B", "低": "C"}[found.group(1)]
    return None


def quantity_keys(pub: Published) -> dict[tuple[str, str, str], tuple]:
    """Cells (visible or hidden) -> the quantity they print, where the labels say it.

    The same key in two places is the same number: the level distribution (``level``) is
    the 件数 of ``maturity_levels``, a year's columns of ``yoy_maturity_levels``, the 基準 row
    of the sensitivity table, the 計 of ``maturity_bounds`` (unclassified only) and the 合計 row
    of every single-response pre-survey table; a region's disclosing companies per item
    (``disc``) appear by region, summed by country and in the trend table of every year.
    """
    year = pub.year
    keys = {}
    for name, frame in pub.tables.items():
        rows = _row_names(frame)
        labels = _label_columns(frame)
        t = f"{year}/{name}"

        def put(i, column, key, t=t, rows=rows):
            keys[(t, rows[i], column)] = key

        if name == "maturity_levels":
            for i, r in enumerate(rows):
                if "件数" in frame.columns:
                    put(i, "件数", ("N", year) if r in TOTAL_LABELS else ("level", year, level_of(r)))
        elif name == "maturity_bounds":  # unclassified companies by range: its 計 is the 判定不能 count
            for i in range(len(frame)):
                if "件数" in frame.columns and str(frame.iloc[i][labels[0]]) in TOTAL_LABELS:
                    put(i, "件数", ("level", year, "判定不能"))
        elif name == "yoy_maturity_levels":
            for column in frame.columns:
                found = re.fullmatch(r"(20\d\d)年度 件数", column)
                if found:
                    y = int(found.group(1))
                    for i, r in enumerate(rows):
                        put(i, column, ("N", y) if r in TOTAL_LABELS else ("level", y, level_of(r)))
        elif name == "maturity_sensitivity":
            for i, r in enumerate(rows):
                if r == "基準":
                    for column in frame.columns:
                        lv = level_of(column.removesuffix("の企業数")) if column.endswith("の企業数") else None
                        if lv and column != "変化した企業数":
                            put(i, column, ("level", year, lv))
                        if column == "企業数":
                            put(i, column, ("N", year))
        elif name.startswith("presurvey_") and not any("回答者数" in r for r in rows):
            for i, r in enumerate(rows):
                if r in TOTAL_LABELS:
                    for column in frame.columns:
                        if column.endswith(" n"):
                            lv = level_of(column[:-2])
                            if lv:
                                put(i, column, ("level", year, lv))
                            elif column[:-2] in TOTAL_LABELS:
                                put(i, column, ("N", year))
        elif name in (
            "disclosure_items_by_region",
            "disclosure_depth_by_region",
            "disclosure_venues_by_region",
            "disclosure_bases_by_region",
            "disclosure_sustainability_by_region",
        ):
            for i, r in enumerate(rows):
                for column in frame.columns:
                    found = re.fullmatch(r"(\S+) (開示企業数|調査企業数)", column)
                    if found and found.group(2) == "開示企業数":
                        put(i, column, ("disc", year, found.group(1), name.removeprefix("disclosure_"), r))
                    elif found:
                        put(i, column, ("disc_N", year, found.group(1)))
        elif name == "disclosure_trend" and len(labels) >= 3:
            for i in range(len(frame)):
                y, region, item = (frame.iloc[i][c] for c in labels[:3])
                put(i, "開示企業数", ("disc", int(y), region, "items_by_region", item))
                put(i, "調査企業数", ("disc_N", int(y), region))
        elif name == "disclosure_items_by_country" and len(labels) >= 3:
            for i in range(len(frame)):
                region, country, item = (frame.iloc[i][c] for c in labels[:3])
                put(i, "開示企業数", ("disc_country", year, region, country, item))
                put(i, "調査企業数", ("disc_country_N", year, region, country))
        elif name.startswith("statements_by_category_") and {"節", "カテゴリー", "発言数"} <= set(frame.columns):
            group = name.removeprefix("statements_by_category_")
            for i in range(len(frame)):
                put(i, "発言数", ("statements", year, group, str(frame.iloc[i]["節"]), frame.iloc[i]["カテゴリー"]))
    return keys


# --------------------------------------------------------------------------- the linear programme


@dataclass
class System:
    """Linear facts over the hidden cells: ``sum(coef * cell) (== | <=) rhs``."""

    equalities: list[tuple[dict, float, str]] = field(default_factory=list)
    inequalities: list[tuple[dict, float, str]] = field(default_factory=list)

    def add(self, terms: list[tuple[float, object]], rhs: float = 0.0, sense: str = "==", how: str = ""):
        """``terms`` are ``(coef, cell or number-as-text)``; visible numbers go to the right side."""
        coefs: dict = defaultdict(float)
        for coef, item in terms:
            if isinstance(item, tuple):
                coefs[item] += coef
            else:
                rhs -= coef * item
        coefs = {c: v for c, v in coefs.items() if v}
        if not coefs:
            return
        (self.equalities if sense == "==" else self.inequalities).append((coefs, rhs, how))

    def extend(self, other: System):
        self.equalities += other.equalities
        self.inequalities += other.inequalities


def _cell(frame, rows, t, i, column):
    """A table cell as a number (visible) or a variable ``(table, row, column)`` (hidden)."""
    value = frame.iloc[i][column]
    if value == HIDDEN:
        return (t, rows[i], column)
    number = _number(value)
    return 0.0 if number is None else number


def _is_cell(v) -> bool:
    """A hidden cell ``(table, row, column)``; helper unknowns are tuples starting with ``~``."""
    return isinstance(v, tuple) and len(v) == 3 and v[0] != "~"


def _propagate(system: System) -> tuple[dict, list]:
    """Pin unknowns that an equality leaves no choice for (one unknown left, or nonnegative
    terms summing to zero), substitute, and repeat; returns the pinned values and the
    constraints still open. Cheap, and it leaves small programmes for the solver."""
    pinned: dict = {}
    rows = [(dict(c), r, "==") for c, r, _ in system.equalities] + [
        (dict(c), r, "<=") for c, r, _ in system.inequalities
    ]
    changed = True
    while changed:
        changed = False
        open_rows = []
        for coefs, rhs, sense in rows:
            for v in [v for v in coefs if v in pinned]:
                rhs -= coefs.pop(v) * pinned[v]
            if not coefs:
                continue
            if sense == "==" and len(coefs) == 1:
                ((v, c),) = coefs.items()
                pinned[v] = rhs / c
                changed = True
                continue
            if sense == "==" and abs(rhs) < 1e-9 and all(c > 0 for c in coefs.values()):
                pinned.update(dict.fromkeys(coefs, 0.0))
                changed = True
                continue
            open_rows.append((coefs, rhs, sense))
        rows = open_rows
    return pinned, rows


def solve_ranges(system: System, cells: list[tuple] | None = None) -> dict[tuple, tuple[float, float]]:
    """The feasible range of each hidden cell in ``system`` (every unknown >= 0), by LP.

    Unknowns pinned by propagation skip the solver; the rest are solved per connected
    component so that each programme stays small.
    """
    from scipy.optimize import linprog

    pinned, rows = _propagate(system)
    wanted = None if cells is None else set(cells)
    ranges = {
        v: (max(0.0, x), max(0.0, x)) for v, x in pinned.items() if _is_cell(v) and (wanted is None or v in wanted)
    }
    parent: dict = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for coefs, _, _ in rows:
        first = next(iter(coefs))
        for other in coefs:
            parent[find(other)] = find(first)
    groups: dict = defaultdict(list)
    for coefs, rhs, sense in rows:
        groups[find(next(iter(coefs)))].append((coefs, rhs, sense))
    for constraints in groups.values():
        variables = sorted({v for coefs, _, _ in constraints for v in coefs}, key=str)
        targets = [v for v in variables if _is_cell(v) and (wanted is None or v in wanted)]
        if not targets:
            continue
        if all(
            sense == "==" and abs(rhs) < 1e-12 and sorted(coefs.values()) == [-1, 1]
            for coefs, rhs, sense in constraints
        ):
            # only "this cell prints the same as that one", and none is known: [0, inf) each
            ranges.update({v: (0.0, math.inf) for v in targets})
            continue
        index = {v: j for j, v in enumerate(variables)}
        a_eq, b_eq, a_ub, b_ub = [], [], [], []
        for coefs, rhs, sense in constraints:
            row = np.zeros(len(variables))
            for v, c in coefs.items():
                row[index[v]] = c
            (a_eq if sense == "==" else a_ub).append(row)
            (b_eq if sense == "==" else b_ub).append(rhs)
        kwargs = dict(
            A_eq=np.array(a_eq) if a_eq else None,
            b_eq=b_eq or None,
            A_ub=np.array(a_ub) if a_ub else None,
            b_ub=b_ub or None,
            bounds=[(0, None)] * len(variables),
            method="highs",
        )
        # A bound is proved without its own programme when a solution already found reaches
        # it: 0 from below, and from above the cap an all-positive equality puts on the cell.
        caps = np.full(len(variables), np.inf)
        for coefs, rhs, sense in constraints:
            if sense == "==" and all(c > 0 for c in coefs.values()):
                for v, c in coefs.items():
                    caps[index[v]] = min(caps[index[v]], rhs / c)
        seen_low = np.full(len(variables), np.inf)
        seen_high = np.full(len(variables), -np.inf)
        feasible = True
        for v in targets:
            j = index[v]
            objective = np.zeros(len(variables))
            if seen_low[j] <= 1e-9:
                lo = 0.0
            else:
                objective[j] = 1.0
                low = linprog(objective, **kwargs)
                if low.status != 0:  # infeasible: the attack misread some labels; claim nothing
                    feasible = False
                    break
                seen_low, seen_high = np.minimum(seen_low, low.x), np.maximum(seen_high, low.x)
                lo = low.fun
            if seen_high[j] >= caps[j] - 1e-9:
                hi = float(caps[j])
            else:
                objective[j] = -1.0
                high = linprog(objective, **kwargs)
                hi = -high.fun if high.status == 0 else math.inf
                if high.status == 0:
                    seen_low, seen_high = np.minimum(seen_low, high.x), np.maximum(seen_high, high.x)
            ranges[v] = (max(0.0, lo), hi)
        if not feasible:
            for v in targets:
                ranges.pop(v, None)
    return ranges


def _frame(attack: str, ranges: dict, how: str | dict = "") -> pd.DataFrame:
    records = []
    for (t, r, c), (lo, hi) in ranges.items():
        value = _single_integer(lo, hi)
        records.append(
            {
                "attack": attack,
                "table": t,
                "row": r,
                "column": c,
                "lo": lo,
                "hi": hi,
                "value": value,
                "how": how.get((t, r, c), "") if isinstance(how, dict) else how,
            }
        )
    return pd.DataFrame(records, columns=COLUMNS)


def _single_integer(lo: float, hi: float) -> float | None:
    """The value a range pins: its one whole number, or the number itself when the range is
    a point (a mean)."""
    eps = 1e-6
    if math.isinf(hi):
        return None
    if abs(hi - lo) < eps:
        return round(lo, 9)
    low, high = math.ceil(lo - eps), math.floor(hi + eps)
    return low if low == high else None


# --------------------------------------------------------------------------- (c) margins


def table_system(pub: Published, name: str) -> System:
    """The linear identities one table's labels declare: totals, parts and inequalities."""
    frame = pub.tables[name]
    rows = _row_names(frame)
    t = f"{pub.year}/{name}"
    system = System()
    counts = [c for c in frame.columns if _is_count_column(frame, c)]
    cell = lambda i, c: _cell(frame, rows, t, i, c)  # noqa: E731
    first_labels = [str(frame.iloc[i][_label_columns(frame)[0]]) for i in range(len(frame))]

    # Rows: a 計/合計 row sums the rows above it (single response); a multiple-response table
    # (回答者数 row) only bounds each option by the answered row.
    total_rows = [i for i, r in enumerate(first_labels) if r in TOTAL_LABELS]
    answered = [i for i, r in enumerate(first_labels) if "回答者数" in r]
    eligible = [i for i, r in enumerate(first_labels) if "対象者数" in r]
    label_count = len(_label_columns(frame))
    for column in counts:
        if answered:
            a = answered[0]
            options = [
                i
                for i in range(len(frame))
                if i not in answered + eligible and first_labels[i] not in ("未回答", "該当なし", "わからない")
            ]
            for i in options:
                system.add([(1, cell(i, column)), (-1, cell(a, column))], sense="<=", how="option <= answered")
            system.add(
                [(1, cell(a, column))] + [(-1, cell(i, column)) for i in options],
                sense="<=",
                how="answered <= sum of options",
            )
            for e in eligible:
                system.add([(1, cell(a, column)), (-1, cell(e, column))], sense="<=", how="answered <= eligible")
        elif total_rows and (label_count == 1 or name == "maturity_bounds"):  # its 2nd label: a range's code
            total = total_rows[0]
            system.add(
                [(1, cell(i, column)) for i in range(len(frame)) if i != total] + [(-1, cell(total, column))],
                how="column total",
            )

    # Columns: parts add up to a total column in every row.
    families = []
    n_cols = [c for c in counts if c.endswith(" n")]
    total_n = [c for c in n_cols if c[:-2] in TOTAL_LABELS]
    if total_n:
        families.append((total_n[0], [c for c in n_cols if c != total_n[0]]))
    total_col = [c for c in counts if c in TOTAL_LABELS]
    if total_col and name != "maturity_levels":
        families.append(
            (total_col[0], [c for c in counts if c != total_col[0] and (level_of(c) or c.startswith("成熟度"))])
        )
    if "企業数" in counts:
        families.append(
            ("企業数", [c for c in counts if c.endswith("の企業数") and level_of(c.removesuffix("の企業数"))])
        )
    if {"件数", "上昇", "変化なし", "低下"} <= set(counts):
        families.append(("件数", ["上昇", "変化なし", "低下"]))
    pair_parts = ["両方が開示", "海外企業のみ開示", "国内企業のみ開示", "どちらも非開示"]
    for whole in ("比較した組数", "比較した項目数"):
        if whole in counts and set(pair_parts) <= set(counts):
            families.append((whole, pair_parts))
    if {"海外企業の開示項目数", "両方が開示", "海外企業のみ開示"} <= set(counts):
        families.append(("海外企業の開示項目数", ["両方が開示", "海外企業のみ開示"]))
    if {"国内企業の開示項目数", "両方が開示", "国内企業のみ開示"} <= set(counts):
        families.append(("国内企業の開示項目数", ["両方が開示", "国内企業のみ開示"]))
    for whole, parts in families:
        if not parts:
            continue
        for i in range(len(frame)):
            system.add([(1, cell(i, p)) for p in parts] + [(-1, cell(i, whole))], how=f"{whole} = parts")

    # Inequalities: n <= N, speakers <= statements, per-level counts <= their total.
    for column in counts:
        found = re.fullmatch(r"(\S+) 開示企業数", column)
        if found and f"{found.group(1)} 調査企業数" in counts:
            for i in range(len(frame)):
                system.add(
                    [(1, cell(i, column)), (-1, cell(i, f"{found.group(1)} 調査企業数"))], sense="<=", how="n <= N"
                )
    if {"開示企業数", "調査企業数"} <= set(counts):
        for i in range(len(frame)):
            system.add([(1, cell(i, "開示企業数")), (-1, cell(i, "調査企業数"))], sense="<=", how="n <= N")
    if {"変化した企業数", "上昇", "低下"} <= set(counts):  # a move from 判定不能 is neither up nor down
        for i in range(len(frame)):
            system.add(
                [(1, cell(i, "上昇")), (1, cell(i, "低下")), (-1, cell(i, "変化した企業数"))],
                sense="<=",
                how="up + down <= changed",
            )
    if {"発言数", "発言した回答者数"} <= set(counts):
        for i in range(len(frame)):
            system.add(
                [(1, cell(i, "発言した回答者数")), (-1, cell(i, "発言数"))], sense="<=", how="speakers <= statements"
            )
    return system


def _key_system(pubs: list[Published]) -> System:
    """Every labelled quantity as one unknown ``("~", key)``: each cell printing it equals it
    (a visible cell fixes it)."""
    system = System()
    for pub in pubs:
        for (t, r, c), key in quantity_keys(pub).items():
            if key[-1] is None:
                continue
            frame = pub.tables[t.split("/", 1)[1]]
            rows = _row_names(frame)
            system.add([(1, _cell(frame, rows, t, rows.index(r), c)), (-1, ("~", key))], how=f"prints {key}")
    return system


def _cross_table_system(pubs: list[Published]) -> System:
    """Identities between tables beyond the same printed quantity: a region's disclosing
    companies are the sum over its countries; a section's statements the sum over its
    categories; the transition table's margins are the two years' levels less the companies
    of one year only; a level's companies answering a directive are at most the level's."""
    system = System()
    keys = {}
    for pub in pubs:
        keys.update({k: v for k, v in quantity_keys(pub).items()})
    countries: dict = defaultdict(set)
    for key in keys.values():
        if key and key[0] == "disc_country":
            _, y, region, _country, item = key
            countries[("disc", y, region, "items_by_region", item)].add(("~", key))
    for key, parts in countries.items():
        system.add([(1, p) for p in parts] + [(-1, ("~", key))], how="countries sum to their region")
    for pub in pubs:
        y = pub.year
        for name, frame in pub.tables.items():
            rows = _row_names(frame)
            t = f"{y}/{name}"
            cell = lambda i, c, f=frame, r=rows, t=t: _cell(f, r, t, i, c)  # noqa: E731
            if name.startswith("statements_by_maturity_"):
                group = name.removeprefix("statements_by_maturity_")
                other = pub.tables.get(f"statements_by_category_{group}")
                total = next((c for c in frame.columns if c in TOTAL_LABELS), None)
                if other is None or total is None:
                    continue
                for i, r in enumerate(rows):
                    section = r.split(" ", 1)[0]
                    cats = [
                        ("~", ("statements", y, group, section, cat))
                        for sec, cat in zip(other["節"].astype(str), other["カテゴリー"], strict=True)
                        if sec == section
                    ]
                    if cats:
                        system.add([(1, c) for c in cats] + [(-1, cell(i, total))], how="categories sum to section")
            elif name == "maturity_transitions":
                total = next((c for c in frame.columns if c in TOTAL_LABELS), None)
                level_columns = [c for c in frame.columns if level_of(c)]
                for i, r in enumerate(rows):
                    lv = level_of(r)
                    if lv and total:
                        system.add(
                            [
                                (1, cell(i, total)),
                                (1, ("~", ("only_one_year", y - 1, lv))),
                                (-1, ("~", ("level", y - 1, lv))),
                            ],
                            how="transitions row + one year only",
                        )
                        system.add(
                            [(1, cell(i, c)) for c in level_columns] + [(-1, cell(i, total))],
                            how="transitions row total",
                        )
                for c in level_columns:
                    system.add(
                        [(1, cell(i, c)) for i in range(len(frame)) if level_of(rows[i])]
                        + [(1, ("~", ("only_one_year", y, level_of(c)))), (-1, ("~", ("level", y, level_of(c))))],
                        how="transitions column + one year only",
                    )
                change = pub.tables.get("maturity_directive_change")
                if change is not None and "件数" in change.columns:
                    crow = _row_names(change)
                    for i in range(len(change)):
                        system.add(
                            [(1, cell(r, c)) for r in range(len(frame)) for c in level_columns]
                            + [(-1, _cell(change, crow, f"{y}/maturity_directive_change", i, "件数"))],
                            sense="<=",
                            how="directive change at most the companies of both years",
                        )
            elif name.startswith("presurvey_") and any("対象者数" in r for r in rows):
                # a multiple-response table: those asked at a level are at most the level's companies
                i = next(i for i, r in enumerate(rows) if "対象者数" in r)
                for column in frame.columns:
                    if column.endswith(" n"):
                        lv = level_of(column[:-2])
                        key = ("level", y, lv) if lv else ("N", y) if column[:-2] in TOTAL_LABELS else None
                        if key:
                            system.add(
                                [(1, cell(i, column)), (-1, ("~", key))],
                                sense="<=",
                                how="asked at most the level's companies",
                            )
            elif name == "maturity_profile" and "件数" in frame.columns:
                labels = _label_columns(frame)
                for i in range(len(frame)):
                    lv = level_of(frame.iloc[i][labels[0]])
                    if lv:
                        system.add(
                            [(1, cell(i, "件数")), (-1, ("~", ("level", y, lv)))],
                            sense="<=",
                            how="answering a directive at most the level's companies",
                        )
    return system


def margins_system(pubs: list[Published], linked: bool = True) -> System:
    """Every table's own identities, and (``linked``) those tying tables and years together."""
    system = System()
    for pub in pubs:
        for name in pub.tables:
            system.extend(table_system(pub, name))
    if linked:
        system.extend(_key_system(pubs))
        system.extend(_cross_table_system(pubs))
    return system


def _pubs(folder, previous) -> list[Published]:
    return [read_published(folder)] + ([read_published(previous)] if previous else [])


def attack_margins(folder: Path | str, previous: Path | str | None = None, linked: bool = True) -> pd.DataFrame:
    """(c) Hidden cells pinned or narrowed by the table's own totals and inequalities, solved
    as a linear programme, and (``linked``) jointly with every other table of the year(s)
    that prints the same margins."""
    ranges = solve_ranges(margins_system(_pubs(folder, previous), linked))
    return _frame("margins", ranges, "LP over totals" + (" and shared margins" if linked else ""))


# --------------------------------------------------------------------------- (b) differencing


def attack_differencing(folder: Path | str, previous: Path | str | None = None) -> pd.DataFrame:
    """(b) Hidden cells whose quantity is printed visibly elsewhere (another table, the other
    year's report), matched by the tables' labels."""
    # equalities only: propagation is exact, no programme is needed
    pinned, _ = _propagate(_key_system(_pubs(folder, previous)))
    ranges = {v: (x, x) for v, x in pinned.items() if _is_cell(v)}
    return _frame("differencing", ranges, "same quantity printed elsewhere")


# --------------------------------------------------------------------------- (a) counting rows


def listing_counts(pub: Published) -> dict[tuple, int]:
    """Quantities obtained by counting the rows of listings (one row per respondent or per
    statement): the level distribution from a per-company table, the one-year-only companies
    per level, the statements per category from a statement listing."""
    facts: dict = {}
    year = pub.year
    for name, frame in pub.tables.items():
        if name.startswith("findings_") and {"節", "カテゴリー"} <= set(frame.columns):
            group = name.removeprefix("findings_")
            for (section, category), n in frame.groupby(["節", "カテゴリー"]).size().items():
                facts[("statements", year, group, str(section), category)] = int(n)
            continue
        level_columns = [c for c in frame.columns if c in ("成熟度レベル", "レベル")]
        has_total = any(str(v) in TOTAL_LABELS for v in frame[_label_columns(frame)[0]])
        if not level_columns or has_total or "件数" in frame.columns:
            continue
        column = level_columns[0]
        if "年度" in frame.columns:  # a listing of the companies present in one year only
            for y in frame["年度"].unique():
                part = frame[frame["年度"] == y][column].map(lambda v: level_of(v) or "判定不能")
                for lv in ("A", "B", "C", "判定不能"):
                    facts[("only_one_year", int(y), lv)] = int((part == lv).sum())
        else:
            levels = frame[column].map(lambda v: level_of(v) or "判定不能")
            for lv in ("A", "B", "C", "判定不能"):
                facts[("level", year, lv)] = int((levels == lv).sum())
            facts[("N", year)] = len(frame)
    return facts


def row_count_system(pubs: list[Published]) -> System:
    """Listing counts as facts about the labelled quantities; a category with statements was
    said by at least one respondent."""
    system = System()
    for pub in pubs:
        facts = listing_counts(pub)
        for key, n in facts.items():
            system.add([(1, ("~", key))], rhs=n, how="rows of a listing")
        groups = {k[:3] for k in facts if k[0] == "statements"}
        for name, frame in pub.tables.items():
            if not name.startswith("statements_by_category_") or "発言した回答者数" not in frame.columns:
                continue
            rows = _row_names(frame)
            t = f"{pub.year}/{name}"
            group = name.removeprefix("statements_by_category_")
            if ("statements", pub.year, group) not in groups:
                continue
            for i in range(len(frame)):
                key = ("statements", pub.year, group, str(frame.iloc[i]["節"]), frame.iloc[i]["カテゴリー"])
                n = facts.get(key, 0)
                system.add([(1, ("~", key))], rhs=n, how="no row in the listing")  # absent category: 0
                speakers = _cell(frame, rows, t, i, "発言した回答者数")
                if n:
                    system.add([(-1, speakers)], rhs=-1, sense="<=", how="someone said it")
                system.add([(1, speakers)], rhs=n, sense="<=", how="speakers at most statements")
    return system


def listing_statistics(pub: Published) -> dict[tuple[str, str, str], float]:
    """Hidden cells of the maturity profile computed from a per-company listing: the mean,
    minimum, maximum and count of each directive's scores within each level."""
    found = {}
    profile = pub.tables.get("maturity_profile")
    if profile is None:
        return found
    listing = next(
        (
            f
            for n, f in pub.tables.items()
            if "成熟度レベル" in f.columns
            and "指示" not in f.columns
            and n != "maturity_levels"
            and "年度" not in f.columns
            and sum(bool(re.match(r"^\d+\. ", c)) for c in f.columns) >= 5
        ),
        None,
    )
    if listing is None:
        return found
    rows = _row_names(profile)
    stats = {"平均": "mean", "最小": "min", "最大": "max", "件数": "count"}
    levels = listing["成熟度レベル"].map(lambda v: level_of(v) or "判定不能")
    for i in range(len(profile)):
        lv, directive = level_of(profile.iloc[i]["成熟度レベル"]), profile.iloc[i].get("指示")
        if lv is None or directive not in listing.columns:
            continue
        scores = pd.to_numeric(listing.loc[levels == lv, directive], errors="coerce").dropna()
        for column, how in stats.items():
            if column in profile.columns and profile.iloc[i][column] == HIDDEN and len(scores):
                found[(f"{pub.year}/maturity_profile", rows[i], column)] = float(getattr(scores, how)())
    return found


def attack_row_counts(folder: Path | str, previous: Path | str | None = None) -> pd.DataFrame:
    """(a) Hidden cells fixed by the rows of a published listing: their number (carried by
    the label matching of (b) to every table that prints it) and, for a per-company listing,
    the profile's per-level statistics computed from its rows."""
    pubs = _pubs(folder, previous)
    system = row_count_system(pubs)
    system.extend(_key_system(pubs))
    ranges = solve_ranges(system)
    for pub in pubs:
        ranges.update({c: (v, v) for c, v in listing_statistics(pub).items()})
    return _frame("row_counts", ranges, "rows of a listing")


# --------------------------------------------------------------------------- (d) statistics


def statistics_system(pub: Published) -> System:
    """Hidden counts tied to what is printed beside them: count = share x denominator (within
    the rounding of the printed share), and the range of counts an exact test's printed
    p-value allows."""
    system = System()
    for name, frame in pub.tables.items():
        rows = _row_names(frame)
        t = f"{pub.year}/{name}"
        for column in frame.columns:
            for i in range(len(frame)):
                printed = frame.iloc[i][column]
                share = _number(printed)
                sources = _share_sources(frame, column, i) if share is not None else None
                if sources is None:
                    continue
                count, den = (_cell(frame, rows, t, j, c) for c, j in sources)
                if not isinstance(count, tuple) and not isinstance(den, tuple):
                    continue
                slack = 0.5 * 10 ** -(len(printed.split(".")[1]) if "." in printed else 0)
                system.add([(1, count), (-(share + slack), den)], sense="<=", how=f"{column} = {share}")
                system.add([(-1, count), (share - slack, den)], sense="<=", how=f"{column} = {share}")
        for cell, (lo, hi) in _fisher_inversions(frame, rows, t).items():
            system.add([(1, cell)], rhs=hi, sense="<=", how="Fisher p-value")
            system.add([(-1, cell)], rhs=-lo, sense="<=", how="Fisher p-value")
    return system


def attack_statistics(folder: Path | str, previous: Path | str | None = None) -> pd.DataFrame:
    """(d) Hidden counts read back from a printed percentage (count = share x denominator)
    and from an exact test's p-value (the counts in range that give the printed p)."""
    system = System()
    for pub in _pubs(folder, previous):
        system.extend(statistics_system(pub))
    return _frame("statistics", solve_ranges(system), "printed share or p-value")


def _fisher_inversions(frame, rows, t) -> dict:
    """Two-region tables: a printed Fisher p-value with a hidden count of one region: the
    counts in range that reproduce it."""
    from scipy.stats import fisher_exact

    found = {}
    p_columns = [c for c in frame.columns if c.startswith("p値")]
    regions = [m.group(1) for c in frame.columns if (m := re.fullmatch(r"(\S+) 開示企業数", c))]
    if not p_columns or len(regions) != 2:
        return found
    for i in range(len(frame)):
        p = _number(frame.iloc[i][p_columns[0]])
        if p is None:
            continue
        n = [frame.iloc[i][f"{r} 開示企業数"] for r in regions]
        big = [_number(frame.iloc[i][f"{r} 調査企業数"]) for r in regions]
        if None in big or all(v != HIDDEN for v in n):
            continue
        options = [[int(_number(v))] if v != HIDDEN else list(range(int(b) + 1)) for v, b in zip(n, big, strict=True)]
        fits = [
            (a, b)
            for a in options[0]
            for b in options[1]
            if abs(fisher_exact([[a, big[0] - a], [b, big[1] - b]])[1] - p) <= 1e-6 * max(1.0, p)
        ]
        for j, region in enumerate(regions):
            if n[j] == HIDDEN and fits:
                values = {f[j] for f in fits}
                found[(t, rows[i], f"{region} 開示企業数")] = (min(values), max(values))
    return found


# --------------------------------------------------------------------------- (e) evidence strings


def evidence_counts(folder: Path | str) -> pd.DataFrame:
    """Every count printed in a finding's evidence: ``finding, context, a, b``."""
    folder = Path(folder)
    path = next((p for p in (folder / "tables" / "findings.csv", folder / "findings.csv") if p.exists()), None)
    if path is None:
        return pd.DataFrame(columns=["finding", "context", "a", "b"])
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    records = []
    for _, row in frame.iterrows():
        text = " ".join(str(v) for v in row.values[1:])
        for part in text.split(";"):
            for m in re.finditer(r"(\d+)\s*(?:/|of)\s*(\d+)", part):
                records.append(
                    {"finding": row.iloc[0], "context": part.strip(), "a": int(m.group(1)), "b": int(m.group(2))}
                )
            for m in re.finditer(r"\(n=(\d+)\)", part):
                records.append({"finding": row.iloc[0], "context": part.strip(), "a": int(m.group(1)), "b": None})
    return pd.DataFrame(records, columns=["finding", "context", "a", "b"])


_FEATURES = {
    "mitigation_measures": "具体的な対策",
    "governance": "ガバナンス体制",
    "risk_description": "リスクの記述",
    "incident_history": "インシデント履歴",
    "board_oversight": "取締役会の監督",
}


def evidence_system(pub: Published) -> System:
    """What each evidence fraction says about the disclosure tables, read as its words say:
    a region (domestic/overseas) or a country code, and the feature counted."""
    system = System()
    tables = pub.tables

    def cells(name, pick, column):
        frame = tables.get(name)
        if frame is None or column not in frame.columns:
            return []
        rows = _row_names(frame)
        return [_cell(frame, rows, f"{pub.year}/{name}", i, column) for i, r in enumerate(rows) if pick(r)]

    for _, e in evidence_counts(pub.folder).iterrows():
        context, a, b = e["context"], e["a"], e["b"]
        region = next((ja for en, ja in _REGIONS.items() if en in context), None)
        country = next((ja for code, ja in _COUNTRIES.items() if re.search(rf"\b{code}\b", context)), None)
        picked, totals = [], []
        if "sustainability" in context and region:
            picked = cells("disclosure_sustainability_by_region", lambda r: True, f"{region} 開示企業数")
            totals = cells("disclosure_sustainability_by_region", lambda r: True, f"{region} 調査企業数")
        elif "stopping at governance" in context and region:
            picked = cells(
                "disclosure_depth_by_region",
                lambda r: r in ("ガバナンス体制まで", "リスクの記述まで"),
                f"{region} 開示企業数",
            )
        elif "going on to measures" in context and region:
            picked = cells("disclosure_depth_by_region", lambda r: r == "対策まで", f"{region} 開示企業数")
        elif country:
            feature = re.search(r"disclosing (\w+)", context)
            label = _FEATURES.get(feature.group(1)) if feature else None
            pick = lambda r, c=country, lb=label: f"| {c} |" in f"| {r} |" and (lb is None or r.endswith(lb))  # noqa: E731
            picked = cells("disclosure_items_by_country", pick, "開示企業数")
            totals = cells("disclosure_items_by_country", pick, "調査企業数")
        if country is not None:  # one row per feature of the country
            for c in picked:
                system.add([(1, c)], rhs=a, how=context)
        elif picked:  # the rows counted together
            system.add([(1, c) for c in picked], rhs=a, how=context)
        if b is not None:
            for c in totals:
                system.add([(1, c)], rhs=b, how=context)
    return system


def attack_evidence(folder: Path | str) -> pd.DataFrame:
    """(e) Hidden disclosure counts printed as ``a/b`` in findings' evidence: the cells it
    pins, and the neighbours the tables' margins then pin (cells the margins alone left
    wider)."""
    pub = read_published(folder)
    base = System()
    for name in pub.tables:
        if name.startswith("disclosure_"):
            base.extend(table_system(pub, name))
    before = solve_ranges(base)
    with_evidence = System()
    with_evidence.extend(base)
    with_evidence.extend(evidence_system(pub))
    after = solve_ranges(with_evidence)
    gained = {c: r for c, r in after.items() if c not in before or (r[1] - r[0]) < (before[c][1] - before[c][0]) - 1e-6}
    return _frame("evidence", gained, "evidence string in findings")


# --------------------------------------------------------------------------- (f) ids and names


def published_texts(folder: Path | str) -> dict[str, str]:
    """The text of every published file: csv, md, html, svg and every xlsx cell."""
    folder = Path(folder)
    texts = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        rel = str(path.relative_to(folder))
        if path.suffix in (".csv", ".md", ".html", ".svg", ".txt", ".json"):
            text = path.read_text(encoding="utf-8", errors="replace")
            if path.suffix in (".html", ".svg"):
                import html

                text = html.unescape(text)
            texts[rel] = text
        elif path.suffix == ".xlsx":
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True)
            parts = []
            for sheet in book.worksheets:
                parts.append(sheet.title)
                for row in sheet.iter_rows(values_only=True):
                    parts.extend(str(v) for v in row if v is not None)
            book.close()
            texts[rel] = "\n".join(parts)
    return texts


def name_variants(name: str) -> set[str]:
    """A name as a text may spell it: NFKC and full-width forms, with and without the
    company-type word (株式会社, (株)) and a trailing note in brackets."""
    base = unicodedata.normalize("NFKC", name).strip()
    base = re.sub(r"\s*[((][^))]*[))]\s*$", "", base)  # "(架空)" and the like
    cores = {base}
    for word in ("株式会社", "(株)", "有限会社", "合同会社"):
        cores.add(base.replace(word, "").strip())
    variants = set()
    for core in cores:
        if len(core) < 2:
            continue
        variants |= {core, _full_width(core)}
    return variants


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def attack_identifiers(folder: Path | str, ids: list[str] = (), names: list[str] = ()) -> pd.DataFrame:
    """(f) Respondent ids and names found in any published file: ``file, kind, token, context``."""
    texts = published_texts(folder)
    records = []
    id_patterns = [(i, re.compile(rf"(?<![A-Za-z0-9]){re.escape(i)}(?![0-9])")) for i in ids]
    name_patterns = {v: n for n in names for v in name_variants(n)}
    for rel, text in texts.items():
        normal = unicodedata.normalize("NFKC", text)
        for token, pattern in id_patterns:
            for m in pattern.finditer(text):
                records.append(
                    {
                        "file": rel,
                        "kind": "id",
                        "token": token,
                        "context": text[max(0, m.start() - 40) : m.end() + 40].replace("\n", " "),
                    }
                )
                break
        for variant, name in name_patterns.items():
            for haystack in {text, normal}:
                at = haystack.find(variant)
                if at >= 0:
                    records.append(
                        {
                            "file": rel,
                            "kind": "name",
                            "token": name,
                            "context": haystack[max(0, at - 40) : at + len(variant) + 40].replace("\n", " "),
                        }
                    )
                    break
    found = pd.DataFrame(records, columns=["file", "kind", "token", "context"])
    return found.drop_duplicates(["file", "kind", "token"])


def raw_names(raw_folder: Path | str) -> list[str]:
    """The 企業名/組織名 every raw workbook holds (test-side knowledge, never the attacker's):
    the cell right of a 企業名 label, or the column under a 企業名 header."""
    import openpyxl

    names = set()
    for path in sorted(Path(raw_folder).rglob("*.xlsx")):
        book = openpyxl.load_workbook(path, read_only=True)
        for sheet in book.worksheets:
            if "説明" in sheet.title or "instruction" in sheet.title.lower():
                continue  # the instructions mention the field, they hold no name
            grid = [list(r) for r in sheet.iter_rows(values_only=True)]
            for r, row in enumerate(grid):
                for c, value in enumerate(row):
                    if not (isinstance(value, str) and value.strip() in ("企業名", "組織名", "会社名", "団体名")):
                        continue
                    right = row[c + 1] if c + 1 < len(row) else None
                    if isinstance(right, str) and right.strip() and not right.startswith("For the"):
                        names.add(right.strip())
                    if not any(isinstance(h, str) and "ID" in h for h in row):
                        continue  # a header row of a data table has an id column beside the name
                    for below in grid[r + 1 :]:
                        v = below[c] if c < len(below) else None
                        if isinstance(v, str) and v.strip():
                            names.add(v.strip())
        book.close()
    return sorted(n for n in names if len(n) >= 2)


# --------------------------------------------------------------------------- (g) respondent-level


def attack_respondent_level(folder: Path | str) -> pd.DataFrame:
    """(g) Tables and figures whose rows or marks are single respondents: ``file, reason``.

    A table is respondent-level when each row carries a maturity level or per-company scores
    and there is no total row, or when it has one row per unit counted elsewhere (as many rows
    as a published number of companies or pairs, with per-row counts and a per-row test); a
    figure is when its labels name single companies (A-1, B-2, …).
    """
    folder = Path(folder)
    pub = read_published(folder)
    records = []
    for name, frame in pub.tables.items():
        columns = list(frame.columns)
        first = _label_columns(frame)[0]
        has_total = any(str(v) in TOTAL_LABELS or "回答者数" in str(v) for v in frame[first])
        levels = [c for c in columns if c in ("成熟度レベル", "レベル")]
        if levels and not has_total and "件数" not in columns and not name.startswith("findings_"):
            level_values = {level_of(v) for v in frame[levels[0]] if v}
            if level_values - {None}:
                records.append(
                    {"file": f"tables/{name}.csv", "reason": f"{len(frame)} rows, one level per row ({levels[0]})"}
                )
                continue
        score_columns = [c for c in columns if re.match(r"^\d+\. ", c)]
        if len(score_columns) >= 5 and not has_total and "指示" not in columns:
            records.append({"file": f"tables/{name}.csv", "reason": "one row of directive scores per company"})
            continue
        per_row_test = any(c.startswith("p値") for c in columns)
        unit_count = any("開示項目数" in c for c in columns)
        unlabelled = len(frame) > 0 and _label_columns(frame) == [columns[0]] and _number(frame.iloc[0, 0]) is not None
        if per_row_test and unit_count and unlabelled:
            records.append(
                {
                    "file": f"tables/{name}.csv",
                    "reason": f"{len(frame)} unlabelled rows with per-row counts and a per-row test (one per pair)",
                }
            )
    for path in sorted((folder / "figures").glob("*.svg")):
        text = path.read_text(encoding="utf-8", errors="replace")
        marks = sorted(set(re.findall(r"<!-- ([ABC]|判定不能)-(\d+) -->", text)))
        if marks:
            records.append(
                {
                    "file": str(path.relative_to(folder)),
                    "reason": f"{len(marks)} per-company marks ({marks[0][0]}-{marks[0][1]}, …)",
                }
            )
    return pd.DataFrame(records, columns=["file", "reason"])


# --------------------------------------------------------------------------- all together


def attack_all(folder: Path | str, previous: Path | str | None = None) -> pd.DataFrame:
    """Every cell-level fact of every attack in one linear programme: the ranges a
    determined reader gets from the published files (one row per hidden cell reached)."""
    pubs = _pubs(folder, previous)
    system = margins_system(pubs, linked=True)
    system.extend(row_count_system(pubs))
    system.extend(evidence_system(pubs[0]))
    for pub in pubs:
        system.extend(statistics_system(pub))
    ranges = solve_ranges(system)
    for pub in pubs:
        ranges.update({c: (v, v) for c, v in listing_statistics(pub).items()})
        ranges.update(_derived_shares(pub, ranges))
    return _frame("all", ranges, "every attack together")


def _share_sources(frame: pd.DataFrame, column: str, i: int) -> tuple[tuple, tuple] | None:
    """Where a share cell's count and denominator are: ``((count column, row), (column, row))``."""
    first = [str(v) for v in frame[_label_columns(frame)[0]]]
    totals = [j for j, r in enumerate(first) if r in TOTAL_LABELS]
    if column.endswith(" %") and column[:-2] + " n" in frame.columns:
        dens = [j for j, r in enumerate(first) if "分母" in r] or totals
        return ((column[:-2] + " n", i), (column[:-2] + " n", dens[0])) if dens else None
    prefix = column[: -len("割合")] if column.endswith("割合") else None
    if prefix is not None and {prefix + "開示企業数", prefix + "調査企業数"} <= set(frame.columns):
        return (prefix + "開示企業数", i), (prefix + "調査企業数", i)
    if column == "割合" and "件数" in frame.columns and totals:
        return ("件数", i), ("件数", totals[0])
    return None


def _derived_shares(pub: Published, ranges: dict) -> dict:
    """Hidden shares whose count and denominator are both known (printed or recovered)."""
    found = {}
    for name, frame in pub.tables.items():
        rows = _row_names(frame)
        t = f"{pub.year}/{name}"

        def known(column, i, rows=rows, t=t, frame=frame):
            value = frame.iloc[i][column]
            if value != HIDDEN:
                return _number(value)
            lo, hi = ranges.get((t, rows[i], column), (0, math.inf))
            return lo if hi - lo < 1e-9 else None

        for column in frame.columns:
            for i in range(len(frame)):
                if frame.iloc[i][column] != HIDDEN:
                    continue
                sources = _share_sources(frame, column, i)
                if sources is None:
                    continue
                if frame.iloc[sources[0][1]][sources[0][0]] != HIDDEN:
                    continue  # a share beside its printed count tells nothing new
                n, d = known(*sources[0]), known(*sources[1])
                if n is not None and d:
                    found[(t, rows[i], column)] = (n / d, n / d)
    return found


def classify(
    found: pd.DataFrame, truth: dict | None = None, interval: float = 1.0, min_width: float = 2.0
) -> pd.DataFrame:
    """Mark each cell ``recovered`` (its range holds one whole number) and ``narrowed``.

    Without the truth a cell is narrowed when ``hi - lo < min_width``; with the true value
    ``v`` (from the internal report) when the range does not reach ``interval`` on each side:
    ``lo > max(v - interval, 0)`` or ``hi < v + interval``.
    """
    out = found.copy()
    out["recovered"] = out["value"].notna()
    narrow = []
    for _, r in out.iterrows():
        v = None if truth is None else truth.get((r["table"], r["row"], r["column"]))
        if v is None:
            narrow.append(r["hi"] - r["lo"] < min_width - 1e-9)
        else:
            narrow.append(r["lo"] > max(v - interval, 0) + 1e-9 or r["hi"] < v + interval - 1e-9)
    out["narrowed"] = narrow
    out["true"] = [
        None if truth is None else truth.get((t, r, c))
        for t, r, c in zip(out["table"], out["row"], out["column"], strict=True)
    ]
    return out


def read_truth(
    internal_folder: Path | str, cells: list[tuple[str, str, str]], published: Published | None = None
) -> dict:
    """The true values of ``cells`` from the internal report (test-side knowledge). Rows are
    named by the published table's label columns when given (the internal table may have
    more, e.g. ids)."""
    pub = read_published(internal_folder)
    wanted = defaultdict(list)
    for t, r, c in cells:
        wanted[t.split("/", 1)[1]].append((t, r, c))
    truth = {}
    for name, items in wanted.items():
        frame = pub.tables.get(name)
        if frame is None:
            continue
        labels = _label_columns(published.tables[name]) if published and name in published.tables else None
        rows = _row_names(frame, labels)
        for t, r, c in items:
            if r in rows and c in frame.columns:
                v = _number(frame.iloc[rows.index(r)][c])
                if v is not None:
                    truth[(t, r, c)] = v
    return truth


# --------------------------------------------------------------------------- baseline


CELL_ATTACKS = {
    "a_row_counts": lambda f, p: attack_row_counts(f, p),
    "b_differencing": lambda f, p: attack_differencing(f, p),
    "c_margins_per_table": lambda f, p: attack_margins(f, p, linked=False),
    "c_margins_linked": lambda f, p: attack_margins(f, p, linked=True),
    "d_statistics": lambda f, p: attack_statistics(f, p),
    "e_evidence": lambda f, p: attack_evidence(f),
    "all_together": lambda f, p: attack_all(f, p),
}


def baseline(
    folder: Path | str,
    previous: Path | str | None = None,
    internal: Path | str | None = None,
    internal_previous: Path | str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per attack: hidden cells reached, recovered and narrowed (judged against the internal
    reports when given); and every leaking cell of all attacks together."""
    pubs = _pubs(folder, previous)
    hidden = [c for p in pubs for c in hidden_cells(p)]
    truth = {}
    for pub, report in zip(pubs, (internal, internal_previous), strict=False):
        if report is not None:
            truth.update(read_truth(report, [c for c in hidden if c[0].startswith(f"{pub.year}/")], pub))
    hidden_set, summary, leaking = set(hidden), [], None
    for name, attack in CELL_ATTACKS.items():
        judged = classify(attack(folder, previous), truth or None)
        mask = pd.Series(
            [c in hidden_set for c in zip(judged["table"], judged["row"], judged["column"], strict=True)],
            index=judged.index,
            dtype=bool,
        )
        judged = judged[mask]
        summary.append(
            {
                "attack": name,
                "hidden": len(hidden),
                "reached": len(judged),
                "recovered": int(judged["recovered"].sum()),
                "narrowed_not_recovered": int((judged["narrowed"] & ~judged["recovered"]).sum()),
            }
        )
        leaking = judged[judged["recovered"] | judged["narrowed"]]
    return pd.DataFrame(summary), leaking


if __name__ == "__main__":  # python tests/attacks.py PUBLISHED [PREVIOUS] [--internal REPORT [PREVIOUS_REPORT]]
    import sys

    args = sys.argv[1:]
    cut = args.index("--internal") if "--internal" in args else len(args)
    folders, internals = args[:cut], args[cut + 1 :]
    table, cells = baseline(folders[0], folders[1] if len(folders) > 1 else None, *(internals + [None, None])[:2])
    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 50)
    print(table.to_string(index=False))
    print(cells.groupby("table").size().to_string())
    print(cells[["table", "row", "column", "lo", "hi", "value", "true"]].to_string(index=False))
