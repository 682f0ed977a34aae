"""The objectives wired into the propose stage (issue #18): ``allocation.objective``,
priorities in the demand, every measure of a plan, the coverage-equity Pareto front.

Real data: UGEL San Marcos (shipped INEI places, DRE CETPRO, MTC roads, DEM; conftest's
``san_marcos`` fixture).  References are independent: PySAL spopt (PuLP + CBC) for the
p-median, brute force over every set of sites for the p-center and the fairness objective,
hand computation for the demand and for the measures of an invented 3-place case."""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pulp
import pytest

import siting
from siting.allocation import choice, propose_sites
from siting.allocation.outcomes import measure_table
from siting.allocation.stage import demand_weights
from siting.scenario import Scenario


def _with(sc, **allocation):
    return dataclasses.replace(sc, allocation=dataclasses.replace(sc.allocation, **allocation))


@pytest.fixture(scope="module")
def sm(san_marcos):
    s = san_marcos
    scores = siting.score_candidates(s.sc, s.data, s.graph, s.gaps, progress=False)
    return s, scores


@pytest.fixture(scope="module")
def dense(sm):
    """Every place x candidate minute (no cut-off) from the project's graph: the references' matrix."""
    from siting.access import round_minutes
    from siting.network.solve import directed_coverage
    s, scores = sm
    nodes = s.graph.point_nodes["places"]
    # the shipped measure (mean of both trips), rounded to 0.1 min as every written minute
    full = round_minutes(directed_coverage(s.graph, nodes[scores.candidate_place_index], nodes, 1e9,
                                           direction=s.sc.access.direction, progress=False).T.toarray())
    return full, s.gaps.places["minutes_nearest"].to_numpy(float)


def test_mclp_is_unchanged_with_the_graph(sm, san_marcos_plan):
    """objective = mclp (the default) keeps the historical plan and table, graph or not."""
    s, scores = sm
    plan = propose_sites(s.sc, s.data, s.gaps, scores, graph=s.graph)
    pd.testing.assert_frame_equal(pd.DataFrame(plan.proposals), pd.DataFrame(san_marcos_plan.plan.proposals))
    assert plan.notes == san_marcos_plan.plan.notes and plan.objective == "mclp"
    # Pareto point 0 is the maximal-covering optimum (same demand, same limits)
    front = plan.tradeoff.table
    assert front["newly_covered"].iloc[0] == pytest.approx(plan.solution.objective, rel=1e-9)
    assert (np.diff(front["newly_covered"]) <= 1e-6).all() and (np.diff(front["beyond"]) < 0).all()
    assert len(plan.tradeoff.sentences) == len(front) + (1 if len(front) == 1 else 0)


def test_pmedian_stage_equals_spopt(sm, dense):
    """The stage's p-median (no parent rule: spopt has none) has spopt's optimum on the real UGEL."""
    from spopt.locate import PMedian as SpoptPMedian
    s, scores = sm
    sc = _with(s.sc, objective="pmedian", require_parent=False, pareto_points=0)
    plan = propose_sites(sc, s.data, s.gaps, scores, graph=s.graph)
    full, e = dense
    w = demand_weights(sc, s.gaps.places, indicators=s.data.district_indicators)
    ref = SpoptPMedian.from_cost_matrix(np.c_[full, e], w, p_facilities=sc.allocation.n_sites + 1,
                                        predefined_facilities_arr=np.r_[np.zeros(full.shape[1]), 1].astype(int))
    ref = ref.solve(pulp.PULP_CBC_CMD(msg=False))
    assert plan.result is not None and plan.result.status == "optimal"
    assert plan.solution.objective == pytest.approx(float(ref.problem.objective.value()), rel=1e-7)
    assert plan.objective == "pmedian" and "p-mediana" in plan.notes[0]


@pytest.mark.parametrize("kind", ["pcenter", "fair"])
def test_pcenter_and_fair_stage_equal_brute_force(sm, dense, kind):
    s, scores = sm
    sc = _with(s.sc, objective=kind, require_parent=False, pareto_points=0)
    plan = propose_sites(sc, s.data, s.gaps, scores, graph=s.graph)
    full, e = dense
    places = s.gaps.places
    w = demand_weights(sc, places, indicators=s.data.district_indicators)
    district = places["ubigeo"].astype(str).to_numpy()
    T = sc.allocation.max_minutes

    def value(sel) -> float:
        t = np.minimum(e, full[:, list(sel)].min(axis=1))
        if kind == "pcenter":
            return float(t[w > 0].max())
        beyond = pd.Series(np.where(t <= T, 0.0, w)).groupby(district).sum()
        return float(beyond.max())

    n = sc.allocation.n_sites
    best = min(value(c) for c in itertools.combinations(range(full.shape[1]), n))
    assert plan.solution.objective == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert value(plan.solution.selected) == pytest.approx(best, rel=1e-9, abs=1e-9)


def test_weight_women_changes_who_counts_and_says_if_the_plan_changed(sm):
    s, scores = sm
    places = s.gaps.places
    sc2 = _with(s.sc, weight_women=2.0, pareto_points=0)
    w1 = demand_weights(s.sc, places, indicators=s.data.district_indicators)
    w2 = demand_weights(sc2, places, indicators=s.data.district_indicators)
    g = s.sc.population.target_group
    # by hand: w_j = men_G + 2 women_G
    np.testing.assert_allclose(w2, places[f"men_{g}"].fillna(0) + 2 * places[f"women_{g}"].fillna(0))
    assert (w2 > w1).sum() == (places[f"women_{g}"].fillna(0) > 0).sum()
    p1 = propose_sites(_with(s.sc, pareto_points=0), s.data, s.gaps, scores)
    p2 = propose_sites(sc2, s.data, s.gaps, scores)
    # the objective counts the weighted demand: newly covered places' (men + 2 women) by hand
    unserved = places["minutes_nearest"].to_numpy(float) > s.sc.allocation.max_minutes
    assert p2.solution.objective == pytest.approx(float(w2[p2.solution.covered & unserved].sum()))
    row = p2.priorities.set_index("key").loc["allocation.weight_women"]
    changed = set(p1.proposals["ccpp_id"]) != set(p2.proposals["ccpp_id"])
    assert bool(row["plan_changed"]) == changed and row["places_reweighted"] == (w2 != w1).sum()
    note = next(n for n in p2.priority_notes if n.startswith("allocation.weight_women = 2"))
    assert ("cambió el plan" in note) if changed else ("NO cambió el plan" in note and "factor" in note)
    # the default scenario says how suitability entered (tie-break) and that nothing changed
    why = p1.priorities.set_index("key").loc["allocation.suitability_weight", "why"]
    assert "desempata" in why and p1.priority_notes == []


def test_suitability_weight_and_its_cost(sm):
    s, scores = sm
    base = propose_sites(_with(s.sc, pareto_points=0), s.data, s.gaps, scores)
    big = propose_sites(_with(s.sc, suitability_weight=1e6, pareto_points=0), s.data, s.gaps, scores)
    # lambda this large makes the plan the 3 best-scored eligible candidates (s_i dominates coverage)
    row = big.priorities.set_index("key").loc["allocation.suitability_weight"]
    cov_big = big.solution.objective
    assert row["objective_at_default"] == pytest.approx(base.solution.objective)
    assert row["cost"] == pytest.approx(base.solution.objective - cov_big)
    assert big.proposals["score"].sum() >= base.proposals["score"].sum() - 1e-12


def test_measures_hand_computed_on_three_places():
    """Invented 3-place case (not real data): minutes 10 / 50 / 130 before, 10 / 20 / 70 after."""
    sc = Scenario()
    places = pd.DataFrame({"ubigeo": ["1", "1", "2"], "district": ["A", "A", "B"], "province": ["P", "P", "P"],
                           "pop_15_29": [10.0, 20.0, 30.0], "women_15_29": [5.0, 10.0, 20.0],
                           "population": [40.0, 60.0, 100.0], "women": [20.0, 30.0, 50.0]})
    before, after = np.array([10.0, 50.0, 130.0]), np.array([10.0, 20.0, 70.0])
    total, by = measure_table(sc, places, before, after)
    t = total[total["group"] == "target"].set_index(["measure", "threshold_min"])
    assert t.loc[("mean_minutes", np.nan), "before"] == pytest.approx((10 * 10 + 20 * 50 + 30 * 130) / 60)
    assert t.loc[("mean_minutes", np.nan), "after"] == pytest.approx((10 * 10 + 20 * 20 + 30 * 70) / 60)
    assert t.loc[("worst_minutes", np.nan), "after"] == 70.0
    x, p = after, places["pop_15_29"].to_numpy()
    gini = (p[:, None] * p[None, :] * np.abs(x[:, None] - x[None, :])).sum() / (2 * p.sum() ** 2 * (p @ x / p.sum()))
    assert t.loc[("gini", np.nan), "after"] == pytest.approx(gini)
    assert t.loc[("beyond", 60.0), "before"] == 30.0 and t.loc[("beyond", 60.0), "after"] == 30.0
    assert t.loc[("beyond", 30.0), "after"] == 30.0 and t.loc[("newly_within", 30.0), "after"] == 20.0
    assert t.loc[("beyond", 120.0), "before"] == 30.0 and t.loc[("newly_within", 120.0), "after"] == 30.0
    women = total[(total["group"] == "women_target") & (total["measure"] == "newly_within")]
    assert women.set_index("threshold_min").loc[30.0, "after"] == 10.0
    d = by[(by["group"] == "target") & (by["threshold_min"] == 30.0)].set_index("district")
    assert d.loc["A", "beyond_before"] == 20.0 and d.loc["A", "beyond_after"] == 0.0
    assert d.loc["B", "beyond_before"] == 30.0 and d.loc["B", "beyond_after"] == 30.0


def test_cli_objective_flag_and_scenario_key(tmp_path):
    from siting.cli import _load, build_parser
    args = build_parser().parse_args(["propose", "--scenario", "scenarios/cajamarca.toml", "--objective", "fair"])
    assert _load(args).allocation.objective == "fair"
    assert Scenario().allocation.objective == "mclp"  # the default keeps the historical outputs
    with pytest.raises(Exception, match="objective"):
        siting.load_scenario("scenarios/cajamarca.toml", allocation__objective="median")
    assert set(choice.OBJECTIVES) == {"mclp", "pmedian", "pcenter", "fair"}


def test_new_tables_have_labels_in_both_languages(sm):
    from siting.report.labels import headers
    s, scores = sm
    plan = propose_sites(_with(s.sc, weight_women=2.0), s.data, s.gaps, scores, graph=s.graph)
    for df in (plan.measures, plan.measures_by_district, plan.priorities, plan.tradeoff.table):
        assert len(df)
        for lang in ("es", "en"):
            headers(df, lang)  # KeyError for an unlabelled column
    assert plan.tradeoff.sentences[0].startswith("Máxima cobertura")


@pytest.mark.parametrize("equity_minutes", [90.0, 120.0])
def test_front_counts_people_beyond_equity_minutes(sm, dense, equity_minutes):
    """allocation.equity_minutes is T2 of the front: point 0's 'beyond' = demand beyond T2 after
    its plan, by hand from the dense minutes."""
    s, scores = sm
    sc = _with(s.sc, equity_minutes=equity_minutes, pareto_points=3)
    plan = propose_sites(sc, s.data, s.gaps, scores, graph=s.graph)
    full, e = dense
    w = demand_weights(sc, s.gaps.places, indicators=s.data.district_indicators)
    ids = scores.candidates["ccpp_id"].astype(str).tolist()
    for _, r in plan.tradeoff.table.iterrows():
        sel = [ids.index(c) for c in r["sites"].split(", ")]
        t = np.minimum(e, full[:, sel].min(axis=1))
        assert r["beyond"] == pytest.approx(float(w[t > equity_minutes].sum()), rel=1e-9)
    assert plan.tradeoff.equity_minutes == equity_minutes
