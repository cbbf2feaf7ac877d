"""Tests of association for small contingency tables (n of about 10), numbers only.

:func:`association_test` picks the test a careful reader expects for a table of that size:

* 2x2: Fisher's exact test (two-sided);
* larger tables where every expected count is at least 5: Pearson's chi-square;
* otherwise the Fisher-Freeman-Halton exact test, by enumerating every table with the
  observed margins; when there are too many such tables, the same test by Monte-Carlo
  with a fixed seed and a stated number of resamples.

Rows and columns that are entirely zero are dropped first (they carry no information and
break the expected counts). Cramér's V (without bias correction) is given as the effect size.
Each test returns an :class:`AssociationResult`; labels for people live in the codebook.

Uncertainty for small samples: :func:`clopper_pearson` gives exact binomial intervals for
shares (vectorised, so a table at n = 10,000 costs the same as one at n = 10), and
:func:`bh_q_values` Benjamini-Hochberg q-values for a family of p-values (the per-option
tests of one question).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import numpy as np
from scipy import stats

__all__ = [
    "DEFAULT_RESAMPLES",
    "DEFAULT_SEED",
    "MAX_EXACT_TABLES",
    "AssociationResult",
    "TooManyTables",
    "association_test",
    "bh_q_values",
    "chi_square",
    "clopper_pearson",
    "cramers_v",
    "fisher_exact_2x2",
    "fisher_exact_rxc",
    "fisher_monte_carlo",
]

DEFAULT_SEED = 2021
DEFAULT_RESAMPLES = 99_999
MAX_EXACT_TABLES = 200_000
MIN_EXPECTED = 5.0
_RELATIVE_TOLERANCE = 1e-7  # tables "as extreme" up to rounding (the convention of R and scipy)


@dataclass(frozen=True)
class AssociationResult:
    """The outcome of one test.

    ``test`` is a stable id (``fisher_exact``, ``fisher_freeman_halton``,
    ``fisher_freeman_halton_monte_carlo``, ``chi_square`` or ``not_testable``), ``name`` its
    English name, ``statistic`` the test statistic (odds ratio, probability of the observed
    table, or chi-square) and ``details`` what a reader needs to judge it (n, shape,
    Cramér's V, resamples and seed, minimum expected count…).
    """

    test: str
    name: str
    statistic: float
    p_value: float
    details: dict[str, Any] = field(default_factory=dict)

    def describe(self, digits: int = 3) -> str:
        """A one-line summary such as ``Fisher's exact test: p = 0.035 (n = 16)``."""
        if self.test == "not_testable":
            return f"{self.name}: {self.details.get('reason', '')}".strip()
        extra = [f"n = {self.details['n']}"] if "n" in self.details else []
        if "n_resamples" in self.details:
            extra.append(f"{self.details['n_resamples']:,} resamples, seed {self.details['seed']}")
        return f"{self.name}: p = {self.p_value:.{digits}g} ({', '.join(extra)})"


class _TestResult(Protocol):
    # scipy builds its result classes at run time, so pyright cannot see their fields. Monte-Carlo
    # fisher_exact may give shape-(1,) arrays (see _scalar).
    statistic: float | np.ndarray
    pvalue: float | np.ndarray


class _Chi2Result(_TestResult, Protocol):
    dof: int


class TooManyTables(ValueError):
    """Raised when exact enumeration would visit more tables than allowed."""


def _scalar(value: object) -> float:
    """One number from scipy's result, which may be a scalar or an array of shape (1,).

    scipy's Monte-Carlo ``fisher_exact`` returns shape-(1,) arrays for some non-square tables;
    ``float`` refuses those, so take the single item whatever its shape.
    """
    return float(np.asarray(value, dtype=float).item())


def _as_table(table: object) -> np.ndarray:
    array = np.asarray(table)
    if array.ndim != 2:
        raise ValueError(f"a contingency table has two dimensions, got shape {array.shape}")
    if array.size and (np.any(array < 0) or np.any(array != np.round(array))):
        raise ValueError("a contingency table holds whole numbers >= 0")
    return array.astype(np.int64)


def _trim(table: np.ndarray) -> tuple[np.ndarray, list[int], list[int]]:
    """Drop all-zero rows and columns; return the kept table and the dropped positions."""
    rows = np.flatnonzero(table.sum(axis=1) > 0)
    columns = np.flatnonzero(table.sum(axis=0) > 0)
    dropped_rows = [i for i in range(table.shape[0]) if i not in set(rows)]
    dropped_columns = [j for j in range(table.shape[1]) if j not in set(columns)]
    return table[np.ix_(rows, columns)], dropped_rows, dropped_columns


def expected_counts(table: object) -> np.ndarray:
    """Expected counts under independence (row total x column total / n)."""
    array = _as_table(table).astype(float)
    n = array.sum()
    return np.outer(array.sum(axis=1), array.sum(axis=0)) / n if n else np.zeros_like(array)


def cramers_v(table: object) -> float:
    """Cramér's V, sqrt(chi2 / (n (min(r, c) - 1))), without bias correction (NaN if undefined)."""
    array, _, _ = _trim(_as_table(table))
    n = array.sum()
    k = min(array.shape) if array.size else 0
    if k < 2 or n == 0:
        return float("nan")
    chi2 = _pearson(array)
    return float(math.sqrt(chi2 / (n * (k - 1))))


def _pearson(array: np.ndarray) -> float:
    expected = expected_counts(array)
    return float(((array - expected) ** 2 / expected).sum())


def _base_details(array: np.ndarray) -> dict[str, Any]:
    expected = expected_counts(array)
    return {
        "n": int(array.sum()),
        "shape": tuple(int(s) for s in array.shape),
        "min_expected": float(expected.min()) if expected.size else float("nan"),
        "cramers_v": cramers_v(array),
    }


def fisher_exact_2x2(table: object, alternative: str = "two-sided") -> AssociationResult:
    """Fisher's exact test of a 2x2 table (scipy); the statistic is the sample odds ratio."""
    array = _as_table(table)
    if array.shape != (2, 2):
        raise ValueError(f"Fisher's exact test here is for 2x2 tables, got {array.shape}")
    result = cast(_TestResult, stats.fisher_exact(array, alternative=alternative))
    details = _base_details(array) | {"alternative": alternative}
    return AssociationResult(
        "fisher_exact", "Fisher's exact test", float(result.statistic), float(result.pvalue), details
    )


def _compositions(total: int, caps: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Every way of writing ``total`` as ``len(caps)`` parts, part ``j`` at most ``caps[j]``."""
    if len(caps) == 1:
        if total <= caps[0]:
            yield (total,)
        return
    rest_cap = sum(caps[1:])
    for first in range(max(0, total - rest_cap), min(total, caps[0]) + 1):
        for tail in _compositions(total - first, caps[1:]):
            yield (first, *tail)


def _count_compositions(total: int, caps: Sequence[int], limit: int) -> int:
    """How many :func:`_compositions` there are, ``limit + 1`` when more (a knapsack count in
    numpy; the counts saturate at ``limit + 1``, which keeps them exact below it and small)."""
    ways = np.zeros(total + 1, dtype=np.int64)
    ways[0] = 1
    for cap in caps:
        # ways'[t] = ways[t] + ... + ways[t - cap]: a window of the running sum.
        running = np.cumsum(ways)
        updated = running.copy()
        if cap + 1 <= total:
            updated[cap + 1 :] -= running[: total - cap]
        ways = np.minimum(updated, limit + 1)
    return int(ways[total])


def count_tables(rows: Sequence[int], columns: Sequence[int], limit: int) -> int:
    """How many tables have row sums ``rows`` and column sums ``columns``; ``limit + 1`` as soon
    as there are more than ``limit`` (so that choosing the test costs little even for tables
    far too many to enumerate).

    First a lower bound: any placement of one row within the column sums leaves margins that
    some table completes, so there are at least as many tables as ways to place the row that
    has most. Only when that is within the limit are the tables counted row by row; the column
    sums left are sorted for the memo, since the number of completions does not depend on
    their order.
    """
    if not rows or not columns or sum(rows) != sum(columns):
        return 0
    if max(_count_compositions(row, columns, limit) for row in rows) > limit:
        return limit + 1
    memo: dict[tuple[int, tuple[int, ...]], int] = {}

    def completions(i: int, remaining: tuple[int, ...]) -> int:
        if i == len(rows) - 1:
            return 1  # the last row takes what is left (the sums agree)
        if i == len(rows) - 2:
            return _count_compositions(rows[i], remaining, limit)  # then the last row is forced
        key = (i, tuple(sorted(remaining)))
        if key in memo:
            return memo[key]
        found = 0
        for row in _compositions(rows[i], remaining):
            found += completions(i + 1, tuple(r - x for r, x in zip(remaining, row, strict=True)))
            if found > limit:
                break
        memo[key] = min(found, limit + 1)
        return memo[key]

    return completions(0, tuple(columns))


def _log_probability(table: np.ndarray, constant: float) -> float:
    return constant - float(sum(math.lgamma(x + 1) for x in table.ravel()))


def fisher_exact_rxc(table: object, max_tables: int = MAX_EXACT_TABLES) -> AssociationResult:
    """Fisher-Freeman-Halton exact test of an r x c table, by full enumeration.

    The p-value is the total probability (multivariate hypergeometric, margins fixed) of the
    tables no more probable than the observed one. Raises :class:`TooManyTables` when more
    than ``max_tables`` tables share the margins (counted before any is enumerated).
    """
    array, _, _ = _trim(_as_table(table))
    if min(array.shape, default=0) < 2:
        raise ValueError("the table needs at least two non-empty rows and columns")
    rows = tuple(int(x) for x in array.sum(axis=1))
    columns = tuple(int(x) for x in array.sum(axis=0))
    n = sum(rows)
    if count_tables(rows, columns, max_tables) > max_tables:
        raise TooManyTables(f"more than {max_tables:,} tables share these margins")
    constant = sum(math.lgamma(r + 1) for r in rows) + sum(math.lgamma(c + 1) for c in columns) - math.lgamma(n + 1)
    observed = _log_probability(array, constant)
    threshold = observed + math.log1p(_RELATIVE_TOLERANCE)
    # log(x!) looked up, and each row's share of the log-probability summed once per row,
    # not once per table: the enumeration's inner step is a lookup and an addition.
    log_factorial = [math.lgamma(x + 1) for x in range(n + 1)]
    p_value, visited = 0.0, 0

    def fill(i: int, remaining: tuple[int, ...], log_p: float) -> None:
        nonlocal p_value, visited
        if i == len(rows) - 1:
            visited += 1
            log_p -= sum(log_factorial[x] for x in remaining)
            if log_p <= threshold:
                p_value += math.exp(log_p)
            return
        for row in _compositions(rows[i], remaining):
            fill(
                i + 1,
                tuple(r - x for r, x in zip(remaining, row, strict=True)),
                log_p - sum(log_factorial[x] for x in row),
            )

    fill(0, columns, constant)
    details = _base_details(array) | {"n_tables": visited}
    return AssociationResult(
        "fisher_freeman_halton", "Fisher-Freeman-Halton exact test", math.exp(observed), min(1.0, p_value), details
    )


def fisher_monte_carlo(
    table: object, n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> AssociationResult:
    """Fisher-Freeman-Halton test by Monte-Carlo: ``n_resamples`` random tables with the
    observed margins (scipy's ``random_table``), seeded so that the p-value is reproducible."""
    array, _, _ = _trim(_as_table(table))
    if min(array.shape, default=0) < 2:
        raise ValueError("the table needs at least two non-empty rows and columns")
    method = stats.MonteCarloMethod(n_resamples=n_resamples, rng=np.random.default_rng(seed))
    result = cast(_TestResult, stats.fisher_exact(array, method=method))
    details = _base_details(array) | {"n_resamples": int(n_resamples), "seed": int(seed)}
    return AssociationResult(
        "fisher_freeman_halton_monte_carlo",
        "Fisher-Freeman-Halton test (Monte-Carlo)",
        _scalar(result.statistic),
        _scalar(result.pvalue),
        details,
    )


def chi_square(table: object, min_expected: float = MIN_EXPECTED) -> AssociationResult:
    """Pearson's chi-square test without continuity correction.

    Raises ``ValueError`` when an expected count is below ``min_expected``: the chi-square
    approximation is then not to be trusted; use an exact test.
    """
    array, _, _ = _trim(_as_table(table))
    if min(array.shape, default=0) < 2:
        raise ValueError("the table needs at least two non-empty rows and columns")
    expected = expected_counts(array)
    if expected.min() < min_expected:
        raise ValueError(f"an expected count is {expected.min():.2f} (< {min_expected}); use an exact test")
    result = cast(_Chi2Result, stats.chi2_contingency(array, correction=False))
    details = _base_details(array) | {"dof": int(result.dof)}
    return AssociationResult(
        "chi_square", "Pearson's chi-square test", float(result.statistic), float(result.pvalue), details
    )


def association_test(
    table: object,
    *,
    seed: int = DEFAULT_SEED,
    n_resamples: int = DEFAULT_RESAMPLES,
    max_exact_tables: int = MAX_EXACT_TABLES,
) -> AssociationResult:
    """The test of association suited to ``table`` (see the module notes for the choice)."""
    original = _as_table(table)
    array, dropped_rows, dropped_columns = _trim(original)
    trimmed = {"dropped_rows": dropped_rows, "dropped_columns": dropped_columns}
    if min(array.shape, default=0) < 2:
        return AssociationResult(
            "not_testable",
            "No test",
            float("nan"),
            float("nan"),
            {
                "n": int(original.sum()),
                "shape": tuple(int(s) for s in original.shape),
                "reason": "fewer than two non-empty rows or columns",
            }
            | trimmed,
        )
    if array.shape == (2, 2):
        result = fisher_exact_2x2(array)
    elif expected_counts(array).min() >= MIN_EXPECTED:
        result = chi_square(array)
    else:
        try:
            result = fisher_exact_rxc(array, max_tables=max_exact_tables)
        except TooManyTables:
            result = fisher_monte_carlo(array, n_resamples=n_resamples, seed=seed)
    return AssociationResult(result.test, result.name, result.statistic, result.p_value, result.details | trimmed)


# -- intervals and multiplicity -----------------------------------------------------------------


def clopper_pearson(successes: object, trials: object, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) confidence interval of the share ``successes / trials``.

    Element-wise over arrays, from beta quantiles: the same interval as
    ``scipy.stats.binomtest(k, n).proportion_ci(confidence, method="exact")``. The bounds are
    0 when ``successes`` is 0 and 1 when it equals ``trials``; NaN where ``trials`` is 0 or a
    value is missing or impossible. Exact intervals are conservative (coverage at least the
    nominal level), which is what a reader of a table of 10 companies should be given.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    k = np.atleast_1d(np.asarray(successes, dtype=float))
    n = np.atleast_1d(np.asarray(trials, dtype=float))
    k, n = np.broadcast_arrays(k, n)
    valid = np.isfinite(k) & np.isfinite(n) & (n > 0) & (k >= 0) & (k <= n)
    alpha = 1.0 - confidence
    # Safe shape parameters where the closed-form bound (0 or 1) applies or the cell is invalid.
    k_safe = np.where(valid, k, 0.0)
    n_safe = np.where(valid, n, 1.0)
    low = np.where(k_safe > 0, stats.beta.ppf(alpha / 2, np.maximum(k_safe, 1e-12), n_safe - k_safe + 1), 0.0)
    high = np.where(k_safe < n_safe, stats.beta.ppf(1 - alpha / 2, k_safe + 1, np.maximum(n_safe - k_safe, 1e-12)), 1.0)
    low = np.where(valid, low, np.nan)
    high = np.where(valid, high, np.nan)
    return low.reshape(np.shape(k)), high.reshape(np.shape(k))


def bh_q_values(p_values: object) -> np.ndarray:
    """Benjamini-Hochberg q-values (``scipy.stats.false_discovery_control``) of a family of
    p-values; NaN p-values (no test) are left out of the family and stay NaN."""
    p = np.asarray(p_values, dtype=float).reshape(-1)
    out = np.full(p.shape, np.nan)
    tested = np.isfinite(p)
    if tested.any():
        out[tested] = stats.false_discovery_control(p[tested], method="bh")
    return out
