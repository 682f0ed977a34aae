"""Finding or starting the Dask cluster and running a list of tasks on it (the machinery of
:mod:`siting.distributed` and :mod:`siting.distributed_partitions`).

:func:`open_client` connects to the cluster :func:`resolve_scheduler` names (``--scheduler``,
``--scheduler-file``, ``DASK_SCHEDULER_ADDRESS``, dask config ``scheduler-address``), else
starts a ``LocalCluster`` (forkserver workers, glibc's malloc left dynamic);
:func:`client_in_background` does so in a thread while the driver reads its inputs;
:func:`_map` runs tasks costliest first (dask ``priority``), on the driver while a cluster
is still starting.
"""
from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from .errors import UserError

log = logging.getLogger("siting.distributed")

# --------------------------------------------------------------------------- client


def _require_dask():
    try:
        import distributed  # noqa: F401
    except ImportError as exc:  # pragma: no cover - dask is installed in CI
        raise UserError("the Dask engine needs dask.distributed, which is not installed",
                        hint='pip install "siting[dask]" (or use --engine serial)') from exc
    return distributed


#: where :func:`resolve_scheduler` found the scheduler (for messages)
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"


def resolve_scheduler(scheduler: str | None = None, *, scheduler_file: str | os.PathLike | None = None
                      ) -> tuple[str, str, str] | None:
    """Which cluster to use: ``(kind, value, origin)`` or ``None`` for a new ``LocalCluster``.

    Order: an explicit ``scheduler`` address (``--scheduler``), a ``scheduler_file``
    (``--scheduler-file``, the JSON written by ``dask scheduler --scheduler-file`` or
    ``Client.write_scheduler_file``), the environment variable ``DASK_SCHEDULER_ADDRESS``,
    then dask's configuration key ``scheduler-address`` (``~/.config/dask/*.yaml``,
    ``dask.config.set``).  ``kind`` is ``"address"`` or ``"file"``.
    """
    if scheduler:
        return "address", str(scheduler), "--scheduler"
    if scheduler_file:
        path = Path(scheduler_file)
        if not path.is_file():
            raise UserError(f"the Dask scheduler file {str(path)!r} does not exist", source=str(path),
                            hint="start the scheduler with `dask scheduler --scheduler-file PATH` (on a shared "
                                 "filesystem) and pass the same PATH, or give --scheduler ADDRESS")
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            address = str(info["address"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UserError(f"cannot read the Dask scheduler file {str(path)!r} ({exc.__class__.__name__}: {exc})",
                            source=str(path),
                            hint="it must be the JSON file written by `dask scheduler --scheduler-file PATH`, "
                                 "with an \"address\" entry") from exc
        return "file", str(path), f"--scheduler-file ({address})"
    env = os.environ.get(SCHEDULER_ENV, "").strip()
    if env:
        return "address", env, SCHEDULER_ENV
    import dask
    configured = dask.config.get("scheduler-address", None)
    if configured:
        return "address", str(configured), "dask config 'scheduler-address'"
    return None


#: modules the forkserver imports once, so that each worker forked from it starts with them
FORKSERVER_PRELOAD = ("distributed", "numpy", "pandas", "scipy.sparse", "scipy.sparse.csgraph", "geopandas",
                      "rasterio", "siting.distributed", "siting.distributed_partitions",
                      "siting.suitability.sensitivity")


def _start_method(start_method: str | None) -> str:
    """How a new ``LocalCluster`` starts its worker processes.

    ``None``: dask's ``distributed.worker.multiprocessing-method`` when it is set to anything
    but dask's default ``"spawn"``, else ``"forkserver"`` where the platform has it.  With
    ``"forkserver"`` one server process imports :data:`FORKSERVER_PRELOAD` once and every
    worker is forked from it (safe: the server has no threads), instead of each spawned
    worker importing NumPy, SciPy, GeoPandas and ``siting`` again (~1-2 CPU-s per worker).
    """
    import multiprocessing

    import dask
    method = start_method or str(dask.config.get("distributed.worker.multiprocessing-method", "spawn"))
    if start_method is None and method == "spawn" and "forkserver" in multiprocessing.get_all_start_methods():
        method = "forkserver"
    if method == "forkserver":
        from distributed import utils as dutils
        with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
            dutils.get_mp_context()  # lets distributed set its own preload first (it does so once)
        multiprocessing.get_context("forkserver").set_forkserver_preload(list(FORKSERVER_PRELOAD))
    return method


#: dask's default worker environment sets ``MALLOC_TRIM_THRESHOLD_=65536``, which also turns off
#: glibc's dynamic mmap threshold: every array above 128 kB is then mmapped and page-faulted
#: afresh; on the national coverage windows that costs +40 % CPU (25.2 -> 35.2 CPU-s, 13.6 s of it
#: system time).  A LocalCluster of siting's drops it unless the environment sets it.
KEEP_GLIBC_MALLOC = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def _start_forkserver() -> None:
    """Start the forkserver (once per process) with the environment distributed gives the
    workers it spawns (``distributed.nanny.pre-spawn-environ``: one BLAS/OpenMP thread, a fixed
    ``PYTHONHASHSEED``, and what :func:`open_client` left of ``MALLOC_TRIM_THRESHOLD_``): a forked
    worker inherits the server's, and NumPy reads them when the server imports it."""
    from multiprocessing import forkserver

    from distributed.nanny import _get_env_variables
    env = _get_env_variables("distributed.nanny.pre-spawn-environ")
    if env.get("PYTHONHASHSEED") in (None, "0"):
        env["PYTHONHASHSEED"] = "6640"  # distributed's own choice for spawned workers
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        forkserver.ensure_running()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def open_client(scheduler: str | None = None, *, scheduler_file: str | os.PathLike | None = None,
                n_workers: int = 2, threads_per_worker: int = 1, processes: bool = True,
                memory_limit: str | None = None, start_method: str | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` on the cluster :func:`resolve_scheduler` finds (closed on
    exit, the cluster left running), else on a new ``LocalCluster`` of ``n_workers``
    workers with ``memory_limit`` each, no dashboard, worker processes started by
    :func:`_start_method`, glibc's malloc left dynamic (:data:`KEEP_GLIBC_MALLOC`) (closed on exit)."""
    distributed = _require_dask()
    where = resolve_scheduler(scheduler, scheduler_file=scheduler_file)
    if where is not None:
        kind, value, origin = where
        try:
            client = (distributed.Client(scheduler_file=value, timeout="20s") if kind == "file"
                      else distributed.Client(value, timeout="20s"))
        except (OSError, TimeoutError, ValueError) as exc:
            raise UserError(f"cannot reach the Dask scheduler {value!r} (from {origin}): {exc}",
                            hint="start it with `dask scheduler` and workers with `dask worker ADDRESS`, "
                                 f"check --scheduler / --scheduler-file / {SCHEDULER_ENV} / dask config, "
                                 "or unset them to use a local cluster") from exc
        log.info("Dask: connected to %s (from %s)", client.scheduler.address, origin)
        try:
            yield client
        finally:
            client.close()
        return
    import dask
    kw: dict[str, Any] = {"n_workers": n_workers, "threads_per_worker": threads_per_worker,
                          "processes": processes, "dashboard_address": None}
    if memory_limit:
        kw["memory_limit"] = memory_limit
    method = _start_method(start_method) if processes else "spawn"
    malloc = {} if "MALLOC_TRIM_THRESHOLD_" in os.environ else KEEP_GLIBC_MALLOC
    with dask.config.set({"distributed.worker.multiprocessing-method": method, **malloc}):
        if method == "forkserver":
            _start_forkserver()
        cluster = distributed.LocalCluster(**kw)  # the workers start here, with this method
    with cluster, distributed.Client(cluster) as client:
        yield client


@contextlib.contextmanager
def client_in_background(scheduler: str | None = None, *, on_ready: Callable[[Any], Any] | None = None,
                         **kw: Any) -> Iterator[Any]:
    """:func:`open_client` started in a thread, so that the driver reads and prepares its
    inputs while the cluster starts (or is connected to).

    Yields a ``concurrent.futures.Future`` of the client (``.result()`` waits for it and raises
    what the start raised); :func:`_map`, so :func:`monte_carlo`, also takes that future as
    ``client`` and runs tasks here until the cluster is up.  ``on_ready(client)`` runs in the
    starting thread as soon as the client is up (e.g. submit work the driver's inputs do not
    decide, :func:`siting.distributed_partitions.prefetch_roads`).
    The client (and a cluster it started) is closed on exit.
    """
    from concurrent.futures import Future
    ready: Future = Future()
    done = threading.Event()

    def start() -> None:
        try:
            with open_client(scheduler, **kw) as client:
                if on_ready is not None:
                    on_ready(client)
                ready.set_result(client)
                done.wait()
        except BaseException as exc:  # noqa: B036 - handed to the waiting driver
            if not ready.done():
                ready.set_exception(exc)
            else:
                log.warning("Dask: closing the client failed: %s", exc)

    thread = threading.Thread(target=start, name="siting-dask-start", daemon=True)
    thread.start()
    try:
        yield ready
    finally:
        done.set()
        thread.join()


def _map(func: Callable, items: Sequence[tuple], client, *, shared: Mapping[str, Any] | None = None,
         desc: str = "", progress: bool | None = None, cost: Sequence[float] | None = None,
         stats: dict | None = None) -> list:
    """``[func(*item, **shared) for item in items]``, on ``client`` when given.

    ``shared`` values (large arrays/matrices used by every task) are scattered once to all
    workers (``broadcast=True``) instead of being shipped with every task.  ``cost``: an
    estimate of each task's work; on a cluster the tasks are submitted costliest first with
    a matching dask ``priority`` (longest-processing-time-first: the last tasks to finish are
    then small ones, not the largest window started last).  Results keep ``items``' order.

    ``client`` may also be a ``concurrent.futures.Future`` of a client still starting
    (:func:`client_in_background`): the driver then runs the cheapest tasks itself, one after
    the other, until the client is up, when every task still queued is submitted (from the
    starting thread, at once); each task's result does not depend on where it ran.
    ``stats``: receives ``here`` = the number of tasks run in this process.
    """
    shared = dict(shared or {})
    disable = None if progress is None else not progress
    stats = {} if stats is None else stats
    stats["here"] = len(items) if client is None else 0
    if client is None:
        return [func(*it, **shared) for it in tqdm(items, desc=desc, unit="task", disable=disable)]
    out: list = [None] * len(items)
    queue = collections.deque(submission_order(cost, len(items)))
    with tqdm(total=len(items), desc=desc, unit="task", disable=disable) as bar:
        if isinstance(client, concurrent.futures.Future):  # a cluster still starting
            remote = _submit_when_ready(func, items, client, queue, shared)
            with _one_blas_thread():  # as the workers; the other core starts them
                while (i := _take(queue)) is not None:  # the cheapest tasks, here, until it is up
                    out[i] = func(*items[i], **shared)
                    stats["here"] += 1
                    bar.update()
            futures = remote.result()
        else:
            futures = _submit(func, items, client, _take_all(queue), shared)
        from distributed import as_completed
        index = {f.key: i for i, f in futures.items()}
        for fut in as_completed(list(futures.values())):
            out[index[fut.key]] = fut.result()
            bar.update()
    return out


_QUEUE_LOCK = threading.Lock()


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """One BLAS thread in this process (``threadpoolctl``, when installed), as on the workers."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(1)


def _take(queue: collections.deque) -> int | None:
    with _QUEUE_LOCK:
        return queue.pop() if queue else None


def _take_all(queue: collections.deque) -> list[int]:
    with _QUEUE_LOCK:
        rest = list(queue)
        queue.clear()
        return rest


def _submit(func: Callable, items: Sequence[tuple], client, order: Sequence[int], shared: Mapping[str, Any]
            ) -> dict[int, Any]:
    """Submit ``items[order]`` in that order with decreasing dask ``priority``; ``{position: future}``."""
    futs_shared = {k: client.scatter(v, broadcast=True, hash=False) for k, v in shared.items()}
    futures = {}
    for rank, i in enumerate(order):  # large inputs (subgraphs) travel as scattered data, not in the task graph
        args = [client.scatter(a, hash=False) if isinstance(a, (np.ndarray, sp.sparray)) and _nbytes(a) > 2**20
                else a for a in items[i]]
        futures[i] = client.submit(func, *args, **futs_shared, pure=False, priority=len(order) - rank)
    return futures


def _submit_when_ready(func: Callable, items: Sequence[tuple], pending: concurrent.futures.Future,
                       queue: collections.deque, shared: Mapping[str, Any]) -> concurrent.futures.Future:
    """As soon as ``pending`` gives the client (in the thread that starts it), submit every task
    still queued, costliest first; the future of ``{position: dask future}``."""
    done: concurrent.futures.Future = concurrent.futures.Future()

    def submit(fut: concurrent.futures.Future) -> None:
        try:
            done.set_result(_submit(func, items, fut.result(), _take_all(queue), shared))
        except BaseException as exc:  # noqa: B036 - handed to the waiting driver
            done.set_exception(exc)

    pending.add_done_callback(submit)
    return done


def submission_order(cost: Sequence[float] | None, n: int) -> list[int]:
    """Task positions costliest first (ties and ``cost=None``: in the given order)."""
    if cost is None:
        return list(range(n))
    if len(cost) != n:
        raise ValueError("cost must give one estimate per task")
    return [int(i) for i in np.argsort(-np.asarray(cost, dtype=np.float64), kind="stable")]


def _nbytes(a) -> int:
    if isinstance(a, sp.sparray):
        return int(a.data.nbytes + a.indices.nbytes + a.indptr.nbytes) if hasattr(a, "indptr") else 2**21
    return int(a.nbytes)
