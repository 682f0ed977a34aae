"""The propose stage: choose the new sites, give each a parent CETPRO, measure what each adds.

It consumes the score stage's *reach* (``ScoreResult.coverage``: candidates x places within
``allocation.max_minutes``; ``ScoreResult.teacher_minutes``: candidates x CETPRO within
``allocation.teacher_max_minutes``).  The sites are chosen by ``allocation.objective``
(:mod:`.choice`: mclp, pmedian, pcenter, fair) under the same limits; given the graph, the
stage also computes the minutes of every pair below each place's existing time (exact
p-median / p-center, measures and the Pareto front) and "how far is everyone once the
proposals open" with :func:`siting.access.evaluate_plan`.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..access import AccessResult, evaluate_plan
from ..data import StudyData, registry_use
from ..errors import UserError
from ..network.solve import RunAside
from ..scenario import Scenario
from ..suitability import ScoreResult
from ..suitability.uncertainty import ReachDraw
from . import choice as _choice
from .model import MaximalCovering
from .near_optimal import NearOptimal, near_optimal
from .objectives import SitingResult
from .outcomes import Tradeoff, measure_table, start_tradeoff, tradeoff
from .parents import assign_parents
from .priorities import explain_priorities
from .results import CoverageSolution
from .robust import selection_frequency, unserved_share

GAIN_COLUMNS = ("new_places", "new_population", "new_women", "new_target", "new_women_target", "minutes_saved")


@dataclass(frozen=True)
class ProposalResult:
    """Chosen sites in rank order with their parent CETPRO and gains."""

    proposals: gpd.GeoDataFrame  # one row per site, rank order (see propose_sites)
    curve: pd.DataFrame  # coverage versus number of sites (greedy order)
    unassigned: pd.DataFrame  # chosen sites without an eligible parent CETPRO
    solution: CoverageSolution
    notes: list[str] = field(default_factory=list)
    objective: str = "mclp"  # allocation.objective that chose the sites
    result: SitingResult | None = None  # the objective model's result (None for mclp)
    measures: pd.DataFrame = field(default_factory=pd.DataFrame)  # outcomes.measure_table: every measure
    measures_by_district: pd.DataFrame = field(default_factory=pd.DataFrame)
    priorities: pd.DataFrame = field(default_factory=pd.DataFrame)  # priorities.explain_priorities
    priority_notes: list[str] = field(default_factory=list)  # how each weight entered, and its effect
    tradeoff: Tradeoff = field(default_factory=Tradeoff)  # coverage-equity Pareto front for the run's N
    near: NearOptimal = field(default_factory=NearOptimal)  # site sets within allocation.near_optimal_gap
    draws: dict[str, Any] = field(default_factory=dict)  # n, kind ("intervals" / "jitter"), catchment_added


def district_poverty(places: pd.DataFrame, indicators: pd.DataFrame | None) -> np.ndarray:
    """District total poverty (%) of every place (NaN when unknown or without indicators)."""
    if indicators is None:
        return np.full(len(places), np.nan)
    return places["ubigeo"].astype(str).map(indicators.set_index("ubigeo")["poverty"]).to_numpy(dtype=float)


def demand_weights(sc: Scenario, places: pd.DataFrame, *, indicators: pd.DataFrame | None = None,
                   petitions: pd.DataFrame | None = None) -> np.ndarray:
    """``w_j = (men_G + weight_women * women_G) * (1 + weight_poverty * poverty_j / 100) + p * d_j``
    (``G`` = the target group; ``poverty_j`` from ``indicators``, 0 when unknown; ``d_j`` the
    people interested in the petitions of place ``j`` and ``p`` = ``registry.petition_demand_weight``,
    see :func:`siting.data.registry_use.petition_demand`)."""
    g, a = sc.population.target_group, sc.allocation
    w = places[f"men_{g}"].fillna(0).to_numpy(float) + a.weight_women * places[f"women_{g}"].fillna(0).to_numpy(float)
    if a.weight_poverty:
        w = w * (1 + a.weight_poverty * np.nan_to_num(district_poverty(places, indicators)) / 100.0)
    if petitions is not None and len(petitions):
        w = w + registry_use.petition_demand(places, petitions, target_group=g,
                                             weight=sc.registry.petition_demand_weight)
    return w


def parent_capacity(sc: Scenario, data: StudyData) -> np.ndarray:
    """Extension centres each CETPRO may still open: its ``max_extensions`` (or the scenario
    default) minus the extension centres it already runs; 0 for a CETPRO with no teachers
    in the data (it has no operating capacity to run one, as the practice requires)."""
    default = sc.allocation.max_extensions_per_cetpro
    cap = data.cetpro["max_extensions"].fillna(default).to_numpy(float) \
        if "max_extensions" in data.cetpro else np.full(len(data.cetpro), default)
    if "teachers" in data.cetpro:
        cap = np.where(data.cetpro["teachers"].fillna(0).to_numpy(float) > 0, cap, 0)
    running_ext = registry_use.parent_load(data, use=sc.registry.extension_centres_use)
    if len(running_ext):
        running = running_ext["parent_cod_mod"].astype(str).value_counts()
        cap = cap - data.cetpro["cod_mod"].astype(str).map(running).fillna(0).to_numpy()
    return np.maximum(cap, 0).astype(int)


def covering_model(sc: Scenario, data: StudyData, access: AccessResult, scores: ScoreResult, *,
                   draw: ReachDraw | None = None, **changes: Any) -> MaximalCovering:
    """The maximal-covering model of the scenario (see :class:`siting.allocation.MaximalCovering`);
    ``changes`` override its options (e.g. ``n_sites=30`` for the curve); ``draw`` = the reach,
    minutes and teacher minutes of one travel-time draw instead of the base ones.  With
    ``allocation.served_taper`` > 0 the demand weights taper near the threshold
    (:func:`siting.allocation.robust.unserved_share`) instead of 0 for the places within it."""
    a = sc.allocation
    cand = scores.candidates
    places = access.places
    minutes = places["minutes_nearest"].to_numpy(float) if draw is None else draw.minutes_nearest
    share = unserved_share(minutes, threshold=a.max_minutes, taper=a.served_taper)
    options: dict[str, Any] = dict(
        already_covered=share <= 0,
        n_sites=a.n_sites if sc.optional("allocation.coverage_target") is None else None,
        coverage_target=sc.optional("allocation.coverage_target"),
        budget=sc.optional("allocation.budget"), site_cost=a.cost_per_site,
        group_of_candidate=cand[a.group_by].astype(str).to_numpy(),
        min_per_group=sc.optional("allocation.min_per_ugel"), max_per_group=sc.optional("allocation.max_per_ugel"),
        suitability=cand["score"].to_numpy(float), candidate_ids=cand["ccpp_id"].astype(str).tolist())
    if a.suitability_weight > 0:  # lambda (allocation.choice); 0 keeps the tie-break
        options["suitability_weight"] = float(a.suitability_weight)
    if a.require_parent:
        options.update(parent_minutes=scores.teacher_minutes if draw is None else draw.teacher_minutes,
                       parent_capacity=parent_capacity(sc, data), parent_max_minutes=a.teacher_max_minutes)
    options.update(changes)
    weights = demand_weights(sc, places, indicators=data.district_indicators, petitions=data.petitions) * share
    return MaximalCovering.from_coverage(scores.coverage if draw is None else draw.coverage, weights, **options)


def site_gains(sc: Scenario, places: pd.DataFrame, coverage: Any, selected: np.ndarray) -> pd.DataFrame:
    """What each site adds given the ones ranked before it: places, population, women,
    target population newly within ``allocation.max_minutes``, and the population-weighted
    minutes saved over them, ``sum_j P_j (b_j - m_ij) / sum_j P_j`` (``b`` = minutes before)."""
    cov = coverage.tocsr()
    g = sc.population.target_group
    before = places["minutes_nearest"].to_numpy(float)
    covered = before <= sc.allocation.max_minutes
    population = places["population"].to_numpy(float)
    rows = []
    for rank, i in enumerate(selected, start=1):
        cols, mins = cov.indices[cov.indptr[i]:cov.indptr[i + 1]], cov.data[cov.indptr[i]:cov.indptr[i + 1]]
        new = ~covered[cols]
        js, mj = cols[new], mins[new]
        covered[js] = True
        pop = population[js]
        saved = np.where(np.isfinite(before[js]), before[js] - mj, np.nan)
        rows.append({"rank": rank, "new_places": len(js), "new_population": pop.sum(),
                     "new_women": places["women"].to_numpy(float)[js].sum(),
                     "new_target": places[f"pop_{g}"].to_numpy(float)[js].sum(),
                     "new_women_target": places[f"women_{g}"].to_numpy(float)[js].sum(),
                     "minutes_saved": float(np.nansum(saved * pop) / pop.sum()) if pop.sum() > 0 else 0.0})
    return pd.DataFrame(rows)


def _facility_names(data: StudyData) -> pd.Series:
    f = data.facilities()
    return pd.Series(f["name"].to_numpy(), index=f["facility_id"].astype(str).to_numpy())


def _proposal_table(data: StudyData, places: pd.DataFrame, chosen: pd.DataFrame, parents: pd.DataFrame,
                    gains: pd.DataFrame) -> gpd.GeoDataFrame:
    cetpro = data.cetpro.set_index(data.cetpro["cod_mod"].astype(str))
    out = pd.DataFrame({"rank": np.arange(1, len(chosen) + 1)})
    for col in ("ccpp_id", "name", "district", "province", "ugel", "population"):
        out[col] = chosen[col].to_numpy()
    out["parent_cod_mod"] = parents["parent_id"].where(parents["parent"] >= 0).to_numpy()
    out["parent_name"] = out["parent_cod_mod"].map(cetpro["name"]).to_numpy()
    out["teacher_minutes"] = parents["teacher_minutes"].to_numpy()
    out["parent_status"] = parents["status"].to_numpy()
    for col in GAIN_COLUMNS:
        out[col] = gains[col].to_numpy() if len(gains) else []
    near = chosen["ccpp_id"].astype(str).map(places.set_index(places["ccpp_id"].astype(str))["nearest_facility"])
    out["nearest_existing"] = near.map(_facility_names(data)).fillna(near).to_numpy()
    out["nearest_existing_minutes"] = chosen["time_to_nearest_facility"].to_numpy() \
        if "time_to_nearest_facility" in chosen else np.nan
    out["host_premises"] = chosen["host_premises"].to_numpy() if "host_premises" in chosen else np.nan
    for col in ("petitions", "petition_detail"):  # the community petitions of each proposed place
        if col in chosen and chosen["petitions"].fillna(0).gt(0).any():
            out[col] = chosen[col].to_numpy()
    for col in ("score", "rank_median", "share_top_n", "top_criteria"):
        out[col if col != "rank_median" else "suitability_rank_median"] = chosen[col].to_numpy()
    out["suitability_rank"] = chosen["rank"].to_numpy()
    return gpd.GeoDataFrame(out, geometry=chosen.geometry.to_numpy(), crs=4326)


def _solver_note(solution: CoverageSolution, lang: str) -> str:
    if lang == "es":
        return (f"Asignación: solucionador {solution.solver}, estado {solution.status}, objetivo "
                f"{solution.objective:,.1f}, cota {solution.bound:,.1f}, brecha {solution.gap:.2%}")
    return (f"Allocation: solver {solution.solver}, status {solution.status}, objective {solution.objective:,.1f}, "
            f"bound {solution.bound:,.1f}, gap {solution.gap:.2%}")


@dataclass(frozen=True)
class _Choice:
    solution: CoverageSolution
    result: SitingResult | None
    sense: str


def _choose(sc: Scenario, data: StudyData, access: AccessResult, scores: ScoreResult,
            costs: _choice.Costs | None) -> _Choice:
    """The sites of ``allocation.objective`` (one code path for every objective and limit)."""
    a = sc.allocation
    covering = covering_model(sc, data, access, scores)
    if a.objective == "mclp":
        return _Choice(covering.solve(a.solver, time_limit=a.time_limit_s), None, "max")
    costs = costs or _choice.cost_matrix(sc, access, scores)
    weights = demand_weights(sc, access.places, indicators=data.district_indicators, petitions=data.petitions)
    sdata = _choice.siting_data(sc, access, scores, costs, weights, capacity=parent_capacity(sc, data))
    model = _choice.objective_model(sc, sdata, access.places)
    result = _choice.solve_model(sc, model)
    order = _choice.rank_sites(model, result.selected)
    return _Choice(_choice.coverage_solution(covering.problem, order, result), result, model.sense)


def _objective_note(sc: Scenario, chosen: _Choice, costs: _choice.Costs | None) -> str:
    i = 1 if sc.run.language == "en" else 0
    kind = sc.allocation.objective
    name, unit = _choice.OBJECTIVE_NAMES[kind][i], _choice.OBJECTIVE_UNITS[kind][i]
    text = (f"Función objetivo: {name} (valor en {unit}); mismas restricciones que la máxima cobertura "
            "(N, presupuesto, cuotas por UGEL/provincia, CETPRO padre dentro del tiempo docente y con capacidad)",
            f"Objective: {name} (value in {unit}); the same limits as maximal covering (N, budget, quotas per "
            "UGEL/province, parent CETPRO within teacher time and with capacity)")[i]
    if costs is not None and not costs.exact:
        text += ("; sin grafo, los minutos más allá de allocation.max_minutes son el tiempo actual (cota superior)",
                 "; without the graph, minutes beyond allocation.max_minutes are the existing time (an upper "
                 "bound)")[i]
    return text


def propose_sites(sc: Scenario, data: StudyData, access: AccessResult, scores: ScoreResult, *, graph: Any = None,
                  with_tradeoff: bool = True, run_aside: RunAside | None = None) -> ProposalResult:
    """The propose stage: choose the new sites (``allocation.objective``, limits ``allocation.*``),
    assign each a parent CETPRO (least total teacher minutes), and measure the gains of each site
    given those ranked before it (:func:`site_gains`) and the coverage curve for
    ``N = 1 .. max(curve_max_sites, n_sites)``.

    Also every measure of the plan (:func:`.outcomes.measure_table`, exact minutes after with
    ``graph``), how each priority entered and whether it changed the plan
    (:func:`.priorities.explain_priorities`) and, with ``graph`` and ``with_tradeoff``, the
    coverage-equity Pareto front (:func:`.outcomes.tradeoff`).  ``run_aside(fn, *args, **kw)``
    (e.g. :func:`siting.report.side_tasks.run_aside`) starts the front in a side process and
    returns a getter of it, so it is computed while the draws are re-solved; without it the
    front is computed here."""
    a = sc.allocation
    capacity = parent_capacity(sc, data)
    if a.require_parent and not capacity.any():
        raise UserError("no CETPRO can be the parent of a new extension centre (none has teachers and capacity "
                        "left in the data)", source=sc.inputs.school_base,
                        hint="check the teachers / max_extensions columns, widen the study area, or set "
                             "allocation.require_parent = false")
    # minutes beyond the reach are needed by the minute-based objectives and the trade-off only
    exact = graph is not None and (a.objective != "mclp" or (with_tradeoff and a.pareto_points >= 2))
    costs = _choice.cost_matrix(sc, access, scores, graph if exact else None, run_aside=run_aside)
    chosen = _choose(sc, data, access, scores, costs)
    solution = chosen.solution
    cand, places = scores.candidates, access.places
    sel = np.asarray(solution.selected, dtype=int)
    # the near-optimal listing first, then the front: both in side processes with ``run_aside``
    near = _start_near_optimal(sc, data, access, scores, chosen, run_aside=run_aside) if with_tradeoff else None
    front = _start_front(sc, data, access, scores, costs, chosen, with_tradeoff=with_tradeoff, run_aside=run_aside)
    parents = assign_parents(sel, scores.teacher_minutes, capacity, a.teacher_max_minutes,
                             candidate_ids=cand["ccpp_id"].astype(str).to_numpy(),
                             parent_ids=data.cetpro["cod_mod"].astype(str).tolist()).table.reset_index(drop=True)
    gains = site_gains(sc, places, scores.coverage, sel)
    proposals = _proposal_table(data, places, cand.iloc[sel].reset_index(drop=True), parents, gains)
    # the robustness re-solves (every draw, the near-optimal listing) with the trade-off: the run
    # computes them, the app's what-ifs (with_tradeoff=False) answer without them, in seconds
    robust = _robustness(sc, scores, proposals, near) if near is not None else NearOptimal(gap=a.near_optimal_gap)
    curve_model = covering_model(sc, data, access, scores, n_sites=max(a.curve_max_sites, len(sel)),
                                 coverage_target=None, budget=None)
    curve = curve_model.greedy(swap=False).curve().rename(columns={"covered": "covered_target"})
    notes = [_solver_note(solution, sc.run.language)] + list(scores.draw_notes)
    if a.objective != "mclp":
        notes.insert(0, _objective_note(sc, chosen, costs))
    extras = _extras(sc, data, access, scores, costs, chosen, graph=graph)
    extras["tradeoff"] = front()
    return ProposalResult(proposals=proposals, curve=curve, unassigned=parents[parents["status"] != "assigned"],
                          solution=solution, notes=notes, objective=a.objective, result=chosen.result, near=robust,
                          draws={"n": len(scores.draws), "catchment_added": scores.catchment_added,
                                 "kind": "jitter" if any(d.factor != 1.0 for d in scores.draws) else "intervals"},
                          **extras)


def _start_near_optimal(sc: Scenario, data: StudyData, access: AccessResult, scores: ScoreResult, chosen: _Choice,
                        *, run_aside: RunAside | None) -> tuple[Callable[[], NearOptimal], Callable[..., list[str]]]:
    """A getter of the near-optimal sets of the maximal-covering optimum (:mod:`.near_optimal`;
    mclp with n_sites only), started with ``run_aside`` when given, and the re-solve of a
    travel-time draw (the scenario's objective) for :func:`_robustness`."""
    a = sc.allocation

    def solve_draw(draw: ReachDraw) -> list[str]:
        s = dataclasses.replace(scores, coverage=draw.coverage, teacher_minutes=draw.teacher_minutes)
        if a.objective == "mclp":
            sol = covering_model(sc, data, access, scores, draw=draw).solve(a.solver, time_limit=a.time_limit_s)
        else:
            moved = dataclasses.replace(access, places=access.places.assign(minutes_nearest=draw.minutes_nearest))
            sol = _choose(sc, data, moved, s, None).solution
        return [str(i) for i in sol.selected_ids]

    exact = "exact" in chosen.solution.solver and chosen.solution.status == "optimal"
    if a.objective != "mclp" or sc.optional("allocation.coverage_target") is not None or not exact:
        return (lambda: NearOptimal(gap=a.near_optimal_gap)), solve_draw
    problem = covering_model(sc, data, access, scores).problem
    names = scores.candidates["name"].astype(str).tolist()
    start = run_aside or (lambda fn, *args, **kw: lambda: fn(*args, **kw))
    return start(near_optimal, problem, chosen.solution, gap=a.near_optimal_gap, max_sets=a.near_optimal_max_sets,
                 names=names, time_limit=a.time_limit_s), solve_draw


def _robustness(sc: Scenario, scores: ScoreResult, proposals: gpd.GeoDataFrame,
                near: tuple[Callable[[], NearOptimal], Callable[..., list[str]]]) -> NearOptimal:
    """``selection_frequency`` of every proposal over the travel-time draws (``near[1]`` solves
    each again) into ``proposals``, and the near-optimal sets (``near[0]``, a getter)."""
    get_near, solve_draw = near
    ids = proposals["ccpp_id"].astype(str).tolist()
    proposals["selection_frequency"] = selection_frequency(sc, scores.draws, ids, solve_draw)
    return get_near()


def _start_front(sc: Scenario, data: StudyData, access: AccessResult, scores: ScoreResult, costs: _choice.Costs,
                 chosen: _Choice, *, with_tradeoff: bool, run_aside: RunAside | None) -> Callable[[], Tradeoff]:
    """A getter of the coverage-equity front, started with ``run_aside`` when given (see
    :func:`propose_sites`); the front is empty with a coverage target or without exact minutes."""
    lang, sel = sc.run.language, [int(i) for i in chosen.solution.selected]
    if not (with_tradeoff and costs.exact) or sc.optional("allocation.coverage_target") is not None:
        return lambda: tradeoff(sc, None, lang=lang, selected=sel)
    weights = demand_weights(sc, access.places, indicators=data.district_indicators, petitions=data.petitions)
    sdata = _choice.siting_data(sc, access, scores, costs, weights, capacity=parent_capacity(sc, data))
    return start_tradeoff(sc, sdata, lang=lang, selected=sel, run_aside=run_aside, exact_rows=costs.rows,
                          exact_cutoff=costs.full_cutoff)


def _extras(sc: Scenario, data: StudyData, access: AccessResult, scores: ScoreResult, costs: _choice.Costs,
            chosen: _Choice, *, graph: Any) -> dict[str, Any]:
    """Measures and priorities of the chosen plan (see :func:`propose_sites`)."""
    places = access.places
    sel = [int(i) for i in chosen.solution.selected]

    def weights_of(s: Scenario) -> np.ndarray:
        return demand_weights(s, places, indicators=data.district_indicators, petitions=data.petitions)

    before = places["minutes_nearest"].to_numpy(float)
    if graph is not None:
        after = evaluate_plan(sc, data, graph, cand_ids(scores, sel), access=access).minutes_after
    else:  # the reach only: minutes beyond it are the existing time (an upper bound)
        t = before.copy()
        if sel:
            sub = sp.csr_array(scores.coverage[sel]).tocoo()
            np.minimum.at(t, sub.col, sub.data)
        after = t
    total, by_district = measure_table(sc, places, before, np.asarray(after, float))

    def choose(s: Scenario) -> tuple[list[int], float]:
        c = _choose(s, data, access, scores, costs)
        return [int(i) for i in c.solution.selected], float(c.solution.objective)

    prio, prio_notes = explain_priorities(sc, selected=sel, objective=float(chosen.solution.objective),
                                          sense=chosen.sense, weights_of=weights_of, choose=choose)
    return {"measures": total, "measures_by_district": by_district, "priorities": prio,
            "priority_notes": prio_notes}


def cand_ids(scores: ScoreResult, selected: list[int]) -> list[str]:
    """``ccpp_id`` of the selected candidates."""
    return scores.candidates["ccpp_id"].astype(str).to_numpy()[selected].tolist()
