"""DEM loading: elevation on a regular grid in the study area's projected CRS.

Contract used by the travel-time engine (``siting.network.graph``):

``Terrain(elevation, transform, crs)`` where ``elevation`` is a 2-D float64 array
(rows = y from north to south, NaN = no data / outside the study area),
``transform`` an :class:`affine.Affine` mapping (col, row) to projected x, y of the
cell's upper-left corner, and ``crs`` a projected CRS string in metres.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine


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
        x, y = self.transform * (cols + 0.5, rows + 0.5)
        return np.asarray(x), np.asarray(y)

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row, col of the cell that holds each projected point (may be outside the grid)."""
        col, row = ~self.transform * (np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.floor(row).astype(np.int64), np.floor(col).astype(np.int64)
