"""The files each stage leaves in the run folder (CSV with stable column codes; XLSX and
GeoPackage with headers in the run language), registered in the run's manifest.  The
workbooks are written by :func:`siting.report.side_tasks.write_later`: in a side process
inside ``siting run`` / ``demo`` (the next stage computes meanwhile), at once otherwise."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..access import AccessResult, PlanAccess, place_table, study_area_minutes
from ..access.routes import route_lines
from ..allocation import ProposalResult
from ..allocation.outcomes import Tradeoff
from ..data import StudyData
from ..manifest import Run
from ..network import raster as netraster
from ..network.graph import TravelGraph
from ..suitability import ScoreResult, candidate_table
from . import exports, qgis
from .season_section import factors_note, season_tables
from .side_tasks import write_later


def write_tables(tables: Mapping[str, pd.DataFrame], folder: Path, *, layers: Mapping[str, gpd.GeoDataFrame],
                 gpkg: Path, lang: str) -> None:
    """``<name>.csv`` per table (column codes, full precision) and the ``layers`` in ``gpkg``:
    one task of :func:`~siting.report.side_tasks.write_later` (the stage's tables and layers
    are pickled once, and written while the next stage computes)."""
    for name, df in tables.items():
        exports.write_csv(df, folder / f"{name}.csv", lang=None)
    exports.write_gpkg(layers, gpkg, lang=lang)


def write_quality(run: Run, data: StudyData) -> dict[str, Path]:
    """``quality_report.csv``, ``quality_summary.csv``, ``quality_report.md`` in the run language."""
    paths = data.quality.write(run.folder, lang=run.scenario.run.language)
    run.outputs(paths.values())
    return paths


def write_access(run: Run, result: AccessResult, graph: TravelGraph, area=None) -> dict[str, Path]:
    """Places, the aggregates and the CETPRO supply as CSV, ``acceso.xlsx``, ``acceso.gpkg`` and
    ``travel_time_minutes.tif`` (cells outside the study area are nodata)."""
    sc, lang = run.scenario, run.scenario.run.language
    places = place_table(result, sc)
    tables = {"places": places, "access_by_district": result.by_district, "access_by_province": result.by_province,
              "access_by_ugel": result.by_ugel, "access_total": result.total,
              "districts_ranked_unserved": result.ranked_districts, "cetpro_supply": result.supply}
    written = {}
    sheets = {"resumen_ugel": result.summary, **tables}
    if result.season is not None:  # dry against rainy season (seasons.rainy)
        tables |= season_tables(result.season)
        sheets["temporada_lluvias"] = result.season.by_ugel
    written.update({name: run.folder / f"{name}.csv" for name in tables})
    caveats = list(result.notes) + ([] if result.season is None else [factors_note(result.season, lang)])
    written["xlsx"] = run.folder / "acceso.xlsx"
    write_later(exports.write_xlsx, sheets, written["xlsx"], lang=lang,
                readme=exports.ReadMe.from_scenario(sc, caveats=caveats))
    layers = {"centros_poblados": places}
    if result.routes is not None:  # the routes of the places beyond the main threshold
        minutes = result.places["minutes_nearest"].to_numpy(float)
        far = np.flatnonzero(np.isfinite(minutes) & (minutes > sc.access.main_threshold_min))
        cols = ["ccpp_id", "name", "district", "ugel", "minutes_to_nearest", "nearest_facility",
                *[c for c in places.columns if c.startswith("route_")]]
        layers["rutas"] = gpd.GeoDataFrame(places.iloc[far][[c for c in cols if c in places.columns]].reset_index(
            drop=True), geometry=route_lines(graph, far, tree=result.route_tree).to_numpy(), crs=4326)
    if result.season is not None and result.season.roads is not None:  # road_id to list in inputs.closed_segments
        layers["vias"] = result.season.roads
    written["gpkg"] = run.folder / "acceso.gpkg"
    write_later(write_tables, tables, run.folder, layers=layers, gpkg=written["gpkg"], lang=lang)
    written["raster"] = netraster.travel_time_raster(graph, study_area_minutes(graph, result.node_minutes, area),
                                                     run.folder / "travel_time_minutes.tif")
    written["raster_style"] = qgis.write_raster_style(written["raster"], sc.access.thresholds_min, lang)  # QGIS
    run.outputs(written.values())
    return written


def write_score(run: Run, score: ScoreResult, places: gpd.GeoDataFrame) -> dict[str, Path]:
    """Candidates, excluded places and weights as CSV, ``candidatos.xlsx`` (with the learned
    model's importances), ``candidatos.gpkg`` and the saved model when there is one."""
    lang = run.scenario.run.language
    cand = candidate_table(score)
    excluded = score.excluded
    weights = pd.DataFrame({"criterion": list(score.weights), "weight": list(score.weights.values())})
    csvs = {"candidates": cand, "excluded_places": excluded, "weights": weights}
    written = {"candidates": run.folder / "candidates.csv", "excluded": run.folder / "excluded_places.csv",
               "weights": run.folder / "weights.csv"}
    sheets = {"candidatos": cand, "excluidos": excluded, "pesos": weights}
    if score.model is not None:  # learned model: saved with its metadata, importances in the workbook
        for key, path in score.model.save(run.folder / "modelo_aprendido").items():
            written[f"model_{key}"] = path
        sheets["importancias_modelo"] = score.model.importances
    written["xlsx"] = run.folder / "candidatos.xlsx"
    write_later(exports.write_xlsx, sheets, written["xlsx"], lang=lang,
                readme=exports.ReadMe.from_scenario(run.scenario, caveats=score.notes))
    excluded_geo = places[["ccpp_id", "geometry"]].merge(excluded, on="ccpp_id", how="inner")
    written["gpkg"] = run.folder / "candidatos.gpkg"
    write_later(write_tables, csvs, run.folder, layers={"candidatos": cand, "excluidos": gpd.GeoDataFrame(
        excluded_geo, geometry="geometry", crs=4326)}, gpkg=written["gpkg"], lang=lang)
    run.outputs(written.values())
    return written


def write_propose(run: Run, prop: ProposalResult, evaluation: PlanAccess) -> dict[str, Path]:
    """Proposals, coverage curve and before/after as CSV, ``propuestas.xlsx``,
    ``propuestas.gpkg`` and ``coverage_curve.png``; every measure of the plan, how each
    priority entered and the coverage-equity Pareto front (issue #18) as ``plan_measures.csv``,
    ``plan_measures_by_district.csv``, ``priorities.csv``, ``pareto_front.csv`` /
    ``pareto_front.png`` and sheets of ``propuestas.xlsx``."""
    lang = run.scenario.run.language
    proposals = prop.proposals
    if evaluation.teacher_routes is not None and len(proposals):  # the teacher trip, told in legs
        proposals = proposals.copy()
        for c in evaluation.teacher_routes.columns:
            proposals[c] = evaluation.teacher_routes[c].to_numpy()
        proposals = proposals[[c for c in proposals.columns if c != "geometry"] + ["geometry"]] \
            if "geometry" in proposals.columns else proposals
    written = {"proposals": exports.write_csv(proposals, run.folder / "proposals.csv", lang=None),
               "curve": exports.write_csv(prop.curve, run.folder / "coverage_curve.csv", lang=None),
               "before_after": exports.write_csv(evaluation.before_after, run.folder / "before_after.csv", lang=None)}
    extra = {"medidas": prop.measures, "medidas_distrito": prop.measures_by_district, "prioridades": prop.priorities,
             "frente_pareto": prop.tradeoff.table}
    files = {"medidas": "plan_measures", "medidas_distrito": "plan_measures_by_district",
             "prioridades": "priorities", "frente_pareto": "pareto_front"}
    for key, df in extra.items():
        if len(df):
            written[files[key]] = exports.write_csv(df, run.folder / f"{files[key]}.csv", lang=None)
    if len(prop.near.table):  # the near-optimal site sets (issue #14 item 6)
        written["near_optimal"] = exports.write_csv(prop.near.table, run.folder / "near_optimal.csv", lang=None)
    sheets = {"propuestas": proposals, "curva_cobertura": prop.curve, "antes_despues": evaluation.before_after,
              **{k: v for k, v in extra.items() if len(v)}}
    written["xlsx"] = run.folder / "propuestas.xlsx"
    write_later(exports.write_xlsx, sheets, written["xlsx"], lang=lang,
                readme=exports.ReadMe.from_scenario(run.scenario, caveats=prop.notes))
    written["gpkg"] = exports.write_gpkg({"propuestas": proposals}, run.folder / "propuestas.gpkg", lang=lang)
    written["curve_.png"] = run.folder / "coverage_curve.png"
    if len(prop.tradeoff.table):
        written["pareto_.png"] = run.folder / "pareto_front.png"
    write_later(write_propose_charts, prop.curve, prop.tradeoff, run.folder, lang=lang)  # matplotlib, aside
    run.outputs(written.values())
    return written


def write_propose_charts(curve: pd.DataFrame, tradeoff: Tradeoff, folder: Path, *, lang: str) -> None:
    """``coverage_curve.png`` and, when the front has points, ``pareto_front.png`` into
    ``folder`` (a module-level function: a side process draws them, issue #19)."""
    from .html_report import coverage_chart
    from .objective_section import pareto_chart
    from .static_maps import save_figure

    save_figure(coverage_chart(curve, lang), folder / "coverage_curve", formats=("png",))
    if len(tradeoff.table):
        save_figure(pareto_chart(tradeoff, lang), folder / "pareto_front", formats=("png",))
