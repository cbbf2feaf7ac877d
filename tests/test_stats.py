"""Tests of association for small tables: values computed by hand or with scipy directly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sp

from analysis.tabulation.stats import (
    AssociationResult,
    TooManyTables,
    association_test,
    chi_square,
    count_tables,
    cramers_v,
    fisher_exact_2x2,
    fisher_exact_rxc,
    fisher_monte_carlo,
)


def test_fisher_2x2_by_hand():
    # [[8, 2], [1, 5]]: the top-left cell is hypergeometric (N=16, 10 in row 1, 9 in column 1).
    def p(x: int) -> float:
        return math.comb(9, x) * math.comb(7, 10 - x) / math.comb(16, 10)

    observed = p(8)
    expected = sum(p(x) for x in range(3, 10) if p(x) <= observed * (1 + 1e-9))
    result = fisher_exact_2x2([[8, 2], [1, 5]])
    assert isinstance(result, AssociationResult)
    assert result.test == "fisher_exact"
    assert result.p_value == pytest.approx(expected, rel=1e-12)
    assert result.statistic == pytest.approx(8 * 5 / (2 * 1))
    assert result.details["n"] == 16


def test_fisher_2x2_rejects_other_shapes():
    with pytest.raises(ValueError):
        fisher_exact_2x2([[1, 2, 3], [4, 5, 6]])


def test_freeman_halton_by_hand():
    # Rows (2, 2, 2), columns (3, 3): a table's probability is 0.4 / prod(x!); the tables are
    # the six permutations of first-column counts (2, 1, 0), each 0.1, and (1, 1, 1), 0.4.
    # The observed (2, 0, 1) has probability 0.1, so p = 6 x 0.1 = 0.6.
    result = fisher_exact_rxc([[2, 0], [0, 2], [1, 1]])
    assert result.test == "fisher_freeman_halton"
    assert result.statistic == pytest.approx(0.1)
    assert result.p_value == pytest.approx(0.6)
    assert result.details["n_tables"] == 7


def test_freeman_halton_matches_scipy_exact_permutation():
    # n = 8: scipy enumerates all 8! permutations (exact), which stays quick.
    table = np.array([[3, 1, 0], [0, 1, 1], [0, 0, 2]])
    ours = fisher_exact_rxc(table)
    reference = sp.fisher_exact(table, method=sp.PermutationMethod(n_resamples=np.inf))
    assert ours.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert ours.statistic == pytest.approx(reference.statistic, rel=1e-9)


def test_monte_carlo_is_seeded_and_stated():
    table = [[3, 1, 0], [0, 2, 1], [1, 0, 2]]
    first = fisher_monte_carlo(table, n_resamples=20_000, seed=7)
    again = fisher_monte_carlo(table, n_resamples=20_000, seed=7)
    assert first.p_value == again.p_value
    assert first.details["n_resamples"] == 20_000 and first.details["seed"] == 7
    assert first.p_value == pytest.approx(fisher_exact_rxc(table).p_value, abs=0.01)
    assert "20,000 resamples, seed 7" in first.describe()


def test_chi_square_by_hand():
    # Every expected count is 25; chi2 = 4 x 25 / 25 = 4 with 2 df, so p = exp(-2).
    table = [[20, 30], [30, 20], [25, 25]]
    result = chi_square(table)
    assert result.statistic == pytest.approx(4.0)
    assert result.p_value == pytest.approx(math.exp(-2))
    assert result.details["dof"] == 2


def test_chi_square_refuses_small_expected_counts():
    with pytest.raises(ValueError, match="expected count"):
        chi_square([[3, 1], [1, 3], [2, 2]])


def test_cramers_v():
    assert cramers_v([[20, 30], [30, 20], [25, 25]]) == pytest.approx(math.sqrt(4 / 150))
    assert cramers_v([[5, 0], [0, 5]]) == pytest.approx(1.0)
    assert cramers_v([[2, 4], [3, 6]]) == pytest.approx(0.0)
    table = np.array([[3, 1, 0], [0, 2, 1], [1, 0, 2]])
    assert cramers_v(table) == pytest.approx(sp.contingency.association(table, method="cramer"))


def test_choice_of_test():
    assert association_test([[8, 2], [1, 5]]).test == "fisher_exact"
    assert association_test([[3, 1, 0], [0, 2, 1], [1, 0, 2]]).test == "fisher_freeman_halton"
    assert association_test([[20, 30], [30, 20], [25, 25]]).test == "chi_square"
    forced = association_test([[3, 1, 0], [0, 2, 1], [1, 0, 2]], max_exact_tables=10, n_resamples=999)
    assert forced.test == "fisher_freeman_halton_monte_carlo"
    assert forced.details["n_resamples"] == 999


def test_empty_rows_dropped_before_testing():
    # A 3x2 table with an empty row is the 2x2 table.
    padded = association_test([[8, 2], [0, 0], [1, 5]])
    assert padded.test == "fisher_exact"
    assert padded.p_value == pytest.approx(sp.fisher_exact([[8, 2], [1, 5]]).pvalue)
    assert padded.details["dropped_rows"] == [1]


def test_not_testable():
    result = association_test([[3, 0], [4, 0]])
    assert result.test == "not_testable"
    assert math.isnan(result.p_value)
    assert "fewer than two" in result.describe()


def test_too_many_tables():
    with pytest.raises(TooManyTables):
        fisher_exact_rxc([[3, 1, 0], [0, 2, 1], [1, 0, 2]], max_tables=5)


def test_invalid_tables():
    with pytest.raises(ValueError):
        association_test([1, 2, 3])
    with pytest.raises(ValueError):
        association_test([[1, -1], [2, 3]])


# --- Property tests: every path of association_test, on random small tables -----------------

from conftest import examples  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

_SHAPES = st.tuples(st.integers(1, 5), st.integers(1, 5))
# Cells 0..3 with many zeros: zero rows and columns happen often, totals stay small.
_CELLS = st.sampled_from([0, 0, 0, 1, 1, 2, 3])
_TABLES = _SHAPES.flatmap(lambda shape: arrays(np.int64, shape, elements=_CELLS))
_PATHS = {"not_testable", "fisher_exact", "chi_square", "fisher_freeman_halton", "fisher_freeman_halton_monte_carlo"}


def _check(result: AssociationResult) -> None:
    assert result.test in _PATHS
    if result.test == "not_testable":
        assert math.isnan(result.p_value)
    else:
        assert 0.0 <= result.p_value <= 1.0
        assert isinstance(result.statistic, float)


@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TABLES)
def test_association_test_never_crashes_on_small_tables(table):
    # Exact enumeration capped low so that larger margins fall back to Monte-Carlo quickly.
    _check(association_test(table, max_exact_tables=2_000, n_resamples=199))


@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TABLES)
def test_monte_carlo_path_never_crashes(table):
    # max_exact_tables=1 forces every r x c table that is not 2x2 and not chi-square to the
    # Monte-Carlo path, where scipy returns shape-(1,) arrays for some non-square tables.
    result = association_test(table, max_exact_tables=1, n_resamples=99)
    _check(result)
    trimmed = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(trimmed.shape, default=0) >= 2 and trimmed.shape != (2, 2):
        assert result.test in {"chi_square", "fisher_freeman_halton_monte_carlo"}


def test_monte_carlo_on_the_tables_that_crashed():
    # Found by the property test above (TypeError: only 0-dimensional arrays ...).
    for table in ([[0, 2, 0, 1], [1, 1, 1, 0]], [[1, 0], [0, 2], [1, 1]]):
        result = fisher_monte_carlo(table, n_resamples=200, seed=1)
        assert 0.0 <= result.p_value <= 1.0


@settings(max_examples=examples(80), deadline=None)
@given(arrays(np.int64, (2, 2), elements=st.integers(0, 12)))
def test_exact_2x2_equals_scipy(table):
    result = association_test(table)
    if result.test == "fisher_exact":
        assert result.p_value == pytest.approx(sp.fisher_exact(table).pvalue, rel=1e-12, abs=0)
    else:  # an empty row or column leaves nothing to test
        assert result.test == "not_testable"
        assert (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any()


@pytest.mark.parametrize(
    "table",
    [
        [[3, 1, 0], [0, 2, 1], [1, 0, 2]],
        [[2, 0, 1, 1], [0, 2, 1, 0]],
        [[1, 2], [3, 0], [0, 2], [2, 1]],
    ],
)
def test_monte_carlo_agrees_with_exact_within_sampling_error(table):
    resamples = 20_000
    exact = fisher_exact_rxc(table).p_value
    simulated = association_test(table, max_exact_tables=1, n_resamples=resamples, seed=11)
    assert simulated.test == "fisher_freeman_halton_monte_carlo"
    # Four binomial standard errors, plus scipy's (k + 1) / (n + 1) offset.
    tolerance = 4 * math.sqrt(exact * (1 - exact) / resamples) + 2 / resamples
    assert simulated.p_value == pytest.approx(exact, abs=tolerance)


# --- Intervals and q-values ------------------------------------------------------------------

from analysis.tabulation.stats import bh_q_values, clopper_pearson  # noqa: E402


@settings(max_examples=examples(150), deadline=None)
@given(
    st.integers(0, 60).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_clopper_pearson_equals_scipy_exact(kn, confidence):
    k, n = kn
    low, high = clopper_pearson(k, n, confidence)
    if n == 0:
        assert np.isnan(low).all() and np.isnan(high).all()
        return
    reference = sp.binomtest(k, n).proportion_ci(confidence, method="exact")
    assert low[0] == pytest.approx(reference.low, abs=1e-12)
    assert high[0] == pytest.approx(reference.high, abs=1e-12)
    assert 0.0 <= low[0] <= k / n <= high[0] <= 1.0


def test_clopper_pearson_by_hand_and_at_scale():
    # 0 of 10: the upper bound solves (1 - p)^10 = 0.025; 10 of 10 mirrors it.
    low, high = clopper_pearson([0, 10], [10, 10])
    assert low[0] == 0.0 and high[0] == pytest.approx(1 - 0.025 ** (1 / 10))
    assert high[1] == 1.0 and low[1] == pytest.approx(0.025 ** (1 / 10))
    # n = 10,000 respondents, every count at once: vectorised, and narrower than at n = 10.
    counts = np.arange(0, 10_001)
    low, high = clopper_pearson(counts, 10_000)
    assert low.shape == (10_001,) and np.all(np.diff(low) >= 0) and np.all(high - low < 0.03)
    assert np.isnan(clopper_pearson([1, -1, 5], [0, 3, 4])[0]).all()


def test_bh_q_values_by_hand():
    # Sorted p = 0.01, 0.03, 0.04 (m = 3): 0.01 x 3/1 = 0.03, 0.03 x 3/2 = 0.045 -> min with next
    # 0.04 x 3/3 = 0.04, so q = 0.03, 0.04, 0.04; the untestable option stays NaN and is not counted.
    q = bh_q_values([0.01, 0.04, float("nan"), 0.03])
    assert q[[0, 1, 3]] == pytest.approx([0.03, 0.04, 0.04])
    assert np.isnan(q[2])
    assert np.isnan(bh_q_values([float("nan")])).all() and bh_q_values([]).size == 0


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=12))
def test_bh_q_values_bound_p_and_keep_its_order(p_values):
    p = np.array(p_values)
    q = bh_q_values(p)
    assert np.all(q >= p - 1e-12) and np.all(q <= 1.0)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(q[order]) >= -1e-12)


# -- the enumeration against brute force ------------------------------------------------------------


def _brute_force_tables(rows: tuple[int, ...], columns: tuple[int, ...]) -> list[np.ndarray]:
    """Every table with these sums, by trying every value of the free cells (all but the last
    row and column, which the sums then fix): the oracle, for tiny tables only."""
    import itertools

    r, c = len(rows), len(columns)
    ranges = [range(min(rows[i], columns[j]) + 1) for i in range(r - 1) for j in range(c - 1)]
    found = []
    for values in itertools.product(*ranges):
        table = np.zeros((r, c), dtype=np.int64)
        table[: r - 1, : c - 1] = np.array(values, dtype=np.int64).reshape(r - 1, c - 1)
        table[: r - 1, c - 1] = np.array(rows[: r - 1]) - table[: r - 1, : c - 1].sum(axis=1)
        table[r - 1, :] = np.array(columns) - table[: r - 1, :].sum(axis=0)
        if (table >= 0).all() and table[r - 1].sum() == rows[r - 1]:
            found.append(table)
    return found


def _brute_force_p(table: np.ndarray) -> float:
    rows, columns = tuple(table.sum(axis=1)), tuple(table.sum(axis=0))
    n = int(table.sum())

    def probability(t: np.ndarray) -> float:
        top = math.prod(math.factorial(int(x)) for x in (*rows, *columns))
        return top / (math.factorial(n) * math.prod(math.factorial(int(x)) for x in t.ravel()))

    observed = probability(table)
    return sum(p for t in _brute_force_tables(rows, columns) if (p := probability(t)) <= observed * (1 + 1e-7))


_TINY = st.integers(2, 3).flatmap(
    lambda r: st.integers(2, 3).flatmap(
        lambda c: st.lists(st.integers(0, 3), min_size=r * c, max_size=r * c).map(lambda v: np.array(v).reshape(r, c))
    )
)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TINY)
def test_enumeration_equals_brute_force(table):
    """Property: the exact p-value and the number of tables equal those of trying every cell."""
    trimmed = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(trimmed.shape, default=0) < 2:
        return
    rows, columns = tuple(int(x) for x in trimmed.sum(axis=1)), tuple(int(x) for x in trimmed.sum(axis=0))
    every = _brute_force_tables(rows, columns)
    assert count_tables(rows, columns, limit=10**9) == len(every)
    result = fisher_exact_rxc(trimmed)
    assert result.details["n_tables"] == len(every)
    assert result.p_value == pytest.approx(min(1.0, _brute_force_p(trimmed)), rel=1e-9, abs=1e-12)


def test_counting_stops_past_the_limit_without_enumerating():
    # 3 x 5 margins of 300 companies: astronomically many tables; counted past the limit at once.
    import time

    started = time.process_time()
    assert count_tables((100, 100, 100), (60, 60, 60, 60, 60), limit=200_000) == 200_001
    with pytest.raises(TooManyTables):
        fisher_exact_rxc([[20, 20, 20, 20, 20], [20, 20, 20, 20, 20], [20, 20, 20, 20, 20]])
    # A generous bound (the old enumeration took seconds here): proof that nothing was enumerated.
    assert time.process_time() - started < 5
