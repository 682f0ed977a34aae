"""The LP relaxation on a growing candidate pool, warm-started (issue #19).

Column generation for :func:`siting.allocation.pricing.exact_by_pricing` solves, round after
round, the cardinality-only LP relaxation on a pool ``P`` of candidates::

    maximise  sum_j w_j y_j + eps sum_{i in P} s_i x_i
    s.t.      y_j - sum_{i in P} a_ij x_i <= 0   (dual lambda_j >= 0)   for every place j
              sum_{i in P} x_i <= N             (dual mu >= 0),         0 <= x, y <= 1

and prices every candidate outside by ``r_i = eps s_i + sum_j a_ij lambda_j``.  Here the rows
are the places themselves (weight > 0, reached by some eligible candidate), built once; a
new round only *adds the columns* ``x_i`` of the candidates that priced out, so HiGHS
restarts the primal simplex from the previous optimal basis (a few pivots) instead of
solving the LP again from scratch.  A place no pool candidate covers gets
``lambda_j = w_j`` (its row reads ``y_j <= 0``; any ``lambda_j`` in ``[0, w_j]`` is optimal
there, and ``w_j`` is the exact column-generation price).  Without the HiGHS binding
(:func:`siting.allocation.highs.available`) each round calls ``scipy.optimize.linprog``.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import highs
from .problem import CoveringProblem


class PoolLP:
    """The LP of the module docstring; :meth:`add` pool candidates, :meth:`solve` for duals."""

    def __init__(self, p: CoveringProblem):
        self.p = p
        reached = np.bincount(p.pattern[np.flatnonzero(p.eligible)].indices, minlength=p.n_places) > 0
        self.places = np.flatnonzero((p.w > 0) & reached)
        self.row_of = np.full(p.n_places, -1)
        self.row_of[self.places] = np.arange(len(self.places))
        self.cols: list[int] = []
        self.covered = np.zeros(len(self.places), dtype=bool)
        self.h = None
        nd = len(self.places)
        if highs.available():
            self.h = highs.new_highs({"presolve": "off"})
            wp = p.w[self.places]
            self.h.addCols(nd, -wp, np.zeros(nd), np.ones(nd), 0, np.zeros(nd, np.int32), np.zeros(0, np.int32),
                           np.zeros(0))
            # rows y_j - sum x <= 0, then sum x <= N; y_j is column j
            starts = np.arange(nd, dtype=np.int32)
            self.h.addRows(nd, np.full(nd, -np.inf), np.zeros(nd), nd, starts, np.arange(nd, dtype=np.int32),
                           np.ones(nd))
            self.h.addRows(1, np.array([-np.inf]), np.array([float(p.n_sites or 0)]), 0, np.zeros(1, np.int32),
                           np.zeros(0, np.int32), np.zeros(0))

    def add(self, cands: np.ndarray) -> None:
        """Add the columns ``x_i`` of ``cands`` (not yet in the pool)."""
        cands = np.asarray(cands, dtype=int)
        if cands.size == 0:
            return
        sub = sp.csr_array(self.p.A[cands][:, self.places])
        self.covered[sub.indices] = True
        if self.h is not None:
            # each column x_i: -1 in the rows of the places it covers, +1 in the cardinality row
            k = len(cands)
            block = sp.csr_array(sp.hstack([-sub, sp.csr_array(np.ones((k, 1)))], format="csr"))
            block.sort_indices()
            cost = -self.p.eps * self.p.s[cands]
            self.h.addCols(k, cost, np.zeros(k), np.ones(k), block.nnz, block.indptr[:-1].astype(np.int32),
                           block.indices.astype(np.int32), block.data.astype(float))
        self.cols.extend(int(i) for i in cands)

    def solve(self) -> tuple[np.ndarray, float, np.ndarray] | None:
        """``(lambda per place of the problem, mu, x per pool candidate in order of
        addition)`` at the LP optimum; ``None`` if the LP did not solve."""
        nd = len(self.places)
        if self.h is not None:
            self.h.run()
            if self.h.getModelStatus() != highs.model_status_optimal():
                return None
            sol = self.h.getSolution()
            dual = -np.asarray(sol.row_dual)
            x = np.asarray(sol.col_value)[nd:]
        else:  # without the binding
            res = self._linprog()
            if res is None:
                return None
            dual, x = res
        wp = self.p.w[self.places]
        lam_rows = np.where(self.covered, np.clip(dual[:nd], 0.0, wp), wp)
        lam = np.zeros(self.p.n_places)
        lam[self.places] = lam_rows
        return lam, max(float(dual[nd]), 0.0), np.clip(x, 0.0, 1.0)

    def _linprog(self) -> tuple[np.ndarray, np.ndarray] | None:
        from scipy.optimize import linprog
        nd, nc = len(self.places), len(self.cols)
        R = sp.csr_array(self.p.A[np.asarray(self.cols, dtype=int)][:, self.places])
        A_ub = sp.vstack([sp.hstack([sp.eye_array(nd, format="csr"), -sp.csr_array(R.T)]),
                          sp.hstack([sp.csr_array((1, nd)), sp.csr_array(np.ones((1, nc)))])], format="csr")
        c = -np.concatenate([self.p.w[self.places], self.p.eps * self.p.s[np.asarray(self.cols, dtype=int)]])
        b_ub = np.concatenate([np.zeros(nd), [float(self.p.n_sites or 0)]])
        res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=(0, 1), method="highs")
        if res.status != 0:
            return None
        return -res.ineqlin.marginals, res.x[nd:]
