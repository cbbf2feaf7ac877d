"""Scale benchmark of the ingest: N self-assessment workbooks, three ways of reading them.

    python benchmarks/bench_ingest.py            # N = 1,000
    python benchmarks/bench_ingest.py --n 10000  # the 10,000-workbook target

(a) bare python-calamine ``to_python()`` over every sheet of every file, in one process:
    the floor, no checks, no validation, no output; (a2) the same split over one process per
    core, for comparison with (c), which uses every core;
(b) a loop of ``pandas.read_excel(sheet_name=None, engine="openpyxl")``: the naive way (on a
    subset of at most --naive-files files when N is larger, extrapolated per file);
(c) ``survey ingest`` with every safety check on, as a fresh process (start-up included),
    writing the tidy tables and issues.csv.

The workbooks are the ``survey template`` self-assessment workbook filled by a seeded
generator (analysis.collect.template.build_workbook + workbook_bytes); they are made once under
benchmarks/_work/ (gitignored) and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"
POOL = WORK / "workbooks"  # generated once, shared by every N
GENERATOR_VERSION = "1"
SEED = 7


# -- workbooks ---------------------------------------------------------------------------------


def _make_chunk(indices: list[int]) -> int:
    import numpy as np

    from analysis.codebook import load_codebook
    from analysis.collect.template import build_workbook, workbook_bytes

    codebook = load_codebook("fy2021")
    questions = list(codebook.questions["question_id"])
    industries = list(codebook.table("industries")["label_ja"])
    sizes = list(codebook.table("size_bands")["label_ja"])
    labels = {lv["value"]: lv["label_ja"] for lv in codebook.meta["scale"]["levels"]}
    for index in indices:
        rng = np.random.default_rng([SEED, index])
        answers: dict[str, object] = {}
        for qid in questions:
            roll = rng.random()
            score = int(rng.integers(1, 6))
            # Mostly numbers; some labels, full-width digits and missing codes, as real returns have.
            answers[qid] = (
                labels[score]
                if roll < 0.1
                else chr(0xFF10 + score)
                if roll < 0.15
                else "わからない"
                if roll < 0.18
                else "該当なし"
                if roll < 0.20
                else score
            )
        profile = {
            "respondent_id": f"B{index:05d}",
            "fiscal_year": 2021 if index % 7 else "令和3年度",
            "industry": industries[index % len(industries)],
            "size_band": sizes[index % len(sizes)],
            "company_name": f"ベンチマーク{index:05d}株式会社 (架空)",
        }
        book = build_workbook(codebook, "self_assessment", "ja", {"profile": profile, "answers": answers})
        (POOL / f"sa_{index:05d}.xlsx").write_bytes(workbook_bytes(book))
    return len(indices)


def ensure_workbooks(n: int) -> Path:
    """A folder of exactly ``n`` workbooks (hard links into the shared pool)."""
    POOL.mkdir(parents=True, exist_ok=True)
    stamp = POOL / "GENERATOR"
    if not stamp.exists() or stamp.read_text() != GENERATOR_VERSION:
        shutil.rmtree(POOL)
        POOL.mkdir(parents=True)
        stamp.write_text(GENERATOR_VERSION)
    missing = [i for i in range(n) if not (POOL / f"sa_{i:05d}.xlsx").exists()]
    if missing:
        print(f"generating {len(missing):,} workbooks into {POOL} (once; later runs reuse them) …", flush=True)
        started = time.perf_counter()
        chunks = [missing[i :: os.cpu_count() or 1] for i in range(os.cpu_count() or 1)]
        with ProcessPoolExecutor(len(chunks)) as pool:
            sum(pool.map(_make_chunk, [c for c in chunks if c]))
        print(f"  generated in {time.perf_counter() - started:,.1f} s", flush=True)
    raw = WORK / f"raw_{n}"
    if not raw.is_dir() or len(list(raw.glob("*.xlsx"))) != n:
        shutil.rmtree(raw, ignore_errors=True)
        raw.mkdir(parents=True)
        for i in range(n):
            name = f"sa_{i:05d}.xlsx"
            try:
                os.link(POOL / name, raw / name)
            except OSError:
                shutil.copyfile(POOL / name, raw / name)
    return raw


# -- the three readers -------------------------------------------------------------------------


def bare_calamine(paths: list[Path]) -> tuple[float, float]:
    """Wall and CPU seconds of reading every sheet of every file."""
    import python_calamine

    started, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python()
        book.close()
    return time.perf_counter() - started, time.process_time() - cpu


def _bare_chunk(paths: list[Path]) -> float:
    return bare_calamine(paths)[1]


def bare_calamine_parallel(paths: list[Path]) -> tuple[float, float]:
    """Wall and CPU seconds of :func:`bare_calamine` over one process per core (pool start included)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    started = time.perf_counter()
    with ProcessPoolExecutor(cores) as pool:
        cpu = sum(pool.map(_bare_chunk, [paths[i::cores] for i in range(cores)]))
    return time.perf_counter() - started, cpu


def naive_pandas(paths: list[Path]) -> float:
    import pandas as pd

    started = time.perf_counter()
    for path in paths:
        pd.read_excel(path, sheet_name=None, engine="openpyxl")
    return time.perf_counter() - started


# `survey ingest` exactly as the console script runs it, plus what the process measures of itself.
_INGEST = """
import json, resource, sys, time
started = time.perf_counter()
from analysis.cli import main
imported = time.perf_counter()
status = main(["ingest", sys.argv[1], "--out", sys.argv[2], "--quiet", "--show", "0"] + sys.argv[3:])
done = time.perf_counter()
own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime
print(json.dumps({"status": status, "imports_s": imported - started, "ingest_s": done - imported, "cpu_s": cpu,
                  "self_kb": own.ru_maxrss, "workers_kb": workers.ru_maxrss}), file=sys.stderr)
"""


def survey_ingest(raw: Path, out: Path, extra: list[str]) -> dict:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _INGEST, str(raw), str(out), *extra], capture_output=True, text=True, cwd=HERE.parent
    )
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        sys.exit(f"survey ingest failed:\n{proc.stdout}\n{proc.stderr}")
    stats = json.loads(proc.stderr.strip().splitlines()[-1])
    stats["wall_s"] = wall
    stats["summary"] = proc.stdout.strip().splitlines()[:4]
    return stats


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} cores ({model}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="number of workbooks (default 1000)")
    parser.add_argument(
        "--naive-files",
        type=int,
        default=200,
        help="at most this many files for (b), extrapolated per file (default 200)",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of (a), (a2) and (c), taken in turn; medians shown (default 3)"
    )
    parser.add_argument("ingest_options", nargs="*", help="extra options for survey ingest, after --")
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeat < 1 or args.naive_files < 1:
        parser.error("--n, --repeat and --naive-files must be at least 1")

    print(f"machine: {machine()}")
    raw = ensure_workbooks(args.n)
    paths = sorted(raw.glob("*.xlsx"))
    size = sum(p.stat().st_size for p in paths)
    print(f"{len(paths):,} workbooks, {size / len(paths) / 1024:,.1f} KB each, in {raw}")

    # Warm the page cache and the imports so that the first reader is not penalised.
    bare_calamine(paths[: min(50, len(paths))])
    out = WORK / f"processed_{args.n}"
    rounds: list[dict] = []
    for _ in range(args.repeat):
        # In turn, so that a busy moment of the machine falls on all of them alike.
        a, a_cpu = bare_calamine(paths)
        a2, a2_cpu = bare_calamine_parallel(paths)
        stats = survey_ingest(raw, out, args.ingest_options)
        rounds.append({"a": a, "a_cpu": a_cpu, "a2": a2, "a2_cpu": a2_cpu, **stats})
    subset = paths[: min(len(paths), args.naive_files)]
    b_sub = naive_pandas(subset)
    b = b_sub / len(subset) * len(paths)

    def med(key: str) -> float:
        return _median([r[key] for r in rounds])

    def spread(key: str) -> str:
        values = [r[key] for r in rounds]
        return f"   (rounds: {', '.join(f'{v:.2f}' for v in values)})" if len(values) > 1 else ""

    a, a_cpu, a2, c = med("a"), med("a_cpu"), med("a2"), med("wall_s")
    c_cpu, c_ingest = med("cpu_s"), med("ingest_s")
    per = 1000 / len(paths)
    print(f"\nmedians of {len(rounds)} round(s), each (a), (a2), (c) in turn:")
    print(f"(a)  bare python-calamine to_python()    {a:8.2f} s   {a * per:6.3f} ms/file{spread('a')}")
    print(f"(a2) the same on every core              {a2:8.2f} s   {a2 * per:6.3f} ms/file{spread('a2')}")
    naive_note = "" if len(subset) == len(paths) else f"   (measured on {len(subset)} files, extrapolated)"
    print(f"(b)  pandas.read_excel(engine=openpyxl)  {b:8.2f} s   {b * per:6.3f} ms/file{naive_note}")
    print(f"(c)  survey ingest, all checks on        {c:8.2f} s   {c * per:6.3f} ms/file{spread('wall_s')}")
    print(
        f"     a new process: start-up (interpreter, imports) {c - c_ingest:.2f} s; the ingest itself {c_ingest:.2f} s "
        "(reading, checks, validation, tidy tables, maturity, writing CSV/Parquet)"
    )
    print()
    print(
        f"CPU time: (a) {a_cpu:.2f} s in one process; (a2) {med('a2_cpu'):.2f} s; (c) {c_cpu:.2f} s over the ingest "
        "process and its parser workers"
    )
    print()
    print(f"c / a        = {c / a:5.2f}   (target: at most 2)")
    print(f"CPU c / a    = {c_cpu / a_cpu:5.2f}   (target: at most 3)")
    print(f"b / c        = {b / c:5.2f}   (target: at least 10)")
    print(f"c / a2       = {c / a2:5.2f}   (for comparison: (a2) and (c) both use every core)")
    own, workers = med("self_kb") / 1024, med("workers_kb") / 1024
    print(
        f"peak memory of (c): main process {own:,.0f} MB, largest worker {workers:,.0f} MB, "
        f"sum {own + workers:,.0f} MB (target: under 1,024 MB)"
    )
    print("ingest summary: " + " | ".join(rounds[-1]["summary"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
