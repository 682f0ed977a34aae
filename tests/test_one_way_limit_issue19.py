"""Issue #19 (target 2, cold run): the mean-direction coverage searches each one-way trip only
within ``2 T rho / (1 + rho)`` (``solve.one_way_limit``) instead of ``2 T``.  Checked against
networkx (the asymmetry) and against brute force (full Dijkstra both ways, every pair's
mean), with ``T`` set exactly to a pair's mean so the bound itself is exercised."""
from __future__ import annotations

import math

import networkx as nx
import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from siting.network import solve, to_networkx
from siting.network.model import edge_asymmetry


def _structure(m):
    m = sp.csr_array(m)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    return np.sort(rows * m.shape[1] + m.indices)


def _brute_mean(m, origins, targets, T):
    """Every (origin, target) pair whose mean trip is at most T, by full searches both ways."""
    m = sp.csr_array(m)
    back = dijkstra(m, directed=True, indices=origins)[:, targets]  # origin -> target
    to = dijkstra(sp.csr_array(m.T), directed=True, indices=origins)[:, targets]  # target -> origin
    mean = (to + back) / 2.0
    return mean, np.argwhere(mean <= T)


def test_asymmetry_of_the_real_graph_equals_networkx(san_marcos):
    g = san_marcos.graph
    G = to_networkx(g)
    want = max(d["weight"] / G[v][u]["weight"] for u, v, d in G.edges(data=True))
    assert math.isclose(g.asymmetry, want, rel_tol=1e-12)
    assert 1.3 < g.asymmetry < 1.5  # Tobler's walking up / down (exp(0.35) = 1.419); roads symmetric
    T = 60.0
    assert math.isclose(solve.one_way_limit(g, T), 2 * T * want / (1 + want), rel_tol=1e-8)
    assert solve.one_way_limit(g, T) < 1.2 * T  # instead of 2 T


def test_real_mean_coverage_with_the_tighter_search_equals_brute_force(san_marcos):
    g = san_marcos.graph
    places = g.point_nodes["places"]
    origins = places[::25]
    T = 45.0
    got = solve.directed_coverage(g, origins, places, T, direction="mean", progress=False)
    mean, want = _brute_mean(g.matrix, origins, places, T)
    assert np.array_equal(_structure(got), np.sort(want[:, 0] * len(places) + want[:, 1]))
    assert np.array_equal(got.toarray()[want[:, 0], want[:, 1]], mean[want[:, 0], want[:, 1]])


def test_a_pair_exactly_at_the_bound_is_kept():
    # a -> b costs rho times b -> a: the trip a -> b is exactly at the one-way bound
    for rho, x in [(1.4190675485932585, 37.3), (1.1, 0.1), (3.0, 7.0), (1.0000001, 1e3)]:
        m = sp.csr_array(np.array([[0.0, rho * x], [x, 0.0]]))
        T = (rho * x + x) / 2.0
        got = solve.directed_coverage(m, [1], [0, 1], T, direction="mean", progress=False)
        assert _structure(got).tolist() == [0, 1], (rho, x)  # both the pair and the origin itself
        assert got.toarray()[0, 0] == T


def test_an_edge_without_its_reverse_keeps_the_full_search():
    m = sp.csr_array(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 5.0], [0.0, 0.0, 0.0]]))  # 1 -> 2, no 2 -> 1
    assert edge_asymmetry(m) == math.inf
    assert solve.one_way_limit(m, 10.0) == 20.0
    assert edge_asymmetry(sp.csr_array(np.array([[0.0, 2.0], [2.0, 0.0]]))) == 1.0
    assert edge_asymmetry(sp.csr_array(np.array([[0.0, 2.0], [0.0, 0.0]]))) == math.inf


@st.composite
def _graphs(draw):
    n = draw(st.integers(3, 9))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=2, max_size=20))
    w = {}
    for u, v in edges:
        if u == v or (u, v) in w:
            continue
        base = draw(st.floats(0.5, 40.0))
        ratio = draw(st.floats(1.0, 2.5))
        w[(u, v)], w[(v, u)] = base * ratio, base  # every edge has its reverse, up to 2.5 times cheaper
    if not w:
        w[(0, 1)], w[(1, 0)] = 3.0, 2.0
    rows, cols = zip(*w)
    m = sp.csr_array((list(w.values()), (rows, cols)), shape=(n, n))
    pair = draw(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)))
    return m, pair


@settings(max_examples=150, deadline=None)
@given(_graphs())
def test_mean_coverage_equals_brute_force_at_the_boundary(case):
    m, (i, j) = case
    n = m.shape[0]
    origins, targets = np.arange(n), np.arange(n)
    G = nx.DiGraph()
    coo = m.tocoo()
    G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    want_rho = max(d["weight"] / G[v][u]["weight"] for u, v, d in G.edges(data=True))
    assert math.isclose(edge_asymmetry(m), want_rho, rel_tol=1e-12)
    mean, _ = _brute_mean(m, origins, targets, 0.0)
    T = float(mean[i, j]) if np.isfinite(mean[i, j]) and mean[i, j] > 0 else 10.0  # exactly a pair's mean
    got = solve.directed_coverage(m, origins, targets, T, direction="mean", progress=False)
    _, want = _brute_mean(m, origins, targets, T)
    assert np.array_equal(_structure(got), np.sort(want[:, 0] * n + want[:, 1]))
