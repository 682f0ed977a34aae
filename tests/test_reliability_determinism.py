"""Reproducibility on the REAL shipped data: the access stage run twice with the same
scenario, into two run folders and with two empty graph caches (so the graph is built
twice), gives byte-identical tables, identical travel-time graphs, and manifests that
agree on everything but times.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

import siting
from siting import pipeline

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "cajamarca.toml"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    folders = []
    for name in ("a", "b"):
        base = tmp_path_factory.mktemp(f"run_{name}")
        sc = siting.load_scenario(SCENARIO, run__output_dir=str(base / "out"), run__cache_dir=str(base / "cache"))
        pipeline.access(sc, progress=False)
        folders.append(base)
    return folders


def test_every_csv_is_byte_identical(two_runs):
    a, b = (f / "out" for f in two_runs)
    csv_a = sorted(p.name for p in a.glob("*.csv"))
    assert csv_a == sorted(p.name for p in b.glob("*.csv"))
    assert {"places.csv", "access_by_district.csv", "access_by_ugel.csv", "quality_report.csv"} <= set(csv_a)
    differ = [n for n in csv_a if (a / n).read_bytes() != (b / n).read_bytes()]
    assert not differ, f"tables differ between two identical runs: {differ}"


def test_scenario_copy_identical_but_for_the_run_folder(two_runs):
    a, b = (f / "out" / "scenario.toml" for f in two_runs)
    strip = lambda p: [l for l in p.read_text(encoding="utf-8").splitlines()  # noqa: E731
                       if not l.startswith(("output_dir", "cache_dir"))]
    assert strip(a) == strip(b)


def test_travel_time_raster_has_identical_pixels(two_runs):
    grids = []
    for f in two_runs:
        with rasterio.open(f / "out" / "travel_time_minutes.tif") as src:
            grids.append((src.read(1), src.transform, src.crs))
    np.testing.assert_array_equal(grids[0][0], grids[1][0])
    assert grids[0][1] == grids[1][1] and grids[0][2] == grids[1][2]


def test_graph_built_twice_is_identical(two_runs):
    caches = [sorted((f / "cache").glob("travel_graph_*.npz")) for f in two_runs]
    assert [p.name for p in caches[0]] == [p.name for p in caches[1]] and caches[0]  # same cache keys
    for pa, pb in zip(*caches):
        with np.load(pa) as za, np.load(pb) as zb:
            assert sorted(za.files) == sorted(zb.files)
            for k in za.files:
                np.testing.assert_array_equal(za[k], zb[k], err_msg=f"{pa.name}:{k}")


def test_manifests_agree_except_times(two_runs):
    ma, mb = (json.loads((f / "out" / "manifest.json").read_text(encoding="utf-8")) for f in two_runs)
    assert ma["seed"] == mb["seed"] == siting.load_scenario(SCENARIO).run.seed
    assert ma["inputs"] == mb["inputs"] and ma["inputs"]  # same input hashes
    assert ma["versions"] == mb["versions"]
    assert "finished_utc" in ma and "finished_utc" in mb
    measured = {"seconds", "cpu_seconds", "peak_rss_mb", "rss_growth_mb"}  # times and memory of this process
    for stage in ("data", "graph", "access"):
        ia = {k: v for k, v in ma["stages"][stage].items() if k not in measured}
        ib = {k: v for k, v in mb["stages"][stage].items() if k not in measured}
        assert ia == ib, stage
        assert "memory_estimate_mb" in ia  # the estimate depends on the inputs only (#19)
        assert ma["stages"][stage]["seconds"] >= 0
    csv_hashes = lambda m: {k: v for k, v in m["outputs"].items() if k.endswith(".csv")}  # noqa: E731
    assert csv_hashes(ma) == csv_hashes(mb) and csv_hashes(ma)


def test_xlsx_and_gpkg_are_byte_identical(two_runs):
    """openpyxl stamps the save time in docProps/core.xml and GDAL the write time in
    gpkg_contents.last_change; siting.report.exports fixes both, so whole files match."""
    import hashlib

    a, b = (f / "out" for f in two_runs)
    for name in ("acceso.xlsx", "acceso.gpkg"):
        ha, hb = (hashlib.sha256((d / name).read_bytes()).hexdigest() for d in (a, b))
        assert ha == hb, name
