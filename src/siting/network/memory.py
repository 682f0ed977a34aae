"""How much memory a travel-time graph needs, estimated before it is built, and the
up-front refusal of a study area that does not fit (:func:`check_memory`)."""
from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import shapely

from ..data.terrain import Terrain
from ..errors import UserError
from ..limits import available_memory  # one probe of the free memory for every stage
from ..scenario import Speeds

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
