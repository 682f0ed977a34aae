"""Helpers shared by the ``siting app`` tests (real shipped data, scenario copies in tmp folders)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import dijkstra

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "scenarios" / "cajamarca.toml"


def scenario_copy(folder: Path, source: Path = SHIPPED, **overrides) -> Path:
    """The shipped scenario, resolved (absolute input paths, the repository's graph cache),
    saved in ``folder`` so the app's ``<stem>_ediciones`` files go there and not into scenarios/."""
    import siting
    folder.mkdir(parents=True, exist_ok=True)
    sc = siting.load_scenario(source, run__output_dir=str(folder / "runs"), **overrides)
    return siting.save_scenario(sc, folder / source.name)


def direct_plan(path: Path, **overrides):
    """The proposals computed straight through the stage functions (no app caches, no memo)."""
    import siting
    sc = siting.load_scenario(path, **overrides)
    data = siting.load_data(sc, progress=False)
    graph = siting.build_graph(sc, data)
    walk = siting.build_graph(sc, data, mode="walk")
    access = siting.compute_access(sc, data, graph, walk_graph=walk)
    scored = siting.score_candidates(sc, data, graph, access, progress=False)
    plan = siting.propose_sites(sc, data, access, scored, graph=graph, with_tradeoff=False)  # as the app does
    return sc, data, graph, access, scored, plan


def minutes_from(graph, node: int, *, limit: float = np.inf) -> np.ndarray:
    """scipy Dijkstra from ``node`` along the edges (minutes to every node)."""
    return dijkstra(graph.matrix, indices=int(node), limit=limit)


def minutes_to(graph, node: int, *, limit: float = np.inf) -> np.ndarray:
    """scipy Dijkstra towards ``node`` (minutes from every node to it)."""
    return dijkstra(graph.matrix.T.tocsr(), indices=int(node), limit=limit)


def minutes_mean(graph, node: int, *, limit: float = np.inf) -> np.ndarray:
    """The shipped measure (``access.direction = "mean"``): the mean of the trips to ``node``
    and from it, each by scipy Dijkstra within ``2 * limit`` (a mean <= limit needs both <= 2 limit)."""
    return (minutes_to(graph, node, limit=2 * limit) + minutes_from(graph, node, limit=2 * limit)) / 2
