"""Worker-built partitions: each task reads its own DEM window and its own roads and builds
the travel-time graph of that window, so the driver never holds (or builds) the whole graph.

A task receives a :class:`GraphSource` (file paths and graph parameters, no arrays), the
**core** of its window (one or two boxes in the projected CRS) and the points (places,
capitals...) that lie inside the core; on the worker it

1. reads the DEM window ``core + margin`` (``margin = 3`` cells) with rasterio and warps it
   onto the **fixed grid** of the whole DEM (:func:`grid_of`: square cells of
   :func:`siting.data.terrain.native_cell_size`, origin snapped to multiples of the cell
   size, each cell's elevation from its own position only, :func:`~siting.data.terrain.bilinear_at_cells`),
   so a window's cells are the whole grid's cells, value for value;
2. takes the road nodes and segments inside the window from the whole road network cut once
   per worker process from the road files (:func:`road_network`; segments are at most half a
   cell long, vector data only, a few MB even for a country);
3. builds the window's graph (:func:`siting.network.graph.build_travel_graph`) and keeps the
   subgraph **induced by the nodes inside the core**.

Exactness.  Every edge of a node inside the core depends only on what lies within one cell
of it (its cell and the 8/16 neighbours, the road nodes within the connector radius = one
cell, the road segments of at most half a cell), all inside ``core + margin``; so the kept
subgraph *is* the whole graph's subgraph induced by the core's nodes, edge for edge.  The
core is the halo of :mod:`siting.distributed`: the box of the task's targets (or origins)
grown by ``h = L * v_walk`` (``v_walk = walk_kmh_max * 1000 / 60 / min(1,
connector_walk_factor)`` m/min, the largest straight-line speed of a walking edge:
Tobler's maximum), plus the box of all road nodes grown by ``h`` when a road node lies in the
first box (cut to the targets' box grown by ``L * v_max``, the fastest road).  Every trip
of at most ``L`` minutes stays inside the core, so times ``<= L`` are
the whole graph's; both engines report times above ``L`` as beyond the limit.

:func:`nearest_by_windows` (nearest source per region, e.g. the district capital per
department) and :func:`coverage_by_windows` (bounded coverage of chunks of neighbouring
candidates) give the whole-graph results (``tests/test_distributed_partitions.py``).
"""
from __future__ import annotations

import hashlib
import math
import pickle
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from .data.terrain import Terrain
from .distributed import _map, _nearest_task
from .errors import UserError
from .network import solve
from .network.graph import RoadSegments, build_travel_graph, cut_road_segments
from .network.memory import estimate_graph_memory
from .scenario import Scenario, Speeds

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in the projected CRS (metres)
#: cells of margin read and built around a core (every edge of a core node lies within one cell)
MARGIN_CELLS = 3
#: source pixels read beyond a window's footprint (bilinear kernel, curved edges)
SOURCE_PAD = 3
_CACHE: dict[str, Any] = {}  # per process (worker): grids and road networks, keyed by the source token


@dataclass(frozen=True)
class GraphSource:
    """What a worker needs to build any window of the graph: paths and parameters only.

    ``roads``: the scenario whose road inputs :func:`siting.data.roads.load_roads` reads (on
    the worker, from the same paths), ``None`` for no roads.  ``resolution_m``: cell size
    (``None`` = the DEM's native-equivalent size, as :func:`siting.data.terrain.load_dem_national`).
    """

    dem: str
    crs: str
    speeds: Speeds
    mode: str = "walk"
    resolution_m: float | None = None
    roads: Scenario | None = None
    merge_tolerance_m: float = 1.0

    @property
    def token(self) -> str:
        return hashlib.sha256(pickle.dumps(self)).hexdigest()[:20]


@dataclass(frozen=True)
class Grid:
    """The fixed grid of the whole DEM: cell ``(r, c)`` spans ``left + c res .. left + (c+1) res``
    and ``top - (r+1) res .. top - r res``."""

    res: float
    left: float
    top: float
    width: int
    height: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def cell_window(self, box: Box) -> tuple[int, int, int, int] | None:
        """``(c0, r0, c1, r1)`` of the cells meeting ``box``, clipped to the grid (None if none)."""
        x0, y0, x1, y1 = box
        c0 = max(0, math.floor((x0 - self.left) / self.res))
        c1 = min(self.width, math.ceil((x1 - self.left) / self.res))
        r0 = max(0, math.floor((self.top - y1) / self.res))
        r1 = min(self.height, math.ceil((self.top - y0) / self.res))
        return (c0, r0, c1, r1) if c1 > c0 and r1 > r0 else None

    def bounds_of(self, win: tuple[int, int, int, int]) -> Box:
        c0, r0, c1, r1 = win
        return (self.left + c0 * self.res, self.top - r1 * self.res, self.left + c1 * self.res,
                self.top - r0 * self.res)


# --------------------------------------------------------------------------- per-worker inputs


def grid_of(source: GraphSource) -> Grid:
    """The whole DEM's grid in ``source.crs`` (metadata only; the same arithmetic as
    :func:`siting.data.terrain._warp` on the whole raster)."""
    key = "grid:" + source.token
    if key not in _CACHE:
        from rasterio.warp import transform_bounds

        from .data.terrain import _open_dem, native_cell_size
        with _open_dem(Path(source.dem)) as src:
            left, bottom, right, top = transform_bounds(src.crs, source.crs, *src.bounds, densify_pts=21)
            res = native_cell_size(src, source.crs) if source.resolution_m is None else float(source.resolution_m)
        left, top = np.floor(left / res) * res, np.ceil(top / res) * res
        _CACHE[key] = Grid(res, float(left), float(top), int(np.ceil((right - left) / res)),
                           int(np.ceil((top - bottom) / res)))
    return _CACHE[key]


def road_network(source: GraphSource) -> RoadSegments | None:
    """The whole road network's nodes and segments on ``source``'s grid, read from the road
    files of ``source.roads`` once per process (``None`` without roads)."""
    if source.roads is None or source.mode != "roads+walk":
        return None
    key = "roads:" + source.token
    if key not in _CACHE:
        from .data.quality import QualityReport
        from .data.roads import load_roads
        from .limits import using
        with using(source.roads):
            roads = load_roads(source.roads, QualityReport(), crs=source.crs)
        _CACHE[key] = cut_road_segments(roads, source.crs, grid_of(source).res, source.speeds,
                                        merge_tolerance_m=source.merge_tolerance_m) if len(roads) else None
    return _CACHE[key]


def road_nodes_xy(source: GraphSource) -> np.ndarray:
    """``(n, 2)`` positions of the road nodes (for the halo rule)."""
    net = road_network(source)
    return np.zeros((0, 2)) if net is None else net.xy


def walk_m_per_min(speeds: Speeds) -> float:
    """Upper bound of the straight-line speed of any walking edge (metres per minute)."""
    return speeds.walk_kmh_max * 1000.0 / 60.0 / min(1.0, speeds.connector_walk_factor)


def whole_graph_estimate(source: GraphSource, n_points: int, *, road_xy: np.ndarray | None = None) -> int:
    """Bytes the whole graph would need (:func:`siting.network.memory.estimate_graph_memory`)."""
    n_road = len(road_nodes_xy(source) if road_xy is None else road_xy) if source.mode == "roads+walk" else 0
    return estimate_graph_memory(grid_of(source).shape, n_road, n_points, source.speeds.grid_neighbours)


# --------------------------------------------------------------------------- halo and windows


def halo_boxes(x: np.ndarray, y: np.ndarray, minutes: float, *, speeds: Speeds, road_xy: np.ndarray,
               mode: str = "roads+walk") -> list[Box]:
    """The core of a task whose targets are at ``(x, y)``: their box ``B`` grown by
    ``h = minutes * v_walk`` and, when that box holds a road node, the road nodes' box grown
    by ``h`` and cut to ``B + minutes * v_max`` (no edge is faster than ``v_max``, the
    fastest road class, :func:`siting.network.speeds.max_speed_kmh`, so no trip of at most
    ``minutes`` leaves that box either)."""
    from .network.speeds import max_speed_kmh
    h = float(minutes) * walk_m_per_min(speeds) * (1 + 1e-9) + 1e-6
    x0, y0, x1, y1 = float(x.min()), float(y.min()), float(x.max()), float(y.max())
    boxes: list[Box] = [(x0 - h, y0 - h, x1 + h, y1 + h)]
    if len(road_xy) and inside_any(road_xy[:, 0], road_xy[:, 1], boxes).any():
        far = float(minutes) * max_speed_kmh(speeds, mode=mode) * 1000.0 / 60.0 * (1 + 1e-9) + 1e-6
        roads = (max(float(road_xy[:, 0].min()) - h, x0 - far), max(float(road_xy[:, 1].min()) - h, y0 - far),
                 min(float(road_xy[:, 0].max()) + h, x1 + far), min(float(road_xy[:, 1].max()) + h, y1 + far))
        boxes.append(roads)
    return boxes


def inside_any(x: np.ndarray, y: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
    """Boolean mask of the points inside at least one of ``boxes`` (edges included)."""
    out = np.zeros(len(x), bool)
    for x0, y0, x1, y1 in boxes:
        out |= (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    return out


def _window_terrain(source: GraphSource, grid: Grid, win: tuple[int, int, int, int]) -> Terrain:
    """The grid cells of ``win``, bit for bit the whole grid's (NaN where the DEM has none).

    Only the source pixels under the window (plus ``SOURCE_PAD`` pixels for the bilinear
    kernel) are read (rasterio windowed read); the cell centres are located on the **whole**
    raster's pixel grid and only the indices shifted
    (:func:`~siting.data.terrain.bilinear_at_cells` with ``data_offset``), so the floating-point
    operations are those of the whole-grid warp.
    """
    import rasterio
    from affine import Affine
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds

    from .data.terrain import _NODATA_BELOW, _open_dem, bilinear_at_cells
    c0, r0, c1, r1 = win
    x0, y0, x1, y1 = grid.bounds_of(win)
    shape = (r1 - r0, c1 - c0)
    elev = np.full(shape, np.nan)
    with _open_dem(Path(source.dem)) as src:
        sb = transform_bounds(rasterio.crs.CRS.from_user_input(source.crs), src.crs, x0, y0, x1, y1,
                              densify_pts=21)
        w = from_bounds(*sb, transform=src.transform).round_offsets(op="floor").round_lengths(op="ceil")
        pad = SOURCE_PAD
        w = Window(w.col_off - pad, w.row_off - pad, w.width + 2 * pad, w.height + 2 * pad)
        try:
            w = w.intersection(Window(0, 0, src.width, src.height))
        except rasterio.errors.WindowError:
            w = None  # the window is off the raster: no elevation
        if w is not None:
            data = src.read(1, window=w, out_dtype="float64")
            bad = ~np.isfinite(data) | (data < _NODATA_BELOW)
            if src.nodata is not None and np.isfinite(src.nodata):
                bad |= data == src.nodata
            data[bad] = np.nan
            elev = bilinear_at_cells(data, src_transform=src.transform, src_crs=src.crs,
                                     dst_transform=Affine(grid.res, 0.0, x0, 0.0, -grid.res, y1),
                                     dst_crs=source.crs, shape=shape, data_offset=(int(w.row_off), int(w.col_off)),
                                     full_shape=(src.height, src.width))
    return Terrain(elevation=elev, transform=Affine(grid.res, 0.0, x0, 0.0, -grid.res, y1), crs=source.crs,
                   source=source.dem)


def _segments_inside(net: RoadSegments, box: Box) -> RoadSegments:
    """The road nodes inside ``box`` and the segments between two of them (renumbered)."""
    keep = inside_any(net.xy[:, 0], net.xy[:, 1], [box])
    local = np.full(len(net.xy), -1, np.int64)
    local[keep] = np.arange(int(keep.sum()))
    both = keep[net.i] & keep[net.j]
    return RoadSegments(net.xy[keep], local[net.i[both]], local[net.j[both]], net.minutes[both],
                        net.road_class[both], net.metres[both], net.class_names)


@dataclass
class Partition:
    """A window's graph restricted to its core: ``matrix`` (from-node rows, minutes) and, for
    each point set, the local node of each given point and its ``point_info`` rows."""

    matrix: sp.csr_array
    nodes: dict[str, np.ndarray]
    info: dict[str, pd.DataFrame]
    cells: int  # grid cells built (core + margin)


def build_partition(source: GraphSource, boxes: Sequence[Box], points: Mapping[str, gpd.GeoDataFrame], *,
                    roads: RoadSegments | None | str = "files") -> Partition:
    """Build the graph of the window around ``boxes`` from the files of ``source`` (on the
    worker) and keep the subgraph induced by the nodes inside ``boxes`` (see the module docstring).

    ``roads``: the whole road network (:func:`road_network` of ``source``, e.g. the result of
    :func:`prefetch_roads` on the cluster), or ``"files"`` to cut it here from the road files."""
    grid = grid_of(source)
    m = MARGIN_CELLS * grid.res
    outer = (min(b[0] for b in boxes) - m, min(b[1] for b in boxes) - m, max(b[2] for b in boxes) + m,
             max(b[3] for b in boxes) + m)
    win = grid.cell_window(outer)
    if win is None:
        raise UserError("the partition's window lies outside the DEM grid", source=source.dem)
    terrain = _window_terrain(source, grid, win)
    net = road_network(source) if isinstance(roads, str) else roads
    segs = _segments_inside(net, outer) if net is not None else None
    g = build_travel_graph(terrain, None, source.speeds, dict(points), mode=source.mode, road_segments=segs)
    kept = np.flatnonzero(inside_any(g.x, g.y, boxes))
    local = np.full(g.n_nodes, -1, np.int64)
    local[kept] = np.arange(len(kept))
    sub = sp.csr_array(g.matrix[kept][:, kept])
    return Partition(sub, {k: local[v] for k, v in g.point_nodes.items()}, dict(g.point_info), g.n_cells)


def _worker_memory_limit() -> int | None:
    try:
        from distributed import get_worker
        return int(get_worker().memory_manager.memory_limit or 0) or None
    except (ImportError, ValueError, AttributeError):
        return None


def _check_partition_memory(source: GraphSource, boxes: Sequence[Box], n_points: int) -> None:
    """Refuse a partition whose graph estimate exceeds the worker's memory limit (up front)."""
    limit = _worker_memory_limit()
    if limit is None:
        return
    grid = grid_of(source)
    win = grid.cell_window(boxes[0]) or (0, 0, 0, 0)
    cells = sum(((w[2] - w[0]) * (w[3] - w[1])) for w in (grid.cell_window(b) for b in boxes) if w)
    est = estimate_graph_memory((1, cells), 0, n_points, source.speeds.grid_neighbours)
    if est > 0.8 * limit:
        raise UserError(f"a partition needs about {est / 2**30:.2f} GB ({cells:,} cells) and the worker's memory "
                        f"limit is {limit / 2**30:.2f} GB", source=f"window {win}",
                        hint="use workers with more memory, smaller regions or a coarser grid")


# --------------------------------------------------------------------------- tasks


def _nearest_window_task(source: GraphSource, boxes: list[Box], points: dict[str, gpd.GeoDataFrame],
                         sources: str, targets: str, target_pos: np.ndarray, limit: float, towards: bool,
                         roads: RoadSegments | None | str = "files") -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Minutes, winning source (position in ``points[sources]``) and ``outside_dem`` of the
    targets ``points[targets].iloc[target_pos]``, on the worker-built partition."""
    t0 = time.perf_counter()
    _check_partition_memory(source, boxes, sum(len(p) for p in points.values()))
    part = build_partition(source, boxes, points, roads=roads)
    m = sp.csr_array(part.matrix.T.tocsr()) if towards else part.matrix
    s_nodes = part.nodes[sources]
    ok = np.flatnonzero(s_nodes >= 0)
    t, s = _nearest_task(m, s_nodes[ok], part.nodes[targets][target_pos], limit)
    which = np.where(s >= 0, ok[np.clip(s, 0, None)], -1) if len(ok) else s
    outside = part.info[targets]["outside_dem"].to_numpy()[target_pos]
    stats = {"cells": part.cells, "nodes": part.matrix.shape[0], "edges": int(part.matrix.nnz),
             "build_query_s": round(time.perf_counter() - t0, 2)}
    return t, which, outside, stats


def _coverage_window_task(source: GraphSource, boxes: list[Box], points: dict[str, gpd.GeoDataFrame], name: str,
                          origin_pos: np.ndarray, limit: float, towards: bool,
                          roads: RoadSegments | None | str = "files") -> sp.csr_array:
    """Coverage rows of the origins ``points[name].iloc[origin_pos]`` x all of ``points[name]``."""
    _check_partition_memory(source, boxes, sum(len(p) for p in points.values()))
    part = build_partition(source, boxes, points, roads=roads)
    m = sp.csr_array(part.matrix.T.tocsr()) if towards else part.matrix
    nodes = part.nodes[name]
    return solve.coverage(m, nodes[origin_pos], nodes, limit, towards_origins=False, progress=False)


# --------------------------------------------------------------------------- driver side


def _projected(points: Mapping[str, gpd.GeoDataFrame], crs: str
               ) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The point sets in ``crs`` (projected once here, by the same ``to_crs`` the whole-graph
    builder applies to each whole set, so the coordinates are the same; the workers then skip
    it) and their ``(x, y)``."""
    out, xy = {}, {}
    for k, gdf in points.items():
        g = gdf.to_crs(crs) if gdf.crs is not None and not gdf.crs.equals(crs) else gdf
        c = shapely.get_coordinates(np.asarray(g.geometry.values))
        out[k], xy[k] = g, (c[:, 0], c[:, 1])
    return out, xy


def _xy(gdf: gpd.GeoDataFrame, crs: str) -> tuple[np.ndarray, np.ndarray]:
    return _projected({"p": gdf}, crs)[1]["p"]


def _xy_of(net: RoadSegments | None) -> np.ndarray:
    return np.zeros((0, 2)) if net is None else net.xy


_PREFETCHED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # client -> {source token: roads future}


def prefetch_roads(source: GraphSource, client) -> Any:
    """The whole road network of ``source`` (:func:`road_network`), cut **once** on the cluster:
    a future every window task takes as an argument (dask copies the result, a few MB, to
    the other workers instead of each worker cutting it again from the road files).  Calling
    it again with the same client and source returns the same future, so a caller can start
    the cut as soon as the cluster is up (``client_in_background(on_ready=...)``) while it
    reads its point tables.  ``client=None``: the network itself, cut here."""
    if client is None:
        return road_network(source)
    held = _PREFETCHED.setdefault(client, {})
    if source.token not in held:
        held[source.token] = client.submit(road_network, source, key=f"siting-roads-{source.token}", pure=False)
    return held[source.token]


def _road_xy(roads: Any, client) -> np.ndarray:
    """Road node positions (for the halo rule) of ``roads`` = :func:`prefetch_roads`'s answer."""
    if client is None:
        return _xy_of(roads)
    return client.submit(_xy_of, roads, pure=False).result()


def _window_cells(grid: Grid, boxes: Sequence[Box]) -> int:
    """Grid cells of a task's core boxes (the estimate of its work: build and searches)."""
    wins = [grid.cell_window(b) for b in boxes]
    return int(sum((w[2] - w[0]) * (w[3] - w[1]) for w in wins if w))


def _task_points(sub: Mapping[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """What a window task's graph needs of its points: the geometry and the ``altitude_m``
    the point legs use (:func:`siting.network.legs.point_layer`); the other columns stay here."""
    return {k: g[[c for c in ("altitude_m", g.geometry.name) if c in g.columns]] for k, g in sub.items()}


def _subset(points: Mapping[str, gpd.GeoDataFrame], xy: Mapping[str, tuple[np.ndarray, np.ndarray]],
            boxes: list[Box]) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, np.ndarray]]:
    """The points of every set inside ``boxes`` (all of them: each point node is a walking
    bridge between its cell and nearby road nodes, so it is part of the graph) and their rows."""
    rows = {k: np.flatnonzero(inside_any(*xy[k], boxes)) for k in points}
    return {k: points[k].iloc[rows[k]] for k in points}, rows


def nearest_by_windows(source: GraphSource, points: Mapping[str, gpd.GeoDataFrame], *, sources: str, targets: str,
                       regions: np.ndarray | pd.Series, max_minutes: float, client=None, towards_sources: bool = True,
                       progress: bool | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Minutes from each of ``points[targets]`` to the nearest of ``points[sources]`` (and which
    one, -1 for none within ``max_minutes``) and whether it is off the DEM, one worker-built
    partition per region; equals ``censor(nearest(whole graph), L)`` at the targets.
    ``tasks``: one row per region (``region``, ``targets``, ``cells``, ``nodes``, ``edges``, ``build_query_s``)."""
    if not max_minutes > 0:
        raise UserError(f"max_minutes must be > 0, got {max_minutes}")
    regions = np.asarray(regions)
    n_t = len(points[targets])
    if len(regions) != n_t:
        raise ValueError("regions must give one label per target")
    roads = prefetch_roads(source, client)
    points, xy = _projected(points, source.crs)
    road_xy = _road_xy(roads, client)
    grid = grid_of(source)
    items, rows, cost = [], [], []
    for label in pd.unique(regions):
        sel = np.flatnonzero(regions == label)
        boxes = halo_boxes(xy[targets][0][sel], xy[targets][1][sel], max_minutes, speeds=source.speeds,
                           road_xy=road_xy, mode=source.mode)
        sub, idx = _subset(points, xy, boxes)
        pos = np.searchsorted(idx[targets], sel)  # sel is inside its own box
        items.append((source, boxes, _task_points(sub), sources, targets, pos, float(max_minutes), towards_sources,
                      roads))
        rows.append((label, sel, idx[sources]))
        cost.append(_window_cells(grid, boxes))
    parts = _map(_nearest_window_task, items, client, desc="regions", progress=progress, cost=cost)
    minutes, which = np.full(n_t, np.inf), np.full(n_t, -1, np.int64)
    outside = np.zeros(n_t, bool)
    meta = []
    for (label, sel, s_rows), (t, s, off, stats) in zip(rows, parts):
        minutes[sel], outside[sel] = t, off
        which[sel] = np.where(s >= 0, s_rows[np.clip(s, 0, None)], -1)
        meta.append({"region": label, "targets": len(sel), **stats})
    return minutes, which, outside, pd.DataFrame(meta)


def coverage_by_windows(source: GraphSource, points: Mapping[str, gpd.GeoDataFrame], *, name: str,
                        origins: np.ndarray | Sequence[int], limit: float, client=None, chunk_origins: int = 1000,
                        towards_origins: bool = True, progress: bool | None = None) -> sp.csr_array:
    """The whole graph's ``solve.coverage(graph, nodes[name][origins], nodes[name], limit)``
    (``len(origins) x len(points[name])``, minutes within ``limit``, explicit zeros kept),
    in chunks of ``chunk_origins`` neighbouring origins (Z-order), each on its worker-built
    partition (halo ``limit * v_walk``, plus the roads' box when the chunk reaches a road)."""
    if not limit > 0:
        raise UserError(f"coverage limit must be > 0 minutes, got {limit}")
    org = np.asarray(origins, dtype=np.int64).ravel()
    n_t = len(points[name])
    roads = prefetch_roads(source, client)
    points, xy = _projected(points, source.crs)
    road_xy = _road_xy(roads, client)
    grid = grid_of(source)
    order = solve._morton_order(xy[name][0][org], xy[name][1][org])
    chunks = [order[s:s + chunk_origins] for s in range(0, len(org), chunk_origins)]
    items, cols, cost = [], [], []
    for c in chunks:
        boxes = halo_boxes(xy[name][0][org[c]], xy[name][1][org[c]], limit, speeds=source.speeds, road_xy=road_xy,
                           mode=source.mode)
        sub, idx = _subset(points, xy, boxes)
        items.append((source, boxes, _task_points(sub), name, np.searchsorted(idx[name], org[c]), float(limit),
                      towards_origins, roads))
        cols.append(idx[name])
        cost.append(_window_cells(grid, boxes))
    parts = _map(_coverage_window_task, items, client, desc=f"coverage <= {limit:g} min", progress=progress,
                 cost=cost)
    blocks = [sp.csr_array((p.data, col[p.indices].astype(np.int64), p.indptr.astype(np.int64)),
                           shape=(p.shape[0], n_t)) for p, col in zip(parts, cols)]
    stacked = sp.csr_array(sp.vstack(blocks, format="csr")) if blocks else sp.csr_array((0, n_t))
    inverse = np.empty(len(org), dtype=np.int64)
    inverse[np.concatenate(chunks) if chunks else np.zeros(0, np.int64)] = np.arange(len(org))
    out = stacked[inverse]
    out = sp.csr_array((out.data, out.indices.astype(np.int64), out.indptr.astype(np.int64)), shape=out.shape)
    out.sort_indices()
    return out
