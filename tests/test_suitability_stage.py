"""The score stage on one real UGEL (San Marcos, shipped data): the candidate coverage is
computed once at ``T (1 + speed_jitter)`` and thresholded at ``T f`` for every Monte Carlo
speed draw.  Checked against the previous algorithm, which recomputed the coverage with a
bounded Dijkstra at ``T f`` for every draw: the matrices are identical entry by entry, and
so is the whole rank-stability table; the stage calls the graph twice instead of
``2 + speed_samples`` times.  (That is the global-factor scheme, ``suitability.speed_intervals
= "none"``; the default interval draws are checked in ``test_robust.py``.)
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import siting
from siting.network import solve
from siting.suitability import stage as score_stage
from siting.suitability.criteria import compute_criteria
from siting.suitability.mcda import WeightedScore
from siting.suitability.sensitivity import monte_carlo


def _jitter(sc):
    """The scenario with one global speed factor (no interval table)."""
    import dataclasses
    return dataclasses.replace(sc, suitability=dataclasses.replace(sc.suitability, speed_intervals="none"))


@pytest.fixture(scope="module")
def scored(san_marcos):
    s = san_marcos
    return siting.score_candidates(_jitter(s.sc), s.data, s.graph, s.gaps, progress=False)


def test_within_keeps_explicit_zeros_and_only_entries_under_the_limit():
    m = sp.csr_array((np.array([0.0, 5.0, 12.0, 7.5]), np.array([0, 2, 1, 2]), np.array([0, 2, 4])), shape=(2, 3))
    got = score_stage.within(m, 7.5)
    assert got.toarray().tolist() == [[0.0, 0.0, 5.0], [0.0, 0.0, 7.5]]
    assert got.nnz == 3 and list(got.indices) == [0, 2, 2]  # the stored 0 minutes (place to itself) stays


def test_thresholded_coverage_equals_the_bounded_dijkstra_at_every_factor(san_marcos, scored):
    sc, g = san_marcos.sc, san_marcos.graph
    nodes = g.point_nodes["places"]
    cand = nodes[scored.candidate_place_index]
    T, j = sc.allocation.max_minutes, sc.suitability.speed_jitter
    d = sc.access.direction  # the shipped "mean" of both trips
    half = score_stage.ROUNDING_MARGIN  # minutes are rounded to 0.1 (round half up) before the threshold
    once = score_stage.rounded(solve.directed_coverage(g, cand, nodes, T * (1 + j) + half, direction=d,
                                                       progress=False))
    assert once.nnz > scored.coverage.nnz > 0
    for f in (1 - j, 0.93, 1.0, 1.07, 1 + j - 1e-9, 1 + j):
        direct = score_stage.within(score_stage.rounded(
            solve.directed_coverage(g, cand, nodes, T * f + half, direction=d, progress=False)), T * f)
        got = score_stage.within(once, T * f)
        assert np.array_equal(got.indptr, direct.indptr), f
        assert np.array_equal(got.indices, direct.indices), f
        assert np.array_equal(got.data, direct.data), f  # bit for bit, explicit zeros included
    direct = score_stage.within(score_stage.rounded(
        solve.directed_coverage(g, cand, nodes, T + half, direction=d, progress=False)), T)
    assert (scored.coverage != direct).nnz == 0 and scored.coverage.nnz == direct.nnz


def test_rank_stability_equals_the_per_draw_recomputation(san_marcos, scored):
    """The old algorithm, written out: criteria recomputed with a fresh coverage at T f per draw."""
    sc, data, g, gaps = _jitter(san_marcos.sc), san_marcos.data, san_marcos.graph, san_marcos.gaps
    places = gaps.places
    nodes = g.point_nodes["places"]
    # candidates in the stage's own (input) order: undo the rank ordering of the result
    order = np.argsort(scored.candidate_place_index, kind="stable")
    pos = scored.candidate_place_index[order]
    cand = scored.candidates.iloc[order]
    cand = cand[[c for c in cand.columns if c in set(places.columns) | {"host_premises", "tambo",
                                                                         "host_premises_list", "minutes_existing"}]]
    T = sc.allocation.max_minutes
    teacher = scored.teacher_minutes.tocsr()[order]
    best = score_stage._row_min(teacher)
    minutes_any = places["minutes_nearest"].to_numpy(float)
    kmh = float(np.exp(-sc.speeds.tobler_decay * sc.speeds.tobler_slope_offset) * sc.speeds.walk_kmh_max)
    road = places["flag_road_distance_m"].to_numpy(float)[pos] / (kmh * 1000 / 60)
    calls = []

    def old_criteria(f: float = 1.0) -> pd.DataFrame:
        calls.append(f)
        c = score_stage.within(score_stage.rounded(solve.directed_coverage(
            g, nodes[pos], nodes, T * f + score_stage.ROUNDING_MARGIN, direction=sc.access.direction,
            progress=False)), T * f)
        t = compute_criteria(cand, places, c, minutes_any > T * f, best / f, data.district_indicators, data.petitions,
                             target_group=sc.population.target_group, road_minutes=road / f)
        t["time_to_nearest_facility"] = t["time_to_nearest_facility"] / f
        return t

    table = old_criteria(1.0)
    s = sc.suitability
    old = monte_carlo(table, WeightedScore.from_scenario(sc).weights, n_runs=s.sensitivity_runs,
                      concentration=s.dirichlet_concentration, top_n=max(sc.allocation.n_sites, 1), seed=sc.run.seed,
                      normalisation=s.normalisation, recompute=old_criteria, speed_jitter=s.speed_jitter,
                      n_speed_samples=s.speed_samples, progress=False)
    assert len(calls) == 1 + s.speed_samples
    got = scored.candidates.iloc[order]
    for col in ("share_top_n", "rank_median", "rank_p05", "rank_p95"):
        np.testing.assert_array_equal(got[col].to_numpy(float), old[col].to_numpy(float), err_msg=col)
    np.testing.assert_array_equal(got["unserved_target"].to_numpy(float), table["unserved_target"].to_numpy(float))


def _count_searches(monkeypatch) -> list:
    """The limit of every ``solve.coverage`` search the score stage asks of the graph, in order."""
    calls = []
    real = solve.coverage

    def counting(*args, **kwargs):
        calls.append(args[3])
        return real(*args, **kwargs)

    monkeypatch.setattr(score_stage.solve, "coverage", counting)
    return calls


def test_the_stage_asks_the_graph_for_coverage_twice(san_marcos, monkeypatch):
    calls = _count_searches(monkeypatch)
    import dataclasses
    # no disk cache (network.cost_cache): every search is asked of the graph, and counted here
    uncached = dataclasses.replace(san_marcos.sc, run=dataclasses.replace(san_marcos.sc.run, cache_dir=""))
    sc = _jitter(uncached)
    siting.score_candidates(sc, san_marcos.data, san_marcos.graph, san_marcos.gaps, progress=False)
    # twice: the reach and the teacher trips, each as the two one-way searches of the mean, each
    # within 2 T rho / (1 + rho) (solve.one_way_limit, rho = the graph's edge asymmetry, #19)
    assert sc.access.direction == "mean"
    rho = san_marcos.graph.asymmetry
    assert 1.3 < rho < 1.5

    def one_way(t):
        return solve.one_way_limit(san_marcos.graph, t)
    assert one_way(60.0) == pytest.approx(2 * 60.0 * rho / (1 + rho), rel=1e-8)
    half = score_stage.ROUNDING_MARGIN  # the rounding margin (one rounding rule)
    reach = one_way(sc.allocation.max_minutes * (1 + sc.suitability.speed_jitter) + half)
    teacher = one_way(sc.allocation.teacher_max_minutes + half)
    assert calls == [reach, reach, teacher, teacher]
    # interval draws (the default): the same four searches on each re-timed graph, within T
    calls.clear()
    siting.score_candidates(uncached, san_marcos.data, san_marcos.graph, san_marcos.gaps, progress=False)
    T, tmax = sc.allocation.max_minutes, sc.allocation.teacher_max_minutes
    base = [one_way(T + half), one_way(T + half), teacher, teacher]  # the stage's own, with the rounding margin
    drawn = calls[len(base):]
    assert calls[:len(base)] == base and len(drawn) == 4 * sc.suitability.speed_samples
    # each re-timed graph keeps Tobler's ratio (roads are symmetric), so the same one-way limits
    assert drawn == pytest.approx([one_way(T), one_way(T), one_way(tmax), one_way(tmax)] * sc.suitability.speed_samples,
                                  rel=1e-9)


def test_a_second_score_reads_every_search_from_the_disk_cache(san_marcos, monkeypatch, tmp_path):
    """With ``run.cache_dir`` the base reach, the teacher minutes and every travel-time draw's
    reach are read back (issue #19): the second stage asks the graph for no search and gets
    the same matrices, array for array."""
    import dataclasses

    import numpy as np
    import scipy.sparse as sp
    calls = _count_searches(monkeypatch)
    sc = dataclasses.replace(san_marcos.sc, run=dataclasses.replace(san_marcos.sc.run, cache_dir=str(tmp_path)))
    first = siting.score_candidates(sc, san_marcos.data, san_marcos.graph, san_marcos.gaps, progress=False)
    assert len(calls) == 4 * (1 + sc.suitability.speed_samples) and len(first.draws) == sc.suitability.speed_samples
    calls.clear()
    second = siting.score_candidates(sc, san_marcos.data, san_marcos.graph, san_marcos.gaps, progress=False)
    assert calls == []

    def same(a, b):
        a, b = sp.csr_array(a), sp.csr_array(b)
        return a.shape == b.shape and all(np.array_equal(x, y) for x, y in
                                          ((a.indptr, b.indptr), (a.indices, b.indices), (a.data, b.data)))
    assert same(first.coverage, second.coverage) and same(first.teacher_minutes, second.teacher_minutes)
    for d1, d2 in zip(first.draws, second.draws, strict=True):
        assert same(d1.coverage, d2.coverage) and same(d1.teacher_minutes, d2.teacher_minutes)
        assert np.array_equal(d1.minutes_nearest, d2.minutes_nearest)
    assert first.candidates["score"].equals(second.candidates["score"])
