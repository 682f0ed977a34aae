"""Weighted score and AHP: textbook values, consistency errors, normalisation directions, contributions."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from siting.errors import ScenarioError
from siting.scenario import Suitability, scenario_from_dict
from siting.suitability.mcda import (WeightedScore, ahp_weights, normalise_column, resolve_weights, score_table,
                                     weights_from_scenario)

THREE = ["unserved_target", "poverty", "host_premises"]
# Saaty's classic 3x3 example (e.g. Saaty 1980; Saaty 2008 "Decision making with the AHP"):
# weights ≈ (0.637, 0.258, 0.105), λmax ≈ 3.039, CI ≈ 0.019, CR ≈ 0.033 (RI(3) = 0.58)
SAATY_3 = [[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]]


def power_iteration(a: np.ndarray, iters: int = 500) -> tuple[np.ndarray, float]:
    """Independent principal-eigenvector computation (power method)."""
    w = np.ones(len(a)) / len(a)
    for _ in range(iters):
        w = a @ w
        w = w / w.sum()
    return w, float((a @ w / w).mean())


def test_ahp_saaty_textbook_example():
    r = ahp_weights(THREE, SAATY_3)
    assert [round(r.weights[c], 3) for c in THREE] == [0.637, 0.258, 0.105]
    assert r.lambda_max == pytest.approx(3.0385, abs=1e-3)
    assert r.ci == pytest.approx(0.0193, abs=1e-3)
    assert r.cr == pytest.approx(0.033, abs=1e-3)
    w, lam = power_iteration(np.array(SAATY_3))
    assert np.allclose([r.weights[c] for c in THREE], w, atol=1e-9)
    assert r.lambda_max == pytest.approx(lam, abs=1e-9)


def test_ahp_consistent_matrix_recovers_weights_exactly():
    names = ["unserved_target", "poverty", "host_premises", "teacher_minutes", "community_request"]
    w = np.array([0.4, 0.25, 0.15, 0.12, 0.08])
    r = ahp_weights(names, np.outer(w, 1 / w))
    assert np.allclose([r.weights[c] for c in names], w, atol=1e-12)
    assert r.cr == pytest.approx(0.0, abs=1e-12)


def test_ahp_inconsistent_matrix_names_the_pair():
    # fixture: A ≫ B, B ≫ C but C ≫ A (a cycle) plus one consistent criterion
    names = ["unserved_target", "poverty", "host_premises", "tambo"]
    m = [[1, 7, 1 / 7, 3], [1 / 7, 1, 7, 3], [7, 1 / 7, 1, 3], [1 / 3, 1 / 3, 1 / 3, 1]]
    with pytest.raises(ScenarioError) as err:
        ahp_weights(names, m)
    text = str(err.value)
    assert "CR = " in text and "> 0.1" in text
    first = text.split("most inconsistent judgements: ")[1].split(";")[0]
    assert " vs " in first and "tambo" not in first  # the cycle, not the consistent row, is blamed
    # fixture: a consistent matrix with one reversed judgement (unserved_target vs tambo: 4 -> 1/9)
    w = np.array([0.4, 0.3, 0.2, 0.1])
    m2 = np.outer(w, 1 / w)
    m2[0, 3], m2[3, 0] = 1 / 9, 9
    with pytest.raises(ScenarioError) as err:
        ahp_weights(names, m2)
    assert str(err.value).split("most inconsistent judgements: ")[1].startswith("unserved_target vs tambo (judged 0.111")


def test_ahp_reciprocal_and_shape_checks():
    bad = [[1, 3, 5], [1 / 3, 1, 3], [5, 1 / 3, 1]]  # a31 should be 1/5
    with pytest.raises(ScenarioError, match="not reciprocal for unserved_target vs host_premises"):
        ahp_weights(THREE, bad)
    with pytest.raises(ScenarioError, match="3×3"):
        ahp_weights(THREE, [[1, 2], [0.5, 1]])
    with pytest.raises(ScenarioError, match="unknown criterion 'wifi'"):
        ahp_weights(["wifi", "poverty"], [[1, 2], [0.5, 1]])
    with pytest.raises(ScenarioError, match="must be > 0"):
        ahp_weights(["poverty", "hdi"], [[1, -2], [-0.5, 1]])


def test_weights_normalised_and_unknown_name():
    assert resolve_weights({"poverty": 2, "hdi": 2}) == {"poverty": 0.5, "hdi": 0.5}
    with pytest.raises(ScenarioError, match="unknown criterion 'povrety'"):
        resolve_weights({"povrety": 1.0})
    with pytest.raises(ScenarioError, match="sum to 0"):
        resolve_weights({"poverty": 0.0})
    sc = scenario_from_dict({"suitability": {"weights": {"povrety": 1.0}}})
    with pytest.raises(ScenarioError, match="povrety"):
        WeightedScore.from_scenario(sc)


def test_weights_from_scenario_ahp_table():
    sc = scenario_from_dict({"suitability": {"weights": {"unserved_target": 1, "poverty": 1, "host_premises": 1},
                                             "ahp": {"matrix": SAATY_3}}})
    w = weights_from_scenario(sc)
    assert [round(w[c], 3) for c in THREE] == [0.637, 0.258, 0.105]
    assert WeightedScore.from_scenario(sc).weights == pytest.approx(w, abs=1e-12)


def test_normalisation_directions():
    x = np.array([10.0, 20.0, 40.0, np.nan, np.inf])
    assert normalise_column(x, "+").tolist() == pytest.approx([0, 1 / 3, 1, 0, 1])
    # "−": smaller is better; unreachable (inf) is as bad as the worst; unknown (NaN) is worst
    assert normalise_column(x, "−").tolist() == pytest.approx([1, 2 / 3, 0, 0, 0])
    assert normalise_column(np.array([5.0, 5.0]), "+").tolist() == [0, 0]  # constant: no discrimination
    r = normalise_column(np.array([3.0, 1.0, 1.0, 9.0]), "+", method="rank")
    assert r.tolist() == pytest.approx([2 / 3, 1 / 6, 1 / 6, 1.0])  # ranks 3, 1.5, 1.5, 4
    r = normalise_column(np.array([3.0, 1.0, 1.0, 9.0]), "−", method="rank")
    assert r.tolist() == pytest.approx([1 / 3, 5 / 6, 5 / 6, 0.0])
    with pytest.raises(ScenarioError):
        normalise_column(x, "+", method="zscore")


def fixture_criteria_table(n: int = 40, seed: int = 3) -> pd.DataFrame:
    """Synthetic fixture criteria table (random values, not real candidates)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"ccpp_id": [f"FIXTURE{i:03d}" for i in range(n)],
                         "unserved_target": rng.uniform(0, 2000, n), "unserved_women_target": rng.uniform(0, 1000, n),
                         "time_to_nearest_facility": rng.uniform(60, 300, n),
                         "teacher_minutes": rng.uniform(10, 180, n), "host_premises": rng.integers(0, 6, n),
                         "poverty": rng.uniform(10, 80, n), "community_request": rng.integers(0, 2, n)},
                        index=pd.RangeIndex(100, 100 + n))


def test_contributions_sum_to_score_and_rank_order():
    t = fixture_criteria_table()
    ws = WeightedScore.from_scenario(Suitability())
    s = ws.score(t)
    contrib = s[[c for c in s.columns if c.startswith("contrib_")]]
    assert np.allclose(contrib.sum(axis=1), s["score"])
    # independent score: explicit loop over the definition
    for idx in t.index[:5]:
        exp = 0.0
        for c, w in ws.weights.items():
            col = t[c].astype(float)
            v = (col[idx] - col.min()) / (col.max() - col.min())
            exp += w * (v if c != "teacher_minutes" else 1 - v)
        assert s.loc[idx, "score"] == pytest.approx(exp)
    order = s.sort_values("score", ascending=False).index
    assert s.loc[order, "rank"].tolist() == list(range(1, len(t) + 1))
    best = s.loc[order[0]]
    parts = best["top_criteria"].split(", ")
    assert 1 <= len(parts) <= 3
    name, val = parts[0].rsplit(" (", 1)
    assert float(val.rstrip(")")) == pytest.approx(contrib.loc[order[0]].max(), abs=0.005)
    assert name == contrib.loc[order[0]].idxmax().removeprefix("contrib_")


def test_weighted_criterion_missing_from_table_or_without_data():
    t = fixture_criteria_table().drop(columns="poverty")
    with pytest.raises(ScenarioError, match="'poverty' has a weight"):
        score_table(t, {"poverty": 1, "unserved_target": 1})
    t = fixture_criteria_table().assign(road_minutes=np.nan)
    s = score_table(t, {"road_minutes": 1, "unserved_target": 1})
    assert s.attrs["notes"] and "road_minutes" in s.attrs["notes"][0]
    assert (s["contrib_road_minutes"] == 0).all()
