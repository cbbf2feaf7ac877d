"""The one word catalogue: headers, terms, table titles and notes of reports and analyses.

:class:`Words` reads the two layers :meth:`analysis.codebook.Codebook.words` reads (the toolkit's
``analysis/codebook/words.csv`` and the edition's ``words.csv``) and the edition's
``report_tables.csv`` (titles and notes of tables and figures). Tables are computed with
column ids (``n``, ``n_2021``, ``n_below_3``) and labelled when they are written, so the words
of a header live here once, whatever builds the table.

A key with placeholders (``n_{year}``, ``n_below_{t}``, ``n_{level}``, ``n_{region}``) is the
template of every column id it matches: ``{year}`` a four-digit year, ``{t}`` a number,
``{level}`` one of the edition's maturity levels, each shown as it is; and a placeholder named
after the key column of a code list (``{region}``: ``regions.csv``) one of its codes, shown by
its label (``n_domestic``: 国内 開示企業数).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import TypedDict

from analysis.codebook import Codebook, _words

__all__ = ["FigureTitles", "TableTexts", "Words", "figure_titles", "table_texts"]

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# What each placeholder of a template key matches in a column id ({level}: the edition's levels).
_PATTERNS = {"year": r"\d{4}", "t": r"\d+(?:\.\d+)?"}


class FigureTitles(TypedDict):
    """A figure's title in both languages (``ReportFigure(**titles)``)."""

    title_ja: str
    title_en: str


class TableTexts(FigureTitles):
    """A table's title and note in both languages (``ReportTable(**texts)``)."""

    note_ja: str
    note_en: str


@dataclass(frozen=True)
class Words:
    """The words of ``codebook`` in ``lang`` (``ja`` or ``en``); no codebook: no words (ids shown).

    ``scope`` (``report``, ``maturity``, ``crosstab``, ``disclosure``) picks the part of the
    report whose own word wins where a key means something else there (``total``: 計 or 合計).
    """

    codebook: Codebook | None
    lang: str = "ja"

    def words(self, scope: str = "") -> Mapping[str, str]:
        """Every word of ``scope`` (the shared words, then the scope's own), ``{key: word}``."""
        # read-only: the words are cached for every caller
        return MappingProxyType({} if self.codebook is None else _words(self.codebook, self.lang, scope))

    def label(self, key: str, scope: str = "", default: str | None = None, **values: object) -> str:
        """The word of ``key`` with ``{name}`` filled from ``values``; else ``default`` (else ``key``)."""
        found = self.words(scope).get(key)
        return _fill(found, self.lang, values) if found else (key if default is None else default)

    def header(self, column: object, scope: str = "") -> str:
        """The header of column id ``column``: its word, a template's word, or the id itself."""
        name = str(column)
        found = self.words(scope).get(name)
        if found:
            return found
        for pattern, template, shown in _templates(self, scope):
            match = pattern.fullmatch(name)
            if match:
                values = {k: shown.get(k, {}).get(v, v) for k, v in match.groupdict().items()}
                return _fill(template, self.lang, values)
        return name

    def title(self, table_key: str, **values: object) -> str:
        """The title of report table or figure ``table_key`` (``report_tables.csv``); the key when absent."""
        row = _table_row(self, table_key)
        return table_key if row is None else _fill(row[f"title_{self.lang}"], self.lang, values)

    def note(self, table_key: str, **values: object) -> str:
        """The note of report table ``table_key`` (``report_tables.csv``); empty when absent."""
        row = _table_row(self, table_key)
        return "" if row is None else _fill(row[f"note_{self.lang}"], self.lang, values)

    def has_table(self, table_key: str) -> bool:
        """Whether ``report_tables.csv`` has a row for ``table_key``."""
        return _table_row(self, table_key) is not None


def table_texts(codebook: Codebook, key: str, **values: object) -> TableTexts:
    """Title and note of report table ``key`` in both languages (``ReportTable(**texts)``).

    ``{name}`` placeholders are filled from ``values``; a value may differ by language
    (``{"ja": …, "en": …}``). A key with no entry gives the key as title and no note.
    """
    ja, en = Words(codebook, "ja"), Words(codebook, "en")
    return TableTexts(
        title_ja=ja.title(key, **values),
        title_en=en.title(key, **values),
        note_ja=ja.note(key, **values),
        note_en=en.note(key, **values),
    )


def figure_titles(codebook: Codebook, key: str, **values: object) -> FigureTitles:
    """Title of report figure ``key`` in both languages (``ReportFigure(**titles)``)."""
    return FigureTitles(
        title_ja=Words(codebook, "ja").title(key, **values), title_en=Words(codebook, "en").title(key, **values)
    )


def _fill(text: str, lang: str, values: Mapping[str, object]) -> str:
    for name, value in values.items():
        # A value may differ by language: {"ja": …, "en": …}.
        filled = str(value[lang]) if isinstance(value, Mapping) else str(value)
        text = text.replace(f"{{{name}}}", filled)
    return str(text)


def _table_row(words: Words, key: str) -> Mapping[str, str] | None:
    if words.codebook is None:
        return None
    return _table_rows(words.codebook).get(key)


@cache
def _table_rows(codebook: Codebook) -> dict[str, dict[str, str]]:
    if "report_tables" not in codebook.tables:
        return {}
    frame = codebook.table("report_tables")
    rows: dict[str, dict[str, str]] = {}
    for row in frame.to_dict("records"):
        rows.setdefault(str(row["key"]), {str(k): str(v) for k, v in row.items()})  # the first row of a key
    return rows


# A template: the pattern of the column ids it names, its word, and the labels of the codes its
# code-list placeholders match ({placeholder: {code: label}}).
_Template = tuple[re.Pattern[str], str, dict[str, dict[str, str]]]


def _templates(words: Words, scope: str) -> tuple[_Template, ...]:
    return () if words.codebook is None else _compiled(words.codebook, words.lang, scope)


def _one_of(codes: list[str]) -> str:
    # longest first, so that a code that begins another does not cut it short
    return "|".join(re.escape(code) for code in sorted(codes, key=len, reverse=True)) or r"(?!)"


@cache
def _compiled(codebook: Codebook, lang: str, scope: str) -> tuple[_Template, ...]:
    """The template keys of ``scope`` as patterns of column ids, with their words."""
    levels = [str(rule["level"]) for rule in codebook.meta.get("maturity", {}).get("rules", ())]
    patterns = dict(_PATTERNS, level=_one_of(levels))
    keys = [codebook.codelist_key(name) for name in codebook.meta.get("codelists", {})]
    shown: dict[str, dict[str, str]] = {}
    for name in codebook.meta.get("codelists", {}):
        key = codebook.codelist_key(name)
        if keys.count(key) == 1 and key not in patterns:  # a key several lists share names none of them
            frame = codebook.codelist(name)
            labels = frame[f"label_{lang}"] if f"label_{lang}" in frame else frame[key]
            shown[key] = dict(zip(frame[key].astype(str), labels.astype(str), strict=True))
            patterns[key] = _one_of(list(shown[key]))
    out = []
    for key, word in _words(codebook, lang, scope).items():
        names = _PLACEHOLDER.findall(key)
        if not names or not word or len(set(names)) < len(names) or any(n not in patterns for n in names):
            continue
        parts = _PLACEHOLDER.split(key)  # text, name, text, name, …, text
        regex = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>{patterns[part]})" for i, part in enumerate(parts)
        )
        out.append((re.compile(regex), word, {n: shown[n] for n in names if n in shown}))
    return tuple(out)
