"""Benchmark of publication: suppression over the whole report and the self-audit.

    python benchmarks/bench_publish.py              # the sample study and N = 1,000 companies
    python benchmarks/bench_publish.py --n 100      # a smaller synthetic study
    python benchmarks/bench_publish.py --no-sample  # the synthetic study only

(a) the bundled sample study (two years, made with ``survey sample`` and ingested into a
    temporary folder): the report's items of 2021 are published with 2020's report as the
    previous year, then audited; builders and writers are not timed;
(b) a synthetic study of N companies: a level distribution and ``--questions`` pre-survey
    crosstabs by level (each with 2 to 5 options, answers at random, seeded), linked by the
    level margins as the report links them, published and audited.

Printed: seconds, LP solves of the publication and LP/ILP solves of the audit, cells hidden,
cells the audit narrows below the protection interval (must be 0), and the interval used.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from analysis.report.audit import audit_reports, report_from_items  # noqa: E402
from analysis.report.publication import PublicationRule, publish  # noqa: E402
from analysis.report.registry import ReportTable  # noqa: E402
from analysis.tabulation.suppression import TableLayout  # noqa: E402

LEVELS = ("A", "B", "C", "unclassified")


def _table(
    name: str, rows: dict[str, list[int]], columns: list[str], total_column: str | None, links: list
) -> ReportTable:
    frame = pd.DataFrame({"label": list(rows)})
    for j, column in enumerate(columns):
        frame[column] = pd.array([v[j] for v in rows.values()], dtype="Int64")
    layout = TableLayout(
        total_row=len(frame) - 1,
        total_column=total_column,
        part_columns=None if total_column else (),
        links=tuple(links),
    )
    return ReportTable(name, name, name, frame, counts=tuple(columns), layout=layout.as_mapping())


def synthetic_items(n: int, questions: int, seed: int = 11, year: int = 2021) -> list[ReportTable]:
    """A level table and ``questions`` crosstabs by level of ``n`` random companies."""
    rng = random.Random(seed)
    levels = rng.choices(LEVELS, weights=(2, 5, 2, 1), k=n)
    counts = {level: levels.count(level) for level in LEVELS}
    rows = {level: [counts[level]] for level in LEVELS} | {"total": [n]}
    margin = [("maturity_level", year, level) for level in LEVELS] + [("respondents", year)]
    items = [_table("levels", rows, ["n"], None, [(i, "n", key) for i, key in enumerate(margin)])]
    for q in range(questions):
        options = [f"o{i}" for i in range(rng.randint(2, 5))]
        picks = [rng.choice(options) for _ in range(n)]
        rows = {}
        for option in options:
            cells = [
                sum(1 for lv, p in zip(levels, picks, strict=True) if lv == level and p == option) for level in LEVELS
            ]
            rows[option] = [*cells, sum(cells)]
        rows["total"] = [*(counts[level] for level in LEVELS), n]
        links = [(len(options), column, key) for column, key in zip((*LEVELS, "total"), margin, strict=True)]
        items.append(_table(f"q{q}", rows, [*LEVELS, "total"], "total", links))
    return items


def run(name: str, items: list, rule: PublicationRule, previous=None, previous_report=None) -> None:
    start = time.perf_counter()
    published = publish(items, rule, previous=previous)
    middle = time.perf_counter()
    report = report_from_items(published.items, published.declaration, "r0")
    values = {("r0", t, r, c): v for (t, r, c), v in published.values.items()}
    result = audit_reports([report, *([previous_report] if previous_report else [])], rule, values=values)
    end = time.perf_counter()
    print(
        f"{name}: publish {middle - start:.1f} s ({published.solves} LP solves), audit {end - middle:.1f} s "
        f"({result.solves} LP/ILP solves); {published.hidden_cells} cells hidden, "
        f"{len(result.failures)} narrowed by the audit; interval ±{rule.interval} (share {rule.share}), k={rule.k}"
    )


def sample(rule: PublicationRule) -> None:
    from analysis.collect.sample.generate import write_sample
    from analysis.ingest.folder import ingest
    from analysis.report.build import collect_items
    from analysis.report.registry import ReportContext
    from analysis.study.load import load_study

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_sample(root / "raw")
        studies = {}
        for year in (2020, 2021):
            ingest(root / "raw" / str(year), out_dir=root / str(year), fiscal_year=year, progress=False)
            studies[year] = load_study(root / str(year))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            old, _ = collect_items(studies[2020], ReportContext(lang="ja", publish=True))
            new, _ = collect_items(studies[2021], ReportContext(lang="ja", publish=True, previous=studies[2020]))
        before = publish(old, rule)
        previous_report = report_from_items(before.items, before.declaration, "r1")
        run("sample 2021 (with 2020)", new, rule, before.rescoped("previous"), previous_report)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="companies of the synthetic study")
    parser.add_argument("--questions", type=int, default=16, help="crosstabs of the synthetic study")
    parser.add_argument("--no-sample", action="store_true")
    args = parser.parse_args(argv)
    from analysis.codebook import load_codebook

    rule = PublicationRule.from_codebook(load_codebook("fy2021"))
    if not args.no_sample:
        sample(rule)
    run(f"synthetic N={args.n}, {args.questions} crosstabs", synthetic_items(args.n, args.questions), rule)
    return 0


if __name__ == "__main__":
    sys.exit(main())
