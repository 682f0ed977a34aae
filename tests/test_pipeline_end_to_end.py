"""The whole chain from the command line on one real UGEL of the shipped data (San Marcos):
every output the issues promise is there, complete, and in the requested language."""
from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from siting.cli import main

ROOT = Path(__file__).resolve().parents[1]
UGEL = "UGEL SAN MARCOS"


def _scenario(tmp: Path, lang: str) -> Path:
    text = (ROOT / "scenarios" / "cajamarca.toml").read_text(encoding="utf-8")
    text = text.replace("../data/raw/", f"{ROOT}/data/raw/")
    text = re.sub(r'ugels = \[.*?\]\n', f'ugels = ["{UGEL}"]\n', text, flags=re.S)
    text = text.replace('output_dir = "../runs/cajamarca"', f'output_dir = "{tmp / "run"}"')
    text = text.replace('cache_dir = "../data/processed"', f'cache_dir = "{tmp / "cache"}"')
    text = text.replace('name = "cajamarca-8ugel"', 'name = "e2e-san-marcos"')
    text = text.replace("n_sites = 10", "n_sites = 3").replace('language = "es"', f'language = "{lang}"')
    path = tmp / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run_es(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e_es")
    assert main(["run", "--scenario", str(_scenario(tmp, "es")), "--no-progress"]) == 0
    return tmp / "run"


def test_every_promised_output_exists(run_es):
    expected = ["scenario.toml", "manifest.json", "quality_report.csv", "quality_report.md", "places.csv",
                "access_by_district.csv", "access_by_ugel.csv", "acceso.xlsx", "acceso.gpkg",
                "travel_time_minutes.tif", "candidates.csv", "excluded_places.csv", "candidatos.gpkg",
                "proposals.csv", "propuestas.xlsx", "propuestas.gpkg", "coverage_curve.csv", "coverage_curve.png",
                "before_after.csv", "mapa.html", "report.html", "report_ugel_san_marcos.html",
                "mapas/travel_time_region.png", "mapas/proposals_region.pdf"]
    missing = [f for f in expected if not (run_es / f).is_file() or (run_es / f).stat().st_size == 0]
    assert not missing
    assert not list(run_es.rglob("*.part*"))


def test_tables_are_consistent(run_es):
    places = pd.read_csv(run_es / "places.csv", dtype={"ccpp_id": str, "ubigeo": str})
    assert {"ccpp_id", "name", "ubigeo", "ugel", "population", "minutes_nearest", "nearest_facility", "band"} \
        <= set(places.columns)
    assert set(places["ugel"]) == {UGEL} and places["ccpp_id"].str.fullmatch(r"\d{10}").all()
    by_ugel = pd.read_csv(run_es / "access_by_ugel.csv")
    assert by_ugel["population"].sum() == pytest.approx(places["population"].sum(), rel=1e-9)
    beyond = places.loc[places["minutes_nearest"] > 60, "population"].sum()
    assert by_ugel["population_beyond_60"].sum() == pytest.approx(beyond, rel=1e-6, abs=1)
    prop = pd.read_csv(run_es / "proposals.csv", dtype={"ccpp_id": str, "parent_cod_mod": str})
    assert list(prop["rank"]) == [1, 2, 3]
    assert {"ccpp_id", "name", "district", "province", "ugel", "parent_cod_mod", "parent_name", "teacher_minutes",
            "new_population", "new_women", "new_target", "minutes_saved", "score", "top_criteria"} <= set(prop.columns)
    assert (prop["teacher_minutes"] <= 180).all() and prop["new_target"].is_monotonic_decreasing
    cand = pd.read_csv(run_es / "candidates.csv", dtype={"ccpp_id": str})
    assert set(prop["ccpp_id"]) <= set(cand["ccpp_id"])
    excluded = pd.read_csv(run_es / "excluded_places.csv", dtype={"ccpp_id": str})
    assert len(cand) + len(excluded) == len(places) and excluded["reason"].notna().all()
    layers = gpd.list_layers(run_es / "propuestas.gpkg")["name"].tolist()
    assert layers == ["propuestas", "layer_styles"]


def test_manifest_records_inputs_stages_and_outputs(run_es):
    m = json.loads((run_es / "manifest.json").read_text())
    assert set(m["stages"]) >= {"data", "graph", "access", "score", "propose", "report"}
    assert all(len(v["sha256"]) == 64 for v in m["inputs"].values())
    assert m["outputs"]["proposals.csv"] and "finished_utc" in m
    assert m["name"] == "e2e-san-marcos"  # run.name names the run in its manifest


def test_spanish_by_default_and_english_on_request(run_es, tmp_path):
    es = pd.read_excel(run_es / "propuestas.xlsx", sheet_name=None)
    assert list(es)[:2] == ["Léame", "Propuestas"] and "Código CCPP" in es["Propuestas"].columns
    assert "Advertencias sobre los datos" in (run_es / "report.html").read_text(encoding="utf-8")
    assert main(["propose", "--scenario", str(_scenario(tmp_path, "es")), "--lang", "en", "--no-progress"]) == 0
    en = pd.read_excel(tmp_path / "run" / "propuestas.xlsx", sheet_name=None)
    assert list(en)[:2] == ["Read me", "Proposals"] and "Populated place code" in en["Proposals"].columns
