"""The registry in the analysis, on the REAL data of one UGEL (San Marcos) with INVENTED registry
fixtures placed at real centros poblados (tests/fixtures/registry/fixture_registry_analysis_*):

- extension centres: gaps fall around them (every place's time is the minimum of its time to the
  CETPRO and to the extension centres), proposals move away, parents' capacity is used up;
- petitions: the petitioned places are ranked with their petitions shown, add demand, can be
  required or included; planners' exclusions show their reason in excluded_places;
- the scenario switches of [registry] change these results.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import siting
from siting import pipeline
from siting.allocation.stage import covering_model, parent_capacity
from siting.data import registry_use
from siting.errors import UserError
from siting.suitability import candidate_table
from siting.suitability.registry_candidates import apply_registry

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "registry"
EXT = FIX / "fixture_registry_analysis_extension_centres_INVENTED.csv"
PET = FIX / "fixture_registry_analysis_petitions_INVENTED.csv"
EXCL = FIX / "fixture_registry_analysis_exclusions_INVENTED.csv"
LA_ASUNCION, TINYAYOC, SAN_JOSE_LAGUNA, HUAGAL, CHANTACO = (
    "0610070072", "0610070022", "0610070066", "0610070044", "0610010046")


def _scenario(tmp: Path, tag: str, **inputs: str) -> siting.Scenario:
    text = (ROOT / "scenarios" / "cajamarca.toml").read_text(encoding="utf-8")
    text = text.replace("../data/raw/", f"{ROOT}/data/raw/")
    text = re.sub(r'ugels = \[.*?\]\n', 'ugels = ["UGEL SAN MARCOS"]\n', text, flags=re.S)
    text = text.replace('output_dir = "../runs/cajamarca"', f'output_dir = "{tmp / tag}"')
    text = text.replace('cache_dir = "../data/processed"', f'cache_dir = "{tmp / "cache"}"')
    text = text.replace("n_sites = 10", "n_sites = 3")
    path = tmp / f"{tag}.toml"
    path.write_text(text, encoding="utf-8")
    sc = siting.load_scenario(path)
    sc.suitability.sensitivity_runs, sc.suitability.speed_samples = 20, 1  # speed: stability is not tested here
    sc.inputs = dataclasses.replace(sc.inputs, **inputs)
    return sc


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("registry_analysis")
    out = {}
    for tag, inputs, reg in [("base", {}, {}),
                             ("ext", {"extension_centres": str(EXT)}, {}),
                             ("pet", {"petitions": str(PET), "candidate_exclusions": str(EXCL)},
                              {"petition_candidates": "include"})]:
        sc = _scenario(tmp, tag, **inputs)
        sc.registry = dataclasses.replace(sc.registry, **reg)
        r = pipeline.propose(sc, progress=False)
        out[tag] = (sc, r.data, r.graph, r.access, r.scores, r.plan)
    return out


def _places(run) -> pd.DataFrame:
    return run[3].places.set_index("ccpp_id")


def test_gaps_fall_around_extension_centres(runs):
    base, ext = _places(runs["base"]), _places(runs["ext"])
    assert base.index.equals(ext.index)
    # the extension centres stand on their centro poblado's point: only the two walking legs to the cell
    assert ext.loc[[LA_ASUNCION, TINYAYOC], "minutes_extension"].max() < 10.0
    assert (base.loc[[LA_ASUNCION, TINYAYOC], "minutes_nearest"] > 60).all()
    # multi-source shortest paths: nearest = min(nearest CETPRO, nearest extension centre), and no place is worse
    np.testing.assert_allclose(ext["minutes_nearest"], np.minimum(ext["minutes_cetpro"], ext["minutes_extension"]))
    np.testing.assert_allclose(ext["minutes_cetpro"], base["minutes_nearest"], rtol=1e-9, atol=1e-6)
    assert (ext["minutes_nearest"] <= base["minutes_nearest"] + 1e-9).all()
    beyond = {k: float((p["population"] * (p["minutes_nearest"] > 60)).sum()) for k, p in (("b", base), ("e", ext))}
    assert beyond["e"] < 0.5 * beyond["b"]  # San Marcos: about 17,500 -> 6,300 people beyond 60 min
    near = ext["minutes_extension"] <= 60
    assert near.sum() > 20 and (base.loc[near, "minutes_nearest"] > ext.loc[near, "minutes_nearest"]).mean() > 0.8


def test_proposals_move_away_and_parents_are_used(runs):
    base_prop, ext_prop = runs["base"][5].proposals, runs["ext"][5].proposals
    assert TINYAYOC in set(base_prop["ccpp_id"])  # next to an invented registered centre
    assert not {LA_ASUNCION, TINYAYOC} & set(ext_prop["ccpp_id"])
    ext_places = _places(runs["ext"])
    assert (ext_places.loc[ext_prop["ccpp_id"], "minutes_nearest"] > 60).all()  # away from the new centres
    sc, data = runs["ext"][0], runs["ext"][1]
    cap = pd.Series(parent_capacity(sc, data), index=data.cetpro["cod_mod"])
    base_cap = pd.Series(parent_capacity(runs["base"][0], runs["base"][1]), index=data.cetpro["cod_mod"])
    assert cap["1107978"] == base_cap["1107978"] - 1  # FIX-A-01; FIX-A-02's parent is outside San Marcos + 15 km
    flagged = data.quality.table().query("problem == 'parent CETPRO not in the CETPRO list'")["row_id"]
    assert flagged.tolist() == ["FIX-A-02"]
    assert (ext_prop["parent_cod_mod"].value_counts() <= cap.reindex(ext_prop["parent_cod_mod"].unique())).all()


def test_extension_centres_use_switch(runs):
    sc, data = runs["ext"][0], runs["ext"][1]
    gaps = dataclasses.replace(sc, registry=dataclasses.replace(sc.registry, extension_centres_use="gaps"))
    capacity = dataclasses.replace(sc, registry=dataclasses.replace(sc.registry,
                                                                    extension_centres_use="parent_capacity"))
    base_cap = parent_capacity(runs["base"][0], runs["base"][1])
    assert (parent_capacity(gaps, data) == base_cap).all()  # gaps only: capacity untouched
    assert parent_capacity(capacity, data).sum() == base_cap.sum() - 1  # FIX-A-01's parent (Ichocan)
    assert set(registry_use.facility_sets(data, use="parent_capacity")) == {"cetpro"}
    assert set(registry_use.facility_sets(data, use="gaps")) == {"cetpro", "extension"}
    assert any('extension_centres_use = "parent_capacity"' in n for n in data.quality.notes)
    closed = dataclasses.replace(data, extension_centres=data.extension_centres.assign(status=["activo", "cerrado"]))
    assert list(registry_use.facility_sets(closed)["extension"]["facility_id"]) == ["FIX-A-01"]
    assert len(registry_use.parent_load(closed, use="both")) == 1
    assert len(registry_use.parent_load(closed, use="gaps")) == 0


def test_petitions_ranked_with_their_petition_and_exclusions_shown(runs):
    sc, data, _graph, _result, scored, prop = runs["pet"]
    cand = candidate_table(scored).set_index("ccpp_id")
    for code in (SAN_JOSE_LAGUNA, HUAGAL):
        row = cand.loc[code]
        assert row["petitions"] == 1 and row["community_request"] == 1.0 and "FIXTURE" in row["petition_detail"]
        assert row["contrib_community_request"] == pytest.approx(sc.suitability.weights["community_request"])
    assert cand.loc[HUAGAL, "petition_interested"] == 22  # interested_15_29 (target group 15-29)
    assert cand.loc[cand["petitions"] == 0, "contrib_community_request"].eq(0).all()
    # "include": SAN JOSE DE LAGUNA (< 150 people) is a candidate; CHANTACO stays excluded (already served)
    base_excluded = runs["base"][4].excluded.set_index("ccpp_id")
    assert base_excluded.loc[SAN_JOSE_LAGUNA, "reason"] == "population_below_min"
    excluded = scored.excluded.set_index("ccpp_id")
    assert SAN_JOSE_LAGUNA not in excluded.index and "already_served" in excluded.loc[CHANTACO, "reason"]
    assert excluded.loc[LA_ASUNCION, "reason"] == "planner_excluded"
    assert "community declined" in excluded.loc[LA_ASUNCION, "reason_detail"]
    assert LA_ASUNCION not in set(prop.proposals["ccpp_id"]) and LA_ASUNCION not in cand.index
    # every place is in exactly one of the two tables
    assert len(cand) + len(excluded) == len(data.places) and not set(cand.index) & set(excluded.index)
    folder = Path(sc.run.output_dir)
    csv = pd.read_csv(folder / "candidates.csv", dtype={"ccpp_id": str}).set_index("ccpp_id")
    assert csv.loc[HUAGAL, "petition_detail"] == cand.loc[HUAGAL, "petition_detail"]
    ex_csv = pd.read_csv(folder / "excluded_places.csv", dtype={"ccpp_id": str}).set_index("ccpp_id")
    assert ex_csv.loc[LA_ASUNCION, "reason"] == "planner_excluded"
    xlsx = pd.read_excel(folder / "candidatos.xlsx", sheet_name="Candidatos")
    assert "Petitorios (fecha, organización, interesados, especialidades)" in xlsx.columns


def test_petitions_add_demand(runs):
    sc, data, _graph, result, scored, _prop = runs["pet"]
    places = result.places
    extra = registry_use.petition_demand(places, data.petitions, target_group="15_29", weight=2.0)
    by_place = pd.Series(extra, index=places["ccpp_id"])
    assert by_place[SAN_JOSE_LAGUNA] == 70 and by_place[HUAGAL] == 44 and by_place[CHANTACO] == 20
    assert by_place.drop([SAN_JOSE_LAGUNA, HUAGAL, CHANTACO]).eq(0).all()
    with_pet = covering_model(sc, data, result, scored)
    off = dataclasses.replace(sc, registry=dataclasses.replace(sc.registry, petition_demand_weight=0.0))
    without = covering_model(off, data, result, scored)
    # CHANTACO is already within 60 min: its petition adds no unserved demand
    assert with_pet.total_weight - without.total_weight == pytest.approx(35 + 22)


def _tables():
    """Hand-made candidate / excluded tables (INVENTED codes)."""
    cand = gpd.GeoDataFrame({"ccpp_id": ["A", "B", "C"], "name": ["a", "b", "c"], "population": [300.0, 200, 180]},
                            geometry=gpd.points_from_xy([0, 1, 2], [0, 0, 0]), crs=4326)
    excluded = pd.DataFrame({"ccpp_id": ["D"], "name": ["d"], "reason": ["already_served"],
                             "reason_detail": ["10 min"]})
    petitions = pd.DataFrame({"ccpp_id": ["B", "D", "C"], "date": ["2025-01-01", None, None],
                              "organisation": ["x", None, None], "interested_women": [3.0, np.nan, np.nan],
                              "interested_men": [2.0, np.nan, np.nan], "interested_15_29": [np.nan, 4.0, np.nan],
                              "specialties": ["Cocina", None, None]})
    return cand, excluded, petitions


def test_apply_registry_require_and_exclusions_by_hand():
    cand, excluded, petitions = _tables()
    exclusions = pd.DataFrame({"ccpp_id": ["C", "D"], "reason": ["no room", "taken"]})
    c, e = apply_registry(cand, excluded, cand, petitions=petitions, exclusions=exclusions, mode="require")
    assert c["ccpp_id"].tolist() == ["B"] and c["petitions"].tolist() == [1]
    assert c["petition_detail"].tolist() == ["2025-01-01, x, 5, Cocina"]  # 3 women + 2 men (no 15-29 count)
    e = e.set_index("ccpp_id")
    assert e.loc["A", "reason"] == "no_petition" and e.loc["C", "reason"] == "planner_excluded"
    assert e.loc["C", "reason_detail"] == "planner: no room"
    assert e.loc["D", "reason"] == "already_served; planner_excluded" and e.loc["D", "reason_detail"].endswith("taken")
    c2, _ = apply_registry(cand, excluded, cand, petitions=petitions, exclusions=None, mode="favour")
    assert c2["ccpp_id"].tolist() == ["A", "B", "C"] and c2["petitions"].tolist() == [0, 1, 1]
    assert c2["petition_detail"].tolist()[2] == "-"  # a petition without date, organisation or numbers
    with pytest.raises(UserError, match="no petitions"):
        apply_registry(cand, excluded, cand, petitions=None, exclusions=None, mode="require")


def test_host_premises_from_the_registry(runs):
    data = runs["base"][1]
    reg = gpd.GeoDataFrame({"premises_id": ["FIX-T-01", "FIX-M-01"], "name": ["t", "m"],
                            "kind": ["tambo", "municipalidad"], "ccpp_id": [None, None], "note": [None, None]},
                           geometry=gpd.points_from_xy([-78.0366, -78.0592], [-7.2512, -7.1499]), crs=4326)
    layer = registry_use.host_premises(dataclasses.replace(data, host_premises=reg))
    base = registry_use.host_premises(data)
    assert len(layer) == len(base) + 2
    added = layer[layer["premises_id"].str.startswith("registry:")]
    assert added["kind"].tolist() == ["tambo", "municipal_hall"]
