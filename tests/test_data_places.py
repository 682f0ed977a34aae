"""Districts, study area and centros poblados on the REAL shipped Cajamarca data.

Expected figures are checked against independent pandas computations on the raw files
(not against the loader's own helpers).  Bad-input files live in tests/fixtures/bad/ and
are labelled fixtures (five real rows, deliberately broken).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import siting
from siting.data import boundaries, population
from siting.data.quality import QualityReport
from siting.errors import DataError, ScenarioError
from siting.scenario import StudyArea

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
BAD = Path(__file__).parent / "fixtures" / "bad"
CCPP_CSV = RAW / "ccpp" / "inei_cpv2017_ccpp_poblacion_cajamarca.csv"
EIGHT = ["UGEL CAJABAMBA", "UGEL CAJAMARCA", "UGEL CELENDÍN", "UGEL CONTUMAZÁ", "UGEL HUALGAYOC",
         "UGEL SAN MARCOS", "UGEL SAN MIGUEL", "UGEL SAN PABLO"]


@pytest.fixture(scope="module")
def loaded(sc, districts):
    q = QualityReport()
    return population.load_places(sc, districts, q), q


@pytest.fixture(scope="module")
def raw():
    return pd.read_csv(CCPP_CSV, dtype=str)


def with_inputs(sc, **inputs):
    """A copy of the scenario with some [inputs] replaced (test helper)."""
    new = dataclasses.replace(sc, inputs=dataclasses.replace(sc.inputs, **{k: str(v) for k, v in inputs.items()}))
    return new


# --------------------------------------------------------------------------- districts


def test_districts_schema_and_counts(districts):
    assert list(districts.columns) == boundaries.DISTRICT_COLUMNS
    assert len(districts) == 127
    assert districts["ubigeo"].str.fullmatch(r"06\d{4}").all()
    assert districts.crs.to_epsg() == 4326
    assert districts["province_code"].nunique() == 13
    assert sorted(districts["ugel"].unique()) == sorted(
        "UGEL " + n for n in ["CAJAMARCA", "CAJABAMBA", "CELENDÍN", "CHOTA", "CONTUMAZÁ", "CUTERVO", "HUALGAYOC",
                              "JAÉN", "SAN IGNACIO", "SAN MARCOS", "SAN MIGUEL", "SAN PABLO", "SANTA CRUZ"])
    # independent: the raw layer filtered with pandas
    raw = gpd.read_file(RAW / "boundaries" / "innovar_peru_distritos_inei2017.gpkg", layer="distritos")
    assert set(raw.loc[raw["dep.code"] == "06", "ubigeo"]) == set(districts["ubigeo"])


def test_ugel_table(districts):
    t = boundaries.ugel_table(districts)
    assert len(t) == 13
    assert t["n_districts"].sum() == 127
    assert t.set_index("ugel").loc["UGEL CELENDÍN", "province_code"] == "0603"
    assert t.set_index("ugel").loc["UGEL SAN MIGUEL", "n_districts"] == 13


def test_other_department_uses_directory_accents(sc):
    s = dataclasses.replace(sc, study_area=dataclasses.replace(sc.study_area, department="01"))
    d = boundaries.load_districts(s, QualityReport())
    # accented spelling from the INEI directory of municipalities, upper-cased
    assert set(d["ugel"]) >= {"UGEL CHACHAPOYAS", "UGEL RODRÍGUEZ DE MENDOZA"}


def test_unknown_department_is_scenario_error(sc):
    s = dataclasses.replace(sc, study_area=dataclasses.replace(sc.study_area, department="99"))
    with pytest.raises(ScenarioError, match="department '99'"):
        boundaries.load_districts(s, QualityReport())


def test_select_study_area_eight_ugels(districts, raw):
    sel = boundaries.select_study_area(districts, StudyArea(ugels=EIGHT))
    assert sel["ugel"].nunique() == 8
    # independent: provinces of the raw CCPP file for the same 8 UGELs
    provs = {"CAJABAMBA", "CAJAMARCA", "CELENDIN", "CONTUMAZA", "HUALGAYOC", "SAN MARCOS", "SAN MIGUEL", "SAN PABLO"}
    assert set(sel["ubigeo"]) == set(raw.loc[raw["PROVINCIA"].isin(provs), "UBIGEO"])
    assert len(sel) == 63


def test_select_study_area_matching_rules(districts):
    a = boundaries.select_study_area(districts, StudyArea(ugels=["ugel celendin"]))
    b = boundaries.select_study_area(districts, StudyArea(ugels=["Celendín"]))
    c = boundaries.select_study_area(districts, StudyArea(provinces=["0603"]))
    d = boundaries.select_study_area(districts, StudyArea(provinces=["celendin"]))
    assert set(a["ubigeo"]) == set(b["ubigeo"]) == set(c["ubigeo"]) == set(d["ubigeo"])
    assert len(a) == 12
    e = boundaries.select_study_area(districts, StudyArea(ugels=["UGEL CAJAMARCA"], districts=["60101", "060108"]))
    assert sorted(e["ubigeo"]) == ["060101", "060108"]


@pytest.mark.parametrize("area,match", [
    (StudyArea(ugels=["UGEL LIMA"]), "UGEL 'UGEL LIMA'"),
    (StudyArea(provinces=["0699"]), "province '0699'"),
    (StudyArea(districts=["150101"]), "district '150101'"),
])
def test_select_study_area_unknown_values(districts, area, match):
    with pytest.raises(ScenarioError, match=match) as err:
        boundaries.select_study_area(districts, area)
    assert "valid values" in str(err.value)


def test_select_study_area_empty_intersection(districts):
    with pytest.raises(ScenarioError, match="study area is empty"):
        boundaries.select_study_area(districts, StudyArea(ugels=["UGEL JAÉN"], districts=["060101"]))


# --------------------------------------------------------------------------- places on real data


def test_real_places_counts(loaded, raw):
    places, q = loaded
    assert len(places) == 6513
    assert places["ccpp_id"].is_unique
    assert places["population_census"].sum() == 1_341_012
    assert places["population_census"].isna().sum() == 257
    assert places["population_estimated"].sum() == 257
    assert places["ubigeo"].nunique() == 127
    assert places["ugel"].nunique() == 13
    assert places["province"].nunique() == 13
    assert (places["area"] == "urbano").sum() == 194
    assert list(places.columns) == population.place_columns({"15_29": [15, 29], "15_64": [15, 64]}) + ["geometry"]
    s = q.summary().set_index("input")
    assert s.loc["ccpp", "read"] == 6513 and s.loc["ccpp", "kept"] == 6513
    t = q.table()
    assert (t[(t["problem"] == "missing population")]["action"] == "estimated").sum() == 257
    # independent: points in another district than their code, with shapely
    dist = boundaries.load_districts(siting.load_scenario(ROOT / "scenarios" / "cajamarca.toml"), QualityReport())
    tree = shapely.STRtree(dist.geometry.values)
    pts = gpd.points_from_xy(raw["lon"].astype(float), raw["lat"].astype(float))
    pi, di = tree.query(np.asarray(pts), predicate="within")
    poly_code = pd.Series(dist["ubigeo"].to_numpy()[di], index=pi)
    poly_code = poly_code[~poly_code.index.duplicated()]
    n_other = int((poly_code != raw["UBIGEO"].to_numpy()[poly_code.index]).sum())
    assert (t["problem"] == "point in another district than its code").sum() == n_other
    assert (t["problem"] == "outside the department").sum() == len(raw) - len(poly_code)


def test_missing_population_uses_district_rural_median(loaded, raw):
    places, _ = loaded
    ref = pd.read_parquet(RAW / "ccpp" / "ubigeo_ccpp_peru.parquet")
    r = raw.merge(ref[["inei_ccpp", "tipo"]], left_on="CCPP_ID", right_on="inei_ccpp")
    r["pop"] = pd.to_numeric(r["POB_CENSADA_2017"])
    med = r[(r["tipo"] == "Rural") & r["pop"].notna()].groupby("UBIGEO")["pop"].median()
    sc0 = dataclasses.replace(siting.load_scenario(ROOT / "scenarios" / "cajamarca.toml"),
                              population=dataclasses.replace(siting.Scenario().population, projection_year=0))
    p0 = population.load_places(sc0, boundaries.load_districts(sc0, QualityReport()), QualityReport())
    est = p0[p0["population_estimated"]]
    expected = est["ubigeo"].map(med)
    assert expected.notna().all()  # every district with a missing value has rural places with values
    np.testing.assert_allclose(est["population"].to_numpy(), expected.to_numpy())
    # without projection the analysis population is the census value where there is one
    known = p0[~p0["population_estimated"]]
    np.testing.assert_array_equal(known["population"], known["population_census"])
    assert p0["population"].sum() == pytest.approx(1_341_012 + expected.sum())


def test_missing_population_method_zero(sc, districts):
    p = population.load_places(sc, districts, QualityReport(), missing_population="zero")
    assert p["population_estimated"].sum() == 257
    assert (p.loc[p["population_estimated"], "population"] == 0).all()
    with pytest.raises(ScenarioError, match="unknown missing-population method"):
        population.load_places(sc, districts, QualityReport(), missing_population="mean")


def test_projection_matches_minam_district_totals(loaded):
    places, _ = loaded
    m = pd.read_csv(RAW / "population" / "minam_poblacion_distrital_urbana_rural_2019_2023.csv", dtype=str)
    m = m[(m["PERIODO"] == "2023") & m["UBIGEO"].str.startswith("06")].set_index("UBIGEO")
    got_u = places[places["area"] == "urbano"].groupby("ubigeo")["population"].sum()
    got_r = places[places["area"] == "rural"].groupby("ubigeo")["population"].sum()
    np.testing.assert_allclose(got_u.sort_index(), m.loc[got_u.index, "POB_URBANA"].astype(float).sort_index())
    np.testing.assert_allclose(got_r.sort_index(), m.loc[got_r.index, "POB_RURAL"].astype(float).sort_index())
    assert places["population"].sum() == pytest.approx(1_451_436)


def test_projection_year_not_in_table(sc, districts):
    s = dataclasses.replace(sc, population=dataclasses.replace(sc.population, projection_year=2030))
    with pytest.raises(ScenarioError, match="2030") as err:
        population.load_places(s, districts, QualityReport())
    assert "2019" in str(err.value) and "2023" in str(err.value)


def test_target_groups_follow_reniec_district_shares(loaded):
    places, _ = loaded
    rn = pd.read_csv(RAW / "population" / "reniec_poblacion_identificada_dic2022_cajamarca_sexo_edad.csv", dtype=str)
    rn["n"] = rn["Cantidad"].astype(float)
    rn["age"] = rn["Edad"].astype(int)
    tot = rn.groupby("UBIGEO_INEI")["n"].sum()
    w1529 = rn[(rn["Sexo"] == "Mujer") & rn["age"].between(15, 29)].groupby("UBIGEO_INEI")["n"].sum() / tot
    p1564 = rn[rn["age"].between(15, 64)].groupby("UBIGEO_INEI")["n"].sum() / tot
    women = rn[rn["Sexo"] == "Mujer"].groupby("UBIGEO_INEI")["n"].sum() / tot
    g = places.groupby("ubigeo")[["population", "women", "women_15_29", "pop_15_64", "men", "pop_15_29",
                                  "men_15_29"]].sum()
    np.testing.assert_allclose(g["women_15_29"] / g["population"], w1529[g.index], rtol=1e-9)
    np.testing.assert_allclose(g["pop_15_64"] / g["population"], p1564[g.index], rtol=1e-9)
    np.testing.assert_allclose(g["women"] / g["population"], women[g.index], rtol=1e-9)
    np.testing.assert_allclose(g["women"] + g["men"], g["population"], rtol=1e-9)
    np.testing.assert_allclose(g["women_15_29"] + g["men_15_29"], g["pop_15_29"], rtol=1e-9)


def test_eight_ugel_place_count(loaded, districts, raw):
    places, _ = loaded
    sel = boundaries.select_study_area(districts, StudyArea(ugels=EIGHT))
    n = places["ubigeo"].isin(set(sel["ubigeo"])).sum()
    provs = {"CAJABAMBA", "CAJAMARCA", "CELENDIN", "CONTUMAZA", "HUALGAYOC", "SAN MARCOS", "SAN MIGUEL", "SAN PABLO"}
    assert n == raw["PROVINCIA"].isin(provs).sum() == 3296


def test_geojson_input_gives_the_same_places(sc, districts, raw, tmp_path):
    sub = raw[raw["UBIGEO"] == "060108"]
    g = gpd.GeoDataFrame(sub.drop(columns=["lon", "lat"]),
                         geometry=gpd.points_from_xy(sub["lon"].astype(float), sub["lat"].astype(float)), crs=4326)
    path = tmp_path / "fixture_ccpp_subset.geojson"
    g.to_file(path, driver="GeoJSON")
    p = population.load_places(with_inputs(sc, ccpp=path), districts, QualityReport())
    assert len(p) == len(sub)
    assert p["population_census"].sum() == pd.to_numeric(sub["POB_CENSADA_2017"]).sum()


# --------------------------------------------------------------------------- bad inputs (labelled fixtures)


def test_bad_missing_column(sc, districts):
    path = BAD / "fixture_bad_ccpp_missing_population_column.csv"
    with pytest.raises(DataError) as err:
        population.load_places(with_inputs(sc, ccpp=path), districts, QualityReport())
    msg = str(err.value)
    assert path.name in msg and "population_census" in msg and "POB_CENSADA_2017" in msg
    assert "the file has: CCPP_ID" in msg


def test_bad_duplicate_codes(sc, districts):
    q = QualityReport()
    p = population.load_places(with_inputs(sc, ccpp=BAD / "fixture_bad_ccpp_duplicate_codes.csv"), districts, q)
    assert len(p) == 5
    assert p.set_index("ccpp_id").loc["0601010151", "population_census"] == 104  # first row kept
    t = q.table()
    dup = t[t["problem"] == "duplicate ccpp_id"]
    assert list(dup["row_id"]) == ["0601010151"] and list(dup["action"]) == ["dropped"]
    assert q.summary().set_index("input").loc["ccpp", "dropped"] == 1


def test_bad_swapped_latlon_fixed(sc, districts):
    q = QualityReport()
    p = population.load_places(with_inputs(sc, ccpp=BAD / "fixture_bad_ccpp_swapped_latlon.csv"), districts, q)
    t = q.table()
    fixed = t[t["problem"] == "latitude and longitude swapped"]
    assert sorted(fixed["row_id"]) == ["0601010058", "0601080079"]
    assert set(fixed["action"]) == {"fixed"}
    pt = p.set_index("ccpp_id").loc["0601010058", "geometry"]
    assert (pt.x, pt.y) == pytest.approx((-78.53017601415425, -7.116225643265723))


def test_bad_latin1_semicolon_thousands(sc, districts):
    p = population.load_places(with_inputs(sc, ccpp=BAD / "fixture_bad_ccpp_latin1_semicolon_thousands.csv"),
                               districts, QualityReport())
    pc = p.set_index("ccpp_id")["population_census"]
    assert pc["0601010001"] == 182_971 and pc["0601010058"] == 1_558
    assert "MOYOCOCHA SHILLA" in set(p["name"])
    raw_bytes = (BAD / "fixture_bad_ccpp_latin1_semicolon_thousands.csv").read_bytes()
    assert b"BA\xd1OS" in raw_bytes  # really Latin-1 (not valid UTF-8), and it was read
    assert p.set_index("ccpp_id").loc["0601080079", "ubigeo"] == "060108"


def test_bad_codes_without_leading_zeros(sc, districts):
    q = QualityReport()
    p = population.load_places(with_inputs(sc, ccpp=BAD / "fixture_bad_ccpp_codes_without_leading_zeros.csv"),
                               districts, q)
    assert sorted(p["ccpp_id"]) == ["0601010001", "0601010058", "0601010151", "0601080079", "0603010076"]
    assert set(p["ubigeo"]) == {"060101", "060108", "060301"}
    assert set(p["ugel"]) == {"UGEL CAJAMARCA", "UGEL CELENDÍN"}
    assert "UBIGEO differs" not in " ".join(q.table()["problem"])


def test_bad_header_only(sc, districts):
    with pytest.raises(DataError, match="header but no rows") as err:
        population.load_places(with_inputs(sc, ccpp=BAD / "fixture_bad_ccpp_header_only.csv"), districts,
                               QualityReport())
    assert "fixture_bad_ccpp_header_only.csv" in str(err.value)


def test_bad_coordinates(sc, districts):
    q = QualityReport()
    p = population.load_places(with_inputs(sc, ccpp=BAD / "fixture_bad_ccpp_bad_coordinates.csv"), districts, q)
    t = q.table().set_index("row_id")
    assert t.loc["0601010058", "problem"] == "missing coordinates" and t.loc["0601010058", "action"] == "dropped"
    assert t.loc["0601010151", "problem"] == "outside Peru" and t.loc["0601010151", "action"] == "dropped"
    lima = t.loc[["0601080079"]]
    assert "outside the department" in set(lima["problem"]) and set(lima["action"]) == {"kept"}
    assert sorted(p["ccpp_id"]) == ["0601010001", "0601080079", "0603010076"]
    assert q.summary().set_index("input").loc["ccpp", "dropped"] == 2


def test_missing_ccpp_input_is_clear(sc, districts):
    with pytest.raises(DataError, match="inputs.ccpp"):
        population.load_places(with_inputs(sc, ccpp=""), districts, QualityReport())


def test_no_age_sex_table_gives_nan_and_a_note(sc, districts):
    q = QualityReport()
    s = with_inputs(sc, ccpp=BAD / "fixture_bad_ccpp_duplicate_codes.csv", age_sex="")
    p = population.load_places(s, districts, q)
    assert p["women_15_29"].isna().all()
    assert any("age x sex" in n for n in q.notes)


def test_utm_zone_and_fold(districts):
    # Cajamarca's centroid (~78.6 W, 6.4 S) is in UTM zone 17 south; hand-computed: floor((180-78.6)/6)+1 = 17
    assert boundaries.utm_crs(boundaries.dissolve_study_area(districts)) == "EPSG:32717"
    assert boundaries.utm_crs(shapely.Point(-3.7, 40.4)) == "EPSG:32630"  # Madrid, north, zone 30
    assert boundaries.fold("  ugel  Celendín ") == "UGEL CELENDIN"
    assert boundaries.fold("ENCAÑADA") == "ENCANADA"
