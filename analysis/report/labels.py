"""The report's words: column headers, section names, table titles and page text, from the codebook.

Headers are looked up by column id in ``report_labels.csv``; a column such as ``n_2021`` falls
back to the template ``n_{year}``. An id with no entry is shown as it is, so a builder can also
give its frame display headers directly.
"""

from __future__ import annotations

import re

from analysis.codebook import Codebook

__all__ = ["column_label", "report_labels", "table_text", "text"]

_YEAR_SUFFIX = re.compile(r"^(?P<stem>.+)_(?P<year>\d{4})$")


def report_labels(codebook: Codebook, lang: str = "ja") -> dict[str, str]:
    """Return ``{key: label}`` from the codebook's ``report_labels`` table in ``lang``."""
    if "report_labels" not in codebook.tables:
        return {}
    frame = codebook.table("report_labels")
    return dict(zip(frame["key"], frame[f"label_{lang}"], strict=True))


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
        title = title.replace(f"{{{name}}}", str(value))
        note = note.replace(f"{{{name}}}", str(value))
    return title, note
