"""The report's words: column headers, section names, table titles and page text, from the codebook.

Headers are looked up by column id in the codebook's words (:meth:`Codebook.words`, scope
``report``); a column such as ``n_2021`` falls
back to the template ``n_{year}``. An id with no entry is shown as it is, so a builder can also
give its frame display headers directly. Every table's and figure's title and note is a row of
``report_tables.csv`` (:func:`table_texts`, :func:`figure_titles`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from analysis.codebook import Codebook
from analysis.report.registry import FigureTitles, TableTexts

__all__ = ["column_label", "figure_titles", "report_labels", "table_text", "table_texts", "text"]

_YEAR_SUFFIX = re.compile(r"^(?P<stem>.+)_(?P<year>\d{4})$")


def report_labels(codebook: Codebook, lang: str = "ja") -> dict[str, str]:
    """Return ``{key: label}``: the report's words in ``lang`` (:meth:`Codebook.words`, scope ``report``)."""
    return codebook.words(lang, "report")


def text(labels: dict[str, str], key: str, default: str | None = None) -> str:
    """Return the label of ``key``, else ``default`` (else ``key`` itself)."""
    found = labels.get(key)
    if found:
        return found
    return key if default is None else default


def column_label(column: object, labels: dict[str, str]) -> str:
    """Return the header of ``column``: its label, a ``{year}`` template's label, or the id."""
    name = str(column)
    if labels.get(name):
        return labels[name]
    match = _YEAR_SUFFIX.match(name)
    if match and labels.get(f"{match['stem']}_{{year}}"):
        return labels[f"{match['stem']}_{{year}}"].replace("{year}", match["year"])
    return name


def table_text(codebook: Codebook, key: str, lang: str = "ja", **values: object) -> tuple[str, str]:
    """Return ``(title, note)`` of report table ``key`` from ``report_tables.csv`` in ``lang``.

    ``{name}`` placeholders in the title and note are filled from ``values``. A key with no
    entry gives ``(key, "")``.
    """
    if "report_tables" not in codebook.tables:
        return key, ""
    frame = codebook.table("report_tables")
    hit = frame[frame["key"] == key]
    if hit.empty:
        return key, ""
    row = hit.iloc[0]
    title, note = str(row[f"title_{lang}"]), str(row[f"note_{lang}"])
    for name, value in values.items():
        # A value may differ by language: {"ja": …, "en": …}.
        filled = str(value[lang]) if isinstance(value, Mapping) else str(value)
        title = title.replace(f"{{{name}}}", filled)
        note = note.replace(f"{{{name}}}", filled)
    return title, note


def table_texts(codebook: Codebook, key: str, **values: object) -> TableTexts:
    """Title and note of report table ``key`` in both languages (``ReportTable(**texts)``); see
    :func:`table_text` for ``values``, which may also be ``{"ja": …, "en": …}``."""
    (title_ja, note_ja), (title_en, note_en) = (table_text(codebook, key, lang, **values) for lang in ("ja", "en"))
    return TableTexts(title_ja=title_ja, title_en=title_en, note_ja=note_ja, note_en=note_en)


def figure_titles(codebook: Codebook, key: str, **values: object) -> FigureTitles:
    """Title of report figure ``key`` in both languages (``ReportFigure(**titles)``)."""
    texts = table_texts(codebook, key, **values)
    return FigureTitles(title_ja=texts["title_ja"], title_en=texts["title_en"])
