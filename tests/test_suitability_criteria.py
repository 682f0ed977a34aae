"""Criteria table: registry, unserved population in reach (brute force), district indicators, petitions."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from siting.errors import DataError
from siting.suitability.criteria import CRITERIA, compute_criteria, district_indicator_table, load_petitions

ROOT = Path(__file__).resolve().parents[1]
INDICATORS = ROOT / "data/raw/population/ubigeo_distrito_aumentado.csv"
PETITIONS = Path(__file__).parent / "fixtures/fixture_petitions_example.csv"


def test_registry_is_complete_and_directions_valid():
    required = {"unserved_target", "time_to_nearest_facility", "teacher_minutes", "host_premises", "tambo",
                "poverty", "hdi", "altitude_m", "road_minutes", "community_request"}
    assert required <= set(CRITERIA)
    for c in CRITERIA.values():
        assert c.direction in {"+", "−"} and c.description_es and c.description_en and c.unit
    assert CRITERIA["teacher_minutes"].sign == -1 and CRITERIA["poverty"].sign == 1
    assert CRITERIA["hdi"].direction == "−" and CRITERIA["road_minutes"].direction == "−"


def fixture_hand_tables():
    """Hand-made fixture: 6 places, 3 candidates (codes are fixture ids, not real places)."""
    places = pd.DataFrame({"ccpp_id": [f"FX{i}" for i in range(6)],
                           "pop_15_29": [100.0, 50.0, 30.0, 400.0, np.nan, 7.0],
                           "women_15_29": [60.0, 20.0, 10.0, 150.0, 5.0, 3.0]})
    unserved = np.array([True, True, False, True, True, True])
    candidates = pd.DataFrame({"ccpp_id": ["FX0", "FX3", "FX9"], "ubigeo": ["060102", "60103", "069999"],
                               "minutes_existing": [75.0, np.inf, 130.0], "host_premises": [2, 0, 1],
                               "tambo": [0, 0, 1], "altitude_m": [2114.0, 2802.0, 3000.0]})
    # minutes within T; explicit zeros are stored on purpose (a stored 0 still means "reached")
    rows = [0, 0, 0, 1, 1, 2, 2]
    cols = [0, 1, 2, 1, 4, 5, 0]
    data = [0.0, 20.0, 40.0, 0.0, 55.0, 10.0, 59.0]
    coverage = sparse.csr_array((data, (rows, cols)), shape=(3, 6))
    return candidates, places, coverage, unserved


def test_unserved_target_matches_brute_force():
    candidates, places, coverage, unserved = fixture_hand_tables()
    t = compute_criteria(candidates, places, coverage, unserved, np.array([30.0, np.nan, 200.0]), None)
    dense_reach = np.zeros(coverage.shape, bool)
    c = coverage.tocoo()
    dense_reach[c.row, c.col] = True
    for i, cid in enumerate(candidates["ccpp_id"]):
        own = np.flatnonzero(places["ccpp_id"].to_numpy() == cid)
        dense_reach[i, own] = True
    for i in range(3):
        exp = sum(np.nan_to_num(places["pop_15_29"].iloc[j]) for j in range(6) if dense_reach[i, j] and unserved[j])
        exp_w = sum(places["women_15_29"].iloc[j] for j in range(6) if dense_reach[i, j] and unserved[j])
        assert t["unserved_target"].iloc[i] == pytest.approx(exp)
        assert t["unserved_women_target"].iloc[i] == pytest.approx(exp_w)
    # by hand: FX0 reaches 0,1,2 -> 100 + 50 (2 is served); FX3 reaches 1,4 and itself 3 -> 50 + 0 + 400;
    # FX9 (not a place) reaches 5, 0 -> 7 + 100
    assert t["unserved_target"].tolist() == [150.0, 450.0, 107.0]
    assert t["time_to_nearest_facility"].iloc[1] == np.inf
    assert np.isnan(t["teacher_minutes"].iloc[1])
    assert t["community_request"].tolist() == [0.0, 0.0, 0.0]
    assert t["poverty"].isna().all() and t["road_minutes"].isna().all()
    assert t.index.equals(candidates.index)


def test_district_indicators_from_real_file_and_petitions_fixture():
    candidates, places, coverage, unserved = fixture_hand_tables()
    candidates["ccpp_id"] = ["0601020091", "0601030001", "0601010151"]  # real INEI codes
    places["ccpp_id"] = ["0601020091", "X1", "X2", "0601030001", "X4", "X5"]
    raw = pd.read_csv(INDICATORS, dtype=str)
    pet = load_petitions(PETITIONS)
    assert pet["ccpp_id"].tolist() == ["0601020091", "0601030001"]  # leading zero restored
    t = compute_criteria(candidates, places, coverage, unserved, np.zeros(3), raw, pet,
                         road_minutes=np.array([5.0, 0.0, 12.0]))
    row = raw.set_index("inei")
    assert t["poverty"].iloc[0] == pytest.approx(float(row.loc["060102", "pct_pobreza_total"]))
    assert t["hdi"].iloc[1] == pytest.approx(float(row.loc["060103", "idh_2019"]))  # '60103' zero-filled
    assert np.isnan(t["poverty"].iloc[2])  # 069999 is not a district: NaN, never invented
    assert t["community_request"].tolist() == [1.0, 1.0, 0.0]
    assert t["road_minutes"].tolist() == [5.0, 0.0, 12.0]
    norm = district_indicator_table(raw)
    assert list(norm.columns) == ["ubigeo", "poverty", "hdi"] and norm["ubigeo"].str.len().eq(6).all()


def test_petitions_without_code_column_is_a_data_error(tmp_path):
    p = tmp_path / "fixture_bad_petitions.csv"
    p.write_text("codigo,organisation\n0601020091,FIXTURE\n", encoding="utf-8")
    with pytest.raises(DataError, match="ccpp_id"):
        load_petitions(p)


def test_shape_mismatch_is_reported():
    candidates, places, coverage, unserved = fixture_hand_tables()
    with pytest.raises(ValueError, match="coverage has shape"):
        compute_criteria(candidates, places.iloc[:5], coverage, unserved[:5], None, None)
