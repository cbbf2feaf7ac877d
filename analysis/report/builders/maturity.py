"""Maturity tables and figures of the report: level distribution, unclassified companies by the
levels they could reach, per-company table, directive profile by level, sensitivity to the
thresholds, and (with the previous year) transitions.

Levels are the study's ``maturity`` table (:func:`analysis.maturity.classification.maturity_table`,
written by the ingest with its reasons in both languages). Titles, notes and headers are codebook data
(``report_tables.csv``; words: :class:`analysis.codebook.words.Words`, scope ``maturity``): tables
keep their column ids (``n``, ``n_A``, ``n_below_3``) and get their headers when written.
"""

from __future__ import annotations

from functools import partial

import pandas as pd

from analysis.codebook.words import Words, figure_titles, table_texts
from analysis.figures.maturity import (
    DEFAULT_MIN_INDUSTRY_N,
    directive_labels,
    level_heatmap,
    level_label,
    level_mean_heatmap,
    level_radar,
    radar_references,
    respondent_radar,
)
from analysis.maturity.bounds import bound_counts, level_range, level_ranges, no_level_possible
from analysis.maturity.classification import (
    UNCLASSIFIED,
    MaturityRules,
    describe_rule,
    directive_change,
    directive_change_summary,
    level_counts,
    one_year_only,
    rules_from_codebook,
    sensitivity,
    transition_matrix,
)
from analysis.maturity.scores import directive_scores
from analysis.report.registry import ReportContext, ReportFigure, ReportTable
from analysis.study.load import Study
from analysis.tabulation.suppression import TableLayout

__all__ = ["bounds_table", "level_distribution_table", "maturity_items", "profile_by_level", "respondent_table"]

SECTION = "maturity"


# -- words from the codebook ----------------------------------------------------------------


def _rules_note(codebook, rules: MaturityRules) -> dict[str, str]:
    scale = codebook.scale_values
    out = {}
    for lang in ("ja", "en"):
        spec = {r["level"]: r for r in codebook.maturity_rules["rules"]}
        sep = "; " if lang == "en" else "、"
        words = sep.join(
            f"{r.level}: " + (spec[r.level].get("source_ja") if lang == "ja" else describe_rule(rules, r.level, "en"))
            for r in rules.rules
        )
        out[lang] = Words(codebook, lang).label(
            "rules_note",
            "maturity",
            rules=words,
            precedence=" > ".join(rules.precedence),
            min=min(scale),
            max=max(scale),
        )
    return out


def _level_name(level: object, codebook, lang: str) -> str:
    return level_label(level, codebook, lang)


# -- tables ---------------------------------------------------------------------------------


def level_distribution_table(maturity: pd.DataFrame, rules: MaturityRules, codebook, lang: str = "ja") -> pd.DataFrame:
    """Companies per level (levels in order, then unclassified, then the total): ``level``, ``n``, ``share``."""
    counts = level_counts(maturity, rules.levels)
    total = len(maturity)
    frame = pd.DataFrame(
        {
            "level": [_level_name(level, codebook, lang) for level in counts.index]
            + [Words(codebook, lang).label("total", "maturity")],
            "n": pd.array([*counts.tolist(), total], dtype="Int64"),
        }
    )
    frame["share"] = frame["n"].astype("Float64") / total if total else pd.NA
    return frame.astype({"share": "Float64"})


def bounds_table(maturity: pd.DataFrame, rules: MaturityRules, codebook, lang: str = "ja") -> pd.DataFrame:
    """Unclassified companies per range of reachable levels (fixed rows from the rules, zeros
    included, then the total): ``level_range`` (words), ``range_code`` (``B..A``), ``n``."""
    labels = Words(codebook, lang).words("maturity")
    no_level = no_level_possible(rules)
    counts = bound_counts(maturity, rules.levels, no_level)
    return pd.DataFrame(
        {
            "level_range": [level_range(*r, rules.levels, labels) for r in level_ranges(rules.levels, no_level)]
            + [labels["total"]],
            # The total has no range: its code cell stays blank (a machine word such as
            # "unclassified" would be the one English word of the Japanese table).
            "range_code": [*counts.index, ""],
            "n": pd.array([*counts.tolist(), int(counts.sum())], dtype="Int64"),
        }
    )


def respondent_table(
    scores: pd.DataFrame, maturity: pd.DataFrame, respondents: pd.DataFrame, codebook, lang: str = "ja"
) -> pd.DataFrame:
    """One row per company: industry, directive means (one column per directive), level and why."""
    wide = scores.pivot(index=["respondent_id", "fiscal_year"], columns="directive", values="mean")
    names = dict(zip(codebook.directives["directive"].astype(int), directive_labels(codebook, lang), strict=True))
    wide.columns = [names.get(int(d), str(d)) for d in wide.columns]
    wide = wide.reset_index()
    industry = respondents.drop_duplicates(["respondent_id", "fiscal_year"])[
        ["respondent_id", "fiscal_year", "industry"]
    ]
    frame = maturity.merge(industry, on=["respondent_id", "fiscal_year"], how="left").merge(
        wide, on=["respondent_id", "fiscal_year"], how="left"
    )
    # Each industry labelled once (a code-list lookup per company took seconds at 10,000 companies).
    codes = {i for i in frame["industry"].dropna().unique() if isinstance(i, str) and i}
    names_of = {i: codebook.label("industries", i, lang) for i in codes}
    frame["industry"] = [names_of.get(i) if isinstance(i, str) else None for i in frame["industry"]]
    if {"level_min", "level_max"} <= set(frame.columns):  # the range an unclassified company could reach
        levels, words = rules_from_codebook(codebook).levels, Words(codebook, lang).words("maturity")
        frame["level_range"] = [
            None if pd.notna(lv) else level_range(lo, hi, levels, words)
            for lv, lo, hi in zip(frame["level"], frame["level_min"], frame["level_max"], strict=True)
        ]
    frame["level"] = (
        frame["level"]
        .astype("object")
        .where(frame["level"].notna(), Words(codebook, lang).label("unclassified", "maturity"))
    )
    count_columns = [c for c in maturity.columns if c.startswith("n_")]
    columns = [
        "respondent_id",
        "industry",
        *names.values(),
        "level",
        "level_range",
        *count_columns,
        "rules_matched",
        "conflict",
        "reason",
    ]
    return frame[[c for c in columns if c in frame]].reset_index(drop=True)


def profile_by_level(
    scores: pd.DataFrame, maturity: pd.DataFrame, rules: MaturityRules, codebook, lang: str = "ja"
) -> pd.DataFrame:
    """Per level and directive: mean, min and max of the companies' means, and n (companies answering)."""
    levels = maturity[["respondent_id", "fiscal_year", "level"]].assign(
        level=maturity["level"].astype("object").where(maturity["level"].notna(), UNCLASSIFIED)
    )
    joined = scores.merge(levels, on=["respondent_id", "fiscal_year"]).dropna(subset=["mean"])
    joined = joined.assign(mean=joined["mean"].astype("float64"))
    order = {level: i for i, level in enumerate([*rules.levels, UNCLASSIFIED])}
    grouped = joined.groupby(["level", "directive"], sort=False)["mean"]
    out = grouped.agg(["mean", "min", "max", "size"]).rename(columns={"size": "n"}).reset_index()
    out = out.assign(_order=out["level"].map(order)).sort_values(["_order", "directive"], kind="stable")
    names = dict(zip(codebook.directives["directive"].astype(int), directive_labels(codebook, lang), strict=True))
    return pd.DataFrame(
        {
            "level": [_level_name(level, codebook, lang) for level in out["level"]],
            "directive": [names.get(int(d), str(d)) for d in out["directive"]],
            "mean": out["mean"].to_numpy(),
            "min": out["min"].to_numpy(),
            "max": out["max"].to_numpy(),
            "n": pd.array(out["n"].to_numpy(), dtype="Int64"),
        }
    )


def level_links(year: int | None, rules: MaturityRules, column: str) -> tuple:
    """Links of a level distribution printed down ``column`` (levels in order, unclassified,
    then the total) to the shared quantities ``("maturity_level", year, level)`` and
    ``("respondents", year)``."""
    if year is None:
        return ()
    keys: list[tuple] = [("maturity_level", int(year), level) for level in (*rules.levels, UNCLASSIFIED)]
    keys.append(("respondents", int(year)))
    return tuple((row, column, key) for row, key in enumerate(keys))


def _baseline_links(sens: pd.DataFrame, year: int | None, rules: MaturityRules) -> tuple:
    """The baseline scenario (the first row) of the sensitivity table is the level distribution."""
    if year is None or sens.empty:
        return ()
    columns = [f"n_{level}" for level in rules.levels] + ["n_unclassified", "n_respondents"]
    keys: list[tuple] = [("maturity_level", int(year), level) for level in (*rules.levels, UNCLASSIFIED)]
    keys.append(("respondents", int(year)))
    return tuple((0, column, key) for column, key in zip(columns, keys, strict=True) if column in sens)


def _profile_links(profile: pd.DataFrame, levels_frame: pd.DataFrame, year: int | None, rules: MaturityRules) -> tuple:
    """A profile row whose n is every company of its level (all answered the directive) prints
    the level's count: linked to it."""
    if year is None:
        return ()
    keys = dict(
        zip(
            levels_frame["level"],
            [("maturity_level", int(year), level) for level in (*rules.levels, UNCLASSIFIED)],
            strict=False,
        )
    )
    counts = dict(zip(levels_frame["level"], levels_frame["n"], strict=True))
    return tuple(
        (row, "n", keys[level])
        for row, (level, n) in enumerate(zip(profile["level"], profile["n"], strict=True))
        if level in keys and n == counts[level]
    )


def _scenario_label(scenario: str, words: Words) -> str:
    if scenario == "baseline":
        return words.label("scenario:baseline", "maturity")
    name, shift = scenario.split(" ", 1)
    return f"{words.label(f'scenario:{name}', 'maturity', name)} {shift}"


def year_maturity(study: Study, lang: str = "ja") -> tuple[int | None, pd.DataFrame]:
    """The study's year and its rows of the study's ``maturity`` table, as classified: levels NA
    when unclassified, ``reason`` in ``lang`` (``reason_ja``; a table written before it had one
    gives its English reason)."""
    year = study.year_of("maturity")
    maturity = study.tables.get("maturity")
    if maturity is None or year is None:
        return year, pd.DataFrame(columns=["respondent_id", "fiscal_year", "level"])
    rows = maturity[maturity["fiscal_year"] == year]
    levels = {column: rows[column].astype("object") for column in ("level", "level_min", "level_max") if column in rows}
    out = rows.assign(
        **{c: pd.array(v.where(v.notna() & (v != UNCLASSIFIED), None).tolist(), dtype="str") for c, v in levels.items()}
    )
    if lang == "ja" and "reason_ja" in out:
        out = out.assign(reason=out["reason_ja"])
    return year, out.drop(columns=["reason_ja"], errors="ignore").reset_index(drop=True)


def _year_data(study: Study, lang: str) -> tuple[int | None, pd.DataFrame, pd.DataFrame]:
    """The study's year, its directive scores and its maturity rows in that year."""
    year, maturity = year_maturity(study, lang)
    sa = study.self_assessment
    sa = sa[sa["fiscal_year"] == year] if year is not None else sa.iloc[0:0]
    return year, directive_scores(sa, study.codebook), maturity


def _k(ctx: ReportContext, codebook) -> int:
    """The publication threshold: the report's (from the codebook's ``[suppression] k``)."""
    return codebook.suppression_k


def maturity_items(study: Study, ctx: ReportContext) -> list[ReportTable | ReportFigure]:
    """Every maturity table and figure of ``study`` (see the module docstring)."""
    cb, lang = study.codebook, ctx.lang
    year, scores, maturity = _year_data(study, lang)
    if year is None or maturity.empty or scores.empty:
        return []
    rules = rules_from_codebook(cb)
    words = Words(cb, lang)
    note = _rules_note(cb, rules)
    out: list[ReportTable | ReportFigure] = []

    def table(
        name: str,
        frame: pd.DataFrame,
        counts=(),
        percents=(),
        respondent=(),
        statistics=(),
        total_row: int | None = None,
        total_column: str | None = None,
        parts=(),
        at_most=(),
        links=(),
        respondent_level: bool = False,
        **texts,
    ) -> None:
        """One table, by column id (headers: word scope ``maturity``); its layout: ``total_row``
        (position), ``total_column`` with its ``parts`` (count columns not among them stand
        alone), ``at_most`` = ((smaller...), (larger...)), ``links`` = ((row, column, quantity
        key), ...) for counts other tables print too; ``respondent_level`` when its rows are
        single companies (never published)."""
        layout = TableLayout(
            total_row=total_row,
            total_column=total_column,
            part_columns=tuple(parts),
            row_inequalities=tuple((tuple(small), tuple(large)) for small, large in at_most),
            links=tuple(links),
        )
        out.append(
            ReportTable(
                name=name,
                frame=frame,
                section=SECTION,
                counts=tuple(counts),
                percents=tuple(percents),
                respondent_columns=tuple(respondent),
                statistics=tuple(statistics),
                layout=layout.as_mapping() if counts else None,
                respondent_level=respondent_level,
                scope="maturity",
                **texts,
            )
        )

    levels_frame = level_distribution_table(maturity, rules, cb, lang)
    # The level distribution is the margin of many tables (pre-survey by maturity, sensitivity,
    # year over year): its counts are linked quantities, hidden everywhere or nowhere.
    table(
        "maturity_levels",
        levels_frame,
        counts=("n",),
        percents=("share",),
        total_row=len(levels_frame) - 1,
        links=level_links(year, rules, "n"),
        **table_texts(cb, "maturity_levels", year=year, n=len(maturity), rules=note),
    )
    if {"level_min", "level_max"} <= set(maturity.columns):  # a maturity table written before the bounds has none
        bounds = bounds_table(maturity, rules, cb, lang)
        # Its total is the level distribution's unclassified count (one quantity, hidden everywhere
        # or nowhere) and its rows add up to it.
        total = len(bounds) - 1
        table(
            "maturity_bounds",
            bounds,
            counts=("n",),
            total_row=total,
            links=((total, "n", ("maturity_level", int(year), UNCLASSIFIED)),),
            **table_texts(cb, "maturity_bounds", year=year),
        )
    # One row per company (industry, ten means, level): counting its rows would give every
    # hidden cell of the level tables, so it is internal only, whatever columns are dropped; and
    # one row per company grows with the study, so only on request (--per-respondent).
    if ctx.per_respondent:
        table(
            "maturity_respondents",
            respondent_table(scores, maturity, study.respondents, cb, lang),
            respondent=("respondent_id",),
            respondent_level=True,
            **table_texts(cb, "maturity_respondents", year=year, rules=note),
        )
    # Mean, min and max over a level's companies: of one to k-1 companies they describe those
    # companies, so they go with a hidden n.
    profile = profile_by_level(scores, maturity, rules, cb, lang)
    table(
        "maturity_profile",
        profile,
        counts=("n",),
        statistics=("mean", "min", "max"),
        links=_profile_links(profile, levels_frame, year, rules),
        **table_texts(cb, "maturity_profile", year=year),
    )

    delta = ctx.maturity_delta
    # Which companies changed is a list of companies: on request only (--per-respondent), like
    # the per-company table; the counts of changes are always there.
    sens = sensitivity(scores, cb, delta, list_changed=ctx.per_respondent)
    sens["scenario"] = [_scenario_label(s, words) for s in sens["scenario"]]
    if "changed" in sens:
        unclassified = words.label("unclassified", "maturity")
        sens["changed"] = sens["changed"].str.replace(UNCLASSIFIED, unclassified, regex=False)
    level_counts = [c for c in sens.columns if c.startswith("n_")]
    delta_text = str(float(delta)).removesuffix(".0")
    # Per scenario: the level columns add up to n_respondents (printed); changes up and down are
    # among the changes, and changes among the companies.
    level_parts = [f"n_{level}" for level in rules.levels] + ["n_unclassified"]
    table(
        "maturity_sensitivity",
        sens,
        counts=tuple(level_counts),
        respondent=("changed",) if "changed" in sens else (),
        total_column="n_respondents",
        parts=tuple(c for c in level_parts if c in level_counts),
        at_most=((("n_up", "n_down"), ("n_changed",)), (("n_changed",), ("n_respondents",))),
        links=_baseline_links(sens, year, rules),
        **table_texts(cb, "maturity_sensitivity", year=year, delta=delta_text),
    )

    previous = ctx.previous
    if previous is not None:
        prev_year, prev_scores, prev_maturity = _year_data(previous, lang)
        if prev_year is not None and not prev_maturity.empty and not prev_scores.empty and prev_year != year:
            both = pd.concat([prev_maturity, maturity], ignore_index=True)
            years = {"previous": prev_year, "current": year}
            matrix = transition_matrix(both, prev_year, year, rules.levels)
            n_both = int(matrix["total"].sum())
            unclassified = words.label("unclassified", "maturity")
            matrix["from_level"] = [unclassified if v == UNCLASSIFIED else v for v in matrix["from_level"]]
            matrix = matrix.rename(columns={UNCLASSIFIED: "unclassified"})
            table(
                "maturity_transitions",
                matrix,
                counts=(*rules.levels, "unclassified", "total"),
                total_column="total",
                parts=(*rules.levels, "unclassified"),
                **table_texts(cb, "maturity_transitions", n=n_both, **years),
            )
            change = directive_change_summary(directive_change(pd.concat([prev_scores, scores]), prev_year, year))
            names = dict(zip(cb.directives["directive"].astype(int), directive_labels(cb, lang), strict=True))
            change["directive"] = [names.get(int(d), str(d)) for d in change["directive"]]
            table(
                "maturity_directive_change",
                change,
                counts=("n", "n_up", "n_same", "n_down"),
                statistics=("mean_change",),
                total_column="n",
                parts=("n_up", "n_same", "n_down"),
                **table_texts(cb, "maturity_directive_change", **years),
            )
            if ctx.per_respondent:  # a list of companies: on request only, like the per-company table
                only = one_year_only(both, prev_year, year)
                only["level"] = [_level_name(v, cb, lang) for v in only["level"]]
                table(
                    "maturity_one_year_only",
                    only,
                    respondent=("respondent_id",),
                    respondent_level=True,
                    **table_texts(cb, "maturity_one_year_only", **years),
                )

    out.append(
        ReportFigure(
            name="maturity_level_radar",
            **figure_titles(cb, "figure:level_radar"),
            section=SECTION,
            # Published: only levels of at least k companies, without their sizes;
            # so which levels are drawn tells each level's side of k (shows).
            draw=partial(
                level_radar,
                scores,
                maturity,
                year,
                cb,
                lang,
                min_n=_k(ctx, cb) if ctx.publish else 1,
                show_n=not ctx.publish,
            ),
            shows=() if year is None else tuple(("maturity_level", int(year), level) for level in rules.levels),
        )
    )
    # One row per level (its companies' mean profile), whatever the number of companies; published
    # as the level radar is: levels (and cells) of at least k companies, without their sizes.
    minimum_n = _k(ctx, cb) if ctx.publish else 1
    out.append(
        ReportFigure(
            name="maturity_level_heatmap",
            **figure_titles(cb, "figure:level_mean_heatmap"),
            section=SECTION,
            draw=partial(level_mean_heatmap, scores, maturity, year, cb, lang, min_n=minimum_n, show_n=not ctx.publish),
            shows=() if year is None else tuple(("maturity_level", int(year), level) for level in rules.levels),
        )
    )
    if not ctx.per_respondent:
        return out
    # One row per company (its ten means), even with ids hidden: internal only.
    out.append(
        ReportFigure(
            name="maturity_respondent_heatmap",
            **figure_titles(cb, "figure:level_heatmap"),
            section=SECTION,
            respondent_level=True,
            draw=partial(level_heatmap, scores, maturity, year, cb, lang, hide_ids=ctx.publish),
        )
    )
    if not ctx.publish:  # one company per figure: internal reports only
        minimum = DEFAULT_MIN_INDUSTRY_N if ctx.min_industry_n is None else ctx.min_industry_n
        references = radar_references(scores, study.respondents, year)  # once for every company
        for rid in maturity["respondent_id"]:
            out.append(
                ReportFigure(
                    name=f"maturity_radar_{rid}",
                    section=SECTION,
                    respondent_level=True,
                    **figure_titles(cb, "figure:respondent_radar", respondent=rid),
                    draw=partial(
                        respondent_radar, None, None, rid, year, cb, lang, min_industry_n=minimum, references=references
                    ),
                )
            )
    return out
