"""p-center (minimise the worst travel time) with existing facilities and the siting limits."""
from __future__ import annotations

import time

import numpy as np

from ...errors import UserError
from .base import SitingModel
from .constraints import Milp, add_siting_rows, infeasible
from .pmedian import PMedian
from .problem import Plan, SitingData, SitingResult

__all__ = ["PCenter"]


class PCenter(SitingModel):
    r"""Minimise the worst travel time ``R(S) = max_{j in J} t_j(S)`` over the counted places.

    ``J`` = places with weight ``w_j > 0`` and ``w_j >= min_weight`` (``min_weight`` = the
    smallest target population that counts: a p-center is otherwise decided by the most
    remote hamlet of two people), minus the unreachable ones.  ``t_j(S) = min(b_j, min_{i in S}
    d_ji)`` as in :class:`~siting.allocation.objectives.PMedian`.

    Exact method: **radius search on covering MILPs** (Minieka 1970; Daskin 2013, ch. 5).
    The optimum is one of the values ``V = {b_j} U {d_ji : d_ji < b_j}`` (j in J).  For a radius
    ``r`` the plans with ``R(S) <= r`` are the feasible points of::

        sum_{i : d_ji <= r} x_i >= 1      for every j in J with b_j > r
        the siting limits on x             (siting.allocation.objectives.constraints),  x_i in {0, 1}

    a set-covering feasibility MILP (HiGHS; the greedy cover is tried first and answers
    "feasible" without a MILP when it covers everything).  Feasibility is monotone in ``r``, so
    a binary search over the sorted ``V`` between a lower bound and the heuristic's radius finds
    ``R* = min R(S)`` with O(log |V|) MILPs.  *Cut-off*: no pair beyond the heuristic radius or
    beyond ``b_j`` is ever needed (same argument as the p-median); the result is exact when
    the cost matrix reaches ``min(max_j b_j, R_heuristic)``.

    Lower bound: ``R_0 = max_{j in J} min(b_j, min_{i eligible} d_ji)`` (every candidate open)
    and the smallest ``r`` in ``V`` whose **LP relaxation** of the covering system is feasible
    (binary search on LPs): when the LP at ``r`` is infeasible so is every plan, hence
    ``R* >= `` the next value.  The heuristic (binary search with the greedy cover, then a
    Teitz-Bart interchange on ``R`` with the total time as tie-break) reports this bound.

    Among the plans with ``R(S) = R*``, ``tie_break=True`` (default) returns one of least
    total weighted time ``sum_j w_j t_j - lambda sum s_i`` (a p-median restricted to pairs within
    ``R*`` with every place of ``J`` beyond ``R*`` served): the worst case first, then the mean.
    The score is ``R`` (the suitability weight enters only the tie-break).

    Model keywords: ``min_weight`` (default 0), ``tie_break`` (default True).
    """

    name = "p-center"
    sense = "min"

    def __init__(self, data: SitingData, *, min_weight: float = 0.0, tie_break: bool = True):
        super().__init__(data, min_weight=min_weight, tie_break=tie_break)
        self.min_weight = float(min_weight)
        self.tie_break = bool(tie_break)
        self.counted = (data.w > 0) & (data.w >= self.min_weight) & ~data.unreachable
        self._median = PMedian(data)

    # ------------------------------------------------------------------ values
    def evaluate(self, selected: Plan) -> tuple[float, float]:
        t = self.data.model_minutes(selected)
        R = float(t[self.counted].max()) if self.counted.any() else 0.0
        return R, R

    def radii(self) -> np.ndarray:
        """Sorted candidate values ``V`` of the optimum (class docstring)."""
        d = self.data
        m = d.useful_pairs() & self.counted[d.pair_place]
        return np.unique(np.concatenate([d.base[self.counted], d.pair_min[m]]))

    def floor(self) -> float:
        """``R_0``: the worst time with every eligible candidate open."""
        all_open = np.flatnonzero(self.data.eligible)
        return self.evaluate(all_open)[0]

    def _cover_sets(self, r: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Places that need a new site within ``r`` and the (place, candidate) pairs that serve them."""
        d = self.data
        need = self.counted & (d.base > r)
        m = d.useful_pairs() & need[d.pair_place] & (d.pair_min <= r)
        return np.flatnonzero(need), d.pair_place[m], d.pair_cand[m]

    # ------------------------------------------------------------------ radius tests
    def _greedy_cover(self, r: float) -> list[int] | None:
        need, pp, pc = self._cover_sets(r)
        if not np.isin(need, pp).all():
            return None
        d = self.data
        uncovered = np.zeros(d.n_places, dtype=bool)
        uncovered[need] = True

        def gains(sel: Plan) -> np.ndarray:
            if sel:
                hit = np.isin(pc, sel)
                uncovered[pp[hit]] = False
            return np.bincount(pc, weights=uncovered[pp].astype(float), minlength=d.n_candidates)

        try:
            sel = self._greedy(gains)
        except UserError:  # the limits (e.g. minimums per group) cannot be met along this greedy path
            return None
        return sel if self.evaluate(sel)[0] <= r else None

    def _milp_cover(self, r: float, *, time_limit: float, relax: bool = False) -> tuple[bool | None, list[int]]:
        """(feasible?, plan) of the covering system at ``r``; ``None`` = unknown (time limit)."""
        d = self.data
        need, pp, pc = self._cover_sets(r)
        if not np.isin(need, pp).all():
            return False, []
        cand = np.flatnonzero(d.eligible)
        col = np.full(d.n_candidates, -1)
        col[cand] = np.arange(len(cand))
        m = Milp()
        x0 = m.add_vars(len(cand), integer=True)
        if len(pp):
            _, row = np.unique(pp, return_inverse=True)
            m.add_rows(row, x0 + col[pc], np.ones(len(pp)), 1.0, np.inf, n_rows=int(row.max()) + 1)
        add_siting_rows(m, d, cand, x0)
        res = m.solve(time_limit=time_limit, relax=relax)
        if res.status == 2:
            return False, []
        if res.x is None:
            return None, []
        return True, ([] if relax else list(cand[res.x[x0:x0 + len(cand)] > 0.5]))

    def lp_bound(self, V: np.ndarray, hi: int, *, time_limit: float = 30.0) -> float:
        """Smallest radius in ``V[:hi + 1]`` whose covering LP is feasible (>= R_0)."""
        r0 = self.floor()
        lo = int(np.searchsorted(V, r0 - 1e-9))
        t0 = time.perf_counter()
        while lo < hi and time.perf_counter() - t0 < time_limit:
            mid = (lo + hi) // 2
            ok, _ = self._milp_cover(V[mid], time_limit=time_limit, relax=True)
            if ok is False:
                lo = mid + 1
            else:
                hi = mid
        return float(max(V[lo], r0)) if len(V) else r0

    # ------------------------------------------------------------------ heuristic
    def _search(self, V: np.ndarray, test, lo: int, hi: int, best: list[int]) -> tuple[int, list[int], int]:
        """Binary search of the least feasible index in [lo, hi] (hi known feasible with ``best``)."""
        n_tests = 0
        while lo < hi:
            mid = (lo + hi) // 2
            sel = test(V[mid])
            n_tests += 1
            if sel is None:
                lo = mid + 1
            else:
                hi, best = int(np.searchsorted(V, self.evaluate(sel)[0] - 1e-9)), sel
                hi = min(hi, mid)
        return hi, best, n_tests

    def _heuristic_plan(self) -> tuple[np.ndarray, int, list[int]]:
        V = self.radii()
        if len(V) == 0:
            return V, 0, self._greedy(lambda sel: np.zeros(self.data.n_candidates))
        top = self._greedy_cover(V[-1])
        if top is None:
            top = self._greedy(lambda sel: np.zeros(self.data.n_candidates))
        hi = int(np.searchsorted(V, self.evaluate(top)[0] - 1e-9))
        lo = int(np.searchsorted(V, self.floor() - 1e-9))
        hi, sel, _ = self._search(V, self._greedy_cover, min(lo, hi), hi, top)
        sel, _ = self._interchange(list(sel), self._swap_gains)
        return V, int(np.searchsorted(V, self.evaluate(sel)[0] - 1e-9)), list(sel)

    def _swap_gains(self, sel: Plan) -> np.ndarray:
        """Exact decrease of ``R + tiny * total time`` for every exchange (dense evaluation on the
        few places that decide ``R``: the swap must improve the current worst places)."""
        d = self.data
        sel = list(sel)
        t = d.model_minutes(sel)
        R = t[self.counted].max() if self.counted.any() else 0.0
        worst = self.counted & (t >= R - 1e-9)
        out = np.full((len(sel), d.n_candidates), -np.inf)
        # a candidate can only help if it serves every worst place faster than R (after the swap)
        m = d.useful_pairs() & worst[d.pair_place] & (d.pair_min < R)
        helps = np.bincount(d.pair_cand[m], minlength=d.n_candidates) >= worst.sum()
        for c in np.flatnonzero(helps & d.eligible):
            for a, s_out in enumerate(sel):
                if c in sel:
                    continue
                trial = [k for k in sel if k != s_out] + [int(c)]
                out[a, c] = R - self.evaluate(trial)[0]
        return out

    def heuristic(self) -> SitingResult:
        t0 = time.perf_counter()
        V, hi, sel = self._heuristic_plan()
        t1 = time.perf_counter()
        bound = self.lp_bound(V, hi) if len(V) else self.floor()
        R, _ = self.evaluate(sel)
        t2 = time.perf_counter()
        return self.data.result(sel, objective=R, score=R, bound=bound, status="heuristic",
                                solver="greedy cover + radius search + interchange, LP bound", sense=self.sense,
                                timings={"heuristic_s": t1 - t0, "bound_s": t2 - t1, "total_s": t2 - t0},
                                details={"radius": R, "lower_bound": bound, "candidate_radii": int(len(V))})

    # ------------------------------------------------------------------ exact
    def exact(self, *, time_limit: float = 60.0, mip_rel_gap: float = 1e-6) -> SitingResult:
        t0 = time.perf_counter()
        V, hi, sel = self._heuristic_plan()
        t1 = time.perf_counter()
        lo = int(np.searchsorted(V, self.floor() - 1e-9)) if len(V) else 0
        n_milp, proven_lo, status = 0, lo, "optimal"
        while lo < hi:
            left = time_limit - (time.perf_counter() - t0)
            if left <= 0:
                status = "time_limit"
                break
            mid = (lo + hi) // 2
            quick = self._greedy_cover(V[mid])
            ok, plan = (True, quick) if quick is not None else self._milp_cover(V[mid], time_limit=left)
            n_milp += quick is None
            if ok is None:
                status = "time_limit"
                break
            if ok:
                hi, sel = min(mid, int(np.searchsorted(V, self.evaluate(plan)[0] - 1e-9))), plan
            else:
                lo = proven_lo = mid + 1
        t2 = time.perf_counter()
        R, _ = self.evaluate(sel)
        bound = R if status == "optimal" or not len(V) else float(max(V[proven_lo], self.floor()))
        details: dict[str, object] = {"radius": R, "lower_bound": bound, "candidate_radii": int(len(V)),
                                      "covering_milps": n_milp}
        if self.tie_break and status == "optimal":
            left = max(time_limit - (time.perf_counter() - t0), 1.0)
            tb = self._median.exact(time_limit=left, radius=R, required=self.counted)
            if tb.status == "optimal" and self.evaluate(tb.selected)[0] <= R + 1e-9:
                sel = list(tb.selected)
                details.update(tie_break="least total time at the optimal radius", total_minutes=tb.objective)
        t3 = time.perf_counter()
        if len(sel) == 0 and not self.feas.feasible(sel):
            raise infeasible(self.name)
        return self.data.result(sel, objective=R, score=R, bound=bound, status=status,
                                solver="exact (radius search, HiGHS covering MILPs)", sense=self.sense,
                                timings={"heuristic_s": t1 - t0, "search_s": t2 - t1, "tie_break_s": t3 - t2,
                                         "total_s": t3 - t0}, details=details)
