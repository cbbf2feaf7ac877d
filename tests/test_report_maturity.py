"""The maturity section of the report: unclassified companies counted apart by the levels they
could still reach (``maturity_bounds``), on hand-made studies and on the sample."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.codebook.words import Words
from analysis.maturity.classification import maturity_table
from analysis.report.audit import audit_reports, report_from_items
from analysis.report.builders.maturity import maturity_items
from analysis.report.publication import PublicationRule, publish
from analysis.report.registry import ReportContext, ReportTable
from analysis.study.load import Study

YEAR = 2021
# Four answers per directive giving each mean; None: no answered question.
ANSWERS = {2: (2, 2, 2, 2), 3.5: (3, 4, 3, 4), 4.5: (4, 5, 4, 5), None: ("unanswered",) * 4}
PROFILES = {
    **{f"U0{i}": [4.5] * 10 for i in range(1, 6)},  # A
    "U06": [4.5] * 9 + [None],  # B or better, whatever directive 10's mean
    "U07": [None] + [4.5] * 9,  # B or better
    "U08": [2] * 5 + [3.5] * 4 + [None],  # five below 3: C or B as directive 10 falls
    "U09": [2] * 10,  # C
}


def study_of(profiles: dict[str, list], codebook) -> Study:
    rows = []
    for rid, means in profiles.items():
        for directive, mean in enumerate(means, start=1):
            qids = codebook.questions.loc[codebook.questions["directive"] == directive, "question_id"]
            for qid, answer in zip(qids, ANSWERS[mean], strict=True):
                missing = answer if isinstance(answer, str) else None
                rows.append(
                    {
                        "respondent_id": rid,
                        "fiscal_year": YEAR,
                        "directive": directive,
                        "question_id": qid,
                        "score": None if missing else answer,
                        "missing_reason": missing,
                    }
                )
    respondents = pd.DataFrame(
        {"respondent_id": list(profiles), "fiscal_year": YEAR, "group": "user", "industry": "manufacturing"}
    )
    study = Study(tables={"self_assessment": pd.DataFrame(rows), "respondents": respondents}, codebook=codebook)
    study.tables["maturity"] = maturity_table(study)
    return study


def tables_of(study: Study, **context) -> dict[str, ReportTable]:
    items = maturity_items(study, ReportContext(**context))
    return {item.name: item for item in items if isinstance(item, ReportTable)}


@pytest.fixture(scope="module")
def study(codebook):
    return study_of(PROFILES, codebook)


@pytest.mark.parametrize(
    ("lang", "words", "header"),
    [
        ("ja", ["B以上", "C以上", "C〜B", "計"], ["到達しうるレベルの範囲", "範囲(記号)", "件数"]),
        ("en", ["B or better", "C or better", "C to B", "Total"], ["Reachable levels", "Range (code)", "n"]),
    ],
)
def test_unclassified_companies_are_counted_by_range_after_the_level_distribution(study, lang, words, header):
    tables = tables_of(study, lang=lang)
    names = list(tables)
    assert names.index("maturity_bounds") == names.index("maturity_levels") + 1
    bounds = tables["maturity_bounds"]
    shown = bounds.labelled(Words(study.codebook, lang))  # as written
    assert shown.columns.tolist() == header
    assert shown[header[0]].tolist() == words
    assert shown[header[1]].tolist()[:3] == ["B..A", "C..A", "C..B"]
    assert pd.isna(shown[header[1]].iloc[3]) or shown[header[1]].iloc[3] == ""  # the total has no range
    assert shown[header[2]].tolist() == [2, 0, 1, 3]
    levels = tables["maturity_levels"].labelled(Words(study.codebook, lang))
    assert levels[header[2]].tolist()[:4] == [5, 0, 1, 3]  # A, B, C, unclassified
    assert str(YEAR) in bounds.title_ja and "判定不能の内訳" in bounds.title_ja
    assert "B or better" in bounds.note_en and "「B以上」" in bounds.note_ja


def test_the_total_is_the_unclassified_count_and_the_rows_its_parts(study):
    bounds, words = tables_of(study)["maturity_bounds"], Words(study.codebook, "ja")
    layout = bounds.layout
    assert layout is not None and tuple(bounds.header(c, words) for c in bounds.counts) == ("件数",)
    assert layout["total_row"] == 3 and layout.get("additive_rows") is None  # every other row adds up
    # the layout is plain data, naming column ids (written under their headers)
    links = [(row, bounds.header(column, words), tuple(key)) for row, column, key in layout["links"]]
    assert links == [(3, "件数", ("maturity_level", YEAR, "unclassified"))]


def test_the_rows_do_not_depend_on_the_companies(codebook, study):
    everyone_classified = study_of({rid: [4.5] * 10 for rid in PROFILES}, codebook)
    words = Words(codebook, "ja")
    frame = tables_of(everyone_classified)["maturity_bounds"].labelled(words)
    assert frame["範囲(記号)"].tolist() == tables_of(study)["maturity_bounds"].labelled(words)["範囲(記号)"].tolist()
    assert frame["件数"].tolist() == [0, 0, 0, 0]


def test_the_per_company_table_names_the_range_of_each_unclassified_company(study):
    table = tables_of(study, per_respondent=True)["maturity_respondents"]
    frame = table.labelled(Words(study.codebook, "ja")).set_index("回答者ID")
    assert frame.loc["U08", "到達しうるレベルの範囲"] == "C〜B"
    assert frame.loc["U06", "到達しうるレベルの範囲"] == "B以上"
    assert pd.isna(frame.loc["U01", "到達しうるレベルの範囲"])


def test_a_maturity_table_without_bounds_gives_no_bounds_table(codebook, study):
    older = Study(
        tables={**study.tables, "maturity": study.tables["maturity"].drop(columns=["level_min", "level_max"])},
        codebook=codebook,
    )
    assert "maturity_bounds" not in tables_of(older)


def test_published_bounds_are_hidden_with_the_unclassified_count(codebook, study):
    rule = PublicationRule.from_codebook(codebook)
    items = list(tables_of(study).values())
    published = publish(items, rule)
    shown = {item.name: item.labelled(Words(codebook, "ja")) for item in published.items}
    # 3 unclassified companies (B以上 2, C〜B 1): hidden here and in the level distribution.
    assert shown["maturity_bounds"]["件数"].tolist() == ["x", 0, "x", "x"]
    assert shown["maturity_levels"]["件数"].tolist()[3] == "x"
    values = {("r0", table, row, column): v for (table, row, column), v in published.values.items()}
    result = audit_reports([report_from_items(published.items, published.declaration, "r0")], rule, values=values)
    assert result.ok, result.failures
    assert (result.frame["table"] == "maturity_bounds").sum() == 3


def test_the_sample_bounds_its_unclassified_company_and_publishes_it_hidden(sample_reports, sample_published):
    def read(folder):
        return pd.read_csv(folder / "2021" / "tables" / "maturity_bounds.csv", dtype="str", encoding="utf-8-sig")

    internal, published = read(sample_reports), read(sample_published)
    # The sample's one unclassified company (directive 5 unanswered) is C or B.
    assert dict(zip(internal["範囲(記号)"].fillna(""), internal["件数"], strict=True)) == {
        "B..A": "0",
        "C..A": "0",
        "C..B": "1",
        "": "1",  # 計: the unclassified count, with no range code
    }
    assert internal["到達しうるレベルの範囲"].tolist()[-1] == "計"
    assert published["件数"].tolist() == ["0", "0", "x", "x"]
    levels = pd.read_csv(
        sample_published / "2021" / "tables" / "maturity_levels.csv", dtype="str", encoding="utf-8-sig"
    )
    assert levels.loc[levels["成熟度レベル"] == "判定不能", "件数"].tolist() == ["x"]
