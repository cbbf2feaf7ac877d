"""Load processed tidy tables for analysis: typed frames with ordered categoricals and labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.codebook import Codebook, load_codebook
from analysis.study.frames import labelled, maturity_mapping, table_description, typed_frame
from analysis.study.schema import TABLES, conform

__all__ = ["Study", "labelled", "load_study", "study_from_tables"]


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

    @property
    def maturity_mapping(self) -> dict[str, str]:
        """Statement maturity groups (高/中/低) -> maturity levels (A/B/C), from the codebook."""
        return maturity_mapping(self.codebook)

    def year_of(self, table: str) -> int | None:
        """The study's fiscal year, else the latest fiscal year of table ``table`` (None when it has none)."""
        if self.fiscal_year is not None:
            return int(self.fiscal_year)
        frame = self.tables.get(table)
        if frame is None or "fiscal_year" not in frame:
            return None
        years = frame["fiscal_year"].dropna()
        return int(years.max()) if len(years) else None

    @property
    def years(self) -> list[int]:
        """The fiscal years present in the tables."""
        years: set[int] = set()
        for frame in self.tables.values():
            if "fiscal_year" in frame:
                years |= {int(y) for y in frame["fiscal_year"].dropna().unique()}
        return sorted(years)

    def overview(self) -> pd.DataFrame:
        """One row per table: rows, columns and what one row is."""
        return pd.DataFrame(
            [
                {"table": name, "rows": len(frame), "columns": frame.shape[1], "description": table_description(name)}
                for name, frame in self.tables.items()
            ]
        )

    def _problem_counts(self) -> dict[str, int]:
        if self.issues is None or self.issues.empty or "severity" not in self.issues:
            return {}
        return {str(k): int(v) for k, v in self.issues["severity"].value_counts().items()}

    def __repr__(self) -> str:
        tables = ", ".join(f"{name} {len(frame):,}" for name, frame in self.tables.items())
        problems = ", ".join(f"{n} {k}" for k, n in self._problem_counts().items()) or "none"
        years = ", ".join(map(str, self.years)) or "-"
        return (
            f"Study(edition={self.codebook.edition}, fiscal_year={self.fiscal_year}, rows from {years}, "
            f"path={self.path})\n"
            f"  tables: {tables}\n  problems: {problems}"
        )

    def _repr_html_(self) -> str:
        from html import escape

        years = ", ".join(map(str, self.years)) or "-"
        problems = ", ".join(f"{n} {k}" for k, n in self._problem_counts().items()) or "none"
        rows = "".join(
            f"<tr><td><code>{escape(str(r.table))}</code></td><td style='text-align:right'>{r.rows:,}</td>"
            f"<td style='text-align:right'>{r.columns}</td><td>{escape(str(r.description))}</td></tr>"
            for r in self.overview().itertuples(index=False)
        )
        return (
            f"<div><strong>Study</strong> {escape(self.codebook.edition)} · 年度 / year: {self.fiscal_year}"
            f" (行の年度 / rows from: {escape(years)})"
            f" · 問題 / problems: {escape(problems)}"
            "<table><thead><tr><th>table</th><th>rows</th><th>columns</th><th>description</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
        )


def _describe_tables() -> str:
    lines = [
        "",
        "Tables (``study.<name>``; ``frame.attrs`` holds labels, see :func:`analysis.study.frames.labelled`):",
        "",
    ]
    for name in [*TABLES, "maturity"]:
        lines.append(f"* ``{name}``: {table_description(name)}")
    return "\n".join(lines)


Study.__doc__ = (Study.__doc__ or "") + "\n" + _describe_tables()


def study_from_tables(
    tables: dict[str, pd.DataFrame],
    codebook: Codebook | None = None,
    fiscal_year: int | None = None,
    path: Path | None = None,
    issues: pd.DataFrame | None = None,
) -> Study:
    """Build a :class:`Study` from tidy frames (conformed to the schema, categoricals added).

    Derived tables given (such as ``maturity`` read back from the ingest) are kept; without one,
    a study with self-assessment answers gets its ``maturity`` table from
    :func:`analysis.maturity.classification.maturity_table`, as the ingest would have written it.
    """
    from analysis.maturity.classification import maturity_table

    codebook = codebook or load_codebook()
    typed = {name: conform(name, tables.get(name, pd.DataFrame())) for name in TABLES}
    # Tables outside the schema (derived ones such as maturity) are kept as given.
    typed.update({name: frame.copy() for name, frame in tables.items() if name not in TABLES})
    if "maturity" not in typed and len(typed["self_assessment"]):
        typed["maturity"] = maturity_table(Study(tables=typed, codebook=codebook))
    # Ordered categoricals (from the codebook's lists), dates and labels: analysis-ready frames.
    typed = {name: typed_frame(name, frame, codebook) for name, frame in typed.items()}
    return Study(
        tables=typed,
        codebook=codebook,
        fiscal_year=fiscal_year,
        path=path,
        issues=issues if issues is not None else pd.DataFrame(),
    )


def _dates_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Parquet dates back to the schema's ISO text (typed again by :func:`study_from_tables`)."""
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]) or (
            frame[column].dtype == object and frame[column].map(lambda v: hasattr(v, "isoformat")).any()
        ):
            frame[column] = frame[column].map(lambda v: v.strftime("%Y-%m-%d") if pd.notna(v) else None)
    return frame


def load_study(path: str | Path, edition: str | None = None) -> Study:
    """Load the processed tables in ``path`` (a folder written by ``survey ingest``): the one loader
    of the toolkit (reports, notebooks and the database read a processed year through it).

    Parquet is read where present (types survive), CSV otherwise (typed by the schema). Derived
    tables (``maturity``) come from their Parquet file, and are derived again when it is missing.
    """
    import json

    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a processed folder; run `survey ingest RAW_DIR --out {path}` first")
    manifest = {}
    if (path / "ingest.json").is_file():
        manifest = json.loads((path / "ingest.json").read_text(encoding="utf-8"))
    codebook = load_codebook(edition or manifest.get("codebook_folder") or manifest.get("edition", "fy2021"))
    tables = {}
    for name in TABLES:
        if (path / f"{name}.parquet").is_file():
            tables[name] = _dates_as_text(pd.read_parquet(path / f"{name}.parquet"))
        elif (path / f"{name}.csv").is_file():
            tables[name] = pd.read_csv(
                path / f"{name}.csv", dtype="str", keep_default_na=False, na_values=[""], encoding="utf-8-sig"
            )
    issues_csv = path / "issues.csv"
    issues = pd.read_csv(issues_csv, dtype="str", encoding="utf-8-sig") if issues_csv.is_file() else None
    # Derived tables written by the ingest (e.g. maturity) come along, typed by their Parquet file.
    for extra in sorted(path.glob("*.parquet")):
        if extra.stem not in TABLES:
            tables[extra.stem] = pd.read_parquet(extra)
    return study_from_tables(tables, codebook, manifest.get("fiscal_year"), path, issues)
