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
