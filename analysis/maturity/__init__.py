"""Maturity: directive scores (:mod:`.scores`), the A/B/C classification (:mod:`.classification`) and
the level bounds of unclassified companies (:mod:`.bounds`)."""

from analysis.maturity.bounds import bound_counts, level_range, level_ranges, no_level_possible
from analysis.maturity.classification import (
    classify,
    classify_scores,
    describe,
    describe_rule,
    directive_change,
    directive_change_summary,
    level_counts,
    maturity_table,
    one_year_only,
    rules_from_codebook,
    sensitivity,
    transition_matrix,
)
from analysis.maturity.scores import directive_scores, exact_means, wide_means

__all__ = [
    "bound_counts",
    "classify",
    "classify_scores",
    "describe",
    "describe_rule",
    "directive_change",
    "directive_change_summary",
    "directive_scores",
    "exact_means",
    "level_counts",
    "level_range",
    "level_ranges",
    "maturity_table",
    "no_level_possible",
    "one_year_only",
    "rules_from_codebook",
    "sensitivity",
    "transition_matrix",
    "wide_means",
]
