"""MTC road lines (``inputs.roads``): read, explode into LineStrings, classify.

Rules: :mod:`siting.data.roads` (package docstring, "MTC lines").
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiLineString

from ...errors import DataError
from ..quality import QualityReport
from .common import SOURCE_MTC_LINES, _drop_zero_length, _first_column, _plain, _read_layer, _roads_frame

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
