"""Bounds of one count at a time over the counts a reader can infer: a linear programme built
once and solved for many objectives.

Proving a suppressed report safe asks, for every hidden cell, its smallest and largest value
over every table consistent with what is printed (``x >= 0``, ``A_eq x = b_eq``,
``A_ub x <= b_ub``): two programmes per cell with the same constraints. :class:`LinearProgramme`
hands the constraints to HiGHS once and then only changes the objective, so each further solve
starts from the previous basis (a warm start) instead of building and checking a new model,
which was most of the time spent in :func:`scipy.optimize.linprog` for these small programmes.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NamedTuple

import numpy as np
from scipy import sparse

__all__ = ["INFEASIBLE", "OPTIMAL", "UNBOUNDED", "LinearProgramme", "Solution"]

OPTIMAL, INFEASIBLE, UNBOUNDED = 0, 2, 3  # the status codes of scipy.optimize.linprog


class Solution(NamedTuple):
    """One solve: ``status`` as :func:`scipy.optimize.linprog` gives it (0 optimal, 2
    infeasible, 3 unbounded), the objective ``fun`` and the point ``x`` (when optimal)."""

    status: int
    fun: float
    x: np.ndarray


_banner_silenced = False


def _highs() -> Any:
    """A quiet HiGHS instance. HiGHS writes a banner to the process's standard output the first
    time one is made (from C++, so Python cannot capture it): that once, file descriptor 1 is
    pointed at the null device, so a report build prints only its own lines."""
    global _banner_silenced
    import highspy

    if _banner_silenced:
        highs = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
                highs = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_silenced = True
    highs.setOptionValue("output_flag", False)
    return highs


class LinearProgramme:
    """``min sign * x[i]`` over ``{x >= 0 : a_eq x = b_eq, a_ub x <= b_ub}`` for any ``i`` and
    ``sign``, the constraints given once (dense or sparse matrices; either pair may be ``None``)."""

    def __init__(self, n: int, a_eq: Any = None, b_eq: Any = None, a_ub: Any = None, b_ub: Any = None):
        import highspy

        self.n = n
        self.solves = 0
        self._highs = _highs()
        inf = highspy.kHighsInf
        self._highs.addVars(n, np.zeros(n), np.full(n, inf))
        blocks, lower, upper = [], [], []
        if a_eq is not None:
            blocks.append(sparse.csr_matrix(a_eq, dtype=float))
            lower.append(np.asarray(b_eq, dtype=float))
            upper.append(np.asarray(b_eq, dtype=float))
        if a_ub is not None:
            blocks.append(sparse.csr_matrix(a_ub, dtype=float))
            lower.append(np.full(len(b_ub), -inf))
            upper.append(np.asarray(b_ub, dtype=float))
        if blocks:
            rows = sparse.csr_matrix(sparse.vstack(blocks))
            self._highs.addRows(
                len(rows.indptr) - 1,
                np.concatenate(lower),
                np.concatenate(upper),
                rows.nnz,
                rows.indptr[:-1].astype(np.int32),
                rows.indices.astype(np.int32),
                rows.data.astype(float),
            )
        self._columns = np.arange(n, dtype=np.int32)

    def solve(self, i: int, sign: float) -> Solution:
        """Minimise ``sign * x[i]`` (``sign`` -1 maximises)."""
        import highspy

        cost = np.zeros(self.n)
        cost[i] = sign
        self._highs.changeColsCost(self.n, self._columns, cost)
        self._highs.run()
        self.solves += 1
        status = self._highs.getModelStatus()
        final = (
            highspy.HighsModelStatus.kOptimal,
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kInfeasible,
        )
        if status not in final:
            # Presolve could not tell unbounded from infeasible, or the warm start ended without
            # an answer: solve this objective afresh with the simplex alone.
            self._highs.clearSolver()
            self._highs.setOptionValue("presolve", "off")
            self._highs.run()
            self._highs.setOptionValue("presolve", "choose")
            status = self._highs.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            x = np.array(self._highs.getSolution().col_value, dtype=float)
            return Solution(OPTIMAL, float(self._highs.getInfo().objective_function_value), x)
        if status == highspy.HighsModelStatus.kUnbounded:
            return Solution(UNBOUNDED, -np.inf, np.full(self.n, np.nan))
        if status == highspy.HighsModelStatus.kInfeasible:
            return Solution(INFEASIBLE, np.nan, np.full(self.n, np.nan))
        raise RuntimeError(f"HiGHS could not solve a bound ({self._highs.modelStatusToString(status)})")
