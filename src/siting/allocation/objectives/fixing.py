r"""Lagrangian fixing of the sites of a MILP by its LP relaxation (issue #19).

For the minimisation ``min c v  s.t.  lo <= A v <= hi,  lb <= v <= ub`` (a
:class:`~.constraints.Milp`) and *any* row multipliers ``y`` with ``y_r >= 0`` only where
``lo_r`` is finite and ``y_r <= 0`` only where ``hi_r`` is finite, weak duality gives, for every
feasible ``v`` (integral or not), with the reduced costs ``d = c - A^T y``::

    c v = d v + y (A v) >= sum_j t_j + sum_r (y_r^+ lo_r - y_r^- hi_r) =: L(y),
    t_j = min(d_j lb_j, d_j ub_j)

because ``y_r (A v)_r >= y_r lo_r`` when ``y_r >= 0`` and ``>= y_r hi_r`` when ``y_r <= 0``, and
``d_j v_j >= t_j`` on ``[lb_j, ub_j]``.  Fixing a 0-1 site variable ``x_i = 1`` replaces
``t_i`` by ``d_i``, so every solution that opens site *i* costs at least::

    L_i = L(y) - t_i + d_i.

If ``L_i > f + tol`` for the cost ``f`` of a known feasible solution, no solution within
``tol`` of the optimum opens *i*: the MILP restricted to the other sites has the same optimal
solutions (and the same solutions within ``tol`` of the optimum).  The bound holds for every
``y``; the multipliers of the LP optimum (HiGHS' row duals, clipped to the signs above) make
it tight.  ``L`` is summed here in NumPy from ``y``, not read from the solver, so the test
does not rest on the LP's tolerances.
"""
from __future__ import annotations

import numpy as np

from .. import highs
from .constraints import Milp

__all__ = ["site_bounds"]


def site_bounds(m: Milp, cols: np.ndarray) -> np.ndarray | None:
    """``L_i`` (module docstring) of the 0-1 columns ``cols`` of ``m``, from its LP relaxation
    solved by HiGHS; ``None`` when the binding is not there or the LP is not solved to optimality."""
    if not highs.available() or m.n_rows == 0:
        return None
    c, A = m.arrays()
    lo, hi = np.concatenate(m._lo), np.concatenate(m._hi)
    lb, ub = np.concatenate(m.lb), np.concatenate(m.ub)
    h = highs.new_lp(c, A, lo, hi, lb, ub)
    h.run()
    if highs.lp_outcome(h) != "optimal":
        return None
    y = np.asarray(h.getSolution().row_dual, dtype=float)
    fin_lo, fin_hi = np.isfinite(lo), np.isfinite(hi)
    y = np.where(fin_lo, np.maximum(y, 0.0), 0.0) + np.where(fin_hi, np.minimum(y, 0.0), 0.0)
    d = c - A.T @ y
    t = np.where(d > 0, d * lb, np.where(d < 0, d * ub, 0.0))
    rows = np.where(y > 0, y * np.where(fin_lo, lo, 0.0), np.where(y < 0, y * np.where(fin_hi, hi, 0.0), 0.0))
    L = float(t.sum() + rows.sum())
    return L - t[cols] + d[cols]
