"""No silent cell: error values, NaN and rejected answers are errors at their cell, and kept as invalid.

Driven through ``survey ingest`` (``analysis.cli.main``) on copies of the sample workbooks.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import all_answers, examples, write_self_assessment
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.cli import main
from analysis.ingest.folder import ingest

ERRORS = ["#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"]


@pytest.fixture(scope="module")
def sample_2021(sample_raw) -> Path:
    """The shared sample's 2021 raw folder (read-only: tests copy what they change)."""
    return sample_raw / "2021"


def set_cell_xml(path: Path, sheet: str, ref: str, body: str) -> None:
    """Rewrite cell ``ref`` of ``sheet`` in an xlsx file as ``<c r="ref" …>body</c>`` (e.g. an error value)."""
    with zipfile.ZipFile(path) as zipped:
        parts = {info.filename: zipped.read(info.filename) for info in zipped.infolist()}
    workbook = parts["xl/workbook.xml"].decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="(\w+)"', workbook).group(1)
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*/>', rels).group(0)
    target = re.search(r'Target="([^"]+)"', target).group(1)
    part = target.lstrip("/") if target.startswith("/") else "xl/" + target
    xml = parts[part].decode()
    cell = re.compile(rf'<c r="{ref}"(?:[^>]*?/>|[^>]*>.*?</c>)', re.S)
    assert cell.search(xml), (sheet, ref)
    parts[part] = cell.sub(f'<c r="{ref}" {body}</c>', xml, count=1).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in parts.items():
            zipped.writestr(name, data)


def run_ingest(raw: Path, out: Path) -> tuple[int, pd.DataFrame, pd.DataFrame]:
    rc = main(["ingest", str(raw), "--out", str(out), "--workers", "0", "--quiet", "--year", "2021"])
    issues = pd.read_csv(out / "issues.csv", dtype=str, keep_default_na=False)
    files = pd.read_csv(out / "files.csv", dtype={"file": str}, keep_default_na=False)
    return rc, issues, files


def _first_sources(raw: Path) -> dict[str, str]:
    """One landed cell (``file!sheet!cell``) per workbook of a clean ingest."""
    result = ingest(raw, fiscal_year=2021, workers=0)
    sources: dict[str, str] = {}
    for table in ("self_assessment", "presurvey", "statements", "disclosures", "meetings", "literature", "respondents"):
        for source in result.tables[table]["source"]:
            file = str(source).rsplit("!", 2)[0]
            sources.setdefault(file, str(source))
    return sources


def test_error_values_are_errors_at_their_cell_in_every_instrument(sample_2021, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(sample_2021, raw)
    sources = _first_sources(raw)
    assert len(sources) >= 7  # every instrument of the sample
    planted = {}
    for i, (file, source) in enumerate(sorted(sources.items())):
        _, sheet, ref = source.rsplit("!", 2)
        code = ERRORS[i % len(ERRORS)]
        set_cell_xml(raw / file, sheet, ref, f't="e"><v>{code}</v>')
        planted[(file, sheet, ref)] = code
    rc, issues, files = run_ingest(raw, tmp_path / "out")
    assert rc == 1
    errors = issues[issues.severity == "error"]
    for (file, sheet, ref), code in planted.items():
        hit = errors[(errors.file == file) & (errors.sheet == sheet) & (errors.cell == ref)]
        assert len(hit) >= 1 and code in hit.message_en.iloc[0] and code in hit.message_ja.iloc[0], (file, sheet, ref)
        assert "エラー値" in hit.message_ja.iloc[0]
    assert (files.cells_read == files.cells_loaded + files.cells_reported).all()
    assert (files.set_index("file").loc[list(sources), "cells_reported"] >= 1).all()


def _self_assessment(raw: Path, codebook, rid: str, edit: str, answers: dict | None = None) -> Path:
    path = write_self_assessment(raw / f"{rid}.xlsx", codebook, rid, 2021, answers or all_answers(codebook, 3))
    set_cell_xml(path, "回答", "D14", edit)
    return path


@pytest.mark.parametrize(
    "edit",
    ['t="e"><v>#DIV/0!</v>', "><v>NaN</v>", 't="e"><v>#N/A</v>', 't="n"><v>7</v>', 't="inlineStr"><is><t>3-4</t></is>'],
    ids=["div0", "nan", "na", "seven", "range"],
)
def test_rejected_answer_is_an_error_and_kept_as_invalid(tmp_path, codebook, edit):
    raw = tmp_path / "raw"
    _self_assessment(raw, codebook, "U02", edit)
    rc, issues, files = run_ingest(raw, tmp_path / "out")
    assert rc == 1
    (error,) = issues[issues.severity == "error"].itertuples()
    assert (error.file, error.sheet, error.cell) == ("U02.xlsx", "回答", "D14")
    sa = pd.read_parquet(tmp_path / "out" / "self_assessment.parquet")
    assert len(sa) == 40  # nothing dropped
    row = sa[sa.source == "U02.xlsx!回答!D14"]
    assert row["missing_reason"].tolist() == ["invalid"] and row["score"].isna().all()
    (f,) = files.itertuples()
    assert f.cells_read == f.cells_loaded + f.cells_reported and f.cells_reported == 1


def test_invalid_answer_that_could_change_the_level_is_unclassified(tmp_path, codebook):
    # Directives 1-5 at 3, 6-10 at 2: B. Question 4-1 (D14) rejected: a 1 or 2 there would put
    # directive 4 below 3, four at 3 and six below → C. So the level is open.
    answers = {q: (3 if int(q.split("-")[0]) <= 5 else 2) for q in codebook.questions["question_id"]}
    raw = tmp_path / "raw"
    _self_assessment(raw, codebook, "U02", 't="e"><v>#VALUE!</v>', answers)
    write_self_assessment(raw / "U03.xlsx", codebook, "U03", 2021, answers)
    rc, issues, _ = run_ingest(raw, tmp_path / "out")
    maturity = pd.read_parquet(tmp_path / "out" / "maturity.parquet").set_index("respondent_id")
    assert maturity.loc["U03", "level"] == "B"
    assert maturity.loc["U02", "level"] == "unclassified"  # the Parquet level's own category, never NaN
    assert (maturity.loc["U02", "level_min"], maturity.loc["U02", "level_max"]) == ("C", "B")
    assert "directive 4 has an invalid answer" in maturity.loc["U02", "reason"]
    scores_reason = pd.read_parquet(tmp_path / "out" / "self_assessment.parquet")
    assert (scores_reason.missing_reason == "invalid").sum() == 1
    # datapackage.json describes the new columns and allows the new reason (the CSV validates).
    package = json.loads((tmp_path / "out" / "datapackage.json").read_text(encoding="utf-8"))
    schemas = {r["name"]: {f["name"]: f for f in r["schema"]["fields"]} for r in package["resources"]}
    for column in ("level_min", "level_max"):
        field = schemas["maturity"][column]
        assert field["constraints"]["enum"][:3] == ["A", "B", "C"] and field["description"], field
    assert "invalid" in schemas["self_assessment"]["missing_reason"]["constraints"]["enum"]
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(tmp_path / "out" / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]


def test_error_value_in_a_text_or_profile_cell(tmp_path, codebook):
    raw = tmp_path / "raw"
    path = write_self_assessment(raw / "U04.xlsx", codebook, "U04", 2021)
    set_cell_xml(path, "基本情報", "B3", 't="e"><v>#REF!</v>')  # the fiscal year: required
    rc, issues, files = run_ingest(raw, tmp_path / "out")
    assert rc == 1
    hit = issues[(issues.file == "U04.xlsx") & (issues.cell == "B3")]
    assert len(hit) == 1 and "#REF!" in hit.message_en.iloc[0] and hit.sheet.iloc[0] == "基本情報"
    assert "#REF!" in hit.message_ja.iloc[0] and hit.code.iloc[0] == "workbook_unusable"
    assert files.status.tolist() == ["skipped"]


# -- every file listed, formula-safe CSVs, control characters ---------------------------------------


def test_every_file_under_the_raw_folder_is_listed_with_what_happened(tmp_path, codebook):
    raw = tmp_path / "raw"
    write_self_assessment(raw / "U01.xlsx", codebook, "U01", 2021)
    write_self_assessment(raw / ".hidden" / "U02.xlsx", codebook, "U02", 2021)
    write_self_assessment(raw / ".U03.xlsx", codebook, "U03", 2021)
    (raw / "README.md").write_text("notes", encoding="utf-8")
    (raw / "sub").mkdir()
    (raw / "sub" / ".gitkeep").write_bytes(b"")
    (raw / "notes.txt").write_text("x", encoding="utf-8")
    (raw / ".git" / "objects").mkdir(parents=True)
    (raw / ".git" / "objects" / "ab12").write_bytes(b"x")
    rc, issues, files = run_ingest(raw, tmp_path / "out")
    files = files.set_index("file")
    assert set(files.index) == {
        "U01.xlsx",
        ".hidden/U02.xlsx",
        ".U03.xlsx",
        "README.md",
        "sub/.gitkeep",
        "notes.txt",
        ".git/objects/ab12",
    }
    assert (
        files.loc[".git/objects/ab12", "status"] == "ignored"
        and "hidden" in files.loc[".git/objects/ab12", "reason_en"]
    )
    assert not (issues.file == ".git/objects/ab12").any()  # listed, but no warning for every hidden file
    assert (
        files.loc["U01.xlsx", "status"] == "loaded"
        and files.loc["U01.xlsx", "reason_en"] == files.loc["U01.xlsx", "reason_ja"] == ""
    )
    for hidden in (".hidden/U02.xlsx", ".U03.xlsx"):
        assert files.loc[hidden, "status"] == "ignored" and "hidden file" in files.loc[hidden, "reason_en"]
        assert "隠しファイル" in files.loc[hidden, "reason_ja"]
        assert (issues.file == hidden).sum() == 1  # said in issues.csv too
    assert (files.loc[["README.md", "sub/.gitkeep", "notes.txt"], "status"] == "ignored").all()
    assert (files.loc[["README.md", "sub/.gitkeep", "notes.txt"], "reason_en"] != "").all()
    # files.csv says why in Japanese too (it is opened by people, like issues.csv).
    assert files.loc[["README.md", "sub/.gitkeep", "notes.txt"], "reason_ja"].str.contains("除外").all()
    sa = pd.read_parquet(tmp_path / "out" / "self_assessment.parquet")
    assert set(sa.respondent_id) == {"U01"}  # hidden workbooks are not parsed


def test_an_empty_raw_folder_is_an_error(tmp_path, codebook, capsys):
    from analysis.ingest.folder import assemble, read_folder

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "README.md").write_text("notes", encoding="utf-8")
    # The command refuses it before writing anything …
    rc = main(["ingest", str(raw), "--out", str(tmp_path / "out"), "--workers", "0", "--quiet", "--year", "2021"])
    assert rc == 1 and "workbook" in capsys.readouterr().err and not (tmp_path / "out").exists()
    # … and tables assembled from it carry an error too, never an empty study without one.
    result = assemble(read_folder(raw, codebook, workers=0), codebook, fiscal_year=2021)
    errors = [p for p in result.problems if p.severity == "error"]
    assert len(errors) == 1 and "nothing to ingest" in errors[0].message


def test_csv_files_are_formula_safe_and_parquet_exact(tmp_path, codebook, capsys):
    from analysis.study.load import load_study

    raw = tmp_path / "raw"
    write_self_assessment(raw / "-U01.xlsx", codebook, "U01", 2021)
    (raw / "=HYPERLINK(1).txt").write_text("x", encoding="utf-8")
    (raw / "\x1b[31mred\x9b.txt").write_text("x", encoding="utf-8")
    out = tmp_path / "out"
    run_ingest(raw, out)
    shown = capsys.readouterr().out
    assert "\x1b" not in shown and "\x9b" not in shown and "\\x1b[31mred\\x9b.txt" in shown
    for name in ("issues.csv", "files.csv"):
        text = (out / name).read_text(encoding="utf-8")
        assert "'=HYPERLINK(1).txt" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
        assert "\x1b" not in text and "\\x1b[31mred\\x9b.txt" in text
    sa_csv = pd.read_csv(out / "self_assessment.csv", dtype=str)
    assert sa_csv.source.str.startswith("'-U01.xlsx!").all()
    sa = pd.read_parquet(out / "self_assessment.parquet")
    assert sa.source.str.startswith("-U01.xlsx!").all()
    study = load_study(out)
    assert study.tables["self_assessment"].source.str.startswith("-U01.xlsx!").all()


# -- one fiscal year per processed folder ------------------------------------------------------------


def test_a_workbook_of_another_year_is_kept_out_of_the_years_tables(tmp_path, codebook):
    # A 2022 folder where one self-assessment still says 令和3年度 (last year's form sent back).
    raw = tmp_path / "2022"
    write_self_assessment(raw / "U01.xlsx", codebook, "U01", 2022)
    write_self_assessment(raw / "U02.xlsx", codebook, "U02", "令和4年度")
    write_self_assessment(raw / "U03.xlsx", codebook, "U03", "令和3年度")
    rc = main(["ingest", str(raw), "--out", str(tmp_path / "out"), "--workers", "0", "--quiet"])
    assert rc == 1
    out = tmp_path / "out"
    issues = pd.read_csv(out / "issues.csv", dtype=str, keep_default_na=False)
    (error,) = issues[issues.severity == "error"].itertuples()
    assert (error.file, error.sheet, error.cell) == ("U03.xlsx", "基本情報", "B3")
    assert "fiscal year 2021" in error.message_en
    assert "入力された年度は2021年度ですが、このフォルダは2022年度のもの" in error.message_ja
    respondents = pd.read_parquet(out / "respondents.parquet")
    maturity = pd.read_parquet(out / "maturity.parquet")
    users = respondents[respondents.group == "user"]
    assert set(users.respondent_id) == set(maturity.respondent_id) == {"U01", "U02"}
    assert set(respondents.fiscal_year) == set(maturity.fiscal_year) == {2022}
    # 表1.1's user count and the maturity table count the same companies.
    from analysis.report.builders.records import placeholder_count
    from analysis.study.load import load_study

    assert placeholder_count(load_study(out), "respondents", "user") == len(maturity) == 2
    files = pd.read_csv(out / "files.csv", keep_default_na=False).set_index("file")
    assert files.loc["U03.xlsx", "status"] == "skipped" and "fiscal year 2021" in files.loc["U03.xlsx", "reason_en"]


def test_roster_rows_of_another_year_are_one_error_naming_their_cells(sample_2021, tmp_path):
    import openpyxl

    raw = tmp_path / "2021"
    raw.mkdir()
    shutil.copy(sample_2021 / "roster.xlsx", raw / "roster.xlsx")
    book = openpyxl.load_workbook(raw / "roster.xlsx")
    sheet = next(
        ws
        for ws in book.worksheets
        if ws.title != "_meta"
        and ws.sheet_state == "visible"
        and any(c.value in ("年度", "Fiscal year") for c in ws[1])
    )
    column = next(c.column_letter for c in sheet[1] if c.value in ("年度", "Fiscal year"))
    sheet[f"{column}2"] = 2020
    sheet[f"{column}3"] = "令和2年度"
    book.save(raw / "roster.xlsx")
    rc, issues, files = run_ingest(raw, tmp_path / "out")
    errors = issues[issues.severity == "error"]
    (error,) = errors.itertuples()
    assert (error.file, error.cell) == ("roster.xlsx", f"{column}2") and f"also {column}3" in error.message_en
    assert "2 row(s) kept out of the 2021 tables" in error.message_en
    assert f"ほかに {column}3" in error.message_ja and "2行を2021年度の表から除きました" in error.message_ja
    respondents = pd.read_parquet(tmp_path / "out" / "respondents.parquet")
    assert set(respondents.fiscal_year) == {2021}
    (f,) = files.itertuples()
    assert f.cells_read == f.cells_loaded + f.cells_reported


@settings(max_examples=examples(200), deadline=None)
@given(texts=st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=12), min_size=1, max_size=6))
def test_csv_cells_never_start_a_formula_nor_carry_control_characters(texts):
    from analysis.output.safe import RISKY_PREFIXES, csv_safe_frame

    frame = pd.DataFrame({"text": texts, "n": range(len(texts))})
    safe = csv_safe_frame(frame)
    for before, after in zip(texts, safe["text"], strict=True):
        assert not after.startswith(RISKY_PREFIXES)
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", after)
        # Only the prefix and the escapes change a cell: plain text is left as it was.
        if not re.search(r"[\x00-\x1f\x7f-\x9f]", before) and not before.startswith(RISKY_PREFIXES):
            assert after == before
    assert safe["n"].tolist() == list(range(len(texts)))
    pd.testing.assert_frame_equal(frame, pd.DataFrame({"text": texts, "n": range(len(texts))}))


_ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="回答">'
    '<table:table-row table:number-rows-repeated="2"><table:table-cell office:value-type="string">'
    "<text:p>a</text:p></table:table-cell></table:table-row><table:table-row>"
    '<table:table-cell table:number-columns-repeated="2"/>'
    '<table:table-cell table:formula="of:=1/0" office:value-type="float" office:value="0" '
    'calcext:value-type="error"><text:p>#DIV/0!</text:p></table:table-cell>'
    '<table:table-cell table:formula="of:=NA()" office:value-type="string" office:string-value="" '
    'calcext:value-type="error"><text:p>#N/A</text:p></table:table-cell>'
    "</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"
)


def test_ods_error_cells_are_read_as_errors_not_zero_or_blank(tmp_path):
    # LibreOffice stores an error as a float 0 or an empty string, which calamine returns as such.
    from analysis.ingest.validate import cell_error
    from analysis.ingest.workbook import ErrorValue, read_workbook

    path = tmp_path / "book.ods"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        package.writestr("content.xml", _ODS_CONTENT)
        package.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>',
        )
    grid = read_workbook(path).sheets["回答"]
    assert grid.cell(2, 2) == ErrorValue("#DIV/0!") and grid.cell(2, 3) == ErrorValue("#N/A")
    assert grid.cell(1, 0) == "a" and grid.cell(2, 1) == ""
    error = cell_error(grid.cell(2, 2))
    assert error is not None and "#DIV/0!" in error.en and "#DIV/0!" in error.ja
