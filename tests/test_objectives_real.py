"""p-median and p-center on a REAL instance cut from the shipped data: UGEL San Marcos
(INEI centros poblados, DRE CETPRO, MTC roads, DEM), candidates of the score stage, travel
times from the project's graph (``solve.coverage`` towards the sites, as the pipeline does),
checked against PySAL spopt (PuLP + CBC) and brute force with the real parent CETPRO."""
from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx
import numpy as np
import pulp
import pytest

ROOT = Path(__file__).resolve().parents[1]
UGEL = "UGEL SAN MARCOS"


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    import siting
    from siting.network.solve import coverage
    from siting.allocation.stage import demand_weights, parent_capacity
    sc = siting.load_scenario(ROOT / "scenarios" / "cajamarca.toml", study_area__ugels=[UGEL],
                              suitability__sensitivity_runs=10, suitability__speed_samples=0,
                              run__cache_dir=str(tmp_path_factory.mktemp("cache")))
    data = siting.load_data(sc, progress=False)
    graph = siting.build_graph(sc, data)
    gaps = siting.compute_access(sc, data, graph)
    scores = siting.score_candidates(sc, data, graph, gaps, progress=False)
    place_nodes = graph.point_nodes["places"]
    cand_nodes = place_nodes[scores.candidate_place_index]
    # every pair (no limit): the dense reference matrix for spopt
    reach = coverage(graph, cand_nodes, place_nodes, 1e9, towards_origins=True, progress=False).T
    full = reach.toarray()
    assert reach.nnz == full.size  # the UGEL is connected: every pair has a path
    return dict(D=full, e=gaps.places["minutes_nearest"].to_numpy(float), w=demand_weights(sc, gaps.places, indicators=data.district_indicators),
                teacher=scores.teacher_minutes, cap=parent_capacity(sc, data),
                limit=sc.allocation.teacher_max_minutes, sparse60=scores.coverage.T.tocsr(),
                max_minutes=sc.allocation.max_minutes)


def _spopt_columns(D, e):
    return np.c_[D, e], np.r_[np.zeros(D.shape[1]), 1].astype(int)


def test_real_instance_shape(real):
    D, e = real["D"], real["e"]
    assert D.shape[0] == len(e) > 200 and D.shape[1] > 20
    assert np.isfinite(e).all() and (e > real["max_minutes"]).any()


def test_real_pmedian_equals_spopt(real):
    from spopt.locate import PMedian as SpoptPMedian

    from siting.allocation.objectives import PMedian
    D, e, w = real["D"], real["e"], real["w"]
    ours = PMedian.from_cost_matrix(D, w, existing_minutes=e, n_sites=3).solve("exact")
    full, pre = _spopt_columns(D, e)
    ref = SpoptPMedian.from_cost_matrix(full, w, p_facilities=4, predefined_facilities_arr=pre)
    ref = ref.solve(pulp.PULP_CBC_CMD(msg=False))
    assert ours.status == "optimal"
    assert ours.objective == pytest.approx(ref.problem.objective.value(), rel=1e-6)
    # the heuristic never beats the optimum and its Lagrangian bound is below it
    h = PMedian.from_cost_matrix(D, w, existing_minutes=e, n_sites=3).solve("heuristic")
    assert h.objective >= ours.objective - 1e-6 and h.bound <= ours.objective + 1e-6


def test_real_pcenter_equals_spopt(real):
    from spopt.locate import PCenter as SpoptPCenter

    from siting.allocation.objectives import PCenter
    D, e, w = real["D"], real["e"], real["w"]
    counted = w > 0
    ours = PCenter.from_cost_matrix(D[counted], w[counted], existing_minutes=e[counted], n_sites=3).solve("exact")
    full, pre = _spopt_columns(D[counted], e[counted])
    ref = SpoptPCenter.from_cost_matrix(full, p_facilities=4, predefined_facilities_arr=pre)
    ref = ref.solve(pulp.PULP_CBC_CMD(msg=False))
    assert ours.objective == pytest.approx(ref.problem.objective.value(), rel=1e-6)


def test_real_sparse_cutoff_is_exact_at_the_worst_existing_time(real):
    """The pipeline's sparse matrix, recomputed within max(existing minutes), gives the dense optimum."""
    import scipy.sparse as sp

    from siting.allocation.objectives import PMedian
    D, e, w = real["D"], real["e"], real["w"]
    C = float(e.max())
    mask = D <= C
    S = sp.csr_array((D[mask], np.nonzero(mask)), shape=D.shape)
    dense = PMedian.from_cost_matrix(D, w, existing_minutes=e, n_sites=3).solve("exact")
    sparse = PMedian.from_cost_matrix(S, w, existing_minutes=e, cutoff=C, n_sites=3).solve("exact")
    assert sparse.objective == pytest.approx(dense.objective)
    # within the pipeline's 60-min cut-off the time is an upper bound, exact for the places it reaches
    trunc = PMedian.from_cost_matrix(real["sparse60"], w, existing_minutes=e, cutoff=real["max_minutes"], n_sites=3)
    res = trunc.solve("exact")
    assert res.objective >= dense.objective - 1e-6


def test_real_pmedian_with_parents_equals_brute_force(real):
    from siting.allocation.objectives import PMedian
    D, e, w = real["D"], real["e"], real["w"]
    teacher = real["teacher"].tocsr()
    cap, limit = real["cap"], real["limit"]
    N = 2
    model = PMedian.from_cost_matrix(D, w, existing_minutes=e, n_sites=N, parent_minutes=teacher,
                                     parent_capacity=cap, parent_max_minutes=limit)
    res = model.solve("exact")

    def matchable(S):
        g = nx.Graph()
        for i in S:
            row = teacher[[i]]
            for k, t in zip(row.indices, row.data):
                if t <= limit:
                    for c in range(int(cap[k])):
                        g.add_edge(("site", i), ("slot", k, c))
        if any(("site", i) not in g for i in S):
            return False
        m = nx.bipartite.maximum_matching(g, top_nodes=[("site", i) for i in S])
        return all(("site", i) in m for i in S)

    best = min((w * np.minimum(e, D[:, list(S)].min(axis=1))).sum()
               for k in (1, 2) for S in itertools.combinations(range(D.shape[1]), k) if matchable(S))
    assert res.objective == pytest.approx(best, rel=1e-9)
    assert matchable(list(res.selected))
