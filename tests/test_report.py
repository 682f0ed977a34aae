"""Tests of the report layer (labels, exports, static maps, HTML report, interactive map).

Inputs are REAL data (INEI populated places and boundaries, DRE CETPRO, MTC roads, MINEDU
premises).  Only the analysis results are FIXTURES: travel minutes, age/sex splits and
proposals are made up here from straight-line distances, because the engine, access and
allocation stages are built by others in parallel.  Every such column is marked
``FIXTURE`` below; nothing here is a real result.
"""
from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree

from siting.report import exports, labels

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
ARTIFACTS = ROOT / "test-artifacts"
CRS_M = "EPSG:32717"
FIXTURE_KMH = 20.0  # FIXTURE: minutes = straight-line km / 20 km/h * 60 (not the engine)


# --------------------------------------------------------------------------- fixtures (real inputs)
def _fixture_districts() -> gpd.GeoDataFrame:
    """Real INEI 2017 district polygons of Cajamarca (department 06); UGEL = province."""
    d = gpd.read_file(RAW / "boundaries" / "innovar_peru_distritos_inei2017.gpkg", layer="distritos",
                      where="\"dep.code\" = '06'")
    # UGEL names as spelled in the DRE base (with accents) where the DRE base has them
    from siting.report.static_maps import slug

    dre = gpd.read_file(RAW / "education" / "dre_cajamarca_base2025_iiee_8ugel.gpkg", columns=["UGEL"],
                        ignore_geometry=True)
    spelled = {slug(u): u for u in dre["UGEL"].dropna().unique()}
    ugel = [spelled.get(slug(f"UGEL {p}"), f"UGEL {p}") for p in d["prov"].astype(str)]
    out = gpd.GeoDataFrame({"ubigeo": d["ubigeo"].astype(str), "district": d["distr"], "province": d["prov"],
                            "ugel": ugel}, geometry=d.geometry, crs=d.crs)
    return out.to_crs("EPSG:4326")


def _fixture_cetpro() -> gpd.GeoDataFrame:
    """Real CETPRO of the DRE Cajamarca base 2025 (NIVEL_MODALIDAD 'Técnico Productiva')."""
    b = gpd.read_file(RAW / "education" / "dre_cajamarca_base2025_iiee_8ugel.gpkg")
    b = b[b["NIVEL_MODALIDAD"] == "Técnico Productiva"].reset_index(drop=True)
    return gpd.GeoDataFrame({"facility_id": b["COD_MOD"].astype(str), "cod_mod": b["COD_MOD"].astype(str),
                             "name": b["NOMBRE_IE"], "district": b["DISTRITO"], "ugel": b["UGEL"],
                             "enrolment": pd.to_numeric(b["TOTAL_ALUMNOS"], errors="coerce"),
                             "teachers": pd.to_numeric(b["TDOCENTE"], errors="coerce")},
                            geometry=b.geometry, crs=b.crs).to_crs("EPSG:4326")


def _band(minutes: np.ndarray) -> np.ndarray:
    return np.select([minutes <= 30, minutes <= 60, minutes <= 120, np.isfinite(minutes)],
                     ["<=30", "30-60", "60-120", ">120"], "sin acceso")


def _fixture_places(districts: gpd.GeoDataFrame, cetpro: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Real INEI CPV 2017 populated places (6,513) with FIXTURE minutes and age/sex splits."""
    c = pd.read_csv(RAW / "ccpp" / "inei_cpv2017_ccpp_poblacion_cajamarca.csv", dtype=str)
    g = gpd.GeoDataFrame(c, geometry=gpd.points_from_xy(c["lon"].astype(float), c["lat"].astype(float)),
                         crs="EPSG:4326")
    pop = pd.to_numeric(g["POB_CENSADA_2017"], errors="coerce").fillna(0.0)
    ugel = g["UBIGEO"].map(districts.set_index("ubigeo")["ugel"])
    xy = np.column_stack([g.to_crs(CRS_M).geometry.x, g.to_crs(CRS_M).geometry.y])
    cxy = np.column_stack([cetpro.to_crs(CRS_M).geometry.x, cetpro.to_crs(CRS_M).geometry.y])
    dist, idx = cKDTree(cxy).query(xy)
    minutes = dist / 1000.0 / FIXTURE_KMH * 60.0  # FIXTURE
    return gpd.GeoDataFrame({
        "ccpp_id": g["CCPP_ID"], "name": g["CENTRO_POBLADO"], "ubigeo": g["UBIGEO"],
        "district": g["DISTRITO"], "province": g["PROVINCIA"], "ugel": ugel,
        "population": pop,
        "women": (pop * 0.51).round(),  # FIXTURE share
        "pop_15_29": (pop * 0.26).round(),  # FIXTURE share
        "women_15_29": (pop * 0.13).round(),  # FIXTURE share
        "minutes_nearest": minutes, "nearest_facility": cetpro["facility_id"].to_numpy()[idx],
        "band": _band(minutes)}, geometry=g.geometry, crs="EPSG:4326")


def _fixture_proposals(places: gpd.GeoDataFrame, cetpro: gpd.GeoDataFrame, n: int = 10) -> gpd.GeoDataFrame:
    """FIXTURE proposals: the n most populous real places beyond 60 min (not an allocation)."""
    cand = places[places["minutes_nearest"] > 60].nlargest(n, "pop_15_29").reset_index(drop=True)
    parent = cetpro.set_index("facility_id")
    out = cand[["ccpp_id", "name", "district", "province", "ugel", "geometry"]].copy()
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["parent_cod_mod"] = cand["nearest_facility"].to_numpy()
    out["parent_name"] = parent.loc[cand["nearest_facility"], "name"].to_numpy()
    out["teacher_minutes"] = cand["minutes_nearest"].to_numpy()
    out["new_population"] = cand["population"].to_numpy()
    out["new_women"] = cand["women"].to_numpy()
    out["new_target"] = cand["pop_15_29"].to_numpy()
    out["nearest_existing"] = cand["minutes_nearest"].to_numpy()
    out["minutes_saved"] = cand["minutes_nearest"].to_numpy() - 10.0
    out["host_premises"] = "I.E. (fixture)"
    out["score"] = np.linspace(0.9, 0.5, len(out))
    out["top_criteria"] = "unserved_target, time_to_nearest_facility"
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def _fixture_aggregate(places: pd.DataFrame, by: str) -> pd.DataFrame:
    """Access aggregates computed here with pandas from the FIXTURE minutes."""
    p = places.assign(w60=places["population"] * (places["minutes_nearest"] <= 60),
                      w120=places["population"] * (places["minutes_nearest"] <= 120),
                      wm=places["population"] * places["minutes_nearest"])
    a = p.groupby(by).agg(population=("population", "sum"), target_population=("pop_15_29", "sum"),
                          w60=("w60", "sum"), w120=("w120", "sum"), wm=("wm", "sum")).reset_index()
    return pd.DataFrame({"unit": a[by], "population": a["population"], "target_population": a["target_population"],
                         "share_within_60": a["w60"] / a["population"], "share_within_120": a["w120"] / a["population"],
                         "beyond_60": a["population"] - a["w60"], "beyond_120": a["population"] - a["w120"],
                         "mean_minutes": a["wm"] / a["population"]})


@pytest.fixture(scope="session")
def study() -> dict:
    """Real inputs + FIXTURE results, shared by the tests of this module."""
    districts = _fixture_districts()
    cetpro = _fixture_cetpro()
    places = _fixture_places(districts, cetpro)
    proposals = _fixture_proposals(places, cetpro)
    coverage = pd.DataFrame({"n_sites": proposals["rank"],
                             "covered_target": proposals["new_target"].cumsum()})
    coverage["share"] = coverage["covered_target"] / places.loc[places["minutes_nearest"] > 60, "pop_15_29"].sum()
    r = gpd.read_file(RAW / "roads" / "mtc_red_vial_departamental_cajamarca.gpkg")
    roads = gpd.GeoDataFrame({"road_class": np.where(np.arange(len(r)) % 2 == 0, "departmental_paved",
                                                     "departmental_unpaved"),  # FIXTURE class
                              "approximate": np.arange(len(r)) % 5 == 0},  # FIXTURE flag
                             geometry=r.geometry, crs=r.crs).to_crs("EPSG:4326")
    pr = gpd.read_file(RAW / "education" / "minedu_locales_educativos_cajamarca.gpkg")
    premises = gpd.GeoDataFrame({"codlocal": pr["CODLOCAL"], "name": pr["NOMCPSIG"], "ccpp_name": pr["NOMCPSIG"]},
                                geometry=pr.geometry, crs=pr.crs).to_crs("EPSG:4326")
    return {"districts": districts, "cetpro": cetpro, "places": places, "proposals": proposals,
            "coverage": coverage, "roads": roads, "premises": premises,
            "by_ugel": _fixture_aggregate(places, "ugel"), "by_district": _fixture_aggregate(places, "district"),
            "notes": ["No hay lista real de los 19 centros de extensión ni de Tambos (fixture de prueba)."]}


@pytest.fixture(scope="session")
def travel_tif(study, tmp_path_factory) -> Path:
    """FIXTURE travel-time GeoTIFF (EPSG:32717, 2 km cells): straight-line minutes to the
    nearest real CETPRO at 20 km/h, NaN outside the districts."""
    import rasterio
    from rasterio.features import geometry_mask
    from rasterio.transform import from_origin

    d = study["districts"].to_crs(CRS_M)
    minx, miny, maxx, maxy = d.total_bounds
    cell = 2000.0
    w, h = int((maxx - minx) // cell) + 1, int((maxy - miny) // cell) + 1
    tr = from_origin(minx, maxy, cell, cell)
    cols, rows = np.meshgrid(np.arange(w), np.arange(h))
    xs, ys = tr * (cols + 0.5, rows + 0.5)
    c = study["cetpro"].to_crs(CRS_M)
    dist, _ = cKDTree(np.column_stack([c.geometry.x, c.geometry.y])).query(np.column_stack([xs.ravel(), ys.ravel()]))
    minutes = (dist / 1000.0 / FIXTURE_KMH * 60.0).reshape(h, w).astype("float32")
    minutes[geometry_mask(d.geometry, out_shape=(h, w), transform=tr)] = np.nan
    path = tmp_path_factory.mktemp("raster") / "fixture_travel_time.tif"
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=CRS_M,
                       transform=tr, nodata=np.nan) as dst:
        dst.write(minutes, 1)
    return path


# =========================================================================== labels
def _all_tables(study: dict) -> dict[str, pd.DataFrame]:
    return {"places": study["places"], "cetpro": study["cetpro"], "proposals": study["proposals"],
            "by_ugel": study["by_ugel"], "by_district": study["by_district"], "coverage": study["coverage"],
            "roads": study["roads"], "premises": study["premises"], "districts": study["districts"]}


def test_t_translates_and_rejects_unknown_keys():
    assert labels.t("population") == "Población"
    assert labels.t("population", "en") == "Population"
    assert labels.t("pop_15_29") == "Población 15-29 años"
    assert labels.t("women_15_64", "en") == "Women 15-64 years"
    with pytest.raises(KeyError, match="no_such_column"):
        labels.t("no_such_column")
    with pytest.raises(ValueError):
        labels.t("population", "fr")
    assert labels.band_label("sin acceso", "en") == "No access"


def test_every_exported_column_has_a_distinct_label_in_both_languages(study):
    for name, df in _all_tables(study).items():
        for lang in labels.LANGS:
            out = labels.headers(df, lang)  # KeyError here names the missing column
            cols = [c for c in out.columns if c != "geometry"]
            assert len(set(cols)) == len(cols), f"{name}: two columns share a label in {lang}: {cols}"
            assert "geometry" not in [labels.t(c, lang) for c in df.columns if c != "geometry"]
    with pytest.raises(KeyError):
        labels.headers(pd.DataFrame({"mystery": [1]}))
    assert list(labels.headers(pd.DataFrame({"mystery": [1]}), strict=False).columns) == ["mystery"]


def test_every_label_key_has_spanish_and_english():
    for key in labels.keys():
        es, en = labels.t(key, "es"), labels.t(key, "en")
        assert es.strip() and en.strip(), key


# =========================================================================== exports
def test_csv_has_bom_spanish_headers_and_same_values(study, tmp_path):
    by_ugel = study["by_ugel"]
    path = exports.write_csv(by_ugel, tmp_path / "brechas_ugel.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert list(back.columns) == [labels.t(c) for c in by_ugel.columns]
    np.testing.assert_allclose(back[labels.t("beyond_60")].to_numpy(), by_ugel["beyond_60"].to_numpy())
    assert back[labels.t("unit")].tolist() == by_ugel["unit"].tolist()
    # no geometry column in tables; lang=None keeps snake_case
    p2 = exports.write_csv(study["proposals"], tmp_path / "p.csv", lang=None)
    assert "geometry" not in pd.read_csv(p2, encoding="utf-8-sig").columns
    assert "new_target" in pd.read_csv(p2, encoding="utf-8-sig").columns


def test_xlsx_is_formatted_and_round_trips(study, tmp_path):
    from openpyxl import load_workbook
    from _xlsx_support import column_widths

    tables = {"propuestas": study["proposals"], "brechas_ugel": study["by_ugel"],
              "nombre/con:caracteres?raros_y_muy_largo_mas_de_31": study["coverage"]}
    path = exports.write_xlsx(tables, tmp_path / "tablas.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames[:3] == ["Léame", "Propuestas", "brechas_ugel"]  # known tables get Spanish names
    assert len(wb.sheetnames[3]) <= 31 and not re.search(r"[\[\]*?/\\:]", wb.sheetnames[3])
    ws = wb["Propuestas"]
    header = [c.value for c in ws[1]]
    cols = [c for c in study["proposals"].columns if c != "geometry"]
    assert header == [labels.t(c) for c in cols]
    assert all(c.font.bold and c.alignment.wrap_text for c in ws[1])
    assert ws.freeze_panes == "D2"  # header + rank, code and name
    shown = column_widths(ws)
    for j, h in enumerate(header, start=1):  # wrapped headers: at least 18 characters or the header
        assert shown[j] >= min(60, min(len(h), 18) + 2)
    back = pd.read_excel(path, sheet_name="Propuestas")
    np.testing.assert_allclose(back[labels.t("new_target")], study["proposals"]["new_target"].round(), atol=0.5)
    assert back[labels.t("name")].tolist() == study["proposals"]["name"].tolist()


def test_geopackage_holds_all_layers_and_geojson_round_trips(study, tmp_path):
    import pyogrio

    layers = {"centros_poblados": study["places"], "propuestas": study["proposals"], "cetpro": study["cetpro"],
              "distritos": study["districts"].head(20)}
    written = exports.export_all(tmp_path, tables={"brechas_ugel": study["by_ugel"]}, layers=layers)
    gpkg = written["gpkg"]
    assert sorted(pyogrio.list_layers(gpkg)[:, 0]) == sorted([*layers, "layer_styles"])  # + QGIS styles
    back = gpd.read_file(gpkg, layer="propuestas")
    assert len(back) == len(study["proposals"])
    assert back.crs.to_epsg() == 4326
    assert back.geometry.geom_equals_exact(study["proposals"].geometry.reset_index(drop=True), 1e-9).all()
    assert "parent_name" in back.columns  # the code; the label is its alias (gpkg_data_columns)
    places_back = gpd.read_file(written["centros_poblados.geojson"])
    assert len(places_back) == len(study["places"]) == 6513
    np.testing.assert_allclose(places_back[labels.t("population")].sum(), study["places"]["population"].sum())
    assert written["xlsx"].exists() and written["brechas_ugel.csv"].exists()
    assert not list(tmp_path.rglob("*.part*")), "no temporary file may remain"


def test_failed_write_leaves_no_file(study, tmp_path):
    from siting.errors import DataError

    no_crs = study["proposals"].set_crs(None, allow_override=True)
    with pytest.raises(DataError, match="no CRS"):
        exports.write_gpkg({"ok": study["cetpro"], "bad": no_crs}, tmp_path / "capas.gpkg")
    assert list(tmp_path.iterdir()) == []


# =========================================================================== html report
def test_html_report_region_and_ugel_es_en(study, tmp_path):
    from siting.report import html_report

    kw = dict(places=study["places"], by_ugel=study["by_ugel"], by_district=study["by_district"],
              proposals=study["proposals"], coverage=study["coverage"], notes=study["notes"],
              cetpro=study["cetpro"], map_href="mapa.html", ugels=["UGEL CELENDÍN", "UGEL JAEN"])
    written = html_report.write_reports(tmp_path / "es", **kw)
    region = written["region"].read_text(encoding="utf-8")
    total = f"{study['places']['population'].sum():,.0f}"  # es-PE: 12,345 (siting.report.numbers)
    beyond60 = study["places"].loc[study["places"]["minutes_nearest"] > 60, "population"].sum()
    assert total in region and f"{beyond60:,.0f}" in region
    for key in ("report.gaps_ugel", "report.gaps_district", "report.proposals", "report.coverage_chart",
                "share_within_60", "parent_name"):
        assert labels.t(key) in region
    for col in ("share_within_60", "new_target", "parent_name"):  # no raw snake_case header
        assert f"<th>{col}</th>" not in region
    assert region.count("data:image/png;base64,") >= 2
    assert 'href="report_ugel_celendin.html"' in region and 'href="mapa.html"' in region
    assert not re.findall(r'(?:src|href)="https?://', region)
    # the UGEL report lists only that UGEL's proposals
    celendin = written["UGEL CELENDÍN"].read_text(encoding="utf-8")
    jaen = written["UGEL JAEN"].read_text(encoding="utf-8")
    mine = study["proposals"][study["proposals"]["ugel"] == "UGEL JAEN"]
    others = study["proposals"][study["proposals"]["ugel"] != "UGEL JAEN"]
    assert len(mine) > 0
    for name in mine["name"]:
        assert f"<td>{name}</td>" in jaen
    for name in set(others["name"]) - set(mine["name"]):
        assert f"<td>{name}</td>" not in jaen
    assert 'href="report.html"' in celendin
    # CETPRO are counted per UGEL: the fixture's 15 CETPRO carry DRE UGEL names
    n_cel = int((study["cetpro"]["ugel"] == "UGEL CELENDÍN").sum())
    cards = re.findall(r'<div class="value">([^<]*)</div><div class="label">CETPRO</div>', celendin)
    assert cards == [str(n_cel)]
    en = html_report.write_reports(tmp_path / "en", lang="en", **kw)["region"].read_text(encoding="utf-8")
    assert labels.t("report.proposals", "en") in en and labels.t("report.proposals", "es") not in en
    assert '<html lang="en">' in en
