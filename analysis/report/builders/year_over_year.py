"""Year over year: this year's comparable tables beside the previous year's, with the change.

Built only when the report is given the previous processed year (``survey report --previous``):
the maturity level distribution (from the derived ``maturity`` table, when both years have it)
and, by region, the companies of the disclosure review that disclose each item.
In publish mode the change columns are left out: they would let a reader recompute a
suppressed count from the one beside it.
"""

from __future__ import annotations

import pandas as pd

from analysis.report.labels import report_labels, table_text, text
from analysis.report.registry import ReportContext, ReportTable, register
from analysis.tabulation.suppression import TableLayout

__all__ = [
    "disclosure_coverage",
    "disclosure_coverage_comparison",
    "level_distribution",
    "maturity_level_comparison",
    "study_year",
]


def study_year(study, table: pd.DataFrame) -> int | None:
    """The study's fiscal year, else the latest fiscal year in ``table``."""
    if study.fiscal_year is not None:
        return int(study.fiscal_year)
    years = pd.to_numeric(table["fiscal_year"], errors="coerce").dropna() if "fiscal_year" in table else []
    return int(years.max()) if len(years) else None


def _year_tokens(previous: int | None, current: int | None) -> tuple[str, str]:
    if previous is None or current is None or previous == current:
        return "previous", "current"
    return str(previous), str(current)


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    part, whole = part.astype("Float64"), whole.astype("Float64")
    return (part / whole.where(whole > 0)).astype("Float64")


def _texts(codebook, key: str, **values) -> dict[str, str]:
    (title_ja, note_ja), (title_en, note_en) = (table_text(codebook, key, lang, **values) for lang in ("ja", "en"))
    return {"title_ja": title_ja, "title_en": title_en, "note_ja": note_ja, "note_en": note_en}


# -- maturity levels -----------------------------------------------------------------------------


def level_distribution(maturity: pd.DataFrame, fiscal_year: int | None, levels: list[str]) -> pd.Series:
    """Respondents per level (``levels`` in order, then ``""`` for unclassified) in ``fiscal_year``."""
    frame = maturity
    if fiscal_year is not None and "fiscal_year" in frame:
        # A table read from CSV holds text: compare years as numbers.
        frame = frame[pd.to_numeric(frame["fiscal_year"], errors="coerce") == fiscal_year]
    frame = frame.drop_duplicates("respondent_id", keep="last") if "respondent_id" in frame else frame
    level = frame["level"].astype("object").where(frame["level"].notna(), "")
    level = level.map(lambda v: str(v).strip())
    counts = [int((level == code).sum()) for code in levels]
    counts.append(int((~level.isin(levels)).sum()))
    return pd.Series(counts, index=[*levels, ""], dtype="Int64")


def maturity_level_comparison(current, previous, lang: str = "ja", with_change: bool = True) -> pd.DataFrame:
    """Level distribution of ``previous`` and ``current`` side by side (count and share), with the change."""
    rules = current.codebook.maturity_rules
    levels = [str(code) for code in rules["precedence"]]
    names = {str(r["level"]): r[f"label_{lang}"] for r in rules.get("rules", [])}
    labels = report_labels(current.codebook, lang)
    y_prev = study_year(previous, previous.tables["maturity"])
    y_cur = study_year(current, current.tables["maturity"])
    prev_token, cur_token = _year_tokens(y_prev, y_cur)
    n_prev = level_distribution(previous.tables["maturity"], y_prev, levels)
    n_cur = level_distribution(current.tables["maturity"], y_cur, levels)
    n_prev.loc["total"], n_cur.loc["total"] = n_prev.sum(), n_cur.sum()
    frame = pd.DataFrame(
        {
            "level": [names.get(code, code) for code in levels]
            + [text(labels, "ui:unclassified", "unclassified"), text(labels, "ui:total", "total")],
            f"n_{prev_token}": n_prev.to_numpy(),
            f"share_{prev_token}": _share(n_prev, pd.Series(n_prev["total"], index=n_prev.index)).to_numpy(),
            f"n_{cur_token}": n_cur.to_numpy(),
            f"share_{cur_token}": _share(n_cur, pd.Series(n_cur["total"], index=n_cur.index)).to_numpy(),
        }
    )
    for column in (f"n_{prev_token}", f"n_{cur_token}"):
        frame[column] = frame[column].astype("Int64")
    if with_change:
        frame["change_n"] = (frame[f"n_{cur_token}"] - frame[f"n_{prev_token}"]).astype("Int64")
        # In percentage points (the column is labelled so), not a share: 0.3 -> 30.0 points.
        frame["change_share"] = (
            ((frame[f"share_{cur_token}"] - frame[f"share_{prev_token}"]) * 100).round(1).astype("Float64")
        )
    return frame


# -- disclosure coverage ---------------------------------------------------------------------------


def disclosure_coverage(disclosures: pd.DataFrame, fiscal_year: int | None = None) -> pd.DataFrame:
    """Per region and item: companies reviewed, companies disclosing, and the share.

    Uses the rows of ``fiscal_year`` (default: the latest fiscal year present). A company counts
    as reviewed for an item when its row has a yes/no answer.
    """
    columns = ["region", "item", "companies", "disclosing"]
    if disclosures.empty:
        return pd.DataFrame(columns=columns)
    year = fiscal_year if fiscal_year is not None else disclosures["fiscal_year"].max()
    rows = disclosures[(disclosures["fiscal_year"] == year) & disclosures["disclosed"].notna()]
    rows = rows.assign(region=rows["region"].astype("str"), item=rows["item"].astype("str"))
    reviewed = rows.groupby(["region", "item"], sort=True)["company_id"].nunique().rename("companies")
    yes = rows[rows["disclosed"].fillna(False).astype(bool)]
    disclosing = yes.groupby(["region", "item"], sort=True)["company_id"].nunique().rename("disclosing")
    out = pd.concat([reviewed, disclosing], axis=1).fillna(0).astype("Int64").reset_index()
    return out[columns]


def _latest_year(study) -> int | None:
    years = study.disclosures["fiscal_year"].dropna()
    return int(years.max()) if len(years) else None


def disclosure_coverage_comparison(current, previous, lang: str = "ja", with_change: bool = True) -> pd.DataFrame:
    """Disclosure coverage by region and item of the previous and the current review, side by side."""
    cb = current.codebook
    prev_token, cur_token = _year_tokens(
        study_year(previous, previous.disclosures), study_year(current, current.disclosures)
    )
    prev = disclosure_coverage(previous.disclosures, _latest_year(previous))
    cur = disclosure_coverage(current.disclosures, _latest_year(current))
    merged = prev.merge(cur, on=["region", "item"], how="outer", suffixes=("_prev", "_cur"))
    region_order = {r: i for i, r in enumerate(cb.table("regions")["region"])}
    items = cb.table("disclosure_items")
    item_order = dict(zip(items["item"], items["order"], strict=True))
    merged = merged.assign(
        _r=merged["region"].map(lambda r: region_order.get(r, len(region_order))),
        _i=merged["item"].map(lambda i: item_order.get(i, len(item_order) + 1)),
    ).sort_values(["_r", "_i", "region", "item"], kind="stable")
    frame = pd.DataFrame(
        {
            "region": [cb.label("regions", r, lang) for r in merged["region"]],
            "item": [cb.label("disclosure_items", i, lang) for i in merged["item"]],
        }
    )
    for token, suffix in ((prev_token, "_prev"), (cur_token, "_cur")):
        companies = merged[f"companies{suffix}"].astype("Int64").to_numpy()
        disclosing = merged[f"disclosing{suffix}"].astype("Int64").to_numpy()
        frame[f"companies_{token}"] = pd.array(companies, dtype="Int64")
        frame[f"disclosing_{token}"] = pd.array(disclosing, dtype="Int64")
        frame[f"share_{token}"] = _share(frame[f"disclosing_{token}"], frame[f"companies_{token}"])
    if with_change:
        # In percentage points (the column is labelled so), not a share: 0.3 -> 30.0 points.
        frame["change_share"] = (
            ((frame[f"share_{cur_token}"] - frame[f"share_{prev_token}"]) * 100).round(1).astype("Float64")
        )
    return frame.reset_index(drop=True)


# -- registered builders ----------------------------------------------------------------------------


@register("year_over_year.maturity_levels", order=29)
def build_maturity_levels(study, ctx: ReportContext) -> list[ReportTable]:
    previous = ctx.previous
    if previous is None or "maturity" not in study.tables or "maturity" not in previous.tables:
        return []
    frame = maturity_level_comparison(study, previous, ctx.lang, with_change=not ctx.publish)
    counts = tuple(c for c in frame.columns if c.startswith("n_"))
    percents = tuple(c for c in frame.columns if c.startswith("share_"))
    years = {
        "previous": study_year(previous, previous.tables["maturity"]),
        "current": study_year(study, study.tables["maturity"]),
    }
    # Each year's counts are their own column with the total in the last row; the years do not add up.
    # Each year's column is that year's level distribution: linked to the maturity tables of
    # both years, so that publication hides a level's count everywhere or nowhere.
    from analysis.maturity.classification import rules_from_codebook
    from analysis.report.builders.maturity import level_links

    rules = rules_from_codebook(study.codebook)
    links = tuple(
        link
        for column in counts
        if column.removeprefix("n_").isdigit()
        for link in level_links(int(column.removeprefix("n_")), rules, column)
        if len(frame) == len(rules.levels) + 2
    )
    layout = TableLayout(
        total_row=len(frame) - 1,
        part_columns=(),
        percent_of={p: "n_" + p.removeprefix("share_") for p in percents},
        links=links,
    )
    return [
        ReportTable(
            name="yoy_maturity_levels",
            frame=frame,
            section="year_over_year",
            counts=counts,
            percents=percents,
            layout=layout.as_mapping(),
            **_texts(study.codebook, "yoy_maturity_levels", **years),
        )
    ]


@register("year_over_year.disclosure_coverage", order=49)
def build_disclosure_coverage(study, ctx: ReportContext) -> list[ReportTable]:
    previous = ctx.previous
    if previous is None or previous.disclosures.empty or study.disclosures.empty:
        return []
    frame = disclosure_coverage_comparison(study, previous, ctx.lang, with_change=not ctx.publish)
    counts = tuple(c for c in frame.columns if c.startswith("disclosing_"))
    percents = tuple(c for c in frame.columns if c.startswith("share_"))
    years = {"previous": study_year(previous, previous.disclosures), "current": study_year(study, study.disclosures)}
    # One row per region and item: rows do not add up, and each year's column stands alone.
    layout = TableLayout(
        part_columns=(),
        percent_of={
            p: "disclosing_" + p.removeprefix("share_")
            for p in percents
            if "disclosing_" + p.removeprefix("share_") in frame
        },
    )
    return [
        ReportTable(
            name="yoy_disclosure_coverage",
            frame=frame,
            section="year_over_year",
            counts=counts,
            percents=percents,
            layout=layout.as_mapping(),
            **_texts(study.codebook, "yoy_disclosure_coverage", **years),
        )
    ]
