"""Shared pytest fixtures."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw from a fixed seed (derived from each test's name): the same examples on
# every run and machine, so a failure is reproducible and CI is never red by chance.  Run
# `pytest --hypothesis-profile=explore` (or HYPOTHESIS_PROFILE=explore) to search new examples.
settings.register_profile("siting", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", derandomize=False, deadline=None, print_blob=True, max_examples=500)
settings.load_profile(__import__("os").environ.get("HYPOTHESIS_PROFILE", "siting"))

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Path of headless Chromium (Debian package ``chromium``); skips when absent."""
    path = CHROMIUM if CHROMIUM.exists() else (Path(p) if (p := shutil.which("chromium")) else None)
    if path is None:
        pytest.skip("headless Chromium is not installed (/usr/bin/chromium): apt-get install chromium; CI installs it")
    return path


@pytest.fixture(scope="module")
def sc():
    """The shipped 8-UGEL Cajamarca scenario."""
    import siting
    return siting.load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "cajamarca.toml")


@pytest.fixture(scope="module")
def districts(sc):
    """Real INEI district polygons of the department, with UGELs."""
    from siting.data import boundaries
    from siting.data.quality import QualityReport
    return boundaries.load_districts(sc, QualityReport())


SAN_MARCOS = "UGEL SAN MARCOS"  # 307 real places, one CETPRO with teachers (ICHOCAN): small and complete


@pytest.fixture(scope="session")
def san_marcos(tmp_path_factory):
    """The shipped scenario on one real UGEL (San Marcos), 3 sites and 20 Monte Carlo runs,
    with its data, graph and access (outputs and graph cache in a temp folder)."""
    import dataclasses

    import siting
    tmp = tmp_path_factory.mktemp("san_marcos")
    sc = siting.load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "cajamarca.toml",
                              study_area__ugels=[SAN_MARCOS], allocation__n_sites=3,
                              suitability__sensitivity_runs=20, run__output_dir=str(tmp / "run"),
                              run__cache_dir=str(tmp / "cache"))
    data = siting.load_data(sc, progress=False)
    graph = siting.build_graph(sc, data)
    gaps = siting.compute_access(sc, data, graph)
    return dataclasses.make_dataclass("SanMarcos", ["sc", "data", "graph", "gaps", "tmp"])(sc, data, graph, gaps, tmp)


@pytest.fixture(scope="session")
def san_marcos_plan(san_marcos):
    """Scores and proposals of :func:`san_marcos` (each stage called with the previous results)."""
    import dataclasses

    import siting
    s = san_marcos
    scores = siting.score_candidates(s.sc, s.data, s.graph, s.gaps, progress=False)
    plan = siting.propose_sites(s.sc, s.data, s.gaps, scores)
    return dataclasses.make_dataclass("SanMarcosPlan", ["scores", "plan"])(scores, plan)


def crop_national_inputs(tmp: Path, box: tuple[float, float, float, float]) -> Path:
    """The real national inputs cut to the lon/lat ``box`` in ``tmp``: ``dem_crop.tif`` (a
    window of the Peru DEM), ``ccpp_crop.parquet`` and ``capitals_crop.csv``."""
    import pandas as pd
    import rasterio
    from rasterio.windows import from_bounds
    root = Path(__file__).resolve().parents[1]
    with rasterio.open(root / "data/raw/dem/geodata_elevation30s_peru.tif") as src:
        win = from_bounds(*box, transform=src.transform).round_offsets().round_lengths()
        prof = src.profile | {"width": int(win.width), "height": int(win.height),
                              "transform": src.window_transform(win)}
        data = src.read(1, window=win)
    with rasterio.open(tmp / "dem_crop.tif", "w", **prof) as dst:
        dst.write(data, 1)
    ccpp = pd.read_parquet(root / "data/raw/ccpp/ubigeo_ccpp_peru.parquet")
    ccpp[ccpp.longitude.between(box[0], box[2]) & ccpp.latitude.between(box[1], box[3])].to_parquet(
        tmp / "ccpp_crop.parquet")
    caps = pd.read_csv(root / "data/raw/population/inei_directorio_municipalidades_2025_capitales.csv", dtype=str)
    lon, lat = caps.longitud.astype(float), caps.latitud.astype(float)
    caps[lon.between(box[0], box[2]) & lat.between(box[1], box[3])].to_csv(tmp / "capitals_crop.csv", index=False)
    return tmp
