"""Scale benchmark of the report: ingest, report and publish for N synthetic companies.

    python benchmarks/bench_report.py                  # N = 10 and 1,000
    python benchmarks/bench_report.py --n 10 1000 10000

Each study is N self-assessment workbooks filled from the toolkit's own template (the pool of
``bench_ingest.py``), one pre-survey workbook with every question answered by every company,
and one statements workbook with 1.6 user statements per company (the study's 158 for 10
companies), all seeded. Each command runs as a fresh process, as a researcher runs it:
``survey ingest`` once per N, then ``survey report`` and ``survey report --publish``.

Printed per run: wall seconds, CPU seconds (the process and its workers), peak memory (the
largest process; workers are separate processes), output size and file count, and the time
per stage as the report records it (``report.json`` → ``timings``: loading, each builder, publication,
the figures, the table files, the workbook, the page, the audit), the costliest in the table and
every stage below it. Then the cost per
1,000 companies between the two largest N and the ratio report / ingest, all from this run
(the machine is shared and noisy: compare ratios, not seconds across runs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_ingest import WORK, ensure_workbooks, machine  # noqa: E402

STUDY_VERSION = "1"
SEED = 11
STATEMENTS_PER_COMPANY = 1.6


@dataclass(frozen=True)
class Run:
    """One command's cost."""

    wall: float
    cpu: float
    peak_mb: float
    exit_code: int
    out_mb: float = 0.0
    files: int = 0
    stages: dict[str, float] | None = None


def _company_ids(raw: Path) -> list[str]:
    # The pool's workbooks are named sa_00000.xlsx … and hold respondent ids B00000 ….
    return [f"B{int(p.stem.split('_')[1]):05d}" for p in sorted(raw.glob("sa_*.xlsx"))]


def _extra_workbooks(raw: Path, ids: list[str]) -> None:
    """Write the pre-survey and statements workbooks of the companies ``ids`` into ``raw``."""
    import numpy as np

    from analysis.codebook import load_codebook
    from analysis.collect.template import build_workbook, workbook_bytes

    codebook = load_codebook("fy2021")
    rng = np.random.default_rng(SEED)
    questions = codebook.table("presurvey_questions")
    options = codebook.table("presurvey_options")
    codes = {q: list(options.loc[options["question_id"] == q, "code"]) for q in questions["question_id"]}
    answers = []
    for rid in ids:
        for q in questions.itertuples():
            choices = codes[q.question_id]
            if q.kind == "single":
                answer: object = int(rng.choice(choices))
            elif q.kind == "multiple":
                k = int(rng.integers(1, min(3, len(choices)) + 1))
                answer = ";".join(str(c) for c in sorted(rng.choice(choices, size=k, replace=False)))
            else:
                answer = "自由記述の回答 (ベンチマーク用、架空)" if rng.random() < 0.5 else ""
            answers.append({"respondent_id": rid, "fiscal_year": 2021, "question_id": q.question_id, "answer": answer})
    book = build_workbook(codebook, "presurvey", "ja", {"answers": answers})
    (raw / "presurvey.xlsx").write_bytes(workbook_bytes(book))
    categories = codebook.table("statement_categories")
    users = categories[categories["respondent_group"] == "user"]
    n = round(len(ids) * STATEMENTS_PER_COMPANY)
    picks = rng.integers(0, len(users), size=n)
    speakers = rng.integers(0, len(ids), size=n)
    rows = [
        {
            "respondent_id": ids[int(s)],
            "fiscal_year": 2021,
            "group": "user",
            "section": int(users.iloc[int(p)]["section"]),
            "category": users.iloc[int(p)]["category_id"],
            "maturity": "",
            "text": f"ベンチマーク用の発言 {i} (架空)",
        }
        for i, (p, s) in enumerate(zip(picks, speakers, strict=True))
    ]
    book = build_workbook(codebook, "statements", "ja", {"statements": rows})
    (raw / "statements.xlsx").write_bytes(workbook_bytes(book))


def ensure_study(n: int) -> Path:
    """A raw folder of a study with ``n`` companies (made once, reused by later runs)."""
    workbooks = ensure_workbooks(n)
    raw = WORK / f"study_{n}" / "2021"
    stamp = raw.parent / "STUDY"
    if stamp.is_file() and stamp.read_text() == STUDY_VERSION:
        return raw
    shutil.rmtree(raw.parent, ignore_errors=True)
    (raw / "self_assessment").mkdir(parents=True)
    for path in workbooks.glob("*.xlsx"):
        os.link(path, raw / "self_assessment" / path.name)
    started = time.perf_counter()
    _extra_workbooks(raw, _company_ids(workbooks))
    print(f"  pre-survey and statements of {n:,} companies made in {time.perf_counter() - started:,.1f} s", flush=True)
    stamp.write_text(STUDY_VERSION)
    return raw


# Runs one command and prints its children's usage: a fresh wrapper per command, so that the
# peak memory is this command's (ru_maxrss of children is the largest child, in KiB on Linux:
# the command or one of its workers, a bound rather than a sum).
_WRAPPER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
                  "peak_kib": usage.ru_maxrss, "code": done.returncode, "stderr": done.stderr[-2000:]}))
"""


def _timed(command: list[str]) -> Run:
    done = subprocess.run([sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True, check=True)
    stats = json.loads(done.stdout)
    if stats["code"] not in (0, 1):
        print(stats["stderr"], file=sys.stderr)
    return Run(wall=stats["wall"], cpu=stats["cpu"], peak_mb=stats["peak_kib"] / 1024, exit_code=stats["code"])


def _folder_size(path: Path) -> tuple[float, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6, len(files)


def _report(processed: Path, out: Path, publish: bool) -> Run:
    shutil.rmtree(out, ignore_errors=True)
    command = ["survey", "report", str(processed), "--out", str(out), *(["--publish"] if publish else [])]
    run = _timed(command)
    size, files = _folder_size(out) if out.is_dir() else (0.0, 0)
    stages = None
    if (out / "report.json").is_file():
        stages = json.loads((out / "report.json").read_text(encoding="utf-8")).get("timings")
    return Run(run.wall, run.cpu, run.peak_mb, run.exit_code, size, files, stages)


def _costliest(run: Run, top: int | None = None) -> str:
    ranked = sorted((run.stages or {}).items(), key=lambda kv: -kv[1])
    return ", ".join(f"{k} {v:,.1f}" for k, v in ranked[:top]) or "n/a"


def _row(label: str, n: int, run: Run) -> str:
    stages = _costliest(run, 3)
    return (
        f"| {label} | {n:,} | {run.wall:,.1f} s | {run.cpu:,.1f} s | {run.peak_mb:,.0f} MB | "
        f"{run.out_mb:,.1f} MB / {run.files:,} | {run.exit_code} | {stages} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[10, 1000], help="numbers of companies")
    parser.add_argument("--no-publish", action="store_true", help="skip survey report --publish")
    args = parser.parse_args(argv)
    print(machine())
    print()
    header = "| command | N | wall | CPU | peak memory | output (size / files) | exit | stages (s) |"
    lines = [header, "|" + " --- |" * 8]
    results: dict[tuple[str, int], Run] = {}
    for n in sorted(args.n):
        raw = ensure_study(n)
        processed = WORK / f"processed_{n}"
        shutil.rmtree(processed, ignore_errors=True)
        ingest = _timed(["survey", "ingest", str(raw), "--out", str(processed), "--quiet"])
        ingest = Run(ingest.wall, ingest.cpu, ingest.peak_mb, ingest.exit_code, *_folder_size(processed))
        results["ingest", n] = ingest
        lines.append(_row("ingest", n, ingest))
        for publish in [False] if args.no_publish else [False, True]:
            label = "report --publish" if publish else "report"
            run = _report(processed, WORK / f"report_{n}_{'published' if publish else 'internal'}", publish)
            results[label, n] = run
            lines.append(_row(label, n, run))
        print("\n".join(lines[-(2 if args.no_publish else 3) :]), flush=True)
    print()
    print("\n".join(lines))
    print()
    for (label, n), run in results.items():
        if run.stages:
            print(f"{label} N = {n:,} stages (s): {_costliest(run)}")
    sizes = sorted(args.n)
    print()
    for label in ["ingest", "report", "report --publish"]:
        if (label, sizes[-1]) not in results:
            continue
        big = results[label, sizes[-1]]
        if len(sizes) > 1:
            small = results[label, sizes[-2]]
            per_1000 = (big.wall - small.wall) / (sizes[-1] - sizes[-2]) * 1000
            print(f"{label}: {per_1000:,.2f} s wall per additional 1,000 companies ({sizes[-2]:,} → {sizes[-1]:,})")
    for n in sizes:
        if ("report", n) in results:
            ratio = results["report", n].wall / results["ingest", n].wall
            print(f"N = {n:,}: report / ingest = {ratio:.2f} (wall, same run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
