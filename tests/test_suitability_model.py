"""Learned suitability on a SYNTHETIC labelled fixture whose labels follow a known rule.

tests/fixtures/fixture_labels_synthetic_rule.csv: 240 invented sites (site_id SYNTH-xxxx,
provinces FIXTURE_PROV_1..8, uniform random features, seed 12345) labelled
``outcome = 1 if poverty > 40 and unserved_target > 500 else 0``.  Not real data.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn

from siting.errors import DataError
from siting.suitability.model import NO_LABELS_MESSAGE, LearnedSuitability, fit_if_labelled, load_labels

LABELS = Path(__file__).parent / "fixtures/fixture_labels_synthetic_rule.csv"
FEATURES = ["poverty", "unserved_target", "host_premises", "teacher_minutes", "altitude_m"]


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    return load_labels(LABELS)


@pytest.fixture(scope="module")
def fitted(labels):
    model, message = fit_if_labelled(labels, features=FEATURES, categorical=["area"], group_column="province",
                                     seed=20241126)
    return model, message


def test_fixture_follows_its_rule(labels):
    rule = ((labels["poverty"] > 40) & (labels["unserved_target"] > 500)).astype(int)
    assert (labels["outcome"] == rule).all() and 0.2 < rule.mean() < 0.5
    assert labels["province"].nunique() == 8


def test_model_recovers_the_rule(fitted, labels):
    model, message = fitted
    assert model.task == "classification"
    assert model.metrics["roc_auc"] > 0.9, model.metrics
    assert model.metrics["cv"] == "GroupKFold(5) by province"
    # grouped folds: no province in both train and test -> check via the splitter itself
    from sklearn.model_selection import GroupKFold
    for train, test in GroupKFold(5).split(labels, groups=labels["province"]):
        assert set(labels["province"].iloc[train]).isdisjoint(labels["province"].iloc[test])
    top2 = set(model.importances["feature"].head(2))
    assert top2 == {"poverty", "unserved_target"}, model.importances
    assert "roc_auc" in message
    # predictions on clear-cut cases (not in the fixture)
    new = pd.DataFrame({"poverty": [70.0, 10.0, 70.0], "unserved_target": [1400.0, 1400.0, 50.0],
                        "host_premises": [2, 2, 2], "teacher_minutes": [60.0, 60.0, 60.0],
                        "altitude_m": [3000.0, 3000.0, 3000.0], "area": ["rural", "rural", "selva"]})
    p = model.predict(new)
    assert p.iloc[0] > 0.8 and p.iloc[1] < 0.2 and p.iloc[2] < 0.2


def test_save_and_load_roundtrip(fitted, labels, tmp_path):
    model, _ = fitted
    paths = model.save(tmp_path)
    meta = json.loads(paths["meta"].read_text(encoding="utf-8"))
    assert meta["features"] == FEATURES and meta["categorical"] == ["area"]
    assert meta["sklearn_version"] == sklearn.__version__
    assert meta["metrics"]["roc_auc"] == pytest.approx(model.metrics["roc_auc"])
    assert len(meta["training_data_hash"]) == 16
    again = LearnedSuitability.load(tmp_path)
    np.testing.assert_allclose(again.predict(labels), model.predict(labels))
    with pytest.raises(DataError, match="no saved suitability model"):
        LearnedSuitability.load(tmp_path / "nothing")


def test_no_labels_falls_back_to_weighted_score():
    assert fit_if_labelled(None, features=FEATURES) == (None, NO_LABELS_MESSAGE)
    assert fit_if_labelled("", features=FEATURES) == (None, NO_LABELS_MESSAGE)
    assert NO_LABELS_MESSAGE == "no labelled sites: using the weighted score"


def test_regression_outcome(labels):
    # synthetic regression target derived from the fixture: enrolment = 3·poverty + 0.05·unserved + noise
    rng = np.random.default_rng(0)
    t = labels.assign(enrolment=3 * labels["poverty"] + 0.05 * labels["unserved_target"] + rng.normal(0, 5, len(labels)))
    m = LearnedSuitability(features=FEATURES, target="enrolment", seed=1)
    metrics = m.evaluate(t, group_column="province", n_splits=4)
    assert m.task == "regression" and metrics["r2"] > 0.8 and metrics["mae"] < 20
    assert len(metrics["folds"]) == 4


def test_labels_text_outcome_and_errors(tmp_path):
    p = tmp_path / "fixture_labels_text.csv"
    p.write_text("site_id,province,poverty,outcome\nSYNTH-1,P1,\"45,5\",good\nSYNTH-2,P2,10,bad\n", encoding="utf-8")
    t = load_labels(p)
    assert t["outcome"].tolist() == [1, 0] and t["poverty"].tolist() == [45.5, 10.0]
    p.write_text("site_id,province,poverty\nSYNTH-1,P1,4\n", encoding="utf-8")
    with pytest.raises(DataError, match="no 'outcome' column"):
        load_labels(p)
    m = LearnedSuitability(features=["poverty"])
    with pytest.raises(DataError, match="grouping column 'district'"):
        m.evaluate(t, group_column="district")


def test_model_key_chooses_the_estimator(labels, fitted):
    """``suitability.model`` (passed as ``model=``) picks the estimator and so the predictions."""
    forest, _ = fit_if_labelled(labels, features=FEATURES, categorical=["area"], group_column="province",
                                model="random_forest", seed=20241126)
    boosted = fitted[0]
    assert type(forest.pipeline[-1]).__name__ == "RandomForestClassifier"
    assert type(boosted.pipeline[-1]).__name__ == "GradientBoostingClassifier"
    assert not np.allclose(forest.predict(labels), boosted.predict(labels))
