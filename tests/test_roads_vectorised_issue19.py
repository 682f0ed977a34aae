"""The vectorised national-route refinement and junction connectors (issue #19) give exactly
what the former per-item code gave.

The ``_former_*`` functions below are verbatim copies of ``siting.data.roads.national`` /
``routes`` before #19 (commit 857a047: a LineString built per edge and a new STRtree per
inserted town, the scalar distance of every MTC line to both ends of every edge, one pyproj
transform and one ``nearest_points`` per piece / connector): the independent reference.

* Real data (``data/raw/roads``, the INEI centros poblados of ``scenarios/cajamarca.toml``):
  :func:`improve_national`, ``_insert_towns`` route by route and :func:`junction_connectors`
  equal the former code exactly (tables with ``check_exact``, geometries by WKB, quality
  entries and notes in order).
* INVENTED fixtures (made-up coordinates in UTM 17S, not real places or roads) for the
  branches real data does not reach: a point exactly ``snap_m`` from a line (the
  bounding-box pre-filter must keep it), towns at a shared vertex (ties between edges), a
  town on a vertex, a connector farther than ``max_connector_m``, an empty route geometry.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point
from shapely.ops import nearest_points, substring

import siting
from siting.data import roads as R
from siting.data.boundaries import load_districts
from siting.data.population import load_places
from siting.data.quality import QualityReport
from siting.data.roads import national as N
from siting.data.roads import routes as RT
from siting.data.roads.common import (
    DUPLICATE_NODE_M,
    MIN_LENGTH_M,
    NATIONAL_UNKNOWN,
    SOURCE_NATIONAL,
    SOURCE_VECINAL,
    _roads_frame,
    _to_4326,
)
from siting.data.roads.national import (
    LINE_SNAP_M,
    MAX_LINE_RATIO,
    MIN_EDGE_M,
    NODE_SNAP_M,
    SOURCE_NATIONAL_LINES,
    TOWN_SNAP_M,
    Line,
)
from siting.i18n import bilingual

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "cajamarca.toml"
CRS = "EPSG:32717"
X0, Y0 = 700_000.0, 9_200_000.0  # INVENTED fixture origin (UTM 17S)


# ------------------------------------------------------------------ the former code (reference)
def _former_nodes_near(edges, nodes: pd.DataFrame, snap_m: float) -> pd.DataFrame:
    if not edges or len(nodes) == 0:
        return pd.DataFrame(columns=["ccpp_id", "name", "x", "y"])
    tree = shapely.STRtree([LineString([a, b]) for a, b in edges])
    pts = shapely.points(nodes[["x", "y"]].to_numpy())
    hit = np.unique(tree.query(pts, predicate="dwithin", distance=snap_m)[0])
    sel = nodes.iloc[hit]
    return pd.DataFrame({"ccpp_id": sel["route_code"].to_numpy(), "name": sel["name"].to_numpy(),
                         "x": sel["x"].to_numpy(), "y": sel["y"].to_numpy()})


def _former_insert_towns(edges: list[tuple[np.ndarray, np.ndarray]], towns: pd.DataFrame, snap_m: float
                  ) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[str]]:
    """Insert each town within ``snap_m`` of the edges as a vertex of its nearest edge (nearest first).

    A town whose nearest point on the edge is inside it splits the edge (``A-T``, ``T-B``); one
    whose nearest point is an end (beyond the route's last junction, or at a corner) gets a spur
    from that end instead, so the through route is not lengthened by an out-and-back.
    """
    snapped: list[str] = []
    todo = towns.copy()
    while len(todo) and edges:
        lines = [LineString([a, b]) for a, b in edges]
        tree = shapely.STRtree(lines)
        pts = shapely.points(todo[["x", "y"]].to_numpy())
        idx, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
        # idx = [[point index...], [edge index...]]
        pi, ei = idx
        close = dist <= snap_m
        if not close.any():
            break
        k = int(np.argmin(np.where(close, dist, np.inf)))
        p, e = int(pi[k]), int(ei[k])
        t = todo.iloc[p]
        txy = np.array([t["x"], t["y"]], dtype=float)
        a, b = edges[e]
        if min(np.hypot(*(txy - a)), np.hypot(*(txy - b))) >= DUPLICATE_NODE_M:
            ab = b - a
            u = float(np.dot(txy - a, ab) / max(float(np.dot(ab, ab)), 1e-9))
            if u <= 0.0 or u >= 1.0:
                edges = [*edges, (a if u <= 0.0 else b, txy)]  # spur from the nearest end
            else:
                edges = edges[:e] + [(a, txy), (txy, b)] + edges[e + 1:]
            snapped.append(f"{t['name']} ({t['ccpp_id']}, {dist[k] / 1000:.1f} km)")
        todo = todo.drop(index=todo.index[p])
    return edges, snapped


def _former_follow_line(a: np.ndarray, b: np.ndarray, mtc: list[Line], *, snap_m: float,
                 max_ratio: float) -> Line | None:
    """The shortest MTC part between the projections of ``a`` and ``b`` that meets the rule (or None).

    Accepted when ``dist(a, line) <= snap_m``, ``dist(b, line) <= snap_m`` and
    ``|AB| <= L_part <= max_ratio * |AB|``.
    """
    d = float(np.hypot(*(b - a)))
    if d < MIN_EDGE_M:
        return None
    pa, pb = Point(a), Point(b)
    best: Line | None = None
    for route, line, surface, road_class in mtc:
        if line.distance(pa) > snap_m or line.distance(pb) > snap_m:
            continue
        sa, sb = line.project(pa), line.project(pb)
        length = abs(sb - sa)
        if not d <= length <= max_ratio * d or (best is not None and length >= best[1].length):
            continue
        part = substring(line, sa, sb)
        if part.geom_type == "LineString" and part.length > MIN_LENGTH_M:
            best = (route, part, surface, road_class)
    return best


def _former_piece(route: str, k: int, coords: np.ndarray, crs: str, *, surface: str, road_class: str, approximate: bool,
           source: str) -> dict:
    return {"road_id": f"nat:{route}:{k}", "route_code": route, "road_class": road_class, "surface": surface,
            "approximate": approximate, "source": source, "geometry": LineString(_to_4326(coords, crs))}


def _former_edge_pieces(a: np.ndarray, b: np.ndarray, mtc: list, *, crs: str, line_snap_m: float, max_line_ratio: float
                 ) -> list[tuple[np.ndarray, str, str, bool, str]]:
    """(coords, surface, class, approximate, source) of the pieces that draw edge ``a-b``."""
    straight = ("unknown", NATIONAL_UNKNOWN, True, SOURCE_NATIONAL)
    hit = _former_follow_line(a, b, mtc, snap_m=line_snap_m, max_ratio=max_line_ratio)
    if hit is None:
        return [(np.array([a, b]), *straight)]
    _route, part, surface, road_class = hit
    xy = np.asarray(part.coords)[:, :2]
    if np.hypot(*(xy[0] - a)) > np.hypot(*(xy[-1] - a)):
        xy = xy[::-1]
    out = []
    if np.hypot(*(xy[0] - a)) >= DUPLICATE_NODE_M:
        out.append((np.array([a, xy[0]]), *straight))
    out.append((xy, surface, road_class, False, SOURCE_NATIONAL_LINES))
    if np.hypot(*(b - xy[-1])) >= DUPLICATE_NODE_M:
        out.append((np.array([xy[-1], b]), *straight))
    return out


def _former_improve_national(national: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, quality: QualityReport, *, crs: str,
                     towns: gpd.GeoDataFrame | None = None, lines: gpd.GeoDataFrame | None = None,
                     town_snap_m: float = TOWN_SNAP_M, line_snap_m: float = LINE_SNAP_M,
                     max_line_ratio: float = MAX_LINE_RATIO, node_snap_m: float = NODE_SNAP_M) -> gpd.GeoDataFrame:
    """Refine the straight national edges (rules in the module docstring).

    ``national``: :func:`~siting.data.roads.routes.national_from_junctions` output;
    ``nodes``: :func:`~siting.data.roads.routes.read_route_nodes` output; ``towns``:
    centros poblados (``ccpp_id, name``, points); ``lines``: MTC lines
    (:func:`~siting.data.roads.mtc.load_mtc_lines`).  Returns the road table of the refined
    routes; the quality report gets one note (en + es) with the km before and after.
    """
    if len(national) == 0:
        return national
    national_base = RT.national_base
    junc = nodes[nodes["junction"].map(lambda c: isinstance(c, str) and national_base(c) is not None)]
    per_route_towns = N.route_towns(junc, towns, crs=crs) if towns is not None else {}
    mtc = N._mtc_routes(lines, crs)
    proj = national.to_crs(crs)
    rows: list[dict] = []
    km_before = km_after = 0.0
    n_towns = n_follow = n_nodes = 0
    other_nodes = nodes[nodes["junction"].isna()]
    for route, grp in proj.groupby("route_code", sort=True):
        edges = [(np.asarray(g.coords)[0, :2], np.asarray(g.coords)[-1, :2]) for g in grp.geometry]
        km_before += float(grp.length.sum()) / 1000.0
        near = _former_nodes_near(edges, other_nodes, node_snap_m)
        if len(near):
            edges, on_edge = _former_insert_towns(edges, near, node_snap_m)
            n_nodes += len(on_edge)
        t = per_route_towns.get(str(route))
        if t is not None and len(t):
            edges, snapped = _former_insert_towns(edges, t, town_snap_m)
            n_towns += len(snapped)
            if snapped:
                quality.add("roads:national", route, "towns snapped onto the national route", "; ".join(snapped),
                            action="fixed")
        k = 0
        for a, b in edges:
            for coords, surface, road_class, approx, source in _former_edge_pieces(
                    a, b, mtc, crs=crs, line_snap_m=line_snap_m, max_line_ratio=max_line_ratio):
                n_follow += source == SOURCE_NATIONAL_LINES
                km_after += float(np.hypot(*np.diff(coords, axis=0).T).sum()) / 1000.0
                rows.append(_former_piece(str(route), k, coords, crs, surface=surface, road_class=road_class,
                                   approximate=approx, source=source))
                k += 1
    out = _roads_frame(rows)
    en, es = bilingual("roads.national_rebuilt", km_before=km_before, km_after=km_after, n_towns=n_towns,
                       n_follow=n_follow, n_nodes=n_nodes, n_unknown=int((out["road_class"] == NATIONAL_UNKNOWN).sum()),
                       n=len(out))
    quality.note(en, es=es)
    return out

def _former_junction_connectors(nodes: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, quality: QualityReport, *, crs: str,
                        line_routes: Iterable[str] = (), max_connector_m: float = 5000.0) -> gpd.GeoDataFrame:
    """Straight connectors from empalme nodes to the routes they join (see module rules).

    ``road_id = "conn:<route>:<POSICION>:r<row in its file>><X>"``.
    For each node naming route X (X != its own route and X present in ``roads``), a segment
    from the node to the nearest point of X; for nodes of routes drawn by lines
    (``line_routes``), also to the nearest point of their own route.  Segments shorter than
    :data:`DUPLICATE_NODE_M` are not needed (the node is on the route) and are skipped;
    longer than ``max_connector_m`` are reported and not added.
    """
    line_routes = set(line_routes)
    proj = roads.to_crs(crs)
    targeted = {t for rec in nodes.itertuples(index=False) for t in (rec.junction, rec.route_code)
                if isinstance(t, str)}
    # only the routes some node may join are merged (the others cost 0.4 s on the shipped data, #19)
    route_geom = {r: shapely.union_all(g.geometry.values) for r, g in proj.groupby("route_code") if r in targeted}
    rows: list[dict] = []
    missing: dict[str, list] = {}
    for rec in nodes.itertuples(index=False):
        targets = []
        if isinstance(rec.junction, str) and rec.junction != rec.route_code:
            targets.append(rec.junction)
        if rec.route_code in line_routes:
            targets.append(rec.route_code)
        for target in targets:
            geom = route_geom.get(target)
            if geom is None:
                missing.setdefault(target, []).append(rec)
                continue
            p = shapely.Point(rec.x, rec.y)
            q = nearest_points(p, geom)[1]
            d = p.distance(q)
            if d < DUPLICATE_NODE_M:
                continue
            if d > max_connector_m:
                quality.add(f"road_route_nodes:{rec.file}", rec.row, "junction far from its route",
                            f"'{rec.name}' ({rec.route_code}) is {d / 1000:.1f} km from {target}; no connector",
                            action="dropped")
                continue
            ll = _to_4326(np.array([[p.x, p.y], [q.x, q.y]]), crs)
            rows.append({"road_id": f"conn:{rec.route_code}:{rec.position:g}:r{rec.row}>{target}",
                         "route_code": rec.route_code,
                         "road_class": "vecinal", "surface": "unknown", "approximate": True,
                         "source": SOURCE_VECINAL, "geometry": LineString(ll)})
    for target, recs in missing.items():
        quality.add_many(f"road_route_nodes:{recs[0].file}", [r.row for r in recs],
                         "junction with a route not in the data",
                         [f"'{r.name}' ({r.route_code}) names {target}, which has no lines or nodes" for r in recs])
    out = _roads_frame(rows)
    dup = out["road_id"].duplicated(keep=False)  # same route and row in two node files
    if dup.any():
        out.loc[dup, "road_id"] += ":" + out.loc[dup].groupby("road_id").cumcount().astype(str)
    return out


# ------------------------------------------------------------------ comparison helpers
def _assert_same_roads(got: gpd.GeoDataFrame, ref: gpd.GeoDataFrame) -> None:
    """Same road table: every column exact, geometries by WKB, same CRS."""
    assert got.crs == ref.crs
    pd.testing.assert_frame_equal(pd.DataFrame(got.drop(columns="geometry")),
                                  pd.DataFrame(ref.drop(columns="geometry")), check_exact=True)
    assert [g.wkb for g in got.geometry] == [g.wkb for g in ref.geometry]


def _assert_same_quality(got: QualityReport, ref: QualityReport) -> None:
    assert got.problems == ref.problems and got.notes == ref.notes and got.notes_es == ref.notes_es


def _edges_equal(got, ref) -> bool:
    return len(got) == len(ref) and all(np.array_equal(a, c) and np.array_equal(b, d)
                                        for (a, b), (c, d) in zip(got, ref))


# ------------------------------------------------------------------ real data
@pytest.fixture(scope="module")
def real():
    sc = siting.load_scenario(SCENARIO)
    q = QualityReport()
    towns = load_places(sc, load_districts(sc, q), q)
    nodes = R.read_route_nodes(sc.inputs.road_route_nodes, q, crs=CRS)
    lines = R.load_mtc_lines(sc.inputs.roads[0], q, crs=CRS)
    national = R.national_from_junctions(nodes, q, crs=CRS, skip_routes=set(lines["route_code"]) - {""})
    return sc, towns, nodes, lines, national


def test_improve_national_equals_the_former_code_on_real_data(real):
    _, towns, nodes, lines, national = real
    q_new, q_ref = QualityReport(), QualityReport()
    got = R.improve_national(national, nodes, q_new, crs=CRS, towns=towns, lines=lines)
    ref = _former_improve_national(national, nodes, q_ref, crs=CRS, towns=towns, lines=lines)
    _assert_same_roads(got, ref)
    _assert_same_quality(q_new, q_ref)
    assert len(got) > 500 and (got["source"] == SOURCE_NATIONAL_LINES).any()  # both rules were applied
    assert any(p["problem"] == "towns snapped onto the national route" for p in q_new.problems)


def test_insert_towns_equals_the_former_code_route_by_route(real):
    _, towns, nodes, _, national = real
    junc = nodes[nodes["junction"].map(lambda c: isinstance(c, str) and RT.national_base(c) is not None)]
    per_route = N.route_towns(junc, towns, crs=CRS)
    other = nodes[nodes["junction"].isna()]
    n_inserted = 0
    for route, grp in national.to_crs(CRS).groupby("route_code", sort=True):
        edges = [(np.asarray(g.coords)[0, :2], np.asarray(g.coords)[-1, :2]) for g in grp.geometry]
        near = N._nodes_near(edges, other, NODE_SNAP_M)
        pd.testing.assert_frame_equal(near, _former_nodes_near(edges, other, NODE_SNAP_M), check_exact=True)
        for todo, snap in ((near, NODE_SNAP_M), (per_route.get(str(route)), TOWN_SNAP_M)):
            if todo is None or not len(todo):
                continue
            got, got_snapped = N._insert_towns(edges, todo, snap)
            ref, ref_snapped = _former_insert_towns(edges, todo, snap)
            assert _edges_equal(got, ref) and got_snapped == ref_snapped, route
            n_inserted += len(got) - len(edges)
            edges = got
    assert n_inserted > 50  # towns and route nodes were inserted on the real routes


def test_follow_line_equals_the_former_code_on_real_lines(real):
    """Every edge of the real refined routes, and INVENTED edges between points taken along the
    real MTC lines (offset by up to 1.5 km, so that some ends fall just inside or outside the
    snapping distance), follow the same line part in both codes."""
    _, _, _, lines, national = real
    mtc = N._mtc_routes(lines, CRS)
    bounds = N._line_bounds(mtc)
    edges = [(np.asarray(g.coords)[0, :2], np.asarray(g.coords)[-1, :2]) for g in national.to_crs(CRS).geometry]
    rng = np.random.default_rng(19)
    for _, line, _, _ in mtc[:40]:
        for _ in range(8):  # INVENTED edges near a real line
            s = np.sort(rng.uniform(0, line.length, 2))
            a, b = (np.asarray(line.interpolate(v).coords)[0, :2] + rng.uniform(-1500, 1500, 2) for v in s)
            edges.append((a, b))
    hits = 0
    for a, b in edges:
        got = N._follow_line(a, b, mtc, snap_m=LINE_SNAP_M, max_ratio=MAX_LINE_RATIO, bounds=bounds)
        ref = _former_follow_line(a, b, mtc, snap_m=LINE_SNAP_M, max_ratio=MAX_LINE_RATIO)
        assert (got is None) == (ref is None)
        if got is not None:
            hits += 1
            assert got[0] == ref[0] and got[2:] == ref[2:] and got[1].wkb == ref[1].wkb
    assert hits > 20  # the line-following branch is exercised, not only the straight one


def test_junction_connectors_equal_the_former_code_on_real_data(real):
    sc, towns, nodes, lines, national = real
    q = QualityReport()
    rebuilt = R.rebuild_routes(nodes, q, crs=CRS, skip_routes=set(lines["route_code"]) - {""})
    improved = R.improve_national(national, nodes, q, crs=CRS, towns=towns, lines=lines)
    base = gpd.GeoDataFrame(pd.concat([lines, rebuilt, improved], ignore_index=True), crs="EPSG:4326")
    line_routes = set(lines["route_code"]) - {""}
    q_new, q_ref = QualityReport(), QualityReport()
    got = R.junction_connectors(nodes, base, q_new, crs=CRS, line_routes=line_routes)
    ref = _former_junction_connectors(nodes, base, q_ref, crs=CRS, line_routes=line_routes)
    _assert_same_roads(got, ref)
    _assert_same_quality(q_new, q_ref)
    problems = {p["problem"] for p in q_new.problems}
    assert {"junction far from its route", "junction with a route not in the data"} <= problems
    assert len(got) > 500


# ------------------------------------------------------------------ INVENTED fixtures
def test_point_exactly_at_the_snapping_distance_is_kept_invented():
    """INVENTED line and edges: an end exactly LINE_SNAP_M from the line (distance == snap_m is
    accepted) must survive the bounding-box pre-filter; one a millimetre farther must not."""
    line = LineString([(X0, Y0), (X0 + 10_000, Y0)])
    mtc = [("CA-INV", line, "paved", "departmental_paved")]
    for dy, follows in ((LINE_SNAP_M, True), (LINE_SNAP_M + 0.001, False)):
        a, b = np.array([X0 + 1_000, Y0 + dy]), np.array([X0 + 6_000, Y0 + dy])
        got = N._follow_line(a, b, mtc, snap_m=LINE_SNAP_M, max_ratio=MAX_LINE_RATIO)
        ref = _former_follow_line(a, b, mtc, snap_m=LINE_SNAP_M, max_ratio=MAX_LINE_RATIO)
        assert (got is not None) == (ref is not None) == follows
        if follows:
            assert got[1].wkb == ref[1].wkb and got[1].length == pytest.approx(5_000.0)


def _invented_towns(rows):
    """INVENTED towns (ccpp_id, name, x, y): made-up names and places."""
    return pd.DataFrame(rows, columns=["ccpp_id", "name", "x", "y"])


def test_insert_towns_ties_and_vertices_invented():
    """INVENTED path A-B-C with a corner at B: a town beyond B at the same distance from both
    edges (a tie), a town on a vertex (no insertion), one splitting A-B, one past C (spur)."""
    a, b, c = np.array([X0, Y0]), np.array([X0 + 4_000, Y0]), np.array([X0 + 4_000, Y0 + 4_000])
    edges = [(a, b), (b, c)]
    towns = _invented_towns([("9999000001", "ESQUINA INVENTADA", X0 + 5_000, Y0 - 1_000),  # tie at B
                             ("9999000002", "VERTICE INVENTADO", X0 + 4_000.4, Y0),  # within 1 m of B
                             ("9999000003", "MEDIO INVENTADO", X0 + 2_000, Y0 + 500),  # splits A-B
                             ("9999000004", "FINAL INVENTADO", X0 + 4_000, Y0 + 6_000)])  # spur from C
    got, got_snapped = N._insert_towns(edges, towns, TOWN_SNAP_M)
    ref, ref_snapped = _former_insert_towns(edges, towns, TOWN_SNAP_M)
    assert _edges_equal(got, ref) and got_snapped == ref_snapped
    assert len(got_snapped) == 3 and not any("VERTICE" in s for s in got_snapped)
    assert len(got) == 5  # A-M, M-B, B-C and two spurs (B-ESQUINA, C-FINAL)


def _invented_nodes(rows):
    """INVENTED route nodes (route, POSICION, name, x, y) shaped as read_route_nodes gives them."""
    df = pd.DataFrame(rows, columns=["route_code", "position", "name", "x", "y"])
    df["kind"], df["file"], df["row"] = "", "invented.gpkg", range(len(df))
    df["junction"] = [R.parse_junction(n, r) for n, r in zip(df["name"], df["route_code"])]
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=CRS).to_crs("EPSG:4326")


def test_junction_connectors_branches_invented():
    """INVENTED nodes and roads: a connector, one on the route, one too far, a route not in the
    data, a node of a route drawn by lines, and max_connector_m below DUPLICATE_NODE_M."""
    nodes = _invented_nodes([("CA-9001", 1, "Emp. CA-9002", X0, Y0 + 300),  # 300 m: connector
                             ("CA-9001", 2, "Emp. CA-9002", X0 + 1_000, Y0),  # on CA-9002
                             ("CA-9001", 3, "Emp. CA-9002", X0 + 2_000, Y0 + 9_000),  # 9 km: dropped
                             ("CA-9001", 4, "Emp. CA-9999", X0 + 3_000, Y0),  # no such route
                             ("CA-9002", 1, "Cruce inventado", X0 + 500, Y0 + 0.5)])  # own line, 0.5 m
    road = LineString([(X0, Y0), (X0 + 5_000, Y0)])
    roads = gpd.GeoDataFrame({"road_id": ["mtc:inv"], "route_code": ["CA-9002"], "road_class": ["vecinal"],
                              "surface": ["unknown"], "approximate": [False], "source": ["mtc_lines"]},
                             geometry=[road], crs=CRS).to_crs("EPSG:4326")
    for max_m in (5_000.0, 0.2):
        q_new, q_ref = QualityReport(), QualityReport()
        got = R.junction_connectors(nodes, roads, q_new, crs=CRS, line_routes={"CA-9002"}, max_connector_m=max_m)
        ref = _former_junction_connectors(nodes, roads, q_ref, crs=CRS, line_routes={"CA-9002"},
                                          max_connector_m=max_m)
        _assert_same_roads(got, ref)
        _assert_same_quality(q_new, q_ref)
    assert len(got) == 0 and sum(p["problem"] == "junction far from its route" for p in q_new.problems) == 2
    empty = roads.assign(geometry=[shapely.LineString()])
    for fn in (R.junction_connectors, _former_junction_connectors):
        with pytest.raises(ValueError, match="second input geometry is empty"):
            fn(nodes, empty, QualityReport(), crs=CRS)
