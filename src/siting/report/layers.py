"""GIS layers built from the stage tables, ready for :func:`siting.report.exports.write_gpkg`.

* :func:`district_layer` - district polygons (INEI) carrying the district access-gap table;
* :func:`ugel_layer` - UGEL polygons (union of their districts) carrying the UGEL table;
* :func:`isochrone_layer` - the area within each travel-time threshold of the nearest
  facility (:func:`siting.network.raster.isochrones`, cumulative).

Every layer is EPSG:4326 with the tables' snake_case columns; QGIS styles come from
:func:`siting.report.qgis.default_styles` (graduated choropleths for the polygons).
"""
from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import DataError


def _join(polygons: gpd.GeoDataFrame, table: pd.DataFrame, key: str, what: str) -> gpd.GeoDataFrame:
    if key not in table.columns or key not in polygons.columns:
        raise DataError(f"cannot draw the {what} layer: column '{key}' is missing",
                        hint=f"pass the {what} table of the access stage and the district polygons")
    rows = table[table[key].astype(str) != "total"].copy()
    rows[key] = rows[key].astype(str)
    shapes = polygons[[key, "geometry"]].assign(**{key: polygons[key].astype(str)})
    out = shapes.merge(rows, on=key, how="right")
    missing = out.geometry.isna() | out.geometry.is_empty
    if missing.any():
        raise DataError(f"{int(missing.sum())} {what} rows have no polygon, e.g. "
                        f"{out.loc[missing, key].iloc[0]!r}", hint="use the district polygons of the same run")
    cols = [c for c in table.columns if c != "geometry"]
    return gpd.GeoDataFrame(out[cols + ["geometry"]], geometry="geometry", crs=polygons.crs).to_crs("EPSG:4326")


def district_layer(districts: gpd.GeoDataFrame, by_district: pd.DataFrame) -> gpd.GeoDataFrame:
    """District polygons with every column of the district access table (joined on ``ubigeo``).

    Only the districts of the table (the study area) are kept; a table row without a polygon
    raises :class:`~siting.errors.DataError`.
    """
    return _join(districts, by_district, "ubigeo", "district")


def ugel_layer(districts: gpd.GeoDataFrame, by_ugel: pd.DataFrame) -> gpd.GeoDataFrame:
    """UGEL polygons (the union of their districts' polygons) with the UGEL access table."""
    if "ugel" not in districts.columns:
        raise DataError("cannot draw the UGEL layer: the district polygons have no 'ugel' column")
    wanted = set(by_ugel["ugel"].astype(str)) if "ugel" in by_ugel else set()
    d = districts[districts["ugel"].astype(str).isin(wanted)]
    shapes = d[["ugel", "geometry"]].dissolve(by="ugel", as_index=False)
    shapes["geometry"] = shapes.geometry.make_valid()
    return _join(shapes, by_ugel, "ugel", "UGEL")


def isochrone_layer(graph, minutes: np.ndarray, thresholds: Sequence[float]) -> gpd.GeoDataFrame:
    """One polygon per threshold: the cells within ``threshold_min`` minutes of the nearest
    facility (``minutes`` per graph node, e.g. the access stage's ``node_minutes``)."""
    from ..network.raster import isochrones
    return isochrones(graph, minutes, list(thresholds), cumulative=True)
