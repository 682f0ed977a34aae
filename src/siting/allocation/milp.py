"""The exact solver: the MILP of :class:`~siting.allocation.MaximalCovering` built from small
row builders (as spopt's ``FacilityModelBuilder``) and solved by HiGHS through
``scipy.optimize.milp``, first on a candidate pool proven sufficient by Lagrangian pricing.
"""
from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import LinearConstraint

from ..errors import UserError
from . import highs
from .greedy import _swap, greedy
from .problem import CoveringProblem
from .reduce import reduce
from .results import CoverageSolution, ReducedProblem, make_solution, relative_gap

# --------------------------------------------------------------------------- row builders


@dataclass
class ModelBuilder:
    """Constraint rows ``lo <= M v <= hi`` over the variables ``v = x | y | z``: ``x`` one per
    (reduced) candidate, ``y`` one per (merged) place, ``z`` one per candidate-parent pair."""

    nc: int
    nd: int
    nz: int = 0
    rows: list[sp.csr_array] = field(default_factory=list)
    lo: list[np.ndarray] = field(default_factory=list)
    hi: list[np.ndarray] = field(default_factory=list)

    def add_rows(self, n_rows: int, lo: np.ndarray, hi: np.ndarray, *, x: sp.csr_array | None = None,
            y: sp.csr_array | None = None, z: sp.csr_array | None = None) -> None:
        """One block of rows; a missing part is a block of zeros."""
        parts = [x if x is not None else sp.csr_array((n_rows, self.nc)),
                 y if y is not None else sp.csr_array((n_rows, self.nd)),
                 z if z is not None else sp.csr_array((n_rows, self.nz))]
        self.rows.append(sp.hstack(parts, format="csr"))
        self.lo.append(np.asarray(lo, dtype=float))
        self.hi.append(np.asarray(hi, dtype=float))

    def add_coverage(self, R: sp.csr_array) -> None:
        """``y_j - sum_i a_ij x_i <= 0``: a place counts only when an open site covers it."""
        self.add_rows(self.nd, np.full(self.nd, -np.inf), np.zeros(self.nd),
                 x=-sp.csr_array(R.T.astype(float)), y=sp.eye_array(self.nd, format="csr"))

    def add_cardinality(self, n_sites: int) -> None:
        """``sum_i x_i <= N``."""
        self.add_rows(1, np.array([-np.inf]), np.array([float(n_sites)]), x=sp.csr_array(np.ones((1, self.nc))))

    def add_budget(self, cost: np.ndarray, budget: float) -> None:
        """``sum_i c_i x_i <= B``."""
        self.add_rows(1, np.array([-np.inf]), np.array([float(budget)]), x=sp.csr_array(cost[None, :]))

    def add_group_bounds(self, group: np.ndarray, gmin: np.ndarray, gmax: np.ndarray) -> None:
        """``lo_g <= sum_{i in g} x_i <= hi_g`` for the groups with a bound."""
        gmask = (gmin > 0) | np.isfinite(gmax)
        if not gmask.any():
            return
        gs = np.flatnonzero(gmask)
        inrow = np.isin(group, gs)
        G = sp.csr_array((np.ones(int(inrow.sum())), (np.searchsorted(gs, group[inrow]), np.flatnonzero(inrow))),
                         shape=(len(gs), self.nc))
        self.add_rows(len(gs), gmin[gs], gmax[gs], x=G)

    def add_coverage_target(self, weights: np.ndarray, target: float) -> None:
        """``sum_j w_j y_j >= t W``."""
        self.add_rows(1, np.array([target]), np.array([np.inf]), y=sp.csr_array(weights[None, :]))

    def add_parent_assignment(self, pairs_i: np.ndarray, pairs_k: np.ndarray, capacity: np.ndarray) -> None:
        """``sum_k z_ik - x_i = 0`` (an open site has one parent) and ``sum_i z_ik <= cap_k``."""
        nz = len(pairs_i)
        zi = sp.csr_array((np.ones(nz), (pairs_i, np.arange(nz))), shape=(self.nc, nz))
        self.add_rows(self.nc, np.zeros(self.nc), np.zeros(self.nc), x=-sp.eye_array(self.nc, format="csr"), z=zi)
        n_par = len(capacity)
        zk = sp.csr_array((np.ones(nz), (pairs_k, np.arange(nz))), shape=(n_par, nz))
        self.add_rows(n_par, np.full(n_par, -np.inf), capacity.astype(float), z=zk)

    def constraint(self) -> LinearConstraint:
        return LinearConstraint(sp.vstack(self.rows, format="csr"), np.concatenate(self.lo), np.concatenate(self.hi))


def _pairs(p: CoveringProblem, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate-parent pairs ``(i in 0..nc-1, k)`` of the eligible parents."""
    if p.parent_options is None:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    lens = [len(p.parent_options[i]) for i in cand]
    pairs_i = np.repeat(np.arange(len(cand)), lens)
    pairs_k = np.concatenate([p.parent_options[i] for i in cand]) if len(cand) else np.zeros(0, dtype=int)
    return pairs_i, pairs_k


def build_model(p: CoveringProblem, red: ReducedProblem) -> tuple[np.ndarray, LinearConstraint, np.ndarray, int]:
    """``(c, constraints, integrality, n_x)`` of the MILP on the reduced problem (minimise ``c v``)."""
    R, wr, cand = red.matrix, red.weights, red.candidates
    nc, nd = R.shape
    pairs_i, pairs_k = _pairs(p, cand)
    nz = len(pairs_i)
    b = ModelBuilder(nc, nd, nz)
    b.add_coverage(R)
    if p.n_sites is not None:
        b.add_cardinality(p.n_sites)
    if p.budget is not None:
        b.add_budget(p.cost[cand], p.budget)
    b.add_group_bounds(p.group[cand], p.group_min, p.group_max)
    if p.coverage_target is not None:
        b.add_coverage_target(wr, p.target_weight() - 0.0)
    if nz and p.parent_capacity is not None:
        b.add_parent_assignment(pairs_i, pairs_k, p.parent_capacity)
    if p.coverage_target is not None:
        W = max(float(wr.sum()), 1e-12)
        c = np.concatenate([p.cost[cand], -0.5 * wr / W, np.zeros(nz)])
    else:
        c = -np.concatenate([p.eps * p.s[cand], wr, np.zeros(nz)])
    integrality = np.concatenate([np.ones(nc), np.zeros(nd + nz)])
    return c, b.constraint(), integrality, nc


# --------------------------------------------------------------------------- solving


def _bounds_of(p: CoveringProblem, res) -> tuple[float, float]:
    """``(bound on the score, lower bound on the number of sites)`` from HiGHS' dual bound."""
    if p.coverage_target is not None:
        lb = float(getattr(res, "mip_dual_bound", np.nan))
        return float("nan"), (math.ceil(lb - 1e-6) if np.isfinite(lb) else float("nan"))
    dual = getattr(res, "mip_dual_bound", None)
    return (-float(dual) if dual is not None and np.isfinite(dual) else -float(res.fun)), float("nan")


#: HiGHS options of a MILP whose good incumbent is already known (the pricing path: greedy + swap
#: and LP rounding): primal heuristics (feasibility jump, sub-MIPs) took half of HiGHS' time on
#: the 3,296-candidate instance and found nothing the branch and bound does not; passed through
#: ``scipy.optimize.milp`` to HiGHS (scipy warns about options it does not check itself)
FAST_HIGHS_OPTIONS = {"mip_heuristic_effort": 0.01}
#: the Lagrangian keep set joins the pool before the MILP only if the pool grows at most this much
MERGE_FACTOR = 1.25
#: candidates of largest Lagrangian value in the small MILP that finds the incumbent
SMALL_POOL = 80


def start_vector(p: CoveringProblem, red: ReducedProblem, sel: Sequence[int] | None, n_vars: int
                 ) -> np.ndarray | None:
    """A MIP start ``v = x | y`` for HiGHS from a feasible selection of original candidates:
    each site is replaced by its kept dominator (:func:`~.reduce.reduce`; same group, covers
    at least as much at no more cost, so the set stays feasible) and ``y`` = the columns it
    covers.  ``None`` when there is nothing to start from or the model has parent variables."""
    nc, nd = red.matrix.shape
    if sel is None or len(sel) == 0 or red.row_of_candidate is None or n_vars != nc + nd:
        return None
    rows = red.row_of_candidate[np.asarray(sel, dtype=int)]
    if (rows < 0).any():
        return None
    v = np.zeros(n_vars)
    v[np.unique(rows)] = 1.0
    hit = np.zeros(nd, dtype=bool)
    hit[red.matrix[np.unique(rows)].indices] = True
    v[nc:] = hit
    return v


def solve_milp(p: CoveringProblem, *, time_limit: float, mip_rel_gap: float, reduced: ReducedProblem | None = None,
               reduce_time: float | None = None, fast: bool = False, start: Sequence[int] | None = None
               ) -> CoverageSolution | None:
    """The MILP on the whole reduced problem (see :func:`exact`); ``None`` if the time limit
    passed before HiGHS found any feasible solution.  ``fast``: with
    :data:`FAST_HIGHS_OPTIONS` (same optimum and gap tolerance, fewer primal heuristics).
    ``start``: a *feasible* selection (original candidate indices) given to HiGHS as its
    first incumbent (:func:`start_vector`; then no presolve and no primal heuristics,
    :data:`siting.allocation.highs.START_OPTIONS`)."""
    t0 = time.perf_counter()
    red = reduce(p) if reduced is None else reduced
    t1 = time.perf_counter()
    t_reduce = (t1 - t0) if reduced is None else (reduce_time or 0.0)
    c, constraints, integrality, nc = build_model(p, red)
    t2 = time.perf_counter()
    v0 = start_vector(p, red, start, len(c))
    options: dict[str, Any] = {"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap)}
    if v0 is None:
        options.update(presolve=bool(red.matrix.nnz < 200_000), **(FAST_HIGHS_OPTIONS if fast else {}))
    res = highs.solve_milp(c, constraints.A, constraints.lb, constraints.ub, integrality=integrality, start=v0,
                           options=options)
    t3 = time.perf_counter()
    if res.status == 2:
        raise UserError("the location-allocation model is infeasible: no set of sites meets all the limits "
                        "(n_sites, budget, min/max per group, coverage target, parent-CETPRO capacity)",
                        hint="relax allocation.min_per_ugel / coverage_target or raise n_sites / budget / "
                             "max_extensions_per_cetpro")
    if res.x is None:
        return None  # time limit without an incumbent: the caller falls back to greedy
    sel = red.candidates[res.x[:nc] > 0.5]
    bound, sites_lb = _bounds_of(p, res)
    sol = make_solution(p, sel, solver="exact (HiGHS)", status="optimal" if res.status == 0 else "time_limit",
                        bound=bound, timings={"reduce_s": t_reduce, "build_s": t2 - t1, "solve_s": t3 - t2,
                                              "total_s": t_reduce + (t3 - t1)},
                        sites_lb=sites_lb, reduction=red.stats)
    if p.coverage_target is None:
        bound = max(sol.bound, sol.score)  # HiGHS bound is on the score; never below the incumbent
        sol = dataclasses.replace(sol, bound=bound, gap=relative_gap(bound, sol.score))
    return sol


def exact(p: CoveringProblem, *, time_limit: float = 60.0, mip_rel_gap: float = 1e-6,
          reduced: ReducedProblem | None = None, reduce_time: float | None = None,
          pricing: bool = True) -> CoverageSolution:
    """Exact MILP solved by HiGHS (see :meth:`siting.allocation.MaximalCovering.exact`)."""
    t0 = time.perf_counter()
    if pricing and reduced is None and p.n_sites is not None and p.coverage_target is None:
        sol = exact_by_pricing(p, time_limit=time_limit, mip_rel_gap=mip_rel_gap)
        if sol is not None:
            return sol
    left = max(time_limit - (time.perf_counter() - t0), 1.0)
    found = solve_milp(p, time_limit=left, mip_rel_gap=mip_rel_gap, reduced=reduced, reduce_time=reduce_time)
    if found is None:
        heur = greedy(p, swap=True)
        return dataclasses.replace(heur, solver="exact (HiGHS, no solution in time limit) -> greedy+swap",
                                   status="time_limit", timings=dict(heur.timings, total_s=time.perf_counter() - t0))
    sol = found
    if sol.status != "optimal" and p.coverage_target is None:
        # time limit: keep HiGHS' bound but never return less than the greedy + swap answer
        heur = greedy(p, swap=True)
        if heur.score > sol.score:
            bound = max(min(sol.bound, heur.bound), heur.score)
            return dataclasses.replace(
                heur, solver="exact (HiGHS, time limit) -> greedy+swap incumbent", status="time_limit",
                bound=bound, gap=relative_gap(bound, heur.score), reduction=sol.reduction,
                timings=dict(sol.timings, greedy_s=heur.timings["total_s"], total_s=time.perf_counter() - t0))
    return dataclasses.replace(sol, timings=dict(sol.timings, total_s=time.perf_counter() - t0))


# --------------------------------------------------------------------------- Lagrangian pricing


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
    past ``deadline``."""
    N = int(p.n_sites or 0)
    add = 2 * N + 20
    rounds = 0
    while True:
        rounds += 1
        red = reduce(p.restricted(pool))
        r, L, mu, x = lagrangian(p, pool, red)
        viol = np.flatnonzero(p.eligible & ~pool & (r > mu + tol))
        if viol.size == 0 or rounds >= max_rounds or pool.sum() > max_pool:
            return r, L, x, rounds
        pool[viol[np.argsort(-r[viol], kind="stable")[:add]]] = True
        if time.perf_counter() > deadline:
            return None


def lagrangian_keep(p: CoveringProblem, r: np.ndarray, L: float, LB: float, *, tol: float) -> np.ndarray:
    """Candidates that may be in a solution scoring at least ``LB``: forcing ``x_i = 1`` gives
    ``UB_i = L - r_(N) + r_i``, so ``UB_i < LB`` excludes i (see
    :meth:`~siting.allocation.MaximalCovering.exact`).  Monotone: a larger ``LB`` keeps a subset."""
    N = int(p.n_sites or 0)
    r_n = np.partition(r[p.eligible], -N)[-N]
    return p.eligible & (r >= r_n - (L - LB) - tol)


def _better_incumbent(p: CoveringProblem, r: np.ndarray, x: np.ndarray, best_sel: list[int], *, deadline: float,
                      mip_rel_gap: float) -> tuple[list[int], float] | None:
    """A good feasible solution fast: LP rounding + swap (cardinality-only problems), then the
    MILP restricted to a small pool (the incumbents, the LP's support and the
    :data:`SMALL_POOL` candidates with the largest Lagrangian value ``r_i``); ``None`` if
    nothing was found.  Any restriction of the problem is feasible for it, so this is a valid
    lower bound ``LB`` for :func:`lagrangian_keep`."""
    sel, score = list(best_sel), -np.inf
    start = list(best_sel)
    small = np.zeros(p.n_candidates, dtype=bool)
    small[best_sel] = True
    if cardinality_only(p):
        sel_r, score_r = lp_rounding(p, x)
        sel, score = sel_r, score_r
        small[sel_r] = True
        if score_r > p.covered_weight(best_sel) + p.eps * float(p.s[np.asarray(best_sel, dtype=int)].sum()):
            start = list(sel_r)
    small[x > 1e-6] = True
    small[np.argsort(-np.where(p.eligible, r, -np.inf), kind="stable")[:SMALL_POOL]] = True
    small &= p.eligible
    left = deadline - time.perf_counter()
    if left > 0:
        sol = solve_milp(p.restricted(small), time_limit=left, mip_rel_gap=mip_rel_gap, fast=True, start=start)
        if sol is not None and sol.score > score:
            sel, score = list(sol.selected), sol.score
    return (sel, float(score)) if np.isfinite(score) else None


def exact_by_pricing(p: CoveringProblem, *, time_limit: float, mip_rel_gap: float, max_lp_rounds: int = 50,
                     max_pool: int = 2500) -> CoverageSolution | None:
    """Pool MILP + Lagrangian pricing (see :meth:`~siting.allocation.MaximalCovering.exact`);
    ``None`` = fall back to the full MILP.

    Order (issue #19): greedy + swap, column generation on the LP, then (cardinality-only
    problems) LP rounding + swap for a better ``LB``; every candidate of
    :func:`lagrangian_keep` at that ``LB`` joins the pool *before* the MILP when the pool stays
    small (at most twice its size), so one MILP (HiGHS with :data:`FAST_HIGHS_OPTIONS`) on the
    pool is the global optimum: no candidate outside can reach ``LB <= OPT``."""
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
    found = _better_incumbent(p, r, x, best_sel, deadline=t0 + time_limit, mip_rel_gap=mip_rel_gap)
    if found is not None and found[1] > LB:
        best_sel, LB = found
    # every candidate that may be in a solution >= LB: when few, the MILP on them alone is global
    keep = lagrangian_keep(p, r, L, LB, tol=tol)
    keep[best_sel] = True
    if keep.sum() <= min(MERGE_FACTOR * pool.sum(), max_pool):
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
        sol = solve_milp(sub, time_limit=remaining, mip_rel_gap=mip_rel_gap, reduced=red, fast=True, start=best_sel)
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
                reduction=dict(red.stats, lp_rounds=rounds, pool=int(pool.sum()),
                               fixed_by_lagrangian=int(elig.sum() - keep.sum()), lagrangian_bound=L))
        pool |= keep
    return None
