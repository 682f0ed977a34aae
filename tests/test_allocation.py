"""Tests of siting.allocation against brute force, PySAL spopt (pulp CBC) and hand cases.

All instances here are SYNTHETIC FIXTURES (random minutes / weights generated in the test,
clearly not real places); the real Cajamarca instance is exercised by
scripts/benchmark_allocation.py.
"""
from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pulp
import pytest
import scipy.sparse as sp

from siting.allocation import MaximalCovering, assign_parents, coverage_pattern
from siting.errors import UserError


# ----------------------------------------------------------------------------- fixtures


def synthetic_fixture_instance(seed: int, n_cand: int = 9, n_dem: int = 24, limit: float = 30.0):
    """SYNTHETIC FIXTURE: random minutes (cand x demand), weights, coverage within `limit`."""
    rng = np.random.default_rng(seed)
    minutes = rng.uniform(0, 100, (n_cand, n_dem))
    w = rng.integers(1, 60, n_dem).astype(float)
    cov = sp.csr_array(np.where(minutes <= limit, minutes, 0.0))
    # keep explicit entries for covered pairs (a pair at exactly 0 min is impossible here)
    return minutes, w, cov


def brute_force(minutes, w, limit, *, sizes, feasible=lambda S: True, already=None):
    """Best covered weight over all subsets with size in `sizes` satisfying `feasible`."""
    P = minutes <= limit
    ww = w.copy()
    if already is not None:
        ww[already] = 0
    best, best_set = -1.0, None
    for k in sizes:
        for S in itertools.combinations(range(P.shape[0]), k):
            if not feasible(S):
                continue
            v = ww[P[list(S)].any(axis=0)].sum() if S else 0.0
            if v > best + 1e-9:
                best, best_set = v, S
    return best, best_set


SEEDS = list(range(8))


# ----------------------------------------------------------------------------- exact vs oracles


@pytest.mark.parametrize("seed", SEEDS)
def test_exact_equals_brute_force_and_spopt(seed):
    minutes, w, _ = synthetic_fixture_instance(seed)
    N = 3
    m = MaximalCovering.from_coverage(minutes, w, max_minutes=30.0, n_sites=N)
    best, _ = brute_force(minutes, w, 30.0, sizes=[N])
    ex = m.solve("exact")
    full = m.exact(pricing=False)
    assert ex.status == "optimal" and full.status == "optimal"
    assert ex.objective == pytest.approx(best)
    assert full.objective == pytest.approx(best)
    # PySAL spopt MCLP with pulp CBC on the same coverage (cost matrix is clients x facilities)
    from spopt.locate import MCLP
    mclp = MCLP.from_cost_matrix(minutes.T, w, service_radius=30.0, p_facilities=N)
    mclp = mclp.solve(pulp.PULP_CBC_CMD(msg=False))
    assert ex.objective == pytest.approx(mclp.problem.objective.value())
    assert ex.bound >= ex.objective - 1e-6
    assert ex.covered.sum() == (minutes[ex.selected] <= 30).any(axis=0).sum()


@pytest.mark.parametrize("seed", SEEDS)
def test_greedy_bounds_and_swap(seed):
    minutes, w, cov = synthetic_fixture_instance(seed, n_cand=12, n_dem=40, limit=25.0)
    for N in (2, 4):
        m = MaximalCovering.from_coverage(cov, w, n_sites=N)
        ex = m.solve("exact").objective
        g = m.solve("greedy", swap=False)
        gs = m.solve("greedy")
        assert g.objective <= ex + 1e-9
        assert gs.objective <= ex + 1e-9
        assert g.objective >= (1 - 1 / math.e) * ex - 1e-9
        assert gs.objective >= g.objective - 1e-9
        assert g.bound >= ex - 1e-9 and gs.bound >= ex - 1e-9  # greedy bound is a true upper bound
        assert len(gs.selected) <= N
        # marginal gains add up to the objective and are in selection order
        assert np.sum(g.marginal_gains) == pytest.approx(g.objective)
        assert np.all(np.diff(g.marginal_gains) <= 1e-9)


def test_greedy_is_not_always_optimal_but_swap_fixes_hand_case():
    """Hand case: greedy takes the big middle site (covers 0..5 = 6), then one more;
    the optimum uses the two halves (covers 0..3 and 3..7 = 8 places)."""
    cover = np.zeros((3, 8), dtype=bool)
    cover[0, 1:7] = True  # middle, 6 places
    cover[1, 0:4] = True  # left half
    cover[2, 4:8] = True  # right half
    m = MaximalCovering.from_coverage(cover, np.ones(8), n_sites=2)
    g = m.solve("greedy", swap=False)
    assert g.objective == 7 and g.selected[0] == 0
    assert m.solve("greedy").objective == 8
    assert m.solve("exact").objective == 8


def test_reduction_keeps_optimum_and_reduces():
    minutes, w, cov = synthetic_fixture_instance(3, n_cand=10, n_dem=30, limit=35.0)
    P = minutes <= 35.0
    # duplicate a candidate and a demand column, add a dominated candidate (subset of row 0)
    sub = P[0] & (np.arange(P.shape[1]) % 2 == 0)
    P2 = np.vstack([P, P[1], sub])
    P2 = np.hstack([P2, P2[:, [4]]])
    w2 = np.append(w, 7.0)
    m = MaximalCovering.from_coverage(P2, w2, n_sites=3)
    red = m.reduce()
    assert red.stats["places_merged"] >= 1
    assert red.stats["candidates_dominated"] >= 2
    assert red.weights.sum() == pytest.approx(w2[P2.any(axis=0)].sum())
    mins = np.where(P2, 1.0, 99.0)
    best, _ = brute_force(mins, w2, 1.0, sizes=[3])
    assert m.exact(pricing=False).objective == pytest.approx(best)
    assert m.exact().objective == pytest.approx(best)


def test_already_covered_counts_nothing():
    minutes, w, cov = synthetic_fixture_instance(5)
    already = np.zeros(len(w), dtype=bool)
    already[::3] = True
    m = MaximalCovering.from_coverage(cov, w, already_covered=already, n_sites=2)
    best, _ = brute_force(minutes, w, 30.0, sizes=[2], already=already)
    sol = m.solve("exact")
    assert sol.objective == pytest.approx(best)
    assert sol.total_weight == pytest.approx(w[~already].sum())


# ----------------------------------------------------------------------------- constraints


@pytest.mark.parametrize("seed", SEEDS[:5])
def test_group_min_max_honoured(seed):
    minutes, w, cov = synthetic_fixture_instance(seed, n_cand=10, n_dem=30)
    groups = np.array(["A", "A", "A", "A", "B", "B", "B", "C", "C", "C"])
    mins, maxs = {"C": 1}, {"A": 1}
    m = MaximalCovering.from_coverage(cov, w, n_sites=3, group_of_candidate=groups,
                                      min_per_group=mins, max_per_group=maxs)

    def ok(S):
        g = groups[list(S)]
        return (g == "C").sum() >= 1 and (g == "A").sum() <= 1

    best, _ = brute_force(minutes, w, 30.0, sizes=[0, 1, 2, 3], feasible=ok)
    for method in ("exact", "greedy"):
        sol = m.solve(method)
        assert ok(sol.selected), method
        assert sol.objective <= best + 1e-9
    assert m.solve("exact").objective == pytest.approx(best)


@pytest.mark.parametrize("seed", SEEDS[:5])
def test_budget_honoured(seed):
    minutes, w, cov = synthetic_fixture_instance(seed, n_cand=10, n_dem=30)
    cost = np.array([1, 2, 3, 1, 2, 3, 1, 2, 3, 4], dtype=float)
    m = MaximalCovering.from_coverage(cov, w, budget=5.0, site_cost=cost)
    best, _ = brute_force(minutes, w, 30.0, sizes=range(0, 6), feasible=lambda S: cost[list(S)].sum() <= 5)
    ex = m.solve("exact")
    assert ex.objective == pytest.approx(best)
    for method in ("exact", "greedy"):
        sol = m.solve(method)
        assert cost[sol.selected].sum() <= 5 + 1e-9
    g = m.solve("greedy")
    assert g.bound >= best - 1e-9
    assert g.objective >= 0.5 * (1 - 1 / math.e) * best


@pytest.mark.parametrize("seed", SEEDS[:5])
def test_coverage_target_picks_fewest_sites(seed):
    minutes, w, cov = synthetic_fixture_instance(seed, n_cand=10, n_dem=30, limit=35.0)
    P = minutes <= 35.0
    target = 0.6
    need = target * w.sum()
    k_min = next(k for k in range(0, 11)
                 if any(w[P[list(S)].any(axis=0)].sum() >= need for S in itertools.combinations(range(10), k)))
    if w[P.any(axis=0)].sum() < need:
        pytest.skip("fixture cannot reach the target")
    m = MaximalCovering.from_coverage(cov, w, coverage_target=target)
    ex = m.solve("exact")
    assert len(ex.selected) == k_min
    assert ex.objective >= need - 1e-6
    g = m.solve("greedy")
    assert len(g.selected) >= k_min and g.objective >= need - 1e-6
    assert g.sites_lower_bound <= k_min


def test_infeasible_models_raise_user_error():
    minutes, w, cov = synthetic_fixture_instance(1)
    groups = ["A"] * 3 + ["B"] * 6
    with pytest.raises(UserError, match="min_per_group"):
        MaximalCovering.from_coverage(cov, w, n_sites=5, group_of_candidate=groups, min_per_group={"A": 4})
    with pytest.raises(UserError, match="n_sites"):
        MaximalCovering.from_coverage(cov, w, n_sites=2, group_of_candidate=groups, min_per_group=2)
    with pytest.raises(UserError, match="budget"):
        MaximalCovering.from_coverage(cov, w, budget=1.0, site_cost=2.0, group_of_candidate=groups,
                                      min_per_group=1)
    with pytest.raises(UserError, match="coverage_target"):
        MaximalCovering.from_coverage(cov, w, coverage_target=1.0, n_sites=1).solve("greedy")
    with pytest.raises(UserError, match="infeasible"):
        MaximalCovering.from_coverage(cov, w, coverage_target=1.0, n_sites=1).solve("exact")
    with pytest.raises(UserError, match="demand_weight"):
        MaximalCovering.from_coverage(cov, w[:-1], n_sites=2)
    with pytest.raises(UserError, match="n_sites, budget or coverage_target"):
        MaximalCovering.from_coverage(cov, w)


# ----------------------------------------------------------------------------- parents


def brute_force_assignment(T, cap, max_minutes):
    """Max #assigned, then min total minutes, over all parent choices (-1 = none)."""
    n, p = T.shape
    best = None
    for choice in itertools.product(range(-1, p), repeat=n):
        load = np.bincount([c for c in choice if c >= 0], minlength=p)
        if (load > cap).any():
            continue
        if any(c >= 0 and not (T[i, c] <= max_minutes) for i, c in enumerate(choice)):
            continue
        k = sum(c >= 0 for c in choice)
        tot = sum(T[i, c] for i, c in enumerate(choice) if c >= 0)
        key = (-k, tot)
        if best is None or key < best:
            best = key
    return -best[0], best[1]


@pytest.mark.parametrize("seed", range(6))
def test_assign_parents_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    T = rng.uniform(10, 200, (5, 3))  # SYNTHETIC FIXTURE teacher minutes
    T[rng.random(T.shape) < 0.2] = np.nan
    cap = np.array([1, 2, 1])
    res = assign_parents(np.arange(5), T, cap, 150.0, parent_ids=["P0", "P1", "P2"])
    k, tot = brute_force_assignment(T, cap, 150.0)
    tab = res.table
    assert (tab["status"] == "assigned").sum() == k
    assert res.total_minutes == pytest.approx(tot)
    load = tab.loc[tab["parent"] >= 0, "parent"].value_counts()
    assert all(load.get(p, 0) <= cap[p] for p in range(3))
    assert (tab.loc[tab["parent"] >= 0, "teacher_minutes"] <= 150).all()
    no_parent = ~(np.nan_to_num(T, nan=1e9) <= 150).any(axis=1)
    assert set(tab.loc[tab["status"] == "no_parent_within_limit", "candidate"]) == set(np.flatnonzero(no_parent))


def test_assign_parents_sparse_explicit_zero_counts():
    T = sp.csr_array((np.array([0.0, 50.0]), (np.array([0, 1]), np.array([0, 0]))), shape=(2, 1))
    res = assign_parents([0, 1], T, [1], 100.0)
    assert list(res.table["status"]) == ["assigned", "parents_full"]
    assert res.table["teacher_minutes"].iloc[0] == 0.0


def matching_feasible(S, T, cap, max_minutes):
    """networkx max-flow check that sites S can all get a parent within capacity."""
    G = nx.DiGraph()
    for i in S:
        G.add_edge("s", ("c", i), capacity=1)
        for p in range(T.shape[1]):
            if T[i, p] <= max_minutes:
                G.add_edge(("c", i), ("p", p), capacity=1)
    for p in range(T.shape[1]):
        G.add_edge(("p", p), "t", capacity=int(cap[p]))
    if not S:
        return True
    return nx.maximum_flow_value(G, "s", "t") == len(S)


@pytest.mark.parametrize("seed", range(5))
def test_require_parent_joint_capacity(seed):
    minutes, w, cov = synthetic_fixture_instance(seed, n_cand=9, n_dem=30, limit=35.0)
    rng = np.random.default_rng(100 + seed)
    T = rng.uniform(10, 250, (9, 2))  # SYNTHETIC FIXTURE teacher minutes candidate x CETPRO
    cap = np.array([1, 1])
    m = MaximalCovering.from_coverage(cov, w, n_sites=3, parent_minutes=T, parent_capacity=cap,
                                      parent_max_minutes=150.0)
    best, _ = brute_force(minutes, w, 35.0, sizes=[0, 1, 2, 3],
                          feasible=lambda S: matching_feasible(S, T, cap, 150.0))
    ex = m.solve("exact")
    assert ex.objective == pytest.approx(best)
    for sol in (ex, m.solve("greedy")):
        assert matching_feasible(list(sol.selected), T, cap, 150.0)
        res = assign_parents(sol.selected, T, cap, 150.0)
        assert (res.table["status"] == "assigned").all()


# ----------------------------------------------------------------------------- inputs and curve


def test_coverage_pattern_explicit_zero_and_threshold():
    M = sp.csr_array((np.array([0.0, 40.0, 70.0]), (np.array([0, 0, 1]), np.array([0, 1, 1]))), shape=(2, 2))
    P = coverage_pattern(M, max_minutes=60.0)
    assert P.toarray().tolist() == [[True, True], [False, False]]
    D = np.array([[5.0, np.nan], [np.inf, 60.0]])
    assert coverage_pattern(D, max_minutes=60.0).toarray().tolist() == [[True, False], [False, True]]
    with pytest.raises(UserError, match="max_minutes"):
        coverage_pattern(D)


def test_coverage_curve_greedy_and_exact():
    minutes, w, cov = synthetic_fixture_instance(2, n_cand=9, n_dem=30)
    m = MaximalCovering.from_coverage(cov, w, n_sites=2)
    curve = m.coverage_curve(4, exact=True)
    assert list(curve["n_sites"]) == [1, 2, 3, 4]
    assert np.all(np.diff(curve["greedy_covered"]) >= 0)
    for n, row in zip(curve["n_sites"], curve.itertuples()):
        best, _ = brute_force(minutes, w, 30.0, sizes=[n])
        assert row.exact_covered == pytest.approx(best)
        assert row.greedy_covered <= best + 1e-9


def test_suitability_breaks_ties():
    cover = np.zeros((3, 4), dtype=bool)
    cover[0, :2] = cover[1, :2] = True  # identical coverage
    cover[2, 2:] = True
    m = MaximalCovering.from_coverage(cover, np.ones(4), n_sites=1, suitability=[0.1, 0.9, 0.0],
                                      candidate_ids=["a", "b", "c"])
    assert m.solve("greedy").selected_ids == ["b"]


def test_dominance_respects_cost_and_group():
    """Hand case: site 1 covers a subset of site 0 but is cheaper / in another group, so
    the reduction must keep it (the optimum uses it)."""
    cover = np.array([[True, True, True], [True, True, False]])
    m = MaximalCovering.from_coverage(cover, np.ones(3), budget=1.0, site_cost=[3.0, 1.0])
    assert m.reduce().stats["candidates_dominated"] == 0
    assert m.exact(pricing=False).objective == 2
    m = MaximalCovering.from_coverage(cover, np.ones(3), n_sites=1, group_of_candidate=["A", "B"],
                                      max_per_group={"A": 0})
    assert m.solve("exact").objective == 2 and list(m.solve("exact").selected) == [1]
    m = MaximalCovering.from_coverage(cover, np.ones(3), n_sites=1)
    assert m.reduce().stats["candidates_dominated"] == 1


def test_auto_method_is_optimal_on_small_instances():
    minutes, w, cov = synthetic_fixture_instance(4, n_cand=10, n_dem=30)
    best, _ = brute_force(minutes, w, 30.0, sizes=[3])
    assert MaximalCovering.from_coverage(cov, w, n_sites=3).solve("auto").objective == pytest.approx(best)
    cost = np.arange(1, 11, dtype=float)
    best_b, _ = brute_force(minutes, w, 30.0, sizes=range(0, 5), feasible=lambda S: cost[list(S)].sum() <= 6)
    auto = MaximalCovering.from_coverage(cov, w, budget=6.0, site_cost=cost).solve("auto")
    assert auto.objective == pytest.approx(best_b) and auto.status == "optimal"
    with pytest.raises(UserError, match="unknown allocation method"):
        MaximalCovering.from_coverage(cov, w, n_sites=3).solve("fast")
