"""Fixing binary variables by LP probing before a MILP with a known incumbent (issue #19).

For ``minimise c v  s.t.  lo <= A v <= hi,  lb <= v <= ub``, some ``v_k`` binary, and a
feasible start ``v0`` of value ``z0 = c v0``, the MILP only has to look at solutions with
``c v <= z0``.  Let ``LP(F)`` be the LP relaxation's optimum under a set of fixings ``F``
(each valid for every solution with ``c v <= z0 + tol``).  Two rules add fixings:

* **Reduced costs.**  With the LP optimum ``z_LP`` and reduced cost ``d_k`` (``>= 0`` at the
  lower bound, ``<= 0`` at the upper), LP duality gives ``LP(F, v_k = 1) >= z_LP + d_k`` for
  ``v_k`` at 0 and ``LP(F, v_k = 0) >= z_LP - d_k`` for ``v_k`` at 1; when that exceeds
  ``z0 + tol`` the variable is fixed at its bound.
* **Probing** the LP support (binaries with ``v_k > 0`` in the LP optimum, where the reduced
  costs say nothing): set ``v_k = b`` (``b`` = 0, then 1) and re-solve the LP warm with dual
  simplex stopped at the objective bound ``z0 + tol``; if ``LP(F, v_k = b) > z0 + tol`` (or
  the LP is infeasible) every solution with ``c v <= z0 + tol`` has ``v_k = 1 - b``.

Each fixing keeps every solution of value ``<= z0 + tol``, so the MILP with the fixings has
the same optimum as without them (the start stays feasible: it is checked, and the fixings
are dropped if it is not).  The rounds repeat while they fix something (the LP bound falls
as fixings accumulate).  On the 13-UGEL covering MILP (307 candidates x 3,546 places, an LP
gap of 114 people that HiGHS' root cuts took ~3 s to close) the support's 40 binaries and
the reduced costs fix 235 of 307 candidates and the LP bound falls to the incumbent.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from . import highs

#: rounds of (reduced-cost fixing, probing the support); later rounds rarely fix anything
MAX_ROUNDS = 3
#: constraint non-zeros below which HiGHS alone is faster than probing first (the 8-UGEL
#: small-pool MILP, 10,673 non-zeros and a start far from its optimum: 0.08 s alone, 0.25 s
#: with probing; the final pool MILPs, 76,000-105,000 non-zeros: 0.6 -> 0.4 and 3 -> 1.5 s)
MIN_NNZ = 30_000
#: HiGHS ``simplex_strategy`` of the first LP, solved from scratch (4 = primal: 0.34 CPU-s
#: against dual's 0.45 on the 13-UGEL pool LP); later solves use dual simplex (1), warm
ROOT_SIMPLEX = 4


@dataclass
class Probing:
    """Bounds after probing (all variables; only binaries change) and what was fixed."""

    lb: np.ndarray
    ub: np.ndarray
    stats: dict[str, float] = field(default_factory=dict)


def _tolerance(z0: float) -> float:
    """Slack ``tol`` on the incumbent value: far above HiGHS' LP accuracy, far below one person."""
    return 1e-6 * max(abs(z0), 1.0)


def probe_fix(c: np.ndarray, A: sp.sparray, lo: np.ndarray, hi: np.ndarray, *, integrality: np.ndarray,
              start: np.ndarray, lb: np.ndarray | None = None, ub: np.ndarray | None = None,
              deadline: float = np.inf) -> Probing | None:
    """Fixings of the binary variables valid for every solution no worse than ``start`` (see
    the module docstring); ``None`` when the HiGHS binding is missing, an LP does not solve,
    the deadline passes or ``start`` would violate a fixing (numerical trouble)."""
    if not highs.available():
        return None
    n = len(c)
    lb = np.zeros(n) if lb is None else np.asarray(lb, dtype=float).copy()
    ub = np.ones(n) if ub is None else np.asarray(ub, dtype=float).copy()
    binary = np.flatnonzero((np.asarray(integrality) > 0) & (lb == 0) & (ub == 1))
    z0 = float(np.dot(c, start))
    cutoff = z0 + _tolerance(z0)
    h = highs.new_lp(c, A, lo, hi, lb, ub)
    h.setOptionValue("simplex_strategy", ROOT_SIMPLEX)
    stats = {"probe_lp_solves": 0.0, "probe_fixed_by_cost": 0.0, "probe_fixed_by_probing": 0.0}
    for _ in range(MAX_ROUNDS):
        h.run()
        h.setOptionValue("simplex_strategy", 1)  # then dual simplex, warm from the last basis
        stats["probe_lp_solves"] += 1
        if highs.lp_outcome(h) != "optimal" or time.perf_counter() > deadline:
            return None
        sol = h.getSolution()  # copied before any bound changes
        x, d = np.array(sol.col_value, dtype=float), np.array(sol.col_dual, dtype=float)
        z_lp = float(h.getInfo().objective_function_value)
        stats["probe_fixed_by_cost"] += _reduced_cost_fixing(h, binary, lb, ub, x=x, d=d, z=z_lp, cutoff=cutoff)
        if z_lp >= z0 - 1e-9 * max(abs(z0), 1.0):
            break  # the LP bound is the start's value: the MILP's root closes at once
        by_probe = _probe_support(h, binary, lb, ub, x=x, cutoff=cutoff, stats=stats, deadline=deadline)
        if by_probe is None:
            return None
        stats["probe_fixed_by_probing"] += by_probe
        if by_probe == 0:
            break
    stats["probe_fixed_0"] = float((ub[binary] == 0).sum())
    stats["probe_fixed_1"] = float((lb[binary] == 1).sum())
    if (start[binary] < lb[binary] - 0.5).any() or (start[binary] > ub[binary] + 0.5).any():
        return None
    return Probing(lb=lb, ub=ub, stats=stats)


def _reduced_cost_fixing(h, binary: np.ndarray, lb: np.ndarray, ub: np.ndarray, *, x: np.ndarray, d: np.ndarray,
                         z: float, cutoff: float) -> int:
    """Fix the free binaries whose reduced cost ``d`` at the LP optimum ``(x, z)`` lifts the
    LP bound above ``cutoff``."""
    xb, db = x[binary], d[binary]
    free = lb[binary] != ub[binary]
    to0 = free & (xb <= 1e-9) & (z + db > cutoff)
    to1 = free & (xb >= 1.0 - 1e-9) & (z - db > cutoff)
    for k, val in [(k, 0.0) for k in binary[to0]] + [(k, 1.0) for k in binary[to1]]:
        lb[k] = ub[k] = val
        h.changeColBounds(int(k), val, val)
    return int(to0.sum() + to1.sum())


def _probe_support(h, binary: np.ndarray, lb: np.ndarray, ub: np.ndarray, *, x: np.ndarray, cutoff: float,
                   stats: dict, deadline: float) -> int | None:
    """Probe ``v_k = 1 - round(x_k)``, then ``round(x_k)``, for the free binaries in the
    support of the LP optimum ``x``; a value whose LP exceeds ``cutoff`` fixes the other one.
    Returns the number fixed (``None`` past the deadline)."""
    support = [int(k) for k in binary if lb[k] != ub[k] and x[k] > 1e-9]
    h.setOptionValue("objective_bound", cutoff)
    fixed = 0
    try:
        for k in support:
            if time.perf_counter() > deadline:
                return None
            for val in ((1.0, 0.0) if x[k] < 0.5 else (0.0, 1.0)):  # the value farther from the LP first
                h.changeColBounds(k, val, val)
                h.run()
                stats["probe_lp_solves"] += 1
                out = highs.lp_outcome(h)
                if out in ("bound", "infeasible") or (out == "optimal"
                                                      and h.getInfo().objective_function_value > cutoff):
                    lb[k] = ub[k] = 1.0 - val
                    h.changeColBounds(k, lb[k], ub[k])
                    fixed += 1
                    break
                h.changeColBounds(k, lb[k], ub[k])
    finally:
        h.setOptionValue("objective_bound", np.inf)
    return fixed
