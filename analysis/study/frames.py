"""Analysis-ready frames: every coded column as an ordered categorical built from the codebook,
dates as dates, and labels (ja/en) and descriptions in ``frame.attrs``.

One place says which vocabulary each tidy column holds (:data:`CODED`); the categoricals of
:func:`analysis.study.load.load_study`, the Parquet dictionary types, the data package's allowed
values (:mod:`analysis.study.datapackage`) and the database's ENUM types (:mod:`analysis.study.db`) are all
built from it, so that a code added to the codebook (a new missing reason, say) just works.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.codebook import Codebook
from analysis.maturity.classification import UNCLASSIFIED
from analysis.study.schema import TABLE_DOCS

__all__ = [
    "CODED",
    "DATES",
    "MISSING",
    "MATURITY_LEVELS",
    "UNCLASSIFIED",
    "column_labels",
    "labelled",
    "maturity_mapping",
    "table_description",
    "typed_frame",
    "vocabulary",
]

MISSING = "missing"  # the vocabulary of missing-answer reasons (edition.toml [[missing]])
MATURITY_LEVELS = "maturity_levels"  # the maturity rules' levels, then UNCLASSIFIED (kept, never NaN)

# Table -> column -> vocabulary: a codebook code list, MISSING or MATURITY_LEVELS.
CODED: dict[str, dict[str, str]] = {
    "respondents": {
        "group": "respondent_groups",
        "industry": "industries",
        "size_band": "size_bands",
        "region": "regions",
        "country": "countries",
    },
    "self_assessment": {"question_id": "questions", "missing_reason": MISSING},
    "presurvey": {"question_id": "presurvey_questions", "missing_reason": MISSING},
    "statements": {
        "respondent_group": "respondent_groups",
        "category_id": "statement_categories",
        "maturity": "maturity_groups",
    },
    "disclosures": {
        "region": "regions",
        "country": "countries",
        "industry": "industries",
        "item": "disclosure_items",
        "venue": "disclosure_venues",
        "basis": "disclosure_bases",
    },
    # level_min/level_max: the range of levels that missing answers leave open (when present).
    "maturity": {"level": MATURITY_LEVELS, "level_min": MATURITY_LEVELS, "level_max": MATURITY_LEVELS},
}
# Coded columns where an empty value is itself a category (a company no rule classifies).
_EMPTY_IS: dict[tuple[str, str], str] = {("maturity", "level"): UNCLASSIFIED}

# Table -> columns holding ISO dates (YYYY-MM-DD).
DATES: dict[str, list[str]] = {"meetings": ["date"]}

# Tidy columns named differently from the workbook column that labels them (columns.csv).
_LABEL_ALIASES = {"respondent_group": "group", "category_id": "category"}

_DERIVED_DOCS = {
    "maturity": "One row per user company and fiscal year: its maturity level (A/B/C, or "
    "unclassified when no rule decides or when missing or invalid answers could "
    "change it), the range of levels those answers leave open (level_min, "
    "level_max) and the counts the rules read."
}
# Descriptions of derived columns (the workbook's columns are described in columns.csv).
_DERIVED_COLUMN_DOCS = {
    "level": "Maturity level by the codebook's rules; unclassified when no rule holds or when what a "
    "missing or invalid (無効回答) answer should have been could change the level.",
    "level_min": "The lowest level the company could reach whatever its missing and invalid answers "
    "should have been; empty when no rule might hold.",
    "level_max": "The highest level the company could reach (with level_min: e.g. B or better); equal to "
    "level when the level is decided.",
    "reason_ja": "The reason, in Japanese.",
}


class _Shared(dict):
    """Labels held in ``frame.attrs``: read-only by convention, and shared rather than deep-copied
    by every pandas operation (pandas copies ``attrs`` into each result)."""

    def __deepcopy__(self, memo: dict) -> _Shared:
        return self


def _label_column(frame: pd.DataFrame, lang: str) -> str | None:
    for prefix in ("label", "text", "title"):
        if f"{prefix}_{lang}" in frame:
            return f"{prefix}_{lang}"
    return None


def vocabulary(codebook: Codebook, name: str) -> pd.DataFrame:
    """The codes of vocabulary ``name`` in their order, with ``label_ja`` and ``label_en``.

    ``name`` is a code list of the codebook (``industries``...), :data:`MISSING` or
    :data:`MATURITY_LEVELS` (the rules' levels, then :data:`UNCLASSIFIED`).
    """
    if name == MISSING:
        rows = list(codebook.missing_codes[["reason", "label_ja", "label_en"]].itertuples(index=False, name=None))
    elif name == MATURITY_LEVELS:
        rows = [(str(r["level"]), r["label_ja"], r["label_en"]) for r in codebook.maturity_rules["rules"]]
        ja, en = (codebook.words(lang, "crosstab")["unclassified"] for lang in ("ja", "en"))
        rows.append((UNCLASSIFIED, ja, en))
    else:
        table = codebook.codelist(name)
        key = codebook.codelist_key(name)
        ja, en = _label_column(table, "ja"), _label_column(table, "en")
        codes = [str(code) for code in table[key]]
        # Columns read whole (one .iloc per code and language made this the slowest part of writing a table).
        rows = list(
            zip(
                codes,
                [str(v) for v in table[ja]] if ja else codes,
                [str(v) for v in table[en]] if en else codes,
                strict=True,
            )
        )
    out = pd.DataFrame(rows, columns=["code", "label_ja", "label_en"])
    return out.drop_duplicates("code").reset_index(drop=True)


def maturity_mapping(codebook: Codebook) -> dict[str, str]:
    """Statement maturity groups (高/中/低) -> maturity levels (A/B/C), from ``maturity_groups.csv``."""
    groups = codebook.table("maturity_groups")
    if "level" not in groups:
        return {}
    return {str(code): str(level) for code, level in zip(groups["code"], groups["level"], strict=True)}


def column_labels(codebook: Codebook) -> dict[str, dict[str, str]]:
    """Column id -> {"ja", "en", "description"}: workbook headers (``columns.csv``), then the
    words of the report tables (:meth:`Codebook.words` of the maturity and cross-tabulation parts)."""
    from analysis.collect.template import edition_year, help_text  # the template module imports the validator

    out: dict[str, dict[str, str]] = {}
    for scope in ("crosstab", "maturity"):
        ja, en = codebook.words("ja", scope), codebook.words("en", scope)
        for key in ja:
            out[key] = {"ja": ja[key], "en": en[key], "description": _DERIVED_COLUMN_DOCS.get(key, "")}
    for sheets in codebook.sheets.values():
        for sheet in sheets:
            for col in sheet.columns:
                if col.personal or col.column in out and out[col.column]["description"]:
                    continue  # the first described spelling wins; personal columns never reach a table
                # the help text with the edition's year filled in ({year}, {wareki} …), as in the dictionary
                desc = help_text(col, "en", edition_year(codebook)) if isinstance(col.description_en, str) else ""
                out[str(col.column)] = {"ja": str(col.header_ja), "en": str(col.header_en), "description": desc}
    for tidy, workbook in _LABEL_ALIASES.items():
        if workbook in out:
            out[tidy] = out[workbook]
    return out


def table_description(name: str) -> str:
    """What one row of table ``name`` is (the schema's documentation)."""
    return TABLE_DOCS.get(name) or _DERIVED_DOCS.get(name, "")


def _categorical(values: pd.Series, codes: list[str], fill: str | None = None) -> pd.Series:
    """Ordered categorical of ``codes``; values outside them are kept as extra categories at the
    end (never silently turned into NaN)."""
    if fill is not None:  # as text: a categorical or numeric column may not hold the fill
        values = values.astype("object").where(values.notna(), fill)
    present = pd.unique(values.dropna())  # few: the vocabulary actually used
    if not all(isinstance(v, str) for v in present):  # numbers or mixed: compared as their text
        values = values.astype("object").where(values.notna(), None).map(lambda v: v if v is None else str(v))
        present = pd.unique(values.dropna())
    known = set(codes)
    extra = sorted({v for v in present if v not in known})
    return pd.Series(
        pd.Categorical(values, categories=[*codes, *extra], ordered=True), index=values.index, name=values.name
    )


def typed_frame(name: str, frame: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """A copy of tidy table ``name`` with ordered categoricals, dates, and labels in ``attrs``.

    ``attrs`` holds ``table``, ``description``, ``labels`` ({column: {"ja", "en"}}),
    ``descriptions`` ({column: text}) and ``value_labels`` ({column: {code: {"ja", "en"}}}).
    """
    out = frame.copy()
    value_labels: dict[str, dict[str, dict[str, str]]] = {}
    for column, vocab_name in CODED.get(name, {}).items():
        if column not in out:
            continue
        vocab = vocabulary(codebook, vocab_name)
        fill = _EMPTY_IS.get((name, column))
        out[column] = _categorical(out[column], list(vocab["code"]), fill)
        value_labels[column] = {
            c: {"ja": ja, "en": en}
            for c, ja, en in zip(vocab["code"], vocab["label_ja"], vocab["label_en"], strict=True)
        }
    for column in DATES.get(name, []):
        if column in out and not pd.api.types.is_datetime64_any_dtype(out[column]):
            dates = pd.to_datetime(out[column].astype("object"), format="%Y-%m-%d", errors="coerce")
            if (dates.notna() == out[column].notna()).all():  # a value that is no date stays text
                out[column] = dates
    words = column_labels(codebook)
    out.attrs = {
        "table": name,
        "description": table_description(name),
        "labels": _Shared({c: {"ja": words.get(c, {}).get("ja", c), "en": words.get(c, {}).get("en", c)} for c in out}),
        "descriptions": _Shared({c: words.get(c, {}).get("description", "") for c in out}),
        "value_labels": _Shared(value_labels),
    }
    return out


def labelled(frame: pd.DataFrame, lang: str = "ja") -> pd.DataFrame:
    """A copy of ``frame`` with coded values replaced by their labels and columns renamed to
    their labels in ``lang`` (``ja`` or ``en``), from ``frame.attrs`` (see :func:`typed_frame`)."""
    if lang not in ("ja", "en"):
        raise ValueError(f"lang must be 'ja' or 'en', not {lang!r}")
    out = frame.copy()
    value_labels: Mapping[str, Mapping[str, Mapping[str, str]]] = frame.attrs.get("value_labels", {})
    for column, codes in value_labels.items():
        if column not in out:
            continue
        values = out[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            names = [codes.get(str(c), {}).get(lang, str(c)) for c in values.cat.categories]
            if len(set(names)) == len(names):
                out[column] = values.cat.rename_categories(names)
                continue
        out[column] = values.astype("object").map(
            lambda v, c=codes: c.get(str(v), {}).get(lang, v) if pd.notna(v) else v
        )
    names = {c: frame.attrs.get("labels", {}).get(c, {}).get(lang, c) for c in out.columns}
    if len(set(names.values())) == len(names):
        out = out.rename(columns=names)
    out.attrs = {**frame.attrs, "lang": lang}
    return out
