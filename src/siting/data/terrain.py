"""DEM loading: elevation on a regular grid in the study area's projected CRS.

Contract used by the travel-time engine (``siting.network.graph``):

``Terrain(elevation, transform, crs)`` where ``elevation`` is a 2-D float64 array
(rows = y from north to south, NaN = no data / outside the study area),
``transform`` an :class:`affine.Affine` mapping (col, row) to projected x, y of the
cell's upper-left corner, and ``crs`` a projected CRS string in metres.

Loaders: :func:`load_dem` (study area, clipped) and :func:`load_dem_national` (whole file).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from affine import Affine

from ..errors import DataError
from .quality import QualityReport


@dataclass
class Terrain:
    """Elevation grid in a projected CRS (metres)."""

    elevation: np.ndarray  # (rows, cols), float64, NaN = no data
    transform: Affine
    crs: str
    source: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return self.elevation.shape

    @property
    def cell_size(self) -> float:
        """Cell size in metres (square cells)."""
        return float(abs(self.transform.a))

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Projected x, y of every cell centre, as two (rows, cols) arrays."""
        rows, cols = np.indices(self.shape)
        x, y = self.transform @ (cols + 0.5, rows + 0.5)  # type: ignore[operator]
        return np.asarray(x), np.asarray(y)

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row, col of the cell that holds each projected point (may be outside the grid)."""
        col, row = ~self.transform @ (np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.floor(row).astype(np.int64), np.floor(col).astype(np.int64)


# --------------------------------------------------------------------------- loading
#: rasterio's nodata for the geodata/WorldClim DEMs (float32 lowest) is also caught by this test.
_NODATA_BELOW = -1.0e30


def _warp(src, *, crs: str, resolution_m: float | None, dst_bounds: tuple[float, float, float, float],
          source: str) -> tuple[np.ndarray, Affine]:
    """Warp ``src`` onto a north-up grid of square cells covering ``dst_bounds`` (in ``crs``).

    The grid is snapped to multiples of the cell size.  Only the source window that covers
    the grid (plus one cell for the bilinear kernel) is read; nodata becomes NaN.
    """
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds
    from rasterio.windows import Window, from_bounds
    from rasterio.windows import transform as window_transform

    dst_crs = rasterio.crs.CRS.from_user_input(crs)
    full = Window(0, 0, src.width, src.height)

    def window_for(bounds_dst):
        sb = transform_bounds(dst_crs, src.crs, *bounds_dst, densify_pts=21)
        w = from_bounds(*sb, transform=src.transform).round_offsets(op="floor").round_lengths(op="ceil")
        w = Window(w.col_off - 1, w.row_off - 1, w.width + 2, w.height + 2)
        try:
            return w.intersection(full)
        except rasterio.errors.WindowError:
            raise DataError(f"the elevation raster (extent {tuple(round(v, 3) for v in src.bounds)}) does not "
                            "cover the study area", source=source,
                            hint="use a DEM of the study area's department or country") from None

    if resolution_m is None:  # native-equivalent square cells (rasterio's default size, averaged)
        w = window_for(dst_bounds)
        wl, wb, wr, wt = rasterio.windows.bounds(w, src.transform)
        t, _, _ = calculate_default_transform(src.crs, dst_crs, int(w.width), int(w.height), wl, wb, wr, wt)
        res = float((abs(t.a) + abs(t.e)) / 2)
    else:
        res = float(resolution_m)
        if not res > 0:
            raise DataError(f"resolution_m must be > 0, got {resolution_m!r}")
    left, bottom, right, top = dst_bounds
    left, top = np.floor(left / res) * res, np.ceil(top / res) * res
    width, height = int(np.ceil((right - left) / res)), int(np.ceil((top - bottom) / res))
    dst_transform = Affine(res, 0.0, float(left), 0.0, -res, float(top))
    window = window_for((left, top - height * res, left + width * res, top))
    data = src.read(1, window=window, out_dtype="float64")
    bad = ~np.isfinite(data) | (data < _NODATA_BELOW)
    if src.nodata is not None and np.isfinite(src.nodata):
        bad |= data == src.nodata
    data[bad] = np.nan
    if np.isnan(data).all():
        raise DataError("the elevation raster has no data in the study area (all cells are nodata)",
                        source=source, hint="use a DEM that covers the study area (check its extent and nodata value)")
    out = np.full((height, width), np.nan, dtype="float64")
    reproject(source=data, destination=out, src_transform=window_transform(window, src.transform), src_crs=src.crs,
              src_nodata=np.nan, dst_transform=dst_transform, dst_crs=dst_crs, dst_nodata=np.nan,
              resampling=Resampling.bilinear)
    if np.isnan(out).all():
        raise DataError("the elevation raster has no data in the study area (all cells are nodata)", source=source)
    return out, dst_transform


def check_projected_crs(crs: str) -> None:
    """Raise :class:`DataError` (naming ``study_area.crs``) unless ``crs`` is a known projected CRS."""
    from pyproj import CRS
    try:
        c = CRS.from_user_input(crs)
    except Exception as exc:
        raise DataError(f"unknown CRS {crs!r} ({exc})", source="study_area.crs",
                        hint="set study_area.crs to e.g. \"EPSG:32717\"") from exc
    if not c.is_projected:
        raise DataError(f"CRS {crs!r} is not projected (metres)", source="study_area.crs",
                        hint="set study_area.crs to a UTM zone, e.g. \"EPSG:32717\" for Cajamarca")


_check_projected = check_projected_crs


def _open_dem(path: Path):
    """Open a DEM with rasterio, refusing a missing, unreadable or CRS-less file clearly."""
    import rasterio
    from rasterio.errors import RasterioIOError

    if not path.exists():
        raise DataError("file not found", source=str(path), hint="check 'inputs.dem' in the scenario")
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        raise DataError(f"cannot read the raster ({exc})", source=str(path), hint="give a GeoTIFF DEM") from exc
    if src.crs is None:
        src.close()
        raise DataError("the elevation raster has no coordinate reference system (CRS)", source=str(path),
                        hint="assign it, e.g. `gdal_edit.py -a_srs EPSG:4326 dem.tif` for a lon/lat DEM")
    return src


def load_dem(path: str | Path, *, bounds_4326: tuple[float, float, float, float], crs: str,
             quality: QualityReport | None = None, resolution_m: float | None = None) -> Terrain:
    """Elevation of the study area on square cells in the projected ``crs``.

    ``bounds_4326`` = ``(lon_min, lat_min, lon_max, lat_max)``, already buffered by the caller.
    The DEM window covering the bounds (plus one cell, so bilinear has neighbours) is read,
    nodata becomes NaN, and it is warped with ``rasterio.warp.reproject`` (bilinear) onto a
    north-up grid of square ``resolution_m`` cells; the default keeps the native size
    (30 arc-seconds -> about 922 m at Cajamarca's latitude).  Cells outside the DEM or in
    its nodata are NaN.  Raises :class:`DataError` when the file cannot be read, has no CRS,
    does not overlap the bounds, or is entirely nodata there.
    """

    path = Path(path)
    _check_projected(crs)
    lon0, lat0, lon1, lat1 = map(float, bounds_4326)
    if not (lon0 < lon1 and lat0 < lat1):
        raise DataError(f"empty bounds {bounds_4326} (need lon_min < lon_max and lat_min < lat_max)")
    with _open_dem(path) as src:
        from rasterio.warp import transform_bounds
        b = transform_bounds("EPSG:4326", src.crs, lon0, lat0, lon1, lat1, densify_pts=21)
        sb = src.bounds
        if b[0] >= sb.right or b[2] <= sb.left or b[1] >= sb.top or b[3] <= sb.bottom:
            raise DataError(f"the elevation raster (extent {tuple(round(v, 3) for v in sb)}) does not cover the "
                            f"study area {tuple(round(v, 3) for v in bounds_4326)}", source=str(path),
                            hint="use a DEM of the study area's department or country")
        covered = (b[0] >= sb.left and b[2] <= sb.right and b[1] >= sb.bottom and b[3] <= sb.top)
        dst_bounds = transform_bounds("EPSG:4326", crs, lon0, lat0, lon1, lat1, densify_pts=21)
        elevation, transform = _warp(src, crs=crs, resolution_m=resolution_m, dst_bounds=dst_bounds,
                                     source=str(path))
        native = src.res
    terrain = Terrain(elevation=elevation, transform=transform, crs=str(crs), source=str(path))
    if quality is not None:
        n, valid = elevation.size, int(np.isfinite(elevation).sum())
        quality.count(f"dem:{path.name}", read=n, kept=valid)
        quality.note(f"Elevation: {path.name} (native {native[0]:g} x {native[1]:g} source units) resampled "
                     f"bilinearly to {terrain.cell_size:.0f} m cells, grid {terrain.shape[0]} x {terrain.shape[1]}; "
                     f"{n - valid} cells without data (outside the DEM or masked) are not walkable.",
                     es=f"Elevación: {path.name} (resolución original {native[0]:g} x {native[1]:g} en unidades "
                     f"de la fuente) remuestreado por interpolación bilineal a celdas de {terrain.cell_size:.0f} m, "
                     f"grilla de {terrain.shape[0]} x {terrain.shape[1]}; {n - valid} celdas sin dato (fuera del "
                     "modelo digital de elevación o enmascaradas) no son transitables a pie.")
        if not covered:
            quality.note(f"The elevation raster {path.name} covers only part of the study area bounds; "
                         "cells beyond it have no elevation.",
                         es=f"El modelo digital de elevación {path.name} cubre solo parte del rectángulo "
                         "envolvente del área de estudio; las celdas fuera de él no tienen elevación.")
    return terrain


def load_dem_national(path: str | Path, crs: str, *, quality: QualityReport | None = None,
                      resolution_m: float | None = None) -> Terrain:
    """Whole DEM (no clipping) on square cells in ``crs`` — the country-wide run.

    Memory: the shipped Peru DEM is 1,560 x 2,232 cells; it is read as float64 (27.9 MB)
    and warped onto a grid of about the same cell count (~1,600 x 2,240 -> ~29 MB float64),
    so the loader peaks near 60 MB.  The travel-time graph built on it has ~3.5 M cells
    x 8 neighbours, i.e. ~28 M directed edges (~340 MB as a CSR matrix): plan for it.
    Peru spans UTM zones 17-19, so a single UTM zone distorts distances at the far edges.
    """

    path = Path(path)
    _check_projected(crs)
    with _open_dem(path) as src:
        from rasterio.warp import transform_bounds
        dst_bounds = transform_bounds(src.crs, crs, *src.bounds, densify_pts=21)
        elevation, transform = _warp(src, crs=crs, resolution_m=resolution_m, dst_bounds=dst_bounds,
                                     source=str(path))
    terrain = Terrain(elevation=elevation, transform=transform, crs=str(crs), source=str(path))
    if quality is not None:
        quality.count(f"dem:{path.name}", read=elevation.size, kept=int(np.isfinite(elevation).sum()))
    return terrain
