"""The ``survey`` command: template, sample, ingest, report, audit, run, db, dictionary, findings."""

from __future__ import annotations

import argparse
import errno
import re
import sys
from dataclasses import fields, replace
from pathlib import Path

from analysis.errors import SurveyError, UsageError
from analysis.ingest.safety import DEFAULT_LIMITS, Limits, UnsafeEnvironment

__all__ = ["add_limit_arguments", "build_parser", "limits_from_args", "main", "run_command", "year_folders"]

_YEAR_DIR = re.compile(r"^(?:fy)?(\d{4})$", re.I)


def _cmd_template(args: argparse.Namespace) -> int:
    from analysis.codebook import load_codebook
    from analysis.collect.template import write_templates

    paths = write_templates(load_codebook(args.edition), Path(args.out), lang=args.lang, year=args.year)
    for path in paths:
        print(path)
    return 0


def _say(lang: str, ja: str, en: str) -> str:
    """The line in the command's language (Japanese unless ``--lang en``)."""
    return en if lang == "en" else ja


def _cmd_sample(args: argparse.Namespace) -> int:
    from analysis.collect.sample.generate import write_sample

    paths = write_sample(Path(args.out), seed=args.seed)
    print(f"合成サンプルのブック {len(paths)} 件を {args.out} に書きました / wrote {len(paths)} sample workbooks")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from analysis.ingest.folder import ingest
    from analysis.ingest.problems import Message

    raw = Path(args.raw_dir)
    year = args.year
    if year is None and (match := _YEAR_DIR.match(raw.name)):
        year = int(match.group(1))
    result = ingest(
        raw,
        Path(args.out),
        edition=args.edition,
        fiscal_year=year,
        progress=None if not args.quiet else False,
        limits=limits_from_args(args),
        workers=args.workers,
        force=args.force,
    )
    print(result.summary(max_problems=args.show, lang=args.lang))
    written = Message.of("summary_written", out=str(args.out), issues=str(Path(args.out) / "issues.csv"))
    print(written.render(args.lang))
    return 1 if result.n_errors else 0


def _cmd_report(args: argparse.Namespace) -> int:
    from analysis.report.build import build_report, failed_builders, first_screen

    previous = Path(args.previous) if args.previous else None
    try:
        written = build_report(
            Path(args.processed_dir),
            Path(args.out),
            lang=args.lang,
            publish=args.publish,
            previous_dir=previous,
            force=args.force,
            per_respondent=args.per_respondent,
        )
    except RuntimeError as error:  # --publish without its suppression module: refused, nothing written
        raise UsageError("報告書を作れませんでした", str(error)) from error
    print(first_screen(Path(args.processed_dir), args.lang, written))
    print(_say(args.lang, f"報告書を {written} に書きました", f"Wrote the report to {written}"))
    # A report with a table missing is written (the rest is worth reading) but is not a success.
    return 1 if failed_builders(written) else 0


def year_folders(raw_root: Path) -> list[tuple[int, Path]]:
    """The study-year folders under ``raw_root`` (``2020``, ``fy2021``…), oldest first."""
    found = []
    for path in sorted(Path(raw_root).iterdir()):
        if path.is_dir() and (match := _YEAR_DIR.match(path.name)):
            found.append((int(match.group(1)), path))
    return sorted(found)


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis.ingest.folder import ingest
    from analysis.output.atomic import refuse_overlap
    from analysis.report.build import build_report, failed_builders, first_screen

    raw_root, processed_root, reports_root = Path(args.raw), Path(args.processed), Path(args.reports)
    if not raw_root.is_dir():
        raise UsageError(f"生データのフォルダ {raw_root} がありません", f"raw folder {raw_root} does not exist")
    # Checked for the roots before any year is written (each year's folders are checked again).
    refuse_overlap(processed_root, [raw_root], what="--processed")
    refuse_overlap(reports_root, [raw_root, processed_root], what="--reports")
    years = year_folders(raw_root)
    if not years:
        raise UsageError(
            f"{raw_root} に年度のフォルダ(例: {raw_root / '2021'})がありません",
            f"no year folders (e.g. {raw_root / '2021'}) under {raw_root}",
        )
    status = 0
    previous: Path | None = None
    for year, folder in years:
        out = processed_root / str(year)
        print(_say(args.lang, f"== {year}年度: 取り込み {folder} → {out}", f"== {year}: ingest {folder} -> {out}"))
        result = ingest(
            folder,
            out,
            edition=args.edition,
            fiscal_year=year,
            limits=limits_from_args(args),
            workers=args.workers,
            force=args.force,
        )
        print(result.summary(max_problems=args.show, lang=args.lang))
        status |= 1 if result.n_errors else 0
        report_dir = reports_root / str(year)
        build_report(
            out,
            report_dir,
            lang=args.lang,
            publish=args.publish,
            previous_dir=previous,
            force=args.force,
            per_respondent=args.per_respondent,
        )
        print(first_screen(out, args.lang, report_dir))
        status |= 1 if failed_builders(report_dir) else 0
        print(_say(args.lang, f"== {year}年度: 報告書 → {report_dir}", f"== {year}: report -> {report_dir}"))
        previous = out
    _build_db(processed_root, args.force)
    return status


def _cmd_audit(args: argparse.Namespace) -> int:
    from analysis.report.audit import audit_csv, audit_folders

    try:
        result = audit_folders([Path(f) for f in args.report_dirs])
    except (FileNotFoundError, KeyError, ValueError) as error:  # not a published report folder
        raise UsageError("公表用の報告書フォルダを監査できません", str(error)) from error
    if args.out:
        from analysis.output.atomic import atomic_write_bytes

        atomic_write_bytes(Path(args.out), audit_csv(result))
    failures = result.failures
    print(
        f"秘匿したセル {len(result.frame)} 個を攻撃しました(LP/ILP {result.solves} 回)。保護区間より狭まったセル: "
        f"{len(failures)} 個 / {len(result.frame)} hidden cells attacked ({result.solves} LP/ILP solves); "
        f"{len(failures)} narrowed below the protection interval"
    )
    for row in failures.head(20).itertuples():
        print(f"  {row.table}[{row.row}, {row.column}]: {row.lo:g}..{row.hi:g} ({row.method})")
    return 1 if len(failures) else 0


def _build_db(processed_root: Path, force: bool) -> None:
    from analysis.study.db import build_database

    path = build_database(processed_root, force=force)
    if path is None:
        print(f"{processed_root} に取り込み済みの年度がありません / no processed year under {processed_root}")
    else:
        print(f"== データベース / database: {path} (年度別 Parquet / Parquet by year: {processed_root / 'parquet'})")


def _cmd_db(args: argparse.Namespace) -> int:
    processed_root = Path(args.processed)
    if not processed_root.is_dir():
        raise UsageError(
            f"処理済みフォルダ {processed_root} がありません", f"processed folder {processed_root} does not exist"
        )
    _build_db(processed_root, args.force)
    return 0


def _cmd_dictionary(args: argparse.Namespace) -> int:
    from analysis.codebook import load_codebook
    from analysis.dictionary import data_dictionary_markdown
    from analysis.output.atomic import atomic_write_text

    atomic_write_text(Path(args.out), data_dictionary_markdown(load_codebook(args.edition)))
    print(args.out)
    return 0


def _cmd_findings(args: argparse.Namespace) -> int:
    from analysis.statements.findings_import import run_findings

    return run_findings(Path(args.report_text), Path(args.out))


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one option per limit (``--max-cells`` …) and ``--workers`` to a command."""
    group = parser.add_argument_group("limits for untrusted workbooks (raise them only for files you trust)")
    for item in fields(Limits):
        kind = int if item.type in ("int", int) else float
        group.add_argument(
            item.metadata["option"],
            dest=f"limit_{item.name}",
            type=kind,
            default=item.default,
            metavar=item.metadata["unit"].upper().replace("×", "RATIO"),
            help=f"{item.metadata['help']} (default {item.default:,})",
        )
    group.add_argument(
        "--workers",
        type=int,
        default=None,
        help="parser processes (default: one per CPU core; 0 parses in this process, "
        "without the memory limit and timeout)",
    )


def limits_from_args(args: argparse.Namespace) -> Limits:
    """The :class:`Limits` given on a command line built with :func:`add_limit_arguments`."""
    given = {
        item.name: getattr(args, f"limit_{item.name}") for item in fields(Limits) if hasattr(args, f"limit_{item.name}")
    }
    return replace(DEFAULT_LIMITS, **given)


def _add_per_respondent(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--per-respondent",
        action="store_true",
        help="also a radar chart per company, the per-company tables and heatmap, the statement "
        "matrix and the companies that change level in the sensitivity table "
        "(internal reports; their size grows with the number of companies)",
    )


def _add_force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an output folder that is not a previous output of this command "
        "(input folders are never replaced)",
    )


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
    p.add_argument(
        "--year",
        type=int,
        default=None,
        help="study year stamped on titles, file names and instructions (default: the edition's year); "
        "the questions stay those of --edition",
    )
    p.set_defaults(func=_cmd_template)

    p = sub.add_parser("sample", help="write the synthetic sample study (seeded, reproducible)")
    p.add_argument("--out", required=True, help="raw folder to write (year subfolders)")
    p.add_argument("--seed", type=int, default=2021)
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("ingest", help="validate a folder of workbooks and write tidy tables")
    p.add_argument("raw_dir")
    p.add_argument("--out", required=True, help="processed folder (replaced only when the ingest finishes)")
    p.add_argument("--edition", default="fy2021")
    p.add_argument("--year", type=int, default=None, help="study year (default: from the folder name, e.g. 2021)")
    p.add_argument("--show", type=int, default=30, help="problems to print (all are in issues.csv)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--lang", choices=["ja", "en"], default="ja", help="language of the problems printed (issues.csv keeps both)"
    )
    _add_force(p)
    add_limit_arguments(p)
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("report", help="build every report table and figure from processed tables")
    p.add_argument("processed_dir")
    p.add_argument("--out", required=True)
    p.add_argument("--lang", choices=["ja", "en"], default="ja")
    p.add_argument(
        "--publish", action="store_true", help="small-cell suppression on and respondent ids out (for publication)"
    )
    p.add_argument("--previous", default=None, help="processed folder of the previous year (year over year)")
    _add_per_respondent(p)
    _add_force(p)
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
    _add_per_respondent(p)
    _add_force(p)
    add_limit_arguments(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("db", help="build data/processed/study.duckdb (every year) and Parquet by year")
    p.add_argument("--processed", default="data/processed")
    _add_force(p)
    p.set_defaults(func=_cmd_db)

    p = sub.add_parser("dictionary", help="write the data dictionary (Markdown) from the codebook")
    p.add_argument("--edition", default="fy2021")
    p.add_argument("--out", default="docs/data_dictionary.md")
    p.set_defaults(func=_cmd_dictionary)

    p = sub.add_parser("findings", help="turn a published report's text into coded statements")
    p.add_argument("report_text")
    p.add_argument("--out", required=True, help="CSV to write")
    p.set_defaults(func=_cmd_findings)
    return parser


_OS_ERRORS = {  # errno -> what it means, in Japanese (the English is the system's own message)
    errno.ENOSPC: "ディスクの空きがありません",
    errno.EDQUOT: "ディスクの割り当てを超えました",
    errno.EACCES: "アクセスが許可されていません",
    errno.EPERM: "操作が許可されていません",
    errno.EROFS: "読み取り専用の場所です",
    errno.ENOENT: "見つかりません",
    errno.ENOTDIR: "フォルダではありません",
    errno.EISDIR: "フォルダです",
}
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}


def _os_error(error: OSError) -> UsageError:
    where = " ".join(str(f) for f in (error.filename, error.filename2) if f is not None)
    ja = _OS_ERRORS.get(error.errno or -1, "ファイルの読み書きに失敗しました")
    en = error.strerror or str(error) or type(error).__name__
    return UsageError(f"{ja}: {where}" if where else ja, f"{en}: {where}" if where else en)


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed command; a user's mistake becomes one line on stderr and its exit code.

    Exit codes: 0 done, 1 data errors (the command's own result, or :class:`DataError`),
    2 usage or environment (:class:`UsageError`, unknown edition, missing folders, permissions,
    disk full and other :class:`OSError`), 130 interrupted (Ctrl-C). Program errors keep their
    traceback.
    """
    try:
        edition = getattr(args, "edition", None)
        if edition is not None:
            from analysis.codebook import available_editions, is_edition_folder

            if edition not in available_editions() and not is_edition_folder(edition):
                raise UsageError(
                    f"調査票の版 {edition} はありません(使える版: {', '.join(available_editions())}、"
                    "または edition.toml のあるフォルダ)",
                    f"no codebook edition {edition}; available: {', '.join(available_editions())}, "
                    "or a folder with edition.toml",
                )
        return int(args.func(args) or 0)
    except SurveyError as error:
        failure, code = str(error), error.exit_code
    except UnsafeEnvironment as error:
        failure, code = str(error), 2
    except OSError as error:
        failure, code = str(_os_error(error)), 2
    except KeyboardInterrupt:  # outputs are swapped in only when complete: nothing half-written
        failure, code = "中断しました(出力は前のままです) / interrupted (outputs are as they were)", 130
    # One line, and no escape sequence from a file name reaches the terminal.
    print(f"survey {args.command}: " + " ".join(failure.split()).translate(_CONTROL), file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``survey`` command."""
    return run_command(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
