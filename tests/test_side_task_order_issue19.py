"""The order of the side tasks (issue #19): a free side process takes the tasks the main
process waits for before the background writes, a getter moves its queued task to the front,
and the main process runs a stealable task itself rather than wait idle.  Side processes
that are busy are held on a gate file, so the order does not depend on timing."""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from siting.report.side_tasks import (
    BACKGROUND,
    deferred_writes,
    run_aside,
    side_pool,
    write_later,
)

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="side processes need the fork start method")


def _hold(gate: str) -> int:
    """Keep a side process busy until ``gate`` exists."""
    while not os.path.exists(gate):
        time.sleep(0.01)
    return os.getpid()


def _log(path: str, name: str) -> int:
    """Append ``name`` to ``path`` (one write: lines of two processes do not mix)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        os.write(fd, (name + "\n").encode())
    finally:
        os.close(fd)
    return os.getpid()


def _fail(message: str) -> None:
    raise ValueError(message)


def _lines(path: Path) -> list[str]:
    return path.read_text().split()


@contextmanager
def _gates(folder: Path) -> Iterator[Callable[[str], str]]:
    """``gate(name)`` -> the path of a gate file; every gate opens when the block ends (also
    after a failed assertion, so the pool that encloses the block can close)."""
    made: list[Path] = []

    def gate(name: str) -> str:
        made.append(folder / name)
        return str(made[-1])
    try:
        yield gate
    finally:
        for g in made:
            g.touch()


def _log_then_hold(path: str, name: str, gate: str) -> int:
    """Log ``name`` when the task starts, then keep the side process busy until ``gate`` exists."""
    _log(path, name)
    return _hold(gate)


def _wait_for_lines(path: Path, n: int, timeout: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(_lines(path)) >= n:
            return _lines(path)
        time.sleep(0.01)
    raise AssertionError(f"fewer than {n} tasks started in {timeout} s: {_lines(path) if path.exists() else []}")


def test_needed_tasks_go_before_background_writes(tmp_path):
    """Submitted background, needed, background, needed while both side processes are busy:
    once they are free the two needed tasks start first (a FIFO executor would start ``b1``
    first) and hold both side processes, so no background write has started until they end.
    (The tasks started at once by two processes log in either order: only which tasks start
    first is asserted.)"""
    log = tmp_path / "log"
    with side_pool(2) as pool, _gates(tmp_path) as gates:
        gate, needed_gate = gates("gate"), gates("needed")
        for _ in range(2):
            pool.submit(_hold, gate)
        pool.submit(_log_then_hold, str(log), "b1", needed_gate, priority=BACKGROUND)
        pool.submit(_log_then_hold, str(log), "n1", needed_gate)
        pool.submit(_log_then_hold, str(log), "b2", needed_gate, priority=BACKGROUND)
        pool.submit(_log_then_hold, str(log), "n2", needed_gate)
        Path(gate).touch()
        first = _wait_for_lines(log, 2)
        time.sleep(0.2)  # a third task started now would be a background write overtaking
        assert set(first) == {"n1", "n2"} and len(_lines(log)) == 2
    assert set(_lines(log)[2:]) == {"b1", "b2"}


def test_a_waited_for_task_moves_to_the_front(tmp_path):
    """Two needed tasks queued behind busy side processes; the main process asks for the
    second: it runs before the first as soon as one side process is free."""
    log = str(tmp_path / "log")
    with side_pool(2) as pool, _gates(tmp_path) as gates:
        gate1, gate2 = gates("g1"), gates("g2")
        pool.submit(_hold, gate1)
        pool.submit(_hold, gate2)
        pool.submit(_log, log, "a1")
        get_a2 = pool.submit(_log, log, "a2")
        threading.Timer(0.3, Path(gate1).touch).start()
        assert get_a2() != os.getpid()  # run by the side process gate1 freed, not here
        assert _lines(Path(log))[0] == "a2"
    assert sorted(_lines(Path(log))) == ["a1", "a2"]


def test_the_main_process_runs_a_stealable_task_instead_of_waiting(tmp_path):
    """With both side processes busy, the getter of a stealable task runs it here, at once; a
    task not marked stealable still runs in a side process; a stolen task's error is raised by
    its getter and the pool goes on."""
    checked = False  # the error is raised again as the pool closes: the asserts must have passed
    with pytest.raises(ValueError, match="stolen and failed"), side_pool(2) as pool, _gates(tmp_path) as gates:
        gate = gates("gate")
        holds = [pool.submit(_hold, gate) for _ in range(2)]
        stolen = pool.submit(_log, str(tmp_path / "log"), "s", steal=True)
        failing = pool.submit(_fail, "stolen and failed", steal=True)
        aside = pool.submit(_log, str(tmp_path / "log"), "t")
        safety = threading.Timer(5.0, Path(gate).touch)  # without stealing: fail, not hang
        safety.start()
        assert stolen() == os.getpid()
        with pytest.raises(ValueError, match="stolen and failed"):
            failing()
        Path(gate).touch()
        assert aside() != os.getpid()
        assert os.getpid() not in {h() for h in holds}
        safety.cancel()
        checked = True
    assert checked


def test_waiting_on_a_busy_task_runs_queued_stealable_ones(tmp_path):
    """While the main process waits for a task a side process runs (``wait`` at the end of a
    ``deferred_writes`` block), it runs the queued ``run_aside`` tasks itself; the background
    write still runs aside."""
    gate, log = str(tmp_path / "gate"), str(tmp_path / "log")
    with deferred_writes(2):
        write_later(_hold, gate)
        write_later(_hold, gate)
        gets = [run_aside(_log, log, f"r{k}") for k in range(3)]
        write_later(_log, log, "w")
        threading.Timer(1.0, Path(gate).touch).start()
    assert [g() for g in gets] == [os.getpid()] * 3
    assert sorted(_lines(Path(log))) == ["r0", "r1", "r2", "w"]



_BROKEN_POOL = """
import os, signal, sys
from concurrent.futures.process import BrokenProcessPool
from siting.report.side_tasks import BACKGROUND, side_pool


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def hold():
    while True:
        signal.pause()


raised = 0
try:
    with side_pool(2) as pool:
        gets = [pool.submit(die), pool.submit(hold)]
        gets += [pool.submit(abs, -k, priority=BACKGROUND) for k in range(4)]  # still in the queue
        for get in gets:
            try:
                get()
            except BrokenProcessPool:
                raised += 1
except BrokenProcessPool:
    pass
print("raised", raised)
"""


def test_a_killed_side_process_fails_the_queued_tasks_instead_of_hanging(tmp_path):
    """A side process killed mid-task (out of memory, say) breaks the pool: the getters of its
    task, of the task the other process was running and of the tasks still in the pool's own
    queue raise ``BrokenProcessPool``; none waits forever (run in a subprocess with a timeout,
    so a hang fails the test)."""
    import subprocess
    import sys
    script = tmp_path / "broken_pool.py"
    script.write_text(_BROKEN_POOL)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["raised", "6"]
