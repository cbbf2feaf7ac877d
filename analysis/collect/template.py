"""Data-collection workbooks built from the codebook: blank templates and filled copies.

:func:`build_workbook` returns an in-memory openpyxl workbook; :func:`write_templates` is the
file-system edge. The sample generator fills the same workbooks, so a template, a sample
file and a real returned questionnaire all go through one ingest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from analysis import __version__
from analysis.codebook import Codebook, ColumnSpec, SheetSpec, entered_missing
from analysis.codebook.filters import QuestionFilter
from analysis.collect.layout import INSTRUCTIONS_SHEET, LISTS_SHEET, META_SHEET, STAMP_EDITION, STAMP_INSTRUMENT
from analysis.ingest.normalise import japanese_fiscal_year
from analysis.output.atomic import atomic_write_bytes

__all__ = [
    "build_workbook",
    "edition_year",
    "help_text",
    "study_title",
    "template_filename",
    "workbook_bytes",
    "write_templates",
]

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_INFO_FILL = PatternFill("solid", fgColor="F2F2F2")
_BOLD = Font(bold=True)
_BLANK_ROWS = 500  # rows of a long sheet that carry dropdown validation


def edition_year(codebook: Codebook) -> int | None:
    """The fiscal year an edition was written for (``fy2021`` -> 2021): a template's default year."""
    found = re.search(r"(\d{4})", codebook.edition)
    return int(found.group(1)) if found else None


def template_filename(codebook: Codebook, instrument: str, year: int | None = None) -> str:
    """File name of the blank workbook of ``instrument`` for study ``year`` (default: the
    edition's year), e.g. ``self_assessment_2022.xlsx``; the edition is kept inside the file."""
    year = year if year is not None else edition_year(codebook)
    return f"{instrument}_{year}.xlsx" if year is not None else f"{instrument}.xlsx"


def _year_text(year: int | None, lang: str) -> str:
    if year is None:
        return ""
    return japanese_fiscal_year(year) if lang == "ja" else f"FY{year}"


def study_title(codebook: Codebook, year: int | None, lang: str = "ja") -> str:
    """The study's title stamped with ``year`` (「サイバーセキュリティ経営に関する調査 (令和4年度)」):
    the edition's title with its own year in brackets replaced."""
    title = re.sub(r"\s*[((][^()()]*(?:令和|平成|FY|\d{4})[^()()]*[))]\s*$", "", codebook.title(lang))
    stamp = _year_text(year, lang)
    return f"{title} ({stamp})" if stamp else title


def help_text(spec: ColumnSpec, lang: str, year: int | None) -> str:
    """A column's help text in ``lang``, with the study year's forms filled in."""
    text = spec.description_ja if lang == "ja" else spec.description_en
    if year is None or "{" not in text:
        return text
    return (
        text.replace("{year}", str(year))
        .replace("{wareki}", japanese_fiscal_year(year))
        .replace("{reiwa}", str(max(year - 2018, 1)))
    )


def _header(spec: ColumnSpec, lang: str) -> str:
    return spec.header_ja if lang == "ja" else spec.header_en


def _sheet_name(spec: SheetSpec, lang: str) -> str:
    return spec.name_ja if lang == "ja" else spec.name_en


def _word(words: list[str], lang: str) -> str:
    """The codebook's first yes/no word in ``lang`` (ASCII for English)."""
    return next((w for w in words if w.isascii() == (lang == "en")), words[0])


def _choices(codebook: Codebook, spec: ColumnSpec, lang: str) -> list[str]:
    """Dropdown entries for a coded column: labels where they name each code once, else codes.

    The ingest maps either back to the code. Lists without labels (question ids) or whose
    labels repeat (categories called 全般 in several sections) offer their codes.
    """
    if spec.type == "scale":
        levels = list(codebook.scale_labels(lang))
        missing = [m[f"label_{lang}"] for m in entered_missing(codebook) if m["reason"] != "unanswered"]
        return levels + missing
    if spec.type == "bool":
        return [_word(codebook.true_words, lang), _word(codebook.false_words, lang)]
    if spec.type == "code" and spec.codelist:
        frame = codebook.codelist(spec.codelist)
        labels = frame.get(f"label_{lang}")
        if labels is not None and labels.ne("").all() and labels.is_unique:
            return [str(v) for v in labels]
        return [str(v) for v in frame[codebook.codelist_key(spec.codelist)]]
    return []


class _Lists:
    """Collects dropdown sources on a hidden sheet (long lists do not fit in a formula)."""

    def __init__(self, book: Workbook) -> None:
        self.sheet = book.create_sheet(LISTS_SHEET)
        self.sheet.sheet_state = "hidden"
        self.next_col = 1
        self.cache: dict[tuple[str, ...], str] = {}

    def ref(self, values: Sequence[str]) -> str:
        key = tuple(values)
        if key not in self.cache:
            col = get_column_letter(self.next_col)
            for i, value in enumerate(values, start=1):
                self.sheet.cell(row=i, column=self.next_col, value=value).data_type = "s"
            self.cache[key] = f"'{LISTS_SHEET}'!${col}$1:${col}${len(values)}"
            self.next_col += 1
        return self.cache[key]


def _validate(ws: Worksheet, lists: _Lists, values: Sequence[str], cells: str, lang: str) -> None:
    if not values:
        return
    dv = DataValidation(type="list", formula1=lists.ref(values), allow_blank=True)
    # A warning, not a stop: typing the level number (4) or a code is also accepted.
    dv.errorStyle = "warning"
    dv.error = "一覧にない値です。番号やコードなら、そのまま続行できます。" if lang == "ja" else "Not in the list."
    ws.add_data_validation(dv)
    dv.add(cells)


def _set_text(ws: Worksheet, row: int, col: int, value: object) -> None:
    # openpyxl's stubs accept only their own union of cell values; any value the codebook holds is one.
    cell = ws.cell(row=row, column=col, value=value)  # pyright: ignore[reportCallIssue, reportArgumentType]
    if isinstance(value, str):
        cell.data_type = "s"  # never let a respondent's text become a formula


def _asked_of(codebook: Codebook, question: str, lang: str, rule: QuestionFilter | None = None) -> str:
    """Who answers ``question``, as the instructions and the question list tell the respondent."""
    rule = rule if rule is not None else codebook.filters.get(question)
    if rule is None:
        return "全員" if lang == "ja" else "everyone"
    if lang == "ja":
        return f"{rule.describe(codebook, 'ja')}のみ回答してください。それ以外の方は空欄のままにしてください。"
    return f"Only for {rule.describe(codebook, 'en')}; everyone else leaves it blank."


def _write_instructions(ws: Worksheet, codebook: Codebook, instrument: str, lang: str, year: int | None = None) -> None:
    info = codebook.instruments.set_index("instrument").loc[instrument]
    title = info["title_ja"] if lang == "ja" else info["title_en"]
    stamp = _year_text(year, lang)
    ws.append([f"{title} ({stamp})" if stamp else title])
    ws["A1"].font = Font(bold=True, size=14)
    edition = f"調査票の版 {codebook.edition}" if lang == "ja" else f"edition {codebook.edition}"
    ws.append([f"{study_title(codebook, year, lang)} / {edition}"])
    description = info.get("description_ja", "") if lang == "ja" else info["description_en"]
    ws.append([description if isinstance(description, str) else ""])
    ws.append([])
    if lang == "ja":
        ws.append(["記入方法: 色付きの見出しの下に記入してください。見出し・シート名は変更しないでください。"])
        ws.append(["企業名・氏名は研究チーム内の照合用で、集計データや報告書には出力されません。"])
    else:
        ws.append(["Fill in below the coloured headers. Do not rename headers or sheets."])
        ws.append(["Company and person names are for the research team only; they never reach processed data."])
    ws.append([])
    ws.append(
        [
            "シート" if lang == "ja" else "Sheet",
            "項目" if lang == "ja" else "Field",
            "必須" if lang == "ja" else "Required",
            "説明" if lang == "ja" else "Description",
        ]
    )
    for cell in ws[ws.max_row]:
        cell.font = _BOLD
    for spec in codebook.instrument_sheets(instrument):
        for col in spec.columns:
            ws.append(
                [_sheet_name(spec, lang), _header(col, lang), "○" if col.required else "", help_text(col, lang, year)]
            )
    if instrument == "presurvey" and codebook.filters:
        ws.append([])
        ws.append(["回答対象が限られる設問" if lang == "ja" else "Questions asked of some respondents only"])
        ws[ws.max_row][0].font = _BOLD
        for question, rule in codebook.filters.items():
            ws.append([question, None, None, _asked_of(codebook, question, lang, rule)])
    if any(c.type == "scale" for s in codebook.instrument_sheets(instrument) for c in s.columns):
        ws.append([])
        ws.append(["回答の尺度" if lang == "ja" else "Answer scale"])
        for value, label in zip(codebook.scale_values, codebook.scale_labels(lang), strict=True):
            ws.append([value, label])
        for code in entered_missing(codebook):
            # the reason's id (not_applicable) is English: only the English template shows it
            ws.append(["", code[f"label_{lang}"]] + ([code["reason"]] if lang == "en" else []))
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 28
    ws.column_dimensions["D"].width = 80


def _write_keyvalue(
    ws: Worksheet,
    spec: SheetSpec,
    codebook: Codebook,
    lang: str,
    lists: _Lists,
    values: Mapping[str, object] | None,
    year: int | None = None,
) -> None:
    ws.append(
        [
            "項目" if lang == "ja" else "Field",
            "回答" if lang == "ja" else "Value",
            "説明" if lang == "ja" else "Description",
        ]
    )
    for cell in ws[1]:
        cell.font, cell.fill = _BOLD, _HEADER_FILL
    for i, col in enumerate(spec.columns, start=2):
        _set_text(ws, i, 1, _header(col, lang))
        _set_text(ws, i, 2, (values or {}).get(col.column))
        _set_text(ws, i, 3, help_text(col, lang, year))
        _validate(ws, lists, _choices(codebook, col, lang), f"B{i}", lang)
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 60


def _write_table(
    ws: Worksheet, spec: SheetSpec, codebook: Codebook, lang: str, lists: _Lists, rows: Sequence[Mapping[str, object]]
) -> None:
    headers = [_header(c, lang) for c in spec.columns]
    ws.append(headers)
    for cell in ws[1]:
        cell.font, cell.fill = _BOLD, _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r, record in enumerate(rows, start=2):
        for c, col in enumerate(spec.columns, start=1):
            _set_text(ws, r, c, record.get(col.column))
            if col.type == "info":
                ws.cell(row=r, column=c).fill = _INFO_FILL
    last = max(len(rows) + 1, _BLANK_ROWS)
    for c, col in enumerate(spec.columns, start=1):
        letter = get_column_letter(c)
        _validate(ws, lists, _choices(codebook, col, lang), f"{letter}2:{letter}{last}", lang)
        width = (
            60
            if col.type in ("info", "text") and col.column in ("question", "text", "topics", "title")
            else max(12, min(40, 2 * len(_header(col, lang)) + 4))
        )
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"


def _prefilled_rows(codebook: Codebook, spec: SheetSpec, lang: str) -> list[dict]:
    """Rows the blank template already holds: on an answer grid keyed by the questions (a sheet
    with a ``scale`` column whose first required code comes from ``questions``), every question."""
    key = next((c for c in spec.columns if c.type == "code" and c.required), None)
    if key is not None and key.codelist == "questions" and any(c.type == "scale" for c in spec.columns):
        directives = codebook.directives
        short = dict(zip(directives["directive"], directives[f"short_{lang}"], strict=True))
        return [
            {
                "question_id": q.question_id,
                "directive": f"{q.directive}. {short[q.directive]}",
                "question": getattr(q, f"text_{lang}"),
            }
            for q in codebook.questions.itertuples()
        ]
    return []


def _write_reference(book: Workbook, codebook: Codebook, instrument: str, lang: str) -> None:
    """Reference sheets that list the codes a long instrument's cells may hold."""
    if instrument == "presurvey":
        ws = book.create_sheet("設問一覧" if lang == "ja" else "Questions")
        ws.append(
            ["設問ID", "テーマ", "形式", "設問", "選択肢", "回答対象"]
            if lang == "ja"
            else ["Question ID", "Topic", "Kind", "Question", "Options", "Asked of"]
        )
        options = codebook.table("presurvey_options")
        for q in codebook.table("presurvey_questions").itertuples():
            opts = options[options["question_id"] == q.question_id]
            listed = " / ".join(f"{o.code}={getattr(o, 'label_' + lang)}" for o in opts.itertuples())
            asked = _asked_of(codebook, str(q.question_id), lang)
            ws.append([q.question_id, q.topic, q.kind, getattr(q, f"text_{lang}"), listed, asked])
    elif instrument == "statements":
        ws = book.create_sheet("分類一覧" if lang == "ja" else "Categories")
        ws.append(
            ["回答者区分", "項目", "項目名", "分類ID", "分類"]
            if lang == "ja"
            else ["Group", "Section", "Section title", "Category ID", "Category"]
        )
        sections = codebook.table("statement_sections")
        keys = zip(sections["respondent_group"], sections["section"], strict=True)
        titles = dict(zip(keys, sections[f"title_{lang}"], strict=True))
        for c in codebook.table("statement_categories").itertuples():
            title = titles[(c.respondent_group, c.section)]
            ws.append([c.respondent_group, c.section, title, c.category_id, getattr(c, f"label_{lang}")])
    else:
        return
    for cell in ws[1]:
        cell.font, cell.fill = _BOLD, _HEADER_FILL
    ws.freeze_panes = "A2"
    for letter, width in zip("ABCDEF", (10, 8, 30, 12, 60, 40), strict=True):
        ws.column_dimensions[letter].width = width


def build_workbook(
    codebook: Codebook,
    instrument: str,
    lang: str = "ja",
    data: Mapping[str, object] | None = None,
    year: int | None = None,
) -> Workbook:
    """Build the workbook of ``instrument``: blank, or filled with ``data``.

    Parameters
    ----------
    year
        Study year stamped on the instructions (令和4年度 / FY2022); default the edition's year.
    data
        Per sheet id: a mapping of field to value for a key/value sheet (``profile``), a list
        of records for a table sheet; for the self-assessment's ``answers``, a mapping of
        question id to answer.
    """
    data = data or {}
    year = year if year is not None else edition_year(codebook)
    book = Workbook()
    instructions = book.worksheets[0]  # a new workbook has one sheet
    instructions.title = INSTRUCTIONS_SHEET[lang]
    _write_instructions(instructions, codebook, instrument, lang, year)
    lists = _Lists(book)
    for spec in codebook.instrument_sheets(instrument):
        ws = book.create_sheet(_sheet_name(spec, lang))
        if spec.kind == "keyvalue":
            _write_keyvalue(ws, spec, codebook, lang, lists, data.get(spec.sheet), year)  # type: ignore[arg-type]
        else:
            rows = _prefilled_rows(codebook, spec, lang)
            given = data.get(spec.sheet)
            if rows and isinstance(given, Mapping):
                rows = [{**r, "answer": given.get(r["question_id"])} for r in rows]
            elif given is not None:
                rows = list(given)  # type: ignore[arg-type]
            _write_table(ws, spec, codebook, lang, lists, rows)
    _write_reference(book, codebook, instrument, lang)
    meta = book.create_sheet(META_SHEET)
    for key, value in (
        (STAMP_INSTRUMENT, instrument),
        (STAMP_EDITION, codebook.edition),
        ("generator", f"analysis {__version__}"),
        ("language", lang),
    ):
        meta.append([key, value])
    meta.sheet_state = "hidden"
    # The lists sheet goes last so that the data sheets keep their order.
    book.move_sheet(LISTS_SHEET, offset=len(book.sheetnames))
    book.active = 1
    return book


def workbook_bytes(book: Workbook) -> bytes:
    """Serialise an openpyxl workbook to xlsx bytes."""
    import io

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_templates(
    codebook: Codebook,
    out_dir: Path,
    lang: str = "ja",
    instruments: Sequence[str] | None = None,
    year: int | None = None,
) -> list[Path]:
    """Write one blank workbook per instrument for study ``year`` (default: the edition's year)
    into ``out_dir``; return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for instrument in instruments or list(codebook.sheets):
        path = out_dir / template_filename(codebook, instrument, year)
        atomic_write_bytes(path, workbook_bytes(build_workbook(codebook, instrument, lang, year=year)))
        written.append(path)
    return written
