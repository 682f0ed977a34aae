"""Land-cover walking-speed multipliers (optional input ``inputs.landcover_speeds``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.warp import Resampling, reproject

from ..errors import DataError
from .terrain import Terrain


def read_multipliers(path: str | Path, terrain: Terrain) -> np.ndarray:
    """Read a walking-speed multiplier raster onto the terrain grid (nearest neighbour).

    Values: 1 = normal, < 1 slower (forest, wetland), > 1 faster, 0 = impassable (lake,
    glacier, barrier).  Nodata and cells outside the raster become 1 (no change).
    """
    path = Path(path)
    if not path.exists():
        raise DataError("land-cover speed raster not found", source=str(path),
                        hint="fix inputs.landcover_speeds or set it to \"\"")
    dst = np.full(terrain.shape, np.nan, dtype=np.float64)
    with rasterio.open(path) as src:
        if src.crs is None:
            raise DataError("the raster has no CRS", source=str(path), hint="assign its CRS (e.g. with gdal_edit)")
        reproject(rasterio.band(src, 1), dst, dst_transform=terrain.transform, dst_crs=terrain.crs,
                  dst_nodata=np.nan, resampling=Resampling.nearest)
    if np.nanmin(dst, initial=0.0) < 0:
        raise DataError("negative speed multipliers", source=str(path), hint="use 0 for barriers, 1 for normal terrain")
    return np.where(np.isfinite(dst), dst, 1.0)
