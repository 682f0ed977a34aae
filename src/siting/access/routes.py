"""The route behind each place's time: legs as columns, and route lines for the GeoPackage.

:func:`place_routes` follows the shortest-path tree towards the facilities people travel
to (:func:`siting.network.routes.path_tree`) from every place and returns one row per place
with its composition (``route_minutes_walk``, ``route_minutes_connector``,
``route_minutes_<road class>``, ``route_km``, ``route_km_walk``, ``route_km_road``,
``route_climb_m``, ``route_description``).  The parts add up to the place's
``minutes_to_nearest`` (the trip *to* the centre; the way back may differ):

    minutes_to_nearest = route_minutes_walk + route_minutes_connector + sum_c route_minutes_<c>

:func:`route_lines` draws the same paths as LineStrings (EPSG:4326) for the places asked.
"""
from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..network.model import TravelGraph
from ..network.routes import PathTree, legs_table, path_tree, trace

#: facility sets of the graph people travel to (the access stage's sources)
FACILITY_SETS = ("cetpro", "extension")


def facility_tree(graph: TravelGraph) -> PathTree:
    """The shortest-path tree from every place *to* its nearest facility of any set."""
    sources = np.concatenate([graph.point_nodes[k] for k in FACILITY_SETS if k in graph.point_nodes])
    return path_tree(graph, sources, towards=True)


def place_routes(graph: TravelGraph, *, tree: PathTree | None = None, names: Sequence[str] | None = None,
                 lang: str = "es") -> pd.DataFrame:
    """Legs of every place's trip to its nearest facility (one row per place, in order).

    ``names``: the name of each source of the tree (facility sets in :data:`FACILITY_SETS`
    order), used in the sentences ("... hasta CETPRO X")."""
    tree = tree if tree is not None else facility_tree(graph)
    nodes = graph.point_nodes["places"]
    paths = [trace(tree, v) for v in nodes]
    dest = None
    if names is not None:
        src = tree.source[nodes]
        dest = [str(names[s]) if s >= 0 else "" for s in src]
    legs = legs_table(graph, paths, tree.minutes[nodes], lang=lang, destinations=dest)
    legs = legs.drop(columns=["minutes", "n_nodes"])
    return legs.rename(columns={c: f"route_{c}" for c in legs.columns})


def route_lines(graph: TravelGraph, rows: np.ndarray, *, tree: PathTree | None = None) -> gpd.GeoSeries:
    """The path of each place row in ``rows`` as a LineString in EPSG:4326 (empty when the
    place reaches no facility or is on one)."""
    tree = tree if tree is not None else facility_tree(graph)
    nodes = graph.point_nodes["places"][np.asarray(rows, np.int64)]
    lines = []
    for v in nodes:
        path = trace(tree, v)
        lines.append(shapely.linestrings(np.column_stack([graph.x[path], graph.y[path]]))
                     if len(path) >= 2 else shapely.LineString())
    return gpd.GeoSeries(lines, crs=graph.crs).to_crs(4326)


def teacher_routes(graph: TravelGraph, cetpro: pd.DataFrame, places: pd.DataFrame, proposals: pd.DataFrame, *,
                   lang: str = "es") -> pd.DataFrame:
    """Legs of each proposal's teacher trip, parent CETPRO -> proposed site (one row per
    proposal, in order): ``teacher_route_minutes`` (the outbound trip; the sum of its legs),
    ``teacher_route_km``, ``teacher_route_km_road``, ``teacher_route_climb_m`` and
    ``teacher_route_description``.  One Dijkstra pass per distinct parent; a proposal
    without a parent gets empty values."""
    cols = ["teacher_route_minutes", "teacher_route_km", "teacher_route_km_road", "teacher_route_climb_m",
            "teacher_route_description"]
    out = pd.DataFrame(index=range(len(proposals)), columns=cols, dtype=object)
    if not len(proposals) or "parent_cod_mod" not in proposals or "cetpro" not in graph.point_nodes:
        return out
    cet_row = {str(c): i for i, c in enumerate(cetpro["cod_mod"].astype(str))}
    place_row = {str(c): i for i, c in enumerate(places["ccpp_id"].astype(str))}
    parents = proposals["parent_cod_mod"].astype("string").fillna("").to_numpy()
    for parent in sorted(set(parents) - {""}):
        if parent not in cet_row:
            continue
        tree = path_tree(graph, [int(graph.point_nodes["cetpro"][cet_row[parent]])], towards=False)
        rows = np.flatnonzero(parents == parent)
        sites = [int(graph.point_nodes["places"][place_row[str(proposals["ccpp_id"].iloc[k])]]) for k in rows]
        name = str(cetpro["name"].iloc[cet_row[parent]])
        legs = legs_table(graph, [trace(tree, v) for v in sites], tree.minutes[sites], lang=lang,
                          destinations=[str(proposals["name"].iloc[k]) for k in rows])
        out.loc[rows, "teacher_route_minutes"] = legs["minutes"].to_numpy()
        out.loc[rows, "teacher_route_km"] = legs["km"].to_numpy()
        out.loc[rows, "teacher_route_km_road"] = legs["km_road"].to_numpy()
        out.loc[rows, "teacher_route_climb_m"] = legs["climb_m"].to_numpy()
        out.loc[rows, "teacher_route_description"] = [f"{name}: {d}" for d in legs["description"]]
    for c in cols[:-1]:
        out[c] = pd.to_numeric(out[c], errors="coerce")
    return out
