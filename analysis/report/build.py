"""The report: every table and figure of :func:`builders` built from processed tables.

:func:`build_report` loads a processed year, runs every builder listed in :func:`builders`
(each returns tables and figures; adding a table is one function and one line there),
optionally applies the publication rules, and writes ``tables.xlsx``, one CSV and
one Markdown file per table, the figures and ``index.html`` into ``REPORT_DIR``. The folder is
built beside the target and swapped in when complete.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from analysis.codebook import Codebook
from analysis.codebook.words import Words
from analysis.report.registry import Builder, ReportContext, ReportFigure, ReportItem, ReportTable
from analysis.study.load import Study, load_study

if TYPE_CHECKING:
    from analysis.report.publication import PublicationRule

__all__ = [
    "AuditFailed",
    "BuildFailure",
    "build_report",
    "builders",
    "collect_items",
    "failed_builders",
    "first_screen",
    "ingest_summary",
    "publishable",
    "read_manifest",
]


def builders() -> list[tuple[str, Builder]]:
    """Every builder of the report as ``(name, function)``, in the order the report shows them.

    The one list of what the report holds: a failing builder is named in the appendix by its name.
    """
    # Imported here: the builders bring plotting and statistics that loading the package need not.
    from analysis.report.builders import crosstabs, disclosures, maturity, records, statements, year_over_year

    return [
        ("records.survey_items", records.build_survey_items),
        ("records.vendors", records.build_vendors),
        ("records.meetings_literature", records.build_meetings_literature),
        ("maturity", maturity.maturity_items),
        ("year_over_year.maturity_levels", year_over_year.build_maturity_levels),
        ("presurvey_by_maturity", crosstabs.presurvey_tables),
        ("statements", statements.statement_tables),
        ("disclosures", disclosures.disclosure_report),
        ("year_over_year.disclosure_coverage", year_over_year.build_disclosure_coverage),
        ("appendix.ingest", records.build_appendix),
    ]


class BuildFailure(NamedTuple):
    """A builder that raised, or returned something other than tables and figures."""

    builder: str
    error: str  # the whole message: it may quote data (ids, cell values), so internal only
    kind: str = ""  # the exception's class, or what was wrong with the result: safe to publish


def collect_items(
    study: Study, ctx: ReportContext, timings: dict[str, float] | None = None
) -> tuple[list[ReportItem], list[BuildFailure]]:
    """Run every builder; return the tables and figures in report order, and failures.

    A failing builder does not stop the report: its error is returned (and shown in the report's
    appendix) so that one broken table cannot hide all the others. ``timings`` (when given)
    gets the seconds each builder took, as ``builder:<name>``.
    """
    items: list[ReportItem] = []
    failures: list[BuildFailure] = []
    seen: dict[str, str] = {}
    for name, builder in builders():
        started = time.perf_counter()
        try:
            produced = list(builder(study, ctx) or [])
        except Exception as error:  # noqa: BLE001 - reported in the appendix, see docstring
            # Said on the report's first screen and in its appendix (not as a Python warning,
            # which a researcher running `survey report` reads as a crash of the toolkit).
            failures.append(BuildFailure(name, f"{type(error).__name__}: {error}", type(error).__name__))
            continue
        finally:
            if timings is not None:
                timings[f"builder:{name}"] = time.perf_counter() - started
        for item in produced:
            if not isinstance(item, ReportTable | ReportFigure):
                failures.append(
                    BuildFailure(
                        name, f"returned {type(item).__name__}, not a ReportTable/ReportFigure", "not a table or figure"
                    )
                )
            elif item.name in seen:
                failures.append(
                    BuildFailure(
                        name, f"table name {item.name!r} is already used by {seen[item.name]}", "duplicate table name"
                    )
                )
            else:
                seen[item.name] = name
                items.append(item)
    return items, failures


def _failures_table(failures: list[BuildFailure], codebook, publish: bool = False):
    """Appendix C. A published report names each failure's kind only: an error message may
    quote what the builder read (a respondent id, a cell's text)."""
    from analysis.codebook.words import table_texts

    rows = [(f.builder, f.kind if publish else f.error) for f in failures]
    frame = pd.DataFrame(rows, columns=["builder", "error"], dtype="str")
    return ReportTable(
        name="appendix_failures", frame=frame, section="appendix", **table_texts(codebook, "appendix_failures")
    )


class AuditFailed(RuntimeError):
    """Publish mode's own audit narrowed a hidden cell below the protection interval (the CLI
    prints it on one line and exits non-zero, like every RuntimeError of the report)."""


def _omitted_table(codebook, lang: str = "ja"):
    """The appendix table listing what publication left out, and why (codebook words)."""
    from analysis.codebook.words import table_texts

    def build(rows: list[tuple[str, str, str, str]]):
        words = Words(codebook, lang)
        frame = pd.DataFrame(
            {
                "omitted_item": [name for name, *_ in rows],
                "omitted_title": [ja if lang == "ja" else en for _, ja, en, _ in rows],
                "omitted_reason": [words.label(f"ui:omitted:{reason}", "report", reason) for *_, reason in rows],
            },
            dtype="str",
        )
        return ReportTable(
            name="appendix_omitted", frame=frame, section="appendix", **table_texts(codebook, "appendix_omitted")
        )

    return build


def publishable(
    items: list[ReportItem],
    rule: PublicationRule | int | None = None,
    marker: str = "x",
    notes: tuple[str, str] = ("", ""),
    codebook: Codebook | None = None,
    *,
    k: int | None = None,
) -> list[ReportItem]:
    """Return ``items`` fit for publication (see :func:`analysis.report.publication.publish`).

    ``rule`` is a :class:`analysis.report.publication.PublicationRule`; a bare threshold (``rule=5`` or
    ``k=5``) means that k with the default protection interval, and neither means k = 5 (the
    codebook's default). ``codebook`` gives the words of the appendix table listing what was
    left out.
    """
    from analysis.report.publication import PublicationRule, publish

    if not isinstance(rule, PublicationRule):
        threshold = rule if rule is not None else k if k is not None else 5
        rule = PublicationRule(k=int(threshold))
    omitted = _omitted_table(codebook) if codebook is not None else None
    return publish(items, rule, marker=marker, notes=notes, omitted_table=omitted).items


def _heading(words: Words, fiscal_year: int | None) -> str:
    if fiscal_year is not None and words.words("report").get("ui:heading_year"):
        return words.label("ui:heading_year", "report", year=fiscal_year)
    return words.label("ui:report_title", "report", "Report")


def read_manifest(processed_dir: Path, what: str = "processed_dir") -> dict[str, Any]:
    """The ``ingest.json`` of ``processed_dir``; :class:`~analysis.errors.UsageError` when the folder
    is not a processed study (a report is built only from what ``survey ingest`` wrote)."""
    from analysis.errors import UsageError

    folder = Path(processed_dir)
    try:
        manifest = json.loads((folder / "ingest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict):
        raise UsageError(
            f"{folder} は処理済みの調査フォルダではありません(ingest.json がありません)。"
            "先に survey ingest RAW_DIR --out PROCESSED_DIR で作ったフォルダを指定してください",
            f"{what} {folder} is not a processed study (no ingest.json); give the folder that "
            "survey ingest RAW_DIR --out PROCESSED_DIR wrote",
        )
    return manifest


def ingest_summary(study: Study, manifest: dict[str, Any]) -> dict[str, int]:
    """What the report's first screen says about its data.

    ``errors`` and ``warnings`` of the ingest (from ``issues.csv``, else the manifest);
    ``companies`` (user companies: a profile or self-assessment answers) and ``incomplete``
    (those with at least one codebook question without a score, whatever the reason, or with
    no self-assessment at all).
    """
    from analysis.maturity.scores import directive_scores

    issues = study.issues
    if issues is not None and "severity" in issues:
        errors, warnings_ = int((issues["severity"] == "error").sum()), int((issues["severity"] == "warning").sum())
    else:
        errors, warnings_ = int(manifest.get("errors", 0)), int(manifest.get("warnings", 0))
    respondents = study.tables.get("respondents")
    answers = study.tables.get("self_assessment")
    keys = ["respondent_id", "fiscal_year"]
    companies: set[tuple] = set()
    if respondents is not None and len(respondents):
        users = respondents[respondents["group"] == "user"]
        companies |= set(users[keys].itertuples(index=False, name=None))
    incomplete: set[tuple] = set(companies)
    if answers is not None and len(answers):
        scores = directive_scores(answers, study.codebook)
        answered = set(scores[keys].itertuples(index=False, name=None))
        short = scores[scores["n_answered"] < scores["n_questions"]]
        companies |= answered
        incomplete = (incomplete - answered) | set(short[keys].itertuples(index=False, name=None))
    return {"errors": errors, "warnings": warnings_, "companies": len(companies), "incomplete": len(incomplete)}


def _ingest_line(summary: dict[str, int], words: Words, failed: Sequence[str] = ()) -> str:
    """The first screen's line: the ingest's counts and, when builders failed, which ones."""
    default = (
        "Ingest: {errors} error(s), {warnings} warning(s); "
        "{incomplete} of {companies} companies with incomplete answers"
    )
    line = words.label("ui:ingest_summary", "report", default)
    for key, value in summary.items():
        line = line.replace(f"{{{key}}}", f"{value:,}")
    if failed:
        said = words.label("ui:failures_summary", "report", "{n} builder(s) failed ({builders}); see the appendix.")
        line += " " + said.replace("{n}", f"{len(failed):,}").replace("{builders}", ", ".join(failed))
    return line


def first_screen(processed_dir: Path, lang: str = "ja", report_dir: Path | None = None) -> str:
    """The line that opens the report of ``processed_dir`` (errors, warnings, incomplete
    companies) and, given the report's folder, the builders that failed in it."""
    manifest = read_manifest(processed_dir)
    study = load_study(Path(processed_dir))
    failed = failed_builders(report_dir) if report_dir is not None else ()
    return _ingest_line(ingest_summary(study, manifest), Words(study.codebook, lang), failed)


def failed_builders(report_dir: Path) -> list[str]:
    """The builders that failed in the report at ``report_dir`` (from its ``report.json``)."""
    path = Path(report_dir) / RUN_RECORD
    if not path.is_file():
        return []
    return [str(f["builder"]) for f in json.loads(path.read_text(encoding="utf-8")).get("failures", [])]


def build_report(
    processed_dir: Path,
    out_dir: Path,
    lang: str = "ja",
    publish: bool = False,
    previous_dir: Path | None = None,
    force: bool = False,
    per_respondent: bool = False,
) -> Path:
    """Build every report table and figure from ``processed_dir`` into ``out_dir``.

    Parameters
    ----------
    processed_dir
        A folder written by ``survey ingest``.
    out_dir
        The report folder; replaced as a whole when the new report is complete.
    lang
        ``"ja"`` or ``"en"``: headers, titles and labels.
    publish
        Publish (:mod:`analysis.report.publication`): linked-table suppression over the whole report,
        respondent ids and respondent-level tables out, ``publication.json`` and ``audit.csv``
        beside the report, and the report's own audit before the folder is swapped in.
    previous_dir
        The previous year's processed folder, for the year-over-year tables.
    force
        Replace ``out_dir`` even when it is not a previous report (it may still not overlap the
        processed folders; see :func:`analysis.output.atomic.claim_output`).
    per_respondent
        Add the per-company tables and figures (a radar chart per company, the per-company table
        and heatmap; :attr:`ReportContext.per_respondent`). Off by default: their number and
        size grow with the study. Publication leaves them out either way.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    UsageError
        A folder is not a processed study (no ``ingest.json``), or ``out_dir`` may not be
        replaced; nothing is written.
    AuditFailed, analysis.report.publication.PublicationError
        Publish mode could not protect the report as declared; nothing is written.
    """
    from analysis.output.atomic import claim_output, staging_dir
    from analysis.report.writers import write_report

    if lang not in ("ja", "en"):
        raise ValueError(f"lang must be 'ja' or 'en', not {lang!r}")
    processed_dir, out_dir = Path(processed_dir), Path(out_dir)
    inputs = [processed_dir] if previous_dir is None else [processed_dir, Path(previous_dir)]
    manifest = read_manifest(processed_dir)
    if previous_dir is not None:
        read_manifest(Path(previous_dir), what="--previous")
    claim_output(out_dir, "report", inputs, force)  # before the work: a refusal costs nothing
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    study = load_study(processed_dir)
    previous = load_study(Path(previous_dir)) if previous_dir is not None else None
    timings["load"] = time.perf_counter() - clock
    from analysis.report.publication import PublicationRule

    # One rule for every table: the codebook's [suppression] k and protection interval.
    rule = PublicationRule.from_codebook(study.codebook) if publish else None
    ctx = ReportContext(lang=lang, publish=publish, previous=previous, per_respondent=per_respondent)

    items, failures = collect_items(study, ctx, timings)
    if failures:
        items.append(_failures_table(failures, study.codebook, publish))
    words = Words(study.codebook, lang)
    published = None
    if publish:
        clock = time.perf_counter()
        published = _publish(items, rule, study, previous, words)
        items = published.items
        timings["publication"] = time.perf_counter() - clock

    with staging_dir(out_dir, command="report", inputs=inputs, force=force) as staged:
        write_report(
            staged,
            items,
            words,
            _heading(words, study.fiscal_year),
            publish=publish,
            ingest=_ingest_line(ingest_summary(study, manifest), words, [f.builder for f in failures]),
            timings=timings,
        )
        if published is not None:
            clock = time.perf_counter()
            _write_and_audit(staged, published, words)
            timings["audit"] = time.perf_counter() - clock
        _write_run_record(staged, timings, failures)
    return out_dir


RUN_RECORD = "report.json"


def _write_run_record(staged: Path, timings: dict[str, float], failures: Sequence[BuildFailure] = ()) -> None:
    """Write ``report.json``: how long each stage of this build took (wall seconds), for whoever
    runs the toolkit at scale, and the names of the builders that failed (the command's first
    screen and exit status read them). A record of the run, not of the data: never a table, never published
    content, and the one file of the folder that differs from run to run."""
    record = {
        "timings": {stage: round(seconds, 3) for stage, seconds in timings.items()},
        # Builder names only: the messages may quote data, and this file sits in published folders.
        "failures": [{"builder": f.builder} for f in failures],
    }
    (staged / RUN_RECORD).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _publish(items: list, rule, study, previous, words: Words):
    """Publish ``items``. With a previous year, its report is first published as that year's
    report was (same builders, same rule, no year before it), and joins the linked model: the
    year-over-year tables print both years."""
    from analysis.report.publication import publish

    lang = words.lang
    marker = words.label("ui:suppressed_marker", "report", "x")
    before = None
    if previous is not None:
        previous_items, _ = collect_items(previous, ReportContext(lang=lang, publish=True))
        before = publish(previous_items, rule, marker=marker).rescoped("previous")
    ja, en = (Words(study.codebook, code).label("ui:suppressed_note", "report", "", k=rule.k) for code in ("ja", "en"))
    notes = (ja, en)
    return publish(
        items, rule, previous=before, marker=marker, notes=notes, omitted_table=_omitted_table(study.codebook, lang)
    )


def _write_and_audit(staged: Path, published, words: Words) -> None:
    """Write ``publication.json``, attack the staged report and write ``audit.csv``; raise
    :class:`AuditFailed` (nothing is swapped in) when a hidden cell is not protected.

    Publication named the columns by id; the files name them by their headers (``words``), so
    the declaration and the true values are labelled as the writer labelled the tables."""
    from analysis.report.audit import audit_csv, audit_reports, read_report

    published = published.labelled(words)
    (staged / "publication.json").write_text(
        json.dumps(published.declaration, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    values = {("r0", table, row, column): value for (table, row, column), value in published.values.items()}
    result = audit_reports([read_report(staged, tag="r0")], values=values)
    (staged / "audit.csv").write_bytes(audit_csv(result))
    if not result.ok:
        cells = ", ".join(f"{r.table}[{r.row}, {r.column}]" for r in result.failures.head(5).itertuples())
        raise AuditFailed(
            f"the publication audit narrowed {len(result.failures)} hidden cell(s) below the "
            f"protection interval ({cells}); the report was not written"
        )
