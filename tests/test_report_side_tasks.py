"""The report stage's side processes (issue #19): results and errors come back as in the main
process, and the files of a real report (UGEL San Marcos, real data) are byte-identical
whether side processes draw the maps and write the workbooks or the main process does."""
from __future__ import annotations

import dataclasses
import hashlib

import pytest

from siting.report.side_tasks import (
    deferred_writes,
    report_workers,
    run_aside,
    side_pool,
    wait_for_writes,
    write_later,
)


def _square_sum(a: int, *, b: int) -> int:
    return a * a + b


def _fail(message: str) -> None:
    raise ValueError(message)


@pytest.mark.parametrize("workers", [0, 2])
def test_results_and_errors(workers):
    with side_pool(workers) as pool:
        gets = [pool.submit(_square_sum, i, b=1) for i in range(5)]
        assert [g() for g in gets] == [1, 2, 5, 10, 17]
    with pytest.raises(ValueError, match="boom"), side_pool(workers) as pool:
        pool.submit(_fail, "boom")  # never asked for: raised when the pool closes


def _write_pid(path: str) -> None:
    import os
    with open(path, "w") as fh:
        fh.write(str(os.getpid()))


@pytest.mark.parametrize("workers", [0, 2])
def test_deferred_writes_run_aside_and_are_done_at_the_end(workers, tmp_path):
    """Inside ``deferred_writes`` a write runs in a side process and is on disk when the block
    ends; a failing write raises there; outside any block it runs at once, in this process."""
    import os
    with deferred_writes(workers):
        for i in range(3):
            write_later(_write_pid, str(tmp_path / f"w{i}.txt"))
    pids = {int((tmp_path / f"w{i}.txt").read_text()) for i in range(3)}
    assert (os.getpid() not in pids) if workers == 2 else (pids == {os.getpid()})
    with pytest.raises(ValueError, match="disk full"), deferred_writes(workers):
        write_later(_fail, "disk full")
    write_later(_write_pid, str(tmp_path / "now.txt"))
    assert int((tmp_path / "now.txt").read_text()) == os.getpid()


def _write_slowly(path: str) -> None:
    import time
    time.sleep(0.5)
    _write_pid(path)


@pytest.mark.parametrize("workers", [0, 2])
def test_wait_for_writes_inside_the_block(workers, tmp_path):
    """``wait_for_writes`` returns once every write so far is on disk (the QGIS project reads
    the GeoPackages written aside), and raises a failed write there, inside the block."""
    with pytest.raises(ValueError, match="no space"), deferred_writes(workers):  # ... and again at the end
        write_later(_write_slowly, str(tmp_path / "slow.txt"))
        wait_for_writes()
        assert (tmp_path / "slow.txt").exists()
        write_later(_fail, "no space")
        with pytest.raises(ValueError, match="no space"):
            wait_for_writes()
    wait_for_writes()  # outside any block: nothing to wait for


def _pid_and(x: int) -> tuple[int, int]:
    import os
    return os.getpid(), x * 2


@pytest.mark.parametrize("workers", [0, 2])
def test_run_aside_returns_the_result_from_a_side_process(workers):
    """``run_aside`` inside ``deferred_writes``: the result comes back from a side process (the
    propose stage's Pareto front); outside any block it is computed here, when asked for."""
    import os
    with deferred_writes(workers):
        get = run_aside(_pid_and, 21)
        pid, value = get()
    assert value == 42 and ((pid != os.getpid()) if workers == 2 else (pid == os.getpid()))
    assert run_aside(_pid_and, 4)() == (os.getpid(), 8)
    with pytest.raises(ValueError, match="no front"), deferred_writes(workers):
        run_aside(_fail, "no front")()


def test_workers_from_environment(monkeypatch):
    import threading
    # the threads this process runs are those listed here (threads left by earlier tests in the
    # same session, e.g. a Dask client's, would otherwise count)
    alive = [threading.current_thread()]
    monkeypatch.setattr(threading, "enumerate", lambda: list(alive))
    monkeypatch.setenv("SITING_REPORT_WORKERS", "1")
    assert report_workers() == 0
    monkeypatch.setenv("SITING_REPORT_WORKERS", "2")
    assert report_workers() == 2
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    alive.append(other)
    try:  # another thread runs (the web app): no fork, the main process does the work
        assert report_workers() == 0
    finally:
        stop.set()
        other.join()
        alive.remove(other)
    assert report_workers() == 2


def _hashes(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_same_files_with_and_without_side_processes(san_marcos, san_marcos_plan, tmp_path, monkeypatch):
    from siting.report import make_report

    s = san_marcos
    sc = dataclasses.replace(s.sc, run=dataclasses.replace(s.sc.run, maps="all"))
    got = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("SITING_REPORT_WORKERS", workers)
        res = make_report(sc, s.data, s.gaps, san_marcos_plan.plan, folder=tmp_path / workers, raster=None,
                          progress=False)
        got[workers] = (_hashes(tmp_path / workers), [p.relative_to(tmp_path / workers).as_posix()
                                                      for p in res.files.values()])
    assert got["1"][0] == got["2"][0]
    assert got["1"][1] == got["2"][1]  # the same files, listed in the same order
    assert any(k.endswith(".xlsx") for k in got["1"][0]) and any(k.endswith(".pdf") for k in got["1"][0])


def test_report_started_early_gives_the_same_files(san_marcos, san_marcos_plan, tmp_path, monkeypatch):
    """``siting run``'s path: the maps and charts started by ``start_report`` on the side
    processes of a ``deferred_writes`` block (as soon as the plan is known), then the rest of
    ``make_report``: the same files, in the same order, as ``make_report`` alone in one process."""
    from siting.report import make_report
    from siting.report.side_tasks import borrowed_pool
    from siting.report.stage import start_report

    s = san_marcos
    sc = dataclasses.replace(s.sc, run=dataclasses.replace(s.sc.run, maps="all"))
    plan = san_marcos_plan.plan
    monkeypatch.setenv("SITING_REPORT_WORKERS", "1")
    alone = make_report(sc, s.data, s.gaps, plan, folder=tmp_path / "alone", raster=None, progress=False)
    assert borrowed_pool() is None  # outside deferred_writes: nothing to borrow
    with deferred_writes(2) as outer:  # 2 given: the suite's other tests may leave threads running
        pool = borrowed_pool()
        assert pool is not None and pool.workers == outer.workers == 2
        started = start_report(sc, s.data, s.gaps, plan, folder=tmp_path / "early", raster=None, pool=pool)
        early = make_report(sc, s.data, s.gaps, plan, folder=tmp_path / "early", raster=None, progress=False,
                            started=started)
    assert _hashes(tmp_path / "early") == _hashes(tmp_path / "alone")
    assert [p.relative_to(tmp_path / "early") for p in early.files.values()] == \
        [p.relative_to(tmp_path / "alone") for p in alone.files.values()]


def test_propose_with_the_near_optimal_listing_aside(san_marcos, san_marcos_plan):
    """``propose_sites(run_aside=)`` lists the near-optimal sets in a side process (and the
    front in two more tasks): the same proposals, selection frequencies, near-optimal sets and
    front as the plan computed in one process (the ``san_marcos_plan`` fixture)."""
    import pandas.testing as pdt

    from siting import propose_sites

    s, ref = san_marcos, san_marcos_plan.plan
    with deferred_writes(2):
        got = propose_sites(s.sc, s.data, s.gaps, san_marcos_plan.scores, graph=None, run_aside=run_aside)
    pdt.assert_frame_equal(got.proposals, ref.proposals)  # selection_frequency included
    assert ref.near.n_sets >= 1  # the listing ran (mclp, exact, optimal)
    pdt.assert_frame_equal(got.near.table, ref.near.table)
    assert (got.near.shared, got.near.n_sets, got.near.capped) == (ref.near.shared, ref.near.n_sets, ref.near.capped)
    pdt.assert_frame_equal(got.tradeoff.table, ref.tradeoff.table)


def _active_layers() -> dict:
    from siting import limits
    return dict(limits.active().layers)


def _preloaded() -> list[bool]:
    import sys

    from siting.report.side_tasks import PRELOAD
    return [name in sys.modules for name in PRELOAD]


@pytest.mark.parametrize("workers", [0, 2])
def test_a_task_runs_under_the_limits_of_its_submitter(workers):
    """``siting run`` forks its side processes before the data stage activates the scenario's
    limits and layers: each task must carry the submitter's settings, not the ones in force
    when the side process was forked (the defaults)."""
    from siting import limits

    chosen = limits.ReadSettings(layers={"/datos/ccpp.xlsx": "Hoja CCPP"})
    with deferred_writes(workers) as pool:  # forked here, under the defaults
        with limits.using(chosen):
            got = pool.submit(_active_layers)()
        assert pool.submit(_active_layers)() == {}  # and the defaults again outside the block
    assert got == {"/datos/ccpp.xlsx": "Hoja CCPP"}


def test_side_processes_start_with_the_block_and_import_the_side_modules():
    """The side processes are forked when ``deferred_writes`` opens (before any task), and each
    has imported :data:`PRELOAD` before its first task (its initializer)."""
    with deferred_writes(2) as pool:
        assert pool._pool is not None and len(pool._pool._processes) == 2  # before any real task
        assert all(pool.submit(_preloaded)())


@pytest.mark.slow
def test_the_main_process_of_a_run_never_imports_matplotlib(san_marcos, tmp_path):
    """``siting run`` on San Marcos (side processes on): matplotlib (charts, static maps) is
    imported only by the side processes; the run's PNGs are all there."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    code = f"""
import json, sys
import siting
from siting.pipeline import run
sc = siting.load_scenario({str(Path(__file__).resolve().parents[1] / "scenarios" / "cajamarca.toml")!r},
                          study_area__ugels={list(san_marcos.sc.study_area.ugels)!r}, allocation__n_sites=3,
                          suitability__sensitivity_runs=20, run__output_dir={str(tmp_path / "run")!r},
                          run__cache_dir={str(san_marcos.tmp / "cache")!r})
run(sc, progress=False)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib")))
"""
    env = {"SITING_REPORT_WORKERS": "2", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    pngs = {p.name for p in (tmp_path / "run").rglob("*.png")}
    assert {"coverage_curve.png", "pareto_front.png"} <= pngs and any(n.startswith("travel_time") for n in pngs)
