"""Shortest-time queries on a :class:`~siting.network.graph.TravelGraph`.

* :func:`nearest` - minutes from every node to the nearest of many sources (and which
  one) in ONE multi-source Dijkstra pass (``scipy.sparse.csgraph.dijkstra(min_only=True)``).
* :func:`coverage` - which targets lie within ``limit_min`` of each origin, as a sparse
  matrix, by bounded Dijkstra searches (``limit=``) chunked over the origins.

Direction matters (walking uphill is slower): ``towards_sources=True`` measures the
trip *from* each node *to* the source (people travelling to a centre), computed on the
transposed graph.  Unreachable nodes get ``inf`` minutes and source ``-1``, never 0.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from tqdm.auto import tqdm

from ..errors import UserError
from .graph import TravelGraph
from .model import edge_asymmetry

log = logging.getLogger(__name__)

#: bytes of dense distance rows one coverage chunk may hold
CHUNK_BYTES = 200 * 2**20


class Nearest(NamedTuple):
    """Result of :func:`nearest`: unpacks as ``minutes, source = nearest(...)``."""

    minutes: np.ndarray  # (n_nodes,) float64, inf = unreachable
    source: np.ndarray  # (n_nodes,) int64 position in ``sources`` of the nearest one, -1 = unreachable

    @property
    def n_unreachable(self) -> int:
        return int(np.isinf(self.minutes).sum())


def _oriented(graph: TravelGraph | sp.sparray, towards: bool) -> sp.csr_array:
    """The matrix to search on: the transposed one when times run *towards* the start nodes."""
    if isinstance(graph, TravelGraph):
        return graph.reverse if towards else graph.matrix
    m = sp.csr_array(graph)
    return sp.csr_array(m.T.tocsr()) if towards else m


def _check_nodes(nodes: np.ndarray | list, n: int, what: str) -> np.ndarray:
    arr = np.asarray(nodes, dtype=np.int64).ravel()
    if arr.size == 0 and what == "sources":
        raise UserError("no sources to compute travel times from: no CETPRO (or extension centre) of the study area "
                        "could be placed on the graph, because none is left in the study area + buffer_km",
                        hint="the school base has no CETPRO there, or all were dropped for missing or out-of-Peru "
                             "coordinates: see the 'cetpro' rows and notes of the data-quality report "
                             "(siting data check), and study_area / inputs.school_base")
    if arr.size == 0:
        raise UserError(f"no {what} to compute travel times from",
                        hint=f"check that the study area contains {what} (see the data-quality report)")
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"{what} node ids must be in [0, {n}), got {arr.min()}..{arr.max()}")
    return arr


def nearest(graph: TravelGraph | sp.sparray, sources: np.ndarray | list, *, towards_sources: bool = True) -> Nearest:
    """Minutes between every node and its nearest source, and which source that is.

    ``minutes[v] = min_s t(v -> s)`` when ``towards_sources`` (else ``t(s -> v)``), one
    multi-source Dijkstra pass.  ``source[v]`` is the position in ``sources`` of the
    winning source (the first occurrence if a node is listed twice), ``-1`` where
    unreachable (``minutes = inf``).
    """
    m = _oriented(graph, towards_sources)
    n = m.shape[0]
    src = _check_nodes(sources, n, "sources")
    dist, _pred, won = dijkstra(m, directed=True, indices=src, min_only=True, return_predecessors=True)
    pos = np.full(n, -1, dtype=np.int64)
    pos[src[::-1]] = np.arange(len(src) - 1, -1, -1)
    source = np.where(won >= 0, pos[np.clip(won, 0, n - 1)], -1)
    result = Nearest(np.asarray(dist, dtype=np.float64), source.astype(np.int64))
    if isinstance(graph, TravelGraph):
        for name, ids in graph.point_nodes.items():
            bad = int(np.isinf(result.minutes[ids]).sum())
            if bad:
                log.warning("%d of %d points '%s' cannot reach any source (inf minutes)", bad, len(ids), name)
    return result


def _morton_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Order of points along a Z-order (Morton) curve: neighbours in space stay close."""
    def spread(v: np.ndarray) -> np.ndarray:
        v = v.astype(np.uint64) & np.uint64(0xFFFF)
        for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v

    def scale(v: np.ndarray) -> np.ndarray:
        span = float(np.ptp(v)) if len(v) else 0.0
        return np.zeros(len(v)) if span == 0 else (v - v.min()) / span * 65535

    code = spread(scale(x)) | (spread(scale(y)) << np.uint64(1))
    return np.argsort(code, kind="stable")


def coverage(graph: TravelGraph | sp.sparray, origins: np.ndarray | list, targets: np.ndarray | list,
             limit_min: float, *, towards_origins: bool = True, chunk_size: int | None = None,
             progress: bool | None = None) -> sp.csr_array:
    """Sparse (len(origins) x len(targets)) matrix of minutes for pairs within ``limit_min``.

    Entry ``[i, j] = t(targets[j] -> origins[i])`` when ``towards_origins`` (people
    travelling to a site), else ``t(origins[i] -> targets[j])``; pairs slower than the
    limit are absent.  **The sparsity structure is the coverage set**: a pair at 0 minutes
    (the same node as origin and target) is stored as an explicit 0 - test membership
    with the structure (``indices``/``indptr``), never with ``> 0``, and never call
    ``eliminate_zeros``.

    Method: origins are grouped in chunks of neighbours (Z-order of their position); for
    each chunk one multi-source bounded Dijkstra finds the union ``U`` of nodes within the
    limit of any origin of the chunk; every path of at most ``limit_min`` minutes from an
    origin stays inside ``U``, so the per-origin bounded searches (``dijkstra(limit=)``) run
    exactly on the much smaller subgraph induced by ``U``.  ``progress`` shows a tqdm bar
    (None = only on a TTY).
    """
    m = _oriented(graph, towards_origins)
    n = m.shape[0]
    org = _check_nodes(origins, n, "origins")
    tgt = np.asarray(targets, dtype=np.int64).ravel()
    if tgt.size and (tgt.min() < 0 or tgt.max() >= n):
        raise ValueError(f"target node ids must be in [0, {n})")
    if not limit_min > 0:
        raise UserError(f"coverage limit must be > 0 minutes, got {limit_min}")
    limit = float(limit_min)
    if chunk_size is None:
        chunk_size = 64  # neighbouring origins per bounded union search (memory is bounded below)
    order = _morton_order(graph.x[org], graph.y[org]) if isinstance(graph, TravelGraph) else np.arange(len(org))
    # targets: node -> list of target columns (a node may be listed as several targets)
    t_sort = np.argsort(tgt, kind="stable")
    t_nodes = tgt[t_sort]
    local = np.full(n, -1, dtype=np.int64)
    rows, cols, vals = [], [], []
    disable = None if progress is None else not progress
    for s in tqdm(range(0, len(org), chunk_size), desc=f"coverage <= {limit:g} min", unit="chunk",
                  disable=disable):
        pos = order[s:s + chunk_size]
        chunk = org[pos]
        union = np.flatnonzero(dijkstra(m, directed=True, indices=chunk, limit=limit, min_only=True) <= limit)
        sub = m[union][:, union]
        local[union] = np.arange(len(union))
        # targets inside U
        lo = np.searchsorted(t_nodes, union, side="left")
        hi = np.searchsorted(t_nodes, union, side="right")
        cnt = hi - lo
        u_cols = np.repeat(np.arange(len(union)), cnt)  # position in U of each target entry
        starts, counts = lo[cnt > 0], cnt[cnt > 0]
        t_cols = t_sort[np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())]
        batch = int(max(1, CHUNK_BYTES // (8 * max(len(union), 1))))  # dense rows of |U| held at once
        for b in range(0, len(chunk), batch):
            dist = dijkstra(sub, directed=True, indices=local[chunk[b:b + batch]], limit=limit)  # (k, |U|)
            d = dist[:, u_cols]
            r, c = np.nonzero(d <= limit)
            rows.append(pos[b:b + batch][r])
            cols.append(t_cols[c])
            vals.append(d[r, c])
        local[union] = -1
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    v = np.concatenate(vals) if vals else np.zeros(0)
    o = np.lexsort((c, r))
    r, c, v = r[o], c[o], v[o]
    # build CSR directly from sorted (row, col) pairs (keeps explicit zeros)
    indptr = np.zeros(len(org) + 1, dtype=np.int64)
    np.add.at(indptr, r + 1, 1)
    indptr = np.cumsum(indptr)
    return sp.csr_array((v.astype(np.float64), c.astype(np.int64), indptr), shape=(len(org), len(tgt)))


# --------------------------------------------------------------------------- both directions

#: how the two one-way trips make the minutes of a pair (``access.direction``)
DIRECTIONS = ("mean", "to", "from")
#: the teacher's trip, CETPRO (origin) -> extension centre (target), for each direction of the
#: students' trip: "to" the centre is the teacher's outbound trip (origin -> target), "from"
#: the return; the mean is the same both ways
TEACHER = {"to": "from", "from": "to", "mean": "mean"}


def check_direction(direction: str) -> str:
    """``direction`` if it is one of :data:`DIRECTIONS`, else ``ValueError`` naming them."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    return direction


def combine(to: np.ndarray, back: np.ndarray, direction: str) -> np.ndarray:
    """The minutes of the chosen ``direction`` from the trip *to* the facility and the trip
    *from* it (back home): ``to``, ``back`` or their mean ``(to + back) / 2`` (the average
    one-way time of the round trip a student makes every day)."""
    check_direction(direction)
    if direction == "to":
        return np.asarray(to, float)
    if direction == "from":
        return np.asarray(back, float)
    return (np.asarray(to, float) + np.asarray(back, float)) / 2.0


def _now(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Callable[[], Any]:
    """A getter of ``fn(*args, **kwargs)`` computed when first asked (no side process)."""
    box: list[Any] = []

    def get() -> Any:
        if not box:
            box.append(fn(*args, **kwargs))
        return box[0]
    return get


#: ``run_aside(fn, *args, **kwargs)`` -> a getter of ``fn``'s result, computed in a side process
#: meanwhile (:func:`siting.report.side_tasks.run_aside`, injected by the pipeline)
RunAside = Callable[..., Callable[[], Any]]


#: relative slack on :func:`one_way_limit` against rounding in the summed path minutes (a pair
#: found beyond the exact bound is dropped by the mean test anyway)
ONE_WAY_SLACK = 1e-9


def one_way_limit(graph: TravelGraph | sp.sparray, limit_min: float) -> float:
    """How far each one-way trip must be searched to find every pair whose mean trip is at
    most ``T = limit_min``: ``2 T rho / (1 + rho)`` with ``rho`` the graph's
    :func:`~siting.network.model.edge_asymmetry`, never more than ``2 T``.

    Proof: reversing a fastest path ``a -> b`` edge by edge gives a path ``b -> a`` at most
    ``rho`` times as long, so ``back <= rho * to`` and ``to <= rho * back``.  If
    ``(to + back) / 2 <= T`` then ``to + to / rho <= to + back <= 2 T``, i.e.
    ``to <= 2 T rho / (1 + rho)``, and the same for ``back``.  On the walking grid
    (``rho = 1.419``, Tobler) that is ``1.17 T`` instead of ``2 T``: each search settles
    about a third fewer nodes for the same matrix.  A graph with an edge lacking its reverse
    has ``rho = inf`` and keeps ``2 T``.
    """
    rho = graph.asymmetry if isinstance(graph, TravelGraph) else edge_asymmetry(graph)
    two = 2.0 * float(limit_min)
    if not np.isfinite(rho):
        return two
    return min(two, two * rho / (1.0 + rho) * (1.0 + ONE_WAY_SLACK))


def directed_coverage(graph: TravelGraph | sp.sparray, origins: np.ndarray | list, targets: np.ndarray | list,
                      limit_min: float, *, direction: str = "to", run_aside: RunAside | None = None,
                      **kwargs) -> sp.csr_array:
    """:func:`coverage` of sites ``origins`` for people at ``targets`` in the chosen direction.

    ``"to"``: ``t(target -> origin)`` (the trip to the site, ``towards_origins=True``);
    ``"from"``: ``t(origin -> target)`` (the trip back); ``"mean"``: ``(t(j -> i) + t(i -> j)) / 2``.
    For the mean, both one-way matrices are computed within :func:`one_way_limit` (at most
    ``2 * limit_min``) and the pairs in both whose mean is at most ``limit_min`` are kept
    (explicit zeros kept, as in :func:`coverage`).  With ``run_aside``
    the trip back is computed in a side process while this one computes the trip to the site
    (the same function on the same arrays: the same matrix; about half the time on 2 cores).
    """
    check_direction(direction)
    kwargs.pop("towards_origins", None)
    if direction != "mean":
        return coverage(graph, origins, targets, limit_min, towards_origins=direction == "to", **kwargs)
    one_way = one_way_limit(graph, limit_min)
    get_back = (run_aside or _now)(coverage, graph, origins, targets, one_way, towards_origins=False, **kwargs)
    to = coverage(graph, origins, targets, one_way, towards_origins=True, **kwargs).tocoo()
    back = get_back().tocoo()
    n_cols = to.shape[1]
    key_to = to.row.astype(np.int64) * n_cols + to.col
    key_back = back.row.astype(np.int64) * n_cols + back.col
    common, i_to, i_back = np.intersect1d(key_to, key_back, assume_unique=True, return_indices=True)
    mean = (to.data[i_to] + back.data[i_back]) / 2.0
    keep = mean <= float(limit_min)
    r, c = common[keep] // n_cols, common[keep] % n_cols
    indptr = np.zeros(to.shape[0] + 1, dtype=np.int64)
    np.add.at(indptr, r + 1, 1)
    return sp.csr_array((mean[keep], c.astype(np.int64), np.cumsum(indptr)), shape=to.shape)
