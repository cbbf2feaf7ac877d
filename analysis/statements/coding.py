"""Coded interview statements: matrices, cross-tabs, retrieval and the findings layout.

Works on the tidy ``statements`` table (user companies, vendors, investors, experts alike)
or on published findings turned into one (:func:`analysis.statements.findings_import.as_statements`).
Section titles, category labels and maturity groups come from the codebook.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, overload

import pandas as pd

from analysis.codebook import Codebook
from analysis.codebook.words import Words
from analysis.tabulation.suppression import TableLayout

__all__ = [
    "find_statements",
    "findings_html",
    "findings_layout",
    "findings_markdown",
    "normalise_query",
    "section_by_maturity",
    "statement_matrix",
    "statements_by_category",
    "small_maturity_groups",
    "withhold_maturity",
]

NO_MATURITY = "none"
# Statements whose maturity group has too few companies to be named (see withhold_maturity).
WITHHELD = "withheld"


def normalise_query(text: object) -> str:
    """The form in which statements and queries are compared: NFKC (Kangxi radicals become
    ideographs, full-width letters ASCII), no whitespace at all, case folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", "" if text is None else str(text))).casefold()


@overload
def _as_list(value: None) -> None: ...
@overload
def _as_list(value: str | int | Iterable[object]) -> list[str]: ...
def _as_list(value: object) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        return [str(value)]
    return [str(v) for v in value]


def _maturity_codes(frame: pd.DataFrame) -> pd.Series:
    values = frame["maturity"].astype("object")
    return values.where(values.notna() & (values != ""), NO_MATURITY).astype(str)


def _categories(codebook: Codebook, groups: Sequence[str] | None = None) -> pd.DataFrame:
    table = codebook.table("statement_categories").reset_index(drop=True)
    table = table.assign(_order=range(len(table)))
    if groups is not None:
        table = table[table["respondent_group"].isin(groups)]
    return table


def _group_order(codebook: Codebook) -> dict[str, int]:
    return {g: i for i, g in enumerate(codebook.table("respondent_groups")["group"])}


def find_statements(
    statements: pd.DataFrame,
    *,
    section: int | Sequence[int] | None = None,
    category: str | Sequence[str] | None = None,
    maturity: str | Sequence[str] | None = None,
    respondent_group: str | Sequence[str] | None = None,
    text: str | Sequence[str] | None = None,
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    """The statements that match every criterion given (a list means any of its values).

    ``category`` is a category id or, with ``codebook``, a label (normalised comparison);
    ``maturity`` a group code (高/中/低), its label with ``codebook``, or ``"none"`` for
    statements that state none; ``text`` is searched after :func:`normalise_query`, every
    word of a list must occur.
    """
    mask = pd.Series(True, index=statements.index)
    if respondent_group is not None:
        mask &= statements["respondent_group"].astype(str).isin(_as_list(respondent_group))
    if section is not None:
        wanted = {int(s) for s in _as_list(section)}
        mask &= statements["section"].astype("Int64").isin(wanted).fillna(False).astype(bool)
    if category is not None:
        wanted_ids = set(_as_list(category))
        if codebook is not None:
            table = codebook.table("statement_categories")
            keys = {normalise_query(c) for c in wanted_ids}
            by_label = [
                normalise_query(ja) in keys or normalise_query(en) in keys
                for ja, en in zip(table["label_ja"], table["label_en"], strict=True)
            ]
            wanted_ids |= set(table.loc[by_label, "category_id"])
        mask &= statements["category_id"].astype(str).isin(wanted_ids)
    if maturity is not None:
        wanted_codes = set(_as_list(maturity))
        if codebook is not None:
            groups = codebook.table("maturity_groups")
            for code, ja, en in zip(groups["code"], groups["label_ja"], groups["label_en"], strict=True):
                if {normalise_query(ja), normalise_query(en)} & {normalise_query(w) for w in wanted_codes}:
                    wanted_codes.add(str(code))
        mask &= _maturity_codes(statements).isin(wanted_codes)
    if text is not None:
        haystack = statements["text"].map(normalise_query)
        for word in _as_list(text):
            needle = normalise_query(word)
            mask &= haystack.str.contains(needle, regex=False)
    return statements[mask.to_numpy()].copy()


def statement_matrix(
    statements: pd.DataFrame,
    codebook: Codebook,
    *,
    value: str = "presence",
    respondents: Sequence[str] | None = None,
    respondent_group: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Respondent x category: 1/0 for at least one statement (``presence``) or the number of
    statements (``count``).

    Rows are the respondents with a statement plus any in ``respondents`` (all zeros);
    columns every codebook category of the groups concerned, in codebook order.
    """
    if value not in ("presence", "count"):
        raise ValueError(f"value must be presence or count, not {value!r}")
    chosen = statements
    groups = _as_list(respondent_group)
    if groups is not None:
        chosen = chosen[chosen["respondent_group"].astype(str).isin(groups)]
    chosen = chosen[chosen["respondent_id"].notna()]
    # The study checks respondent_group against the codebook's groups, so every group has an order.
    order = _group_order(codebook)
    groups = groups or sorted(set(chosen["respondent_group"].astype(str)), key=lambda group: order[group])
    columns = list(_categories(codebook, groups)["category_id"])
    ids = list(dict.fromkeys([*sorted(chosen["respondent_id"].astype(str)), *(respondents or [])]))
    counts = pd.crosstab(chosen["respondent_id"].astype(str), chosen["category_id"].astype(str))
    counts = counts.reindex(index=ids, columns=columns, fill_value=0)
    if value == "presence":
        counts = (counts > 0).astype("int64")
    out = counts.astype("Int64")
    out.index.name = "respondent_id"
    out.columns.name = None
    return out


def _section_titles(codebook: Codebook, lang: str) -> dict[tuple[str, int], str]:
    table = codebook.table("statement_sections")
    return {
        (str(g), int(s)): str(t)
        for g, s, t in zip(table["respondent_group"], table["section"], table[f"title_{lang}"], strict=True)
    }


def _maturity_labels(codebook: Codebook, lang: str) -> dict[str, str]:
    groups = codebook.table("maturity_groups")
    out = dict(zip(groups["code"].astype(str), groups[f"label_{lang}"], strict=True))
    out[NO_MATURITY] = Words(codebook, lang).words("crosstab")["no_maturity"]
    out[WITHHELD] = Words(codebook, lang).words("crosstab")["maturity_withheld"]
    return out


def small_maturity_groups(
    maturity: pd.DataFrame, codebook: Codebook, k: int, fiscal_year: int | None = None
) -> set[str]:
    """Maturity groups (高, 中, 低) whose level (``level`` of ``maturity_groups.csv``) has fewer
    than ``k`` companies in ``maturity`` (of ``fiscal_year`` when given); every group when the
    levels are unknown, since a group that cannot be counted cannot be shown to be large."""
    groups = codebook.table("maturity_groups")
    if maturity is None or maturity.empty or "level" not in groups:
        return set(groups["code"].astype(str))
    if fiscal_year is not None and "fiscal_year" in maturity:
        maturity = maturity[maturity["fiscal_year"] == fiscal_year]
    sizes = maturity["level"].dropna().astype(str).value_counts()
    return {
        str(code)
        for code, level in zip(groups["code"], groups["level"], strict=True)
        if int(sizes.get(str(level), 0)) < k
    }


def withhold_maturity(statements: pd.DataFrame, groups: Iterable[str]) -> pd.DataFrame:
    """``statements`` with the maturity of ``groups`` replaced by one :data:`WITHHELD` group.

    A statement attributed to 成熟度高 says something of the companies of level A; when there are
    fewer than k of them, the published report does not name the group (the statements stay,
    in a group of their own, and every count of statements is of the statements printed).
    """
    hidden = set(map(str, groups))
    out = statements.copy()
    maturity = out["maturity"].astype("object")
    out["maturity"] = maturity.where(~maturity.astype(str).isin(hidden) | maturity.isna(), WITHHELD)
    return out


def section_by_maturity(
    statements: pd.DataFrame, codebook: Codebook, lang: str = "ja", respondent_group: str = "user", ids: bool = False
) -> pd.DataFrame:
    """Statements per section (rows, every section of the group) and maturity mentioned
    (columns 高, 中, 低, none), with totals. ``attrs`` describe the layout for suppression.

    ``ids=True`` names the columns by id (``section``, the maturity groups' codes, ``withheld``,
    ``none``, ``total``) with their headers in ``lang`` in ``attrs["headers"]``."""
    words = Words(codebook, lang).words("crosstab")
    chosen = statements[statements["respondent_group"].astype(str) == respondent_group]
    sections = codebook.table("statement_sections")
    sections = sections[sections["respondent_group"] == respondent_group]
    titles = _section_titles(codebook, lang)
    mature = _maturity_labels(codebook, lang)
    maturity = _maturity_codes(chosen)
    codes = [
        *codebook.table("maturity_groups")["code"].astype(str),
        *([WITHHELD] if (maturity == WITHHELD).any() else []),
        NO_MATURITY,
    ]
    section = chosen["section"].astype("Int64")
    rows = []
    for number in sections["section"].astype(int):
        in_section = (section == number).fillna(False).to_numpy()
        counts = [int((maturity[in_section] == code).sum()) for code in codes]
        rows.append([f"{number} {titles[(respondent_group, number)]}", *counts, sum(counts)])
    headers = {"section": words["section"], **{c: mature[c] for c in codes}, "total": words["total"]}
    name = (lambda column: column) if ids else headers.__getitem__
    count_columns = [name(c) for c in [*codes, "total"]]
    frame = pd.DataFrame(rows, columns=[name("section"), *count_columns])
    total = [words["total"], *frame[count_columns].sum().tolist()]
    frame.loc[len(frame)] = total
    for column in count_columns:
        frame[column] = frame[column].astype("int64").astype("Int64")
    frame.attrs["layout"] = TableLayout(total_row=len(frame) - 1, total_column=name("total")).as_mapping()
    frame.attrs["count_columns"] = count_columns
    if ids:
        frame.attrs["headers"] = headers
    return frame


def statements_by_category(
    statements: pd.DataFrame, codebook: Codebook, lang: str = "ja", respondent_group: str = "user", ids: bool = False
) -> pd.DataFrame:
    """Per category of the group: its section, the number of statements and of respondents
    who made at least one (every codebook category, zeros included).

    ``ids=True`` names the columns by id (``section``, ``category_id``, ``category_label``,
    ``n_statements``, ``n_respondents``: words of the ``crosstab`` scope)."""
    words = Words(codebook, lang).words("crosstab")
    if ids:
        words = {key: key for key in ("section", "category_id", "category_label", "n_statements", "n_respondents")}
    chosen = statements[statements["respondent_group"].astype(str) == respondent_group]
    categories = _categories(codebook, [respondent_group])
    n_statements = chosen.groupby(chosen["category_id"].astype(str)).size()
    with_id = chosen[chosen["respondent_id"].notna()]
    n_respondents = with_id.groupby(with_id["category_id"].astype(str))["respondent_id"].nunique()
    frame = pd.DataFrame(
        {
            words["section"]: pd.array(categories["section"].astype(int).tolist(), dtype="Int64"),
            words["category_id"]: categories["category_id"].tolist(),
            words["category_label"]: categories[f"label_{lang}"].tolist(),
            words["n_statements"]: pd.array(
                [int(n_statements.get(c, 0)) for c in categories["category_id"]], dtype="Int64"
            ),
            words["n_respondents"]: pd.array(
                [int(n_respondents.get(c, 0)) for c in categories["category_id"]], dtype="Int64"
            ),
        }
    )
    frame.attrs["count_columns"] = [words["n_statements"], words["n_respondents"]]
    return frame


def findings_layout(
    statements: pd.DataFrame, codebook: Codebook, lang: str = "ja", respondent_group: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """The report's findings regenerated: per group and section, each category with its
    statements; statements that name a maturity come after the others, grouped by it.

    Columns: ``respondent_group``, ``section``, ``section_title``, ``category_id``,
    ``category``, ``maturity`` (code, ``none`` when not stated), ``maturity_label``, ``text`` and
    ``name_redacted`` (the ingest replaced a name in the text: to be reworded).
    """
    chosen = statements
    if respondent_group is not None:
        chosen = chosen[chosen["respondent_group"].astype(str).isin(_as_list(respondent_group))]
    categories = _categories(codebook)
    category_order = dict(zip(categories["category_id"], categories["_order"], strict=True))
    category_label = dict(zip(categories["category_id"], categories[f"label_{lang}"], strict=True))
    titles = _section_titles(codebook, lang)
    mature = _maturity_labels(codebook, lang)
    maturity_order = {
        code: i for i, code in enumerate([NO_MATURITY, *codebook.table("maturity_groups")["code"], WITHHELD])
    }
    group_order = _group_order(codebook)
    frame = pd.DataFrame(
        {
            "respondent_group": chosen["respondent_group"].astype(str).to_numpy(),
            "section": chosen["section"].astype("Int64").to_numpy(),
            "category_id": chosen["category_id"].astype("object").to_numpy(),
            "maturity": _maturity_codes(chosen).to_numpy(),
            "text": chosen["text"].astype(str).to_numpy(),
            "name_redacted": (
                chosen["name_redacted"].fillna(False).astype(bool).to_numpy() if "name_redacted" in chosen else False
            ),
            "_position": range(len(chosen)),
        }
    )
    frame["section_title"] = [
        titles.get((g, int(s)), "") if pd.notna(s) else ""
        for g, s in zip(frame["respondent_group"], frame["section"], strict=True)
    ]
    frame["category"] = [category_label.get(c, c if isinstance(c, str) else "") for c in frame["category_id"]]
    frame["maturity_label"] = [mature[m] if m != NO_MATURITY else "" for m in frame["maturity"]]
    frame["_g"] = frame["respondent_group"].map(group_order).fillna(len(group_order))
    frame["_c"] = frame["category_id"].map(category_order).fillna(len(category_order))
    frame["_m"] = frame["maturity"].map(maturity_order).fillna(len(maturity_order))
    frame = frame.sort_values(["_g", "section", "_c", "_m", "_position"], kind="stable")
    columns = [
        "respondent_group",
        "section",
        "section_title",
        "category_id",
        "category",
        "maturity",
        "maturity_label",
        "text",
        "name_redacted",
    ]
    return frame[columns].reset_index(drop=True)


def _markdown_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def _walk(layout: pd.DataFrame) -> Iterable[tuple[str, Any]]:
    """Events of the layout: group, section, category, maturity and statement, in order."""
    last: dict[str, Any] = {}
    for row in layout.itertuples(index=False):
        if last.get("group") != row.respondent_group:
            yield "group", row.respondent_group
            last = {"group": row.respondent_group}
        if last.get("section") != row.section:
            yield "section", row
            last.update(section=row.section, category=None, maturity=None)
        if last.get("category") != row.category_id:
            yield "category", row
            last.update(category=row.category_id, maturity=None)
        if last.get("maturity") != row.maturity:
            if row.maturity != NO_MATURITY:
                yield "maturity", row
            last["maturity"] = row.maturity
        yield "statement", row


def findings_markdown(
    statements: pd.DataFrame, codebook: Codebook, lang: str = "ja", respondent_group: str | Sequence[str] | None = None
) -> str:
    """The findings layout as Markdown (group, section, category headings; bullets)."""
    layout = findings_layout(statements, codebook, lang, respondent_group)
    groups = codebook.table("respondent_groups")
    group_label = dict(zip(groups["group"], groups[f"label_{lang}"], strict=True))
    lines: list[str] = []
    for event, row in _walk(layout):
        if event == "group":
            lines += ["", f"## {_markdown_escape(group_label.get(row, row))}"]
        elif event == "section":
            lines += ["", f"### {row.section} {_markdown_escape(row.section_title)}"]
        elif event == "category":
            lines += ["", f"#### {_markdown_escape(row.category)}", ""]
        elif event == "maturity":
            lines.append(f"- **{_markdown_escape(row.maturity_label)}**")
        else:
            indent = "  " if row.maturity != NO_MATURITY else ""
            lines.append(f"{indent}- {_markdown_escape(row.text)}")
    return "\n".join(lines).strip() + "\n"


def findings_html(
    statements: pd.DataFrame, codebook: Codebook, lang: str = "ja", respondent_group: str | Sequence[str] | None = None
) -> str:
    """The findings layout as an HTML fragment (every text escaped)."""
    layout = findings_layout(statements, codebook, lang, respondent_group)
    groups = codebook.table("respondent_groups")
    group_label = dict(zip(groups["group"], groups[f"label_{lang}"], strict=True))
    esc = html.escape
    parts: list[str] = []
    open_lists: list[str] = []

    def close(levels: int) -> None:
        while len(open_lists) > levels:
            parts.append(open_lists.pop())

    for event, row in _walk(layout):
        if event == "group":
            close(0)
            parts.append(f"<h2>{esc(group_label.get(row, row))}</h2>")
        elif event == "section":
            close(0)
            parts.append(f"<h3>{row.section} {esc(row.section_title)}</h3>")
        elif event == "category":
            close(0)
            parts.append(f"<h4>{esc(row.category)}</h4>")
            parts.append("<ul>")
            open_lists.append("</ul>")
        elif event == "maturity":
            close(1)
            parts.append(f"<li><strong>{esc(row.maturity_label)}</strong><ul>")
            open_lists.append("</ul></li>")
        else:
            if row.maturity == NO_MATURITY:
                close(1)
            parts.append(f"<li>{esc(row.text)}</li>")
    close(0)
    return "\n".join(parts) + "\n"
