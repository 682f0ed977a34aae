"""Tests of siting.allocation.objectives (p-median, p-center, max-min fairness, covering) against PySAL
spopt (PuLP + CBC) and brute force.

Every instance here is a SYNTHETIC FIXTURE (random minutes and weights generated in the test,
not real places); the real-data checks are in tests/test_objectives_real.py.
"""
from __future__ import annotations

import itertools

import numpy as np
import pulp
import pytest
import scipy.sparse as sp

from siting.allocation import MaximalCovering
from siting.errors import UserError
from siting.allocation.objectives import MaxCovering, MaxMinFairness, PCenter, PMedian, SitingData

SEEDS = list(range(6))


def fixture_instance(seed: int, n: int = 30, m: int = 9, *, no_existing_share: float = 0.2):
    """SYNTHETIC FIXTURE: minutes places x candidates, existing minutes (some inf), weights."""
    rng = np.random.default_rng(seed)
    D = rng.uniform(0, 100, (n, m))
    e = rng.uniform(20, 130, n)
    e[rng.random(n) < no_existing_share] = np.inf
    w = rng.integers(1, 50, n).astype(float)
    return D, e, w


def times(D, e, S, P):
    """Independent evaluation: minutes of each place with sites S open (P for no existing facility)."""
    base = np.where(np.isfinite(e), e, P)
    return np.minimum(base, D[:, list(S)].min(axis=1)) if len(S) else base


def subsets(m, N):
    for k in range(N + 1):
        yield from itertools.combinations(range(m), k)


# ----------------------------------------------------------------------------- against spopt


@pytest.mark.parametrize("seed", SEEDS)
def test_pmedian_equals_spopt_and_brute_force(seed):
    from spopt.locate import PMedian as SpoptPMedian
    D, e, w = fixture_instance(seed)
    N = 3
    model = PMedian.from_cost_matrix(D, w, existing_minutes=e, n_sites=N)
    res = model.solve("exact")
    P = model.data.unserved_minutes
    assert pytest.approx(max(D.max(), e[np.isfinite(e)].max())) == P
    # spopt: the existing facilities are one more column (their minutes), predefined open, p = N + 1
    full = np.c_[D, np.where(np.isfinite(e), e, P)]
    spopt = SpoptPMedian.from_cost_matrix(full, w, p_facilities=N + 1,
                                          predefined_facilities_arr=np.r_[np.zeros(D.shape[1]), 1].astype(int))
    spopt = spopt.solve(pulp.PULP_CBC_CMD(msg=False))
    assert res.status == "optimal"
    assert res.objective == pytest.approx(spopt.problem.objective.value(), rel=1e-7)
    best = min((w * times(D, e, S, P)).sum() for S in itertools.combinations(range(D.shape[1]), N))
    assert res.objective == pytest.approx(best, rel=1e-9)
    assert res.bound <= res.objective + 1e-6 and res.gap <= 1e-6
    assert len(res.selected) <= N


@pytest.mark.parametrize("seed", SEEDS)
def test_pcenter_equals_spopt_and_brute_force(seed):
    from spopt.locate import PCenter as SpoptPCenter
    D, e, w = fixture_instance(seed)
    N = 3
    model = PCenter.from_cost_matrix(D, w, existing_minutes=e, n_sites=N)
    res = model.solve("exact")
    P = model.data.unserved_minutes
    full = np.c_[D, np.where(np.isfinite(e), e, P)]
    spopt = SpoptPCenter.from_cost_matrix(full, p_facilities=N + 1,
                                          predefined_facilities_arr=np.r_[np.zeros(D.shape[1]), 1].astype(int))
    spopt = spopt.solve(pulp.PULP_CBC_CMD(msg=False))
    assert res.status == "optimal"
    assert res.objective == pytest.approx(spopt.problem.objective.value(), rel=1e-6)
    best = min(times(D, e, S, P).max() for S in itertools.combinations(range(D.shape[1]), N))
    assert res.objective == pytest.approx(best, rel=1e-12)
    assert res.bound == pytest.approx(res.objective)
    # tie-break: least total time among the plans of optimal worst time
    tb = min((w * times(D, e, S, P)).sum() for S in subsets(D.shape[1], N)
             if times(D, e, S, P).max() <= best + 1e-9)
    assert (w * times(D, e, res.selected, P)).sum() == pytest.approx(tb, rel=1e-9)


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_covering_equals_allocation_and_spopt(seed):
    from spopt.locate import MCLP
    D, e, w = fixture_instance(seed)
    T, N = 35.0, 3
    res = MaxCovering.from_cost_matrix(D, w, existing_minutes=e, n_sites=N, max_minutes=T).solve("exact")
    ref = MaximalCovering.from_coverage(D.T, w, max_minutes=T, n_sites=N, already_covered=e <= T).solve("exact")
    assert res.objective == pytest.approx(ref.objective)
    ww = np.where(e <= T, 0.0, w)
    mclp = MCLP.from_cost_matrix(D, ww, service_radius=T, p_facilities=N).solve(pulp.PULP_CBC_CMD(msg=False))
    assert res.objective == pytest.approx(mclp.problem.objective.value())


# ----------------------------------------------------------------------------- cut-off


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_sparse_cutoff_is_exact_beyond_existing_time_and_bounded_below_it(seed):
    D, e, w = fixture_instance(seed, no_existing_share=0.0)
    N = 3
    dense = PMedian.from_cost_matrix(D, w, existing_minutes=e, n_sites=N).solve("exact")
    C = float(e.max())  # every pair a place could use is within the cut-off
    S = sp.csr_array((D[D <= C], np.nonzero(D <= C)), shape=D.shape)
    sparse = PMedian.from_cost_matrix(S, w, existing_minutes=e, cutoff=C, n_sites=N)
    assert sparse.n_pairs() < (e[:, None] > D).sum() + 1
    assert sparse.solve("exact").objective == pytest.approx(dense.objective)
    # a smaller cut-off: the model optimises the truncated times (pairs beyond it unknown) ...
    c = 40.0
    Sc = sp.csr_array((D[c >= D], np.nonzero(c >= D)), shape=D.shape)
    trunc = PMedian.from_cost_matrix(Sc, w, existing_minutes=e, cutoff=c, n_sites=N)
    res = trunc.solve("exact")
    Dc = np.where(c >= D, D, np.inf)
    best = min((w * times(Dc, e, S_, np.inf)).sum() for S_ in itertools.combinations(range(D.shape[1]), N))
    assert res.objective == pytest.approx(best)
    assert res.objective >= dense.objective - 1e-6  # ... an upper bound on the true optimum
    after, exact = trunc.data.minutes_after(res.selected)
    true_after = times(D, e, res.selected, np.inf)
    assert np.allclose(after[exact], true_after[exact])
    assert (after[~exact] >= true_after[~exact] - 1e-9).all() and (after[~exact] > c).all()


def test_explicit_zero_pairs_count_and_unreachable_places_are_left_out():
    # place 0: a candidate at 0 minutes (explicit zero); place 2: no facility, no candidate
    S = sp.csr_array((np.array([0.0, 10.0, 20.0]), (np.array([0, 1, 1]), np.array([0, 0, 1]))), shape=(3, 2))
    e = np.array([30.0, 50.0, np.inf])
    w = np.array([10.0, 1.0, 1000.0])
    pm = PMedian.from_cost_matrix(S, w, existing_minutes=e, cutoff=60, n_sites=1)
    assert pm.data.unreachable.tolist() == [False, False, True]
    r = pm.solve("exact")
    assert r.selected.tolist() == [0] and r.objective == pytest.approx(10 * 0 + 1 * 10)
    pc = PCenter.from_cost_matrix(S, w, existing_minutes=e, cutoff=60, n_sites=1).solve("exact")
    assert pc.objective == pytest.approx(10.0)  # site 0: places at 0 and 10 min; the unreachable place is out


# ----------------------------------------------------------------------------- constraints


def constrained_instance(seed: int):
    """SYNTHETIC FIXTURE with groups, costs and parents (teacher minutes, capacity)."""
    D, e, w = fixture_instance(seed, n=24, m=8)
    rng = np.random.default_rng(100 + seed)
    groups = np.array(["A", "A", "A", "B", "B", "B", "C", "C"])
    cost = rng.choice([1.0, 2.0, 3.0], size=8)
    teacher = rng.uniform(0, 200, (8, 3))
    cap = np.array([1, 1, 0])
    district = rng.integers(0, 3, 24)
    kw = dict(existing_minutes=e, n_sites=3, budget=6.0, site_cost=cost, group_of_candidate=groups,
              min_per_group={"B": 1}, max_per_group=2, parent_minutes=teacher, parent_capacity=cap,
              parent_max_minutes=150.0)
    return D, e, w, kw, dict(groups=groups, cost=cost, teacher=teacher, cap=cap, district=district)


def feasible_brute(S, info, *, N=3, budget=6.0):
    """Independent check of a plan: N, budget, min 1 in B, max 2 per group, parents by brute force."""
    S = list(S)
    if len(S) > N or info["cost"][S].sum() > budget + 1e-9:
        return False
    g = info["groups"][S]
    if (g == "B").sum() < 1 or any((g == x).sum() > 2 for x in "ABC"):
        return False
    slots = [k for k, c in enumerate(info["cap"]) for _ in range(c)]
    ok = info["teacher"] <= 150.0
    return any(all(ok[i, slots[s]] for i, s in zip(S, perm)) for perm in itertools.permutations(range(len(slots)),
                                                                                                len(S)))


def _objective_brute(kind, D, e, w, S, P, district, T=40.0):
    t = times(D, e, S, P)
    if kind == "pmedian":
        return (w * t).sum()
    if kind == "pcenter":
        return t.max()
    if kind == "fair":
        after = times(D, e, S, np.inf)
        beyond = np.where(after <= T, 0.0, w)
        return np.bincount(district, weights=beyond, minlength=3).max()
    after = times(D, e, S, np.inf)
    return -np.where((after <= T) & ~(e <= T), w, 0.0).sum()  # covering (negated: all minimised here)


def _model(kind, D, w, kw, info):
    if kind == "pmedian":
        return PMedian.from_cost_matrix(D, w, **kw)
    if kind == "pcenter":
        return PCenter.from_cost_matrix(D, w, **kw)
    if kind == "fair":
        return MaxMinFairness.from_cost_matrix(D, w, place_group=info["district"], max_minutes=40.0, **kw)
    return MaxCovering.from_cost_matrix(D, w, max_minutes=40.0, **kw)


@pytest.mark.parametrize("kind", ["pmedian", "pcenter", "fair", "covering"])
@pytest.mark.parametrize("seed", SEEDS[:4])
def test_constrained_models_equal_brute_force(kind, seed):
    D, e, w, kw, info = constrained_instance(seed)
    model = _model(kind, D, w, kw, info)
    P = model.data.unserved_minutes
    plans = [S for S in subsets(8, 3) if feasible_brute(S, info)]
    assert plans, "the fixture must have feasible plans"
    best = min(_objective_brute(kind, D, e, w, S, P, info["district"]) for S in plans)
    res = model.solve("exact")
    assert res.status == "optimal"
    sign = -1 if kind == "covering" else 1
    assert sign * res.objective == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert feasible_brute(res.selected, info)
    # the heuristic is feasible, never better than the optimum, and its bound is on the right side
    h = model.solve("heuristic")
    assert feasible_brute(h.selected, info)
    if kind == "covering":
        assert h.objective <= res.objective + 1e-9 and h.bound >= res.objective - 1e-6
    else:
        assert h.objective >= res.objective - 1e-9 and h.bound <= res.objective + 1e-6


def test_feasibility_oracle_agrees_with_brute_force():
    for seed in SEEDS:
        D, e, w, kw, info = constrained_instance(seed)
        feas = PMedian.from_cost_matrix(D, w, **kw).feas
        for S in subsets(8, 4):
            assert feas.feasible(list(S)) == feasible_brute(S, info), S


# ----------------------------------------------------------------------------- heuristics


@pytest.mark.parametrize("seed", SEEDS)
def test_heuristics_never_beat_the_optimum_and_respect_their_bounds(seed):
    D, e, w = fixture_instance(seed, n=60, m=20)
    for cls, kw in [(PMedian, {}), (PCenter, {}), (MaxCovering, {"max_minutes": 30.0})]:
        model = cls.from_cost_matrix(D, w, existing_minutes=e, n_sites=4, **kw)
        ex, h = model.solve("exact"), model.solve("heuristic")
        assert h.status == "heuristic" and ex.status == "optimal"
        if model.sense == "min":
            assert ex.objective - 1e-9 <= h.objective and h.bound <= ex.objective + 1e-6
        else:
            assert h.objective <= ex.objective + 1e-9 and h.bound >= ex.objective - 1e-6
        assert 0 <= h.gap < 1


def test_pmedian_interchange_improves_a_greedy_trap():
    # HAND CASE: greedy opens the central site 0 first; the best pair is {1, 2}
    D = np.array([[5.0, 0.0, 10.0], [5.0, 10.0, 0.0]])
    e = np.array([20.0, 20.0])
    model = PMedian.from_cost_matrix(D, np.array([1.0, 1.0]), existing_minutes=e, n_sites=2)
    assert model._greedy(model._gains)[0] == 0
    h = model.solve("heuristic")
    assert sorted(h.selected.tolist()) == [1, 2] and h.objective == 0.0


def test_pcenter_min_weight_ignores_small_places():
    D, e, w = fixture_instance(3)
    P = PCenter.from_cost_matrix(D, w, existing_minutes=e, n_sites=3).data.unserved_minutes
    res = PCenter.from_cost_matrix(D, w, existing_minutes=e, n_sites=3, min_weight=25).solve("exact")
    big = w >= 25
    best = min(times(D, e, S, P)[big].max() for S in itertools.combinations(range(D.shape[1]), 3))
    assert res.objective == pytest.approx(best)


@pytest.mark.parametrize("measure", ["people", "share"])
def test_fairness_is_lexicographic(measure):
    D, e, w = fixture_instance(1)
    district = np.random.default_rng(7).integers(0, 4, len(w))
    T = 40.0
    res = MaxMinFairness.from_cost_matrix(D, w, existing_minutes=e, n_sites=3, place_group=district,
                                          max_minutes=T, measure=measure).solve("exact")
    W = np.bincount(district, weights=w)

    def worst(S):
        b = np.bincount(district, weights=np.where(times(D, e, S, np.inf) <= T, 0.0, w), minlength=4)
        return (b if measure == "people" else b / W).max()

    def covered(S):
        return np.where((times(D, e, S, np.inf) <= T) & (e > T), w, 0.0).sum()

    plans = list(itertools.combinations(range(D.shape[1]), 3))
    F = min(worst(S) for S in plans)
    assert res.objective == pytest.approx(F)
    assert res.details["newly_covered"] == pytest.approx(max(covered(S) for S in plans if worst(S) <= F + 1e-9))


# ----------------------------------------------------------------------------- errors


def test_bad_inputs_raise_user_errors():
    D, e, w = fixture_instance(0)
    with pytest.raises(UserError, match="weights"):
        PMedian.from_cost_matrix(D, w[:-1], existing_minutes=e, n_sites=2)
    with pytest.raises(UserError, match="finite and >= 0"):
        PMedian.from_cost_matrix(D, -w, existing_minutes=e, n_sites=2)
    with pytest.raises(UserError, match="n_sites or a budget"):
        PMedian.from_cost_matrix(D, w, existing_minutes=e)
    with pytest.raises(UserError, match="existing_minutes"):
        PMedian.from_cost_matrix(D, w, existing_minutes=e[:3], n_sites=2)
    with pytest.raises(UserError, match="minimums per group add up to 3"):
        PMedian.from_cost_matrix(D, w, existing_minutes=e, n_sites=2, group_of_candidate=["a"] * 9,
                                 min_per_group=3)
    with pytest.raises(UserError, match="cut-off|cost matrix computed within"):
        S = sp.csr_array((D[D <= 30], np.nonzero(D <= 30)), shape=D.shape)
        MaxCovering.from_cost_matrix(S, w, existing_minutes=e, cutoff=30, n_sites=2, max_minutes=60).solve("exact")
    with pytest.raises(UserError, match="extension centres in total"):  # 1 parent slot for 2 required sites
        PMedian.from_cost_matrix(D, w, existing_minutes=e, n_sites=2, group_of_candidate=["a"] * 9,
                                 min_per_group=2, parent_minutes=np.ones((9, 2)), parent_capacity=[1, 0],
                                 parent_max_minutes=10).solve("exact")


def test_shared_data_reused_by_several_models():
    D, e, w = fixture_instance(2)
    data = SitingData.from_cost_matrix(D, w, existing_minutes=e, n_sites=2)
    a = PMedian(data).solve("exact")
    b = PMedian(data.with_options(n_sites=3)).solve("exact")
    assert b.objective <= a.objective and len(b.selected) <= 3
    with pytest.raises(TypeError):
        data.with_options(weights=1)
