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

import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import access as acc
from .data import StudyData, load_study_data, registry_use
from .errors import UserError
from .manifest import Run
from .network import graph as netgraph
from .network import raster as netraster
from .network import solve
from .scenario import Scenario


def _say(text: str) -> None:
    print(text, flush=True)


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
    return registry_use.facility_sets(data, use=data.scenario.registry.extension_centres_use)  # registry


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
    supply: pd.DataFrame  # per CETPRO: capacity, demand in its catchment, 2SFCA / E2SFCA ratios
    node_minutes: np.ndarray  # minutes from every graph node to the nearest facility (roads+walk)
    notes: list[str] = field(default_factory=list)


def supply_demand(sc: Scenario, data: StudyData, graph: netgraph.TravelGraph, places: pd.DataFrame) -> pd.DataFrame:
    """2SFCA and E2SFCA with CETPRO capacity (``access.capacity_column``) and the target
    population as demand, within ``access.catchment_min`` (see :func:`siting.access.two_stage_fca`).

    Returns one row per CETPRO (``supply_ratio_*`` = seats per person of demand in its
    catchment, and the CETPRO's validation flags); ``attrs`` carries the per-place accessibility in seats per 1,000 people of
    the target group (``seats_per_1000_2sfca``, ``seats_per_1000_e2sfca``)."""
    a = sc.access
    demand = places[f"pop_{sc.population.target_group}"].fillna(0).to_numpy(float)
    cost = solve.coverage(graph, graph.point_nodes["cetpro"], graph.point_nodes["places"], a.catchment_min,
                          towards_origins=True, progress=False).T.tocsr()  # places x CETPRO, towards the CETPRO
    two = acc.two_stage_fca(demand, data.cetpro, cost, catchment=a.catchment_min, decay="binary",
                            capacity_col=a.capacity_column)
    enh = acc.enhanced_two_stage_fca(demand, data.cetpro, cost, catchment=a.catchment_min, decay=a.decay,
                                     sigma=a.gaussian_sigma_min or None, capacity_col=a.capacity_column)
    out = pd.DataFrame({"cod_mod": data.cetpro["cod_mod"].to_numpy(), "name": data.cetpro["name"].to_numpy(),
                        "ugel": data.cetpro["ugel"].to_numpy(),
                        "capacity": data.cetpro[a.capacity_column].to_numpy(float),
                        "catchment_demand": two.catchment_demand, "supply_ratio_2sfca": two.ratio,
                        "supply_ratio_e2sfca": enh.ratio})
    for col in ("gestion", "user_added"):  # registry: CETPRO added by the user, private ones
        if col in data.cetpro:
            out[col] = data.cetpro[col].to_numpy()
    flags = netgraph.point_flags(graph, "cetpro", far_from_road_km=a.far_from_road_km,
                                 min_road_component_nodes=a.min_road_component_nodes)
    for col in ("outside_dem", "on_impassable_cell", "far_from_road", "small_road_component", "road_distance_m"):
        if col in flags:
            out[f"flag_{col}"] = flags[col].to_numpy()  # per-facility validation (AccessMod style)
    out.attrs["seats_per_1000_2sfca"] = two.access * 1000
    out.attrs["seats_per_1000_e2sfca"] = enh.access * 1000
    return out


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
    supply = supply_demand(sc, data, graph, places)
    for col in ("seats_per_1000_2sfca", "seats_per_1000_e2sfca"):
        places[col] = supply.attrs[col]
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
        supply=supply,
        node_minutes=node_any,
        notes=data.quality.notes_in(sc.run.language),
    )


# --------------------------------------------------------------------------- commands


def _print_table(df: pd.DataFrame, title: str) -> None:
    def fmt(v: float) -> str:  # shares and scores need decimals, people and minutes do not
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"

    with pd.option_context("display.max_columns", 20, "display.width", 160, "display.float_format", fmt):
        _say(f"\n{title}\n{df.to_string(index=False)}")


def _write_quality(run: Run, data: StudyData) -> None:
    paths = data.quality.write(run.folder, lang=run.scenario.run.language)
    run.outputs(paths.values())


def data_check(sc: Scenario, *, progress: bool = True, run: Run | None = None) -> StudyData:
    """``siting data check``: load every input, print and write the quality report."""
    own_run = run is None
    run = run or Run.start(sc, command="data check")
    with run.stage("data") as info:
        data = stage_data(sc, progress=progress)
        info.update(places=len(data.places), cetpro=len(data.cetpro), districts=len(data.districts),
                    roads=0 if data.roads is None else len(data.roads),
                    terrain_shape=None if data.terrain is None else list(data.terrain.shape),
                    problems=len(data.quality.problems))
    _write_quality(run, data)
    _print_table(data.quality.summary(lang=sc.run.language), "Calidad de datos / Data quality")
    for note in data.quality.notes_in(sc.run.language):
        _say(f"  ! {note}")
    _say(f"\nquality report: {run.folder / 'quality_report.md'}")
    if own_run:
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
    fca = ["seats_per_1000_2sfca", "seats_per_1000_e2sfca"]
    cols = [c for c in PLACE_COLUMNS + groups + timing + fca + flags if c in p.columns]
    out = p[cols + ["geometry"]].copy()
    for c in out.columns:
        if c.startswith("minutes_"):
            out[c] = acc.round_minutes(out[c].to_numpy(dtype=float))
    return out


def write_access(run: Run, result: AccessResult, graph: netgraph.TravelGraph, area=None) -> dict[str, Path]:
    """Write the access outputs into the run folder (CSV with stable column codes; XLSX,
    GeoPackage in the run language)."""
    from .report import exports
    sc, lang = run.scenario, run.scenario.run.language
    places = place_table(result, sc)
    tables = {"places": places, "access_by_district": result.by_district, "access_by_province": result.by_province,
              "access_by_ugel": result.by_ugel, "access_total": result.total,
              "districts_ranked_unserved": result.ranked_districts, "cetpro_supply": result.supply}
    written = {}
    for name, df in tables.items():
        written[name] = exports.write_csv(df, run.folder / f"{name}.csv", lang=None)
    written["xlsx"] = exports.write_xlsx({"resumen_ugel": result.summary, **tables}, run.folder / "acceso.xlsx",
                                         lang=lang)
    written["gpkg"] = exports.write_gpkg({"centros_poblados": places}, run.folder / "acceso.gpkg", lang=lang)
    written["raster"] = netraster.travel_time_raster(graph, study_area_minutes(graph, result.node_minutes,
                                                                              area),
                                                     run.folder / "travel_time_minutes.tif")
    run.outputs(written.values())
    return written


def study_area_minutes(graph: netgraph.TravelGraph, node_minutes: np.ndarray, area) -> np.ndarray:
    """Node minutes with the terrain cells outside the study area set to ``inf`` (nodata in
    the raster): outside it the facility data are incomplete, so times there mean nothing."""
    if area is None:
        return node_minutes
    from rasterio.features import geometry_mask
    geom = gpd.GeoSeries([area], crs=4326).to_crs(graph.crs).iloc[0]
    outside = geometry_mask([geom], out_shape=graph.shape, transform=graph.transform, all_touched=True)
    out = np.array(node_minutes, dtype=float, copy=True)
    out[: graph.n_cells][outside.ravel()] = np.inf
    return out


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
    own_run = run is None
    run = run or Run.start(sc, command="access")
    data = data_check(sc, progress=progress, run=run)
    with run.stage("graph") as info:
        points = {"places": data.places, **facility_sets(data)}
        modes = [None] + (["walk"] if sc.speeds.mode != "walk" else [])
        netgraph.check_memory(sum(netgraph.graph_memory_estimate(data.terrain, data.roads, sc.speeds, points, mode=m)
                                  for m in modes))  # both graphs, before building either
        graph = stage_graph(sc, data)
        walk = stage_graph(sc, data, mode="walk") if sc.speeds.mode != "walk" else None
        info.update(nodes=graph.n_nodes, edges=graph.n_edges, mode=graph.mode, cache_key=graph.key)
    with run.stage("access") as info:
        result = stage_access(sc, data, graph, walk)
        info.update(_access_figures(result, sc))
    write_access(run, result, graph, data.study_area)
    _print_table(result.summary, "Acceso por UGEL / Access by UGEL (minutos; participación = fracción de población)")
    if own_run:
        run.finish()
    return data, graph, result


# --------------------------------------------------------------------------- suitability


@dataclass
class ScoreResult:
    """Candidates with criteria, contributions, score, rank and rank stability."""

    candidates: gpd.GeoDataFrame  # one row per candidate, ordered by rank
    excluded: pd.DataFrame  # every other place with its reasons
    coverage: object  # scipy sparse (candidates x places) minutes within allocation.max_minutes
    teacher_minutes: object  # scipy sparse (candidates x CETPRO) minutes within allocation.teacher_max_minutes
    candidate_place_index: np.ndarray  # position of each candidate in the places table
    weights: dict[str, float]
    model_message: str
    notes: list[str] = field(default_factory=list)
    model: object = None  # siting.suitability.LearnedSuitability when labelled sites were given


def host_premises(data: StudyData) -> gpd.GeoDataFrame | None:
    """School premises, Tambos and registry host premises as one layer with a ``kind`` column."""
    return registry_use.host_premises(data)  # registry


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
    from .suitability.registry_candidates import apply_registry  # registry: petitions, exclusions
    cand, excluded = apply_registry(cand, excluded, places, petitions=data.petitions,
                                    exclusions=data.candidate_exclusions, mode=sc.registry.petition_candidates,
                                    minutes=minutes_any,
                                    premises=host_premises(data), rules=sc.candidates, crs=data.crs,
                                    target_group=sc.population.target_group, premises_id_column="premises_id")
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
    petitions = data.petitions if len(data.petitions) else None  # registry: validated at load
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
    labels = su.load_labels(sc.inputs.labels) if sc.inputs.labels else None
    features = [c for c in su.CRITERIA if c in table.columns and table[c].notna().any()
                and (labels is None or c in labels.columns)]  # the model learns what both tables have
    model, message = su.fit_if_labelled(labels, features=features, model=sc.suitability.model, seed=sc.run.seed)
    if labels is None and len(data.monitoring):  # registry: monitoring outcomes as labels
        from .suitability.outcomes import learn_from_monitoring
        model, message = learn_from_monitoring(sc, data, graph, places, premises=host_premises(data),
                                               indicators=indicators)
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
    if sc.suitability.ahp:
        ahp = su.ahp_weights(list(sc.suitability.ahp.get("criteria") or sc.suitability.weights),
                             sc.suitability.ahp["matrix"])
        notes.append(f"AHP: lambda_max = {ahp.lambda_max:.4f}, CI = {ahp.ci:.4f}, RI = {ahp.ri:.2f}, "
                     f"CR = {ahp.cr:.4f} (<= 0.1: consistent)")
    return ScoreResult(candidates=gpd.GeoDataFrame(out.iloc[order], geometry="geometry", crs=4326),
                       excluded=excluded, coverage=cov[order], teacher_minutes=teacher[order],
                       candidate_place_index=pos[order], weights=dict(scorer.weights), model_message=message,
                       notes=notes, model=model)


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
    extra = [k for k in ("host_premises", "host_premises_list", "best_parent_minutes", "model_prediction",
                         "petitions", "petition_interested", "petition_detail")  # registry: petitions
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
    sheets = {"candidatos": cand, "excluidos": excluded, "pesos": weights}
    if score.model is not None:  # learned model: saved with its metadata, importances in the workbook
        for key, path in score.model.save(run.folder / "modelo_aprendido").items():
            written[f"model_{key}"] = path
        sheets["importancias_modelo"] = score.model.importances
    written["xlsx"] = exports.write_xlsx(sheets, run.folder / "candidatos.xlsx", lang=lang)
    excluded_geo = places[["ccpp_id", "geometry"]].merge(excluded, on="ccpp_id", how="inner")
    written["gpkg"] = exports.write_gpkg({"candidatos": cand, "excluidos": gpd.GeoDataFrame(
        excluded_geo, geometry="geometry", crs=4326)}, run.folder / "candidatos.gpkg", lang=lang)
    run.outputs(written.values())
    return written


def score(sc: Scenario, *, progress: bool = True, run: Run | None = None):
    """``siting score``: candidate localities, criteria, suitability score and its stability."""
    own_run = run is None
    run = run or Run.start(sc, command="score")
    data, graph, result = access(sc, progress=progress, run=run)
    with run.stage("score") as info:
        scored = stage_score(sc, data, graph, result, progress=progress)
        info.update(candidates=len(scored.candidates), excluded=len(scored.excluded), weights=scored.weights,
                    model=scored.model_message, notes=scored.notes)
    write_score(run, scored, result.places)
    _say(f"\n{scored.model_message}")
    for note in scored.notes:
        _say(f"  {note}")
    top = candidate_table(scored).head(15)[["rank", "name", "district", "ugel", "score", "share_top_n",
                                            "rank_p05", "rank_p95"]]
    _print_table(top, "Mejores candidatos / Best candidates")
    if own_run:
        run.finish()
    return data, graph, result, scored


# --------------------------------------------------------------------------- proposals


@dataclass
class ProposalResult:
    """Chosen sites in rank order with their parent CETPRO and gains."""

    proposals: gpd.GeoDataFrame
    curve: pd.DataFrame  # coverage versus number of sites
    before_after: pd.DataFrame  # indicators before/after opening the proposals, by UGEL + total
    unassigned: pd.DataFrame  # chosen sites without an eligible parent CETPRO
    solution: object  # siting.allocation.CoverageSolution
    places_after: np.ndarray  # minutes from every place to the nearest facility incl. proposals
    notes: list[str] = field(default_factory=list)


def district_poverty(sc: Scenario, places: pd.DataFrame) -> np.ndarray:
    """District total poverty (%) of every place (NaN when unknown)."""
    from .io import read_table
    from .suitability import district_indicator_table
    if not sc.inputs.district_indicators:
        return np.full(len(places), np.nan)
    ind = district_indicator_table(read_table(sc.inputs.district_indicators))
    return places["ubigeo"].astype(str).map(ind.set_index("ubigeo")["poverty"]).to_numpy(dtype=float)


def demand_weights(sc: Scenario, places: pd.DataFrame) -> np.ndarray:
    """``w_j = (men_G + weight_women * women_G) * (1 + weight_poverty * poverty_j / 100)``."""
    g, a = sc.population.target_group, sc.allocation
    w = places[f"men_{g}"].fillna(0).to_numpy(float) + a.weight_women * places[f"women_{g}"].fillna(0).to_numpy(float)
    if a.weight_poverty:
        w = w * (1 + a.weight_poverty * np.nan_to_num(district_poverty(sc, places)) / 100.0)
    return w


def covering_model(sc: Scenario, data: StudyData, result: AccessResult, scored: ScoreResult, **changes):
    """The maximal-covering model of the scenario (see :class:`siting.allocation.MaximalCovering`)."""
    from .allocation import MaximalCovering
    a = sc.allocation
    cand = scored.candidates
    places = result.places
    group = cand[a.group_by].astype(str).to_numpy()
    options = dict(
        already_covered=places["minutes_nearest"].to_numpy(float) <= a.max_minutes,
        n_sites=a.n_sites if not a.coverage_target else None,
        coverage_target=a.coverage_target or None,
        budget=a.budget or None, site_cost=a.cost_per_site,
        group_of_candidate=group, min_per_group=a.min_per_ugel or None, max_per_group=a.max_per_ugel or None,
        suitability=cand["score"].to_numpy(float), candidate_ids=cand["ccpp_id"].astype(str).tolist())
    if a.require_parent:
        options.update(parent_minutes=scored.teacher_minutes, parent_capacity=parent_capacity(sc, data),
                       parent_max_minutes=a.teacher_max_minutes)
    options.update(changes)
    extra = registry_use.petition_demand(places, data.petitions, target_group=sc.population.target_group,
                                         weight=sc.registry.petition_demand_weight)  # registry: petitions
    return MaximalCovering.from_coverage(scored.coverage, demand_weights(sc, places) + extra, **options)


def parent_capacity(sc: Scenario, data: StudyData) -> np.ndarray:
    """Extension centres each CETPRO may still open: its ``max_extensions`` (or the scenario
    default) minus the extension centres it already runs; 0 for a CETPRO with no teachers
    in the data (it has no operating capacity to run one, as the practice requires)."""
    cap = data.cetpro["max_extensions"].fillna(sc.allocation.max_extensions_per_cetpro).to_numpy(float) \
        if "max_extensions" in data.cetpro else np.full(len(data.cetpro), sc.allocation.max_extensions_per_cetpro)
    if "teachers" in data.cetpro:
        cap = np.where(data.cetpro["teachers"].fillna(0).to_numpy(float) > 0, cap, 0)
    ext = registry_use.parent_load(data, use=sc.registry.extension_centres_use)  # registry
    if len(ext):
        running = ext["parent_cod_mod"].astype(str).value_counts()
        cap = cap - data.cetpro["cod_mod"].astype(str).map(running).fillna(0).to_numpy()
    return np.maximum(cap, 0).astype(int)


def stage_propose(sc: Scenario, data: StudyData, graph: netgraph.TravelGraph, result: AccessResult,
                  scored: ScoreResult) -> ProposalResult:
    """Choose the new sites (maximal covering), assign parents, measure gains and before/after."""
    from .allocation import assign_parents
    a = sc.allocation
    if a.require_parent and not parent_capacity(sc, data).any():
        raise UserError("no CETPRO can be the parent of a new extension centre (none has teachers and capacity "
                        "left in the data)", source=sc.inputs.school_base,
                        hint="check the teachers / max_extensions columns, widen the study area, or set "
                             "allocation.require_parent = false")
    model = covering_model(sc, data, result, scored)
    solution = model.solve(a.solver, time_limit=a.time_limit_s)
    cand, places = scored.candidates, result.places
    sel = np.asarray(solution.selected, dtype=int)
    parents = assign_parents(sel, scored.teacher_minutes, parent_capacity(sc, data), a.teacher_max_minutes,
                             candidate_ids=cand["ccpp_id"].astype(str).to_numpy(),
                             parent_ids=data.cetpro["cod_mod"].astype(str).tolist()).table
    # gains of each site given the ones ranked before it
    cov = scored.coverage.tocsr()
    g = sc.population.target_group
    before = places["minutes_nearest"].to_numpy(float)
    covered = before <= a.max_minutes
    rows = []
    for rank, i in enumerate(sel, start=1):
        cols, mins = cov.indices[cov.indptr[i]:cov.indptr[i + 1]], cov.data[cov.indptr[i]:cov.indptr[i + 1]]
        new = ~covered[cols]
        js, mj = cols[new], mins[new]
        covered[js] = True
        pop = places["population"].to_numpy(float)[js]
        saved = np.where(np.isfinite(before[js]), before[js] - mj, np.nan)
        rows.append({"rank": rank, "new_places": len(js), "new_population": pop.sum(),
                     "new_women": places["women"].to_numpy(float)[js].sum(),
                     "new_target": places[f"pop_{g}"].to_numpy(float)[js].sum(),
                     "new_women_target": places[f"women_{g}"].to_numpy(float)[js].sum(),
                     "minutes_saved": float(np.nansum(saved * pop) / pop.sum()) if pop.sum() > 0 else 0.0})
    gains = pd.DataFrame(rows)
    chosen = cand.iloc[sel].reset_index(drop=True)
    par = parents.reset_index(drop=True)
    cetpro = data.cetpro.set_index(data.cetpro["cod_mod"].astype(str))
    out = pd.DataFrame({"rank": np.arange(1, len(sel) + 1)})
    for col in ("ccpp_id", "name", "district", "province", "ugel", "population"):
        out[col] = chosen[col].to_numpy()
    out["parent_cod_mod"] = par["parent_id"].where(par["parent"] >= 0).to_numpy()
    out["parent_name"] = out["parent_cod_mod"].map(cetpro["name"]).to_numpy()
    out["teacher_minutes"] = par["teacher_minutes"].to_numpy()
    out["parent_status"] = par["status"].to_numpy()
    for col in ("new_places", "new_population", "new_women", "new_target", "new_women_target", "minutes_saved"):
        out[col] = gains[col].to_numpy() if len(gains) else []
    near = chosen["ccpp_id"].astype(str).map(places.set_index(places["ccpp_id"].astype(str))["nearest_facility"])
    out["nearest_existing"] = near.map(_facility_names(data)).fillna(near).to_numpy()
    out["nearest_existing_minutes"] = chosen["time_to_nearest_facility"].to_numpy() \
        if "time_to_nearest_facility" in chosen else np.nan
    out["host_premises"] = chosen["host_premises"].to_numpy() if "host_premises" in chosen else np.nan
    for col in ("petitions", "petition_detail"):  # registry: the petitions of each proposed place
        if col in chosen:
            out[col] = chosen[col].to_numpy()
    for col in ("score", "rank_median", "share_top_n", "top_criteria"):
        out[col if col != "rank_median" else "suitability_rank_median"] = chosen[col].to_numpy()
    out["suitability_rank"] = chosen["rank"].to_numpy()
    proposals = gpd.GeoDataFrame(out, geometry=chosen.geometry.to_numpy(), crs=4326)
    # exact "after" times: one multi-source pass from existing facilities plus the proposals
    src = np.concatenate([graph.point_nodes[n] for n in facility_sets(data)]
                         + [graph.point_nodes["places"][scored.candidate_place_index[sel]]])
    after = solve.nearest(graph, src, towards_sources=True).minutes[graph.point_nodes["places"]]
    ba = acc.before_after(places, before, after, threshold=a.max_minutes, groups=list(sc.population.age_groups))
    curve_model = covering_model(sc, data, result, scored, n_sites=max(a.curve_max_sites, len(sel)),
                                 coverage_target=None, budget=None)
    curve = curve_model.greedy(swap=False).curve().rename(columns={"covered": "covered_target"})
    es = sc.run.language == "es"
    notes = [(f"Asignación: solucionador {solution.solver}, estado {solution.status}, objetivo {solution.objective:,.1f}, "
              f"cota {solution.bound:,.1f}, brecha {solution.gap:.2%}") if es else
             (f"Allocation: solver {solution.solver}, status {solution.status}, objective {solution.objective:,.1f}, "
              f"bound {solution.bound:,.1f}, gap {solution.gap:.2%}")]
    return ProposalResult(proposals=proposals, curve=curve, before_after=ba,
                          unassigned=par[par["status"] != "assigned"], solution=solution, places_after=after,
                          notes=notes)


def _facility_names(data: StudyData) -> pd.Series:
    f = data.facilities()
    return pd.Series(f["name"].to_numpy(), index=f["facility_id"].astype(str).to_numpy())


def write_propose(run: Run, prop: ProposalResult) -> dict[str, Path]:
    from .report import exports
    from .report.html_report import coverage_chart
    from .report.static_maps import save_figure
    lang = run.scenario.run.language
    written = {"proposals": exports.write_csv(prop.proposals, run.folder / "proposals.csv", lang=None),
               "curve": exports.write_csv(prop.curve, run.folder / "coverage_curve.csv", lang=None),
               "before_after": exports.write_csv(prop.before_after, run.folder / "before_after.csv", lang=None)}
    written["xlsx"] = exports.write_xlsx({"propuestas": prop.proposals, "curva_cobertura": prop.curve,
                                          "antes_despues": prop.before_after}, run.folder / "propuestas.xlsx",
                                         lang=lang)
    written["gpkg"] = exports.write_gpkg({"propuestas": prop.proposals}, run.folder / "propuestas.gpkg", lang=lang)
    for path in save_figure(coverage_chart(prop.curve, lang), run.folder / "coverage_curve", formats=("png",)):
        written[f"curve_{path.suffix}"] = path
    run.outputs(written.values())
    return written


def propose(sc: Scenario, *, progress: bool = True, run: Run | None = None):
    """``siting propose``: choose and rank new extension centres, each with a parent CETPRO."""
    own_run = run is None
    run = run or Run.start(sc, command="propose")
    data, graph, result, scored = score(sc, progress=progress, run=run)
    with run.stage("propose") as info:
        prop = stage_propose(sc, data, graph, result, scored)
        s = prop.solution
        info.update(n_sites=int(s.n_sites), objective=float(s.objective), bound=float(s.bound), gap=float(s.gap),
                    solver=s.solver, status=s.status, unassigned=len(prop.unassigned),
                    solver_seconds={k: round(v, 3) for k, v in s.timings.items()})
    write_propose(run, prop)
    cols = ["rank", "name", "district", "ugel", "parent_name", "teacher_minutes", "new_population", "new_women",
            "new_target", "minutes_saved"]
    _print_table(prop.proposals[cols], "Propuestas / Proposals")
    for note in prop.notes:
        _say(f"  {note}")
    if len(prop.unassigned):
        _say(f"  ! {len(prop.unassigned)} proposed site(s) have no parent CETPRO within "
             f"{sc.allocation.teacher_max_minutes:g} min or with capacity left")
    if own_run:
        run.finish()
    return data, graph, result, scored, prop


# --------------------------------------------------------------------------- report


def _report_ugel_table(summary: pd.DataFrame, key: str) -> pd.DataFrame:
    """The compact gap table of the HTML report (unit, population, shares, people beyond)."""
    out = summary.rename(columns={key: "unit", "population_beyond_60": "beyond_60",
                                  "population_beyond_120": "beyond_120"})
    keep = [c for c in ("unit", "places", "population", "target_population", "share_within_60", "share_within_120",
                        "beyond_60", "beyond_120", "mean_minutes") if c in out.columns]
    return out[keep]


def stage_report(sc: Scenario, data: StudyData, result: AccessResult, prop: ProposalResult | None,
                 folder: Path, *, raster: Path | None, progress: bool = True) -> dict[str, Path]:
    """Interactive map, static maps (PNG/PDF) and HTML reports (region + each UGEL)."""
    from .report import folium_map, html_report, static_maps
    lang = sc.run.language
    notes = data.quality.notes_in(lang) + ([] if prop is None else prop.notes)
    places = place_table(result, sc)
    proposals = None if prop is None else prop.proposals
    premises = data.school_premises
    m = folium_map.make_map(places, cetpro=data.cetpro, extension=data.extension_centres, proposals=proposals,
                            tambos=data.tambos, premises=premises, roads=data.roads, districts=data.districts,
                            travel_time_tif=raster, thresholds=sc.access.thresholds_min, quality_notes=notes,
                            lang=lang)
    written = {"map": folium_map.save_map(m, folder / "mapa.html")}
    short_notes = [_shorten(n) for n in notes]  # print maps: first sentence of each caveat
    maps = static_maps.write_static_maps(folder / "mapas", places=places, districts=data.districts,
                                         raster_path=raster, proposals=proposals, cetpro=data.cetpro,
                                         extension=data.extension_centres, crs=data.crs,
                                         thresholds=sc.access.thresholds_min, notes=short_notes, lang=lang)
    for key, paths in maps.items():
        for p in paths:
            written[f"{key}{p.suffix}"] = p
    by_district = acc.summary_table(places, target=sc.population.target_group, by="district")
    reports = html_report.write_reports(
        folder, places=places, by_ugel=_report_ugel_table(result.summary, "ugel"),
        by_district=_report_ugel_table(by_district, "district").assign(
            ugel=by_district["ugel"] if "ugel" in by_district else None),
        proposals=proposals, coverage=None if prop is None else prop.curve, static_maps=maps, map_href="mapa.html",
        lang=lang, notes=notes, reason=sc.study_area.reason, cetpro=data.cetpro, extension=data.extension_centres,
        target_column=f"pop_{sc.population.target_group}")
    written.update({f"report_{k}": v for k, v in reports.items()})
    return written


def _shorten(note: str, limit: int = 170) -> str:
    first = re.split(r"(?<=[.;])\s", note, maxsplit=1)[0]
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def report(sc: Scenario, *, progress: bool = True, run: Run | None = None):
    """``siting report``: the whole chain, then maps and reports."""
    return run_all(sc, progress=progress, run=run, command="report")


def run_all(sc: Scenario, *, progress: bool = True, run: Run | None = None, command: str = "run"):
    """``siting run`` / ``siting demo``: data, access, score, propose, maps and reports."""
    run = run or Run.start(sc, command=command)
    data, graph, result, scored, prop = propose(sc, progress=progress, run=run)
    with run.stage("report") as info:
        written = stage_report(sc, data, result, prop, run.folder, raster=run.folder / "travel_time_minutes.tif",
                               progress=progress)
        info.update(files=len(written))
    run.outputs(written.values())
    run.finish()
    _say(f"\nlisto / done: {run.folder}  (abra / open {run.folder / 'report.html'})")
    return data, graph, result, scored, prop
