"""MTC route nodes (``inputs.road_route_nodes``): vecinal routes rebuilt from their nodes,
national routes approximated from junctions, and junction connectors.

Rules: :mod:`siting.data.roads` (package docstring, "Route nodes", "Junctions", "National routes").
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import pdist, squareform
from shapely.geometry import LineString

from ...errors import DataError
from ..quality import QualityReport
from .common import (
    DUPLICATE_NODE_M,
    MIN_LENGTH_M,
    NATIONAL_UNKNOWN,
    SOURCE_NATIONAL,
    SOURCE_VECINAL,
    _first_column,
    _plain,
    _read_layer,
    _roads_frame,
    _to_4326,
    empty_roads,
)

_JUNCTION_RE = re.compile(
    r"^\s*[Ee][Mm][Pp](?:[Aa][Ll][Mm][Ee])?\.?\s*(?:(?P<pre>[A-Za-z]{2})\s*-?\s*)?(?P<num>\d+)(?P<suf>[NSns](?![a-z]))?"
    r"\s*(?P<ramal>[A-Z](?![A-Za-z]))?\s*(?P<rest>.*)$")
_IS_JUNCTION_RE = re.compile(r"^\s*emp(?:alme)?\b", re.IGNORECASE)
_TIPO_ORDER = {"INICIAL": 0, "INTERMEDIO": 1, "FINAL": 2}


# ---------------------------------------------------------------- route nodes
def normalise_route_code(code: object) -> str:
    """``"ca 102"`` / ``"CA-0102."`` -> ``"CA-102"``; national routes keep MTC spelling
    (``PE-3N``, ``PE-08``).  Text that is not a route code is returned upper-cased."""
    s = _plain(code).rstrip(". ")
    m = re.fullmatch(r"([A-Z]{2})\s*-?\s*(\d+)\s*([A-Z]?)", s)
    if not m:
        return s
    pre, num, suf = m.groups()
    if pre == "PE":
        return f"PE-{int(num)}{suf}" if suf in ("N", "S") else f"PE-{int(num):02d}{suf}"
    return f"{pre}-{int(num)}{suf}"


def national_base(code: str) -> str | None:
    """Base national route of a (normalised) code: ``PE-08B`` -> ``PE-08``, ``PE-1NF`` ->
    ``PE-1N``; None when the code is not national."""
    m = re.fullmatch(r"PE-(\d+)([NS]?)([A-Z]?)", code)
    if not m:
        return None
    num, ns, _ramal = m.groups()
    return f"PE-{int(num)}{ns}" if ns else f"PE-{int(num):02d}"


def parse_junction(name: object, own_route: str = "") -> str | None:
    """Route named by an empalme node (``"Emp. CA-111 (Corral Pampa)"`` -> ``"CA-111"``).

    National codes are reduced to their base route (``"Emp. PE-08 B"`` -> ``"PE-08"``).
    A number without prefix takes the prefix of ``own_route`` (``"Emp. 1052"`` on CA-… ->
    ``"CA-1052"``) unless it carries a N/S suffix: only national routes do, so ``"Emp. 3N"``
    and ``"Emp. CA-3N"`` both mean ``"PE-3N"``; an odd
    national number written without N/S but followed by a lone ``N``/``S`` (``"PE-3D N"``)
    takes it.  Returns None for names that are not junctions or cannot be read.
    """
    text = str(name)
    if not _IS_JUNCTION_RE.match(text):
        return None
    m = _JUNCTION_RE.match(text)
    if not m:
        return None
    pre = (m["pre"] or "").upper()
    num, suf = m["num"], (m["suf"] or "").upper()
    if suf and pre and pre != "PE":
        pre = "PE"  # only national routes carry N/S (e.g. "Emp. CA-3N" is the PE-3N)
    if not pre:
        pre = "PE" if suf else (own_route.split("-")[0].upper() if "-" in own_route else "")
        if not pre:
            return None
    if pre == "PE":
        if not suf and int(num) % 2 == 1:
            lone = re.match(r"^([NS])\b", m["ramal"] or m["rest"] or "")
            if m["ramal"] and m["ramal"] not in "NS":
                lone = re.match(r"^([NS])\b", m["rest"] or "")
            if not lone:
                return None
            suf = lone.group(1)
        return national_base(f"PE-{int(num)}{suf}" if suf else f"PE-{int(num):02d}")
    return f"{pre}-{int(num)}"


def read_route_nodes(paths: Iterable[str | Path], quality: QualityReport, *, crs: str) -> gpd.GeoDataFrame:
    """MTC route nodes from one or more files, cleaned, in EPSG:4326.

    Columns: ``route_code, position, name, kind, junction`` (route named by an empalme,
    or None), ``file``, ``x``, ``y`` (projected ``crs``), ``geometry``.  Repeated nodes
    (same route and ``POSICION`` within :data:`DUPLICATE_NODE_M`) are collapsed.
    """
    frames = []
    for path in paths:
        path = Path(path)
        name = f"road_route_nodes:{path.name}"
        gdf = _read_layer(path, "road_route_nodes")
        missing = [c for c in ("COD_RUTA", "POSICION") if _first_column(gdf, [c]) is None]
        if missing:
            raise DataError(f"missing column(s) {', '.join(missing)}", source=str(path),
                            hint="route-node files need COD_RUTA (route code), POSICION (order along the route) "
                                 "and PUNTO (node name)")
        cols = {c: _first_column(gdf, [c]) for c in ("COD_RUTA", "POSICION", "PUNTO", "TIPO")}
        df = gpd.GeoDataFrame({
            "route_code": gdf[cols["COD_RUTA"]].map(normalise_route_code),
            "position": pd.to_numeric(gdf[cols["POSICION"]], errors="coerce"),
            "name": gdf[cols["PUNTO"]].astype(str).str.strip() if cols["PUNTO"] else "",
            "kind": gdf[cols["TIPO"]].map(_plain) if cols["TIPO"] else "",
            "file": path.name, "row": gdf.index.astype(int)}, geometry=gdf.geometry.values, crs="EPSG:4326")
        bad = df["position"].isna() | df.geometry.is_empty | df.geometry.isna() | (df.geom_type != "Point") \
            | (df["route_code"] == "")
        if bad.any():
            quality.add_many(name, df.loc[bad, "row"], "route node without route code, POSICION or point",
                             action="dropped")
        df = df.loc[~bad].copy()
        proj = df.to_crs(crs)
        df["x"], df["y"] = proj.geometry.x.to_numpy(), proj.geometry.y.to_numpy()
        # collapse repeated nodes: same route, same POSICION, same place (within DUPLICATE_NODE_M)
        key = (df["route_code"] + "|" + df["position"].astype(str) + "|"
               + (df["x"] / DUPLICATE_NODE_M).round().astype("int64").astype(str) + "|"
               + (df["y"] / DUPLICATE_NODE_M).round().astype("int64").astype(str))
        dup = key.duplicated()
        if dup.any():
            quality.add_many(name, df.loc[dup, "row"], "repeated route node",
                             [f"{r} POSICION {p:g} repeated at the same place; merged" for r, p in
                              zip(df.loc[dup, "route_code"], df.loc[dup, "position"])], action="fixed")
        df = df.loc[~dup]
        ties = df.duplicated(["route_code", "position"], keep=False)
        for route, grp in df.loc[ties].groupby("route_code"):
            quality.add(name, route, "repeated POSICION",
                        f"{len(grp)} different nodes share a POSICION ({', '.join(grp['name'])}); ordered by "
                        "TIPO (INICIAL, INTERMEDIO, FINAL) then file order")
        df["junction"] = pd.Series([parse_junction(n, r) for n, r in zip(df["name"], df["route_code"])],
                                   index=df.index, dtype=object)
        unread = df["name"].map(lambda s: bool(_IS_JUNCTION_RE.match(s))) & df["junction"].isna()
        if unread.any():
            quality.add_many(name, df.loc[unread, "row"], "junction name not understood",
                             [f"'{n}' on {r}: no connector added" for n, r in
                              zip(df.loc[unread, "name"], df.loc[unread, "route_code"])])
        quality.count(name, read=len(gdf), kept=len(df))
        frames.append(df)
    if not frames:
        return gpd.GeoDataFrame(columns=["route_code", "position", "name", "kind", "file", "row", "x", "y",
                                         "junction", "geometry"], geometry="geometry", crs="EPSG:4326")
    nodes = pd.concat(frames, ignore_index=True)
    nodes["_tipo"] = nodes["kind"].map(_TIPO_ORDER).fillna(1)
    nodes = nodes.sort_values(["file", "route_code", "position", "_tipo"], kind="stable").drop(columns="_tipo")
    return gpd.GeoDataFrame(nodes.reset_index(drop=True), geometry="geometry", crs="EPSG:4326")


def rebuild_routes(nodes: gpd.GeoDataFrame, quality: QualityReport, *, crs: str,
                   skip_routes: Iterable[str] = ()) -> gpd.GeoDataFrame:
    """Straight segments between consecutive nodes of each route (see module rules).

    ``nodes`` come from :func:`read_route_nodes` (already in route order).  Each segment:
    ``road_id = "vec:<route>:<i>"``, class ``vecinal``, approximate.  ``skip_routes``:
    routes already drawn as lines (not rebuilt).
    """
    skip = set(skip_routes)
    keep = ~nodes["route_code"].isin(skip)
    nd = nodes.loc[keep]
    file, route = nd["file"].to_numpy(), nd["route_code"].to_numpy()
    size = nd.groupby(["file", "route_code"], sort=False)["route_code"].transform("size").to_numpy()
    for rec in nd.loc[size == 1].itertuples(index=False):
        quality.add(f"road_route_nodes:{rec.file}", rec.route_code, "route with a single node",
                    f"'{rec.name}': no segment can be drawn", action="dropped")
    if len(nd) < 2:
        return empty_roads()
    same = (file[:-1] == file[1:]) & (route[:-1] == route[1:])
    xy = nd[["x", "y"]].to_numpy()
    lon, lat = nd.geometry.x.to_numpy(), nd.geometry.y.to_numpy()
    step = np.hypot(*(xy[1:] - xy[:-1]).T)
    seq = nd.groupby(["file", "route_code"], sort=False).cumcount().to_numpy()[:-1]
    rows: list[dict] = []
    for i in np.flatnonzero(same):
        if step[i] < MIN_LENGTH_M:
            quality.add(f"road_route_nodes:{file[i]}", f"{route[i]}:{seq[i]}", "line of length 0",
                        "two consecutive nodes at the same place", action="dropped")
            continue
        rows.append({"road_id": f"vec:{route[i]}:{seq[i]}", "route_code": route[i], "road_class": "vecinal",
                     "surface": "unknown", "approximate": True, "source": SOURCE_VECINAL,
                     "geometry": LineString([(lon[i], lat[i]), (lon[i + 1], lat[i + 1])])})
    return _roads_frame(rows)


def national_from_junctions(nodes: gpd.GeoDataFrame, quality: QualityReport, *, crs: str,
                            skip_routes: Iterable[str] = ()) -> gpd.GeoDataFrame:
    """Approximate each national route by the minimum spanning tree of its junction nodes.

    For route R, the vertices are the distinct points (to :data:`DUPLICATE_NODE_M`) of the
    nodes whose name is an empalme with R (ramales merged, see :func:`parse_junction`);
    the MST of the complete graph weighted by projected Euclidean distance
    (``scipy.sparse.csgraph.minimum_spanning_tree``) has ``n - 1`` edges, each a straight
    segment ``road_id = "nat:<R>:<k>"``, class ``national_unknown``.  Routes with one distinct
    node are reported.  :func:`~siting.data.roads.national.improve_national` refines them.
    """
    skip = set(skip_routes)
    junc = nodes[nodes["junction"].map(lambda c: isinstance(c, str) and national_base(c) is not None)]
    rows: list[dict] = []
    for route, grp in junc.groupby("junction"):
        if route in skip:
            continue
        xy = np.unique(np.round(grp[["x", "y"]].to_numpy() / DUPLICATE_NODE_M) * DUPLICATE_NODE_M, axis=0)
        if len(xy) < 2:
            quality.add("roads:national_from_junctions", route, "national route with a single junction",
                        "cannot be drawn", action="dropped")
            continue
        mst = minimum_spanning_tree(squareform(pdist(xy))).tocoo()
        ll = _to_4326(xy, crs)
        for k, (i, j) in enumerate(zip(mst.row, mst.col)):
            rows.append({"road_id": f"nat:{route}:{k}", "route_code": route, "road_class": NATIONAL_UNKNOWN,
                         "surface": "unknown", "approximate": True, "source": SOURCE_NATIONAL,
                         "geometry": LineString([ll[i], ll[j]])})
    out = _roads_frame(rows)
    if len(out):
        per_route = list(out.groupby("route_code").size().items())
        summary = ", ".join(f"{r} ({n} edges)" for r, n in per_route)
        summary_es = ", ".join(f"{r} ({n} tramos)" for r, n in per_route)
        quality.note("National roads are not in the shipped road lines: each national route is approximated "
                     "by a minimum spanning tree of straight segments between the MTC junction nodes "
                     f"('Emp. PE-…') that name it: {summary}. Treat times along them as approximate.",
                     es="La red vial nacional no figura en las capas viales incluidas: cada ruta nacional se "
                     "aproxima con un árbol de expansión mínima de segmentos rectos entre los nodos de empalme "
                     f"del MTC ('Emp. PE-…') que la nombran: {summary_es}. Los tiempos a lo largo de ellas son "
                     "aproximados.")
    return out


def _connector_targets(nodes: pd.DataFrame, line_routes: set[str]) -> tuple[np.ndarray, list[str]]:
    """``(node positions, targets)`` of every connector to try, in node order: the route a node's
    empalme names (when not its own) and, for routes drawn by lines, its own route."""
    pos: list[int] = []
    targets: list[str] = []
    for i, (junction, route) in enumerate(zip(nodes["junction"], nodes["route_code"])):
        if isinstance(junction, str) and junction != route:
            pos.append(i)
            targets.append(junction)
        if route in line_routes:
            pos.append(i)
            targets.append(route)
    return np.asarray(pos, dtype=np.int64), targets


def _route_unions(roads: gpd.GeoDataFrame, routes: set[str]) -> dict[str, object]:
    """``{route: shapely.union_all of its lines, in table order}`` for the ``routes`` in ``roads``.

    Only the routes a connector targets are merged (merging all cost 0.5 s on the shipped data, #19).
    """
    codes = roads["route_code"]
    keep = codes.isin(routes).to_numpy() & codes.notna().to_numpy()
    geoms = np.asarray(roads.geometry.array, dtype=object)[keep]
    groups = pd.Series(np.arange(len(geoms))).groupby(codes.to_numpy()[keep], sort=False).indices
    return {r: shapely.union_all(geoms[ix]) for r, ix in groups.items()}


def _nearest_on_routes(xy: np.ndarray, geoms: list) -> tuple[np.ndarray, np.ndarray]:
    """Nearest point ``q`` of each geometry to each point ``p`` (``shapely.shortest_line``, as
    :func:`shapely.ops.nearest_points`) and the distance :math:`|pq|`, all at once."""
    if len(geoms) == 0:
        return np.zeros((0, 2)), np.zeros(0)
    if any(g.is_empty for g in geoms):
        raise ValueError("The second input geometry is empty")
    pts = shapely.points(xy)
    q = shapely.get_point(shapely.shortest_line(pts, np.array(geoms, dtype=object)), 1)
    return shapely.get_coordinates(q).reshape(-1, 2), shapely.distance(pts, q)


def junction_connectors(nodes: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, quality: QualityReport, *, crs: str,
                        line_routes: Iterable[str] = (), max_connector_m: float = 5000.0) -> gpd.GeoDataFrame:
    """Straight connectors from empalme nodes to the routes they join (see module rules).

    ``road_id = "conn:<route>:<POSICION>:r<row in its file>><X>"``.
    For each node naming route X (X != its own route and X present in ``roads``), a segment
    from the node to the nearest point of X; for nodes of routes drawn by lines
    (``line_routes``), also to the nearest point of their own route.  Segments shorter than
    :data:`DUPLICATE_NODE_M` are not needed (the node is on the route) and are skipped;
    longer than ``max_connector_m`` are reported and not added.  The nearest points and
    distances are computed for every connector at once (:func:`_nearest_on_routes`, #19).
    """
    pos, targets = _connector_targets(nodes, set(line_routes))
    route_geom = _route_unions(roads.to_crs(crs), set(targets))
    found = np.array([t in route_geom for t in targets], dtype=bool)
    xy = nodes[["x", "y"]].to_numpy(dtype=float)[pos]
    q_all, d_all = _nearest_on_routes(xy[found], [route_geom[t] for t, f in zip(targets, found) if f])
    q, d = np.full((len(pos), 2), np.nan), np.full(len(pos), np.nan)
    q[found], d[found] = q_all, d_all
    on_route = found & (d < DUPLICATE_NODE_M)  # the node is on the route: no connector needed
    far = found & ~on_route & (d > max_connector_m)
    add = found & ~on_route & ~far
    lonlat = _to_4326(np.concatenate([xy[add], q[add]]), crs) if add.any() else np.zeros((0, 2))
    p_ll, q_ll = lonlat[:int(add.sum())], lonlat[int(add.sum()):]
    cols = {c: nodes[c].to_numpy() for c in ("route_code", "position", "row", "file", "name")}
    rows: list[dict] = []
    missing: dict[str, list[int]] = {}
    k = 0
    for j, (i, target) in enumerate(zip(pos, targets)):
        route, row, file = cols["route_code"][i], cols["row"][i], cols["file"][i]
        if not found[j]:
            missing.setdefault(target, []).append(i)
        elif far[j]:
            quality.add(f"road_route_nodes:{file}", row, "junction far from its route",
                        f"'{cols['name'][i]}' ({route}) is {d[j] / 1000:.1f} km from {target}; no connector",
                        action="dropped")
        elif add[j]:
            rows.append({"road_id": f"conn:{route}:{cols['position'][i]:g}:r{row}>{target}", "route_code": route,
                         "road_class": "vecinal", "surface": "unknown", "approximate": True,
                         "source": SOURCE_VECINAL, "geometry": LineString([p_ll[k], q_ll[k]])})
            k += 1
    for target, ix in missing.items():
        quality.add_many(f"road_route_nodes:{cols['file'][ix[0]]}", [cols["row"][i] for i in ix],
                         "junction with a route not in the data",
                         [f"'{cols['name'][i]}' ({cols['route_code'][i]}) names {target}, which has no lines or nodes"
                          for i in ix])
    out = _roads_frame(rows)
    dup = out["road_id"].duplicated(keep=False)  # same route and row in two node files
    if dup.any():
        out.loc[dup, "road_id"] += ":" + out.loc[dup].groupby("road_id").cumcount().astype(str)
    return out
