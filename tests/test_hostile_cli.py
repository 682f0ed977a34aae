"""Issue #20: every bad fixture of tests/fixtures/bad (TEST FIXTURES, see its README.md) through
every CLI command that reads it, on the shipped scenario with that one input replaced.

Contract: exit status 2, one ``siting: error:`` message that names the file and says what is
wrong, no ``Traceback`` without ``--debug``.  The commands run in-process (``cli.main``); a
few also run as real subprocesses, where stderr must hold nothing but the message (no
library warning, no traceback).

Every command reads the data inputs through the same data stage, so by default each data
fixture runs through ``data check`` and a routing test shows that every other command fails
the same way when that stage does; ``SITING_FULL_CLI_MATRIX=1`` runs the whole matrix
(every fixture x every command that reads it: 223 runs, ~3.5 min on 2 cores).
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

import siting
from siting import cli, limits
from siting.scenario import scenario_to_toml

ROOT = Path(__file__).resolve().parents[1]
BAD = Path(__file__).parent / "fixtures" / "bad"
SHIPPED = ROOT / "scenarios" / "cajamarca.toml"
NATIONAL = ROOT / "scenarios" / "peru_national.toml"

DATA_COMMANDS = ["data check", "access", "score", "propose", "report", "run", "demo"]
GRAPH_COMMANDS = ["access", "score", "propose", "report", "run"]  # read inputs.landcover_speeds
SCORE_COMMANDS = ["score", "propose", "run"]  # read district indicators, petitions and labels

# (input key, fixture, fragment of the message, commands that read the input)
CASES = [
    ("ccpp", "fixture_bad_ccpp_empty.csv", "the file is empty", DATA_COMMANDS),
    ("ccpp", "fixture_bad_ccpp_header_only.csv", "header but no rows", DATA_COMMANDS),
    ("ccpp", "fixture_bad_ccpp_colon_separator.csv", "missing column(s): ccpp_id", DATA_COMMANDS),
    ("ccpp", "fixture_bad_ccpp_missing_population_column.csv", "missing column(s): population_census",
     DATA_COMMANDS),
    ("ccpp", "fixture_bad_ccpp_utm_coordinates.csv", "no centro poblado has usable coordinates", DATA_COMMANDS),
    ("ccpp", "fixture_bad_ccpp_binary_garbage.csv", "not a text table", DATA_COMMANDS),
    ("ccpp", "fixture_bad_ccpp_mixed_number_formats.csv", "mixes number formats", DATA_COMMANDS),
    ("ccpp", "fixture_bad_ccpp_duplicate_header.csv", "duplicate column", DATA_COMMANDS),
    ("ccpp", "fixture_bad_ccpp_duplicate_header.xlsx", "duplicate column", DATA_COMMANDS),
    ("ccpp", "fixture_bad_ccpp_negative_population.csv", "negative population", DATA_COMMANDS),
    ("ccpp", "fixture_bad_ccpp_nul_padded.csv", "NUL bytes", DATA_COMMANDS),
    ("ccpp", "fixture_bad_ccpp_csv_renamed.xlsx", "not an Excel workbook", DATA_COMMANDS),
    ("ccpp", "fixture_bad_ccpp_unknown_format.xlsx", "unknown format", DATA_COMMANDS),
    ("ccpp_reference", "fixture_bad_ccpp_reference_truncated.parquet", "not a Parquet file", DATA_COMMANDS),
    ("districts", "fixture_bad_roads_truncated.gpkg", "cannot read the file", DATA_COMMANDS),
    ("district_population", "fixture_bad_ccpp_nul_padded.csv", "NUL bytes", DATA_COMMANDS),
    ("age_sex", "fixture_bad_ccpp_duplicate_header.csv", "duplicate column", DATA_COMMANDS),
    ("school_base", "fixture_bad_school_base_two_layers.gpkg", "2 layers (cetpro, otros_niveles)", DATA_COMMANDS),
    ("school_base", "fixture_bad_roads_truncated.gpkg", "cannot read the file", DATA_COMMANDS),
    ("tambos", "fixture_bad_tambos_no_longitude.csv", "missing coordinate columns", DATA_COMMANDS),
    ("tambos", "fixture_bad_ccpp_binary_garbage.csv", "not a text table", DATA_COMMANDS),
    ("school_premises", "fixture_bad_roads_truncated.gpkg", "cannot read the file", DATA_COMMANDS),
    ("roads", "fixture_bad_roads_points_only.geojson", "no line geometries", DATA_COMMANDS),
    ("roads", "fixture_bad_roads_no_prj.shp", "no coordinate reference system", DATA_COMMANDS),
    ("road_route_nodes", "fixture_bad_roads_truncated.gpkg", "cannot read the layer", DATA_COMMANDS),
    ("dem", "fixture_bad_dem_no_crs.tif", "no coordinate reference system", DATA_COMMANDS),
    ("dem", "fixture_bad_dem_all_nodata.tif", "all cells are nodata", DATA_COMMANDS),
    ("dem", "fixture_bad_landcover_truncated.tif", "cannot read the raster", DATA_COMMANDS),
    ("landcover_speeds", "fixture_bad_landcover_truncated.tif", "cannot read the land-cover speed raster",
     GRAPH_COMMANDS),
    ("landcover_speeds", "fixture_bad_dem_no_crs.tif", "the raster has no CRS", GRAPH_COMMANDS),
    ("district_indicators", "fixture_bad_ccpp_duplicate_header.xlsx", "duplicate column", SCORE_COMMANDS),
    ("petitions", "fixture_bad_ccpp_empty.csv", "the file is empty", SCORE_COMMANDS),
    ("labels", "fixture_bad_labels_single_class.csv", "same outcome (good)", SCORE_COMMANDS),
    ("labels", "fixture_bad_ccpp_nul_padded.csv", "NUL bytes", SCORE_COMMANDS),
]
NATIONAL_CASES = [
    ("ccpp", "fixture_bad_ccpp_reference_truncated.parquet", "not a Parquet file"),
    ("district_capitals", "fixture_bad_ccpp_nul_padded.csv", "NUL bytes"),
]
FULL = os.environ.get("SITING_FULL_CLI_MATRIX") == "1"
RUNS = [(key, name, fragment, command) for key, name, fragment, commands in CASES
        for command in (commands if FULL else commands[:1])]


@pytest.fixture(autouse=True)
def _default_limits():
    yield
    limits.activate(limits.ReadSettings())  # each run activates its scenario; do not leak into other tests


@pytest.fixture(scope="module")
def shipped():
    return siting.load_scenario(SHIPPED)


def scenario_with(base, tmp_path: Path, key: str, name: str) -> Path:
    """``base`` with ``inputs.<key>`` replaced by the fixture, written as TOML (absolute paths)."""
    value = str(BAD / name)
    old = getattr(base.inputs, key)
    sc = dataclasses.replace(base, inputs=dataclasses.replace(base.inputs, **{key: [value] if isinstance(old, list)
                                                                                 else value}))
    path = tmp_path / f"scenario_{key}.toml"
    path.write_text(scenario_to_toml(sc), encoding="utf-8")
    return path


def check_one_message(code: int, err: str, name: str, fragment: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    assert err.count("siting: error:") == 1, err
    message = err.split("siting: error:", 1)[1]
    assert name in message and fragment in message, err


@pytest.mark.slow
@pytest.mark.parametrize("key, name, fragment, command", RUNS, ids=[f"{r[0]}={r[1]}->{r[3]}" for r in RUNS])
def test_bad_fixture_through_every_command(key, name, fragment, command, shipped, tmp_path, capsys):
    scenario = scenario_with(shipped, tmp_path, key, name)
    code = cli.main(command.split() + ["--scenario", str(scenario), "--output", str(tmp_path / "out"),
                                       "--no-progress"])
    captured = capsys.readouterr()
    check_one_message(code, captured.err, name, fragment)
    assert "Traceback" not in captured.out


@pytest.mark.parametrize("command", DATA_COMMANDS)
def test_every_command_reads_its_inputs_through_the_data_stage(command, monkeypatch, tmp_path, capsys):
    """A data-stage failure ends every command the same way (so one command per data fixture suffices)."""
    from siting import pipeline
    from siting.errors import DataError

    def refuse(sc, **kwargs):
        raise DataError("sentinel refusal", source=str(BAD / "fixture_bad_ccpp_empty.csv"))

    monkeypatch.setattr(pipeline, "load_data", refuse)
    code = cli.main(command.split() + ["--scenario", str(SHIPPED), "--output", str(tmp_path / "o"), "--no-progress"])
    check_one_message(code, capsys.readouterr().err, "fixture_bad_ccpp_empty.csv", "sentinel refusal")


@pytest.mark.slow
@pytest.mark.parametrize("key, name, fragment", NATIONAL_CASES, ids=[c[0] for c in NATIONAL_CASES])
def test_bad_fixture_through_the_national_command(key, name, fragment, tmp_path, capsys):
    scenario = scenario_with(siting.load_scenario(NATIONAL), tmp_path, key, name)
    code = cli.main(["national", "--scenario", str(scenario), "--output", str(tmp_path / "out"), "--no-progress"])
    check_one_message(code, capsys.readouterr().err, name, fragment)


SUBPROCESS = [("ccpp", "fixture_bad_ccpp_duplicate_header.xlsx", "duplicate column", "data check"),
              ("school_base", "fixture_bad_school_base_two_layers.gpkg", "2 layers", "access"),
              ("dem", "fixture_bad_landcover_truncated.tif", "cannot read the raster", "run")]


@pytest.mark.parametrize("key, name, fragment, command", SUBPROCESS, ids=[s[0] for s in SUBPROCESS])
def test_real_command_prints_only_the_message(key, name, fragment, command, shipped, tmp_path):
    scenario = scenario_with(shipped, tmp_path, key, name)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    args = [sys.executable, "-m", "siting.cli"] + command.split() + ["--scenario", str(scenario), "--output",
                                                                      str(tmp_path / "out"), "--no-progress"]
    run = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    check_one_message(run.returncode, run.stderr, name, fragment)
    extra = [ln for ln in run.stderr.splitlines() if ln and not ln.startswith(("siting: error:", "  -> "))]
    assert not extra, run.stderr  # no library warning, nothing else
    if key != "ccpp":
        return
    debug = subprocess.run(args[:3] + ["--debug"] + args[3:], capture_output=True, text=True, env=env, timeout=600)
    assert debug.returncode != 0 and "Traceback" in debug.stderr  # --debug shows it
