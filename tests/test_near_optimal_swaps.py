"""Issue #19: the near-optimal listing by exact swap neighbourhoods plus certifying MILPs
(:mod:`siting.allocation.swaps`, :mod:`siting.allocation.near_optimal`) against brute force
over every set of N real candidates (engine minutes of UGEL San Marcos, shipped data; fixture
``san_marcos`` of tests/conftest.py), with a real limit (at most one site per district).
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

N = 4


@pytest.fixture(scope="module")
def problem(san_marcos):
    """A covering problem on 22 real places (candidates = demand), at most one site per district."""
    from siting.allocation import MaximalCovering
    from siting.network.solve import coverage
    s = san_marcos
    nodes = s.graph.point_nodes["places"]
    keep = np.sort(np.random.default_rng(7).choice(len(nodes), size=22, replace=False))
    cov = sp.csr_array(coverage(s.graph, nodes[keep], nodes[keep], 60.0, progress=False))
    w = np.nan_to_num(s.gaps.places["pop_15_29"].to_numpy(float))[keep]
    district = s.gaps.places["district"].astype(str).to_numpy()[keep]
    assert len(set(district)) >= N + 2  # the per-district limit leaves a choice
    m = MaximalCovering.from_coverage(cov, w, max_minutes=60.0, n_sites=N, group_of_candidate=district,
                                      max_per_group=1)
    return m, district


def _brute(p, district):
    """Covered weight of every set of N candidates with at most one per district."""
    dense = p.pattern.toarray().astype(bool)
    out = {}
    for combo in itertools.combinations(range(p.n_candidates), N):
        if len(set(district[list(combo)])) == N:
            out[combo] = float(p.w[dense[list(combo)].any(axis=0)].sum())
    return out


def test_sets_within_two_swaps_equal_brute_force(problem):
    from siting.allocation.swaps import sets_within_swaps
    m, district = problem
    p = m.problem
    every = _brute(p, district)
    z_star = max(every.values())
    star = max(every, key=lambda k: (every[k], [-i for i in k]))
    for gap in (0.05, 0.3):
        threshold = (1 - gap) * z_star
        want = {k: v for k, v in every.items() if v >= threshold and len(set(k) & set(star)) >= N - 2}
        got = sets_within_swaps(p, list(star), threshold, max_swaps=2)
        assert set(got) == set(want) and len(want) > 3
        assert all(got[k] == pytest.approx(want[k], rel=1e-12) for k in want)
        one = sets_within_swaps(p, list(star), threshold, max_swaps=1)
        assert set(one) == {k for k in want if len(set(k) & set(star)) >= N - 1}
    # a set two sites in one district is never returned, whatever its weight
    assert all(len(set(district[list(k)])) == N for k in sets_within_swaps(p, list(star), 0.0))


@pytest.mark.parametrize("max_sets", [3, 500])
def test_listing_is_the_k_best_sets_of_brute_force(problem, max_sets):
    """Every set within the gap (or the best ``max_sets``), in order of covered weight, sets
    farther than two swaps from the optimum included (found by the certifying MILP)."""
    from siting.allocation.near_optimal import near_optimal
    m, district = problem
    p = m.problem
    sol = m.solve("exact")
    every = _brute(p, district)
    z_star = max(every.values())
    assert sol.objective == pytest.approx(z_star, rel=1e-9)
    gap = 0.02  # 145 sets, 98 of them more than two swaps away (places with the same reach)
    within = sorted(((v, k) for k, v in every.items() if v >= (1 - gap) * z_star - 1e-9 * z_star),
                    key=lambda vk: (-vk[0], vk[1]))
    far = [k for _, k in within if len(set(k) & set(sol.selected)) < N - 2]
    assert far  # the MILP part is exercised
    got = near_optimal(p, sol, gap=gap, max_sets=max_sets)
    ids = np.asarray(p.candidate_ids, dtype=str)
    listed = [tuple(sorted(r.split("; "))) for r in got.table["ccpp_ids"]]
    want = [tuple(sorted(ids[list(k)])) for _, k in within[:max_sets]]
    assert np.allclose(got.table["covered_weight"], [v for v, _ in within[:max_sets]], rtol=1e-9)
    assert len(set(listed)) == len(listed) and set(listed) <= {tuple(sorted(ids[list(k)])) for _, k in within}
    if within[min(max_sets, len(within)) - 1][0] > (within[max_sets][0] if len(within) > max_sets else -1):
        assert set(listed) == set(want)  # no tie across the cut
    assert got.capped == (len(within) > max_sets) and got.n_sets == min(max_sets, len(within))
    shared = set.intersection(*[set(k) for _, k in within])
    assert set(got.shared) == {ids[i] for i in shared}
