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
  ``detour = speeds.approximate_detour_factor`` for segments flagged ``approximate``;
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
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from affine import Affine
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..data.terrain import Terrain
from ..errors import DataError, UserError
from ..io import atomic_path, remove_partial_files
from ..scenario import Speeds
from .legs import Edges, grid_cells, point_layer, road_layer
from .speeds import minutes as _minutes
from .speeds import road_speed_kmh, walk_minutes

log = logging.getLogger(__name__)

CELL, ROAD, POINT = 0, 1, 2
KIND_NAMES = np.array(["cell", "road", "point"])
MIN_EDGE_MIN = 1e-9  # floor on an edge's minutes (a 0 weight would be ambiguous in sparse storage)
CACHE_VERSION = "2"  # 2: content digest and key checked on load
CACHE_PART_MAX_AGE_S = 3600.0  # a graph-cache temporary older than this was left by a killed run

_OFFSETS_8 = [(0, 1), (1, 0), (1, 1), (1, -1)]
_OFFSETS_16 = _OFFSETS_8 + [(1, 2), (2, 1), (1, -2), (2, -1)]


@dataclass(eq=False)
class TravelGraph:
    """A directed travel-time graph (minutes) with its node tables."""

    matrix: sp.csr_array  # (n, n), row = from-node, column = to-node, minutes
    kind: np.ndarray  # int8 per node: CELL, ROAD or POINT
    x: np.ndarray  # projected x per node (metres)
    y: np.ndarray
    shape: tuple[int, int]  # terrain grid (rows, cols); cells are nodes 0 .. rows*cols-1
    transform: Affine
    crs: str
    mode: str
    point_nodes: dict[str, np.ndarray] = field(default_factory=dict)
    point_info: dict[str, pd.DataFrame] = field(default_factory=dict)
    road_component_size: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # per road node
    key: str = ""

    @property
    def n_nodes(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.matrix.nnz)

    @property
    def n_cells(self) -> int:
        return int(self.shape[0] * self.shape[1])

    @property
    def road_nodes(self) -> np.ndarray:
        return np.flatnonzero(self.kind == ROAD)

    @property
    def nodes(self) -> pd.DataFrame:
        """Node table: ``kind`` ("cell"/"road"/"point"), ``x``, ``y`` (projected CRS)."""
        return pd.DataFrame({"kind": pd.Categorical.from_codes(self.kind, KIND_NAMES), "x": self.x, "y": self.y})

    @cached_property
    def reverse(self) -> sp.csr_array:
        """The transposed graph (edges reversed), for "time *to* a node" queries."""
        return sp.csr_array(self.matrix.T.tocsr())

    def cell_grid(self, values: np.ndarray) -> np.ndarray:
        """Per-node values (length ``n_nodes``) or per-cell values as a (rows, cols) grid."""
        values = np.asarray(values)
        return values[: self.n_cells].reshape(self.shape)


# --------------------------------------------------------------------------- helpers


def _speeds_key(speeds: Speeds) -> dict:
    return asdict(speeds)


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


def _road_segments(roads: gpd.GeoDataFrame, crs: str, max_len: float, speeds: Speeds, merge_tol: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Road node coordinates and undirected segments (i, j, minutes), joined at junctions.

    Vertices closer than ``merge_tol`` are one node.  Every line is cut at its ends and at
    every vertex it shares with another line (a junction); each piece between two such
    nodes, of along-line length ``L``, is resampled into ``n = ceil(L / max_len)`` equal
    steps (nodes interpolated along the line), each step costing
    ``L / n * detour / v(class)``: the along-line length is kept exactly while the other
    vertices of detailed lines do not become nodes.
    """
    missing = [c for c in ("road_class", "geometry") if c not in roads.columns]
    if missing:
        raise DataError(f"road table lacks column(s) {', '.join(missing)}", source="roads",
                        hint="roads must come from siting.data.roads.load_roads")
    empty = np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    g = roads.to_crs(crs) if roads.crs is not None and str(roads.crs) != str(crs) else roads
    approx = np.asarray(g["approximate"] if "approximate" in g.columns else np.zeros(len(g), bool), dtype=bool)
    kmh = np.asarray(road_speed_kmh(list(g["road_class"].astype(str)), speeds.road_kmh), dtype=float)
    factor = np.where(approx, speeds.approximate_detour_factor, 1.0)
    geoms = shapely.force_2d(np.asarray(g.geometry.values))
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    keep = (shapely.get_type_id(parts) == 1) & ~shapely.is_empty(parts)  # LineStrings
    parts, part_of = parts[keep], part_of[keep]
    if len(parts) == 0:
        return empty
    parts = _split_at_touching_ends(parts, merge_tol)
    coords, line = shapely.get_coordinates(parts, return_index=True)
    if len(coords) < 2:
        return empty
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
        return empty
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
    t = _minutes(L[ep] / n[ep] * factor[feat[ep]], kmh[feat[ep]])
    # the same pair from two lines: keep the fastest (order pairs so i < j)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    order = np.lexsort((t, hi, lo))
    lo, hi, t = lo[order], hi[order], t[order]
    first = np.ones(len(lo), bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    return xy, lo[first], hi[first], t[first]


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


# --------------------------------------------------------------------------- memory

#: peak bytes per directed edge while building (edge lists, concatenation, COO -> CSR) and
#: then querying (matrix + its transpose + Dijkstra work arrays); measured with tracemalloc
#: on 0.7-2.9 M edge synthetic grids: ~71 B/edge at build, ~32 B/edge during a query.
BYTES_PER_EDGE = 80
#: per-node arrays (coordinates, kind, elevation, component sizes, distances, predecessors)
BYTES_PER_NODE = 100
#: share of the available memory a graph may use; above it the build is refused up front
MEMORY_SHARE = 0.8


def estimate_graph_memory(terrain_shape: tuple[int, int], n_road_nodes: int, n_points: int,
                          neighbours: int = 8) -> int:
    """Peak bytes needed to build and query the travel-time graph (an upper estimate).

    Nodes ``N = rows * cols + n_road_nodes + n_points``; directed edges
    ``E = rows * cols * neighbours + 6 * n_road_nodes + 10 * n_points`` (each cell has up
    to ``neighbours`` outgoing moves; a road node has ~2 road neighbours both ways plus
    its cell leg both ways; a point has its cell leg and up to 4 road legs, both ways).
    ``bytes = BYTES_PER_EDGE * E + BYTES_PER_NODE * N``.
    """
    rows, cols = (int(v) for v in terrain_shape)
    n_cells = rows * cols
    n_nodes = n_cells + int(n_road_nodes) + int(n_points)
    n_edges = n_cells * int(neighbours) + 6 * int(n_road_nodes) + 10 * int(n_points)
    return int(BYTES_PER_EDGE * n_edges + BYTES_PER_NODE * n_nodes)


def available_memory() -> int:
    """Bytes of memory available now (``psutil``, else ``MemAvailable`` of /proc/meminfo)."""
    try:
        import psutil
        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 2**62  # unknown: do not refuse


def check_memory(estimate: int, *, available: int | None = None, share: float = MEMORY_SHARE) -> None:
    """Refuse up front (``UserError``) a graph whose ``estimate`` (bytes, see
    :func:`estimate_graph_memory`) exceeds ``share`` of the ``available`` memory."""
    available = available_memory() if available is None else int(available)
    if estimate <= share * available:
        return
    gb = 1024 ** 3
    raise UserError(
        f"the study area is too large for this computer's memory: the travel-time graph needs about "
        f"{estimate / gb:.2f} GB and {available / gb:.2f} GB are available",
        source="study area / inputs.dem",
        hint="use a coarser elevation grid (doubling the cell size needs about 4 times less memory, e.g. "
             "`gdalwarp -tr 2000 2000` on the DEM), a smaller study area ([study_area] provinces, ugels or "
             "districts, or a smaller buffer_km), or run on a machine with more memory")


def _estimate_road_nodes(roads: gpd.GeoDataFrame | None, crs: str, cell: float) -> int:
    """Road nodes the graph will have: resampled every ``cell / 2`` along the lines, plus ends."""
    if roads is None or len(roads) == 0:
        return 0
    g = roads.to_crs(crs) if roads.crs is not None and str(roads.crs) != str(crs) else roads
    geoms = np.asarray(g.geometry.values)
    length = float(np.nansum(shapely.length(geoms)))
    return int(np.ceil(length / (cell / 2.0))) + 2 * len(geoms)


def graph_memory_estimate(terrain: Terrain, roads: gpd.GeoDataFrame | None, speeds: Speeds,
                          points: Mapping[str, gpd.GeoDataFrame] | None = None, *, mode: str | None = None) -> int:
    """:func:`estimate_graph_memory` for the inputs :func:`build_travel_graph` would get (bytes)."""
    mode = mode or speeds.mode
    use_roads = mode == "roads+walk" and roads is not None and len(roads) > 0
    n_road = _estimate_road_nodes(roads, terrain.crs, terrain.cell_size) if use_roads else 0
    n_points = sum(len(g) for g in (points or {}).values())
    return estimate_graph_memory(terrain.shape, n_road, n_points, speeds.grid_neighbours)


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
                       available_memory_bytes: int | None = None) -> TravelGraph:
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
    """
    points = dict(points or {})
    mode = mode or speeds.mode
    if mode not in {"walk", "roads+walk"}:
        raise DataError(f"unknown travel mode {mode!r}", hint='use "walk" or "roads+walk" (speeds.mode)')
    if landcover is not None and np.shape(landcover) != terrain.shape:
        raise DataError(f"land-cover multipliers have shape {np.shape(landcover)}, the DEM {terrain.shape}",
                        source="inputs.landcover_speeds",
                        hint="resample it with siting.data.landcover.read_multipliers")
    use_roads = mode == "roads+walk" and roads is not None and len(roads) > 0
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
    segments = _road_segments(roads, terrain.crs, terrain.cell_size / 2.0, speeds, merge_tolerance_m) \
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
                        road_component_size=np.asarray(road.comp_size, np.int64), key=key)
    if cache_file is not None:
        save_cached(graph, cache_file)
    return graph


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


# --------------------------------------------------------------------------- cache


def save_cached(graph: TravelGraph, path: Path) -> bool:
    """Write the graph cache; a cache folder that cannot be written (read-only, no permission,
    disk full) is reported with a warning and the run goes on without a cache.  Returns
    whether the cache was written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # temporaries of builds killed before their rename (of dead processes, an hour old)
        remove_partial_files(path.parent, older_than_s=CACHE_PART_MAX_AGE_S)
        _save(graph, path)
    except OSError as exc:
        log.warning("the travel-time graph could not be cached in %s (%s); the run goes on without a cache "
                    "(set run.cache_dir to a folder you can write into to reuse the graph)",
                    path.parent, exc.strerror or exc)
        return False
    return True


def load_cached(path: Path, *, key: str, points: Mapping[str, int] | None = None) -> TravelGraph | None:
    """The cached graph at ``path`` if it is the graph of ``key``, else ``None`` (rebuild).

    The file name is not trusted: the key stored inside (a hash of every input and
    parameter) must equal ``key``, the stored content digest must match the arrays, and the
    arrays must form a consistent graph (CSR shape, node tables, one node per point of
    ``points`` = ``{name: row count}``).  A cache from other inputs, a corrupt or truncated
    file, or an unreadable one is reported with a warning and rebuilt, never used."""
    try:
        g, digest, stored = _load(path)
    except Exception as exc:  # noqa: BLE001 - any failure to read means: rebuild
        log.warning("ignoring unreadable graph cache %s (%s); rebuilding it", path, exc)
        return None
    problem = None
    if g.key != key:
        problem = f"it was built from other inputs or parameters (key {g.key or '?'}, expected {key})"
    elif stored != digest:
        problem = "its content does not match its checksum (corrupt)"
    else:
        problem = _inconsistency(g, points)
    if problem:
        log.warning("ignoring graph cache %s: %s; rebuilding it", path, problem)
        return None
    return g


def _inconsistency(g: TravelGraph, points: Mapping[str, int] | None) -> str | None:
    n = g.n_nodes
    m = g.matrix
    if len(g.kind) != n or len(g.x) != n or len(g.y) != n or len(m.indptr) != n + 1:
        return "its node tables do not match its matrix"
    if m.nnz and (int(m.indices.min()) < 0 or int(m.indices.max()) >= n):
        return "its matrix refers to nodes that do not exist"
    if int((g.kind == CELL).sum()) != g.n_cells:
        return "its cell count does not match its grid"
    if points is not None:
        have = {k: len(v) for k, v in g.point_nodes.items()}
        if have != dict(points):
            return f"its point sets {have} differ from this run's {dict(points)}"
    return None


def _digest(arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(a.dtype).encode())
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _save(graph: TravelGraph, path: Path) -> None:
    arrays = {"data": graph.matrix.data, "indices": graph.matrix.indices, "indptr": graph.matrix.indptr,
              "kind": graph.kind, "x": graph.x, "y": graph.y, "road_component_size": graph.road_component_size}
    for n, ids in graph.point_nodes.items():
        arrays[f"pn__{n}"] = ids
        for c in graph.point_info[n].columns:
            arrays[f"pi__{n}__{c}"] = graph.point_info[n][c].to_numpy()
    meta = {"shape": list(graph.shape), "transform": list(graph.transform)[:6], "crs": graph.crs,
            "mode": graph.mode, "key": graph.key, "points": list(graph.point_nodes),
            "info_columns": {n: list(df.columns) for n, df in graph.point_info.items()},
            "content_sha256": _digest(arrays)}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def _load(path: Path) -> tuple[TravelGraph, str, str | None]:
    """The graph, the digest of its arrays as read, and the digest stored when written."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(z["meta"].tobytes().decode())
        arrays = {k: z[k] for k in z.files if k != "meta"}
    n = len(arrays["kind"])
    matrix = sp.csr_array((arrays["data"], arrays["indices"], arrays["indptr"]), shape=(n, n))
    pn = {p: arrays[f"pn__{p}"] for p in meta["points"]}
    pi = {p: pd.DataFrame({c: arrays[f"pi__{p}__{c}"] for c in meta["info_columns"][p]}) for p in meta["points"]}
    g = TravelGraph(matrix=matrix, kind=arrays["kind"], x=arrays["x"], y=arrays["y"], shape=tuple(meta["shape"]),
                    transform=Affine(*meta["transform"]), crs=meta["crs"], mode=meta["mode"],
                    point_nodes=pn, point_info=pi, road_component_size=arrays["road_component_size"],
                    key=meta.get("key", ""))
    return g, _digest(arrays), meta.get("content_sha256")


def to_networkx(graph: TravelGraph | sp.sparray):
    """The same graph as a ``networkx.DiGraph`` with ``weight`` = minutes (reference tests)."""
    import networkx as nx
    m = graph.matrix if isinstance(graph, TravelGraph) else graph
    return nx.from_scipy_sparse_array(sp.csr_array(m), create_using=nx.DiGraph, edge_attribute="weight")
