"""Near-optimal alternatives of the maximal-covering optimum (issue #14 item 6).

**Method: the k best sets, certified by no-good cuts on the exact HiGHS model**, not one-swap
enumeration: a set within 1 % of the optimum may differ from it in two or more sites.  With
``S*`` the optimum (``|S*| = N``), ``Z*`` its covered weight and ``g`` =
``allocation.near_optimal_gap``, the sets ``S`` with ``Z(S) >= (1 - g) Z*`` and ``|S| = N`` are
found in two steps (issue #19):

1. every feasible set within one or two swaps of ``S*`` that reaches the threshold is weighed
   exactly (:func:`siting.allocation.swaps.sets_within_swaps`, no MILP);
2. with ``K`` the best ``near_optimal_max_sets + 1`` sets known so far (all of them when there
   are fewer) and ``f`` the weight of the last of ``K`` (``(1 - g) Z*`` when ``K`` has fewer),
   one MILP asks for the best set that is not in ``K``::

       max  sum_j w_j y_j   s.t. the model of MaximalCovering,  sum_i x_i = N,
            sum_{i in S} x_i <= N - 1   for every S in K              (no-good cuts)

   with ``f`` (strictly above it when K is full) as HiGHS' objective bound.  A best below
   ``f`` (or "none") proves that every set above ``f`` is known; a set above it joins the known
   ones and the MILP runs again.  So the sets are those the MILP-only listing returns (sets of
   equal weight in the order of their sorted site indices), with one or two MILPs instead of
   one per set (15 x faster on the shipped scenario, ``scripts/benchmark_near_optimal.py``).

The listing stops at ``near_optimal_max_sets`` sets ("at least").  **Shared sites** are exact
whatever the cap: site ``i`` of ``S*`` is in every near-optimal set iff the model with
``x_i = 0`` has optimum below ``(1 - g) Z*``; when the listing is complete they are the sites
every listed set has, otherwise a known set without ``i`` disproves it, the Lagrangian bound
with ``x_i = 0`` at the LP-optimal multipliers proves it (column generation, issue #19), and a
MILP decides the rest.

**Pool** (exact): the Lagrangian bound of :func:`siting.allocation.pricing.lagrangian`,
``UB_i = L - r_(N) + r_i``, is valid for any multipliers; a candidate with
``UB_i < (1 - g) Z*`` is in no near-optimal set, so the MILPs run on the others.
Candidates are never removed by dominance here (a dominated site makes a different set);
places with the same covering sites are merged (their ``y`` are interchangeable).  The
listing and the shared-site checks each stop at ``allocation.time_limit_s``: a listing cut
short says "at least", and a site whose check did not finish is not claimed as shared.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import highs
from .milp import build_model
from .pricing import _column_generation, _initial_pool, lagrangian
from .problem import CoveringProblem
from .reduce import dominance_allowed, reduce
from .results import CoverageSolution, ReducedProblem
from .swaps import sets_within_swaps

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
    """The MILP of the pool with ``sum x = N``, no-good cuts added one by one."""

    def __init__(self, p: CoveringProblem, n: int):
        self.red = reduce(p) if not dominance_allowed(p) else _without_dominance(p)  # no site dropped
        self.c, cons, self.integrality, self.nc = build_model(p, self.red)
        self.c[:self.nc] = 0.0  # covered weight only: the eps tie-break does not make a different plan
        self.col_of = {int(k): c for c, k in enumerate(self.red.candidates)}
        card = sp.csr_array((np.ones(self.nc), (np.zeros(self.nc, int), np.arange(self.nc))), shape=(1, len(self.c)))
        self.rows = [sp.csr_array(cons.A), card]
        self.lo = [np.asarray(cons.lb, float), np.array([n])]
        self.hi = [np.asarray(cons.ub, float), np.array([n])]

    def cut(self, sites: tuple[int, ...]) -> None:
        """No-good cut: not every site of ``sites`` (candidate indices of the problem) at once."""
        cols = np.array([self.col_of[i] for i in sites])
        row = sp.csr_array((np.ones(len(cols)), (np.zeros(len(cols), int), cols)), shape=(1, len(self.c)))
        self.rows.append(row)
        self.lo.append(np.array([-np.inf]))
        self.hi.append(np.array([len(cols) - 1.0]))

    def solve(self, time_limit: float, *, floor: float, fixed_out: int | None = None) -> tuple[str, tuple[int, ...]]:
        """``(status, chosen candidates)`` of the best set the cuts allow: status "optimal",
        "none" (no set covers ``floor``) or "time_limit" (no sites when HiGHS had no incumbent).

        ``floor`` is HiGHS' ``objective_bound``: nodes that cannot reach it are pruned, which
        proves "none" several times faster than a row ``sum w y >= floor`` (3.3 and 11 s against
        1.8 s on the shipped certificate, issue #19); a set below it may still come back, and
        the caller weighs every set it gets."""
        ub = np.ones(len(self.c))
        if fixed_out is not None:
            ub[self.col_of[fixed_out]] = 0
        res = highs.solve_milp(self.c, sp.vstack(self.rows, format="csr"), np.concatenate(self.lo),
                               np.concatenate(self.hi), integrality=self.integrality, ub=ub,
                               options={"time_limit": max(time_limit, 1.0), "mip_rel_gap": 1e-7,
                                        "presolve": False, "objective_bound": -float(floor)})
        if res.status == 2:
            return "none", ()
        if res.x is None:
            return "time_limit", ()
        sites = tuple(sorted(int(self.red.candidates[c]) for c in np.flatnonzero(res.x[:self.nc] > 0.5)))
        return ("optimal" if res.status == 0 else "time_limit"), sites


def _listing(p: CoveringProblem, star: list[int], threshold: float, *, max_sets: int, time_limit: float
             ) -> tuple[list[tuple[tuple[int, ...], float]], list[tuple[int, ...]], bool, str]:
    """``(sets in order, every set known, complete, stopped_by)``: the best ``max_sets`` sets
    (or every set when fewer reach ``threshold``), by step 1 and the certifying MILPs of the
    module docstring, and every set found that reaches ``threshold`` (the listed ones and
    more); ``complete`` is False when a MILP stopped at the time limit."""
    t0 = time.perf_counter()
    known = sets_within_swaps(p, star, threshold, max_swaps=2)
    model = _Model(p, len(star))
    cut: set[tuple[int, ...]] = set()
    tie = 1e-9 * max(threshold, 1.0)
    while True:
        ranked = sorted(known.items(), key=lambda kv: (-kv[1], kv[0]))
        best = ranked[:max_sets + 1]
        for sites, _ in best:
            if sites not in cut:
                model.cut(sites)
                cut.add(sites)
        floor = best[-1][1] + tie if len(best) > max_sets else threshold
        left = time_limit - (time.perf_counter() - t0)
        status, sites = model.solve(left, floor=floor) if left > 0 else ("time_limit", ())
        z = p.covered_weight(sites) if sites else -np.inf
        if status == "none" or (status == "optimal" and z < floor):
            return ranked[:max_sets], list(known), True, "sets" if len(ranked) > max_sets else ""
        if status != "optimal":
            return ranked[:max_sets], list(known), False, "time"
        model.cut(sites)  # never returned twice: the loop ends
        cut.add(sites)
        known[sites] = z


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
    z_star = float(solution.objective)
    threshold = (1.0 - gap) * z_star - 1e-9 * max(z_star, 1.0)
    star = sorted(int(i) for i in solution.selected)
    q = p.restricted(_pool(p, solution, threshold))
    found, known, complete, stopped_by = _listing(q, star, threshold, max_sets=max_sets, time_limit=time_limit)
    ids = [str(i) for i in p.candidate_ids]
    label = names or ids
    rows = [{"set": k, "covered_weight": z, "gap_to_optimum": 1 - z / z_star if z_star else 0.0,
             "changed_sites": len(set(sites) - set(star)), "ccpp_ids": "; ".join(ids[i] for i in sites),
             "names": "; ".join(label[i] for i in sites)} for k, (sites, z) in enumerate(found, start=1)]
    capped = bool(stopped_by)
    shared = _shared(q, solution, threshold, known, every_set_listed=complete and not capped,
                     time_limit=time_limit)
    return NearOptimal(pd.DataFrame(rows), [ids[i] for i in shared], len(rows), capped, stopped_by, gap)


def _shared(p: CoveringProblem, solution: CoverageSolution, threshold: float,
            known: list[tuple[int, ...]], *, every_set_listed: bool, time_limit: float) -> list[int]:
    """Sites of the optimum in every set within the gap, in the optimum's order (see the module
    docstring); ``known``: sets within the gap (every one when ``every_set_listed``)."""
    in_all = set.intersection(*[set(s) for s in known]) if known else set()
    candidates = [int(i) for i in solution.selected if int(i) in in_all]
    if every_set_listed:
        return candidates
    t1 = time.perf_counter()
    proved = _shared_by_bound(p, solution, threshold, deadline=t1 + time_limit)
    base: _Model | None = None
    out = []
    for i in candidates:
        if i in proved:
            out.append(i)
            continue
        left = time_limit - (time.perf_counter() - t1)
        base = base or _Model(p, len(solution.selected))
        status, sites = base.solve(left, floor=threshold, fixed_out=i) if left > 0 else ("time_limit", ())
        if status == "none" or (status == "optimal" and p.covered_weight(sites) < threshold):
            out.append(i)
    return out
