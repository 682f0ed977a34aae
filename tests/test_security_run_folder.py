"""Nothing of the user's is lost, the cache cannot change results, two runs hash the same:
run-folder safety, graph-cache keys and determinism on the REAL shipped data of one UGEL
(San Marcos), plus scenario files that used to end in a traceback."""
from __future__ import annotations

import errno
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import siting
from siting.cli import main
from siting.manifest import LOCK_NAME

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
UGEL = "UGEL SAN MARCOS"


def scenario_text(out: Path, cache: Path, *, raw: Path = RAW) -> str:
    text = (ROOT / "scenarios" / "cajamarca.toml").read_text(encoding="utf-8").replace("../data/raw/", f"{raw}/")
    text = re.sub(r"ugels = \[.*?\]\n", f'ugels = ["{UGEL}"]\n', text, flags=re.S)
    text = text.replace('output_dir = "../runs/cajamarca"', f'output_dir = "{out}"')
    text = text.replace('cache_dir = "../data/processed"', f'cache_dir = "{cache}"')
    return text.replace("n_sites = 10", "n_sites = 3")


def write_scenario(tmp: Path, name: str = "scenario.toml", **kw) -> Path:
    path = tmp / name
    path.write_text(scenario_text(kw.pop("out", tmp / "run"), kw.pop("cache", tmp / "cache"), **kw), encoding="utf-8")
    return path


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- outputs over inputs


def test_output_folder_holding_an_input_is_refused(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(RAW / "ccpp", data / "ccpp")
    scenario = data / "scenario.toml"
    text = scenario_text(data, tmp_path / "cache").replace(f'"{RAW}/ccpp/', f'"{data}/ccpp/')
    scenario.write_text("# my comments\n" + text, encoding="utf-8")
    before = tree(data)
    assert main(["data", "check", "--scenario", str(scenario), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "contains input(s) of this run" in err and "inputs.ccpp" in err and "scenario" in err
    assert "Traceback" not in err
    assert tree(data) == before  # places file and scenario (with its comments) untouched, nothing added


def test_output_path_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "report.txt"
    target.write_text("mine")
    scenario = write_scenario(tmp_path)
    assert main(["data", "check", "--scenario", str(scenario), "--output", str(target), "--no-progress"]) == 2
    assert "is an existing file" in capsys.readouterr().err and target.read_text() == "mine"


def test_a_user_file_named_like_a_partial_file_survives_a_run(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    users = {".places.part.csv": "a", ".places.csv.k2lqk8.part.csv": "b", ".acceso.gpkg.x.part.gpkg-journal": "c",
             "notes.txt": "d"}
    for name, text in users.items():
        (out / name).write_text(text)
    assert main(["data", "check", "--scenario", str(write_scenario(tmp_path)), "--no-progress"]) == 0
    for name, text in users.items():
        assert (out / name).read_text() == text, name
    assert (out / "quality_report.md").exists() and not (out / LOCK_NAME).exists()


def test_a_file_siting_did_not_write_is_never_overwritten(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "quality_report.md").write_text("my own notes")
    assert main(["data", "check", "--scenario", str(write_scenario(tmp_path)), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "did not write" in err and "quality_report.md" in err
    assert (out / "quality_report.md").read_text() == "my own notes"
    kept = list(out.glob("siting_outputs_*"))
    assert len(kept) == 1 and (kept[0] / "quality_report.md").exists()  # the run's outputs are not lost either


def test_a_rerun_replaces_its_own_outputs_and_removes_stale_ones(tmp_path):
    scenario = write_scenario(tmp_path)
    assert main(["access", "--scenario", str(scenario), "--no-progress"]) == 0
    out = tmp_path / "run"
    assert (out / "places.csv").exists()
    assert main(["data", "check", "--scenario", str(scenario), "--no-progress"]) == 0
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["command"] == "data check" and not (out / "places.csv").exists()  # one run in the folder, not two
    assert set(tree(out)) - {"manifest.json"} == set(m["outputs"])
    assert all(m["outputs"][k] == v for k, v in tree(out).items() if k != "manifest.json")


def test_two_runs_on_one_folder_cannot_corrupt_each_other(tmp_path):
    scenario = write_scenario(tmp_path)
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "siting.cli", "access", "--scenario", str(scenario),
                              "--no-progress"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while not (out / LOCK_NAME).exists():
        assert first.poll() is None and time.monotonic() - t0 < 60, "the first run never took the lock"
        time.sleep(0.01)
    second = subprocess.run([sys.executable, "-m", "siting.cli", "access", "--scenario", str(scenario),
                             "--no-progress"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    _, first_err = first.communicate(timeout=300)
    assert second.returncode == 2 and "another siting run is writing into this folder" in second.stderr
    assert f"process {first.pid}" in second.stderr and "Traceback" not in second.stderr
    assert first.returncode == 0, first_err
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = tree(out)
    assert {k: v for k, v in files.items() if k != "manifest.json"} == m["outputs"]  # complete and consistent
    assert not [n for n in files if Path(n).name.startswith(".")]


# --------------------------------------------------------------------------- OS errors


def test_disk_full_is_one_message_and_keeps_the_folder(tmp_path, capsys, monkeypatch):
    """ENOSPC raised by the first table write (what a full disk does to ``write``)."""
    from siting.report import exports

    scenario = write_scenario(tmp_path)
    assert main(["data", "check", "--scenario", str(scenario), "--no-progress"]) == 0
    before = tree(tmp_path / "run")

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "run" / "places.csv"))

    monkeypatch.setattr(exports, "write_csv", full)
    assert main(["access", "--scenario", str(scenario), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "disk is full" in err and "places.csv" in err and "Traceback" not in err
    assert tree(tmp_path / "run") == before  # the previous run intact, no staging folder, no lock


def test_no_write_permission_is_one_message(tmp_path, capsys, monkeypatch):
    """As root, permissions are not enforced: EACCES is raised where the OS raises it (creating the
    probe file in the output folder)."""
    from siting import manifest

    def denied(folder):
        raise PermissionError(errno.EACCES, "Permission denied", str(folder))

    monkeypatch.setattr(manifest.Path, "write_bytes", lambda self, data: denied(self))
    assert main(["data", "check", "--scenario", str(write_scenario(tmp_path)), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "no permission to write into the output folder" in err and "Traceback" not in err


# --------------------------------------------------------------------------- scenario files


@pytest.mark.parametrize("case, fragment", [
    ("folder", "is a folder, not a file"),
    ("latin1", "not UTF-8 text"),
    ("nested", "nests tables or arrays too deeply"),
    ("mc_zero", "suitability.sensitivity_runs' must be >= 1"),
    ("mc_negative", "suitability.sensitivity_runs' must be >= 1"),
    ("concentration", "suitability.dirichlet_concentration' must be > 0"),
    ("threshold_45", "access.thresholds_min"),
    ("main_threshold", "access.main_threshold_min"),
    ("empty_thresholds", "access.thresholds_min"),
    ("degrees", "not a projected CRS in metres (degrees)"),
    ("walk_0", "speeds.walk_kmh_max"),
    ("road_1000", "is not a road speed"),
    ("negative_minutes", "candidates.exclude_within_min' must be >= 0"),
])
def test_bad_scenario_files_are_one_message_exit_2(tmp_path, capsys, case, fragment):
    text = scenario_text(tmp_path / "run", tmp_path / "cache")
    path = tmp_path / "scenario.toml"
    edits = {
        "mc_zero": ("[allocation]", "[suitability]\nsensitivity_runs = 0\n\n[allocation]"),
        "mc_negative": ("[allocation]", "[suitability]\nsensitivity_runs = -5\n\n[allocation]"),
        "concentration": ("[allocation]", "[suitability]\ndirichlet_concentration = 0.0\n\n[allocation]"),
        "threshold_45": ("thresholds_min = [30.0, 60.0, 120.0]", "thresholds_min = [30.0, 45.0, 120.0]"),
        "main_threshold": ("thresholds_min = [30.0, 60.0, 120.0]",
                           "thresholds_min = [30.0, 60.0, 120.0]\nmain_threshold_min = 45.0"),
        "empty_thresholds": ("thresholds_min = [30.0, 60.0, 120.0]", "thresholds_min = []"),
        "degrees": ('crs = "EPSG:32717"', 'crs = "EPSG:4326"'),
        "walk_0": ("walk_kmh_max = 6.0", "walk_kmh_max = 0.0"),
        "road_1000": ("vecinal = 19.7", "vecinal = 1000.0"),
        "negative_minutes": ("exclude_within_min = 60.0", "exclude_within_min = -10.0"),
    }
    if case == "folder":
        path.mkdir()
    elif case == "latin1":
        path.write_bytes(text.replace('reason = "', 'reason = "Cajamarca, Celendín: ', 1).encode("latin-1"))
    elif case == "nested":
        path.write_text(text + "\nx = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    else:
        old, new = edits[case]
        assert old in text, case
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    assert main(["data", "check", "--scenario", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err and err.count("siting: error") == 1, err


def test_bom_scenario_file_loads_like_the_plain_one(tmp_path):
    text = scenario_text(tmp_path / "run", tmp_path / "cache")
    plain, bom = tmp_path / "plain.toml", tmp_path / "bom.toml"
    plain.write_text(text, encoding="utf-8")
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    a, b = siting.load_scenario(plain), siting.load_scenario(bom)
    assert a.to_dict() == b.to_dict()


def test_unusual_speeds_are_warned_with_the_figure_they_change(tmp_path):
    path = tmp_path / "scenario.toml"
    path.write_text(scenario_text(tmp_path / "run", tmp_path / "cache").replace("walk_kmh_max = 6.0",
                                                                                "walk_kmh_max = 8.0"), encoding="utf-8")
    from siting.scenario import ScenarioWarning
    with pytest.warns(ScenarioWarning, match="every walking time"):
        siting.load_scenario(path)


# --------------------------------------------------------------------------- graph cache


@pytest.fixture(scope="module")
def study(tmp_path_factory):

    tmp = tmp_path_factory.mktemp("cache_study")
    sc = siting.load_scenario(write_scenario(tmp))
    return sc, siting.load_data(sc, progress=False)


def _graph(sc, data, cache, **speeds):
    import dataclasses

    sc2 = dataclasses.replace(sc, speeds=dataclasses.replace(sc.speeds, **speeds),
                              run=dataclasses.replace(sc.run, cache_dir=str(cache) if cache else ""))
    return siting.build_graph(sc2, data)


def _beyond_60(sc, data, graph) -> float:
    from siting.network import solve
    res = solve.nearest(graph, graph.point_nodes["cetpro"], towards_sources=True)
    minutes = res.minutes[graph.point_nodes["places"]]
    return float(data.places["population"].to_numpy()[minutes > 60].sum())


def test_a_cache_from_other_inputs_is_rebuilt_and_equals_a_fresh_build(study, tmp_path, caplog):
    sc, data = study
    cache = tmp_path / "cache"
    slow = _graph(sc, data, cache, walk_kmh_max=3.0)  # another scenario's graph in the cache
    fresh = _graph(sc, data, None)
    assert slow.key != fresh.key
    # the cache file of the other inputs, renamed to this run's key (what a copy or a stale file does)
    shutil.copy(cache / f"travel_graph_{slow.key}.npz", cache / f"travel_graph_{fresh.key}.npz")
    with caplog.at_level("WARNING"):
        g = _graph(sc, data, cache)
    assert "built from other inputs" in caplog.text
    assert (g.matrix != fresh.matrix).nnz == 0 and np.array_equal(g.kind, fresh.kind)
    assert _beyond_60(sc, data, g) == _beyond_60(sc, data, fresh) != _beyond_60(sc, data, slow)
    # and the rebuilt cache is now the right one: loaded without a warning next time
    caplog.clear()
    with caplog.at_level("WARNING"):
        again = _graph(sc, data, cache)
    assert "graph cache" not in caplog.text and (again.matrix != fresh.matrix).nnz == 0


def test_a_corrupt_cache_is_rebuilt_never_used(study, tmp_path, caplog):
    sc, data = study
    cache = tmp_path / "cache"
    g = _graph(sc, data, cache)
    path = cache / f"travel_graph_{g.key}.npz"
    for damage in ("truncate", "flip"):
        raw = bytearray(path.read_bytes())
        if damage == "truncate":
            raw = raw[: len(raw) // 2]
        else:
            raw[len(raw) // 3] ^= 0xFF
        path.write_bytes(bytes(raw))
        caplog.clear()
        with caplog.at_level("WARNING"):
            again = _graph(sc, data, cache)
        assert "ignoring" in caplog.text, damage
        assert (again.matrix != g.matrix).nnz == 0, damage


def test_an_unwritable_cache_folder_falls_back_with_a_warning(study, tmp_path, caplog, monkeypatch):
    from siting.network import cache as C

    sc, data = study

    def read_only(graph, path):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(C, "_save", read_only)
    with caplog.at_level("WARNING"):
        g = _graph(sc, data, tmp_path / "cache")
    assert "could not be cached" in caplog.text and "Read-only" in caplog.text and g.n_nodes > 0


# --------------------------------------------------------------------------- determinism


def test_all_outputs_of_two_runs_hash_the_same(tmp_path):
    """The same ``siting run`` twice (same scenario file) into two folders, the graph cache
    emptied in between so that the graph is built twice."""
    scenario = write_scenario(tmp_path)
    trees, manifests = [], []
    for name in ("a", "b"):
        shutil.rmtree(tmp_path / "cache", ignore_errors=True)
        out = tmp_path / name
        assert main(["run", "--scenario", str(scenario), "--output", str(out), "--no-progress"]) == 0
        trees.append(tree(out))
        manifests.append(json.loads((out / "manifest.json").read_text(encoding="utf-8")))
    a, b = trees
    assert set(a) == set(b) and len(a) > 30
    differ = sorted(k for k in a if a[k] != b[k])
    assert differ == ["manifest.json"], differ
    times = {"started_utc", "finished_utc", "seconds", "solver_seconds",
             "cpu_seconds", "peak_rss_mb", "rss_growth_mb"}  # measured times and memory of the process (#19)

    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in times}
        return x

    assert strip(manifests[0]) == strip(manifests[1])


# --------------------------------------------------------------------------- memory estimate


@pytest.mark.parametrize("mode", ["roads+walk", "walk"])
def test_memory_estimate_bounds_the_measured_16_neighbour_build(study, mode):
    """The estimate checked before a build is an upper bound of the real peak (tracemalloc)
    of the 16-neighbour graph on the real DEM, roads and places of the UGEL."""
    import dataclasses
    import tracemalloc

    from siting.network import graph as G
    from siting.network.stage import facility_sets

    sc, data = study
    sc16 = dataclasses.replace(sc, speeds=dataclasses.replace(sc.speeds, grid_neighbours=16, mode=mode),
                               run=dataclasses.replace(sc.run, cache_dir=""))
    points = {"places": data.places, **facility_sets(data)}
    est = G.graph_memory_estimate(data.terrain, data.roads, sc16.speeds, points)
    tracemalloc.start()
    try:
        g = siting.build_graph(sc16, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    n_cells = data.terrain.shape[0] * data.terrain.shape[1]
    n_road = int((g.kind == G.ROAD).sum())
    assert g.n_edges <= n_cells * 16 + 6 * n_road + 10 * sum(len(v) for v in points.values())
    assert peak <= est, (peak, est)
    assert est <= 3 * peak
