"""Routes and legs (siting.network.routes) against networkx and hand-computed cases.

The hand-computed cases use SYNTHETIC fixtures (a made-up flat patch of UTM 17S with one
made-up road); the real-data tests use the shipped San Marcos UGEL (conftest ``san_marcos``).
"""
from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from affine import Affine

from siting.data.terrain import Terrain
from siting.network import build_travel_graph, nearest, to_networkx
from siting.network.cache import load_cached, save_cached
from siting.network.routes import edge_minutes, legs_table, path_tree, trace
from siting.scenario import Speeds

CRS = "EPSG:32717"
X0, Y0 = 500_000.0, 9_200_000.0


def fixture_flat_with_road(cell: float = 100.0):
    """SYNTHETIC: a flat 20 x 60 grid at 2,000 m, one straight 'vecinal' road along row 10
    from x = 500 m to x = 5,500 m, a village at its west end, a centre at its east end."""
    terrain = Terrain(np.full((20, 60), 2000.0), Affine(cell, 0, X0, 0, -cell, Y0), CRS, source="fixture")
    y = Y0 - 10.5 * cell
    road = gpd.GeoDataFrame({"road_class": ["vecinal"], "approximate": [False]},
                            geometry=[shapely.LineString([(X0 + 500, y), (X0 + 5500, y)])], crs=CRS)
    village = gpd.GeoDataFrame({"name": ["village"]}, geometry=shapely.points([[X0 + 450, y]]), crs=CRS)
    centre = gpd.GeoDataFrame({"name": ["centre"]}, geometry=shapely.points([[X0 + 5550, y]]), crs=CRS)
    return terrain, road, {"places": village, "cetpro": centre}


def test_hand_computed_road_trip_adds_up_and_names_its_parts():
    terrain, road, points = fixture_flat_with_road()
    speeds = Speeds(road_kmh={"vecinal": 20.0}, mode="roads+walk")
    g = build_travel_graph(terrain, road, speeds, points)
    tree = path_tree(g, g.point_nodes["cetpro"], towards=True)
    place = int(g.point_nodes["places"][0])
    path = trace(tree, place)
    assert path[0] == place and path[-1] == g.point_nodes["cetpro"][0]
    legs = legs_table(g, [path], tree.minutes[[place]], destinations=["centre"]).iloc[0]
    # 5 km of vecinal road at 20 km/h = 15 min; the two 50 m connector legs walk on the flat
    assert legs["minutes_vecinal"] == pytest.approx(15.0, rel=1e-9)
    flat_kmh = 6 * math.exp(-3.5 * 0.05)
    assert legs["minutes_connector"] == pytest.approx(2 * 0.05 / flat_kmh * 60, rel=1e-6)
    assert legs["minutes_walk"] == 0.0
    parts = legs["minutes_walk"] + legs["minutes_connector"] + legs["minutes_vecinal"]
    assert parts == pytest.approx(legs["minutes"], rel=1e-12)
    assert legs["minutes"] == pytest.approx(tree.minutes[place], rel=1e-9)
    assert legs["km_road"] == pytest.approx(5.0, rel=1e-9)
    assert legs["km_walk"] == pytest.approx(0.1, rel=1e-6)
    assert legs["climb_m"] == 0.0
    assert legs["description"].startswith("Camina") and "por la vía vecinal" in legs["description"]
    assert "hasta centre" in legs["description"]
    en = legs_table(g, [path], lang="en").iloc[0]["description"]
    assert "on the local (vecinal) road" in en


def test_detour_factor_counts_in_the_road_km():
    terrain, road, points = fixture_flat_with_road()
    road["approximate"] = True
    g = build_travel_graph(terrain, road, Speeds(road_kmh={"vecinal": 20.0}, approximate_detour_factor=1.5), points)
    tree = path_tree(g, g.point_nodes["cetpro"])
    legs = legs_table(g, [trace(tree, g.point_nodes["places"][0])]).iloc[0]
    assert legs["km_road"] == pytest.approx(7.5, rel=1e-9)
    assert legs["minutes_vecinal"] == pytest.approx(22.5, rel=1e-9)


def test_edge_minutes_equal_the_matrix_and_miss_non_edges():
    terrain, road, points = fixture_flat_with_road()
    g = build_travel_graph(terrain, road, Speeds(), points)
    m = g.matrix.tocoo()
    rng = np.random.default_rng(0)
    pick = rng.choice(m.nnz, 500, replace=False)
    assert np.array_equal(edge_minutes(g, m.row[pick], m.col[pick]), m.data[pick])
    assert np.isnan(edge_minutes(g, np.array([0]), np.array([g.n_nodes - 1])))[0]


def test_a_path_that_is_not_the_trees_is_refused():
    terrain, road, points = fixture_flat_with_road()
    g = build_travel_graph(terrain, road, Speeds(), points)
    tree = path_tree(g, g.point_nodes["cetpro"])
    node = int(g.point_nodes["places"][0])
    with pytest.raises(ValueError, match="adds up to"):
        legs_table(g, [trace(tree, node)], [tree.minutes[node] + 1.0])
    with pytest.raises(ValueError, match="not an edge"):
        legs_table(g, [np.array([0, g.n_nodes - 1])])


def test_route_tables_survive_the_cache(tmp_path):
    terrain, road, points = fixture_flat_with_road()
    g = build_travel_graph(terrain, road, Speeds(), points)
    save_cached(g, tmp_path / "g.npz")
    back = load_cached(tmp_path / "g.npz", key=g.key, points={k: len(v) for k, v in points.items()})
    assert back is not None
    assert back.road_class_names == g.road_class_names == ("vecinal",)
    for name in ("elevation", "road_segment_key", "road_segment_class", "road_segment_m"):
        assert np.array_equal(getattr(back, name), getattr(g, name), equal_nan=True), name


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def real_tree(san_marcos):
    g = san_marcos.graph
    sources = np.concatenate([v for k, v in g.point_nodes.items() if k != "places"])
    return g, sources, path_tree(g, sources, towards=True)


def test_tree_minutes_equal_nearest_and_networkx_on_the_real_graph(real_tree):
    g, sources, tree = real_tree
    ref = nearest(g, sources, towards_sources=True)
    assert np.array_equal(tree.minutes, ref.minutes)
    assert np.array_equal(tree.source, ref.source)
    # networkx: a super-sink joined from every source at 0 min on the original direction
    G = to_networkx(g)
    for s in sources:
        G.add_edge(int(s), -1, weight=0.0)
    places = g.point_nodes["places"]
    sample = places[np.linspace(0, len(places) - 1, 12).astype(int)]
    for node in sample:
        path = trace(tree, node)
        want = nx.shortest_path_length(G, int(node), -1, weight="weight")
        got = float(edge_minutes(g, path[:-1], path[1:]).sum()) if len(path) > 1 else 0.0
        assert got == pytest.approx(want, rel=1e-9, abs=1e-9)
        assert got == pytest.approx(tree.minutes[node], rel=1e-9, abs=1e-9)


def test_legs_add_up_for_every_real_place(real_tree):
    g, _, tree = real_tree
    places = g.point_nodes["places"]
    paths = [trace(tree, v) for v in places]
    legs = legs_table(g, paths, tree.minutes[places])  # raises if a path does not add up
    parts = legs[[c for c in legs.columns if c.startswith("minutes_")]].sum(axis=1)
    ok = legs["minutes"].notna()
    assert ok.sum() == np.isfinite(tree.minutes[places]).sum() > 250
    assert np.allclose(parts[ok], legs.loc[ok, "minutes"], rtol=1e-9)
    assert np.allclose(legs.loc[ok, "minutes"], tree.minutes[places][ok], rtol=1e-9)
    road_cols = [f"minutes_{c}" for c in g.road_class_names]
    assert (legs.loc[ok, road_cols].sum(axis=1) > 0).mean() > 0.5  # most trips use a road
    assert (legs.loc[ok, "km"] >= legs.loc[ok, "km_road"]).all()
    assert (legs.loc[ok, "climb_m"] >= 0).all()
