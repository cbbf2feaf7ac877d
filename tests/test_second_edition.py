"""A second edition runs ingest → report without code changes.

The edition is built here from the shipped one: 3 directives instead of 10, questions renamed
(other ids, other texts), other respondent-group names and labels, maturity rules rewritten for
3 directives. Workbooks are made from its own templates and filled; the commands are the
researcher's (``survey template/ingest/report --edition FOLDER``).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import load_study
from analysis.cli import main
from analysis.codebook import load_codebook
from analysis.collect.template import build_workbook, workbook_bytes

SHIPPED = Path(__file__).resolve().parents[1] / "analysis" / "codebook" / "fy2021"

DIRECTIVES = [
    (1, "governance", "試験版の方針と体制", "Policy and organisation (test edition)"),
    (2, "risk_measures", "試験版の対策", "Measures (test edition)"),
    (3, "incident", "試験版の事故対応", "Incident response (test edition)"),
]
QUESTIONS = [(f"T{d}{letter}", d) for d, *_ in DIRECTIVES for letter in "ab"]
GROUPS = {"user": "member", "vendor": "supplier"}  # shipped code -> this edition's code
MATURITY = """[maturity]
low_threshold = 3
high_threshold = 4
precedence = ["A", "B", "C"]

[[maturity.rules]]
level = "A"
label_ja = "試験版A"
label_en = "Test A"
source_ja = "平均値3未満がなく、平均値4以上が2個以上"
clauses = [ { n_below_low = { max = 0 }, n_at_least_high = { min = 2 } } ]

[[maturity.rules]]
level = "B"
label_ja = "試験版B"
label_en = "Test B"
source_ja = "平均値3以上が2個以上"
clauses = [ { n_at_least_low = { min = 2 } } ]

[[maturity.rules]]
level = "C"
label_ja = "試験版C"
label_en = "Test C"
source_ja = "平均値3未満が2個以上"
clauses = [ { n_below_low = { min = 2 } } ]
"""


def _rewrite_csv(path: Path, rows: list[dict[str, str]] | None = None, **renames: dict[str, str]) -> None:
    """Rewrite ``path`` with ``rows`` (same header), or rename codes in the named columns."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        old = list(reader)
    if rows is None:
        rows = [{k: renames.get(k, {}).get(v, v) for k, v in r.items()} for r in old]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def make_edition(folder: Path) -> Path:
    """Write the test edition ``tiny2030`` into ``folder`` and return it."""
    shutil.copytree(SHIPPED, folder)
    toml = (folder / "edition.toml").read_text(encoding="utf-8")
    toml = re.sub(r'^edition = "fy2021"', 'edition = "tiny2030"', toml, flags=re.M)
    toml = re.sub(r"^title_ja = .*$", 'title_ja = "試験版の調査 (令和12年度)"', toml, flags=re.M)
    toml = re.sub(r"^title_en = .*$", 'title_en = "Test survey (FY2030)"', toml, flags=re.M)
    start = toml.index("[maturity]")
    end = toml.index("\n[", toml.index("[[maturity.rules]]", start) + 1)
    while toml[end + 1 :].startswith("[[maturity.rules]]"):
        end = toml.index("\n[", end + 1)
    (folder / "edition.toml").write_text(toml[:start] + MATURITY + toml[end:], encoding="utf-8")
    header = "directive,group,title_ja,title_en,short_ja,short_en"
    assert (folder / "directives.csv").read_text(encoding="utf-8").startswith(header)
    _rewrite_csv(
        folder / "directives.csv",
        [
            {"directive": str(d), "group": g, "title_ja": ja, "title_en": en, "short_ja": ja[:6], "short_en": en[:12]}
            for d, g, ja, en in DIRECTIVES
        ],
    )
    _rewrite_csv(
        folder / "questions.csv",
        [
            {
                "question_id": qid,
                "directive": str(d),
                "order": str(i + 1),
                "text_ja": f"試験版の設問 {qid}",
                "text_en": f"Test question {qid}",
            }
            for i, (qid, d) in enumerate(QUESTIONS)
        ],
    )
    for path in folder.glob("*.csv"):
        with path.open(encoding="utf-8") as handle:
            header_row = next(csv.reader(handle))
        columns = [c for c in header_row if c in {"group", "respondent_group", "respondent_groups"}]
        if path.name in {"directives.csv", "directive_groups.csv"} or not columns:
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            for column in columns:  # a code, or a list of codes separated by ; or spaces
                row[column] = re.sub(r"[a-z_]+", lambda m: GROUPS.get(m.group(0), m.group(0)), row[column])
        _rewrite_csv(path, rows)
    for name, old, new in (  # descriptions a researcher edits with the questions
        ("columns.csv", "1-1 ... 10-4", "T1a ... T3b"),
        ("columns.csv", "1-1 〜 10-4", "T1a 〜 T3b"),
        ("instruments.csv", "10の指示の40設問", "3の指示の6設問"),
        ("instruments.csv", "the 40 questions of the 10 directives", "the 6 questions of the 3 directives"),
    ):
        text = (folder / name).read_text(encoding="utf-8")
        assert old in text, (name, old)
        (folder / name).write_text(text.replace(old, new), encoding="utf-8")
    groups = folder / "respondent_groups.csv"
    text = (
        groups.read_text(encoding="utf-8").replace("ユーザ企業", "会員企業").replace("User companies", "Member firms")
    )
    groups.write_text(text, encoding="utf-8")
    return folder


ANSWERS = {  # company -> score per question (T1a, T1b, T2a, T2b, T3a, T3b)
    "M01": [5, 4, 4, 5, 4, 4],  # all means >= 4: A
    "M02": [3, 4, 3, 3, 2, 2],  # two means >= 3: B
    "M03": [2, 2, 1, 2, 3, 4],  # two means < 3: C
    "M04": [4, 4, 3, 3, 3, 3],  # B
    "M05": [5, 5, 5, 4, 4, 4],  # A
    "M06": [1, 2, 2, 2, 5, 5],  # C
}


@pytest.fixture(scope="module")
def edition_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("second_edition")
    edition = make_edition(root / "tiny2030")
    codebook = load_codebook(edition)
    raw = root / "raw" / "2030"
    (raw / "self_assessment").mkdir(parents=True)
    industry = codebook.table("industries")["label_ja"].iloc[0]
    size = codebook.table("size_bands")["label_ja"].iloc[0]
    for rid, scores in ANSWERS.items():
        data = {
            "profile": {"respondent_id": rid, "fiscal_year": 2030, "industry": industry, "size_band": size},
            "answers": dict(zip([q for q, _ in QUESTIONS], scores, strict=True)),
        }
        book = build_workbook(codebook, "self_assessment", "ja", data, year=2030)
        (raw / "self_assessment" / f"sa_{rid}.xlsx").write_bytes(workbook_bytes(book))
    paths = {"edition": edition, "raw": raw, "processed": root / "processed" / "2030", "reports": root / "reports"}
    paths["codes"] = {  # exit codes of the researcher's commands
        "template": main(["template", "--edition", str(edition), "--out", str(root / "templates")]),
        "ingest": main(["ingest", str(raw), "--out", str(paths["processed"]), "--edition", str(edition)]),
    }  # type: ignore[assignment]
    paths["codes"]["report"] = main(["report", str(paths["processed"]), "--out", str(root / "reports" / "2030")])  # type: ignore[index]
    paths["codes"]["publish"] = main(  # type: ignore[index]
        ["report", str(paths["processed"]), "--out", str(root / "published" / "2030"), "--publish"]
    )
    paths["root"] = root
    return paths


def test_the_edition_is_loaded_from_its_folder(edition_run: dict[str, Path]) -> None:
    codebook = load_codebook(edition_run["edition"])
    assert codebook.edition == "tiny2030"
    assert list(codebook.directives["directive"]) == [1, 2, 3]
    assert list(codebook.questions["question_id"]) == [q for q, _ in QUESTIONS]
    assert set(codebook.table("respondent_groups")["group"]) >= {"member", "supplier"}


def test_templates_ask_the_renamed_questions(edition_run: dict[str, Path]) -> None:
    assert edition_run["codes"]["template"] == 0  # type: ignore[index]
    from analysis.ingest import read_workbook

    [path] = (edition_run["root"] / "templates").glob("self_assessment*.xlsx")
    cells = read_workbook(path)
    text = json.dumps({name: str(grid) for name, grid in cells.sheets.items()}, ensure_ascii=False)
    assert "試験版の設問 T3b" in text and "1-1" not in text
    assert "試験版の調査 (令和12年度)" in text  # the edition's own title on the instructions


def test_ingest_reads_every_answer_without_errors(edition_run: dict[str, Path]) -> None:
    assert edition_run["codes"]["ingest"] == 0  # type: ignore[index]
    issues = pd.read_csv(edition_run["processed"] / "issues.csv", encoding="utf-8-sig", dtype=str)
    assert not (issues["severity"] == "error").any(), issues.to_string()
    study = load_study(edition_run["processed"])
    assert study.codebook.edition == "tiny2030"
    answers = study.self_assessment
    assert len(answers) == len(ANSWERS) * len(QUESTIONS)
    assert set(answers["question_id"]) == {q for q, _ in QUESTIONS}
    assert answers["score"].notna().all()
    assert set(study.respondents["group"].astype(str)) == {"member"}  # this edition's name for user companies


def test_maturity_follows_the_editions_rules(edition_run: dict[str, Path]) -> None:
    study = load_study(edition_run["processed"])
    levels = study.maturity.set_index("respondent_id")["level"].astype(str).to_dict()
    assert levels == {"M01": "A", "M02": "B", "M03": "C", "M04": "B", "M05": "A", "M06": "C"}


def test_report_builds_in_both_modes_with_the_editions_words(edition_run: dict[str, Path]) -> None:
    assert edition_run["codes"]["report"] == 0  # type: ignore[index]
    assert edition_run["codes"]["publish"] == 0  # type: ignore[index]
    page = (edition_run["root"] / "reports" / "2030" / "index.html").read_text(encoding="utf-8")
    assert "試験版の事故" in page  # a directive of this edition (its short label)
    levels = pd.read_csv(
        edition_run["root"] / "reports" / "2030" / "tables" / "maturity_levels.csv", encoding="utf-8-sig"
    )
    counts = dict(zip(levels.iloc[:, 0], levels.iloc[:, 1], strict=True))
    assert {k: counts.get(k) for k in ("試験版A", "試験版B", "試験版C")} == {"試験版A": 2, "試験版B": 2, "試験版C": 2}
    assert (edition_run["root"] / "published" / "2030" / "tables.xlsx").is_file()


def test_a_mistyped_edition_folder_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = tmp_path / "raw" / "2030"
    raw.mkdir(parents=True)
    (tmp_path / "not_an_edition").mkdir()  # a folder, but without edition.toml
    for edition in ("no_such_edition", str(tmp_path / "not_an_edition")):
        code = main(["ingest", str(raw), "--out", str(tmp_path / "out"), "--edition", edition])
        assert code == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "edition.toml" in err
    assert not (tmp_path / "out").exists()
