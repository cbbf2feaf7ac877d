"""A standard description of a processed folder: ``datapackage.json`` (Frictionless Data
Package with Table Schemas) and Parquet files that keep their types and labels.

Both are generated from the same place as the analysis frames (:mod:`analysis.study.frames`: the
codebook's lists and labels, the schema's keys), so the package, the Parquet dictionary types
and ``load_study``'s categoricals always agree. Pure functions: the ingest's write edge writes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.codebook import Codebook
from analysis.study.frames import CODED, DATES, table_description, typed_frame, vocabulary
from analysis.study.schema import TABLE_KEYS

__all__ = ["PACKAGE_FILE", "datapackage", "datapackage_json", "parquet_bytes"]

PACKAGE_FILE = "datapackage.json"

# Keys of TABLE_KEYS that are sort orders only, not unique (literature keeps the report's row order).
_NOT_UNIQUE = {"literature"}
# Table -> (its columns, the respondents' columns they must name): every id is a known respondent.
_FOREIGN = {
    "self_assessment": ["fiscal_year", "respondent_id"],
    "presurvey": ["fiscal_year", "respondent_id"],
    "statements": ["fiscal_year", "respondent_id"],
    "maturity": ["fiscal_year", "respondent_id"],
}


def _field_type(table: str, column: str, dtype: np.dtype | pd.api.extensions.ExtensionDtype) -> str:
    if column in DATES.get(table, []):
        return "date"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "number"
    return "string"


def _schema(name: str, frame: pd.DataFrame, codebook: Codebook) -> dict:
    # Only the labels and descriptions are wanted, and they depend on the columns alone:
    # typing no rows spares converting every value of a large table a second time.
    typed = typed_frame(name, frame.iloc[:0], codebook)
    fields = []
    for column in frame.columns:
        labels = typed.attrs["labels"][column]
        spec: dict = {
            "name": column,
            "type": _field_type(name, column, frame[column].dtype),
            "title": labels["ja"],
            "title_en": labels["en"],
        }
        if typed.attrs["descriptions"].get(column):
            spec["description"] = typed.attrs["descriptions"][column]
        if spec["type"] == "date":
            spec["format"] = "%Y-%m-%d"
        vocab = CODED.get(name, {}).get(column)
        if vocab is not None:
            # A missing value is "" (see missingValues); the unclassified level is written as a code.
            spec["constraints"] = {"enum": list(vocabulary(codebook, vocab)["code"])}
        fields.append(spec)
    schema: dict = {"fields": fields, "missingValues": [""]}
    keys = TABLE_KEYS.get(name, ["fiscal_year", "respondent_id"] if name == "maturity" else [])
    if keys and name not in _NOT_UNIQUE and set(keys) <= set(frame.columns):
        schema["primaryKey"] = list(keys)
    if name in _FOREIGN and set(_FOREIGN[name]) <= set(frame.columns):
        schema["foreignKeys"] = [
            {"fields": _FOREIGN[name], "reference": {"resource": "respondents", "fields": _FOREIGN[name]}}
        ]
    return schema


def datapackage(tables: Mapping[str, pd.DataFrame], codebook: Codebook, fiscal_year: int | None = None) -> dict:
    """The Data Package describing the CSV (and Parquet) file of every table in ``tables``."""
    resources = []
    for name, frame in tables.items():
        resources.append(
            {
                "name": name,
                "path": f"{name}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": table_description(name),
                # The same rows with ordered dictionary types and labels in the field metadata.
                "parquet": f"{name}.parquet",
                "schema": _schema(name, frame, codebook),
            }
        )
    if "respondents" not in tables:
        for resource in resources:
            resource["schema"].pop("foreignKeys", None)
    package = {
        "profile": "tabular-data-package",
        "name": f"survey-{codebook.edition}" + (f"-{fiscal_year}" if fiscal_year is not None else ""),
        "title": codebook.title("ja"),
        "title_en": codebook.title("en"),
        # The CSV copies are for people opening them in a spreadsheet program (analysis.output.safe).
        "description": "CSV files are UTF-8 with BOM and formula-safe: text starting with = + - @, tab or CR "
        "has a leading ' and control characters are written as \\x1b; the Parquet files keep "
        "the exact values.",
        "resources": resources,
    }
    if fiscal_year is not None:
        package["fiscal_year"] = fiscal_year
    return package


def datapackage_json(tables: Mapping[str, pd.DataFrame], codebook: Codebook, fiscal_year: int | None = None) -> str:
    """:func:`datapackage` as UTF-8 JSON text (Japanese kept readable)."""
    return json.dumps(datapackage(tables, codebook, fiscal_year), ensure_ascii=False, indent=2) + "\n"


def parquet_bytes(name: str, frame: pd.DataFrame, codebook: Codebook) -> bytes:
    """Table ``name`` as Parquet: coded columns as ordered dictionaries, dates as dates, and each
    field's ``label_ja``, ``label_en`` and ``description`` in its metadata."""
    typed = typed_frame(name, frame, codebook)
    for column in DATES.get(name, []):
        if column in typed and pd.api.types.is_datetime64_any_dtype(typed[column]):
            typed[column] = typed[column].dt.date.astype("object").where(typed[column].notna(), None)
    table = pa.Table.from_pandas(typed, preserve_index=False)
    fields = []
    for arrow_field in table.schema:
        column = arrow_field.name
        if column in DATES.get(name, []) and arrow_field.type == pa.null():
            arrow_field = arrow_field.with_type(pa.date32())
        labels = typed.attrs["labels"].get(column, {})
        metadata = {
            "label_ja": labels.get("ja", column),
            "label_en": labels.get("en", column),
            "description": typed.attrs["descriptions"].get(column, ""),
        }
        fields.append(arrow_field.with_metadata({k: v.encode("utf-8") for k, v in metadata.items()}))
    schema = pa.schema(
        fields, metadata={**(table.schema.metadata or {}), b"description": table_description(name).encode("utf-8")}
    )
    table = table.cast(schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()
