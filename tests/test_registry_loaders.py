"""Registry loaders (REGISTRY_CONTRACT.md): every kind from CSV and XLSX, every row validated,
problems reported with sheet, row and column, fatal problems as DataError.

The registry files are INVENTED fixtures (tests/fixtures/registry/*_INVENTED.csv, with a
comment line saying so) placed at REAL centros poblados of the shipped INEI file; expected
points are read independently from that CSV with pandas.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import siting
import siting.data as sdata
from siting.data import facilities, registry
from siting.data.quality import PROBLEM_ES, QualityReport
from siting.errors import DataError, ScenarioError
from siting.scenario import scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "registry"
CCPP = ROOT / "data" / "raw" / "ccpp" / "inei_cpv2017_ccpp_poblacion_cajamarca.csv"


def fixture(kind: str) -> Path:
    return FIX / f"fixture_registry_{kind}_INVENTED.csv"


@pytest.fixture(scope="module")
def real_places():
    """All centros poblados of the department, straight from the INEI CSV (independent of load_places)."""
    import geopandas as gpd
    raw = pd.read_csv(CCPP, dtype=str)
    return gpd.GeoDataFrame({"ccpp_id": raw["CCPP_ID"]},
                            geometry=gpd.points_from_xy(raw["lon"].astype(float), raw["lat"].astype(float)),
                            crs=4326)


def problems(q: QualityReport, kind: str) -> dict[tuple[str, str], str]:
    t = q.table()
    t = t[t["input"] == kind]
    return {(r.row_id, r.problem): r.action for r in t.itertuples()}


def test_fixtures_say_they_are_invented():
    for p in FIX.glob("*.csv"):
        assert "INVENTED" in p.name and p.read_text(encoding="utf-8").startswith("# INVENTED FIXTURE")


def test_extension_centres_spanish_headers_and_bad_rows(real_places):
    q = QualityReport()
    cetpro = pd.DataFrame({"cod_mod": ["1107978", "0522599"]})
    e = facilities.load_extension_centres(fixture("extension_centres"), q, places=real_places, cetpro=cetpro)
    assert list(e.columns) == facilities.EXTENSION_COLUMNS
    assert list(e["facility_id"]) == ["FIX-CE-01", "FIX-CE-02", "FIX-CE-03", "FIX-CE-07"]
    one = e.iloc[0]
    assert (one["opening_date"], one["specialties"], one["host_type"], one["status"]) == \
        ("2024-03-01", "Cocina; Estilismo", "tambo", "activo")
    assert e["status"].tolist() == ["activo", "activo", "activo", "cerrado"]  # empty status = activo
    assert e.iloc[2]["host_type"] == "ie"  # "colegio" is a synonym
    assert pd.isna(e.iloc[2]["opening_date"]) and pd.isna(e.iloc[3]["host_type"])
    raw = pd.read_csv(CCPP, dtype=str).set_index("CCPP_ID")
    assert (one.geometry.x, one.geometry.y) == pytest.approx(
        (float(raw.loc["0610070035", "lon"]), float(raw.loc["0610070035", "lat"])))
    name = fixture("extension_centres").name
    p = problems(q, "extension_centres")
    assert p[(f"{name}:5", "invalid date")] == "kept"  # line 5 of the file: comment, header, 3rd row
    assert p[(f"{name}:7", "missing required value")] == "dropped"
    assert p[(f"{name}:8", "invalid cod_mod")] == "dropped"
    assert p[(f"{name}:9", "value not in the list")] == "kept"
    assert p[(f"{name}:9", "specialty not in the template list")] == "kept"
    assert p[("FIX-CE-04", "missing coordinates")] == "dropped"
    detail = q.table().set_index(["row_id", "problem"]).loc[(f"{name}:5", "invalid date"), "detail"]
    assert detail.startswith("column 'opening_date' = '2024-13-01'")
    s = q.summary().set_index("input").loc["extension_centres"]
    assert (s["read"], s["kept"], s["dropped"]) == (7, 4, 3)


def test_petitions(real_places):
    q = QualityReport()
    pet = registry.load_petitions(fixture("petitions"), q, places=real_places)
    assert pet["ccpp_id"].tolist() == ["0610070044", "0610060001", "0610070007"]
    assert pet["interested_women"].tolist()[:2] == [25.0, 12.0] and pd.isna(pet["interested_women"].iloc[2])
    assert pd.isna(pet["interested_men"].iloc[1]) and pet["interested_15_29"].tolist() == [22.0, 9.0, 2.0]
    assert pd.isna(pet["date"].iloc[2])  # 01/03/2025 is not ISO
    name = fixture("petitions").name
    p = problems(q, "petitions")
    assert p == {(f"{name}:5", "unknown ccpp_id"): "dropped", (f"{name}:6", "invalid ccpp_id"): "dropped",
                 (f"{name}:7", "invalid date"): "kept", (f"{name}:7", "negative number"): "kept"}
    assert "_row" not in pet.columns


def test_petitions_without_quality_report_raise_at_the_first_bad_row():
    with pytest.raises(DataError, match=r"row 5, column 'ccpp_id'.*0610079999|row 6, column 'ccpp_id'"):
        registry.load_petitions(fixture("petitions"))


def test_host_premises(real_places):
    q = QualityReport()
    h = registry.load_host_premises(fixture("host_premises"), q, places=real_places)
    assert list(h.columns) == registry.HOST_PREMISES_COLUMNS
    assert h["premises_id"].tolist() == ["FIX-T-01", "FIX-M-01"] and h["kind"].tolist() == ["tambo", "municipalidad"]
    assert (h.geometry.x.iloc[1], h.geometry.y.iloc[1]) == pytest.approx((-78.0592519026541, -7.149980155977937))
    name = fixture("host_premises").name
    assert problems(q, "host_premises") == {(f"{name}:5", "value not in the list"): "dropped",
                                            (f"{name}:6", "duplicate code"): "dropped",
                                            (f"{name}:7", "no location"): "dropped"}
    s = q.summary().set_index("input").loc["host_premises"]
    assert (s["read"], s["kept"]) == (5, 2)


def test_additional_cetpro(real_places, districts):
    q = QualityReport()
    c = registry.load_additional_cetpro(fixture("additional_cetpro"), q, places=real_places, districts=districts)
    assert c["cod_mod"].tolist() == ["NEW-001", "NEW-002", "0522599"]
    assert c["gestion"].tolist()[0] == "privada" and pd.isna(c["gestion"].iloc[1])
    assert c["user_added"].all() and (c["kind"] == "cetpro").all()
    assert c["enrolment"].tolist() == [80.0, 0.0, 0.0] and c["capacity"].tolist() == [80.0, 0.0, 0.0]
    assert c["teachers"].iloc[0] == 4 and c["teachers"].iloc[1:].isna().all()
    assert c["max_extensions"].tolist() == [2, 3, 3]
    assert c["ugel"].tolist()[:2] == ["UGEL SAN MARCOS", "UGEL SAN MARCOS"]  # from the polygon, not the file
    p = problems(q, "additional_cetpro")
    assert p[("NEW-002", "UGEL differs from the district's UGEL")] == "kept"
    assert p[("NEW-002", "enrolment unknown")] == "estimated" and p[("NEW-002", "teachers unknown")] == "estimated"
    assert p[(f"{fixture('additional_cetpro').name}:6", "missing required value")] == "dropped"


def test_candidate_exclusions_and_monitoring(real_places):
    q = QualityReport()
    ex = registry.load_candidate_exclusions(fixture("candidate_exclusions"), q, places=real_places)
    assert ex.to_dict("records") == [{"ccpp_id": "0610070005",
                                      "reason": "FIXTURE invented reason: the community declined"}]
    m = registry.load_monitoring(fixture("monitoring"), q, centres={"FIX-CE-01", "FIX-CE-02"})
    assert list(zip(m["centre_id"], m["period"])) == [("FIX-CE-01", "2024"), ("FIX-CE-01", "2025"),
                                                      ("FIX-CE-02", "2024"), ("FIX-CE-99", "2025")]
    assert m["enrolled_total"].tolist() == [20.0, 25.0, 20.0, 12.0]  # empty total = sum of the four groups
    assert m["enrolled_living_ccpp_ids"].iloc[0] == "0610070035; 0610070035; 0610070044"  # "12" removed
    assert registry.enrolled_groups(m) == ["enrolled_women_15_29", "enrolled_men_15_29", "enrolled_women_30_plus",
                                           "enrolled_men_30_plus"]
    name = fixture("monitoring").name
    assert problems(q, "monitoring") == {
        (f"{name}:8", "invalid period"): "dropped", (f"{name}:6", "duplicate centre and period"): "dropped",
        (f"{name}:5", "counts larger than the enrolment"): "kept",
        (f"{name}:5", "total differs from the sum of the groups"): "kept",
        (f"{name}:7", "unknown centre_id"): "kept", (f"{name}:3", "invalid ccpp_id"): "kept"}


def _workbook(path: Path, rows: list[list[object]], *, sheet: str = "centros_extension") -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = "instrucciones"
    wb.active.append(["FIXTURE (INVENTED): instructions sheet first, data sheet second"])
    ws = wb.create_sheet(sheet)
    ws.append(["codigo_centro", "nombre", "cod_mod_sede", "codigo_ccpp", "fecha_apertura", "tipo_local", "estado"])
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_xlsx_template_sheet_example_rows_and_excel_types(tmp_path, real_places):
    path = _workbook(tmp_path / "fixture_ce_INVENTED.xlsx", [
        ["EJEMPLO-CE-01", "EJEMPLO Centro (borrar esta fila)", "0522599", "0601010058", "2024-04-01", "tambo", ""],
        ["FIX-1", "CE INVENTADO X (FIXTURE)", 1107978, 610070035, dt.datetime(2024, 5, 2), "Tambo", "Activo"],
        ["FIX-2", "CE INVENTADO Y (FIXTURE)", 1107978, 610070044, "mayo", "otro", "abierto"],
    ])
    q = QualityReport()
    e = facilities.load_extension_centres(path, q, places=real_places)
    assert e["facility_id"].tolist() == ["FIX-1", "FIX-2"]
    assert e["ccpp_id"].tolist() == ["0610070035", "0610070044"]  # Excel numbers lose leading zeros
    assert e["parent_cod_mod"].tolist() == ["1107978", "1107978"]
    assert e["opening_date"].iloc[0] == "2024-05-02" and e["status"].tolist() == ["activo", "activo"]
    p = problems(q, "extension_centres")
    assert p[("centros_extension:2", "example row")] == "dropped"
    assert p[("centros_extension:4", "invalid date")] == "kept"
    assert p[("centros_extension:4", "value not in the list")] == "kept"  # "abierto" is not a status


def test_fatal_problems_are_data_errors(tmp_path):
    p = tmp_path / "fixture_bad_INVENTED.csv"
    p.write_text("codigo_ccpp,fecha\n0610070044,2025-01-01\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing column 'reason' \\(or 'motivo'\\)"):
        registry.load_candidate_exclusions(p, QualityReport())
    with pytest.raises(DataError, match="file not found"):
        registry.load_monitoring(tmp_path / "nope.csv", QualityReport())
    wb = openpyxl.Workbook()
    wb.active.append(["nada"])
    wb.save(tmp_path / "fixture_other_INVENTED.xlsx")
    with pytest.raises(DataError, match="no sheet with the columns of 'host_premises'"):
        registry.load_host_premises(tmp_path / "fixture_other_INVENTED.xlsx", QualityReport())
    (tmp_path / "fixture_dup_INVENTED.csv").write_text("ccpp_id,codigo_ccpp,motivo\n1,2,x\n", encoding="utf-8")
    with pytest.raises(DataError, match="two columns mean 'ccpp_id'"):
        registry.load_candidate_exclusions(tmp_path / "fixture_dup_INVENTED.csv", QualityReport())


def test_every_registry_problem_has_a_spanish_label():
    q = QualityReport()
    for kind in ("petitions", "host_premises", "candidate_exclusions", "monitoring"):
        registry.read_registry(fixture(kind), kind, q)
    assert {p["problem"] for p in q.problems} <= set(PROBLEM_ES)


# --------------------------------------------------------------------------- scenario keys and StudyData


@pytest.fixture()
def no_roads_no_dem(monkeypatch):
    monkeypatch.setattr(sdata, "_load_roads", lambda *args, **kwargs: None)
    monkeypatch.setattr(sdata, "_load_terrain", lambda *args, **kwargs: None)


def test_scenario_keys_default_empty_and_are_validated(sc, tmp_path):
    for key in ("host_premises", "additional_cetpro", "candidate_exclusions", "monitoring"):
        assert getattr(siting.Scenario().inputs, key) == ""
    gpkg = tmp_path / "premises.gpkg"
    gpkg.write_bytes(b"x")
    with pytest.raises(ScenarioError, match="inputs.host_premises' must be a CSV or XLSX"):
        scenario_from_dict({"inputs": {"host_premises": str(gpkg)}})
    with pytest.raises(ScenarioError, match="inputs.monitoring"):
        scenario_from_dict({"inputs": {"monitoring": str(tmp_path / "missing.csv")}})
    with pytest.raises(ScenarioError, match="must be a text string"):
        scenario_from_dict({"inputs": {"candidate_exclusions": 3}})


def test_registry_inputs_change_study_data(sc, no_roads_no_dem):
    empty = sdata.load_data(sc, progress=False)
    assert len(empty.petitions) == len(empty.host_premises) == len(empty.monitoring) == 0
    assert not empty.cetpro["user_added"].any() and (empty.cetpro["gestion"] == "publica").all()
    assert any("Registry kept by DRE/UGEL not given" in n for n in empty.quality.notes)
    s = dataclasses.replace(sc, inputs=dataclasses.replace(
        sc.inputs, additional_cetpro=str(fixture("additional_cetpro")), petitions=str(fixture("petitions")),
        host_premises=str(fixture("host_premises")), candidate_exclusions=str(fixture("candidate_exclusions")),
        monitoring=str(fixture("monitoring")), extension_centres=str(fixture("extension_centres"))))
    d = sdata.load_data(s, progress=False)
    added = d.cetpro[d.cetpro["user_added"]]
    assert added["cod_mod"].tolist() == ["NEW-001", "NEW-002"]  # 0522599 is already in the base
    assert len(d.cetpro) == len(empty.cetpro) + 2
    assert problems(d.quality, "additional_cetpro")[("0522599", "already in the school base")] == "dropped"
    assert "UGEL SAN MIGUEL" in " ".join(d.quality.notes)  # still without CETPRO
    assert len(d.petitions) == 3 and len(d.host_premises) == 2 and len(d.candidate_exclusions) == 1
    assert len(d.monitoring) == 4 and len(d.extension_centres) == 4
    # FIX-CE-99 is not a centre of the data; FIX-CE-01/02 (registry) are
    assert set(problems(d.quality, "monitoring")) >= {(f"{fixture('monitoring').name}:7", "unknown centre_id")}
    notes = " ".join(d.quality.notes)
    assert "2 CETPRO added by the user" in notes and "Registry kept by DRE/UGEL not given" not in notes


def test_thirteen_ugels_use_the_verified_northern_cetpro(no_roads_no_dem):
    sc13 = siting.load_scenario(ROOT / "scenarios" / "cajamarca_13ugel.toml")
    d = sdata.load_data(sc13, progress=False)
    north = d.cetpro[d.cetpro["user_added"]].set_index("cod_mod")
    assert sorted(north.index) == ["0594721", "LOCAL-562284"]  # Socota has no COD_MOD: provisional code
    assert north.loc["0594721", "ugel"] == "UGEL SAN IGNACIO" and north.loc["LOCAL-562284", "ugel"] == "UGEL CUTERVO"
    assert (north["enrolment"] == 0).all() and north["teachers"].isna().all()
    point = north.loc["0594721", "geometry"]
    assert (point.x, point.y) == pytest.approx((-79.00108, -5.14559))
    notes = d.quality.notes
    without = next(n for n in notes if "have no CETPRO" in n)
    assert without.startswith("5 UGEL(s)") and "CUTERVO" not in without and "UGEL JAÉN" in without
    assert any("UGEL CUTERVO, UGEL SAN IGNACIO every CETPRO in the data was added by the user" in n for n in notes)
    assert "incompleta" in sc13.study_area.reason
