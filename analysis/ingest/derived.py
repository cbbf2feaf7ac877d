"""Tables derived from the tidy tables at ingest time and written beside them.

A derived table is one pure function ``(tables, codebook) -> DataFrame`` registered in
:data:`DERIVED`; the ingest runs each and writes ``<name>.csv`` and ``<name>.parquet``.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from analysis.codebook import Codebook

__all__ = ["DERIVED", "derive"]

Deriver = Callable[[dict[str, pd.DataFrame], Codebook], pd.DataFrame]


def _registered() -> dict[str, Deriver]:
    # Imported here so that the ingest does not import plotting or statistics it does not use.
    from analysis.maturity.classification import maturity_table

    return {"maturity": maturity_table}


DERIVED = _registered


def derive(tables: dict[str, pd.DataFrame], codebook: Codebook) -> dict[str, pd.DataFrame]:
    """Run every registered deriver on the tidy tables and return the new tables by name."""
    return {name: fn(tables, codebook) for name, fn in DERIVED().items()}
