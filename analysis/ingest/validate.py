"""Validate one workbook's grids against the codebook and turn them into tidy records.

Pure: a :class:`~analysis.ingest.workbook.RawWorkbook` and a :class:`~analysis.codebook.Codebook`
in, records and problems out. Each input cell either lands in a record or is named in a
problem, and :class:`ParsedWorkbook` counts both so that the ingest can show they add up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from functools import cache

from analysis.codebook import Codebook, ColumnSpec, SheetSpec
from analysis.codebook.filters import QuestionFilter, chosen_codes, option_label
from analysis.collect.layout import INSTRUCTIONS_SHEET, META_SHEET, STAMP_EDITION, STAMP_INSTRUMENT
from analysis.ingest.normalise import (
    InvalidValue,
    match_key,
    normalise_text,
    parse_bool,
    parse_date,
    parse_fiscal_year,
    parse_int,
    parse_respondent_id,
    split_codes,
)
from analysis.ingest.problems import Message, Problem, Source, Text
from analysis.ingest.redact import FoundName
from analysis.ingest.workbook import ErrorValue, Grid, RawWorkbook, cell_name

__all__ = [
    "Columns",
    "ParsedWorkbook",
    "PRECEDENCE",
    "YEAR_SOURCE",
    "UnusedSheets",
    "cell_error",
    "identify_instrument",
    "parse_workbook",
    "to_columns",
    "to_records",
    "unused_sheets",
]

# Records carry the cell their fiscal year came from, for cross-file checks; the tidy tables
# do not keep it (keys starting with "_" are not columns).
YEAR_SOURCE = "_year_source"
# When two workbooks describe one respondent and year, the lower precedence wins: a respondent's
# own profile (0) over a list of companies it is part of (1) over a roster's typed row (2).
PRECEDENCE = "_precedence"
_HEADER_SCAN_ROWS = 20
# Excel's error values, also when they arrive as text (a CSV or another program's export).
_EXCEL_ERRORS = frozenset(
    {
        "#DIV/0!",
        "#N/A",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#NULL!",
        "#SPILL!",
        "#CALC!",
        "#GETTING_DATA",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
    }
)


def cell_error(value: object) -> Message | None:
    """Why a cell's value is no value at all (an Excel error or NaN), or ``None`` for a normal cell."""
    if isinstance(value, ErrorValue) or (
        isinstance(value, str) and "#" in value and value.strip().upper() in _EXCEL_ERRORS
    ):
        return Message.of("excel_error", value=str(value).strip())
    if isinstance(value, float) and value != value:
        return Message.of("nan_cell")
    return None


# A table as columns: column name -> values, every list of one length.
Columns = dict[str, list]


def to_columns(records: list[dict]) -> Columns:
    """``records`` as columns: every key of any record, in first-seen order, ``None`` where a
    record lacks it (the tidy tables do not tell a missing key from ``None``)."""
    keys = list(dict.fromkeys(key for record in records for key in record))
    if all(len(record) == len(keys) for record in records):  # the usual case: one shape of record
        return {key: [record[key] for record in records] for key in keys}
    return {key: [record.get(key) for record in records] for key in keys}


def to_records(columns: Columns) -> list[dict]:
    """``columns`` as one dict per row (the inverse of :func:`to_columns`)."""
    keys = list(columns)
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _blank(value: object) -> bool:
    """An empty cell: no text and no error value (an error or NaN is never blank)."""
    return _text(value) == "" and cell_error(value) is None


# Short names for the comparisons and texts of every cell (both remember what they worked out).
_key = match_key
_text = normalise_text


@dataclass
class ParsedWorkbook:
    """What one workbook gave: tidy records per table, problems and cell accounting."""

    file: str
    instrument: str | None = None
    edition: str | None = None
    records: dict[str, list[dict]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    cells_read: int = 0
    cells_reported: int = 0
    skipped: bool = False
    note: Message | None = None  # why a file was ignored without a problem (files.csv's reason)
    folder_year: int | None = None  # the fiscal year of the folder being ingested (None: not checked)
    # Names read from personal cells: never written, only used to redact free text (analysis.ingest.redact).
    names: list[FoundName] = field(default_factory=list)
    sha256: str = ""  # of the file as read ("" when it was not read), for the ingest's manifest
    # The records as columns once validation is over (:meth:`seal`): what the ingest sends and assembles.
    columns: dict[str, Columns] = field(default_factory=dict)

    @property
    def cells_loaded(self) -> int:
        return self.cells_read - self.cells_reported

    def __reduce__(self) -> tuple[type[ParsedWorkbook], tuple[object, ...]]:
        # Every worker sends one per file: the fields in order pickle smaller and load about
        # twice as fast as the attribute dict (12.8 against 21 us a template workbook).
        return (ParsedWorkbook, tuple(getattr(self, name) for name in _PARSED_FIELDS))

    def seal(self) -> ParsedWorkbook:
        """Move the records into :attr:`columns` (validation is over): a few lists per table
        pickle and concatenate much faster than one dict per row."""
        for table, records in self.records.items():
            if table in self.columns:
                raise ValueError(f"table {table} has both records and columns")
            self.columns[table] = to_columns(records)
        self.records = {}
        return self

    def add(self, table: str, record: dict) -> None:
        if table in self.columns:
            raise ValueError(f"table {table} already has rows added as columns")
        self.records.setdefault(table, []).append(record)

    def rows(self, table: str) -> list[dict]:
        """The rows of ``table`` as one dict each, whether they were added as records or as columns."""
        if table in self.records:
            return list(self.records[table])
        return to_records(self.columns.get(table, {}))

    def add_columns(self, table: str, columns: Columns) -> None:
        """Add rows given as columns (every list of one length) to ``table``: what a long grid
        gives, without a dict per row. A table takes either records or columns, not both."""
        if table in self.records:
            raise ValueError(f"table {table} already has records")
        if table not in self.columns:
            self.columns[table] = {key: list(values) for key, values in columns.items()}
            return
        present = self.columns[table]
        if set(present) != set(columns):
            raise ValueError(f"table {table} has columns {sorted(present)}, not {sorted(columns)}")
        for key, values in columns.items():
            present[key].extend(values)

    def error(self, sheet: str, cell: str, message: Message) -> None:
        self.problems.append(Problem("error", self.file, sheet, cell, message))

    def warning(self, sheet: str, cell: str, message: Message) -> None:
        self.problems.append(Problem("warning", self.file, sheet, cell, message))

    def skip(self, sheet: str, cell: str, message: Message) -> ParsedWorkbook:
        """Reject the whole workbook: nothing from it lands, every cell read is reported."""
        self.error(sheet, cell, message)
        self.records = {}
        self.columns = {}
        self.cells_reported = self.cells_read
        self.skipped = True
        return self


_PARSED_FIELDS = tuple(f.name for f in fields(ParsedWorkbook))


@dataclass(frozen=True)
class Row:
    """One data row of a table sheet: raw values and cell names by column id."""

    index: int
    values: dict[str, object]
    cells: dict[str, str]


# -- identification --------------------------------------------------------------------------


def _find_sheet(book: RawWorkbook, spec: SheetSpec) -> Grid | None:
    wanted = {_key(spec.name_ja), _key(spec.name_en), _key(spec.sheet)}
    for name, grid in book.sheets.items():
        if _key(name) in wanted:
            return grid
    return None


def read_meta(book: RawWorkbook) -> dict[str, tuple[str, str]]:
    """Read the key/value stamp of the hidden ``_meta`` sheet: value and cell by key (empty
    if there is none)."""
    grid = book.sheets.get(META_SHEET)
    if grid is None:
        return {}
    meta = {}
    for r in range(grid.top, grid.n_rows):
        key = _text(grid.cell(r, 0))
        if key:
            meta[key] = (_text(grid.cell(r, 1)), cell_name(r, 1))
    return meta


def identify_instrument(book: RawWorkbook, codebook: Codebook) -> str | None:
    """Return the instrument a workbook holds: from its ``_meta`` stamp, else from sheet names."""
    stamped = read_meta(book).get(STAMP_INSTRUMENT, ("", ""))[0]
    if stamped in codebook.sheets:
        return stamped
    for instrument, sheets in codebook.sheets.items():
        if all(_find_sheet(book, spec) is not None for spec in sheets):
            return instrument
    # Long instruments share the sheet name 回答; fall back to the headers of that sheet.
    for instrument, sheets in codebook.sheets.items():
        spec = sheets[-1]
        grid = _find_sheet(book, spec)
        if grid is not None and _header_row(grid, spec) is not None and len(sheets) == 1:
            return instrument
    return None


# -- generic sheet reading ---------------------------------------------------------------------


@cache
def _spellings(spec: ColumnSpec) -> frozenset[str]:
    return frozenset({match_key(spec.header_ja), match_key(spec.header_en), match_key(spec.column)})


@cache
def _header_index(sheet: SheetSpec) -> dict[str, tuple[str, ...]]:
    """Map each spelling of a header to the columns it names, in declaration order."""
    index: dict[str, list[str]] = {}
    for spec in sheet.columns:
        for spelling in _spellings(spec):
            index.setdefault(spelling, []).append(spec.column)
    return {key: tuple(columns) for key, columns in index.items() if key}


def _header_row(grid: Grid, sheet: SheetSpec) -> tuple[int, dict[str, int]] | None:
    """Find the header row: the first row naming every required column."""
    required = [c.column for c in sheet.columns if c.required]
    index = _header_index(sheet)
    for r in range(grid.top, min(grid.n_rows, grid.top + _HEADER_SCAN_ROWS)):
        found: dict[str, int] = {}
        for c in range(grid.left, grid.n_cols):
            for column in index.get(_key(grid.cell(r, c)), ()):
                if column not in found:
                    found[column] = c
        if required and all(column in found for column in required):
            return r, found
    return None


def _table_rows(grid: Grid, header: int, columns: dict[str, int], sheet: SheetSpec) -> Iterator[Row]:
    inputs = [c.column for c in sheet.columns if c.type != "info" and c.column in columns]
    for r in range(header + 1, grid.n_rows):
        values = {col: grid.cell(r, columns[col]) for col in inputs}
        if all(_blank(v) for v in values.values()):
            continue
        yield Row(r, values, {col: cell_name(r, columns[col]) for col in inputs})


def parse_value(spec: ColumnSpec, value: object, codebook: Codebook) -> object:
    """Parse one cell by its declared type; ``None`` for an empty optional cell."""
    error = cell_error(value)
    if error is not None:
        raise InvalidValue(error)
    if _text(value) == "" and not isinstance(value, bool):
        if spec.required:
            raise InvalidValue.of("required_empty", column=_column(spec))
        return None
    kind = spec.type
    if kind == "id":
        return parse_respondent_id(value)
    if kind == "year":
        return parse_fiscal_year(value)
    if kind == "int":
        return parse_int(value)
    if kind == "bool":
        return parse_bool(value, codebook.true_words, codebook.false_words)
    if kind == "date":
        return parse_date(value).isoformat()
    if kind == "code":
        try:
            return codebook.lookup(spec.codelist, value)
        except InvalidValue as error:
            if spec.required:
                raise
            raise InvalidValue.of("or_leave_blank", reason=error.what) from None
    return _text(value)


def _parse_row(
    row: Row,
    sheet: SheetSpec,
    codebook: Codebook,
    parsed: ParsedWorkbook,
    grid: Grid,
) -> tuple[dict | None, int]:
    """Parse every declared column of a row and report bad cells.

    Returns the record (``None`` when a required cell failed) and the number of optional
    cells that failed: those are reported and left empty while the record still lands.
    """
    record: dict[str, object] = {}
    ok, bad_optional = True, 0
    for column, value in row.values.items():
        spec = sheet.column(column)
        if spec.personal:
            _keep_name(parsed, spec, value, _source(parsed, grid, row.cells[column]))
            continue  # read to be recognised, never kept
        try:
            record[column] = parse_value(spec, value, codebook)
        except InvalidValue as problem:
            parsed.error(grid.name, row.cells[column], problem.what)
            record[column] = None
            if spec.required:
                ok = False
            else:
                bad_optional += 1
    return (record if ok else None), bad_optional


def _keep_name(parsed: ParsedWorkbook, spec: ColumnSpec, value: object, source: str) -> None:
    """Remember a name (a personal cell) so that the ingest can take it out of free text.

    An error value or NaN is no name (it would otherwise be looked for in every statement)."""
    if _text(value) and cell_error(value) is None:
        parsed.names.append(FoundName(spec.column, _text(value), source))


def _count_cells(row: Row, sheet: SheetSpec) -> int:
    return sum(1 for col, v in row.values.items() if not _blank(v) and not sheet.column(col).personal)


def _source(parsed: ParsedWorkbook, grid: Grid, cell: str) -> str:
    return str(Source(parsed.file, grid.name, cell))


def _missing_sheet(book: RawWorkbook, sheet: SheetSpec) -> Message:
    present = tuple(n for n in book.sheets if n != META_SHEET)
    return Message.of("missing_sheet", sheet=_sheet(sheet), present=present)


def _sheet(sheet: SheetSpec) -> Text:
    """A sheet as messages name it: ``基本情報`` in Japanese, ``基本情報 (profile)`` in English."""
    return Text(sheet.name_ja, f"{sheet.name_ja} ({sheet.name_en})")


def _column(spec: ColumnSpec) -> Text:
    """A column as messages name it: ``回答者ID`` in Japanese, ``回答者ID (respondent_id)`` in English."""
    return Text(spec.header_ja, f"{spec.header_ja} ({spec.column})")


def _check_formulas(parsed: ParsedWorkbook, grid: Grid) -> set[str]:
    for cell in grid.formulas_without_value:
        parsed.error(grid.name, cell, Message.of("formula_no_value"))
    return set(grid.formulas_without_value)


def _read_table_sheet(
    book: RawWorkbook,
    sheet: SheetSpec,
    codebook: Codebook,
    parsed: ParsedWorkbook,
    handle: Callable[[Row, dict, Grid], bool],
    one_year: bool = True,
) -> bool:
    """Read a table sheet row by row, passing each parsed record to ``handle``.

    ``handle`` returns whether the record landed; the cells of a row that did not land are
    counted as reported (the handler has named the problem). With ``one_year``, rows of
    another fiscal year than the folder's are reported and kept out.
    """
    grid = _find_sheet(book, sheet)
    if grid is None:
        parsed.error(sheet.name_ja, "", _missing_sheet(book, sheet))
        return False
    found = _header_row(grid, sheet)
    if found is None:
        need = tuple(_column(c) for c in sheet.columns if c.required)
        parsed.error(grid.name, "", Message.of("no_header_row", columns=need))
        return False
    header, columns = found
    formula_cells = _check_formulas(parsed, grid)
    # One fiscal year per processed folder: rows of another year are kept out.
    folder_year = parsed.folder_year if one_year else None
    other_years: dict[int, list[str]] = {}
    for row in _table_rows(grid, header, columns, sheet):
        n_cells = _count_cells(row, sheet)
        parsed.cells_read += n_cells
        if formula_cells & set(row.cells.values()):
            parsed.cells_reported += n_cells
            continue
        record, bad_optional = _parse_row(row, sheet, codebook, parsed, grid)
        year = record.get("fiscal_year") if record is not None else None
        if folder_year is not None and year is not None and year != folder_year:
            other_years.setdefault(year, []).append(row.cells["fiscal_year"])
            parsed.cells_reported += n_cells
        elif record is None or not handle(row, record, grid):
            parsed.cells_reported += n_cells
        else:
            parsed.cells_reported += bad_optional
    for year, cells in sorted(other_years.items()):
        what = Message.of("rows_of_other_year", n=len(cells))
        others = tuple(cells[1:6]) + (("…",) if len(cells) > 6 else ())
        also = Message.of("also_at", cells=others) if others else ""
        parsed.error(grid.name, cells[0], _other_year(year, parsed.folder_year, what, also))
    return True


def _other_year(year: object, folder_year: int | None, what: Message, also: Message | str = "") -> Message:
    return Message.of("other_fiscal_year", year=str(year), folder_year=str(folder_year), what=what, also=also)


# -- instruments -------------------------------------------------------------------------------


@cache
@cache
def invalid_reason(codebook: Codebook) -> tuple[str, str]:
    """The missing reason (and its Japanese label) that the ingest gives a rejected answer: the
    one respondents cannot enter (``entered = false`` in ``edition.toml``)."""
    given = [code for code in codebook.missing_entries if not code.get("entered", True)]
    if len(given) != 1:
        raise ValueError(f"codebook {codebook.edition} must declare one missing reason with entered = false")
    return str(given[0]["reason"]), str(given[0]["label_ja"])


@cache
def _group_of(codebook: Codebook, instrument: str) -> str:
    """The respondent group of an instrument that one group answers (``instruments.csv``)."""
    instruments = codebook.instruments
    groups = str(instruments.loc[instruments["instrument"] == instrument, "respondent_groups"].iloc[0]).split(";")
    if len(groups) != 1:
        raise ValueError(f"instrument {instrument} must name one respondent group in instruments.csv, not {groups}")
    return groups[0]


@cache
def _directive_of(codebook: Codebook) -> dict[str, int]:
    """Question id to directive, in codebook order (the codebook is read-only, so this is kept)."""
    return {
        qid: int(directive)
        for qid, directive in zip(codebook.questions["question_id"], codebook.questions["directive"], strict=True)
    }


@dataclass(frozen=True)
class Fields:
    """A key/value sheet as read: parsed values and the cell of each, by column id."""

    sheet: str
    values: dict[str, object]
    cells: dict[str, str]


def _keyvalue_cells(grid: Grid, sheet: SheetSpec) -> dict[str, tuple[object, str]]:
    """Each declared field found on a key/value sheet: its raw value and cell, by column id.

    A row names a field in its first non-empty cell (the Japanese or English header, or the
    column id); the value sits right of it. A field named twice takes the lower row.
    """
    spellings = _header_index(sheet)
    found: dict[str, tuple[object, str]] = {}
    for r in range(grid.top, grid.n_rows):
        key = next((c for c in range(grid.left, grid.n_cols) if _text(grid.cell(r, c))), None)
        if key is None:
            continue
        for column in spellings.get(_key(grid.cell(r, key)), ()):
            found[column] = (grid.cell(r, key + 1), cell_name(r, key + 1))
    return found


def read_keyvalue_sheet(grid: Grid, sheet: SheetSpec, codebook: Codebook, parsed: ParsedWorkbook) -> Fields | None:
    """Read and parse every declared field of a key/value sheet.

    A required field that is absent, a formula without a value or invalid skips the whole
    workbook (``None``): nothing else in it could be attributed. A bad optional field is
    reported and left empty; a personal field is only remembered for redaction.
    """
    found = _keyvalue_cells(grid, sheet)
    formulas = _check_formulas(parsed, grid)
    fields = Fields(grid.name, {}, {})
    for spec in sheet.columns:
        if spec.column not in found:
            if spec.required:
                parsed.skip(grid.name, "", Message.of("no_field_row", column=_column(spec), sheet=grid.name))
                return None
            continue
        value, cell = found[spec.column]
        fields.cells[spec.column] = cell
        if spec.personal:
            _keep_name(parsed, spec, value, _source(parsed, grid, cell))
            continue  # read to be recognised, never kept
        ok, fields.values[spec.column] = _keyvalue_field(spec, value, cell, cell in formulas, codebook, parsed, grid)
        if not ok:
            return None
    return fields


def _keyvalue_field(
    spec: ColumnSpec,
    value: object,
    cell: str,
    formula: bool,
    codebook: Codebook,
    parsed: ParsedWorkbook,
    grid: Grid,
) -> tuple[bool, object]:
    """One field's parsed value; ``(False, None)`` when the workbook had to be skipped."""
    if not _blank(value):
        parsed.cells_read += 1
    if formula:
        problem = Message.of("value_is_formula")  # _check_formulas has reported it
    else:
        try:
            return True, parse_value(spec, value, codebook)
        except InvalidValue as error:
            problem = error.what
            if not spec.required:
                parsed.error(grid.name, cell, problem)
    if spec.required:
        parsed.skip(grid.name, cell, Message.of("workbook_unusable", reason=problem))
        return False, None
    parsed.cells_reported += 1
    return True, None


def _sheets_or_skip(book: RawWorkbook, specs: tuple[SheetSpec, ...], parsed: ParsedWorkbook) -> list[Grid] | None:
    """The grids of every declared sheet; ``None`` (the workbook skipped) when one is missing."""
    grids = []
    for spec in specs:
        grid = _find_sheet(book, spec)
        if grid is None:
            parsed.skip(spec.name_ja, "", _missing_sheet(book, spec))
            return None
        grids.append(grid)
    return grids


def _parse_self_assessment(book: RawWorkbook, codebook: Codebook, parsed: ParsedWorkbook) -> None:
    profile_spec, answers_spec = codebook.instrument_sheets("self_assessment")
    grids = _sheets_or_skip(book, (profile_spec, answers_spec), parsed)
    if grids is None:
        return
    profile = read_keyvalue_sheet(grids[0], profile_spec, codebook, parsed)
    if profile is None:
        return
    year = profile.values["fiscal_year"]
    if parsed.folder_year is not None and year != parsed.folder_year:
        what = Message.of("workbook_answers")
        parsed.skip(profile.sheet, profile.cells["fiscal_year"], _other_year(year, parsed.folder_year, what))
        return
    parsed.add(
        "respondents",
        {
            "respondent_id": profile.values["respondent_id"],
            "group": _group_of(codebook, "self_assessment"),
            "fiscal_year": year,
            "industry": profile.values.get("industry"),
            "size_band": profile.values.get("size_band"),
            "source": _source(parsed, grids[0], profile.cells["respondent_id"]),
            YEAR_SOURCE: _source(parsed, grids[0], profile.cells["fiscal_year"]),
            PRECEDENCE: 0,
        },
    )
    directive_of = _directive_of(codebook)
    # One list per column, filled as the grid is read (the table's shape: see ParsedWorkbook.seal).
    qids, scores, reasons, sources = [], [], [], []
    for qid, score, reason, where in read_answer_grid(grids[1], answers_spec, codebook, parsed):
        qids.append(qid)
        scores.append(score)
        reasons.append(reason)
        sources.append(where)
    if qids:
        n = len(qids)
        parsed.add_columns(
            "self_assessment",
            {
                "respondent_id": [profile.values["respondent_id"]] * n,
                "fiscal_year": [year] * n,
                "edition": [codebook.edition] * n,
                "directive": [directive_of[qid] for qid in qids],
                "question_id": qids,
                "score": scores,
                "missing_reason": reasons,
                "source": sources,
            },
        )


def read_answer_grid(
    grid: Grid, sheet: SheetSpec, codebook: Codebook, parsed: ParsedWorkbook
) -> Iterator[tuple[str, int | None, str | None, str]]:
    """Read an answer grid: one row per code of a code list, answered on the codebook's scale.

    The sheet's row key is its first required ``code`` column (e.g. 設問ID from ``questions``)
    and its answer the ``scale`` column. Yields ``(code, score, missing_reason, source)`` per
    answered or blank row; a row with an unknown or repeated code is reported and left out,
    an answer that cannot be read is reported and kept as invalid (:func:`invalid_reason`). Codes with no
    row are named in one warning.
    """
    rows = _AnswerRows(grid, next(c for c in sheet.columns if c.type == "code" and c.required), codebook, parsed)
    answer_spec = next(c for c in sheet.columns if c.type == "scale")
    found = _header_row(grid, sheet)
    if found is None:
        parsed.skip(grid.name, "", Message.of("no_header_row", columns=(_column(rows.key), _column(answer_spec))))
        return
    header, columns = found
    if answer_spec.column not in columns:
        parsed.skip(grid.name, "", Message.of("no_answer_column", column=_column(answer_spec)))
        return
    formulas = _check_formulas(parsed, grid)
    # The hot loop of a large ingest (one pass per row): cells are taken from the row lists
    # directly and cell names built from precomputed column letters.
    key_col, answer_col = columns[rows.key.column] - grid.left, columns[answer_spec.column] - grid.left
    key_letters = cell_name(0, columns[rows.key.column])[:-1]
    answer_letters = cell_name(0, columns[answer_spec.column])[:-1]
    source_prefix = _source(parsed, grid, "")  # a source ends with its cell
    # Rows that read cleanly, by their two values (and types: 1, 1.0 and True differ): the same
    # question and answer come back in workbook after workbook, and reading them is pure.
    clean = _clean_rows(codebook, rows.key.codelist)
    seen = rows.seen
    for r in range(header + 1, grid.n_rows):
        row = grid.rows[r - grid.top]
        key_raw = row[key_col] if 0 <= key_col < len(row) else ""
        answer = row[answer_col] if 0 <= answer_col < len(row) else ""
        answer_cell = f"{answer_letters}{r + 1}"
        values = (type(key_raw), key_raw, type(answer), answer)
        known = clean.get(values)
        if known is not None and known[0] not in seen and answer_cell not in formulas:
            code, score, reason = known
            parsed.cells_read += 2
            seen[code] = f"{key_letters}{r + 1}"
            yield code, score, reason, source_prefix + answer_cell
            continue
        problems, reported = len(parsed.problems), parsed.cells_reported
        code = rows.code(key_raw, f"{key_letters}{r + 1}", answer, answer_cell)
        if code is not None:
            score, reason = rows.score(answer, answer_cell, answer_cell in formulas)
            if len(parsed.problems) == problems and parsed.cells_reported == reported and len(clean) < _CLEAN_ROWS:
                clean[values] = (code, score, reason)
            yield code, score, reason, source_prefix + answer_cell
    rows.warn_absent()


_CLEAN_ROWS = 4096  # per code list: questions × the spellings of answers seen


@cache
def _clean_rows(codebook: Codebook, codelist: str) -> dict[tuple, tuple[str, int | None, str | None]]:
    """The remembered clean rows of an answer grid keyed by ``codelist`` (see :func:`read_answer_grid`)."""
    return {}


@dataclass
class _AnswerRows:
    """The rows of one answer grid as they are read: its key column and the codes seen."""

    grid: Grid
    key: ColumnSpec
    codebook: Codebook
    parsed: ParsedWorkbook
    seen: dict[str, str] = field(default_factory=dict)

    def code(self, raw: object, cell: str, answer: object, answer_cell: str) -> str | None:
        """The row's code, or ``None`` when the row is blank, unknown or repeated (reported, and
        its cells counted as reported)."""
        parsed, sheet = self.parsed, self.grid.name
        if _blank(raw):
            if not _blank(answer):
                parsed.cells_read += 1
                parsed.cells_reported += 1
                parsed.error(sheet, answer_cell, Message.of("answer_without_key", column=_column(self.key)))
            return None
        # The key and the answer cell are read; a blank answer is data (unanswered).
        parsed.cells_read += 2
        try:
            code = self.codebook.lookup(self.key.codelist, raw)
        except InvalidValue as problem:
            column = Text(self.key.header_ja, self.key.header_en.lower())
            parsed.error(sheet, cell, cell_error(raw) or Message.of("unknown_key", column=column, reason=problem.what))
            parsed.cells_reported += 2
            return None
        if code in self.seen:
            first = self.seen[code]
            parsed.error(sheet, cell, Message.of("key_twice", column=self.key.header_ja, code=code, first=first))
            parsed.cells_reported += 2
            return None
        self.seen[code] = cell
        return code

    def score(self, answer: object, cell: str, formula: bool) -> tuple[int | None, str | None]:
        """An answer on the codebook's scale as ``(score, missing_reason)``.

        A rejected answer is reported and kept as missing (reason invalid): it must not vanish,
        and a level it could change must not look complete.
        """
        error = cell_error(answer)
        invalid, label = invalid_reason(self.codebook)
        if formula:
            score, reason = None, invalid  # _check_formulas has reported it
        elif error is not None:
            self.parsed.error(self.grid.name, cell, error)
            score, reason = None, invalid
        else:
            try:
                score, reason = self.codebook.parse_score(answer)
            except InvalidValue as problem:
                self.parsed.error(self.grid.name, cell, Message.of("kept_invalid", reason=problem.what, label=label))
                score, reason = None, invalid
        if reason == invalid:
            self.parsed.cells_reported += 1
        return score, reason

    def warn_absent(self) -> None:
        """One warning naming the codes that have no row."""
        absent = [code for code in _codes(self.codebook, self.key.codelist) if code not in self.seen]
        if absent:
            codes = tuple(absent[:10]) + (("…",) if len(absent) > 10 else ())
            column = Text(self.key.header_ja, self.key.header_en.lower())
            self.parsed.warning(
                self.grid.name, "", Message.of("keys_absent", n=len(absent), column=column, codes=codes)
            )


@cache
def _codes(codebook: Codebook, codelist: str) -> tuple[str, ...]:
    """The codes of code list ``codelist``, in codebook order."""
    key = codebook.codelist_key(codelist)
    return tuple(str(code) for code in codebook.codelist(codelist)[key])


@dataclass(frozen=True)
class _Question:
    """A pre-survey question as its answers are read: kind, topic and options by spelling."""

    kind: str  # "single", "multiple" or "text"
    topic: int
    options: dict[str, int]  # match keys of each option's code and labels -> code
    allowed: tuple[str, ...]  # ("1=活用している", "2=…") for messages


@cache
def _presurvey_questions(codebook: Codebook) -> dict[str, _Question]:
    """Every pre-survey question of the codebook, by id (the codebook is read-only, so this is kept)."""
    options = codebook.table("presurvey_options")
    by_question: dict[str, list[tuple[int, str, str]]] = {}
    for qid, code, ja, en in zip(
        options["question_id"], options["code"], options["label_ja"], options["label_en"], strict=True
    ):
        by_question.setdefault(str(qid), []).append((int(code), str(ja), str(en)))
    questions = codebook.table("presurvey_questions")
    found = {}
    for qid, kind, topic in zip(questions["question_id"], questions["kind"], questions["topic"], strict=True):
        listed = by_question.get(str(qid), [])
        index = {_key(label): code for code, ja, en in listed for label in (ja, en)}
        index.update({_key(code): code for code, _, _ in listed})  # a code wins over a clashing label
        allowed = tuple(f"{code}={ja}" for code, ja, _ in listed)
        found[str(qid)] = _Question(str(kind), int(topic), index, allowed)
    return found


def _option_codes(raw: object, question: _Question) -> list[int] | None:
    """The option codes an answer names, in order without repeats; ``None`` when it names an
    unknown option, none at all (``";"``) or, for a single-choice question, more than one."""
    parts = split_codes(raw) if question.kind == "multiple" else [_text(raw)]
    codes = []
    for part in parts:
        code = question.options.get(_key(part))
        if code is None:
            try:
                code = question.options.get(_key(parse_int(part)))  # "1.0", "１"
            except InvalidValue:
                return None
        if code is None:
            return None
        codes.append(code)
    codes = list(dict.fromkeys(codes))
    return codes if codes and (question.kind != "single" or len(codes) == 1) else None


def _parse_presurvey(book: RawWorkbook, codebook: Codebook, parsed: ParsedWorkbook) -> None:
    (sheet,) = codebook.instrument_sheets("presurvey")
    questions = _presurvey_questions(codebook)
    missing = codebook.missing_index()
    invalid, label = invalid_reason(codebook)
    seen: dict[tuple, str] = {}

    def handle(row: Row, record: dict, grid: Grid) -> bool:
        qid = record["question_id"]
        key = (record["respondent_id"], record["fiscal_year"], qid)
        if key in seen:
            first = seen[key]
            message = Message.of("answered_twice", respondent=key[0], question=qid, year=key[1], first=first)
            parsed.error(grid.name, row.cells["question_id"], message)
            return False
        seen[key] = row.cells["question_id"]
        question, cell = questions[qid], row.cells.get("answer", row.cells["question_id"])
        base = {
            "respondent_id": record["respondent_id"],
            "fiscal_year": record["fiscal_year"],
            "edition": codebook.edition,
            "topic": question.topic,
            "question_id": qid,
            "kind": question.kind,
            "option_code": None,
            "answer_text": None,
            "missing_reason": None,
            "source": _source(parsed, grid, cell),
            YEAR_SOURCE: _source(parsed, grid, row.cells["fiscal_year"]),
        }
        raw = row.values.get("answer", "")
        key_text = _key(raw)
        if key_text == "" and cell_error(raw) is None:
            parsed.cells_read += 1  # a blank answer on a question row is data: unanswered
        if cell_error(raw) is not None:
            # _parse_row has reported the cell (and counts it as reported): kept as invalid.
            answers = [{"missing_reason": invalid}]
        elif key_text in missing:
            answers = [{"missing_reason": missing[key_text]}]
        elif question.kind == "text":
            answers = [{"answer_text": _text(raw)}]
        else:
            codes = _option_codes(raw, question)
            if codes is None:
                how = "expects_one_option" if question.kind == "single" else "expects_options"
                message = Message.of(how, question=qid, allowed=question.allowed, value=repr(_text(raw)))
                parsed.error(grid.name, cell, Message.of("kept_invalid", reason=message, label=label))
                parsed.cells_reported += 1
            answers = [{"option_code": code} for code in codes] if codes is not None else [{"missing_reason": invalid}]
        for answer in answers:
            parsed.add("presurvey", {**base, **answer})
        return True

    _read_table_sheet(book, sheet, codebook, parsed, handle)
    _mark_eligible(codebook, parsed)


def _mark_eligible(codebook: Codebook, parsed: ParsedWorkbook) -> None:
    """Set each pre-survey record's ``eligible``: whether its respondent is asked the question.

    A filtered question's eligibility comes from the same respondent's answer to the filter
    question in this workbook: ``True`` or ``False``, or ``None`` (unknown) when that answer is
    missing, rejected or in another file (the ingest then decides from the other files:
    :func:`analysis.ingest.folder.assemble`); the cross-tabulations count unknown as eligible. An
    answer given by a respondent who is not asked the question is kept, marked ``False`` (out
    of the percentages) and warned about once at its cell.
    """
    records = parsed.records.get("presurvey", [])
    filters = codebook.filters
    chosen = chosen_codes(
        ((r["respondent_id"], r["fiscal_year"], r["question_id"], r["option_code"]) for r in records),
        {rule.on for rule in filters.values()},
    )
    warned: set[str] = set()
    for record in records:
        rule = filters.get(record["question_id"])
        if rule is None:
            record["eligible"] = True
            continue
        codes = chosen.get((record["respondent_id"], record["fiscal_year"], rule.on))
        record["eligible"] = rule.asks(codes or ())
        answered = record["option_code"] is not None or record["answer_text"] is not None
        if record["eligible"] is not False or not answered or record["source"] in warned:
            continue
        warned.add(record["source"])
        assert codes is not None  # not eligible: the filter question was answered
        where = Source.parse(record["source"])
        parsed.warning(where.sheet, where.cell, against_filter(codebook, rule, record["respondent_id"], codes))


def against_filter(codebook: Codebook, rule: QuestionFilter, respondent: object, codes: Sequence[int]) -> Message:
    """The warning for an answer to ``rule.question`` from a respondent whose answer ``codes`` to
    the filter question means it was not asked."""
    answer = Text(
        "".join(f"「{c}={option_label(codebook, rule.on, c, 'ja')}」" for c in codes),
        " and ".join(f"{c} ({option_label(codebook, rule.on, c, 'en')})" for c in codes),
    )
    return Message.of(
        "answered_against_filter",
        respondent=str(respondent),
        question=rule.question,
        on=rule.on,
        answer=answer,
        asked=Text(rule.describe(codebook, "ja"), rule.describe(codebook, "en")),
    )


def _parse_roster(book: RawWorkbook, codebook: Codebook, parsed: ParsedWorkbook) -> None:
    (sheet,) = codebook.instrument_sheets("roster")

    def handle(row: Row, record: dict, grid: Grid) -> bool:
        parsed.add(
            "respondents",
            {
                "respondent_id": record["respondent_id"],
                "group": record["group"],
                "fiscal_year": record["fiscal_year"],
                "industry": record.get("industry"),
                "size_band": record.get("size_band"),
                "description": record.get("description"),
                "n_interviewees": record.get("n_interviewees"),
                "source": _source(parsed, grid, row.cells["respondent_id"]),
                YEAR_SOURCE: _source(parsed, grid, row.cells["fiscal_year"]),
                PRECEDENCE: 2,
            },
        )
        return True

    _read_table_sheet(book, sheet, codebook, parsed, handle)


def _parse_statements(book: RawWorkbook, codebook: Codebook, parsed: ParsedWorkbook) -> None:
    (sheet,) = codebook.instrument_sheets("statements")
    # Looked up per statement: a dict, not a row selection of the codebook table each time.
    table = codebook.table("statement_categories")
    categories = {
        str(c): (g, s, str(label))
        for c, g, s, label in zip(
            table["category_id"], table["respondent_group"], table["section"], table["label_ja"], strict=True
        )
    }
    sections = codebook.table("statement_sections")
    known_sections = set(zip(sections["respondent_group"], sections["section"], strict=True))
    counter: dict[tuple, int] = {}

    def handle(row: Row, record: dict, grid: Grid) -> bool:
        group, section, category = record["group"], record["section"], record["category"]
        if (group, section) not in known_sections:
            parsed.error(
                grid.name, row.cells["section"], Message.of("section_not_in_frame", section=section, group=group)
            )
            return False
        its_group, its_section, label = categories[category]
        if (its_group, int(its_section)) != (group, section):
            message = Message.of(
                "category_elsewhere",
                category=category,
                label=label,
                its_group=str(its_group),
                its_section=str(its_section),
                group=group,
                section=section,
            )
            parsed.error(grid.name, row.cells["category"], message)
            return False
        key = (record["respondent_id"], record["fiscal_year"])
        counter[key] = counter.get(key, 0) + 1
        parsed.add(
            "statements",
            {
                "respondent_id": record["respondent_id"],
                "fiscal_year": record["fiscal_year"],
                "respondent_group": group,
                "section": section,
                "category_id": category,
                "maturity": record.get("maturity"),
                "text": record["text"],
                "source": _source(parsed, grid, row.cells["text"]),
                YEAR_SOURCE: _source(parsed, grid, row.cells["fiscal_year"]),
            },
        )
        return True

    _read_table_sheet(book, sheet, codebook, parsed, handle)


def _parse_disclosures(book: RawWorkbook, codebook: Codebook, parsed: ParsedWorkbook) -> None:
    companies_spec, disclosures_spec = codebook.instrument_sheets("disclosures")
    countries = codebook.table("countries")
    region_of = dict(zip(countries["country"], countries["region"], strict=True))
    companies: dict[str, dict] = {}

    def company(row: Row, record: dict, grid: Grid) -> bool:
        cid = record["company_id"]
        if cid in companies:
            parsed.error(grid.name, row.cells["company_id"], Message.of("company_twice", company=cid))
            return False
        expected_region = region_of[record["country"]]
        if expected_region != record["region"]:
            message = Message.of(
                "region_mismatch", region=record["region"], country=record["country"], expected=str(expected_region)
            )
            parsed.warning(grid.name, row.cells["region"], message)
        peers = split_codes(record.get("peer_id") or "")
        companies[cid] = {
            "region": record["region"],
            "country": record["country"],
            "industry": record.get("industry"),
            "large_cap": record.get("large_cap"),
            "peer_ids": ";".join(p.upper() for p in peers) or None,
            "source": _source(parsed, grid, row.cells["company_id"]),
        }
        return True

    if not _read_table_sheet(book, companies_spec, codebook, parsed, company):
        return
    seen: dict[tuple, str] = {}
    years: dict[str, set[int]] = {}

    def disclosure(row: Row, record: dict, grid: Grid) -> bool:
        cid = record["company_id"]
        if cid not in companies:
            message = Message.of("company_not_listed", company=cid, sheet=companies_spec.name_ja)
            parsed.error(grid.name, row.cells["company_id"], message)
            return False
        key = (cid, record["fiscal_year"], record["item"])
        if key in seen:
            message = Message.of("coded_twice", company=cid, year=key[1], item=key[2], first=seen[key])
            parsed.error(grid.name, row.cells["item"], message)
            return False
        seen[key] = row.cells["item"]
        years.setdefault(cid, set()).add(record["fiscal_year"])
        info = companies[cid]
        parsed.add(
            "disclosures",
            {
                "company_id": cid,
                "fiscal_year": record["fiscal_year"],
                "region": info["region"],
                "country": info["country"],
                "industry": info["industry"],
                "peer_ids": info["peer_ids"],
                "large_cap": info["large_cap"],
                "item": record["item"],
                "disclosed": record["disclosed"],
                "venue": record.get("venue"),
                "basis": record.get("basis"),
                "sustainability": record.get("sustainability"),
                "note": record.get("note"),
                "source": _source(parsed, grid, row.cells["disclosed"]),
            },
        )
        return True

    # The disclosure coding records several years of each company by design.
    _read_table_sheet(book, disclosures_spec, codebook, parsed, disclosure, one_year=False)
    for cid, info in companies.items():
        for year in sorted(years.get(cid, ())):
            parsed.add(
                "respondents",
                {
                    "respondent_id": cid,
                    "group": _group_of(codebook, "disclosures"),
                    "fiscal_year": year,
                    "industry": info["industry"],
                    "region": info["region"],
                    "country": info["country"],
                    "source": info["source"],
                    PRECEDENCE: 1,
                },
            )


def _parse_simple(table: str) -> Callable[[RawWorkbook, Codebook, ParsedWorkbook], None]:
    def parse(book: RawWorkbook, codebook: Codebook, parsed: ParsedWorkbook) -> None:
        (sheet,) = codebook.instrument_sheets(table)
        first = sheet.columns[0].column

        def handle(row: Row, record: dict, grid: Grid) -> bool:
            parsed.add(table, {**record, "source": _source(parsed, grid, row.cells[first])})
            return True

        _read_table_sheet(book, sheet, codebook, parsed, handle)

    return parse


PARSERS: dict[str, Callable[[RawWorkbook, Codebook, ParsedWorkbook], None]] = {
    "self_assessment": _parse_self_assessment,
    "presurvey": _parse_presurvey,
    "roster": _parse_roster,
    "statements": _parse_statements,
    "disclosures": _parse_disclosures,
    "meetings": _parse_simple("meetings"),
    "literature": _parse_simple("literature"),
}


def parse_workbook(
    book: RawWorkbook, codebook: Codebook, folder_year: int | None = None, file: str | None = None
) -> ParsedWorkbook:
    """Identify, validate and normalise one workbook against ``codebook``.

    With ``folder_year``, rows and workbooks of another fiscal year are reported at their year
    cell and kept out (one year per processed folder). ``file`` names the workbook in sources
    and problems (the ingest gives its path under the raw folder; default: the file's name).
    """
    parsed = ParsedWorkbook(file=file or book.file, folder_year=folder_year)
    edition, cell = read_meta(book).get(STAMP_EDITION, ("", ""))
    if edition and edition != codebook.edition:
        parsed.cells_read = _count_all_cells(book)
        return parsed.skip(
            META_SHEET,
            cell,
            Message.of("other_edition", edition=edition, ingest_edition=codebook.edition),
        )
    instrument = identify_instrument(book, codebook)
    if instrument is None:
        sheets = tuple(n for n in book.sheets if n != META_SHEET) or Text("なし", "none")
        parsed.cells_read = _count_all_cells(book)
        return parsed.skip("", "", Message.of("no_instrument", sheets=sheets, example=_example_sheets(codebook)))
    parsed.instrument = instrument
    parsed.edition = edition or codebook.edition
    PARSERS[instrument](book, codebook, parsed)
    if parsed.skipped:
        # Nothing of a rejected workbook lands: every cell in it is accounted as reported.
        parsed.cells_read = parsed.cells_reported = max(parsed.cells_read, _count_all_cells(book))
    return parsed


def _example_sheets(codebook: Codebook) -> Message:
    """``e.g. 基本情報 and 回答 for the サイバーセキュリティ経営 自己評価票``: the first instrument's sheets."""
    instrument = codebook.instruments.iloc[0]
    names = tuple(spec.name_ja for spec in codebook.instrument_sheets(instrument["instrument"]))
    title = Text(str(instrument["title_ja"]), f"{instrument['title_ja']} ({instrument['title_en']})")
    return Message.of("example_sheets", sheets=names, title=title)


_NOT_DATA_SHEETS = frozenset(match_key(name) for name in INSTRUCTIONS_SHEET.values())


@dataclass(frozen=True)
class UnusedSheets:
    """Tells which sheets :func:`parse_workbook` never looks into (it only needs their names).

    Hidden ``_`` sheets other than ``_meta`` (dropdown lists) and the instructions sheet are
    neither validated nor counted; a reader may list them without parsing their cells, which
    saves about a third of the parse of a template workbook and changes nothing here.
    """

    wanted: frozenset[str]  # match keys of every instrument sheet name, which are always read

    def __call__(self, name: str) -> bool:
        if name == META_SHEET or _key(name) in self.wanted:
            return False
        return name.startswith("_") or _key(name) in _NOT_DATA_SHEETS


def unused_sheets(codebook: Codebook) -> UnusedSheets:
    """The :class:`UnusedSheets` of ``codebook``'s instruments."""
    return UnusedSheets(
        frozenset(
            key
            for sheets in codebook.sheets.values()
            for spec in sheets
            for key in (match_key(spec.name_ja), match_key(spec.name_en), match_key(spec.sheet))
        )
    )


def _count_all_cells(book: RawWorkbook) -> int:
    """Non-empty cells of a workbook's data sheets (hidden ``_`` sheets and instructions excluded)."""
    return sum(
        1
        for name, grid in book.sheets.items()
        if not name.startswith("_") and _key(name) not in _NOT_DATA_SHEETS
        for row in grid.rows
        for v in row
        if not _blank(v)
    )
