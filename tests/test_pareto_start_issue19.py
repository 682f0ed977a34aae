"""Issue #19: the Pareto front with MIP starts equals the front without them.

The fast :func:`siting.allocation.objectives.pareto_front` solves the epsilon grid from the
tightest point up and gives HiGHS a start (a swap-improved plan) at every MILP.  These tests
compare it with an independent copy of the previous algorithm (loosest point first, no starts,
``scipy.optimize.milp``), with the SciPy fallback (no HiGHS binding) and check the start
vectors and the swap search by hand.

Instances are SYNTHETIC FIXTURES (random minutes and continuous random populations, so that
two plans tie with probability zero), not real data.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from siting.allocation import highs
from siting.allocation.objectives import MaxCovering, SitingData, pareto_front
from siting.allocation.objectives import constraints as cons
from siting.allocation.objectives import tradeoff as tr


def fixture(seed: int, *, n: int = 60, m: int = 14, parents: bool = False, groups: bool = False) -> SitingData:
    """SYNTHETIC FIXTURE: minutes places x candidates, existing minutes, continuous weights."""
    rng = np.random.default_rng(seed)
    D = rng.uniform(0, 300, (n, m))
    e = rng.uniform(30, 400, n)
    w = rng.uniform(1, 60, n)
    kw: dict = {}
    if parents:
        kw.update(parent_minutes=rng.uniform(0, 200, (m, 3)), parent_capacity=[1, 1, 1], parent_max_minutes=120)
    if groups:
        kw.update(group_of_candidate=np.arange(m) % 2, min_per_group={0: 1, 1: 0}, max_per_group=2)
    return SitingData.from_cost_matrix(D, w, existing_minutes=e, n_sites=4, **kw)


def forward_front(data: SitingData, *, n_points: int, T: float = 60.0, T2: float = 120.0) -> list[list[int]]:
    """The front's plans by the algorithm before #19 (copied): loosest eps first, no starts,
    ``scipy.optimize.milp``; phase 1 at the gap 1e-9 of the new code (it was 1e-6)."""
    def lexi(eps):
        m = MaxCovering(data, max_minutes=T, equity_minutes=T2, max_beyond=eps)
        r1 = m.exact(time_limit=60, mip_rel_gap=1e-9)
        cand, x0, res = m._milp(time_limit=60, mip_rel_gap=1e-9, objective="beyond",
                                min_covered=r1.objective - 1e-7 * max(1.0, r1.objective))
        sel = sorted(int(i) for i in cand[res.x[x0:x0 + len(cand)] > 0.5])
        return sel, m.beyond(sel)

    sel_a, b_a = lexi(None)
    m_min = MaxCovering(data, max_minutes=T, equity_minutes=T2)
    cand, x0, res = m_min._milp(time_limit=60, mip_rel_gap=1e-9, objective="beyond")
    b_min = m_min.beyond(list(cand[res.x[x0:x0 + len(cand)] > 0.5]))
    plans, bs = [sel_a], [b_a]
    if b_min < b_a - 1e-6:
        for eps in np.linspace(b_a, b_min, n_points)[1:]:
            sel, b = lexi(float(eps) + 1e-7 * max(1.0, float(eps)))
            if not any(b >= p - 1e-6 * max(1.0, b) for p in bs):
                plans.append(sel)
                bs.append(b)
    return plans


CASES = [(0, False, False), (2, False, True), (1, True, False), (5, True, False), (2, True, True)]


@pytest.mark.parametrize(("seed", "parents", "groups"), CASES)
def test_front_with_starts_equals_the_front_without(seed, parents, groups, monkeypatch):
    data = fixture(seed, parents=parents, groups=groups)
    fast = pareto_front(data, n_points=6)
    assert fast.table["selected"].tolist() == forward_front(data, n_points=6)
    assert len(fast.table) >= 3  # a real trade-off
    # the SciPy fallback (no HiGHS binding: starts dropped) gives the same table, value for value
    monkeypatch.setattr(highs, "_Highs", None)
    assert not highs.available()
    pd.testing.assert_frame_equal(pareto_front(data, n_points=6).table, fast.table, check_exact=True)


@pytest.mark.parametrize(("seed", "parents", "groups"), CASES[:3])
def test_front_solved_as_two_chains_in_side_processes_equals_the_front(seed, parents, groups):
    """Issue #19: with ``run_aside`` the grid is solved as two chains in side processes."""
    from siting.report.side_tasks import deferred_writes, run_aside

    data = fixture(seed, parents=parents, groups=groups)
    calls: list[dict] = []

    def counting(fn, /, *args, **kwargs):
        calls.append(kwargs)
        return run_aside(fn, *args, **kwargs)

    with deferred_writes(workers=2):
        split = pareto_front(data, n_points=7, run_aside=counting)
    assert [(c["part"], c["parts"]) for c in calls] == [(0, 2), (1, 2)]
    assert split.table["selected"].tolist() == forward_front(data, n_points=7)
    pd.testing.assert_frame_equal(split.table, pareto_front(data, n_points=7).table, check_exact=True)
    # the chains: consecutive, tightest first, the looser one the longer (n_points = 6 is a grid
    # of 5 points: 2 + 3), together the whole grid
    kw = dict(max_minutes=60.0, equity_minutes=120.0, n_points=6, time_limit=60.0)
    _, one = tr.front_points(data, **kw)
    _, a = tr.front_points(data, **kw, part=0, parts=2)
    _, b = tr.front_points(data, **kw, part=1, parts=2)
    assert [p[0] for p in a + b] == [p[0] for p in one] and (len(a), len(b)) == (2, 3)
    assert [p[3] for p in a + b] == [p[3] for p in one]


def test_start_vector_satisfies_every_row(monkeypatch):
    """The start built from a plan (x, y, v covered indicators, z a parent matching) meets
    every row of phase 1 and phase 2, checked on the assembled matrix."""
    data = fixture(1, parents=True, groups=True)
    seen: list[tuple] = []
    orig = cons.Milp.solve

    def spy(self, **kw):
        if kw.get("start") is not None:
            rows = np.concatenate([r for r, _, _ in self._rows])
            cols = np.concatenate([c for _, c, _ in self._rows])
            vals = np.concatenate([v for _, _, v in self._rows])
            A = np.zeros((self.n_rows, self.n))
            np.add.at(A, (rows, cols), vals)
            seen.append((A, np.concatenate(self._lo), np.concatenate(self._hi), kw["start"]))
        return orig(self, **kw)

    monkeypatch.setattr(cons.Milp, "solve", spy)
    front = pareto_front(data, n_points=5)
    assert len(front.table) >= 3
    assert len(seen) == 2 + 2 * 4  # point 0 phase 2, min beyond, both phases of the 4 eps points
    for A, lo, hi, v in seen:
        act = A @ v
        assert (act >= lo - 1e-9).all() and (act <= hi + 1e-9).all()
        assert set(np.unique(v)) <= {0.0, 1.0}


def test_no_start_when_no_parent_matching():
    """A plan whose sites cannot all get a parent slot gives no start (``siting_start`` False)."""
    data = fixture(1, parents=True)
    cand = np.flatnonzero(data.eligible)
    # two candidates whose only option is the same parent (capacity 1) cannot both be matched
    only = {p: [int(i) for i in cand if list(data.parent_options[i]) == [p]] for p in range(3)}
    pair = next(v[:2] for v in only.values() if len(v) >= 2)
    n_z = sum(len(data.parent_options[i]) for i in cand)
    v = np.zeros(len(cand) + n_z)
    assert cons.siting_start(v, data, cand, 0, len(cand), pair[:1])
    assert v[:len(cand)].sum() == 1 and v[len(cand):].sum() == 1  # x and its one parent
    assert not cons.siting_start(np.zeros(len(cand) + n_z), data, cand, 0, len(cand), pair)
    # a site that is not a candidate of the model
    assert not cons.siting_start(np.zeros(len(cand) + n_z), data, cand[1:], 0, len(cand), [int(cand[0])])


@pytest.mark.parametrize("seed", [0, 3])
def test_swap_search_ends_where_no_feasible_swap_adds_coverage(seed):
    """``_improve``: feasible, within eps, no worse, and no swap left (brute force) that adds
    coverage within the eps limit and the siting limits."""
    data = fixture(seed, parents=True, groups=True)
    T, T2 = 60.0, 120.0
    base = MaxCovering(data, max_minutes=T, equity_minutes=T2)
    cand, x0, res = base._milp(time_limit=60, mip_rel_gap=1e-9, objective="beyond")
    start = [int(i) for i in cand[res.x[x0:x0 + len(cand)] > 0.5]]
    b_max = base.beyond(pareto_front(data, n_points=2).table["selected"].iloc[0])
    eps = 0.5 * (base.beyond(start) + b_max)
    m = MaxCovering(data, max_minutes=T, equity_minutes=T2, max_beyond=eps)
    out = tr._improve(m, start, eps, tr._Swaps(data, T, T2))
    assert m.feas.feasible(out) and m.beyond(out) <= eps
    assert m.evaluate(out)[0] >= m.evaluate(start)[0]
    cov = m.evaluate(out)[0]
    for o, i in itertools.product(out, np.flatnonzero(data.eligible)):
        if int(i) in out:
            continue
        new = [k for k in out if k != o] + [int(i)]
        if m.feas.feasible(new) and m.beyond(new) <= eps:
            assert m.evaluate(new)[0] <= cov + 1e-9
