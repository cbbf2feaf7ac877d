"""The report: every registered table and figure built from processed tables.

:func:`build_report` loads a processed year, runs every builder registered in
:mod:`analysis.report.registry` (each returns tables and figures; adding a table is one
function), optionally applies the publication rules, and writes ``tables.xlsx``, one CSV and
one Markdown file per table, the figures and ``index.html`` into ``REPORT_DIR``. The folder is
built beside the target and swapped in when complete.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = ["BuildFailure", "build_report", "collect_items", "first_screen", "ingest_summary", "load_report_study",
           "publishable", "read_manifest"]

# Files of a processed folder that are not tables of the study.
_NOT_TABLES = {"issues", "files"}


def load_report_study(processed_dir: Path):
    """Load a processed folder as a Study, with the derived tables (e.g. ``maturity``) beside it.

    :func:`analysis.study.load_study` loads the schema's tables; any other ``<name>.parquet``
    (or ``<name>.csv``) in the folder is added as it is.
    """
    from analysis.schema import TABLES
    from analysis.study import load_study

    folder = Path(processed_dir)
    study = load_study(folder)
    extra: dict[str, pd.DataFrame] = {}
    stems = sorted({p.stem for p in folder.glob("*.parquet")} | {p.stem for p in folder.glob("*.csv")})
    for stem in stems:
        if stem in TABLES or stem in _NOT_TABLES or stem in study.tables:
            continue
        if (folder / f"{stem}.parquet").is_file():
            extra[stem] = pd.read_parquet(folder / f"{stem}.parquet")
        else:
            extra[stem] = pd.read_csv(folder / f"{stem}.csv", dtype="str", keep_default_na=False, na_values=[""],
                                      encoding="utf-8-sig")
    return replace(study, tables={**study.tables, **extra}) if extra else study


class BuildFailure(NamedTuple):
    """A builder that raised, or returned something other than tables and figures."""

    builder: str
    error: str


def collect_items(study, ctx) -> tuple[list, list[BuildFailure]]:
    """Run every registered builder; return the tables and figures in report order, and failures.

    A failing builder does not stop the report: its error is returned (and shown in the report's
    appendix) so that one broken table cannot hide all the others.
    """
    from analysis.report.registry import ReportFigure, ReportTable, builders

    items: list = []
    failures: list[BuildFailure] = []
    seen: dict[str, str] = {}
    for name, builder in builders():
        try:
            produced = list(builder(study, ctx) or [])
        except Exception as error:  # noqa: BLE001 - reported in the appendix, see docstring
            failures.append(BuildFailure(name, f"{type(error).__name__}: {error}"))
            warnings.warn(f"report builder {name} failed: {type(error).__name__}: {error}", RuntimeWarning,
                          stacklevel=2)
            continue
        for item in produced:
            if not isinstance(item, ReportTable | ReportFigure):
                failures.append(BuildFailure(name, f"returned {type(item).__name__}, not a ReportTable/ReportFigure"))
            elif item.name in seen:
                failures.append(BuildFailure(name, f"table name {item.name!r} is already used by {seen[item.name]}"))
            else:
                seen[item.name] = name
                items.append(item)
    return items, failures


def _failures_table(failures: list[BuildFailure], codebook):
    from analysis.report.labels import table_text
    from analysis.report.registry import ReportTable

    frame = pd.DataFrame(failures, columns=["builder", "error"], dtype="str")
    (title_ja, note_ja), (title_en, note_en) = (table_text(codebook, "appendix_failures", lang)
                                                for lang in ("ja", "en"))
    return ReportTable(name="appendix_failures", title_ja=title_ja, title_en=title_en, frame=frame,
                       section="appendix", note_ja=note_ja, note_en=note_en)


def _suppressor():
    try:
        from analysis.suppression import suppress_counts
    except ImportError as error:  # fail closed: never publish counts that were not checked
        raise RuntimeError("--publish needs analysis.suppression.suppress_counts, which is not "
                           "available; the report was not written") from error
    return suppress_counts


def _mark_hidden(before: pd.DataFrame, after: pd.DataFrame, columns: list[str],
                 marker: str) -> tuple[pd.DataFrame, bool]:
    """Put ``marker`` in every cell of ``columns`` that suppression emptied (a blank would read as
    "no data")."""
    out, any_hidden = after.copy(), False
    for column in columns:
        hidden = before[column].notna().to_numpy() & after[column].isna().to_numpy()
        if hidden.any():
            any_hidden = True
            out[column] = out[column].astype("object").where(~hidden, marker)
    return out, any_hidden


def publishable(items: list, k: int = 5, marker: str = "x",
                notes: tuple[str, str] = ("", "")) -> list:
    """Return ``items`` fit for publication.

    Every table's ``counts`` columns go through small-cell suppression
    (:func:`analysis.suppression.suppress_counts` with threshold ``k`` and the table's
    ``layout``, hiding the linked ``percents`` too); its ``statistics`` are hidden in every row
    with a hidden count (in every row when a denominator or total count is hidden) and its
    ``table_statistics`` wholly when any count is hidden, since a test result computed from the
    counts can be inverted to recover them. Hidden cells show ``marker`` and the table's note
    gets ``notes`` (Japanese, English). Its ``respondent_columns`` are dropped. A figure
    marked ``respondent_level`` (one respondent per figure) is left out. A table with counts
    but no layout is suppressed under the module's no-layout assumptions, with a warning
    naming it.
    """
    from analysis.report.registry import ReportFigure

    suppress = _suppressor() if any(getattr(i, "counts", ()) for i in items) else None
    out = []
    for item in items:
        if getattr(item, "respondent_level", False):
            continue  # one respondent per row or mark: never published
        if isinstance(item, ReportFigure):
            out.append(item)
            continue
        frame, changes = item.frame, {}
        if item.counts:
            counts = [c for c in item.counts if c in frame]
            percents = [c for c in item.percents if c in frame]
            layout = _layout_of(item)
            hidden = suppress(frame, counts, k=k, percent_columns=percents, layout=layout, name=item.name)
            row_hidden = hidden[counts].isna().to_numpy() & frame[counts].notna().to_numpy()
            rows = row_hidden.any(axis=1)
            margin_rows = [frame.index.get_loc(r) for r in _margin_labels(layout) if r in frame.index]
            if any(rows[p] for p in margin_rows):
                rows[:] = True  # each row's test uses the denominators too
            for column in [c for c in item.statistics if c in frame]:
                hidden[column] = frame[column].mask(rows)
            if rows.any():
                for column in [c for c in item.table_statistics if c in frame]:
                    hidden[column] = frame[column].mask(np.ones(len(frame), dtype=bool))
            shown = counts + percents + [c for c in (*item.statistics, *item.table_statistics)
                                         if c in frame and c not in counts + percents]
            frame, any_hidden = _mark_hidden(frame, hidden, shown, marker)
            if any_hidden:
                changes = {"note_ja": " ".join(filter(None, (item.note_ja, notes[0]))),
                           "note_en": " ".join(filter(None, (item.note_en, notes[1])))}
        frame = frame.drop(columns=[c for c in item.respondent_columns if c in frame])
        out.append(replace(item, frame=frame, respondent_columns=(), **changes))
    return out


def _layout_of(item):
    """The table's layout (its ``layout`` field, else ``frame.attrs["layout"]``), or None with a
    warning: without a layout suppression cannot know how the counts add up."""
    from analysis.suppression import TableLayout

    spec = item.layout if item.layout is not None else item.frame.attrs.get("layout")
    if isinstance(spec, TableLayout):
        return spec
    if spec is not None:
        return TableLayout.from_mapping(spec)
    warnings.warn(f"table {item.name!r} declares counts but no layout; suppressed assuming every row and "
                  "column sum is known (see analysis.suppression)", stacklevel=3)
    return None


def _margin_labels(layout) -> list:
    if layout is None:
        return []
    rows = list(layout.denominator_rows or ())
    if layout.total_row is not None and layout.total_row not in rows:
        rows.append(layout.total_row)
    return rows


def _heading(labels: dict[str, str], fiscal_year: int | None) -> str:
    from analysis.report.labels import text

    if fiscal_year is not None and labels.get("ui:heading_year"):
        return labels["ui:heading_year"].replace("{year}", str(fiscal_year))
    return text(labels, "ui:report_title", "Report")


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
            "survey ingest RAW_DIR --out PROCESSED_DIR wrote")
    return manifest


def ingest_summary(study, manifest: dict[str, Any]) -> dict[str, int]:
    """What the report's first screen says about its data.

    ``errors`` and ``warnings`` of the ingest (from ``issues.csv``, else the manifest);
    ``companies`` (user companies: a profile or self-assessment answers) and ``incomplete``
    (those with at least one codebook question without a score, whatever the reason, or with
    no self-assessment at all).
    """
    from analysis.scores import directive_scores

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


def _ingest_line(summary: dict[str, int], labels: dict[str, str]) -> str:
    from analysis.report.labels import text

    line = text(labels, "ui:ingest_summary", "Ingest: {errors} error(s), {warnings} warning(s); "
                "{incomplete} of {companies} companies with incomplete answers")
    for key, value in summary.items():
        line = line.replace(f"{{{key}}}", f"{value:,}")
    return line


def first_screen(processed_dir: Path, lang: str = "ja") -> str:
    """The line that opens the report of ``processed_dir`` (errors, warnings, incomplete companies)."""
    from analysis.report.labels import report_labels

    manifest = read_manifest(processed_dir)
    study = load_report_study(Path(processed_dir))
    return _ingest_line(ingest_summary(study, manifest), report_labels(study.codebook, lang))


def build_report(processed_dir: Path, out_dir: Path, lang: str = "ja", publish: bool = False,
                 previous_dir: Path | None = None, force: bool = False) -> Path:
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
        Apply small-cell suppression to every table with counts and drop respondent ids.
    previous_dir
        The previous year's processed folder, for the year-over-year tables.
    force
        Replace ``out_dir`` even when it is not a previous report (it may still not overlap the
        processed folders; see :func:`analysis.atomic.claim_output`).

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    UsageError
        A folder is not a processed study (no ``ingest.json``), or ``out_dir`` may not be
        replaced; nothing is written.
    """
    from analysis.atomic import claim_output, staging_dir
    from analysis.report.labels import report_labels
    from analysis.report.registry import ReportContext
    from analysis.report.writers import write_report

    if lang not in ("ja", "en"):
        raise ValueError(f"lang must be 'ja' or 'en', not {lang!r}")
    processed_dir, out_dir = Path(processed_dir), Path(out_dir)
    inputs = [processed_dir] if previous_dir is None else [processed_dir, Path(previous_dir)]
    manifest = read_manifest(processed_dir)
    if previous_dir is not None:
        read_manifest(Path(previous_dir), what="--previous")
    claim_output(out_dir, "report", inputs, force)  # before the work: a refusal costs nothing
    study = load_report_study(processed_dir)
    previous = load_report_study(Path(previous_dir)) if previous_dir is not None else None
    # One threshold for every table: the codebook's [suppression] k.
    k = int(study.codebook.meta.get("suppression", {}).get("k", 5))
    ctx = ReportContext(lang=lang, publish=publish, previous=previous,
                        options={"processed_dir": str(processed_dir), "ingest": manifest, "suppression_k": k})

    items, failures = collect_items(study, ctx)
    if failures:
        items.append(_failures_table(failures, study.codebook))
    labels = report_labels(study.codebook, lang)
    if publish:
        notes = tuple(report_labels(study.codebook, code).get("ui:suppressed_note", "").replace("{k}", str(k))
                      for code in ("ja", "en"))
        items = publishable(items, k=k, marker=labels.get("ui:suppressed_marker", "x"), notes=notes)

    with staging_dir(out_dir, command="report", inputs=inputs, force=force) as staged:
        write_report(staged, items, lang, labels, _heading(labels, study.fiscal_year), publish=publish,
                     ingest=_ingest_line(ingest_summary(study, manifest), labels))
    return out_dir
