"""Coded statements in the report (analysis/report/builders/statements.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.codebook.words import Words
from analysis.report.build import builders
from analysis.report.builders.statements import statement_tables
from analysis.report.registry import ReportContext
from analysis.study.load import study_from_tables

ROWS = [
    ("U01", "user", 1, "u01-01", None, "ガイドラインを活用している。"),
    ("U02", "user", 1, "u01-01", "低", "成熟度低の企業では活用し始めた。"),
    ("I01", "investor", 2, "i02-01", None, "体制が機能していることが重要。"),
]


@pytest.fixture
def study(codebook):
    frame = pd.DataFrame(
        ROWS, columns=["respondent_id", "respondent_group", "section", "category_id", "maturity", "text"]
    )
    frame["statement_id"] = [f"S{i}" for i in range(len(frame))]
    frame["fiscal_year"] = 2021
    return study_from_tables({"statements": frame}, codebook, fiscal_year=2021)


def test_registered():
    assert "statements" in [name for name, _ in builders()]


def test_the_matrix_is_built_only_on_request(study):
    """One row per company grows with the study: only with --per-respondent (issue 16)."""
    names = {item.name for item in statement_tables(study, ReportContext(lang="ja"))}
    assert names and not [n for n in names if n.startswith("statements_matrix")]


def test_tables_per_group(study):
    items = {item.name: item for item in statement_tables(study, ReportContext(lang="ja", per_respondent=True))}
    assert set(items) == {
        f"{kind}_{group}"
        for group in ("user", "investor")
        for kind in ("statements_by_category", "statements_by_maturity", "findings", "statements_matrix")
    }
    words = Words(study.codebook, "ja")
    findings = items["findings_user"].labelled(words)
    assert findings["発言"].tolist() == ["ガイドラインを活用している。", "成熟度低の企業では活用し始めた。"]
    assert findings["成熟度"].tolist() == ["", "成熟度低"]
    matrix = items["statements_matrix_user"]
    assert tuple(words.header(c, matrix.scope) for c in matrix.respondent_columns) == ("回答者ID",)
    assert matrix.labelled(words).set_index("回答者ID").loc["U02", "u01-01 活用方法"] == 1  # id and name
    for item in items.values():
        assert set(item.counts) <= set(item.frame.columns)
        assert item.title_ja and item.title_en


def test_publish_leaves_out_the_matrix(study, codebook):
    from analysis.report.build import _omitted_table
    from analysis.report.publication import PublicationRule, publish

    items = statement_tables(study, ReportContext(publish=True, per_respondent=True))
    matrices = [item for item in items if item.name.startswith("statements_matrix")]
    assert matrices and all(item.respondent_level for item in matrices)  # declared, so publication drops it
    out = publish(items, PublicationRule(k=5), omitted_table=_omitted_table(codebook))
    names = [item.name for item in out.items]
    assert not [n for n in names if n.startswith("statements_matrix")]
    assert "findings_user" in names
    appendix = next(item for item in out.items if item.name == "appendix_omitted").frame
    assert {m.name for m in matrices} <= set(appendix["omitted_item"])  # listed in appendix D
