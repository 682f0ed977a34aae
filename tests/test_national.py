"""siting.national: national inputs, memory estimate, gap tables, and a small national run
(serial and Dask give the same files).

The small run uses REAL data cut to a 1° x 1° box on the Cajamarca / La Libertad border
(a crop of the whole-Peru DEM written to a temporary GeoTIFF, the real CCPP and district
capitals inside it, the real Cajamarca roads); the gap-table tests use a tiny hand-made
fixture table (marked FIXTURE).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import siting
from siting import national as nat
from siting.data.population import read_district_population

ROOT = Path(__file__).resolve().parents[1]
BOX = (-79.2, -8.0, -78.2, -7.0)  # lon/lat: department 06 (Cajamarca) and 13 (La Libertad)


def test_read_national_places_real_list():
    path = ROOT / "data/raw/population/minam_poblacion_distrital_urbana_rural_2019_2023.csv"
    places = nat.read_national_places(ROOT / "data/raw/ccpp/ubigeo_ccpp_peru.parquet", district_population=path,
                                      year=2023)
    assert len(places) == 94_922
    assert places["ccpp_id"].str.len().eq(10).all() and places["ubigeo"].str.len().eq(6).all()
    assert set(places["department_code"]) == {f"{i:02d}" for i in range(1, 26)}
    assert (places["area"].isin(["urbano", "rural"])).all()
    # the equal-share estimate adds up to each district's 2023 population (independent pandas sum)
    dp = read_district_population(path, 2023)["total"]
    sums = places.groupby("ubigeo")["population_estimate"].sum(min_count=1).dropna()
    np.testing.assert_allclose(sums.to_numpy(), dp.loc[sums.index].to_numpy(), rtol=1e-9)
    assert len(sums) > 1800


def test_national_bands_are_the_shared_access_bands():
    from siting.access import assign_band
    got = assign_band(np.array([0.0, 30.0, 30.5, 60.0, 119.9, 121.0, np.inf]), thresholds=[30.0, 60.0, 120.0])
    assert list(got.astype(str)) == ["<=30", "<=30", "30-60", "30-60", "60-120", ">120", "sin acceso"]


def fixture_place_times() -> pd.DataFrame:
    """FIXTURE (hand-made, not data): 5 places in two departments."""
    return pd.DataFrame({"department_code": ["01", "01", "01", "02", "02"],
                         "department": ["A", "A", "A", "B", "B"],
                         "minutes_to_capital": [10.0, 70.0, np.inf, 45.0, np.inf],
                         "population_estimate": [100.0, 50.0, 10.0, 40.0, np.nan],
                         "beyond_max_minutes": [False, False, True, False, False]})


def test_gaps_by_department_hand_computed():
    g = nat.gaps_by_department(fixture_place_times(), [30.0, 60.0], main_threshold=60.0, roads_department="02")
    a, b, pe = (g.set_index("department_code").loc[k] for k in ("01", "02", "PE"))
    assert (a.places, a.places_within_30_min, a.places_within_60_min, a.places_beyond_main) == (3, 1, 1, 2)
    assert a.population_estimate == 160 and a.population_estimate_beyond_main == 60
    assert a.share_population_beyond_main == pytest.approx(60 / 160, abs=1e-4)
    assert a.median_minutes == 40.0 and a.beyond_max_minutes == 1 and a.unreachable == 0
    assert (b.places_within_60_min, b.unreachable, b.median_minutes, bool(b.roads_used)) == (1, 1, 45.0, True)
    assert not bool(a.roads_used)
    assert (pe.places, pe.places_beyond_main, pe.population_estimate) == (5, 3, 200)


@pytest.fixture(scope="module")
def small_scenario(tmp_path_factory):
    """The national scenario pointed at real inputs cut to BOX."""
    from conftest import crop_national_inputs
    tmp = crop_national_inputs(tmp_path_factory.mktemp("national"), BOX)
    return siting.load_scenario(ROOT / "scenarios/peru_national.toml", inputs__ccpp=str(tmp / "ccpp_crop.parquet"),
                                inputs__dem=str(tmp / "dem_crop.tif"),
                                inputs__district_capitals=str(tmp / "capitals_crop.csv"),
                                run__output_dir=str(tmp / "run")), tmp


def test_scenario_file_loads():
    sc = siting.load_scenario(ROOT / "scenarios/peru_national.toml")
    assert sc.inputs.ccpp.endswith("ubigeo_ccpp_peru.parquet") and sc.inputs.dem.endswith("peru.tif")
    assert sc.study_area.department == "06" and "eqdc" in sc.study_area.crs


def test_small_national_run_serial_equals_dask(small_scenario):
    pytest.importorskip("distributed", reason='the Dask engine needs the extra: pip install "siting[dask]"')
    from siting.distributed import open_client
    sc, tmp = small_scenario
    serial = nat.run_national(sc, engine="serial", progress=False, max_minutes=240.0)  # run folder + manifest
    with open_client(n_workers=2, processes=False) as client:
        dask = nat.run_national(sc, engine="dask", progress=False, max_minutes=240.0, output_dir=tmp / "dask",
                                client=client)
    for name in ("places_national.csv", "gaps_by_department.csv"):
        assert (tmp / "run" / name).read_bytes() == (tmp / "dask" / name).read_bytes(), name
    manifest = json.loads((tmp / "run" / "manifest.json").read_text())
    assert manifest["command"] == "national" and manifest["stages"]["national"]["places"] == len(serial.places)
    assert set(manifest["outputs"]) >= {"places_national.csv", "gaps_by_department.csv", "quality_report.md"}
    p = serial.places
    assert set(p["department_code"]) >= {"06", "13"} and len(p) > 1000
    assert p.loc[p.department_code == "06", "roads_used"].all() and not p.loc[p.department_code == "13",
                                                                                "roads_used"].any()
    assert serial.figures["road_nodes"] > 0
    from siting.network import memory as G
    assert serial.memory >= G.BYTES_PER_EDGE * serial.figures["edges"]  # the engine's model bounds the real graph
    assert serial.figures["memory_estimate_mb"] == round(serial.memory / 2**20)
    bands = set(p["band"])  # the shared bands of the scenario, censored at max_minutes
    assert bands <= {"<=30", "30-60", "60-120", ">120", ">240", "sin acceso"} and "<=30" in bands
    finite = np.isfinite(p["minutes_to_capital"])
    assert (p.loc[finite, "minutes_to_capital"] <= 240.0).all()
    assert (p.loc[~finite, "beyond_max_minutes"] | p.loc[~finite, "outside_dem"]).all()
    assert set(dask.tasks["region"]) == set(p["department_code"])
