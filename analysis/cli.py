"""The ``survey`` command: template, sample, ingest, report, audit, run, findings."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from analysis.safety import UnsafeEnvironment, add_limit_arguments, limits_from_args

__all__ = ["main"]

_YEAR_DIR = re.compile(r"^(?:fy)?(\d{4})$", re.I)


def _cmd_template(args: argparse.Namespace) -> int:
    from analysis.codebook import load_codebook
    from analysis.template import write_templates

    paths = write_templates(load_codebook(args.edition), Path(args.out), lang=args.lang)
    for path in paths:
        print(path)
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from analysis.sample.generate import write_sample

    paths = write_sample(Path(args.out), seed=args.seed)
    print(f"wrote {len(paths)} synthetic sample workbooks under {args.out}")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from analysis.ingest import ingest

    raw = Path(args.raw_dir)
    year = args.year
    if year is None and (match := _YEAR_DIR.match(raw.name)):
        year = int(match.group(1))
    try:
        result = ingest(raw, Path(args.out), edition=args.edition, fiscal_year=year,
                        progress=None if not args.quiet else False,
                        limits=limits_from_args(args), workers=args.workers)
    except (FileNotFoundError, KeyError, UnsafeEnvironment) as error:
        print(f"survey ingest: {error}", file=sys.stderr)
        return 2
    print(result.summary(max_problems=args.show))
    print(f"Wrote tidy tables to {args.out} (problems in {Path(args.out) / 'issues.csv'})")
    return 1 if result.n_errors else 0


def _cmd_report(args: argparse.Namespace) -> int:
    from analysis.report import build_report

    previous = Path(args.previous) if args.previous else None
    try:
        written = build_report(Path(args.processed_dir), Path(args.out), lang=args.lang,
                               publish=args.publish, previous_dir=previous)
    except (FileNotFoundError, RuntimeError) as error:
        print(f"survey report: {error}", file=sys.stderr)
        return 2
    print(f"Wrote the report to {written}")
    return 0


def year_folders(raw_root: Path) -> list[tuple[int, Path]]:
    """The study-year folders under ``raw_root`` (``2020``, ``fy2021``…), oldest first."""
    found = []
    for path in sorted(Path(raw_root).iterdir()):
        if path.is_dir() and (match := _YEAR_DIR.match(path.name)):
            found.append((int(match.group(1)), path))
    return sorted(found)


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis.ingest import ingest
    from analysis.report import build_report

    raw_root, processed_root, reports_root = Path(args.raw), Path(args.processed), Path(args.reports)
    years = year_folders(raw_root)
    if not years:
        print(f"survey run: no year folders (e.g. {raw_root / '2021'}) under {raw_root}", file=sys.stderr)
        return 2
    status = 0
    previous: Path | None = None
    for year, folder in years:
        out = processed_root / str(year)
        print(f"== {year}: ingest {folder} -> {out}")
        try:
            result = ingest(folder, out, edition=args.edition, fiscal_year=year,
                            limits=limits_from_args(args), workers=args.workers)
        except UnsafeEnvironment as error:
            print(f"survey run: {error}", file=sys.stderr)
            return 2
        print(result.summary(max_problems=args.show))
        status |= 1 if result.n_errors else 0
        report_dir = reports_root / str(year)
        build_report(out, report_dir, lang=args.lang, publish=args.publish, previous_dir=previous)
        print(f"== {year}: report -> {report_dir}")
        previous = out
    return status


def _cmd_audit(args: argparse.Namespace) -> int:
    from analysis.audit import audit_csv, audit_folders

    try:
        result = audit_folders([Path(f) for f in args.report_dirs])
    except (FileNotFoundError, KeyError, ValueError) as error:
        print(f"survey audit: {error}", file=sys.stderr)
        return 2
    if args.out:
        from analysis.atomic import atomic_write_bytes

        atomic_write_bytes(Path(args.out), audit_csv(result))
    failures = result.failures
    print(f"{len(result.frame)} hidden cells attacked ({result.solves} LP/ILP solves); "
          f"{len(failures)} narrowed below the protection interval")
    for row in failures.head(20).itertuples():
        print(f"  {row.table}[{row.row}, {row.column}]: {row.lo:g}..{row.hi:g} ({row.method})")
    return 1 if len(failures) else 0


def _cmd_dictionary(args: argparse.Namespace) -> int:
    from analysis.atomic import atomic_write_text
    from analysis.codebook import load_codebook
    from analysis.dictionary import data_dictionary_markdown

    atomic_write_text(Path(args.out), data_dictionary_markdown(load_codebook(args.edition)))
    print(args.out)
    return 0


def _cmd_findings(args: argparse.Namespace) -> int:
    from analysis.findings_import import run_findings

    return run_findings(Path(args.report_text), Path(args.out))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="survey",
        description="Survey toolkit for studies of cybersecurity management: blank workbooks, "
                    "ingest into tidy tables, and the report's tables.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("template", help="write one blank data-collection workbook per instrument")
    p.add_argument("--edition", default="fy2021")
    p.add_argument("--out", required=True, help="folder for the workbooks")
    p.add_argument("--lang", choices=["ja", "en"], default="ja", help="language of headers and labels")
    p.set_defaults(func=_cmd_template)

    p = sub.add_parser("sample", help="write the synthetic sample study (seeded, reproducible)")
    p.add_argument("--out", required=True, help="raw folder to write (year subfolders)")
    p.add_argument("--seed", type=int, default=2021)
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("ingest", help="validate a folder of workbooks and write tidy tables")
    p.add_argument("raw_dir")
    p.add_argument("--out", required=True, help="processed folder (replaced only when the ingest finishes)")
    p.add_argument("--edition", default="fy2021")
    p.add_argument("--year", type=int, default=None,
                   help="study year (default: from the folder name, e.g. 2021)")
    p.add_argument("--show", type=int, default=30, help="problems to print (all are in issues.csv)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_limit_arguments(p)
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("report", help="build every report table and figure from processed tables")
    p.add_argument("processed_dir")
    p.add_argument("--out", required=True)
    p.add_argument("--lang", choices=["ja", "en"], default="ja")
    p.add_argument("--publish", action="store_true",
                   help="small-cell suppression on and respondent ids out (for publication)")
    p.add_argument("--previous", default=None, help="processed folder of the previous year (year over year)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("audit", help="attack published reports (one or two years) as a reader would")
    p.add_argument("report_dirs", nargs="+", metavar="REPORT_DIR", help="published report folders (one or two)")
    p.add_argument("--out", default=None, help="CSV of every hidden cell with the range a reader can infer")
    p.set_defaults(func=_cmd_audit)

    p = sub.add_parser("run", help="ingest every year under data/raw and build the reports")
    p.add_argument("--raw", default="data/raw")
    p.add_argument("--processed", default="data/processed")
    p.add_argument("--reports", default="reports")
    p.add_argument("--edition", default="fy2021")
    p.add_argument("--lang", choices=["ja", "en"], default="ja")
    p.add_argument("--publish", action="store_true")
    p.add_argument("--show", type=int, default=10)
    add_limit_arguments(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("dictionary", help="write the data dictionary (Markdown) from the codebook")
    p.add_argument("--edition", default="fy2021")
    p.add_argument("--out", default="docs/data_dictionary.md")
    p.set_defaults(func=_cmd_dictionary)

    p = sub.add_parser("findings", help="turn a published report's text into coded statements")
    p.add_argument("report_text")
    p.add_argument("--out", required=True, help="CSV to write")
    p.set_defaults(func=_cmd_findings)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``survey`` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
