"""Trade-off curve, suitability cost, demand weights by sex and age, and plan measures.

Instances are SYNTHETIC FIXTURES (random or hand-made minutes and populations), except where
a test says otherwise.
"""
from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from siting.errors import DataError  # noqa: E402
from siting.allocation.objectives import (  # noqa: E402
    MaxCovering,
    PMedian,
    SitingData,
    compare_plans,
    demand_weights,
    describe_front,
    pareto_front,
    plan_measures,
    plot_front,
    suitability_cost,
)


def fixture(seed: int, n: int = 40, m: int = 10):
    """SYNTHETIC FIXTURE: minutes places x candidates, existing minutes, weights."""
    rng = np.random.default_rng(seed)
    D = rng.uniform(0, 300, (n, m))
    e = rng.uniform(30, 400, n)
    w = rng.integers(1, 60, n).astype(float)
    return D, e, w


def brute(D, e, w, S, T=60.0, T2=120.0):
    t = np.minimum(e, D[:, list(S)].min(axis=1)) if len(S) else e
    return float(np.where((t <= T) & (e > T), w, 0).sum()), float(w[t > T2].sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pareto_front_is_nondominated_monotone_and_optimal(seed):
    D, e, w = fixture(seed)
    N = 3
    data = SitingData.from_cost_matrix(D, w, existing_minutes=e, n_sites=N)
    front = pareto_front(data, max_minutes=60, equity_minutes=120, n_points=6)
    t = front.table
    cov, bey = t["newly_covered"].to_numpy(), t["beyond"].to_numpy()
    # monotone: less inequity costs coverage, never gains it
    assert (np.diff(bey) < 0).all() and (np.diff(cov) <= 1e-9).all()
    # non-dominated among themselves and against every plan (brute force)
    values = [brute(D, e, w, S) for k in range(N + 1) for S in itertools.combinations(range(D.shape[1]), k)]
    for c, b in zip(cov, bey):
        assert not any((c2 >= c and b2 <= b) and (c2 > c + 1e-9 or b2 < b - 1e-9) for c2, b2 in values)
    # endpoints: maximal coverage and fewest beyond T2
    assert cov[0] == pytest.approx(max(v[0] for v in values))
    assert bey[-1] == pytest.approx(min(v[1] for v in values))
    # each point solves the epsilon-constraint problem exactly
    for eps, c in zip(t["epsilon"].iloc[1:], cov[1:]):
        assert c == pytest.approx(max(v[0] for v in values if v[1] <= eps + 1e-6))
    assert t["coverage_cost"].iloc[0] == 0 and (t["coverage_cost"] >= -1e-9).all()
    assert t["status"].eq("optimal").all()
    assert len(t) >= 3  # the fixture has a real trade-off


def test_pareto_front_with_parents_respects_capacity():
    D, e, w = fixture(4)
    teacher = np.random.default_rng(9).uniform(0, 200, (10, 2))
    data = SitingData.from_cost_matrix(D, w, existing_minutes=e, n_sites=3, parent_minutes=teacher,
                                       parent_capacity=[1, 1], parent_max_minutes=150)
    front = pareto_front(data, n_points=4)
    from siting.allocation.objectives.constraints import Feasibility
    feas = Feasibility(data)
    assert all(feas.feasible(sel) and len(sel) <= 2 for sel in front.table["selected"])


def test_describe_and_plot_front_in_both_languages():
    D, e, w = fixture(0)
    front = pareto_front(SitingData.from_cost_matrix(D, w, existing_minutes=e, n_sites=3), n_points=5)
    es, en = describe_front(front), describe_front(front, lang="en")
    assert len(es) == len(front.table) and es[0].startswith("Máxima cobertura")
    assert en[0].startswith("Maximal coverage")
    k = 1
    dc = front.table["newly_covered"].iloc[0] - front.table["newly_covered"].iloc[1]
    assert f"{dc:,.0f}" in en[k] or "no loss" in en[k]
    ax = plot_front(front)
    assert ax.get_xlabel().startswith("Personas") and len(ax.lines) == 1
    assert plot_front(front, lang="en").get_xlabel().startswith("Target population")


def test_suitability_cost_table():
    D, e, w = fixture(5)
    s = np.linspace(0, 1, 10)
    model = MaxCovering.from_cost_matrix(D, w, existing_minutes=e, n_sites=3, max_minutes=60, suitability=s)
    table = suitability_cost(model, [10.0, 100.0, 1e6])
    assert table["lambda"].tolist() == [0.0, 10.0, 100.0, 1e6]
    assert table["objective_cost"].iloc[0] == 0
    assert (np.diff(table["objective"]) <= 1e-9).all()  # a suitability term only costs coverage
    assert (np.diff(table["suitability"]) >= -1e-9).all()
    # lambda huge: the three most suitable candidates (7, 8, 9)
    assert table["suitability"].iloc[-1] == pytest.approx(s[-3:].sum())
    cov_top = MaxCovering(model.data, max_minutes=60).evaluate([7, 8, 9])[0]
    assert table["objective"].iloc[-1] == pytest.approx(cov_top)
    assert table["objective_cost"].iloc[-1] == pytest.approx(table["objective"].iloc[0] - cov_top)
    # p-median: the cost is in people x minutes and is >= 0
    pm = PMedian.from_cost_matrix(D, w, existing_minutes=e, n_sites=3, suitability=s)
    tp = suitability_cost(pm, [1e7])
    assert tp["objective_cost"].iloc[1] >= 0 and tp["suitability"].iloc[1] >= tp["suitability"].iloc[0]


def places_fixture() -> pd.DataFrame:
    """HAND-MADE FIXTURE: two places, one of young women, one of young men."""
    return pd.DataFrame({"pop_15_29": [100.0, 120.0], "women_15_29": [100.0, 0.0], "men_15_29": [0.0, 120.0],
                         "women_15_64": [150.0, 10.0], "men_15_64": [10.0, 200.0], "population": [200.0, 260.0],
                         "women": [160.0, 20.0]})


def test_women_weight_changes_who_counts_and_the_plan():
    places = places_fixture()
    w1 = demand_weights(places, target_group="15_29")
    w2 = demand_weights(places, target_group="15_29", weight_women=2.0)
    assert w1.tolist() == [100.0, 120.0] and w2.tolist() == [200.0, 120.0]
    assert demand_weights(places, target_group="15_29", age_weights={"15_29": 1.0, "15_64": 0.5}).tolist() == \
        [100 + 0.5 * 160, 120 + 0.5 * 210]
    assert demand_weights(places, target_group="15_29", poverty=np.array([50.0, np.nan]),
                          weight_poverty=1.0).tolist() == [150.0, 120.0]
    # one site: candidate 0 next to the women's place, candidate 1 next to the men's place
    D = np.array([[5.0, 90.0], [90.0, 5.0]])
    e = np.array([100.0, 100.0])
    p1 = PMedian.from_cost_matrix(D, w1, existing_minutes=e, n_sites=1).solve("exact")
    p2 = PMedian.from_cost_matrix(D, w2, existing_minutes=e, n_sites=1).solve("exact")
    assert p1.selected.tolist() == [1] and p2.selected.tolist() == [0]
    with pytest.raises(DataError, match="men_15_64|women_15_64"):
        demand_weights(places.drop(columns=["men_15_64"]), target_group="15_64")


def test_plan_measures_hand_case():
    before = np.array([10.0, 70.0, 150.0, np.inf])
    after = np.array([10.0, 40.0, 150.0, 50.0])
    pops = {"target": np.array([10.0, 20.0, 30.0, 40.0]), "women_target": np.array([5.0, 10.0, 0.0, 20.0])}
    pm = plan_measures(before, after, pops, place_group=["a", "a", "b", "b"], thresholds=(60, 120))
    t = pm.total.set_index("group")
    r = t.loc["target"]
    assert r["people"] == 100 and r["no_access_before"] == 40 and r["no_access_after"] == 0
    assert r["beyond_60_before"] == 90 and r["beyond_60_after"] == 30 and r["newly_within_60"] == 60
    assert r["beyond_120_before"] == 70 and r["beyond_120_after"] == 30
    assert r["mean_minutes_after"] == pytest.approx((100 + 800 + 4500 + 2000) / 100)
    assert r["worst_minutes_before"] == 150 and r["worst_minutes_after"] == 150
    # Gini by its pairwise definition
    x, ww = after, pops["target"]
    mu = (ww * x).sum() / ww.sum()
    g = (ww[:, None] * ww[None, :] * np.abs(x[:, None] - x[None, :])).sum() / (2 * ww.sum() ** 2 * mu)
    assert r["gini_after"] == pytest.approx(g)
    assert t.loc["women_target", "newly_within_60"] == 30
    d = pm.by_district.set_index("district")
    assert d.loc["b", "target_beyond_60_before"] == 70 and d.loc["b", "target_beyond_60_after"] == 30
    assert d.loc["a", "women_target_beyond_60_after"] == 0


def test_compare_plans_one_row_per_plan():
    D, e, w = fixture(1)
    data = SitingData.from_cost_matrix(D, w, existing_minutes=e, n_sites=2)
    district = np.arange(len(w)) % 3
    plans = {"pmedian": PMedian(data).solve("exact").selected,
             "mclp": MaxCovering(data, max_minutes=60).solve("exact").selected}
    table = compare_plans(data, plans, {"target": w}, place_group=district)
    assert table["plan"].tolist() == ["pmedian", "mclp"]
    assert table.loc[1, "target_newly_within_60"] >= table.loc[0, "target_newly_within_60"] - 1e-9
    assert table.loc[0, "target_mean_minutes"] <= table.loc[1, "target_mean_minutes"] + 1e-9
    assert {"worst_district", "target_gini", "target_beyond_120"} <= set(table.columns)
