"""Coded statements on a hand-made table: matrices, cross-tab, retrieval, findings layout."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.statements.coding import (
    find_statements,
    findings_html,
    findings_layout,
    findings_markdown,
    normalise_query,
    section_by_maturity,
    statement_matrix,
    statements_by_category,
)
from analysis.study.load import study_from_tables

ROWS = [
    # respondent, group, section, category, maturity, text
    ("U01", "user", 1, "u01-01", None, "ガイドラインを抜け漏れチェックに活用している。"),
    ("U01", "user", 1, "u01-01", "低", "成熟度低の企業では最近になってガイドラインを活用している。"),
    ("U02", "user", 1, "u01-01", None, "経営層への説明に活用。"),
    ("U02", "user", 1, "u01-05", None, "可視化ツールで<実施状況>を評価し経営会議に報告。"),
    ("U03", "user", 7, "u07-03", "高", "成熟度高の企業ではゼロトラストに向けてEDRを導入中。"),
    ("U03", "user", 7, "u07-03", None, "ゼロトラストの方針策定にコンサルを入れている。"),
    ("I01", "investor", 2, "i02-01", None, "セキュリティ体制が機能していることが重要。"),
]


@pytest.fixture(scope="module")
def statements(codebook):
    frame = pd.DataFrame(
        ROWS, columns=["respondent_id", "respondent_group", "section", "category_id", "maturity", "text"]
    )
    frame["statement_id"] = [f"S{i}" for i in range(len(frame))]
    frame["fiscal_year"] = 2021
    return study_from_tables({"statements": frame}, codebook, fiscal_year=2021).statements


def test_matrix_presence_and_counts(statements, codebook):
    counts = statement_matrix(statements, codebook, value="count", respondent_group="user", respondents=["U04"])
    assert list(counts.index) == ["U01", "U02", "U03", "U04"]
    user_categories = codebook.table("statement_categories")
    assert list(counts.columns) == list(
        user_categories.loc[user_categories["respondent_group"] == "user", "category_id"]
    )
    assert counts.loc["U01", "u01-01"] == 2
    assert counts.loc["U02", "u01-05"] == 1
    assert counts.loc["U04"].sum() == 0  # a respondent who said nothing still has a row
    presence = statement_matrix(statements, codebook, respondent_group="user")
    assert presence.loc["U01", "u01-01"] == 1
    assert set(presence.to_numpy().ravel()) <= {0, 1}
    with pytest.raises(ValueError):
        statement_matrix(statements, codebook, value="share")


def test_section_by_maturity(statements, codebook):
    frame = section_by_maturity(statements, codebook, "ja", "user")
    assert list(frame.columns) == ["節", "成熟度高", "成熟度中", "成熟度低", "成熟度の記載なし", "合計"]
    assert len(frame) == 13 + 1  # every user section, then the total
    first = frame.iloc[0]
    assert first["節"].startswith("1 ")
    assert (first["成熟度低"], first["成熟度の記載なし"], first["合計"]) == (1, 3, 4)
    seventh = frame.iloc[6]
    assert (seventh["成熟度高"], seventh["合計"]) == (1, 2)
    total = frame.iloc[-1]
    assert (total["成熟度高"], total["成熟度低"], total["合計"]) == (1, 1, 6)
    assert frame.attrs["layout"]["total_row"] == 13


def test_statements_by_category(statements, codebook):
    frame = statements_by_category(statements, codebook, "en", "user")
    row = frame[frame["Category ID"] == "u01-01"].iloc[0]
    assert (row["Statements"], row["Respondents with a statement"]) == (3, 2)
    assert frame.loc[frame["Category ID"] == "u13-01", "Statements"].item() == 0


def test_tables_by_id_name_the_same_columns_and_values(statements, codebook):
    from analysis.codebook.words import Words

    by_id = section_by_maturity(statements, codebook, "ja", "user", ids=True)
    labelled = section_by_maturity(statements, codebook, "ja", "user")
    assert [by_id.attrs["headers"][c] for c in by_id.columns] == list(labelled.columns)
    assert by_id.attrs["layout"]["total_column"] == "total" and by_id.attrs["count_columns"][-1] == "total"
    assert by_id.to_numpy().tolist() == labelled.to_numpy().tolist()
    by_id = statements_by_category(statements, codebook, "en", "user", ids=True)
    labelled = statements_by_category(statements, codebook, "en", "user")
    words = Words(codebook, "en")
    assert [words.header(c, "crosstab") for c in by_id.columns] == list(labelled.columns)
    assert by_id.attrs["count_columns"] == ["n_statements", "n_respondents"]
    assert by_id.to_numpy().tolist() == labelled.to_numpy().tolist()


def test_find_statements(statements, codebook):
    assert len(find_statements(statements, section=1)) == 4
    assert len(find_statements(statements, category="u07-03")) == 2
    assert len(find_statements(statements, category="可視化ツール", codebook=codebook)) == 1
    assert find_statements(statements, maturity="高")["respondent_id"].tolist() == ["U03"]
    assert len(find_statements(statements, maturity="成熟度低", codebook=codebook)) == 1
    assert len(find_statements(statements, maturity="none")) == 5
    assert find_statements(statements, respondent_group="investor")["respondent_id"].tolist() == ["I01"]
    # Full-width letters and Kangxi radicals in the query are normalised like the statements.
    assert len(find_statements(statements, text="ＥＤＲ")) == 1
    assert len(find_statements(statements, text="⽅針")) == 1  # ⽅ is the Kangxi radical, not 方
    assert len(find_statements(statements, text=["ゼロトラスト", "コンサル"])) == 1
    assert len(find_statements(statements, text="ゼロ トラスト")) == 2  # spaces are ignored
    assert find_statements(statements, text="存在しない").empty


def test_normalise_query():
    assert normalise_query(" ＣＩＳＯ の\u3000役割 ") == "cisoの役割"
    assert normalise_query("⽬標") == "目標"


def test_findings_layout_groups_by_maturity(statements, codebook):
    layout = findings_layout(statements, codebook, "ja", "user")
    first = layout[layout["category_id"] == "u01-01"]
    # Statements without a maturity first, then each maturity group.
    assert first["maturity"].tolist() == ["none", "none", "低"]
    assert layout["section"].tolist() == [1, 1, 1, 1, 7, 7]
    assert layout.loc[0, "section_title"].startswith("サイバーセキュリティ経営ガイドライン")
    assert layout.loc[0, "category"] == "活用方法"


def test_findings_markdown_and_html(statements, codebook):
    markdown = findings_markdown(statements, codebook, "ja")
    assert "## ユーザ企業" in markdown and "## 機関投資家等" in markdown
    assert "#### 活用方法" in markdown
    assert "- **成熟度低**\n  - 成熟度低の企業では" in markdown
    assert "\\<実施状況\\>" in markdown  # markup in a statement is escaped
    page = findings_html(statements, codebook, "en", "user")
    assert "<h4>Ways of use</h4>" in page
    assert "&lt;実施状況&gt;" in page and "<実施状況>" not in page
    assert page.count("<ul>") == page.count("</ul>")
    assert "<li><strong>Low maturity</strong><ul>" in page


def test_inputs_not_changed(statements, codebook):
    before = statements.copy()
    findings_layout(statements, codebook)
    find_statements(statements, text="活用")
    pd.testing.assert_frame_equal(statements, before)
