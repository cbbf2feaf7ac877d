"""The multi-year study database: every processed year in one DuckDB file, and the same tables
as Parquet partitioned by study year for tools that outgrow one machine.

``data/processed/study.duckdb`` holds one table per kind (``respondents``, ``maturity``...)
with the rows of every year folder, a ``study_year`` column (the folder's year) beside each
table's own ``fiscal_year``, ENUM types built from the codebook's lists (:mod:`analysis.study.frames`),
a ``codes`` table (vocabulary, code, labels), a ``columns`` table (labels and descriptions) and
one ``<table>_labelled`` view per table with ``<column>_ja``/``<column>_en`` label columns.

``data/processed/parquet/<table>/study_year=<year>/part.parquet`` are the same rows (Hive
partitioning). ``study_year`` rather than ``fiscal_year`` names the partition because a year's
folder may hold rows of other fiscal years (the disclosure review reads earlier reports).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from analysis.codebook import Codebook
from analysis.errors import UsageError
from analysis.output.atomic import owner_of, staging_dir
from analysis.study.frames import CODED, column_labels, vocabulary

__all__ = ["DB_FILE", "PARQUET_DIR", "build_database", "processed_years", "study_frames"]

DB_FILE = "study.duckdb"
PARQUET_DIR = "parquet"
_BUILD_TABLE = "survey_build"  # marks a database made by this module (ownership)


def processed_years(processed_root: Path) -> list[tuple[int, Path]]:
    """The year folders under ``processed_root`` that ``survey ingest`` made, oldest first."""
    from analysis.cli import year_folders

    root = Path(processed_root)
    if not root.is_dir():
        return []
    return [(year, path) for year, path in year_folders(root) if owner_of(path) == "ingest"]


def study_frames(years: Sequence[tuple[int, Path]]) -> tuple[dict[str, pd.DataFrame], Codebook]:
    """Every table of every year, stacked, with ``study_year`` (and ``fiscal_year`` where a table
    has none); coded columns stay categoricals of their codebook list. Returns (tables, codebook),
    the codebook of the first year."""
    from analysis.study.load import load_study

    if not years:
        raise ValueError("study_frames needs at least one processed year")
    studies = [(year, load_study(path)) for year, path in years]
    codebook = studies[0][1].codebook
    stacked: dict[str, list[pd.DataFrame]] = {}
    for year, study in studies:
        for name, frame in study.tables.items():
            frame = frame.copy()
            if "fiscal_year" not in frame:
                frame.insert(0, "fiscal_year", pd.Series([year] * len(frame), index=frame.index, dtype="Int64"))
            frame.insert(0, "study_year", pd.Series([year] * len(frame), index=frame.index, dtype="Int64"))
            stacked.setdefault(name, []).append(frame)
    tables = {}
    for name, frames in stacked.items():
        out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        for column, vocab in CODED.get(name, {}).items():
            if column in out:
                # Years may differ in their extra categories: one ordered type again.
                codes = list(vocabulary(codebook, vocab)["code"])
                values = out[column].astype("object")
                extra = sorted({str(v) for v in values.dropna()} - set(codes))
                out[column] = pd.Categorical(values, categories=[*codes, *extra], ordered=True)
        tables[name] = out
    return tables, codebook


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _write_duckdb(path: Path, tables: dict[str, pd.DataFrame], codebook) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        vocabularies = sorted({v for columns in CODED.values() for v in columns.values()})
        codes = []
        for vocab in vocabularies:
            frame = vocabulary(codebook, vocab)
            con.execute(f"CREATE TYPE {_quote(vocab)} AS ENUM ({', '.join(_literal(c) for c in frame['code'])})")
            codes += [
                (vocab, i + 1, c, ja, en)
                for i, (c, ja, en) in enumerate(zip(frame["code"], frame["label_ja"], frame["label_en"], strict=True))
            ]
        code_frame = pd.DataFrame(codes, columns=["vocabulary", "position", "code", "label_ja", "label_en"])
        con.register("code_frame", code_frame)
        con.execute("CREATE TABLE codes AS SELECT * FROM code_frame")
        con.unregister("code_frame")
        words = column_labels(codebook)
        described = []
        for name, frame in tables.items():
            plain = frame.copy()
            casts = []
            for column in plain.columns:
                word = words.get(column, {})
                described.append(
                    (name, column, word.get("ja", column), word.get("en", column), word.get("description", ""))
                )
                vocab = CODED.get(name, {}).get(column)
                if vocab is not None and isinstance(plain[column].dtype, pd.CategoricalDtype):
                    allowed = set(vocabulary(codebook, vocab)["code"])
                    plain[column] = plain[column].astype("object")
                    if set(plain[column].dropna()) <= allowed:
                        casts.append(f"CAST({_quote(column)} AS {_quote(vocab)}) AS {_quote(column)}")
                        continue
                    # A code outside the codebook (reported by the ingest) keeps the column as text.
                casts.append(_quote(column))
            con.register("frame", plain)
            con.execute(f"CREATE TABLE {_quote(name)} AS SELECT {', '.join(casts)} FROM frame")
            con.unregister("frame")
            joins, extra = [], []
            for i, (column, vocab) in enumerate(CODED.get(name, {}).items()):
                if column not in plain:
                    continue
                alias = f"l{i}"
                joins.append(
                    f"LEFT JOIN codes {alias} ON {alias}.vocabulary = {_literal(vocab)} "
                    f"AND {alias}.code = CAST(t.{_quote(column)} AS VARCHAR)"
                )
                extra += [
                    f"{alias}.label_ja AS {_quote(column + '_ja')}",
                    f"{alias}.label_en AS {_quote(column + '_en')}",
                ]
            select = ", ".join(["t.*", *extra])
            con.execute(
                f"CREATE VIEW {_quote(name + '_labelled')} AS SELECT {select} FROM {_quote(name)} t " + " ".join(joins)
            )
        column_frame = pd.DataFrame(
            described, columns=["table_name", "column_name", "label_ja", "label_en", "description"]
        )
        con.register("column_frame", column_frame)
        con.execute("CREATE TABLE columns AS SELECT * FROM column_frame")
        con.unregister("column_frame")
        con.execute(f"CREATE TABLE {_BUILD_TABLE} AS SELECT {_literal(codebook.edition)} AS edition, now() AS built_at")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _claim_db(path: Path, force: bool) -> None:
    """Refuse to replace a ``study.duckdb`` this toolkit did not make (unless ``force``)."""
    if not path.exists() or force:
        return
    if path.is_symlink() or not path.is_file():
        raise UsageError(f"{path} はファイルではありません", f"{path} is not a regular file")
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            found = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [_BUILD_TABLE]
            ).fetchone()
            ours = found is not None and bool(found[0])
        finally:
            con.close()
    except duckdb.Error:
        ours = False
    if not ours:
        raise UsageError(
            f"{path} はこのツールのデータベースではありません。置き換えるなら --force を付けてください",
            f"{path} is not a database made by this toolkit; add --force to replace it",
        )


def build_database(processed_root: Path, force: bool = False, parquet: bool = True) -> Path | None:
    """Build ``processed_root/study.duckdb`` (and ``processed_root/parquet/``) from every year.

    The database is built under a temporary name beside its target and renamed over it when
    complete; the Parquet folder is staged and swapped in (:func:`analysis.output.atomic.staging_dir`).
    Returns the database path, or ``None`` when there is no processed year.
    """
    from analysis.study.datapackage import parquet_bytes

    root = Path(processed_root)
    years = processed_years(root)
    if not years:
        return None
    target = root / DB_FILE
    _claim_db(target, force)
    tables, codebook = study_frames(years)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{DB_FILE}.", suffix=".tmp", dir=root)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # DuckDB makes its own file; the unique name is what we wanted
    try:
        _write_duckdb(tmp, tables, codebook)
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    if parquet:
        with staging_dir(root / PARQUET_DIR, command="db", force=force) as staged:
            for name, frame in tables.items():
                for year, part in frame.groupby("study_year", sort=True):
                    folder = staged / name / f"study_year={year}"  # a whole number (Int64 column)
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / "part.parquet").write_bytes(
                        parquet_bytes(name, part.drop(columns="study_year"), codebook)
                    )
    return target
