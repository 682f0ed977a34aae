"""Trade-offs: coverage against equity (epsilon-constraint Pareto front) and what a
suitability weight costs in the objective."""
from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ...access import gini
from ...errors import UserError
from ..highs import START_OPTIONS
from .base import SitingModel
from .constraints import infeasible
from .covering import MaxCovering
from .fixing import site_bounds
from .problem import Plan, SitingData

__all__ = ["ParetoFront", "describe_front", "front_points", "pareto_front", "plot_front", "start_pareto_front",
           "suitability_cost"]

#: relative MIP gaps of the two phases of every point (max coverage, then min people beyond T2):
#: 1e-9 of ~3e4 people is far below the 1e-7 slack phase 2 gives the coverage, so phase 2 always
#: gets the optimal coverage (at 1e-6 a start could be accepted up to 0.03 people below it)
_GAP_COVERAGE, _GAP_BEYOND = 1e-9, 1e-9
#: HiGHS options with a start, phase 1 (the local-search start is 0.1-1 % below the optimum:
#: presolve and the primal heuristics still pay) and phase 2 (phase 1's plan: presolve on, no
#: primal heuristics); measured on the Cajamarca front (issue #19)
_PHASE1_START: dict[str, Any] = {}
_PHASE2_START: dict[str, Any] = {k: v for k, v in START_OPTIONS.items() if k != "presolve"}

_TEXT = {
    "es": {"x": "Personas del grupo objetivo a más de {T2:g} min (después)",
           "y": "Personas del grupo objetivo nuevas dentro de {T:g} min",
           "title": "Cobertura y equidad con {n} sedes (frente de Pareto, método epsilon-restricción)",
           "first": "Máxima cobertura: {cov:,.0f} personas nuevas dentro de {T:g} min; quedan {b:,.0f} a más de "
                    "{T2:g} min.",
           "step": "Paso {k}: {db:,.0f} personas más dentro de {T2:g} min cuestan {dc:,.0f} personas menos dentro "
                   "de {T:g} min ({r:.2f} por persona; {share:.1%} de la cobertura máxima).",
           "free": "Paso {k}: {db:,.0f} personas más dentro de {T2:g} min sin perder cobertura dentro de {T:g} min.",
           "only": "Un solo punto: el plan de máxima cobertura es también el de menos personas a más de {T2:g} min."},
    "en": {"x": "Target population beyond {T2:g} min (after)",
           "y": "Target population newly within {T:g} min",
           "title": "Coverage and equity with {n} sites (Pareto front, epsilon-constraint method)",
           "first": "Maximal coverage: {cov:,.0f} people newly within {T:g} min; {b:,.0f} remain beyond {T2:g} min.",
           "step": "Step {k}: {db:,.0f} more people within {T2:g} min cost {dc:,.0f} fewer people within {T:g} min "
                   "({r:.2f} per person; {share:.1%} of the maximal coverage).",
           "free": "Step {k}: {db:,.0f} more people within {T2:g} min at no loss of coverage within {T:g} min.",
           "only": "A single point: the maximal-coverage plan also leaves the fewest people beyond {T2:g} min."},
}


@dataclass
class ParetoFront:
    """Pareto-optimal plans, from maximal coverage to fewest people beyond ``T2``.

    ``table`` columns: ``point``, ``epsilon`` (limit on people beyond T2 used), ``newly_covered``
    (target weight newly within T), ``beyond`` (weight beyond T2 after), ``coverage_cost``
    (coverage given up against point 0), ``fairness_gain`` (people brought within T2 against
    point 0), ``cost_per_person`` (step ratio), ``gini`` (of the target group's minutes after
    the plan; see ``gini_exact``), ``gini_nondominated``, ``n_sites``, ``sites``, ``status``.
    """

    table: pd.DataFrame
    max_minutes: float
    equity_minutes: float
    n_sites: int | None
    notes: list[str] = field(default_factory=list)


class _Swaps:
    """Swap moves of :func:`_improve` on ``data``: coverage gains within T and T2, feasibility."""

    def __init__(self, data: SitingData, T: float, T2: float):
        self.within_t = MaxCovering(data, max_minutes=T)
        self.within_t2 = MaxCovering(data, max_minutes=T2)
        self.feas = self.within_t.feas


def _improve(model: MaxCovering, sel: Plan, eps: float, swaps: _Swaps) -> list[int]:
    """A better start for ``P(eps)``: best-improvement swaps (one site out, one eligible
    candidate in) from the feasible plan ``sel`` while they add coverage within T, keep the
    people beyond T2 at most ``eps`` and the plan feasible (:class:`.constraints.Feasibility`).
    Ties go to the lowest (site position, candidate) pair, so the start is deterministic."""
    d = model.data
    sel = [int(i) for i in sel]
    beyond = model.beyond(sel)
    while True:
        gain, fewer = swaps.within_t._swap_gains(sel), swaps.within_t2._swap_gains(sel)
        ok = (beyond - fewer <= eps) & (gain > 1e-9)
        ok[:, sel] = False
        ok[:, ~d.eligible] = False
        a, c = np.nonzero(ok)
        order = np.lexsort((c, a, -gain[a, c]))
        move = next(((sel[a[o]], int(c[o])) for o in order if swaps.feas.can_swap(sel, sel[a[o]], int(c[o]))), None)
        if move is None:
            return sel
        sel = [k for k in sel if k != move[0]] + [move[1]]
        beyond = model.beyond(sel)


def _lexicographic(base: MaxCovering, eps: float | None, *, time_limit: float, start: Plan | None = None,
                   swaps: _Swaps | None = None) -> tuple[list[int], float, float, str]:
    """max coverage s.t. beyond <= eps, then min beyond at that coverage.

    ``start``: a plan feasible for ``eps`` (people beyond T2 <= eps), the first incumbent of
    phase 1 (improved by :func:`_improve` with ``swaps``); phase 2 starts from the plan of
    phase 1 (feasible: its coverage is the bound).  Both MILPs run on the sites that
    :func:`_kept` does not rule out (the same optimal plans)."""
    d = base.data
    m1 = MaxCovering(d, max_minutes=base.T, equity_minutes=base.T2, max_beyond=eps)
    if start is not None and eps is not None and swaps is not None:
        start = _improve(m1, start, eps, swaps)
    bounds = _site_bounds(m1) if d.suitability_weight == 0.0 else None
    p1 = m1
    if start is not None and bounds is not None:  # phase 1: sites that can beat the start
        f_start = -m1.evaluate(start)[1]
        p1 = _kept(m1, bounds, f_start + _tol(f_start), start)
    cand, x0, r1 = p1._milp(time_limit=time_limit, mip_rel_gap=_GAP_COVERAGE, start=start,
                            start_options=_PHASE1_START)
    if r1.x is None:
        raise infeasible(m1.name + " (no plan found within the time limit)")
    sel1 = [int(i) for i in cand[r1.x[x0:x0 + len(cand)] > 0.5]]
    cov = m1.evaluate(sel1)[0]
    floor = cov - 1e-7 * max(1.0, cov)
    p2 = m1 if bounds is None else _kept(m1, bounds, -floor + _tol(cov), sel1)  # phase 2: can reach ``floor``
    cand, x0, res = p2._milp(time_limit=time_limit, mip_rel_gap=_GAP_BEYOND, objective="beyond",
                             min_covered=floor, start=sel1, start_options=_PHASE2_START)
    sel = [int(i) for i in cand[res.x[x0:x0 + len(cand)] > 0.5]] if res.x is not None else sel1
    status = "optimal" if (r1.status == 0 and res.status == 0) else "time_limit"
    return sel, m1.evaluate(sel)[0], m1.beyond(sel), status


def _tol(f: float) -> float:
    """Margin of the fixing test: 1e-6 of the objective, far above the MILPs' gap of 1e-9 and
    far above the rounding of :func:`.fixing.site_bounds`."""
    return 1e-6 * max(1.0, abs(f))


def _site_bounds(m1: MaxCovering) -> tuple[np.ndarray, np.ndarray] | None:
    """``(cand, L)``: for each eligible candidate, a lower bound ``L_i`` on ``-(newly covered)``
    of every plan that opens it and keeps the people beyond T2 within ``m1.max_beyond``
    (:func:`.fixing.site_bounds` on phase 1's LP, suitability weight 0); ``None`` without HiGHS."""
    m, cand, x0, _ = m1._model()
    L = site_bounds(m, x0 + np.arange(len(cand)))
    return None if L is None else (cand, L)


def _kept(m1: MaxCovering, bounds: tuple[np.ndarray, np.ndarray], limit: float, plan: Plan) -> MaxCovering:
    r"""``m1`` on the candidates ``i`` with ``L_i <= limit`` and the sites of ``plan``.

    Exact (:mod:`.fixing`): with ``limit = f + tol`` for the cost ``f = -cov(plan)`` of the
    feasible ``plan`` (phase 1), every plan opening a dropped site covers fewer than
    ``cov(plan) - tol`` people, so it is not within ``tol`` of the optimum, and both the full
    and the reduced MILP return a plan within the gap 1e-9 of the same optimum.  With ``limit =
    -floor + tol`` (phase 2, ``floor`` its least coverage), a plan opening a dropped site covers
    fewer than ``floor`` people: it is not feasible for phase 2 (phase 2's ``(x, y, z)`` meet
    phase 1's rows, so ``L_i`` bounds them too).  The dropped candidates are made not eligible."""
    cand, low = bounds
    keep = np.zeros(m1.data.n_candidates, dtype=bool)
    keep[cand[low <= limit]] = True
    keep[np.asarray(plan, dtype=int)] = True
    d = copy.copy(m1.data)
    d.eligible = m1.data.eligible & keep
    return MaxCovering(d, max_minutes=m1.T, equity_minutes=m1.T2, max_beyond=m1.max_beyond)


def pareto_front(data: SitingData, *, max_minutes: float = 60.0, equity_minutes: float = 120.0, n_points: int = 8,
                 time_limit: float = 60.0, gini_weights: np.ndarray | None = None,
                 run_aside: Any = None) -> ParetoFront:
    r"""Pareto front of (newly covered within T = ``max_minutes``, people beyond T2 =
    ``equity_minutes``) for the limits of ``data`` (N sites, budget, quotas, parents), by the
    **epsilon-constraint method** (Haimes et al. 1971; Chankong & Haimes 1983)::

        P(eps):  maximise f1(x) = newly covered within T   subject to  f2(x) = people beyond T2 <= eps

    each solved lexicographically (then minimise f2 at the optimal f1), so every point is
    Pareto-optimal, including unsupported points a weighted sum would miss.  ``eps`` runs on
    an even grid of ``n_points`` values from ``f2`` at maximal coverage down to ``min f2``;
    equal points are merged.  Exact: two HiGHS MILPs per point.

    The grid is solved from the tightest ``eps`` up, each MILP given a feasible plan as its
    first incumbent (issue #19): ``min f2`` starts from the maximal-coverage plan, ``P(eps_k)``
    from the plan of ``eps_{k+1} < eps_k`` (feasible for every looser ``eps``; the first from
    the ``min f2`` plan), phase 2 from phase 1's plan.  The starts change the time, not the
    optimum; the points are then merged in the order of decreasing ``eps``.  With ``run_aside``
    (a side-process runner, :func:`siting.report.side_tasks.run_aside`) the grid is solved as
    two chains at once (:func:`front_points`, each from the ``min f2`` plan; both solve the
    two ends again): about half the time on two free cores, the same optima.  Only when two
    plans tie in both objectives could the start decide which one is returned (on the
    Cajamarca front no other plan reaches any point's coverage: checked with a no-good cut).
    Each MILP runs on the sites its LP relaxation's Lagrangian bound cannot rule out against the
    start (:mod:`.fixing`, :func:`_kept`; exact: the same optimal plans) and on the pairs within
    T2 (:func:`_within_limit`): the demo's front 7.9 -> 3.7 CPU-s, the same table (issue #19).

    Gini (:func:`siting.access.gini` of the target minutes after each plan, weights
    ``gini_weights``, default the demand weights) is not linear in the plan, so it is not an
    epsilon-constraint objective here: it is reported for every front plan, with
    ``gini_nondominated`` = no other front plan has both more coverage and a lower Gini.
    ``gini_exact`` (note) says whether the cost matrix reaches every place's existing time.
    """
    return start_pareto_front(data, max_minutes=max_minutes, equity_minutes=equity_minutes, n_points=n_points,
                              time_limit=time_limit, gini_weights=gini_weights, run_aside=run_aside)()


_Point = tuple[float | None, list[int], float, float, str]  # (eps, plan, newly covered, beyond T2, status)


def front_points(data: SitingData, *, max_minutes: float, equity_minutes: float, n_points: int, time_limit: float,
                 part: int = 0, parts: int = 1) -> tuple[_Point, list[_Point]]:
    """The maximal-coverage end of the front and the solved grid points of chain ``part`` of
    ``parts`` (:func:`pareto_front`): the grid from the tightest ``eps`` up, cut into ``parts``
    consecutive chains; each chain starts from the ``min f2`` plan.  Returns ``(end, points)``."""
    if n_points < 2:
        raise UserError("n_points must be at least 2 (the two ends of the front)")
    data = _within_limit(data, max(float(max_minutes), float(equity_minutes)))
    base = MaxCovering(data, max_minutes=max_minutes, equity_minutes=equity_minutes)
    sel_a, cov_a, b_a, st_a = _lexicographic(base, None, time_limit=time_limit)
    m_min = MaxCovering(data, max_minutes=max_minutes, equity_minutes=equity_minutes)
    cand, x0, res = m_min._milp(time_limit=time_limit, mip_rel_gap=_GAP_BEYOND, objective="beyond", start=sel_a)
    sel_min = [int(i) for i in cand[res.x[x0:x0 + len(cand)] > 0.5]] if res.x is not None else sel_a
    b_min = m_min.beyond(sel_min) if res.x is not None else b_a
    end: _Point = (None, sel_a, cov_a, b_a, st_a)
    if not b_min < b_a - 1e-6:
        return end, []
    grid = [float(eps) for eps in np.linspace(b_a, b_min, n_points)[1:]][::-1]  # tightest first
    # consecutive chains, the looser ones one point longer when the grid does not divide evenly:
    # near min f2 few plans are feasible and the points solve fastest (Cajamarca: chains of the
    # 5 points split 2 + 3 take 2.9 and 4.3 CPU-s, split 3 + 2 take 5.7 and 3.1)
    chains = [c[::-1] for c in np.array_split(np.arange(len(grid))[::-1], parts)][::-1]
    chain = [grid[int(k)] for k in chains[part]]
    solved: list[_Point] = []
    start, swaps = sel_min, _Swaps(data, float(max_minutes), float(equity_minutes))
    for e in chain:  # each plan is feasible for the next (looser) eps
        sel, cov, b, st = _lexicographic(base, e + 1e-7 * max(1.0, e), time_limit=time_limit, start=start,
                                         swaps=swaps)
        solved.append((e, sel, cov, b, st))
        start = sel
    return end, solved


def _within_limit(data: SitingData, limit: float) -> SitingData:
    """``data`` with only its pairs within ``limit`` minutes (Cajamarca: 160,501 of 1,400,216 pairs
    within 120 min).  Exact for everything :func:`front_points` asks: ``covered_within(S, t)``
    (``min(e_j, min_{i in S} d_ji) <= t`` holds iff ``e_j <= t`` or a pair ``d_ji <= t`` is open),
    :func:`.covering.cover_rows` and the swap gains read only pairs within ``t <= limit``; the
    pairs stay sorted by place, then minutes.  Not for ``minutes_after`` beyond ``limit`` (the
    table's Gini is computed on the full ``data``)."""
    keep = data.pair_min <= limit
    if keep.all():
        return data
    out = copy.copy(data)
    out.pair_place, out.pair_cand, out.pair_min = data.pair_place[keep], data.pair_cand[keep], data.pair_min[keep]
    return out


def start_pareto_front(data: SitingData, *, max_minutes: float = 60.0, equity_minutes: float = 120.0,
                       n_points: int = 8, time_limit: float = 60.0, gini_weights: np.ndarray | None = None,
                       run_aside: Any = None, exact_rows: Callable[[np.ndarray], Any] | None = None,
                       exact_cutoff: float | None = None) -> Callable[[], ParetoFront]:
    """A getter of :func:`pareto_front`: with ``run_aside`` its two chains are already being
    solved in side processes (``run_aside(fn, *args, **kwargs)`` -> a getter of ``fn``'s result).

    ``exact_rows`` / ``exact_cutoff``: for ``data`` whose pairs stop at ``max(T, T2)``
    (:func:`siting.allocation.choice.front_cutoff`), candidate positions -> their
    (candidates x places) minutes within ``exact_cutoff``; the Gini of each plan then comes
    from those rows (:func:`_minutes_after_of`), as from the full matrix."""
    kw: dict[str, Any] = dict(max_minutes=max_minutes, equity_minutes=equity_minutes, n_points=n_points,
                              time_limit=time_limit)
    if n_points < 2:
        raise UserError("n_points must be at least 2 (the two ends of the front)")
    if run_aside is None:
        getters = [lambda: front_points(data, **kw)]
    else:
        getters = [run_aside(front_points, data, **kw, part=k, parts=2) for k in range(2)]

    def get() -> ParetoFront:
        parts = [g() for g in getters]
        end = parts[0][0]
        solved = [p for _, chain in parts for p in chain]  # tightest first
        return _assemble(data, end, solved[::-1], max_minutes=max_minutes, equity_minutes=equity_minutes,
                         gini_weights=gini_weights, exact_rows=exact_rows, exact_cutoff=exact_cutoff)
    return get


def _minutes_after_of(data: SitingData, plans: list[list[int]], exact_rows: Callable[[np.ndarray], Any] | None,
                      cutoff: float) -> Callable[[list[int]], np.ndarray]:
    """``plan -> minutes after it`` for the ``plans`` of the front: ``data.minutes_after``, or
    ``t_j = min(e_j, min_{i in plan, d_ji <= cutoff} d_ji)`` on ``exact_rows`` of the union of
    the plans' sites (one search of those few sites instead of every candidate's)."""
    if exact_rows is None:
        return lambda sel: data.minutes_after(sel)[0]
    union = np.array(sorted({int(i) for sel in plans for i in sel}), dtype=np.int64)
    rows = sp.csr_array(exact_rows(union))
    where = {int(c): k for k, c in enumerate(union)}

    def after(sel: list[int]) -> np.ndarray:
        t = np.asarray(data.existing, float).copy()
        for i in sel:
            lo, hi = rows.indptr[where[int(i)]], rows.indptr[where[int(i)] + 1]
            minutes, places = rows.data[lo:hi], rows.indices[lo:hi]
            keep = np.isfinite(minutes) & (minutes <= cutoff)
            np.minimum.at(t, places[keep], minutes[keep])
        return t
    return after


def _assemble(data: SitingData, end: _Point, looser_first: list[_Point], *, max_minutes: float,
              equity_minutes: float, gini_weights: np.ndarray | None,
              exact_rows: Callable[[np.ndarray], Any] | None = None, exact_cutoff: float | None = None) -> ParetoFront:
    """The front's table from its maximal-coverage end and the grid points, loosest ``eps`` first."""
    points: list[_Point] = [end]
    for e, sel, cov, b, st in looser_first:
        # a point no better in people beyond T2 than one already found is a duplicate or dominated
        # (it can only come out of the MIP tolerance): the front keeps strictly fewer people beyond
        if any(b >= p[3] - 1e-6 * max(1.0, b) for p in points):
            continue
        points.append((e, sel, cov, b, st))
    gw = data.w if gini_weights is None else np.asarray(gini_weights, float)
    cutoff = data.cutoff if exact_rows is None or exact_cutoff is None else float(exact_cutoff)
    after_of = _minutes_after_of(data, [p[1] for p in points], exact_rows, cutoff)
    rows = []
    for k, (eps, sel, cov, b, st) in enumerate(points):
        after = after_of(sel)
        rows.append({"point": k, "epsilon": eps, "newly_covered": cov, "beyond": b, "gini": gini(after, gw),
                     "n_sites": len(sel), "sites": ", ".join(str(data.candidate_ids[i]) for i in sorted(sel)),
                     "selected": sorted(int(i) for i in sel), "status": st})
    t = pd.DataFrame(rows)
    t["coverage_cost"] = t["newly_covered"].iloc[0] - t["newly_covered"]
    t["fairness_gain"] = t["beyond"].iloc[0] - t["beyond"]
    dc, db = -t["newly_covered"].diff(), -t["beyond"].diff()
    t["cost_per_person"] = np.where(db > 0, dc / db.where(db > 0), np.nan)
    cov_v, g_v = t["newly_covered"].to_numpy(), t["gini"].to_numpy()
    t["gini_nondominated"] = [not any((cov_v[o] >= cov_v[i] and g_v[o] <= g_v[i]) and
                                      (cov_v[o] > cov_v[i] or g_v[o] < g_v[i]) for o in range(len(t)))
                              for i in range(len(t))]
    exact = bool(np.all((data.existing <= cutoff) | ~np.isfinite(data.existing)) or np.isinf(cutoff))
    notes = [f"gini_exact = {exact}: " + ("every place's minutes are exact" if exact else
             f"the cost matrix stops at {cutoff:g} min, below some places' existing time; their minutes "
             "after a plan are upper bounds")]
    return ParetoFront(table=t, max_minutes=float(max_minutes), equity_minutes=float(equity_minutes),
                       n_sites=data.n_sites, notes=notes)


def describe_front(front: ParetoFront, *, lang: str = "es") -> list[str]:
    """Sentences saying what each step of fairness costs in coverage."""
    tx = _TEXT["en" if lang == "en" else "es"]
    t = front.table
    T, T2 = front.max_minutes, front.equity_minutes
    out = [tx["first"].format(cov=t["newly_covered"].iloc[0], b=t["beyond"].iloc[0], T=T, T2=T2)]
    if len(t) == 1:
        return out + [tx["only"].format(T2=T2)]
    cov0 = max(float(t["newly_covered"].iloc[0]), 1e-12)
    for k in range(1, len(t)):
        dc = float(t["newly_covered"].iloc[k - 1] - t["newly_covered"].iloc[k])
        db = float(t["beyond"].iloc[k - 1] - t["beyond"].iloc[k])
        if dc <= 1e-9:
            out.append(tx["free"].format(k=k, db=db, T=T, T2=T2))
        else:
            out.append(tx["step"].format(k=k, db=db, dc=dc, r=dc / db if db > 0 else float("nan"),
                                         share=float(t["coverage_cost"].iloc[k]) / cov0, T=T, T2=T2))
    return out


def plot_front(front: ParetoFront, *, ax: Any = None, lang: str = "es"):
    """Matplotlib plot of the front (people beyond T2 on x, newly covered on y); returns the axes."""
    import matplotlib.pyplot as plt
    tx = _TEXT["en" if lang == "en" else "es"]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    t = front.table
    ax.plot(t["beyond"], t["newly_covered"], "-o", color="#1f6f8b")
    for _, r in t.iterrows():
        ax.annotate(str(int(r["point"])), (r["beyond"], r["newly_covered"]), textcoords="offset points",
                    xytext=(4, 4), fontsize=8)
    ax.set_xlabel(tx["x"].format(T2=front.equity_minutes))
    ax.set_ylabel(tx["y"].format(T=front.max_minutes))
    ax.set_title(tx["title"].format(n=front.n_sites if front.n_sites is not None else "N"), fontsize=10)
    ax.grid(alpha=0.3)
    return ax


def suitability_cost(model: SitingModel, lambdas: Sequence[float], *,
                     method: Literal["auto", "exact", "heuristic"] = "exact",
                     time_limit: float = 60.0) -> pd.DataFrame:
    """What a suitability weight ``lambda`` costs: the model solved for every ``lambda``.

    Columns: ``lambda``, ``objective`` (coverage / people x minutes / ...), ``suitability``
    (sum of the opened sites' normalised scores), ``objective_cost`` (objective given up
    against ``lambda = 0``, in the objective's units; >= 0), ``cost_share`` (of the
    ``lambda = 0`` objective), ``sites_changed`` (sites not in the ``lambda = 0`` plan), ``sites``.
    Read it as: raising the suitability of the plan by ``suitability - suitability[0]`` costs
    ``objective_cost`` people (or people x minutes).
    """
    lams = [0.0] + [float(v) for v in lambdas if float(v) != 0.0]
    rows: list[dict[str, Any]] = []
    base_sel: set[int] = set()
    base_obj = 0.0
    for lam in lams:
        m = model.with_data(model.data.with_options(suitability_weight=lam))
        r = m.solve(method, time_limit=time_limit)
        sel = {int(i) for i in r.selected}
        if lam == 0.0:
            base_sel, base_obj = sel, r.objective
        cost = (base_obj - r.objective) if model.sense == "max" else (r.objective - base_obj)
        rows.append({"lambda": lam, "objective": r.objective, "suitability": m.data.suitability_sum(r.selected),
                     "objective_cost": max(cost, 0.0) if abs(cost) > 1e-9 * max(1.0, abs(base_obj)) else 0.0,
                     "cost_share": max(cost, 0.0) / abs(base_obj) if base_obj else 0.0,
                     "sites_changed": len(sel - base_sel),
                     "sites": ", ".join(str(model.data.candidate_ids[i]) for i in sorted(sel))})
    return pd.DataFrame(rows)


def front_with_plans(front: ParetoFront, plans: Mapping[str, Sequence[int]], data: SitingData) -> pd.DataFrame:
    """The front's table plus rows for other plans (e.g. p-median, p-center) on the same axes."""
    T, T2 = front.max_minutes, front.equity_minutes
    m = MaxCovering(data, max_minutes=T, equity_minutes=T2)
    extra = []
    for name, sel in plans.items():
        after, _ = data.minutes_after(sel)
        extra.append({"point": name, "newly_covered": m.evaluate(sel)[0], "beyond": m.beyond(sel),
                      "gini": gini(after, data.w), "n_sites": len(sel),
                      "sites": ", ".join(str(data.candidate_ids[i]) for i in sorted(sel))})
    return pd.concat([front.table.drop(columns=["selected"]), pd.DataFrame(extra)], ignore_index=True)
