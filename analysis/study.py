"""Load processed tidy tables for analysis: typed frames with ordered categoricals and labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.codebook import Codebook, load_codebook
from analysis.schema import TABLES, conform

__all__ = ["Study", "load_study", "study_from_tables"]


@dataclass(frozen=True)
class Study:
    """The tidy tables of one processed study year, with the codebook that describes them."""

    tables: dict[str, pd.DataFrame]
    codebook: Codebook
    fiscal_year: int | None = None
    path: Path | None = None
    issues: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = object.__getattribute__(self, "tables")
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.tables))


def _ordered(values: pd.Series, order: list) -> pd.Series:
    return pd.Series(pd.Categorical(values, categories=order, ordered=True), index=values.index, name=values.name)


def study_from_tables(tables: dict[str, pd.DataFrame], codebook: Codebook | None = None,
                      fiscal_year: int | None = None, path: Path | None = None,
                      issues: pd.DataFrame | None = None) -> Study:
    """Build a :class:`Study` from tidy frames (conformed to the schema, categoricals added)."""
    codebook = codebook or load_codebook()
    typed = {name: conform(name, tables.get(name, pd.DataFrame())) for name in TABLES}
    # Tables outside the schema (derived ones such as maturity) are kept as given.
    typed.update({name: frame.copy() for name, frame in tables.items() if name not in TABLES})
    sa = typed["self_assessment"]
    sa["missing_reason"] = _ordered(sa["missing_reason"], [m["reason"] for m in codebook.meta["missing"]])
    st = typed["statements"]
    st["maturity"] = _ordered(st["maturity"], list(codebook.table("maturity_groups")["code"]))
    rs = typed["respondents"]
    rs["size_band"] = _ordered(rs["size_band"], list(codebook.table("size_bands")["code"]))
    ds = typed["disclosures"]
    ds["region"] = _ordered(ds["region"], list(codebook.table("regions")["region"]))
    ds["item"] = _ordered(ds["item"], list(codebook.table("disclosure_items")["item"]))
    return Study(tables=typed, codebook=codebook, fiscal_year=fiscal_year, path=path,
                 issues=issues if issues is not None else pd.DataFrame())


def load_study(path: str | Path, edition: str | None = None) -> Study:
    """Load the processed tables in ``path`` (a folder written by ``survey ingest``).

    Parquet is read where present (types survive), CSV otherwise.
    """
    import json

    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a processed folder; run `survey ingest RAW_DIR --out {path}` first")
    manifest = {}
    if (path / "ingest.json").is_file():
        manifest = json.loads((path / "ingest.json").read_text(encoding="utf-8"))
    codebook = load_codebook(edition or manifest.get("edition", "fy2021"))
    tables = {}
    for name in TABLES:
        if (path / f"{name}.parquet").is_file():
            tables[name] = pd.read_parquet(path / f"{name}.parquet")
        elif (path / f"{name}.csv").is_file():
            tables[name] = pd.read_csv(path / f"{name}.csv", dtype="str", keep_default_na=False, na_values=[""],
                                      encoding="utf-8-sig")
    issues_csv = path / "issues.csv"
    issues = pd.read_csv(issues_csv, dtype="str", encoding="utf-8-sig") if issues_csv.is_file() else None
    study = study_from_tables(tables, codebook, manifest.get("fiscal_year"), path, issues)
    # Derived tables written by the ingest (e.g. maturity) come along as they are.
    for extra in sorted(path.glob("*.parquet")):
        if extra.stem not in TABLES:
            study.tables[extra.stem] = pd.read_parquet(extra)
    return study
