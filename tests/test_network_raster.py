"""Travel-time GeoTIFF, isochrone polygons and land-cover input.

The terrain and rasters are SYNTHETIC TEST FIXTURES (``fixture_*``), not real data.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
from affine import Affine

from siting.data.terrain import Terrain
from siting.errors import DataError
from siting.network import build_travel_graph, nearest
from siting.network.raster import NODATA, isochrones, read_multipliers, travel_time_raster
from siting.scenario import Speeds

CRS = "EPSG:32717"
X0, Y0 = 700_000.0, 9_250_000.0  # inside UTM 17S, near Cajamarca (fixture position only)


def fixture_flat_terrain(rows=11, cols=11, cell=500.0) -> Terrain:
    """SYNTHETIC flat fixture terrain with one no-data corner cell."""
    elev = np.full((rows, cols), 2700.0)
    elev[0, 0] = np.nan
    return Terrain(elev, Affine(cell, 0, X0, 0, -cell, Y0), CRS, source="fixture")


def test_travel_time_raster_round_trip(tmp_path):
    t = fixture_flat_terrain()
    g = build_travel_graph(t, None, Speeds(mode="walk"), {})
    res = nearest(g, [5 * 11 + 5], towards_sources=False)
    out = travel_time_raster(g, res.minutes, tmp_path / "sub" / "minutes.tif")
    with rasterio.open(out) as src:
        band = src.read(1)
        assert src.crs.to_epsg() == 32717
        assert src.transform == t.transform
        assert src.nodata == NODATA and band.dtype == np.float32
    assert band[0, 0] == NODATA  # no elevation -> unreachable -> nodata, never 0
    assert band[5, 5] == 0.0
    np.testing.assert_allclose(band[band != NODATA], g.cell_grid(res.minutes)[band != NODATA], rtol=1e-6)
    assert not list((tmp_path / "sub").glob("*.part*"))


def test_isochrone_bands_match_cell_counts():
    t = fixture_flat_terrain()
    g = build_travel_graph(t, None, Speeds(mode="walk"), {})
    res = nearest(g, [5 * 11 + 5], towards_sources=False)
    grid = g.cell_grid(res.minutes)
    th = [10.0, 20.0, 40.0]
    iso = isochrones(g, res.minutes, th)
    assert iso.crs.to_epsg() == 4326
    assert iso["min_to"].tolist() == th and iso["min_from"].tolist() == [0.0, 10.0, 20.0]
    lows = [-np.inf, 10.0, 20.0]
    for lo, hi, area in zip(lows, th, iso["area_km2"]):
        n = int(((grid > lo) & (grid <= hi)).sum())
        assert area == pytest.approx(n * 0.25, rel=1e-9)  # 500 m cells = 0.25 km2
    # the centre cell lies in the first band polygon
    centre = iso.to_crs(CRS).geometry.iloc[0]
    assert centre.contains(__import__("shapely").Point(X0 + 5.5 * 500, Y0 - 5.5 * 500))
    with pytest.raises(ValueError):
        isochrones(g, res.minutes, [30.0, 10.0])


def test_read_multipliers_resamples_onto_grid(tmp_path):
    t = fixture_flat_terrain(rows=4, cols=4, cell=1000.0)
    # SYNTHETIC fixture raster at 500 m: left half 0.5, one barrier block, one nodata block
    data = np.full((8, 8), 0.5, dtype=np.float32)
    data[:, 4:] = 1.0
    data[0:2, 6:8] = 0.0
    data[6:8, 0:2] = -1  # nodata
    path = tmp_path / "lc.tif"
    with rasterio.open(path, "w", driver="GTiff", height=8, width=8, count=1, dtype="float32", crs=CRS,
                       transform=Affine(500, 0, X0, 0, -500, Y0), nodata=-1) as dst:
        dst.write(data, 1)
    m = read_multipliers(path, t)
    assert m.shape == (4, 4)
    assert m[0, 3] == 0.0 and m[1, 0] == 0.5 and m[2, 2] == 1.0 and m[3, 0] == 1.0
    g = build_travel_graph(t, None, Speeds(mode="walk"), {}, landcover=m)
    assert g.matrix[[4 * 0 + 3], :].nnz == 0  # barrier cell: no edge out
    # edge between 0.5 and 1.0 cells: 1 km flat * (1/0.5 + 1/1)/2
    assert g.matrix[4 + 1, 4 + 2] == pytest.approx(60 / (6 * math.exp(-0.175)) * 1.5)
    with pytest.raises(DataError):
        read_multipliers(tmp_path / "missing.tif", t)
