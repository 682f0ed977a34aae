"""Issue #19: the exact reductions of the Pareto front, on REAL data.

The instance is UGEL San Marcos of the shipped data (INEI places, DRE CETPRO with the real
parent ICHOCAN and its capacity, engine minutes from the project's graph: fixtures
``san_marcos`` / ``san_marcos_plan`` of tests/conftest.py), as the propose stage builds it
(``choice.siting_data``): 307 places, 39 eligible candidates, at most 3 sites (the parent's
capacity).  Small enough to weigh every feasible plan:

* the front = brute force over every feasible plan (lexicographic per ``eps``, the same grid)
  and = the former algorithm (``forward_front`` of tests/test_pareto_start_issue19.py);
* :func:`siting.allocation.objectives.fixing.site_bounds` bounds every plan that opens a site
  (brute force), and drops sites;
* the reduced phase-1 / phase-2 MILPs (``tradeoff._kept``) return the plans of the unreduced ones;
* ``tradeoff._within_limit`` (pairs within T2) changes no coverage, no row, no swap gain;
* :func:`~siting.allocation.objectives.covering.cover_rows` = its former per-place loop (copied).
"""
from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from test_pareto_start_issue19 import forward_front

from siting.allocation.objectives import MaxCovering, pareto_front
from siting.allocation.objectives import tradeoff as tr
from siting.allocation.objectives.constraints import Milp
from siting.allocation.objectives.covering import cover_rows
from siting.allocation.objectives.fixing import site_bounds

#: (n_sites, T, T2) with a real trade-off on San Marcos (5-6 front points)
SETTINGS = [(2, 45.0, 90.0), (3, 45.0, 90.0), (3, 30.0, 60.0)]


@pytest.fixture(scope="module")
def real(san_marcos, san_marcos_plan):
    from siting.allocation import choice
    from siting.allocation.stage import demand_weights, parent_capacity
    s, scores = san_marcos, san_marcos_plan.scores
    costs = choice.cost_matrix(s.sc, s.gaps, scores, s.graph)
    w = demand_weights(s.sc, s.gaps.places, indicators=s.data.district_indicators, petitions=s.data.petitions)
    d = choice.siting_data(s.sc, s.gaps, scores, costs, w, capacity=parent_capacity(s.sc, s.data))
    d = d.with_options(suitability_weight=0.0)
    assert d.has_parents and not (d.group_min > 0).any() and not np.isfinite(d.group_max).any() and d.budget is None
    return d


class Brute:
    """Every feasible plan of at most ``N`` sites, weighed without the solver's code: minutes from
    the pair arrays, the parent matching by networkx."""

    def __init__(self, d, T: float, T2: float):
        D = np.full((d.n_places, d.n_candidates), np.inf)
        D[d.pair_place, d.pair_cand] = d.pair_min
        elig = [int(i) for i in np.flatnonzero(d.eligible)]
        plans = [S for k in range(1, int(d.n_sites) + 1) for S in itertools.combinations(elig, k)
                 if self._matchable(d, S)]
        t = np.array([np.minimum(d.existing, D[:, list(S)].min(axis=1)) for S in plans])
        self.plans = plans
        self.cov = ((t <= T) & (d.existing > T)[None, :]) @ d.w
        self.beyond = (t > T2) @ d.w

    @staticmethod
    def _matchable(d, S) -> bool:
        g = nx.Graph()
        for i in S:
            for k in d.parent_options[i]:
                for c in range(int(d.parent_capacity[k])):
                    g.add_edge(("site", i), ("slot", int(k), c))
        if any(("site", i) not in g for i in S):
            return False
        match = nx.bipartite.maximum_matching(g, top_nodes=[("site", i) for i in S])
        return all(("site", i) in match for i in S)

    def lexicographic(self, eps: float | None) -> tuple[float, float]:
        ok = np.ones(len(self.plans), bool) if eps is None else self.beyond <= eps
        cov = self.cov[ok].max()
        return float(cov), float(self.beyond[ok & (self.cov >= cov - 1e-7 * max(1.0, cov))].min())

    def front(self, n_points: int) -> list[tuple[float, float]]:
        pts = [self.lexicographic(None)]
        b_min = float(self.beyond.min())
        for eps in np.linspace(pts[0][1], b_min, n_points)[1:]:
            c, b = self.lexicographic(float(eps) + 1e-7 * max(1.0, float(eps)))
            if not any(b >= p[1] - 1e-6 * max(1.0, b) for p in pts):
                pts.append((c, b))
        return pts


@pytest.mark.parametrize(("n", "T", "T2"), SETTINGS)
def test_front_equals_brute_force_and_the_former_algorithm(real, n, T, T2):
    d = real.with_options(n_sites=n)
    front = pareto_front(d, max_minutes=T, equity_minutes=T2, n_points=6)
    t = front.table
    assert len(t) >= 4  # a real trade-off
    expected = Brute(d, T, T2).front(6)
    assert len(t) == len(expected)
    for (c, b), (_, row) in zip(expected, t.iterrows()):
        assert row["newly_covered"] == pytest.approx(c, rel=1e-12, abs=1e-9)
        assert row["beyond"] == pytest.approx(b, rel=1e-12, abs=1e-9)
    assert t["selected"].tolist() == forward_front(d, n_points=6, T=T, T2=T2)
    assert (t["status"] == "optimal").all()


@pytest.mark.parametrize(("n", "T", "T2"), SETTINGS[1:])
def test_site_bounds_bound_every_plan_that_opens_the_site(real, n, T, T2):
    d = real.with_options(n_sites=n)
    brute = Brute(d, T, T2)
    eps = float(np.quantile(brute.beyond, 0.2))
    m1 = MaxCovering(d, max_minutes=T, equity_minutes=T2, max_beyond=eps)
    m, cand, x0, _ = m1._model()
    low = site_bounds(m, x0 + np.arange(len(cand)))
    assert low is not None
    ok = brute.beyond <= eps
    best = -brute.cov[ok].max()
    dropped = 0
    for k, i in enumerate(cand):
        opens = ok & np.array([int(i) in S for S in brute.plans])
        if opens.any():  # every plan that opens i costs at least L_i (here: -newly covered)
            assert low[k] <= -brute.cov[opens].max() + 1e-6
        dropped += low[k] > best + tr._tol(best)
    assert dropped >= len(cand) // 3  # the fixing rules out many sites


@pytest.mark.parametrize(("n", "T", "T2"), SETTINGS)
def test_reduced_milps_return_the_plans_of_the_unreduced_ones(real, n, T, T2, monkeypatch):
    """Every point of the grid by :func:`tradeoff._lexicographic` with the fixing and without it
    (``_site_bounds`` returning None: the MILPs on every eligible site), from the same poor start
    (the plan of fewest people beyond T2, no swap search), and = brute force."""
    d = tr._within_limit(real.with_options(n_sites=n), T2)
    base = MaxCovering(d, max_minutes=T, equity_minutes=T2)
    brute = Brute(real.with_options(n_sites=n), T, T2)
    start = list(brute.plans[int(np.argmin(brute.beyond))])
    grid = [float(e) + 1e-7 for e in np.linspace(brute.lexicographic(None)[1], brute.beyond.min(), 6)[1:]]
    got = [tr._lexicographic(base, eps, time_limit=60, start=start) for eps in grid]
    exp = [brute.lexicographic(eps) for eps in grid]
    assert sum(c > base.evaluate(start)[0] + 1.0 for c, _ in exp) >= 3  # the start is far from most optima
    for (c, b), g in zip(exp, got):
        assert g[1:3] == (pytest.approx(c, rel=1e-12), pytest.approx(b, rel=1e-12))
    monkeypatch.setattr(tr, "_site_bounds", lambda m1: None)
    want = [tr._lexicographic(base, eps, time_limit=60, start=start) for eps in grid]
    assert [sorted(g[0]) for g in got] == [sorted(w[0]) for w in want]
    assert [g[1:] for g in got] == [w[1:] for w in want]


def test_kept_drops_sites_and_keeps_the_plan(real):
    d = real.with_options(n_sites=3)
    brute = Brute(d, 45.0, 90.0)
    eps = float(np.quantile(brute.beyond, 0.2))
    m1 = MaxCovering(d, max_minutes=45.0, equity_minutes=90.0, max_beyond=eps)
    bounds = tr._site_bounds(m1)
    plan = list(brute.plans[int(np.argmax(np.where(brute.beyond <= eps, brute.cov, -1)))])
    f = -m1.evaluate(plan)[0]
    kept = tr._kept(m1, bounds, f + tr._tol(f), plan)
    assert set(plan) <= set(np.flatnonzero(kept.data.eligible))
    assert kept.data.eligible.sum() < d.eligible.sum()
    assert not (kept.data.eligible & ~d.eligible).any()
    assert d.eligible.sum() == 39  # the original data is not changed


def test_pairs_within_the_limit_change_nothing(real):
    T, T2 = 45.0, 90.0
    d = real.with_options(n_sites=3)
    small = tr._within_limit(d, T2)
    assert len(small.pair_min) < len(d.pair_min) and (small.pair_min <= T2).all()
    rng = np.random.default_rng(0)
    elig = np.flatnonzero(d.eligible)
    for _ in range(20):
        plan = [int(i) for i in rng.choice(elig, size=3, replace=False)]
        for lim in (T, T2, 60.0):
            assert np.array_equal(small.covered_within(plan, lim), d.covered_within(plan, lim))
        a, b = MaxCovering(d, max_minutes=T), MaxCovering(small, max_minutes=T)
        assert np.array_equal(a._swap_gains(plan), b._swap_gains(plan))
    for lim in (T, T2):
        assert _rows(d, lim) == _rows(small, lim)


def _rows(d, limit, **kw):
    m = Milp()
    cand = np.flatnonzero(d.eligible)
    x0 = m.add_vars(len(cand))
    rep, w, y0 = cover_rows(m, d, cand, x0, limit, **kw)
    c, A = m.arrays()
    return (rep.tolist(), w.tolist(), y0, A.toarray().tolist(), np.concatenate(m._lo).tolist(),
            np.concatenate(m._hi).tolist())


def _rows_before(d, limit, *, place_mask=None, label=None):
    """``cover_rows`` before #19 (copied): the per-place key loop and per-group rows."""
    m = Milp()
    cand = np.flatnonzero(d.eligible)
    x0 = m.add_vars(len(cand))
    col = np.full(d.n_candidates, -1)
    col[cand] = np.arange(len(cand))
    pp, pc, pm = d.pair_place, d.pair_cand, d.pair_min
    mask = d.eligible[pc] & (pm <= limit) & (d.existing[pp] > limit) & (d.w[pp] > 0)
    if place_mask is not None:
        mask &= place_mask[pp]
    pp, pc = pp[mask], pc[mask]
    order = np.lexsort((pc, pp))
    pp, pc = pp[order], pc[order]
    places, start = np.unique(pp, return_index=True)
    bounds = np.r_[start, len(pp)]
    lab = np.zeros(d.n_places, dtype=np.int64) if label is None else np.asarray(label, dtype=np.int64)
    key_of: dict[bytes, int] = {}
    group = np.empty(len(places), dtype=np.int64)
    for k, j in enumerate(places):
        key = lab[j].tobytes() + pc[bounds[k]:bounds[k + 1]].tobytes()
        group[k] = key_of.setdefault(key, len(key_of))
    n_y = len(key_of)
    weights = np.bincount(group, weights=d.w[places], minlength=n_y)
    rep = np.full(n_y, -1, dtype=np.int64)
    rep[group[::-1]] = places[::-1]
    first_k = np.full(n_y, -1)
    first_k[group[::-1]] = np.arange(len(places))[::-1]
    y0 = m.add_vars(n_y)
    if n_y:
        rows, cols = [], []
        for g in range(n_y):
            k = first_k[g]
            rows.append(np.full(bounds[k + 1] - bounds[k], g))
            cols.append(x0 + col[pc[bounds[k]:bounds[k + 1]]])
        r, c = np.concatenate(rows), np.concatenate(cols)
        m.add_rows(np.concatenate([r, np.arange(n_y)]), np.concatenate([c, y0 + np.arange(n_y)]),
                   np.concatenate([-np.ones(len(r)), np.ones(n_y)]), -np.inf, 0.0, n_rows=n_y)
    _, A = m.arrays()
    return (rep.tolist(), weights.tolist(), y0, A.toarray().tolist(), np.concatenate(m._lo).tolist(),
            np.concatenate(m._hi).tolist())


@pytest.mark.parametrize("limit", [30.0, 60.0, 120.0])
def test_cover_rows_equals_the_former_loop(real, limit):
    rng = np.random.default_rng(int(limit))
    label = rng.integers(0, 4, real.n_places)
    mask = rng.random(real.n_places) < 0.6
    assert _rows(real, limit) == _rows_before(real, limit)
    assert _rows(real, limit, label=label) == _rows_before(real, limit, label=label)
    assert _rows(real, limit, label=label, place_mask=mask) == _rows_before(real, limit, label=label, place_mask=mask)
