"""Pieces of :func:`siting.network.graph.build_travel_graph`: the edge lists, the terrain cells,
the road nodes with their walking legs to their cell, and the walking legs of the points
(places, facilities) to their cell and to nearby road nodes (formulas in the docstring of
:mod:`siting.network.graph`)."""
from __future__ import annotations

from dataclasses import dataclass, field

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
from .speeds import walk_minutes


def cell_index(terrain: Terrain, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Flat cell index of each point, -1 outside the grid."""
    r, c = terrain.cell_of(x, y)
    rows, cols = terrain.shape
    inside = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
    return np.where(inside, r * cols + c, -1)



@dataclass
class Edges:
    """Directed edge lists ``(from, to, minutes)`` collected while building."""

    src: list[np.ndarray] = field(default_factory=list)
    dst: list[np.ndarray] = field(default_factory=list)
    wt: list[np.ndarray] = field(default_factory=list)

    def add(self, a: np.ndarray, b: np.ndarray, t: np.ndarray) -> None:
        self.src.append(a)
        self.dst.append(b)
        self.wt.append(t)

    def both_ways(self, a: np.ndarray, b: np.ndarray, t_ab: np.ndarray, t_ba: np.ndarray) -> None:
        self.src += [a, b]
        self.dst += [b, a]
        self.wt += [t_ab, t_ba]


@dataclass
class Cells:
    """Per-cell arrays of the terrain grid used by the road and point legs."""

    elev: np.ndarray  # elevation (float64, NaN = none)
    passable: np.ndarray  # has elevation
    passable_lc: np.ndarray  # not a land-cover barrier
    cx: np.ndarray  # cell centres (projected)
    cy: np.ndarray


def grid_cells(terrain: Terrain, landcover: np.ndarray | None) -> Cells:
    elev_flat = np.asarray(terrain.elevation, dtype=np.float64).ravel()
    if landcover is not None:
        lc = np.asarray(landcover, dtype=float).ravel()
        passable_lc = ~(np.isfinite(lc) & (lc <= 0))
    else:
        passable_lc = np.ones(elev_flat.size, bool)
    cx, cy = terrain.cell_centres()
    return Cells(elev_flat, np.isfinite(elev_flat), passable_lc, cx.ravel().astype(np.float64),
                  cy.ravel().astype(np.float64))


@dataclass
class RoadLayer:
    """Road nodes (positions, elevation of their cell, component sizes) and their KD-tree."""

    xy: np.ndarray
    elev: np.ndarray
    comp_size: np.ndarray
    tree: cKDTree | None


def road_layer(segments: tuple | None, terrain: Terrain,
               speeds: Speeds, cells: Cells, edges: Edges) -> RoadLayer:
    """Road-node edges both ways and the walking legs road node <-> its cell (added to ``edges``).

    ``segments`` = ``(node xy, from, to, minutes)`` of the road segments (``None`` = no roads)."""
    if segments is None:
        return RoadLayer(np.zeros((0, 2)), np.zeros(0), np.zeros(0, np.int64), None)
    rxy, ri, rj, rt = segments[:4]
    n_road = len(rxy)
    if not n_road:
        return RoadLayer(rxy, np.zeros(0), np.zeros(0, np.int64), None)
    base = terrain.shape[0] * terrain.shape[1]
    edges.both_ways(ri + base, rj + base, rt, rt)
    rcell = cell_index(terrain, rxy[:, 0], rxy[:, 1])
    ok = rcell >= 0
    ok[ok] = cells.passable[rcell[ok]] & cells.passable_lc[rcell[ok]]
    rn = np.flatnonzero(ok)
    d = np.hypot(rxy[rn, 0] - cells.cx[rcell[rn]], rxy[rn, 1] - cells.cy[rcell[rn]])
    leg = walk_minutes(d, 0.0, speeds) * speeds.connector_walk_factor
    edges.both_ways(rn + base, rcell[rn], leg, leg)
    _, labels = connected_components(sp.csr_array((np.ones(len(ri)), (ri, rj)), shape=(n_road, n_road)),
                                     directed=False)
    road_elev = np.full(n_road, np.nan)
    road_elev[ok] = cells.elev[rcell[ok]]
    return RoadLayer(rxy, road_elev, np.bincount(labels)[labels], cKDTree(rxy))


def point_layer(name: str, gdf: gpd.GeoDataFrame, ids: np.ndarray, terrain: Terrain, speeds: Speeds, cells: Cells,
                 road: RoadLayer, edges: Edges, *, altitude_column: str, radius: float, road_connector_k: int,
                 max_connector_slope: float) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Walking legs point <-> its cell and point <-> nearby road nodes; ``(x, y, point_info)``."""
    g = gdf.to_crs(terrain.crs) if gdf.crs is not None and not gdf.crs.equals(terrain.crs) else gdf
    if len(g) and not bool((shapely.get_type_id(np.asarray(g.geometry.values)) == 0).all()):
        raise DataError(f"points '{name}' must all be Point geometries", source=name)
    px = np.asarray(g.geometry.x, dtype=float) if len(g) else np.zeros(0)
    py = np.asarray(g.geometry.y, dtype=float) if len(g) else np.zeros(0)
    n = len(px)
    pcell = cell_index(terrain, px, py)
    inside = pcell >= 0
    cell_elev = np.full(n, np.nan)
    cell_elev[inside] = cells.elev[pcell[inside]]
    on_dem = np.isfinite(cell_elev)
    impassable = on_dem.copy()
    impassable[on_dem] = ~cells.passable_lc[pcell[on_dem]]
    if altitude_column in g.columns:
        h = pd.to_numeric(g[altitude_column], errors="coerce").to_numpy(dtype=float)
        h = np.where(np.isfinite(h), h, cell_elev)
    else:
        h = cell_elev

    def legs(d: np.ndarray, dh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Minutes out of the point and back into it (uphill and downhill differ)."""
        f = speeds.connector_walk_factor
        return (walk_minutes(d, dh, speeds, max_abs_slope=max_connector_slope) * f,
                walk_minutes(d, -dh, speeds, max_abs_slope=max_connector_slope) * f)

    pc = np.flatnonzero(on_dem & ~impassable)  # point <-> own cell
    d = np.hypot(px[pc] - cells.cx[pcell[pc]], py[pc] - cells.cy[pcell[pc]])
    edges.both_ways(ids[pc], pcell[pc], *legs(d, np.nan_to_num(cell_elev[pc] - h[pc])))
    road_dist = np.full(n, np.inf)
    road_comp = np.zeros(n, np.int64)
    if road.tree is not None and n:  # point <-> nearby road nodes
        nd, ni = road.tree.query(np.column_stack([px, py]), k=1)
        road_dist, road_comp = nd, road.comp_size[ni]
        k = min(road_connector_k, len(road.xy))
        kd, ki = road.tree.query(np.column_stack([px, py]), k=k, distance_upper_bound=radius)
        kd, ki = kd.reshape(n, k), ki.reshape(n, k)
        okk = np.isfinite(kd)
        pi = np.repeat(np.arange(n), k).reshape(n, k)[okk]
        rn, dd = ki[okk], kd[okk]
        base = terrain.shape[0] * terrain.shape[1]
        edges.both_ways(ids[pi], rn + base, *legs(dd, np.nan_to_num(road.elev[rn] - h[pi])))
    info = pd.DataFrame({"node": ids, "cell": pcell, "outside_dem": ~on_dem, "on_impassable_cell": impassable,
                         "road_distance_m": road_dist, "road_component_nodes": road_comp})
    return px, py, info
