"""Issue #19 target 1: LP probing and reduced-cost fixing before the started MILP
(:func:`siting.allocation.probing.probe_fix`), on real coverage of UGEL San Marcos (engine
minutes, shipped data; fixture ``san_marcos`` of tests/conftest.py), against brute force:

* every set of at most N candidates scoring at least the start satisfies every fixing
  (enumerated over all such sets of the reduced model, with and without a suitability term,
  from a weak start and from the optimum);
* the started MILP with the fixings has the brute-force optimum.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

# the real San Marcos coverage at 60 min (fixture ``real``) and the random real subsets of the
# exact-solver tests
from test_exact_start_issue19 import _subset, real  # noqa: F401


def _all_sets(red, p, n: int) -> list[tuple[tuple[int, ...], float]]:
    """Every set of at most ``n`` rows of the reduced model with its score (covered merged
    weight + suitability term), computed directly from the matrix."""
    dense = red.matrix.toarray().astype(bool)
    es = p.eps * p.s[red.candidates]
    out = []
    for k in range(1, n + 1):
        for c in itertools.combinations(range(dense.shape[0]), k):
            out.append((c, float(red.weights[dense[list(c)].any(axis=0)].sum() + es[list(c)].sum())))
    return out


@pytest.mark.parametrize(("seed", "n", "suit", "start_kind"),
                         [(4, 4, False, "optimum"), (4, 4, False, "greedy"), (5, 3, True, "optimum"),
                          (6, 4, True, "greedy")])
def test_fixings_keep_every_set_at_least_as_good_as_the_start(real, seed, n, suit, start_kind):
    from siting.allocation import MaximalCovering
    from siting.allocation.milp import build_model, start_vector
    from siting.allocation.probing import probe_fix
    from siting.allocation.reduce import reduce
    cov, w = _subset(real, 32, seed)
    suitability = np.random.default_rng(seed).random(cov.shape[0]) if suit else None
    m = MaximalCovering.from_coverage(cov, w, max_minutes=60.0, n_sites=n, suitability=suitability,
                                      suitability_weight=5.0 if suit else None)
    p = m.problem
    red = reduce(p)
    sets = _all_sets(red, p, n)
    best_rows, best = max(sets, key=lambda t: t[1])
    if start_kind == "optimum":
        sel = [int(red.candidates[i]) for i in best_rows]
    else:
        sel = list(m.greedy(swap=False).selected)
    c, cons, integ, nc = build_model(p, red)
    v0 = start_vector(p, red, sel, len(c))
    assert v0 is not None
    z0 = -float(c @ v0)
    fix = probe_fix(c, cons.A, cons.lb, cons.ub, integrality=integ, start=v0)
    assert fix is not None
    fixed = np.flatnonzero(fix.lb[:nc] == fix.ub[:nc])
    if start_kind == "optimum":
        assert len(fixed) > 0  # the check below is not vacuous
    assert ((fix.lb[nc:] == 0) & (fix.ub[nc:] == 1)).all()  # only binaries are fixed
    for rows, score in sets:
        if score >= z0 - 1e-9 * max(z0, 1.0):
            x = np.zeros(nc)
            x[list(rows)] = 1.0
            assert (x[fixed] == fix.lb[fixed]).all(), (rows, score, z0)
    assert best >= z0 - 1e-9


@pytest.mark.parametrize(("seed", "n"), [(7, 4), (8, 5)])
def test_probed_milp_is_the_brute_force_optimum(real, seed, n, monkeypatch):
    from siting.allocation import MaximalCovering, probing
    from siting.allocation.milp import solve_milp
    from siting.allocation.reduce import reduce
    monkeypatch.setattr(probing, "MIN_NNZ", 0)  # probe this small model too
    cov, w = _subset(real, 32, seed)
    m = MaximalCovering.from_coverage(cov, w, max_minutes=60.0, n_sites=n)
    p = m.problem
    red = reduce(p)
    best = max(score for _rows, score in _all_sets(red, p, n))
    heur = m.greedy(swap=False)
    sol = solve_milp(p, time_limit=60, mip_rel_gap=0.0, reduced=red, start=list(heur.selected))
    assert sol is not None and sol.status == "optimal"
    assert "probe_fixed_0" in sol.reduction
    assert sol.score == pytest.approx(best, rel=1e-12)
    assert sol.objective == pytest.approx(m.exact(pricing=False).objective, rel=1e-12)
