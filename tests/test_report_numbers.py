"""The one number convention (siting.report.numbers): kinds from column codes, rounding
half away from zero, and text through Babel, checked against Babel's own output and by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest
from babel.numbers import format_decimal, format_percent

from siting.report import numbers as nb


@pytest.mark.parametrize("code, kind", [
    ("population", "people"), ("pop_15_29_beyond_60", "people"), ("women_15_64_in_over_120", "people"),
    ("new_target", "people"), ("beyond_60", "people"),
    ("share_population_within_60", "share"), ("share", "share"), ("women_within_change_rel", "share"),
    ("share_top_n", "share"), ("gap_women_men_15_29_beyond_60", "share"), ("poverty", "percent"), ("minutes_nearest", "minutes"),
    ("teacher_minutes", "minutes"), ("mean_minutes_target", "minutes"), ("time_to_nearest_facility", "minutes"),
    ("score", "score"), ("contrib_poverty", "score"), ("gini_minutes", "score"), ("hdi", "score"),
    ("seats_per_1000_e2sfca", "rate"), ("rank", "rank"), ("rank_median", "rank_fraction"),
    ("places", "count"), ("places_in_0_30", "count"), ("n_sites", "count"), ("host_premises", "count"),
    ("altitude_m", "metres"), ("flag_road_distance_m", "metres"), ("area_km2", "area"),
    ("ccpp_id", "code"), ("ubigeo", "code"), ("nearest_facility", "code"), ("something_else", "number"),
])
def test_kind_from_the_column_code(code, kind):
    assert nb.column_kind(code) == kind


def test_every_labelled_column_has_a_kind():
    """Every column code of the label registry that holds numbers has a kind: none falls
    back to "number" (General format, unrounded) by accident."""
    from siting.report.labels import keys as label_keys
    codes = [c for c in label_keys() if "." not in c]
    numeric_text = {"name", "district", "province", "ugel", "unit", "band", "area", "kind", "surface", "source",
                    "input", "problem", "detail", "action", "reason", "reason_detail", "criterion", "feature",
                    "top_criteria", "parent_name", "nearest_existing", "host_premises_list", "parent_status",
                    "department", "ccpp_name", "road_class", "approximate", "geometry", "population_estimated",
                    # registry and monitoring text
                    "petition_detail", "gestion", "user_added", "centre_name", "centre_kind", "period", "place_name",
                    "opening_date", "excluded_reason", "first_period", "last_period",
                    # plan measures, priorities and Pareto front (#18)
                    "group", "measure", "key", "enters", "plan_changed", "why", "sites", "status",
                    # the UGEL analyst's tables (siting.report.analyst)
                    "schools", "levels", "host_premises_near",
                    # routes, rainy-season closures, near-threshold flags, near-optimal sets (#14)
                    "route_description", "teacher_route_description", "closed_rainy", "near_threshold",
                    "ccpp_ids", "names"}
    unknown = [c for c in codes if c not in numeric_text and nb.column_kind(c) == "number"]
    assert unknown == [], f"columns without a number kind: {unknown}"


def test_round_half_away_from_zero_by_hand():
    got = nb.round_half_away([2.5, 3.5, -2.5, 2.675, 0.0005, -0.0004, 12.25, np.inf, np.nan], 0)
    np.testing.assert_array_equal(got[:3], [3.0, 4.0, -3.0])  # not banker's rounding (2, 4, -2)
    assert nb.round_half_away(2.675, 2) == pytest.approx(2.68)  # 2.675 is 2.67499999... in binary
    assert nb.round_half_away(0.0005, 3) == pytest.approx(0.001)
    assert str(nb.round_half_away(-0.0004, 3)) == "0.0"  # no "-0"
    assert nb.round_half_away(12.25, 1) == pytest.approx(12.3)
    assert math.isinf(got[7]) and math.isnan(got[8])


def test_people_in_es_pe_and_en_match_babel():
    assert nb.format_people(12345.4) == "12,345" == format_decimal(12345, "#,##0", locale="es_PE")
    assert nb.format_people(83895.99999999997) == "83,896"
    assert nb.format_people(1234567.5, lang="en") == "1,234,568" == format_decimal(1234568, "#,##0", locale="en")
    assert nb.format_people(-2.5) == "-3"
    # decimals with a point in Peru; another locale on request (the scenario may ask for it)
    assert nb.format_value(12345.67, "area") == "12,345.7"
    assert nb.format_value(12345.67, "area", locale="es_ES") == "12.345,7" \
        == format_decimal(12345.7, "#,##0.0", locale="es_ES")


def test_shares_minutes_scores():
    assert nb.format_share(0.6754) == "67.5%" == format_percent(0.675, "#,##0.0%", locale="es_PE")
    assert nb.format_share(0.67549) == "67.5%" and nb.format_share(0.6755) == "67.6%"  # half away from zero
    assert nb.format_share(1.0, lang="en") == "100.0%"
    assert nb.format_minutes(89.5) == "90" and nb.format_minutes(1234.2) == "1,234"
    assert nb.format_minutes(math.inf) == "Sin acceso" and nb.format_minutes(math.inf, lang="en") == "No access"
    assert nb.format_score(0.749056016565274) == "0.749"
    assert nb.format_value(float("nan"), "people", missing="–") == "–"
    assert nb.format_value("0610070072", "code") == "0610070072" and nb.format_value(1107978.0, "code") == "1107978"


def test_excel_formats_and_display_rounding():
    assert nb.excel_format("people") == "#,##0" and nb.excel_format("share") == "0.0%"
    assert nb.excel_format("minutes") == "0" and nb.excel_format("score") == "0.000"
    np.testing.assert_array_equal(nb.display_round([83895.99999999997, 0.4], "people"), [83896.0, 0.0])
    np.testing.assert_allclose(nb.display_round([0.67549, 0.6755], "share"), [0.675, 0.676])
    with pytest.raises(ValueError, match="unknown number kind"):
        nb.excel_format("furlongs")
    with pytest.raises(ValueError, match="language"):
        nb.format_people(1, lang="fr")


def test_format_table_keeps_text_and_booleans():
    import pandas as pd
    df = pd.DataFrame({"name": ["A"], "population": [12345.6], "share_population_within_60": [0.5],
                       "flag_outside_dem": [True]})
    out = nb.format_table(df)
    assert out.iloc[0].tolist() == ["A", "12,346", "50.0%", True]
