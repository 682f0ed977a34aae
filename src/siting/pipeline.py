"""Runs the stages in order, with caching, progress and a run manifest.

    scenario ─► data ─► graph ─► access ─► score ─► propose ─► report

Each ``stage_*`` function is a plain function of typed inputs (usable alone from a
notebook); the command functions (:func:`data_check`, :func:`access`, :func:`score`,
:func:`propose`, :func:`report`, :func:`run_all`) compose them, write the outputs into
the run folder and record everything in ``manifest.json``.  The travel-time graph is
cached in ``run.cache_dir`` by a hash of its inputs and parameters, so a rerun after an
interruption resumes from it.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import access as acc
from .data import StudyData, load_study_data
from .errors import UserError
from .manifest import Run
from .network import graph as netgraph
from .network import raster as netraster
from .network import solve
from .scenario import Scenario


def _say(text: str) -> None:
    print(text, file=sys.stderr if not sys.stdout.isatty() else sys.stdout, flush=True)


# --------------------------------------------------------------------------- stages


def stage_data(sc: Scenario, *, progress: bool = True) -> StudyData:
    """Load, validate and restrict every input (see :func:`siting.data.load_study_data`)."""
    data = load_study_data(sc, progress=progress)
    if len(data.places) == 0:
        raise UserError("the study area has no populated places", source=sc.source,
                        hint="check [study_area] (department, provinces, ugels, districts)")
    if data.terrain is None:
        raise UserError("no elevation model: the travel-time engine needs inputs.dem", source=sc.source)
    return data


def facility_sets(data: StudyData) -> dict[str, gpd.GeoDataFrame]:
    """The facility sets people travel to: CETPRO sedes and, when listed, extension centres."""
    sets = {"cetpro": data.cetpro}
    if len(data.extension_centres):
        sets["extension"] = data.extension_centres
    return sets


def stage_graph(sc: Scenario, data: StudyData, *, mode: str | None = None) -> netgraph.TravelGraph:
    """The travel-time graph with places and facilities joined by costed walking legs."""
    points = {"places": data.places, **facility_sets(data)}
    landcover = netraster.read_multipliers(sc.inputs.landcover_speeds, data.terrain) \
        if sc.inputs.landcover_speeds else None
    return netgraph.build_graph(data.terrain, data.roads, sc.speeds, points, mode=mode, landcover=landcover,
                                cache_dir=sc.run.cache_dir, max_connector_slope=sc.speeds.max_connector_slope,
                                road_connector_radius_m=sc.speeds.road_connector_radius_m or None)


@dataclass
class AccessResult:
    """Per-place access (GeoDataFrame) and its aggregates."""

    places: gpd.GeoDataFrame
    by_district: pd.DataFrame
    by_province: pd.DataFrame
    by_ugel: pd.DataFrame
    total: pd.DataFrame
    summary: pd.DataFrame
    ranked_districts: pd.DataFrame
    node_minutes: np.ndarray  # minutes from every graph node to the nearest facility (roads+walk)
    notes: list[str] = field(default_factory=list)


def stage_access(sc: Scenario, data: StudyData, graph: netgraph.TravelGraph,
                 walk_graph: netgraph.TravelGraph | None = None) -> AccessResult:
    """Minutes from every place to the nearest facility of each set, bands and aggregates.

    Travel runs *towards* the facility (uphill and downhill differ).  With ``walk_graph``
    the walking-only times are added as ``minutes_walk_*`` columns.
    """
    sets = facility_sets(data)
    place_nodes = graph.point_nodes["places"]
    minutes, nearest = {}, {}
    for name in sets:
        res = solve.nearest(graph, graph.point_nodes[name], towards_sources=True)
        minutes[name], nearest[name] = res.minutes[place_nodes], res.source[place_nodes]
    all_nodes = np.concatenate([graph.point_nodes[n] for n in sets])
    node_any = solve.nearest(graph, all_nodes, towards_sources=True).minutes
    th = sc.access.thresholds_min
    places = acc.place_access(data.places, minutes=minutes, nearest=nearest, facilities=sets, thresholds=th)
    if walk_graph is not None:
        wp = walk_graph.point_nodes["places"]
        for name in sets:
            res = solve.nearest(walk_graph, walk_graph.point_nodes[name], towards_sources=True)
            places[f"minutes_walk_{name}"] = res.minutes[wp]
        places["minutes_walk_nearest"] = np.min(np.vstack([places[f"minutes_walk_{n}"] for n in sets]), axis=0)
    flags = netgraph.point_flags(graph, "places", far_from_road_km=sc.access.far_from_road_km,
                                 min_road_component_nodes=sc.access.min_road_component_nodes)
    for col in flags.columns:
        places[f"flag_{col}"] = flags[col].to_numpy()
    groups = list(sc.population.age_groups)
    target = sc.population.target_group
    kw = dict(thresholds=th, groups=groups, target=target, main_threshold=sc.access.main_threshold_min)
    places = gpd.GeoDataFrame(places, geometry="geometry", crs=4326)
    return AccessResult(
        places=places,
        by_district=acc.aggregate(places, by="district", **kw),
        by_province=acc.aggregate(places, by="province", **kw),
        by_ugel=acc.aggregate(places, by="ugel", **kw),
        total=acc.aggregate(places, by=None, **kw),
        summary=acc.summary_table(places, target=target, thresholds=[t for t in th if t >= sc.access.main_threshold_min]),
        ranked_districts=acc.rank_unserved(places, threshold=sc.access.main_threshold_min, target=target),
        node_minutes=node_any,
        notes=list(data.quality.notes),
    )


# --------------------------------------------------------------------------- commands


def _print_table(df: pd.DataFrame, title: str) -> None:
    with pd.option_context("display.max_columns", 20, "display.width", 160, "display.float_format", "{:,.1f}".format):
        _say(f"\n{title}\n{df.to_string(index=False)}")


def _write_quality(run: Run, data: StudyData) -> None:
    paths = data.quality.write(run.folder)
    for p in paths.values():
        run.output(p)


def data_check(sc: Scenario, *, progress: bool = True, run: Run | None = None) -> StudyData:
    """``siting data check``: load every input, print and write the quality report."""
    run = run or Run.start(sc, command="data check")
    with run.stage("data") as info:
        data = stage_data(sc, progress=progress)
        info.update(places=len(data.places), cetpro=len(data.cetpro), districts=len(data.districts),
                    roads=0 if data.roads is None else len(data.roads),
                    terrain_shape=None if data.terrain is None else list(data.terrain.shape),
                    problems=len(data.quality.problems))
    _write_quality(run, data)
    _print_table(data.quality.summary(), "Calidad de datos / Data quality")
    for note in data.quality.notes:
        _say(f"  ! {note}")
    _say(f"\nquality report: {run.folder / 'quality_report.md'}")
    run.finish()
    return data


PLACE_COLUMNS = ["ccpp_id", "name", "ubigeo", "district", "province", "ugel", "area", "altitude_m",
                 "population_census", "population", "population_estimated", "women", "men"]


def place_table(result: AccessResult, sc: Scenario) -> gpd.GeoDataFrame:
    """The per-place output table (demography, minutes per set and mode, bands, flags)."""
    p = result.places
    groups = [c for g in sc.population.age_groups for c in (f"pop_{g}", f"women_{g}", f"men_{g}")]
    timing = ["minutes_nearest", "nearest_facility", "band"] + [  # "*_any" repeats the headline columns
        c for c in p.columns if (c.startswith(("minutes_", "nearest_", "band_")) and not c.endswith("_any")
                                 and c not in {"minutes_nearest", "nearest_facility"})]
    flags = [c for c in p.columns if c.startswith("flag_") and c not in {"flag_node", "flag_cell"}]
    cols = [c for c in PLACE_COLUMNS + groups + timing + flags if c in p.columns]
    out = p[cols + ["geometry"]].copy()
    for c in out.columns:
        if c.startswith("minutes_"):
            out[c] = acc.round_minutes(out[c].to_numpy(dtype=float))
    return out


def write_access(run: Run, result: AccessResult, graph: netgraph.TravelGraph) -> dict[str, Path]:
    """Write the access outputs into the run folder (CSV with stable column codes; XLSX,
    GeoPackage in the run language)."""
    from .report import exports
    sc, lang = run.scenario, run.scenario.run.language
    places = place_table(result, sc)
    tables = {"places": places, "access_by_district": result.by_district, "access_by_province": result.by_province,
              "access_by_ugel": result.by_ugel, "access_total": result.total,
              "districts_ranked_unserved": result.ranked_districts}
    written = {}
    for name, df in tables.items():
        written[name] = exports.write_csv(df, run.folder / f"{name}.csv", lang=None)
    written["xlsx"] = exports.write_xlsx({"resumen_ugel": result.summary, **tables}, run.folder / "acceso.xlsx",
                                         lang=lang)
    written["gpkg"] = exports.write_gpkg({"centros_poblados": places}, run.folder / "acceso.gpkg", lang=lang)
    written["raster"] = netraster.travel_time_raster(graph, result.node_minutes, run.folder / "travel_time_minutes.tif")
    for p in written.values():
        run.output(p)
    return written


def _access_figures(result: AccessResult, sc: Scenario) -> dict:
    t = result.total.iloc[0]
    g = sc.population.target_group
    figures = {"places": int(len(result.places)), "population": float(t["population"])}
    for th in sc.access.thresholds_min:
        s = f"{th:g}"
        if f"population_beyond_{s}" in t:
            figures[f"population_beyond_{s}"] = float(t[f"population_beyond_{s}"])
        if f"pop_{g}_beyond_{s}" in t:
            figures[f"target_beyond_{s}"] = float(t[f"pop_{g}_beyond_{s}"])
    figures["no_access"] = int(np.isinf(result.places["minutes_nearest"]).sum())
    return figures


def access(sc: Scenario, *, progress: bool = True, run: Run | None = None):
    """``siting access``: travel-time gaps per place, district, province and UGEL."""
    run = run or Run.start(sc, command="access")
    data = data_check(sc, progress=progress, run=run) if "data" not in run.manifest["stages"] else None
    with run.stage("graph") as info:
        graph = stage_graph(sc, data)
        walk = stage_graph(sc, data, mode="walk") if sc.speeds.mode != "walk" else None
        info.update(nodes=graph.n_nodes, edges=graph.n_edges, mode=graph.mode, cache_key=graph.key)
    with run.stage("access") as info:
        result = stage_access(sc, data, graph, walk)
        info.update(_access_figures(result, sc))
    write_access(run, result, graph)
    _print_table(result.summary, "Acceso por UGEL / Access by UGEL (minutos; participación = fracción de población)")
    run.finish()
    return data, graph, result


# --------------------------------------------------------------------------- suitability


@dataclass
class ScoreResult:
    """Candidates with criteria, contributions, score, rank and rank stability."""

    candidates: gpd.GeoDataFrame  # one row per candidate, ordered by rank
    excluded: pd.DataFrame  # every other place with its reasons
    coverage: "object"  # scipy sparse (candidates x places) minutes within allocation.max_minutes
    teacher_minutes: "object"  # scipy sparse (candidates x CETPRO) minutes within allocation.teacher_max_minutes
    candidate_place_index: np.ndarray  # position of each candidate in the places table
    weights: dict[str, float]
    model_message: str
    notes: list[str] = field(default_factory=list)


def host_premises(data: StudyData) -> gpd.GeoDataFrame | None:
    """School premises and Tambos as one layer with a ``kind`` column (for host checks)."""
    parts = []
    if data.school_premises is not None and len(data.school_premises):
        p = data.school_premises[["codlocal", "name", "geometry"]].rename(columns={"codlocal": "premises_id"})
        parts.append(p.assign(kind="school_premises"))
    if len(data.tambos):
        t = data.tambos[["tambo_code", "name", "geometry"]].rename(columns={"tambo_code": "premises_id"})
        parts.append(t.assign(kind="tambo"))
    if not parts:
        return None
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)


def _positions(ids: pd.Series, reference: pd.Series) -> np.ndarray:
    lookup = pd.Series(np.arange(len(reference)), index=reference.astype(str).to_numpy())
    lookup = lookup[~lookup.index.duplicated()]
    return lookup.reindex(ids.astype(str).to_numpy()).to_numpy(dtype=np.int64)


def stage_score(sc: Scenario, data: StudyData, graph: netgraph.TravelGraph, result: AccessResult, *,
                progress: bool = True) -> ScoreResult:
    """Candidates, criteria, weighted score (or AHP), learned model when labels exist, and
    Monte Carlo rank stability over weights (Dirichlet) and speeds (+-speeds_jitter)."""
    from . import suitability as su
    from .io import read_table

    places = result.places
    minutes_any = places["minutes_nearest"].to_numpy(dtype=float)
    cand, excluded = su.select_candidates(places, minutes_to_nearest=minutes_any, premises=host_premises(data),
                                          rules=sc.candidates, crs=data.crs, premises_id_column="premises_id")
    if len(cand) == 0:
        raise UserError("no populated place passes the candidate rules",
                        source=sc.source, hint="relax [candidates] (min_population, exclude_within_min, "
                                               "host_premises_within_m, require_host_premises)")
    pos = _positions(cand["ccpp_id"], places["ccpp_id"])
    place_nodes = graph.point_nodes["places"]
    cand_nodes = place_nodes[pos]
    T = sc.allocation.max_minutes
    cov = solve.coverage(graph, cand_nodes, place_nodes, T, towards_origins=True, progress=progress)
    teacher = solve.coverage(graph, graph.point_nodes["cetpro"], cand_nodes, sc.allocation.teacher_max_minutes,
                             towards_origins=False, progress=progress).T.tocsr()
    best_teacher = _row_min(teacher)
    indicators = su.district_indicator_table(read_table(sc.inputs.district_indicators)) \
        if sc.inputs.district_indicators else None
    petitions = su.load_petitions(sc.inputs.petitions) if sc.inputs.petitions else None
    flat_walk_kmh = float(np.exp(-sc.speeds.tobler_decay * sc.speeds.tobler_slope_offset) * sc.speeds.walk_kmh_max)
    road_minutes = places["flag_road_distance_m"].to_numpy(dtype=float)[pos] / (flat_walk_kmh * 1000 / 60) \
        if "flag_road_distance_m" in places else None
    group = sc.population.target_group

    def criteria_for(speed_factor: float = 1.0):
        """Criteria with every speed multiplied by ``speed_factor``: times scale by 1/f, so
        reach within T equals reach within T*f at the base speeds."""
        c = cov if speed_factor == 1.0 else solve.coverage(graph, cand_nodes, place_nodes, T * speed_factor,
                                                           towards_origins=True, progress=False)
        table = su.compute_criteria(cand, places, c, minutes_any > T * speed_factor, best_teacher / speed_factor,
                                    indicators, petitions, target_group=group,
                                    road_minutes=None if road_minutes is None else road_minutes / speed_factor)
        table["time_to_nearest_facility"] = table["time_to_nearest_facility"] / speed_factor
        return table

    table = criteria_for(1.0)
    scorer = su.WeightedScore.from_scenario(sc)
    scored = scorer.score(table)
    stability = su.monte_carlo(table, scorer.weights, n_runs=sc.suitability.sensitivity_runs,
                               concentration=sc.suitability.dirichlet_concentration,
                               top_n=max(sc.allocation.n_sites, 1), seed=sc.run.seed,
                               normalisation=sc.suitability.normalisation, recompute=criteria_for,
                               speed_jitter=sc.suitability.speed_jitter,
                               n_speed_samples=sc.suitability.speed_samples, progress=progress)
    features = [c for c in su.CRITERIA if c in table.columns and table[c].notna().any()]
    model, message = su.fit_from_scenario(sc, features=features)
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
    order = np.argsort(out["rank"].to_numpy(), kind="stable")
    notes = list(scored.attrs.get("notes", []))
    return ScoreResult(candidates=gpd.GeoDataFrame(out.iloc[order], geometry="geometry", crs=4326),
                       excluded=excluded, coverage=cov[order], teacher_minutes=teacher[order],
                       candidate_place_index=pos[order], weights=dict(scorer.weights), model_message=message,
                       notes=notes)


def _row_min(matrix) -> np.ndarray:
    """Minimum stored value per row of a sparse matrix (inf for an empty row; stored 0 counts)."""
    m = matrix.tocsr()
    out = np.full(m.shape[0], np.inf)
    counts = np.diff(m.indptr)
    nonempty = counts > 0
    if nonempty.any():
        out[nonempty] = np.minimum.reduceat(m.data, m.indptr[:-1][nonempty])
    return out


CANDIDATE_COLUMNS = ["rank", "ccpp_id", "name", "district", "province", "ugel", "population", "score",
                     "share_top_n", "rank_median", "rank_p05", "rank_p95", "top_criteria"]


def candidate_table(score: ScoreResult) -> gpd.GeoDataFrame:
    """Output table of candidates: identity, score and stability first, then each criterion
    and its contribution."""
    from .suitability import CRITERIA
    c = score.candidates
    crit = [k for k in CRITERIA if k in c.columns]
    contrib = [f"contrib_{k}" for k in crit if f"contrib_{k}" in c.columns]
    extra = [k for k in ("host_premises", "host_premises_list", "best_parent_minutes", "model_prediction")
             if k in c.columns and k not in crit]
    cols = [k for k in CANDIDATE_COLUMNS if k in c.columns] + crit + contrib + extra
    return gpd.GeoDataFrame(c[cols + ["geometry"]], geometry="geometry", crs=4326)


def write_score(run: Run, score: ScoreResult, places: gpd.GeoDataFrame) -> dict[str, Path]:
    from .report import exports
    lang = run.scenario.run.language
    cand = candidate_table(score)
    excluded = score.excluded
    weights = pd.DataFrame({"criterion": list(score.weights), "weight": list(score.weights.values())})
    written = {"candidates": exports.write_csv(cand, run.folder / "candidates.csv", lang=None),
               "excluded": exports.write_csv(excluded, run.folder / "excluded_places.csv", lang=None),
               "weights": exports.write_csv(weights, run.folder / "weights.csv", lang=None)}
    written["xlsx"] = exports.write_xlsx({"candidatos": cand, "excluidos": excluded, "pesos": weights},
                                         run.folder / "candidatos.xlsx", lang=lang)
    excluded_geo = places[["ccpp_id", "geometry"]].merge(excluded, on="ccpp_id", how="inner")
    written["gpkg"] = exports.write_gpkg({"candidatos": cand, "excluidos": gpd.GeoDataFrame(
        excluded_geo, geometry="geometry", crs=4326)}, run.folder / "candidatos.gpkg", lang=lang)
    for p in written.values():
        run.output(p)
    return written


def score(sc: Scenario, *, progress: bool = True, run: Run | None = None):
    """``siting score``: candidate localities, criteria, suitability score and its stability."""
    run = run or Run.start(sc, command="score")
    data, graph, result = access(sc, progress=progress, run=run)
    with run.stage("score") as info:
        scored = stage_score(sc, data, graph, result, progress=progress)
        info.update(candidates=len(scored.candidates), excluded=len(scored.excluded), weights=scored.weights,
                    model=scored.model_message)
    write_score(run, scored, result.places)
    _say(f"\n{scored.model_message}")
    top = candidate_table(scored).head(15)[["rank", "name", "district", "ugel", "score", "share_top_n",
                                            "rank_p05", "rank_p95"]]
    _print_table(top, "Mejores candidatos / Best candidates")
    run.finish()
    return data, graph, result, scored
