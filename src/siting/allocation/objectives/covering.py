"""Covering objectives on the shared data: maximal covering with an equity limit, and
max-min fairness between districts (least people beyond T in the worst district)."""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...errors import UserError
from .base import SitingModel
from .constraints import Milp, add_siting_rows, infeasible, siting_start
from .problem import Plan, SitingData, SitingResult

__all__ = ["MaxCovering", "MaxMinFairness", "cover_rows"]


def cover_rows(m: Milp, d: SitingData, cand: np.ndarray, x0: int, limit: float, *,
               place_mask: np.ndarray | None = None, label: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, int]:
    """Add ``y_j <= sum_{i : d_ji <= limit} x_i`` for the places that can be *newly* covered
    (weight > 0, existing minutes > limit, an eligible candidate within limit, in ``place_mask``).

    Places with the same set of candidates (and the same ``label``, e.g. district) share one
    ``y`` with their weights summed: their ``y`` are interchangeable in every model here.
    Returns the representative place of each ``y``, the summed weights and the first ``y`` index."""
    if limit > d.cutoff + 1e-9:
        raise UserError(f"a coverage limit of {limit:g} min needs a cost matrix computed within at least "
                        f"{limit:g} min; this one stops at {d.cutoff:g}",
                        hint="compute solve.coverage with the larger limit")
    col = np.full(d.n_candidates, -1)
    col[cand] = np.arange(len(cand))
    pp, pc, pm = d.pair_place, d.pair_cand, d.pair_min
    mask = d.eligible[pc] & (pm <= limit) & (d.existing[pp] > limit) & (d.w[pp] > 0)
    if place_mask is not None:
        mask &= place_mask[pp]
    pp, pc = pp[mask], pc[mask]
    order = np.lexsort((pc, pp))
    pp, pc = pp[order], pc[order]
    places, start = np.unique(pp, return_index=True)
    bounds = np.r_[start, len(pp)]
    lab = np.zeros(d.n_places, dtype=np.int64) if label is None else np.asarray(label, dtype=np.int64)
    key_of: dict[bytes, int] = {}
    pcb, size = pc.astype(np.int64).tobytes(), 8  # one bytes object, sliced per place (#19)
    labs = lab[places].tolist()
    group = np.array([key_of.setdefault(labs[k].to_bytes(8, "little", signed=True) + pcb[size * a:size * b],
                                        len(key_of)) for k, (a, b) in enumerate(zip(start.tolist(),
                                                                                   bounds[1:].tolist()))],
                     dtype=np.int64)
    n_y = len(key_of)
    weights = np.bincount(group, weights=d.w[places], minlength=n_y)
    rep = np.full(n_y, -1, dtype=np.int64)
    rep[group[::-1]] = places[::-1]
    first_k = np.full(n_y, -1)
    first_k[group[::-1]] = np.arange(len(places))[::-1]
    y0 = m.add_vars(n_y)
    if n_y:  # group g's row: the candidates of its first place, in order
        lens = bounds[first_k + 1] - bounds[first_k]
        r = np.repeat(np.arange(n_y), lens)
        pos = np.arange(len(r)) - np.repeat(np.cumsum(lens) - lens, lens) + np.repeat(bounds[first_k], lens)
        c = x0 + col[pc[pos]]
        m.add_rows(np.concatenate([r, np.arange(n_y)]), np.concatenate([c, y0 + np.arange(n_y)]),
                   np.concatenate([-np.ones(len(r)), np.ones(n_y)]), -np.inf, 0.0, n_rows=n_y)
    return rep, weights, y0


def beyond_now(d: SitingData, limit: float) -> np.ndarray:
    """Weight of each place that is beyond ``limit`` today (0 for the others)."""
    return np.where(d.existing > limit, d.w, 0.0)


class MaxCovering(SitingModel):
    r"""Maximal covering with existing facilities, the siting limits and an optional equity limit.

    ``y_j`` = place *j* newly within ``max_minutes`` (T) of an open site; ``v_j`` = within
    ``equity_minutes`` (T2, e.g. 120)::

        maximise   sum_j w_j y_j + lambda sum_i s_i x_i
        subject to y_j <= sum_{i : d_ji <= T} x_i,   v_j <= sum_{i : d_ji <= T2} x_i
                   B2 - sum_j w_j v_j <= max_beyond           (people beyond T2, if given)
                   the siting limits on x,  x binary, 0 <= y, v <= 1

    over the places beyond T (resp. T2) today; ``B2`` = weight beyond T2 today.  Only pairs
    within T (T2) enter: a place farther than T from every open site is not covered, whatever
    the farther pairs are; the cost matrix must reach T2.  This is the covering model of
    :class:`siting.allocation.MaximalCovering` (same optimum, tests) with the epsilon
    constraint of the trade-off curve.  Heuristic: greedy + interchange on the coverage
    (without ``max_beyond``), bound: the LP relaxation.

    Model keywords: ``max_minutes`` (required), ``equity_minutes``, ``max_beyond``.
    """

    name = "maximal covering"
    sense = "max"

    def __init__(self, data: SitingData, *, max_minutes: float, equity_minutes: float | None = None,
                 max_beyond: float | None = None):
        super().__init__(data, max_minutes=max_minutes, equity_minutes=equity_minutes, max_beyond=max_beyond)
        if max_beyond is not None and equity_minutes is None:
            raise UserError("max_beyond needs equity_minutes (the threshold it counts people beyond)")
        self.T = float(max_minutes)
        self.T2 = None if equity_minutes is None else float(equity_minutes)
        self.max_beyond = max_beyond

    def n_pairs(self) -> int:
        d = self.data
        return int((d.useful_pairs() & (d.pair_min <= max(self.T, self.T2 or 0.0))).sum())

    def evaluate(self, selected: Plan) -> tuple[float, float]:
        d = self.data
        cov = d.covered_within(selected, self.T)
        obj = float(beyond_now(d, self.T)[cov].sum())
        return obj, obj + d.suitability_weight * d.suitability_sum(selected)

    def beyond(self, selected: Plan, limit: float | None = None) -> float:
        """Weight beyond ``limit`` (default T2) after opening ``selected``."""
        d = self.data
        lim = self.T2 if limit is None else limit
        if lim is None:
            raise UserError("beyond() needs a limit or the model's equity_minutes")
        return float(d.w[~d.covered_within(selected, lim)].sum())

    def _milp(self, *, relax: bool = False, time_limit: float, mip_rel_gap: float,
              min_covered: float | None = None, objective: str = "coverage", start: Plan | None = None,
              start_options: dict[str, Any] | None = None):
        """``objective``: "coverage" (max) or "beyond" (min people beyond T2).  ``start``: a plan
        feasible for this model, given to HiGHS as its first incumbent with ``start_options``
        (:meth:`~.constraints.Milp.solve`)."""
        m, cand, x0, v = self._model(min_covered=min_covered, objective=objective,
                                     start=None if relax else start)
        res = m.solve(time_limit=time_limit, mip_rel_gap=mip_rel_gap, relax=relax, start=v,
                      start_options=start_options)
        if res.status == 2:
            raise infeasible(self.name)
        return cand, x0, res

    def _model(self, *, min_covered: float | None = None, objective: str = "coverage",
               start: Plan | None = None) -> tuple[Milp, np.ndarray, int, np.ndarray | None]:
        """The MILP of :meth:`_milp` (minimisation form), its candidates ``cand`` (``x_{x0+k}``
        = open ``cand[k]``) and the start vector of ``start`` (``None``: none or no parent matching)."""
        d = self.data
        cand = np.flatnonzero(d.eligible)
        m = Milp()
        x0 = m.add_vars(len(cand), integer=True)
        p1, w1, y0 = cover_rows(m, d, cand, x0, self.T)
        blocks = [(p1, y0, self.T)]
        if objective == "coverage":
            m.c[0][:] = -d.suitability_weight * d.s[cand]
            m.c[-1][:] = -w1
        if min_covered is not None and len(p1):
            m.add_rows(np.zeros(len(p1)), y0 + np.arange(len(p1)), w1, min_covered, np.inf, n_rows=1)
        if self.T2 is not None and (self.max_beyond is not None or objective == "beyond"):
            p2, w2, v0 = cover_rows(m, d, cand, x0, self.T2)
            blocks.append((p2, v0, self.T2))
            B2 = float(d.w[d.existing > self.T2].sum())
            if objective == "beyond":
                m.c[-1][:] = -w2
            if self.max_beyond is not None:
                m.add_rows(np.zeros(len(p2)), v0 + np.arange(len(p2)), w2, B2 - self.max_beyond, np.inf, n_rows=1)
        z0 = add_siting_rows(m, d, cand, x0)
        v = None
        if start is not None:
            v = np.zeros(m.n)
            for places, first, limit in blocks:  # y_j = place j (the group's representative) covered
                v[first:first + len(places)] = d.covered_within(start, limit)[places]
            v = v if siting_start(v, d, cand, x0, z0, start) else None
        return m, cand, x0, v

    def exact(self, *, time_limit: float = 60.0, mip_rel_gap: float = 1e-6) -> SitingResult:
        t0 = time.perf_counter()
        cand, x0, res = self._milp(time_limit=time_limit, mip_rel_gap=mip_rel_gap)
        t1 = time.perf_counter()
        if res.x is None:
            raise infeasible(self.name + " (no plan found within the time limit)")
        sel = cand[res.x[x0:x0 + len(cand)] > 0.5]
        obj, score = self.evaluate(sel)
        dual = getattr(res, "mip_dual_bound", None)
        bound = -float(dual) if dual is not None and np.isfinite(dual) else -float(res.fun)
        details: dict[str, Any] = {}
        if self.T2 is not None:
            details["beyond_equity_minutes"] = self.beyond(sel)
        return self.data.result(sel, objective=obj, score=score, bound=bound,
                                status="optimal" if res.status == 0 else "time_limit", solver="exact (HiGHS)",
                                sense=self.sense, timings={"total_s": t1 - t0}, details=details)

    # ------------------------------------------------------------------ heuristic
    def _within(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        d = self.data
        wb = beyond_now(d, self.T)
        m = d.eligible[d.pair_cand] & (d.pair_min <= self.T) & (wb[d.pair_place] > 0)
        return d.pair_place[m], d.pair_cand[m], wb

    def _gains(self, sel: Plan) -> np.ndarray:
        d = self.data
        pp, pc, wb = self._within()
        cov = np.zeros(d.n_places, dtype=bool)
        cov[pp[np.isin(pc, sel)]] = True
        return np.bincount(pc, weights=np.where(cov[pp], 0.0, wb[pp]), minlength=d.n_candidates) \
            + d.suitability_weight * d.s

    def _swap_gains(self, sel: Plan) -> np.ndarray:
        d = self.data
        sel = list(sel)
        pp, pc, wb = self._within()
        is_open = np.isin(pc, sel)
        cnt = np.bincount(pp[is_open], minlength=d.n_places)
        only = np.full(d.n_places, -1)
        pos = np.full(d.n_candidates, -1)
        pos[sel] = np.arange(len(sel))
        one = is_open & (cnt[pp] == 1)
        only[pp[one]] = pos[pc[one]]
        gain = np.bincount(pc, weights=np.where(cnt[pp] == 0, wb[pp], 0.0), minlength=d.n_candidates)
        loss = np.bincount(only[only >= 0], weights=wb[only >= 0], minlength=len(sel))
        r = (cnt[pp] == 1) & ~is_open
        regained = np.bincount(only[pp[r]] * d.n_candidates + pc[r], weights=wb[pp[r]],
                               minlength=len(sel) * d.n_candidates).reshape(len(sel), d.n_candidates)
        lam = d.suitability_weight
        return gain[None, :] - loss[:, None] + regained + lam * (d.s[None, :] - d.s[sel][:, None])

    def heuristic(self) -> SitingResult:
        if self.max_beyond is not None:
            raise UserError("the covering heuristic does not handle max_beyond; use method='exact'")

        def lp_bound(sel, score):
            _, _, res = self._milp(relax=True, time_limit=60.0, mip_rel_gap=1e-6)
            return -float(res.fun) if res.x is not None else np.inf

        return self._timed_heuristic(self._gains, self._swap_gains, lp_bound, "greedy + interchange, LP bound")


class MaxMinFairness(SitingModel):
    r"""Least people beyond T in the worst district (max-min fairness between districts).

    With ``B_g(S)`` = weight of the places of district *g* beyond T after opening S (of those
    beyond T today), and ``a_g = 1`` (``measure="people"``) or ``1 / W_g`` (``"share"``, W_g =
    the district's weight)::

        phase 1:  minimise F  subject to  F >= a_g (B_g - sum_{j in g} w_j y_j)   for every district g
                  y_j <= sum_{i : d_ji <= T} x_i,  the siting limits,  x binary, 0 <= y <= 1
        phase 2:  maximise sum_j w_j y_j + lambda sum_i s_i x_i  subject to the same rows with F <= F*

    (lexicographic: the worst district first, then as many people as possible).  ``floor`` in
    the result is the value with every eligible candidate open: the people of the worst district
    that no candidate reaches within T; when it equals the optimum, no plan can help that
    district and phase 2 decides the plan.  Heuristic: greedy + interchange on (F, people
    beyond T); bound: LP relaxation of phase 1.

    Model keywords: ``place_group`` (district per place, required), ``max_minutes`` (required),
    ``measure`` ("people" | "share").
    """

    name = "max-min fairness"
    sense = "min"

    def __init__(self, data: SitingData, *, place_group: Sequence[Any] | np.ndarray, max_minutes: float,
                 measure: str = "people"):
        super().__init__(data, place_group=place_group, max_minutes=max_minutes, measure=measure)
        labels = np.asarray(place_group, dtype=object).ravel()
        if labels.shape[0] != data.n_places:
            raise UserError(f"place_group has {labels.shape[0]} values, expected {data.n_places} (one per place)")
        if measure not in {"people", "share"}:
            raise UserError(f"measure must be 'people' or 'share', got {measure!r}")
        codes, uniques = pd.factorize(pd.Series(labels.astype(str)), sort=True)
        self.place_code = np.asarray(codes, dtype=int)
        self.district_labels = np.asarray(uniques, dtype=object)
        self.T = float(max_minutes)
        self.measure = measure
        W = np.bincount(self.place_code, weights=data.w, minlength=len(uniques))
        self.scale = np.ones(len(uniques)) if measure == "people" else np.divide(
            1.0, W, out=np.zeros(len(uniques)), where=W > 0)
        self._cover = MaxCovering(data, max_minutes=max_minutes)
        # lexicographic heuristic score F + tiny * (people beyond T): an F change of 0.01 people
        # (1e-6 of a share) outweighs any change in coverage
        self._tiny = (1e-2 if measure == "people" else 1e-6) / max(1.0, float(data.w.sum()))
        pos = data.w[data.w > 0]
        self._min_gain = 0.5 * self._tiny * (float(pos.min()) if pos.size else 1.0) * 1e-3

    def district_beyond(self, selected: Plan) -> np.ndarray:
        """``a_g B_g(S)`` per district."""
        d = self.data
        beyond = np.where(d.covered_within(selected, self.T), 0.0, d.w)
        return np.bincount(self.place_code, weights=beyond, minlength=len(self.district_labels)) * self.scale

    def evaluate(self, selected: Plan) -> tuple[float, float]:
        b = self.district_beyond(selected)
        F = float(b.max()) if b.size else 0.0
        total = float(self.data.w[~self.data.covered_within(selected, self.T)].sum())
        return F, F + self._tiny * total

    def floor(self) -> float:
        return self.evaluate(np.flatnonzero(self.data.eligible))[0]

    def _tol(self, score: float) -> float:
        return self._min_gain

    def _milp(self, *, relax: bool, time_limit: float, mip_rel_gap: float, F_max: float | None = None,
              F_low: float = 0.0):
        """Phase 1 (``F_max`` None: minimise F >= F_low) or phase 2 (max coverage with F <= F_max).

        Phase 1 keeps only the districts that can be the worst: those with ``a_g B_g`` today above
        ``F_low`` (a lower bound on the optimum); the others satisfy their row for every plan."""
        d = self.data
        cand = np.flatnonzero(d.eligible)
        m = Milp()
        x0 = m.add_vars(len(cand), integer=True)
        B = np.bincount(self.place_code, weights=np.where(d.existing > self.T, d.w, 0.0),
                        minlength=len(self.district_labels)) * self.scale
        keep_g = (F_low if F_max is None else F_max) < B
        places, wy, y0 = cover_rows(m, d, cand, x0, self.T, label=self.place_code,
                                    place_mask=keep_g[self.place_code] if F_max is None else None)
        gs = np.flatnonzero(keep_g)
        inrow = keep_g[self.place_code[places]]
        g_of = np.searchsorted(gs, self.place_code[places[inrow]])
        coef = wy[inrow] * self.scale[self.place_code[places[inrow]]]
        k = np.flatnonzero(inrow)
        if F_max is None:
            f0 = m.add_vars(1, cost=1.0, lb=F_low, ub=np.inf)
            m.add_rows(np.concatenate([np.arange(len(gs)), g_of]), np.concatenate([np.full(len(gs), f0), y0 + k]),
                       np.concatenate([np.ones(len(gs)), coef]), B[gs], np.inf, n_rows=len(gs))
        else:
            m.c[0][:] = -d.suitability_weight * d.s[cand]
            m.c[-1][:] = -wy
            if len(gs):
                m.add_rows(g_of, y0 + k, coef, B[gs] - F_max, np.inf, n_rows=len(gs))
        add_siting_rows(m, d, cand, x0)
        res = m.solve(time_limit=time_limit, mip_rel_gap=mip_rel_gap, relax=relax)
        if res.status == 2:
            raise infeasible(self.name)
        return cand, x0, res

    def exact(self, *, time_limit: float = 60.0, mip_rel_gap: float = 1e-6) -> SitingResult:
        t0 = time.perf_counter()
        # a lower bound: the floor (every candidate open) and the LP relaxation
        _, _, lp = self._milp(relax=True, time_limit=time_limit, mip_rel_gap=mip_rel_gap)
        F_low = max(self.floor(), float(lp.fun) if lp.x is not None else 0.0) * (1 - 1e-9)
        cand, x0, res = self._milp(relax=False, time_limit=time_limit, mip_rel_gap=mip_rel_gap, F_low=F_low)
        if res.x is None:
            raise infeasible(self.name + " (no plan found within the time limit)")
        F1 = self.evaluate(cand[res.x[x0:x0 + len(cand)] > 0.5])[0]
        dual = getattr(res, "mip_dual_bound", None)
        bound = float(dual) if dual is not None and np.isfinite(dual) else float(res.fun)
        t1 = time.perf_counter()
        left = max(time_limit - (t1 - t0), 1.0)
        cand, x0, res2 = self._milp(relax=False, time_limit=left, mip_rel_gap=mip_rel_gap,
                                    F_max=F1 * (1 + 1e-9) + 1e-9)
        sel = cand[res2.x[x0:x0 + len(cand)] > 0.5] if res2.x is not None else cand[res.x[x0:x0 + len(cand)] > 0.5]
        F, _ = self.evaluate(sel)
        t2 = time.perf_counter()
        status = "optimal" if res.status == 0 and res2.status == 0 else "time_limit"
        details = self._details(sel)
        return self.data.result(sel, objective=F, score=F, bound=bound, status=status,
                                solver="exact (HiGHS, lexicographic)", sense=self.sense,
                                timings={"phase1_s": t1 - t0, "phase2_s": t2 - t1, "total_s": t2 - t0},
                                details=details)

    def _details(self, sel: Plan) -> dict[str, Any]:
        b = self.district_beyond(sel)
        worst = int(np.argmax(b)) if b.size else -1
        return {"worst_district": self.district_labels[worst] if worst >= 0 else None, "floor": self.floor(),
                "newly_covered": self._cover.evaluate(sel)[0]}

    def _gains(self, sel: Plan) -> np.ndarray:
        """Decrease of ``F + tiny * beyond`` when adding each candidate (dense candidates x districts)."""
        d = self.data
        pp, pc, wb = self._cover._within()
        cov = d.covered_within(sel, self.T)
        keep = ~cov[pp]
        nG = len(self.district_labels)
        A = np.bincount(pc[keep] * nG + self.place_code[pp[keep]], weights=wb[pp[keep]],
                        minlength=d.n_candidates * nG).reshape(d.n_candidates, nG)
        return self._gain_from(sel, A, self.district_beyond(sel), self.evaluate(sel)[1])

    def _gain_from(self, sel, A: np.ndarray, b: np.ndarray, score: float) -> np.ndarray:
        total = float(self.data.w[~self.data.covered_within(sel, self.T)].sum())
        new = b[None, :] - A * self.scale[None, :]
        return score - (new.max(axis=1) + self._tiny * (total - A.sum(axis=1)))

    def _swap_gains(self, sel: Plan) -> np.ndarray:
        d = self.data
        sel = list(sel)
        out = np.full((len(sel), d.n_candidates), -np.inf)
        score = self.evaluate(sel)[1]
        for a, s_out in enumerate(sel):
            rest = [k for k in sel if k != s_out]
            g = self._gains(rest)
            out[a] = g + (score - self.evaluate(rest)[1])
        return out

    def heuristic(self) -> SitingResult:
        def lp_bound(sel, score):
            _, _, res = self._milp(relax=True, time_limit=60.0, mip_rel_gap=1e-6)
            return float(res.fun) if res.x is not None else -np.inf

        res = self._timed_heuristic(self._gains, self._swap_gains, lp_bound, "greedy + interchange, LP bound")
        res.score = res.objective
        res.details.update(self._details(res.selected))
        return res
