"""Figures of the disclosure review: content, labels in both languages, no missing glyphs."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from analysis.figures.disclosure import heatmap_figure, trend_figure
from analysis.figures.plotting import assert_no_missing_glyphs
from analysis.study.schema import conform

G, R, M = "governance_structure", "risk_description", "mitigation_measures"


def make_disclosures() -> pd.DataFrame:
    # company: (region, country, {year: {item: disclosed}})
    coding = {
        "O1": ("overseas", "GB", {2020: {G: True, R: False}, 2021: {G: True, R: True, M: True}}),
        "O2": ("overseas", "US", {2021: {G: False, R: True, M: None}}),
        "D1": ("domestic", "JP", {2020: {G: True, R: False}, 2021: {G: True, R: False, M: False}}),
    }
    rows = [
        {"company_id": c, "fiscal_year": y, "region": region, "country": country, "item": i, "disclosed": d}
        for c, (region, country, years) in coding.items()
        for y, items in years.items()
        for i, d in items.items()
    ]
    return conform("disclosures", pd.DataFrame(rows))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_heatmap_rows_grouped_labels_from_codebook_and_all_glyphs(codebook, lang):
    figure = heatmap_figure(make_disclosures(), codebook, lang=lang)
    assert_no_missing_glyphs(figure)
    ax = figure.axes[0]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    country = codebook.label("countries", "JP", lang), codebook.label("countries", "US", lang)
    # Region order of the codebook (domestic first), then countries in codebook order (US before GB).
    assert rows[0] == f"D1  {country[0]}" and rows[1] == f"O2  {country[1]}" and rows[2].startswith("O1")
    cells = ax.collections[0].get_array().reshape(3, 10)  # rows D1, O2, O1; masked = not coded
    assert cells[0, :3].tolist() == [1.0, 0.0, 0.0] and cells[2, :3].tolist() == [1.0, 1.0, 1.0]
    assert cells.mask[1].tolist() == [False, False] + [True] * 8
    columns = [t.get_text() for t in ax.get_xticklabels()]  # horizontal, wrapped onto lines
    assert all(t.get_rotation() == 0 for t in ax.get_xticklabels())
    flat = [c.replace("\n", "").replace(" ", "") for c in columns]
    expected = codebook.table("disclosure_items").sort_values("order")[f"label_{lang}"]
    assert flat == [e.replace(" ", "") for e in expected]
    regions = [t.get_text() for t in ax.child_axes[0].get_yticklabels()]
    assert regions == [codebook.label("regions", "domestic", lang), codebook.label("regions", "overseas", lang)]
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend[0] == ("開示あり" if lang == "ja" else "Disclosed")


def test_heatmap_of_an_empty_review_still_draws(codebook):
    assert_no_missing_glyphs(heatmap_figure(conform("disclosures", pd.DataFrame()), codebook))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_trend_lines_are_shares_per_year_and_region(codebook, lang):
    figure = trend_figure(make_disclosures(), codebook, lang=lang)
    assert_no_missing_glyphs(figure)
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == [codebook.label("disclosure_items", i, lang) for i in (G, R, M)]
    risk = visible[1]
    domestic, overseas = risk.get_lines()
    assert list(domestic.get_xdata()) == [2020, 2021] and list(domestic.get_ydata()) == [0.0, 0.0]
    # 2020: O1 only (0/1); 2021: O1 and O2 (2/2).
    assert list(overseas.get_xdata()) == [2020, 2021] and list(overseas.get_ydata()) == [0.0, 1.0]
    assert "2/2" in {t.get_text() for t in risk.texts}
    mitigation = visible[2]
    # 2021 only; O2's mitigation is not coded, so overseas is 1/1.
    assert list(mitigation.get_lines()[1].get_ydata()) == [1.0]
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend == [codebook.label("regions", r, lang) for r in ("domestic", "overseas")]


def test_trend_for_chosen_items(codebook):
    figure = trend_figure(make_disclosures(), codebook, items=[R])
    assert [ax.get_title() for ax in figure.axes if ax.get_visible()] == ["リスクの記述"]
