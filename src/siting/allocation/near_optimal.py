"""Near-optimal alternatives of the maximal-covering optimum (issue #14 item 6).

**Method: the k best sets by no-good cuts on the exact HiGHS model**, not one-swap
enumeration: a set within 1 % of the optimum may differ from it in two or more sites
(one-swap misses it), while the MILP with cuts returns the sets in order of their covered
weight, whatever they change.  With ``S*`` the optimum (``|S*| = N``) and ``Z*`` its
covered weight, the sets ``S`` with ``Z(S) >= (1 - g) Z*`` (``g`` = ``allocation.near_optimal_gap``)
and ``|S| = N`` are enumerated by solving, after each set ``S_k`` found::

    max  sum_j w_j y_j   s.t. the model of MaximalCovering,  sum_i x_i = N,
         sum_{i in S_m} x_i <= N - 1   for every m <= k             (no-good cuts)

until the best falls below ``(1 - g) Z*`` (all sets found) or ``near_optimal_max_sets`` sets
are listed (then "at least").  **Shared sites** are exact whatever the cap: site ``i`` of
``S*`` is in every near-optimal set iff the model with ``x_i = 0`` has optimum below
``(1 - g) Z*`` (``N`` more solves).

**Pool** (exact): the Lagrangian bound of :func:`siting.allocation.pricing.lagrangian`,
``UB_i = L - r_(N) + r_i``, is valid for any multipliers; a candidate with
``UB_i < (1 - g) Z*`` is in no near-optimal set, so the MILPs run on the others.
Candidates are never removed by dominance here (a dominated site makes a different set);
places with the same covering sites are merged (their ``y`` are interchangeable).  The
listing and the shared-site checks each stop at ``allocation.time_limit_s``: a listing cut
short says "at least", and a site whose check did not finish is not claimed as shared.
A site is first tested by the Lagrangian bound with ``x_i = 0`` at the LP-optimal multipliers
(column generation, issue #19): below the threshold it is shared with no MILP at all.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from .milp import build_model
from .pricing import _column_generation, _initial_pool, lagrangian
from .problem import CoveringProblem
from .reduce import dominance_allowed, reduce
from .results import CoverageSolution, ReducedProblem

MAX_POOL = 3000


@dataclass(frozen=True)
class NearOptimal:
    """The near-optimal sets (``table``: one row per set, the optimum first) and the sites of
    the optimum that every one of them shares (exact)."""

    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    shared: list[str] = field(default_factory=list)
    n_sets: int = 0
    capped: bool = False  # the listing stopped before the last set: "at least n_sets"
    stopped_by: str = ""  # "sets" (near_optimal_max_sets) or "time" (allocation.time_limit_s) when capped
    gap: float = 0.01


def _without_dominance(p: CoveringProblem) -> ReducedProblem:
    """Steps 1-2 of :func:`siting.allocation.reduce.reduce` only: every eligible candidate
    kept (no dominance, no merged places), places of weight 0 or that none reaches dropped."""
    cand = np.flatnonzero(p.eligible)
    P = sp.csr_array(p.pattern[cand])
    reached = np.bincount(P.indices, minlength=p.n_places) > 0
    keep = np.flatnonzero((p.w > 0) & reached)
    col = np.full(p.n_places, -1)
    col[keep] = np.arange(len(keep))
    return ReducedProblem(matrix=sp.csr_array(P[:, keep].astype(bool)), weights=p.w[keep], candidates=cand,
                          column_of_place=col, stats={})


def _pool(p: CoveringProblem, solution: CoverageSolution, threshold: float) -> np.ndarray:
    """Candidates that may be in a set covering at least ``threshold`` (Lagrangian bound)."""
    N = int(p.n_sites or 0)
    pool0 = _initial_pool(p, list(solution.selected), N)
    r, L, _, _ = lagrangian(p, pool0, reduce(p.restricted(pool0)))
    elig = p.eligible
    r_n = np.partition(r[elig], -N)[-N]
    keep = elig & (r >= r_n - (L - threshold) - 1e-9 * max(threshold, 1.0))
    keep[list(solution.selected)] = True
    return keep if keep.sum() <= MAX_POOL else elig.copy()


def _shared_by_bound(p: CoveringProblem, solution: CoverageSolution, threshold: float, *, deadline: float
                     ) -> set[int]:
    """Sites of the optimum proven in every near-optimal set without a MILP (issue #19): with
    the LP-optimal multipliers of the column generation, the Lagrangian bound with ``x_i = 0``,
    ``sum_j max(0, w_j - lambda_j) + (the N largest r_k, k != i)``, is an upper bound on the
    covered weight (plus the suitability term, >= 0) of every set without i; below the
    threshold, no near-optimal set lacks i.  Sites it does not prove are checked by the MILP."""
    N = int(p.n_sites or 0)
    pool0 = _initial_pool(p, list(solution.selected), N)
    tol = 1e-9 * max(threshold, 1.0)
    cg = _column_generation(p, pool0, tol=tol, max_rounds=50, max_pool=MAX_POOL, deadline=deadline)
    if cg is None:
        return set()
    r, L, _, _ = cg
    elig = np.flatnonzero(p.eligible)
    if len(elig) <= N:
        return set()
    order = elig[np.argsort(-r[elig], kind="stable")]
    in_top, r_next = {int(k) for k in order[:N]}, float(r[order[N]])
    out = set()
    for i in solution.selected:
        # the N largest without i: i replaced by the (N+1)-th when it was among them
        without = L - float(r[int(i)]) + r_next if int(i) in in_top else L
        if without < threshold - tol:
            out.add(int(i))
    return out


class _Model:
    """The MILP of the pool with ``sum x = N`` and ``sum w y >= threshold``, cuts added one by one."""

    def __init__(self, p: CoveringProblem, n: int, threshold: float):
        self.red = reduce(p) if not dominance_allowed(p) else _without_dominance(p)  # no site dropped
        self.c, cons, self.integrality, self.nc = build_model(p, self.red)
        self.c[:self.nc] = 0.0  # covered weight only: the eps tie-break does not make a different plan
        nv, nd = len(self.c), len(self.red.weights)
        card = sp.csr_array((np.ones(self.nc), (np.zeros(self.nc, int), np.arange(self.nc))), shape=(1, nv))
        floor = sp.csr_array((self.red.weights, (np.zeros(nd, int), self.nc + np.arange(nd))), shape=(1, nv))
        self.rows = [sp.csr_array(cons.A), card, floor]
        self.lo = [np.asarray(cons.lb, float), np.array([n]), np.array([threshold])]
        self.hi = [np.asarray(cons.ub, float), np.array([n]), np.array([np.inf])]

    def cut(self, cols: np.ndarray) -> None:
        row = sp.csr_array((np.ones(len(cols)), (np.zeros(len(cols), int), cols)), shape=(1, len(self.c)))
        self.rows.append(row)
        self.lo.append(np.array([-np.inf]))
        self.hi.append(np.array([len(cols) - 1.0]))

    def solve(self, time_limit: float, fixed_out: int | None = None) -> tuple[str, float, np.ndarray]:
        """``(status, covered weight, chosen columns)``: status "optimal", "none" (no set
        reaches the threshold) or "time_limit" (weight NaN when HiGHS had no incumbent)."""
        ub = np.ones(len(self.c))
        if fixed_out is not None:
            ub[fixed_out] = 0
        cons = LinearConstraint(sp.vstack(self.rows, format="csr"), np.concatenate(self.lo), np.concatenate(self.hi))
        res = milp(self.c, constraints=cons, integrality=self.integrality, bounds=Bounds(np.zeros(len(self.c)), ub),
                   options={"time_limit": max(time_limit, 1.0), "mip_rel_gap": 1e-7, "disp": False})
        if res.status == 2:
            return "none", float("nan"), np.zeros(0, int)
        if res.x is None:
            return "time_limit", float("nan"), np.zeros(0, int)
        return ("optimal" if res.status == 0 else "time_limit"), -float(res.fun), np.flatnonzero(res.x[:self.nc] > 0.5)


def near_optimal(p: CoveringProblem, solution: CoverageSolution, *, gap: float = 0.01, max_sets: int = 20,
                 names: list[str] | None = None, time_limit: float = 60.0) -> NearOptimal:
    """The sets within ``gap`` of ``solution`` (an optimum of ``p``) and the sites they share
    (see the module docstring).  ``names`` label the candidates in the table; ``time_limit``
    (s) bounds the listing and the shared-site checks each (past it: "at least", and a site
    whose check did not finish is not claimed as shared)."""
    N = len(solution.selected)
    if N == 0 or max_sets <= 0 or p.n_sites is None or p.coverage_target is not None:
        return NearOptimal(gap=gap)
    if int(p.n_sites) > N or int(p.eligible.sum()) <= N:  # fewer sites than asked, or every candidate: one set
        return NearOptimal(gap=gap)
    t0 = time.perf_counter()
    z_star = float(solution.objective)
    threshold = (1.0 - gap) * z_star - 1e-9 * max(z_star, 1.0)
    pool = _pool(p, solution, threshold)
    model = _Model(p.restricted(pool), N, threshold)
    cand = model.red.candidates
    ids = [str(i) for i in p.candidate_ids]
    label = names or ids
    rows: list[dict[str, object]] = []
    capped, stopped_by = False, ""
    star = {int(i) for i in solution.selected}
    while True:
        left = time_limit - (time.perf_counter() - t0)
        status, z, cols = model.solve(left) if left > 0 else ("time_limit", float("nan"), np.zeros(0, int))
        if status == "none":
            break
        if status != "optimal" or len(rows) >= max_sets:
            capped, stopped_by = True, "sets" if status == "optimal" else "time"
            break
        sites = sorted(int(cand[c]) for c in cols)
        rows.append({"set": len(rows) + 1, "covered_weight": z, "gap_to_optimum": 1 - z / z_star if z_star else 0.0,
                     "changed_sites": len(set(sites) - star), "ccpp_ids": "; ".join(ids[i] for i in sites),
                     "names": "; ".join(label[i] for i in sites)})
        model.cut(cols)
    in_all = set.intersection(*[set(str(r["ccpp_ids"]).split("; ")) for r in rows]) if rows else set()
    col_of = {int(c): k for k, c in enumerate(cand)}
    shared = []
    t1 = time.perf_counter()
    proved = _shared_by_bound(p, solution, threshold, deadline=t1 + time_limit)
    base = None
    for i in solution.selected:  # a site missing from a listed set is not shared; the others are checked
        if ids[int(i)] not in in_all:
            continue
        if int(i) in proved:
            shared.append(ids[int(i)])
            continue
        left = time_limit - (time.perf_counter() - t1)
        base = base or _Model(p.restricted(pool), N, threshold)
        if left > 0 and base.solve(left, fixed_out=col_of[int(i)])[0] == "none":
            shared.append(ids[int(i)])
    return NearOptimal(pd.DataFrame(rows), shared, len(rows), capped, stopped_by, gap)
