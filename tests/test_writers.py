"""Writers: CSV and Markdown bytes, the workbook's sheets and cell types, the page's links, figures."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import HtmlReferences

from analysis.codebook.words import Words
from analysis.report.registry import ReportFigure, ReportTable
from analysis.report.writers import (
    HEADER_ROW,
    csv_bytes,
    markdown_text,
    prepare_table,
    save_figure,
    write_report,
    write_workbook,
)


@pytest.fixture(scope="module")
def words(codebook):
    return Words(codebook, "ja")


def sample_table(name: str = "sample") -> ReportTable:
    frame = pd.DataFrame(
        {
            "group": ["user", "vendor"],
            "n": pd.array([10, None], dtype="Int64"),
            "share": [0.625, 0.1],
            "mean": [3.25, 2.0],
            "large_cap": pd.array([True, None], dtype="boolean"),
            "text": ['=HYPERLINK("x","y")', "a|b\nc"],
        }
    )
    return ReportTable(
        name=name,
        title_ja="表 テスト",
        title_en="Test table",
        frame=frame,
        section="records",
        note_ja="注記",
        counts=("n",),
        percents=("share",),
    )


def test_prepare_types_every_column(words):
    prepared = prepare_table(sample_table(), words)
    assert prepared.headers == ("回答者区分", "件数", "割合", "平均", "large_cap", "発言")
    assert prepared.kinds == ("text", "int", "percent", "float", "bool", "text")
    assert prepared.rows[0] == ("user", 10, 0.625, 3.25, True, '=HYPERLINK("x","y")')
    assert prepared.rows[1][1] is None and prepared.rows[1][4] is None
    assert prepared.section == "報告書の表"


def test_an_object_column_of_counts_with_a_suppression_marker_keeps_numbers(words):
    frame = pd.DataFrame({"n": pd.Series([12, "<5", None], dtype="object"), "x": pd.Series([1, 2, 3], dtype="object")})
    table = ReportTable(name="t", title_ja="t", title_en="t", frame=frame, counts=("n",))
    prepared = prepare_table(table, words)
    assert prepared.kinds == ("int", "int")
    assert [row[0] for row in prepared.rows] == [12, "<5", None]


def test_csv_bytes_are_exact(words):
    data = csv_bytes(prepare_table(sample_table(), words))
    expected = (
        "回答者区分,件数,割合,平均,large_cap,発言\n"
        'user,10,0.625,3.25,True,"\'=HYPERLINK(""x"",""y"")"\n'
        'vendor,,0.1,2,,"a|b\nc"\n'
    )
    assert data == expected.encode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf") and not data.startswith(b"\xef\xbb\xbf\xef\xbb\xbf")


def test_csv_float_noise_is_rounded_away(words):
    table = ReportTable(name="t", title_ja="t", title_en="t", frame=pd.DataFrame({"x": [0.3 - 0.1, -0.5]}))
    assert csv_bytes(prepare_table(table, words)) == b"\xef\xbb\xbfx\n0.2\n-0.5\n"


def test_markdown_is_exact(words):
    text = markdown_text(prepare_table(sample_table(), words), words)
    assert text == (
        "# 表 テスト\n\n"
        "| 回答者区分 | 件数 | 割合 | 平均 | large\\_cap | 発言 |\n"
        "| --- | ---: | ---: | ---: | ---: | --- |\n"
        '| user | 10 | 62.5% | 3.25 | はい | \'=HYPERLINK("x","y") |\n'
        "| vendor |  | 10.0% | 2.00 |  | a\\|b<br>c |\n"
        "\n注: 注記\n"
    )


def test_markdown_escapes_angle_brackets_so_text_is_not_swallowed_as_html(words):
    frame = pd.DataFrame({"title": ["スキル可視化<1.0 版>"]})
    table = ReportTable(name="t", title_ja="t", title_en="t", frame=frame)
    assert "スキル可視化\\<1.0 版>" in markdown_text(prepare_table(table, words), words)


def test_an_empty_table_says_so(words):
    frame = pd.DataFrame({"n": pd.array([], dtype="Int64")})
    table = ReportTable(name="t", title_ja="空", title_en="empty", frame=frame)
    assert "(該当なし)" in markdown_text(prepare_table(table, words), words)


def test_workbook_contents_links_every_sheet_with_typed_cells(tmp_path, words):
    tables = [
        prepare_table(sample_table("first"), words),
        prepare_table(sample_table("a:very/long*name[that]needs-cleaning-up"), words),
    ]
    path = tmp_path / "tables.xlsx"
    names = write_workbook(tables, path, words, heading="見出し", banner="内部用")
    book = openpyxl.load_workbook(path)
    contents = book["目次"]
    assert book.sheetnames == ["目次", *names]
    linked = [contents.cell(HEADER_ROW + i, 2).hyperlink.location for i in (1, 2)]
    assert linked == [f"'{n}'!A1" for n in names]
    assert all(len(n) <= 31 and not re.search(r"[\[\]:*?/\\]", n) for n in names)

    sheet = book[names[0]]
    assert sheet.freeze_panes == f"A{HEADER_ROW + 1}"
    assert [c.value for c in sheet[HEADER_ROW]] == ["回答者区分", "件数", "割合", "平均", "large_cap", "発言"]
    n, share, mean, flag, text = (sheet.cell(HEADER_ROW + 1, j) for j in range(2, 7))
    assert (n.value, n.data_type, n.number_format) == (10, "n", "0")
    assert (share.value, share.data_type, share.number_format) == (0.625, "n", "0.0%")
    assert (mean.value, mean.number_format) == (3.25, "0.00")
    assert (flag.value, flag.data_type) == (True, "b")
    assert (text.value, text.data_type) == ('=HYPERLINK("x","y")', "s")
    assert sheet.cell(HEADER_ROW + 2, 2).value is None
    assert sheet.column_dimensions["F"].width >= len("=HYPERLINK")
    assert not [c for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"]


def _figure():
    from analysis.figures.plotting import assert_no_missing_glyphs, plt  # the Japanese font is set on import

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(["高", "中", "低"], [2, 5, 3])
    ax.set_title("成熟度の分布")
    assert_no_missing_glyphs(fig)
    return fig


def test_report_page_references_only_files_that_exist(tmp_path, words):
    findings = ReportTable(
        name="findings",
        title_ja="所見",
        title_en="Findings",
        frame=pd.DataFrame({"finding": ["uk_mitigation"], "holds": [True], "evidence": ["3/3"]}),
    )
    items = [
        sample_table(),
        ReportFigure(name="levels", title_ja="成熟度", title_en="Levels", figure=_figure(), section="maturity"),
        findings,
    ]
    written = write_report(tmp_path, items, words, heading="見出し")
    assert {p.relative_to(tmp_path).as_posix() for p in written} >= {
        "tables.xlsx",
        "index.html",
        "findings.csv",
        "tables/sample.csv",
        "tables/sample.md",
        "figures/levels.png",
        "figures/levels.svg",
        "tables/findings.csv",
    }
    top = (tmp_path / "findings.csv").read_text(encoding="utf-8-sig").splitlines()
    assert top[0] == "finding,holds,evidence", "findings.csv keeps the column ids in every language"
    assert top[1:] == (tmp_path / "tables" / "findings.csv").read_text(encoding="utf-8-sig").splitlines()[1:]

    parser = HtmlReferences()
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    parser.feed(page)
    files = [r for r in parser.refs if not r.startswith(("#", "data:"))]
    assert "figures/levels.png" in files and "tables.xlsx" in files and "findings.csv" in files
    assert any(r.startswith("data:image/svg+xml;base64,") for r in parser.refs)  # the figure, embedded
    for ref in parser.refs:
        if ref.startswith("data:"):
            continue
        assert "://" not in ref and not ref.startswith("/")
        if ref.startswith("#"):
            assert ref[1:] in parser.ids
        else:
            assert (tmp_path / ref).is_file(), ref
    assert "&#x27;=HYPERLINK" not in page and "=HYPERLINK(&quot;x&quot;" in page  # escaped, not neutralised


def test_figures_are_png_and_svg_with_the_same_bytes_every_time(tmp_path):
    first = save_figure(_figure(), tmp_path / "one", "levels")
    second = save_figure(_figure(), tmp_path / "two", "levels")
    assert [p.name for p in first] == ["levels.png", "levels.svg"]
    assert first[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for a, b in zip(first, second, strict=True):
        assert Path(a).read_bytes() == Path(b).read_bytes()


def test_figures_drawn_in_worker_processes_are_the_figures_drawn_here(tmp_path, monkeypatch):
    """Many figures (a radar per company) are drawn side by side; the files are the same bytes."""
    import multiprocessing

    from analysis.report import writers

    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("figures are drawn in worker processes on Linux only (fork)")
    monkeypatch.setattr(writers, "PARALLEL_FIGURES", 2)
    figures = [(ReportFigure(f"f{i}", "図", "figure", draw=_figure), f"f{i}") for i in range(5)]
    here = writers.render_figures(figures, tmp_path / "here", workers=1)
    there = writers.render_figures(figures, tmp_path / "there", workers=2)
    assert list(here) == list(there) == [f"f{i}" for i in range(5)]
    for stem in here:
        assert [p.name for p in here[stem]] == [p.name for p in there[stem]] == [f"{stem}.png", f"{stem}.svg"]
        for a, b in zip(here[stem], there[stem], strict=True):
            assert a.read_bytes() == b.read_bytes()
    assert writers._PENDING == []  # nothing of the report kept after drawing


def test_tables_with_clashing_file_names_get_distinct_files(tmp_path, words):
    items = [sample_table("a/b"), sample_table("a_b")]
    write_report(tmp_path, items, words, heading="h")
    assert sorted(p.name for p in (tmp_path / "tables").glob("*.csv")) == ["a_b.csv", "a_b~2.csv"]


def test_negative_numbers_are_numbers_in_csv_and_markdown(words):
    frame = pd.DataFrame({"change_n": pd.array([-2], dtype="Int64"), "change_share": [-0.2], "text": ["-2"]})
    table = ReportTable(name="t", title_ja="t", title_en="t", frame=frame, percents=("change_share",))
    prepared = prepare_table(table, words)
    assert csv_bytes(prepared).decode("utf-8-sig").splitlines()[1] == "-2,-0.2,'-2"
    assert markdown_text(prepared, words).splitlines()[4] == "| -2 | -20.0% | '-2 |"


def test_a_meaningful_index_and_multiindex_columns_are_kept(words):
    frame = pd.DataFrame(
        [[1, 2], [3, 4]],
        index=pd.Index(["高", "低"], name="maturity"),
        columns=pd.MultiIndex.from_tuples([("Q1", "yes"), ("Q1", "no")]),
    )
    prepared = prepare_table(ReportTable(name="t", title_ja="t", title_en="t", frame=frame), words)
    assert prepared.headers == ("成熟度", "Q1 / yes", "Q1 / no")
    assert prepared.rows == (("高", 1, 2), ("低", 3, 4))
    filtered = pd.DataFrame({"n": [5, 6, 7]}).iloc[[0, 2]]  # row numbers of a filtered frame: not shown
    table = ReportTable(name="t", title_ja="t", title_en="t", frame=filtered)
    assert prepare_table(table, words).headers == ("件数",)
    assert prepare_table(table, words).rows == ((5,), (7,))
