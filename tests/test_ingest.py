"""Round trip and one test per bad input of the foundation issue."""

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import all_answers, write_self_assessment

from analysis.collect.template import build_workbook, workbook_bytes
from analysis.ingest.folder import ingest


def _errors(result, file=None):
    return [p for p in result.problems if p.severity == "error" and (file is None or p.file == file)]


def test_round_trip_template_to_tidy(tmp_path, codebook):
    answers = all_answers(codebook, 4)
    answers.update({"1-1": "５", "1-2": "該当なし", "1-3": "わからない", "1-4": "", "2-1": "一部実施"})
    write_self_assessment(
        tmp_path / "raw" / "a.xlsx",
        codebook,
        "Ｕ０７",
        "令和3年度",
        answers,
        industry="製造業",
        company_name="秘密工業株式会社",
    )
    result = ingest(tmp_path / "raw", tmp_path / "out", fiscal_year=2021)
    assert not _errors(result)
    sa = result.tables["self_assessment"]
    assert len(sa) == 40 and set(sa["respondent_id"]) == {"U07"} and set(sa["fiscal_year"]) == {2021}
    row = sa.set_index("question_id")
    assert row.loc["1-1", "score"] == 5 and row.loc["2-1", "score"] == 2 and row.loc["3-1", "score"] == 4
    assert row.loc["1-2", "missing_reason"] == "not_applicable"
    assert row.loc["1-3", "missing_reason"] == "dont_know"
    assert row.loc["1-4", "missing_reason"] == "unanswered" and pd.isna(row.loc["1-4", "score"])
    assert row.loc["1-1", "source"] == "a.xlsx!回答!D2"
    respondents = pd.read_csv(tmp_path / "out" / "respondents.csv")
    assert respondents.loc[0, "industry"] == "manufacturing"
    for path in (tmp_path / "out").iterdir():
        if path.suffix == ".csv":
            assert "秘密工業" not in path.read_text(encoding="utf-8"), path.name
    assert pd.read_parquet(tmp_path / "out" / "self_assessment.parquet").equals(
        pd.read_parquet(tmp_path / "out" / "self_assessment.parquet")
    )
    cells = result.cells
    assert cells["read"] == cells["loaded"] + cells["reported"] and cells["reported"] == 0


def test_english_field_ids_accepted(tmp_path, codebook):
    book = openpyxl.Workbook()
    profile = book.active
    profile.title = "profile"
    for key, value in (("respondent_id", "U02"), ("fiscal_year", "FY2021"), ("industry", "Manufacturing")):
        profile.append([key, value])
    answers = book.create_sheet("answers")
    answers.append(["question_id", "answer"])
    for qid in codebook.questions["question_id"]:
        answers.append([qid, 3])
    (tmp_path / "raw").mkdir()
    book.save(tmp_path / "raw" / "en.xlsx")
    result = ingest(tmp_path / "raw", None)
    assert not _errors(result)
    assert len(result.tables["self_assessment"]) == 40


@pytest.fixture
def good_and_bad(tmp_path, codebook):
    raw = tmp_path / "raw"
    write_self_assessment(raw / "good.xlsx", codebook, "U01")
    return raw


def _bad_answers(raw, codebook, name, respondent_id, edits):
    path = write_self_assessment(raw / name, codebook, respondent_id)
    book = openpyxl.load_workbook(path)
    for (sheet, cell), value in edits.items():
        book[sheet][cell] = value
    book.save(path)
    return path


def test_missing_respondent_id_skips_workbook(good_and_bad, codebook):
    write_self_assessment(good_and_bad / "noid.xlsx", codebook, "")
    result = ingest(good_and_bad)
    (error,) = _errors(result, "noid.xlsx")
    assert (error.sheet, error.cell) == ("基本情報", "B2") and "回答者ID" in error.message
    assert set(result.tables["self_assessment"]["respondent_id"]) == {"U01"}
    files = result.files.set_index("file")
    assert files.loc["noid.xlsx", "status"] == "skipped"
    assert files.loc["noid.xlsx", "cells_reported"] == files.loc["noid.xlsx", "cells_read"] > 0


def test_one_respondent_in_two_files_names_both(good_and_bad, codebook):
    write_self_assessment(good_and_bad / "again.xlsx", codebook, "u01")
    write_self_assessment(good_and_bad / "other.xlsx", codebook, "U03")
    result = ingest(good_and_bad)
    errors = _errors(result)
    assert {e.file for e in errors} == {"good.xlsx", "again.xlsx"}
    assert all("again.xlsx" in e.message and "good.xlsx" in e.message for e in errors)
    assert set(result.tables["self_assessment"]["respondent_id"]) == {"U03"}


@pytest.mark.parametrize(
    ("name", "content"), [("csv.xlsx", b"a,b\n1,2\n"), ("empty.xlsx", b""), ("text.xls", b"hello world")]
)
def test_not_a_spreadsheet(good_and_bad, name, content):
    (good_and_bad / name).write_bytes(content)
    result = ingest(good_and_bad)
    (error,) = _errors(result, name)
    assert "not a spreadsheet" in error.message or "empty" in error.message
    assert set(result.tables["self_assessment"]["respondent_id"]) == {"U01"}


def test_truncated_zip(good_and_bad, codebook):
    data = (good_and_bad / "good.xlsx").read_bytes()
    (good_and_bad / "cut.xlsx").write_bytes(data[: len(data) // 2])
    result = ingest(good_and_bad)
    assert _errors(result, "cut.xlsx")
    assert set(result.tables["self_assessment"]["respondent_id"]) == {"U01"}


def test_exit_status_and_summary(good_and_bad, codebook, tmp_path):
    _bad_answers(good_and_bad, codebook, "bad.xlsx", "U02", {("回答", "D14"): 7})
    proc = subprocess.run(
        [sys.executable, "-m", "analysis.cli", "ingest", str(good_and_bad), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "bad.xlsx: 回答!D14" in proc.stdout
    assert "読んだ" in proc.stdout and "エラー" in proc.stdout  # Japanese unless --lang en
    issues = pd.read_csv(tmp_path / "out" / "issues.csv")
    assert list(issues.columns) == ["severity", "file", "sheet", "cell", "code", "message_ja", "message_en"]
    assert ((issues.file == "bad.xlsx") & (issues.cell == "D14")).any()


def test_lang_en_prints_english(good_and_bad, codebook, tmp_path, capsys):
    from analysis.cli import main

    _bad_answers(good_and_bad, codebook, "bad.xlsx", "U02", {("回答", "D14"): 7})
    out = tmp_path / "out"
    assert main(["ingest", str(good_and_bad), "--out", str(out), "--workers", "0", "--quiet", "--lang", "en"]) == 1
    printed = capsys.readouterr().out
    assert "read =" in printed and "bad.xlsx: 回答!D14: expected a whole number from 1 to 5" in printed
    assert "ERROR" in printed and "エラー" not in printed and "1〜5" not in printed
    assert main(["ingest", str(good_and_bad), "--out", str(out), "--workers", "0", "--quiet", "--force"]) == 1
    printed = capsys.readouterr().out
    assert "bad.xlsx: 回答!D14: 1〜5の整数" in printed and "expected a whole number" not in printed


def _digest(folder):
    return {
        p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_raw_folder_untouched_and_accounting_adds_up(tmp_path, sample_raw):
    shutil.copytree(sample_raw, tmp_path / "raw")
    before = _digest(tmp_path / "raw")
    result = ingest(tmp_path / "raw" / "2021", tmp_path / "out", fiscal_year=2021)
    assert _digest(tmp_path / "raw") == before
    cells = result.cells
    assert cells["read"] == cells["loaded"] + cells["reported"] > 1000
    assert result.n_errors == 0


def test_manifest_hashes_every_input_as_read(tmp_path, sample_raw):
    # The workers hash the bytes they parse; files never parsed are hashed by the ingest itself.
    shutil.copytree(sample_raw / "2021", tmp_path / "raw")
    (tmp_path / "raw" / "notes.txt").write_text("not a workbook")
    (tmp_path / "raw" / "broken.xlsx").write_bytes(b"not a zip")
    ingest(tmp_path / "raw", tmp_path / "out", fiscal_year=2021)
    manifest = json.loads((tmp_path / "out" / "ingest.json").read_text(encoding="utf-8"))
    listed = {entry["file"]: entry["sha256"] for entry in manifest["inputs"]}
    assert listed == {str(name): digest for name, digest in _digest(tmp_path / "raw").items()}
    assert "notes.txt" in listed and "broken.xlsx" in listed and len(listed) == 18


def test_killed_ingest_leaves_previous_output(tmp_path, codebook):
    raw = tmp_path / "raw"
    for i in range(30):
        write_self_assessment(raw / f"u{i:02d}.xlsx", codebook, f"U{i:02d}")
    out = tmp_path / "out"
    ingest(raw, out)
    before = _digest(out)
    script = (
        "import os, signal, sys\n"
        "import analysis.ingest.validate as v\n"
        "real = v.parse_workbook\n"
        "count = [0]\n"
        "def dying(book, codebook):\n"
        "    count[0] += 1\n"
        "    if count[0] == 15:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return real(book, codebook)\n"
        "import analysis.ingest.folder as ing\n"
        "ing.parse_workbook = dying\n"
        "ing.ingest(sys.argv[1], sys.argv[2])\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(raw), str(out)], capture_output=True)
    assert proc.returncode != 0
    assert _digest(out) == before


def test_xlsm_macros_are_not_carried(tmp_path, codebook):
    raw = tmp_path / "raw"
    path = write_self_assessment(raw / "macro.xlsx", codebook, "U05")
    macro = raw / "macro.xlsm"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(macro, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/vbaProject.bin", b"\x00" * 64)
    path.unlink()
    result = ingest(raw, tmp_path / "out")
    assert len(result.tables["self_assessment"]) == 40
    assert not any("vba" in p.name.lower() for p in (tmp_path / "out").iterdir())


def test_other_fiscal_year_is_an_error_at_the_year_cell_and_kept_out(tmp_path, codebook):
    raw = tmp_path / "2022"
    write_self_assessment(raw / "a.xlsx", codebook, "U01", "令和4年度")
    write_self_assessment(raw / "b.xlsx", codebook, "U02", "令和3年度")
    result = ingest(raw, fiscal_year=2022)
    (error,) = _errors(result)
    assert (error.file, error.sheet, error.cell) == ("b.xlsx", "基本情報", "B3")
    assert "fiscal year 2021" in error.message and "kept out of the 2022 tables" in error.message
    assert set(result.tables["self_assessment"]["fiscal_year"]) == {2022}
    # Every table of the year counts the same companies.
    assert set(result.tables["respondents"]["respondent_id"]) == set(result.tables["maturity"]["respondent_id"])
    assert result.cells["read"] == result.cells["loaded"] + result.cells["reported"]


def test_profile_wins_over_a_roster_row_whatever_the_files_are_called(tmp_path, codebook):
    # The roster sorts first and its name says nothing: precedence comes from the instrument.
    write_self_assessment(tmp_path / "raw" / "z_profile.xlsx", codebook, "U01", 2021, industry="製造業")
    rows = [{"respondent_id": "U01", "fiscal_year": 2021, "group": "user", "industry": "情報通信業"}]
    (tmp_path / "raw" / "a_people.xlsx").write_bytes(
        workbook_bytes(build_workbook(codebook, "roster", data={"respondents": rows}))
    )
    result = ingest(tmp_path / "raw", fiscal_year=2021)
    respondents = result.tables["respondents"]
    assert respondents.set_index("respondent_id").loc["U01", "industry"] == "manufacturing"
    (warning,) = [p for p in result.problems if "industry is" in p.message]
    assert warning.file == "a_people.xlsx" and "kept the latter" in warning.message


def test_ingest_leaves_garbage_collection_as_it_found_it(tmp_path, sample_raw):
    # Collections are paused while reading and assembling, and must come back even on an error.
    import gc

    from analysis.errors import DataError

    ingest(sample_raw / "2021", fiscal_year=2021, workers=1)
    assert gc.isenabled()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError):
        ingest(tmp_path / "empty")
    assert gc.isenabled()
    gc.disable()
    try:
        ingest(sample_raw / "2021", fiscal_year=2021, workers=0)
        assert not gc.isenabled()  # a caller's choice is kept too
    finally:
        gc.enable()


# -- a filter question answered in another file --------------------------------------------------------


def test_a_filter_answered_in_another_file_decides_eligibility_and_warns_there(codebook):
    """Q1-2 is asked of those who answered Q1-1 with 1 or 2. When Q1-1 and Q1-2 come in two files
    (e.g. the pre-survey returned in parts), the ingest decides from both, as within one file."""
    from pathlib import Path

    from analysis.ingest.folder import assemble
    from analysis.ingest.validate import parse_workbook
    from analysis.ingest.workbook import Grid, RawWorkbook

    def presurvey(file: str, rows: list[list]) -> object:
        grid = Grid("回答", [["回答者ID", "年度", "設問ID", "回答"], *rows])
        return parse_workbook(RawWorkbook(Path(file), {"回答": grid}), codebook)

    first = presurvey("a.xlsx", [["U01", 2021, "Q1-1", 4], ["U02", 2021, "Q1-1", 1]])
    second = presurvey(
        "b.xlsx",
        [["U01", 2021, "Q1-2", "1;3"], ["U02", 2021, "Q1-2", "2"], ["U03", 2021, "Q1-2", "2"]],
    )
    assert not second.problems  # alone, the second file cannot tell
    result = assemble([first, second], codebook, fiscal_year=2021)
    table = result.tables["presurvey"]
    q12 = table[table["question_id"] == "Q1-2"]
    eligible = dict(zip(q12["respondent_id"], q12["eligible"].astype("object"), strict=False))
    assert [eligible["U01"], eligible["U02"]] == [False, True]
    assert pd.isna(eligible["U03"])  # Q1-1 answered nowhere: unknown, counted as asked
    warnings = [p for p in result.problems if p.code == "answered_against_filter"]
    assert [(w.file, w.sheet, w.cell) for w in warnings] == [("b.xlsx", "回答", "D2")]  # once per cell
    assert "U01" in warnings[0].text("ja") and "「4=知らない」" in warnings[0].text("ja")


@pytest.mark.parametrize("spelling", ["relative", "dot", "absolute", "dotted"])
def test_files_are_named_under_the_raw_folder_however_it_is_spelt(tmp_path, monkeypatch, spelling):
    # Sources, problems, files.csv and ingest.json name a file by its path under the raw folder;
    # the name must not depend on how the folder was given on the command line.
    from analysis.ingest.folder import _name_under, list_inputs

    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    for name in ("a.xlsx", "sub/b.xlsx", "raw2.xlsx"):
        (raw / name).write_bytes(b"x")
    monkeypatch.chdir(tmp_path if spelling != "dot" else raw)
    given = {"relative": Path("raw"), "dot": Path("."), "absolute": raw, "dotted": Path("./raw/../raw")}[spelling]
    names = sorted(_name_under(path, given) for path in list_inputs(given))
    assert names == ["a.xlsx", "raw2.xlsx", str(Path("sub/b.xlsx"))]
