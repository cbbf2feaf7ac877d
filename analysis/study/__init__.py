"""The tidy study: table schemas (:mod:`.schema`), typed frames (:mod:`.frames`), loading a processed
year (:mod:`.load`), its data package (:mod:`.datapackage`) and the multi-year database (:mod:`.db`).
"""

from analysis.study.frames import labelled
from analysis.study.load import Study, load_study

__all__ = ["labelled", "load_study", "Study"]
