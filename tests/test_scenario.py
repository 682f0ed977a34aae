"""Scenario loading: every mistake names the key or file; resolved scenarios round-trip."""
from __future__ import annotations

from pathlib import Path

import pytest

from siting.errors import ScenarioError
from siting.scenario import load_scenario, save_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "scenarios" / "cajamarca.toml"


def test_shipped_scenarios_load_and_resolve_paths():
    sc = load_scenario(SHIPPED)
    assert len(sc.study_area.ugels) == 8 and "UGEL SAN MIGUEL" in sc.study_area.ugels
    assert Path(sc.inputs.dem).is_absolute() and Path(sc.inputs.dem).exists()
    assert sc.study_area.reason  # says why 8 UGELs
    sc13 = load_scenario(ROOT / "scenarios" / "cajamarca_13ugel.toml")
    assert sc13.study_area.ugels == [] and "ADVERTENCIA" in sc13.study_area.reason


@pytest.mark.parametrize("data, message", [
    ({"allocation": {"n_site": 3}}, "unknown key 'allocation.n_site'"),
    ({"bogus": {}}, "unknown key 'bogus'"),
    ({"allocation": {"n_sites": "ten"}}, "'allocation.n_sites' must be an integer"),
    ({"allocation": {"n_sites": True}}, "'allocation.n_sites' must be an integer"),
    ({"speeds": {"walk_kmh_max": -1}}, "'speeds.walk_kmh_max' must be > 0"),
    ({"speeds": {"road_kmh": {"vecinal": 0}}}, "'speeds.road_kmh.vecinal' must be > 0"),
    ({"speeds": {"detour_factor_by_class": {"vecinal": 0.9}}}, "'speeds.detour_factor_by_class.vecinal' must be >= 1"),
    ({"run": {"language": "fr"}}, "'run.language'"),
    ({"access": {"thresholds_min": [60, 30]}}, "'access.thresholds_min'"),
    ({"population": {"target_group": "18_24"}}, "'population.target_group'"),
    ({"inputs": {"dem": "nowhere/dem.tif"}}, "'inputs.dem' not found"),
    ({"inputs": {"roads": ["missing.gpkg"]}}, "'inputs.roads' not found"),
    ({"study_area": {"department": "6"}}, "'study_area.department'"),
])
def test_bad_scenarios_name_the_key(data, message, tmp_path):
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data, base_dir=tmp_path)
    assert message in str(err.value)


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(ScenarioError, match="scenario file not found"):
        load_scenario(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\nname = 1\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(bad)


def test_overrides_and_round_trip(tmp_path):
    sc = load_scenario(SHIPPED, allocation__n_sites=5, run__language="en")
    assert sc.allocation.n_sites == 5 and sc.run.language == "en"
    out = save_scenario(sc, tmp_path / "scenario.toml")
    again = load_scenario(out)
    assert again.to_dict() == sc.to_dict()


def test_unset_sentinels_become_none_in_one_place():
    from siting.scenario import UNSET_KEYS
    sc = scenario_from_dict({"allocation": {"budget": 0.0, "max_per_ugel": 2, "n_sites": 0},
                             "inputs": {"roads": [], "tambos": ""}})
    assert sc.optional("allocation.budget") is None and sc.optional("allocation.max_per_ugel") == 2
    assert sc.optional("allocation.coverage_target") is None and sc.optional("study_area.crs") is None
    assert sc.optional("inputs.tambos") is None and sc.optional("inputs.roads") is None
    assert sc.optional("allocation.n_sites") == 0  # 0 sites is a value, not "not set"
    assert sc.optional("allocation.require_parent") is True and sc.optional("candidates.rural_only") is False
    assert sc.optional("speeds.road_connector_radius_m") is None
    assert scenario_from_dict({"speeds": {"road_connector_radius_m": 250.0}}).optional(
        "speeds.road_connector_radius_m") == 250.0
    for key in UNSET_KEYS:  # every sentinel key exists; 0 / "" reads as "not set"
        section, name = key.split(".")
        blank = "" if isinstance(getattr(getattr(sc, section), name), str) else 0
        assert scenario_from_dict({section: {name: blank}}).optional(key) is None, key
