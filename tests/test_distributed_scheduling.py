"""How the Dask engine schedules its tasks (issue #19, target 3): costliest first, tasks run
on the driver while a cluster starts, the road network cut once, what a window task is sent.

The Monte Carlo table below is INVENTED (random numbers, not places); the window test uses
the real Cajamarca DEM crop, road lines and centros poblados of ``test_distributed_partitions``.
Clusters are real in-process LocalClusters (``processes=False``).
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason='the Dask engine needs the extra: pip install "siting[dask]"')

from siting import distributed as dist  # noqa: E402

RAN: list[int] = []  # execution order of _record (in-process workers share this module)


def _record(i: int, pause: float = 0.0) -> int:
    RAN.append(i)
    time.sleep(pause)
    return i * i


def test_submission_order_is_costliest_first_and_stable():
    assert dist.submission_order([1.0, 5.0, 3.0, 5.0], 4) == [1, 3, 2, 0]
    assert dist.submission_order(None, 3) == [0, 1, 2]
    with pytest.raises(ValueError):
        dist.submission_order([1.0], 2)


def test_one_worker_runs_the_costliest_task_first():
    """One worker thread: the tasks run exactly in decreasing cost; results keep the input order."""
    cost = [2.0, 9.0, 1.0, 7.0, 5.0]
    RAN.clear()
    with dist.open_client(n_workers=1, threads_per_worker=1, processes=False) as client:
        out = dist._map(_record, [(i,) for i in range(5)], client, cost=cost)
    assert out == [0, 1, 4, 9, 16]
    assert RAN == [1, 3, 4, 0, 2]


def test_tasks_run_on_the_driver_until_the_cluster_is_up():
    """A client given as a future still pending: the cheapest tasks run here (in the calling
    thread) until it resolves; the rest go to the cluster; same results as serially."""
    items = [(i, 0.05) for i in range(12)]
    want = dist._map(_record, items, None)
    with dist.open_client(n_workers=2, processes=False) as client:
        pending: Future = Future()
        threading.Timer(0.3, pending.set_result, args=(client,)).start()
        stats: dict = {}
        RAN.clear()
        got = dist._map(_record, items, pending, cost=[float(i) for i in range(12)], stats=stats)
    assert got == want
    assert 1 <= stats["here"] < len(items)
    assert RAN[0] == 0  # the driver began with the cheapest task


def _table(n: int = 60) -> pd.DataFrame:
    """INVENTED criteria table (random numbers): only the arithmetic of the chunks is tested."""
    rng = np.random.default_rng(3)
    return pd.DataFrame({"unserved_target": rng.gamma(2, 100, n), "poverty": rng.uniform(0, 1, n),
                         "time_to_nearest_facility": rng.uniform(10, 300, n)})


def test_monte_carlo_with_a_starting_cluster_equals_serial():
    table, w = _table(), {"unserved_target": 0.5, "poverty": 0.3, "time_to_nearest_facility": 0.2}
    serial = dist.monte_carlo(table, w, None, n_runs=4000, n_chunks=8, seed=7)
    assert serial.attrs["chunks_here"] == 8
    with dist.client_in_background(n_workers=2, processes=False) as pending:
        got = dist.monte_carlo(table, w, pending, n_runs=4000, n_chunks=8, seed=7)
        assert pending.result().status == "running"
    pd.testing.assert_frame_equal(got, serial)
    assert 0 <= got.attrs["chunks_here"] <= 8


def test_client_in_background_hands_over_start_errors(tmp_path):
    with (dist.client_in_background(scheduler_file=tmp_path / "missing.json") as pending,
          pytest.raises(Exception, match="does not exist")):
        pending.result()


def test_start_method_honours_dask_config_and_defaults_to_forkserver():
    import multiprocessing

    import dask
    with dask.config.set({"distributed.worker.multiprocessing-method": "fork"}):
        assert dist._start_method(None) == "fork"
    assert dist._start_method("spawn") == "spawn"
    if "forkserver" in multiprocessing.get_all_start_methods():
        with dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}):
            assert dist._start_method(None) == "forkserver"


def test_window_tasks_get_geometry_and_altitude_only():
    import geopandas as gpd

    from siting.distributed_partitions import _task_points
    pts = {"p": gpd.GeoDataFrame({"name": ["x"], "altitude_m": [2700.0]}, geometry=gpd.points_from_xy([1.0], [2.0])),
           "q": gpd.GeoDataFrame({"name": ["y"]}, geometry=gpd.points_from_xy([3.0], [4.0]))}
    got = _task_points(pts)
    assert list(got["p"].columns) == ["altitude_m", "geometry"] and list(got["q"].columns) == ["geometry"]
    assert got["p"].geometry.equals(pts["p"].geometry)


def _worker_env() -> dict:
    import os
    return {k: os.environ.get(k) for k in ("MALLOC_TRIM_THRESHOLD_", "OPENBLAS_NUM_THREADS", "PYTHONHASHSEED")}


def test_local_worker_processes_keep_glibc_malloc_and_one_blas_thread(monkeypatch):
    """siting's LocalCluster (worker processes, forkserver where available): distributed's
    worker environment minus MALLOC_TRIM_THRESHOLD_ (unless the environment sets it)."""
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    with dist.open_client(n_workers=1, processes=True) as client:
        env = list(client.run(_worker_env).values())
    assert env == [{"MALLOC_TRIM_THRESHOLD_": None, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "6640"}]
