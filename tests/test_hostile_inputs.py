"""Issue #20: hostile inputs end in one clear message or in the right values, never in a silent
wrong result, a traceback or an unbounded allocation.

Fixtures: tests/fixtures/bad/ (TEST FIXTURES derived from real rows, see its README.md);
oversized files (sparse, zeros) and the fine DEM are generated in ``tmp_path`` at test time.
Expected values are the real rows the fixtures were derived from (read from ``data/raw``
with plain pandas, an independent reader).
"""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin

import siting
from siting import limits
from siting.data import facilities, population, terrain
from siting.data.quality import QualityReport
from siting.errors import DataError, ScenarioError
from siting.io import read_point_layer, read_table, read_vector
from siting.network import raster as netraster
from siting.scenario import Limits
from siting.suitability import model as sumodel

ROOT = Path(__file__).resolve().parents[1]
BAD = Path(__file__).parent / "fixtures" / "bad"
SCENARIO = ROOT / "scenarios" / "cajamarca.toml"
REAL_CCPP = ROOT / "data" / "raw" / "ccpp" / "inei_cpv2017_ccpp_poblacion_cajamarca.csv"
REAL_BASE = ROOT / "data" / "raw" / "education" / "dre_cajamarca_base2025_iiee_8ugel.gpkg"
REAL_POP = ROOT / "data" / "raw" / "population" / "minam_poblacion_distrital_urbana_rural_2019_2023.csv"
IDS = ["0601010001", "0601010058", "0601010151", "0601080079", "0603010076"]


@pytest.fixture(scope="module")
def sc():
    return siting.load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def districts(sc):
    from siting.data import boundaries
    return boundaries.load_districts(sc, QualityReport())


@pytest.fixture(scope="module")
def real_rows():
    df = pd.read_csv(REAL_CCPP, dtype={"CCPP_ID": str})
    return df[df["CCPP_ID"].isin(IDS)].set_index("CCPP_ID")


def places_from(sc, districts, path, q=None, **inputs):
    s = dataclasses.replace(sc, inputs=dataclasses.replace(sc.inputs, ccpp=str(path), **inputs))
    return population.load_places(s, districts, q if q is not None else QualityReport())


# --------------------------------------------------------------------------- es-PE numbers


def test_espe_numbers_in_every_ccpp_column_read_as_the_real_values(sc, districts, real_rows):
    q = QualityReport()
    out = places_from(sc, districts, BAD / "fixture_bad_ccpp_espe_numbers.csv", q).set_index("ccpp_id")
    assert len(out) == 5
    real = real_rows.loc[out.index]
    np.testing.assert_array_equal(out.geometry.x.to_numpy(), real["lon"].to_numpy())  # -78,5473115610915: exact
    np.testing.assert_array_equal(out.geometry.y.to_numpy(), real["lat"].to_numpy())
    np.testing.assert_array_equal(out["population_census"].to_numpy(), real["POB_CENSADA_2017"].to_numpy())
    np.testing.assert_array_equal(out["altitude_m"].to_numpy(), real["ALTITUD"].to_numpy())  # "3.281" = 3281 m
    assert out.loc["0601010001", "population_census"] == 182971  # "182.971" is not 182.971 people
    notes = " ".join(q.notes)
    assert "column POB_CENSADA_2017" in notes and "'182.971'" in notes and "whole counts" in notes
    assert "column ALTITUD" in notes


def test_three_decimal_comma_coordinates_are_degrees_not_thousands(sc, districts, real_rows):
    q = QualityReport()
    out = places_from(sc, districts, BAD / "fixture_bad_ccpp_decimal_comma_3dp.csv", q).set_index("ccpp_id")
    assert len(out) == 5  # none "outside Peru" (-7127, -78547 before the fix)
    real = real_rows.loc[out.index]
    np.testing.assert_allclose(out.geometry.y, real["lat"].round(3), atol=1e-12)
    np.testing.assert_allclose(out.geometry.x, real["lon"].round(3), atol=1e-12)
    assert not (q.table()["problem"] == "outside Peru").any()
    assert any("coordinates in degrees" in n and "column lat" in n for n in q.notes)
    assert any("coordenadas en grados" in n for n in q.notes_in("es"))


def test_tambo_with_decimal_comma_keeps_its_points():
    q = QualityReport()
    out = facilities.load_tambos(BAD / "fixture_bad_tambos_decimal_comma.csv", q).set_index("tambo_code")
    assert len(out) == 2
    assert out.loc["FAKE-001"].geometry.y == pytest.approx(-7.116) and out.loc["FAKE-001"].geometry.x == -78.53
    assert out.loc["FAKE-002"].geometry.y == pytest.approx(-7.133)  # swapped in the fixture, swapped back
    assert (q.table()["problem"] == "latitude and longitude swapped").sum() == 1


def test_school_base_csv_with_espe_numbers(sc, districts):
    import geopandas as gpd
    s = dataclasses.replace(sc, inputs=dataclasses.replace(
        sc.inputs, school_base=str(BAD / "fixture_bad_school_base_espe_numbers.csv")))
    out = facilities.load_cetpro(s, QualityReport(), districts=districts).set_index("cod_mod")
    real = gpd.read_file(REAL_BASE).set_index("COD_MOD").loc[out.index]
    np.testing.assert_allclose(out.geometry.y, real.geometry.y, atol=1e-6)  # -7,150120 written with 6 decimals
    np.testing.assert_allclose(out.geometry.x, real.geometry.x, atol=1e-6)
    np.testing.assert_array_equal(out["enrolment"], real["TOTAL_ALUMNOS"].astype(float))  # "782,00"
    np.testing.assert_array_equal(out["teachers"], real["TDOCENTE"].astype(float))
    assert out["name"].str.contains("CAJAMARCA").any()


def test_district_population_with_thousands_points():
    got = population.read_district_population(BAD / "fixture_bad_district_population_espe.csv", 2023)
    real = pd.read_csv(REAL_POP, dtype={"UBIGEO": str})
    real = real[(real["PERIODO"] == 2023) & real["UBIGEO"].str.startswith("06")].set_index("UBIGEO")
    assert len(got) == 127
    for a, b in (("total", "POB_TOTAL"), ("urban", "POB_URBANA"), ("rural", "POB_RURAL")):
        np.testing.assert_array_equal(got[a].to_numpy(), real.loc[got.index, b].to_numpy(float))
    assert got.loc["060101", "total"] > 200_000  # "248.596" people, not 248.6


def test_mixed_number_formats_in_one_column_are_refused(sc, districts):
    with pytest.raises(DataError, match="mixes number formats") as err:
        places_from(sc, districts, BAD / "fixture_bad_ccpp_mixed_number_formats.csv")
    message = str(err.value)
    assert "fixture_bad_ccpp_mixed_number_formats.csv" in message and "'182.971' cannot be read" in message


def test_negative_population_is_refused_at_load_naming_file_and_rows(sc, districts):
    with pytest.raises(DataError) as err:
        places_from(sc, districts, BAD / "fixture_bad_ccpp_negative_population.csv")
    message = str(err.value)
    assert "fixture_bad_ccpp_negative_population.csv" in message
    assert "negative population" in message and "line 6 (0601010058)" in message and "'-1558'" in message


def test_null_and_na_are_kept_as_text_and_blank_cells_are_missing(tmp_path):
    p = tmp_path / "fixture_na_text.csv"  # FIXTURE: hand-written
    p.write_text("CODIGO,NOMBRE,POB\n001,NA,5\n002,NULL,\n003,   ,7\n004,N/A,-\n", encoding="utf-8")
    df = read_table(p)
    assert df["NOMBRE"].tolist()[:2] == ["NA", "NULL"] and df["NOMBRE"].iloc[3] == "N/A"
    assert pd.isna(df["NOMBRE"].iloc[2])  # only spaces: missing
    assert df["CODIGO"].tolist() == ["001", "002", "003", "004"]
    assert pd.isna(df["POB"].iloc[1]) and df["POB"].iloc[3] == "-"


# --------------------------------------------------------------------------- duplicate headers, layers


@pytest.mark.parametrize("name", ["fixture_bad_ccpp_duplicate_header.csv", "fixture_bad_ccpp_duplicate_header.xlsx"])
def test_duplicate_header_is_an_error_naming_the_column(name, sc, districts):
    with pytest.raises(DataError, match="duplicate column") as err:
        places_from(sc, districts, BAD / name)
    message = str(err.value)
    assert name in message and "POB_CENSADA_2017" in message.upper() and "column 8" in message


def test_geopackage_with_two_layers_needs_the_layer_key(sc, districts, tmp_path):
    path = BAD / "fixture_bad_school_base_two_layers.gpkg"
    s = dataclasses.replace(sc, inputs=dataclasses.replace(sc.inputs, school_base=str(path)))
    with limits.using(s), pytest.raises(DataError) as err:
        facilities.load_cetpro(s, QualityReport(), districts=districts)
    message = str(err.value)
    assert path.name in message and "2 layers (cetpro, otros_niveles)" in message
    assert '[inputs.layers] school_base = "cetpro"' in message
    # the scenario key chooses the layer: the run works
    toml = SCENARIO.read_text(encoding="utf-8").replace('"../', f'"{ROOT}/')
    toml = toml.replace('school_base = "' + str(ROOT) + '/data/raw/education/dre_cajamarca_base2025_iiee_8ugel.gpkg"',
                        f'school_base = "{path}"')
    toml = toml.replace("[population]", '[inputs.layers]\nschool_base = "cetpro"\n\n[population]')
    (tmp_path / "s.toml").write_text(toml, encoding="utf-8")
    s2 = siting.load_scenario(tmp_path / "s.toml")
    assert s2.inputs.layers == {"school_base": "cetpro"}
    out = facilities.load_cetpro(s2, QualityReport(), districts=districts)
    assert len(out) == 3
    assert len(read_point_layer(path, layer="otros_niveles")) == 3
    with pytest.raises(DataError, match="has no layer 'nope'; its layers are: cetpro, otros_niveles"):
        read_vector(path, layer="nope")


def test_unknown_layer_key_is_a_scenario_error():
    with pytest.raises(ScenarioError, match="inputs.layers.schoolbase"):
        siting.load_scenario(SCENARIO, inputs__layers={"schoolbase": "x"})


# --------------------------------------------------------------------------- NUL padding, sizes, memory


def test_nul_padding_is_refused(sc, districts):
    with pytest.raises(DataError, match=r"NUL bytes \(zeros\) from byte 595 ") as err:
        places_from(sc, districts, BAD / "fixture_bad_ccpp_nul_padded.csv")
    assert "fixture_bad_ccpp_nul_padded.csv" in str(err.value)


def _padded_csv(path: Path, total: int) -> int:
    """Real CCPP text followed by NUL bytes up to ``total`` (sparse: no disk used for the zeros)."""
    text = REAL_CCPP.read_bytes()
    with open(path, "wb") as fh:
        fh.write(text)
        fh.truncate(total)
    return len(text)


def test_nul_padding_after_the_first_64_kb_is_found_by_the_streaming_scan(tmp_path):
    p = tmp_path / "fixture_padded.csv"
    start = _padded_csv(p, 5 * 2**20)
    assert start > 65536
    with pytest.raises(DataError, match=f"from byte {start:,} of {5 * 2**20:,}"):
        read_table(p)


def test_table_size_limit_and_its_scenario_key(tmp_path):
    p = tmp_path / "fixture_big.csv"
    _padded_csv(p, 300 * 2**20)  # 300 MB apparent size
    with pytest.raises(DataError, match=r"the file is 300.0 MB, more than the 256 MB limit for tables") as err:
        read_table(p)
    assert "[limits] table_mb = 301" in str(err.value)
    sc = siting.load_scenario(SCENARIO, limits__table_mb=1024.0)
    with limits.using(sc), pytest.raises(DataError, match="NUL bytes"):  # past the limit: the padding is found
        read_table(p)


def test_limits_keys_are_validated():
    with pytest.raises(ScenarioError, match="limits.table_mb"):
        siting.load_scenario(SCENARIO, limits__table_mb=0)


def test_load_study_data_uses_the_scenario_limits():
    sc = siting.load_scenario(SCENARIO, limits__table_mb=0.1)  # smaller than the CCPP file (0.6 MB)
    try:
        with pytest.raises(DataError, match=r"inei_cpv2017_ccpp_poblacion_cajamarca.csv: the file is 0.6 MB, "
                                            r"more than the 0.1 MB limit"):
            siting.data.load_data(sc, progress=False)
    finally:
        limits.activate(limits.ReadSettings())  # back to the defaults for the rest of this thread


PEAK_CODE = """
import sys
from siting.io import read_table
try:
    read_table(sys.argv[1])
except Exception as exc:
    print(type(exc).__name__, str(exc).splitlines()[0])
# peak resident memory of this process since exec (ru_maxrss would count the forked pytest parent)
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")][0]
print(int(hwm.split()[1]) // 1024)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("kind", ["sparse_2gb", "nul_600mb", "padded_600mb"])
def test_big_hostile_files_are_refused_with_bounded_memory(tmp_path, kind):
    p = tmp_path / f"fixture_{kind}.csv"
    if kind == "padded_600mb":
        _padded_csv(p, 600 * 2**20)
    else:
        with open(p, "wb") as fh:
            fh.truncate(2 * 2**30 if kind == "sparse_2gb" else 600 * 2**20)
    run = subprocess.run([sys.executable, "-c", PEAK_CODE, str(p)], capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""}, check=True)
    message, peak_mb = run.stdout.strip().splitlines()
    assert message.startswith("DataError") and p.name in message
    assert int(peak_mb) < 300, run.stdout  # was 2.1 GB, 0.7 GB and 5.5 GB before the sniff-first reader


def _sparse_dem(path: Path, res_deg: float) -> None:
    """A lon/lat DEM over Cajamarca with ``res_deg`` cells, tiled and sparse (one block written)."""
    w, s, e, n = -79.6, -8.0, -77.5, -6.2
    with rasterio.open(path, "w", driver="GTiff", width=int((e - w) / res_deg), height=int((n - s) / res_deg),
                       count=1, dtype="float32", crs="EPSG:4326", transform=from_origin(w, n, res_deg, res_deg),
                       nodata=-9999.0, tiled=True, blockxsize=512, blockysize=512, compress="deflate",
                       sparse_ok=True, BIGTIFF="YES") as dst:
        dst.write(np.full((512, 512), 2500.0, dtype="float32"), 1, window=rasterio.windows.Window(0, 0, 512, 512))


def test_a_dem_of_2m_cells_is_refused_up_front_with_its_estimate(tmp_path):
    p = tmp_path / "fixture_dem_2m.tif"
    _sparse_dem(p, 0.00002)  # ~2.2 m: numpy was asked for 59.5 GiB by the window read
    with pytest.raises(DataError, match=r"the elevation grid \([\d,]+ DEM pixels read") as err:
        terrain.load_dem(p, bounds_4326=(-79.5, -7.9, -77.6, -6.25), crs="EPSG:32717")
    message = str(err.value)
    assert p.name in message and "GiB of memory" in message and "gdalwarp -tr" in message
    nbytes, pixels, cells = terrain.dem_memory_estimate(
        rasterio.open(p), crs="EPSG:32717", dst_bounds=(664794.0, 9125385.0, 875681.0, 9308544.0))
    assert pixels > 7.9e9 and nbytes >= 9 * pixels


def test_dem_memory_check_passes_the_shipped_dem():
    dem = ROOT / "data" / "raw" / "dem" / "geodata_elevation30s_cajamarca.tif"
    with rasterio.open(dem) as src:
        nbytes, pixels, cells = terrain.dem_memory_estimate(
            src, crs="EPSG:32717", dst_bounds=(664794.0, 9125385.0, 875681.0, 9308544.0))
    assert 40_000 < pixels < 60_000 and 40_000 < cells < 60_000  # 200 x 229 grid of 922 m
    limits.check_memory(nbytes, what="x", available=2**30)


# --------------------------------------------------------------------------- unreadable files, per reader


UNREADABLE = [
    ("fixture_bad_ccpp_csv_renamed.xlsx", read_table, "not an Excel workbook (.xlsx): it is a text file"),
    ("fixture_bad_ccpp_unknown_format.xlsx", read_table, "it is a file of unknown format"),
    ("fixture_bad_ccpp_reference_truncated.parquet", read_table, "not a Parquet file"),
    ("fixture_bad_roads_truncated.gpkg", read_point_layer, "cannot read the file"),
    ("fixture_bad_ccpp_binary_garbage.csv", read_table, "an SQLite database"),
]


@pytest.mark.parametrize("name, reader, fragment", UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_unreadable_file_names_the_file_and_what_was_expected(name, reader, fragment):
    with pytest.raises(DataError) as err:
        reader(BAD / name)
    assert fragment in str(err.value) and name in str(err.value)


def test_unreadable_landcover_raster(tmp_path):
    dem = ROOT / "data" / "raw" / "dem" / "geodata_elevation30s_cajamarca.tif"
    t = terrain.load_dem(dem, bounds_4326=(-78.6, -7.2, -78.4, -7.0), crs="EPSG:32717")
    with pytest.raises(DataError, match="cannot read the .*raster") as err:
        netraster.read_multipliers(BAD / "fixture_bad_landcover_truncated.tif", t)
    assert "fixture_bad_landcover_truncated.tif" in str(err.value)
    with pytest.raises(DataError, match="file not found"):
        netraster.read_multipliers(tmp_path / "missing.tif", t)


def test_unreadable_dem(tmp_path):
    with pytest.raises(DataError, match="cannot read the raster") as err:
        terrain.load_dem(BAD / "fixture_bad_landcover_truncated.tif", bounds_4326=(-78.6, -7.2, -78.4, -7.0),
                         crs="EPSG:32717")
    assert "fixture_bad_landcover_truncated.tif" in str(err.value)


def test_folder_instead_of_a_file(tmp_path):
    with pytest.raises(DataError, match="this is a folder, not a file"):
        read_table(tmp_path)


# --------------------------------------------------------------------------- labels and models


def test_single_class_labels_are_a_clear_error():
    with pytest.raises(DataError, match=r"all 40 labelled sites have the same outcome \(good\)") as err:
        sumodel.fit_if_labelled(BAD / "fixture_bad_labels_single_class.csv", features=["poverty"],
                                categorical=["area"])
    assert "fixture_bad_labels_single_class.csv" in str(err.value)


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    labels = sumodel.load_labels(ROOT / "tests" / "fixtures" / "fixture_labels_synthetic_rule.csv")
    m = sumodel.LearnedSuitability(features=["poverty", "unserved_target"], categorical=["area"], model="logistic")
    m.fit(labels)
    folder = tmp_path_factory.mktemp("model")
    m.save(folder)
    return folder, labels, m


def test_saved_model_records_its_sha256_and_loads(saved_model):
    folder, labels, m = saved_model
    meta = json.loads((folder / sumodel.META_FILE).read_text(encoding="utf-8"))
    assert meta["model_sha256"] == siting.io.sha256(folder / sumodel.MODEL_FILE)
    again = sumodel.LearnedSuitability.load(folder)
    np.testing.assert_array_equal(again.predict(labels), m.predict(labels))


def test_a_replaced_model_file_is_refused(saved_model, tmp_path):
    import shutil
    folder, labels, _ = saved_model
    copy = tmp_path / "m"
    shutil.copytree(folder, copy)
    with open(copy / sumodel.MODEL_FILE, "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(DataError, match="does not match the SHA-256 recorded in its metadata"):
        sumodel.LearnedSuitability.load(copy)


def test_an_old_joblib_pickle_is_not_loaded(tmp_path):
    (tmp_path / "suitability_model.joblib").write_bytes(b"\x80\x04not really a pickle")
    (tmp_path / sumodel.META_FILE).write_text("{}", encoding="utf-8")
    with pytest.raises(DataError, match="joblib .pickle., which can run any code"):
        sumodel.LearnedSuitability.load(tmp_path)


def test_a_model_file_above_the_model_limit_is_refused(saved_model):
    folder, _, _ = saved_model
    with limits.using(limits.ReadSettings(limits=Limits(model_mb=0.0001))), \
            pytest.raises(DataError, match="limit for saved models"):
        sumodel.LearnedSuitability.load(folder)


LIMIT_CASES = [  # each [limits] key, set below a shipped file's size, refuses that file; the default reads it
    ("vector_mb", lambda: read_vector(ROOT / "data" / "raw" / "education" / "minedu_locales_educativos_cajamarca.gpkg"),
     "limit for vector files"),
    ("raster_mb", lambda: terrain.load_dem(ROOT / "data" / "raw" / "dem" / "geodata_elevation30s_cajamarca.tif",
                                           bounds_4326=(-78.6, -7.2, -78.4, -7.0), crs="EPSG:32717"),
     "limit for rasters"),
    ("table_mb", lambda: read_table(REAL_CCPP), "limit for tables"),
]


@pytest.mark.parametrize("key, read, fragment", LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
def test_each_limits_key_changes_what_is_read(key, read, fragment):
    read()  # default limits: the shipped file is read
    tiny = siting.load_scenario(SCENARIO, **{f"limits__{key}": 0.1})
    with limits.using(tiny), pytest.raises(DataError, match=fragment) as err:
        read()
    assert f"[limits] {key} = " in str(err.value)


def test_model_mb_from_the_scenario(saved_model):
    folder, _, _ = saved_model
    sumodel.LearnedSuitability.load(folder)
    with limits.using(siting.load_scenario(SCENARIO, limits__model_mb=0.001)), \
            pytest.raises(DataError, match=r"\[limits\] model_mb = 1"):
        sumodel.LearnedSuitability.load(folder)
