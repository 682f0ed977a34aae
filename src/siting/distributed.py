"""The parallel parts of a run, on ``dask.distributed`` (optional extra ``siting[dask]``).

Three kinds of work split into independent tasks whose results are *identical* to the
serial engine:

* :func:`coverage` - bounded coverage searches for many origins (candidates), cut into
  chunks of spatial neighbours (Z-order); the oriented CSR matrix is scattered once to
  every worker and each task runs :func:`siting.network.solve.coverage` on its chunk,
  restricted to the subgraph of the nodes within the limit of the chunk (exact).
  Per-origin bounded Dijkstra results do not depend on which other origins share a
  chunk, so the stacked rows equal the serial matrix.
* :func:`nearest_by_region` - "nearest source" for the places of each region (e.g. a
  department) on the subgraph of the nodes within a **halo** of the region.  Exactness:
  every edge ``u -> v`` of minutes ``t`` moves at most ``t * v_max`` metres (straight-line
  distance between the node positions), so a path of at most ``L`` minutes of walking
  stays within ``h = L * v_walk`` of its start or of a road node it used.  The halo of a
  region is therefore the box of its places grown by ``h``, plus - when a road node lies
  in that box - the box of all road nodes grown by ``h``.  On that subgraph every time
  ``<= L`` is the whole-graph time, and a time ``> L`` on the subgraph is ``> L`` on the
  whole graph too; times above ``L`` are reported as ``inf`` by both engines (censored).
  ``v_walk`` and ``v_road`` are measured on the graph's own edges (:func:`edge_speed_limits`).
* :func:`monte_carlo` - Monte Carlo rank stability (:mod:`siting.suitability.sensitivity`)
  in chunks of runs; chunk ``k`` draws from ``numpy.random.SeedSequence(seed).spawn(n)[k]``
  (one chunk = the scenario seed itself, i.e. exactly ``sensitivity.monte_carlo``), so a
  serial run with the same chunking gives the same table.

Every function takes ``client``: a ``distributed.Client`` or ``None`` (run the same tasks
serially in this process - the reference the tests compare with).  :func:`open_client`
connects to the cluster named by ``--scheduler`` (an address such as ``tcp://10.0.0.5:8786``),
``--scheduler-file``, ``DASK_SCHEDULER_ADDRESS`` or dask's ``scheduler-address`` config, in
that order (:func:`resolve_scheduler`), else starts a ``LocalCluster``.  Worker-built
partitions (the driver never holds the whole graph) are in :mod:`siting.distributed_partitions`.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from .distributed_client import (  # noqa: F401 - the public names of the Dask engine, kept here
    FORKSERVER_PRELOAD,
    KEEP_GLIBC_MALLOC,
    SCHEDULER_ENV,
    _map,
    _nbytes,
    _require_dask,
    _start_method,
    client_in_background,
    open_client,
    resolve_scheduler,
    submission_order,
)
from .errors import UserError
from .network import solve
from .network.graph import ROAD, TravelGraph

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- coverage


def _coverage_task(origins: np.ndarray, *, matrix: sp.csr_array, targets: np.ndarray, limit: float) -> sp.csr_array:
    """Coverage rows of one chunk of neighbouring origins.

    One bounded multi-source Dijkstra finds the union ``U`` of nodes within ``limit`` of any
    origin of the chunk; every path of at most ``limit`` minutes from these origins stays
    in ``U``, so :func:`solve.coverage` runs exactly on the subgraph induced by ``U`` (its
    per-search set-up is then O(|U|), not O(whole graph)); columns are mapped back.
    """
    n = matrix.shape[0]
    reach = dijkstra(matrix, directed=True, indices=origins, limit=limit, min_only=True)
    union = np.flatnonzero(reach <= limit)
    local = np.full(n, -1, dtype=np.int64)
    local[union] = np.arange(len(union))
    sub = sp.csr_array(matrix[union][:, union])
    keep = np.flatnonzero(local[targets] >= 0)  # targets outside U are beyond the limit of every origin
    part = solve.coverage(sub, local[origins], local[targets[keep]], limit, towards_origins=False, progress=False)
    return sp.csr_array((part.data, keep[part.indices].astype(np.int64), part.indptr.astype(np.int64)),
                        shape=(len(origins), len(targets)))


def coverage(graph: TravelGraph | sp.sparray, origins: np.ndarray | Sequence[int], targets: np.ndarray | Sequence[int],
             limit: float, client=None, *, towards_origins: bool = True, chunk_origins: int = 256,
             progress: bool | None = None) -> sp.csr_array:
    """Same matrix as :func:`siting.network.solve.coverage` (``len(origins) x len(targets)``,
    minutes of the pairs within ``limit``; explicit zeros kept), computed in tasks of
    ``chunk_origins`` neighbouring origins on ``client`` (``None`` = serially here)."""
    m = solve._oriented(graph, towards_origins)
    n = m.shape[0]
    org = solve._check_nodes(np.asarray(origins), n, "origins")
    tgt = np.asarray(targets, dtype=np.int64).ravel()
    if not limit > 0:
        raise UserError(f"coverage limit must be > 0 minutes, got {limit}")
    order = solve._morton_order(graph.x[org], graph.y[org]) if isinstance(graph, TravelGraph) else np.arange(len(org))
    chunks = [order[s:s + chunk_origins] for s in range(0, len(org), chunk_origins)]
    parts = _map(_coverage_task, [(org[c],) for c in chunks], client,
                 shared={"matrix": m, "targets": tgt, "limit": float(limit)},
                 desc=f"coverage <= {limit:g} min", progress=progress)
    stacked = sp.csr_array(sp.vstack(parts, format="csr")) if parts else sp.csr_array((0, len(tgt)))
    inverse = np.empty(len(org), dtype=np.int64)
    inverse[np.concatenate(chunks) if chunks else np.zeros(0, np.int64)] = np.arange(len(org))
    out = stacked[inverse]  # row i of the answer = origin i
    out = sp.csr_array((out.data, out.indices.astype(np.int64), out.indptr.astype(np.int64)), shape=out.shape)
    out.has_sorted_indices = True
    return out


# --------------------------------------------------------------------------- halo runs


def edge_speed_limits(graph: TravelGraph) -> tuple[float, float]:
    """Largest straight-line speed of any edge, in metres per minute: ``(walk, road)``.

    ``speed(u -> v) = |pos(u) - pos(v)| / minutes(u -> v)``; "road" edges join two road
    nodes, every other edge (cells, connectors) is "walk".  A path of ``t`` minutes that
    uses only walk edges ends within ``t * walk`` metres of where it started.
    """
    coo = graph.matrix.tocoo()
    r, c, w = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    d = np.hypot(graph.x[r] - graph.x[c], graph.y[r] - graph.y[c])
    v = d / np.maximum(w, 1e-12)
    road = (graph.kind[r] == ROAD) & (graph.kind[c] == ROAD)
    walk_v = float(v[~road].max()) if (~road).any() else 0.0
    road_v = float(v[road].max()) if road.any() else 0.0
    return walk_v, road_v


def halo_nodes(graph: TravelGraph, region_nodes: np.ndarray, max_minutes: float, *,
               walk_m_per_min: float | None = None) -> np.ndarray:
    """Sorted node ids of the halo subgraph of ``region_nodes`` (see the module docstring).

    ``h = max_minutes * walk_m_per_min``; nodes inside ``box(region) + h`` and, when that
    box holds a road node, inside ``box(road nodes) + h``.
    """
    if walk_m_per_min is None:
        walk_m_per_min = edge_speed_limits(graph)[0]
    h = float(max_minutes) * float(walk_m_per_min) * (1 + 1e-9) + 1e-6
    rx, ry = graph.x[region_nodes], graph.y[region_nodes]
    x0, x1, y0, y1 = rx.min() - h, rx.max() + h, ry.min() - h, ry.max() + h
    inside = (graph.x >= x0) & (graph.x <= x1) & (graph.y >= y0) & (graph.y <= y1)
    road = graph.kind == ROAD
    if (inside & road).any():
        qx, qy = graph.x[road], graph.y[road]
        inside |= ((graph.x >= qx.min() - h) & (graph.x <= qx.max() + h)
                   & (graph.y >= qy.min() - h) & (graph.y <= qy.max() + h))
    return np.flatnonzero(inside)


def _nearest_task(sub: sp.csr_array, sources: np.ndarray, targets: np.ndarray, limit: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Minutes and winning-source position (in ``sources``) for ``targets`` on ``sub``."""
    if len(sources) == 0:
        return np.full(len(targets), np.inf), np.full(len(targets), -1, np.int64)
    dist, _pred, won = dijkstra(sub, directed=True, indices=sources, min_only=True, return_predecessors=True,
                                limit=limit)
    n = sub.shape[0]
    pos = np.full(n, -1, dtype=np.int64)
    pos[sources[::-1]] = np.arange(len(sources) - 1, -1, -1)
    t = np.asarray(dist[targets], dtype=np.float64)
    w = won[targets]
    src = np.where((w >= 0) & np.isfinite(t), pos[np.clip(w, 0, n - 1)], -1)
    t[~np.isfinite(t) | (t > limit)] = np.inf
    return t, src.astype(np.int64)


def censor(result: solve.Nearest, max_minutes: float) -> solve.Nearest:
    """A whole-graph :func:`~siting.network.solve.nearest` result with times above
    ``max_minutes`` set to ``inf`` / source ``-1`` (what :func:`nearest_by_region` reports)."""
    beyond = ~(result.minutes <= max_minutes)
    return solve.Nearest(np.where(beyond, np.inf, result.minutes), np.where(beyond, -1, result.source))


def nearest_by_region(graph: TravelGraph, sources: np.ndarray, targets: np.ndarray, regions: np.ndarray | pd.Series,
                      max_minutes: float, client=None, *, towards_sources: bool = True,
                      progress: bool | None = None) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Minutes from each of ``targets`` to its nearest of ``sources`` (and which one), one
    task per region on its halo subgraph; equals ``censor(nearest(graph, sources), L)``
    at ``targets``.

    ``regions``: one label per target (e.g. department code).  Returns ``(minutes,
    source, tasks)`` - minutes ``inf`` beyond ``max_minutes`` or unreachable, source = position
    in ``sources`` or -1, and ``tasks`` one row per region (``region``, ``targets``,
    ``halo_nodes``, ``halo_edges``, ``halo_m``; ``attrs`` ``prepare_s`` = slicing the halo
    subgraphs here, ``compute_s`` = running the tasks).
    """
    sources = np.asarray(sources, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    regions = np.asarray(regions)
    if len(regions) != len(targets):
        raise ValueError("regions must give one label per target")
    if not max_minutes > 0:
        raise UserError(f"max_minutes must be > 0, got {max_minutes}")
    m = solve._oriented(graph, towards_sources)
    walk_v, _ = edge_speed_limits(graph)
    is_source = np.zeros(graph.n_nodes, bool)
    is_source[sources] = True
    first_pos = np.full(graph.n_nodes, -1, np.int64)
    first_pos[sources[::-1]] = np.arange(len(sources) - 1, -1, -1)
    items, rows, meta = [], [], []
    t0 = time.perf_counter()
    for label in pd.unique(regions):
        sel = np.flatnonzero(regions == label)
        nodes = halo_nodes(graph, targets[sel], max_minutes, walk_m_per_min=walk_v)
        sub = sp.csr_array(m[nodes][:, nodes])
        local = np.full(graph.n_nodes, -1, np.int64)
        local[nodes] = np.arange(len(nodes))
        s_glob = np.unique(sources[is_source[sources] & (local[sources] >= 0)])  # distinct source nodes
        items.append((sub, local[s_glob], local[targets[sel]], float(max_minutes)))
        rows.append((sel, s_glob))
        meta.append({"region": label, "targets": len(sel), "halo_nodes": len(nodes), "halo_edges": int(sub.nnz),
                     "halo_m": round(float(max_minutes) * walk_v, 1)})
    t1 = time.perf_counter()
    parts = _map(_nearest_task, items, client, desc="regions", progress=progress)
    t2 = time.perf_counter()
    minutes = np.full(len(targets), np.inf)
    which = np.full(len(targets), -1, np.int64)
    for (sel, s_glob), (t, s) in zip(rows, parts):
        minutes[sel] = t
        which[sel] = np.where(s >= 0, first_pos[s_glob[np.clip(s, 0, None)]], -1)
    tasks = pd.DataFrame(meta)
    tasks.attrs.update(prepare_s=round(t1 - t0, 2), compute_s=round(t2 - t1, 2))  # halo slicing / tasks
    return minutes, which, tasks


# --------------------------------------------------------------------------- Monte Carlo


def chunk_seeds(seed: int, n_chunks: int) -> list[Any]:
    """Seeds of the Monte Carlo chunks: the scenario seed itself for one chunk, else the
    children ``SeedSequence(seed).spawn(n_chunks)`` (independent streams)."""
    if n_chunks < 1:
        raise ValueError("n_chunks must be >= 1")
    return [seed] if n_chunks == 1 else list(np.random.SeedSequence(seed).spawn(n_chunks))


def _mc_task(n_runs: int, seed: Any, *, norms: list[np.ndarray], w_vec: np.ndarray, concentration: float,
             as_counts: bool = False) -> np.ndarray:
    """Ranks (n_candidates x n_runs) of one chunk, same draws as ``sensitivity.monte_carlo``;
    with ``as_counts`` their per-candidate histogram (:func:`rank_counts`) instead."""
    from .suitability.sensitivity import draw_ranks
    ranks = draw_ranks(norms, w_vec, n_runs=n_runs, concentration=concentration, rng=np.random.default_rng(seed))
    return rank_counts(ranks) if as_counts else ranks


def rank_counts(ranks: np.ndarray) -> np.ndarray:
    """``counts[c, r]`` = runs in which candidate ``c`` has rank ``r`` (ranks are 1..n), int32
    ``(n, n + 1)``: what the rank statistics need, and it adds up over chunks."""
    n = ranks.shape[0]
    flat = (np.arange(n, dtype=np.int64)[:, None] * (n + 1) + ranks).ravel()
    return np.bincount(flat, minlength=n * (n + 1)).reshape(n, n + 1).astype(np.int32)


def stability_from_counts(counts: np.ndarray, base_scores: np.ndarray, *, top_n: int, index: pd.Index
                          ) -> pd.DataFrame:
    """:func:`siting.suitability.sensitivity.rank_stability` from the summed :func:`rank_counts`
    (same values and dtypes): with ``R`` runs and ``F_c(r)`` the cumulative counts, the
    ``k``-th smallest rank (0-based) is the least ``r`` with ``F_c(r) > k``; the median is the
    mean of orders ``(R-1)//2`` and ``R//2``; p05 ``lower`` / p95 ``higher`` take the orders
    NumPy's percentile picks on ``R`` sorted values (asked of NumPy on ``arange(R)``)."""
    from .suitability.sensitivity import _ranks, rank_stability
    n_runs = int(counts[0].sum())
    cum = np.cumsum(counts, axis=1)

    def order(k: int) -> np.ndarray:
        return np.argmax(cum > k, axis=1)

    proto = rank_stability(np.ones((1, 1), np.int32), np.zeros(1), top_n=top_n, index=pd.RangeIndex(1))
    k_lo = int(np.percentile(np.arange(n_runs), 5, method="lower"))
    k_hi = int(np.percentile(np.arange(n_runs), 95, method="higher"))
    median = (order((n_runs - 1) // 2).astype(np.float64) + order(n_runs // 2)) / 2
    return pd.DataFrame({
        "rank": _ranks(np.asarray(base_scores)[:, None])[:, 0],
        "share_top_n": counts[:, 1:top_n + 1].sum(axis=1) / n_runs,
        "rank_median": median,
        "rank_p05": order(k_lo).astype(proto["rank_p05"].dtype),
        "rank_p95": order(k_hi).astype(proto["rank_p95"].dtype),
    }, index=index)


def monte_carlo(criteria_table: pd.DataFrame, weights: Mapping[str, float], client=None, *, n_runs: int = 500,
                n_chunks: int = 1, concentration: float = 50.0, top_n: int = 10, seed: int = 20241126,
                normalisation: str = "minmax", speed_tables: Mapping[float, pd.DataFrame] | None = None,
                draw_tables: Sequence[pd.DataFrame] | None = None, progress: bool | None = None) -> pd.DataFrame:
    """Rank stability as :func:`siting.suitability.sensitivity.monte_carlo`, in ``n_chunks``
    chunks of runs (sizes differ by at most one) on ``client``.

    ``speed_tables``: optional ``{speed_factor: criteria table}`` recomputed beforehand
    (the speed scenarios); each run uses one of them (or ``criteria_table``) at random.
    ``client``: a client, ``None`` (here) or the future of one still starting
    (:func:`client_in_background`: chunks run here until it is up, see :func:`_map`).
    ``draw_tables``: the criteria tables of the score stage's travel-time draws; each run
    uses one of them (not ``criteria_table``, which gives the deterministic ``rank``), as
    ``sensitivity.monte_carlo(tables=...)``.  With ``n_chunks=1`` the result equals
    ``sensitivity.monte_carlo`` with the same seed (and the same ``tables``).  Output
    columns: ``rank``, ``share_top_n``, ``rank_median``,
    ``rank_p05``, ``rank_p95`` (+ ``ccpp_id``).
    """
    from .suitability.mcda import normalise
    from .suitability.sensitivity import _weighted_criteria, rank_stability
    w, names, w_vec = _weighted_criteria(weights, n_runs=n_runs, concentration=concentration)
    tables = list(draw_tables) if draw_tables else [criteria_table] + list((speed_tables or {}).values())
    for t in tables:
        if not t.index.equals(criteria_table.index):
            raise ValueError("every speed or draw table must have the same index as criteria_table")
    norms = [normalise(t, method=normalisation, criteria=names).to_numpy(float) for t in tables]
    base = normalise(criteria_table, method=normalisation, criteria=names).to_numpy(float)
    n_chunks = int(min(max(1, n_chunks), n_runs))
    sizes = np.full(n_chunks, n_runs // n_chunks)
    sizes[: n_runs % n_chunks] += 1
    seeds = chunk_seeds(seed, n_chunks)
    n_cand = len(criteria_table)
    as_counts = bool(n_cand + 1 < sizes.min())  # the histogram is smaller than the chunk's ranks
    where: dict = {}
    parts = _map(_mc_task, [(int(s), q) for s, q in zip(sizes, seeds)], client,
                 shared={"norms": norms, "w_vec": w_vec, "concentration": float(concentration),
                         "as_counts": as_counts}, desc="Monte Carlo chunks", progress=progress,
                 cost=[float(q) for q in sizes], stats=where)
    if as_counts:  # summed on the workers' side of the wire: the driver never holds the ranks
        out = stability_from_counts(np.asarray(np.sum(parts, axis=0, dtype=np.int64)), base @ w_vec, top_n=top_n,
                                    index=criteria_table.index)
    else:
        out = rank_stability(np.concatenate(parts, axis=1), base @ w_vec, top_n=top_n, index=criteria_table.index)
    if "ccpp_id" in criteria_table:
        out.insert(0, "ccpp_id", criteria_table["ccpp_id"].to_numpy())
    out.attrs.update({"n_runs": n_runs, "n_chunks": n_chunks, "concentration": concentration, "top_n": top_n,
                      "seed": seed, "speed_draws": len(draw_tables or []), "chunks_here": where["here"],
                      "speed_factors": [] if draw_tables else [1.0] + [float(f) for f in (speed_tables or {})],
                      "weights": w})
    return out
