"""Travel-time graph and queries against independent implementations.

All terrains, roads and points here are SYNTHETIC TEST FIXTURES (functions named
``fixture_*``), in a made-up patch of UTM zone 17S; none of them is real data.
"""
from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from skimage.graph import MCP_Geometric

from siting.data.terrain import Terrain
from siting.errors import DataError, UserError
from siting.network import (CELL, POINT, ROAD, build_travel_graph, coverage, nearest, point_flags, to_networkx)
from siting.network.speeds import max_speed_kmh
from siting.scenario import Speeds

CRS = "EPSG:32717"
X0, Y0 = 500_000.0, 9_200_000.0
FLAT_KMH = 6 * math.exp(-3.5 * 0.05)


def fixture_terrain(elev: np.ndarray, cell: float = 100.0) -> Terrain:
    """SYNTHETIC fixture terrain with its upper-left corner at (X0, Y0)."""
    return Terrain(np.asarray(elev, dtype=float), Affine(cell, 0, X0, 0, -cell, Y0), CRS, source="fixture")


def fixture_points(xy, **cols) -> gpd.GeoDataFrame:
    """SYNTHETIC fixture points (projected coordinates)."""
    return gpd.GeoDataFrame(cols, geometry=shapely.points(np.asarray(xy, dtype=float)), crs=CRS)


def fixture_roads(lines, classes, approximate=None) -> gpd.GeoDataFrame:
    """SYNTHETIC fixture road lines."""
    approximate = approximate if approximate is not None else [False] * len(lines)
    return gpd.GeoDataFrame({"road_class": classes, "approximate": approximate},
                            geometry=[shapely.LineString(l) for l in lines], crs=CRS)


def fixture_random_graph(seed: int, *, neighbours: int = 8, mode: str = "roads+walk"):
    """SYNTHETIC random terrain + roads + points, built into a TravelGraph."""
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(4, 9), rng.integers(4, 9)
    elev = rng.normal(2500, 80, (rows, cols))
    elev[rng.random((rows, cols)) < 0.1] = np.nan
    cell = 200.0
    w, h = cols * cell, rows * cell
    lines = [[(X0 + rng.uniform(0, w), Y0 - rng.uniform(0, h)) for _ in range(rng.integers(2, 4))]
             for _ in range(rng.integers(1, 4))]
    classes = list(rng.choice(["vecinal", "trail", "national_paved"], len(lines)))
    roads = fixture_roads(lines, classes, list(rng.random(len(lines)) < 0.5))
    n = rng.integers(3, 8)
    pts = fixture_points(np.column_stack([X0 + rng.uniform(-100, w + 100, n), Y0 - rng.uniform(-100, h + 100, n)]),
                         altitude_m=np.where(rng.random(n) < 0.5, rng.normal(2500, 80, n), np.nan))
    sp = Speeds(grid_neighbours=neighbours, mode=mode)
    return build_travel_graph(fixture_terrain(elev, cell), roads, sp, {"pts": pts}), sp, pts


def nx_towards(G: nx.DiGraph, sources, towards: bool) -> dict:
    return nx.multi_source_dijkstra_path_length(G.reverse(copy=False) if towards else G, list(sources))


# --------------------------------------------------------------------------- networkx


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("towards", [True, False])
def test_nearest_equals_networkx_on_random_graphs(seed, towards):
    g, _, _ = fixture_random_graph(seed, neighbours=16 if seed % 2 else 8)
    G = to_networkx(g)
    rng = np.random.default_rng(seed + 100)
    sources = rng.choice(g.n_nodes, size=3, replace=False)
    res = nearest(g, sources, towards_sources=towards)
    ref = nx_towards(G, sources, towards)
    expect = np.array([ref.get(v, np.inf) for v in range(g.n_nodes)])
    np.testing.assert_allclose(res.minutes, expect, rtol=1e-6)
    assert np.all((res.source == -1) == np.isinf(expect))
    # the reported source really is at that distance
    for v in rng.choice(np.flatnonzero(np.isfinite(expect)), size=10):
        s = sources[res.source[v]]
        d = nx.dijkstra_path_length(G, v, s) if towards else nx.dijkstra_path_length(G, s, v)
        assert d == pytest.approx(res.minutes[v], rel=1e-6)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("towards", [True, False])
def test_coverage_equals_networkx(seed, towards):
    g, _, _ = fixture_random_graph(seed)
    G = to_networkx(g)
    rng = np.random.default_rng(seed)
    origins = rng.choice(g.n_nodes, size=7, replace=False)
    targets = rng.choice(g.n_nodes, size=25, replace=False)
    limit = 20.0
    cov = coverage(g, origins, targets, limit, towards_origins=towards, chunk_size=3, progress=False)
    assert cov.shape == (7, 25)
    Gd = G.reverse(copy=False) if towards else G
    for i, o in enumerate(origins):
        ref = nx.single_source_dijkstra_path_length(Gd, int(o), cutoff=limit)
        row = cov[[i], :]
        got = dict(zip(row.indices, row.data))
        want = {j: ref[int(t)] for j, t in enumerate(targets) if int(t) in ref}
        assert set(got) == set(want)
        for j in want:
            assert got[j] == pytest.approx(want[j], rel=1e-6)


def test_random_sparse_matrix_both_directions():
    """The solvers on a plain random digraph (not built by build_travel_graph)."""
    import scipy.sparse as sp
    rng = np.random.default_rng(7)
    n = 60
    m = sp.random_array((n, n), density=0.06, rng=rng, format="csr") * 10
    G = nx.from_scipy_sparse_array(m, create_using=nx.DiGraph)
    for towards in (True, False):
        res = nearest(m, [0, 5], towards_sources=towards)
        ref = nx_towards(G, [0, 5], towards)
        np.testing.assert_allclose(res.minutes, [ref.get(v, np.inf) for v in range(n)], rtol=1e-6)
        # coverage with repeated origins and targets
        origins, targets = [3, 0, 3, 17], [1, 1, 0, 59, 3, 8]
        cov = coverage(m, origins, targets, 12.0, towards_origins=towards, chunk_size=2, progress=False)
        Gd = G.reverse(copy=False) if towards else G
        for i, o in enumerate(origins):
            ref = nx.single_source_dijkstra_path_length(Gd, o, cutoff=12.0)
            row = cov[[i], :]
            got = dict(zip(row.indices.tolist(), row.data.tolist()))
            want = {j: ref[t] for j, t in enumerate(targets) if t in ref}
            assert got.keys() == want.keys()
            for j in want:
                assert got[j] == pytest.approx(want[j], rel=1e-6)


# --------------------------------------------------------------------------- scikit-image


def test_flat_grid_equals_mcp_geometric():
    rows, cols, cell = 9, 12, 250.0
    g = build_travel_graph(fixture_terrain(np.full((rows, cols), 3000.0), cell), None, Speeds(mode="walk"), {})
    start = (4, 5)
    res = nearest(g, [start[0] * cols + start[1]], towards_sources=False)
    costs = np.full((rows, cols), 60.0 / (1000.0 * FLAT_KMH))  # minutes per metre
    cum, _ = MCP_Geometric(costs, sampling=(cell, cell), fully_connected=True).find_costs([start])
    np.testing.assert_allclose(g.cell_grid(res.minutes), cum, rtol=1e-6)


@pytest.mark.parametrize("neighbours", [8, 16])
def test_grid_edges_equal_a_per_edge_loop(neighbours):
    """The vectorised grid build against a plain Python loop over every cell and neighbour
    (skimage's MCP does not allow the 16-neighbour knight moves, hence this reference)."""
    rng = np.random.default_rng(neighbours)
    rows, cols, cell = 7, 9, 300.0
    elev = rng.normal(3000, 120, (rows, cols))
    elev[rng.random((rows, cols)) < 0.15] = np.nan
    g = build_travel_graph(fixture_terrain(elev, cell), None, Speeds(mode="walk", grid_neighbours=neighbours), {})
    moves = [(dr, dc) for dr in range(-2, 3) for dc in range(-2, 3) if (dr, dc) != (0, 0)
             and max(abs(dr), abs(dc)) == 1 or (neighbours == 16 and {abs(dr), abs(dc)} == {1, 2})]
    G = nx.DiGraph()
    for r in range(rows):
        for c in range(cols):
            for dr, dc in moves:
                r2, c2 = r + dr, c + dc
                if not (0 <= r2 < rows and 0 <= c2 < cols):
                    continue
                # cells crossed by the segment between the two centres (sampled densely)
                f = (np.arange(200) + 0.5) / 200  # avoids the exact corner a diagonal passes
                crossed = {(int(math.floor(r + 0.5 + dr * k)), int(math.floor(c + 0.5 + dc * k))) for k in f}
                if all(np.isfinite(elev[i, j]) for i, j in crossed):
                    d = cell * math.hypot(dr, dc)
                    v = 6 * math.exp(-3.5 * abs((elev[r2, c2] - elev[r, c]) / d + 0.05))
                    G.add_edge(r * cols + c, r2 * cols + c2, weight=d / 1000 / v * 60)
    assert G.number_of_edges() == g.n_edges
    for (a, b, w) in G.edges(data="weight"):
        assert g.matrix[a, b] == pytest.approx(w, rel=1e-9)
    start = int(np.flatnonzero(np.isfinite(elev.ravel()))[0])
    ref = nx.single_source_dijkstra_path_length(G, start)
    res = nearest(g, [start], towards_sources=False)
    np.testing.assert_allclose(res.minutes, [ref.get(v, np.inf) for v in range(g.n_nodes)], rtol=1e-6)


def test_landcover_and_barriers_equal_mcp_geometric():
    rows, cols, cell = 10, 10, 100.0
    rng = np.random.default_rng(3)
    mult = rng.uniform(0.3, 1.5, (rows, cols))
    mult[2:8, 5] = 0.0  # a wall
    g = build_travel_graph(fixture_terrain(np.zeros((rows, cols)), cell), None, Speeds(mode="walk"), {}, landcover=mult)
    res = nearest(g, [0], towards_sources=False)
    costs = np.where(mult > 0, 60.0 / (1000.0 * FLAT_KMH * np.where(mult > 0, mult, 1)), np.inf)
    cum, _ = MCP_Geometric(costs, sampling=(cell, cell), fully_connected=True).find_costs([(0, 0)])
    np.testing.assert_allclose(g.cell_grid(res.minutes), cum, rtol=1e-6)
    assert np.isinf(g.cell_grid(res.minutes)[4, 5])


# --------------------------------------------------------------------------- hand-computed


def test_tobler_asymmetry_between_two_cells():
    g = build_travel_graph(fixture_terrain([[1000.0, 1100.0]], 1000.0), None, Speeds(mode="walk"), {})
    up = g.matrix[0, 1]
    down = g.matrix[1, 0]
    assert up == pytest.approx(60.0 / (6 * math.exp(-3.5 * 0.15)), rel=1e-9)  # slope +0.1
    assert down == pytest.approx(60.0 / (6 * math.exp(-3.5 * 0.05)), rel=1e-9)  # slope -0.1
    assert up > down
    m_up = nearest(g, [1], towards_sources=True).minutes[0]  # from cell 0 to cell 1
    assert m_up == pytest.approx(up)


@pytest.mark.parametrize("approximate,walk_factor", [(False, 1.0), (True, 1.0), (False, 2.0)])
def test_one_road_with_a_walking_leg_at_each_end(approximate, walk_factor):
    """Flat 3 x 12 km strip; A is 300 m before a 9.8 km national road, B 300 m after it.

    t = 300 m / 5.0366 km/h + 9.8 km * detour / 60 km/h + 300 m / 5.0366 km/h.
    """
    yc = Y0 - 1500.0
    terrain = fixture_terrain(np.full((3, 12), 2000.0), 1000.0)
    roads = fixture_roads([[(X0 + 600, yc), (X0 + 10_400, yc)]], ["national_paved"], [approximate])
    pts = fixture_points([[X0 + 300, yc], [X0 + 10_700, yc]])
    sp = Speeds(connector_walk_factor=walk_factor)
    g = build_travel_graph(terrain, roads, sp, {"ab": pts})
    a, b = g.point_nodes["ab"]
    detour = 1.3 if approximate else 1.0
    expect = 2 * walk_factor * 0.3 / FLAT_KMH * 60 + 9.8 * detour / 60 * 60
    assert nearest(g, [b]).minutes[a] == pytest.approx(expect, rel=1e-9)
    assert nearest(g, [a]).minutes[b] == pytest.approx(expect, rel=1e-9)
    # walking only: 10.4 km along the row of cells (0.2 + 10 km + 0.2 with the legs to the cell centres)
    gw = build_travel_graph(terrain, roads, Speeds(mode="walk", connector_walk_factor=walk_factor), {"ab": pts})
    a, b = gw.point_nodes["ab"]
    expect_walk = 2 * walk_factor * 0.2 / FLAT_KMH * 60 + 10.0 / FLAT_KMH * 60
    assert nearest(gw, [b]).minutes[a] == pytest.approx(expect_walk, rel=1e-9)
    assert (gw.kind == ROAD).sum() == 0


def test_road_densified_to_half_a_cell_and_two_way():
    terrain = fixture_terrain(np.zeros((5, 5)), 1000.0)
    roads = fixture_roads([[(X0 + 100, Y0 - 100), (X0 + 4900, Y0 - 100)]], ["vecinal"])
    g = build_travel_graph(terrain, roads, Speeds(), {})
    r = g.road_nodes
    xs = np.sort(g.x[r])
    assert np.max(np.diff(xs)) <= 500.0 + 1e-9
    sub = g.matrix[r][:, r]
    assert (sub != sub.T).nnz == 0  # symmetric
    assert sub.sum() == pytest.approx(2 * 4.8 / 20 * 60)


def test_altitude_of_point_changes_connector_leg():
    terrain = fixture_terrain(np.full((1, 1), 2000.0), 1000.0)
    low = fixture_points([[X0 + 100, Y0 - 500]], altitude_m=[1900.0])
    g = build_travel_graph(terrain, None, Speeds(mode="walk"), {"p": low})
    p = g.point_nodes["p"][0]
    # 400 m to the cell centre rising 100 m: slope 0.25
    assert g.matrix[p, 0] == pytest.approx(0.4 / (6 * math.exp(-3.5 * 0.30)) * 60)
    assert g.matrix[0, p] == pytest.approx(0.4 / (6 * math.exp(-3.5 * 0.20)) * 60)


# --------------------------------------------------------------------------- lower bound (property)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), neighbours=st.sampled_from([8, 16]))
def test_nobody_faster_than_straight_line_at_top_speed(seed, neighbours):
    g, sp, pts = fixture_random_graph(seed, neighbours=neighbours)
    ids = g.point_nodes["pts"]
    vmax = max_speed_kmh(sp)
    res = nearest(g, ids[:1], towards_sources=True)
    d = np.hypot(g.x[ids] - g.x[ids[0]], g.y[ids] - g.y[ids[0]])
    lower = d / 1000.0 / vmax * 60.0
    t = res.minutes[ids]
    ok = np.isfinite(t)
    assert np.all(t[ok] >= lower[ok] * (1 - 1e-9) - 1e-9)
    # and every point node, when connected at all, has legs with a positive cost (no free snap)
    legs = g.matrix[ids]
    assert np.all(legs.data > 0)


# --------------------------------------------------------------------------- structure, flags, cache


def test_node_tables_and_unreachable():
    elev = np.full((3, 3), 100.0)
    elev[1, 1] = np.nan
    pts = fixture_points([[X0 + 150, Y0 - 150], [X0 + 50, Y0 - 50], [X0 + 5000, Y0 - 5000]])
    g = build_travel_graph(fixture_terrain(elev), None, Speeds(mode="walk"), {"p": pts, "q": pts.iloc[:1]})
    assert list(g.nodes["kind"].value_counts().sort_index().items()) == [("cell", 9), ("road", 0), ("point", 4)]
    assert (g.kind == POINT).sum() == 4 and (g.kind == CELL).sum() == 9
    res = nearest(g, g.point_nodes["q"])
    p = g.point_nodes["p"]
    assert np.isinf(res.minutes[p[0]]) and res.source[p[0]] == -1  # in the no-data cell
    assert np.isinf(res.minutes[p[2]])  # outside the DEM and no road
    assert res.minutes[p[1]] > 0
    flags = point_flags(g, "p")
    assert flags["outside_dem"].tolist() == [True, False, True]
    assert not flags["far_from_road"].any()  # walk mode: no roads to be far from


def test_flags_far_from_road_and_small_component():
    terrain = fixture_terrain(np.zeros((20, 20)), 1000.0)
    roads = fixture_roads([[(X0 + 500, Y0 - 500), (X0 + 19_500, Y0 - 500)],
                           [(X0 + 500, Y0 - 19_500), (X0 + 1200, Y0 - 19_500)]], ["vecinal", "trail"])
    pts = fixture_points([[X0 + 1000, Y0 - 700], [X0 + 10_000, Y0 - 10_000], [X0 + 700, Y0 - 19_400]])
    lc = np.ones((20, 20))
    lc[19, 0] = 0
    g = build_travel_graph(terrain, roads, Speeds(), {"p": pts}, landcover=lc)
    f = point_flags(g, "p", far_from_road_km=5.0, min_road_component_nodes=10)
    assert f["far_from_road"].tolist() == [False, True, False]
    assert f["small_road_component"].tolist() == [False, False, True]
    assert f["on_impassable_cell"].tolist() == [False, False, True]
    assert f["road_distance_m"].iloc[1] == pytest.approx(math.hypot(0, 9500), rel=0.01)


def test_cache_hit_and_rebuild(tmp_path):
    terrain = fixture_terrain(np.arange(20.0).reshape(4, 5))
    pts = fixture_points([[X0 + 120, Y0 - 130]], altitude_m=[3.0])
    roads = fixture_roads([[(X0 + 10, Y0 - 10), (X0 + 400, Y0 - 300)]], ["trail"])
    g1 = build_travel_graph(terrain, roads, Speeds(), {"p": pts}, cache_dir=tmp_path)
    files = list(tmp_path.glob("travel_graph_*.npz"))
    assert len(files) == 1
    g2 = build_travel_graph(terrain, roads, Speeds(), {"p": pts}, cache_dir=tmp_path)
    assert (g1.matrix != g2.matrix).nnz == 0
    np.testing.assert_array_equal(g2.point_nodes["p"], g1.point_nodes["p"])
    assert g2.point_info["p"].equals(g1.point_info["p"]) and g2.transform == g1.transform
    # a parameter change or an input change makes a new graph
    g3 = build_travel_graph(terrain, roads, Speeds(walk_kmh_max=5.0), {"p": pts}, cache_dir=tmp_path)
    assert g3.key != g1.key
    terrain2 = fixture_terrain(np.arange(20.0).reshape(4, 5) * 2)
    g4 = build_travel_graph(terrain2, roads, Speeds(), {"p": pts}, cache_dir=tmp_path)
    assert g4.key not in (g1.key, g3.key)
    assert len(list(tmp_path.glob("travel_graph_*.npz"))) == 3
    # a corrupt cache file is rebuilt, not trusted
    files[0].write_bytes(b"garbage")
    g5 = build_travel_graph(terrain, roads, Speeds(), {"p": pts}, cache_dir=tmp_path)
    assert (g5.matrix != g1.matrix).nnz == 0


def test_no_duplicate_edges_are_summed():
    g, _, _ = fixture_random_graph(11, neighbours=16)
    m = g.matrix.tocoo()
    assert len(set(zip(m.row.tolist(), m.col.tolist()))) == m.nnz
    G = to_networkx(g)
    assert G.number_of_edges() == g.n_edges


def test_errors_for_people():
    terrain = fixture_terrain(np.zeros((2, 2)))
    bad = fixture_roads([[(X0, Y0), (X0 + 100, Y0 - 100)]], ["autopista"])
    with pytest.raises(DataError, match="autopista"):
        build_travel_graph(terrain, bad, Speeds(), {})
    g = build_travel_graph(terrain, None, Speeds(mode="walk"), {})
    with pytest.raises(UserError, match="no sources"):
        nearest(g, [])
    with pytest.raises(DataError, match="shape"):
        build_travel_graph(terrain, None, Speeds(), {}, landcover=np.ones((3, 3)))


def test_coverage_keeps_zero_minute_self_pairs():
    g, _, _ = fixture_random_graph(2)
    ids = g.point_nodes["pts"]
    cov = coverage(g, ids, ids, 30.0, progress=False)
    # every point that has any edge covers itself at 0 minutes (explicit zero kept)
    for i in range(len(ids)):
        row = cov[[i], :]
        assert i in set(row.indices.tolist())
        assert row[0, i] == 0.0


# --------------------------------------------------------------------------- road geometry


def test_detailed_line_keeps_along_line_length_and_joins_junctions():
    """A zig-zag line (many vertices) costs its along-line length; a side road meeting it at
    an interior vertex and another ending in the middle of a segment (T-junction without a
    vertex) are both joined to it."""
    terrain = fixture_terrain(np.zeros((10, 10)), 1000.0)
    zig = [(X0 + 100 + 100 * k, Y0 - 5000 + (50 if k % 2 else 0)) for k in range(0, 81)]  # 80 steps
    side_at_vertex = [zig[40], (zig[40][0], Y0 - 9000)]
    side_mid_segment = [(X0 + 6150.0, Y0 - 1000), (X0 + 6150.0, Y0 - 5000 + 25.0)]  # ends halfway along a segment
    roads = fixture_roads([zig, side_at_vertex, side_mid_segment], ["vecinal", "vecinal", "vecinal"])
    g = build_travel_graph(terrain, roads, Speeds(), {})
    r = g.road_nodes
    sub = g.matrix[r][:, r]
    step = math.hypot(100, 50)
    total = 80 * step + 4000 + (4000 - 25.0)
    assert sub.sum() / 2 == pytest.approx(total / 1000 / 20 * 60, rel=1e-9)
    _, labels = __import__("scipy.sparse.csgraph", fromlist=["x"]).connected_components(sub, directed=False)
    assert len(set(labels)) == 1
    # road nodes at most half a cell apart along the line
    assert sub.data.max() <= 500 / 1000 / 20 * 60 + 1e-9
    # end of the zig-zag to the end of the first side road: along-line time
    start = r[np.argmin(np.hypot(g.x[r] - zig[0][0], g.y[r] - zig[0][1]))]
    tip = r[np.argmin(np.hypot(g.x[r] - side_at_vertex[1][0], g.y[r] - side_at_vertex[1][1]))]
    got = nearest(sub, [int(np.flatnonzero(r == tip)[0])]).minutes[np.flatnonzero(r == start)[0]]
    assert got == pytest.approx((40 * step + 4000) / 1000 / 20 * 60, rel=1e-9)


def test_connector_options_are_used():
    terrain = fixture_terrain(np.full((1, 1), 2000.0), 1000.0)
    low = fixture_points([[X0 + 100, Y0 - 500]], altitude_m=[1900.0])
    # slope 100 / 400 = 0.25 clipped to 0.1
    g = build_travel_graph(terrain, None, Speeds(mode="walk"), {"p": low}, max_connector_slope=0.1)
    p = g.point_nodes["p"][0]
    assert g.matrix[p, 0] == pytest.approx(0.4 / (6 * math.exp(-3.5 * 0.15)) * 60)
    # altitude column ignored -> flat leg
    g = build_travel_graph(terrain, None, Speeds(mode="walk"), {"p": low}, altitude_column="none")
    assert g.matrix[g.point_nodes["p"][0], 0] == pytest.approx(0.4 / FLAT_KMH * 60)
    # radius and k of the point -> road legs
    t2 = fixture_terrain(np.zeros((3, 3)), 1000.0)
    roads = fixture_roads([[(X0 + 100, Y0 - 1500), (X0 + 2900, Y0 - 1500)]], ["trail"])
    pt = fixture_points([[X0 + 1500, Y0 - 1200]])
    n_legs = lambda g: g.matrix[[g.point_nodes["p"][0]], :].nnz - 1  # minus the leg to its cell
    assert n_legs(build_travel_graph(t2, roads, Speeds(), {"p": pt}, road_connector_radius_m=200.0)) == 0
    assert n_legs(build_travel_graph(t2, roads, Speeds(), {"p": pt}, road_connector_k=1)) == 1
    assert n_legs(build_travel_graph(t2, roads, Speeds(), {"p": pt}, road_connector_k=3)) == 3
    # merge tolerance: two lines whose ends are 3 m apart join only with a 5 m tolerance
    two = fixture_roads([[(X0 + 100, Y0 - 500), (X0 + 1000, Y0 - 500)], [(X0 + 1003, Y0 - 500), (X0 + 2000, Y0 - 500)]],
                        ["trail", "trail"])
    for tol, joined in [(1.0, False), (5.0, True)]:
        g = build_travel_graph(t2, two, Speeds(), {}, merge_tolerance_m=tol)
        r = g.road_nodes
        ncomp = __import__("scipy.sparse.csgraph", fromlist=["x"]).connected_components(
            g.matrix[r][:, r], directed=False)[0]
        assert (ncomp == 1) == joined


def test_nearest_source_index_with_repeated_sources():
    """Hand-made 4-node chain 0 -> 1 -> 2 -> 3 (1 min per edge), sources listed twice."""
    import scipy.sparse as sp
    m = sp.csr_array((np.ones(3), ([0, 1, 2], [1, 2, 3])), shape=(4, 4))
    res = nearest(m, [3, 1, 3], towards_sources=True)  # time from every node TO a source
    np.testing.assert_array_equal(res.minutes, [1.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(res.source, [1, 1, 0, 0])  # first occurrence of node 3 is position 0
    res = nearest(m, [1], towards_sources=False)  # time FROM the source
    np.testing.assert_array_equal(res.minutes, [np.inf, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(res.source, [-1, 0, 0, 0])
    assert res.n_unreachable == 1
