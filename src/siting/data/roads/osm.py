"""OpenStreetMap roads (``inputs.osm``): a local file or a download through OSMnx, classified.

Rules: :mod:`siting.data.roads` (package docstring, "OpenStreetMap").
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import MultiLineString

from ...errors import DataError
from .common import SOURCE_OSM, _read_layer, _roads_frame

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
