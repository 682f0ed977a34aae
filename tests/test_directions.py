"""Issue #14 item 2: both directions, on the shipped real data (UGEL San Marcos), checked
against networkx and against brute-force pairwise Dijkstra."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

import siting
from siting.access import round_minutes
from siting.network import solve, to_networkx


def _sources(graph):
    return np.concatenate([graph.point_nodes[k] for k in ("cetpro", "extension") if k in graph.point_nodes])


def test_places_carry_both_trips_and_the_chosen_measure(san_marcos):
    s = san_marcos
    assert s.sc.access.direction == "mean"  # the shipped default
    p, g = s.gaps.places, s.graph
    G = to_networkx(g)
    src = [int(v) for v in _sources(g)]
    back = nx.multi_source_dijkstra_path_length(G, src, weight="weight")  # facility -> place (the trip home)
    there = nx.multi_source_dijkstra_path_length(G.reverse(copy=False), src, weight="weight")  # place -> facility
    nodes = g.point_nodes["places"]
    want_from = round_minutes(np.array([back.get(int(v), np.inf) for v in nodes]))
    want_to = round_minutes(np.array([there.get(int(v), np.inf) for v in nodes]))
    assert np.array_equal(p["minutes_from_nearest"].to_numpy(float), want_from)
    assert np.array_equal(p["minutes_to_nearest"].to_numpy(float), want_to)
    # the chosen measure: per facility set, the mean of its two trips; then the nearest set
    per_set = []
    for name in [k for k in ("cetpro", "extension") if k in g.point_nodes]:
        to = solve.nearest(g, g.point_nodes[name], towards_sources=True).minutes[nodes]
        fr = solve.nearest(g, g.point_nodes[name], towards_sources=False).minutes[nodes]
        per_set.append(round_minutes((to + fr) / 2))
    assert np.array_equal(p["minutes_nearest"].to_numpy(float), np.min(per_set, axis=0))
    # uphill and downhill differ: the two trips are not the same for most places
    differ = p["minutes_to_nearest"] != p["minutes_from_nearest"]
    assert differ.mean() > 0.5


def test_mean_coverage_equals_brute_force(san_marcos):
    g = san_marcos.graph
    places = g.point_nodes["places"]
    origins = places[::40]
    T = 60.0
    got = solve.directed_coverage(g, origins, places, T, direction="mean", progress=False)
    d_out = dijkstra(g.matrix, directed=True, indices=origins)[:, places]  # origin -> place
    d_in = dijkstra(g.reverse, directed=True, indices=origins)[:, places]  # place -> origin
    mean = (d_out + d_in) / 2
    want = np.argwhere(mean <= T)
    assert np.array_equal(np.sort(_structure(got)), np.sort(want[:, 0] * got.shape[1] + want[:, 1]))
    dense = got.toarray()
    assert np.allclose(dense[want[:, 0], want[:, 1]], mean[want[:, 0], want[:, 1]], rtol=1e-12)
    to = solve.directed_coverage(g, origins, places, T, direction="to", progress=False)
    assert np.array_equal(np.sort(_structure(to)), np.sort(np.flatnonzero((d_in <= T).ravel())))


def _structure(m):
    """Flat positions of the stored entries (explicit zeros included)."""
    m = m.tocsr()
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    return rows * m.shape[1] + m.indices


@pytest.mark.parametrize("direction", ["to", "from"])
def test_the_direction_key_changes_the_minutes(san_marcos, direction):
    s = san_marcos
    sc = siting.load_scenario(s.sc.source, study_area__ugels=list(s.sc.study_area.ugels), access__direction=direction,
                              run__cache_dir=s.sc.run.cache_dir, run__output_dir=str(s.tmp / f"dir_{direction}"))
    gaps = siting.compute_access(sc, s.data, s.graph)
    col = "minutes_to_nearest" if direction == "to" else "minutes_from_nearest"
    assert np.array_equal(gaps.places["minutes_nearest"].to_numpy(float), gaps.places[col].to_numpy(float))
    assert not np.array_equal(gaps.places["minutes_nearest"].to_numpy(float),
                              s.gaps.places["minutes_nearest"].to_numpy(float))
