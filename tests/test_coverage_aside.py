"""The trip back of a mean-direction search, computed in a side process (#19), gives the same
matrices as computed in one process, and the stages give the same results with it."""
from __future__ import annotations

import dataclasses

import numpy as np
from siting.network import solve
from siting.report.side_tasks import deferred_writes, run_aside


def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("data", "indices", "indptr")) \
        and a.shape == b.shape


def test_mean_coverage_with_the_back_trip_aside_equals_one_process(san_marcos):
    g = san_marcos.graph
    places = g.point_nodes["places"]
    origins = places[::7]
    alone = solve.directed_coverage(g, origins, places, 90.0, direction="mean", progress=False)
    seen: list[str] = []

    def counting(fn, /, *args, **kwargs):
        seen.append(fn.__name__)
        return run_aside(fn, *args, **kwargs)

    with deferred_writes(workers=2):
        aside = solve.directed_coverage(g, origins, places, 90.0, direction="mean", progress=False,
                                        run_aside=counting)
    assert seen == ["coverage"]  # the trip back went through run_aside
    assert _same(alone, aside) and alone.nnz > 1000
    # and it is the mean of the two one-way trips, pair by pair (independent check)
    to = solve.coverage(g, origins, places, 180.0, towards_origins=True).toarray()
    back = solve.coverage(g, origins, places, 180.0, towards_origins=False).toarray()
    dense = aside.toarray()
    r, c = np.nonzero((to > 0) & (back > 0))
    mean = (to[r, c] + back[r, c]) / 2
    keep = mean <= 90.0
    np.testing.assert_array_equal(dense[r[keep], c[keep]], mean[keep])
    assert np.count_nonzero(dense) == np.count_nonzero(mean[keep])  # and no other pair


def test_score_stage_with_searches_aside_equals_one_process(san_marcos):
    import siting

    s = san_marcos
    sc = dataclasses.replace(s.sc, run=dataclasses.replace(s.sc.run, cache_dir=None))
    alone = siting.score_candidates(sc, s.data, s.graph, s.gaps, progress=False)
    with deferred_writes(workers=2):
        aside = siting.score_candidates(sc, s.data, s.graph, s.gaps, progress=False, run_aside=run_aside)
    assert _same(alone.coverage, aside.coverage) and _same(alone.teacher_minutes, aside.teacher_minutes)
    assert len(alone.draws) == len(aside.draws) > 0
    for a, b in zip(alone.draws, aside.draws):
        assert _same(a.coverage, b.coverage) and _same(a.teacher_minutes, b.teacher_minutes)
    assert alone.candidates.equals(aside.candidates)
