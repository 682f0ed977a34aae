"""Tests of siting.data.terrain.load_dem / load_dem_national on the shipped DEMs.

Independent reference: bilinear interpolation of the source grid with
scipy.interpolate.RegularGridInterpolator at the projected cell centres (pyproj).
Small rasters written in tmp_path are test fixtures (named fixture_*).
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from scipy.interpolate import RegularGridInterpolator

from siting.data.quality import QualityReport
from siting.data.terrain import Terrain, load_dem, load_dem_national
from siting.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
DEM = ROOT / "data" / "raw" / "dem" / "geodata_elevation30s_cajamarca.tif"
DEM_PERU = ROOT / "data" / "raw" / "dem" / "geodata_elevation30s_peru.tif"
DISTRICTS = ROOT / "data" / "raw" / "boundaries" / "innovar_peru_distritos_inei2017.gpkg"
CRS = "EPSG:32717"
# the 8 UGELs of scenarios/cajamarca.toml = provinces Cajamarca, Cajabamba, Celendín, Contumazá,
# Hualgayoc, San Marcos, San Miguel, San Pablo
PROVINCES_8 = ["01", "02", "03", "05", "07", "10", "11", "12"]


@pytest.fixture(scope="module")
def bounds_8ugel() -> tuple[float, float, float, float]:
    d = gpd.read_file(DISTRICTS, layer="distritos")
    d = d[(d["dep.code"] == "06") & d["prov.code"].isin(PROVINCES_8)]
    area = d.to_crs(CRS).union_all().buffer(15_000)
    return tuple(gpd.GeoSeries([area], crs=CRS).to_crs(4326).total_bounds)


@pytest.fixture(scope="module")
def terrain_8ugel(bounds_8ugel):
    q = QualityReport()
    return load_dem(DEM, bounds_4326=bounds_8ugel, crs=CRS, quality=q), q


def _source_grid(path: Path):
    with rasterio.open(path) as src:
        a = src.read(1).astype(float)
        a[a < -1e30] = np.nan
        return a, src.transform


def test_shipped_grid_shape_crs_and_range(terrain_8ugel):
    t, q = terrain_8ugel
    assert isinstance(t, Terrain)
    assert t.crs == CRS
    assert t.shape == (200, 229)  # the 8-UGEL area + 15 km at 922 m (the fixed grid of the whole DEM)
    assert t.cell_size == pytest.approx(921.5, abs=1.0)
    assert t.transform.a == -t.transform.e and t.transform.b == t.transform.d == 0  # square, north-up
    assert t.elevation.dtype == np.float64
    a, _ = _source_grid(DEM)
    lo, hi = np.nanmin(a), np.nanmax(a)
    assert (lo, hi) == (-6.0, 4496.0)  # the Cajamarca crop
    z = t.elevation[np.isfinite(t.elevation)]
    assert lo <= z.min() < 100 and 4300 < z.max() <= hi  # bilinear stays within the data range
    nan_share = np.isnan(t.elevation).mean()
    assert 0 < nan_share < 0.02  # a corner of Pacific Ocean (masked) in the south-west only
    rows, cols = np.nonzero(np.isnan(t.elevation))
    assert rows.min() > t.shape[0] / 2 and cols.max() < t.shape[1] / 4
    assert q.counts[f"dem:{DEM.name}"]["read"] == t.elevation.size
    assert any("922 m cells" in n for n in q.notes)


def test_bilinear_matches_scipy_reference(terrain_8ugel):
    t, _ = terrain_8ugel
    a, tr = _source_grid(DEM)
    lons = tr.c + tr.a * (np.arange(a.shape[1]) + 0.5)
    lats = tr.f + tr.e * (np.arange(a.shape[0]) + 0.5)
    interp = RegularGridInterpolator((lats[::-1], lons), a[::-1], method="linear", bounds_error=False)
    x, y = t.cell_centres()
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(x, y)
    ref = interp(np.c_[lat.ravel(), lon.ravel()]).reshape(t.shape)
    diff = np.abs(t.elevation - ref)
    ok = np.isfinite(diff)
    assert ok.mean() > 0.97
    # GDAL's warper and scipy agree closely (a one-cell shift would give ~100 m median here)
    assert np.median(diff[ok]) < 5.0
    assert np.percentile(diff[ok], 99) < 40.0
    shifted = np.abs(t.elevation[:, 1:] - ref[:, :-1])
    assert np.nanmedian(shifted) > 4 * np.median(diff[ok])


def test_cell_of_round_trip(terrain_8ugel):
    t, _ = terrain_8ugel
    x, y = t.cell_centres()
    r, c = t.cell_of(x, y)
    assert (r == np.indices(t.shape)[0]).all() and (c == np.indices(t.shape)[1]).all()
    # Cajamarca city (Plaza de Armas ~ -78.518, -7.157, ~2,750 m) falls in a 2,500-3,300 m cell
    px, py = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(-78.518, -7.157)
    r0, c0 = t.cell_of(np.array([px]), np.array([py]))
    assert 2500 < t.elevation[r0[0], c0[0]] < 3300


def test_resolution_and_grid_snapping(bounds_8ugel):
    t = load_dem(DEM, bounds_4326=bounds_8ugel, crs=CRS, resolution_m=500)
    assert t.cell_size == 500.0 and t.transform.e == -500.0
    assert t.transform.c % 500 == 0 and t.transform.f % 500 == 0
    assert t.shape[0] == pytest.approx(200 * 921.5 / 500, abs=2)
    assert t.shape[1] == pytest.approx(230 * 921.5 / 500, abs=2)


def test_national_dem():
    q = QualityReport()
    t = load_dem_national(DEM_PERU, "EPSG:32718", quality=q)
    with rasterio.open(DEM_PERU) as src:
        assert (src.height, src.width) == (2232, 1560)
    assert abs(t.shape[0] - 2232) < 40 and abs(t.shape[1] - 1560) < 40
    z = t.elevation[np.isfinite(t.elevation)]
    assert 5800 < z.max() < 6800  # Huascarán 6,768 m smoothed by 30" cells
    assert 0.3 < np.isfinite(t.elevation).mean() < 0.7  # Peru's outline inside its bounding box
    assert t.elevation.nbytes < 40e6


# ------------------------------------------------------------------ bad inputs (fixtures)
def _write_fixture_tif(path: Path, data: np.ndarray, *, crs: str | None = "EPSG:4326", nodata=-9999.0):
    """FIXTURE raster: a tiny lon/lat grid over Cajamarca city (values are made up)."""
    profile = {"driver": "GTiff", "height": data.shape[0], "width": data.shape[1], "count": 1,
               "dtype": "float32", "transform": Affine(0.01, 0, -78.6, 0, -0.01, -7.1), "nodata": nodata}
    if crs:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype("float32"), 1)
    return path


BOUNDS_FIXTURE = (-78.58, -7.28, -78.42, -7.12)


def test_all_nodata_is_a_data_error(tmp_path):
    path = _write_fixture_tif(tmp_path / "fixture_all_nodata.tif", np.full((20, 20), -9999.0))
    with pytest.raises(DataError) as err:
        load_dem(path, bounds_4326=BOUNDS_FIXTURE, crs=CRS)
    assert "fixture_all_nodata.tif" in str(err.value) and "nodata" in str(err.value)


def test_partial_nodata_becomes_nan(tmp_path):
    data = np.tile(np.linspace(2000, 3000, 20), (20, 1))
    data[:, :8] = -9999.0  # west part without data
    path = _write_fixture_tif(tmp_path / "fixture_half_nodata.tif", data)
    t = load_dem(path, bounds_4326=BOUNDS_FIXTURE, crs=CRS, resolution_m=300)
    assert np.isnan(t.elevation[:, 0]).all()
    z = t.elevation[np.isfinite(t.elevation)]
    assert z.min() >= 2000 and z.max() <= 3000  # no -9999 leaked into the bilinear mix
    assert np.all(np.diff(t.elevation[10][np.isfinite(t.elevation[10])]) >= -1e-6)  # west->east ramp kept


def test_no_crs_is_a_data_error(tmp_path):
    path = _write_fixture_tif(tmp_path / "fixture_no_crs.tif", np.full((20, 20), 2500.0), crs=None)
    with pytest.raises(DataError) as err:
        load_dem(path, bounds_4326=BOUNDS_FIXTURE, crs=CRS)
    assert "fixture_no_crs.tif" in str(err.value) and "coordinate reference system" in str(err.value)


def test_bounds_outside_and_bad_crs(tmp_path):
    with pytest.raises(DataError, match="does not cover"):
        load_dem(DEM, bounds_4326=(-70.0, -15.0, -69.0, -14.0), crs=CRS)
    with pytest.raises(DataError, match="not projected"):
        load_dem(DEM, bounds_4326=BOUNDS_FIXTURE, crs="EPSG:4326")
    with pytest.raises(DataError, match="not found"):
        load_dem(tmp_path / "missing.tif", bounds_4326=BOUNDS_FIXTURE, crs=CRS)
