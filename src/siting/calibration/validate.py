"""``siting validate-times``: the model's minutes between the ends of observed trips.

Each trip of the observed-trips table (:mod:`siting.data.trips`) whose two ends match
centros poblados of the scenario's places is routed on the scenario's travel-time graph
(the cached one of :func:`siting.network.build_graph`) from the origin place's node to the
destination place's node (``scipy.sparse.csgraph.dijkstra`` with ``indices=`` the origin
nodes; walking rows on the walking-only graph).  Per trip::

    ratio = modelled_min / observed_min            (1 = exact, < 1 = the model is too fast)

and the headline figures are the median ratio and the median ``|log ratio|`` over the trips
that fit today's roads (``road_state == "current"``), also given over every matched trip.
Writes ``trip_validation.csv`` (every row, matched or not) and ``trips_unmatched.csv``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from ..data import StudyData, load_data
from ..data import trips as trips_mod
from ..io import atomic_path, spreadsheet_safe_frame
from ..network import build_graph
from ..network.graph import TravelGraph
from ..scenario import Scenario
from .fit import median_abs_log
from .labels import text

TABLE_COLUMNS = ["origin", "destination", "observed_min", "modelled_min", "ratio", "log_ratio", "origin_district",
                 "destination_district", "mode", "walking", "road_state", "road_state_why", "used", "matched",
                 "origin_ccpp_id", "destination_ccpp_id", "origin_match", "destination_match", "minutes_low",
                 "minutes_high", "trip_year", "row", "source_url"]


def pair_minutes(graph: TravelGraph, *, origins: np.ndarray, destinations: np.ndarray) -> np.ndarray:
    """Minutes of the shortest path from node ``origins[i]`` to node ``destinations[i]``
    (one Dijkstra per distinct origin; ``inf`` = no path)."""
    origins = np.asarray(origins, dtype=np.int64)
    destinations = np.asarray(destinations, dtype=np.int64)
    if not len(origins):
        return np.zeros(0)
    uniq, pos = np.unique(origins, return_inverse=True)
    dist = np.atleast_2d(dijkstra(graph.matrix, directed=True, indices=uniq))
    return dist[pos, destinations]


def trip_minutes(matched: pd.DataFrame, *, graph: TravelGraph, walk_graph: TravelGraph | None = None) -> np.ndarray:
    """Modelled minutes of every row of :func:`siting.data.trips.match_trips` (NaN when an end
    is unmatched); walking rows use ``walk_graph`` when given."""
    out = np.full(len(matched), np.nan)
    ok = matched["matched"].to_numpy(bool)
    walking = matched["walking"].to_numpy(bool)
    for use, g in ((ok & ~walking, graph), (ok & walking, walk_graph or graph)):
        if use.any():
            nodes = g.point_nodes["places"]
            o = nodes[matched.loc[use, "origin_place"].to_numpy(np.int64)]
            d = nodes[matched.loc[use, "destination_place"].to_numpy(np.int64)]
            out[use] = pair_minutes(g, origins=o, destinations=d)
    return out


def validation_table(matched: pd.DataFrame, modelled: np.ndarray) -> pd.DataFrame:
    """The ``trip_validation.csv`` table: one row per trip (:data:`TABLE_COLUMNS`)."""
    t = matched.copy()
    t["modelled_min"] = np.round(modelled, 3)  # 3 decimals: the medians of every output agree to 1e-4
    t["ratio"] = np.round(modelled / t["observed_min"].to_numpy(float), 4)
    with np.errstate(divide="ignore", invalid="ignore"):
        t["log_ratio"] = np.round(np.log(modelled / t["observed_min"].to_numpy(float)), 4)
    t["used"] = t["matched"] & (t["road_state"] == "current") & np.isfinite(modelled)
    return t[[c for c in TABLE_COLUMNS if c in t.columns]].reset_index(drop=True)


def summarise(table: pd.DataFrame) -> dict[str, float | int]:
    """Counts and the two headline figures over the ``used`` trips and over every matched trip."""
    def figures(sel: pd.Series) -> tuple[float, float, int]:
        r = table.loc[sel, "modelled_min"].to_numpy(float) / table.loc[sel, "observed_min"].to_numpy(float)
        r = r[np.isfinite(r)]
        return (float(np.median(r)) if len(r) else float("nan")), median_abs_log(r), int(len(r))

    used = figures(table["used"].astype(bool))
    every = figures(table["matched"].astype(bool))
    return {"rows": int(len(table)), "matched": int(table["matched"].sum()), "used": used[2],
            "median_ratio": used[0], "median_abs_log": used[1],
            "median_ratio_all": every[0], "median_abs_log_all": every[1], "matched_finite": every[2],
            "unreachable": int((table["matched"] & ~np.isfinite(table["modelled_min"].astype(float))).sum())}


@dataclass(frozen=True)
class Validation:
    """What :func:`validate_times` computed and wrote."""

    table: pd.DataFrame
    matched: pd.DataFrame  # match_trips output (place rows of each end)
    summary: dict[str, float | int]
    files: dict[str, Path] = field(default_factory=dict)


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` as UTF-8 CSV atomically (text cells made spreadsheet-safe)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        spreadsheet_safe_frame(df).to_csv(tmp, index=False, encoding="utf-8")
    return path


def summary_lines(summary: dict, lang: str) -> list[str]:
    """The printed figures (Spanish by default)."""
    return [text("rows", lang, n=summary["rows"], matched=summary["matched"], used=summary["used"]),
            text("figures", lang, what=text("current", lang), ratio=summary["median_ratio"],
                 err=summary["median_abs_log"], n=summary["used"]),
            text("figures", lang, what=text("all", lang), ratio=summary["median_ratio_all"],
                 err=summary["median_abs_log_all"], n=summary["matched_finite"])]


def route_trips(sc: Scenario, data: StudyData, *, matched: pd.DataFrame,
                graph: TravelGraph | None = None) -> tuple[np.ndarray, TravelGraph, TravelGraph | None]:
    """Modelled minutes of the matched trips on the scenario's graphs (built or from the cache)."""
    graph = graph if graph is not None else build_graph(sc, data)
    need_walk = bool((matched["matched"] & matched["walking"]).any()) and graph.mode != "walk"
    walk = build_graph(sc, data, mode="walk") if need_walk else None
    return trip_minutes(matched, graph=graph, walk_graph=walk), graph, walk


def validate_times(sc: Scenario, trips_path: str | Path, *, output: str | Path | None = None,
                   lang: str | None = None, progress: bool = False, data: StudyData | None = None,
                   quiet: bool = False) -> Validation:
    """``siting validate-times``: match, route, write ``trip_validation.csv`` and
    ``trips_unmatched.csv`` into ``output`` (default ``run.output_dir``), print the figures."""
    lang = lang or sc.run.language
    folder = Path(output or sc.run.output_dir)
    data = data if data is not None else load_data(sc, progress=progress)
    trips = trips_mod.read_trips(trips_path, lang=lang)
    matched = trips_mod.match_trips(trips, data.places, crs=data.crs, lang=lang)
    minutes, _, _ = route_trips(sc, data, matched=matched)
    table = validation_table(matched, minutes)
    summary = summarise(table)
    files = {"trip_validation": write_csv(table, folder / "trip_validation.csv"),
             "trips_unmatched": write_csv(trips_mod.unmatched(matched), folder / "trips_unmatched.csv")}
    if not quiet:
        for line in summary_lines(summary, lang):
            print(line)
        print(text("unmatched", lang, n=int((~matched["matched"]).sum()), file=files["trips_unmatched"]))
        if summary["unreachable"]:
            print(text("unreachable", lang, n=summary["unreachable"]))
        print(text("written", lang, file=files["trip_validation"]))
    return Validation(table, matched, summary, files)
