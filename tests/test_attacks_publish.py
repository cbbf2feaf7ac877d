"""Red-team tests for issue 11: the attacks of ``tests/attacks.py`` on ``survey report --publish``.

Two kinds of test:

- on the bundled sample study (2021 ingested and published once per module, in a temporary
  folder; 2020 is the session's shared sample): each attack must recover nothing, from one
  year's folder and from two years' together. An attack the code fails is marked
  ``xfail(strict=True)`` until publication is fixed (then it XPASSes, which strict mode reports
  as a failure, and the marker goes); none is marked today;
- on small hand-made published folders: each attack finds a leak planted in them, so that
  every attack can fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import attacks as A
import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]

# Names planted in the free text of the raw copy (a statement, a roster description): the
# ingest knows them (企業名 of a self-assessment, 組織名 of the roster), so publish must not print them.
PLANTED_STATEMENT = "サンプルU03株式会社では、ガイドラインを社内研修の教材にしている。"
PLANTED_WIDE = "サンプルＵ０５株式会社と同じく、規程の見直しに使っている。"
PLANTED_ROSTER = "サンプルベンダー1の教育サービス部門"


def _survey(*args: str) -> subprocess.Popen:
    """Start ``survey ARGS`` as a user would (a separate process, its own warnings)."""
    return subprocess.Popen(
        [sys.executable, "-m", "analysis.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def _wait(*runs: subprocess.Popen) -> None:
    for run in runs:
        out, err = run.communicate(timeout=900)
        assert run.returncode == 0, f"{' '.join(run.args[3:])} failed:\n{out}\n{err}"


def _plant_names(raw: Path) -> None:
    """Type known names into free text of the raw copy, as a respondent or a researcher might."""
    path = raw / "2021" / "statements.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book["発言"]
    column = [c.value for c in sheet[1]].index("発言") + 1
    sheet.cell(row=2, column=column).value = PLANTED_STATEMENT
    sheet.cell(row=3, column=column).value = PLANTED_WIDE
    book.save(path)
    path = raw / "2021" / "roster.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book["回答者"]
    column = [c.value for c in sheet[1]].index("概要") + 1
    sheet.cell(row=2, column=column).value = PLANTED_ROSTER
    book.save(path)


@pytest.fixture(scope="module")
def study(tmp_path_factory, sample_processed, sample_reports, sample_published):
    """The sample study ingested, reported (internal, the truth) and published, 2020 and 2021.

    Names are planted in 2021 only, so 2020 is the shared sample's (processed, internal and
    published reports, copied); 2021 is ingested and reported here.
    """
    root = tmp_path_factory.mktemp("attacks")
    raw = root / "raw"
    shutil.copytree(REPO / "data" / "raw", raw)
    _plant_names(raw)
    processed, internal = root / "processed", root / "internal"
    pub21, pub20 = root / "pub2021", root / "pub2020"
    shutil.copytree(sample_processed / "2020", processed / "2020")
    shutil.copytree(sample_reports / "2020", internal / "2020")
    shutil.copytree(sample_published / "2020", pub20)
    p20, p21 = str(processed / "2020"), str(processed / "2021")
    _wait(_survey("ingest", str(raw / "2021"), "--out", p21))
    # the two reports are independent: build them side by side
    _wait(
        _survey("report", p21, "--out", str(pub21), "--publish", "--previous", p20),
        _survey("report", p21, "--out", str(internal / "2021"), "--previous", p20),
    )
    pubs = [A.read_published(pub21), A.read_published(pub20)]
    hidden = [c for p in pubs for c in A.hidden_cells(p)]
    truth = {}
    for pub in pubs:
        truth.update(
            A.read_truth(internal / str(pub.year), [c for c in hidden if c[0].startswith(f"{pub.year}/")], pub)
        )
    ids = set()
    for year in (2020, 2021):
        ids |= set(pd.read_csv(processed / str(year) / "respondents.csv", dtype=str)["respondent_id"])
    return SimpleNamespace(
        pub21=pub21, pub20=pub20, raw=raw, truth=truth, hidden=set(hidden), ids=sorted(ids), names=A.raw_names(raw)
    )


def leaks(found: pd.DataFrame, study) -> pd.DataFrame:
    """Hidden cells an attack recovered or narrowed below the protection interval (±1 around
    the true value, from the internal report)."""
    judged = A.classify(found, study.truth, interval=1.0)
    cells = zip(judged["table"], judged["row"], judged["column"], strict=True)
    hidden = pd.Series([(t, r, c) in study.hidden for t, r, c in cells], index=judged.index, dtype=bool)
    judged = judged[hidden]
    # a range without the true value means the attack misread a table (e.g. a changed layout):
    # fix the attack rather than trust its verdict either way
    wrong = judged[
        judged["true"].notna() & ((judged["lo"] > judged["true"] + 1e-6) | (judged["hi"] < judged["true"] - 1e-6))
    ]
    assert wrong.empty, "attack misread the tables:\n" + wrong.head().to_string()
    return judged[judged["recovered"] | judged["narrowed"]]


def _show(frame: pd.DataFrame, n: int = 8) -> str:
    return f"{len(frame)} leaks, e.g.\n" + frame.head(n).to_string()


# --------------------------------------------------------------------------- the sample study


def test_counting_rows_of_listings_recovers_nothing(study):
    found = leaks(A.attack_row_counts(study.pub21, study.pub20), study)
    assert found.empty, _show(found)


def test_differencing_across_tables_and_years_recovers_nothing(study):
    found = leaks(A.attack_differencing(study.pub21, study.pub20), study)
    assert found.empty, _show(found)


def test_margins_over_linked_tables_recover_nothing(study):
    found = leaks(A.attack_margins(study.pub21, study.pub20, linked=True), study)
    assert found.empty, _show(found)


def test_printed_statistics_recover_nothing(study):
    found = leaks(A.attack_statistics(study.pub21, study.pub20), study)
    assert found.empty, _show(found)


def test_evidence_strings_recover_nothing(study):
    found = leaks(A.attack_evidence(study.pub21), study)
    assert found.empty, _show(found)


def test_no_respondent_id_in_any_published_file(study):
    found = pd.concat([A.attack_identifiers(folder, ids=study.ids) for folder in (study.pub21, study.pub20)])
    assert found.empty, found.head(10).to_string()


def test_no_known_name_in_any_published_file(study):
    assert any("サンプルU03" in n for n in study.names)  # the test knows the names it looks for
    found = pd.concat([A.attack_identifiers(folder, names=study.names) for folder in (study.pub21, study.pub20)])
    assert found.empty, found.head(10).to_string()


def test_no_respondent_level_table_or_figure(study):
    found = pd.concat([A.attack_respondent_level(folder) for folder in (study.pub21, study.pub20)])
    assert found.empty, found.to_string()


def test_all_attacks_together_recover_nothing(study):
    assert len(study.hidden) > 1000  # there is something to attack
    found = leaks(A.attack_all(study.pub21, study.pub20), study)
    assert found.empty, _show(found)


@pytest.mark.parametrize("year", [2021, 2020])
def test_all_attacks_on_one_year_recover_nothing(study, year):
    found = leaks(A.attack_all(study.pub21 if year == 2021 else study.pub20), study)
    assert found.empty, _show(found)


# --------------------------------------------------------------------------- planted leaks


def write_published(folder: Path, tables: dict[str, str], year: int = 2021, files: dict[str, str] = ()) -> Path:
    """A published folder by hand: ``tables/<name>.csv`` and an index page naming the year."""
    (folder / "tables").mkdir(parents=True)
    (folder / "index.html").write_text(
        f"<html><head><title>報告書の表と図 ({year}年度)</title></head></html>", encoding="utf-8"
    )
    for name, text in tables.items():
        (folder / "tables" / f"{name}.csv").write_text(text.strip() + "\n", encoding="utf-8")
    for rel, text in dict(files).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    return folder


LEVELS_HIDDEN = """
成熟度レベル,件数,割合
成熟度A(高),x,x
成熟度B(中),5,0.5
成熟度C(低),x,x
判定不能,x,x
計,10,1
"""


def _cells(found: pd.DataFrame) -> dict:
    return {
        (t.split("/", 1)[1], r, c): v
        for t, r, c, v in zip(found["table"], found["row"], found["column"], found["value"], strict=True)
        if v is not None and v == v
    }


def test_row_counts_find_a_listing_beside_hidden_levels(tmp_path):
    listing = "業種,1. リスク認識・方針,成熟度レベル\n" + "\n".join(
        f"製造業,3,{lv}" for lv in ["A", "A", "B", "B", "B", "B", "B", "C", "C", "判定不能"]
    )
    folder = write_published(tmp_path / "p", {"maturity_levels": LEVELS_HIDDEN, "maturity_respondents": listing})
    got = _cells(A.attack_row_counts(folder))
    assert got[("maturity_levels", "成熟度A(高)", "件数")] == 2
    assert got[("maturity_levels", "成熟度C(低)", "件数")] == 2
    assert got[("maturity_levels", "判定不能", "件数")] == 1


def test_row_counts_find_a_statement_listing_beside_hidden_counts(tmp_path):
    counts = "節,カテゴリーID,カテゴリー,発言数,発言した回答者数\n1,u01-01,活用方法,x,x\n1,u01-02,経営者の意識,x,x\n"
    listing = "節,節の見出し,カテゴリー,成熟度,発言\n" + "\n".join(
        f"1,見出し,{c},,発言{i}" for i, c in enumerate(["活用方法"] * 3 + ["経営者の意識"])
    )
    folder = write_published(tmp_path / "p", {"statements_by_category_user": counts, "findings_user": listing})
    found = A.attack_row_counts(folder)
    got = _cells(found)
    assert got[("statements_by_category_user", "1 | u01-01 | 活用方法", "発言数")] == 3
    assert got[("statements_by_category_user", "1 | u01-02 | 経営者の意識", "発言した回答者数")] == 1


def test_differencing_finds_a_level_count_printed_in_another_table(tmp_path):
    presurvey = """
Q1-1 設問,成熟度A(高) n,成熟度B(中) n,成熟度C(低) n,判定不能 n,合計 n
はい,x,3,x,0,5
いいえ,x,2,x,x,5
合計,2,5,x,x,10
"""
    folder = write_published(
        tmp_path / "p", {"maturity_levels": LEVELS_HIDDEN, "presurvey_q1_1_by_maturity": presurvey}
    )
    got = _cells(A.attack_differencing(folder))
    assert got[("maturity_levels", "成熟度A(高)", "件数")] == 2


def test_differencing_finds_the_previous_years_count(tmp_path):
    yoy = "成熟度レベル,2020年度 件数,2020年度 割合,2021年度 件数,2021年度 割合\n成熟度A(高),x,x,2,0.2\n計,10,1,10,1\n"
    old = "成熟度レベル,件数,割合\n成熟度A(高),3,0.3\n計,10,1\n"
    folder = write_published(tmp_path / "p", {"yoy_maturity_levels": yoy})
    previous = write_published(tmp_path / "q", {"maturity_levels": old}, year=2020)
    got = _cells(A.attack_differencing(folder, previous))
    assert got[("yoy_maturity_levels", "成熟度A(高)", "2020年度 件数")] == 3


def test_margins_pin_a_single_hidden_cell_and_leave_a_wide_pair(tmp_path):
    one = "成熟度レベル,件数\n成熟度A(高),x\n成熟度B(中),5\n成熟度C(低),3\n計,10\n"
    pair = "成熟度レベル,件数\n成熟度A(高),x\n成熟度B(中),5\n成熟度C(低),x\n計,10\n"
    folder = write_published(tmp_path / "p", {"maturity_levels": one, "other_levels": pair})
    found = A.attack_margins(folder, linked=False)
    assert _cells(found)[("maturity_levels", "成熟度A(高)", "件数")] == 2
    judged = A.classify(found)
    pair_rows = judged[judged["table"] == "2021/other_levels"]
    assert len(pair_rows) == 2 and not pair_rows["narrowed"].any()  # [0, 5] each: protected


def test_linked_margins_pin_cells_that_each_table_alone_protects(tmp_path):
    # alone each table leaves A and C in [0, 5]; the presurvey total row prints A = 2
    presurvey = "Q 設問,成熟度A(高) n,成熟度B(中) n,成熟度C(低) n,合計 n\nはい,x,3,x,5\nいいえ,x,2,x,5\n合計,2,5,x,10\n"
    levels = "成熟度レベル,件数\n成熟度A(高),x\n成熟度B(中),5\n成熟度C(低),x\n計,10\n"
    folder = write_published(tmp_path / "p", {"maturity_levels": levels, "presurvey_q1_1_by_maturity": presurvey})
    alone = _cells(A.attack_margins(folder, linked=False))
    assert ("maturity_levels", "成熟度C(低)", "件数") not in alone
    linked = _cells(A.attack_margins(folder, linked=True))
    assert linked[("maturity_levels", "成熟度C(低)", "件数")] == 3


def test_statistics_read_a_count_back_from_its_share(tmp_path):
    levels = "成熟度レベル,件数,割合\n成熟度A(高),x,0.2\n成熟度B(中),x,0.5\n成熟度C(低),x,x\n計,10,1\n"
    got = _cells(A.attack_statistics(write_published(tmp_path / "p", {"maturity_levels": levels})))
    assert got[("maturity_levels", "成熟度A(高)", "件数")] == 2
    assert got[("maturity_levels", "成熟度B(中)", "件数")] == 5


def test_statistics_read_a_count_back_from_a_fisher_p_value(tmp_path):
    table = (
        "開示項目,国内 開示企業数,国内 調査企業数,国内 割合,海外 開示企業数,海外 調査企業数,海外 割合,"
        "p値(Fisherの正確検定)\n"
        "インシデント履歴,0,7,0,x,8,x,0.0013986013986\n"
    )
    got = _cells(A.attack_statistics(write_published(tmp_path / "p", {"disclosure_items_by_region": table})))
    assert got[("disclosure_items_by_region", "インシデント履歴", "海外 開示企業数")] == 7


def test_evidence_strings_pin_hidden_disclosure_counts(tmp_path):
    depth = (
        "開示の深さ,国内 開示企業数,国内 調査企業数,国内 割合,海外 開示企業数,海外 調査企業数,海外 割合\n"
        "ガバナンス体制まで,0,7,0,0,8,0\nリスクの記述まで,x,7,x,x,8,x\n対策まで,x,7,x,x,8,x\n"
    )
    findings = (
        "所見,成立,根拠\ndomestic_stop_at_governance,True,"
        "domestic stopping at governance/risk: 6/7 (86%); overseas going on to measures: 7/8 (88%)\n"
    )
    folder = write_published(tmp_path / "p", {"disclosure_depth_by_region": depth, "findings": findings})
    got = _cells(A.attack_evidence(folder))
    assert got[("disclosure_depth_by_region", "リスクの記述まで", "国内 開示企業数")] == 6
    assert got[("disclosure_depth_by_region", "対策まで", "海外 開示企業数")] == 7


def test_identifiers_find_ids_and_names_in_every_kind_of_file(tmp_path):
    folder = write_published(
        tmp_path / "p",
        {"findings": '所見,根拠\na,"peer [D03≥O03]"\n'},
        files={
            "figures/f.svg": "<svg><text>サンプルＵ０５株式会社</text></svg>",
            "index.html": "<p>U07 &amp; others</p>",
        },
    )
    book = openpyxl.Workbook()
    book.active["A1"] = "(株)サンプルU09の取組"
    book.save(folder / "tables.xlsx")
    found = A.attack_identifiers(
        folder,
        ids=["D03", "U07", "U1"],
        names=["サンプルU05株式会社 (架空)", "株式会社サンプルU09", "サンプルU11株式会社"],
    )
    got = set(zip(found["file"], found["token"], strict=True))
    assert ("tables/findings.csv", "D03") in got
    assert ("index.html", "U07") in got
    assert ("figures/f.svg", "サンプルU05株式会社 (架空)") in got  # full-width spelling
    assert ("tables.xlsx", "株式会社サンプルU09") in got  # (株) and the word order differ
    assert not {t for _, t in got} & {"U1", "サンプルU11株式会社"}  # U1 is not U11, U11 absent


def test_raw_names_reads_name_cells_and_columns_not_instructions(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "説明"
    book.active.append(["企業名・氏名は", "企業名"])
    info = book.create_sheet("基本情報")
    info.append(["企業名", "架空商事株式会社"])
    roster = book.create_sheet("回答者")
    roster.append(["回答者ID", "概要", "組織名"])
    roster.append(["V01", "教育", "架空ベンダー"])
    book.save(tmp_path / "a.xlsx")
    assert A.raw_names(tmp_path) == ["架空ベンダー", "架空商事株式会社"]


def test_respondent_level_finds_per_company_tables_and_figures(tmp_path):
    listing = "業種,1. リスク認識・方針,成熟度レベル\n製造業,3.5,A\n建設業,2,C\n"
    summary = "成熟度レベル,件数\n成熟度A(高),1\n成熟度C(低),1\n計,2\n"
    empty = "No.,企業の分類,ヒアリング項目\n"  # a year without interviews: a table with no rows
    folder = write_published(
        tmp_path / "p",
        {"maturity_respondents": listing, "maturity_levels": summary, "table_2_2": empty},
        files={
            "figures/heat.svg": "<svg><!-- A-1 --><!-- C-1 --></svg>",
            "figures/bars.svg": "<svg><!-- 成熟度A(高) --></svg>",
        },
    )
    found = set(A.attack_respondent_level(folder)["file"])
    assert found == {"tables/maturity_respondents.csv", "figures/heat.svg"}


def test_classify_uses_the_protection_interval():
    found = pd.DataFrame(
        [
            {
                "attack": "t",
                "table": "2021/t",
                "row": "a",
                "column": "n",
                "lo": 2.0,
                "hi": 3.0,
                "value": None,
                "how": "",
            },
            {
                "attack": "t",
                "table": "2021/t",
                "row": "b",
                "column": "n",
                "lo": 1.0,
                "hi": 4.0,
                "value": None,
                "how": "",
            },
            {
                "attack": "t",
                "table": "2021/t",
                "row": "c",
                "column": "n",
                "lo": 0.0,
                "hi": 5.0,
                "value": None,
                "how": "",
            },
        ]
    )
    truth = {("2021/t", "a", "n"): 2, ("2021/t", "b", "n"): 2, ("2021/t", "c", "n"): 0}
    judged = A.classify(found, truth, interval=1).set_index("row")
    assert judged.loc["a", "narrowed"]  # [2, 3] around 2: a B cell of 2 is not protected
    assert not judged.loc["b", "narrowed"] and not judged.loc["c", "narrowed"]
    assert not A.classify(found).set_index("row").loc["b", "narrowed"]  # width 3 >= 2 without truth


@given(st.lists(st.integers(0, 40), min_size=2, max_size=6), st.data())
def test_margins_recover_any_single_hidden_cell_exactly(tmp_path_factory, counts, data):
    hidden = data.draw(st.integers(0, len(counts) - 1))
    lines = ["区分,件数"] + [f"r{i},{'x' if i == hidden else n}" for i, n in enumerate(counts)] + [f"計,{sum(counts)}"]
    folder = write_published(tmp_path_factory.mktemp("h"), {"t": "\n".join(lines)})
    assert _cells(A.attack_margins(folder, linked=False)) == {("t", f"r{hidden}", "件数"): counts[hidden]}


@given(st.lists(st.lists(st.integers(0, 9), min_size=3, max_size=3), min_size=2, max_size=5), st.data())
def test_margins_ranges_always_hold_the_true_value(tmp_path_factory, body, data):
    """The attack is sound: whatever is hidden in a two-way table with totals, every range it
    proves holds the true count (a red team that cried wolf would be no use)."""
    header = "区分,成熟度A(高) n,成熟度B(中) n,成熟度C(低) n,合計 n"
    full = [row + [sum(row)] for row in body]
    full.append([sum(col) for col in zip(*full, strict=True)])
    names = [f"r{i}" for i in range(len(body))] + ["合計"]
    cells = [(i, j) for i in range(len(full)) for j in range(4)]
    hidden = set(data.draw(st.lists(st.sampled_from(cells), max_size=8)))
    lines = [header] + [
        ",".join([names[i]] + ["x" if (i, j) in hidden else str(v) for j, v in enumerate(row)])
        for i, row in enumerate(full)
    ]
    folder = write_published(tmp_path_factory.mktemp("s"), {"t": "\n".join(lines)})
    columns = header.split(",")[1:]
    found = A.attack_margins(folder, linked=False)
    for _, r, c, lo, hi in zip(found["table"], found["row"], found["column"], found["lo"], found["hi"], strict=True):
        true = full[names.index(r)][columns.index(c)]
        assert lo - 1e-6 <= true <= hi + 1e-6, (r, c, lo, hi, true)
