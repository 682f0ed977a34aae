"""Rasters in and out of the travel-time engine.

* :func:`travel_time_raster` - a Cloud-Optimised GeoTIFF of the minutes of every terrain
  cell (float32, ``nodata`` where unreachable or without elevation, band description);
* :func:`isochrones` - polygons of the bands ``(0, t1], (t1, t2], ...`` (or, cumulative,
  the area within each threshold) drawn from the cell grid with ``rasterio.features.shapes``,
  in EPSG:4326;
* :func:`read_multipliers` - a land-cover walking-speed multiplier raster (0 = barrier)
  resampled onto the terrain grid, ready for ``build_graph(landcover=...)``.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.features
import shapely

from ..data.landcover import read_multipliers
from ..io import atomic_path
from .graph import TravelGraph

NODATA = -9999.0

__all__ = ["NODATA", "travel_time_raster", "isochrones", "read_multipliers"]  # the reader lives in siting.data


def _cell_minutes(graph: TravelGraph, minutes: np.ndarray) -> np.ndarray:
    minutes = np.asarray(minutes, dtype=np.float64).ravel()
    if minutes.size not in (graph.n_nodes, graph.n_cells):
        raise ValueError(f"minutes must have one value per node ({graph.n_nodes}) or per cell ({graph.n_cells}),"
                         f" got {minutes.size}")
    return graph.cell_grid(minutes)


#: band description of the travel-time raster (QGIS and ``gdalinfo`` show it)
DESCRIPTION = "travel time to the nearest facility (minutes)"


def travel_time_raster(graph: TravelGraph, minutes_per_node: np.ndarray, path: str | Path, *,
                       nodata: float = NODATA, description: str = DESCRIPTION, blocksize: int = 128) -> Path:
    """Write the cell minutes as a single-band float32 Cloud-Optimised GeoTIFF in the graph's CRS.

    Unreachable cells (``inf``) and cells without elevation (NaN) are ``nodata``.  The file
    is a COG (GDAL ``COG`` driver: ``blocksize`` x ``blocksize`` tiles, DEFLATE with the
    floating-point predictor, internal overviews by nearest neighbour so that zoomed-out
    views show real minutes, never averages), with the band ``description`` and the tag
    ``units=minutes``; written atomically and identical for identical inputs.
    """
    grid = _cell_minutes(graph, minutes_per_node)
    out = np.where(np.isfinite(grid), grid, nodata).astype(np.float32)
    path = Path(path)
    profile = {"driver": "GTiff", "height": out.shape[0], "width": out.shape[1], "count": 1, "dtype": "float32",
               "crs": graph.crs, "transform": graph.transform, "nodata": nodata}
    cog = {"driver": "COG", "compress": "DEFLATE", "predictor": 3, "blocksize": blocksize,
           "overview_resampling": "NEAREST", "resampling": "NEAREST", "bigtiff": "IF_SAFER"}
    from rasterio.io import MemoryFile
    from rasterio.shutil import copy as rio_copy
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(out, 1)
            dst.set_band_description(1, description)
            dst.set_band_unit(1, "min")
            dst.update_tags(units="minutes")
        with mem.open() as src, atomic_path(path) as tmp:
            rio_copy(src, tmp, **cog)
    return path


def isochrones(graph: TravelGraph, minutes: np.ndarray, thresholds: list[float] | np.ndarray, *,
               crs: str = "EPSG:4326", cumulative: bool = False) -> gpd.GeoDataFrame:
    """Band polygons, or with ``cumulative`` one isochrone per threshold.

    Bands: one (multi)polygon per band ``min_from < minutes <= min_to``; columns ``band``
    (0-based), ``min_from``, ``min_to``, ``area_km2`` (projected), ``geometry`` (in ``crs``).
    Cumulative: the area reachable within each threshold, ``minutes <= threshold_min``
    (the union of the bands up to it); columns ``threshold_min``, ``area_km2``, ``geometry``.
    Cells beyond the last threshold or unreachable belong to none.  Polygons follow cell
    edges (the resolution of the DEM).
    """
    th = np.asarray(thresholds, dtype=float)
    if th.size == 0 or np.any(np.diff(th) <= 0) or th[0] <= 0:
        raise ValueError("thresholds must be increasing positive minutes, e.g. [30, 60, 120]")
    grid = _cell_minutes(graph, minutes)
    band = np.searchsorted(th, np.where(np.isfinite(grid), grid, np.inf), side="left").astype(np.int32)
    valid = band < len(th)
    geoms: dict[int, list] = {i: [] for i in range(len(th))}
    for geom, value in rasterio.features.shapes(band, mask=valid, transform=graph.transform, connectivity=4):
        geoms[int(value)].append(shapely.geometry.shape(geom))
    polys = [shapely.union_all(geoms[i]) if geoms[i] else shapely.Polygon() for i in range(len(th))]
    rows = []
    if cumulative:
        reach = shapely.Polygon()
        for i, poly in enumerate(polys):
            reach = shapely.union(reach, poly)
            rows.append({"threshold_min": float(th[i]), "area_km2": float(reach.area) / 1e6, "geometry": reach})
    else:
        lows = np.concatenate([[0.0], th[:-1]])
        rows = [{"band": i, "min_from": float(lows[i]), "min_to": float(th[i]), "area_km2": float(p.area) / 1e6,
                 "geometry": p} for i, p in enumerate(polys)]
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=graph.crs)
    return gdf.to_crs(crs)
