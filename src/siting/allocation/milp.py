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
from . import highs, probing
from .greedy import greedy
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
    :data:`siting.allocation.highs.START_OPTIONS`), after LP probing has fixed the binaries
    that no solution at least as good as the start can change
    (:func:`siting.allocation.probing.probe_fix`: same optimum, a much smaller search)."""
    t0 = time.perf_counter()
    red = reduce(p) if reduced is None else reduced
    t1 = time.perf_counter()
    t_reduce = (t1 - t0) if reduced is None else (reduce_time or 0.0)
    c, constraints, integrality, nc = build_model(p, red)
    t2 = time.perf_counter()
    v0 = start_vector(p, red, start, len(c))
    options: dict[str, Any] = {"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap)}
    fix = None
    if v0 is None:
        options.update(presolve=bool(red.matrix.nnz < 200_000), **(FAST_HIGHS_OPTIONS if fast else {}))
    elif constraints.A.nnz >= probing.MIN_NNZ:  # fixings valid for every solution no worse than the start
        fix = probing.probe_fix(c, constraints.A, constraints.lb, constraints.ub, integrality=integrality, start=v0,
                                deadline=t2 + 0.5 * time_limit)
    t_probe = time.perf_counter() - t2
    options["time_limit"] = max(float(time_limit) - t_probe, 1.0)
    res = highs.solve_milp(c, constraints.A, constraints.lb, constraints.ub, integrality=integrality, start=v0,
                           lb=None if fix is None else fix.lb, ub=None if fix is None else fix.ub, options=options)
    t3 = time.perf_counter()
    if res.status == 2:
        raise UserError("the location-allocation model is infeasible: no set of sites meets all the limits "
                        "(n_sites, budget, min/max per group, coverage target, parent-CETPRO capacity)",
                        hint="relax allocation.min_per_ugel / coverage_target or raise n_sites / budget / "
                             "max_extensions_per_cetpro")
    if res.x is None:
        return None  # time limit without an incumbent: the caller falls back to greedy
    sel = [int(i) for i in red.candidates[res.x[:nc] > 0.5]]
    bound, sites_lb = _bounds_of(p, res)
    sol = make_solution(p, sel, solver="exact (HiGHS)", status="optimal" if res.status == 0 else "time_limit",
                        bound=bound, timings={"reduce_s": t_reduce, "build_s": t2 - t1, "probe_s": t_probe,
                                              "solve_s": t3 - t2, "total_s": t_reduce + (t3 - t1)},
                        sites_lb=sites_lb, reduction=dict(red.stats, **({} if fix is None else fix.stats)))
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
        from .pricing import exact_by_pricing  # the pricing path uses this module's solve_milp
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
