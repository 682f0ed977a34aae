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
