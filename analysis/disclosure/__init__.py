"""Overseas-vs-domestic disclosure review (:mod:`.review`) and the published findings as named
checks (:mod:`.findings`).
"""

from analysis.disclosure.findings import (
    FINDINGS,
    FindingResult,
    finding,
    finding_parameters,
    finding_title,
    run_checks,
)
from analysis.disclosure.review import (
    bases_by_region,
    companies,
    depth_by_region,
    items_by_country,
    items_by_region,
    peer_item_tests,
    peer_pair_summary,
    sustainability_by_region,
    venues_by_region,
)

__all__ = [
    "bases_by_region",
    "companies",
    "depth_by_region",
    "finding",
    "finding_parameters",
    "finding_title",
    "FindingResult",
    "FINDINGS",
    "items_by_country",
    "items_by_region",
    "peer_item_tests",
    "peer_pair_summary",
    "run_checks",
    "sustainability_by_region",
    "venues_by_region",
]
