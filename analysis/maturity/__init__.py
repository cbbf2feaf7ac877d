"""Maturity: directive scores (:mod:`.scores`) and the A/B/C classification (:mod:`.classification`)."""

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
    "classify",
    "classify_scores",
    "describe",
    "describe_rule",
    "directive_change",
    "directive_change_summary",
    "directive_scores",
    "exact_means",
    "level_counts",
    "maturity_table",
    "one_year_only",
    "rules_from_codebook",
    "sensitivity",
    "transition_matrix",
    "wide_means",
]
