"""Year over year: level distribution and disclosure coverage side by side, with the change."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from analysis.maturity.classification import UNCLASSIFIED, level_counts
from analysis.report.builders.year_over_year import (
    build_disclosure_coverage,
    build_maturity_levels,
    disclosure_coverage,
    disclosure_coverage_comparison,
    maturity_level_comparison,
)
from analysis.report.registry import ReportContext
from analysis.study.load import study_from_tables


def _with_maturity(study, maturity):
    return replace(study, tables={**study.tables, "maturity": maturity})


def _disclosures(rows):
    columns = ["company_id", "fiscal_year", "region", "item", "disclosed"]
    return pd.DataFrame([dict(zip(columns, r, strict=True)) for r in rows])


@pytest.fixture(scope="module")
def previous(codebook):
    disclosures = _disclosures(
        [
            ("O1", 2020, "overseas", "governance_structure", True),
            ("O1", 2020, "overseas", "mitigation_measures", True),
            ("O2", 2020, "overseas", "governance_structure", True),
            ("O2", 2020, "overseas", "mitigation_measures", False),
            ("D1", 2020, "domestic", "governance_structure", True),
            ("D1", 2020, "domestic", "mitigation_measures", None),
            ("D1", 2019, "domestic", "mitigation_measures", True),  # an older year of the review: not compared
        ]
    )
    study = study_from_tables({"disclosures": disclosures}, codebook, fiscal_year=2020)
    levels = ["A", "A", "B", "B", "B", "B", "B", "C", "C", "C"]
    maturity = pd.DataFrame(
        {"respondent_id": [f"U{i:02d}" for i in range(1, 11)], "fiscal_year": 2020, "level": levels}
    )
    return _with_maturity(study, maturity)


@pytest.fixture(scope="module")
def current(codebook):
    disclosures = _disclosures(
        [
            ("O1", 2021, "overseas", "governance_structure", True),
            ("O1", 2021, "overseas", "mitigation_measures", True),
            ("O2", 2021, "overseas", "governance_structure", True),
            ("O2", 2021, "overseas", "mitigation_measures", True),
            ("D1", 2021, "domestic", "governance_structure", True),
            ("D1", 2021, "domestic", "mitigation_measures", False),
            ("D2", 2021, "domestic", "governance_structure", False),
            ("D2", 2021, "domestic", "mitigation_measures", False),
        ]
    )
    study = study_from_tables({"disclosures": disclosures}, codebook, fiscal_year=2021)
    # Unclassified is empty; U01 also has a row of another year.
    levels = ["A", "A", "A", "B", "B", "B", "B", "B", "C", None]
    maturity = pd.DataFrame(
        {
            "respondent_id": [f"U{i:02d}" for i in range(1, 11)] + ["U01"],
            "fiscal_year": [2021] * 10 + [2020],
            "level": levels + ["C"],
        }
    )
    return _with_maturity(study, maturity)


def test_level_counts_count_unclassified(current):
    # Other years are left out by the comparison (below: U01's 2020 row is not among n_2021).
    maturity = current.tables["maturity"]
    counts = level_counts(maturity[maturity["fiscal_year"] == 2021], ["A", "B", "C"])
    assert counts.to_dict() == {"A": 3, "B": 5, "C": 1, UNCLASSIFIED: 1}


def test_level_comparison_side_by_side_with_the_change(current, previous):
    frame = maturity_level_comparison(current, previous, "ja")
    assert list(frame.columns) == ["level", "n_2020", "share_2020", "n_2021", "share_2021", "change_n", "change_share"]
    assert frame["level"].tolist() == ["成熟度A(高)", "成熟度B(中)", "成熟度C(低)", "判定不能", "計"]
    assert frame["n_2020"].tolist() == [2, 5, 3, 0, 10]
    assert frame["n_2021"].tolist() == [3, 5, 1, 1, 10]
    assert frame["change_n"].tolist() == [1, 0, -2, 1, 0]
    assert frame["share_2021"].tolist() == pytest.approx([0.3, 0.5, 0.1, 0.1, 1.0])
    assert frame["change_share"].tolist() == pytest.approx([10.0, 0.0, -20.0, 10.0, 0.0])  # percentage points


def test_level_comparison_without_change_columns_for_publication(current, previous):
    frame = maturity_level_comparison(current, previous, "en", with_change=False)
    assert "change_n" not in frame and "change_share" not in frame
    assert frame["level"].iloc[-1] == "Total"


def test_disclosure_coverage_uses_the_latest_year_and_answered_rows(previous):
    frame = disclosure_coverage(previous.disclosures)
    got = {(r.region, r.item): (r.companies, r.disclosing) for r in frame.itertuples()}
    assert got == {
        ("domestic", "governance_structure"): (1, 1),
        ("overseas", "governance_structure"): (2, 2),
        ("overseas", "mitigation_measures"): (2, 1),
    }


def test_disclosure_comparison_by_region_and_item(current, previous):
    frame = disclosure_coverage_comparison(current, previous, "ja")
    assert frame[["region", "item"]].values.tolist() == [
        ["国内", "ガバナンス体制"],
        ["国内", "具体的な対策"],
        ["海外", "ガバナンス体制"],
        ["海外", "具体的な対策"],
    ]
    assert frame["companies_2021"].tolist() == [2, 2, 2, 2]
    assert frame["disclosing_2021"].tolist() == [1, 0, 2, 2]
    assert frame["companies_2020"].tolist()[:1] == [1] and pd.isna(frame["companies_2020"].iloc[1])
    assert frame["share_2021"].tolist() == pytest.approx([0.5, 0.0, 1.0, 1.0])
    assert frame["change_share"].iloc[0] == pytest.approx(-50.0)  # points
    assert pd.isna(frame["change_share"].iloc[1])
    assert frame["change_share"].iloc[3] == pytest.approx(50.0)


def test_builders_need_a_previous_year(current, previous):
    assert build_maturity_levels(current, ReportContext()) == []
    assert build_disclosure_coverage(current, ReportContext()) == []
    no_maturity = replace(previous, tables={k: v for k, v in previous.tables.items() if k != "maturity"})
    assert build_maturity_levels(current, ReportContext(previous=no_maturity)) == []


def test_builders_declare_counts_and_shares(current, previous):
    (levels,) = build_maturity_levels(current, ReportContext(previous=previous))
    assert levels.counts == ("n_2020", "n_2021")
    assert set(levels.percents) == {"share_2020", "share_2021"}  # the change is in points
    assert levels.title_ja == "成熟度レベルの分布 (2020年度と2021年度)"
    (coverage,) = build_disclosure_coverage(current, ReportContext(previous=previous, publish=True))
    assert coverage.counts == ("disclosing_2020", "disclosing_2021")
    assert "change_share" not in coverage.frame
