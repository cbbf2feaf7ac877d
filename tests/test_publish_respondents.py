"""Nothing respondent-level in publish mode, and names redacted in free text (issue 11, items 1-2).

The end-to-end tests plant names in a copy of the sample study (a statement, a roster 概要 and a
disclosure 備考, each naming a company or organisation of the study in another spelling), ingest
it, publish the report and read every file written as an attacker would.
"""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.ingest.redact import (
    FLAG_COLUMN,
    FoundName,
    build_redactor,
    free_text_columns,
    legal_forms,
    name_marks,
    redact_records,
)
from analysis.report.registry import ReportFigure, ReportTable

# Planted: (personal column, name as typed in the workbook, how free text spells it, its core).
SA_NAME = "株式会社サクラ電工"
STATEMENT = "当社(ｻｸﾗ 電工)では、経営会議で毎月リスクを報告している。"  # half-width, a space
ORG_NAME = "ミツボシ情報システム株式会社"
DESCRIPTION = "ミツボシ・情報システム(株)の教育サービス部門"  # middle dot, (株)
COMPANY_NAME = "Globex Corporation"
NOTE = "ＧＬＯＢＥＸ Corp. の年次報告書による"  # full width, upper case, another legal form
CORES = ("サクラ電工", "ミツボシ情報システム", "globex")


def _skeleton(text: str) -> str:
    return re.sub(r"[\s・･]", "", unicodedata.normalize("NFKC", text)).lower()


def _names_in(text: str) -> list[str]:
    flat = _skeleton(text)
    return [core for core in CORES if core in flat]


# -- the redactor ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redactor(codebook):
    names = [
        FoundName("company_name", SA_NAME, "sa.xlsx!基本情報!B6"),
        FoundName("organisation_name", ORG_NAME, "roster.xlsx!回答者!H2"),
        FoundName("company_name", COMPANY_NAME, "disclosures.xlsx!企業!G2"),
        FoundName("company_name", "NEC", "x!y!A1"),
        FoundName("company_name", "サンプル1", "x!y!A2"),
        FoundName("company_name", "Ａ株式会社", "x!y!A3"),
    ]
    return build_redactor(names, name_marks(codebook), legal_forms(codebook))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (STATEMENT, "当社([企業名])では、経営会議で毎月リスクを報告している。"),
        (DESCRIPTION, "[組織名]の教育サービス部門"),
        (NOTE, "[企業名] の年次報告書による"),
        ("（株）サクラ電工と㈱サクラ電工", "[企業名]と[企業名]"),
        ("ＮＥＣの例", "[企業名]の例"),
    ],
)
def test_every_spelling_of_a_name_becomes_its_mark(redactor, text, expected):
    assert redactor.redact(text) == (expected, True)


@pytest.mark.parametrize("text", ["NECESSARY", "サンプル10の回答", "A社とB社", "経営会議", ""])
def test_words_that_only_contain_a_name_are_left_alone(redactor, text):
    assert redactor.redact(text) == (text, False)


def test_a_name_too_short_to_look_for_is_reported(redactor):
    assert [n.source for n in redactor.too_short] == ["x!y!A3"]


def test_marks_come_from_the_personal_columns(codebook):
    assert name_marks(codebook) == {"company_name": "[企業名]", "organisation_name": "[組織名]"}
    assert {"text", "description", "note", "answer_text"} <= free_text_columns(codebook)
    assert "company_name" not in free_text_columns(codebook)


def test_redact_records_flags_rows_and_leaves_other_columns(redactor, codebook):
    rows = {
        "statements": [
            {"text": STATEMENT, "category_id": "サクラ電工", "source": "s.xlsx!発言!G2"},
            {"text": "問題なし", "source": "s.xlsx!発言!G3"},
        ]
    }
    out, cells = redact_records(rows, redactor, free_text_columns(codebook))
    first, second = out["statements"]
    assert "[企業名]" in first["text"] and first[FLAG_COLUMN] and not second[FLAG_COLUMN]
    assert first["category_id"] == "サクラ電工"  # codes are not free text
    assert rows["statements"][0]["text"] == STATEMENT  # the input is not modified
    assert [(c.table, c.column, c.source) for c in cells] == [("statements", "text", "s.xlsx!発言!G2")]


_KATAKANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
_HALF = {unicodedata.normalize("NFKC", chr(c)): chr(c) for c in range(0xFF66, 0xFF9E)}


def _spell(core: str, draw) -> str:
    """Another spelling of ``core``: half-width kana or full-width Latin, case, spaces between."""
    out = []
    for ch in core:
        if ch in _HALF and draw(st.booleans()):
            ch = _HALF[ch]
        elif ch.isascii() and ch.isalpha():
            ch = draw(st.sampled_from([ch.lower(), ch.upper(), chr(ord(ch.upper()) + 0xFEE0)]))
        out.append(ch + draw(st.sampled_from(["", "", " ", "・"])))
    return "".join(out).rstrip(" ・")


@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_property_a_planted_name_never_survives(codebook, data):
    """Any name, planted in any spelling with or without a legal form, is gone after redaction."""
    alphabet = st.sampled_from(list(_KATAKANA) + list("ABCDEFGHXYZ"))
    core = "".join(data.draw(st.lists(alphabet, min_size=2, max_size=8)))
    form = data.draw(st.sampled_from(["", "株式会社", "(株)", "㈱", "（株）", " Inc.", "有限会社"]))
    typed = data.draw(st.sampled_from([form + core, core + form]))
    redactor = build_redactor([FoundName("company_name", typed, "a!b!C1")], name_marks(codebook), legal_forms(codebook))
    filler = st.text(alphabet="のはがでをにへとよりから、。 ", max_size=12)
    planted = data.draw(filler) + _spell(core, data.draw) + data.draw(st.sampled_from(["", form])) + data.draw(filler)
    text, hit = redactor.redact(planted)
    assert hit and _skeleton(core) not in _skeleton(text)


# -- publication rule -------------------------------------------------------------------------------


def test_publishable_leaves_out_respondent_level_tables_and_figures():
    from analysis.report.build import publishable

    rows = pd.DataFrame({"level": ["A", "B"]})
    items = [
        ReportTable("per_company", "t", "t", rows, respondent_level=True),
        ReportTable("kept", "t", "t", rows),
        ReportFigure("radar_U01", "t", "t", figure=None, respondent_level=True),
    ]
    assert [i.name for i in publishable(items)] == ["kept"]


def test_small_maturity_groups_are_withheld(codebook):
    from analysis.statements.coding import WITHHELD, small_maturity_groups, withhold_maturity

    maturity = pd.DataFrame(
        {
            "respondent_id": [f"U{i:02d}" for i in range(9)],
            "fiscal_year": 2021,
            "level": ["A"] * 5 + ["B"] * 2 + ["C"] + [None],
        }
    )
    assert small_maturity_groups(maturity, codebook, k=5) == {"中", "低"}
    assert small_maturity_groups(maturity, codebook, k=2) == {"低"}
    assert small_maturity_groups(maturity.iloc[0:0], codebook, k=5) == {"高", "中", "低"}  # fail closed
    statements = pd.DataFrame({"maturity": ["高", "中", "低", None]})
    got = withhold_maturity(statements, {"中", "低"})["maturity"].tolist()
    assert got[:3] == ["高", WITHHELD, WITHHELD] and pd.isna(got[3])


# -- end to end: plant, ingest, publish, attack --------------------------------------------------------


def _header_columns(ws, header: str) -> tuple[int, dict[str, int]]:
    for row in ws.iter_rows(min_row=1, max_row=20):
        values = [c.value for c in row]
        if header in values:
            return row[0].row, {v: i + 1 for i, v in enumerate(values) if v}
    raise AssertionError(f"no header {header} in {ws.title}")


def _plant(raw: Path) -> None:
    year = raw / "2021"
    path = year / "self_assessment" / "sa_U02.xlsx"
    wb = openpyxl.load_workbook(path)
    for row in wb["基本情報"].iter_rows(min_row=1):
        if row[0].value == "企業名":
            row[1].value = SA_NAME
    wb.save(path)

    path = year / "statements.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["発言"]
    top, cols = _header_columns(ws, "回答者ID")
    for r in range(top + 1, ws.max_row + 1):
        if ws.cell(r, cols["回答者ID"]).value == "U02":
            ws.cell(r, cols["発言"]).value = STATEMENT
            break
    wb.save(path)

    path = year / "roster.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["回答者"]
    top, cols = _header_columns(ws, "回答者ID")
    for r in range(top + 1, ws.max_row + 1):
        if ws.cell(r, cols["回答者ID"]).value == "V01":
            ws.cell(r, cols["組織名"]).value = ORG_NAME
            ws.cell(r, cols["概要"]).value = DESCRIPTION
    wb.save(path)

    path = year / "disclosures.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["企業"]
    top, cols = _header_columns(ws, "企業ID")
    for r in range(top + 1, ws.max_row + 1):
        if ws.cell(r, cols["企業ID"]).value == "O01":
            ws.cell(r, cols["企業名"]).value = COMPANY_NAME
    ws = wb["開示"]
    top, cols = _header_columns(ws, "企業ID")
    for r in range(top + 1, ws.max_row + 1):
        if ws.cell(r, cols["企業ID"]).value == "O01":
            ws.cell(r, cols["備考"]).value = NOTE
            break
    wb.save(path)


@pytest.fixture(scope="module")
def planted(tmp_path_factory, sample_raw, sample_processed):
    """The sample study with names planted in 2021 (ingested) and 2021 published; 2020 (nothing
    planted) is the shared sample's, copied."""
    from analysis.ingest.folder import ingest
    from analysis.report.build import build_report

    root = tmp_path_factory.mktemp("planted")
    shutil.copytree(sample_raw / "2021", root / "raw" / "2021")
    _plant(root / "raw")
    shutil.copytree(sample_processed / "2020", root / "processed" / "2020")
    results = {
        2021: ingest(root / "raw" / "2021", out_dir=root / "processed" / "2021", fiscal_year=2021, progress=False)
    }
    build_report(root / "processed" / "2021", root / "publish", publish=True, previous_dir=root / "processed" / "2020")
    return root, results


def _published_texts(folder: Path) -> dict[str, str]:
    """Every text a reader of the publish folder sees: csv, md, html, svg, every xlsx cell."""
    texts = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".csv", ".md", ".html", ".svg"):
            texts[str(path.relative_to(folder))] = path.read_text(encoding="utf-8", errors="replace")
        elif path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            cells = [book.sheetnames[0], *book.sheetnames]
            for sheet in book.worksheets:
                cells += [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
            texts[str(path.relative_to(folder))] = "\n".join(cells)
    assert any(k.endswith(".xlsx") for k in texts) and any(k.endswith(".svg") for k in texts)
    return texts


def test_planted_names_never_reach_processed_data(planted):
    root, results = planted
    assert results[2021].n_errors == 0
    redacted = [p for p in results[2021].problems if "replaced by a neutral mark" in p.message]
    assert {p.file for p in redacted} == {"statements.xlsx", "roster.xlsx", "disclosures.xlsx"}
    for path in (root / "processed" / "2021").iterdir():
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            text = "\n".join(frame.astype("string").fillna("").to_numpy().ravel().tolist())
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
        assert not _names_in(text), path.name
    statements = pd.read_parquet(root / "processed" / "2021" / "statements.parquet")
    flagged = statements[statements[FLAG_COLUMN].fillna(False).astype(bool)]
    assert flagged["respondent_id"].tolist() == ["U02"] and "[企業名]" in flagged["text"].iloc[0]
    respondents = pd.read_parquet(root / "processed" / "2021" / "respondents.parquet")
    assert respondents.loc[respondents["respondent_id"] == "V01", "description"].iloc[0].startswith("[組織名]")
    disclosures = pd.read_parquet(root / "processed" / "2021" / "disclosures.parquet")
    assert disclosures["note"].fillna("").str.contains(r"\[企業名\]").sum() == 1


def test_planted_names_never_reach_publish_outputs(planted):
    root, _ = planted
    texts = _published_texts(root / "publish")
    leaks = {name: _names_in(text) for name, text in texts.items() if _names_in(text)}
    assert not leaks, leaks
    # The redacted statement and description are still published, with the mark.
    assert "[企業名]" in texts["tables/findings_user.csv"]
    assert "[組織名]" in texts["tables/table_2_2.csv"]


def test_internal_report_flags_the_statement_to_reword(planted):
    from analysis.codebook.words import Words
    from analysis.report.builders.statements import statement_tables
    from analysis.report.registry import ReportContext
    from analysis.study.load import load_study

    root, _ = planted
    study = load_study(root / "processed" / "2021")
    words = Words(study.codebook, "ja")
    internal = {t.name: t.labelled(words) for t in statement_tables(study, ReportContext(publish=False))}
    listing = internal["findings_user"]
    flagged = listing[listing[words.label("name_redacted", "crosstab")]]
    assert len(flagged) == 1 and "[企業名]" in flagged[words.label("text", "crosstab")].iloc[0]
    published = {t.name: t.labelled(words) for t in statement_tables(study, ReportContext(publish=True))}
    assert words.label("name_redacted", "crosstab") not in published["findings_user"]


def test_no_respondent_id_in_any_publish_output(planted):
    root, _ = planted
    ids = set(pd.read_parquet(root / "processed" / "2021" / "respondents.parquet")["respondent_id"])
    ids |= set(pd.read_parquet(root / "processed" / "2020" / "respondents.parquet")["respondent_id"])
    assert {"U01", "V01", "O01", "D01"} <= ids
    pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(sorted(ids, key=len, reverse=True)) + r")(?![A-Za-z0-9])")
    found = {name: sorted(set(pattern.findall(text))) for name, text in _published_texts(root / "publish").items()}
    assert not {name: hit for name, hit in found.items() if hit}


def test_no_respondent_level_item_is_published(planted):
    from analysis.report.build import collect_items
    from analysis.report.registry import ReportContext
    from analysis.study.load import load_study

    root, _ = planted
    study = load_study(root / "processed" / "2021")
    previous = load_study(root / "processed" / "2020")
    items, _ = collect_items(study, ReportContext(publish=False, previous=previous, per_respondent=True))
    flagged = {i.name for i in items if i.respondent_level}
    assert {
        "maturity_respondents",
        "maturity_one_year_only",
        "disclosure_peer_pairs",
        "statements_matrix_user",
        "maturity_respondent_heatmap",
        "disclosure_heatmap",
        "maturity_radar_U01",
    } <= flagged
    written = {p.stem for p in (root / "publish").rglob("*") if p.suffix in (".csv", ".svg", ".png")}
    assert not flagged & written
    html = (root / "publish" / "index.html").read_text(encoding="utf-8")
    # Named only in the appendix that lists what publication left out, and why (付録D).
    appendix = re.search(r'<article id="t-appendix_omitted">.*?</article>', html, flags=re.S)
    assert appendix is not None
    outside = html.replace(appendix.group(0), "")
    assert not [name for name in flagged if re.search(rf"\b{re.escape(name)}\b", outside)]
    omitted = pd.read_csv(root / "publish" / "tables" / "appendix_omitted.csv", dtype="str", encoding="utf-8-sig")
    # What the published report's builders made (no per-company tables without --per-respondent).
    made, _ = collect_items(study, ReportContext(publish=False, previous=previous))
    tables = {i.name for i in made if i.respondent_level and isinstance(i, ReportTable)}
    assert tables and tables <= set(omitted.iloc[:, 0])


def test_published_findings_checks_hold_no_counts_or_ids(planted):
    root, _ = planted
    findings = pd.read_csv(root / "publish" / "findings.csv", dtype="str", keep_default_na=False)
    assert list(findings.columns) == ["finding", "holds", "supported_by"]
    cells = findings.to_numpy().ravel().tolist()
    assert not [c for c in cells if re.search(r"\d", c)], cells  # no count, share or id
    published = {p.stem for p in (root / "publish" / "tables").glob("*.csv")}
    for tables in findings["supported_by"]:
        assert set(filter(None, tables.split(";"))) <= published  # supported by what is published


def test_findings_numbers_are_separate_fields(codebook, planted):
    from analysis.disclosure.findings import run_checks
    from analysis.study.load import load_study

    root, _ = planted
    study = load_study(root / "processed" / "2021")
    checks = run_checks(study.disclosures, codebook).set_index("finding")
    numbers = json.loads(checks.loc["uk_all_mitigation", "numbers"])
    assert f"{numbers['n_showing']}/{numbers['n_companies']}" in checks.loc["uk_all_mitigation", "evidence"]
    assert all(isinstance(json.loads(n), dict) and json.loads(n) for n in checks["numbers"])


def test_counting_rows_of_a_published_listing_recovers_no_hidden_cell(planted):
    """Every statement count printed is the number of listing rows it counts, so counting rows
    gives nothing that is hidden; no count of companies is printed beside the statements; no
    maturity group of fewer than k companies is named."""
    from analysis.codebook.words import Words
    from analysis.study.load import load_study

    root, _ = planted
    study = load_study(root / "processed" / "2021")
    words = Words(study.codebook, "ja").words("crosstab")
    tables = root / "publish" / "tables"
    maturity = study.tables["maturity"]
    sizes = maturity["level"].value_counts()
    groups = study.codebook.table("maturity_groups")
    small = {label for label, level in zip(groups["label_ja"], groups["level"], strict=True) if sizes.get(level, 0) < 5}
    assert small  # the sample has levels of fewer than 5 companies
    checked = 0
    for path in sorted(tables.glob("findings_*.csv")):
        group = path.stem.removeprefix("findings_")
        listing = pd.read_csv(path, dtype="str", keep_default_na=False)
        by_category = pd.read_csv(tables / f"statements_by_category_{group}.csv", dtype="str", keep_default_na=False)
        by_maturity = pd.read_csv(tables / f"statements_by_maturity_{group}.csv", dtype="str", keep_default_na=False)
        assert words["n_respondents"] not in by_category  # companies: not published beside statements
        assert not (by_category == "x").any().any() and not (by_maturity == "x").any().any()
        rows = listing.groupby([words["section"], words["category_label"]]).size()
        for _, row in by_category.iterrows():
            assert int(row[words["n_statements"]]) == int(
                rows.get((row[words["section"]], row[words["category_label"]]), 0)
            )
            checked += 1
        assert not small & set(listing[words["maturity"]]) and not small & set(by_maturity.columns)
        body = by_maturity[by_maturity[words["section"]] != words["total"]]
        for _, row in body.iterrows():
            number = row[words["section"]].split(" ", 1)[0]
            in_section = listing[listing[words["section"]] == number]
            for column in by_maturity.columns[1:-1]:
                label = "" if column == words["no_maturity"] else column
                assert int(row[column]) == int((in_section[words["maturity"]] == label).sum()), (group, column)
    assert checked > 50
