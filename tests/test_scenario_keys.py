"""Every scenario key is named by at least one test that shows it changes a result.

:data:`EFFECTS` maps each key of :class:`siting.scenario.Scenario` to a test and to the
name under which the key's value reaches the code that test exercises (the key itself, or
the parameter the stage passes it to).  The meta-test fails when a key has no entry, when
the test does not exist, or when its source does not use that name; a new key therefore
needs its effect test before the suite passes again.  The tests below cover the keys no
other file showed; they run on one real UGEL (San Marcos, shipped data) and change one
key at a time against the shared base run.
"""
from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

import siting
from siting import allocation
from siting import data as sdata
from siting.access import supply_demand
from siting.data.quality import QualityReport
from siting.scenario import Scenario

TESTS = Path(__file__).resolve().parent
HERE = "test_scenario_keys.py"

#: key -> (test "file::function", the name the key goes by in that test)
EFFECTS: dict[str, tuple[str, str]] = {
    "run.name": ("test_pipeline_end_to_end.py::test_manifest_records_inputs_stages_and_outputs", "name"),
    "run.output_dir": ("test_pipeline_end_to_end.py::test_every_promised_output_exists", "run_es"),
    "run.language": ("test_pipeline_end_to_end.py::test_spanish_by_default_and_english_on_request", "--lang"),
    "run.seed": (f"{HERE}::test_seed_changes_the_monte_carlo_draws", "seed"),
    "run.cache_dir": ("test_network_graph.py::test_cache_hit_and_rebuild", "cache_dir"),
    "run.maps": ("test_speed_issue19.py::test_maps_none_region_all", "maps"),
    "study_area.department": ("test_data_places.py::test_other_department_uses_directory_accents", "department"),
    "study_area.provinces": ("test_data_places.py::test_select_study_area_matching_rules", "provinces"),
    "study_area.ugels": ("test_data_places.py::test_select_study_area_matching_rules", "ugels"),
    "study_area.districts": ("test_data_places.py::test_select_study_area_matching_rules", "districts"),
    "study_area.crs": ("test_reliability_bad_inputs.py::test_bad_study_area_crs_is_refused_before_any_work", "crs"),
    "study_area.buffer_km": (f"{HERE}::test_buffer_km_keeps_facilities_near_the_area", "buffer_km"),
    "study_area.reason": (f"{HERE}::test_reason_is_shown_in_the_report", "reason"),
    "inputs.ccpp": ("test_data_places.py::test_missing_ccpp_input_is_clear", "ccpp"),
    "inputs.ccpp_reference": (f"{HERE}::test_places_keys_change_the_places_table", "ccpp_reference"),
    "inputs.districts": ("test_data_places.py::test_districts_schema_and_counts", "districts"),
    "inputs.district_population": ("test_data_places.py::test_projection_matches_minam_district_totals",
                                   "population"),
    "inputs.age_sex": ("test_data_places.py::test_no_age_sex_table_gives_nan_and_a_note", "age_sex"),
    "inputs.district_indicators": (f"{HERE}::test_allocation_keys_change_the_model", "district_indicators"),
    "inputs.district_capitals": ("test_national.py::test_small_national_run_serial_equals_dask", "small_scenario"),
    "inputs.school_base": ("test_data_facilities.py::test_cetpro_columns_from_file_and_duplicates", "school_base"),
    "inputs.extension_centres": ("test_data_facilities.py::test_study_data_with_fixture_extension_centres",
                                 "extension_centres"),
    "inputs.tambos": ("test_data_facilities.py::test_study_data_with_fixture_extension_centres", "tambos"),
    "inputs.school_premises": ("test_data_facilities.py::test_study_data_eight_ugels", "school_premises"),
    "inputs.roads": ("test_data_roads.py::test_schema_and_classes", "shipped"),
    "inputs.road_route_nodes": ("test_data_roads.py::test_vecinal_rebuild_matches_reference", "shipped"),
    "inputs.osm": (f"{HERE}::test_osm_input_gives_the_roads", "osm"),
    "inputs.dem": ("test_data_terrain.py::test_shipped_grid_shape_crs_and_range", "terrain_8ugel"),
    "inputs.landcover_speeds": (f"{HERE}::test_landcover_speeds_slow_the_walk", "landcover_speeds"),
    "inputs.petitions": ("test_suitability_criteria.py::test_district_indicators_from_real_file_and_petitions_fixture",
                         "petitions"),
    "inputs.labels": ("test_suitability_model.py::test_model_recovers_the_rule", "fitted"),
    "population.census_year": (f"{HERE}::test_places_keys_change_the_places_table", "census_year"),
    "population.projection_year": ("test_data_places.py::test_projection_year_not_in_table", "projection_year"),
    "population.age_groups": (f"{HERE}::test_places_keys_change_the_places_table", "age_groups"),
    "population.target_group": (f"{HERE}::test_target_group_changes_the_demand", "target_group"),
    "population.missing_population": ("test_data_places.py::test_missing_population_method_zero",
                                      "missing_population"),
    "speeds.road_kmh": ("test_reliability_properties.py::test_time_never_decreases_when_a_speed_decreases",
                        "road_kmh"),
    "speeds.walk_kmh_max": ("test_reliability_properties.py::test_time_never_decreases_when_a_speed_decreases",
                            "walk_kmh_max"),
    "speeds.tobler_slope_offset": ("test_network_speeds.py::test_tobler_parameters_are_used", "offset"),
    "speeds.tobler_decay": ("test_network_speeds.py::test_tobler_parameters_are_used", "decay"),
    "speeds.approximate_detour_factor": (f"{HERE}::test_detour_factor_lengthens_approximate_roads",
                                         "approximate_detour_factor"),
    "speeds.calibration": ("test_calibration_default.py::test_speeds_note_tells_where_speeds_come_from",
                           "calibration"),
    "speeds.detour_factor_by_class": ("test_data_roads_national.py::test_detour_factor_per_class_by_hand",
                                      "detour_factor_by_class"),
    "speeds.connector_walk_factor": ("test_network_graph.py::test_one_road_with_a_walking_leg_at_each_end",
                                     "connector_walk_factor"),
    "speeds.max_connector_slope": ("test_network_graph.py::test_connector_options_are_used", "max_connector_slope"),
    "speeds.road_connector_radius_m": ("test_network_graph.py::test_connector_options_are_used",
                                       "road_connector_radius_m"),
    "speeds.grid_neighbours": ("test_network_graph.py::test_grid_edges_equal_a_per_edge_loop", "grid_neighbours"),
    "speeds.mode": ("test_network_graph.py::test_one_road_with_a_walking_leg_at_each_end", "mode"),
    "access.thresholds_min": ("test_report_thresholds.py::test_places_get_the_bands_of_the_run", "th"),
    "access.main_threshold_min": (f"{HERE}::test_main_threshold_changes_the_headline_tables", "main_threshold_min"),
    "access.catchment_min": (f"{HERE}::test_access_keys_change_the_supply_table", "catchment_min"),
    "access.decay": (f"{HERE}::test_access_keys_change_the_supply_table", "decay"),
    "access.gaussian_sigma_min": (f"{HERE}::test_access_keys_change_the_supply_table", "gaussian_sigma_min"),
    "access.capacity_column": (f"{HERE}::test_access_keys_change_the_supply_table", "capacity_column"),
    "access.direction": ("test_directions.py::test_the_direction_key_changes_the_minutes", "access__direction"),
    "access.empty_cetpro_serve": ("test_access_capacity_rounding.py::test_the_switch_brings_them_back",
                                  "empty_cetpro_serve"),
    "access.far_from_road_km": ("test_network_graph.py::test_flags_far_from_road_and_small_component",
                                "far_from_road_km"),
    "access.min_road_component_nodes": ("test_network_graph.py::test_flags_far_from_road_and_small_component",
                                        "min_road_component_nodes"),
    "candidates.min_population": ("test_suitability_candidates.py::test_hand_case_counts_and_reasons",
                                  "min_population"),
    "candidates.rural_only": ("test_suitability_candidates.py::test_hand_case_counts_and_reasons", "rural_only"),
    "candidates.exclude_within_min": ("test_suitability_candidates.py::test_hand_case_counts_and_reasons",
                                      "exclude_within_min"),
    "candidates.host_premises_within_m": ("test_suitability_candidates.py::test_hand_case_counts_and_reasons",
                                          "within_m"),
    "candidates.require_host_premises": ("test_suitability_candidates.py::test_hand_case_counts_and_reasons",
                                         "require_host_premises"),
    "suitability.normalisation": ("test_suitability_mcda.py::test_normalisation_directions", "method"),
    "suitability.weights": ("test_suitability_mcda.py::test_weights_normalised_and_unknown_name", "weights"),
    "suitability.ahp": ("test_suitability_mcda.py::test_weights_from_scenario_ahp_table", "ahp"),
    "suitability.model": ("test_suitability_model.py::test_model_key_chooses_the_estimator", "model"),
    "suitability.sensitivity_runs": ("test_suitability_sensitivity.py::test_dominance_and_spread", "n_runs"),
    "suitability.dirichlet_concentration": (
        "test_suitability_sensitivity.py::test_huge_concentration_reproduces_deterministic_ranking", "concentration"),
    "suitability.speed_jitter": ("test_suitability_sensitivity.py::test_speed_recompute_is_cached_and_used",
                                 "speed_jitter"),
    "suitability.speed_samples": ("test_suitability_sensitivity.py::test_speed_recompute_is_cached_and_used",
                                  "n_speed_samples"),
    "allocation.n_sites": ("test_reliability_properties.py::test_coverage_never_decreases_when_n_grows", "n_sites"),
    "allocation.max_minutes": ("test_allocation.py::test_exact_equals_brute_force_and_spopt", "max_minutes"),
    "allocation.teacher_max_minutes": (f"{HERE}::test_allocation_keys_change_the_model", "teacher_max_minutes"),
    "allocation.max_extensions_per_cetpro": ("test_data_facilities.py::test_cetpro_max_extensions_from_scenario",
                                             "max_extensions_per_cetpro"),
    "allocation.require_parent": (f"{HERE}::test_allocation_keys_change_the_model", "require_parent"),
    "allocation.weight_women": (f"{HERE}::test_allocation_keys_change_the_model", "weight_women"),
    "allocation.weight_poverty": (f"{HERE}::test_allocation_keys_change_the_model", "weight_poverty"),
    "allocation.curve_max_sites": (f"{HERE}::test_propose_keys_change_the_plan", "curve_max_sites"),
    "allocation.solver": (f"{HERE}::test_propose_keys_change_the_plan", "solver"),
    "allocation.time_limit_s": (f"{HERE}::test_propose_keys_change_the_plan", "time_limit_s"),
    "allocation.min_per_ugel": (f"{HERE}::test_allocation_keys_change_the_model", "min_per_ugel"),
    "allocation.max_per_ugel": (f"{HERE}::test_allocation_keys_change_the_model", "max_per_ugel"),
    "allocation.group_by": (f"{HERE}::test_allocation_keys_change_the_model", "group_by"),
    "allocation.budget": (f"{HERE}::test_allocation_keys_change_the_model", "budget"),
    "allocation.cost_per_site": (f"{HERE}::test_allocation_keys_change_the_model", "cost_per_site"),
    "allocation.coverage_target": (f"{HERE}::test_allocation_keys_change_the_model", "coverage_target"),
    "allocation.objective": ("test_objectives_stage.py::test_pmedian_stage_equals_spopt", "objective"),
    "allocation.suitability_weight": ("test_objectives_stage.py::test_suitability_weight_and_its_cost",
                                      "suitability_weight"),
    "allocation.equity_minutes": ("test_objectives_stage.py::test_front_counts_people_beyond_equity_minutes",
                                  "equity_minutes"),
    "allocation.pareto_points": ("test_objectives_stage.py::test_pmedian_stage_equals_spopt", "pareto_points"),
    # issue #14 item 6 (tests/test_robust.py, real San Marcos data)
    "allocation.served_taper": ("test_robust.py::test_served_taper_softens_already_served", "served_taper"),
    "allocation.near_threshold_margin": ("test_robust.py::test_near_threshold_margin_flags_places",
                                         "near_threshold_margin"),
    "allocation.near_optimal_gap": ("test_robust.py::test_near_optimal_gap_and_max_sets_change_the_listing",
                                    "near_optimal_gap"),
    "allocation.near_optimal_max_sets": ("test_robust.py::test_near_optimal_gap_and_max_sets_change_the_listing",
                                         "near_optimal_max_sets"),
    "candidates.population_rule": ("test_robust.py::test_population_rule_catchment_uses_the_people_within_T",
                                   "population_rule"),
    "suitability.speed_intervals": ("test_robust.py::test_speed_intervals_and_ranges_set_the_draws",
                                    "speed_intervals"),
    "suitability.speed_ranges": ("test_robust.py::test_speed_intervals_and_ranges_set_the_draws", "speed_ranges"),
    "inputs.layers": ("test_hostile_inputs.py::test_geopackage_with_two_layers_needs_the_layer_key", "[inputs.layers]"),
    "limits.table_mb": ("test_hostile_inputs.py::test_each_limits_key_changes_what_is_read", "limits__"),
    "limits.vector_mb": ("test_hostile_inputs.py::test_each_limits_key_changes_what_is_read", "limits__"),
    "limits.raster_mb": ("test_hostile_inputs.py::test_each_limits_key_changes_what_is_read", "limits__"),
    "limits.model_mb": ("test_hostile_inputs.py::test_model_mb_from_the_scenario", "model_mb"),
    "inputs.host_premises": ("test_registry_analysis.py::test_host_premises_from_the_registry", "host_premises"),
    "inputs.additional_cetpro": ("test_registry_loaders.py::test_registry_inputs_change_study_data",
                                 "additional_cetpro"),
    "inputs.candidate_exclusions": ("test_registry_loaders.py::test_registry_inputs_change_study_data",
                                    "candidate_exclusions"),
    "inputs.monitoring": ("test_registry_loaders.py::test_registry_inputs_change_study_data", "monitoring"),
    "registry.extension_centres_use": ("test_registry_analysis.py::test_extension_centres_use_switch",
                                       "extension_centres_use"),
    "registry.petition_demand_weight": ("test_registry_analysis.py::test_petitions_add_demand",
                                        "petition_demand_weight"),
    "registry.petition_candidates": ("test_registry_analysis.py::test_apply_registry_require_and_exclusions_by_hand",
                                     'mode="require"'),
    "registry.min_retention": ("test_monitoring.py::test_monitor_writes_xlsx_and_html", "min_retention"),
    "registry.outcome": ("test_monitoring.py::test_labels_are_the_sites_before_opening", 'outcome="enrolment"'),
    "registry.min_centres": ("test_monitoring.py::test_labels_are_the_sites_before_opening", "min_centres"),
    "seasons.rainy": ("test_seasons.py::test_rainy_run_writes_csv_sheet_and_report_section", "seasons__rainy"),
    "seasons.rainy_road_factor": ("test_seasons.py::test_unpaved_road_at_half_speed_doubles_the_road_leg",
                                  "rainy_road_factor"),
    "seasons.rainy_walk_factor": ("test_seasons.py::test_unpaved_road_at_half_speed_doubles_the_road_leg",
                                  "rainy_walk_factor"),
    "inputs.closed_segments": ("test_seasons.py::test_rainy_minutes_never_below_dry_on_real_data", "closed_segments"),
}


def scenario_keys() -> list[str]:
    keys = []
    for section in dataclasses.fields(Scenario):
        if section.name == "source":
            continue
        for f in dataclasses.fields(getattr(Scenario(), section.name)):
            keys.append(f"{section.name}.{f.name}")
    return keys


def _function_source(ref: str) -> str | None:
    """The source of a test function, decorators (parametrisations) included."""
    file, func = ref.split("::")
    text = (TESTS / file).read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == func:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            return "\n".join(text.splitlines()[start - 1:node.end_lineno])
    return None


def test_every_scenario_key_has_an_effect_test():
    keys = scenario_keys()
    missing = [k for k in keys if k not in EFFECTS]
    assert not missing, f"scenario keys without a test showing their effect (add one to EFFECTS): {missing}"
    assert not sorted(set(EFFECTS) - set(keys)), "EFFECTS names keys that no longer exist"
    for key, (ref, name) in EFFECTS.items():
        src = _function_source(ref)
        assert src is not None, f"{key}: no test {ref}"
        assert name in src, f"{key}: {ref} does not use {name!r}"


def test_the_meta_test_sees_a_missing_key():
    assert "allocation.budget" in scenario_keys() and len(scenario_keys()) == len(EFFECTS)
    assert _function_source(f"{HERE}::no_such_test") is None


# --------------------------------------------------------------------------- helpers


def _with(sc: Scenario, **changes) -> Scenario:
    """``sc`` with ``section__key=value`` changes (one copy per section changed)."""
    out = sc
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        out = dataclasses.replace(out, **{section: dataclasses.replace(getattr(out, section), **{key: value})})
    return out


# --------------------------------------------------------------------------- data


def test_buffer_km_keeps_facilities_near_the_area(san_marcos):
    s, q = san_marcos, QualityReport()
    cetpro = sdata.load_cetpro(s.sc, q, districts=s.data.all_districts)
    kept = {}
    for buffer_km in (0.0, 15.0, 60.0):
        area = sdata._buffered(s.data.study_area, s.data.crs, buffer_km)
        kept[buffer_km] = len(sdata._keep_within(cetpro, area, "cetpro", "cod_mod", q, buffer_km))
    assert kept[0.0] <= kept[15.0] < kept[60.0]
    assert kept[15.0] == len(s.data.cetpro)  # the shipped scenario's buffer_km = 15


def test_places_keys_change_the_places_table(sc, districts):
    """ccpp_reference (urban/rural area), census_year (the projection caveat) and age_groups
    (the target-group columns) each change their own part of the places table."""
    from siting.data.population import load_places
    changed = _with(sc, inputs__ccpp_reference="", population__census_year=2007,
                    population__age_groups={**sc.population.age_groups, "20_24": [20, 24]})
    q = QualityReport()
    places = load_places(changed, districts, q)
    assert set(places["area"]) == {"rural"}  # no ccpp_reference: every place treated as rural
    assert any("from the 2007 census" in n for n in q.notes)
    assert {"pop_20_24", "women_20_24", "men_20_24"} <= set(places.columns)
    assert (places["pop_20_24"] <= places["pop_15_29"] + 1e-9).all() and places["pop_20_24"].sum() > 0


def test_osm_input_gives_the_roads(sc):
    from siting.data import roads
    osm = TESTS / "fixtures" / "fixture_osm_tiny.osm"
    changed = _with(sc, inputs__roads=[], inputs__road_route_nodes=[], inputs__osm=str(osm))
    got = roads.load_roads(changed, QualityReport())
    assert len(got) and got["road_id"].str.startswith("osm:").all()


def test_landcover_speeds_slow_the_walk(san_marcos, tmp_path):
    """A raster of multiplier 0.5 over the whole area (FIXTURE, not land-cover data) halves
    every walking speed: read by the data stage, used by the graph stage."""
    s = san_marcos
    west, south, east, north = s.data.study_area_buffer.bounds
    path = tmp_path / "fixture_landcover_half.tif"
    with rasterio.open(path, "w", driver="GTiff", height=200, width=200, count=1, dtype="float32", crs="EPSG:4326",
                       transform=from_origin(west - 0.1, north + 0.1, (east - west + 0.2) / 200,
                                             (north - south + 0.2) / 200)) as dst:
        dst.write(np.full((1, 200, 200), 0.5, dtype="float32"))
    sc = _with(s.sc, inputs__landcover_speeds=str(path), speeds__mode="walk")
    tables = sdata._load_tables(sc, s.data.terrain)
    assert tables["landcover"].shape == s.data.terrain.shape and np.allclose(tables["landcover"], 0.5)
    slow = siting.build_graph(sc, dataclasses.replace(s.data, landcover=tables["landcover"]))
    fast = siting.build_graph(sc, s.data)
    n = slow.n_cells
    grid_slow, grid_fast = slow.matrix.tocsr()[:n, :n], fast.matrix.tocsr()[:n, :n]  # cell -> cell moves
    assert grid_slow.nnz == grid_fast.nnz > 0 and np.allclose(grid_slow.data, 2 * grid_fast.data)


# --------------------------------------------------------------------------- network


def test_detour_factor_lengthens_approximate_roads():
    """A FIXTURE flat 1 x 12 km strip with one approximate (straight rebuilt) road of 10 km."""
    import geopandas as gpd
    import shapely
    from affine import Affine

    from siting.data.terrain import Terrain
    from siting.network import build_travel_graph, nearest
    from siting.scenario import Speeds
    x0, y0 = 500_000.0, 9_200_000.0
    terrain = Terrain(np.full((1, 12), 2000.0), Affine(1000.0, 0, x0, 0, -1000.0, y0), "EPSG:32717", source="fixture")
    road = gpd.GeoDataFrame({"road_class": ["national_paved"], "approximate": [True]},
                            geometry=[shapely.LineString([(x0 + 1000, y0 - 500), (x0 + 11_000, y0 - 500)])],
                            crs="EPSG:32717")
    pts = gpd.GeoDataFrame(geometry=shapely.points([x0 + 1000, x0 + 11_000], [y0 - 500, y0 - 500]), crs="EPSG:32717")
    minutes = {}
    for approximate_detour_factor in (1.0, 1.3, 2.0):
        g = build_travel_graph(terrain, road, Speeds(approximate_detour_factor=approximate_detour_factor), {"p": pts})
        a, b = g.point_nodes["p"]
        minutes[approximate_detour_factor] = nearest(g, [b]).minutes[a]
    assert minutes[1.0] < minutes[1.3] < minutes[2.0]
    assert minutes[2.0] - minutes[1.0] == pytest.approx(10 / 60 * 60 * (2.0 - 1.0), rel=1e-6)


# --------------------------------------------------------------------------- access


def test_main_threshold_changes_the_headline_tables(san_marcos):
    s = san_marcos
    sc = _with(s.sc, access__main_threshold_min=120.0)
    gaps = siting.compute_access(sc, s.data, s.graph)
    assert "share_within_60" in s.gaps.summary and "share_within_60" not in gaps.summary
    minutes = gaps.places["minutes_nearest"].to_numpy(float)
    target = gaps.places[f"pop_{sc.population.target_group}"].to_numpy(float)
    assert gaps.ranked_districts["unserved_target"].sum() == pytest.approx(target[minutes > 120].sum())
    assert gaps.ranked_districts["unserved_target"].sum() < s.gaps.ranked_districts["unserved_target"].sum()


@pytest.mark.parametrize("key, value, column", [
    ("catchment_min", 60.0, "catchment_demand"),
    ("decay", "step", "supply_ratio_e2sfca"),
    ("gaussian_sigma_min", 20.0, "supply_ratio_e2sfca"),
    ("capacity_column", "teachers", "capacity"),
])
def test_access_keys_change_the_supply_table(san_marcos, key, value, column):
    s = san_marcos
    base = supply_demand(s.sc, s.data, s.graph, s.gaps.places)
    changed = supply_demand(_with(s.sc, **{f"access__{key}": value}), s.data, s.graph, s.gaps.places)
    assert not np.allclose(base[column].to_numpy(float), changed[column].to_numpy(float), equal_nan=True), key


def test_target_group_changes_the_demand(san_marcos):
    s = san_marcos
    sc = _with(s.sc, population__target_group="15_64")
    base = allocation.demand_weights(s.sc, s.gaps.places)
    wide = allocation.demand_weights(sc, s.gaps.places)
    expect = s.gaps.places["men_15_64"].fillna(0) + s.gaps.places["women_15_64"].fillna(0)
    np.testing.assert_allclose(wide, expect.to_numpy(float))
    assert wide.sum() > base.sum()


# --------------------------------------------------------------------------- suitability


def test_seed_changes_the_monte_carlo_draws(san_marcos, san_marcos_plan):
    s = san_marcos
    other = siting.score_candidates(_with(s.sc, run__seed=7), s.data, s.graph, s.gaps, progress=False)
    base = san_marcos_plan.scores.candidates.set_index("ccpp_id")
    moved = other.candidates.set_index("ccpp_id").loc[base.index]
    assert (moved["score"] == base["score"]).all()  # the score itself does not depend on the seed
    assert not (moved["rank_median"] == base["rank_median"]).all()  # the draws around it do


# --------------------------------------------------------------------------- allocation


@pytest.mark.parametrize("key, value, changed", [
    ("require_parent", False, lambda m, b: m.parent_options is None and b.parent_options is not None),
    ("teacher_max_minutes", 30.0, lambda m, b: m.eligible.sum() < b.eligible.sum()),
    ("weight_women", 2.0, lambda m, b: m.w.sum() > b.w.sum()),
    ("weight_poverty", 1.0, lambda m, b: m.w.sum() > b.w.sum()),
    ("min_per_ugel", 1, lambda m, b: m.group_min.sum() == 1 and b.group_min.sum() == 0),
    ("max_per_ugel", 2, lambda m, b: np.isfinite(m.group_max).all() and not np.isfinite(b.group_max).any()),
    ("group_by", "province", lambda m, b: list(m.group_labels) != list(b.group_labels)),
    ("budget", 2.0, lambda m, b: m.budget == 2.0 and b.budget is None),
    ("cost_per_site", 2.0, lambda m, b: (m.cost == 2.0).all() and (b.cost == 1.0).all()),
    ("coverage_target", 0.5, lambda m, b: m.coverage_target == 0.5 and m.n_sites is None and b.n_sites == 3),
])
def test_allocation_keys_change_the_model(san_marcos, san_marcos_plan, key, value, changed):
    """Each key changes the covering model the propose stage solves (district_indicators
    enter through weight_poverty: the districts' poverty rates)."""
    s = san_marcos
    assert s.data.district_indicators is not None
    base = allocation.covering_model(s.sc, s.data, s.gaps, san_marcos_plan.scores)
    model = allocation.covering_model(_with(s.sc, **{f"allocation__{key}": value}), s.data, s.gaps,
                                      san_marcos_plan.scores)
    assert changed(model, base), key


def test_propose_keys_change_the_plan(san_marcos, san_marcos_plan):
    s, base = san_marcos, san_marcos_plan.plan
    assert base.solution.solver == "exact (HiGHS, Lagrangian pricing)"
    free = _with(s.sc, allocation__require_parent=False)  # the one parent CETPRO caps the shipped case at 3 sites
    long = siting.propose_sites(free, s.data, s.gaps, san_marcos_plan.scores)
    short = siting.propose_sites(_with(free, allocation__curve_max_sites=4), s.data, s.gaps, san_marcos_plan.scores)
    assert len(short.curve) == 4 < len(long.curve) <= free.allocation.curve_max_sites
    greedy = siting.propose_sites(_with(s.sc, allocation__solver="greedy"), s.data, s.gaps, san_marcos_plan.scores)
    assert greedy.solution.solver == "greedy+swap" and greedy.solution.status == "heuristic"
    rushed = siting.propose_sites(_with(s.sc, allocation__time_limit_s=1e-9), s.data, s.gaps, san_marcos_plan.scores)
    assert rushed.solution.solver == "exact (HiGHS)"  # no time for the pricing rounds: the full MILP instead


# --------------------------------------------------------------------------- report


def test_reason_is_shown_in_the_report(san_marcos):
    from siting.access import place_table
    from siting.report import html_report
    s = san_marcos
    places = place_table(s.gaps, s.sc)
    page = html_report.render_report(places=places, reason="FIXTURE reason: a test study area", generated="x")
    assert "FIXTURE reason: a test study area" in page
    assert "FIXTURE reason" not in html_report.render_report(places=places, reason="", generated="x")
    assert inspect.signature(html_report.write_reports).parameters["reason"]
