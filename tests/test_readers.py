"""Issue 15: a report Japanese readers open without friction (CSV BOM, workbook, page, figures)."""

from __future__ import annotations

import pandas as pd
from conftest import all_answers, write_self_assessment

from analysis.ingest.folder import ingest
from analysis.report.registry import ReportTable
from analysis.study.load import load_study

BOM = b"\xef\xbb\xbf"


def test_processed_csvs_start_with_one_bom_and_read_back(tmp_path, codebook):
    write_self_assessment(
        tmp_path / "raw" / "a.xlsx", codebook, "U07", "令和3年度", all_answers(codebook, 4), industry="製造業"
    )
    (tmp_path / "raw" / "bad.xlsx").write_bytes(b"not a workbook")  # so that issues.csv has a row
    ingest(tmp_path / "raw", tmp_path / "out", fiscal_year=2021)
    csvs = sorted((tmp_path / "out").glob("*.csv"))
    assert {"issues.csv", "files.csv", "respondents.csv"} <= {p.name for p in csvs}
    for path in csvs:
        data = path.read_bytes()
        assert data.startswith(BOM) and not data.startswith(BOM * 2), path.name
        assert not pd.read_csv(path, encoding="utf-8-sig").columns[0].startswith("\ufeff"), path.name
    study = load_study(tmp_path / "out")
    assert "\ufeff" not in "".join(map(str, study.issues.columns))
    assert list(study.issues.columns)[0] == pd.read_csv(tmp_path / "out" / "issues.csv").columns[0]


# -- tables.xlsx ---------------------------------------------------------------------------------


def _p_table(name: str, title: str, columns: int = 3) -> ReportTable:
    frame = pd.DataFrame({"group": ["user", "vendor"], "p_value": [0.0042, 0.00002], "share": [0.5, 0.25]})
    for j in range(columns - 3):
        frame[f"wide_{j}"] = ["とても長い説明文がここに入ります" * 2] * 2
    return ReportTable(name=name, title_ja=title, title_en=title, frame=frame, note_ja="注記の文", percents=("share",))


def test_workbook_reads_as_a_statistician_hands_it_over(tmp_path, codebook):
    import re
    import zipfile

    import openpyxl

    from analysis.codebook.words import Words
    from analysis.report.writers import HEADER_ROW, prepare_table, write_workbook

    words = Words(codebook, "ja")
    long_title = "事前アンケート Q1-1×成熟度: サイバーセキュリティ経営ガイドラインVer.2.0を活用していますか。"
    tables = [
        prepare_table(t, words)
        for t in (
            _p_table("table_1_1", "表1.1 調査実施内容"),
            _p_table("q1", long_title),
            _p_table("q1b", long_title),
            _p_table("wide", "表[3]/4*:?", columns=12),
        )
    ]
    path = tmp_path / "tables.xlsx"
    names = write_workbook(tables, path, words, heading="見出し")
    assert names[:3] == ["表1.1 調査実施内容", "事前アンケート Q1-1×成熟度", "事前アンケート Q1-1×成熟度~2"]
    assert all(len(n) <= 31 and not re.search(r"[\[\]:*?/\\]", n) for n in names)
    assert len({n.lower() for n in names}) == len(names)

    book = openpyxl.load_workbook(path)
    contents = book.worksheets[0]
    ids = {contents.cell(HEADER_ROW + i, 2).value: contents.cell(HEADER_ROW + i, 7).value for i in range(1, 5)}
    assert ids == dict(zip(names, ["table_1_1", "q1", "q1b", "wide"], strict=True))

    with zipfile.ZipFile(path) as archive:
        styles = archive.read("xl/styles.xml").decode("utf-8")
    first_font = re.search(r"<fonts[^>]*>\s*<font>(.*?)</font>", styles, re.S).group(1)
    assert 'val="Yu Gothic"' in first_font  # the default font: every unstyled cell shows it
    assert "Calibri" not in styles

    sheet = book[names[0]]
    p, tiny, share = sheet.cell(HEADER_ROW + 1, 2), sheet.cell(HEADER_ROW + 2, 2), sheet.cell(HEADER_ROW + 1, 3)
    assert (p.value, p.data_type) == (0.0042, "n") and (tiny.value, tiny.data_type) == (0.00002, "n")
    assert p.number_format == tiny.number_format == '[<0.001]"<0.001";0.000#'
    assert share.number_format == "0.0%"
    assert sheet.cell(HEADER_ROW, 1).font.name == "Yu Gothic" and sheet.cell(HEADER_ROW, 1).font.b
    assert sheet.cell(HEADER_ROW + 4, 1).value == "注: 注記の文"  # the note under the table

    assert sheet.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.page_setup.orientation == "portrait"
    assert book[names[3]].page_setup.orientation == "landscape"


def test_p_values_are_shown_with_their_digits():
    from analysis.report.writers import p_text

    assert [p_text(v) for v in (0.0042, 0.00099, 0.001, 0.05, 0.5, 1.0, 0.01234)] == [
        "0.0042",
        "<0.001",
        "0.001",
        "0.050",
        "0.500",
        "1.000",
        "0.0123",
    ]


# -- templates for any study year -------------------------------------------------------------------


def test_japanese_fiscal_year_round_trips():
    from hypothesis import given
    from hypothesis import strategies as st

    from analysis.ingest.normalise import japanese_fiscal_year, parse_fiscal_year

    assert [japanese_fiscal_year(y) for y in (2018, 2019, 2021, 2022)] == [
        "平成30年度",
        "令和元年度",
        "令和3年度",
        "令和4年度",
    ]

    @given(st.integers(min_value=1990, max_value=2100))
    def round_trip(year):
        assert parse_fiscal_year(japanese_fiscal_year(year)) == year

    round_trip()


def _texts(book) -> str:
    return "\n".join(
        str(v)
        for ws in book.worksheets
        if ws.sheet_state == "visible"
        for row in ws.iter_rows(values_only=True)
        for v in row
        if v is not None
    )


def test_template_for_2022_is_stamped_and_japanese_throughout(tmp_path, codebook):
    import re

    import openpyxl

    from analysis.cli import main

    assert main(["template", "--out", str(tmp_path / "ja"), "--year", "2022"]) == 0
    names = sorted(p.name for p in (tmp_path / "ja").iterdir())
    assert "self_assessment_2022.xlsx" in names and not [n for n in names if n.startswith("fy2021")]
    book = openpyxl.load_workbook(tmp_path / "ja" / "self_assessment_2022.xlsx")
    instructions = book.worksheets[0]
    assert "令和4年度" in instructions["A1"].value and "令和4年度" in instructions["A2"].value
    everything = _texts(book)
    assert "令和3年度" not in everything and "2022、FY2022、令和4年度、R4" in everything
    for path in sorted((tmp_path / "ja").iterdir()):
        book = openpyxl.load_workbook(path)
        assert "令和3年度" not in _texts(book), path.name
        for line in _texts(book).split("\n"):
            # Japanese text throughout: no English sentence (ids, codes and numbers are fine)
            assert not re.search(r"[A-Za-z]{3,}(?: [A-Za-z]{2,}){2,}", line), (path.name, line)

    assert main(["template", "--out", str(tmp_path / "en"), "--year", "2019", "--lang", "en"]) == 0
    book = openpyxl.load_workbook(tmp_path / "en" / "self_assessment_2019.xlsx")
    assert "FY2019" in book.worksheets[0]["A1"].value
    english = _texts(book)
    assert "2019, FY2019, 令和元年度 or R1." in english and "Anonymous id such as U01" in english
    assert not [line for line in english.split("\n") if "研究チーム" in line or "記入" in line]


def test_every_help_text_has_both_languages(codebook):
    for instrument in codebook.sheets:
        for spec in codebook.instrument_sheets(instrument):
            for column in spec.columns:
                assert bool(column.description_en) == bool(column.description_ja), (instrument, column.column)


def test_labelled_p_columns_get_the_p_value_format(codebook):
    from analysis.codebook.words import Words
    from analysis.report.writers import prepare_table

    frame = pd.DataFrame({"開示項目": ["a"], "p値(Fisherの正確検定)": [0.0042], "割合": [0.5], "percent": [0.2]})
    table = ReportTable(name="t", title_ja="t", title_en="t", frame=frame)
    assert prepare_table(table, Words(codebook, "ja")).kinds == ("text", "pvalue", "float", "float")
