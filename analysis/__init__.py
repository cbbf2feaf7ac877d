"""Toolkit for survey studies of cybersecurity management (METI study, FY2021 edition)."""

from analysis.codebook import Codebook, load_codebook

__all__ = ["Codebook", "load_codebook"]
__version__ = "0.1.0"
