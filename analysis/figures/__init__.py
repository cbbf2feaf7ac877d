"""Figures: shared drawing setup (:mod:`.plotting`), maturity figures (:mod:`.maturity`) and
disclosure figures (:mod:`.disclosure`).
"""

from analysis.figures.disclosure import heatmap_figure, trend_figure
from analysis.figures.maturity import level_heatmap, level_mean_heatmap, level_means, level_radar, respondent_radar

__all__ = [
    "heatmap_figure",
    "level_heatmap",
    "level_mean_heatmap",
    "level_means",
    "level_radar",
    "respondent_radar",
    "trend_figure",
]
