"""CETPRO, school premises (REAL data), Tambos and extension centres (labelled FAKE fixtures),
and load_data on the shipped scenarios (roads/terrain loaders switched off here: they
belong to another module and have their own tests)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import siting
import siting.data as sdata
from siting.data import facilities
from siting.data.quality import QualityReport
from siting.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
FIX = Path(__file__).parent / "fixtures"
TAMBOS_FAKE = FIX / "fixture_tambos_FAKE_for_tests.csv"
EXT_FAKE = FIX / "fixture_extension_centres_FAKE_for_tests.csv"


@pytest.fixture(scope="module")
def cetpro(sc, districts):
    q = QualityReport()
    return facilities.load_cetpro(sc, q, districts=districts), q


# --------------------------------------------------------------------------- CETPRO (real)


def test_cetpro_real(cetpro):
    c, q = cetpro
    assert list(c.columns) == facilities.CETPRO_COLUMNS
    assert len(c) == 17 and c["facility_id"].is_unique
    assert (c["kind"] == "cetpro").all()
    raw = gpd.read_file(RAW / "education" / "dre_cajamarca_base2025_iiee_8ugel.gpkg")
    sel = raw[raw["NIVEL_MODALIDAD"].isin(["Técnico Productiva", "Educación Ocupacional"])].set_index("COD_MOD")
    assert set(c["cod_mod"]) == set(sel.index)
    got = c.set_index("cod_mod")
    np.testing.assert_array_equal(got.loc[sel.index, "enrolment"], sel["TOTAL_ALUMNOS"].astype(float))
    np.testing.assert_array_equal(got.loc[sel.index, "teachers"], sel["TDOCENTE"].astype(float))
    np.testing.assert_array_equal(got["capacity"], got["enrolment"])  # access.capacity_column = TOTAL_ALUMNOS
    assert got.loc["0522599", "enrolment"] == 782
    assert (c["max_extensions"] == 3).all()
    zero = q.table().query("problem == 'zero enrolment'")
    assert len(zero) == 4 and set(zero["action"]) == {"kept"}
    assert set(zero["row_id"]) == set(sel.index[sel["TOTAL_ALUMNOS"] == 0])
    # UGEL from the polygon agrees with the base's UGEL column for every CETPRO
    np.testing.assert_array_equal(got.loc[sel.index, "ugel"], sel["UGEL"])
    assert "UGEL SAN MIGUEL" not in set(c["ugel"]) and c["ugel"].nunique() == 7


def test_cetpro_district_by_independent_point_in_polygon(cetpro, districts):
    c, _ = cetpro
    for pt, ub in zip(c.geometry, c["ubigeo"]):
        holders = [u for u, g in zip(districts["ubigeo"], districts.geometry) if g.contains(pt)]
        assert holders == [ub]


def test_cetpro_max_extensions_from_scenario(sc, districts):
    s = dataclasses.replace(sc, allocation=dataclasses.replace(sc.allocation, max_extensions_per_cetpro=5))
    c = facilities.load_cetpro(s, QualityReport(), districts=districts)
    assert (c["max_extensions"] == 5).all()


def test_cetpro_columns_from_file_and_duplicates(sc, districts, tmp_path):
    # FIXTURE: three real CETPRO rows of the DRE base, one duplicated, with capacity/max columns added
    raw = gpd.read_file(RAW / "education" / "dre_cajamarca_base2025_iiee_8ugel.gpkg")
    rows = raw[raw["COD_MOD"].isin(["0522599", "0701961", "1107978"])].copy()
    rows = pd.concat([rows, rows.iloc[[0]]])
    rows["CAPACIDAD"] = [900, 200, 150, 1]
    rows["MAX_EXTENSIONES"] = [4, 1, 2, 9]
    path = tmp_path / "fixture_school_base_dup.gpkg"
    gpd.GeoDataFrame(rows, crs=4326).to_file(path)
    s = dataclasses.replace(sc, inputs=dataclasses.replace(sc.inputs, school_base=str(path)))
    q = QualityReport()
    c = facilities.load_cetpro(s, q, districts=districts).set_index("cod_mod")
    assert len(c) == 3
    first = rows.iloc[0]["COD_MOD"]
    assert c.loc[first, "capacity"] == 900 and c.loc[first, "max_extensions"] == 4
    dup = q.table().query("problem == 'duplicate cod_mod'")
    assert list(dup["row_id"]) == [first] and list(dup["action"]) == ["dropped"]


def test_cetpro_missing_modality_column(sc, districts, tmp_path):
    raw = gpd.read_file(RAW / "education" / "dre_cajamarca_base2025_iiee_8ugel.gpkg").head(3)
    path = tmp_path / "fixture_school_base_no_modality.gpkg"
    raw.drop(columns=["NIVEL_MODALIDAD"]).to_file(path)
    s = dataclasses.replace(sc, inputs=dataclasses.replace(sc.inputs, school_base=str(path)))
    with pytest.raises(DataError, match="NIVEL_MODALIDAD") as err:
        facilities.load_cetpro(s, QualityReport(), districts=districts)
    assert path.name in str(err.value)


# --------------------------------------------------------------------------- school premises (real)


def test_school_premises_real(districts):
    q = QualityReport()
    dept = districts.geometry.union_all()
    s = facilities.load_school_premises(RAW / "education" / "minedu_locales_educativos_cajamarca.gpkg", q, area=dept)
    assert list(s.columns) == facilities.PREMISES_COLUMNS
    assert len(s) == 8312 and s["codlocal"].is_unique
    assert s["codlocal"].str.fullmatch(r"\d{6,7}").all()  # the MINEDU layer also has 7-digit codes
    n_out = int((~shapely.contains_xy(dept, s.geometry.x.to_numpy(), s.geometry.y.to_numpy())).sum())
    assert (q.table()["problem"] == "outside the department").sum() == n_out
    assert s["altitude_m"].notna().all()


# --------------------------------------------------------------------------- Tambos (FAKE fixture)


def _check_fake_tambos(t, q):
    assert list(t.columns) == facilities.TAMBO_COLUMNS
    assert sorted(t["tambo_code"]) == ["FAKE-001", "FAKE-002", "FAKE-004"]
    assert t.set_index("tambo_code").loc["FAKE-001", "ubigeo"] == "060101"
    p2 = t.set_index("tambo_code").loc["FAKE-002", "geometry"]
    assert (p2.x, p2.y) == pytest.approx((-78.51761851288407, -7.132878068187305))
    tab = q.table()
    assert set(tab.loc[tab["problem"] == "duplicate tambo_code", "row_id"]) == {"FAKE-001"}
    assert set(tab.loc[tab["problem"] == "missing coordinates", "row_id"]) == {"FAKE-003"}
    assert set(tab.loc[tab["problem"] == "latitude and longitude swapped", "action"]) == {"fixed"}
    assert set(tab.loc[tab["problem"] == "outside the department", "row_id"]) == {"FAKE-004"}


def test_tambos_csv_fixture(districts):
    q = QualityReport()
    t = facilities.load_tambos(TAMBOS_FAKE, q, area=districts.geometry.union_all())
    _check_fake_tambos(t, q)


def test_tambos_xlsx_fixture(districts, tmp_path):
    path = tmp_path / "fixture_tambos_FAKE_for_tests.xlsx"
    pd.read_csv(TAMBOS_FAKE, dtype=str).to_excel(path, index=False)
    q = QualityReport()
    t = facilities.load_tambos(path, q, area=districts.geometry.union_all())
    _check_fake_tambos(t, q)


def test_tambos_missing_longitude():
    with pytest.raises(DataError, match="LONGITUD") as err:
        facilities.load_tambos(FIX / "bad" / "fixture_bad_tambos_no_longitude.csv", QualityReport())
    assert "fixture_bad_tambos_no_longitude.csv" in str(err.value)


# --------------------------------------------------------------------------- extension centres (FAKE)


def test_extension_centres_fixture(cetpro):
    c, _ = cetpro
    # real places used to resolve ccpp_id (two real rows of the INEI CCPP file)
    raw = pd.read_csv(RAW / "ccpp" / "inei_cpv2017_ccpp_poblacion_cajamarca.csv", dtype=str)
    sub = raw[raw["CCPP_ID"].isin(["0603010076", "0601010058"])]
    places = gpd.GeoDataFrame({"ccpp_id": sub["CCPP_ID"]},
                              geometry=gpd.points_from_xy(sub["lon"].astype(float), sub["lat"].astype(float)), crs=4326)
    q = QualityReport()
    e = facilities.load_extension_centres(EXT_FAKE, q, places=places, cetpro=c)
    assert list(e.columns) == facilities.EXTENSION_COLUMNS
    assert list(e["facility_id"]) == ["EXT-001", "EXT-002", "EXT-003"]
    assert (e["kind"] == "extension").all()
    assert list(e["parent_cod_mod"]) == ["0522599", "0701961", "9999999"]
    b = e.set_index("facility_id").loc["EXT-002"]
    assert b["ccpp_id"] == "0603010076"
    assert (b.geometry.x, b.geometry.y) == pytest.approx((-78.19758247894228, -6.883196460416447))
    tab = q.table()
    assert set(tab.loc[tab["problem"] == "missing coordinates", "row_id"]) == {"EXT-004"}
    assert set(tab.loc[tab["problem"] == "parent CETPRO not in the CETPRO list", "row_id"]) == {"EXT-003"}
    assert q.summary().set_index("input").loc["extension_centres", "dropped"] == 1


# --------------------------------------------------------------------------- load_data


@pytest.fixture()
def no_roads_no_dem(monkeypatch):
    """Switch off the other engineer's loaders (tested elsewhere) to keep this file fast."""
    monkeypatch.setattr(sdata, "_load_roads", lambda *args, **kwargs: None)
    monkeypatch.setattr(sdata, "_load_terrain", lambda sc, quality, bounds_4326, crs: None)


def test_study_data_eight_ugels(sc, no_roads_no_dem):
    d = sdata.load_data(sc, progress=False)
    assert d.crs == "EPSG:32717"
    assert len(d.all_districts) == 127 and len(d.districts) == 63
    assert len(d.places) == 3296 and set(d.places["ubigeo"]) <= set(d.districts["ubigeo"])
    assert len(d.cetpro) == 13 and len(d.cetpro_inactive) == 4  # 4 have no students and no teachers
    assert len(d.ugels) == 8
    assert d.study_area.area == pytest.approx(d.districts.geometry.union_all().area)
    assert d.study_area_buffer.contains(d.study_area)
    assert len(d.extension_centres) == 0 and len(d.tambos) == 0
    assert d.extension_centres.crs.to_epsg() == 4326
    notes = " ".join(d.quality.notes)
    assert "UGEL SAN MIGUEL" in notes and "2 UGEL(s)" in notes and "UGEL SAN PABLO" in notes
    assert "extension centres" in notes and "Tambo" in notes
    assert "No road network loaded" in notes
    # premises: kept only inside the study area + 15 km (independent check in UTM)
    buf = gpd.GeoSeries([d.study_area], crs=4326).to_crs(d.crs).buffer(15_000).iloc[0]
    prem = gpd.read_file(RAW / "education" / "minedu_locales_educativos_cajamarca.gpkg").to_crs(d.crs)
    assert len(d.school_premises) == pytest.approx(int(prem.within(buf).sum()), abs=2)
    assert len(d.facilities()) == 13


def test_study_data_thirteen_ugels(no_roads_no_dem):
    sc13 = siting.load_scenario(ROOT / "scenarios" / "cajamarca_13ugel.toml")
    d = sdata.load_data(sc13, progress=False)
    assert len(d.places) == 6513 and len(d.districts) == 127
    note = next(n for n in d.quality.notes if "have no CETPRO" in n)
    # Cutervo and San Ignacio: 1 verified CETPRO each; San Pablo's only CETPRO has no students nor teachers
    for u in ["CHOTA", "JAÉN", "SANTA CRUZ", "SAN MIGUEL", "SAN PABLO"]:
        assert f"UGEL {u}" in note
    assert note.startswith("5 UGEL(s)")


def test_study_data_with_fixture_extension_centres(sc, no_roads_no_dem):
    s = dataclasses.replace(sc, inputs=dataclasses.replace(sc.inputs, extension_centres=str(EXT_FAKE),
                                                           tambos=str(TAMBOS_FAKE)))
    d = sdata.load_data(s, progress=False)
    assert len(d.extension_centres) == 3  # EXT-004 has no location
    assert set(d.tambos["tambo_code"]) == {"FAKE-001", "FAKE-002"}  # FAKE-004 (Lima) is outside the area
    assert not any("No list of existing extension centres" in n for n in d.quality.notes)
    assert len(d.facilities()) == 16
