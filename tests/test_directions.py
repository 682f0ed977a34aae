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


def test_walk_minutes_from_a_cetpro_equal_an_independent_anisotropic_grid(san_marcos):
    """Walking only, on the real San Marcos DEM: minutes from a real CETPRO's cell to every
    cell, and back, equal a grid built here cell by cell with Tobler's function written out
    (``v = 6 exp(-3.5 |dh/d + 0.05|)`` km/h, 8 neighbours, ``t = d / v``) and searched by
    networkx; the uphill and downhill trips differ (anisotropy)."""
    import math

    s = san_marcos
    walk = siting.build_graph(s.sc, s.data, mode="walk")
    t = s.data.terrain
    elev = np.asarray(t.elevation, dtype=float)
    rows, cols = elev.shape
    G = nx.DiGraph()
    for r in range(rows):
        for c in range(cols):
            if not math.isfinite(elev[r, c]):
                continue
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if (dr, dc) == (0, 0) or not (0 <= rr < rows and 0 <= cc < cols) \
                            or not math.isfinite(elev[rr, cc]):
                        continue
                    d = t.cell_size * math.hypot(dr, dc)
                    kmh = 6.0 * math.exp(-3.5 * abs((elev[rr, cc] - elev[r, c]) / d + 0.05))
                    G.add_edge(r * cols + c, rr * cols + cc, weight=d / 1000.0 / kmh * 60.0)
    cetpro = s.data.cetpro.to_crs(t.crs).geometry.iloc[0]
    row, col = t.cell_of(cetpro.x, cetpro.y)
    start = int(row) * cols + int(col)
    out_ref = nx.single_source_dijkstra_path_length(G, start)
    back_ref = nx.single_source_dijkstra_path_length(G.reverse(copy=False), start)
    cells = np.array(sorted(out_ref), dtype=np.int64)
    out = dijkstra(walk.matrix, indices=start)[cells]
    back = dijkstra(walk.reverse, indices=start)[cells]
    np.testing.assert_allclose(out, [out_ref[k] for k in cells], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(back, [back_ref[k] for k in cells], rtol=1e-9, atol=1e-9)
    assert len(cells) > 1000 and np.max(np.abs(out - back)) > 10.0  # the two trips really differ
