"""Issue #19 target 1: the pieces of the faster exact solver, on real coverage of UGEL San
Marcos (engine minutes, shipped data; fixture ``san_marcos`` of tests/conftest.py), each
against an independent computation:

* the dominator map of :func:`siting.allocation.reduce.reduce` (every removed candidate
  points to a kept one covering a superset) and the reduction's optimum = brute force over
  every set of N candidates on a real subset;
* the HiGHS MIP start (:func:`siting.allocation.milp.start_vector`) is feasible and its
  value is the mapped set's covered weight; the started MILP = brute force;
* the warm-started pool LP (:class:`siting.allocation.pool_lp.PoolLP`) has the optimum of
  ``scipy.optimize.linprog`` on the same LP after every round of added columns, and its
  multipliers give a Lagrangian bound above the brute-force optimum.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog


@pytest.fixture(scope="module")
def real(san_marcos):
    from siting.network.solve import coverage
    s = san_marcos
    nodes = s.graph.point_nodes["places"]
    cov = coverage(s.graph, nodes, nodes, 60.0, progress=False)
    w = np.nan_to_num(s.gaps.places["pop_15_29"].to_numpy(float))
    return cov, w


def _subset(real, k: int, seed: int = 0):
    """``k`` real places (random, fixed seed) as candidates and demand."""
    cov, w = real
    keep = np.sort(np.random.default_rng(seed).choice(cov.shape[0], size=min(k, cov.shape[0]), replace=False))
    return sp.csr_array(cov[keep][:, keep]), w[keep]


def _brute(pattern: sp.csr_array, w: np.ndarray, n: int) -> float:
    """Best covered weight over every set of ``n`` candidates (independent of the solver)."""
    dense = pattern.toarray().astype(bool)
    return max(float(w[dense[list(c)].any(axis=0)].sum()) for c in itertools.combinations(range(dense.shape[0]), n))


def test_dominator_map_and_reduced_optimum(real):
    from siting.allocation import MaximalCovering
    from siting.allocation.reduce import reduce
    cov, w = _subset(real, 26)
    m = MaximalCovering.from_coverage(cov, w, max_minutes=60.0, n_sites=3)
    p = m.problem
    red = reduce(p)
    assert red.stats["candidates_dominated"] > 0  # the check below is not vacuous
    pos = p.w > 0
    for i in range(p.n_candidates):
        k = int(red.row_of_candidate[i])
        assert k >= 0
        kept = int(red.candidates[k])
        mine = set(np.flatnonzero(p.pattern[[i]].toarray()[0] & pos))
        assert mine <= set(p.cover(kept)), (i, kept)
        if i in red.candidates:
            assert kept == i
    best = _brute(p.pattern, p.w, 3)
    full = m.exact(pricing=False)
    assert full.objective == pytest.approx(best, rel=1e-12)
    # brute force on the reduced matrix (merged places with summed weights) has the same optimum
    assert _brute(red.matrix, red.weights, 3) == pytest.approx(best, rel=1e-12)


def test_mip_start_feasible_and_exact(real):
    from siting.allocation import MaximalCovering
    from siting.allocation.milp import build_model, solve_milp, start_vector
    from siting.allocation.reduce import reduce
    cov, w = _subset(real, 30, seed=1)
    m = MaximalCovering.from_coverage(cov, w, max_minutes=60.0, n_sites=4)
    p = m.problem
    red = reduce(p)
    heur = m.greedy()
    c, cons, integ, nc = build_model(p, red)
    v = start_vector(p, red, list(heur.selected), len(c))
    assert v is not None
    Av = cons.A @ v
    assert (Av >= cons.lb - 1e-9).all() and (Av <= cons.ub + 1e-9).all()
    assert set(np.unique(v[:nc])) <= {0.0, 1.0}
    assert -(c @ v) >= heur.score - 1e-9  # dominators cover at least as much
    sol = solve_milp(p, time_limit=60, mip_rel_gap=0.0, reduced=red, start=list(heur.selected))
    assert sol is not None and sol.status == "optimal"
    assert sol.objective == pytest.approx(_brute(p.pattern, p.w, 4), rel=1e-12)


def test_pool_lp_matches_linprog_and_bounds(real):
    from siting.allocation import MaximalCovering
    from siting.allocation.pool_lp import PoolLP
    cov, w = _subset(real, 28, seed=2)
    n = 3
    p = MaximalCovering.from_coverage(cov, w, max_minutes=60.0, n_sites=n).problem
    best = _brute(p.pattern, p.w, n)
    lp = PoolLP(p)
    order = np.argsort(-(p.A @ p.w), kind="stable")
    for chunk in (order[:6], order[6:15], order[15:]):
        lp.add(chunk)
        lam, mu, x = lp.solve()
        pool = np.asarray(lp.cols)
        A = p.A[pool].toarray()  # pool x places, ones
        nd, k = p.n_places, len(pool)
        # max w y s.t. y_j <= sum_i a_ij x_i, sum x <= n, 0 <= x, y <= 1 (no suitability here)
        A_ub = np.vstack([np.hstack([np.eye(nd), -A.T]), np.hstack([np.zeros((1, nd)), np.ones((1, k))])])
        ref = linprog(-np.concatenate([p.w, np.zeros(k)]), A_ub=A_ub, b_ub=np.r_[np.zeros(nd), n], bounds=(0, 1),
                      method="highs")
        value = float(p.w @ np.minimum(1.0, A.T @ x))
        assert value == pytest.approx(-ref.fun, rel=1e-9)
        r = p.A @ lam
        L = float(np.maximum(p.w - lam, 0).sum() + np.sort(r)[-n:].sum())
        assert L >= best - 1e-6 and L >= -ref.fun - 1e-6
    # every candidate in the pool: the LP is the full relaxation; complementary slackness:
    # r_i <= mu unless x_i sits at its upper bound 1
    below = pool[x < 1 - 1e-9]
    assert (r[below] <= mu + 1e-6 * max(1.0, mu)).all()


@pytest.mark.parametrize("gap", [0.0, 0.01, 0.05])
def test_shared_sites_by_bound_are_brute_force_shared(san_marcos, san_marcos_plan, gap):
    """The Lagrangian proof of a shared site (no MILP) claims only sites that every set within
    ``gap`` of the optimum contains (brute force over every set of 3 real candidates), and the
    near-optimal listing's shared sites still equal brute force."""
    from siting.allocation.near_optimal import _shared_by_bound, near_optimal
    from siting.allocation.stage import covering_model
    s, scores, plan = san_marcos, san_marcos_plan.scores, san_marcos_plan.plan
    p = covering_model(s.sc, s.data, s.gaps, scores).problem
    dense = p.pattern.toarray()
    elig = np.flatnonzero(p.eligible)
    sets = {c: float(p.w[dense[list(c)].any(axis=0)].sum()) for c in itertools.combinations(elig.tolist(), 3)}
    z_star = max(sets.values())
    threshold = (1.0 - gap) * z_star - 1e-9 * max(z_star, 1.0)
    within = [set(k) for k, v in sets.items() if v >= threshold]
    shared = set.intersection(*within)
    proved = _shared_by_bound(p, plan.solution, threshold, deadline=float("inf"))
    assert proved <= shared
    got = near_optimal(p, plan.solution, gap=gap, max_sets=500)
    ids = np.asarray(p.candidate_ids, dtype=str)
    assert set(got.shared) == {ids[i] for i in shared}


def test_without_the_highs_binding_same_optimum(real, monkeypatch):
    """Without SciPy's HiGHS binding (``highs._Highs = None``) the pool LP falls back to
    ``linprog`` and the MILPs to ``scipy.optimize.milp``: the same optimum (brute force)."""
    from siting.allocation import MaximalCovering, highs
    cov, w = _subset(real, 24, seed=3)
    m = MaximalCovering.from_coverage(cov, w, max_minutes=60.0, n_sites=3)
    with_binding = m.solve("exact")
    monkeypatch.setattr(highs, "_Highs", None)
    assert not highs.available()
    without = m.solve("exact")
    best = _brute(m.problem.pattern, m.problem.w, 3)
    assert with_binding.status == without.status == "optimal"
    assert with_binding.objective == pytest.approx(best, rel=1e-12)
    assert without.objective == pytest.approx(best, rel=1e-12)
