import csv
import shutil
from pathlib import Path

import pytest

from analysis.codebook import available_editions, load_codebook
from analysis.codebook.filters import FilterError, parse_filter
from analysis.ingest.normalise import InvalidValue

SHIPPED = Path(__file__).resolve().parents[1] / "analysis" / "codebook" / "fy2021"


def test_edition_shipped_and_unknown_named(codebook):
    assert "fy2021" in available_editions()
    with pytest.raises(KeyError, match="available: fy2021"):
        load_codebook("fy1999")


def test_self_assessment_instrument(codebook):
    directives = codebook.directives
    assert list(directives["directive"]) == list(range(1, 11))
    assert directives[["title_ja", "title_en", "group"]].ne("").all().all()
    questions = codebook.questions
    assert len(questions) == 40
    assert list(questions["question_id"][:5]) == ["1-1", "1-2", "1-3", "1-4", "2-1"]
    assert questions.groupby("directive").size().eq(4).all()
    assert list(codebook.scale["value"]) == [1, 2, 3, 4, 5]
    assert set(codebook.missing_codes["reason"]) == {"unanswered", "not_applicable", "dont_know", "invalid"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (4, (4, None)),
        (4.0, (4, None)),
        ("4", (4, None)),
        ("４", (4, None)),
        ("組織として実施", (3, None)),
        ("", (None, "unanswered")),
        ("未回答", (None, "unanswered")),
        (None, (None, "unanswered")),
        ("該当なし", (None, "not_applicable")),
        ("わからない", (None, "dont_know")),
    ],
)
def test_parse_score(codebook, raw, expected):
    assert codebook.parse_score(raw) == expected


@pytest.mark.parametrize("raw", [7, "abc", 0, 3.5, "６", float("nan"), "無効回答", "invalid"])
def test_parse_score_rejects_listing_what_is_allowed(codebook, raw):
    # NaN is no answer; the invalid reason is given by the ingest, never accepted from a respondent.
    with pytest.raises(InvalidValue, match="from 1 to 5.*該当なし") as caught:
        codebook.parse_score(raw)
    assert "無効回答" not in str(caught.value).split("got")[0]


def test_presurvey_frame(codebook):
    questions = codebook.table("presurvey_questions")
    assert set(questions["topic"]) == set(range(1, 7))
    assert {"single", "multiple", "text"} <= set(questions["kind"])
    options = codebook.table("presurvey_options")
    coded = set(questions.loc[questions["kind"] != "text", "question_id"])
    assert coded == set(options["question_id"])
    assert options[["label_ja", "label_en"]].ne("").all().all()


def test_statement_frame(codebook):
    sections = codebook.table("statement_sections")
    users = sections[sections["respondent_group"] == "user"]
    assert list(users["section"]) == list(range(1, 14))
    investors = sections[sections["respondent_group"] == "investor"]
    assert list(investors["section"]) == list(range(1, 7))
    categories = codebook.table("statement_categories")
    assert categories["category_id"].is_unique
    keys = set(zip(sections["respondent_group"], sections["section"], strict=True))
    assert all((g, s) in keys for g, s in zip(categories["respondent_group"], categories["section"], strict=True))
    assert codebook.lookup("statement_categories", "u01-01") == "u01-01"


def test_maturity_rules_are_data(codebook):
    rules = codebook.maturity_rules
    assert (rules["low_threshold"], rules["high_threshold"]) == (3, 4)
    assert rules["precedence"] == ["A", "B", "C"]
    by_level = {r["level"]: r["clauses"] for r in rules["rules"]}
    assert by_level["C"] == [{"n_below_low": {"min": 6}}]
    assert {"n_at_least_low": {"min": 5}} in by_level["B"]
    assert {"n_at_least_high": {"min": 4}} in by_level["B"]
    assert by_level["A"] == [{"n_below_low": {"max": 0}, "n_at_least_high": {"min": 4}}]


def test_lookup_accepts_labels_and_names_choices(codebook):
    assert codebook.lookup("industries", "製造業") == "manufacturing"
    assert codebook.lookup("regions", "海外") == "overseas"
    assert codebook.lookup("countries", "gb") == "GB"
    with pytest.raises(InvalidValue, match="expected an industry code or label"):
        codebook.lookup("industries", "宇宙産業")


# -- filters: who is asked a pre-survey question ------------------------------------------------


def test_q1_2_is_asked_of_guideline_users_only(codebook):
    (only,) = codebook.filters.values()
    assert (only.question, only.on, only.codes, only.text) == ("Q1-2", "Q1-1", (1, 2), "Q1-1 in 1;2")
    assert only.admits(2) and not only.admits(3)
    assert only.describe(codebook, "ja") == "Q1-1で「1=活用している」「2=一部活用している」と回答した方"
    assert only.describe(codebook, "en").startswith("those who answered Q1-1 with 1 (Yes, we use it) or 2")


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        ("Q1-2", "", None),
        ("Q1-2", " Q1-1 in 2 ; 1 ; 2 ", ("Q1-1", (2, 1))),
    ],
)
def test_parse_filter(question, text, expected):
    parsed = parse_filter(question, text)
    assert (None if parsed is None else (parsed.on, parsed.codes)) == expected


def _edition_with_filter(tmp_path, question, text):
    folder = tmp_path / "edition"
    shutil.copytree(SHIPPED, folder)
    path = folder / "presurvey_questions.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["filter"] = text if row["question_id"] == question else ""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return folder


@pytest.mark.parametrize(
    ("question", "text", "row", "what"),
    [
        ("Q1-2", "Q1-1 = 1", 3, "expected '<question id> in <code>;<code>...'"),
        ("Q1-2", "Q9-9 in 1", 3, "no question Q9-9"),
        ("Q1-2", "Q1-1 in 1;7", 3, "Q1-1 has no option 7"),
        ("Q1-1", "Q1-3 in 1", 2, "Q1-3 does not come before Q1-1"),
        ("Q1-3", "Q1-2 in 1", 4, "Q1-2 is not a single-choice question (multiple)"),
    ],
)
def test_a_bad_filter_stops_the_load_naming_file_and_row(tmp_path, question, text, row, what):
    folder = _edition_with_filter(tmp_path, question, text)
    with pytest.raises(FilterError) as caught:
        load_codebook(folder)
    assert f"presurvey_questions.csv row {row} ({question}), column filter: {what}" in caught.value.en
    assert f"presurvey_questions.csv の{row}行目({question})の filter" in caught.value.ja


def test_an_edition_without_filter_column_asks_everyone(tmp_path):
    folder = tmp_path / "edition"
    shutil.copytree(SHIPPED, folder)
    path = folder / "presurvey_questions.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[k for k in rows[0] if k != "filter"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    assert load_codebook(folder).filters == {}


def test_missing_entries_keep_the_declared_order_and_the_ingest_only_reason(codebook):
    entries = codebook.missing_entries
    assert tuple(e["reason"] for e in entries) == codebook.missing_reasons
    given = [e["reason"] for e in entries if not e.get("entered", True)]
    assert given == ["invalid"]
    assert entries[0]["label_ja"] == "未回答"


def test_a_filter_decides_from_the_codes_chosen_and_says_when_it_cannot():
    from analysis.codebook.filters import QuestionFilter, chosen_codes

    rule = QuestionFilter(question="Q1-2", on="Q1-1", codes=(1, 2))
    assert rule.asks([2]) is True and rule.asks([3, 4]) is False and rule.asks([]) is None
    answers = [("U01", 2021, "Q1-1", 4), ("U01", 2021, "Q1-2", 1), ("U02", 2021, "Q1-1", None)]
    assert chosen_codes(answers, {"Q1-1"}) == {("U01", 2021, "Q1-1"): [4]}  # other questions and blanks out
