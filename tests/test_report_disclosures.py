"""The disclosure section of the report (analysis/report/builders/disclosures.py)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from analysis.codebook.words import Words
from analysis.figures.plotting import assert_no_missing_glyphs
from analysis.report.build import builders
from analysis.report.builders.disclosures import disclosure_report
from analysis.report.registry import ReportContext, ReportFigure, ReportTable
from analysis.study.load import study_from_tables

G, R, M = "governance_structure", "risk_description", "mitigation_measures"
# company: (region, country, peers, large_cap, {item: (disclosed, venue, sustainability)})
CODING = {
    "O1": (
        "overseas",
        "GB",
        "D1",
        True,
        {G: (True, "annual_report", True), R: (True, "annual_report", False), M: (True, "annual_report", True)},
    ),
    "O2": (
        "overseas",
        "US",
        None,
        False,
        {G: (True, "form_10k", False), R: (True, "form_10k", False), M: (False, None, None)},
    ),
    "D1": ("domestic", "JP", None, True, {G: (True, "yuho", True), R: (False, None, None), M: (False, None, None)}),
    "D2": ("domestic", "JP", None, False, {G: (False, None, None), R: (False, None, None), M: (False, None, None)}),
}


@pytest.fixture
def study(codebook):
    rows = [
        {
            "company_id": c,
            "fiscal_year": 2021,
            "region": region,
            "country": country,
            "peer_ids": peers,
            "large_cap": large,
            "item": item,
            "disclosed": d,
            "venue": venue,
            "sustainability": s,
        }
        for c, (region, country, peers, large, items) in CODING.items()
        for item, (d, venue, s) in items.items()
    ]
    return study_from_tables({"disclosures": pd.DataFrame(rows)}, codebook, fiscal_year=2021)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def by_name(items):
    return {item.name: item for item in items}


def test_registered_in_the_disclosure_band():
    names = [name for name, _ in builders()]
    assert "disclosures" in names


def test_tables_and_figures_of_the_section(study):
    items = by_name(disclosure_report(study, ReportContext(lang="ja")))
    assert set(items) == {
        "disclosure_items_by_region",
        "disclosure_items_by_country",
        "disclosure_depth_by_region",
        "disclosure_venues_by_region",
        "disclosure_bases_by_region",
        "disclosure_sustainability_by_region",
        "disclosure_peer_pairs",
        "disclosure_peer_items",
        "disclosure_trend",
        "findings",
        "disclosure_heatmap",
        "disclosure_trend_figure",
    }
    for item in items.values():
        assert item.section == "disclosures" and item.title_ja and item.title_en
        if isinstance(item, ReportTable):
            declared = set(item.counts) | set(item.percents) | set(item.respondent_columns)
            assert declared <= set(item.frame.columns), item.name
        else:
            assert isinstance(item, ReportFigure)
            assert_no_missing_glyphs(item.render())


def test_labels_and_numbers_in_japanese(study):
    words = Words(study.codebook, "ja")
    table = by_name(disclosure_report(study, ReportContext(lang="ja")))["disclosure_items_by_region"]
    first = table.labelled(words).iloc[0]
    assert first["開示項目"] == "ガバナンス体制"
    assert (first["国内 開示企業数"], first["国内 調査企業数"], first["海外 開示企業数"]) == (1, 2, 2)
    assert first["国内 割合"] == pytest.approx(0.5)
    assert tuple(words.header(c, table.scope) for c in table.percents) == ("国内 割合", "海外 割合")
    depth = by_name(disclosure_report(study, ReportContext(lang="ja")))["disclosure_depth_by_region"].labelled(words)
    assert list(depth["開示の深さ"]) == ["開示なし", "ガバナンス体制まで", "リスクの記述まで", "対策まで"]


def test_labels_in_english(study):
    words = Words(study.codebook, "en")
    items = by_name(disclosure_report(study, ReportContext(lang="en")))
    venues = items["disclosure_venues_by_region"].labelled(words).set_index("Where disclosed")
    assert venues.loc["Annual report", "Overseas n"] == 1 and venues.loc["Annual report", "Overseas N"] == 2
    assert items["disclosure_sustainability_by_region"].labelled(words).iloc[0]["Domestic n"] == 1


def test_findings_table_columns_and_values(study):
    findings = by_name(disclosure_report(study, ReportContext()))["findings"]
    assert list(findings.frame.columns) == ["finding", "holds", "evidence"]
    # The Japanese report's evidence is Japanese; the English report's is English.
    assert findings.frame["evidence"].str.contains("企業").all()
    english = by_name(disclosure_report(study, ReportContext(lang="en")))["findings"]
    assert not english.frame["evidence"].str.contains("企業").any()
    holds = dict(zip(findings.frame["finding"], findings.frame["holds"], strict=True))
    # Items per company: overseas 3, 2 and domestic 1, 0; D1 (1 item) does not match its peer O1 (3).
    # Depth: D1 governance (1/1 domestic stop); O1 measures, O2 risk (1/2 overseas go on = 50%).
    # Sustainability marks sit on O1's governance and mitigation and D1's governance: no company
    # frames the risk *and* its mitigation, so the literal 「リスクとその軽減策」 does not hold.
    assert holds == {
        "overseas_disclose_more": False,
        "domestic_stop_at_governance": True,
        "large_cap_almost_nothing": True,
        "sustainability_framing": False,
        "uk_all_mitigation": True,
    }
    assert "uk_all_mitigation:" in findings.note_en and "overseas_disclose_more:" in findings.note_ja


def test_publish_mode_marks_ids_and_hides_them_from_the_heatmap(study):
    items = by_name(disclosure_report(study, ReportContext(publish=True)))
    pairs, words = items["disclosure_peer_pairs"], Words(study.codebook, "ja")
    assert tuple(words.header(c, pairs.scope) for c in pairs.respondent_columns) == ("海外企業ID", "国内比較企業ID")
    rows = [t.get_text() for t in items["disclosure_heatmap"].render().axes[0].get_yticklabels()]
    assert rows == ["日本", "日本", "米国", "英国"]


def test_no_review_no_section(codebook):
    assert disclosure_report(study_from_tables({}, codebook), ReportContext()) == []


def test_every_table_with_counts_declares_its_layout_and_tests(study):
    import warnings

    from analysis.report.build import publishable

    items = by_name(disclosure_report(study, ReportContext(publish=True)))
    tables = [t for t in items.values() if isinstance(t, ReportTable) and t.counts]
    assert tables and all(t.layout is not None for t in tables)
    region = items["disclosure_items_by_region"]
    assert len(region.statistics) == 1
    assert region.statistics[0] in region.frame
    assert items["disclosure_peer_items"].statistics and items["disclosure_peer_pairs"].statistics
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no table without a layout
        published = by_name(publishable(list(items.values()), 5))
    # Four companies: every count is small, so every row's Fisher p-value goes with them.
    shown = published["disclosure_items_by_region"].frame
    p = region.statistics[0]
    counts = list(region.counts)
    hidden_rows = (shown[counts] == "x").any(axis=1)
    assert hidden_rows.any() and (shown.loc[hidden_rows, p] == "x").all()
