"""Issue #19: the ``maps`` option of the report stage and the faster exact siting, on one real
UGEL (San Marcos, shipped data; fixtures of tests/conftest.py).

* ``run.maps = "none"`` writes no static map and every report says so; ``"region"`` writes
  the region's maps only and the UGEL reports say where the others are;
* the exact solver's optimum (pool MILP + Lagrangian pricing, small-pool incumbent, HiGHS
  with few heuristics) equals the full reduced MILP without pricing and PySAL spopt (CBC)
  on real coverage matrices of the engine.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pulp
import pytest

from siting.report.labels import t


def _report(san_marcos, san_marcos_plan, tmp_path, maps: str):
    from siting.report import make_report
    s = san_marcos
    sc = dataclasses.replace(s.sc, run=dataclasses.replace(s.sc.run, maps=maps))
    return make_report(sc, s.data, s.gaps, san_marcos_plan.plan, folder=tmp_path / maps, raster=None,
                       progress=False)


def test_maps_none_region_all(san_marcos, san_marcos_plan, tmp_path):
    lang = san_marcos.sc.run.language
    none = _report(san_marcos, san_marcos_plan, tmp_path, "none")
    assert not list((tmp_path / "none").rglob("*.png")) and not (tmp_path / "none" / "mapas").exists()
    assert (tmp_path / "none" / "mapa.html").exists()  # the interactive map is still written
    note = t("maps.none_note", lang)
    pages = [p for k, p in none.files.items() if k.startswith("report_")]
    assert pages and all(note in p.read_text(encoding="utf-8") for p in pages)

    region = _report(san_marcos, san_marcos_plan, tmp_path, "region")
    drawn = sorted(p.name for p in (tmp_path / "region" / "mapas").iterdir())
    assert drawn == ["proposals_region.pdf", "proposals_region.png"]
    html = {k: p.read_text(encoding="utf-8") for k, p in region.files.items() if k.startswith("report_")}
    assert t("maps.region_note", lang) not in html["report_region"]
    assert "data:image/png;base64," in html["report_region"]
    assert all(t("maps.region_note", lang) in v for k, v in html.items() if k != "report_region")

    every = _report(san_marcos, san_marcos_plan, tmp_path, "all")
    names = {p.name for p in (tmp_path / "all" / "mapas").iterdir()}
    assert {"proposals_region.png", "proposals_ugel_san_marcos.png"} <= names
    text = "".join(p.read_text(encoding="utf-8") for k, p in every.files.items() if k.startswith("report_"))
    assert t("maps.none_note", lang) not in text and t("maps.region_note", lang) not in text
    # the tables and workbooks do not depend on the maps option
    same = [k for k in every.files.keys() & none.files.keys() if every.files[k].suffix not in {".html", ".png", ".pdf"}]
    assert same
    for k in same:
        assert every.files[k].read_bytes() == none.files[k].read_bytes(), k


def test_maps_option_is_checked():
    from pathlib import Path

    from siting.errors import ScenarioError
    from siting.scenario import load_scenario
    path = Path(__file__).resolve().parents[1] / "scenarios" / "cajamarca.toml"
    assert load_scenario(path, run__maps="region").run.maps == "region"
    with pytest.raises(ScenarioError):
        load_scenario(path, run__maps="some")


@pytest.mark.parametrize("threshold,n_sites", [(60.0, 3), (120.0, 3), (120.0, 6)])
def test_exact_equals_full_milp_and_spopt_on_real_coverage(san_marcos, threshold, n_sites):
    """Every real place of UGEL San Marcos as candidate and demand (engine minutes)."""
    from spopt.locate import MCLP

    from siting.allocation import MaximalCovering
    from siting.network.solve import coverage
    s = san_marcos
    nodes = s.graph.point_nodes["places"]
    cov = coverage(s.graph, nodes, nodes, threshold, progress=False)
    w = np.nan_to_num(s.gaps.places["pop_15_29"].to_numpy(float))
    m = MaximalCovering.from_coverage(cov, w, max_minutes=threshold, n_sites=n_sites)
    fast = m.solve("exact")
    full = m.exact(pricing=False)
    assert fast.status == full.status == "optimal" and fast.gap == pytest.approx(0.0, abs=1e-6)
    assert fast.objective == pytest.approx(full.objective, rel=1e-9)
    dense = np.full(cov.shape, threshold + 1.0)
    c = cov.tocoo()
    dense[c.row, c.col] = c.data
    mclp = MCLP.from_cost_matrix(dense.T, w, service_radius=threshold, p_facilities=n_sites)
    mclp = mclp.solve(pulp.PULP_CBC_CMD(msg=False))
    assert fast.objective == pytest.approx(mclp.problem.objective.value(), rel=1e-7)
    assert fast.objective == pytest.approx(w[(dense[fast.selected] <= threshold).any(axis=0)].sum())
