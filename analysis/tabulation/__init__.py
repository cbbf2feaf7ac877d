"""Cross-tabulation (:mod:`.crosstabs`) with exact statistics (:mod:`.stats`, numbers only) and
small-cell suppression (:mod:`.suppression`).
"""

from analysis.tabulation.crosstabs import crosstab, maturity_levels, presurvey_by

__all__ = ["crosstab", "maturity_levels", "presurvey_by"]
