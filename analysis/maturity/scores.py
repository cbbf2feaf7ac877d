"""Directive scores: per respondent, fiscal year and directive, the mean over the answered questions.

Answers that are missing (unanswered, not applicable, don't know — the reasons come from the
codebook) are excluded from the mean and counted per reason. A directive with no answered
question has no mean. The sum of the answered scores is kept beside the count so that the mean
can be rebuilt exactly (:func:`exact_means`); threshold comparisons must not depend on floats.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from analysis.codebook import Codebook

__all__ = ["INVALID", "KEYS", "directive_scores", "exact_means", "reason_columns", "respondent_years", "wide_means"]

KEYS = ["respondent_id", "fiscal_year"]
UNANSWERED = "unanswered"
# The reason the ingest gives a rejected answer (declared in the codebook's [[missing]] list):
# excluded from the mean like any missing answer, but the classification asks what it could have been.
INVALID = "invalid"


def reason_columns(codebook: Codebook) -> list[str]:
    """Names of the per-reason count columns (``n_<reason>``), in codebook order."""
    return [f"n_{reason}" for reason in codebook.missing_reasons]


def directive_scores(self_assessment: pd.DataFrame, codebook: Codebook, fast: bool = True) -> pd.DataFrame:
    """Return one row per respondent × fiscal year × directive of the codebook.

    Columns: ``respondent_id``, ``fiscal_year``, ``directive``, ``n_questions``, ``n_answered``,
    ``score_sum``, ``mean`` (Float64, NA when nothing was answered) and one ``n_<reason>`` per
    missing reason. A codebook question with no row at all counts as unanswered; so does a row
    with neither a score nor a reason.

    Parameters
    ----------
    self_assessment
        The tidy ``self_assessment`` table (one row per question answered or not).
    codebook
        The edition whose directives and questions define the grid.
    fast
        Count with arrays when every row is a codebook question of its directive, once per
        respondent and year (what the ingest writes); ``False`` always merges on the full grid
        (the reference the array count is tested against).
    """
    reasons = list(codebook.missing_reasons)
    directives = [int(d) for d in codebook.directives["directive"]]
    rows = pd.DataFrame(
        {
            "respondent_id": self_assessment["respondent_id"].astype("str"),
            "fiscal_year": self_assessment["fiscal_year"].astype("Int64"),
            "directive": self_assessment["directive"].astype("Int64"),
            "question_id": self_assessment["question_id"].astype("str"),
            "score": self_assessment["score"].astype("Int64"),
            "missing_reason": self_assessment["missing_reason"].astype("object"),
        }
    )
    pairs = rows[KEYS].drop_duplicates()
    cells = pairs.merge(pd.DataFrame({"directive": pd.array(directives, dtype="Int64")}), how="cross")
    by = [*KEYS, "directive"]
    counted = _counts_on_the_grid(rows, codebook, directives, reasons) if fast else None
    if counted is not None:  # in the order of cells: pairs as they first appear, then directives
        out = cells.assign(**counted)
    else:
        counts = _counts_by_merging(rows, pairs, codebook, reasons)
        out = cells.merge(counts, on=by, how="left")
    for column in ["n_questions", "n_answered", "score_sum", *(f"n_{r}" for r in reasons)]:
        out[column] = out[column].fillna(0).astype("Int64")
    out["score_sum"] = out["score_sum"].mask(out["n_answered"] == 0).astype("Int64")
    out["mean"] = (
        (out["score_sum"].astype("Float64") / out["n_answered"].astype("Float64"))
        .mask(out["n_answered"] == 0)
        .astype("Float64")
    )
    columns = [*by, "n_questions", "n_answered", "score_sum", "mean", *(f"n_{r}" for r in reasons)]
    return out[columns].sort_values(by, kind="stable").reset_index(drop=True)


def _counts_by_merging(rows: pd.DataFrame, pairs: pd.DataFrame, codebook: Codebook, reasons: list[str]) -> pd.DataFrame:
    """Counts per respondent, year and directive from the full grid (pairs × codebook questions,
    merged with the rows): right for any rows, duplicates and questions outside the codebook too."""
    questions = codebook.questions[["question_id", "directive"]].astype({"directive": "Int64"})
    expected = pairs.merge(questions, how="cross")
    # Codebook questions without a row were not answered; rows outside the codebook still count.
    grid = expected.merge(rows, on=[*KEYS, "directive", "question_id"], how="outer")
    reason = grid["missing_reason"].where(grid["missing_reason"].notna(), None)
    reason = reason.where(grid["score"].isna(), None)
    reason = reason.where(~(grid["score"].isna() & reason.isna()), UNANSWERED)
    grid = grid.assign(missing_reason=reason, answered=grid["score"].notna())

    by = [*KEYS, "directive"]
    grouped = grid.groupby(by, dropna=False, sort=False)
    counts = grouped.agg(
        n_questions=("question_id", "size"), n_answered=("answered", "sum"), score_sum=("score", "sum")
    ).reset_index()
    per_reason = (
        grid.dropna(subset=["missing_reason"])
        .pivot_table(index=by, columns="missing_reason", values="question_id", aggfunc="size")
        .reindex(columns=reasons)
        .reset_index()
    )
    per_reason.columns = [*by, *(f"n_{r}" for r in reasons)]
    return counts.merge(per_reason, on=by, how="left")


def _counts_on_the_grid(
    rows: pd.DataFrame, codebook: Codebook, directives: list[int], reasons: list[str]
) -> dict[str, np.ndarray] | None:
    """The counts of :func:`_counts_by_merging` with arrays, in the order of the cells (pairs as
    they first appear × ``directives``), or ``None`` unless every row has its keys, is a
    codebook question of its own directive and comes once per respondent and year."""
    questions = codebook.questions
    directive_of = dict(zip(questions["question_id"].astype(str), questions["directive"].astype(int), strict=True))
    position = {d: i for i, d in enumerate(directives)}
    if rows[[*KEYS, "directive"]].isna().to_numpy().any() or any(d not in position for d in directive_of.values()):
        return None
    # Codes in order of first appearance (as drop_duplicates orders the pairs).
    question, question_ids = pd.factorize(rows["question_id"])
    expected = np.array([directive_of.get(str(q), -1) for q in question_ids] + [-1], dtype="int64")[question]
    if (question < 0).any() or (expected != rows["directive"].to_numpy(dtype="int64")).any():
        return None  # a key missing, a question outside the codebook or under another directive
    pair, _ = respondent_years(rows)
    if pd.Series(pair.astype("int64") * len(question_ids) + question).duplicated().any():
        return None  # a question answered twice by one respondent in one year
    n_pairs, width = (int(pair.max()) + 1 if len(pair) else 0), len(directives)
    slot = np.array([position[directive_of[str(q)]] for q in question_ids], dtype="int64")
    cell = pair * width + slot[question]
    size = n_pairs * width
    per_directive = np.zeros(width, dtype="int64")
    for d in directive_of.values():
        per_directive[position[d]] += 1
    n_questions = np.tile(per_directive, n_pairs)
    answered = rows["score"].notna().to_numpy()
    scores = rows["score"].to_numpy(dtype="float64", na_value=0.0)
    n_answered = np.bincount(cell[answered], minlength=size)
    score_sum = np.bincount(cell[answered], weights=scores[answered], minlength=size)
    # Why each unanswered row is missing: its reason, or unanswered when it gives none.
    reason, reason_names = pd.factorize(rows["missing_reason"])
    names = [*(str(r) for r in reason_names), UNANSWERED]
    reason = np.where(reason < 0, len(names) - 1, reason)
    absent = n_questions - np.bincount(cell, minlength=size)  # codebook questions without a row
    counted: dict[str, np.ndarray] = {
        "n_questions": n_questions,
        "n_answered": n_answered,
        "score_sum": np.rint(score_sum).astype("int64"),
    }
    for r in reasons:
        chosen = ~answered & np.isin(reason, [i for i, name in enumerate(names) if name == r])
        hits = np.bincount(cell[chosen], minlength=size)
        counted[f"n_{r}"] = hits + absent if r == UNANSWERED else hits
    return counted


def respondent_years(frame: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """Each row's respondent-year as a number (0, 1, … in order of first appearance) and those
    respondent-years; ``respondent_id`` and ``fiscal_year`` must both be present on every row."""
    respondent, respondents = pd.factorize(frame["respondent_id"])
    year, years = pd.factorize(frame["fiscal_year"])
    pair, pairs = pd.factorize(respondent.astype("int64") * len(years) + year)
    width = max(len(years), 1)
    ids = np.asarray(respondents, dtype=object)[pairs // width].tolist()
    fiscal_years = np.asarray(years, dtype="int64")[pairs % width].tolist()
    return pair.astype("int64"), [(str(r), y) for r, y in zip(ids, fiscal_years, strict=True)]


def exact_means(scores: pd.DataFrame) -> dict[tuple[str, int], dict[int, Fraction | None]]:
    """Map ``(respondent_id, fiscal_year)`` to ``{directive: exact mean or None}``.

    The mean is ``Fraction(score_sum, n_answered)``, so a mean of exactly 3 is exactly 3.
    """
    out: dict[tuple[str, int], dict[int, Fraction | None]] = {}
    for rid, year, directive, total, n in zip(
        scores["respondent_id"],
        scores["fiscal_year"],
        scores["directive"],
        scores["score_sum"],
        scores["n_answered"],
        strict=True,
    ):
        mean = Fraction(int(total), int(n)) if int(n) > 0 else None
        out.setdefault((str(rid), int(year)), {})[int(directive)] = mean
    return out


def wide_means(scores: pd.DataFrame) -> pd.DataFrame:
    """Directive means as a respondent × directive frame (index ``respondent_id``, ``fiscal_year``)."""
    wide = scores.pivot(index=KEYS, columns="directive", values="mean")
    wide.columns = [int(c) for c in wide.columns]
    return wide.astype("float64")
