"""p-median with existing facilities kept open and the siting limits."""
from __future__ import annotations

import time

import numpy as np

from .base import SitingModel
from .constraints import Milp, add_siting_rows, infeasible
from .problem import Plan, SitingResult

__all__ = ["PMedian"]


class PMedian(SitingModel):
    r"""Minimise the population-weighted travel time, existing facilities kept open.

    With ``t_j(S) = min(b_j, min_{i in S} d_ji)`` (``b_j`` = minutes to the existing
    facilities, ``P`` for a place without one; see :mod:`siting.allocation.objectives.problem`)::

        minimise  F(S) = sum_j w_j t_j(S) - lambda sum_{i in S} s_i

    Exact MILP (**savings form**, sparse assignment variables).  Let ``u_ji = w_j (b_j - d_ji)``
    be the minutes a place saves by using site *i* instead of its existing facility, and keep
    only the pairs ``Q = {(j, i): d_ji < b_j, w_j > 0, i eligible}``::

        minimise   K - sum_{(j,i) in Q} u_ji z_ji - lambda sum_i s_i x_i,     K = sum_j w_j b_j
        subject to z_ji <= x_i                              for (j, i) in Q
                   sum_{i : (j,i) in Q} z_ji <= 1           for every place j
                   the siting limits on x (siting.allocation.objectives.constraints)
                   x_i in {0, 1},  0 <= z_ji <= 1

    *Why the cut-off is safe.*  For fixed ``x`` the inner problem assigns each place to its
    largest saving among open sites, i.e. to ``min(b_j, min_{i open} d_ji)``: the z-rows of a
    place are a simplex and the best vertex is integral, so ``z`` may be continuous.  A pair
    with ``d_ji >= b_j`` has saving ``<= 0`` and is never used by an optimal ``z``, so leaving it
    out changes no ``F(S)``: the model needs the minutes only below each place's existing time.
    A place with no existing facility has ``b_j = P >= `` every stored minute, so all its pairs
    stay.  ``sum_i z_ji <= 1`` (instead of ``= 1`` with an extra "existing" variable) is the
    same model with the existing facility's variable eliminated.  Against spopt's
    ``PMedian``: its cost matrix with one extra column of ``b_j`` (the existing facilities,
    predefined open) and ``p = N + 1`` has the same optimum (tests).

    Heuristic: greedy (largest saving per site, per unit cost with a budget) and fast
    interchange (Teitz & Bart 1968, with Whitaker's best/second-best bookkeeping: one pass
    over the pairs evaluates every exchange).  Bound: Lagrangian relaxation of the place rows
    ``sum_i z_ji <= 1`` with multipliers ``mu_j >= 0``::

        L(mu) = sum_j mu_j + max_{S relaxed} sum_{i in S} (lambda s_i + sum_j max(0, u_ji - mu_j)) >= K - OPT

    where "relaxed" keeps N, the max per group and the budget (fractional knapsack) but
    drops the minimums and parents; ``mu`` by subgradient steps (Polyak step towards the
    heuristic value), started at the heuristic's savings so ``L`` starts at the classical
    greedy bound ``f(S) + sum of the N best marginal savings``.

    Model keywords: none beyond the shared ones.
    """

    name = "p-median"
    sense = "min"

    # ------------------------------------------------------------------ pieces
    def _pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        d = self.data
        m = d.useful_pairs() & (d.w[d.pair_place] > 0)
        pp, pc, pm = d.pair_place[m], d.pair_cand[m], d.pair_min[m]
        return pp, pc, pm, d.w[pp] * (d.base[pp] - pm)

    def constant(self) -> float:
        d = self.data
        keep = ~d.unreachable
        return float((d.w[keep] * d.base[keep]).sum())

    def evaluate(self, selected: Plan) -> tuple[float, float]:
        d = self.data
        t = d.model_minutes(selected)
        keep = ~d.unreachable
        obj = float((d.w[keep] * t[keep]).sum())
        return obj, obj - d.suitability_weight * d.suitability_sum(selected)

    # ------------------------------------------------------------------ exact
    def exact(self, *, time_limit: float = 60.0, mip_rel_gap: float = 1e-6, radius: float | None = None,
              required: np.ndarray | None = None) -> SitingResult:
        """Exact MILP (class docstring).  With ``radius`` only pairs within it are used and every
        place in the mask ``required`` with ``b_j > radius`` must be served by a new site within
        it (the p-center tie-break: least total time among the plans of worst time <= radius)."""
        t0 = time.perf_counter()
        d = self.data
        pp, pc, pm, u = self._pairs()
        need = np.zeros(0, dtype=np.int64)
        if radius is not None:
            keep = pm <= radius
            pp, pc, pm, u = pp[keep], pc[keep], pm[keep], u[keep]
            req = np.zeros(d.n_places, dtype=bool) if required is None else np.asarray(required, bool)
            need = np.flatnonzero(req & (d.base > radius) & ~d.unreachable)
            if not np.isin(need, pp).all():
                raise infeasible(self.name)
        cand = np.flatnonzero(d.eligible)
        col = np.full(d.n_candidates, -1)
        col[cand] = np.arange(len(cand))
        m = Milp()
        x0 = m.add_vars(len(cand), cost=-d.suitability_weight * d.s[cand], integer=True)
        z0 = m.add_vars(len(pp), cost=-u)
        k = np.arange(len(pp))
        if len(pp):
            m.add_rows(np.concatenate([k, k]), np.concatenate([z0 + k, x0 + col[pc]]),
                       np.concatenate([np.ones(len(pp)), -np.ones(len(pp))]), -np.inf, 0.0, n_rows=len(pp))
            places, prow = np.unique(pp, return_inverse=True)
            lo = np.where(np.isin(places, need), 1.0, -np.inf)
            m.add_rows(prow, z0 + k, np.ones(len(pp)), lo, 1.0, n_rows=len(places))
        add_siting_rows(m, d, cand, x0)
        t1 = time.perf_counter()
        res = m.solve(time_limit=time_limit - (t1 - t0), mip_rel_gap=mip_rel_gap)
        t2 = time.perf_counter()
        if res.status == 2:
            raise infeasible(self.name)
        K = self.constant()
        if res.x is None:  # time limit without incumbent
            if radius is not None:
                raise infeasible(self.name + " (no plan found within the time limit)")
            heur = self.heuristic()
            heur.status, heur.solver = "time_limit", "exact (HiGHS, no incumbent) -> heuristic"
            return heur
        sel = cand[res.x[x0:x0 + len(cand)] > 0.5]
        obj, score = self.evaluate(sel)
        dual = getattr(res, "mip_dual_bound", None)
        bound = K + float(dual) if dual is not None and np.isfinite(dual) else K + float(res.fun)
        status = "optimal" if res.status == 0 else "time_limit"
        return d.result(sel, objective=obj, score=score, bound=bound, status=status, solver="exact (HiGHS)",
                        sense=self.sense, timings={"build_s": t1 - t0, "solve_s": t2 - t1,
                                                   "total_s": time.perf_counter() - t0},
                        details={"pairs": int(len(pp)), "candidates": int(len(cand)), "constant": K})

    # ------------------------------------------------------------------ heuristic
    def _state(self, sel: Plan):
        """Per place: best time ``t1``, its site (-1 = existing / none) and second best ``t2``."""
        d = self.data
        t1 = d.base.copy()
        t2 = d.base.copy()
        best = np.full(d.n_places, -1)
        m = d.open_mask(sel)[d.pair_cand]
        pp, pc, pm = d.pair_place[m], d.pair_cand[m], d.pair_min[m]  # still sorted by (place, minutes)
        if len(pp):
            first = np.flatnonzero(np.r_[True, pp[1:] != pp[:-1]])
            fp = pp[first]
            better = pm[first] < d.base[fp]
            t1[fp[better]] = pm[first][better]
            best[fp[better]] = pc[first][better]
            second = first + 1
            has2 = (second < len(pp))
            has2[has2] &= pp[second[has2]] == fp[has2]
            sec_min = np.full(len(first), np.inf)
            sec_min[has2] = pm[second[has2]]
            t2[fp] = np.minimum(d.base[fp], sec_min)
        return t1, best, t2

    def _gains(self, sel: Plan) -> np.ndarray:
        d = self.data
        t1, _, _ = self._state(sel)
        r = np.maximum(t1[d.pair_place] - d.pair_min, 0.0) * d.w[d.pair_place]
        return np.bincount(d.pair_cand, weights=r, minlength=d.n_candidates) + d.suitability_weight * d.s

    def _swap_gains(self, sel: Plan) -> np.ndarray:
        """``G[a, c]``: decrease of F when open site ``sel[a]`` is exchanged for candidate c."""
        d = self.data
        sel = list(sel)
        t1, best, t2 = self._state(sel)
        w = d.w
        pp, pc, pm = d.pair_place, d.pair_cand, d.pair_min
        gain = np.bincount(pc, weights=w[pp] * np.maximum(t1[pp] - pm, 0.0), minlength=d.n_candidates)
        pos = np.full(d.n_candidates, -1)
        pos[sel] = np.arange(len(sel))
        served = best >= 0
        loss = np.bincount(pos[best[served]], weights=(w * (t2 - t1))[served], minlength=len(sel))
        m = served[pp] & (pm < t2[pp])
        extra = w[pp[m]] * (np.maximum(t1[pp[m]] - pm[m], 0.0) - np.maximum(t2[pp[m]] - pm[m], 0.0))
        X = np.bincount(pos[best[pp[m]]] * d.n_candidates + pc[m], weights=extra,
                        minlength=len(sel) * d.n_candidates).reshape(len(sel), d.n_candidates)
        lam = d.suitability_weight
        return gain[None, :] - loss[:, None] - X + lam * (d.s[None, :] - d.s[sel][:, None])

    def lagrangian_bound(self, selected: Plan, *, iterations: int = 300) -> float:
        """Lower bound on F (class docstring), never above the value of ``selected``."""
        d = self.data
        pp, pc, _pm, u = self._pairs()
        K = self.constant()
        t_h = d.model_minutes(selected)
        best_savings = K - self.evaluate(selected)[1]  # includes lambda * s
        mu = np.zeros(d.n_places)
        mu[~d.unreachable] = (d.w * (d.base - t_h))[~d.unreachable]
        lam_s = d.suitability_weight * d.s
        best_L, theta, stall = np.inf, 2.0, 0
        for _ in range(iterations):
            r = u - mu[pp]
            pos = r > 0
            rho = np.bincount(pc[pos], weights=r[pos], minlength=d.n_candidates) + lam_s
            x = self._inner(rho)
            L = float(mu.sum() + (rho * x).sum())
            if best_L - 1e-9 * max(1.0, abs(L)) > L:
                best_L, stall = L, 0
            else:
                stall += 1
                if stall >= 15:
                    theta, stall = theta / 2, 0
            if theta < 1e-4 or best_L - best_savings <= 1e-9 * max(1.0, best_savings):
                break
            g = 1.0 - np.bincount(pp[pos], weights=x[pc[pos]], minlength=d.n_places)
            g[(mu <= 0) & (g > 0)] = 0.0  # projected: mu stays >= 0
            norm = float((g * g).sum())
            if norm == 0:
                break
            mu = np.maximum(mu - theta * (L - best_savings) / norm * g, 0.0)
        return K - best_L

    def _inner(self, rho: np.ndarray) -> np.ndarray:
        """Fractional x maximising ``rho x`` over N, the max per group and the budget (knapsack)."""
        d = self.data
        val = np.where(d.eligible, np.maximum(rho, 0.0), 0.0)
        x_card = np.zeros(d.n_candidates)
        if np.isfinite(d.max_sites):
            counts = np.zeros(len(d.group_labels))
            taken = 0
            for i in np.argsort(-val, kind="stable"):
                if taken >= d.max_sites or val[i] <= 0:
                    break
                if counts[d.group[i]] < d.group_max[d.group[i]]:
                    x_card[i] = 1.0
                    counts[d.group[i]] += 1
                    taken += 1
        if d.budget is None:
            return x_card
        ratio = val / np.where(d.cost > 0, d.cost, 1e-12)
        x_bud = np.zeros(d.n_candidates)
        left = d.budget
        for i in np.argsort(-ratio, kind="stable"):
            if val[i] <= 0:
                break
            take = 1.0 if d.cost[i] <= left else (left / d.cost[i] if d.cost[i] > 0 else 1.0)
            x_bud[i] = take
            left -= take * d.cost[i]
            if left <= 0:
                break
        if not np.isfinite(d.max_sites):
            return x_bud
        return x_card if (val * x_card).sum() <= (val * x_bud).sum() else x_bud

    def heuristic(self) -> SitingResult:
        return self._timed_heuristic(self._gains, self._swap_gains,
                                     lambda sel, score: self.lagrangian_bound(sel),
                                     "greedy + interchange, Lagrangian bound")

