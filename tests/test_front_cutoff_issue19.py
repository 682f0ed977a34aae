"""Issue #19 (target 2, cold run): with maximal covering the cost matrix is searched within
``max(T, T2)`` only (``choice.front_cutoff``) and the front's Gini reads the exact rows of its
plans' sites (``Costs.rows``).  Real data: UGEL San Marcos.  The reference is the former path:
the same front solved on the full matrix within ``C = cost_cutoff``, built here independently
of ``cost_matrix`` from one ``directed_coverage`` call."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import siting
from siting.access import round_minutes
from siting.allocation import choice
from siting.allocation.outcomes import tradeoff
from siting.allocation.stage import demand_weights, parent_capacity
from siting.network.solve import directed_coverage


def _with(sc, **allocation):
    return dataclasses.replace(sc, allocation=dataclasses.replace(sc.allocation, **allocation))


@pytest.fixture(scope="module")
def case(san_marcos):
    s = san_marcos
    # T2 below San Marcos' largest existing time, so the matrix is cut below C
    sc = _with(dataclasses.replace(s.sc, run=dataclasses.replace(s.sc.run, cache_dir="")),
               max_minutes=45.0, equity_minutes=75.0, pareto_points=4)
    scores = siting.score_candidates(sc, s.data, s.graph, s.gaps, progress=False)
    return s, sc, scores


def _full(s, sc, scores) -> tuple[sp.csr_array, float]:
    """The former matrix: every candidate x place within C, rounded (places x candidates)."""
    C = choice.cost_cutoff(sc, s.gaps)
    nodes = s.graph.point_nodes["places"]
    m = directed_coverage(s.graph, nodes[scores.candidate_place_index], nodes, C, direction=sc.access.direction,
                          progress=False)
    return sp.csr_array((round_minutes(m.data), m.indices, m.indptr), shape=m.shape).T.tocsr(), C


def test_the_matrix_is_the_full_one_within_max_t_t2(case):
    s, sc, scores = case
    costs = choice.cost_matrix(sc, s.gaps, scores, s.graph)
    full, C = _full(s, sc, scores)
    assert costs.cutoff == 75.0 and costs.full_cutoff == C and C > 75.0 and costs.exact
    e = s.gaps.places["minutes_nearest"].to_numpy(float)
    assert np.isfinite(e).all() and e.max() > 75.0
    # the stored pairs within the cut-off (explicit zeros included) and their minutes, as in the full matrix
    coo, got = full.tocoo(), sp.csr_array(costs.matrix).tocoo()
    keep = coo.data <= 75.0
    want = set(zip(coo.row[keep].tolist(), coo.col[keep].tolist(), coo.data[keep].tolist()))
    mine = {(r, c, v) for r, c, v in zip(got.row.tolist(), got.col.tolist(), got.data.tolist()) if v <= 75.0}
    assert mine == want and len(want) > 0 and costs.matrix.shape == full.shape
    # every candidate's exact row within C is the full matrix's column
    cands = np.arange(full.shape[1])
    rows = costs.rows(cands)
    assert (abs(rows - full.T.tocsr()) > 0).nnz == 0 and rows.nnz == full.nnz


def test_the_front_equals_the_front_on_the_full_matrix(case):
    s, sc, scores = case
    costs = choice.cost_matrix(sc, s.gaps, scores, s.graph)
    weights = demand_weights(sc, s.gaps.places, indicators=s.data.district_indicators)
    cap = parent_capacity(sc, s.data)
    reduced = choice.siting_data(sc, s.gaps, scores, costs, weights, capacity=cap)
    full_m, C = _full(s, sc, scores)
    full = choice.siting_data(sc, s.gaps, scores, choice.Costs(full_m, C, exact=True), weights, capacity=cap)
    assert reduced.unserved_minutes == full.unserved_minutes == C
    got = tradeoff(sc, reduced, lang="es", exact_rows=costs.rows, exact_cutoff=costs.full_cutoff)
    want = tradeoff(sc, full, lang="es")
    assert len(want.table) >= 2
    pd.testing.assert_frame_equal(got.table, want.table)
    assert got.sentences == want.sentences
    # without the exact rows the Gini would read the cut matrix: it differs and is flagged
    cut = tradeoff(sc, reduced, lang="es")
    assert not np.allclose(cut.table["gini"], want.table["gini"])


def test_the_cut_applies_to_maximal_covering_with_every_place_reached(case):
    s, sc, _ = case
    assert choice.front_cutoff(sc, s.gaps) == 75.0
    assert choice.front_cutoff(_with(sc, objective="pmedian"), s.gaps) is None
    assert choice.front_cutoff(_with(sc, equity_minutes=1e4), s.gaps) is None  # not below C
    places = s.gaps.places.copy()
    places.loc[places.index[0], "minutes_nearest"] = np.inf  # a place that reaches no facility
    assert choice.front_cutoff(sc, dataclasses.replace(s.gaps, places=places)) is None
