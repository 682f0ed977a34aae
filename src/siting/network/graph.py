"""One directed graph of minutes: terrain grid + roads + costed connectors to points.

Nodes, in this order (``graph.kind`` codes ``CELL``/``ROAD``/``POINT``):

1. **cells** - every cell of the DEM grid, node id = ``row * n_cols + col`` (cells with no
   elevation or on a barrier have no edges);
2. **road nodes** - line ends and junctions (vertices shared by two lines; vertices closer
   than ``merge_tolerance_m`` are one node), plus nodes resampled along each line so that
   consecutive road nodes are at most ``cell_size / 2`` apart (along-line length kept);
3. **points** - one node per row of each GeoDataFrame in ``points`` (places, facilities...),
   at its true position; ``graph.point_nodes[name]`` gives the node ids in row order.

Edges (directed, weight = minutes):

* cell -> neighbour cell (8 or 16 neighbours; a 16-neighbour "knight" move needs the two
  cells it crosses to be passable too), horizontal distance ``d`` between centres,
  rise ``dh``, land-cover multipliers ``m_a``, ``m_b`` of both cells (1 without a raster)::

      t = d / 1000 / v(dh/d) * 60 * (1/m_a + 1/m_b) / 2        v = Tobler (speeds.tobler_kmh)

  (the averaging of the two cells' costs is the convention of scikit-image's
  ``MCP_Geometric``); ``A -> B`` uphill is slower than ``B -> A`` downhill;
* road node <-> road node (both ways): ``t = length * detour / v(class) * 60 / 1000`` with
  ``detour = speeds.detour_factor_by_class[class]`` (else ``speeds.approximate_detour_factor``)
  for segments flagged ``approximate`` (:func:`siting.network.speeds.detour_factors`);
* road node <-> the cell it lies in, and point <-> the cell it lies in, and point <-> up to
  ``road_connector_k`` road nodes within ``road_connector_radius_m`` (default: one cell):
  walking legs over the real straight distance with Tobler's speed on the elevation
  difference (point elevation = its ``altitude_m`` when known, otherwise the DEM cell;
  road nodes take their cell's elevation; slope clipped to ``max_connector_slope``), times
  ``speeds.connector_walk_factor``.  Nothing is snapped at zero cost.

The result is cached in ``cache_dir`` under a hash of every input and parameter.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..data.terrain import Terrain
from ..errors import DataError
from ..scenario import Speeds
from .cache import CACHE_VERSION, load_cached, save_cached
from .legs import Edges, grid_cells, point_layer, road_layer
from .memory import check_memory, graph_memory_estimate
from .model import CELL, KIND_NAMES, POINT, ROAD, TravelGraph
from .speeds import detour_factors, road_speed_kmh, walk_minutes
from .speeds import minutes as _minutes

__all__ = ["CELL", "KIND_NAMES", "POINT", "ROAD", "TravelGraph", "build_travel_graph", "point_flags", "to_networkx"]

log = logging.getLogger(__name__)

MIN_EDGE_MIN = 1e-9  # floor on an edge's minutes (a 0 weight would be ambiguous in sparse storage)

_OFFSETS_8 = [(0, 1), (1, 0), (1, 1), (1, -1)]
_OFFSETS_16 = _OFFSETS_8 + [(1, 2), (2, 1), (1, -2), (2, -1)]

# --------------------------------------------------------------------------- helpers


def _speeds_key(speeds: Speeds) -> dict:
    key = asdict(speeds)
    key.pop("calibration", None)  # provenance text only: the same speeds give the same graph
    return key


def _hash_inputs(terrain: Terrain, roads: gpd.GeoDataFrame | None, speeds: Speeds,
                 points: Mapping[str, gpd.GeoDataFrame], options: dict, landcover: np.ndarray | None) -> str:
    h = hashlib.sha256()
    h.update(CACHE_VERSION.encode())
    h.update(np.ascontiguousarray(terrain.elevation, dtype=np.float64).tobytes())
    h.update(repr(tuple(terrain.transform)[:6]).encode())
    h.update(str(terrain.crs).encode())
    if landcover is not None:
        h.update(np.ascontiguousarray(landcover, dtype=np.float64).tobytes())
    if roads is not None and len(roads):
        h.update(str(roads.crs).encode())
        for wkb in shapely.to_wkb(np.asarray(roads.geometry.values)):
            h.update(wkb or b"")
        h.update("|".join(map(str, roads["road_class"])).encode())
        h.update(np.asarray(roads.get("approximate", pd.Series(False, index=roads.index)), dtype=bool).tobytes())
    for name, gdf in points.items():
        h.update(name.encode())
        h.update(str(gdf.crs).encode())
        h.update(shapely.get_coordinates(np.asarray(gdf.geometry.values)).tobytes())
        alt = options.get("altitude_column")
        if alt and alt in gdf.columns:
            h.update(pd.to_numeric(gdf[alt], errors="coerce").to_numpy(dtype=float).tobytes())
    h.update(json.dumps({"speeds": _speeds_key(speeds), "options": options}, sort_keys=True, default=str).encode())
    return h.hexdigest()[:20]


def _crossed(dr: int, dc: int) -> list[tuple[int, int]]:
    """Cells (relative to the start) that the straight move (dr, dc) crosses besides its two
    ends: none for the 8 neighbours, two for a knight move of the 16-neighbourhood."""
    if abs(dr) == 1 and abs(dc) == 2:
        return [(0, int(np.sign(dc))), (dr, int(np.sign(dc)))]
    if abs(dr) == 2 and abs(dc) == 1:
        return [(int(np.sign(dr)), 0), (int(np.sign(dr)), dc)]
    return []


def _grid_edges(terrain: Terrain, speeds: Speeds, landcover: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed cell -> cell edges, vectorised over the grid (one pass per neighbour offset)."""
    elev = np.asarray(terrain.elevation, dtype=np.float64)
    rows, cols = elev.shape
    cell = terrain.cell_size
    valid = np.isfinite(elev)
    if landcover is not None:
        mult = np.where(np.isfinite(landcover), landcover, 1.0).astype(np.float64)
        valid &= mult > 0
        inv = np.where(mult > 0, 1.0 / np.where(mult > 0, mult, 1.0), np.inf)
    else:
        inv = None
    idx = np.arange(rows * cols, dtype=np.int64).reshape(rows, cols)
    offsets = _OFFSETS_16 if speeds.grid_neighbours == 16 else _OFFSETS_8
    src, dst, wt = [], [], []
    for dr, dc in offsets:
        if dr >= rows or abs(dc) >= cols:
            continue
        rs, rt = slice(0, rows - dr), slice(dr, rows)
        cs = slice(max(0, -dc), cols - max(0, dc))
        ct = slice(max(0, dc), cols + min(0, dc))
        ok = valid[rs, cs] & valid[rt, ct]
        for ir, ic in _crossed(dr, dc):  # a knight move must not jump over a barrier / no-data cell
            ok &= valid[rs.start + ir:rs.stop + ir, cs.start + ic:cs.stop + ic]
        a = idx[rs, cs][ok]
        b = idx[rt, ct][ok]
        dh = (elev[rt, ct] - elev[rs, cs])[ok]
        dist = cell * float(np.hypot(dr, dc))
        t_ab = walk_minutes(dist, dh, speeds)
        t_ba = walk_minutes(dist, -dh, speeds)
        if inv is not None:
            f = 0.5 * (inv[rs, cs][ok] + inv[rt, ct][ok])
            t_ab = t_ab * f
            t_ba = t_ba * f
        src += [a, b]
        dst += [b, a]
        wt += [t_ab, t_ba]
    if not src:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(src), np.concatenate(dst), np.concatenate(wt)


class RoadSegments(NamedTuple):
    """Road nodes and undirected segments ``i < j`` of :func:`_road_segments`."""

    xy: np.ndarray  # (n_road, 2) node coordinates
    i: np.ndarray
    j: np.ndarray
    minutes: np.ndarray
    road_class: np.ndarray  # code into class_names per segment
    metres: np.ndarray  # along-line length x detour factor per segment
    class_names: tuple[str, ...]


class RoadPieces(NamedTuple):
    """The speed-independent part of :func:`_road_segments`: nodes and the steps along each
    line between them (``i``, ``j`` unordered, ``step_m`` along-line metres), the line of each
    step (``line``) and each line's class and "approximate" flag."""

    xy: np.ndarray
    i: np.ndarray
    j: np.ndarray
    step_m: np.ndarray
    line: np.ndarray
    line_class: np.ndarray  # road_class per line (str)
    line_approximate: np.ndarray  # bool per line


def _road_segments(roads: gpd.GeoDataFrame, crs: str, max_len: float, speeds: Speeds, merge_tol: float
                   ) -> RoadSegments:
    """Road node coordinates and undirected segments (i, j, minutes), joined at junctions,
    with each segment's road class and length (metres, times its detour factor).

    Vertices closer than ``merge_tol`` are one node.  Every line is cut at its ends and at
    every vertex it shares with another line (a junction); each piece between two such
    nodes, of along-line length ``L``, is resampled into ``n = ceil(L / max_len)`` equal
    steps (nodes interpolated along the line), each step costing
    ``L / n * detour / v(class)``: the along-line length is kept exactly while the other
    vertices of detailed lines do not become nodes.  The geometry (:func:`road_pieces`) does
    not depend on ``speeds``; the minutes (:func:`timed_segments`) do.
    """
    return timed_segments(road_pieces(roads, crs, max_len, merge_tol), speeds)


def road_pieces(roads: gpd.GeoDataFrame, crs: str, max_len: float, merge_tol: float) -> RoadPieces | None:
    """The nodes and steps of :func:`_road_segments` (``None`` when no line makes a step);
    computed once, they are re-timed for many speed tables by :func:`timed_segments`."""
    missing = [c for c in ("road_class", "geometry") if c not in roads.columns]
    if missing:
        raise DataError(f"road table lacks column(s) {', '.join(missing)}", source="roads",
                        hint="roads must come from siting.data.roads.load_roads")
    g = roads.to_crs(crs) if roads.crs is not None and str(roads.crs) != str(crs) else roads
    approx = np.asarray(g["approximate"] if "approximate" in g.columns else np.zeros(len(g), bool), dtype=bool)
    classes = g["road_class"].astype(str).to_numpy()
    geoms = shapely.force_2d(np.asarray(g.geometry.values))
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    keep = (shapely.get_type_id(parts) == 1) & ~shapely.is_empty(parts)  # LineStrings
    parts, part_of = parts[keep], part_of[keep]
    if len(parts) == 0:
        return None
    parts = _split_at_touching_ends(parts, merge_tol)
    coords, line = shapely.get_coordinates(parts, return_index=True)
    if len(coords) < 2:
        return None
    pairs = cKDTree(coords).query_pairs(merge_tol, output_type="ndarray")
    near = sp.coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(coords), len(coords)))
    _, vid = connected_components(near, directed=False)  # vertices within merge_tol form one node
    vid = vid.astype(np.int64)
    # drop consecutive repeats of the same node within a line
    dup = np.zeros(len(vid), bool)
    dup[1:] = (line[1:] == line[:-1]) & (vid[1:] == vid[:-1])
    coords, line, vid = coords[~dup], line[~dup], vid[~dup]
    n_v = len(vid)
    start = np.ones(n_v, bool)
    start[1:] = line[1:] != line[:-1]
    end = np.ones(n_v, bool)
    end[:-1] = line[1:] != line[:-1]
    step = np.zeros(n_v)
    step[1:] = np.hypot(*(coords[1:] - coords[:-1]).T)
    step[start] = 1.0  # a 1 m gap between lines keeps the global abscissa strictly increasing
    gcum = np.cumsum(step)
    joint = start | end | (np.bincount(vid)[vid] > 1)
    K = np.flatnonzero(joint)
    same = line[K[1:]] == line[K[:-1]]
    a, b = K[:-1][same], K[1:][same]
    L = gcum[b] - gcum[a]
    ok = (L > 0) & (vid[a] != vid[b])
    a, b, L = a[ok], b[ok], L[ok]
    if len(a) == 0:
        return None
    n = np.maximum(1, np.ceil(L / max_len - 1e-9)).astype(np.int64)
    feat = part_of[line[a]]
    # node ids: joints keep their merged id (compacted), samples are numbered after them
    used, jid = np.unique(np.concatenate([vid[a], vid[b]]), return_inverse=True)
    ja, jb = jid[: len(a)], jid[len(a):]
    jxy = np.zeros((len(used), 2))
    cnt = np.zeros(len(used))
    remap = np.full(vid.max() + 1, -1, np.int64)
    remap[used] = np.arange(len(used))
    m = remap[vid]
    sel = m >= 0
    np.add.at(jxy, m[sel], coords[sel])
    np.add.at(cnt, m[sel], 1.0)
    jxy /= cnt[:, None]
    n_samples = n - 1
    off = len(used) + np.concatenate([[0], np.cumsum(n_samples)[:-1]])
    piece = np.repeat(np.arange(len(a)), n_samples)
    k = np.arange(n_samples.sum()) - np.repeat(off - len(used), n_samples) + 1  # 1 .. n-1 within a piece
    dist = gcum[a][piece] + L[piece] * k / n[piece]
    sxy = np.column_stack([np.interp(dist, gcum, coords[:, 0]), np.interp(dist, gcum, coords[:, 1])])
    xy = np.vstack([jxy, sxy])
    # edges: piece p has n[p] steps
    ep = np.repeat(np.arange(len(a)), n)
    ek = np.arange(n.sum()) - np.repeat(np.concatenate([[0], np.cumsum(n)[:-1]]), n)  # 0 .. n-1
    i = np.where(ek == 0, ja[ep], off[ep] + ek - 1)
    j = np.where(ek == n[ep] - 1, jb[ep], off[ep] + ek)
    return RoadPieces(xy, i, j, L[ep] / n[ep], feat[ep], classes, approx)


def timed_segments(pieces: RoadPieces | None, speeds: Speeds) -> RoadSegments:
    """The segments of :func:`_road_segments` from its ``pieces`` under ``speeds``: each step
    costs ``step_m * detour(class) / v(class)``; of the same pair from two lines the fastest."""
    if pieces is None:
        return RoadSegments(np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0),
                            np.zeros(0, np.int16), np.zeros(0), ())
    kmh = np.asarray(road_speed_kmh(list(pieces.line_class), speeds.road_kmh), dtype=float)
    factor = detour_factors(pieces.line_class, pieces.line_approximate, speeds)
    class_names, class_code = np.unique(pieces.line_class, return_inverse=True)
    feat, i, j = pieces.line, pieces.i, pieces.j
    metres = pieces.step_m * factor[feat]
    t = _minutes(metres, kmh[feat])
    # the same pair from two lines: keep the fastest (order pairs so i < j)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    order = np.lexsort((t, hi, lo))
    lo, hi, t = lo[order], hi[order], t[order]
    first = np.ones(len(lo), bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    keep_edge = order[first]
    return RoadSegments(pieces.xy, lo[first], hi[first], t[first], class_code[feat][keep_edge].astype(np.int16),
                        metres[keep_edge], tuple(str(c) for c in class_names))


def cut_road_segments(roads: gpd.GeoDataFrame, crs: str, cell_size: float, speeds: Speeds, *,
                      merge_tolerance_m: float = 1.0) -> RoadSegments:
    """The road nodes and segments :func:`build_travel_graph` cuts from ``roads`` on a grid of
    ``cell_size`` (nodes at most ``cell_size / 2`` apart along the lines)."""
    return _road_segments(roads, crs, cell_size / 2.0, speeds, merge_tolerance_m)


def _split_at_touching_ends(parts: np.ndarray, tol: float) -> np.ndarray:
    """Insert a vertex into a line wherever another line's end touches it (within ``tol``)
    away from its vertices, so that T-junctions become shared nodes."""
    ends = np.concatenate([shapely.get_point(parts, 0), shapely.get_point(parts, -1)])
    owner = np.concatenate([np.arange(len(parts)), np.arange(len(parts))])
    ei, li = shapely.STRtree(parts).query(ends, predicate="dwithin", distance=tol)
    other = owner[ei] != li
    ei, li = ei[other], li[other]
    if len(ei) == 0:
        return parts
    parts = parts.copy()
    at = shapely.line_locate_point(parts[li], ends[ei])
    order = np.lexsort((at, li))
    ei, li, at = ei[order], li[order], at[order]
    bounds = np.flatnonzero(np.r_[True, li[1:] != li[:-1], True])
    for s0, s1 in zip(bounds[:-1], bounds[1:]):  # one iteration per line that has T-junctions (few)
        k = li[s0]
        xy = shapely.get_coordinates(parts[k])
        cum = np.r_[0.0, np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]
        pos = at[s0:s1]
        near = np.min(np.abs(cum[None, :] - pos[:, None]), axis=1) <= tol
        if near.all():
            continue
        new_xy = shapely.get_coordinates(shapely.line_interpolate_point(parts[k], pos[~near]))
        allpos = np.r_[cum, pos[~near]]
        allxy = np.vstack([xy, new_xy])
        parts[k] = shapely.LineString(allxy[np.argsort(allpos, kind="stable")])
    return parts


# --------------------------------------------------------------------------- build


def build_travel_graph(terrain: Terrain, roads: gpd.GeoDataFrame | None, speeds: Speeds,
                       points: Mapping[str, gpd.GeoDataFrame] | None = None, *,
                       landcover: np.ndarray | None = None,
                       mode: str | None = None,
                       cache_dir: str | Path | None = None,
                       altitude_column: str = "altitude_m",
                       road_connector_radius_m: float | None = None,
                       road_connector_k: int = 4,
                       max_connector_slope: float = 0.25,
                       merge_tolerance_m: float = 1.0,
                       available_memory_bytes: int | None = None,
                       road_segments: RoadSegments | None = None) -> TravelGraph:
    """Build (or load from ``cache_dir``) the travel-time graph from its inputs (the stage
    wrapper on a scenario and its data is :func:`siting.network.build_graph`).

    ``terrain``: the DEM in a projected CRS (``siting.data.terrain.Terrain``); ``roads``: the
    ``load_roads`` table (``road_class``, ``approximate``, LineStrings; ignored in "walk" mode);
    ``speeds``: the scenario's ``[speeds]``; ``points``: ``{name: GeoDataFrame of points}``.
    ``landcover``: optional walking-speed multipliers on the terrain grid (0 = barrier,
    NaN = 1; see :func:`siting.data.landcover.read_multipliers`).  ``mode`` overrides
    ``speeds.mode``.  Before anything is built, the memory it needs is estimated
    (:func:`estimate_graph_memory`) and a study area too large for ``available_memory_bytes``
    (default: the memory available now) is refused with a :class:`UserError`.
    ``road_segments``: road nodes and segments already cut from the road lines
    (:func:`cut_road_segments`, e.g. the part of the whole network inside a window, used by
    :mod:`siting.distributed_partitions`); given, ``roads`` is ignored and the graph is not cached.
    """
    points = dict(points or {})
    mode = mode or speeds.mode
    if mode not in {"walk", "roads+walk"}:
        raise DataError(f"unknown travel mode {mode!r}", hint='use "walk" or "roads+walk" (speeds.mode)')
    if landcover is not None and np.shape(landcover) != terrain.shape:
        raise DataError(f"land-cover multipliers have shape {np.shape(landcover)}, the DEM {terrain.shape}",
                        source="inputs.landcover_speeds",
                        hint="resample it with siting.data.landcover.read_multipliers")
    if road_segments is not None:
        roads, cache_dir = None, None
    use_roads = mode == "roads+walk" and ((roads is not None and len(roads) > 0) or road_segments is not None)
    check_memory(graph_memory_estimate(terrain, roads, speeds, points, mode=mode), available=available_memory_bytes)
    radius = terrain.cell_size if road_connector_radius_m is None else float(road_connector_radius_m)
    options = {"mode": mode, "altitude_column": altitude_column, "radius": radius, "k": road_connector_k,
               "max_connector_slope": max_connector_slope, "merge_tolerance_m": merge_tolerance_m,
               "use_roads": use_roads}
    key = _hash_inputs(terrain, roads if use_roads else None, speeds, points, options, landcover)
    cache_file = Path(cache_dir) / f"travel_graph_{key}.npz" if cache_dir else None
    if cache_file is not None and cache_file.exists():
        g = load_cached(cache_file, key=key, points={n: len(p) for n, p in points.items()})
        if g is not None:
            log.info("travel graph loaded from cache %s", cache_file)
            return g

    rows, cols = terrain.shape
    n_cells = rows * cols
    cells = grid_cells(terrain, landcover)
    edges = Edges()
    edges.add(*_grid_edges(terrain, speeds, landcover))
    segments = road_segments if road_segments is not None and use_roads else \
        _road_segments(roads, terrain.crs, terrain.cell_size / 2.0, speeds, merge_tolerance_m) \
        if use_roads and roads is not None else None
    road = road_layer(segments, terrain, speeds, cells, edges)
    n_road = len(road.xy)
    next_id = n_cells + n_road
    point_nodes: dict[str, np.ndarray] = {}
    point_info: dict[str, pd.DataFrame] = {}
    px_all, py_all = [], []
    for name, gdf in points.items():
        ids = np.arange(next_id, next_id + len(gdf), dtype=np.int64)
        next_id += len(gdf)
        px, py, point_info[name] = point_layer(name, gdf, ids, terrain, speeds, cells, road, edges,
                                                altitude_column=altitude_column, radius=radius,
                                                road_connector_k=road_connector_k,
                                                max_connector_slope=max_connector_slope)
        point_nodes[name] = ids
        px_all.append(px)
        py_all.append(py)

    n_nodes = next_id
    i = np.concatenate(edges.src).astype(np.int64)
    j = np.concatenate(edges.dst).astype(np.int64)
    w = np.maximum(np.concatenate(edges.wt), MIN_EDGE_MIN)
    idx_dtype = np.int32 if n_nodes < 2**31 - 1 else np.int64
    matrix = sp.csr_array((w, (i.astype(idx_dtype), j.astype(idx_dtype))), shape=(n_nodes, n_nodes))
    matrix.sum_duplicates()  # pairs are unique by construction; this only sorts indices
    kind = np.concatenate([np.full(n_cells, CELL, np.int8), np.full(n_road, ROAD, np.int8),
                           np.full(n_nodes - n_cells - n_road, POINT, np.int8)])
    x = np.concatenate([cells.cx, road.xy[:, 0]] + px_all)
    y = np.concatenate([cells.cy, road.xy[:, 1]] + py_all)
    graph = TravelGraph(matrix=matrix, kind=kind, x=x, y=y, shape=(rows, cols), transform=terrain.transform,
                        crs=str(terrain.crs), mode=mode, point_nodes=point_nodes, point_info=point_info,
                        road_component_size=np.asarray(road.comp_size, np.int64), key=key,
                        **_route_tables(cells.elev, road.elev, point_info, segments))
    if cache_file is not None:
        save_cached(graph, cache_file)
    return graph


def _route_tables(cell_elev: np.ndarray, road_elev: np.ndarray, point_info: Mapping[str, pd.DataFrame],
                  segments: RoadSegments | None) -> dict:
    """What routes are told with: the elevation of every node (cells and road nodes: their
    DEM cell; points: the DEM cell they lie in, NaN outside it) and the road segments keyed
    ``lo * n_road + hi`` (road-local ids, sorted) with their class and length."""
    point_elev = [np.where(info["cell"].to_numpy() >= 0, cell_elev[np.clip(info["cell"].to_numpy(), 0, None)],
                           np.nan) for info in point_info.values()]
    elevation = np.concatenate([cell_elev, road_elev, *point_elev]).astype(np.float32)
    if segments is None or not len(segments.i):
        return {"elevation": elevation}
    key = segments.i.astype(np.int64) * len(segments.xy) + segments.j.astype(np.int64)
    order = np.argsort(key, kind="stable")
    return {"elevation": elevation, "road_segment_key": key[order],
            "road_segment_class": segments.road_class[order].astype(np.int16),
            "road_segment_m": segments.metres[order].astype(np.float32), "road_class_names": segments.class_names}


# --------------------------------------------------------------------------- flags


def point_flags(graph: TravelGraph, name: str, *, far_from_road_km: float = 5.0,
                min_road_component_nodes: int = 20) -> pd.DataFrame:
    """Validation flags of the points ``name`` (one row per input row, same order).

    ``outside_dem`` (no elevation: only reachable through nearby roads, if any),
    ``on_impassable_cell`` (land-cover barrier), ``far_from_road`` (nearest road node more
    than ``far_from_road_km`` away; always False in "walk" mode), ``small_road_component``
    (the nearest road belongs to a piece of network with fewer than
    ``min_road_component_nodes`` nodes: probably a disconnected fragment).
    """
    info = graph.point_info[name].copy()
    has_roads = graph.road_nodes.size > 0
    info["far_from_road"] = has_roads & (info["road_distance_m"] > far_from_road_km * 1000.0)
    info["small_road_component"] = has_roads & (info["road_component_nodes"] < min_road_component_nodes)
    return info


def to_networkx(graph: TravelGraph | sp.sparray):
    """The same graph as a ``networkx.DiGraph`` with ``weight`` = minutes (reference tests)."""
    import networkx as nx
    m = graph.matrix if isinstance(graph, TravelGraph) else graph
    return nx.from_scipy_sparse_array(sp.csr_array(m), create_using=nx.DiGraph, edge_attribute="weight")
