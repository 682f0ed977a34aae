"""A disk cache of :func:`siting.network.solve.directed_coverage` (issue #19, the propose stage).

The propose stage's cost matrix (every candidate x every place within the cut-off ``C``,
``allocation/choice.py::cost_matrix``) is hundreds of bounded Dijkstra searches that reach
most of the graph: about half of the stage on the shipped scenario.  It depends only on the
graph's arrays, the origin and target nodes, ``C`` and the direction, so it is stored in
``run.cache_dir`` as ``cost_<key>.npz`` with

    key = sha256(version, graph CSR arrays (data, indices, indptr, shape), origins, targets,
                 limit, direction)

and the SHA-256 of its own arrays.  A file whose stored key or content digest does not
match, or that cannot be read, is ignored (recomputed) with a warning; a cache folder that
cannot be written only costs the time.  The matrix read back is the computed one, array for
array (same ``float64`` minutes, same explicit zeros), so the outputs do not depend on it.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..io import atomic_path
from .graph import TravelGraph
from .solve import directed_coverage

log = logging.getLogger(__name__)

COST_CACHE_VERSION = "1"


def _hash_arrays(h: Any, *arrays: np.ndarray) -> None:
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str(a.dtype).encode())
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())


def cost_key(graph: TravelGraph | sp.sparray, origins: np.ndarray, targets: np.ndarray, limit_min: float,
             direction: str) -> str:
    """The cache key of the module docstring (hex, 24 characters)."""
    m = sp.csr_array(graph.matrix if isinstance(graph, TravelGraph) else graph)
    h = hashlib.sha256(COST_CACHE_VERSION.encode())
    _hash_arrays(h, m.data, m.indices, m.indptr, np.asarray(m.shape, dtype=np.int64),
                 np.asarray(origins, dtype=np.int64), np.asarray(targets, dtype=np.int64))
    h.update(f"{float(limit_min)!r}|{direction}".encode())
    return h.hexdigest()[:24]


def _digest(m: sp.csr_array) -> str:
    h = hashlib.sha256()
    _hash_arrays(h, m.data, m.indices, m.indptr, np.asarray(m.shape, dtype=np.int64))
    return h.hexdigest()


def _load(path: Path, key: str) -> sp.csr_array | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            m = sp.csr_array((z["data"], z["indices"], z["indptr"]), shape=tuple(meta["shape"]))
    except Exception as exc:  # noqa: BLE001 - any failure to read means: recompute
        log.warning("ignoring unreadable cost-matrix cache %s (%s); recomputing it", path, exc)
        return None
    if meta.get("key") != key or meta.get("content_sha256") != _digest(m):
        log.warning("ignoring cost-matrix cache %s: other inputs or corrupt content; recomputing it", path)
        return None
    return m


def _save(m: sp.csr_array, path: Path, key: str) -> None:
    meta = {"key": key, "shape": list(m.shape), "content_sha256": _digest(m)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, data=m.data, indices=m.indices, indptr=m.indptr,
                     meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    except OSError as exc:
        log.warning("the cost matrix could not be cached in %s (%s); the run goes on without it", path.parent,
                    exc.strerror or exc)


def cached_directed_coverage(graph: TravelGraph, origins: np.ndarray, targets: np.ndarray, limit_min: float, *,
                             direction: str, cache_dir: str | Path | None, **kwargs: Any) -> sp.csr_array:
    """:func:`~siting.network.solve.directed_coverage`, read from / written to ``cache_dir``
    (module docstring); without ``cache_dir`` it is computed every time.  ``kwargs`` go to
    ``directed_coverage`` (``run_aside``: the trip back in a side process)."""
    if not cache_dir:
        return sp.csr_array(directed_coverage(graph, origins, targets, limit_min, direction=direction, **kwargs))
    key = cost_key(graph, origins, targets, limit_min, direction)
    path = Path(cache_dir) / f"cost_{key}.npz"
    if path.exists():
        m = _load(path, key)
        if m is not None:
            return m
    m = sp.csr_array(directed_coverage(graph, origins, targets, limit_min, direction=direction, **kwargs))
    _save(m, path, key)
    return m
