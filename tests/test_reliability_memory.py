"""A study area too large for memory is refused up front, with the estimate and the
alternatives, before anything is allocated.  Terrains here are SYNTHETIC TEST FIXTURES
(``fixture_*``) in a made-up patch of UTM 17S; the last test uses the REAL shipped data.
"""
from __future__ import annotations

import tracemalloc

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

import siting
from siting.data.terrain import Terrain
from siting.errors import UserError
from siting.network import graph as G
from siting.network import memory as M
from siting.scenario import Speeds

CRS = "EPSG:32717"
X0, Y0 = 500_000.0, 9_200_000.0


def fixture_terrain(rows: int, cols: int, cell: float = 100.0, seed: int = 0) -> Terrain:
    """SYNTHETIC fixture terrain (random elevations around 2,500 m)."""
    elev = np.random.default_rng(seed).normal(2500.0, 50.0, (rows, cols))
    return Terrain(elev, Affine(cell, 0, X0, 0, -cell, Y0), CRS, source="fixture")


def fixture_points(n: int, rows: int, cols: int, cell: float = 100.0, seed: int = 1) -> gpd.GeoDataFrame:
    """SYNTHETIC fixture points inside the fixture terrain."""
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(X0, X0 + cols * cell, n),
                                                    rng.uniform(Y0 - rows * cell, Y0, n)), crs=CRS)


def test_estimate_formula_by_hand():
    # 10 x 20 cells, 8 neighbours: E = 200*8 + 6*50 + 10*7 = 1970 edges; N = 200 + 50 + 7 = 257 nodes
    assert M.estimate_graph_memory((10, 20), 50, 7, 8) == 1970 * M.BYTES_PER_EDGE + 257 * M.BYTES_PER_NODE
    # 16 neighbours doubles the grid edges
    assert M.estimate_graph_memory((10, 20), 0, 0, 16) == 3200 * M.BYTES_PER_EDGE + 200 * M.BYTES_PER_NODE


@pytest.mark.parametrize("neighbours", [8, 16])
def test_estimate_bounds_the_real_peak_and_edge_count(neighbours):
    rows, cols, n = 120, 150, 300
    t, pts = fixture_terrain(rows, cols), fixture_points(n, rows, cols)
    speeds = Speeds(grid_neighbours=neighbours)
    est = M.estimate_graph_memory(t.shape, 0, n, neighbours)
    tracemalloc.start()
    try:
        g = G.build_travel_graph(t, None, speeds, {"p": pts}, mode="walk")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert g.n_edges <= rows * cols * neighbours + 10 * n  # the edge count the estimate assumes is an upper bound
    assert peak <= est  # numpy/scipy allocations are traced by tracemalloc
    assert est <= 3 * peak  # and it is not absurdly pessimistic


def test_check_memory_refuses_with_estimate_and_alternatives():
    gb = 1024 ** 3
    with pytest.raises(UserError) as err:
        M.check_memory(int(3.5 * gb), available=1 * gb)
    msg = str(err.value)
    assert "3.50 GB" in msg and "1.00 GB" in msg
    assert "coarser" in msg and "smaller study area" in msg
    assert err.value.exit_code == 2
    M.check_memory(int(0.5 * gb), available=1 * gb)  # fits: no error


def test_available_memory_is_positive():
    assert M.available_memory() > 0


def test_build_graph_refuses_before_allocating():
    t = fixture_terrain(60, 60)
    pts = fixture_points(10, 60, 60)
    est = M.estimate_graph_memory(t.shape, 0, 10, 8)
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match="too large for this computer's memory"):
            G.build_travel_graph(t, None, Speeds(), {"p": pts}, mode="walk", available_memory_bytes=est // 2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < est / 4  # refused up front: nothing close to the graph was allocated
    g = G.build_travel_graph(t, None, Speeds(), {"p": pts}, mode="walk", available_memory_bytes=est * 2)
    assert g.n_nodes == 60 * 60 + 10


def test_road_node_estimate_is_an_upper_bound_on_the_real_network():
    """REAL data: the shipped roads on the shipped DEM grid."""
    from siting.cli import shipped_scenario
    sc = siting.load_scenario(shipped_scenario())
    from siting.data import load_data
    data = load_data(sc, progress=False)
    est_roads = M._estimate_road_nodes(data.roads, data.terrain.crs, data.terrain.cell_size)
    g = G.build_travel_graph(data.terrain, data.roads, sc.speeds, {"places": data.places, "cetpro": data.cetpro},
                      cache_dir=sc.run.cache_dir)
    n_points = len(data.places) + len(data.cetpro)
    assert len(g.road_nodes) <= est_roads <= 1.5 * len(g.road_nodes)
    assert g.n_edges <= data.terrain.shape[0] * data.terrain.shape[1] * 8 + 6 * est_roads + 10 * n_points


def test_graph_memory_estimate_matches_the_formula():
    t, pts = fixture_terrain(30, 40), fixture_points(25, 30, 40)
    walk = M.graph_memory_estimate(t, None, Speeds(grid_neighbours=16), {"p": pts}, mode="walk")
    assert walk == M.estimate_graph_memory((30, 40), 0, 25, 16)
