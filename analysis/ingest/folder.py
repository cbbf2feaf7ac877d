"""Ingest a folder of returned workbooks into tidy tables and a list of problems.

:func:`read_folder` is the input edge (it only reads), :func:`assemble` is pure (cross-file
checks and tidy frames), :func:`write_processed` is the output edge (one atomic swap).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from analysis.codebook import Codebook, load_codebook
from analysis.codebook.filters import chosen_codes
from analysis.errors import DataError, UsageError
from analysis.ingest.derived import derive
from analysis.ingest.isolation import ParserPool, read_one
from analysis.ingest.problems import Message, Problem, Source, Text, cell_order, format_problem, problems_frame
from analysis.ingest.redact import build_redactor, free_text_columns, legal_forms, name_marks, redact_columns
from analysis.ingest.safety import DEFAULT_LIMITS, Limits, UnreadableFile, check_location, check_xml_defences
from analysis.ingest.validate import (
    PRECEDENCE,
    Columns,
    ParsedWorkbook,
    against_filter,
    parse_workbook,
    to_columns,
    to_records,
    unused_sheets,
)
from analysis.ingest.workbook import SPREADSHEET_SUFFIXES, RawWorkbook
from analysis.output.atomic import claim_output, staging_dir
from analysis.output.safe import csv_safe_frame
from analysis.study.datapackage import PACKAGE_FILE, datapackage_json, parquet_bytes
from analysis.study.schema import TABLES, conform

__all__ = ["IngestResult", "assemble", "ingest", "list_inputs", "read_file", "read_folder", "write_processed"]

# Files that belong in a raw folder but hold no data: listed in files.csv as ignored, no warning.
_IGNORED_NAMES = {"readme.md", "readme.txt", ".gitkeep", "thumbs.db", ".ds_store"}
_PROGRESS_MIN_FILES = 20


@dataclass
class IngestResult:
    """Tidy tables, problems, and per-file accounting of one ingest."""

    tables: dict[str, pd.DataFrame]
    problems: list[Problem]
    files: pd.DataFrame
    edition: str
    fiscal_year: int | None = None
    # sha256 of each file read, by its name under the raw folder (what the workers hashed as they read)
    hashes: dict[str, str] = field(default_factory=dict)

    @property
    def n_errors(self) -> int:
        return sum(p.severity == "error" for p in self.problems)

    @property
    def n_warnings(self) -> int:
        return sum(p.severity == "warning" for p in self.problems)

    @property
    def cells(self) -> dict[str, int]:
        """Cells read, loaded and reported over all files (read = loaded + reported)."""
        return {
            k: int(self.files[f"cells_{k}"].sum()) if len(self.files) else 0 for k in ("read", "loaded", "reported")
        }

    def summary(self, max_problems: int = 30, lang: str = "ja") -> str:
        """A readable summary for the terminal (in Japanese, or English with ``lang="en"``)."""
        files = self.files
        status = files["status"].value_counts() if len(files) else pd.Series(dtype=int)
        cells = {k: f"{v:,}" for k, v in self.cells.items()}
        year = Message.of("summary_year", year=self.fiscal_year) if self.fiscal_year else ""
        counts = {k: int(status.get(k, 0)) for k in ("loaded", "skipped", "unreadable", "ignored")}
        said = [
            Message.of("summary_files", n=len(files), edition=self.edition, year=year, **counts),
            Message.of("summary_cells", **cells),
            Message.of("summary_tables", tables=tuple(f"{name} {len(frame):,}" for name, frame in self.tables.items())),
            Message.of("summary_problems", errors=self.n_errors, warnings=self.n_warnings),
        ]
        lines = [message.render(lang) for message in said]
        ordered = sorted(self.problems, key=lambda p: (p.severity != "error", p.file, p.sheet))
        lines += ["  " + format_problem(p, lang) for p in ordered[:max_problems]]
        if len(ordered) > max_problems:
            lines.append("  " + Message.of("summary_more", n=len(ordered) - max_problems).render(lang))
        return "\n".join(lines)


def _name_under(path: Path, raw_dir: Path) -> str:
    """``path``'s name under ``raw_dir`` (``sub/sa.xlsx``): how files are named in sources, problems,
    files.csv and ingest.json. What :func:`list_inputs` gives starts with the folder as spelt, so
    the prefix is cut without pathlib (once per file of a large ingest)."""
    text, prefix = str(path), os.path.join(str(raw_dir), "")
    return text[len(prefix) :] if text.startswith(prefix) else str(Path(path).relative_to(raw_dir))


def list_inputs(raw_dir: Path) -> list[Path]:
    """Every file under ``raw_dir`` (hidden ones included), in a stable order.

    Each is listed in ``files.csv`` with what happened to it; :func:`_screen` decides which
    are opened.
    """
    raw_dir = Path(raw_dir)
    return [path for path in sorted(raw_dir.rglob("*")) if not (path.is_dir() and not path.is_symlink())]


def read_file(
    path: Path, raw_dir: Path, codebook: Codebook, limits: Limits = DEFAULT_LIMITS, fiscal_year: int | None = None
) -> ParsedWorkbook:
    """Read and validate one file in this process; never raises for bad input (the problem is recorded).

    Its records come as columns, per table (:attr:`ParsedWorkbook.columns`), as :func:`read_folder` gives them.

    The checks before parsing run as always, but the parser is not isolated: for files from
    outside, :func:`read_folder` (worker processes) is the safe way.
    """
    check_xml_defences()
    path, raw_dir = Path(path), Path(raw_dir)
    name = _name_under(path, raw_dir)
    screened = _screen(path, raw_dir, name)
    if screened is not None:
        return screened
    return _validate(name, read_one(path, limits, unused_sheets(codebook)), codebook, fiscal_year)


def _screen(path: Path, raw_dir: Path, name: str) -> ParsedWorkbook | None:
    """The verdict on a file that is not to be opened at all (``None`` when it is to be read)."""
    parsed = ParsedWorkbook(file=name)
    if path.name.lower() in _IGNORED_NAMES:
        parsed.note = Message.of("not_survey_data")
        parsed.skipped = True
        return parsed
    if any(part.startswith(".") for part in Path(name).parts):
        # Hidden files and folders are not opened (editors' and sync tools' copies, .git live
        # there); each is listed in files.csv, and a hidden workbook is also said in issues.csv.
        if path.suffix.lower() in SPREADSHEET_SUFFIXES:
            parsed.warning("", "", Message.of("hidden_workbook"))
        else:
            parsed.note = Message.of("hidden_file")
        parsed.skipped = True
        return parsed
    refused = check_location(path, raw_dir)
    if refused is not None:
        return parsed.skip("", "", refused)  # a Message
    if path.name.startswith("~$"):
        parsed.warning("", "", Message.of("lock_file"))
        parsed.skipped = True
        return parsed
    if path.suffix.lower() not in SPREADSHEET_SUFFIXES:
        parsed.warning("", "", Message.of("not_spreadsheet", suffixes=tuple(SPREADSHEET_SUFFIXES)))
        parsed.skipped = True
        return parsed
    return None


def _validate(
    name: str, outcome: RawWorkbook | UnreadableFile, codebook: Codebook, fiscal_year: int | None = None
) -> ParsedWorkbook:
    """Validate what the reader made of file ``name`` (or record why it could not be read)."""
    if isinstance(outcome, UnreadableFile):
        return ParsedWorkbook(file=name).skip("", "", _refusal(outcome))
    result = parse_workbook(outcome, codebook, fiscal_year, file=name)
    result.sha256 = outcome.sha256
    result.problems = [Problem("warning", name, "", "", _said(note)) for note in outcome.notes] + result.problems
    return result.seal()


@dataclass(frozen=True)
class _Validation:
    """Validation of each file as a worker reads it (:class:`~analysis.ingest.isolation.ParserPool`'s
    ``then``): the parent receives records and problems, not grids, and the workers do the work."""

    raw_dir: Path
    codebook: Codebook
    fiscal_year: int | None

    def __call__(self, path: Path, outcome: RawWorkbook | UnreadableFile) -> ParsedWorkbook:
        return _validate(_name_under(path, self.raw_dir), outcome, self.codebook, self.fiscal_year)


def _said(what: object) -> Message:
    """What a reader said, as a message (a reader that gave plain text is quoted in both languages)."""
    return what if isinstance(what, Message) else Message.of("unreadable", reason=str(what))


def _refusal(error: UnreadableFile) -> Message:
    """Why a file could not be read: the refusal's message (its first argument)."""
    return _said(error.args[0] if error.args else str(error))


def read_folder(
    raw_dir: Path,
    codebook: Codebook,
    progress: bool | None = None,
    limits: Limits = DEFAULT_LIMITS,
    workers: int | None = None,
    fiscal_year: int | None = None,
    inputs: Sequence[Path] | None = None,
) -> list[ParsedWorkbook]:
    """Read every input file under ``raw_dir`` (read only: raw files are never written).

    Files are parsed in worker processes (:class:`~analysis.ingest.isolation.ParserPool`) with a
    memory limit and a per-file timeout, after the checks of :mod:`analysis.ingest.safety`; a file
    that crashes or exhausts a worker becomes one error and the others still land.
    ``workers=0`` parses in this process (checks still on, no isolation). With ``fiscal_year``
    (the folder's year), rows of another year are errors at their year cell and kept out.
    ``inputs`` is :func:`list_inputs` of ``raw_dir`` when the caller has it already.
    """
    check_xml_defences()
    raw_dir = Path(raw_dir)
    paths = list(inputs) if inputs is not None else list_inputs(raw_dir)
    names = [_name_under(path, raw_dir) for path in paths]
    parsed: list[ParsedWorkbook | None] = [_screen(p, raw_dir, n) for p, n in zip(paths, names, strict=True)]
    wanted = [i for i, verdict in enumerate(parsed) if verdict is None]
    skip = unused_sheets(codebook)
    # The pool is made before the progress bar: the bar's monitor thread would otherwise make
    # the pool start its workers the slow, thread-safe way.
    validation = _Validation(raw_dir, codebook, fiscal_year)
    pool = ParserPool(limits, workers, skip, then=validation) if workers != 0 and wanted else None
    show = progress if progress is not None else (len(paths) >= _PROGRESS_MIN_FILES and _interactive())
    bar = None
    if show:
        # tqdm.auto: a widget bar in Jupyter, a text bar in a terminal.
        from tqdm.auto import tqdm

        bar = tqdm(total=len(paths), initial=len(paths) - len(wanted), desc="ingest", unit="file")
    outcomes: Iterable[tuple[int, ParsedWorkbook | UnreadableFile]]
    if pool is None:
        outcomes = ((j, validation(paths[i], read_one(paths[i], limits, skip))) for j, i in enumerate(wanted))
    else:
        outcomes = pool.read([paths[i] for i in wanted])
    try:
        for j, outcome in outcomes:
            # A file whose worker died or timed out comes back as the limit it broke.
            parsed[wanted[j]] = (
                _validate(names[wanted[j]], outcome, codebook, fiscal_year)
                if isinstance(outcome, UnreadableFile)
                else outcome
            )
            if bar is not None:
                bar.update()
    finally:
        if pool is not None:
            pool.close()
        if bar is not None:
            bar.close()
    return [p for p in parsed if p is not None]


def _reason(parsed: ParsedWorkbook, lang: str) -> str:
    """Why a file was not loaded (its file-level problem) in ``lang``, or ``""`` for a loaded file."""
    if _status(parsed) == "loaded":
        return ""
    whole = [p for p in parsed.problems if not p.cell] or list(parsed.problems)
    if parsed.note is not None:
        return parsed.note.ja if lang == "ja" else parsed.note.en
    return whole[0].text(lang) if whole else ""


def _interactive() -> bool:
    """A person is watching: a terminal, or a Jupyter kernel (whose stderr is no terminal)."""
    if sys.stderr.isatty():
        return True
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _status(parsed: ParsedWorkbook) -> str:
    if parsed.skipped and parsed.instrument is None and parsed.cells_read == 0:
        return "ignored" if all(p.severity == "warning" for p in parsed.problems) else "unreadable"
    return "skipped" if parsed.skipped else "loaded"


def assemble(parsed: Sequence[ParsedWorkbook], codebook: Codebook, fiscal_year: int | None = None) -> IngestResult:
    """Combine the workbooks of one ingest: cross-file checks, then tidy frames.

    Each table is built from the workbooks' columns (:meth:`ParsedWorkbook.seal`), never one dict per row.
    """
    for book in parsed:
        book.seal()  # books validated in this process come with records
    _refuse_shared_respondents(parsed)
    _drop_repeated_answers(parsed)
    _decide_eligibility_across_files(parsed, codebook)
    problems = [p for book in parsed for p in book.problems]
    problems += _nothing_loaded(parsed, problems)
    columns = _gather(parsed)
    respondents, merged = _merge_respondents(to_records(columns["respondents"]))
    columns["respondents"] = to_columns(respondents)
    _number_statements(columns["statements"])
    columns, redacted = _redact_names(parsed, columns, codebook)
    tables = {name: conform(name, values) for name, values in columns.items()}
    tables.update(derive(tables, codebook))
    problems += merged + redacted + _check_respondents_known(tables)
    problems = sorted(dict.fromkeys(problems), key=lambda p: (p.file, p.sheet, cell_order(p.cell), p.message))
    return IngestResult(
        tables=tables,
        problems=problems,
        files=_files_frame(parsed),
        edition=codebook.edition,
        fiscal_year=fiscal_year,
        hashes={book.file: book.sha256 for book in parsed if book.sha256},
    )


def _decide_eligibility_across_files(parsed: Sequence[ParsedWorkbook], codebook: Codebook) -> None:
    """A filtered pre-survey answer whose filter question was answered in another file: decide
    its ``eligible`` from that file, and warn at its cell when the respondent was not asked (as
    the workbook's own check does when both are in one file)."""
    filters = codebook.filters
    books = [b for b in parsed if b.instrument == "presurvey" and not b.skipped and "presurvey" in b.columns]
    if not filters or len(books) < 2:
        return
    chosen = chosen_codes(
        (
            answer
            for book in books
            for answer in zip(
                *(book.columns["presurvey"][c] for c in ("respondent_id", "fiscal_year", "question_id", "option_code")),
                strict=True,
            )
        ),
        {rule.on for rule in filters.values()},
    )
    for book in books:
        table = book.columns["presurvey"]
        warned: set[str] = set()
        for i, question in enumerate(table["question_id"]):
            rule = filters.get(question)
            if rule is None or table["eligible"][i] is not None:
                continue  # not filtered, or decided within its own workbook
            codes = chosen.get((table["respondent_id"][i], table["fiscal_year"][i], rule.on), [])
            eligible = rule.asks(codes)
            if eligible is None:
                continue  # the filter question is unanswered everywhere: unknown, counted as asked
            table["eligible"][i] = eligible
            answered = table["option_code"][i] is not None or table["answer_text"][i] is not None
            source = table["source"][i]
            if eligible or not answered or source in warned:
                continue
            warned.add(source)
            where = Source.parse(source)
            book.warning(where.sheet, where.cell, against_filter(codebook, rule, table["respondent_id"][i], codes))


def _refuse_shared_respondents(parsed: Sequence[ParsedWorkbook]) -> None:
    """One respondent in two self-assessment files: neither can be trusted, both are named and skipped."""
    owners: dict[tuple, list[ParsedWorkbook]] = {}
    for book in parsed:
        if book.instrument == "self_assessment" and not book.skipped:
            respondents = book.columns.get("respondents", {})
            for key in zip(respondents.get("respondent_id", ()), respondents.get("fiscal_year", ()), strict=True):
                owners.setdefault(key, []).append(book)
    for (rid, year), books in owners.items():
        if len(books) > 1:
            names = tuple(b.file for b in books)
            message = Message.of("shared_respondent", respondent=rid, year=year, n=len(books), files=names)
            for book in books:
                book.skip("", "", message)


def _drop_repeated_answers(parsed: Sequence[ParsedWorkbook]) -> None:
    """Pre-survey answers given again in a later file: the later row is reported and dropped."""
    first_seen: dict[tuple, str] = {}
    for book in parsed:
        if book.instrument != "presurvey" or book.skipped:
            continue
        answers = book.columns.get("presurvey")
        if not answers:
            continue
        kept = []
        keys = zip(answers["respondent_id"], answers["fiscal_year"], answers["question_id"], strict=True)
        for i, key in enumerate(keys):
            owner = first_seen.setdefault(key, book.file)
            if owner == book.file:
                kept.append(i)
                continue
            _, sheet, cell = Source.parse(answers["source"][i])
            message = Message.of("answered_elsewhere", respondent=key[0], question=key[2], year=key[1], file=owner)
            book.error(sheet, cell, message)
            book.cells_reported += 1
        if len(kept) < len(answers["source"]):
            book.columns["presurvey"] = {column: [values[i] for i in kept] for column, values in answers.items()}


def _gather(parsed: Sequence[ParsedWorkbook]) -> dict[str, Columns]:
    """Every table's columns over the workbooks that landed (``None`` where a workbook's rows
    lack a column)."""
    out: dict[str, Columns] = {name: {} for name in TABLES}
    sizes = dict.fromkeys(TABLES, 0)
    for book in parsed:
        if book.skipped:
            continue
        for table, values in book.columns.items():
            have, before = out[table], sizes[table]
            n = len(next(iter(values.values()), []))
            for column, cells in values.items():
                if column not in have:
                    have[column] = [None] * before
                have[column].extend(cells)
            for column, cells in have.items():
                if column not in values:
                    cells.extend([None] * n)
            sizes[table] = before + n
    return out


def _nothing_loaded(parsed: Sequence[ParsedWorkbook], problems: Sequence[Problem]) -> list[Problem]:
    """An error when no workbook landed and no error says why.

    Empty tables from an empty folder would read as a study with no respondents. (When every
    workbook was refused, each one's error already says why; `ingest` refuses a folder without
    any workbook before writing.)
    """
    if any(book.instrument and not book.skipped for book in parsed) or any(p.severity == "error" for p in problems):
        return []
    found = Message.of("files_none_a_workbook", n=len(parsed)) if parsed else Message.of("no_file")
    return [Problem("error", ".", "", "", Message.of("nothing_loaded", found=found))]


def _files_frame(parsed: Sequence[ParsedWorkbook]) -> pd.DataFrame:
    """``files.csv``: what happened to each file, with its cell accounting."""
    return pd.DataFrame(
        [
            {
                "file": b.file,
                "instrument": b.instrument or "",
                "status": _status(b),
                "cells_read": b.cells_read,
                "cells_loaded": b.cells_loaded,
                "cells_reported": b.cells_reported,
                "reason_ja": _reason(b, "ja"),
                "reason_en": _reason(b, "en"),
            }
            for b in parsed
        ],
        columns=[
            "file",
            "instrument",
            "status",
            "cells_read",
            "cells_loaded",
            "cells_reported",
            "reason_ja",
            "reason_en",
        ],
    )


# How the respondents' check names the tables whose rows it looks at.
_TABLE_JA = {"presurvey": "事前調査", "statements": "発言"}


def _check_respondents_known(tables: dict[str, pd.DataFrame]) -> list[Problem]:
    """Warn about pre-survey and statement rows whose respondent has no profile or roster row."""
    respondents = tables["respondents"]
    known = set(zip(respondents["respondent_id"], respondents["fiscal_year"], strict=True))
    years_of: dict[str, list[int]] = {}
    for rid, year in sorted(known):
        years_of.setdefault(rid, []).append(int(year))
    problems = []
    for table in ("presurvey", "statements"):
        frame = tables[table]
        unknown = frame.loc[
            [(r, y) not in known for r, y in zip(frame["respondent_id"], frame["fiscal_year"], strict=True)]
        ]
        for (rid, year), part in unknown.groupby(["respondent_id", "fiscal_year"], sort=True):
            where = Source.parse(part["source"].iloc[0])
            years = years_of.get(str(rid))
            rows = Text(_TABLE_JA[table], table)
            if years:
                message = Message.of(
                    "respondent_other_year",
                    respondent=str(rid),
                    table=rows,
                    year=str(year),
                    years=tuple(map(str, years)),
                )
            else:
                message = Message.of("respondent_unknown", respondent=str(rid), table=rows, year=str(year))
            problems.append(Problem.at("warning", where, message))
    return problems


def _merge_respondents(records: list[dict]) -> tuple[list[dict], list[Problem]]:
    """One row per respondent and year; the record of lowest :data:`PRECEDENCE` wins (the
    self-assessment profile over the roster)."""
    merged: dict[tuple, dict] = {}
    problems = []
    order = sorted(records, key=lambda r: r[PRECEDENCE])
    for record in order:
        key = (record["respondent_id"], record["fiscal_year"])
        if key not in merged:
            merged[key] = dict(record)
            continue
        have = merged[key]
        for column, value in record.items():
            if column == "source" or column.startswith("_") or value is None:
                continue
            if have.get(column) is None:
                have[column] = value
            elif have[column] != value:
                problems.append(
                    Problem.at(
                        "warning",
                        Source.parse(record["source"]),
                        Message.of(
                            "attribute_conflict",
                            respondent=str(key[0]),
                            year=str(key[1]),
                            column=column,
                            value=repr(value),
                            other=repr(have[column]),
                            file=Source.parse(have["source"]).file,
                        ),
                    )
                )
    return list(merged.values()), problems


def _number_statements(statements: Columns) -> None:
    """Give each statement its id: respondent, year and its number in the order of its cells."""
    if not statements:
        return
    years, respondents, sources = statements["fiscal_year"], statements["respondent_id"], statements["source"]
    ids: list[str | None] = [None] * len(sources)
    counters: dict[tuple, int] = {}
    for i in sorted(range(len(sources)), key=lambda i: (years[i], respondents[i], Source.parse(sources[i]).sort_key())):
        key = (years[i], respondents[i])
        counters[key] = counters.get(key, 0) + 1
        ids[i] = f"{respondents[i]}-{years[i]}-{counters[key]:03d}"
    statements["statement_id"] = ids


# Text that csv_safe_frame changes: a formula prefix (RISKY_PREFIXES) or a control character
# other than layout. Only such cells go through it; pyarrow finds them (RE2 syntax).
_UNSAFE_TEXT = "^[=+\\-@\\t\\r\\n＝＋－＠]|[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]"


def _to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as CSV for people: UTF-8 with a BOM (so that Japanese Excel reads it as UTF-8),
    formulas neutralised and controls escaped (:func:`~analysis.output.safe.csv_safe_frame`).

    pyarrow writes it (several times faster than pandas for the large tables; every text
    value quoted). Columns of other types than text, integers, booleans and categories of
    text go through pandas instead.
    """
    columns = {}
    for name in frame.columns:
        values = _csv_column(frame[name])
        if values is None or not isinstance(name, str):
            return csv_safe_frame(frame).to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
        columns[name] = values
    if not columns:
        return csv_safe_frame(frame).to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
    sink = io.BytesIO()
    sink.write("\ufeff".encode())
    pa_csv.write_csv(pa.table(columns), sink, pa_csv.WriteOptions(quoting_style="needed", eol="\n"))
    return sink.getvalue()


def _csv_column(series: pd.Series) -> pa.Array | None:
    """The cells of ``series`` as pyarrow text, made safe as :func:`csv_safe_frame` makes them
    (nulls stay null: an empty field); ``None`` for a column pyarrow should not write."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return pa.array([None if pd.isna(v) else str(bool(v)) for v in series], pa.string())
    if pd.api.types.is_integer_dtype(dtype):
        return pc.cast(pa.array(series, from_pandas=True), pa.string())
    if isinstance(dtype, pd.CategoricalDtype) and all(isinstance(c, str) for c in dtype.categories):
        # Arrow-backed already: no Python object per cell.
        text = pc.cast(pa.array(series).dictionary_decode(), pa.string())  # pyright: ignore[reportAttributeAccessIssue]
    elif pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        text = pc.cast(pa.array(series), pa.string())
    elif pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        values = series.astype(object).tolist()
        if not all(isinstance(v, str) or v is None or (isinstance(v, float) and v != v) for v in values):
            return None  # numbers in a text column: pandas spells them
        text = pa.array(values, pa.string(), from_pandas=True)
    else:
        return None
    unsafe = pc.match_substring_regex(text, _UNSAFE_TEXT)  # pyright: ignore[reportAttributeAccessIssue]
    if pc.any(unsafe).as_py():  # pyright: ignore[reportAttributeAccessIssue]
        flagged = pc.fill_null(unsafe, False).to_numpy(zero_copy_only=False)
        values = text.to_pylist()
        safe = csv_safe_frame(pd.DataFrame({"v": [v for v, f in zip(values, flagged, strict=True) if f]}))["v"]
        replaced = iter(safe.tolist())
        text = pa.array(
            [next(replaced) if f else v for v, f in zip(values, flagged, strict=True)], pa.string(), from_pandas=True
        )
    return text


def write_processed(
    result: IngestResult, out_dir: Path, inputs: Sequence[Path] = (), raw_dir: Path | None = None, force: bool = False
) -> Path:
    """Write every tidy table (CSV and Parquet), ``datapackage.json``, ``issues.csv``, ``files.csv``
    and ``ingest.json``.

    The folder is built beside ``out_dir`` and swapped in only when complete; ``out_dir`` must
    not overlap ``raw_dir`` and, when not empty, must be a previous ingest's output unless
    ``force`` (:func:`analysis.output.atomic.claim_output`).
    """
    out_dir = Path(out_dir)
    codebook = load_codebook(result.edition)
    with staging_dir(out_dir, command="ingest", inputs=[raw_dir], force=force) as staged:
        for name, frame in result.tables.items():
            (staged / f"{name}.csv").write_bytes(_to_csv_bytes(frame))
            (staged / f"{name}.parquet").write_bytes(parquet_bytes(name, frame, codebook))
        (staged / PACKAGE_FILE).write_text(
            datapackage_json(result.tables, codebook, result.fiscal_year), encoding="utf-8"
        )
        (staged / "issues.csv").write_bytes(_to_csv_bytes(problems_frame(result.problems)))
        (staged / "files.csv").write_bytes(_to_csv_bytes(result.files))
        manifest = {
            "edition": result.edition,
            **({"codebook_folder": codebook.folder} if codebook.folder else {}),
            "fiscal_year": result.fiscal_year,
            "tables": {name: len(frame) for name, frame in result.tables.items()},
            "cells": result.cells,
            "errors": result.n_errors,
            "warnings": result.n_warnings,
            "inputs": _inputs(inputs, raw_dir, result.hashes),
        }
        (staged / "ingest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return out_dir


def _inputs(inputs: Sequence[Path], raw_dir: Path | None, hashes: dict[str, str]) -> list[dict[str, str]]:
    """The files' entries in ``ingest.json``: name and sha256, as read by the ingest when it was
    (not read again), else of the file as it is now (a file gone meanwhile is left out)."""
    entries = []
    for path in inputs:
        name = _name_under(path, raw_dir) if raw_dir else Path(path).name
        known = hashes.get(name) if raw_dir else None
        if known is None and not Path(path).is_file():
            continue
        entries.append({"file": name, "sha256": known or _sha256(Path(path))})
    return entries


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ingest(
    raw_dir: Path,
    out_dir: Path | None = None,
    edition: str = "fy2021",
    fiscal_year: int | None = None,
    progress: bool | None = None,
    limits: Limits = DEFAULT_LIMITS,
    workers: int | None = None,
    force: bool = False,
) -> IngestResult:
    """Read ``raw_dir``, validate and normalise every workbook, and (if ``out_dir``) write the tables.

    ``limits`` bound what one input file may cost and ``workers`` sets the parser processes
    (see :func:`read_folder`). ``out_dir`` is checked before anything is read (see
    :func:`write_processed` for ``force``).

    Raises
    ------
    UsageError
        ``raw_dir`` is not a folder, or ``out_dir`` may not be written.
    DataError
        No file under ``raw_dir`` is a workbook of the codebook's instruments (nothing is written).
    """
    codebook = load_codebook(edition)
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise UsageError(f"生データのフォルダ {raw_dir} がありません", f"raw folder {raw_dir} does not exist")
    if out_dir is not None:
        claim_output(Path(out_dir), "ingest", [raw_dir], force)
    # The folder is listed once: the files read are the files hashed into ingest.json.
    listed = list_inputs(raw_dir)
    with _collections_paused():
        parsed = read_folder(
            raw_dir, codebook, progress=progress, limits=limits, workers=workers, fiscal_year=fiscal_year, inputs=listed
        )
        # Nothing that even looks like a survey workbook (an empty folder, the wrong folder): an
        # error before anything is written. Workbooks that could not be read are errors of their
        # own, each with its reason in issues.csv.
        if not any(book.instrument or any(p.severity == "error" for p in book.problems) for book in parsed):
            raise DataError(
                f"{raw_dir} に調査票のブック({codebook.edition})が1つもありません({len(parsed)} ファイル)。"
                "フォルダを確かめてください。出力は書き換えていません",
                f"no workbook of any {codebook.edition} instrument under {raw_dir} ({len(parsed)} file(s)); "
                "check the folder (no output was written)",
            )
        result = assemble(parsed, codebook, fiscal_year=fiscal_year)
        # The workbooks' own lists are in the tables now: freed here, they are not walked by the
        # first collection once collections resume (0.15 s at 10,000 workbooks).
        del parsed
        if out_dir is not None:
            # Files refused unopened (links out of the raw folder, pipes) are not hashed either.
            inputs = [p for p in listed if check_location(p, raw_dir) is None]
            write_processed(result, out_dir, inputs=inputs, raw_dir=raw_dir, force=force)
    return result


@contextlib.contextmanager
def _collections_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile.

    Reading, assembling and writing keep every object they make until the tables are written,
    so the collector, triggered again and again by those allocations, would walk an ever larger
    heap for nothing (a tenth of the parent's time); reference counting still frees the rest.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _redact_names(
    parsed: Sequence[ParsedWorkbook], tables: dict[str, Columns], codebook: Codebook
) -> tuple[dict[str, Columns], list[Problem]]:
    """Every name read from a personal cell of any workbook (skipped ones too) replaced in the
    free text of every table (:mod:`analysis.ingest.redact`); one warning per replaced value, so that
    the researcher rewords it, and per name too short to be looked for. No message holds a name."""
    names = [name for book in parsed for name in book.names]
    redactor = build_redactor(names, name_marks(codebook), legal_forms(codebook))
    tables, cells = redact_columns(tables, redactor, free_text_columns(codebook))
    problems = []
    for cell in cells:
        problems.append(
            Problem.at(
                "warning",
                Source.parse(cell.source),
                Message.of("name_redacted", column=f"{cell.table}.{cell.column}"),
            )
        )
    for book in parsed:
        for name in redactor.too_short:
            if name in book.names:
                problems.append(
                    Problem.at(
                        "warning",
                        Source.parse(name.source)._replace(file=book.file),
                        Message.of("name_too_short"),
                    )
                )
    return tables, problems
