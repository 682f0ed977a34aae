"""Land-cover walking-speed multipliers (optional input ``inputs.landcover_speeds``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.warp import Resampling, reproject

from ..errors import DataError
from ..io import open_raster
from ..limits import check_memory
from .terrain import Terrain


def read_multipliers(path: str | Path, terrain: Terrain) -> np.ndarray:
    """Read a walking-speed multiplier raster onto the terrain grid (nearest neighbour).

    Values: 1 = normal, < 1 slower (forest, wetland), > 1 faster, 0 = impassable (lake,
    glacier, barrier).  Nodata and cells outside the raster become 1 (no change).
    """
    path = Path(path)
    hint = "fix inputs.landcover_speeds or set it to \"\""
    check_memory(8.0 * terrain.elevation.size, what=f"the land-cover grid ({terrain.shape[0]} x {terrain.shape[1]})",
                 source=str(path))
    dst = np.full(terrain.shape, np.nan, dtype=np.float64)
    with open_raster(path, what="land-cover speed raster", hint=hint) as src:
        if src.crs is None:
            raise DataError("the raster has no CRS", source=str(path), hint="assign its CRS (e.g. with gdal_edit)")
        try:
            reproject(rasterio.band(src, 1), dst, dst_transform=terrain.transform, dst_crs=terrain.crs,
                      dst_nodata=np.nan, resampling=Resampling.nearest)
        except Exception as exc:  # damaged blocks, unsupported data types...
            raise DataError(f"cannot read the land-cover speed raster ({exc})", source=str(path),
                            hint="give a single-band GeoTIFF of speed multipliers") from exc
    if np.isinf(dst).any():
        raise DataError("infinite speed multipliers", source=str(path),
                        hint="use finite values: 0 for barriers, 1 for normal terrain, < 1 slower")
    if np.nanmin(dst, initial=0.0) < 0:
        raise DataError("negative speed multipliers", source=str(path), hint="use 0 for barriers, 1 for normal terrain")
    return np.where(np.isfinite(dst), dst, 1.0)
