"""Hostile inputs: every file of the corpus tests/fixtures/bad/ (TEST FIXTURES derived from
real rows, see its README.md) goes through its real loader and must end either in a
:class:`~siting.errors.UserError` whose message names the file and says what is wrong, or
in a load with the expected quality-report entry — never in a traceback from deep inside
pandas/GDAL.  Also: bad scenario values, an empty study area, CRS problems, and the CLI
contract (exit status 2, one message, no traceback; ``--debug`` shows it).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import siting
from siting import cli
from siting.data import boundaries, facilities, population, roads, terrain
from siting.data.quality import QualityReport
from siting.errors import DataError, ScenarioError, UserError
from siting.io import read_table

ROOT = Path(__file__).resolve().parents[1]
BAD = Path(__file__).parent / "fixtures" / "bad"
SCENARIO = ROOT / "scenarios" / "cajamarca.toml"
CAJAMARCA_BOUNDS = (-79.5, -8.0, -77.5, -6.0)  # lon/lat box around the 8 UGELs
CRS = "EPSG:32717"


@pytest.fixture(scope="module")
def sc():
    return siting.load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def districts(sc):
    return boundaries.load_districts(sc, QualityReport())


def with_ccpp(sc, path: Path):
    return dataclasses.replace(sc, inputs=dataclasses.replace(sc.inputs, ccpp=str(path)))


# --------------------------------------------------------------------------- loaders per file kind


def load_ccpp(path, q, sc, districts):
    return population.load_places(with_ccpp(sc, path), districts, q)


def load_road_lines(path, q, sc, districts):
    return roads.load_mtc_lines(path, q, crs=CRS)


def load_route_nodes(path, q, sc, districts):
    return roads.read_route_nodes([path], q, crs=CRS)


def load_dem(path, q, sc, districts):
    return terrain.load_dem(path, bounds_4326=CAJAMARCA_BOUNDS, crs=CRS, quality=q)


def load_tambos(path, q, sc, districts):
    return facilities.load_tambos(path, q)


def load_premises(path, q, sc, districts):
    return facilities.load_school_premises(path, q)


# (fixture file, loader, expected exception type, message fragment)
ERRORS = [
    ("fixture_bad_ccpp_empty.csv", load_ccpp, DataError, "the file is empty"),
    ("fixture_bad_ccpp_header_only.csv", load_ccpp, DataError, "header but no rows"),
    ("fixture_bad_ccpp_colon_separator.csv", load_ccpp, DataError, "missing column(s): ccpp_id"),
    ("fixture_bad_ccpp_missing_population_column.csv", load_ccpp, DataError,
     "missing column(s): population_census"),
    ("fixture_bad_ccpp_utm_coordinates.csv", load_ccpp, DataError, "no centro poblado has usable coordinates"),
    ("fixture_bad_ccpp_binary_garbage.csv", load_ccpp, DataError, "not a text table"),
    ("fixture_bad_ccpp_binary_garbage.csv", load_tambos, DataError, "not a text table"),
    ("does_not_exist.csv", load_ccpp, DataError, "file not found"),
    ("fixture_bad_tambos_no_longitude.csv", load_tambos, DataError, "missing coordinate columns"),
    ("fixture_bad_roads_no_prj.shp", load_road_lines, DataError, "no coordinate reference system"),
    ("fixture_bad_roads_points_only.geojson", load_road_lines, DataError, "no line geometries"),
    ("fixture_bad_roads_truncated.gpkg", load_road_lines, DataError, "cannot read the layer"),
    ("fixture_bad_roads_truncated.gpkg", load_route_nodes, DataError, "cannot read the layer"),
    ("fixture_bad_roads_truncated.gpkg", load_premises, DataError, "cannot read the file"),
    ("fixture_bad_dem_no_crs.tif", load_dem, DataError, "no coordinate reference system"),
    ("fixture_bad_dem_all_nodata.tif", load_dem, DataError, "all cells are nodata"),
    ("fixture_bad_ccpp_empty.csv", load_dem, DataError, "cannot read the raster"),
]


@pytest.mark.parametrize("name, loader, exc, fragment", ERRORS,
                         ids=[f"{e[0]}->{e[1].__name__}" for e in ERRORS])
def test_bad_file_gives_a_clear_error(name, loader, exc, fragment, sc, districts):
    path = BAD / name
    with pytest.raises(exc) as err:
        loader(path, QualityReport(), sc, districts)
    message = str(err.value)
    assert fragment in message
    assert name in message  # the message names the file
    assert isinstance(err.value, UserError) and err.value.exit_code == 2


# (fixture file, loader, expected (row_id, problem, action) entries, rows kept)
QUALITY = [
    ("fixture_bad_ccpp_duplicate_codes.csv", load_ccpp,
     [("0601010151", "duplicate ccpp_id", "dropped")], 5),
    ("fixture_bad_ccpp_swapped_latlon.csv", load_ccpp,
     [("0601010058", "latitude and longitude swapped", "fixed"),
      ("0601080079", "latitude and longitude swapped", "fixed")], 5),
    ("fixture_bad_ccpp_bad_coordinates.csv", load_ccpp,
     [("0601010058", "missing coordinates", "dropped"), ("0601010151", "outside Peru", "dropped"),
      ("0601080079", "outside the department", "kept")], 3),
    ("fixture_bad_ccpp_nan_inf.csv", load_ccpp,
     [("0603010076", "missing coordinates", "dropped"), ("0601080079", "outside Peru", "dropped"),
      ("0601010001", "population not a finite number", "estimated")], 3),
    ("fixture_bad_ccpp_latin1_semicolon_thousands.csv", load_ccpp, [], 5),
    ("fixture_bad_ccpp_codes_without_leading_zeros.csv", load_ccpp, [], 5),
    ("fixture_bad_roads_mixed_geometries.geojson", load_road_lines, [("2", "not a line geometry", "dropped")], 2),
]


@pytest.mark.parametrize("name, loader, entries, kept", QUALITY, ids=[q[0] for q in QUALITY])
def test_bad_file_is_loaded_with_quality_entries(name, loader, entries, kept, sc, districts):
    q = QualityReport()
    out = loader(BAD / name, q, sc, districts)
    if "road_id" in out.columns:  # a MultiLineString becomes several rows "mtc:<file>:<feature>.<part>"
        assert out["road_id"].str.rsplit(".", n=1).str[0].nunique() == kept
    else:
        assert len(out) == kept
    table = q.table()
    found = set(zip(table["row_id"].astype(str), table["problem"], table["action"]))
    for entry in entries:
        assert entry in found, f"{entry} not in the quality report of {name}: {sorted(found)}"


def test_nan_inf_population_never_reaches_the_analysis(sc, districts):
    q = QualityReport()
    places = load_ccpp(BAD / "fixture_bad_ccpp_nan_inf.csv", q, sc, districts)
    assert np.isfinite(places["population"]).all()  # was NaN after projection before the fix
    row = places.set_index("ccpp_id").loc["0601010001"]
    assert bool(row["population_estimated"]) and np.isnan(row["population_census"])


def test_latin1_accents_and_thousands_read_right(sc, districts):
    places = load_ccpp(BAD / "fixture_bad_ccpp_latin1_semicolon_thousands.csv", QualityReport(), sc, districts)
    by_id = places.set_index("ccpp_id")
    assert by_id.loc["0601010001", "population_census"] == 182971.0  # "182,971"
    raw = pd.read_csv(BAD / "fixture_bad_ccpp_latin1_semicolon_thousands.csv", sep=";", dtype=str, encoding="latin-1")
    assert "LOS BAÑOS DEL INCA" in set(raw["DISTRITO"])  # the fixture really holds a Latin-1 Ñ
    auto = read_table(BAD / "fixture_bad_ccpp_latin1_semicolon_thousands.csv")  # encoding and separator sniffed
    assert list(auto["DISTRITO"]) == list(raw["DISTRITO"])


def test_utm_rows_are_explained_in_the_quality_report(sc, districts):
    q = QualityReport()
    with pytest.raises(DataError):
        load_ccpp(BAD / "fixture_bad_ccpp_utm_coordinates.csv", q, sc, districts)
    details = q.table()["detail"].astype(str)
    assert len(details) == 5 and details.str.contains("metres, not degrees").all()


def test_every_fixture_is_small_and_listed_in_the_readme():
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    for f in BAD.glob("fixture_*"):
        assert f.stat().st_size < 50_000, f
        assert f.stem in readme, f"{f.name} is not described in tests/fixtures/bad/README.md"


def test_read_table_names_binary_files(tmp_path):
    p = tmp_path / "fixture_binary.csv"
    p.write_bytes(b"SQLite format 3\x00" + bytes(range(256)))
    with pytest.raises(DataError, match="not a text table"):
        read_table(p)


# --------------------------------------------------------------------------- scenario, study area, CRS

SCENARIO_ERRORS = [
    ({"speeds__grid_neighbours": 7}, "speeds.grid_neighbours"),
    ({"allocation__n_sites": -1}, "allocation.n_sites"),
    ({"speeds__walk_kmh_max": "fast"}, "speeds.walk_kmh_max"),
    ({"access__thresholds_min": []}, "access.thresholds_min"),
]


@pytest.mark.parametrize("overrides, key", SCENARIO_ERRORS, ids=[s[1] for s in SCENARIO_ERRORS])
def test_bad_scenario_value_names_the_key(overrides, key):
    with pytest.raises(ScenarioError, match=key.replace(".", r"\.")):
        siting.load_scenario(SCENARIO, **overrides)


def test_empty_study_area_lists_valid_ugels(sc, districts):
    area = dataclasses.replace(sc.study_area, ugels=["UGEL NO EXISTE"])
    with pytest.raises(ScenarioError, match="study_area.ugels") as err:
        boundaries.select_study_area(districts, area)
    assert "UGEL CAJABAMBA" in str(err.value)  # the hint lists the valid values


@pytest.mark.parametrize("crs, fragment", [("EPSG:4326", "not a projected CRS in metres \\(degrees\\)"),
                                           ("EPSG:999999", "not a coordinate reference system")])
def test_bad_study_area_crs_is_refused_before_any_work(crs, fragment):
    with pytest.raises(ScenarioError, match=fragment) as err:  # refused when the scenario is read
        siting.load_scenario(SCENARIO, study_area__crs=crs)
    assert "study_area.crs" in str(err.value) and "EPSG:32717" in str(err.value)


# --------------------------------------------------------------------------- CLI contract


def test_cli_bad_input_exit_2_one_message_no_traceback(tmp_path, capsys):
    bad = tmp_path / "scenario.toml"
    text = SCENARIO.read_text(encoding="utf-8").replace(
        '"../data/raw/ccpp/inei_cpv2017_ccpp_poblacion_cajamarca.csv"', f'"{BAD / "fixture_bad_ccpp_empty.csv"}"')
    text = text.replace('"../', f'"{ROOT}/')
    bad.write_text(text, encoding="utf-8")
    code = cli.main(["data", "check", "--scenario", str(bad), "--output", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert "fixture_bad_ccpp_empty.csv: the file is empty" in err
    with pytest.raises(DataError):  # --debug shows the traceback (the exception propagates)
        cli.main(["--debug", "data", "check", "--scenario", str(bad), "--output", str(tmp_path / "out2"),
                  "--no-progress"])


def test_cli_internal_error_keeps_its_traceback(monkeypatch):
    from siting import pipeline

    def broken(*args, **kwargs):
        raise ZeroDivisionError("internal bug")

    monkeypatch.setattr(pipeline, "data_check", broken)
    with pytest.raises(ZeroDivisionError):  # not turned into a user message / exit 2
        cli.main(["data", "check", "--scenario", str(SCENARIO), "--no-progress"])
