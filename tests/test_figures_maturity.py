"""Maturity figures render in Japanese and English without missing glyphs, on hand-made frames."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.figures.maturity import (
    directive_labels,
    level_heatmap,
    level_label,
    level_radar,
    respondent_radar,
)
from analysis.figures.plotting import assert_no_missing_glyphs
from analysis.maturity.classification import maturity_table
from analysis.maturity.scores import directive_scores
from analysis.study.load import Study

# respondent -> (industry, answer given to every question, except directive 10 when None there)
PROFILES = {
    "U01": ("manufacturing", [4] * 10),
    "U02": ("manufacturing", [3] * 10),
    "U03": ("manufacturing", [2] * 10),
    "U04": ("finance_insurance", [2] * 6 + [4] * 4),
    "U05": ("finance_insurance", [2] * 5 + [3, 3, 3, 3, None]),
}


@pytest.fixture(scope="module")
def frames(codebook):
    rows, roster = [], []
    for rid, (industry, per_directive) in PROFILES.items():
        roster.append({"respondent_id": rid, "fiscal_year": 2021, "group": "user", "industry": industry})
        for q in codebook.questions.itertuples():
            score = per_directive[q.directive - 1]
            rows.append(
                {
                    "respondent_id": rid,
                    "fiscal_year": 2021,
                    "directive": q.directive,
                    "question_id": q.question_id,
                    "score": score,
                    "missing_reason": None if score is not None else "dont_know",
                }
            )
    tables = {"self_assessment": pd.DataFrame(rows), "respondents": pd.DataFrame(roster)}
    return (
        directive_scores(tables["self_assessment"], codebook),
        tables["respondents"],
        maturity_table(Study(tables=tables, codebook=codebook)),
    )


def _texts(figure) -> str:
    figure.canvas.draw()
    return " ".join(t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text")))


def test_labels_come_from_the_codebook(codebook):
    labels = directive_labels(codebook, "ja")
    assert len(labels) == 10 and labels[0] == "1. " + codebook.directives["short_ja"].iloc[0]
    assert directive_labels(codebook, "en")[8].endswith(codebook.directives["short_en"].iloc[8])
    assert level_label("A", codebook, "ja") == "成熟度A(高)"
    assert level_label(None, codebook, "en") == "Unclassified"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_respondent_radar_with_industry_mean(codebook, frames, lang):
    scores, roster, _ = frames
    figure = respondent_radar(scores, roster, "U01", 2021, codebook, lang=lang)
    assert_no_missing_glyphs(figure)
    text = _texts(figure)
    assert "n=5" in text and "n=3" in text  # three manufacturing respondents reach the default minimum
    assert ("製造業" if lang == "ja" else "Manufacturing") in text
    assert ("サプライチェーン" if lang == "ja" else "Supply chain") in text


def test_respondent_radar_falls_back_to_overall_mean(codebook, frames):
    scores, roster, _ = frames
    figure = respondent_radar(scores, roster, "U04", 2021, codebook, lang="en")
    assert_no_missing_glyphs(figure)
    text = _texts(figure)
    assert "only 2 (fewer than 3)" in text and "overall mean shown (n=5)" in text
    lowered = respondent_radar(scores, roster, "U04", 2021, codebook, lang="en", min_industry_n=2)
    assert "Same industry (Finance and insurance) mean (n=2)" in _texts(lowered)


def test_respondent_radar_unknown_respondent(codebook, frames):
    scores, roster, _ = frames
    with pytest.raises(KeyError, match="U99"):
        respondent_radar(scores, roster, "U99", 2021, codebook)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_level_radar(codebook, frames, lang):
    scores, _, maturity = frames
    figure = level_radar(scores, maturity, 2021, codebook, lang=lang)
    assert_no_missing_glyphs(figure)
    text = _texts(figure)
    # Levels by hand: U01 A, U02 B, U03 C, U04 B (precedence), U05 unclassified (directive 10 decides).
    expected = (
        ["成熟度A(高) (n=1)", "成熟度B(中) (n=2)", "成熟度C(低) (n=1)", "判定不能 (n=1)"]
        if lang == "ja"
        else ["Maturity A (high) (n=1)", "Maturity B (medium) (n=2)", "Unclassified (n=1)"]
    )
    for label in expected:
        assert label in text


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_heatmap_rows_ordered_by_level(codebook, frames, lang):
    scores, _, maturity = frames
    figure = level_heatmap(scores, maturity, 2021, codebook, lang=lang)
    assert_no_missing_glyphs(figure)
    rows = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    unclassified = "判定不能" if lang == "ja" else "Unclassified"
    assert rows == ["U01 (A)", "U02 (B)", "U04 (B)", "U03 (C)", f"U05 ({unclassified})"]


def test_heatmap_can_hide_ids(codebook, frames):
    scores, _, maturity = frames
    figure = level_heatmap(scores, maturity, 2021, codebook, hide_ids=True)
    assert_no_missing_glyphs(figure)
    rows = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert rows == ["A-1", "B-1", "B-2", "C-1", "判定不能-1"]
    assert not any("U0" in t for t in _texts(figure).split())


def test_glyph_check_is_live_on_these_figures(codebook, frames):
    # The figures are drawn on a real canvas: a glyph the font lacks is caught, not skipped.
    scores, _, maturity = frames
    figure = level_radar(scores, maturity, 2021, codebook)
    figure.axes[0].set_title("\u2265")  # GREATER-THAN OR EQUAL TO, absent from IPAexGothic
    with pytest.raises(AssertionError, match="missing glyphs"):
        assert_no_missing_glyphs(figure)


def test_level_radar_for_publication_draws_large_levels_without_sizes(codebook, frames):
    scores, _, maturity = frames
    figure = level_radar(scores, maturity, 2021, codebook, min_n=2, show_n=False)
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert labels == ["成熟度B(中)"]  # B has 2 companies; A, C and unclassified have 1
    assert "n=" not in _texts(figure)
