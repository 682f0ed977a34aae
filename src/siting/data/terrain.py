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
from ..io import open_raster
from ..limits import check_memory
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


def bilinear_at_cells(data: np.ndarray, *, src_transform: Affine, src_crs, dst_transform: Affine, dst_crs,
                      shape: tuple[int, int], block_rows: int = 256, data_offset: tuple[int, int] = (0, 0),
                      full_shape: tuple[int, int] | None = None) -> np.ndarray:
    """Bilinear interpolation of ``data`` (NaN = nodata) at the centre of every cell of the
    destination grid, each centre projected **exactly** (pyproj) into the source CRS.

    For a centre at fractional source pixel ``(r, c)`` (pixel centres at integers), with
    ``r0 = floor(r)``, ``fr = r - r0`` (same for columns), the value is
    ``sum_k w_k z_k / sum_k w_k`` over the four neighbours with data, ``w`` the bilinear
    weights ``(1-fr)(1-fc), (1-fr) fc, fr (1-fc), fr fc``; NaN where none has data or the
    centre lies outside ``data``.  Unlike GDAL's warper, whose approximate transformer
    (0.125-pixel tolerance) depends on the extent warped, a cell's value depends only on
    its position: two study areas get the same elevation in the cells they share.
    Rows are done in blocks of ``block_rows`` to bound the memory.

    ``data_offset = (row_off, col_off)`` / ``full_shape``: ``data`` is the window starting at
    that pixel of a raster of ``full_shape`` whose transform is ``src_transform``; positions
    are then computed on the whole raster's pixel grid and only the indices shifted, so a
    window gives bit for bit the values of the whole raster (used by worker-built partitions).
    """
    from pyproj import Transformer

    height, width = shape
    tr = Transformer.from_crs(dst_crs, src_crs, always_xy=True)
    inv = ~src_transform
    out = np.full((height, width), np.nan)
    cols = np.arange(width) + 0.5
    n_rows, n_cols = data.shape
    off_r, off_c = (int(v) for v in data_offset)
    full_rows, full_cols = (n_rows, n_cols) if full_shape is None else (int(v) for v in full_shape)
    valid = np.isfinite(data)
    z = np.where(valid, data, 0.0)
    for r0 in range(0, height, block_rows):
        rows = np.arange(r0, min(height, r0 + block_rows)) + 0.5
        cc, rr = np.meshgrid(cols, rows)
        x, y = dst_transform @ (cc, rr)
        sx, sy = tr.transform(x, y)
        fc, fr = inv @ (np.asarray(sx), np.asarray(sy))
        fc, fr = fc - 0.5, fr - 0.5
        c0, q0 = np.floor(fc).astype(np.int64), np.floor(fr).astype(np.int64)
        dc, dr = fc - c0, fr - q0
        num = np.zeros(fc.shape)
        den = np.zeros(fc.shape)
        for oq, oc, w in ((0, 0, (1 - dr) * (1 - dc)), (0, 1, (1 - dr) * dc), (1, 0, dr * (1 - dc)), (1, 1, dr * dc)):
            qi, ci = q0 + oq - off_r, c0 + oc - off_c
            inside = (qi >= 0) & (qi < n_rows) & (ci >= 0) & (ci < n_cols)
            qs, cs = np.clip(qi, 0, n_rows - 1), np.clip(ci, 0, n_cols - 1)
            ok = inside & valid[qs, cs]
            num += np.where(ok, w * z[qs, cs], 0.0)
            den += np.where(ok, w, 0.0)
        inside_all = (fr >= -0.5) & (fr <= full_rows - 0.5) & (fc >= -0.5) & (fc <= full_cols - 0.5)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[r0:r0 + len(rows)] = np.where(inside_all & (den > 0), num / den, np.nan)
    return out


def native_cell_size(src, crs) -> float:
    """Side (metres, rounded to the metre) of the square cells equivalent to the DEM's native
    pixels in ``crs``: rasterio's default warp resolution of the **whole** raster, the mean
    of its x and y sizes.

    Computed on the whole raster, not on the study area's window, so that every study area
    gets the same cells: with the origin snapped to multiples of it (:func:`_warp`), one DEM
    and one CRS give one fixed grid, and a place falls in the same cell, with the same
    elevation and the same walking costs, whichever study area contains it."""
    import rasterio
    from rasterio.warp import calculate_default_transform

    dst_crs = rasterio.crs.CRS.from_user_input(crs)
    t, _, _ = calculate_default_transform(src.crs, dst_crs, src.width, src.height, *src.bounds)
    res = float((abs(t.a) + abs(t.e)) / 2)
    return float(round(res)) if res >= 10 else res


def _warp(src, *, crs: str, resolution_m: float | None, dst_bounds: tuple[float, float, float, float],
          source: str) -> tuple[np.ndarray, Affine]:
    """Warp ``src`` onto a north-up grid of square cells covering ``dst_bounds`` (in ``crs``).

    The grid is snapped to multiples of the cell size (by default :func:`native_cell_size`),
    so the cells of two study areas coincide where they overlap.  Only the source window that covers
    the grid (plus one cell for the bilinear kernel) is read; nodata becomes NaN.
    """
    import rasterio
    from rasterio.warp import transform_bounds
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

    if resolution_m is None:  # native-equivalent square cells of the whole DEM: one grid per DEM and CRS
        res = native_cell_size(src, dst_crs)
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
    out = bilinear_at_cells(data, src_transform=window_transform(window, src.transform), src_crs=src.crs,
                            dst_transform=dst_transform, dst_crs=dst_crs, shape=(height, width))
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
    """Open a DEM through the guarded open (:func:`siting.io.open_raster`), refusing a missing,
    unreadable, too large or CRS-less file clearly."""
    src = open_raster(path, what="elevation raster (DEM)", hint="check 'inputs.dem' in the scenario")
    if src.crs is None:
        src.close()
        raise DataError("the elevation raster has no coordinate reference system (CRS)", source=str(path),
                        hint="assign it, e.g. `gdal_edit.py -a_srs EPSG:4326 dem.tif` for a lon/lat DEM")
    return src


def _warp_readable(src, *, crs: str, resolution_m: float | None, dst_bounds: tuple[float, float, float, float],
                   source: str) -> tuple[np.ndarray, Affine]:
    """:func:`_warp`, with a damaged file (truncated strips, broken compression) refused as a
    :class:`DataError` naming it: such a file opens, and fails only when its cells are read."""
    from rasterio._err import CPLE_BaseError
    from rasterio.errors import RasterioError

    try:
        return _warp(src, crs=crs, resolution_m=resolution_m, dst_bounds=dst_bounds, source=source)
    except (RasterioError, CPLE_BaseError) as exc:
        raise DataError(f"cannot read the raster: its cells are damaged or cut short ({exc})", source=source,
                        hint="get the DEM again from its source, as a GeoTIFF readable by GDAL") from exc


def dem_memory_estimate(src, *, crs: str, dst_bounds: tuple[float, float, float, float],
                        resolution_m: float | None = None) -> tuple[int, int, int]:
    """``(bytes, source pixels, grid cells)`` that warping ``src`` onto ``dst_bounds`` will allocate.

    The source window covering the bounds is read as float64 with a nodata mask (9 bytes a
    pixel); the grid of square cells (``resolution_m``, or the native-equivalent size) is
    float64 and is copied once while masking (16 bytes a cell).  A DEM of 2 m cells over a
    department is ~10^10 pixels: refused by :func:`check_dem_memory` before any read.
    """
    import rasterio
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds

    dst_crs = rasterio.crs.CRS.from_user_input(crs)
    sb = transform_bounds(dst_crs, src.crs, *dst_bounds, densify_pts=21)
    w = from_bounds(*sb, transform=src.transform)
    full = Window(0, 0, src.width, src.height)
    try:
        w = w.round_offsets(op="floor").round_lengths(op="ceil").intersection(full)
    except rasterio.errors.WindowError:
        return 0, 0, 0  # no overlap: the loaders say so
    pixels = int(w.width) * int(w.height)
    res = native_cell_size(src, dst_crs) if resolution_m is None else float(resolution_m)
    left, bottom, right, top = dst_bounds
    cells = int(np.ceil((right - left) / res) + 1) * int(np.ceil((top - bottom) / res) + 1) if res > 0 else 0
    return 9 * pixels + 16 * cells, pixels, cells


def check_dem_memory(src, *, crs: str, dst_bounds: tuple[float, float, float, float], source: str,
                     resolution_m: float | None = None, available: int | None = None) -> None:
    """Refuse up front (with the estimate) a DEM whose warp would not fit in memory
    (see :func:`dem_memory_estimate` and :func:`siting.limits.check_memory`)."""
    nbytes, pixels, cells = dem_memory_estimate(src, crs=crs, dst_bounds=dst_bounds, resolution_m=resolution_m)
    check_memory(nbytes, what=f"the elevation grid ({pixels:,} DEM pixels read, {cells:,} cells of "
                              f"{'native' if resolution_m is None else f'{resolution_m:g} m'} size)",
                 source=source, available=available,
                 hint="the DEM is much finer than the travel-time engine needs (it works on cells of hundreds of "
                      "metres): resample it first, e.g. `gdalwarp -tr 0.0083333 0.0083333 -r bilinear in.tif "
                      "out.tif` (30 arc-seconds), or check its georeferencing (pixel size)")


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
        check_dem_memory(src, crs=crs, dst_bounds=dst_bounds, resolution_m=resolution_m, source=str(path))
        elevation, transform = _warp_readable(src, crs=crs, resolution_m=resolution_m, dst_bounds=dst_bounds,
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
        check_dem_memory(src, crs=crs, dst_bounds=dst_bounds, resolution_m=resolution_m, source=str(path))
        elevation, transform = _warp_readable(src, crs=crs, resolution_m=resolution_m, dst_bounds=dst_bounds,
                                              source=str(path))
    terrain = Terrain(elevation=elevation, transform=transform, crs=str(crs), source=str(path))
    if quality is not None:
        quality.count(f"dem:{path.name}", read=elevation.size, kept=int(np.isfinite(elevation).sum()))
    return terrain
