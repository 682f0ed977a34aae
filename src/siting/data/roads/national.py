"""Better national-route geometry from what ships (issue #14 item 1).

The spanning tree of :func:`~siting.data.roads.routes.national_from_junctions` joins the
junction nodes of a national route with long straight edges (its path length is 60-75 % of
the real road km).  :func:`improve_national` refines each edge with two rules, in order:

1. **Towns on the route** (``towns``, the centros poblados): a town *names* route R when a
   junction of R carries its name in brackets (``"Emp. PE-08 (San Pablo)"``), or when it is a
   district capital (INEI code ending ``0001``); it is snapped onto R when it lies within
   ``town_snap_m`` of R's current line.  Snapping inserts the town as a vertex: the nearest
   edge ``A-B`` becomes ``A-T`` and ``T-B`` (towns taken nearest first).  By the triangle
   inequality ``|AT| + |TB| >= |AB|``, so the route never gets shorter; the town's own path
   then starts on the road instead of with a walk.
2. **Shipped lines that connect the same junctions** (``lines``, the MTC lines): when both
   ends of an edge ``A-B`` lie within ``line_snap_m`` of one MTC route and the part of that
   route between their projections is between ``|AB|`` and ``max_line_ratio * |AB|`` long,
   the edge follows that part: straight approach ``A -> line`` (approximate), the MTC part
   (``approximate=False``, its real geometry, source :data:`SOURCE_NATIONAL_LINES`), straight
   ``line -> B`` (approximate).  The shortest such part wins.

Before both, **route nodes on the edge**: vecinal/departmental route nodes that are not
junctions but lie within ``node_snap_m`` of a straight edge (the other route touches the
national road there) are inserted as vertices the same way.

Class and surface: a piece that follows an MTC line takes that line's class and surface (the
road *is* that line; its own class is the conservative speed when the national numbering is
not certain); every other piece has surface ``"unknown"`` and class
:data:`NATIONAL_UNKNOWN` (its own key in ``speeds.road_kmh``): no shipped layer gives the
surface of a national road, and treating all of them as paved was one cause of the too-fast
times of issue #14.  Every piece keeps ``approximate`` and ``source``: straight pieces stay
``approximate=True`` (their detour factor applies), real MTC geometry is ``False``.
"""
from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point
from shapely.ops import linemerge, substring

from ...i18n import bilingual
from ..quality import QualityReport
from .common import DUPLICATE_NODE_M, MIN_LENGTH_M, NATIONAL_UNKNOWN, SOURCE_NATIONAL, _plain, _roads_frame, _to_4326

SOURCE_NATIONAL_LINES = "national_on_mtc_lines"
TOWN_SNAP_M = 4000.0  # a town naming a route is snapped onto it within this distance
LINE_SNAP_M = 1000.0  # an edge follows an MTC line when both its ends are this close to it
MAX_LINE_RATIO = 2.5  # ... and the line between them is at most this many times the straight edge
MIN_EDGE_M = 500.0  # shorter edges are left straight
NODE_SNAP_M = 300.0  # a (non-junction) route node this close to a national edge is a vertex of it
_BOX_MARGIN_M = 1.0  # margin of the bounding-box pre-filter of _follow_line (exact test after it)
_BRACKET_RE = re.compile(r"\(([^)]*)\)?")


def _bracket_name(name: object) -> str:
    """Plain place name in brackets of a junction name (``"Emp. PE-08 (Choten)"`` -> ``"CHOTEN"``)."""
    m = _BRACKET_RE.search(str(name))
    if not m:
        return ""
    text = re.sub(r"^(DV|CRUCE|PTE|PUENTE)\.?\s+", "", _plain(m.group(1)).rstrip(". "))
    return text.strip()


def route_towns(junction_nodes: pd.DataFrame, towns: gpd.GeoDataFrame, *, crs: str) -> dict[str, pd.DataFrame]:
    """Towns that name each national route, with projected ``x, y``.

    A town names route R when a junction node of R has its (plain) name in brackets and the
    town lies within :data:`TOWN_SNAP_M` of that node, or when it is a district capital
    (``ccpp_id`` ending ``0001``).  Returns ``{route: DataFrame(ccpp_id, name, x, y, named)}``.
    """
    if towns is None or len(towns) == 0:
        return {}
    t = towns.to_crs(crs)
    tx, ty = t.geometry.x.to_numpy(), t.geometry.y.to_numpy()
    plain = t["name"].map(_plain).to_numpy()
    code = t["ccpp_id"].astype(str).to_numpy()
    capital = np.char.endswith(code.astype(str), "0001")
    out: dict[str, pd.DataFrame] = {}
    for route, grp in junction_nodes.groupby("junction"):
        named = np.zeros(len(t), bool)
        for rec in grp.itertuples(index=False):
            bname = _bracket_name(rec.name)
            if bname:
                named |= (plain == bname) & (np.hypot(tx - rec.x, ty - rec.y) <= TOWN_SNAP_M)
        keep = named | capital
        out[str(route)] = pd.DataFrame({"ccpp_id": code[keep], "name": t["name"].to_numpy()[keep],
                                        "x": tx[keep], "y": ty[keep], "named": named[keep]})
    return out


def _segments(edges: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """The straight ``edges`` as an array of 2-point LineStrings (``shapely.linestrings`` at once)."""
    return shapely.linestrings(np.asarray([(a, b) for a, b in edges], dtype=float).reshape(-1, 2, 2))


def _insert_towns(edges: list[tuple[np.ndarray, np.ndarray]], towns: pd.DataFrame, snap_m: float
                  ) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[str]]:
    """Insert each town within ``snap_m`` of the edges as a vertex of its nearest edge (nearest first).

    A town whose nearest point on the edge is inside it splits the edge (``A-T``, ``T-B``); one
    whose nearest point is an end (beyond the route's last junction, or at a corner) gets a spur
    from that end instead, so the through route is not lengthened by an out-and-back.  Each
    round takes the town ``T`` of least distance :math:`d(T, E) = \\min_e d(T, e)` to the
    current edges ``E`` (the first such town in table order; its edge is the STRtree's nearest),
    then drops it from the towns to do.  With :math:`u = (T - A)\\cdot(B - A) / |B - A|^2`,
    ``0 < u < 1`` splits ``A-B`` and ``u <= 0`` / ``u >= 1`` adds the spur ``A-T`` / ``B-T``;
    a town within :data:`DUPLICATE_NODE_M` of ``A`` or ``B`` is already a vertex.
    """
    snapped: list[str] = []
    xy = towns[["x", "y"]].to_numpy(dtype=float)
    names, codes = towns["name"].to_numpy(), towns["ccpp_id"].to_numpy()
    todo = np.arange(len(towns))  # rows still to insert, in table order
    while len(todo) and edges:
        tree = shapely.STRtree(_segments(edges))
        idx, dist = tree.query_nearest(shapely.points(xy[todo]), return_distance=True, all_matches=False)
        pi, ei = idx  # [[point index...], [edge index...]]
        close = dist <= snap_m
        if not close.any():
            break
        k = int(np.argmin(np.where(close, dist, np.inf)))
        p, e = int(pi[k]), int(ei[k])
        row = int(todo[p])
        txy = xy[row].copy()
        a, b = edges[e]
        if min(np.hypot(*(txy - a)), np.hypot(*(txy - b))) >= DUPLICATE_NODE_M:
            ab = b - a
            u = float(np.dot(txy - a, ab) / max(float(np.dot(ab, ab)), 1e-9))
            if u <= 0.0 or u >= 1.0:
                edges = [*edges, (a if u <= 0.0 else b, txy)]  # spur from the nearest end
            else:
                edges = edges[:e] + [(a, txy), (txy, b)] + edges[e + 1:]
            snapped.append(f"{names[row]} ({codes[row]}, {dist[k] / 1000:.1f} km)")
        todo = np.delete(todo, p)
    return edges, snapped


Line = tuple[str, LineString, str, str]  # (route code, projected line, surface, road class)


def _nodes_near(edges: list[tuple[np.ndarray, np.ndarray]], nodes: pd.DataFrame, snap_m: float, *,
                pts: np.ndarray | None = None) -> pd.DataFrame:
    """Route nodes within ``snap_m`` of one of ``edges``, as insertable ``ccpp_id, name, x, y`` rows
    (``pts``: the nodes' ``x, y`` as shapely points, when the caller has them)."""
    if not edges or len(nodes) == 0:
        return pd.DataFrame(columns=["ccpp_id", "name", "x", "y"])
    tree = shapely.STRtree(_segments(edges))
    if pts is None:
        pts = shapely.points(nodes[["x", "y"]].to_numpy())
    hit = np.unique(tree.query(pts, predicate="dwithin", distance=snap_m)[0])
    sel = nodes.iloc[hit]
    return pd.DataFrame({"ccpp_id": sel["route_code"].to_numpy(), "name": sel["name"].to_numpy(),
                         "x": sel["x"].to_numpy(), "y": sel["y"].to_numpy()})


def _mtc_routes(lines: gpd.GeoDataFrame | None, crs: str) -> list[Line]:
    """(route code, merged projected LineString, surface, class) of every MTC route drawn as one line."""
    if lines is None or len(lines) == 0:
        return []
    proj = lines.to_crs(crs)
    out: list[Line] = []
    for route, grp in proj.groupby("route_code"):
        union = shapely.union_all(grp.geometry.values)
        merged = linemerge(union) if union.geom_type == "MultiLineString" else union
        parts = list(merged.geoms) if merged.geom_type == "MultiLineString" else [merged]
        surfaces, classes = set(grp["surface"]), set(grp["road_class"])
        surface = surfaces.pop() if len(surfaces) == 1 else "unknown"
        road_class = classes.pop() if len(classes) == 1 else str(grp["road_class"].mode().iloc[0])
        out.extend((str(route), part, surface, road_class) for part in parts if part.length > 0)
    return out


def _line_bounds(mtc: list[Line]) -> np.ndarray:
    """``(n, 4)`` bounding boxes ``minx, miny, maxx, maxy`` of the MTC lines (for :func:`_follow_line`)."""
    return np.asarray(shapely.bounds(np.array([m[1] for m in mtc], dtype=object)), dtype=float).reshape(-1, 4)


def _box_near(p: np.ndarray, bounds: np.ndarray, reach: float) -> np.ndarray:
    """Whether each bounding box is within ``reach`` of point ``p``.

    The distance from ``p`` to a box is :math:`\\sqrt{d_x^2 + d_y^2}` with
    :math:`d_x = \\max(x_{min} - p_x, p_x - x_{max}, 0)` (same for ``y``); a line is never
    nearer than its box, so lines whose box is farther than ``reach`` are skipped.
    """
    dx = np.maximum(np.maximum(bounds[:, 0] - p[0], p[0] - bounds[:, 2]), 0.0)
    dy = np.maximum(np.maximum(bounds[:, 1] - p[1], p[1] - bounds[:, 3]), 0.0)
    return np.hypot(dx, dy) <= reach


def _follow_line(a: np.ndarray, b: np.ndarray, mtc: list[Line], *, snap_m: float,
                 max_ratio: float, bounds: np.ndarray | None = None) -> Line | None:
    """The shortest MTC part between the projections of ``a`` and ``b`` that meets the rule (or None).

    Accepted when ``dist(a, line) <= snap_m``, ``dist(b, line) <= snap_m`` and
    ``|AB| <= L_part <= max_ratio * |AB|``; lines are tried in order and a later one wins
    only when its part is strictly shorter.  ``bounds`` (:func:`_line_bounds` of ``mtc``) skips
    the lines whose bounding box is farther than ``snap_m`` (+ :data:`_BOX_MARGIN_M` against
    rounding) from ``a`` or ``b`` before the exact distances are computed (#19).
    """
    d = float(np.hypot(*(b - a)))
    if d < MIN_EDGE_M:
        return None
    if bounds is None:
        bounds = _line_bounds(mtc)
    reach = snap_m + _BOX_MARGIN_M
    pa, pb = Point(a), Point(b)
    best: Line | None = None
    for i in np.flatnonzero(_box_near(a, bounds, reach) & _box_near(b, bounds, reach)):
        route, line, surface, road_class = mtc[i]
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


def _pieces_frame(pieces: list[dict], crs: str) -> gpd.GeoDataFrame:
    """The road table of ``pieces`` (road columns and projected ``coords``); every piece is
    projected back to EPSG:4326 in one transform and built by one ``shapely.linestrings`` (#19)."""
    if not pieces:
        return _roads_frame([])
    sizes = [len(p["coords"]) for p in pieces]
    lonlat = _to_4326(np.concatenate([p["coords"] for p in pieces]), crs)
    geoms = shapely.linestrings(lonlat, indices=np.repeat(np.arange(len(pieces)), sizes))
    return _roads_frame([{k: v for k, v in p.items() if k != "coords"} | {"geometry": g}
                         for p, g in zip(pieces, geoms)])


def _edge_pieces(a: np.ndarray, b: np.ndarray, mtc: list, *, line_snap_m: float, max_line_ratio: float,
                 bounds: np.ndarray | None = None) -> list[tuple[np.ndarray, str, str, bool, str]]:
    """(coords, surface, class, approximate, source) of the pieces that draw edge ``a-b``
    (``bounds``: :func:`_line_bounds` of ``mtc``)."""
    straight = ("unknown", NATIONAL_UNKNOWN, True, SOURCE_NATIONAL)
    hit = _follow_line(a, b, mtc, snap_m=line_snap_m, max_ratio=max_line_ratio, bounds=bounds)
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


def improve_national(national: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, quality: QualityReport, *, crs: str,
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
    from .routes import national_base
    junc = nodes[nodes["junction"].map(lambda c: isinstance(c, str) and national_base(c) is not None)]
    per_route_towns = route_towns(junc, towns, crs=crs) if towns is not None else {}
    mtc = _mtc_routes(lines, crs)
    bounds = _line_bounds(mtc)
    proj = national.to_crs(crs)
    rows: list[dict] = []
    km_before = km_after = 0.0
    n_towns = n_follow = n_nodes = 0
    other_nodes = nodes[nodes["junction"].isna()]
    other_pts = shapely.points(other_nodes[["x", "y"]].to_numpy())
    for route, grp in proj.groupby("route_code", sort=True):
        edges = [(np.asarray(g.coords)[0, :2], np.asarray(g.coords)[-1, :2]) for g in grp.geometry]
        km_before += float(grp.length.sum()) / 1000.0
        near = _nodes_near(edges, other_nodes, node_snap_m, pts=other_pts)
        if len(near):
            edges, on_edge = _insert_towns(edges, near, node_snap_m)
            n_nodes += len(on_edge)
        t = per_route_towns.get(str(route))
        if t is not None and len(t):
            edges, snapped = _insert_towns(edges, t, town_snap_m)
            n_towns += len(snapped)
            if snapped:
                quality.add("roads:national", route, "towns snapped onto the national route", "; ".join(snapped),
                            action="fixed")
        k = 0
        for a, b in edges:
            for coords, surface, road_class, approx, source in _edge_pieces(
                    a, b, mtc, line_snap_m=line_snap_m, max_line_ratio=max_line_ratio, bounds=bounds):
                n_follow += source == SOURCE_NATIONAL_LINES
                km_after += float(np.hypot(*np.diff(coords, axis=0).T).sum()) / 1000.0
                rows.append({"road_id": f"nat:{route}:{k}", "route_code": str(route), "road_class": road_class,
                             "surface": surface, "approximate": approx, "source": source, "coords": coords})
                k += 1
    out = _pieces_frame(rows, crs)
    en, es = bilingual("roads.national_rebuilt", km_before=km_before, km_after=km_after, n_towns=n_towns,
                       n_follow=n_follow, n_nodes=n_nodes, n_unknown=int((out["road_class"] == NATIONAL_UNKNOWN).sum()),
                       n=len(out))
    quality.note(en, es=es)
    return out

