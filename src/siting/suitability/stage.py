"""The score stage: candidates, criteria, weighted score (or AHP), the learned model when
labelled sites exist, Monte Carlo rank stability, and the *reach* the propose stage uses.

Reach (:class:`ScoreResult`): ``coverage`` (candidates x places, minutes of the pairs within
``allocation.max_minutes``, travel towards the candidate) and ``teacher_minutes``
(candidates x CETPRO, minutes from the CETPRO within ``allocation.teacher_max_minutes``).

Travel-time uncertainty (:mod:`siting.suitability.uncertainty`): with calibrated intervals
(default: the shipped calibration) each draw re-times the graph's road edges and recomputes
the reach exactly (``ScoreResult.draws``).  Without them, one global factor: scaling every
speed by ``f`` scales every time by ``1/f``, so the places
a candidate reaches within ``T`` at speeds ``f`` are those within ``T f`` at the base
speeds.  The coverage is therefore computed **once** at ``T (1 + speed_jitter)`` (the
largest factor drawn) and thresholded at ``T f`` for each Monte Carlo speed draw
(:func:`within`): exact, since a bounded Dijkstra gives the exact time of every pair within
its limit.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..access import AccessResult, round_minutes
from ..data import StudyData, registry_use
from ..errors import UserError
from ..network import solve
from ..network.cost_cache import cached_directed_coverage
from ..network.graph import TravelGraph
from ..network.stage import facility_sets
from ..scenario import Scenario
from .candidates import select_candidates
from .catchment import catchment_filter, relaxed_rules
from .criteria import CRITERIA, compute_criteria
from .mcda import WeightedScore, ahp_weights
from .model import LearnedSuitability, fit_if_labelled
from .outcomes import learn_from_monitoring
from .registry_candidates import apply_registry
from .sensitivity import monte_carlo
from .uncertainty import ReachDraw, outside_note, reach_draws, speed_intervals

CANDIDATE_COLUMNS = ["rank", "ccpp_id", "name", "district", "province", "ugel", "population", "score",
                     "share_top_n", "rank_median", "rank_p05", "rank_p95", "top_criteria"]


@dataclass(frozen=True)
class ScoreResult:
    """Candidates with criteria, contributions, score, rank and rank stability, and their reach."""

    candidates: gpd.GeoDataFrame  # one row per candidate, ordered by rank
    excluded: pd.DataFrame  # every other place with its reasons
    coverage: sp.csr_array  # candidates x places: minutes within allocation.max_minutes
    teacher_minutes: sp.csr_array  # candidates x CETPRO: minutes within allocation.teacher_max_minutes
    candidate_place_index: np.ndarray  # position of each candidate in the places table
    weights: dict[str, float]
    model_message: str
    notes: list[str] = field(default_factory=list)
    model: LearnedSuitability | None = None  # when labelled sites were given
    draws: list[ReachDraw] = field(default_factory=list)  # travel-time draws (suitability.uncertainty)
    catchment_added: int = 0  # candidates the catchment rule admits below min_population on their own
    draw_notes: list[str] = field(default_factory=list)  # caveats of the travel-time draws (for the report)


def host_premises(data: StudyData) -> gpd.GeoDataFrame | None:
    """School premises, Tambos and the registry's host premises as one layer with a ``kind``
    column (for host checks; see :func:`siting.data.registry_use.host_premises`)."""
    return registry_use.host_premises(data)


def _candidates(sc: Scenario, data: StudyData, places: gpd.GeoDataFrame, minutes: np.ndarray,
                premises: gpd.GeoDataFrame | None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The ``[candidates]`` rules, then the registry's: petitions (``registry.petition_candidates``)
    and the planners' exclusions (:func:`siting.suitability.registry_candidates.apply_registry`).
    With ``candidates.population_rule = "catchment"`` the population minimum is left to
    :func:`siting.suitability.catchment.catchment_filter` (applied once the reach is known)."""
    rules = relaxed_rules(sc.candidates)
    cand, excluded = select_candidates(places, minutes_existing=minutes, premises=premises,
                                       rules=rules, crs=data.crs, premises_id_column="premises_id")
    cand, excluded = apply_registry(cand, excluded, places, petitions=data.petitions,
                                    exclusions=data.candidate_exclusions, mode=sc.registry.petition_candidates,
                                    minutes=minutes, premises=premises, rules=rules, crs=data.crs,
                                    target_group=sc.population.target_group, premises_id_column="premises_id")
    if len(cand) == 0:
        raise UserError("no populated place passes the candidate rules",
                        source=sc.source, hint="relax [candidates] (min_population, exclude_within_min, "
                                               "host_premises_within_m, require_host_premises)")
    return cand, excluded


def _learned(sc: Scenario, data: StudyData, graph: TravelGraph, places: gpd.GeoDataFrame, table: pd.DataFrame,
             premises: gpd.GeoDataFrame | None) -> tuple[LearnedSuitability | None, str]:
    """The learned model: from labelled sites (``inputs.labels``), else from the monitoring
    outcomes of the registry (``inputs.monitoring``), else none."""
    labels = data.labels
    if labels is None and len(data.monitoring):
        return learn_from_monitoring(sc, data, graph, places, premises=premises, indicators=data.district_indicators)
    features = [c for c in CRITERIA if c in table.columns and table[c].notna().any()
                and (labels is None or c in labels.columns)]  # the model learns what both tables have
    return fit_if_labelled(labels, features=features, model=sc.suitability.model, seed=sc.run.seed)


def within(matrix: Any, limit: float) -> sp.csr_array:
    """The stored entries of a sparse matrix of minutes that are ``<= limit`` (explicit zeros
    kept, order of the stored entries kept)."""
    m = sp.csr_array(matrix)
    keep = m.data <= limit
    counts = np.concatenate([[0], np.cumsum(keep)])
    return sp.csr_array((m.data[keep], m.indices[keep], counts[m.indptr].astype(m.indptr.dtype)), shape=m.shape)


def _positions(ids: pd.Series, reference: pd.Series) -> np.ndarray:
    lookup = pd.Series(np.arange(len(reference)), index=reference.astype(str).to_numpy())
    lookup = lookup[~lookup.index.duplicated()]
    return lookup.reindex(ids.astype(str).to_numpy()).to_numpy(dtype=np.int64)


def _row_min(matrix: Any) -> np.ndarray:
    """Minimum stored value per row of a sparse matrix (inf for an empty row; stored 0 counts)."""
    m = matrix.tocsr()
    out = np.full(m.shape[0], np.inf)
    counts = np.diff(m.indptr)
    nonempty = counts > 0
    if nonempty.any():
        out[nonempty] = np.minimum.reduceat(m.data, m.indptr[:-1][nonempty])
    return out


#: half the 0.1-min rounding step of :func:`siting.access.round_minutes`
ROUNDING_MARGIN = 0.05


def rounded(m: sp.csr_array) -> sp.csr_array:
    """``m`` with its stored minutes rounded as every written minute is (one rounding rule:
    a pair at 60.04 min is at 60.0 min, within 60), explicit zeros kept."""
    m = sp.csr_array(m)
    return sp.csr_array((round_minutes(m.data), m.indices, m.indptr), shape=m.shape)


def coverage_limit(sc: Scenario) -> float:
    """The limit of the one coverage computation: ``T (1 + speed_jitter)`` when one global
    speed factor is sampled (the largest factor a draw can take), else ``T``
    (``allocation.max_minutes``; interval draws recompute their reach on a re-timed graph)."""
    s = sc.suitability
    jitter = s.speed_jitter if s.speed_jitter > 0 and s.speed_samples > 0 and not speed_intervals(sc) else 0.0
    # + half the rounding step: a pair rounds to at most the limit (round_minutes) below limit + 0.05
    return sc.allocation.max_minutes * (1 + jitter) + ROUNDING_MARGIN


def _ahp_note(sc: Scenario) -> list[str]:
    if not sc.suitability.ahp:
        return []
    ahp = ahp_weights(list(sc.suitability.ahp.get("criteria") or sc.suitability.weights), sc.suitability.ahp["matrix"])
    return [f"AHP: lambda_max = {ahp.lambda_max:.4f}, CI = {ahp.ci:.4f}, RI = {ahp.ri:.2f}, "
            f"CR = {ahp.cr:.4f} (<= 0.1: consistent)"]


def _scored_table(cand: pd.DataFrame, table: pd.DataFrame, scored: pd.DataFrame, stability: pd.DataFrame,
                  best_teacher: np.ndarray, model: LearnedSuitability | None) -> pd.DataFrame:
    out = cand.copy()
    for col in table.columns:
        if col != "ccpp_id":
            out[col] = table[col].to_numpy()
    for col in scored.columns:
        if col.startswith(("norm_", "contrib_")) or col in {"score", "rank", "top_criteria"}:
            out[col] = scored[col].to_numpy()
    for col in ("share_top_n", "rank_median", "rank_p05", "rank_p95"):
        out[col] = stability[col].to_numpy()
    out["best_parent_minutes"] = best_teacher
    if model is not None:
        out["model_prediction"] = model.predict(table)
    return out


def _catchment(sc: Scenario, cand: gpd.GeoDataFrame, excluded: pd.DataFrame, places: gpd.GeoDataFrame,
               reach: sp.csr_array, pos: np.ndarray) -> tuple[gpd.GeoDataFrame, pd.DataFrame, sp.csr_array,
                                                              np.ndarray, int]:
    """``candidates.population_rule = "catchment"``: keep the candidates whose catchment within
    ``T`` reaches ``min_population`` (:mod:`siting.suitability.catchment`)."""
    if sc.candidates.population_rule != "catchment":
        return cand, excluded, reach, pos, 0
    keep, dropped, added = catchment_filter(cand, within(reach, sc.allocation.max_minutes), places,
                                            min_population=sc.candidates.min_population,
                                            minutes=sc.allocation.max_minutes, lang=sc.run.language)
    if not keep.any():
        raise UserError("no candidate has a catchment of candidates.min_population people", source=sc.source,
                        hint="lower candidates.min_population or use population_rule = 'own'")
    return cand.loc[keep], pd.concat([excluded, dropped], ignore_index=True), reach[np.flatnonzero(keep)], \
        pos[keep], added


def _jitter_draws(sc: Scenario, reach: sp.csr_array, minutes: np.ndarray, teacher: sp.csr_array,
                  factors: list[float]) -> list[ReachDraw]:
    """The global-factor draws as :class:`ReachDraw` (times x 1/f; the teacher pairs are those
    within the limit at the base speeds, an approximation for f > 1)."""
    T, L = sc.allocation.max_minutes, sc.allocation.teacher_max_minutes
    out = []
    for f in factors:
        t = sp.csr_array(teacher / f)
        out.append(ReachDraw(sc.speeds, f, within(reach, T * f).multiply(1 / f).tocsr(), minutes / f, within(t, L)))
    return out


def score_candidates(sc: Scenario, data: StudyData, graph: TravelGraph, access: AccessResult, *,
                     progress: bool = True, run_aside: solve.RunAside | None = None) -> ScoreResult:
    """The score stage: candidates (``[candidates]`` rules), criteria, weighted score (or AHP),
    the learned model when labelled sites exist, and Monte Carlo rank stability over the
    weights (Dirichlet) and the travel times (road speeds and detour within their intervals,
    else one global factor, see :mod:`siting.suitability.uncertainty`); also the reach the
    propose stage consumes, and the reach of every travel-time draw.  ``run_aside``: the trips
    back of a mean direction are searched in a side process (when not in the cost cache)."""
    places = access.places
    minutes_any = places["minutes_nearest"].to_numpy(dtype=float)
    premises = host_premises(data)
    cand, excluded = _candidates(sc, data, places, minutes_any, premises)
    petitions = data.petitions if len(data.petitions) else None
    pos = _positions(cand["ccpp_id"], places["ccpp_id"])
    place_nodes = graph.point_nodes["places"]
    T = sc.allocation.max_minutes
    direction = sc.access.direction
    # cached in run.cache_dir by a hash of the graph's arrays, the nodes, the limit and the direction (#19)
    reach = rounded(cached_directed_coverage(graph, place_nodes[pos], place_nodes, coverage_limit(sc),
                                             direction=direction, cache_dir=sc.run.cache_dir, progress=progress,
                                             run_aside=run_aside))
    cand, excluded, reach, pos, added = _catchment(sc, cand, excluded, places, reach, pos)
    cov = within(reach, T)
    teacher = within(rounded(cached_directed_coverage(
        graph, graph.point_nodes["cetpro"], place_nodes[pos], sc.allocation.teacher_max_minutes + ROUNDING_MARGIN,
        direction=solve.TEACHER[direction], cache_dir=sc.run.cache_dir, progress=progress, run_aside=run_aside)),
        sc.allocation.teacher_max_minutes).T.tocsr()
    best_teacher = _row_min(teacher)
    flat_walk_kmh = float(np.exp(-sc.speeds.tobler_decay * sc.speeds.tobler_slope_offset) * sc.speeds.walk_kmh_max)
    road_minutes = places["flag_road_distance_m"].to_numpy(dtype=float)[pos] / (flat_walk_kmh * 1000 / 60) \
        if "flag_road_distance_m" in places else None

    def criteria_for(speed_factor: float = 1.0, draw: ReachDraw | None = None) -> pd.DataFrame:
        """Criteria with every speed multiplied by ``speed_factor`` (times scale by 1/f, so
        reach within T equals reach within T*f at the base speeds), or under ``draw``."""
        if draw is not None:
            table = compute_criteria(cand, places, draw.coverage, draw.minutes_nearest > T,
                                     _row_min(draw.teacher_minutes), data.district_indicators, petitions,
                                     target_group=sc.population.target_group, road_minutes=road_minutes)
            table["time_to_nearest_facility"] = draw.minutes_nearest[pos]
            return table
        c = cov if speed_factor == 1.0 else within(reach, T * speed_factor)
        table = compute_criteria(cand, places, c, minutes_any > T * speed_factor, best_teacher / speed_factor,
                                 data.district_indicators, petitions, target_group=sc.population.target_group,
                                 road_minutes=None if road_minutes is None else road_minutes / speed_factor)
        table["time_to_nearest_facility"] = table["time_to_nearest_facility"] / speed_factor
        return table

    table = criteria_for(1.0)
    scorer = WeightedScore.from_scenario(sc)
    scored = scorer.score(table)
    s = sc.suitability
    facility_nodes = np.concatenate([graph.point_nodes[n] for n in facility_sets(data)])
    draws = reach_draws(sc, data, graph, candidate_nodes=place_nodes[pos], facility_nodes=facility_nodes,
                        rng=np.random.default_rng([sc.run.seed, 14]), progress=progress, run_aside=run_aside)
    stability = monte_carlo(table, scorer.weights, n_runs=s.sensitivity_runs, concentration=s.dirichlet_concentration,
                            top_n=max(sc.allocation.n_sites, 1), seed=sc.run.seed, normalisation=s.normalisation,
                            recompute=criteria_for, speed_jitter=s.speed_jitter, n_speed_samples=s.speed_samples,
                            tables=[criteria_for(draw=d) for d in draws] if draws else None, progress=progress)
    if not draws and s.speed_jitter > 0:
        draws = _jitter_draws(sc, sp.csr_array(reach), minutes_any, sp.csr_array(teacher),
                              [f for f in stability.attrs["speed_factors"] if f != 1.0])
    draw_notes = outside_note(sc, speed_intervals(sc)) if draws and draws[0].factor == 1.0 else []
    model, message = _learned(sc, data, graph, places, table, premises)
    out = _scored_table(cand, table, scored, stability, best_teacher, model)
    order = np.argsort(out["rank"].to_numpy(), kind="stable")
    draws = [dataclasses.replace(d, coverage=d.coverage[order], teacher_minutes=d.teacher_minutes[order])
             for d in draws]
    return ScoreResult(candidates=gpd.GeoDataFrame(out.iloc[order], geometry="geometry", crs=4326),
                       excluded=excluded, coverage=cov[order], teacher_minutes=teacher[order],
                       candidate_place_index=pos[order], weights=dict(scorer.weights), model_message=message,
                       notes=list(scored.attrs.get("notes", [])) + _ahp_note(sc) + draw_notes, model=model, draws=draws,
                       draw_notes=draw_notes,
                       catchment_added=added)


def candidate_table(score: ScoreResult) -> gpd.GeoDataFrame:
    """Output table of candidates: identity, score and stability first, then each criterion
    and its contribution."""
    c = score.candidates
    crit = [k for k in CRITERIA if k in c.columns]
    contrib = [f"contrib_{k}" for k in crit if f"contrib_{k}" in c.columns]
    petitioned = "petitions" in c.columns and bool(c["petitions"].fillna(0).gt(0).any())
    extra = [k for k in ("host_premises", "host_premises_list", "best_parent_minutes", "model_prediction")
             + (("petitions", "petition_interested", "petition_detail") if petitioned else ())
             if k in c.columns and k not in crit]
    cols = [k for k in CANDIDATE_COLUMNS if k in c.columns] + crit + contrib + extra
    return gpd.GeoDataFrame(c[cols + ["geometry"]], geometry="geometry", crs=4326)
