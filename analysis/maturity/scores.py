"""Directive scores: per respondent, fiscal year and directive, the mean over the answered questions.

Answers that are missing (unanswered, not applicable, don't know — the reasons come from the
codebook) are excluded from the mean and counted per reason. A directive with no answered
question has no mean. The sum of the answered scores is kept beside the count so that the mean
can be rebuilt exactly (:func:`exact_means`); threshold comparisons must not depend on floats.
"""

from __future__ import annotations

from fractions import Fraction

import pandas as pd

from analysis.codebook import Codebook

__all__ = ["INVALID", "KEYS", "directive_scores", "exact_means", "reason_columns", "wide_means"]

KEYS = ["respondent_id", "fiscal_year"]
UNANSWERED = "unanswered"
# The reason the ingest gives a rejected answer (declared in the codebook's [[missing]] list):
# excluded from the mean like any missing answer, but the classification asks what it could have been.
INVALID = "invalid"


def reason_columns(codebook: Codebook) -> list[str]:
    """Names of the per-reason count columns (``n_<reason>``), in codebook order."""
    return [f"n_{reason}" for reason in codebook.missing_reasons]


def directive_scores(self_assessment: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
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
    questions = codebook.questions[["question_id", "directive"]].astype({"directive": "Int64"})
    expected = pairs.merge(questions, how="cross")
    # Codebook questions without a row were not answered; rows outside the codebook still count.
    grid = expected.merge(rows, on=[*KEYS, "directive", "question_id"], how="outer")
    reason = grid["missing_reason"].where(grid["missing_reason"].notna(), None)
    reason = reason.where(grid["score"].isna(), None)
    reason = reason.where(~(grid["score"].isna() & reason.isna()), UNANSWERED)
    grid = grid.assign(missing_reason=reason, answered=grid["score"].notna())

    cells = pairs.merge(pd.DataFrame({"directive": pd.array(directives, dtype="Int64")}), how="cross")
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
    out = cells.merge(counts, on=by, how="left").merge(per_reason, on=by, how="left")
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
