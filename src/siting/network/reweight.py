"""The same graph under other road speeds and detour factor, without rebuilding it.

Only the road node <-> road node edges depend on ``speeds.road_kmh`` and
``speeds.approximate_detour_factor`` (see :mod:`siting.network.graph`): walking on the grid
and every connector leg follow Tobler and do not change.  :func:`reweighted` recomputes the
road segments with the new speeds (:func:`siting.network.graph.timed_segments` on the
lines cut once by :func:`siting.network.graph.road_pieces`: the very functions the builder
uses, so the node numbering and the "fastest of two lines" rule are the same) and writes
their minutes into a copy of the matrix::

    t'(a, b) = max(L_ab * d'_ab / v'(class_ab) * 60 / 1000, MIN_EDGE_MIN)

(``d'_ab`` = the new detour factor on segments flagged ``approximate``, 1 elsewhere).  The
result equals ``build_travel_graph`` with the new speeds entry for entry (tested), at the
cost of one pass over the roads instead of a whole build.
"""
from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import scipy.sparse as sp

from ..data.terrain import Terrain
from ..scenario import Speeds
from .graph import MIN_EDGE_MIN, RoadPieces, road_pieces, timed_segments
from .model import ROAD, TravelGraph


def road_edge_positions(graph: TravelGraph) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``graph.matrix.data`` of the road <-> road edges and their segment keys
    ``lo * n_road + hi`` (road-local ids)."""
    m = graph.matrix
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    is_road = graph.kind == ROAD
    pos = np.flatnonzero(is_road[rows] & is_road[m.indices])
    a = rows[pos].astype(np.int64) - graph.n_cells
    b = m.indices[pos].astype(np.int64) - graph.n_cells
    n_road = int(is_road.sum())
    return pos, np.minimum(a, b) * n_road + np.maximum(a, b)


def graph_road_pieces(roads: gpd.GeoDataFrame, terrain: Terrain, *, merge_tolerance_m: float = 1.0
                      ) -> RoadPieces | None:
    """The speed-independent road pieces of a graph built from ``roads`` on ``terrain``
    (:func:`siting.network.graph.road_pieces`), to re-time many draws without cutting the lines again."""
    return road_pieces(roads, terrain.crs, terrain.cell_size / 2.0, merge_tolerance_m)


def reweighted(graph: TravelGraph, roads: gpd.GeoDataFrame, terrain: Terrain, speeds: Speeds, *,
               merge_tolerance_m: float = 1.0, positions: tuple[np.ndarray, np.ndarray] | None = None,
               pieces: RoadPieces | None = None) -> TravelGraph:
    """``graph`` with its road edges re-timed under ``speeds`` (see the module docstring).

    ``roads`` and ``terrain`` must be those the graph was built from; ``positions`` (from
    :func:`road_edge_positions`) and ``pieces`` (from :func:`graph_road_pieces`) may be passed
    to re-time many draws of one graph."""
    if graph.mode != "roads+walk" or roads is None or not len(roads):
        return graph
    pos, key = road_edge_positions(graph) if positions is None else positions
    if pieces is None:
        pieces = graph_road_pieces(roads, terrain, merge_tolerance_m=merge_tolerance_m)
    seg = timed_segments(pieces, speeds)
    seg_key = seg.i.astype(np.int64) * len(seg.xy) + seg.j.astype(np.int64)
    order = np.argsort(seg_key, kind="stable")
    seg_key, seg_min = seg_key[order], seg.minutes[order]
    at = np.clip(np.searchsorted(seg_key, key), 0, max(len(seg_key) - 1, 0))
    if not len(seg_key) or not np.array_equal(seg_key[at], key):
        raise ValueError("the roads do not give the graph's road segments: pass the roads and terrain "
                         "it was built from")
    data = graph.matrix.data.copy()
    data[pos] = np.maximum(seg_min[at], MIN_EDGE_MIN)
    matrix = sp.csr_array((data, graph.matrix.indices, graph.matrix.indptr), shape=graph.matrix.shape)
    out = dataclasses.replace(graph, matrix=matrix, key=f"{graph.key}:reweighted")
    out.__dict__.pop("reverse", None)  # the cached transpose belongs to the old weights
    return out
