"""The public Python API (``import siting``): names, documented return types, and every
stage run alone on a small real study area (UGEL San Marcos, shipped data).

The stage results are checked against independent computations: scipy's Dijkstra for the
travel times, a population-weighted share by hand for the summary, the weighted-sum formula
for the suitability score and brute force over all site subsets for the covering model.
"""
from __future__ import annotations

import dataclasses
import inspect
import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import dijkstra

import siting
from siting import access, allocation, data, network, pipeline, report, suitability

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "cajamarca.toml"
UGEL = "UGEL SAN MARCOS"  # 307 places, one CETPRO with teachers (ICHOCAN): small and complete
N_SITES = 3

STAGES = {"load_data": data.load_data, "build_graph": network.build_graph, "compute_access": access.compute_access,
          "score_candidates": suitability.score_candidates, "propose_sites": allocation.propose_sites,
          "evaluate_plan": access.evaluate_plan, "make_report": report.make_report, "run": pipeline.run}


# --------------------------------------------------------------------------- names and types


def test_public_names_are_the_stage_functions_of_their_packages():
    for name in siting.__all__:
        assert getattr(siting, name) is not None, name
    for name, func in STAGES.items():
        assert name in siting.__all__ and name in dir(siting)  # tab completion lists every stage
        assert getattr(siting, name) is func, name
        assert (func.__doc__ or "").strip(), f"{name} has no docstring"
    assert not hasattr(siting, "__getattr__")  # one public name per stage, no indirection
    assert not [n for n in dir(pipeline) if n.startswith("stage_")]
    with pytest.raises(AttributeError, match="no attribute 'not_a_stage'"):
        siting.not_a_stage  # noqa: B018


def test_stage_results_are_frozen_dataclasses():
    for cls in (siting.StudyData, siting.AccessResult, siting.ScoreResult, siting.ProposalResult,
                siting.PlanAccess, siting.ReportResult, siting.RunResult):
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, cls.__name__


def test_stage_options_are_keyword_only():
    for name in ("load_data", "score_candidates"):
        progress = inspect.signature(getattr(siting, name)).parameters["progress"]
        assert progress.kind is inspect.Parameter.KEYWORD_ONLY
    assert inspect.signature(siting.build_graph).parameters["mode"].kind is inspect.Parameter.KEYWORD_ONLY
    assert inspect.signature(siting.compute_access).parameters["walk_graph"].kind is inspect.Parameter.KEYWORD_ONLY
    # propose uses the score's reach; the graph is an optional keyword, only for the exact minutes the
    # p-median / p-center objectives need beyond that reach (allocation.choice.cost_matrix)
    graph = inspect.signature(siting.propose_sites).parameters["graph"]
    assert graph.kind is inspect.Parameter.KEYWORD_ONLY and graph.default is None


def test_load_scenario_applies_overrides_and_rejects_unknown_keys():
    sc = siting.load_scenario(SCENARIO, allocation__n_sites=5, study_area__ugels=[UGEL])
    assert isinstance(sc, siting.Scenario)
    assert sc.allocation.n_sites == 5
    assert sc.study_area.ugels == [UGEL]
    with pytest.raises(siting.ScenarioError, match="allocation.bogus"):
        siting.load_scenario(SCENARIO, allocation__bogus=1)
    with pytest.raises(siting.ScenarioError, match="n_sites"):
        siting.load_scenario(SCENARIO, allocation__n_sites="ten")


def test_override_without_section_is_a_scenario_error():
    with pytest.raises(siting.ScenarioError, match="n_sites"):
        siting.load_scenario(SCENARIO, n_sites=5)


# --------------------------------------------------------------------------- stages on one UGEL


@pytest.fixture(scope="module")
def small(san_marcos, san_marcos_plan):
    """Scenario, data, graph, access, scores and proposals of UGEL San Marcos, each stage
    called alone with the outputs of the previous one (outputs and cache in a temp folder)."""
    sc, data, graph, gaps = san_marcos.sc, san_marcos.data, san_marcos.graph, san_marcos.gaps
    scores, plan = san_marcos_plan.scores, san_marcos_plan.plan
    after = siting.evaluate_plan(sc, data, graph, plan, access=gaps)
    return dataclasses.make_dataclass("Small", ["sc", "data", "graph", "gaps", "scores", "plan", "after"])(
        sc, data, graph, gaps, scores, plan, after)


def test_load_data_returns_study_data_restricted_to_the_area(small):
    data = small.data
    assert isinstance(data, siting.StudyData)
    for layer in (data.places, data.cetpro, data.districts):
        assert isinstance(layer, gpd.GeoDataFrame)
        assert layer.crs.to_epsg() == 4326
    assert len(data.places) > 100
    assert set(data.places["ugel"]) == {UGEL}
    assert set(data.districts["ugel"]) == {UGEL}
    g = small.sc.population.target_group
    for col in ("ccpp_id", "name", "ubigeo", "district", "ugel", "population", "women", "men",
                f"pop_{g}", f"women_{g}", f"men_{g}"):
        assert col in data.places.columns, col
    np.testing.assert_allclose((data.places["women"] + data.places["men"]).to_numpy(float),
                               data.places["population"].to_numpy(float), rtol=1e-9)
    assert len(data.quality.summary()) > 0


def test_build_graph_has_a_node_per_place_and_facility(small):
    g = small.graph
    assert isinstance(g, siting.TravelGraph)
    assert g.mode == "roads+walk"
    assert len(g.point_nodes["places"]) == len(small.data.places)
    assert len(g.point_nodes["cetpro"]) == len(small.data.cetpro)
    walk = siting.build_graph(small.sc, small.data, mode="walk")
    assert walk.mode == "walk"
    assert walk.n_edges < g.n_edges  # no road edges


def test_compute_access_matches_scipy_dijkstra(small):
    gaps, g = small.gaps, small.graph
    assert isinstance(gaps, siting.AccessResult)
    assert isinstance(gaps.places, gpd.GeoDataFrame) and gaps.places.crs.to_epsg() == 4326
    assert len(gaps.places) == len(small.data.places)
    # independent: minutes from every place TO the nearest CETPRO = distances from the CETPRO
    # nodes on the reversed graph; FROM it = distances on the graph; the shipped measure is
    # their mean (access.direction = "mean"), rounded once to 0.1 min
    src = g.point_nodes["cetpro"]
    to = dijkstra(g.matrix.T.tocsr(), directed=True, indices=src, min_only=True)[g.point_nodes["places"]]
    back = dijkstra(g.matrix, directed=True, indices=src, min_only=True)[g.point_nodes["places"]]
    expected = (to + back) / 2
    assert small.sc.access.direction == "mean"
    np.testing.assert_allclose(gaps.places["minutes_nearest"].to_numpy(float), expected, rtol=0, atol=0.05 + 1e-9)
    np.testing.assert_allclose(gaps.places["minutes_to_nearest"].to_numpy(float), to, rtol=0, atol=0.05 + 1e-9)
    assert np.isfinite(expected).mean() > 0.95


def test_access_tables_agree_with_a_hand_computed_share(small):
    gaps, T = small.gaps, small.sc.access.main_threshold_min
    p = gaps.places
    within = (p["minutes_nearest"] <= T).to_numpy()
    share = p["population"].to_numpy(float)[within].sum() / p["population"].sum()
    row = gaps.summary.set_index("ugel").loc[UGEL]
    assert row[f"share_within_{T:g}"] == pytest.approx(share, rel=1e-9)
    assert list(gaps.by_ugel["ugel"]) == [UGEL]
    assert set(gaps.by_district["ubigeo"]) <= set(small.data.districts["ubigeo"])
    ranked = gaps.ranked_districts  # most unserved target population first (ties share a rank)
    assert np.all(np.diff(ranked["rank"].to_numpy()) >= 0)
    assert np.all(np.diff(ranked["unserved_target"].to_numpy(float)) <= 1e-9)
    table = access.place_table(gaps, small.sc)
    assert isinstance(table, gpd.GeoDataFrame) and len(table) == len(p)


def test_score_candidates_is_the_weighted_sum_of_normalised_criteria(small):
    s = small.scores
    assert isinstance(s, siting.ScoreResult)
    cand = s.candidates
    assert isinstance(cand, gpd.GeoDataFrame) and len(cand) > N_SITES
    assert len(cand) + len(s.excluded) == len(small.data.places)
    assert cand["rank"].tolist() == list(range(1, len(cand) + 1))
    assert sum(s.weights.values()) == pytest.approx(1.0)
    # S_i = sum_k w_k * norm_k (criteria without data have no norm_ column and count 0)
    recomputed = sum(w * cand[f"norm_{k}"].fillna(0).to_numpy(float)
                     for k, w in s.weights.items() if f"norm_{k}" in cand)
    np.testing.assert_allclose(cand["score"].to_numpy(float), recomputed, atol=1e-9)
    assert s.coverage.shape == (len(cand), len(small.data.places))
    assert isinstance(suitability.candidate_table(s), gpd.GeoDataFrame)


def test_propose_sites_is_optimal_by_brute_force(small):
    plan, s, gaps, sc = small.plan, small.scores, small.gaps, small.sc
    assert isinstance(plan, siting.ProposalResult)
    assert isinstance(plan.proposals, gpd.GeoDataFrame)
    assert 1 <= len(plan.proposals) <= N_SITES
    assert plan.proposals["rank"].tolist() == list(range(1, len(plan.proposals) + 1))
    # independent: best demand coverage over every feasible subset of <= N candidates
    w = allocation.demand_weights(sc, gaps.places, indicators=small.data.district_indicators)
    uncovered = gaps.places["minutes_nearest"].to_numpy(float) > sc.allocation.max_minutes
    cov = s.coverage.tocsr()
    reach = [set(cov.indices[cov.indptr[i]:cov.indptr[i + 1]]) for i in range(cov.shape[0])]
    teacher = s.teacher_minutes.tocsr()
    capacity = allocation.parent_capacity(sc, small.data)
    has_parent = [any(capacity[k] > 0 for k in teacher.indices[teacher.indptr[i]:teacher.indptr[i + 1]])
                  for i in range(teacher.shape[0])]
    eligible = [i for i in range(len(reach)) if has_parent[i]]
    assert len(eligible) <= 40, "brute force would be too slow; pick a smaller area"

    def value(sites):
        js = set().union(*(reach[i] for i in sites)) if sites else set()
        js = np.fromiter(js, dtype=int)
        return float(w[js][uncovered[js]].sum()) if len(js) else 0.0

    k = min(N_SITES, int(capacity.sum()), len(eligible))
    best = max(value(c) for c in itertools.combinations(eligible, k))
    chosen = [int(i) for i in plan.solution.selected]
    assert value(chosen) == pytest.approx(best, rel=1e-6)
    assert (plan.proposals["parent_status"] == "assigned").all()
    # coverage curve is non-decreasing and before/after never gets worse
    assert np.all(np.diff(plan.curve["covered_target"].to_numpy(float)) >= -1e-9)
    total = small.after.before_after.set_index("ugel").loc["total"]
    assert total["population_within_after"] >= total["population_within_before"]
    assert np.all(small.after.minutes_after <= gaps.places["minutes_nearest"].to_numpy(float) + 1e-9)


def test_propose_without_any_parent_capacity_is_a_clear_outcome(small):
    data = dataclasses.replace(small.data, cetpro=small.data.cetpro.assign(teachers=0.0))  # no parent can run one
    try:
        plan = siting.propose_sites(small.sc, data, small.gaps, small.scores)
    except siting.UserError:
        return
    assert (plan.proposals["parent_status"] != "assigned").all()


def test_gpkg_roundtrip_of_stage_outputs(small, tmp_path):
    """Stage outputs are plain GeoDataFrames: they write and read back with geopandas."""
    path = tmp_path / "api.gpkg"
    small.plan.proposals.to_file(path, layer="proposals")
    back = gpd.read_file(path, layer="proposals")
    assert back["ccpp_id"].astype(str).tolist() == small.plan.proposals["ccpp_id"].astype(str).tolist()
    assert isinstance(pd.DataFrame(small.gaps.summary), pd.DataFrame)


def test_evaluate_plan_matches_scipy_dijkstra_from_facilities_and_proposals(small):
    """"How far is everyone once the proposals open": an explicit access step, checked against
    scipy's Dijkstra from every existing facility and every proposed place (reversed graph)."""
    g, data, plan = small.graph, small.data, small.plan
    rows = [int(np.flatnonzero(data.places["ccpp_id"].astype(str).to_numpy() == c)[0])
            for c in plan.proposals["ccpp_id"].astype(str)]
    src = np.concatenate([g.point_nodes["cetpro"], g.point_nodes["places"][rows]])
    to = dijkstra(g.matrix.T.tocsr(), directed=True, indices=src, min_only=True)[g.point_nodes["places"]]
    back = dijkstra(g.matrix, directed=True, indices=src, min_only=True)[g.point_nodes["places"]]
    np.testing.assert_allclose(small.after.minutes_after, (to + back) / 2, rtol=0, atol=0.05 + 1e-9)
    assert list(small.after.site_places) == rows
    # the same from a list of codes and without the access result (before recomputed)
    again = siting.evaluate_plan(small.sc, data, g, plan.proposals["ccpp_id"].tolist())
    np.testing.assert_array_equal(again.minutes_after, small.after.minutes_after)
    np.testing.assert_array_equal(again.minutes_before, small.gaps.places["minutes_nearest"].to_numpy(float))
    pd.testing.assert_frame_equal(again.before_after, small.after.before_after)
    with pytest.raises(siting.UserError, match="not populated places"):
        siting.evaluate_plan(small.sc, data, g, ["0000000000"])
