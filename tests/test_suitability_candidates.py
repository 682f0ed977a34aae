"""Candidate selection: every place is either a candidate or excluded with all its reasons."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import Point

from siting.scenario import Candidates
from siting.suitability.candidates import exclusion_summary, host_premises_near, select_candidates

ROOT = Path(__file__).resolve().parents[1]
CCPP = ROOT / "data/raw/ccpp/inei_cpv2017_ccpp_poblacion_cajamarca.csv"
PREMISES = ROOT / "data/raw/education/minedu_locales_educativos_cajamarca.gpkg"
CRS = "EPSG:32717"


def real_places(ubigeos: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Real INEI 2017 centros poblados of some districts (population as censused)."""
    d = pd.read_csv(CCPP, dtype=str)
    d = d[d["UBIGEO"].isin(ubigeos)].reset_index(drop=True)
    return gpd.GeoDataFrame({"ccpp_id": d["CCPP_ID"], "name": d["CENTRO_POBLADO"], "ubigeo": d["UBIGEO"],
                             "population": pd.to_numeric(d["POB_CENSADA_2017"]).astype(float)},
                            geometry=gpd.points_from_xy(d["lon"].astype(float), d["lat"].astype(float)), crs=4326)


def real_premises(places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Real MINEDU school premises around the places (bbox + ~3 km)."""
    x0, y0, x1, y1 = places.total_bounds
    p = gpd.read_file(PREMISES, bbox=(x0 - 0.03, y0 - 0.03, x1 + 0.03, y1 + 0.03))
    return gpd.GeoDataFrame({"codlocal": p["CODLOCAL"].astype(str), "kind": "school_premises"},
                            geometry=p.geometry, crs=p.crs)


def test_real_districts_every_place_classified_with_all_reasons():
    places = real_places(("060102", "060103"))  # Asunción, Chetilla (Cajamarca province)
    premises = real_premises(places)
    assert len(places) > 50 and len(premises) > 20
    # fixture travel times (not engine output): deterministic pseudo-random minutes, some unreachable
    rng = np.random.default_rng(7)
    minutes = rng.uniform(0, 180, len(places))
    minutes[::11] = np.inf
    rules = Candidates(min_population=150, exclude_within_min=60.0, host_premises_within_m=1000.0,
                       require_host_premises=True)
    cand, excl = select_candidates(places, minutes_existing=minutes, premises=premises, rules=rules, crs=CRS)

    assert len(cand) + len(excl) == len(places)
    assert set(cand["ccpp_id"]).isdisjoint(excl["ccpp_id"])
    assert set(cand["ccpp_id"]) | set(excl["ccpp_id"]) == set(places["ccpp_id"])

    # independent brute force: geodesic distances with pyproj.Geod
    geod = Geod(ellps="WGS84")
    px, py = places.geometry.x.to_numpy(), places.geometry.y.to_numpy()
    hx, hy = premises.geometry.x.to_numpy(), premises.geometry.y.to_numpy()
    expected: dict[str, set[str]] = {}
    ambiguous = set()
    for i, cid in enumerate(places["ccpp_id"]):
        _, _, dist = geod.inv(np.full(len(hx), px[i]), np.full(len(hx), py[i]), hx, hy)
        if np.any(np.abs(dist - 1000.0) < 5.0):  # UTM scale vs geodesic: skip knife-edge cases
            ambiguous.add(cid)
        reasons = set()
        pop = places["population"].iloc[i]
        if np.isnan(pop):
            reasons.add("population_missing")
        elif pop < 150:
            reasons.add("population_below_min")
        if minutes[i] <= 60:
            reasons.add("already_served")
        if not np.any(dist <= 1000.0):
            reasons.add("no_host_premises")
        expected[cid] = reasons
    got = {cid: set(r.split("; ")) for cid, r in zip(excl["ccpp_id"], excl["reason"])}
    got.update({cid: set() for cid in cand["ccpp_id"]})
    checked = [c for c in expected if c not in ambiguous]
    assert len(checked) > 0.9 * len(expected)
    for cid in checked:
        assert got[cid] == expected[cid], cid
    # some places fail several rules at once and keep them all
    assert excl["reason"].str.contains("; ").any()
    assert (excl["reason_detail"].str.count("; ") == excl["reason"].str.count("; ")).all()
    summary = exclusion_summary(excl)
    assert summary["places"].sum() == excl["reason"].str.split("; ").str.len().sum()


# ----------------------------------------------------------------- hand-made fixture (projected metres)

def fixture_hand_places() -> gpd.GeoDataFrame:
    """Hand-made fixture (invented points in UTM 17S metres, not real places)."""
    pts = [Point(800000, 9200000), Point(805000, 9200000), Point(810000, 9200000), Point(815000, 9200000), None]
    return gpd.GeoDataFrame({"ccpp_id": [f"FIXTURE{i:03d}" for i in range(5)], "name": list("ABCDE"),
                             "population": [500.0, 100.0, np.nan, 900.0, 400.0],
                             "area": ["rural", "urbano", "rural", "rural", "rural"]},
                            geometry=pts, crs=CRS).to_crs(4326)


def fixture_hand_premises() -> gpd.GeoDataFrame:
    """Hand-made fixture premises: two near A (300 m school, 800 m tambo), one 1200 m from B."""
    pts = [Point(800300, 9200000), Point(800000, 9200800), Point(806200, 9200000)]
    return gpd.GeoDataFrame({"premises_id": ["S1", "T1", "S2"], "kind": ["school_premises", "tambo", "school_premises"]},
                            geometry=pts, crs=CRS).to_crs(4326)


def test_hand_case_counts_and_reasons():
    places, premises = fixture_hand_places(), fixture_hand_premises()
    near = host_premises_near(places, premises, within_m=1000, crs=CRS)
    assert near["n_school_premises"].tolist() == [1, 0, 0, 0, 0]
    assert near["n_tambo"].tolist() == [1, 0, 0, 0, 0]
    assert near["tambo"].tolist() == [1, 0, 0, 0, 0]
    assert near["host_premises"].tolist() == [2, 0, 0, 0, 0]
    assert near["host_premises_list"].iloc[0] == "school_premises:S1; tambo:T1"  # nearest first
    assert near["nearest_premises_m"].iloc[0] == pytest.approx(300, abs=0.5)
    near2 = host_premises_near(places, premises, within_m=1500, crs=CRS)
    assert near2["host_premises"].tolist() == [2, 1, 0, 0, 0]

    minutes = np.array([90.0, 20.0, np.inf, 60.0, 200.0])
    rules = Candidates(min_population=150, rural_only=True, exclude_within_min=60.0, host_premises_within_m=1000.0,
                       require_host_premises=True)
    cand, excl = select_candidates(places, minutes_existing=minutes, premises=premises, rules=rules, crs=CRS)
    assert cand["ccpp_id"].tolist() == ["FIXTURE000"]
    reasons = dict(zip(excl["ccpp_id"], excl["reason"]))
    assert reasons == {
        "FIXTURE001": "population_below_min; urban; already_served; no_host_premises",
        "FIXTURE002": "population_missing; no_host_premises",
        "FIXTURE003": "already_served; no_host_premises",  # 60 min is "within 60"
        "FIXTURE004": "no_location; no_host_premises",
    }
    # without the premises requirement and the rural rule, C (unknown pop) still fails
    rules2 = Candidates(min_population=150, rural_only=False, exclude_within_min=60.0, require_host_premises=False)
    cand2, excl2 = select_candidates(places, minutes_existing=minutes, premises=None, rules=rules2, crs=CRS)
    assert set(cand2["ccpp_id"]) == {"FIXTURE000"}
    assert dict(zip(excl2["ccpp_id"], excl2["reason"]))["FIXTURE004"] == "no_location"


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="minutes_existing"):
        select_candidates(fixture_hand_places(), minutes_existing=np.zeros(3), premises=None,
                          rules=Candidates(), crs=CRS)
