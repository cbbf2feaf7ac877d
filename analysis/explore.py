"""Interactive exploration (notebook ``06_explore``): the logic lives here as pure callbacks, so
that it is tested without a browser; :func:`explorer` only wires them to ipywidgets.

* :func:`crosstab_view` — the cross-tabulation of two variables among the respondents that
  pass the filters (industry, size band, maturity level), with its exact test, and a figure;
* :func:`browse_statements` — the coded interview statements matching a search, section,
  category and maturity group, as a table of quotes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from analysis.codebook.words import Words
from analysis.study.frames import labelled
from analysis.study.load import Study
from analysis.tabulation.crosstabs import TOTAL, CrossTab, crosstab, maturity_levels, variable_names

__all__ = ["FILTERS", "browse_statements", "crosstab_view", "explorer", "filter_study", "share_figure"]

# Filters the explorer offers: name -> (table, column) holding the respondent's code.
FILTERS: dict[str, tuple[str, str]] = {
    "industry": ("respondents", "industry"),
    "size_band": ("respondents", "size_band"),
    "maturity": ("maturity", "level"),
}
# Tables whose rows belong to one respondent (restricted by the filters).
_BY_RESPONDENT = ("respondents", "self_assessment", "presurvey", "statements", "maturity")


def filter_study(study: Study, filters: Mapping[str, Sequence[str]] | None = None) -> Study:
    """``study`` restricted to the respondents whose codes are among the chosen ones.

    ``filters`` maps a name of :data:`FILTERS` to the codes kept; an empty or missing entry
    keeps everybody. Returns ``study`` itself when nothing is filtered.
    """
    chosen = {k: {str(v) for v in values} for k, values in (filters or {}).items() if values}
    if not chosen:
        return study
    unknown = sorted(set(chosen) - set(FILTERS))
    if unknown:
        raise KeyError(f"unknown filter(s) {unknown}; known: {', '.join(FILTERS)}")
    tables = dict(study.tables)
    if "maturity" in chosen and "maturity" not in tables:
        levels = maturity_levels(study)
        if levels is None:
            raise LookupError("no maturity levels: analysis.maturity.classification is not available")
        tables["maturity"] = levels
    ids: set[str] | None = None
    for name, codes in chosen.items():
        table, column = FILTERS[name]
        frame = tables[table]
        values = frame[column].astype("object").map(lambda v: v if v is None or v != v else str(v))
        keep = set(frame.loc[values.isin(codes), "respondent_id"].astype(str))
        ids = keep if ids is None else ids & keep
    ids = ids or set()
    for name in _BY_RESPONDENT:
        if name in tables:
            frame = tables[name]
            tables[name] = frame[frame["respondent_id"].astype(str).isin(ids)]
    return replace(study, tables=tables)


def share_figure(table: CrossTab, lang: str = "ja"):
    """Column percentages of the answer categories as grouped horizontal bars (a matplotlib Figure)."""
    from matplotlib.figure import Figure

    from analysis.figures.plotting import use_japanese_font

    use_japanese_font()
    shares = table.percent("column")
    rows = [k for k in table.counts.index if k in table.row.categories]
    columns = [k for k in table.counts.columns if k != TOTAL]
    figure = Figure(figsize=(7, 0.45 * max(len(rows), 1) * max(len(columns), 1) / 2 + 1.5), layout="constrained")
    axes = figure.subplots()
    height = 0.8 / max(len(columns), 1)
    for j, column in enumerate(columns):
        positions = [i + j * height for i in range(len(rows))]
        axes.barh(
            positions,
            [100 * float(share) if pd.notna(share) else 0 for share in shares.loc[rows, column]],
            height=height,
            label=table.column.label(column, lang),
        )
    axes.set_yticks(
        [i + height * (len(columns) - 1) / 2 for i in range(len(rows))], [table.row.label(r, lang) for r in rows]
    )
    axes.invert_yaxis()
    axes.set_xlabel("%")
    axes.set_xlim(0, 100)
    axes.set_title(f"{table.row.title(lang)} × {table.column.title(lang)}")
    if columns:
        axes.legend(title=table.column.title(lang), fontsize="small")
    return figure


def crosstab_view(
    study: Study,
    row: str,
    column: str,
    filters: Mapping[str, Sequence[str]] | None = None,
    *,
    fiscal_year: int | None = None,
    lang: str = "ja",
    **options: Any,
):
    """The explorer's cross-tab callback: ``(CrossTab, Figure)`` for ``row`` by ``column``
    among the respondents that pass ``filters`` (see :func:`filter_study`).

    Without filters the table is exactly :func:`analysis.tabulation.crosstabs.crosstab` of ``study``;
    ``options`` (``seed``, ``n_resamples``) are passed on to it.
    """
    table = crosstab(filter_study(study, filters), row, column, fiscal_year=fiscal_year, **options)
    return table, share_figure(table, lang)


def browse_statements(
    study: Study,
    query: str = "",
    section: int | None = None,
    category: str | None = None,
    maturity: str | None = None,
    lang: str = "ja",
) -> pd.DataFrame:
    """The statements matching every given condition, as labelled quotes.

    ``query`` is searched in the text (plain text, case-insensitive); ``maturity`` is a
    statement group (高/中/低) or a maturity level (A/B/C), mapped with the codebook.
    """
    frame = study.tables["statements"]
    keep = pd.Series(True, index=frame.index)
    if query:
        keep &= frame["text"].astype("object").fillna("").str.casefold().str.contains(query.casefold(), regex=False)
    if section is not None:
        keep &= frame["section"] == int(section)
    if category:
        keep &= frame["category_id"].astype("object") == str(category)
    if maturity:
        to_group = {level: group for group, level in study.maturity_mapping.items()}
        keep &= frame["maturity"].astype("object") == to_group.get(str(maturity), str(maturity))
    columns = ["statement_id", "respondent_id", "respondent_group", "section", "category_id", "maturity", "text"]
    out = frame.loc[keep, columns].reset_index(drop=True)
    out.attrs = {**frame.attrs}
    return labelled(out, lang)


def _codes(study: Study, table: str, column: str) -> list[str]:
    frame = study.tables.get(table)
    if frame is None and table == "maturity":
        frame = maturity_levels(study)
    if frame is None or column not in frame:
        return []
    values = frame[column]
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().astype(str))
        return [str(c) for c in values.cat.categories if str(c) in present]
    return sorted({str(v) for v in values.dropna()})


def explorer(studies: Study | Mapping[int, Study], lang: str = "ja"):  # pragma: no cover - needs a front end
    """Widgets for :func:`crosstab_view` and :func:`browse_statements` (returns the container).

    ``studies`` is one study or ``{year: study}``. Without a notebook front end the widgets are
    built and display nothing, which is fine.
    """
    import ipywidgets as widgets
    from IPython.display import display

    if isinstance(studies, Study):
        studies = {studies.fiscal_year or 0: studies}
    years = sorted(studies)
    first = studies[years[-1]]
    names = variable_names(first.codebook)
    words = Words(first.codebook, lang).words("crosstab")
    year = widgets.Dropdown(options=years, value=years[-1], description="年度" if lang == "ja" else "Year")
    row = widgets.Dropdown(
        options=names, value=names[-1] if names else None, description="行" if lang == "ja" else "Rows"
    )
    column = widgets.Dropdown(
        options=names,
        value="maturity" if "maturity" in names else names[0],
        description="列" if lang == "ja" else "Columns",
    )
    pickers = {
        name: widgets.SelectMultiple(options=_codes(first, *FILTERS[name]), description=name, rows=4)
        for name in FILTERS
    }
    out = widgets.Output()

    def selected_study() -> Study:
        # A dropdown with options always holds one: here a year of ``studies``.
        assert year.value is not None
        return studies[year.value]

    def show_crosstab(*_: object) -> None:
        study = selected_study()
        # variable_names always lists the respondent variables, so both dropdowns hold a name.
        assert row.value is not None and column.value is not None
        out.clear_output(wait=True)
        with out:
            try:
                table, figure = crosstab_view(
                    study, row.value, column.value, {k: list(w.value) for k, w in pickers.items()}, lang=lang
                )
            except (ValueError, KeyError, LookupError) as error:
                print(error)
                return
            display(table)
            display(figure)

    for control in (year, row, column, *pickers.values()):
        control.observe(show_crosstab, names="value")
    query = widgets.Text(description="検索" if lang == "ja" else "Search")
    statements = first.tables["statements"]
    section = widgets.Dropdown(
        options=[None, *sorted({int(s) for s in statements["section"].dropna()})],
        description=words.get("section", "section"),
    )
    category = widgets.Dropdown(
        options=[None, *_codes(first, "statements", "category_id")], description=words.get("category_id", "category")
    )
    maturity = widgets.Dropdown(
        options=[None, *_codes(first, "statements", "maturity")], description=words.get("maturity", "maturity")
    )
    quotes = widgets.Output()

    def show_statements(*_: object) -> None:
        quotes.clear_output(wait=True)
        with quotes:
            display(
                browse_statements(selected_study(), query.value, section.value, category.value, maturity.value, lang)
            )

    for control in (year, query, section, category, maturity):
        control.observe(show_statements, names="value")
    show_crosstab()
    show_statements()
    return widgets.VBox(
        [
            widgets.HBox([year, row, column]),
            widgets.HBox(list(pickers.values())),
            out,
            widgets.HBox([query, section, category, maturity]),
            quotes,
        ]
    )
