"""Lagrangian pricing for the exact solver (issue #19): the MILP of
:mod:`siting.allocation.milp` on a candidate pool proven sufficient by Lagrangian fixing.

The method is described in :meth:`siting.allocation.MaximalCovering.exact`; this module holds
the pool LP's multipliers (:func:`lagrangian`, column generation on
:class:`~.pool_lp.PoolLP`), the fixing rule (:func:`lagrangian_keep`), the incumbents (LP
rounding + swap, a small-pool MILP) and :func:`exact_by_pricing`.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np
import scipy.sparse as sp

from .greedy import _swap, greedy
from .milp import solve_milp
from .pool_lp import PoolLP
from .problem import CoveringProblem
from .reduce import reduce
from .results import CoverageSolution, ReducedProblem, make_solution, relative_gap

#: the Lagrangian keep set joins the pool before the MILP only if the pool grows at most this much
#: (otherwise a MILP on the pool first raises ``LB``, then the pool grows and a second MILP runs);
#: 2.0: on today's 8-UGEL instance one MILP on 639 + keep candidates takes 1.8-1.9 s in all against
#: 2.7-3.2 s for the two MILPs at 1.25; 13 UGEL and the stop-26 8-UGEL instance no slower (#19)
MERGE_FACTOR = 2.0
#: candidates of largest Lagrangian value in the small MILP that finds the incumbent
SMALL_POOL = 80


def lp_duals(p: CoveringProblem, red: ReducedProblem) -> tuple[np.ndarray, float, np.ndarray]:
    """Duals ``(lambda, mu)`` of the coverage rows and of ``sum x <= N`` in the
    cardinality-only LP relaxation of ``red`` (maximise w y + eps s x, y <= A^T x,
    sum x <= N, 0 <= x, y <= 1), and its primal ``x`` (one per ``red.candidates``)."""
    from scipy.optimize import linprog
    R, wr, cand = red.matrix, red.weights, red.candidates
    nc, nd = R.shape
    A_ub = sp.vstack([sp.hstack([-sp.csr_array(R.T.astype(float)), sp.eye_array(nd, format="csr")]),
                      sp.hstack([sp.csr_array(np.ones((1, nc))), sp.csr_array((1, nd))])], format="csr")
    b_ub = np.concatenate([np.zeros(nd), [float(p.n_sites or 0)]])
    c = -np.concatenate([p.eps * p.s[cand], wr])
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=(0, 1), method="highs")
    if res.status != 0:
        return wr.copy(), 0.0, np.zeros(nc)
    return np.clip(-res.ineqlin.marginals[:nd], 0.0, wr), float(-res.ineqlin.marginals[nd]), res.x[:nc]


def lagrangian(p: CoveringProblem, pool: np.ndarray, red: ReducedProblem
               ) -> tuple[np.ndarray, float, float, np.ndarray]:
    """Multipliers from the pool LP extended to every place; returns ``(r, L, mu, x)`` with
    ``x`` the pool LP's primal per candidate (0 outside ``red.candidates``)."""
    lam_col, mu, x_red = lp_duals(p.restricted(pool), red)
    x = np.zeros(p.n_candidates)
    x[red.candidates] = x_red
    lam = p.w.copy()  # places no pool candidate covers: lambda = w (column-generation pricing)
    col = red.column_of_place
    inpool = col >= 0
    tot = red.weights[col[inpool]]
    share = np.divide(p.w[inpool], tot, out=np.zeros(int(inpool.sum())), where=tot > 0)
    lam[inpool] = lam_col[col[inpool]] * share
    r = np.where(p.eligible, p.A @ lam + p.eps * p.s, -np.inf)
    n = int(p.n_sites or 0)
    top = np.partition(r[p.eligible], -n)[-n:]
    L = float(np.maximum(p.w - lam, 0.0).sum() + top.sum())
    return r, L, mu, x


def cardinality_only(p: CoveringProblem) -> bool:
    """True when ``sum x <= N`` and eligibility are the only constraints (no budget, group
    bounds, parent capacity, coverage target): any N eligible candidates are feasible."""
    return (p.budget is None and p.coverage_target is None and not p.has_parents
            and not (p.group_min > 0).any() and not np.isfinite(p.group_max).any())


def lp_rounding(p: CoveringProblem, x: np.ndarray) -> tuple[list[int], float]:
    """A feasible set from the LP relaxation (cardinality-only problems): the ``N`` candidates
    with the largest LP value ``x_i`` (ties: larger single coverage), then 1-swap local search;
    returns ``(selection, score)``.  Only a lower bound for :func:`exact_by_pricing`."""
    n = int(p.n_sites or 0)
    single = p.A @ p.w
    order = np.lexsort((-single, -np.where(p.eligible, x, -1.0)))
    sel, _ = _swap(p, [int(i) for i in order[:n] if p.eligible[i]], None, max_iter=200)
    return sel, float(p.covered_weight(sel) + p.eps * p.s[np.asarray(sel, dtype=int)].sum())


def _initial_pool(p: CoveringProblem, best_sel: list[int], n: int) -> np.ndarray:
    single = np.where(p.eligible, p.A @ p.w + p.eps * p.s, -np.inf)
    pool = np.zeros(p.n_candidates, dtype=bool)
    pool[best_sel] = True
    pool[np.argsort(-single, kind="stable")[:2 * n + 20]] = True
    return pool & p.eligible


def _column_generation(p: CoveringProblem, pool: np.ndarray, *, tol: float, max_rounds: int, max_pool: int,
                       deadline: float) -> tuple[np.ndarray, float, np.ndarray, int] | None:
    """Grow ``pool`` (in place) until no candidate outside prices out in the pool LP
    (``r_i <= mu``) or a limit is hit; returns ``(r, L, x, rounds)`` of the last LP, ``None``
    past ``deadline`` or if an LP failed.  One warm-started LP (:class:`~.pool_lp.PoolLP`):
    each round adds the new columns and re-optimises from the last basis."""
    N = int(p.n_sites or 0)
    add = 2 * N + 20
    lp = PoolLP(p)
    lp.add(np.flatnonzero(pool))
    rounds = 0
    while True:
        rounds += 1
        out = lp.solve()
        if out is None:
            return None
        lam, mu, x_pool = out
        r = np.where(p.eligible, p.A @ lam + p.eps * p.s, -np.inf)
        viol = np.flatnonzero(p.eligible & ~pool & (r > mu + tol))
        if viol.size == 0 or rounds >= max_rounds or pool.sum() > max_pool:
            x = np.zeros(p.n_candidates)
            x[np.asarray(lp.cols, dtype=int)] = x_pool
            top = np.partition(r[p.eligible], -N)[-N:]
            L = float(np.maximum(p.w - lam, 0.0).sum() + top.sum())
            return r, L, x, rounds
        new = viol[np.argsort(-r[viol], kind="stable")[:add]]
        pool[new] = True
        lp.add(new)
        if time.perf_counter() > deadline:
            return None


def lagrangian_keep(p: CoveringProblem, r: np.ndarray, L: float, LB: float, *, tol: float) -> np.ndarray:
    """Candidates that may be in a solution scoring at least ``LB``: forcing ``x_i = 1`` gives
    ``UB_i = L - r_(N) + r_i``, so ``UB_i < LB`` excludes i (see
    :meth:`~siting.allocation.MaximalCovering.exact`).  Monotone: a larger ``LB`` keeps a subset."""
    N = int(p.n_sites or 0)
    r_n = np.partition(r[p.eligible], -N)[-N]
    return p.eligible & (r >= r_n - (L - LB) - tol)


def _score(p: CoveringProblem, sel: list[int]) -> float:
    return float(p.covered_weight(sel) + p.eps * p.s[np.asarray(sel, dtype=int)].sum())


def _small_pool_milp(p: CoveringProblem, r: np.ndarray, x: np.ndarray, incumbents: list[list[int]],
                     start: list[int], *, deadline: float, mip_rel_gap: float) -> tuple[list[int], float] | None:
    """The MILP restricted to a small pool (the incumbents, the LP's support and the
    :data:`SMALL_POOL` candidates with the largest Lagrangian value ``r_i``), started from
    ``start``; ``None`` if it found nothing.  Any restriction of the problem is feasible
    for it, so its optimum is a valid lower bound ``LB`` for :func:`lagrangian_keep`."""
    small = np.zeros(p.n_candidates, dtype=bool)
    for sel in incumbents:
        small[sel] = True
    small[x > 1e-6] = True
    small[np.argsort(-np.where(p.eligible, r, -np.inf), kind="stable")[:SMALL_POOL]] = True
    small &= p.eligible
    left = deadline - time.perf_counter()
    if left <= 0:
        return None
    sol = solve_milp(p.restricted(small), time_limit=left, mip_rel_gap=mip_rel_gap, fast=True, start=start)
    return (list(sol.selected), sol.score) if sol is not None else None


def _incumbent(p: CoveringProblem, r: np.ndarray, L: float, x: np.ndarray, pool: np.ndarray, best_sel: list[int],
               LB: float, *, tol: float, deadline: float, mip_rel_gap: float, max_pool: int
               ) -> tuple[list[int], float, bool]:
    """The best feasible set known before the final MILP and whether that MILP may run on the
    Lagrangian keep set: LP rounding + swap (cardinality-only problems); when the keep set
    at that ``LB`` is still large, the small-pool MILP (:func:`_small_pool_milp`) too.
    Returns ``(selection, LB, keep set small enough)``."""
    incumbents = [list(best_sel)]
    if cardinality_only(p):
        sel_r, score_r = lp_rounding(p, x)
        incumbents.append(sel_r)
        if score_r > LB:
            best_sel, LB = sel_r, score_r
    limit = min(MERGE_FACTOR * pool.sum(), max_pool)
    if lagrangian_keep(p, r, L, LB, tol=tol).sum() <= limit:
        return best_sel, LB, True
    found = _small_pool_milp(p, r, x, incumbents, best_sel, deadline=deadline, mip_rel_gap=mip_rel_gap)
    if found is not None and found[1] > LB:
        best_sel, LB = found
    return best_sel, LB, bool(lagrangian_keep(p, r, L, LB, tol=tol).sum() <= limit)


def exact_by_pricing(p: CoveringProblem, *, time_limit: float, mip_rel_gap: float, max_lp_rounds: int = 50,
                     max_pool: int = 2500) -> CoverageSolution | None:
    """Pool MILP + Lagrangian pricing (see :meth:`~siting.allocation.MaximalCovering.exact`);
    ``None`` = fall back to the full MILP.

    Order (issue #19): greedy + swap, column generation on the warm-started pool LP
    (:class:`~.pool_lp.PoolLP`), LP rounding + swap for a better ``LB`` (then, only if the
    keep set is still large, a small-pool MILP); every candidate of :func:`lagrangian_keep`
    at that ``LB`` joins the pool *before* the MILP when the pool stays small, so one MILP
    on the pool, started from the incumbent (HiGHS MIP start) and solved to **gap 0**
    (``mip_rel_gap`` then only applies to the small-pool MILP and the fallback), is the
    global optimum: no candidate outside can reach ``LB <= OPT``."""
    t0 = time.perf_counter()
    N = int(p.n_sites or 0)
    elig = p.eligible
    if N == 0 or elig.sum() <= N:
        return None
    heur = greedy(p, swap=True)
    best_sel, LB = list(heur.selected), heur.score
    tol = 1e-9 * max(abs(LB), 1.0)
    pool = _initial_pool(p, best_sel, N)
    cg = _column_generation(p, pool, tol=tol, max_rounds=max_lp_rounds, max_pool=max_pool, deadline=t0 + time_limit)
    if cg is None:
        return None
    r, L, x, rounds = cg
    t_lp = time.perf_counter() - t0 - heur.timings["total_s"]
    ta = time.perf_counter()
    best_sel, LB, small_keep = _incumbent(p, r, L, x, pool, best_sel, LB, tol=tol, deadline=t0 + time_limit,
                                          mip_rel_gap=mip_rel_gap, max_pool=max_pool)
    # every candidate that may be in a solution >= LB: when few, the MILP on them alone is global
    keep = lagrangian_keep(p, r, L, LB, tol=tol)
    keep[best_sel] = True
    if small_keep:
        pool = keep
    t_milp = time.perf_counter() - ta
    # MILP on the pool, then prove that no other candidate can be in an optimum
    for _ in range(3):
        ta = time.perf_counter()
        remaining = time_limit - (ta - t0)
        if remaining <= 0 or pool.sum() > max_pool:
            return None
        sub = p.restricted(pool)
        red = reduce(sub)
        sol = solve_milp(sub, time_limit=remaining, mip_rel_gap=0.0, reduced=red, fast=True, start=best_sel)
        t_milp += time.perf_counter() - ta
        if sol is None or sol.status != "optimal":
            return None
        if sol.score > LB:
            best_sel, LB = list(sol.selected), sol.score
        keep = lagrangian_keep(p, r, L, LB, tol=tol)
        if not (keep & ~pool).any():
            final = make_solution(p, best_sel, solver="exact (HiGHS, Lagrangian pricing)", status="optimal",
                                  bound=max(min(sol.bound, L), LB), timings={})
            return dataclasses.replace(
                final, gap=relative_gap(final.bound, final.score),
                timings={"greedy_s": heur.timings["total_s"], "lp_pricing_s": t_lp, "milp_s": t_milp,
                         "total_s": time.perf_counter() - t0},
                reduction=dict(sol.reduction, lp_rounds=rounds, pool=int(pool.sum()),
                               fixed_by_lagrangian=int(elig.sum() - keep.sum()), lagrangian_bound=L))
        pool |= keep
    return None
