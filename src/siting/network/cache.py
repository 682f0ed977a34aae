"""The travel-time graph cache: one ``.npz`` per graph, named and keyed by a hash of every
input and parameter, with a content digest; a cache from other inputs, a corrupt or an
unreadable one is rebuilt, never used."""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from affine import Affine

from ..io import atomic_path, remove_partial_files
from .model import CELL, TravelGraph

log = logging.getLogger(__name__)

CACHE_VERSION = "3"  # 2: content digest and key checked on load; 3: node elevation, road segments
CACHE_PART_MAX_AGE_S = 3600.0  # a graph-cache temporary older than this was left by a killed run


def save_cached(graph: TravelGraph, path: Path) -> bool:
    """Write the graph cache; a cache folder that cannot be written (read-only, no permission,
    disk full) is reported with a warning and the run goes on without a cache.  Returns
    whether the cache was written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # temporaries of builds killed before their rename (of dead processes, an hour old)
        remove_partial_files(path.parent, older_than_s=CACHE_PART_MAX_AGE_S)
        _save(graph, path)
    except OSError as exc:
        log.warning("the travel-time graph could not be cached in %s (%s); the run goes on without a cache "
                    "(set run.cache_dir to a folder you can write into to reuse the graph)",
                    path.parent, exc.strerror or exc)
        return False
    return True


def load_cached(path: Path, *, key: str, points: Mapping[str, int] | None = None) -> TravelGraph | None:
    """The cached graph at ``path`` if it is the graph of ``key``, else ``None`` (rebuild).

    The file name is not trusted: the key stored inside (a hash of every input and
    parameter) must equal ``key``, the stored content digest must match the arrays, and the
    arrays must form a consistent graph (CSR shape, node tables, one node per point of
    ``points`` = ``{name: row count}``).  A cache from other inputs, a corrupt or truncated
    file, or an unreadable one is reported with a warning and rebuilt, never used."""
    try:
        g, digest, stored = _load(path)
    except Exception as exc:  # noqa: BLE001 - any failure to read means: rebuild
        log.warning("ignoring unreadable graph cache %s (%s); rebuilding it", path, exc)
        return None
    problem = None
    if g.key != key:
        problem = f"it was built from other inputs or parameters (key {g.key or '?'}, expected {key})"
    elif stored != digest:
        problem = "its content does not match its checksum (corrupt)"
    else:
        problem = _inconsistency(g, points)
    if problem:
        log.warning("ignoring graph cache %s: %s; rebuilding it", path, problem)
        return None
    return g


def _inconsistency(g: TravelGraph, points: Mapping[str, int] | None) -> str | None:
    n = g.n_nodes
    m = g.matrix
    if len(g.kind) != n or len(g.x) != n or len(g.y) != n or len(m.indptr) != n + 1:
        return "its node tables do not match its matrix"
    if m.nnz and (int(m.indices.min()) < 0 or int(m.indices.max()) >= n):
        return "its matrix refers to nodes that do not exist"
    if int((g.kind == CELL).sum()) != g.n_cells:
        return "its cell count does not match its grid"
    if len(g.elevation) != n or not (len(g.road_segment_key) == len(g.road_segment_class) == len(g.road_segment_m)):
        return "its route tables (elevation, road segments) do not match its nodes"
    if points is not None:
        have = {k: len(v) for k, v in g.point_nodes.items()}
        if have != dict(points):
            return f"its point sets {have} differ from this run's {dict(points)}"
    return None


def _digest(arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(a.dtype).encode())
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _save(graph: TravelGraph, path: Path) -> None:
    arrays = {"data": graph.matrix.data, "indices": graph.matrix.indices, "indptr": graph.matrix.indptr,
              "kind": graph.kind, "x": graph.x, "y": graph.y, "road_component_size": graph.road_component_size,
              "elevation": graph.elevation, "road_segment_key": graph.road_segment_key,
              "road_segment_class": graph.road_segment_class, "road_segment_m": graph.road_segment_m}
    for n, ids in graph.point_nodes.items():
        arrays[f"pn__{n}"] = ids
        for c in graph.point_info[n].columns:
            arrays[f"pi__{n}__{c}"] = graph.point_info[n][c].to_numpy()
    meta = {"shape": list(graph.shape), "transform": list(graph.transform)[:6], "crs": graph.crs,
            "mode": graph.mode, "key": graph.key, "points": list(graph.point_nodes),
            "road_class_names": list(graph.road_class_names),
            "info_columns": {n: list(df.columns) for n, df in graph.point_info.items()},
            "content_sha256": _digest(arrays)}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def _load(path: Path) -> tuple[TravelGraph, str, str | None]:
    """The graph, the digest of its arrays as read, and the digest stored when written."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(z["meta"].tobytes().decode())
        arrays = {k: z[k] for k in z.files if k != "meta"}
    n = len(arrays["kind"])
    matrix = sp.csr_array((arrays["data"], arrays["indices"], arrays["indptr"]), shape=(n, n))
    pn = {p: arrays[f"pn__{p}"] for p in meta["points"]}
    pi = {p: pd.DataFrame({c: arrays[f"pi__{p}__{c}"] for c in meta["info_columns"][p]}) for p in meta["points"]}
    g = TravelGraph(matrix=matrix, kind=arrays["kind"], x=arrays["x"], y=arrays["y"], shape=tuple(meta["shape"]),
                    transform=Affine(*meta["transform"]), crs=meta["crs"], mode=meta["mode"],
                    point_nodes=pn, point_info=pi, road_component_size=arrays["road_component_size"],
                    key=meta.get("key", ""), elevation=arrays["elevation"], road_segment_key=arrays["road_segment_key"],
                    road_segment_class=arrays["road_segment_class"], road_segment_m=arrays["road_segment_m"],
                    road_class_names=tuple(meta.get("road_class_names", ())))
    return g, _digest(arrays), meta.get("content_sha256")
