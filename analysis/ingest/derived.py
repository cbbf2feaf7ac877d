"""Tables derived from the tidy tables at ingest time and written beside them.

A derived table is one pure function ``(tables, codebook) -> DataFrame`` listed in
:func:`derivers` (the same pattern as the report's ``builders()``: a list a reader can follow);
the ingest runs each and writes ``<name>.csv`` and ``<name>.parquet``.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from analysis.codebook import Codebook

__all__ = ["derive", "derivers"]

Deriver = Callable[[dict[str, pd.DataFrame], Codebook], pd.DataFrame]


def _maturity(tables: dict[str, pd.DataFrame], codebook: Codebook) -> pd.DataFrame:
    # The one classification, the same function a Study derives its maturity table with.
    from analysis.maturity.classification import maturity_table
    from analysis.study.load import Study

    return maturity_table(Study(tables=tables, codebook=codebook))


def derivers() -> list[tuple[str, Deriver]]:
    """Every derived table, by name, in the order the ingest writes them."""
    return [("maturity", _maturity)]


def derive(tables: dict[str, pd.DataFrame], codebook: Codebook) -> dict[str, pd.DataFrame]:
    """Run every deriver on the tidy tables and return the new tables by name."""
    return {name: fn(tables, codebook) for name, fn in derivers()}
