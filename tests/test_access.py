"""Tests of siting.access: bands, aggregates, weighted median, Gini, 2SFCA, before/after.

Every table built here is a SMALL HAND-MADE FIXTURE (functions named ``fixture_*``): the
places, districts and facilities are invented for the test and are not real localities.
Expected values are computed by hand (shown in comments) or by an independent
implementation (PySAL ``access``, networkx shortest paths, brute-force pairwise sums).
"""
from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from siting import access as acc
from siting.access import stats
from siting.errors import DataError, ScenarioError

INF = np.inf

# PySAL access 1.1 calls DataFrame.set_index(inplace=True), deprecated in pandas 3
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning",
                                        "ignore::pandas.errors.Pandas4Warning")


# --------------------------------------------------------------------------- fixtures


def fixture_places() -> gpd.GeoDataFrame:
    """FIXTURE: six invented places in two invented districts of two UGELs.

    pop_15_29 = women_15_29 + men_15_29; population = women + men.
    """
    df = pd.DataFrame({
        "ccpp_id": [f"99000000{i:02d}" for i in range(6)],
        "name": [f"FIXTURE PLACE {i}" for i in range(6)],
        "ubigeo": ["990101", "990101", "990101", "990201", "990201", "990201"],
        "province_code": ["9901"] * 3 + ["9902"] * 3,
        "province": ["FIX A"] * 3 + ["FIX B"] * 3,
        "district": ["D1", "D1", "D1", "D2", "D2", "D2"],
        "ugel": ["UGEL FIX A"] * 3 + ["UGEL FIX B"] * 3,
        "area": ["urbano", "rural", "rural", "urbano", "rural", "rural"],
        "women": [60.0, 20.0, 10.0, 40.0, 30.0, 5.0],
        "men": [40.0, 30.0, 10.0, 60.0, 20.0, 15.0],
        "women_15_29": [15.0, 5.0, 2.0, 10.0, 8.0, 1.0],
        "men_15_29": [10.0, 5.0, 3.0, 10.0, 2.0, 4.0],
    })
    df["population"] = df["women"] + df["men"]
    df["pop_15_29"] = df["women_15_29"] + df["men_15_29"]
    geom = [Point(-78.5 + 0.01 * i, -7.1) for i in range(6)]
    return gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")


def fixture_facilities(prefix: str, n: int) -> gpd.GeoDataFrame:
    """FIXTURE: ``n`` invented facilities with ids ``<prefix>0..``."""
    return gpd.GeoDataFrame({"facility_id": [f"{prefix}{i}" for i in range(n)],
                             "enrolment": np.arange(1, n + 1) * 10.0},
                            geometry=[Point(-78.5, -7.0 - 0.01 * i) for i in range(n)], crs="EPSG:4326")


# minutes from the six fixture places: to CETPRO and to extension centres
CETPRO_MIN = np.array([10.0, 45.0, 90.0, 30.0, 200.0, INF])
CETPRO_IDX = np.array([0, 0, 1, 1, 1, -1])
EXT_MIN = np.array([50.0, 20.0, INF, 60.0, 150.0, INF])
EXT_IDX = np.array([0, 0, -1, 1, 1, -1])
# "any" = min:          10 (cetpro C0), 20 (ext E0), 90 (C1), 30 (C1, tie->first set), 150 (E1), inf


def fixture_place_table() -> gpd.GeoDataFrame:
    return acc.place_access(fixture_places(), minutes={"cetpro": CETPRO_MIN, "extension": EXT_MIN},
                            nearest={"cetpro": CETPRO_IDX, "extension": EXT_IDX},
                            facilities={"cetpro": fixture_facilities("C", 2), "extension": fixture_facilities("E", 2)})


# --------------------------------------------------------------------------- bands


def test_band_boundaries_are_closed_on_the_right():
    b = acc.assign_band(np.array([0.0, 30.0, 30.0001, 60.0, 60.5, 120.0, 120.01, 1e6, INF]))
    assert list(b) == ["<=30", "<=30", "30-60", "30-60", "60-120", "60-120", ">120", ">120", "sin acceso"]
    assert b.ordered


def test_bands_follow_configured_thresholds():
    assert acc.band_labels([15, 45]) == ["<=15", "15-45", ">45", "sin acceso"]
    assert acc.band_slugs([22.5, 45]) == ["0_22_5", "22_5_45", "over_45", "no_access"]
    b = acc.assign_band(np.array([15.0, 16.0, 46.0]), thresholds=[15, 45])
    assert list(b) == ["<=15", "15-45", ">45"]


@pytest.mark.parametrize("bad", [[], [60, 30], [0, 30], [30, 30]])
def test_bad_thresholds_raise_scenario_error(bad):
    with pytest.raises(ScenarioError, match="thresholds"):
        acc.assign_band(np.array([1.0]), thresholds=bad)


def test_nan_or_negative_minutes_are_refused():
    with pytest.raises(DataError, match="NaN"):
        acc.assign_band(np.array([1.0, np.nan]))
    with pytest.raises(DataError, match="negative"):
        acc.assign_band(np.array([-1.0]))


def test_round_minutes_half_up_to_tenth():
    got = acc.round_minutes(np.array([12.25, 12.24, 12.35, 2.675, 0.05, 0.04, INF]))
    np.testing.assert_array_equal(got, [12.3, 12.2, 12.4, 2.7, 0.1, 0.0, INF])


def test_band_uses_unrounded_minutes():
    # 60.04 displays as 60.0 but is beyond 60
    assert acc.round_minutes(60.04) == 60.0
    assert list(acc.assign_band(np.array([60.04]))) == ["60-120"]


# --------------------------------------------------------------------------- place_access


def test_place_access_columns_and_derived_any():
    t = fixture_place_table()
    np.testing.assert_array_equal(t["minutes_any"], [10, 20, 90, 30, 150, INF])
    np.testing.assert_array_equal(t["minutes_nearest"], t["minutes_any"])
    assert t["nearest_cetpro"].tolist()[:5] == ["C0", "C0", "C1", "C1", "C1"]
    assert pd.isna(t["nearest_cetpro"].iloc[5])
    assert t["nearest_extension"].tolist()[:2] == ["E0", "E0"] and pd.isna(t["nearest_extension"].iloc[2])
    assert t["nearest_facility"].tolist()[:5] == ["C0", "E0", "C1", "C1", "E1"]
    assert pd.isna(t["nearest_facility"].iloc[5])
    assert t["nearest_set_any"].tolist()[:5] == ["cetpro", "extension", "cetpro", "cetpro", "extension"]
    assert list(t["band"]) == ["<=30", "<=30", "60-120", "<=30", ">120", "sin acceso"]
    assert list(t["band_extension"]) == ["30-60", "<=30", "sin acceso", "30-60", ">120", "sin acceso"]
    assert isinstance(t, gpd.GeoDataFrame) and t.crs == "EPSG:4326"
    assert "minutes_nearest" not in fixture_places().columns  # input untouched


def test_place_access_uses_given_any_set():
    fac = fixture_facilities("X", 3)
    m = np.array([5.0, 61.0, 7.0, 8.0, 9.0, INF])
    t = acc.place_access(fixture_places(), minutes={"any": m}, nearest={"any": np.array([2, 1, 0, 0, 0, -1])},
                         facilities={"any": fac})
    assert t["nearest_facility"].tolist()[:5] == ["X2", "X1", "X0", "X0", "X0"]
    assert list(t["band"])[:2] == ["<=30", "60-120"]
    assert "nearest_set_any" not in t.columns


def test_place_access_errors_name_the_problem():
    places = fixture_places()
    fac = {"cetpro": fixture_facilities("C", 2)}
    with pytest.raises(DataError, match="6 rows"):
        acc.place_access(places, minutes={"cetpro": CETPRO_MIN[:4]}, nearest={"cetpro": CETPRO_IDX[:4]}, facilities=fac)
    with pytest.raises(DataError, match="row 5"):
        acc.place_access(places, minutes={"cetpro": CETPRO_MIN}, nearest={"cetpro": np.array([5, 0, 0, 0, 0, 0])},
                         facilities=fac)
    with pytest.raises(DataError, match="nearest"):
        acc.place_access(places, minutes={"cetpro": CETPRO_MIN}, nearest={}, facilities=fac)


# --------------------------------------------------------------------------- weighted median / Gini


def test_weighted_median_hand_cases():
    assert acc.weighted_median([10, 20], [1, 1]) == 10  # lower median
    assert acc.weighted_median([10, 20, 30], [1, 1, 5]) == 30  # C = 1, 2, 7 >= 3.5 at 30
    assert acc.weighted_median([30, 10, 20], [1, 2, 1]) == 10  # sorted 10(2) 20(1) 30(1): C=2 >= 2
    assert acc.weighted_median([5, INF, 7], [1, 100, 1]) == 5  # unreachable ignored
    assert np.isnan(acc.weighted_median([5.0], [0.0]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), st.integers(1, 6)), min_size=1, max_size=25))
def test_weighted_median_equals_median_of_replicated_sample(pairs):
    x = np.array([p[0] for p in pairs], float)
    w = np.array([p[1] for p in pairs], int)
    sample = np.sort(np.repeat(x, w))
    assert acc.weighted_median(x, w.astype(float)) == sample[(sample.size - 1) // 2]


def test_gini_hand_cases():
    assert acc.gini([0, 10], [1, 1]) == pytest.approx(0.5)  # 20 / (2 * 4 * 5)
    assert acc.gini([7, 7, 7], [1, 2, 3]) == 0.0
    # x = 10 (w 3), 40 (w 1): W=4, mu=17.5, sum |xi-xj| w w = 2*3*1*30 = 180; G = 180 / (2*16*17.5)
    assert acc.gini([10, 40], [3, 1]) == pytest.approx(180 / 560)
    assert acc.gini([0, 0], [1, 1]) == 0.0


def _gini_bruteforce(x, w):
    x, w = np.asarray(x, float), np.asarray(w, float)
    W = w.sum()
    mu = (w * x).sum() / W
    return (np.outer(w, w) * np.abs(x[:, None] - x[None, :])).sum() / (2 * W * W * mu)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.5, 500), st.floats(0.1, 50)), min_size=2, max_size=30))
def test_gini_equals_pairwise_bruteforce(pairs):
    x = [p[0] for p in pairs]
    w = [p[1] for p in pairs]
    assert acc.gini(x, w) == pytest.approx(_gini_bruteforce(x, w), rel=1e-9, abs=1e-12)


def test_gini_integer_weights_equals_unweighted_mean_difference_of_replicated_sample():
    x = np.array([3.0, 15.0, 40.0, 90.0])
    w = np.array([4, 1, 2, 3])
    s = np.repeat(x, w)
    mad = np.abs(s[:, None] - s[None, :]).mean()  # mean absolute difference over all ordered pairs
    assert acc.gini(x, w.astype(float)) == pytest.approx(mad / (2 * s.mean()))


# --------------------------------------------------------------------------- aggregate


def test_aggregate_by_district_hand_computed():
    t = fixture_place_table()
    agg = acc.aggregate(t, by="district", groups=["15_29"])
    assert agg["ubigeo"].tolist() == ["990101", "990201"]
    assert agg["ugel"].tolist() == ["UGEL FIX A", "UGEL FIX B"]
    d1, d2 = agg.iloc[0], agg.iloc[1]
    # D1 minutes 10, 20, 90; population 100, 50, 20
    assert d1["places"] == 3 and d1["places_in_0_30"] == 2 and d1["places_in_60_120"] == 1
    assert d1["population_in_0_30"] == 150 and d1["population_in_60_120"] == 20
    assert d1["population_within_60"] == 150 and d1["population_beyond_60"] == 20
    assert d1["share_population_within_60"] == pytest.approx(150 / 170)
    assert d1["mean_minutes"] == pytest.approx((100 * 10 + 50 * 20 + 20 * 90) / 170)
    assert d1["median_minutes"] == 10  # C = 100 >= 85
    # target 15_29 in D1: 25, 10, 5 -> median: C=25 >= 20 -> 10
    assert d1["median_minutes_target"] == 10
    assert d1["mean_minutes_target"] == pytest.approx((25 * 10 + 10 * 20 + 5 * 90) / 40)
    # women beyond 60 in D1: 10 of 90; men: 10 of 80
    assert d1["gap_women_men_beyond_60"] == pytest.approx(10 / 90 - 10 / 80)
    assert d1["gap_women_men_15_29_beyond_60"] == pytest.approx(2 / 22 - 3 / 18)
    # D2 minutes 30, 150, inf; population 100, 50, 20
    assert d2["places_no_access"] == 1 and d2["population_in_no_access"] == 20
    assert d2["population_in_over_120"] == 50
    assert d2["population_beyond_120"] == 70  # 50 beyond + 20 with no access
    assert d2["share_population_within_30"] == pytest.approx(100 / 170)
    assert d2["mean_minutes"] == pytest.approx((100 * 30 + 50 * 150) / 150)  # reachable only
    assert d2["median_minutes"] == 30
    assert d2["gini_minutes"] == pytest.approx(_gini_bruteforce([30, 150], [100, 50]))
    assert d2["gini_minutes_target"] == pytest.approx(_gini_bruteforce([30, 150], [20, 10]))
    assert d2["women_15_29_in_no_access"] == 1 and d2["men_15_29_in_no_access"] == 4


def test_aggregate_whole_area_and_consistency_with_units():
    t = fixture_place_table()
    total = acc.aggregate(t, by=None)
    assert total["unit"].tolist() == ["total"]
    by_ugel = acc.aggregate(t, by="ugel")
    assert by_ugel["ugel"].tolist() == ["UGEL FIX A", "UGEL FIX B"]
    for col in ["places", "population", "pop_15_29_within_60", "women_in_no_access", "places_in_over_120"]:
        assert by_ugel[col].sum() == total[col].iloc[0]
    # whole-area weighted median and Gini against the single-array functions
    m, w = t["minutes_nearest"].to_numpy(), t["pop_15_29"].to_numpy()
    assert total["median_minutes_target"].iloc[0] == acc.weighted_median(m, w)
    assert total["gini_minutes_target"].iloc[0] == pytest.approx(_gini_bruteforce(m[:5], w[:5]))
    # every band column adds up to the total
    bands = [f"population_in_{s}" for s in acc.band_slugs()]
    np.testing.assert_allclose(total[bands].sum(axis=1), total["population"])


def test_aggregate_thresholds_and_other_set():
    t = fixture_place_table()
    agg = acc.aggregate(t, by=None, thresholds=[45], minutes_col="minutes_cetpro", main_threshold=45)
    # cetpro minutes 10, 45, 90, 30, 200, inf; population 100, 50, 20, 100, 50, 20
    assert agg["population_within_45"].iloc[0] == 250
    assert agg["places_in_over_45"].iloc[0] == 2
    assert "gap_women_men_beyond_45" in agg.columns


def test_aggregate_missing_columns_raise():
    t = fixture_place_table().drop(columns=["women_15_29"])
    with pytest.raises(DataError, match="women_15_29"):
        acc.aggregate(t, by="district")
    with pytest.raises(DataError, match="minutes_nearest"):
        acc.aggregate(fixture_places(), by="district")
    with pytest.raises(DataError, match="no such column"):
        acc.aggregate(fixture_place_table(), by="region")


def test_rank_unserved_hand_computed():
    t = fixture_place_table()
    r = acc.rank_unserved(t, threshold=60, target="15_29")
    # D2 beyond 60: places 4 (150 min) and 5 (inf): 10 + 5 = 15; D1: place 2 (90 min): 5
    assert r["ubigeo"].tolist() == ["990201", "990101"]
    assert r["rank"].tolist() == [1, 2]
    assert r["unserved_target"].tolist() == [15, 5]
    assert r["unserved_women_target"].tolist() == [9, 2]
    assert r["share_unserved_target"].iloc[0] == pytest.approx(15 / 35)
    assert r["places_unserved"].tolist() == [2, 1]
    r2 = acc.rank_unserved(t, threshold=200)
    assert r2["unserved_target"].tolist() == [5, 0]  # only the no-access place of D2


# --------------------------------------------------------------------------- 2SFCA vs PySAL access


def _pysal(P, S, d, *, max_cost, weight_fn=None, enhanced=False, normalize=False):
    from access import Access
    n, m = d.shape
    dem = pd.DataFrame({"geoid": np.arange(n), "pop": P})
    sup = pd.DataFrame({"geoid": np.arange(1000, 1000 + m), "cap": S})
    r, c = np.nonzero(np.isfinite(d))
    cost = pd.DataFrame({"origin": r, "dest": c + 1000, "cost": d[r, c]})
    a = Access(demand_df=dem, demand_index="geoid", demand_value="pop", supply_df=sup, supply_index="geoid",
               supply_value="cap", cost_df=cost, cost_origin="origin", cost_dest="dest", cost_name="cost")
    if enhanced:
        out = a.enhanced_two_stage_fca(name="x", max_cost=max_cost, weight_fn=weight_fn, normalize=normalize)
    else:
        out = a.two_stage_fca(name="x", max_cost=max_cost, weight_fn=weight_fn, normalize=normalize)
    return out["x_cap"].reindex(np.arange(n)).to_numpy()


def fixture_fca(seed: int, n: int = 40, m: int = 6):
    """FIXTURE: random demand, capacity and minutes (30 % of pairs unconnected)."""
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 180, (n, m))
    d[rng.random((n, m)) < 0.3] = INF
    P = rng.integers(1, 800, n).astype(float)
    S = rng.integers(5, 200, m).astype(float)
    return P, S, d


def _sparse(d):
    r, c = np.nonzero(np.isfinite(d))
    return sp.csr_array((d[r, c], (r, c)), shape=d.shape)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_stage_fca_equals_pysal(seed):
    P, S, d = fixture_fca(seed)
    ref = np.nan_to_num(_pysal(P, S, d, max_cost=120), nan=0.0)
    got = acc.two_stage_fca(P, S, _sparse(d), catchment=120)
    np.testing.assert_allclose(got.access, ref, rtol=1e-12)
    dense = acc.two_stage_fca(P, S, d, catchment=120)
    np.testing.assert_allclose(dense.access, ref, rtol=1e-12)


@pytest.mark.parametrize("seed", [3, 4])
def test_enhanced_step_equals_pysal_default_luo_qi(seed):
    from access import weights
    P, S, d = fixture_fca(seed)
    d = d / 6  # PySAL's default E2SFCA zones are 10/20/30 minutes
    ref = np.nan_to_num(_pysal(P, S, d, max_cost=30, enhanced=True), nan=0.0)
    got = acc.enhanced_two_stage_fca(P, S, _sparse(d), catchment=30, decay="step")  # thirds: 10, 20, 30
    np.testing.assert_allclose(got.access, ref, rtol=1e-12)
    # explicit zones on the real 120-min catchment
    P, S, d = fixture_fca(seed)
    zones = [(40, 1.0), (80, 0.68), (120, 0.22)]
    ref = np.nan_to_num(_pysal(P, S, d, max_cost=120, enhanced=True,
                               weight_fn=weights.step_fn(dict(zones))), nan=0.0)
    got = acc.enhanced_two_stage_fca(P, S, _sparse(d), catchment=120, zones=zones)
    np.testing.assert_allclose(got.access, ref, rtol=1e-12)


@pytest.mark.parametrize("sigma", [None, 30.0])
def test_enhanced_gaussian_equals_pysal_and_normalisation(sigma):
    from access import weights
    P, S, d = fixture_fca(7)
    s = 60.0 if sigma is None else sigma
    ref = np.nan_to_num(_pysal(P, S, d, max_cost=120, enhanced=True, weight_fn=weights.gaussian(s)), nan=0.0)
    got = acc.enhanced_two_stage_fca(P, S, _sparse(d), catchment=120, decay="gaussian", sigma=sigma)
    np.testing.assert_allclose(got.access, ref, rtol=1e-12)
    # normalised values: only compare where every demand point reaches some supply (PySAL NaN otherwise)
    P2, S2, d2 = fixture_fca(8, n=25, m=5)
    d2[:, 0] = np.minimum(np.nan_to_num(d2[:, 0], posinf=100.0), 100.0)
    ref_n = _pysal(P2, S2, d2, max_cost=120, weight_fn=weights.gaussian(s), enhanced=True, normalize=True)
    got_n = acc.enhanced_two_stage_fca(P2, S2, _sparse(d2), catchment=120, decay="gaussian", sigma=sigma)
    np.testing.assert_allclose(got_n.normalized(P2), ref_n, rtol=1e-12)


@pytest.mark.parametrize("decay", ["binary", "step", "gaussian"])
def test_two_stage_fca_conserves_supply(decay):
    # sum_i P_i A_i = sum_j R_j sum_i f_ij P_i = sum of the capacity of supplies that have demand in reach
    P, S, d = fixture_fca(11)
    r = acc.two_stage_fca(P, S, _sparse(d), catchment=120, decay=decay)
    served = np.isfinite(r.ratio)
    assert (P * r.access).sum() == pytest.approx(S[served].sum(), rel=1e-12)
    assert served.sum() >= 1


def test_step_decay_weights_equal_pysal_step_fn():
    from access import weights
    zones = [(40.0, 1.0), (80.0, 0.68), (120.0, 0.22)]
    d = np.array([0, 39.9, 40, 40.1, 80, 80.5, 120, 120.5])
    fn = weights.step_fn(dict(zones))
    np.testing.assert_array_equal(acc.decay_weights(d, decay="step", catchment=120, zones=zones), [fn(v) for v in d])
    # default zones: the catchment cut in thirds with Luo & Qi weights
    np.testing.assert_array_equal(acc.decay_weights(d, decay="step", catchment=120), [fn(v) for v in d])


def test_two_stage_fca_hand_computed_with_tables():
    # FIXTURE: 3 places, 2 CETPRO. d = [[10, 100], [50, inf], [inf, 20]], catchment 60
    # CETPRO 0 sees places 0, 1: R0 = 30 / (100 + 200) = 0.1; CETPRO 1 sees place 2 only (100 > 60): R1 = 40 / 50
    demand = pd.DataFrame({"pop_15_29": [100.0, 200.0, 50.0]})
    supply = pd.DataFrame({"facility_id": ["C0", "C1"], "enrolment": [30.0, 40.0]})
    d = np.array([[10, 100], [50, INF], [INF, 20]], float)
    r = acc.two_stage_fca(demand, supply, d, catchment=60, demand_col="pop_15_29")
    np.testing.assert_allclose(r.ratio, [0.1, 0.8])
    np.testing.assert_allclose(r.access, [0.1, 0.1, 0.8])
    np.testing.assert_allclose(r.catchment_demand, [300, 50])
    # step decay zones (30 -> 1, 60 -> 0.5): R0 = 30 / (100 + 0.5*200) = 0.15; A1 = 0.5 * 0.15
    r = acc.two_stage_fca(demand, supply, d, catchment=60, decay="step", zones=[(30, 1), (60, 0.5)],
                          demand_col="pop_15_29")
    np.testing.assert_allclose(r.access, [0.15, 0.075, 0.8])


def test_two_stage_fca_sparse_explicit_zero_is_a_connection_and_errors():
    # a place on top of the CETPRO: 0 minutes stored explicitly
    cost = sp.csr_array((np.array([0.0, 10.0]), (np.array([0, 1]), np.array([0, 0]))), shape=(2, 1))
    r = acc.two_stage_fca(np.array([10.0, 30.0]), np.array([8.0]), cost, catchment=60)
    np.testing.assert_allclose(r.access, [0.2, 0.2])
    with pytest.raises(DataError, match="TOTAL_ALUMNOS"):
        acc.two_stage_fca(np.array([1.0]), pd.DataFrame({"enrolment": [1.0]}), np.zeros((1, 1)), catchment=60,
                          capacity_col="TOTAL_ALUMNOS")
    with pytest.raises(DataError, match="missing"):
        acc.two_stage_fca(np.array([1.0]), pd.DataFrame({"enrolment": [np.nan]}), np.zeros((1, 1)), catchment=60)
    with pytest.raises(DataError, match="cost matrix"):
        acc.two_stage_fca(np.array([1.0, 2.0]), np.array([1.0]), np.zeros((1, 1)), catchment=60)
    with pytest.raises(ScenarioError, match="decay"):
        acc.enhanced_two_stage_fca(np.array([1.0]), np.array([1.0]), np.zeros((1, 1)), catchment=60, decay="binary")
    with pytest.raises(ScenarioError, match="catchment"):
        acc.two_stage_fca(np.array([1.0]), np.array([1.0]), np.zeros((1, 1)), catchment=0)


# --------------------------------------------------------------------------- before / after


def fixture_road_graph() -> nx.Graph:
    """FIXTURE: an invented line of six places p0..p5 joined by roads (minutes on edges),
    plus a spur p5 - p6 that is cut (p6 is not in the table: used only to show no access).

        p0 -20- p1 -30- p2 -40- p3 -25- p4 -50- p5
    """
    g = nx.Graph()
    for a, b, w in [(0, 1, 20), (1, 2, 30), (2, 3, 40), (3, 4, 25), (4, 5, 50)]:
        g.add_edge(a, b, minutes=float(w))
    return g


def _nearest_minutes(g: nx.Graph, sources: list[int], n: int) -> np.ndarray:
    dist = nx.multi_source_dijkstra_path_length(g, sources, weight="minutes")
    return np.array([dist.get(i, INF) for i in range(n)])


def test_before_after_adding_a_site_changes_known_counts():
    places = fixture_places()
    g = fixture_road_graph()
    before = _nearest_minutes(g, [0], 6)  # CETPRO at p0: 0, 20, 50, 90, 115, 165
    after = _nearest_minutes(g, [0, 4], 6)  # new site at p4: 0, 20, 50, 25, 0, 50
    np.testing.assert_array_equal(before, [0, 20, 50, 90, 115, 165])
    np.testing.assert_array_equal(after, [0, 20, 50, 25, 0, 50])
    ba = acc.before_after(places, before, after, threshold=60, groups=["15_29"], by="ugel")
    assert ba["ugel"].tolist() == ["UGEL FIX A", "UGEL FIX B", "total"]
    tot = ba.iloc[-1]
    # newly within 60: p3, p4, p5 -> population 100 + 50 + 20
    assert tot["population_newly_within"] == 170
    assert tot["pop_15_29_newly_within"] == 20 + 10 + 5
    assert tot["women_15_29_newly_within"] == 10 + 8 + 1
    assert tot["places_newly_within"] == 3
    assert tot["population_within_before"] == 170 and tot["population_within_after"] == 340
    assert tot["population_within_change_rel"] == pytest.approx(1.0)
    assert tot["share_population_within_after"] == 1.0
    # time saved: p3 65, p4 115, p5 115 (others 0); population 100, 50, 20 | 100, 50, 20
    assert tot["mean_minutes_saved"] == pytest.approx((100 * 65 + 50 * 115 + 20 * 115) / 340)
    assert tot["mean_minutes_saved_newly"] == pytest.approx((100 * 65 + 50 * 115 + 20 * 115) / 170)
    ua = ba.iloc[0]
    assert ua["population_newly_within"] == 0 and ua["mean_minutes_saved"] == 0
    ub = ba.iloc[1]
    assert ub["population_newly_within"] == 170 and ub["share_population_within_before"] == 0


def test_before_after_unreachable_places():
    places = fixture_places()
    before = np.array([60, 20, 30, 40, INF, INF])  # p0 exactly at 60 min was already within
    after = np.array([30, 20, 30, 40, 55, INF])
    ba = acc.before_after(places, before, after, threshold=60, groups=[], by=None)
    row = ba.iloc[0]
    assert row["unit"] == "total"
    assert row["places_newly_reachable"] == 1 and row["population_newly_within"] == 50
    assert row["places_newly_within"] == 1
    # only places reachable both times count: p0 saves 30 min (100 people) of 270 people
    assert row["mean_minutes_saved"] == pytest.approx(100 * 30 / 270)
    assert np.isnan(row["mean_minutes_saved_newly"])  # the newly served place had no time before


# --------------------------------------------------------------------------- summary table


def test_summary_table_hand_computed():
    t = fixture_place_table()  # minutes 10, 20, 90 | 30, 150, inf
    s = acc.summary_table(t, target="15_29")
    assert s["ugel"].tolist() == ["UGEL FIX A", "UGEL FIX B", "total"]
    a, b, tot = s.iloc[0], s.iloc[1], s.iloc[2]
    assert a["population"] == 170 and a["target_population"] == 40
    assert a["share_within_60"] == pytest.approx(150 / 170) and a["share_within_120"] == 1.0
    assert a["population_beyond_60"] == 20 and a["target_beyond_60"] == 5
    assert b["population_beyond_120"] == 70 and b["target_beyond_120"] == 15
    assert b["population_no_access"] == 20
    assert b["mean_minutes"] == pytest.approx((100 * 30 + 50 * 150) / 150)
    assert tot["population"] == 340 and tot["population_beyond_60"] == 90
    assert tot["mean_minutes"] == pytest.approx((100 * 10 + 50 * 20 + 20 * 90 + 100 * 30 + 50 * 150) / 320)
    assert tot["target_share_within_60"] == pytest.approx((25 + 10 + 20) / 75)


def test_grouped_statistics_match_per_group_calls():
    # independent check of the vectorised group code paths on a random FIXTURE table
    rng = np.random.default_rng(5)
    n = 200
    df = pd.DataFrame({"g": rng.integers(0, 7, n), "x": rng.uniform(0, 300, n), "w": rng.integers(0, 50, n) * 1.0})
    df.loc[rng.random(n) < 0.1, "x"] = INF
    codes = df["g"].to_numpy()
    med = stats._grouped_weighted_median(codes, df["x"].to_numpy(), df["w"].to_numpy(), 7)
    gin = stats._grouped_gini(codes, df["x"].to_numpy(), df["w"].to_numpy(), 7)
    for k, part in df.groupby("g"):
        ok = np.isfinite(part["x"]) & (part["w"] > 0)
        x, w = part["x"][ok].to_numpy(), part["w"][ok].to_numpy().astype(int)
        sample = np.sort(np.repeat(x, w))
        assert med[k] == sample[(sample.size - 1) // 2]
        assert gin[k] == pytest.approx(_gini_bruteforce(x, w))


def test_band_values_are_known_to_the_report_labels():
    labels = pytest.importorskip("siting.report.labels")
    for b in acc.band_labels([30, 60, 120]):
        assert labels.has_label(f"band.{b}"), b
