"""Tests of siting.data.roads on the shipped MTC data and on small labelled fixtures.

Independent references: plain-Python rebuild of the vecinal routes, networkx minimum
spanning trees, brute-force shapely distances + networkx components.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString

import siting
from siting.data import roads as R
from siting.data.quality import QualityReport
from siting.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "cajamarca.toml"
RAW = ROOT / "data" / "raw" / "roads"
DEP_LINES = RAW / "mtc_red_vial_departamental_cajamarca.gpkg"
VEC_NODES = RAW / "mtc_red_vial_vecinal_puntos_cajamarca.gpkg"
OSM_FIXTURE = ROOT / "tests" / "fixtures" / "fixture_osm_tiny.osm"
CRS = "EPSG:32717"


@pytest.fixture(scope="module")
def shipped():
    sc = siting.load_scenario(SCENARIO)
    q = QualityReport()
    roads = R.load_roads(sc, q)
    return sc, q, roads


# ------------------------------------------------------------------ contract
def test_schema_and_classes(shipped):
    sc, _, roads = shipped
    assert list(roads.columns) == R.ROAD_COLUMNS
    assert roads.crs.to_epsg() == 4326
    assert set(roads.geom_type) == {"LineString"}
    assert not roads.geometry.has_z.any()
    assert roads["approximate"].dtype == bool
    assert set(roads["road_class"]) <= set(sc.speeds.road_kmh)
    assert roads["road_id"].is_unique
    assert (roads.to_crs(CRS).length > 0).all()


def test_mtc_lines_exploded(shipped):
    _, q, roads = shipped
    raw = gpd.read_file(DEP_LINES)
    mtc = roads[roads["source"] == R.SOURCE_MTC_LINES]
    # every part of every MultiLineString becomes one LineString
    assert len(raw) == 94
    assert len(mtc) == int(shapely.get_num_geometries(raw.geometry.values).sum()) == 142
    assert mtc["route_code"].nunique() == 15
    assert (mtc["road_class"] == "departmental_unpaved").all()  # no surface column in the file
    assert not mtc["approximate"].any()
    km = mtc.to_crs(CRS).length.sum() / 1000
    assert km == pytest.approx(raw["LONGITUD"].sum(), rel=0.01)  # MTC LONGITUD ~ 879 km
    assert any("no surface column" in n for n in q.notes)


# ------------------------------------------------------------------ vecinal rebuild
def _reference_vecinal() -> tuple[int, float, int]:
    """Plain-Python rebuild: order by POSICION then TIPO then file order, merge repeated
    nodes (same route, POSICION and place), join consecutive nodes."""
    v = gpd.read_file(VEC_NODES).to_crs(CRS)
    order = {"INICIAL": 0, "INTERMEDIO": 1, "FINAL": 2}
    routes: dict[str, list] = {}
    for i, (code, pos, tipo, geom) in enumerate(zip(v["COD_RUTA"], v["POSICION"], v["TIPO"], v.geometry)):
        routes.setdefault(code, []).append((pos, order.get(tipo, 1), i, round(geom.x), round(geom.y), geom))
    n_seg, km, n_routes = 0, 0.0, 0
    for nodes in routes.values():
        nodes.sort(key=lambda t: t[:3])
        seen, kept = set(), []
        for pos, _, _, rx, ry, geom in nodes:
            if (pos, rx, ry) not in seen:
                seen.add((pos, rx, ry))
                kept.append(geom)
        if len(kept) > 1:
            n_routes += 1
        for a, b in itertools.pairwise(kept):
            n_seg += 1
            km += a.distance(b) / 1000
    return n_seg, km, n_routes


def test_vecinal_rebuild_matches_reference(shipped):
    _, _, roads = shipped
    seg = roads[roads["road_id"].str.startswith("vec:")]
    n_seg, km, n_routes = _reference_vecinal()
    assert len(seg) == n_seg == 2136
    assert seg["route_code"].nunique() == n_routes == 1187 - 11
    got_km = seg.to_crs(CRS).length.sum() / 1000
    assert got_km == pytest.approx(km, rel=1e-6)
    assert got_km == pytest.approx(6249, rel=0.01)
    assert set(seg["road_class"]) == {"vecinal"} and seg["approximate"].all()
    assert set(seg["source"]) == {R.SOURCE_VECINAL}
    # every segment joins two real route nodes
    nodes = gpd.read_file(VEC_NODES)
    from scipy.spatial import cKDTree
    dist, _ = cKDTree(shapely.get_coordinates(nodes.geometry.values)).query(
        shapely.get_coordinates(seg.geometry.values))
    assert dist.max() < 1e-9


def test_vecinal_quality_entries(shipped):
    _, q, _ = shipped
    t = q.table()
    vec = t[t["input"] == f"road_route_nodes:{VEC_NODES.name}"]
    single = vec[vec["problem"] == "route with a single node"]
    assert len(single) == 11 and (single["action"] == "dropped").all()
    raw = gpd.read_file(VEC_NODES)
    n = raw.groupby("COD_RUTA").size()
    assert set(single["row_id"]) == set(n[n == 1].index)
    # 25 routes have a repeated POSICION: merged when it is the same node, flagged otherwise
    dup_routes = set(raw.loc[raw.duplicated(["COD_RUTA", "POSICION"], keep=False), "COD_RUTA"])
    assert len(dup_routes) == 25
    merged = vec[vec["problem"] == "repeated route node"]
    assert len(merged) == 9 and (merged["action"] == "fixed").all()
    flagged = set(vec.loc[vec["problem"] == "repeated POSICION", "row_id"])
    merged_routes = set(raw.loc[merged["row_id"].astype(int), "COD_RUTA"])
    assert flagged | merged_routes == dup_routes


# ------------------------------------------------------------------ national routes
def test_national_mst_matches_networkx(shipped):
    sc, _, _ = shipped  # the spanning-tree stage, before improve_national (tested in test_data_roads_national.py)
    q = QualityReport()
    nat = R.national_from_junctions(R.read_route_nodes(sc.inputs.road_route_nodes, q, crs=CRS), q, crs=CRS)
    assert set(nat["route_code"]) == {"PE-3N", "PE-08", "PE-5N", "PE-06", "PE-02", "PE-1N", "PE-04"}
    assert (nat["road_class"] == "national_unknown").all() and nat["approximate"].all()
    proj = nat.to_crs(CRS)
    for route, grp in proj.groupby("route_code"):
        coords = shapely.get_coordinates(grp.geometry.values).round(3)
        g = nx.Graph()
        for k in range(0, len(coords), 2):
            g.add_edge(tuple(coords[k]), tuple(coords[k + 1]))
        assert nx.is_tree(g), route  # spanning tree: edges = nodes - 1, connected
        assert g.number_of_edges() == g.number_of_nodes() - 1
        # its total length equals networkx's MST over the complete graph of those nodes
        pts = list(g.nodes)
        full = nx.Graph()
        for a, b in itertools.combinations(pts, 2):
            full.add_edge(a, b, weight=float(np.hypot(a[0] - b[0], a[1] - b[1])))
        ref = nx.minimum_spanning_tree(full).size(weight="weight")
        assert grp.length.sum() == pytest.approx(ref, rel=1e-6), route
    assert (nat["route_code"] == "PE-3N").sum() == 183  # 184 distinct 'Emp. PE-3N' places
    assert any("minimum spanning tree" in n for n in q.notes)


def test_junction_connectors_reach_named_routes(shipped):
    sc, _, roads = shipped
    proj = roads.to_crs(CRS)
    base = proj[~proj["road_id"].str.startswith("conn:")]
    geom = {r: shapely.union_all(g.geometry.values) for r, g in base.groupby("route_code")}
    conn = proj[proj["road_id"].str.startswith("conn:")].set_index("road_id")
    assert conn["approximate"].all() and (conn["road_class"] == "vecinal").all()
    nodes = R.read_route_nodes(sc.inputs.road_route_nodes, QualityReport(), crs=CRS)
    expected = set()
    for rec in nodes.itertuples():
        if not isinstance(rec.junction, str) or rec.junction == rec.route_code or rec.junction not in geom:
            continue
        p = shapely.Point(rec.x, rec.y)
        d = geom[rec.junction].distance(p)
        rid = f"conn:{rec.route_code}:{rec.position:g}:r{rec.row}>{rec.junction}"
        if 1.0 <= d <= 5000.0:
            expected.add(rid)
            start, end = shapely.get_coordinates(conn.loc[rid, "geometry"])
            assert np.hypot(*(start - [p.x, p.y])) < 0.01  # starts at the junction node
            assert geom[rec.junction].distance(shapely.Point(end)) < 0.5  # ends on the named route
            assert conn.loc[rid, "geometry"].length == pytest.approx(d, abs=0.5)
    got = {rid for rid in conn.index if rid.split(">")[1] != rid.split(":")[1]}
    assert got == expected and len(expected) > 500
    # "Emp. CA-111 (Corral Pampa)" (start of CA-1648) lies on CA-111 itself: no connector needed
    corral = nodes[(nodes["route_code"] == "CA-1648") & (nodes["position"] == 1)].iloc[0]
    assert corral["junction"] == "CA-111"
    assert geom["CA-111"].distance(shapely.Point(corral["x"], corral["y"])) < 1.0


def test_parse_junction():
    cases = {
        "Emp. PE-3N": "PE-3N", "Emp. CA-111 (Corral Pampa)": "CA-111", "Emp. CA 102": "CA-102",
        "Emp. CA-1262.": "CA-1262", "Emp. PE-02B": "PE-02", "Emp. PE-1N F (Contumaza)": "PE-1N",
        "Emp. PE-08 A (San Pablo)": "PE-08", "Emp. 3N (Montoya).": "PE-3N", "Emp. 1052": "CA-1052",
        "Emp. PE-3 N (Marcapampa).": "PE-3N", "Emp.CA-1404": "CA-1404", "Emp. CA-3N": "PE-3N",
        "Emp. CA-C647 (La Cruz).": None, "Chanshe.": None, "Emp. PE-3 (sin sentido)": None,
    }
    for text, expected in cases.items():
        assert R.parse_junction(text, "CA-1") == expected, text


# ------------------------------------------------------------------ components
def _brute_components(roads: gpd.GeoDataFrame, tol: float) -> list[set[int]]:
    geoms = list(roads.to_crs(CRS).geometry)
    g = nx.Graph()
    g.add_nodes_from(range(len(geoms)))
    for i, a in enumerate(geoms):
        for p in (shapely.Point(a.coords[0]), shapely.Point(a.coords[-1])):
            for j, b in enumerate(geoms):
                if i != j and p.distance(b) <= tol:
                    g.add_edge(i, j)
    return [set(c) for c in nx.connected_components(g)]


def _as_partition(labels: np.ndarray) -> set[frozenset]:
    return {frozenset(np.flatnonzero(labels == k)) for k in np.unique(labels)}


def test_components_fixture_hand_computed():
    # FIXTURE (made-up lines in metres, EPSG:32717, near the study area): not real roads.
    x0, y0 = 780000.0, 9200000.0
    lines = [
        LineString([(x0, y0), (x0 + 1000, y0)]),                      # 0
        LineString([(x0 + 500, y0), (x0 + 500, y0 + 800)]),           # 1 T-junction on 0
        LineString([(x0 + 1030, y0), (x0 + 2000, y0)]),               # 2 gap 30 m from 0
        LineString([(x0 + 2080, y0), (x0 + 3000, y0)]),               # 3 gap 80 m from 2
        LineString([(x0 + 2500, y0 - 500), (x0 + 2500, y0 + 500)]),   # 4 crosses 3, no shared end
    ]
    gdf = gpd.GeoDataFrame({"route_code": list("abcde")}, geometry=lines, crs=CRS).to_crs(4326)
    comp = R.road_components(gdf, CRS, tolerance_m=50.0)
    assert _as_partition(comp) == {frozenset({0, 1, 2}), frozenset({3}), frozenset({4})}
    assert comp[0] == 0  # largest component gets id 0
    comp100 = R.road_components(gdf, CRS, tolerance_m=100.0)
    assert _as_partition(comp100) == {frozenset({0, 1, 2, 3}), frozenset({4})}


def test_components_match_brute_force_on_real_subset(shipped):
    _, _, roads = shipped
    rng = np.random.default_rng(7)
    # a compact real subset: everything within 25 km of Cajamarca city (-78.5, -7.16)
    centre = gpd.GeoSeries([shapely.Point(-78.5, -7.16)], crs=4326).to_crs(CRS).iloc[0]
    proj = roads.to_crs(CRS)
    sub = roads[proj.distance(centre) < 25000].reset_index(drop=True)
    if len(sub) > 250:
        sub = sub.iloc[np.sort(rng.choice(len(sub), 250, replace=False))].reset_index(drop=True)
    assert len(sub) > 50
    got = _as_partition(R.road_components(sub, CRS, tolerance_m=50.0))
    ref = {frozenset(c) for c in _brute_components(sub, 50.0)}
    assert got == ref


def test_components_reported(shipped):
    _, q, roads = shipped
    comp = R.road_components(roads, CRS, tolerance_m=50.0)
    n = len(np.unique(comp))
    assert n == 28
    sizes = np.bincount(comp)
    assert sizes[0] == sizes.max() and sizes[0] > 0.9 * len(roads)
    t = q.table()
    assert (t["problem"] == "disconnected road component").sum() == n - 1
    assert any(f"split into {n} disconnected parts" in s for s in q.notes)


# ------------------------------------------------------------------ classification & bad inputs
def test_classify_mtc_table():
    assert R.classify_mtc(None, None)[0] == "departmental_unpaved"
    assert R.classify_mtc(None, "ASFALTADO")[0] == "departmental_paved"
    assert R.classify_mtc("NACIONAL", "Asfaltado")[0] == "national_paved"
    assert R.classify_mtc("VECINAL", "TROCHA")[0] == "vecinal"
    assert R.classify_mtc(None, "Sin afirmar")[:2] == ("departmental_unpaved", "unpaved")
    cls, kind, known = R.classify_mtc(None, "LODO")
    assert (cls, kind, known) == ("departmental_unpaved", "unknown", False)


def test_surface_column_is_used(tmp_path):
    # FIXTURE: 3 real MTC lines with a made-up TIPSUP column (values chosen for the test).
    raw = gpd.read_file(DEP_LINES).iloc[[0, 1, 2]].copy()
    raw["TIPSUP"] = ["ASFALTADO", "AFIRMADO", "BARRO XYZ"]
    path = tmp_path / "fixture_mtc_with_surface.gpkg"
    raw.to_file(path)
    q = QualityReport()
    out = R.load_mtc_lines(path, q, crs=CRS)
    by_row = out.assign(row=out["road_id"].str.split(":").str[2].str.split(".").str[0].astype(int))
    classes = by_row.groupby("row")["road_class"].first().to_dict()
    assert classes == {0: "departmental_paved", 1: "departmental_unpaved", 2: "departmental_unpaved"}
    t = q.table()
    assert list(t.loc[t["problem"] == "unknown surface value", "row_id"]) == ["2"]


def test_zero_length_line_dropped(tmp_path):
    # FIXTURE: one real MTC line plus a made-up degenerate line (both ends equal).
    raw = gpd.read_file(DEP_LINES).iloc[[0]].copy()
    p = shapely.Point(-78.5, -7.16)
    extra = gpd.GeoDataFrame({"COD_DS12": ["CA-FIX"]}, geometry=[MultiLineString([[(p.x, p.y), (p.x, p.y)]])],
                             crs=4326)
    path = tmp_path / "fixture_zero_length.gpkg"
    pd.concat([raw, extra], ignore_index=True).pipe(gpd.GeoDataFrame, crs=4326).to_file(path)
    q = QualityReport()
    out = R.load_mtc_lines(path, q, crs=CRS)
    assert "CA-FIX" not in set(out["route_code"])
    t = q.table()
    assert ((t["problem"] == "line of length 0") & (t["action"] == "dropped")).sum() == 1


def test_empty_road_layer_is_a_clear_error(tmp_path):
    empty = gpd.read_file(DEP_LINES).iloc[0:0]
    path = tmp_path / "fixture_empty_roads.gpkg"
    empty.to_file(path)
    with pytest.raises(DataError) as err:
        R.load_mtc_lines(path, QualityReport(), crs=CRS)
    assert "fixture_empty_roads.gpkg" in str(err.value) and "no lines" in str(err.value)


def test_layer_without_crs_is_a_clear_error(tmp_path):
    raw = gpd.read_file(DEP_LINES).iloc[[0, 1]]
    path = tmp_path / "fixture_no_crs.gpkg"
    raw.set_crs(None, allow_override=True).to_file(path)
    assert gpd.read_file(path).crs is None
    with pytest.raises(DataError) as err:
        R.load_mtc_lines(path, QualityReport(), crs=CRS)
    msg = str(err.value)
    assert "fixture_no_crs.gpkg" in msg and "coordinate reference system" in msg and "EPSG:4326" in msg


def test_node_file_without_columns_is_a_clear_error(tmp_path):
    raw = gpd.read_file(VEC_NODES).iloc[:5].drop(columns=["POSICION"])
    path = tmp_path / "fixture_nodes_no_posicion.gpkg"
    raw.to_file(path)
    with pytest.raises(DataError, match="POSICION"):
        R.read_route_nodes([path], QualityReport(), crs=CRS)


def test_missing_road_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        R.load_mtc_lines(tmp_path / "nope.gpkg", QualityReport(), crs=CRS)


# ------------------------------------------------------------------ OpenStreetMap
EXPECTED_OSM = {  # fixture way -> class (see tests/fixtures/fixture_osm_tiny.osm)
    (1, 2): "national_paved", (2, 3): "departmental_unpaved", (3, 4): "departmental_paved",
    (4, 5): "vecinal", (3, 6): "trail", (6, 7): "departmental_unpaved", (7, 8): "urban", (9, 10): "trail",
}


def _osm_classes(roads: gpd.GeoDataFrame) -> dict[tuple[int, int], str]:
    out = {}
    for rid, cls in zip(roads["road_id"], roads["road_class"]):
        u, v = rid.removeprefix("osm:").split("-")[:2]
        out[tuple(sorted((int(u), int(v))))] = cls
    return out


def test_osm_xml_fixture_classes():
    roads = R.load_osm(OSM_FIXTURE)
    assert list(roads.columns) == R.ROAD_COLUMNS
    assert _osm_classes(roads) == EXPECTED_OSM  # one line per way, two-way ways not doubled
    assert set(roads["source"]) == {R.SOURCE_OSM} and not roads["approximate"].any()
    assert roads.loc[roads["road_class"] == "national_paved", "route_code"].tolist() == ["PE-FIXTURE"]
    comp = R.road_components(roads, CRS, tolerance_m=50.0)
    assert len(np.unique(comp)) == 2  # the footway 9-10 is apart


def test_osm_graphml_and_gpkg_give_same_classes(tmp_path, monkeypatch):
    import osmnx as ox
    monkeypatch.setattr(ox.settings, "useful_tags_way", list(ox.settings.useful_tags_way) + ["surface"])
    g = ox.graph_from_xml(OSM_FIXTURE, simplify=False, retain_all=True)
    ox.save_graphml(g, tmp_path / "fixture_osm.graphml")
    assert _osm_classes(R.load_osm(tmp_path / "fixture_osm.graphml")) == EXPECTED_OSM
    ox.save_graph_geopackage(g, tmp_path / "fixture_osm.gpkg")
    assert _osm_classes(R.load_osm(tmp_path / "fixture_osm.gpkg")) == EXPECTED_OSM


def test_osm_class_table():
    assert R.osm_class("motorway_link") == "national_paved"
    assert R.osm_class(["track", "primary"]) == "vecinal"
    assert R.osm_class("secondary", "dirt") == "departmental_unpaved"
    assert R.osm_class("tertiary", "asphalt") == "departmental_paved"
    assert R.osm_class("footway") == "trail"
    assert R.osm_class("some_new_tag") == "vecinal"
    assert set(R.OSM_HIGHWAY_CLASS.values()) <= set(R.ROAD_CLASSES)


def test_osm_download_needs_polygon():
    with pytest.raises(DataError, match="polygon"):
        R.load_osm("download")
