"""Decisions robust to the travel-time uncertainty (issue #14 item 6), on the real San Marcos
UGEL (shipped data): re-timed graphs equal rebuilt ones, interval draws equal a direct
recomputation, selection frequency, near-threshold places, catchment eligibility, soft
"already served" and the near-optimal site sets (against brute force)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
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


def _shipped_intervals() -> dict[str, tuple[float, float]]:
    """The 95 % intervals of the shipped calibration, read with the csv module."""
    import csv

    path = Path(__file__).resolve().parents[1] / "docs" / "calibration" / "calibration_parameters.csv"
    with path.open(encoding="utf-8-sig") as f:
        return {r["parameter"]: (float(r["low"]), float(r["high"])) for r in csv.DictReader(f) if r["low"]}


def test_interval_draws_equal_a_direct_recomputation(san_marcos, san_marcos_plan):
    """Each draw's reach equals the coverage of a graph rebuilt with the draw's speeds."""
    s, scores = san_marcos, san_marcos_plan.scores
    shipped = _shipped_intervals()
    iv = uncertainty.speed_intervals(s.sc)
    assert iv["detour"] == pytest.approx(shipped["detour"]) and iv["national_unknown"] == pytest.approx(
        shipped["national_unknown"])
    assert "detour_national_unknown" not in iv  # a class's own detour is not drawn (module doc)
    assert len(scores.draws) == s.sc.suitability.speed_samples
    # the shipped speeds are the calibrated ones: inside their intervals, no note
    assert not any("fuera de su intervalo calibrado" in n for n in san_marcos_plan.plan.notes)
    # assumed speeds outside the intervals are said so
    slow = dataclasses.replace(s.sc, speeds=dataclasses.replace(
        s.sc.speeds, road_kmh={**s.sc.speeds.road_kmh, "vecinal": 30.0}, approximate_detour_factor=1.5))
    note = uncertainty.outside_note(slow, iv)[0]
    lo, hi = shipped["vecinal"]
    assert f"vecinal 30 ({lo:g}-{hi:g})" in note and "detour 1.5" in note and "national_unknown" not in note
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
        base, drawn = s.sc.speeds.road_kmh["national_unknown"], d.speeds.road_kmh["national_unknown"]
        lo, hi = _shipped_intervals()["national_unknown"]
        assert lo <= drawn <= hi and base == 49.3 and drawn != base


# --------------------------------------------------------------------------- brute force on San Marcos

def _covered_by_sets(coverage, weights, eligible, n):
    from itertools import combinations
    c = sp.csr_array(coverage).tocoo()
    A = np.zeros(c.shape, dtype=bool)
    A[c.row, c.col] = True  # a stored entry (an explicit 0 included) means reached
    idx = np.flatnonzero(eligible)
    out = {}
    for combo in combinations(idx.tolist(), n):
        out[combo] = float(weights[A[list(combo)].any(axis=0)].sum())
    return out


def _model_inputs(s, scores, draw=None):
    from siting.allocation.stage import covering_model
    p = covering_model(s.sc, s.data, s.gaps, scores, draw=draw).problem
    return p, p.w, p.eligible


def test_near_optimal_sets_equal_brute_force(san_marcos, san_marcos_plan):
    from siting.allocation.near_optimal import near_optimal
    s, scores, plan = san_marcos, san_marcos_plan.scores, san_marcos_plan.plan
    p, w, elig = _model_inputs(s, scores)
    assert p.parent_capacity is None or p.parent_capacity.sum() >= 3  # any 3 eligible sites have parents
    sets = _covered_by_sets(p.pattern, w, elig, 3)
    z_star = max(sets.values())
    assert plan.solution.objective == pytest.approx(z_star, rel=1e-9)
    within = {k for k, v in sets.items() if v >= 0.99 * z_star - 1e-9}
    got = near_optimal(p, plan.solution, gap=0.01, max_sets=500)
    ids = np.asarray(p.candidate_ids, dtype=str)
    listed = {tuple(sorted(r.split("; "))) for r in got.table["ccpp_ids"]}
    assert listed == {tuple(sorted(ids[list(k)])) for k in within} and got.n_sets == len(within) and not got.capped
    shared = set.intersection(*[set(ids[list(k)]) for k in within])
    assert set(got.shared) == shared
    # the sentence of the report names the shared sites
    from siting.report.robust_section import robust_sentences
    text = " ".join(robust_sentences(s.sc, plan, s.gaps.places)).replace("\u00a0", " ")
    cap = s.sc.allocation.near_optimal_max_sets
    if len(within) <= cap:
        assert f"{len(within)} conjuntos dentro del 1 % del óptimo" in text
    else:  # the plan lists at most `cap` sets and says the count is a lower bound
        assert f"{cap} conjuntos dentro del 1 % del óptimo (al menos; lista limitada a {cap})" in text


def test_near_optimal_gap_and_max_sets_change_the_listing(san_marcos, san_marcos_plan):
    from siting.allocation.near_optimal import near_optimal
    s, scores, plan = san_marcos, san_marcos_plan.scores, san_marcos_plan.plan
    p, _, _ = _model_inputs(s, scores)
    near_optimal_gap = 0.05
    wide = near_optimal(p, plan.solution, gap=near_optimal_gap, max_sets=500)
    narrow = near_optimal(p, plan.solution, gap=0.0, max_sets=500)
    assert wide.n_sets > plan.near.n_sets >= narrow.n_sets >= 1
    near_optimal_max_sets = 1
    capped = near_optimal(p, plan.solution, gap=near_optimal_gap, max_sets=near_optimal_max_sets)
    assert capped.n_sets == 1 and capped.capped and set(capped.shared) == set(wide.shared)


def test_selection_frequency_equals_brute_force_per_draw(san_marcos, san_marcos_plan):
    s, scores, plan = san_marcos, san_marcos_plan.scores, san_marcos_plan.plan
    counts = dict.fromkeys(plan.proposals["ccpp_id"].astype(str), 0)
    for d in scores.draws:
        p, w, elig = _model_inputs(s, scores, draw=d)
        sets = _covered_by_sets(d.coverage, w, elig, 3)
        best = max(sets.values())
        winners = [k for k, v in sets.items() if v >= best - 1e-9]
        ids = np.asarray(p.candidate_ids, dtype=str)
        inter = set.intersection(*[set(ids[list(k)]) for k in winners])
        union = set().union(*[set(ids[list(k)]) for k in winners])
        for c in counts:  # a site in every optimal set counts; one in none does not; ties are checked apart
            assert c in inter or c not in union or len(winners) > 1
            counts[c] += c in inter
    freq = plan.proposals.set_index(plan.proposals["ccpp_id"].astype(str))["selection_frequency"]
    for c, k in counts.items():
        assert freq[c] >= k / len(scores.draws) - 1e-12
    assert freq.between(0, 1).all() and len(scores.draws) == 5


# --------------------------------------------------------------------------- hand cases and switches

def test_unserved_share_and_near_threshold_hand_cases():
    from siting.allocation.robust import near_threshold, unserved_share
    m = np.array([40.0, 54.0, 60.0, 63.0, 66.0, 90.0, np.inf, np.nan])
    np.testing.assert_allclose(unserved_share(m, threshold=60, taper=0.1), [0, 0, 0.5, 0.75, 1, 1, 1, 1])
    np.testing.assert_array_equal(unserved_share(m, threshold=60, taper=0.0), [0, 0, 0, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(near_threshold(m, threshold=60, margin=0.1),
                                  [False, False, True, True, False, False, False, False])


def test_served_taper_softens_already_served(san_marcos, san_marcos_plan):
    from siting.allocation.stage import covering_model, demand_weights
    s, scores = san_marcos, san_marcos_plan.scores
    sc = dataclasses.replace(s.sc, allocation=dataclasses.replace(s.sc.allocation, served_taper=0.2))
    served_taper = sc.allocation.served_taper
    m = s.gaps.places["minutes_nearest"].to_numpy(float)
    base = demand_weights(s.sc, s.gaps.places, indicators=s.data.district_indicators, petitions=s.data.petitions)
    u = np.clip((m - 48.0) / 24.0, 0, 1)  # by hand: T = 60, s = 0.2 -> 48 .. 72 min
    soft = covering_model(sc, s.data, s.gaps, scores).problem.w
    np.testing.assert_allclose(soft, base * np.where(np.isnan(m), 1, u))
    hard = covering_model(s.sc, s.data, s.gaps, scores).problem.w
    between = (m > 48) & (m < 72)
    assert between.any() and served_taper > 0 and not np.allclose(soft[between], hard[between])


def test_near_threshold_margin_flags_places(san_marcos):
    from siting.access import place_table
    s = san_marcos
    m = place_table(s.gaps, s.sc)["minutes_nearest"].to_numpy(float)
    for near_threshold_margin in (0.1, 0.25):
        sc = dataclasses.replace(s.sc, allocation=dataclasses.replace(s.sc.allocation,
                                                                      near_threshold_margin=near_threshold_margin))
        flag = place_table(s.gaps, sc)["near_threshold"].to_numpy(bool)
        np.testing.assert_array_equal(flag, np.abs(m - 60.0) < 60.0 * near_threshold_margin)
    assert flag.sum() > 0


def test_population_rule_catchment_uses_the_people_within_T(san_marcos):
    """Catchment population checked with scipy's own Dijkstra, both ways, mean <= T."""
    from scipy.sparse.csgraph import dijkstra
    s = san_marcos
    sc = dataclasses.replace(s.sc, candidates=dataclasses.replace(s.sc.candidates, population_rule="catchment"))
    scores = siting.score_candidates(sc, s.data, s.graph, s.gaps, progress=False)
    places = s.gaps.places
    own = pd.to_numeric(scores.candidates["population"], errors="coerce").to_numpy(float)
    assert scores.catchment_added == int((own < 150).sum()) > 0
    nodes = s.graph.point_nodes["places"]
    pos = scores.candidate_place_index
    pick = np.r_[np.flatnonzero(own < 150)[:3], np.flatnonzero(own >= 150)[:2]]
    back = dijkstra(s.graph.matrix, indices=nodes[pos[pick]], limit=120.0)[:, nodes]  # site -> place
    to = dijkstra(s.graph.reverse, indices=nodes[pos[pick]], limit=120.0)[:, nodes]  # place -> site
    pop = np.nan_to_num(places["population"].to_numpy(float))
    catch = ((to + back) / 2 <= 60.0) @ pop
    assert (catch >= 150).all()
    dropped = scores.excluded[scores.excluded["reason"] == "catchment_below_min"]
    assert set(dropped["ccpp_id"]).isdisjoint(set(scores.candidates["ccpp_id"]))


def test_speed_intervals_and_ranges_set_the_draws(san_marcos):
    s = san_marcos
    sc = dataclasses.replace(s.sc, suitability=dataclasses.replace(s.sc.suitability, speed_intervals="none"))
    assert uncertainty.speed_intervals(sc) == {}
    speed_ranges = {"vecinal": [30.0, 30.0], "detour": [1.5, 1.5]}
    sc2 = dataclasses.replace(s.sc, suitability=dataclasses.replace(s.sc.suitability, speed_ranges=speed_ranges))
    iv = uncertainty.speed_intervals(sc2)
    assert iv["vecinal"] == (30.0, 30.0) and iv["national_unknown"] == pytest.approx(
        _shipped_intervals()["national_unknown"])
    draws = uncertainty.draw_speeds(sc2.speeds, iv, n=3, rng=np.random.default_rng(0))
    assert all(d.road_kmh["vecinal"] == 30.0 and d.approximate_detour_factor == 1.5 for d in draws)
    assert len({d.road_kmh["national_unknown"] for d in draws}) == 3
    jitter = siting.score_candidates(sc, s.data, s.graph, s.gaps, progress=False)
    assert jitter.draws and all(d.factor != 1.0 for d in jitter.draws)
