"""Report work run in side processes while the main process writes the rest (issue #19).

The static maps and the charts of the HTML reports (matplotlib) and the UGEL workbooks
(XlsxWriter) need no result of the other outputs of the report stage and are pure CPU work,
so :class:`SidePool` runs them in a
:class:`concurrent.futures.ProcessPoolExecutor` (``fork`` start) while the main process
draws the interactive map and the HTML reports.  The side processes are forked when the pool
opens (:meth:`SidePool.start`: for ``siting run``, before the data stage) and each imports
the modules of the side tasks (:data:`PRELOAD`, about 1 CPU-s, mostly matplotlib) one after
the other, on the core the one-core data stage leaves idle; the main process never imports
matplotlib.  Each task carries the submitter's :mod:`siting.limits` settings (a side process
forked before the data stage set them would not have them).  Each task writes its own files
and returns their paths; the files are the same bytes as when written one after another
(each output depends only on its arguments).

Workers: ``SITING_REPORT_WORKERS`` (``1`` runs every task in the main process, in order),
else ``min(2, os.cpu_count())``; without the ``fork`` start method (Windows, macOS
default), with one CPU or when other threads run in the process (the web app: a forked child
could inherit a lock held by another thread; tqdm's monitor thread does not count), the tasks
run in the main process.  With ``w`` workers and tasks of ``c_i`` CPU seconds, the stage's
wall time is about
``max(main, max_i c_i, sum_i c_i / w)``.

``siting run`` / ``demo`` open one pool for the whole chain (:func:`deferred_writes`): the
stages' workbooks (:func:`write_later`) and the propose stage's Pareto front
(:func:`run_aside`) run in it while the next stage computes, and the report stage borrows it
(:func:`side_pool`) instead of forking a second one.

Order (issue #19): the pool keeps its own queue and hands the executor at most one task per
side process, so a task is chosen when a process becomes free, not when it was submitted:
first the tasks the main process is waiting for, then those it will wait for (``run_aside``,
the report's maps and charts), then the background writes (:func:`write_later`), each group
in submission order.  A getter called while its task is still queued moves it to the front,
or, for a task submitted with ``steal=True`` (``run_aside``: the allocation and network
functions the main process has imported anyway), runs it in the main process at once instead
of leaving that core idle; :meth:`SidePool.wait` does the same for every stealable task still
queued.  A task gives the same result wherever it runs (it depends only on its arguments and
its :mod:`siting.limits` settings).
"""
from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .. import limits


def report_workers() -> int:
    """Side processes the report stage may use (see the module docstring); 0 = none."""
    raw = os.environ.get("SITING_REPORT_WORKERS", "").strip()
    n = int(raw) if raw.isdigit() else min(2, os.cpu_count() or 1)
    if n <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    others = [th for th in threading.enumerate()
              if th is not threading.current_thread() and type(th).__name__ != "TMonitor"]
    if others:  # forking a threaded process (the web app) may copy a lock another thread holds
        return 0
    return n


#: modules the side tasks use (charts, maps, workbooks), imported by each side process as it
#: starts (:func:`_preload`), while the main process loads the data; the PDF backend (with
#: fontTools, about 0.2 CPU-s) was imported by the first map of each process, in the report stage
PRELOAD = ("matplotlib.pyplot", "matplotlib.backends.backend_agg", "matplotlib.backends.backend_pdf",
           "xlsxwriter", "babel.numbers", "babel.dates", "pyogrio", "siting.report.static_maps",
           "siting.report.html_report", "siting.report.objective_section", "siting.report.analyst")


def _preload(turn: Any = None) -> None:
    """Import :data:`PRELOAD` (the initializer of each side process); with ``turn`` (a lock
    shared by the side processes) one at a time, so they use the core the main process leaves
    idle instead of competing with it."""
    import importlib

    with turn if turn is not None else contextlib.nullcontext():
        for name in PRELOAD:
            importlib.import_module(name)


def _call(payload: bytes) -> Any:
    fn, args, kwargs, settings = pickle.loads(payload)  # our own bytes, pickled by submit() in this run
    with limits.using(settings):  # the submitter's limits and layers (the side process may predate them)
        return fn(*args, **kwargs)


#: task priorities, lowest first (see the module docstring)
URGENT, NEEDED, BACKGROUND = 0, 1, 2


@dataclass
class _Task:
    """A task of :class:`SidePool`'s queue: its pickled call, its priority, its result."""

    payload: bytes
    priority: int
    seq: int
    steal: bool
    result: Future = field(default_factory=Future)
    state: str = "queued"  # "queued" -> "sent" (to a side process) or "stolen" (run in the main process)


def _run_here(task: _Task) -> None:
    """Run a stolen task in this (the main) process; its result or exception goes to its getter."""
    try:
        task.result.set_result(_call(task.payload))
    except Exception as exc:  # raised by the task's getter, as from a side process
        task.result.set_exception(exc)
    except BaseException as exc:  # Ctrl-C: its getter raises it too, and so does this call
        task.result.set_exception(exc)
        raise


class SidePool:
    """Tasks submitted to side processes, or run in the main process (``workers`` <= 1).

    ``parent``: submit to the side processes of that pool (started by it, stopped by it);
    :meth:`close` then only waits for the tasks submitted here."""

    def __init__(self, workers: int, *, parent: SidePool | None = None) -> None:
        self.workers: int = workers if parent is None else parent.workers
        self._parent = parent
        self._pool: ProcessPoolExecutor | None = None
        self._pending: list[Callable[[], Any]] = []
        self._queue: list[_Task] = []  # of the root pool: tasks not yet handed to the executor
        self._running = 0  # tasks handed to the executor and not finished
        self._lock = threading.RLock()  # the main thread and the executor's result thread dispatch
        self._seq = 0
        self._closed = False

    def _executor(self) -> ProcessPoolExecutor:
        if self._parent is not None:
            return self._parent._executor()
        if self._pool is None:
            gc.freeze()  # the children's collector then skips the inherited objects (no copied pages)
            context = multiprocessing.get_context("fork")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                             initializer=_preload, initargs=(context.Lock(),))
        return self._pool

    def start(self) -> None:
        """Fork the side processes now (with ``fork`` every worker starts at the first task):
        each imports :data:`PRELOAD` while the main process goes on, so the first real task
        finds them ready.  ``siting run`` starts them before the data stage, whose one core
        of work leaves the other idle."""
        if self.workers > 1 and self._parent is None and self._pool is None:
            self._executor().submit(int)

    def submit(self, fn: Callable[..., Any], /, *args: Any, priority: int = NEEDED, steal: bool = False,
               **kwargs: Any) -> Callable[[], Any]:
        """Start ``fn(*args, **kwargs)`` (``fn`` at module level: it is pickled) and return a getter
        of its result: it waits for the task and raises the task's exception.  In the main
        process the task runs the first time its getter is called (or when the pool closes).

        ``priority`` (:data:`NEEDED` or :data:`BACKGROUND`) and ``steal`` (the main process may
        run the task itself when it waits for it and no side process has taken it): see the
        module docstring.  The arguments are pickled here, as they are now: the executor would
        pickle them later in its feeder thread, while the caller may go on using (and filling
        the lazy caches of) the same objects."""
        if self.workers > 1:
            payload = pickle.dumps((fn, args, kwargs, limits.active()), protocol=pickle.HIGHEST_PROTOCOL)
            queued = self._root()._enqueue(payload, priority=priority, steal=steal)
            self._pending.append(queued)
            return queued
        box: list[Any] = []

        def get() -> Any:
            if not box:
                box.append(fn(*args, **kwargs))
            return box[0]
        self._pending.append(get)
        return get

    def _root(self) -> SidePool:
        return self if self._parent is None else self._parent._root()

    def _enqueue(self, payload: bytes, *, priority: int, steal: bool) -> Callable[[], Any]:
        """Queue a task (root pool) and return its getter: while the task is not done, the
        getter runs queued stealable tasks here (this one first), else moves this one to the
        front of the queue and waits."""
        with self._lock:
            self._seq += 1
            task = _Task(payload, priority, self._seq, steal)
            self._queue.append(task)
        self._dispatch()

        def get() -> Any:
            while not task.result.done():
                other = self._take_stealable(task)
                if other is None:
                    break
                _run_here(other)
            return task.result.result()
        return get

    def _take_stealable(self, wanted: _Task) -> _Task | None:
        """Remove from the queue and return ``wanted`` if it is queued and stealable, else the
        first queued stealable task; with none, ``wanted`` (if still queued) becomes
        :data:`URGENT` and ``None`` is returned."""
        with self._lock:
            stealable = [q for q in self._queue if q.steal]
            if wanted.state == "queued" and wanted.steal:
                chosen: _Task | None = wanted
            else:
                chosen = min(stealable, key=lambda q: (q.priority, q.seq)) if stealable else None
            if chosen is None:
                if wanted.state == "queued":
                    wanted.priority = URGENT
                return None
            self._queue.remove(chosen)
            chosen.state = "stolen"
            return chosen

    def _dispatch(self) -> None:
        """Hand the executor the first queued tasks (by priority, then submission) while a side
        process is free."""
        with self._lock:
            while self._queue and self._running < self.workers and not self._closed:
                task = min(self._queue, key=lambda q: (q.priority, q.seq))
                self._queue.remove(task)
                task.state = "sent"
                try:
                    future = self._executor().submit(_call, task.payload)
                except Exception as exc:  # a broken pool (a side process killed): the getter raises it
                    task.result.set_exception(exc)
                    continue
                self._running += 1
                future.add_done_callback(functools.partial(self._finished, task))

    def _finished(self, task: _Task, future: Future) -> None:
        """A side process finished ``task`` (runs in the executor's result thread): pass its
        result on and hand the executor the next task."""
        if future.cancelled():
            task.result.cancel()
        elif (exc := future.exception()) is not None:
            task.result.set_exception(exc)
        else:
            task.result.set_result(future.result())
        with self._lock:
            self._running -= 1
        self._dispatch()

    def wait(self) -> None:
        """Wait for (or run) every task submitted so far; a failed task raises here.  Meanwhile
        the main process runs the stealable tasks no side process has taken yet."""
        for get in self._pending:
            get()

    def close(self) -> None:
        """Wait for (or run) every task, then stop the side processes."""
        try:
            self.wait()
        finally:
            with self._lock:
                self._closed = True  # a task that failed leaves the rest of the queue unsent
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                gc.unfreeze()


@contextmanager
def side_pool(workers: int | None = None) -> Iterator[SidePool]:
    """A :class:`SidePool` with ``workers`` (default :func:`report_workers`) side processes;
    leaving the block waits for every task (a failed task raises there).  Inside
    :func:`deferred_writes` (and ``workers`` not given) it borrows that block's side processes:
    no second pool is forked (whose own manager thread would otherwise make
    :func:`report_workers` refuse side processes)."""
    outer = _deferring() if workers is None else None
    if outer is not None:
        pool = SidePool(0, parent=outer)
    else:
        pool = SidePool(report_workers() if workers is None else workers)
    try:
        yield pool
    finally:
        pool.close()


_DEFERRING: list[SidePool] = []  # the pools of the enclosing deferred_writes blocks, innermost last


@contextmanager
def deferred_writes(workers: int | None = None) -> Iterator[SidePool]:
    """Inside the block, :func:`write_later` runs writes in side processes (a :class:`SidePool`
    with ``workers``, default :func:`report_workers`) while the main process goes on with the
    next stage; leaving the block waits for all of them (a failed write raises there, before
    the run is finished).  ``siting run`` / ``demo`` wrap the whole chain in it (issue #19):
    the stages' workbooks are written while the next stages compute."""
    with side_pool(workers) as pool:
        pool.start()
        _DEFERRING.append(pool)
        try:
            yield pool
        finally:
            _DEFERRING.remove(pool)


def _deferring() -> SidePool | None:
    """The pool of the innermost :func:`deferred_writes` block, when it has side processes."""
    return _DEFERRING[-1] if _DEFERRING and _DEFERRING[-1].workers > 1 else None


def borrowed_pool() -> SidePool | None:
    """A :class:`SidePool` on the side processes of the enclosing :func:`deferred_writes` block
    (its :meth:`~SidePool.close` waits only for its own tasks), or ``None`` outside such a block
    or without side processes."""
    outer = _deferring()
    return None if outer is None else SidePool(0, parent=outer)


def run_aside(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Callable[[], Any]:
    """Start ``fn(*args, **kwargs)`` in a side process of the enclosing :func:`deferred_writes`
    block and return a getter of its result (it waits, and raises the task's exception);
    without such a block (or side processes) ``fn`` runs when the getter is first called.
    The propose stage computes the Pareto front this way while it re-solves the draws (#19)."""
    return (_deferring() or SidePool(0)).submit(fn, *args, steal=True, **kwargs)


def wait_for_writes() -> None:
    """Wait for every :func:`write_later` of the enclosing :func:`deferred_writes` block so far
    (a failed write raises here): before a step that reads the files back (the QGIS project
    reads the GeoPackages' styles)."""
    pool = _deferring()
    if pool is not None:
        pool.wait()


def write_later(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    """``fn(*args, **kwargs)`` in a side process of the enclosing :func:`deferred_writes`
    block, or now when there is none (or it has no side processes).  ``fn`` writes files and
    its result is dropped; the caller knows the paths."""
    pool = _deferring()
    if pool is not None:
        pool.submit(fn, *args, priority=BACKGROUND, **kwargs)
    else:
        fn(*args, **kwargs)
