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
  Then :func:`~siting.data.roads.national.improve_national` snaps the towns that name the
  route onto it and makes edges follow MTC lines joining the same junctions (rules in
  :mod:`siting.data.roads.national`).  Class ``national_unknown`` (no shipped layer gives a
  national surface; a piece on an MTC line with a known surface takes its class), straight
  pieces ``approximate=True`` with source ``national_from_junctions``, pieces on MTC lines
  ``approximate=False`` with source ``national_on_mtc_lines``.
* **OpenStreetMap**: :func:`load_osm`, classes from :data:`OSM_HIGHWAY_CLASS`.

Modules: :mod:`~siting.data.roads.common` (the table, readers, connectivity),
:mod:`~siting.data.roads.mtc` (MTC lines), :mod:`~siting.data.roads.routes` (route nodes,
junctions, national routes), :mod:`~siting.data.roads.osm` (OpenStreetMap); this package
re-exports their public names and holds the entry point :func:`load_roads`.
"""
from __future__ import annotations

import geopandas as gpd
import pandas as pd

from ...errors import DataError
from ..quality import QualityReport
from .common import (
    DUPLICATE_NODE_M,
    MIN_LENGTH_M,
    ROAD_CLASSES,
    ROAD_COLUMNS,
    SOURCE_MTC_LINES,
    SOURCE_NATIONAL,
    SOURCE_OSM,
    SOURCE_VECINAL,
    _drop_zero_length,
    _read_layer,
    empty_roads,
    report_components,
    road_components,
)
from .mtc import (
    HIERARCHY_COLUMNS,
    MTC_CLASS,
    MTC_HIERARCHY,
    MTC_SURFACE,
    ROUTE_COLUMNS,
    SURFACE_COLUMNS,
    classify_mtc,
    load_mtc_lines,
)
from .national import NATIONAL_UNKNOWN, SOURCE_NATIONAL_LINES, improve_national
from .osm import OSM_HIGHWAY_CLASS, OSM_PAVED, OSM_UNPAVED, load_osm, osm_class
from .routes import (
    junction_connectors,
    national_base,
    national_from_junctions,
    normalise_route_code,
    parse_junction,
    read_route_nodes,
    rebuild_routes,
)

__all__ = [
    "DUPLICATE_NODE_M", "HIERARCHY_COLUMNS", "NATIONAL_UNKNOWN", "SOURCE_NATIONAL_LINES",
    "MIN_LENGTH_M", "MTC_CLASS", "MTC_HIERARCHY", "MTC_SURFACE",
    "OSM_HIGHWAY_CLASS", "OSM_PAVED", "OSM_UNPAVED", "ROAD_CLASSES", "ROAD_COLUMNS", "ROUTE_COLUMNS",
    "SOURCE_MTC_LINES", "SOURCE_NATIONAL", "SOURCE_OSM", "SOURCE_VECINAL", "SURFACE_COLUMNS",
    "classify_mtc", "empty_roads", "improve_national",
    "junction_connectors", "load_mtc_lines", "load_osm", "load_roads",
    "national_base", "national_from_junctions", "normalise_route_code", "osm_class", "parse_junction",
    "read_route_nodes", "rebuild_routes", "report_components", "road_components",
]


# ---------------------------------------------------------------- entry point
def _utm_of_inputs(sc) -> str:
    """UTM zone of the first road input (used when ``study_area.crs`` is empty)."""
    for p in [*sc.inputs.roads, *sc.inputs.road_route_nodes]:
        if p:
            return str(_read_layer(p, "roads").estimate_utm_crs())
    return "EPSG:4326"  # no road input: nothing is measured


def load_roads(sc, quality: QualityReport, *, crs: str | None = None, polygon=None, tolerance_m: float = 50.0,
               max_connector_m: float = 5000.0, towns: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """All roads of a scenario (contract: ``docs/ARCHITECTURE.md``).

    ``crs``: projected CRS for lengths and snapping (default ``study_area.crs``, else the
    UTM zone of the road inputs).  Combines, in order: MTC lines (``inputs.roads``), routes rebuilt from MTC route nodes
    (``inputs.road_route_nodes``), national routes from junctions, junction connectors and
    OSM (``inputs.osm``; ``polygon`` is needed for ``"download"``).  Adds the connectivity
    summary (:func:`report_components`, ``tolerance_m``) to ``quality``.  Raises
    :class:`DataError` for unreadable, empty or CRS-less layers; returns an empty table
    when the scenario has no road inputs (a quality note says so).  ``towns`` (centros
    poblados, ``ccpp_id, name``): towns that name a national route are snapped onto it
    (:func:`~siting.data.roads.national.improve_national`).
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
        national = improve_national(national, nodes, quality, crs=crs, towns=towns, lines=lines)
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
