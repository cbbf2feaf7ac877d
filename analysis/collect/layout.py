"""The parts of a survey workbook that are the toolkit's, not the study's.

The codebook declares the data sheets of each instrument; around them the template adds an
instructions sheet, a hidden sheet of dropdown lists and a hidden stamp naming the instrument
and codebook edition. The template writes them and the ingest reads or passes over them, both
from the names here.
"""

from __future__ import annotations

__all__ = ["INSTRUCTIONS_SHEET", "LISTS_SHEET", "META_SHEET", "STAMP_EDITION", "STAMP_INSTRUMENT"]

# The hidden key/value stamp: one key in column A, its value in column B.
META_SHEET = "_meta"
STAMP_INSTRUMENT = "instrument"
STAMP_EDITION = "edition"
# The hidden sheet holding the dropdown lists of the data sheets (every sheet whose name starts
# with "_" is the toolkit's, not data).
LISTS_SHEET = "_lists"
# The instructions sheet, by the template's language.
INSTRUCTIONS_SHEET = {"ja": "説明", "en": "Instructions"}
