"""Road loading: MTC lines, vecinal routes rebuilt from MTC route nodes, national routes
approximated from junctions, and OpenStreetMap.

Every loader returns a GeoDataFrame of 2-D LineStrings in EPSG:4326 with the columns
``road_id, route_code, road_class, surface, approximate, source, geometry``
(:data:`ROAD_COLUMNS`).  ``road_class`` is always one of :data:`ROAD_CLASSES`, the keys of
``scenario.speeds.road_kmh``.

Rules (documented here once; the quality report repeats them where they apply):

* **MTC lines** (``inputs.roads``): MultiLineStrings are exploded into LineStrings.  The
  class comes from :func:`classify_mtc` with the hierarchy column (``NIVVIA``,
  ``JERARQUIA``…) and the surface column (``TIPSUP``, ``SUPERFICIE``…) when the file has
  them.  A file without a hierarchy column is a *departmental* layer; without a surface
  column the surface is ``"unknown"`` and the class ``departmental_unpaved`` (the shipped
  ``mtc_red_vial_departamental_cajamarca.gpkg`` has neither).  Unknown surface values
  take the same default and get a quality entry.
* **Route nodes** (``inputs.road_route_nodes``: ``COD_RUTA, POSICION, PUNTO, TIPO``): the
  nodes of each route are ordered by ``POSICION`` (ties: ``TIPO`` INICIAL < INTERMEDIO <
  FINAL, then file order) and consecutive nodes are joined by straight segments.
  Repeated nodes (same route, same ``POSICION``, within :data:`DUPLICATE_NODE_M`) are
  collapsed into one (``fixed``); other ``POSICION`` ties are kept in the tie order above
  and flagged (``kept``).  Routes with one node cannot make a segment (``dropped``).
  Routes already drawn as lines in ``inputs.roads`` are not rebuilt (their nodes still
  serve as junctions).  Segments: class ``vecinal``, ``approximate=True``, source
  ``mtc_vecinal_nodes``.
* **Junctions**: a node named ``"Emp. X …"`` (empalme) lies on route X.  It is joined by
  a straight connector (class ``vecinal``, approximate) to the nearest point of X's
  geometry when X is in the data, and to its own route when that route is drawn by lines.
  Connectors longer than ``max_connector_m`` are not added (``dropped``).
* **National routes** (``PE-…``) have no lines in the shipped data: each is approximated by
  the minimum spanning tree (straight edges, projected distances) over the distinct junction
  nodes that name it; ramal letters (``PE-08 B``, ``PE-1N F``) are merged into the base route.
  Class ``national_paved``, ``approximate=True``, source ``national_from_junctions``.
* **OpenStreetMap**: :func:`load_osm`, classes from :data:`OSM_HIGHWAY_CLASS`.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial.distance import pdist, squareform
from shapely.geometry import LineString, MultiLineString
from shapely.ops import nearest_points

from ..errors import DataError
from ..io import vector_layer
from .quality import QualityReport

ROAD_COLUMNS = ["road_id", "route_code", "road_class", "surface", "approximate", "source", "geometry"]
ROAD_CLASSES = ("national_paved", "departmental_paved", "departmental_unpaved", "vecinal", "trail", "urban")

SOURCE_MTC_LINES = "mtc_lines"
SOURCE_VECINAL = "mtc_vecinal_nodes"
SOURCE_NATIONAL = "national_from_junctions"
SOURCE_OSM = "osm"

DUPLICATE_NODE_M = 1.0  # nodes of one route closer than this at the same POSICION are one node
MIN_LENGTH_M = 0.01  # lines shorter than this (projected) are "length 0"

# ---------------------------------------------------------------- MTC classification
#: MTC surface values (upper case, accents removed) -> "paved" / "unpaved" / "track".
MTC_SURFACE = {
    "ASFALTADO": "paved", "PAVIMENTADO": "paved", "CONCRETO": "paved", "CONCRETO ASFALTICO": "paved",
    "SOLUCION BASICA": "paved", "EMPEDRADO": "paved", "TRATAMIENTO SUPERFICIAL": "paved",
    "AFIRMADO": "unpaved", "SIN AFIRMAR": "unpaved", "NO AFIRMADO": "unpaved", "TIERRA": "unpaved",
    "TROCHA": "track", "TROCHA CARROZABLE": "track",
}
#: MTC hierarchy values (network level) -> "national" / "departmental" / "vecinal".
MTC_HIERARCHY = {
    "NACIONAL": "national", "RED VIAL NACIONAL": "national", "RVN": "national", "1": "national",
    "DEPARTAMENTAL": "departmental", "REGIONAL": "departmental", "RED VIAL DEPARTAMENTAL": "departmental",
    "RVD": "departmental", "2": "departmental",
    "VECINAL": "vecinal", "RURAL": "vecinal", "RED VIAL VECINAL": "vecinal", "RVV": "vecinal", "3": "vecinal",
}
#: (hierarchy, surface kind) -> road class.  Unknown surface -> the "unknown" entry.
MTC_CLASS = {
    ("national", "paved"): "national_paved", ("national", "unpaved"): "departmental_unpaved",
    ("national", "track"): "vecinal", ("national", "unknown"): "national_paved",
    ("departmental", "paved"): "departmental_paved", ("departmental", "unpaved"): "departmental_unpaved",
    ("departmental", "track"): "vecinal", ("departmental", "unknown"): "departmental_unpaved",
    ("vecinal", "paved"): "departmental_paved", ("vecinal", "unpaved"): "vecinal",
    ("vecinal", "track"): "vecinal", ("vecinal", "unknown"): "vecinal",
}
SURFACE_COLUMNS = ("TIPSUP", "TIP_SUP", "TIPO_SUP", "SUPERFICIE", "SUPERFIC", "TIPO_SUPERFICIE", "SUPERF")
HIERARCHY_COLUMNS = ("NIVVIA", "NIV_VIA", "JERARQUIA", "JERARQ", "JERARQUÍA", "CLASIFICAC", "RED_VIAL")
ROUTE_COLUMNS = ("COD_DS12", "COD_RUTA", "COD_DS11", "CODIGO", "RUTA")

# ---------------------------------------------------------------- OSM classification
#: OSM ``highway`` tag -> road class (``*_link`` takes its parent's class).
OSM_HIGHWAY_CLASS = {
    "motorway": "national_paved", "trunk": "national_paved", "primary": "national_paved",
    "secondary": "departmental_paved",
    "tertiary": "departmental_unpaved",
    "unclassified": "vecinal", "track": "vecinal", "residential": "vecinal", "road": "vecinal",
    "service": "vecinal",
    "living_street": "urban", "pedestrian": "urban",
    "path": "trail", "footway": "trail", "bridleway": "trail", "steps": "trail", "cycleway": "trail",
}
#: OSM ``surface`` values that are paved / unpaved (used to adjust secondary/tertiary).
OSM_PAVED = {"paved", "asphalt", "concrete", "concrete:plates", "paving_stones", "sett", "chipseal"}
OSM_UNPAVED = {"unpaved", "gravel", "compacted", "fine_gravel", "dirt", "earth", "ground", "mud", "sand",
               "grass", "rock", "pebblestone"}

_JUNCTION_RE = re.compile(
    r"^\s*[Ee][Mm][Pp](?:[Aa][Ll][Mm][Ee])?\.?\s*(?:(?P<pre>[A-Za-z]{2})\s*-?\s*)?(?P<num>\d+)(?P<suf>[NSns](?![a-z]))?"
    r"\s*(?P<ramal>[A-Z](?![A-Za-z]))?\s*(?P<rest>.*)$")
_IS_JUNCTION_RE = re.compile(r"^\s*emp(?:alme)?\b", re.IGNORECASE)
_TIPO_ORDER = {"INICIAL": 0, "INTERMEDIO": 1, "FINAL": 2}


def _plain(text: object) -> str:
    """Upper case without accents and repeated spaces (for value lookups)."""
    import unicodedata
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", s).strip().upper()


def empty_roads() -> gpd.GeoDataFrame:
    """An empty road table with the contract's columns."""
    columns = {c: pd.Series(dtype=object) for c in ROAD_COLUMNS[:-1]} | {"approximate": pd.Series(dtype=bool)}
    return gpd.GeoDataFrame(columns,
                            geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")[ROAD_COLUMNS]


def _roads_frame(rows: list[dict], crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    if not rows:
        return empty_roads()
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    gdf["approximate"] = gdf["approximate"].astype(bool)
    return gdf[ROAD_COLUMNS]


def classify_mtc(hierarchy: str | None, surface: str | None) -> tuple[str, str, bool]:
    """Road class of one MTC line from its hierarchy and surface values.

    Returns ``(road_class, surface_kind, known)`` where ``surface_kind`` is ``"paved"``,
    ``"unpaved"``, ``"track"`` or ``"unknown"`` and ``known`` is False when a *given*
    surface value is not in :data:`MTC_SURFACE` (the caller reports it).  A missing
    hierarchy means ``"departmental"``; the mapping is :data:`MTC_CLASS`.
    """
    level = MTC_HIERARCHY.get(_plain(hierarchy), "departmental") if hierarchy not in (None, "") else "departmental"
    known = True
    if surface is None or (isinstance(surface, float) and np.isnan(surface)) or _plain(surface) == "":
        kind = "unknown"
    else:
        kind = MTC_SURFACE.get(_plain(surface), "unknown")
        known = kind != "unknown"
    return MTC_CLASS[(level, kind)], kind, known


# ---------------------------------------------------------------- reading layers
def _read_layer(path: str | Path, input_name: str, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer, check it has features and a CRS, return it in EPSG:4326 (2-D)."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", source=str(path), hint=f"check 'inputs.{input_name}' in the scenario")
    layer = vector_layer(path, layer=layer, strict=False)  # issue #20: size limit; several layers need a choice
    try:
        gdf = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise DataError(f"cannot read the layer ({exc})", source=str(path),
                        hint="give a GeoPackage, shapefile or GeoJSON readable by GDAL") from exc
    if len(gdf) == 0 or gdf.geometry.isna().all() or gdf.geometry.is_empty.all():
        raise DataError("the layer has no features (a road layer with no lines)" if input_name == "roads"
                        else "the layer has no features", source=str(path),
                        hint=f"check that the file is the right one, or remove it from 'inputs.{input_name}'")
    if gdf.crs is None:
        raise DataError("the layer has no coordinate reference system (CRS)", source=str(path),
                        hint="assign the CRS it was made in (e.g. EPSG:4326 for lon/lat) in QGIS "
                             "or with `ogr2ogr -a_srs EPSG:4326 out.gpkg in.gpkg`, and save it again")
    gdf = gdf.to_crs("EPSG:4326")
    gdf = gdf.set_geometry(shapely.force_2d(gdf.geometry.values))
    return gdf


def _first_column(df: pd.DataFrame, names: Sequence[str]) -> str | None:
    upper = {c.upper(): c for c in df.columns}
    for n in names:
        if n.upper() in upper:
            return upper[n.upper()]
    return None


def load_mtc_lines(path: str | Path, quality: QualityReport, *, crs: str) -> gpd.GeoDataFrame:
    """MTC road lines (any OGR format) exploded into LineStrings and classified.

    See :func:`classify_mtc`.  Lines of length 0 and empty geometries are dropped with a
    quality entry.  ``crs`` (projected, metres) is used to measure lengths.
    """
    path = Path(path)
    name = f"roads:{path.name}"
    gdf = _read_layer(path, "roads")
    lines = gdf[gdf.geom_type.isin(["LineString", "MultiLineString"])]
    if len(lines) < len(gdf):
        bad = gdf.index.difference(lines.index)
        quality.add_many(name, bad, "not a line geometry", [gdf.geom_type[i] for i in bad], action="dropped")
    if len(lines) == 0:
        raise DataError("the layer has no line geometries (a road layer with no lines)", source=str(path),
                        hint="give the road lines, not points or polygons")
    route_col = _first_column(lines, ROUTE_COLUMNS)
    surf_col = _first_column(lines, SURFACE_COLUMNS)
    hier_col = _first_column(lines, HIERARCHY_COLUMNS)
    if surf_col is None:
        default_class = classify_mtc(None, None)[0]
        quality.note(f"{path.name}: no surface column ({', '.join(SURFACE_COLUMNS[:4])}…): its lines have "
                     "surface 'unknown' and are classed " + (
                         "by network level only" if hier_col else
                         f"'{default_class}' (departmental network, surface unknown)") + ".",
                     es=f"{path.name}: no tiene columna de superficie de rodadura "
                     f"({', '.join(SURFACE_COLUMNS[:4])}…): sus tramos tienen superficie 'unknown' (desconocida) "
                     "y se clasifican " + (
                         "solo por nivel de red" if hier_col else
                         f"como '{default_class}' (red vial departamental, superficie desconocida)") + ".")
    rows: list[dict] = []
    unknown_surfaces: dict[str, list] = {}
    for idx, rec in lines.iterrows():
        geom = rec.geometry
        if geom is None or geom.is_empty:
            quality.add(name, idx, "empty geometry", action="dropped")
            continue
        surface_val = rec[surf_col] if surf_col else None
        road_class, kind, known = classify_mtc(rec[hier_col] if hier_col else None, surface_val)
        if not known:
            unknown_surfaces.setdefault(str(surface_val), []).append(idx)
        parts = list(geom.geoms) if isinstance(geom, MultiLineString) else [geom]
        route = str(rec[route_col]).strip() if route_col and pd.notna(rec[route_col]) else ""
        for k, part in enumerate(parts):
            rows.append({"road_id": f"mtc:{path.stem}:{idx}.{k}", "route_code": route, "road_class": road_class,
                         "surface": kind if kind != "unknown" or surface_val is None else _plain(surface_val).lower(),
                         "approximate": False, "source": SOURCE_MTC_LINES, "geometry": part})
    for value, ids in unknown_surfaces.items():
        quality.add_many(name, ids, "unknown surface value",
                         [f"'{value}' not in MTC_SURFACE; classed as unknown surface"] * len(ids))
    out = _roads_frame(rows)
    out = _drop_zero_length(out, crs, quality, name)
    quality.count(name, read=len(gdf), kept=out["road_id"].str.rsplit(".", n=1).str[0].nunique())
    return out


def _drop_zero_length(roads: gpd.GeoDataFrame, crs: str, quality: QualityReport, name: str) -> gpd.GeoDataFrame:
    if len(roads) == 0:
        return roads
    length = roads.to_crs(crs).length.to_numpy()
    zero = length < MIN_LENGTH_M
    if zero.any():
        quality.add_many(name, roads.loc[zero, "road_id"], "line of length 0", action="dropped")
    return roads.loc[~zero].reset_index(drop=True)


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


@functools.lru_cache(maxsize=8)
def _transformer(crs: str):
    from pyproj import Transformer
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def _to_4326(coords: np.ndarray, crs: str) -> np.ndarray:
    t = _transformer(crs)
    lon, lat = t.transform(coords[:, 0], coords[:, 1])
    return np.c_[lon, lat]


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
    segment ``road_id = "nat:<R>:<k>"``.  Routes with one distinct node are reported.
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
            rows.append({"road_id": f"nat:{route}:{k}", "route_code": route, "road_class": "national_paved",
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


def junction_connectors(nodes: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, quality: QualityReport, *, crs: str,
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
    route_geom = {r: shapely.union_all(g.geometry.values) for r, g in proj.groupby("route_code")}
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


# ---------------------------------------------------------------- OpenStreetMap
def osm_class(highway: object, surface: object = None) -> str:
    """Road class of an OSM way from :data:`OSM_HIGHWAY_CLASS`.

    Lists (merged ways) take their first mapped value; ``*_link`` takes its parent's class;
    unknown tags are ``vecinal``.  A ``secondary`` with an unpaved ``surface`` becomes
    ``departmental_unpaved`` and a ``tertiary`` with a paved one ``departmental_paved``.
    """
    values = highway if isinstance(highway, (list, tuple)) else [highway]
    cls = None
    for v in values:
        tag = str(v).removesuffix("_link")
        if tag in OSM_HIGHWAY_CLASS:
            cls = OSM_HIGHWAY_CLASS[tag]
            break
    cls = cls or "vecinal"
    surf = surface[0] if isinstance(surface, (list, tuple)) and surface else surface
    surf = str(surf).lower() if isinstance(surf, str) else ""
    if cls == "departmental_paved" and surf in OSM_UNPAVED:
        cls = "departmental_unpaved"
    elif cls == "departmental_unpaved" and surf in OSM_PAVED:
        cls = "departmental_paved"
    return cls


def _osm_graph_to_roads(graph) -> gpd.GeoDataFrame:
    import osmnx as ox
    und = ox.convert.to_undirected(graph)
    edges = ox.graph_to_gdfs(und, nodes=False, fill_edge_geometry=True).reset_index()
    return _osm_edges_to_roads(edges)


def _osm_edges_to_roads(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if "highway" not in edges.columns:
        raise DataError("the OSM layer has no 'highway' column", hint="export the OSM ways with their highway tag")
    edges = edges.to_crs("EPSG:4326")
    surface = edges["surface"] if "surface" in edges.columns else pd.Series([None] * len(edges), index=edges.index)
    ref = edges["ref"] if "ref" in edges.columns else pd.Series([None] * len(edges), index=edges.index)
    if {"u", "v", "key"} <= set(edges.columns):
        ids = [f"osm:{u}-{v}-{k}" for u, v, k in zip(edges["u"], edges["v"], edges["key"])]
    else:
        ids = [f"osm:{i}" for i in range(len(edges))]
    rows = []
    for rid, hw, s, r, geom in zip(ids, edges["highway"], surface, ref, edges.geometry):
        if geom is None or geom.is_empty:
            continue
        parts = list(geom.geoms) if isinstance(geom, MultiLineString) else [geom]
        s0 = s[0] if isinstance(s, list) and s else s
        r0 = r[0] if isinstance(r, list) and r else r
        for k, part in enumerate(parts):
            rows.append({"road_id": rid if len(parts) == 1 else f"{rid}.{k}",
                         "route_code": str(r0) if isinstance(r0, str) else "",
                         "road_class": osm_class(hw, s0), "surface": str(s0) if isinstance(s0, str) else "unknown",
                         "approximate": False, "source": SOURCE_OSM, "geometry": shapely.force_2d(part)})
    return _roads_frame(rows)


def load_osm(source: str | Path, *, polygon=None) -> gpd.GeoDataFrame:
    """OpenStreetMap roads as the road table (``source = "osm"``).

    ``source`` is a local ``.osm``/``.xml`` file (``osmnx.graph_from_xml``), a ``.graphml``
    (``osmnx.load_graphml``), a GeoPackage/GeoJSON of edges with a ``highway`` column
    (layer ``edges`` when present), or ``"download"``: ``osmnx.graph_from_polygon(polygon,
    network_type="all")`` (needs internet and a lon/lat ``polygon``).  Two-way ways become
    one line (undirected graph).  Classes: :func:`osm_class`.
    """
    import osmnx as ox
    if str(source) == "download":
        if polygon is None:
            raise DataError("inputs.osm = \"download\" needs the study-area polygon",
                            hint="call load_osm('download', polygon=study_area_polygon)")
        old = list(ox.settings.useful_tags_way)
        ox.settings.useful_tags_way = sorted(set(old) | {"surface"})
        try:
            graph = ox.graph_from_polygon(polygon, network_type="all", simplify=False, retain_all=True)
        finally:
            ox.settings.useful_tags_way = old
        return _osm_graph_to_roads(graph)
    path = Path(source)
    if not path.exists():
        raise DataError("file not found", source=str(path), hint="check 'inputs.osm' in the scenario")
    suffix = path.suffix.lower()
    if suffix in {".osm", ".xml"}:
        old = list(ox.settings.useful_tags_way)
        ox.settings.useful_tags_way = sorted(set(old) | {"surface"})
        try:
            graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
        except Exception as exc:
            raise DataError(f"cannot read the OSM XML ({exc})", source=str(path),
                            hint="give an .osm file exported from openstreetmap.org or osmium") from exc
        finally:
            ox.settings.useful_tags_way = old
        if graph.number_of_edges() == 0:
            raise DataError("the OSM file has no highway ways (a road layer with no lines)", source=str(path))
        return _osm_graph_to_roads(graph)
    if suffix == ".graphml":
        return _osm_graph_to_roads(ox.load_graphml(path))
    layers = [name for name, _ in pyogrio.list_layers(path)] if suffix == ".gpkg" else []
    gdf = _read_layer(path, "osm", layer="edges" if "edges" in layers else None)
    return _osm_edges_to_roads(gdf)


# ---------------------------------------------------------------- connectivity
def road_components(roads: gpd.GeoDataFrame, crs: str, tolerance_m: float = 50.0) -> np.ndarray:
    """Connected component id of every road line (0 = the largest component, then by size).

    Two lines are connected when an end point of one lies within ``tolerance_m`` (in the
    projected ``crs``) of any point of the other (shared nodes, T-junctions, small gaps);
    lines that merely cross are not.  Components are the connected components of that
    relation (``scipy.sparse.csgraph.connected_components``).
    """
    n = len(roads)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    geoms = roads.to_crs(crs).geometry.values
    starts = shapely.get_point(geoms, 0)
    ends = shapely.get_point(geoms, -1)
    tree = shapely.STRtree(geoms)
    pts = np.concatenate([starts, ends])
    owner = np.concatenate([np.arange(n), np.arange(n)])
    pi, li = tree.query(pts, predicate="dwithin", distance=tolerance_m)
    a = np.concatenate([owner[pi], np.arange(n)])
    b = np.concatenate([li, np.arange(n)])
    adj = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)).tocsr()
    _, labels = connected_components(adj, directed=False)
    sizes = np.bincount(labels)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[labels].astype(np.int64)


def report_components(roads: gpd.GeoDataFrame, quality: QualityReport, *, crs: str,
                      tolerance_m: float = 50.0) -> np.ndarray:
    """Compute :func:`road_components` and put the count and sizes into ``quality``."""
    comp = road_components(roads, crs, tolerance_m)
    if len(comp) == 0:
        return comp
    km = roads.to_crs(crs).length.to_numpy() / 1000.0
    table = pd.DataFrame({"comp": comp, "km": km}).groupby("comp").agg(lines=("km", "size"), km=("km", "sum"))
    n = len(table)
    if n > 1:
        quality.note(f"The road network is split into {n} disconnected parts (end points farther than "
                     f"{tolerance_m:g} m from any other road); the largest has {int(table['lines'].iloc[0])} lines "
                     f"({table['km'].iloc[0]:.0f} km of {km.sum():.0f} km). Places on the others reach the rest "
                     "only by walking.",
                     es=f"La red vial está dividida en {n} partes desconectadas (extremos a más de "
                     f"{tolerance_m:g} m de cualquier otra vía); la mayor tiene {int(table['lines'].iloc[0])} "
                     f"tramos ({table['km'].iloc[0]:.0f} km de {km.sum():.0f} km). Los centros poblados ubicados "
                     "en las demás partes llegan al resto solo caminando.")
        for cid, r in table.iloc[1:].iterrows():
            routes = sorted(set(roads["route_code"].to_numpy()[comp == cid]))
            quality.add("roads", f"component {cid}", "disconnected road component",
                        f"{int(r['lines'])} lines, {r['km']:.1f} km, routes {', '.join(routes[:5])}"
                        + ("…" if len(routes) > 5 else ""))
    return comp


# ---------------------------------------------------------------- entry point
def _utm_of_inputs(sc) -> str:
    """UTM zone of the first road input (used when ``study_area.crs`` is empty)."""
    for p in [*sc.inputs.roads, *sc.inputs.road_route_nodes]:
        if p:
            return str(_read_layer(p, "roads").estimate_utm_crs())
    return "EPSG:4326"  # no road input: nothing is measured


def load_roads(sc, quality: QualityReport, *, crs: str | None = None, polygon=None, tolerance_m: float = 50.0,
               max_connector_m: float = 5000.0) -> gpd.GeoDataFrame:
    """All roads of a scenario (contract: ``docs/ARCHITECTURE.md``).

    ``crs``: projected CRS for lengths and snapping (default ``study_area.crs``, else the
    UTM zone of the road inputs).  Combines, in order: MTC lines (``inputs.roads``), routes rebuilt from MTC route nodes
    (``inputs.road_route_nodes``), national routes from junctions, junction connectors and
    OSM (``inputs.osm``; ``polygon`` is needed for ``"download"``).  Adds the connectivity
    summary (:func:`report_components`, ``tolerance_m``) to ``quality``.  Raises
    :class:`DataError` for unreadable, empty or CRS-less layers; returns an empty table
    when the scenario has no road inputs (a quality note says so).
    """
    crs = crs or sc.study_area.crs or _utm_of_inputs(sc)
    parts: list[gpd.GeoDataFrame] = [load_mtc_lines(p, quality, crs=crs) for p in sc.inputs.roads if p]
    lines = pd.concat(parts, ignore_index=True) if parts else empty_roads()
    line_routes = set(lines["route_code"]) - {""}
    node_paths = [p for p in sc.inputs.road_route_nodes if p]
    if node_paths:
        nodes = read_route_nodes(node_paths, quality, crs=crs)
        rebuilt = rebuild_routes(nodes, quality, crs=crs, skip_routes=line_routes)
        rebuilt = _drop_zero_length(rebuilt, crs, quality, "roads:rebuilt")
        national = national_from_junctions(nodes, quality, crs=crs, skip_routes=line_routes)
        base = pd.concat([lines, rebuilt, national], ignore_index=True)
        connectors = junction_connectors(nodes, gpd.GeoDataFrame(base, crs="EPSG:4326"), quality, crs=crs,
                                         line_routes=line_routes, max_connector_m=max_connector_m)
        parts = [base, connectors]
        if len(rebuilt):
            quality.note(f"{rebuilt['route_code'].nunique()} vecinal routes are rebuilt as straight segments between "
                         f"consecutive MTC route nodes ({len(rebuilt)} segments; the real roads are longer and "
                         "winding): their times are approximate.",
                         es=f"{rebuilt['route_code'].nunique()} rutas de la red vial vecinal se reconstruyen como "
                         f"segmentos rectos entre nodos consecutivos de ruta del MTC ({len(rebuilt)} segmentos; "
                         "las vías reales son más largas y sinuosas): sus tiempos son aproximados.")
    else:
        parts = [lines]
    if sc.inputs.osm:
        parts.append(load_osm(sc.inputs.osm, polygon=polygon))
    roads = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs="EPSG:4326")
    if len(roads) == 0:
        quality.note("No road input: travel is walking only.",
                     es="No hay insumo vial: el desplazamiento es solo a pie.")
        return empty_roads()
    roads = roads[ROAD_COLUMNS].reset_index(drop=True)
    roads["approximate"] = roads["approximate"].astype(bool)
    bad = ~roads["road_class"].isin(list(sc.speeds.road_kmh))
    if bad.any():
        raise DataError(f"road classes {sorted(set(roads.loc[bad, 'road_class']))} have no speed",
                        hint="add them to [speeds.road_kmh] in the scenario")
    report_components(roads, quality, crs=crs, tolerance_m=tolerance_m)
    return roads
