"""analysis/ingest/validate.py: one workbook's cells in, records and problems out.

Workbooks here are grids typed in memory (no file, no parser): what the validation does with
given cells. Tests that need a file's formulas or a template's layout read a template workbook.
"""

from dataclasses import replace
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import all_answers, write_self_assessment
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.codebook import ColumnSpec, SheetSpec
from analysis.collect.template import build_workbook, workbook_bytes
from analysis.ingest.validate import META_SHEET, ParsedWorkbook, parse_workbook, read_answer_grid, read_keyvalue_sheet
from analysis.ingest.workbook import ErrorValue, Grid, RawWorkbook, read_workbook


def _field(column, ja, en, kind, required=False, personal=False, codelist=""):
    return ColumnSpec(column, ja, en, kind, codelist, required, personal, "")


# A key/value sheet that no edition has: the reader knows it only from its declaration.
CONTACT = SheetSpec(
    "contact",
    "contact",
    "連絡先",
    "Contact",
    "keyvalue",
    (
        _field("org_id", "組織ID", "Organisation ID", "id", required=True),
        _field("fiscal_year", "年度", "Fiscal year", "year", required=True),
        _field("staff", "担当者数", "Staff", "int"),
        _field("visited", "訪問日", "Visited", "date"),
        _field("org_name", "組織名", "Organisation name", "text", personal=True),
    ),
)


def _errors(parsed):
    return [(p.sheet, p.cell, p.message) for p in parsed.problems if p.severity == "error"]


def test_keyvalue_reader_finds_fields_by_either_language_wherever_the_row_starts(codebook):
    grid = Grid(
        "連絡先",
        [
            ["説明", ""],
            ["Organisation ID", " ｏ０１ "],
            ["", "年度", "令和3年度"],  # the key may start in any column; the value sits right of it
            ["担当者数", "３"],
            ["org_name", "秘密組合"],
        ],
    )
    parsed = ParsedWorkbook(file="c.xlsx")
    fields = read_keyvalue_sheet(grid, CONTACT, codebook, parsed)
    assert fields is not None and not parsed.problems
    assert fields.values == {"org_id": "O01", "fiscal_year": 2021, "staff": 3}
    assert fields.cells == {"org_id": "B2", "fiscal_year": "C3", "staff": "B4", "org_name": "B5"}
    # A personal field is remembered for redaction, never kept as a value.
    assert [(n.column, n.name, n.source) for n in parsed.names] == [("org_name", "秘密組合", "c.xlsx!連絡先!B5")]
    assert parsed.cells_read == 3 and parsed.cells_reported == 0


def test_keyvalue_reader_reports_a_bad_optional_field_and_keeps_the_rest(codebook):
    grid = Grid("連絡先", [["組織ID", "O01"], ["年度", 2021], ["担当者数", "many"], ["訪問日", ErrorValue("#N/A")]])
    parsed = ParsedWorkbook(file="c.xlsx")
    fields = read_keyvalue_sheet(grid, CONTACT, codebook, parsed)
    assert fields is not None and not parsed.skipped
    assert fields.values["staff"] is None and fields.values["visited"] is None
    errors = _errors(parsed)
    assert [(sheet, cell) for sheet, cell, _ in errors] == [("連絡先", "B3"), ("連絡先", "B4")]
    assert "whole number" in errors[0][2] and "#N/A" in errors[1][2]
    assert parsed.cells_read == 4 and parsed.cells_reported == 2


def test_keyvalue_reader_skips_the_workbook_without_a_required_field(codebook):
    parsed = ParsedWorkbook(file="c.xlsx")
    assert read_keyvalue_sheet(Grid("連絡先", [["組織ID", "O01"]]), CONTACT, codebook, parsed) is None
    assert parsed.skipped and _errors(parsed) == [("連絡先", "", "no row 年度 (fiscal_year) on sheet 連絡先")]


def test_keyvalue_reader_skips_the_workbook_at_a_bad_required_cell(codebook):
    parsed = ParsedWorkbook(file="c.xlsx")
    grid = Grid("連絡先", [["組織ID", "O01"], ["年度", "next year"]], top=4, left=2)
    assert read_keyvalue_sheet(grid, CONTACT, codebook, parsed) is None
    ((sheet, cell, message),) = _errors(parsed)
    assert (sheet, cell) == ("連絡先", "D6") and "without it no answer of this workbook can be used" in message


def test_keyvalue_reader_reports_a_formula_without_value(codebook):
    parsed = ParsedWorkbook(file="c.xlsx")
    grid = Grid("連絡先", [["組織ID", "O01"], ["年度", ""]], formulas_without_value=("B2",))
    assert read_keyvalue_sheet(grid, CONTACT, codebook, parsed) is None
    assert {(sheet, cell) for sheet, cell, _ in _errors(parsed)} == {("連絡先", "B2")}


def _answers_sheet(codebook):
    (_, answers) = codebook.instrument_sheets("self_assessment")
    return answers


def test_answer_grid_reads_codes_and_scores_by_declaration(codebook):
    grid = Grid(
        "回答",
        [
            ["設問ID", "指示", "回答"],
            ["1-1", 1, 5],
            ["1-2", 1, "該当なし"],
            ["1-3", 1, ""],
            ["1-4", 1, 7],
            ["9-9", 9, 3],  # unknown question
            ["1-1", 1, 2],  # repeated question
            ["", "", 4],  # an answer without a question
        ],
    )
    parsed = ParsedWorkbook(file="a.xlsx")
    rows = list(read_answer_grid(grid, _answers_sheet(codebook), codebook, parsed))
    assert rows == [
        ("1-1", 5, None, "a.xlsx!回答!C2"),
        ("1-2", None, "not_applicable", "a.xlsx!回答!C3"),
        ("1-3", None, "unanswered", "a.xlsx!回答!C4"),
        ("1-4", None, "invalid", "a.xlsx!回答!C5"),
    ]
    assert [(sheet, cell) for sheet, cell, _ in _errors(parsed)] == [
        ("回答", "C5"),
        ("回答", "A6"),
        ("回答", "A7"),
        ("回答", "C8"),
    ]
    (warning,) = [p for p in parsed.problems if p.severity == "warning"]
    assert warning.message.startswith(f"{len(codebook.questions) - 4} question id(s) have no row: 2-1")
    assert parsed.cells_read == 13 and parsed.cells_reported == 6


def test_answer_grid_without_its_answer_column_skips_the_workbook(codebook):
    parsed = ParsedWorkbook(file="a.xlsx")
    grid = Grid("回答", [["設問ID", "指示"], ["1-1", 1]])
    assert list(read_answer_grid(grid, _answers_sheet(codebook), codebook, parsed)) == []
    assert parsed.skipped and _errors(parsed) == [("回答", "", "no column 回答 (answer) in the header row")]


def _other_edition(codebook):
    """An edition with three directives, other question ids and another group name."""
    questions = pd.DataFrame(
        {"question_id": ["A-1", "A-2", "B-1", "C-1"], "directive": [1, 1, 2, 3], "order": [1, 2, 1, 1]}
    )
    questions["text_ja"] = questions["text_en"] = "…"
    instruments = codebook.instruments.copy()
    instruments.loc[instruments["instrument"] == "self_assessment", "respondent_groups"] = "member"
    return replace(codebook, tables={**codebook.tables, "questions": questions}, instruments=instruments)


def test_another_edition_is_ingested_from_its_codebook_alone(codebook):
    edition = _other_edition(codebook)
    book = RawWorkbook(
        Path("m.xlsx"),
        {
            "基本情報": Grid("基本情報", [["回答者ID", "M01"], ["年度", 2021]]),
            "回答": Grid("回答", [["設問ID", "回答"], ["A-1", 4], ["C-1", 2], ["1-1", 3]]),
        },
    )
    parsed = parse_workbook(book, edition)
    assert parsed.instrument == "self_assessment"
    assert [(r["group"], r["respondent_id"]) for r in parsed.rows("respondents")] == [("member", "M01")]
    answers = [(r["question_id"], r["directive"], r["score"]) for r in parsed.rows("self_assessment")]
    assert answers == [("A-1", 1, 4), ("C-1", 3, 2)]
    ((cell, message),) = [(p.cell, p.message) for p in parsed.problems if p.severity == "error"]
    assert cell == "A4" and "(A-1, A-2, B-1, C-1)" in message
    (warning,) = [p.message for p in parsed.problems if p.severity == "warning"]
    assert warning.startswith("2 question id(s) have no row: A-2, B-1")


def test_presurvey_answer_naming_no_option_is_reported_and_kept_invalid(codebook):
    grid = Grid(
        "回答",
        [
            ["回答者ID", "年度", "設問ID", "回答"],
            ["U01", 2021, "Q1-2", "1;3;1"],
            ["U01", 2021, "Q2-2", ";"],  # select-all-that-apply, but nothing selected
            ["U01", 2021, "Q1-1", "1;2"],  # single choice, two options
        ],
    )
    parsed = parse_workbook(RawWorkbook(Path("p.xlsx"), {"回答": grid}), codebook)
    assert parsed.instrument == "presurvey"
    rows = [(r["question_id"], r["option_code"], r["missing_reason"]) for r in parsed.rows("presurvey")]
    assert rows == [("Q1-2", 1, None), ("Q1-2", 3, None), ("Q2-2", None, "invalid"), ("Q1-1", None, "invalid")]
    assert [(p.cell, p.message.split(" (")[0]) for p in parsed.problems] == [
        ("D3", "Q2-2 expects option codes separated by ';'"),
        ("D4", "Q1-1 expects one option"),
    ]
    assert parsed.cells_reported == 2


def test_an_answer_against_the_filter_is_a_warning_at_its_cell_and_kept_marked(codebook):
    # Q1-2 is asked of those who answered Q1-1 with 1 or 2 (the codebook's filter).
    grid = Grid(
        "回答",
        [
            ["回答者ID", "年度", "設問ID", "回答"],
            ["U01", 2021, "Q1-2", "1;3"],  # before its filter question: the whole workbook decides
            ["U01", 2021, "Q1-1", "知らない"],
            ["U02", 2021, "Q1-1", "２"],
            ["U02", 2021, "Q1-2", "4"],
            ["U03", 2021, "Q1-1", 3],
            ["U03", 2021, "Q1-2", ""],  # not asked and left blank: no warning
            ["U04", 2021, "Q1-2", "2"],  # Q1-1 not answered here: eligibility unknown
            ["U04", 2021, "Q1-3", "1"],
        ],
    )
    parsed = parse_workbook(RawWorkbook(Path("p.xlsx"), {"回答": grid}), codebook)
    rows = [(r["respondent_id"], r["question_id"], r["option_code"], r["eligible"]) for r in parsed.rows("presurvey")]
    assert rows == [
        ("U01", "Q1-2", 1, False),
        ("U01", "Q1-2", 3, False),
        ("U01", "Q1-1", 4, True),
        ("U02", "Q1-1", 2, True),
        ("U02", "Q1-2", 4, True),
        ("U03", "Q1-1", 3, True),
        ("U03", "Q1-2", None, False),
        ("U04", "Q1-2", 2, None),
        ("U04", "Q1-3", 1, True),
    ]
    (warning,) = parsed.problems  # once per cell, however many options it names
    assert (warning.severity, warning.sheet, warning.cell, warning.code) == (
        "warning",
        "回答",
        "D2",
        "answered_against_filter",
    )
    assert warning.text("en") == (
        "Q1-2 is asked of those who answered Q1-1 with 1 (Yes, we use it) or 2 (We use it in part), but U01, "
        "who answered Q1-1 with 4 (We do not know it), answered it; the answer is kept but left out of Q1-2's "
        "percentages: clear it or check the answer to Q1-1"
    )
    assert warning.text("ja") == (
        "Q1-2はQ1-1で「1=活用している」「2=一部活用している」と回答した方への設問ですが、Q1-1で「4=知らない」と"
        "回答した U01 が回答しています。回答は残しますが、Q1-2の割合の集計からは除きます。"
        "回答を消すか、Q1-1の回答を確認してください"
    )
    assert parsed.cells_reported == 0  # the answer is loaded, not rejected


# -- one self-assessment workbook: records, problems, accounting ---------------------------------


def self_assessment(codebook, answers=None, profile=None, meta=None, file="sa.xlsx") -> RawWorkbook:
    """A self-assessment's sheets as the reader gives them, laid out as the template lays them
    out (answers in column D from row 2, the profile's values in column B)."""
    profile = {"回答者ID": "U01", "年度": 2021} if profile is None else profile
    answers = all_answers(codebook) if answers is None else answers
    meta = {"instrument": "self_assessment", "edition": codebook.edition} if meta is None else meta
    sheets = {
        "基本情報": Grid("基本情報", [["項目", "回答"], *([k, v] for k, v in profile.items())]),
        "回答": Grid("回答", [["設問ID", "指示", "設問", "回答"], *([q, "", "", a] for q, a in answers.items())]),
        META_SHEET: Grid(META_SHEET, [[k, v] for k, v in meta.items()], hidden=True),
    }
    return RawWorkbook(path=Path(file), sheets=sheets)


def accounted(parsed) -> bool:
    return parsed.cells_read == parsed.cells_loaded + parsed.cells_reported


def test_a_filled_workbook_gives_its_records_and_no_problem(codebook):
    parsed = parse_workbook(self_assessment(codebook), codebook)
    assert parsed.instrument == "self_assessment" and parsed.problems == []
    (respondent,) = parsed.rows("respondents")
    assert respondent["respondent_id"] == "U01" and respondent["fiscal_year"] == 2021
    assert respondent["source"] == "sa.xlsx!基本情報!B2"
    answers = parsed.rows("self_assessment")
    assert [a["question_id"] for a in answers] == list(codebook.questions["question_id"])
    assert {a["score"] for a in answers} == {3} and answers[0]["source"] == "sa.xlsx!回答!D2"
    assert parsed.cells_read == 2 + 2 * 40 and parsed.cells_reported == 0


@pytest.mark.parametrize("value", [7, "abc", 0])
def test_a_wrong_answer_is_reported_at_its_cell_in_japanese_and_kept_as_invalid(codebook, value):
    answers = all_answers(codebook)
    answers["4-1"] = value  # the 13th question: row 14
    parsed = parse_workbook(self_assessment(codebook, answers), codebook)
    ((sheet, cell, message),) = _errors(parsed)
    assert (sheet, cell) == ("回答", "D14")
    # The message names the allowed answers by their Japanese labels and what became of the answer.
    assert "from 1 to 5" in message and "未実施" in message and "該当なし" in message and "無効回答" in message
    (record,) = [r for r in parsed.rows("self_assessment") if r["question_id"] == "4-1"]
    assert record["score"] is None and record["missing_reason"] == "invalid"
    assert len(parsed.rows("self_assessment")) == 40
    assert parsed.cells_reported == 1 and accounted(parsed)


def test_an_excel_error_value_is_an_invalid_answer_at_its_cell(codebook):
    answers = all_answers(codebook)
    answers["1-2"] = ErrorValue("#N/A")
    parsed = parse_workbook(self_assessment(codebook, answers), codebook)
    ((sheet, cell, message),) = _errors(parsed)
    assert (sheet, cell) == ("回答", "D3") and "#N/A" in message
    (record,) = [r for r in parsed.rows("self_assessment") if r["question_id"] == "1-2"]
    assert record["missing_reason"] == "invalid"


@pytest.mark.parametrize("key", ["回答者ID", "年度"])
def test_a_missing_key_of_the_profile_sheet_skips_the_workbook(codebook, key):
    profile = {"回答者ID": "U01", "年度": 2021}
    del profile[key]
    parsed = parse_workbook(self_assessment(codebook, profile=profile), codebook)
    ((sheet, _, message),) = _errors(parsed)
    assert sheet == "基本情報" and f"no row {key}" in message
    assert parsed.skipped and parsed.records == {}
    assert parsed.cells_reported == parsed.cells_read > 0


def test_a_blank_respondent_id_skips_the_workbook_at_its_cell(codebook):
    parsed = parse_workbook(self_assessment(codebook, profile={"回答者ID": "", "年度": 2021}), codebook)
    ((sheet, cell, message),) = _errors(parsed)
    assert (sheet, cell) == ("基本情報", "B2") and "without it no answer of this workbook can be used" in message
    assert parsed.skipped and parsed.records == {}


def test_profile_keys_may_be_english_and_anywhere_on_their_row(codebook):
    book = self_assessment(codebook, profile={"respondent_id": "Ｕ０７", "fiscal_year": "令和3年度"})
    grid = book.sheets["基本情報"]
    book.sheets["基本情報"] = Grid(grid.name, [["", *row] for row in grid.rows])  # keys in column B
    parsed = parse_workbook(book, codebook)
    assert parsed.problems == []
    (respondent,) = parsed.rows("respondents")
    assert (respondent["respondent_id"], respondent["fiscal_year"]) == ("U07", 2021)
    assert respondent["source"] == "sa.xlsx!基本情報!C2"


def test_an_unknown_question_id_is_reported_at_its_cell_and_its_row_left_out(codebook):
    answers = all_answers(codebook)
    del answers["1-4"]
    answers = {**dict(list(answers.items())[:3]), "11-1": 3, **dict(list(answers.items())[3:])}  # row 5
    parsed = parse_workbook(self_assessment(codebook, answers), codebook)
    ((sheet, cell, message),) = _errors(parsed)
    assert (sheet, cell) == ("回答", "A5") and "unknown question id" in message and "'11-1'" in message
    assert "11-1" not in {r["question_id"] for r in parsed.rows("self_assessment")}
    # The question without a row is a warning: left out, not counted as unanswered.
    (warning,) = [p for p in parsed.problems if p.severity == "warning"]
    assert "1-4" in warning.message and "not counted as unanswered" in warning.message
    assert len(parsed.rows("self_assessment")) == 39 and accounted(parsed)


def test_a_duplicate_row_is_reported_naming_the_first_which_is_kept(codebook):
    book = self_assessment(codebook)
    rows = book.sheets["回答"].rows
    rows.insert(6, ["1-1", "", "", 5])  # row 7 answers 1-1 again
    parsed = parse_workbook(book, codebook)
    ((sheet, cell, message),) = _errors(parsed)
    assert (sheet, cell) == ("回答", "A7") and "1-1 appears twice (first at A2)" in message
    (first,) = [r for r in parsed.rows("self_assessment") if r["question_id"] == "1-1"]
    assert first["score"] == 3 and first["source"] == "sa.xlsx!回答!D2"
    assert parsed.cells_reported == 2 and accounted(parsed)


def test_an_answer_without_a_question_id_is_reported(codebook):
    book = self_assessment(codebook)
    book.sheets["回答"].rows.append(["", "", "", 4])
    parsed = parse_workbook(book, codebook)
    ((sheet, cell, message),) = _errors(parsed)
    assert (sheet, cell) == ("回答", "D42") and "設問ID" in message
    assert len(parsed.rows("self_assessment")) == 40 and accounted(parsed)


def test_another_edition_skips_the_workbook_and_says_which_to_use(codebook):
    book = self_assessment(codebook, meta={"instrument": "self_assessment", "edition": "fy2020"})
    parsed = parse_workbook(book, codebook)
    ((sheet, cell, message),) = _errors(parsed)
    assert (sheet, cell) == (META_SHEET, "B2") and "edition fy2020" in message and "--edition fy2020" in message
    assert parsed.skipped and parsed.records == {} and parsed.cells_reported == parsed.cells_read


def test_a_workbook_of_no_instrument_is_skipped_naming_its_sheets(codebook):
    book = RawWorkbook(path=Path("x.xlsx"), sheets={"Sheet1": Grid("Sheet1", [["a", "b"], [1, 2]])})
    parsed = parse_workbook(book, codebook)
    ((_, _, message),) = _errors(parsed)
    assert "not a workbook of any instrument" in message and "Sheet1" in message
    assert parsed.skipped and parsed.cells_read == parsed.cells_reported == 4


def test_a_workbook_of_another_year_is_kept_out_at_its_year_cell(codebook):
    parsed = parse_workbook(self_assessment(codebook), codebook, folder_year=2022)
    ((sheet, cell, message),) = _errors(parsed)
    assert (sheet, cell) == ("基本情報", "B3") and "fiscal year 2021" in message and "2022" in message
    assert parsed.skipped and parsed.records == {}


def test_a_missing_sheet_skips_the_workbook_and_lists_the_sheets_it_has(codebook):
    book = self_assessment(codebook)
    del book.sheets["回答"]
    parsed = parse_workbook(book, codebook)
    ((sheet, _, message),) = _errors(parsed)
    assert sheet == "回答" and "missing sheet 回答" in message and "基本情報" in message
    assert parsed.skipped and parsed.records == {}


# -- from a file: formulas, the presurvey's table sheet ------------------------------------------


def test_a_formula_without_cached_value_is_an_invalid_answer_at_its_cell(tmp_path, codebook):
    path = write_self_assessment(tmp_path / "formula.xlsx", codebook, "U02")
    book = openpyxl.load_workbook(path)
    book["回答"]["D9"] = "=2+2"
    book.save(path)
    parsed = parse_workbook(read_workbook(path), codebook)
    ((sheet, cell, message),) = _errors(parsed)
    assert (sheet, cell) == ("回答", "D9") and "no cached value" in message
    (record,) = [r for r in parsed.rows("self_assessment") if r["source"] == "formula.xlsx!回答!D9"]
    assert record["missing_reason"] == "invalid"


def test_presurvey_multiple_response_rows(tmp_path, codebook):
    rows = [
        {"respondent_id": "U01", "fiscal_year": 2021, "question_id": "Q1-1", "answer": "１"},
        {"respondent_id": "U01", "fiscal_year": 2021, "question_id": "Q1-2", "answer": "1、3;3"},
        {"respondent_id": "U01", "fiscal_year": 2021, "question_id": "Q1-4", "answer": "記述です"},
        {"respondent_id": "U01", "fiscal_year": 2021, "question_id": "Q1-3", "answer": ""},
        {"respondent_id": "U01", "fiscal_year": 2021, "question_id": "Q2-1", "answer": "99"},
    ]
    path = tmp_path / "pre.xlsx"
    path.write_bytes(workbook_bytes(build_workbook(codebook, "presurvey", data={"answers": rows})))
    parsed = parse_workbook(read_workbook(path), codebook)
    assert parsed.instrument == "presurvey"
    pre = parsed.rows("presurvey")
    assert [r["option_code"] for r in pre if r["question_id"] == "Q1-2"] == [1, 3]
    assert [r["option_code"] for r in pre if r["question_id"] == "Q1-1"] == [1]
    assert [r["answer_text"] for r in pre if r["question_id"] == "Q1-4"] == ["記述です"]
    assert [r["missing_reason"] for r in pre if r["question_id"] == "Q1-3"] == ["unanswered"]
    ((_, cell, message),) = _errors(parsed)
    assert cell == "D6" and "Q2-1 expects one option" in message
    assert accounted(parsed)


def test_rows_added_as_columns_add_up_and_do_not_mix_with_records():
    from analysis.ingest.validate import ParsedWorkbook

    parsed = ParsedWorkbook(file="x.xlsx")
    parsed.add_columns("t", {"a": [1, 2], "b": ["x", "y"]})
    parsed.add_columns("t", {"a": [3], "b": ["z"]})
    assert parsed.rows("t") == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": "z"}]
    with pytest.raises(ValueError, match="columns"):
        parsed.add_columns("t", {"a": [4]})
    with pytest.raises(ValueError, match="as columns"):
        parsed.add("t", {"a": 5, "b": "w"})
    parsed.add("u", {"a": 1})
    with pytest.raises(ValueError, match="records"):
        parsed.add_columns("u", {"a": [2]})


# -- clean rows remembered across workbooks ------------------------------------------------------

_ANSWERS = [1, 3, 5, 7, 0, 3.0, True, "3", "３", "abc", "", None, "該当なし", "わからない", ErrorValue("#N/A")]


def _answer_rows(codebook, draw_rows):
    questions = list(codebook.questions["question_id"])
    keys = st.sampled_from([*questions[:6], "9-9", "", None, 1.0])
    return draw_rows(st.lists(st.tuples(keys, st.sampled_from(_ANSWERS)), min_size=1, max_size=12))


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_remembered_rows_read_as_rows_read_afresh(codebook, data):
    # A workbook read with nothing remembered, and after its rows were remembered from another
    # workbook (the same rows, in another order, without formulas): the same records, problems
    # (duplicates, formulas, bad answers) and cell accounting.
    from analysis.ingest import validate

    rows = _answer_rows(codebook, data.draw)
    formulas = data.draw(st.sets(st.sampled_from([f"D{r + 2}" for r in range(len(rows))])))
    earlier = data.draw(st.permutations(rows))

    def read(rows, formulas=()):
        book = self_assessment(codebook)
        answers = replace(book.sheets["回答"], formulas_without_value=tuple(sorted(formulas)))
        answers.rows[1:] = [[key, "", "", answer] for key, answer in rows]
        parsed = parse_workbook(replace(book, sheets={**book.sheets, "回答": answers}), codebook)
        return (
            parsed.columns,
            [(p.severity, p.sheet, p.cell, str(p.message)) for p in parsed.problems],
            parsed.cells_read,
            parsed.cells_reported,
        )

    limit = validate._CLEAN_ROWS
    validate._clean_rows.cache_clear()
    try:
        validate._CLEAN_ROWS = 0  # nothing remembered: every row read afresh
        fresh = read(rows, formulas)
    finally:
        validate._CLEAN_ROWS = limit
    read(earlier)
    read(rows)  # every clean row remembered now
    assert read(rows, formulas) == fresh


def test_a_parsed_workbook_comes_back_whole_from_a_worker(codebook):
    # Workers pickle one per file, by its fields in order: every field must survive.
    import pickle
    from dataclasses import fields

    answers = all_answers(codebook)
    answers["4-1"] = "abc"  # a problem
    parsed = parse_workbook(self_assessment(codebook, answers, file="w.xlsx"), codebook)
    parsed.sha256, parsed.folder_year, parsed.note = "ab" * 32, 2021, None
    back = pickle.loads(pickle.dumps(parsed))
    assert back == parsed and back.problems and back.columns
    assert {f.name: getattr(back, f.name) for f in fields(back)} == {
        f.name: getattr(parsed, f.name) for f in fields(parsed)
    }
