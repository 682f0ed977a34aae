"""Which objective chooses the sites: the scenario's ``allocation.objective`` on the stage inputs.

``allocation.objective`` is one of :data:`OBJECTIVES`:

* ``"mclp"`` — maximal covering (:class:`~siting.allocation.MaximalCovering`, the default and
  the historical path: its outputs are unchanged);
* ``"pmedian"`` — least population-weighted minutes of the target group
  (:class:`~siting.allocation.objectives.PMedian`, existing facilities kept open);
* ``"pcenter"`` — least worst minutes (:class:`~siting.allocation.objectives.PCenter`);
* ``"fair"`` — least people beyond ``allocation.max_minutes`` in the worst district, then as
  many people covered as possible (:class:`~siting.allocation.objectives.MaxMinFairness`).

Every objective sees the **same demand** ``w_j`` (:func:`siting.allocation.stage.demand_weights`:
weights by sex, poverty and petitions) and the **same limits** as the covering model: N sites,
budget, minimum / maximum per UGEL or province, and a parent CETPRO within teacher time and
with capacity.  Site suitability ``s_i`` (the score, min-max normalised to [0, 1]) enters every
objective as ``lambda * sum_{i open} s_i`` with ``lambda = allocation.suitability_weight``
(in the objective's units per site at score 1: people for mclp and fair, people x minutes
for pmedian; pcenter uses it only among plans of the same worst time).  ``lambda = 0`` keeps
the covering model's tie-break ``1e-6 x`` the smallest demand.

The minute-based objectives need the minutes of every candidate-place pair below each
place's existing time (the cut-off argument of :mod:`siting.allocation.objectives.problem`):
:func:`cost_matrix` computes them from the graph within ``C = max(ceil(max_j e_j), T2)``,
which makes every objective and measure exact.  Maximal covering needs them only for its
coverage-equity front, whose MILPs read the pairs within ``max(T, T2)`` and whose Gini needs
the exact minutes of the few sites of its plans: with every place reaching an existing
facility, the matrix is searched within ``max(T, T2)`` only (:func:`front_cutoff`; Cajamarca:
1.17 x 120 instead of 1.17 x 367 minutes each way, a tenth of the searching) and
:attr:`Costs.rows` gives those sites' pairs within ``C`` (issue #19).  Without a graph only
the score stage's reach (within ``allocation.max_minutes``) is available; minutes beyond it
are then the existing-facility time, an upper bound, and the notes say so.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..access import AccessResult, round_minutes
from ..errors import UserError
from ..network.cost_cache import cached_directed_coverage
from ..network.solve import RunAside
from ..scenario import Scenario
from ..suitability import ScoreResult
from ..suitability.stage import ROUNDING_MARGIN
from .objectives import MaxMinFairness, PCenter, PMedian, SitingData, SitingResult
from .objectives.base import SitingModel
from .problem import CoveringProblem
from .results import CoverageSolution

OBJECTIVES = ("mclp", "pmedian", "pcenter", "fair")
#: what each objective measures (es, en)
OBJECTIVE_UNITS = {"mclp": ("personas nuevas dentro del umbral", "people newly within the threshold"),
                   "pmedian": ("personas x minutos", "people x minutes"),
                   "pcenter": ("minutos del peor caso", "worst-case minutes"),
                   "fair": ("personas a más del umbral en el peor distrito",
                            "people beyond the threshold in the worst district")}
OBJECTIVE_NAMES = {"mclp": ("máxima cobertura", "maximal covering"), "pmedian": ("p-mediana", "p-median"),
                   "pcenter": ("p-centro", "p-center"), "fair": ("equidad entre distritos (max-min)",
                                                             "fairness between districts (max-min)")}


@dataclasses.dataclass(frozen=True)
class Costs:
    """Places x candidates minutes within ``cutoff`` and whether they make the minutes exact."""

    matrix: sp.csr_array
    cutoff: float
    exact: bool
    #: ``C`` of :func:`cost_cutoff` when ``matrix`` stops below it (:func:`front_cutoff`), else None
    full_cutoff: float | None = None
    #: candidate positions -> their (candidates x places) minutes within ``full_cutoff``
    rows: Callable[[np.ndarray], sp.csr_array] | None = None


def cost_cutoff(sc: Scenario, access: AccessResult) -> float:
    """``C = max(ceil(max_j e_j), allocation.equity_minutes, allocation.max_minutes)``: every
    pair that can lower a place's time is within ``C`` (module docstring)."""
    e = access.places["minutes_nearest"].to_numpy(float)
    e_max = float(np.ceil(e[np.isfinite(e)].max())) if np.isfinite(e).any() else 0.0
    return max(e_max, sc.allocation.equity_minutes, sc.allocation.max_minutes)


def front_cutoff(sc: Scenario, access: AccessResult) -> float | None:
    """``max(T, T2)`` (``allocation.max_minutes``, ``allocation.equity_minutes``) when the
    objective is maximal covering, every place reaches an existing facility and that is below
    :func:`cost_cutoff`; else ``None`` (the matrix goes to ``C``).

    Maximal covering reads minutes only in its coverage-equity front (the objective uses the
    reach): the front's MILPs read the pairs within ``max(T, T2)``
    (:func:`~siting.allocation.objectives.tradeoff._within_limit`), its Gini the exact minutes
    of its plans' sites (:attr:`Costs.rows`).  With every ``e_j`` finite no place is
    unreachable and ``base_j = e_j`` whatever the pairs (``P`` is passed as ``C``), so the
    front's :class:`~siting.allocation.objectives.SitingData` is the one of the full matrix
    restricted to ``max(T, T2)``: the same table."""
    a = sc.allocation
    e = access.places["minutes_nearest"].to_numpy(float)
    if a.objective != "mclp" or not e.size or not np.isfinite(e).all():
        return None
    limit = float(max(a.max_minutes, a.equity_minutes))
    return limit if limit < cost_cutoff(sc, access) else None


def cost_matrix(sc: Scenario, access: AccessResult, scores: ScoreResult, graph: Any = None, *,
                run_aside: RunAside | None = None) -> Costs:
    """Minutes between every place and every candidate in ``access.direction`` (as the
    reach): from the graph within :func:`cost_cutoff` (exact), or within :func:`front_cutoff`
    with :attr:`Costs.rows` for the pairs beyond; else (no graph) the score stage's reach.
    ``run_aside``: the trip back of a mean direction is searched in a side process (when not cached)."""
    if graph is None:
        return Costs(sp.csr_array(scores.coverage.T), float(sc.allocation.max_minutes), exact=False)
    place_nodes = graph.point_nodes["places"]
    nodes = place_nodes[scores.candidate_place_index]
    C = cost_cutoff(sc, access)

    def search(origins: np.ndarray, limit: float) -> sp.csr_array:  # origins x places, rounded minutes
        # cached in run.cache_dir by a hash of the graph's arrays, the nodes, the limit and the direction (#19)
        m = cached_directed_coverage(graph, origins, place_nodes, limit, direction=sc.access.direction,
                                     cache_dir=sc.run.cache_dir, progress=False, run_aside=run_aside)
        return sp.csr_array((round_minutes(m.data), m.indices, m.indptr), shape=m.shape)  # one rounding rule

    front = front_cutoff(sc, access)
    if front is None:
        return Costs(sp.csr_array(search(nodes, C).T), C, exact=True)

    def rows(candidates: np.ndarray) -> sp.csr_array:
        return search(nodes[np.asarray(candidates, dtype=np.int64)], C)

    # + half the rounding step: every pair that rounds to at most the cut-off is found
    return Costs(sp.csr_array(search(nodes, front + ROUNDING_MARGIN).T), front, exact=True, full_cutoff=C,
                 rows=rows)


def siting_data(sc: Scenario, access: AccessResult, scores: ScoreResult, costs: Costs, weights: np.ndarray, *,
                capacity: np.ndarray, **changes: Any) -> SitingData:
    """The :class:`SitingData` of the scenario: the covering model's limits on ``costs``
    (``capacity`` = extension centres each CETPRO may still open, :func:`~.stage.parent_capacity`)."""
    a = sc.allocation
    if sc.optional("allocation.coverage_target") is not None:
        raise UserError(f"allocation.coverage_target works only with allocation.objective = 'mclp' "
                        f"(got {a.objective!r})", hint="set allocation.coverage_target = 0 or use mclp")
    cand = scores.candidates
    kw: dict[str, Any] = dict(
        existing_minutes=access.places["minutes_nearest"].to_numpy(float), cutoff=costs.cutoff, n_sites=a.n_sites,
        budget=sc.optional("allocation.budget"), site_cost=a.cost_per_site,
        group_of_candidate=cand[a.group_by].astype(str).to_numpy(),
        min_per_group=sc.optional("allocation.min_per_ugel"),
        max_per_group=sc.optional("allocation.max_per_ugel"), suitability=cand["score"].to_numpy(float),
        suitability_weight=suitability_lambda(sc, weights), candidate_ids=cand["ccpp_id"].astype(str).tolist())
    if a.require_parent:
        kw.update(parent_minutes=scores.teacher_minutes, parent_capacity=capacity,
                  parent_max_minutes=a.teacher_max_minutes)
    if costs.full_cutoff is not None:  # P as the full matrix makes it (front_cutoff)
        kw.update(unserved_minutes=costs.full_cutoff)
    kw.update(changes)
    return SitingData.from_cost_matrix(costs.matrix, weights, **kw)


def suitability_lambda(sc: Scenario, weights: np.ndarray) -> float:
    """``allocation.suitability_weight``, or the covering model's tie-break when it is 0."""
    lam = float(sc.allocation.suitability_weight)
    if lam > 0:
        return lam
    pos = np.asarray(weights, float)
    pos = pos[pos > 0]
    return 1e-6 * (float(pos.min()) if pos.size else 1.0)


def objective_model(sc: Scenario, sdata: SitingData, places: Any) -> SitingModel:
    """The model of ``allocation.objective`` (not mclp) on ``sdata``."""
    kind = sc.allocation.objective
    if kind == "pmedian":
        return PMedian(sdata)
    if kind == "pcenter":
        return PCenter(sdata)
    if kind == "fair":
        return MaxMinFairness(sdata, place_group=places["ubigeo"].astype(str).to_numpy(),
                              max_minutes=sc.allocation.max_minutes)
    raise UserError(f"unknown allocation.objective {kind!r}", hint=f"use one of {', '.join(OBJECTIVES)}")


def solve_model(sc: Scenario, model: SitingModel) -> SitingResult:
    """Solve with ``allocation.solver`` ("greedy" = the model's heuristic with its bound)."""
    method = {"auto": "auto", "exact": "exact", "greedy": "heuristic"}[sc.allocation.solver]
    return model.solve(method, time_limit=sc.allocation.time_limit_s)  # type: ignore[arg-type]


def rank_sites(model: SitingModel, selected: np.ndarray) -> list[int]:
    """The chosen sites in greedy order of the objective: each next site is the one that
    improves the score of the sites before it most (ties: candidate order)."""
    rest = [int(i) for i in selected]
    order: list[int] = []
    sign = 1.0 if model.sense == "max" else -1.0
    while rest:
        best = max(rest, key=lambda i: (sign * model.evaluate(order + [i])[1], -i))
        order.append(best)
        rest.remove(best)
    return order


def coverage_solution(problem: CoveringProblem, order: list[int], result: SitingResult) -> CoverageSolution:
    """A :class:`CoverageSolution` in ``order`` whose ``objective``, ``bound``, ``gap``, solver and
    status are the objective model's; ``marginal_gains`` and ``covered`` are the coverage within
    ``allocation.max_minutes`` (what the curve and the site gains count)."""
    covered = np.zeros(problem.n_places, dtype=bool)
    gains = []
    for i in order:
        c = problem.cover(i)
        gains.append(float(problem.w[c[~covered[c]]].sum()))
        covered[c] = True
    return CoverageSolution(
        selected=np.array(order, dtype=int), selected_ids=[problem.candidate_ids[i] for i in order],
        objective=float(result.objective), score=float(result.score),
        bound=float(result.bound) if math.isfinite(result.bound) else float("nan"), gap=float(result.gap),
        solver=result.solver, status=result.status, timings=dict(result.timings),
        marginal_gains=np.array(gains, dtype=float), covered=covered, total_weight=problem.total_weight,
        coverable_weight=problem.coverable_weight())
