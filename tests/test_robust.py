"""Decisions robust to the travel-time uncertainty (issue #14 item 6), on the real San Marcos
UGEL (shipped data): re-timed graphs equal rebuilt ones, interval draws equal a direct
recomputation, selection frequency, near-threshold places, catchment eligibility, soft
"already served" and the near-optimal site sets (against brute force)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

import siting
from siting.network import solve
from siting.network.graph import build_travel_graph
from siting.network.reweight import reweighted
from siting.suitability import uncertainty

DRAW = {"national_paved": 41.0, "vecinal": 33.0, "detour": 1.6}


def _speeds(base, draw=DRAW):
    kmh = dict(base.road_kmh, national_paved=draw["national_paved"], vecinal=draw["vecinal"])
    return dataclasses.replace(base, road_kmh=kmh, approximate_detour_factor=draw["detour"])


def test_reweighted_graph_equals_a_rebuild(san_marcos):
    s = san_marcos
    speeds = _speeds(s.sc.speeds)
    fast = reweighted(s.graph, s.data.roads, s.data.terrain, speeds)
    from siting.network.stage import graph_points
    rebuilt = build_travel_graph(s.data.terrain, s.data.roads, speeds, graph_points(s.data),
                                 landcover=s.data.landcover, max_connector_slope=s.sc.speeds.max_connector_slope)
    a, b = sp.csr_array(fast.matrix), sp.csr_array(rebuilt.matrix)
    assert a.shape == b.shape and np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=0)
    assert not np.allclose(a.data, s.graph.matrix.data)  # the draw did change road times


def test_interval_draws_equal_a_direct_recomputation(san_marcos, san_marcos_plan):
    """Each draw's reach equals the coverage of a graph rebuilt with the draw's speeds."""
    s, scores = san_marcos, san_marcos_plan.scores
    assert uncertainty.speed_intervals(s.sc)["detour"] == pytest.approx((1.102, 1.642))
    assert len(scores.draws) == s.sc.suitability.speed_samples
    from siting.network.stage import graph_points
    nodes = s.graph.point_nodes["places"][scores.candidate_place_index]
    for d in scores.draws[:2]:
        g = build_travel_graph(s.data.terrain, s.data.roads, d.speeds, graph_points(s.data),
                               landcover=s.data.landcover, max_connector_slope=s.sc.speeds.max_connector_slope)
        direct = solve.directed_coverage(g, nodes, g.point_nodes["places"], s.sc.allocation.max_minutes,
                                         direction=s.sc.access.direction)
        ga, da = sp.csr_array(d.coverage).tocoo(), sp.csr_array(direct).tocoo()
        got = dict(zip(zip(ga.row.tolist(), ga.col.tolist()), ga.data.tolist()))
        want = dict(zip(zip(da.row.tolist(), da.col.tolist()), da.data.tolist()))
        assert got.keys() == want.keys() and len(got) > 0
        assert np.allclose([got[k] for k in want], list(want.values()), rtol=1e-9)
        lo, hi = s.sc.speeds.road_kmh["national_paved"], d.speeds.road_kmh["national_paved"]
        assert 34.382 <= hi <= 55.271 and lo == 60.0
