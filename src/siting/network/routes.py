"""Routes: the path behind a travel time, and what it is made of.

* :func:`path_tree` - one multi-source Dijkstra pass that keeps its predecessors
  (``scipy.sparse.csgraph.dijkstra(min_only=True, return_predecessors=True)``): for every
  node, its minutes to (or from) the nearest source, which source, and the next node on
  the way.
* :func:`trace` - the node path of one node, in travel order.
* :func:`legs_table` - for each path, its composition: minutes walking over the terrain,
  minutes on connector legs (village or facility to the terrain or to the road, road
  node to its cell), minutes per road class, kilometres walking and by road, metres
  climbed, and a sentence ("camina 45 min, luego 70 min por la vía vecinal ...").

The composition is read off the graph's own edges, so for a path ``v_0 .. v_k``::

    minutes = sum_i w(v_i, v_i+1) = minutes_walk + minutes_connector + sum_c minutes_<c>

where ``w`` is the edge weight of the travel direction and ``c`` the road classes of the
graph (:attr:`~siting.network.model.TravelGraph.road_class_names`); on a shortest-path
tree this equals the Dijkstra minutes up to floating-point rounding.
``km_walk`` is the horizontal length of the walking and connector edges, ``km_road`` the
length of the road segments (times their detour factor, as costed), and ``climb_m`` the
sum of the rises ``max(0, z_i+1 - z_i)`` between consecutive nodes with an elevation.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from ..i18n import check_language, message
from .model import CELL, ROAD, TravelGraph
from .solve import _check_nodes

#: the parts of a trip besides the road classes
WALK, CONNECTOR = "walk", "connector"


@dataclass(frozen=True, eq=False)
class PathTree:
    """A shortest-path forest from a set of sources (result of :func:`path_tree`).

    ``minutes[v]``: minutes of the trip between ``v`` and its nearest source (``inf`` if
    none); ``source[v]``: position in ``sources`` of that source (``-1`` if none);
    ``next_node[v]``: the node after ``v`` on its way (towards the source when
    ``towards``, else the node before ``v`` coming from the source), ``-1`` at sources
    and unreachable nodes.
    """

    minutes: np.ndarray
    source: np.ndarray
    next_node: np.ndarray
    sources: np.ndarray
    towards: bool


def path_tree(graph: TravelGraph, sources: np.ndarray | Sequence[int], *, towards: bool = True) -> PathTree:
    """Shortest-path forest from ``sources`` (node ids), one Dijkstra pass.

    ``towards=True`` measures trips *from* every node *to* its nearest source (people
    going to a centre: the search runs on the transposed graph, so a node's predecessor
    in the search is the next node of its trip); ``towards=False`` trips *from* the
    nearest source to every node (the facility's own trip out).  The minutes equal
    :func:`siting.network.solve.nearest` on the same sources and direction.
    """
    m = graph.reverse if towards else graph.matrix
    n = m.shape[0]
    src = _check_nodes(np.asarray(sources), n, "sources")
    dist, pred, won = dijkstra(m, directed=True, indices=src, min_only=True, return_predecessors=True)
    pos = np.full(n, -1, dtype=np.int64)
    pos[src[::-1]] = np.arange(len(src) - 1, -1, -1)
    source = np.where(won >= 0, pos[np.clip(won, 0, n - 1)], -1)
    next_node = np.where(pred >= 0, pred, -1).astype(np.int64)
    return PathTree(np.asarray(dist, np.float64), source.astype(np.int64), next_node, src, towards)


def trace(tree: PathTree, node: int) -> np.ndarray:
    """The nodes of ``node``'s trip in travel order: ``[node, ..., source]`` when the tree
    runs towards its sources, ``[source, ..., node]`` otherwise; ``[]`` if unreachable."""
    node = int(node)
    if not np.isfinite(tree.minutes[node]):
        return np.zeros(0, np.int64)
    path = [node]
    limit = len(tree.next_node)
    while tree.next_node[path[-1]] >= 0:
        path.append(int(tree.next_node[path[-1]]))
        if len(path) > limit:  # a predecessor cycle cannot come out of Dijkstra
            raise RuntimeError("the shortest-path tree has a cycle")
    out = np.asarray(path, np.int64)
    return out if tree.towards else out[::-1]


def edge_minutes(graph: TravelGraph, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Weight (minutes) of each edge ``a[k] -> b[k]`` of the graph (``NaN`` if absent).

    Vectorised over the edges: each row of the CSR matrix is scanned in lock-step up to
    the largest degree among the rows asked for (the degrees are small: 8-16 terrain
    neighbours plus a few connector legs)."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    out = np.full(a.shape, np.nan)
    if not a.size:
        return out
    m = graph.matrix
    start, stop = m.indptr[a].astype(np.int64), m.indptr[a + 1].astype(np.int64)
    todo = np.flatnonzero(stop > start)
    for d in range(int((stop - start).max())):
        if not todo.size:
            break
        at = start[todo] + d
        hit = m.indices[at] == b[todo]
        out[todo[hit]] = m.data[at[hit]]
        todo = todo[~hit & (at + 1 < stop[todo])]
    return out


def _parts(graph: TravelGraph, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Part of each edge (index into ``[WALK, CONNECTOR, *road_class_names]``) and its
    length in metres (road segments: as costed; other edges: straight horizontal)."""
    ka, kb = graph.kind[a], graph.kind[b]
    part = np.full(a.shape, 1, np.int64)  # connector
    part[(ka == CELL) & (kb == CELL)] = 0
    metres = np.hypot(graph.x[b] - graph.x[a], graph.y[b] - graph.y[a])
    road = (ka == ROAD) & (kb == ROAD)
    if road.any():
        code, seg_m = graph.road_segments(a[road], b[road])
        part[road] = np.where(code >= 0, code + 2, 1)
        metres[road] = np.where(code >= 0, seg_m, metres[road])
    return part, metres


def _clock(minutes: float, lang: str) -> str:
    m = int(round(minutes))
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def describe(part_names: Sequence[str], runs: Sequence[tuple[int, float]], *, destination: str = "",
             km: float = float("nan"), climb_m: float = float("nan"), lang: str = "es") -> str:
    """One sentence telling a trip: ``runs`` are consecutive ``(part, minutes)`` legs, with
    walking and connector legs told as walking (e.g. "camina 45 min, luego 1 h 10 min por la
    vía vecinal, hasta CETPRO X (1 h 55 min en total, 38 km, 900 m de subida)")."""
    check_language(lang)
    merged: list[list] = []
    for part, minutes in runs:
        label = WALK if part <= 1 else part_names[part]
        if merged and merged[-1][0] == label:
            merged[-1][1] += minutes
        else:
            merged.append([label, minutes])
    texts = []
    for label, minutes in merged:
        if round(minutes) < 1:
            continue
        if label == WALK:
            texts.append(message("route.walk", lang, minutes=_clock(minutes, lang).removesuffix(" min")))
        else:
            key = f"route.class.{label}"
            try:
                road = message(key, lang)
            except KeyError:
                road = message("route.class.other", lang, name=label)
            texts.append(message("route.road", lang, minutes=_clock(minutes, lang).removesuffix(" min"), road=road))
    sentence = f", {message('route.then', lang)} ".join(texts)
    if destination:
        sentence += (" " if sentence else "") + message("route.arrive", lang, destination=destination)
    total = sum(m for _, m in merged)
    if np.isfinite(km):
        climb = f"{climb_m:,.0f}"  # es-PE groups thousands with a comma, as the report does
        dist = f"{km:.1f}" if km < 10 else f"{km:,.0f}"
        sentence += f" ({message('route.totals', lang, total=_clock(total, lang), km=dist, climb=climb)})"
    return sentence[:1].upper() + sentence[1:]


def legs_table(graph: TravelGraph, paths: Sequence[np.ndarray], minutes: np.ndarray | Sequence[float] | None = None,
               *, lang: str = "es", destinations: Sequence[str] | None = None, check_tol: float = 1e-6
               ) -> pd.DataFrame:
    """The composition of each path (one row per path, in order).

    Columns: ``minutes`` (sum of the path's edges), ``minutes_walk``,
    ``minutes_connector``, ``minutes_<road class>`` for every class of the graph (they add
    up to ``minutes``), ``km``, ``km_walk`` (walking and connector legs), ``km_road``,
    ``climb_m``, ``n_nodes`` and ``description`` (in ``lang``).  An empty path (an
    unreachable node) gets ``NaN`` figures and "sin ruta".  When ``minutes`` is given (the
    Dijkstra minutes of the paths), a path whose edges do not add up to it within
    ``check_tol`` (relative) raises ``ValueError``: the path is not the tree's.
    """
    check_language(lang)
    names = [WALK, CONNECTOR, *graph.road_class_names]
    n = len(paths)
    sums = np.zeros((n, len(names)))
    km_walk, km_road, climb = np.zeros(n), np.zeros(n), np.zeros(n)
    lengths = np.array([len(p) for p in paths], np.int64)
    descriptions = []
    if (lengths > 1).any():
        nodes = np.concatenate([np.asarray(p, np.int64) for p in paths])
        ends = np.cumsum(lengths)
        is_edge = np.ones(len(nodes), bool)
        is_edge[ends - 1] = False  # the last node of a path starts no edge
        a = nodes[is_edge]
        b = nodes[np.flatnonzero(is_edge) + 1]
        row = np.repeat(np.arange(n), np.maximum(lengths - 1, 0))
        w = edge_minutes(graph, a, b)
        if np.isnan(w).any():
            raise ValueError("a path uses a pair of nodes that is not an edge of the graph")
        part, metres = _parts(graph, a, b)
        np.add.at(sums, (row, part), w)
        walkish = part <= 1
        np.add.at(km_walk, row[walkish], metres[walkish] / 1000.0)
        np.add.at(km_road, row[~walkish], metres[~walkish] / 1000.0)
        if len(graph.elevation):
            rise = graph.elevation[b].astype(float) - graph.elevation[a].astype(float)
            np.add.at(climb, row, np.where(np.isfinite(rise) & (rise > 0), rise, 0.0))
        first_edge = np.concatenate([[0], np.cumsum(np.maximum(lengths - 1, 0))])
    total = sums.sum(axis=1)
    for k in range(n):
        if lengths[k] == 0:
            descriptions.append(message("route.none", lang))
            continue
        runs: list[tuple[int, float]] = []
        if lengths[k] > 1:
            e0, e1 = first_edge[k], first_edge[k + 1]
            runs = list(zip(part[e0:e1].tolist(), w[e0:e1].tolist(), strict=True))
        dest = destinations[k] if destinations is not None else ""
        descriptions.append(describe(names, runs, destination=dest, km=km_walk[k] + km_road[k],
                                     climb_m=climb[k], lang=lang))
    out = pd.DataFrame({"minutes": total})
    for i, name in enumerate(names):
        out[f"minutes_{name}"] = sums[:, i]
    out["km"] = km_walk + km_road
    out["km_walk"] = km_walk
    out["km_road"] = km_road
    out["climb_m"] = climb
    out["n_nodes"] = lengths
    out["description"] = descriptions
    empty = lengths == 0
    out.loc[empty, [c for c in out.columns if c not in ("n_nodes", "description")]] = np.nan
    if minutes is not None:
        expected = np.asarray(minutes, float)
        ok = empty | np.isclose(total, expected, rtol=check_tol, atol=1e-9)
        if not ok.all():
            k = int(np.flatnonzero(~ok)[0])
            raise ValueError(f"path {k} adds up to {total[k]:.6f} min, not its {expected[k]:.6f} min")
    return out
