"""GeoPackage and rasters for QGIS, on one real UGEL of the shipped data (San Marcos):
snake_case fields with label aliases (gpkg_data_columns), layer titles and descriptions
(gpkg_contents), QGIS styles (layer_styles, QML parsed as XML), district / UGEL / isochrone
layers checked against independent counts, the travel-time raster as a COG with a band
description and a .qml sidecar, byte-identical files; and, where PyQGIS is installed,
QGIS itself opening every layer styled (tests/qgis_probe.py)."""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio

import siting
from siting import pipeline
from siting.access import place_table, study_area_minutes
from siting.network.raster import travel_time_raster
from siting.report import exports, labels, layers, qgis

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
UGEL = "UGEL SAN MARCOS"


@pytest.fixture(scope="module")
def access(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("qgis")
    sc = siting.load_scenario(ROOT / "scenarios" / "cajamarca.toml", study_area__ugels=[UGEL],
                              run__output_dir=str(tmp / "run"), run__cache_dir=str(tmp / "cache"))
    done = pipeline.access(sc, progress=False)
    data, graph, result = done.data, done.graph, done.access
    minutes = study_area_minutes(graph, result.node_minutes, data.study_area)
    gl = {"centros_poblados": place_table(result, sc),
          "distritos": layers.district_layer(data.districts, result.by_district),
          "ugel": layers.ugel_layer(data.districts, result.by_ugel),
          "isocronas": layers.isochrone_layer(graph, minutes, sc.access.thresholds_min)}
    gpkg = exports.write_gpkg(gl, tmp / "capas.gpkg")
    tif = travel_time_raster(graph, minutes, tmp / "travel_time_minutes.tif", blocksize=32)
    qml = qgis.write_raster_style(tif, sc.access.thresholds_min)
    return {"sc": sc, "data": data, "graph": graph, "result": result, "minutes": minutes, "layers": gl,
            "gpkg": gpkg, "tif": tif, "qml": qml, "tmp": tmp}


def _sql(path: Path, query: str, *args):
    con = sqlite3.connect(path)
    try:
        return con.execute(query, args).fetchall()
    finally:
        con.close()


def _parse(qml: str) -> ET.Element:
    assert qml.startswith("<!DOCTYPE qgis")
    return ET.fromstring(qml)  # raises on malformed XML


# =========================================================================== GeoPackage structure
def test_fields_are_codes_with_label_aliases(access):
    gpkg, gl = access["gpkg"], access["layers"]
    listed = [n for n, _ in pyogrio.list_layers(gpkg)]
    assert listed == ["centros_poblados", "distritos", "ugel", "isocronas", "layer_styles"]
    for name, gdf in gl.items():
        info = pyogrio.read_info(gpkg, layer=name)
        codes = [c for c in gdf.columns if c != "geometry"]
        assert list(info["fields"]) == codes, name
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c) for c in codes)
        assert info["crs"] == "EPSG:4326"
        rows = dict(_sql(gpkg, "SELECT column_name, name FROM gpkg_data_columns WHERE table_name = ?", name))
        assert rows == {c: labels.t(c) for c in codes}, name
    assert _sql(gpkg, "SELECT extension_name, scope FROM gpkg_extensions WHERE table_name = 'gpkg_data_columns'") \
        == [("gpkg_schema", "read-write")]
    assert _sql(gpkg, "SELECT name, title FROM gpkg_data_columns WHERE column_name = 'pop_15_29_beyond_60' "
                      "AND table_name = 'distritos'") == [("Población 15-29 años a más de 60 min",) * 2]


def test_layer_titles_and_descriptions(access):
    rows = {r[0]: r[1:] for r in _sql(access["gpkg"], "SELECT table_name, data_type, identifier, description "
                                                      "FROM gpkg_contents")}
    assert rows["centros_poblados"][:2] == ("features", labels.t("layer.places"))
    assert rows["distritos"][1:] == (labels.t("layer.districts"), labels.t("layerdesc.districts"))
    assert "INEI" in rows["centros_poblados"][2] and rows["isocronas"][2] == labels.t("layerdesc.isochrones")
    assert rows["layer_styles"][0] == "attributes"


def test_layer_styles_table_as_qgis_reads_it(access):
    cols = [r[1] for r in _sql(access["gpkg"], "PRAGMA table_info(layer_styles)")]
    assert cols == ["id", "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
                    "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"]
    rows = _sql(access["gpkg"], "SELECT f_table_name, f_geometry_column, styleName, styleQML, useAsDefault, "
                                "update_time FROM layer_styles")
    by_layer: dict[str, list] = {}
    for table, geom, name, qml, default, when in rows:
        by_layer.setdefault(table, []).append(default)
        assert geom == "geom" and name and when == qgis.STYLE_TIME
        root = _parse(qml)
        assert root.tag == "qgis" and root.find("renderer-v2") is not None
        aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
        assert aliases.get("name", labels.t("name")) == labels.t("name")
    assert sorted(by_layer) == ["centros_poblados", "distritos", "isocronas", "ugel"]
    assert all(d.count(1) == 1 for d in by_layer.values())  # exactly one default style per layer
    assert len(by_layer["distritos"]) == 2  # share within the threshold (default) and people beyond


def test_places_style_uses_the_web_map_colours_and_population_sizes(access):
    qml = _sql(access["gpkg"], "SELECT styleQML FROM layer_styles WHERE f_table_name = 'centros_poblados'")[0][0]
    root = _parse(qml)
    r = root.find("renderer-v2")
    assert r.get("type") == "categorizedSymbol" and r.get("attr") == "band"
    cats = [(c.get("value"), c.get("label"), int(c.get("symbol"))) for c in r.iter("category")]
    assert [c[0] for c in cats] == ["<=30", "30-60", "60-120", ">120", "sin acceso"]
    assert [c[1] for c in cats] == ["≤ 30 min", "30–60 min", "60–120 min", "> 120 min", "Sin acceso"]
    colours = {}
    for sym in r.find("symbols"):
        colour = next(o.get("value") for o in sym.iter("Option") if o.get("name") == "color")
        colours[int(sym.get("name"))] = "#" + "".join(f"{int(v):02x}" for v in colour.split(",")[:3])
    assert [colours[i] for _, _, i in cats] == [labels.BAND_COLOURS[b] for b in labels.BANDS]
    top = access["layers"]["centros_poblados"]["population"].max()
    expr = [o.get("value") for o in r.iter("Option") if o.get("name") == "expression"]
    assert expr and all(e == f'1.06 + 5.29 * sqrt(max(coalesce("population", 0), 0) / {top:.6g})' for e in expr)
    assert root.get("labelsEnabled") == "1" and root.find("labeling/settings/rendering").get("scaleMax") == "50000"


def test_proposals_style_numbers_and_labels(tmp_path):
    prop = gpd.GeoDataFrame({"rank": [1, 2], "name": ["LA ASUNCION", "TINYAYOC"], "parent_name": ["ICHOCAN"] * 2},
                            geometry=gpd.points_from_xy([-78.2, -78.1], [-7.4, -7.3]), crs=4326)
    (style,) = qgis.default_styles("propuestas", prop)
    root = _parse(style.qml)
    layers_ = [layer.get("class") for layer in root.iter("layer")]
    assert layers_ == ["SimpleMarker", "FontMarker"]
    chars = [o.get("value") for o in root.iter("Option") if o.get("name") == "expression"]
    assert chars == ['to_string("rank")']
    assert root.find("labeling/settings/text-style").get("fieldName") == '"name"'


def test_choropleth_of_districts_and_ugels(access):
    for name, field in (("distritos", "share_pop_15_29_within_60"), ("ugel", "share_pop_15_29_within_60")):
        default = _sql(access["gpkg"], "SELECT styleQML FROM layer_styles WHERE f_table_name = ? AND useAsDefault",
                       name)[0][0]
        r = _parse(default).find("renderer-v2")
        assert (r.get("type"), r.get("attr"), r.get("graduatedMethod")) == ("graduatedSymbol", field, "GraduatedColor")
        ranges = [(float(x.get("lower")), float(x.get("upper")), x.get("label")) for x in r.iter("range")]
        assert ranges[0] == (0.0, 0.2, "0.0% – 20.0%") and ranges[-1][1] == 1.0 and len(ranges) == 5


# =========================================================================== layers against independent counts
def test_district_and_ugel_layers_carry_the_tables(access):
    d, u, res = access["layers"]["distritos"], access["layers"]["ugel"], access["result"]
    assert len(d) == len(res.by_district) == 7 and d.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    np.testing.assert_allclose(d.sort_values("ubigeo")["pop_15_29_beyond_60"],
                               res.by_district.sort_values("ubigeo")["pop_15_29_beyond_60"])
    assert list(u["ugel"]) == [UGEL]
    area = lambda g: g.to_crs("EPSG:32717").area.sum()  # noqa: E731
    assert area(u) == pytest.approx(area(d), rel=1e-6)  # the UGEL is the union of its districts
    places = access["layers"]["centros_poblados"]
    inside = places.within(u.geometry.iloc[0]).mean()
    assert inside > 0.95, inside  # (a few census points lie outside their district polygon: quality report)


def test_isochrones_match_the_cell_count_of_the_raster(access):
    iso = access["layers"]["isocronas"]
    assert list(iso["threshold_min"]) == [30.0, 60.0, 120.0]
    assert iso["area_km2"].is_monotonic_increasing
    with rasterio.open(access["tif"]) as src:
        grid = src.read(1, masked=True).filled(np.inf)
        cell_km2 = abs(src.transform.a * src.transform.e) / 1e6
    for t, a in zip(iso["threshold_min"], iso["area_km2"]):
        assert a == pytest.approx((grid <= t).sum() * cell_km2, rel=1e-9), t
    # nested: each isochrone covers the smaller ones
    g = iso.to_crs("EPSG:32717").geometry.tolist()
    assert g[0].difference(g[1]).area < 1e-3 and g[1].difference(g[2]).area < 1e-3


# =========================================================================== raster
def test_travel_time_raster_is_a_cog_with_description(access):
    with rasterio.open(access["tif"]) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.block_shapes == [(32, 32)] and src.overviews(1), "tiled with internal overviews"
        assert src.descriptions == ("travel time to the nearest facility (minutes)",)
        assert src.tags()["units"] == "minutes" and src.nodata == -9999.0 and src.dtypes == ("float32",)
        data = src.read(1)
    expect = access["graph"].cell_grid(np.asarray(access["minutes"], dtype=float))
    np.testing.assert_array_equal(data, np.where(np.isfinite(expect), expect, -9999.0).astype(np.float32))


def test_raster_sidecar_style(access):
    assert access["qml"] == access["tif"].with_suffix(".qml")
    root = _parse(access["qml"].read_text(encoding="utf-8"))
    ramp = root.find("pipe/rasterrenderer/rastershader/colorrampshader")
    assert root.find("pipe/rasterrenderer").get("type") == "singlebandpseudocolor"
    assert ramp.get("colorRampType") == "DISCRETE"
    items = [(i.get("value"), i.get("label"), i.get("color")) for i in ramp.iter("item")]
    assert items == [("30", "≤ 30 min", "#1a9641"), ("60", "30–60 min", "#a6d96a"),
                     ("120", "60–120 min", "#fdae61"), ("inf", "> 120 min", "#d7191c")]


def test_other_thresholds_sample_the_ramp():
    root = _parse(qgis.raster_style([15, 45], "en"))
    labels_ = [i.get("label") for i in root.iter("item")]
    assert labels_ == ["≤ 15 min", "15–45 min", "> 45 min"]


# =========================================================================== determinism and languages
def test_geopackage_and_raster_are_byte_identical(access, tmp_path):
    again = exports.write_gpkg(access["layers"], tmp_path / "capas.gpkg")
    assert again.read_bytes() == access["gpkg"].read_bytes()
    tif = travel_time_raster(access["graph"], access["minutes"], tmp_path / "t.tif", blocksize=32)
    assert tif.read_bytes() == access["tif"].read_bytes()


def test_english_aliases_and_bad_names(access, tmp_path):
    path = exports.write_gpkg({"centros_poblados": access["layers"]["centros_poblados"]}, tmp_path / "en.gpkg",
                              lang="en")
    assert dict(_sql(path, "SELECT column_name, name FROM gpkg_data_columns"))["population"] == "Population"
    qml = _sql(path, "SELECT styleQML FROM layer_styles")[0][0]
    assert "No access" in qml
    from siting.errors import DataError
    bad = access["layers"]["ugel"].rename(columns={"ugel": "UGEL name"})
    with pytest.raises(DataError, match="snake_case"):
        exports.write_gpkg({"ugel": bad}, tmp_path / "bad.gpkg")
    assert not (tmp_path / "bad.gpkg").exists()


# =========================================================================== QGIS itself
def _qgis_python() -> str | None:
    exe = shutil.which("python3", path="/usr/bin")
    if exe is None:
        return None
    ok = subprocess.run([exe, "-c", "import qgis.core"], capture_output=True).returncode == 0
    return exe if ok else None


@pytest.mark.skipif(_qgis_python() is None, reason="PyQGIS is not installed (apt-get install python3-qgis)")
def test_qgis_opens_every_layer_styled(access):
    gpkg, tif = access["gpkg"], access["tif"]
    ARTIFACTS.mkdir(exist_ok=True)
    png = ARTIFACTS / "qgis_san_marcos.png"
    specs = [f"{gpkg}|centros_poblados", f"{gpkg}|isocronas", f"{gpkg}|distritos", f"{gpkg}|ugel", str(tif)]
    proc = subprocess.run([_qgis_python(), str(ROOT / "tests" / "qgis_probe.py"), *specs, "--render", str(png)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    places = out[specs[0]]
    assert places["valid"] and places["renderer"] == "categorizedSymbol" and places["db_styles"] == 1
    assert [c[2] for c in places["categories"]] == [labels.BAND_COLOURS[b] for b in labels.BANDS]
    assert places["size_expression"].startswith("1.06 + 5.29 * sqrt(")
    assert places["aliases"]["pop_15_29"] == "Población 15-29 años" and places["label_expression"] == '"name"'
    assert places["label_min_scale"] == 50000  # names only when zoomed in beyond 1:50,000
    assert out[specs[1]]["renderer"] == "categorizedSymbol" and len(out[specs[1]]["categories"]) == 3
    for spec in specs[2:4]:
        assert out[spec]["renderer"] == "graduatedSymbol" and out[spec]["attr"] == "share_pop_15_29_within_60"
        assert out[spec]["db_styles"] == 2
    assert out[specs[4]]["renderer"] == "singlebandpseudocolor" and out[specs[4]]["ramp_type"] == 1  # discrete
    assert png.stat().st_size > 10_000


# =========================================================================== QGIS project
def test_project_has_relative_paths_and_styles(access, tmp_path):
    from siting.report.qgis_project import run_project
    folder = access["tmp"] / "run"
    qgz = run_project(folder)
    import zipfile
    with zipfile.ZipFile(qgz) as z:
        (name,) = z.namelist()
        text = z.read(name).decode("utf-8")
    root = ET.fromstring(text)
    sources = [ml.findtext("datasource") for ml in root.iter("maplayer")]
    assert sources == ["./acceso.gpkg|layername=centros_poblados", "./acceso.gpkg|layername=rutas",
                       "./acceso.gpkg|layername=vias", "./travel_time_minutes.tif"]
    assert str(folder) not in text and root.findtext("properties/Paths/Absolute") == "false"
    assert [ml.find("renderer-v2") is not None for ml in root.iter("maplayer")] == [True, True, True, False]
    assert root.find("projectlayers/maplayer[4]/pipe/rasterrenderer").get("type") == "singlebandpseudocolor"
    first = qgz.read_bytes()
    assert run_project(folder).read_bytes() == first  # identical inputs, identical bytes
    assert run_project(tmp_path) is None  # an empty folder: no project


@pytest.mark.skipif(_qgis_python() is None, reason="PyQGIS is not installed (apt-get install python3-qgis)")
def test_qgis_opens_the_project_from_a_moved_folder(access, tmp_path):
    from siting.report.qgis_project import run_project
    moved = tmp_path / "copia"
    shutil.copytree(access["tmp"] / "run", moved)
    qgz = run_project(moved)
    proc = subprocess.run([_qgis_python(), str(ROOT / "tests" / "qgis_probe.py"), str(qgz)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    project = json.loads(proc.stdout.strip().splitlines()[-1])[str(qgz)]
    assert project["read"] and project["title"] == labels.t("report.title")
    kinds = [(lay["name"], lay["valid"], lay["renderer"]) for lay in project["layers"]]
    assert kinds == [(labels.t("layer.places"), True, "categorizedSymbol"),
                     (labels.t("layer.travel_time"), True, "singlebandpseudocolor")]
    assert all(lay["source"].startswith(str(moved)) for lay in project["layers"])  # resolved in the copy
