"""Tests of the national-route rebuild (siting.data.roads.national, issue #14 item 1).

Two kinds of data:
- the shipped MTC nodes and lines and the INEI centros poblados (real data): flags and
  sources are kept, no route gets shorter, Tembladera (3.3 km from the spanning tree) ends on
  the road so its walk to the road falls;
- an INVENTED fixture (made-up junctions, towns and line in UTM 17S, not real places) for the
  snapping and line-following rules, with the lengths computed by hand.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point

import siting
from siting.data import roads as R
from siting.data.boundaries import load_districts
from siting.data.population import load_places
from siting.data.quality import QualityReport
from siting.network.speeds import detour_factors, walk_minutes
from siting.scenario import Speeds

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "cajamarca_13ugel.toml"
CRS = "EPSG:32717"
X0, Y0 = 700_000.0, 9_200_000.0  # invented fixture origin (UTM 17S)


# ------------------------------------------------------------------ invented fixture
def _nodes(rows: list[tuple[str, float, str, float, float]]) -> gpd.GeoDataFrame:
    """INVENTED route nodes (route, POSICION, name, x, y) in the shape of read_route_nodes."""
    df = pd.DataFrame(rows, columns=["route_code", "position", "name", "x", "y"])
    df["kind"], df["file"], df["row"] = "", "invented.gpkg", range(len(df))
    df["junction"] = [R.parse_junction(n, r) for n, r in zip(df["name"], df["route_code"])]
    g = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=CRS)
    return g.to_crs("EPSG:4326")


def _towns(rows: list[tuple[str, str, float, float]]) -> gpd.GeoDataFrame:
    """INVENTED centros poblados (ccpp_id, name, x, y)."""
    df = pd.DataFrame(rows, columns=["ccpp_id", "name", "x", "y"])
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=CRS).to_crs("EPSG:4326")


@pytest.fixture()
def fixture_route():
    nodes = _nodes([("CA-9001", 1, "Emp. PE-98 (Pueblo Uno)", X0, Y0),
                    ("CA-9002", 1, "Emp. PE-98", X0 + 10_000, Y0)])
    q = QualityReport()
    return nodes, q, R.national_from_junctions(nodes, q, crs=CRS)


def _km(roads: gpd.GeoDataFrame) -> float:
    return float(roads.to_crs(CRS).length.sum()) / 1000.0


def test_town_snapping_rule_by_hand(fixture_route):
    nodes, q, straight = fixture_route
    assert len(straight) == 1 and _km(straight) == pytest.approx(10.0, abs=1e-6)
    towns = _towns([("9999010001", "CAPITAL INVENTADA", X0 + 5_000, Y0 + 3_000),  # district capital, 3 km off
                    ("9999010002", "CASERIO LEJANO", X0 + 2_000, Y0 + 1_000),  # neither named nor capital
                    ("9999020001", "CAPITAL LEJANA", X0 + 5_000, Y0 - 6_000),  # capital 6 km off: too far
                    ("9999010003", "PUEBLO UNO", X0 + 300, Y0 + 400),  # named by the junction's brackets
                    ("9999030001", "CAPITAL AL FINAL", X0 + 12_000, Y0 + 1_000)])  # beyond the last junction
    out = R.improve_national(straight, nodes, q, crs=CRS, towns=towns)
    # hand: A(0,0) - P1(300,400) - C(5000,3000) - B(10000,0), and a spur B - E(12000,1000)
    hand = (500.0 + np.hypot(4_700, 2_600) + np.hypot(5_000, 3_000) + np.hypot(2_000, 1_000)) / 1000.0
    assert _km(out) == pytest.approx(hand, rel=1e-6)
    verts = {tuple(np.round(c, 3)) for c in shapely.get_coordinates(out.to_crs(CRS).geometry.values)}
    assert (X0 + 5_000, Y0 + 3_000) in verts and (X0 + 300, Y0 + 400) in verts and (X0 + 12_000, Y0 + 1_000) in verts
    assert len(out) == 4  # A-P1, P1-C, C-B split the edge; B-E is a spur
    assert (X0 + 2_000, Y0 + 1_000) not in verts and (X0 + 5_000, Y0 - 6_000) not in verts
    assert out["approximate"].all() and (out["source"] == R.SOURCE_NATIONAL).all()
    assert (out["road_class"] == R.NATIONAL_UNKNOWN).all() and (out["surface"] == "unknown").all()
    t = q.table()
    rows = t[t["problem"] == "towns snapped onto the national route"]
    assert len(rows) == 1 and "CAPITAL INVENTADA" in rows["detail"].iloc[0] and rows["action"].iloc[0] == "fixed"
    assert "centros poblados ajustados sobre la ruta nacional" in set(q.table("es")["problem"])


def test_edge_follows_a_line_joining_the_same_junctions(fixture_route):
    nodes, q, straight = fixture_route
    line = LineString([(X0, Y0 + 200), (X0 + 5_000, Y0 + 2_000), (X0 + 10_000, Y0 + 200)])  # INVENTED MTC line
    lines = gpd.GeoDataFrame({"road_id": ["mtc:inv:0.0"], "route_code": ["CA-INV"],
                              "road_class": ["departmental_paved"], "surface": ["paved"], "approximate": [False],
                              "source": [R.SOURCE_MTC_LINES]},
                             geometry=[line], crs=CRS).to_crs("EPSG:4326")
    out = R.improve_national(straight, nodes, q, crs=CRS, lines=lines).to_crs(CRS)
    # hand: 200 m approach + the line (2 * hypot(5000, 1800)) + 200 m back to the junction
    assert out.length.sum() == pytest.approx(400.0 + 2 * np.hypot(5_000, 1_800), rel=1e-6)
    on = out[out["source"] == R.SOURCE_NATIONAL_LINES]
    assert len(on) == 1 and not on["approximate"].any()
    assert on["road_class"].iloc[0] == "departmental_paved" and on["surface"].iloc[0] == "paved"  # the line's own
    assert out.loc[out["source"] == R.SOURCE_NATIONAL, "approximate"].all()
    # a line 3 x longer than the edge is not the same road
    zig = LineString([(X0, Y0 + 200), (X0 + 5_000, Y0 + 14_000), (X0 + 10_000, Y0 + 200)])
    far = lines.to_crs(CRS).set_geometry([zig]).to_crs("EPSG:4326")
    kept = R.improve_national(straight, nodes, QualityReport(), crs=CRS, lines=far)
    assert (kept["source"] == R.SOURCE_NATIONAL).all() and _km(kept) == pytest.approx(10.0, abs=1e-6)


def test_detour_factor_per_class_by_hand():
    sp = Speeds(approximate_detour_factor=1.3, detour_factor_by_class={"national_unknown": 1.6, "vecinal": 2.0})
    f = detour_factors(["national_unknown", "vecinal", "trail", "vecinal"], [True, True, True, False], sp)
    np.testing.assert_allclose(f, [1.6, 2.0, 1.3, 1.0])
    assert Speeds().road_kmh["national_unknown"] == Speeds().road_kmh["national_paved"]


# ------------------------------------------------------------------ real data
@pytest.fixture(scope="module")
def real():
    sc = siting.load_scenario(SCENARIO)
    q = QualityReport()
    places = load_places(sc, load_districts(sc, q), q)
    nodes = R.read_route_nodes(sc.inputs.road_route_nodes, q, crs=CRS)
    lines = R.load_mtc_lines(sc.inputs.roads[0], q, crs=CRS)
    before = R.national_from_junctions(nodes, q, crs=CRS)
    after = R.improve_national(before, nodes, q, crs=CRS, towns=places, lines=lines)
    return places, before, after, q


def test_real_routes_keep_flags_and_never_shrink(real):
    _, before, after, q = real
    assert set(after["source"]) <= {R.SOURCE_NATIONAL, R.SOURCE_NATIONAL_LINES}
    straight = after["source"] == R.SOURCE_NATIONAL
    assert after.loc[straight, "approximate"].all() and not after.loc[~straight, "approximate"].any()
    assert after["road_class"].isin(list(Speeds().road_kmh)).all()
    kb = before.to_crs(CRS).assign(km=lambda d: d.length).groupby("route_code")["km"].sum()
    ka = after.to_crs(CRS).assign(km=lambda d: d.length).groupby("route_code")["km"].sum()
    assert set(ka.index) == set(kb.index)
    assert (ka >= kb - 1e-6).all(), (ka - kb)
    assert ka.sum() > kb.sum() * 1.05  # the towns and lines add real length
    assert any(n.startswith("National routes refined") for n in q.notes)
    assert any(n.startswith("Rutas nacionales mejoradas") for n in q.notes_in("es"))


def test_tembladera_walk_to_the_road_falls(real):
    places, before, after, _ = real
    t = places[places["name"].str.upper() == "TEMBLADERA"].to_crs(CRS)
    assert len(t) == 1
    p = t.geometry.iloc[0]
    d_before = float(before.to_crs(CRS).distance(p).min())
    d_after = float(after.to_crs(CRS).distance(p).min())
    assert d_before == pytest.approx(3_300, abs=100)  # the 3.3 km
    assert d_after < 1.0
    # the straight walk to the road on the flat (Tobler, 5.04 km/h) falls from ~39 min to 0
    sp = Speeds()
    assert float(walk_minutes(d_before, 0.0, sp)) == pytest.approx(d_before / 1000 / 5.0355 * 60, rel=1e-3)
    assert float(walk_minutes(d_after, 0.0, sp)) < 0.1
    assert Point(p.x, p.y).distance(before.to_crs(CRS).union_all()) > 3_000


def _walk_to_road_min(terrain, roads, point) -> float:
    """Minutes from ``point`` to the nearest road node in the travel graph (walking only: the
    first road node reached from the point), by scipy's Dijkstra on the graph's matrix."""
    from scipy.sparse.csgraph import dijkstra

    from siting.network.graph import build_travel_graph
    from siting.network.model import ROAD
    g = build_travel_graph(terrain, roads, Speeds(), {"town": point})
    src = int(g.point_nodes["town"][0])
    d = dijkstra(g.matrix, indices=src, limit=240.0)
    return float(d[g.kind == ROAD].min())


def test_tembladera_connector_walk_in_the_graph_falls(real):
    """The issue's case on the real graph (DEM + roads near Tembladera): the walk from the town to
    the first road node falls from tens of minutes to a short connector."""
    from siting.data.terrain import load_dem
    places, before, after, _ = real
    sc = siting.load_scenario(SCENARIO)
    town = places[places["name"].str.upper() == "TEMBLADERA"]
    lon, lat = float(town.geometry.x.iloc[0]), float(town.geometry.y.iloc[0])
    bounds = (lon - 0.12, lat - 0.12, lon + 0.12, lat + 0.12)
    terrain = load_dem(sc.inputs.dem, bounds_4326=bounds, crs=CRS)
    box = shapely.box(*bounds)
    q = QualityReport()
    others = R.load_roads(sc, q, crs=CRS)
    others = others[~others["road_id"].str.startswith("nat:") & others.intersects(box)]
    clip = lambda nat: pd.concat([others, nat[nat.intersects(box)]], ignore_index=True)  # noqa: E731
    walk_before = _walk_to_road_min(terrain, gpd.GeoDataFrame(clip(before), crs="EPSG:4326"), town)
    walk_after = _walk_to_road_min(terrain, gpd.GeoDataFrame(clip(after), crs="EPSG:4326"), town)
    print(f"Tembladera walk to the road: {walk_before:.1f} -> {walk_after:.1f} min")
    assert walk_before > 30.0  # the issue: "its path ends with a 61-min walk"
    assert walk_after < 5.0 and walk_after < walk_before / 10
