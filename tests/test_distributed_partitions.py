"""siting.distributed_partitions and the cluster resolution of siting.distributed.

Worker-built partitions against the whole graph, on REAL data: a 1° x 1° crop of the
whole-Peru DEM on the Cajamarca / La Libertad border written to a temporary GeoTIFF (the
"whole DEM" of these tests), the real CCPP and district capitals inside it and the real
Cajamarca road files, through ``scenarios/peru_national.toml``.  The reference is the
serial engine on the whole graph (``national.national_graph`` + ``solve.nearest`` /
``solve.coverage``, themselves checked against networkx in test_network_graph.py).
Scheduler resolution runs against real in-process LocalClusters.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed", reason='the Dask engine needs the extra: pip install "siting[dask]"')

import siting  # noqa: E402
from siting import distributed as dist  # noqa: E402
from siting import distributed_partitions as dp  # noqa: E402
from siting import national as nat  # noqa: E402
from siting.errors import UserError  # noqa: E402
from siting.network import coverage, nearest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BOX = (-79.2, -8.0, -78.2, -7.0)  # lon/lat: department 06 (Cajamarca) and 13 (La Libertad)


@pytest.fixture(scope="module")
def crop(tmp_path_factory):
    from conftest import crop_national_inputs
    tmp = crop_national_inputs(tmp_path_factory.mktemp("partitions"), BOX)
    return tmp


def _scenario(tmp: Path, mode: str):
    return siting.load_scenario(ROOT / "scenarios/peru_national.toml", inputs__ccpp=str(tmp / "ccpp_crop.parquet"),
                                inputs__dem=str(tmp / "dem_crop.tif"),
                                inputs__district_capitals=str(tmp / "capitals_crop.csv"),
                                run__output_dir=str(tmp / "run"), speeds__mode=mode)


@pytest.fixture(scope="module", params=["walk", "roads+walk"])
def whole(request, crop):
    """(scenario, its GraphSource, the whole graph built serially)."""
    sc = _scenario(crop, request.param)
    return sc, nat.national_source(sc), nat.national_graph(sc, progress=False)


@pytest.fixture(scope="module")
def client():
    with dist.open_client(n_workers=2, processes=False) as c:
        yield c


def test_window_cells_are_the_whole_grid_cells(whole):
    """Bit for bit (float64), not only to float32: the windows' travel times are then exactly the whole graph's."""
    from siting.data.terrain import load_dem_national
    sc, source, ng = whole
    grid = dp.grid_of(source)
    assert grid.shape == ng.graph.shape
    assert (grid.left, grid.top, grid.res) == (ng.graph.transform.c, ng.graph.transform.f, ng.graph.transform.a)
    elev = load_dem_national(sc.inputs.dem, source.crs).elevation
    assert np.isfinite(elev).mean() > 0.9
    for win in [(10, 7, 40, 33), (0, 0, 25, 19), (grid.width - 17, grid.height - 30, grid.width, grid.height),
                (55, 61, 56, 62)]:
        t = dp._window_terrain(source, grid, win)
        c0, r0, c1, r1 = win
        np.testing.assert_array_equal(t.elevation, elev[r0:r1, c0:c1])
        assert (t.transform.c, t.transform.f) == (grid.left + c0 * grid.res, grid.top - r0 * grid.res)


def test_nearest_by_windows_equals_whole_graph(whole, client):
    sc, source, ng = whole
    g, limit = ng.graph, 45.0
    pn, cn = g.point_nodes["places"], g.point_nodes["capitals"]
    regions = (g.x[pn] // 15_000).astype(int)  # vertical strips 15 km wide: many borders
    assert len(np.unique(regions)) >= 6
    want = dist.censor(nearest(g, cn), limit)
    minutes, which, outside, tasks = dp.nearest_by_windows(
        source, {"places": ng.places, "capitals": ng.capitals}, sources="capitals", targets="places",
        regions=regions, max_minutes=limit, client=client, progress=False)
    np.testing.assert_array_equal(minutes, want.minutes[pn])  # bit for bit, inf beyond the limit
    np.testing.assert_array_equal(which, want.source[pn])
    np.testing.assert_array_equal(outside, g.point_info["places"]["outside_dem"].to_numpy())
    ok = np.isfinite(minutes)
    assert ok.sum() > 100 and (~ok).sum() > 30  # both sides of the limit occur
    assert (tasks["cells"] <= g.n_cells).all() and (tasks["cells"] < g.n_cells).any()  # workers built windows
    if sc.speeds.mode == "walk":
        assert tasks["cells"].max() < 0.5 * g.n_cells
    else:  # a strip that reaches a road takes the roads' box + halo (here most of the crop)
        assert ng.roads_used and len(dp.road_nodes_xy(source)) == ng.figures["road_nodes"]


@pytest.mark.parametrize("use_client", [False, True])
def test_coverage_by_windows_equals_whole_graph(whole, client, use_client):
    sc, source, ng = whole
    g = ng.graph
    pn = g.point_nodes["places"]
    cand = np.sort(np.random.default_rng(5).choice(len(pn), size=150, replace=False))
    want = coverage(g, pn[cand], pn, 60.0, progress=False)
    got = dp.coverage_by_windows(source, {"places": ng.places, "capitals": ng.capitals}, name="places",
                                 origins=cand, limit=60.0, client=client if use_client else None, chunk_origins=40,
                                 progress=False)
    assert got.shape == want.shape and want.nnz > 1000
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)


def test_serial_refuses_a_whole_graph_that_does_not_fit(crop):
    sc = _scenario(crop, "roads+walk")
    with pytest.raises(UserError) as err:
        nat.national_graph(sc, progress=False, resolution_m=250.0, available_memory=50 * 2**20)
    text = str(err.value)
    grid = dp.grid_of(nat.national_source(sc, resolution_m=250.0))
    assert f"{grid.shape[0]:,} x {grid.shape[1]:,} cells" in text and "--engine dask" in text
    est = float(text.split("needs about ")[1].split(" GB")[0])
    cells = grid.shape[0] * grid.shape[1]  # 8 edges x 80 B + 100 B a cell; road nodes and points come on top
    assert cells * (8 * 80 + 100) / 2**30 <= est + 0.005 <= 2 * cells * (8 * 80 + 100) / 2**30


# --------------------------------------------------------------------------- cluster resolution


@pytest.fixture()
def no_env(monkeypatch):
    monkeypatch.delenv(dist.SCHEDULER_ENV, raising=False)
    import dask
    with dask.config.set({"scheduler-address": None}):
        yield monkeypatch


def test_resolution_order(no_env, tmp_path):
    import dask
    assert dist.resolve_scheduler() is None
    with dask.config.set({"scheduler-address": "tcp://config:1"}):
        assert dist.resolve_scheduler()[1:] == ("tcp://config:1", "dask config 'scheduler-address'")
        no_env.setenv(dist.SCHEDULER_ENV, "tcp://env:2")
        assert dist.resolve_scheduler()[1] == "tcp://env:2"
        f = tmp_path / "scheduler.json"
        f.write_text(json.dumps({"address": "tcp://file:3"}))
        assert dist.resolve_scheduler(scheduler_file=f)[0] == "file"
        assert dist.resolve_scheduler("tcp://explicit:4", scheduler_file=f)[1] == "tcp://explicit:4"


def test_scheduler_file_env_and_config_reach_a_real_cluster(no_env, tmp_path):
    import dask
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, Client(cluster) as c0:
        path = tmp_path / "scheduler.json"
        c0.write_scheduler_file(str(path))
        with dist.open_client(scheduler_file=path) as c:
            assert c.scheduler.address == cluster.scheduler_address and c.submit(sum, [1, 2]).result() == 3
        no_env.setenv(dist.SCHEDULER_ENV, cluster.scheduler_address)
        with dist.open_client() as c:
            assert c.scheduler.address == cluster.scheduler_address
        no_env.delenv(dist.SCHEDULER_ENV)
        with dask.config.set({"scheduler-address": cluster.scheduler_address}), dist.open_client() as c:
            assert c.scheduler.address == cluster.scheduler_address


def test_missing_or_bad_scheduler_file_is_a_user_error(no_env, tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        dist.resolve_scheduler(scheduler_file=tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    with pytest.raises(UserError, match="cannot read the Dask scheduler file"):
        dist.resolve_scheduler(scheduler_file=bad)
    bad.write_text(json.dumps({"id": "x"}))
    with pytest.raises(UserError, match="address"):
        dist.resolve_scheduler(scheduler_file=bad)


def test_cli_national_has_scheduler_file():
    from siting.cli import build_parser
    args = build_parser().parse_args(["national", "--scenario", "s.toml", "--engine", "dask",
                                      "--scheduler-file", "/shared/scheduler.json", "--memory-limit", "2GB"])
    assert args.scheduler_file == "/shared/scheduler.json" and args.memory_limit == "2GB"


def test_a_partition_larger_than_the_worker_limit_is_refused_before_building(whole, monkeypatch):
    sc, source, ng = whole
    grid = dp.grid_of(source)
    box = grid.bounds_of((0, 0, grid.width, grid.height))
    monkeypatch.setattr(dp, "_worker_memory_limit", lambda: 2**20)  # a worker of 1 MB
    monkeypatch.setattr(dp, "build_partition", lambda *a, **k: pytest.fail("built despite the limit"))
    with pytest.raises(UserError, match="worker's memory limit is 0.00 GB"):
        dp._nearest_window_task(source, [box], {"places": ng.places, "capitals": ng.capitals}, "capitals", "places",
                                np.arange(3), 30.0, True)


def test_run_national_through_a_scheduler_file_equals_serial(crop, no_env, tmp_path):
    """The national command's Dask path on a cluster named by --scheduler-file: same files as serial."""
    from distributed import Client, LocalCluster
    sc = _scenario(crop, "roads+walk")
    serial = nat.run_national(sc, engine="serial", progress=False, max_minutes=90.0, output_dir=tmp_path / "s")
    with LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster, Client(cluster) as c0:
        c0.write_scheduler_file(str(tmp_path / "scheduler.json"))
        dask = nat.run_national(sc, engine="dask", progress=False, max_minutes=90.0, output_dir=tmp_path / "d",
                                scheduler_file=str(tmp_path / "scheduler.json"))
        assert len(c0.scheduler_info()["workers"]) == 2
    for name in ("places_national.csv", "gaps_by_department.csv"):
        assert (tmp_path / "s" / name).read_bytes() == (tmp_path / "d" / name).read_bytes(), name
    assert np.isfinite(serial.places["minutes_to_capital"]).sum() > 1000 and len(dask.tasks) >= 2
