"""The bounds programme against scipy's linprog (the same HiGHS, a new model per solve)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from analysis.tabulation.linear import INFEASIBLE, OPTIMAL, UNBOUNDED, LinearProgramme


def _system(draw_rows: list[list[int]], n: int) -> np.ndarray | None:
    return np.array(draw_rows, dtype=float).reshape(len(draw_rows), n) if draw_rows else None


@st.composite
def programmes(draw):
    n = draw(st.integers(1, 5))
    coefficient = st.integers(-1, 1)
    eq = draw(st.lists(st.lists(coefficient, min_size=n, max_size=n), max_size=3))
    ub = draw(st.lists(st.lists(coefficient, min_size=n, max_size=n), max_size=3))
    b_eq = draw(st.lists(st.integers(-2, 9), min_size=len(eq), max_size=len(eq)))
    b_ub = draw(st.lists(st.integers(-2, 9), min_size=len(ub), max_size=len(ub)))
    return (
        n,
        _system(eq, n),
        np.array(b_eq, float) if eq else None,
        _system(ub, n),
        np.array(b_ub, float) if ub else None,
    )


@settings(max_examples=examples(150), deadline=None)
@given(programmes())
def test_every_bound_equals_linprog(programme):
    """Property: for every cell and side, the same status and optimum as a fresh linprog, on
    random systems (feasible or not, bounded or not), solved one after another in one model."""
    n, a_eq, b_eq, a_ub, b_ub = programme
    lp = LinearProgramme(n, a_eq, b_eq, a_ub, b_ub)
    for i in range(n):
        for sign in (1.0, -1.0):
            cost = np.zeros(n)
            cost[i] = sign
            # Without presolve: with it, HiGHS calls some unbounded programmes infeasible (e.g.
            # -x0+x1+x2 <= 0, x0-x1-x2 <= 1, maximising x0), which the model here answers right.
            expected = linprog(
                cost,
                A_ub=a_ub,
                b_ub=b_ub,
                A_eq=a_eq,
                b_eq=b_eq,
                bounds=(0, None),
                method="highs",
                options={"presolve": False},
            )
            got = lp.solve(i, sign)
            assert got.status == expected.status, (i, sign, got, expected.message)
            if got.status == OPTIMAL:
                assert got.fun == pytest.approx(expected.fun, abs=1e-7)
                x = got.x
                assert (x >= -1e-9).all()
                if a_eq is not None:
                    assert np.allclose(a_eq @ x, b_eq, atol=1e-7)
                if a_ub is not None:
                    assert (a_ub @ x <= b_ub + 1e-7).all()
    assert lp.solves == 2 * n


def test_statuses_by_hand():
    # x0 + x1 = 4: x0 lies in [0, 4]
    lp = LinearProgramme(2, np.array([[1.0, 1.0]]), np.array([4.0]))
    assert lp.solve(0, 1.0).fun == 0 and lp.solve(0, -1.0).fun == -4
    assert LinearProgramme(1).solve(0, -1.0).status == UNBOUNDED  # nothing holds x0 down
    assert LinearProgramme(1, np.array([[1.0]]), np.array([-1.0])).solve(0, 1.0).status == INFEASIBLE
    # Feasible (x = 0) and unbounded above; linprog with presolve calls it infeasible.
    lp = LinearProgramme(3, a_ub=np.array([[-1.0, 1.0, 1.0], [1.0, -1.0, -1.0]]), b_ub=np.array([0.0, 1.0]))
    assert lp.solve(0, -1.0).status == UNBOUNDED and lp.solve(0, 1.0).fun == 0


def test_nothing_is_printed_on_standard_output():
    """HiGHS prints a banner from C++ when the first model is made; the report's output is its own."""
    code = (
        "import numpy as np\n"
        "from analysis.tabulation.linear import LinearProgramme\n"
        "print(LinearProgramme(2, np.array([[1.0, 1.0]]), np.array([3.0])).solve(1, -1.0).fun)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "-3.0\n" and "HiGHS" not in out.stderr
