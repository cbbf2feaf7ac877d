"""Toolkit for survey studies of cybersecurity management (METI study, FY2021 edition).

The public surface for analysts: :func:`load_codebook` (the study as data) and
:func:`load_study` (the tidy tables of a processed year). Everything else lives in its own
module: ``analysis.ingest.folder``, ``analysis.maturity.classification``, ``analysis.tabulation.crosstabs``,
``analysis.statements.coding``, ``analysis.disclosure.review``, ``analysis.report``…
"""

from analysis.codebook import Codebook, load_codebook
from analysis.study.load import Study, load_study

__all__ = ["Codebook", "Study", "load_codebook", "load_study"]
__version__ = "0.1.0"
