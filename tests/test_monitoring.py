"""Monitoring (``siting monitor``) and learning from outcomes, on the REAL data of UGEL San Marcos
with INVENTED registry fixtures at real centros poblados (tests/fixtures/registry):

- indicators, trends and low retention checked by hand on the small fixture;
- residence against the access model checked with networkx shortest paths on the same graph;
- the XLSX and HTML outputs agree with the CSV;
- the learned model on the learning fixture (invented rule: retention falls with altitude) finds
  altitude, beats the mean in grouped CV, and is refused with too few centres.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import siting
from siting import pipeline
from siting.cli import main
from siting.data import QualityReport, registry
from siting.monitoring import below_retention, indicators, trends
from siting.monitoring.indicators import residence_counts
from siting.suitability.outcomes import centre_outcomes, label_table, learn_from_outcomes

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "registry"
SMALL_EXT = FIX / "fixture_registry_extension_centres_INVENTED.csv"
SMALL_MON = FIX / "fixture_registry_monitoring_INVENTED.csv"
LEARN_EXT = FIX / "fixture_registry_learning_extension_centres_INVENTED.csv"
LEARN_MON = FIX / "fixture_registry_learning_monitoring_INVENTED.csv"


def _scenario_file(tmp: Path, tag: str, ext: Path, mon: Path) -> Path:
    text = (ROOT / "scenarios" / "cajamarca.toml").read_text(encoding="utf-8")
    text = text.replace("../data/raw/", f"{ROOT}/data/raw/")
    text = re.sub(r'ugels = \[.*?\]\n', 'ugels = ["UGEL SAN MARCOS"]\n', text, flags=re.S)
    text = text.replace('output_dir = "../runs/cajamarca"', f'output_dir = "{tmp / tag}"')
    text = text.replace('cache_dir = "../data/processed"', f'cache_dir = "{tmp / "cache"}"')
    text = text.replace('extension_centres = ""', f'extension_centres = "{ext}"\nmonitoring = "{mon}"')
    path = tmp / f"{tag}.toml"
    path.write_text(text, encoding="utf-8")
    return path


CENTRES = pd.DataFrame({"centre_id": ["FIX-CE-01", "FIX-CE-02"], "centre_name": ["uno", "dos"],
                        "centre_kind": ["extension", "extension"], "ugel": ["UGEL X", "UGEL X"],
                        "district": ["D", "D"]})


@pytest.fixture(scope="module")
def small_records():
    return registry.load_monitoring(SMALL_MON, QualityReport())


def test_indicators_by_hand(small_records):
    ind = indicators(small_records, CENTRES).set_index(["centre_id", "period"])
    a = ind.loc[("FIX-CE-01", "2024")]  # 10 + 4 women/men 15-29, 5 + 1 aged 30+, total empty -> 20
    assert a["enrolled_total"] == 20 and a["enrolled_women"] == 15 and a["enrolled_15_29"] == 14
    assert a["share_women"] == pytest.approx(15 / 20) and a["share_15_29"] == pytest.approx(14 / 20)
    assert (a["retention"], a["completion"], a["certification"], a["placement"]) == pytest.approx(
        (17 / 20, 14 / 20, 12 / 20, 5 / 20))
    assert a["enrolled_per_teacher"] == 10 and a["centre_name"] == "uno"
    b = ind.loc[("FIX-CE-02", "2024")]  # total 20 given, groups sum 16: shares over the groups
    assert b["share_women"] == pytest.approx(8 / 16) and b["retention"] == pytest.approx(25 / 20)
    unknown = ind.loc[("FIX-CE-99", "2025")]
    assert unknown["centre_kind"] == "unknown" and pd.isna(unknown["ugel"])
    # residence: two places within 60 min, one beyond, one code unknown to the travel model
    minutes = {"FIX-CE-01": pd.Series({"0610070035": 5.0, "0610070044": 75.0})}
    res = residence_counts(small_records.iloc[[0]], minutes, 60.0).iloc[0]
    assert res.tolist()[:4] == [3, 2, 1, 0] and res["share_within"] == pytest.approx(2 / 3)
    res = residence_counts(small_records.iloc[[0]], {"FIX-CE-01": pd.Series({"0610070035": 5.0})}, 60.0).iloc[0]
    assert res.tolist()[:4] == [3, 2, 0, 1]


def test_trends_and_low_retention(small_records):
    extra = small_records.iloc[[0]].assign(period="2026-07", enrolled_total=40.0, retained=20.0)
    ind = indicators(pd.concat([small_records, extra], ignore_index=True), CENTRES)
    tr = trends(ind).set_index("centre_id")
    one = tr.loc["FIX-CE-01"]
    assert (one["first_period"], one["last_period"], one["n_periods"]) == ("2024", "2026-07", 3)
    fit = stats.linregress([2024.0, 2025.0, 2026.5], [20.0, 25.0, 40.0])
    assert one["enrolment_slope_per_year"] == pytest.approx(fit.slope)
    assert one["retention_change"] == pytest.approx(0.5 - 0.85)
    assert np.isnan(tr.loc["FIX-CE-02", "enrolment_slope_per_year"])  # one period
    low = below_retention(ind, 0.7)
    assert low["centre_id"].tolist() == ["FIX-CE-01"] and low["retention"].tolist() == [0.5]
    assert below_retention(ind, 0.4).empty
    assert set(below_retention(indicators(small_records, CENTRES), 0.9)["centre_id"]) == {"FIX-CE-01"}


@pytest.fixture(scope="module")
def monitor_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("monitor")
    path = _scenario_file(tmp, "small", SMALL_EXT, SMALL_MON)
    assert main(["monitor", "--scenario", str(path), "--no-progress", "--min-retention", "0.9"]) == 0
    return path, tmp / "small" / "monitoreo"


def test_monitor_writes_xlsx_and_html(monitor_run):
    _, folder = monitor_run
    for name in ("monitoreo.xlsx", "monitoreo.html", "monitoring_indicators.csv", "monitoring_trends.csv",
                 "monitoring_low_retention.csv", "quality_report.md", "manifest.json"):
        assert (folder / name).stat().st_size > 0
    ind = pd.read_csv(folder / "monitoring_indicators.csv", dtype={"period": str})
    xl = pd.read_excel(folder / "monitoreo.xlsx", sheet_name=None)
    assert set(xl) == {"indicadores", "tendencias", "baja_permanencia"}
    assert "Permanencia (% de matriculados)" in xl["indicadores"].columns and len(xl["indicadores"]) == len(ind)
    low = pd.read_csv(folder / "monitoring_low_retention.csv")
    assert low["centre_id"].tolist() == ["FIX-CE-01"] and low["min_retention"].tolist() == [0.9]
    html = (folder / "monitoreo.html").read_text(encoding="utf-8")
    assert html.count('<h2 id="s') == 2  # UGEL SAN MARCOS + centres without a known UGEL (FIX-CE-99)
    assert html.count("data:image/png;base64,") == 2  # one small-multiples figure per UGEL section
    sm = ind[ind["ugel"] == "UGEL SAN MARCOS"]
    last = sm.sort_values("period_year").groupby("centre_id").tail(1)["enrolled_total"].sum()
    assert f'<div class="value">{last:.0f}</div>' in html  # the card is the table's figure
    assert "CE INVENTADO 1 (FIXTURE)" in html and "Permanencia (% de matriculados)" in html


def test_residence_against_networkx(monitor_run):
    path, folder = monitor_run
    ind = pd.read_csv(folder / "monitoring_indicators.csv", dtype={"period": str}).set_index(["centre_id", "period"])
    row = ind.loc[("FIX-CE-01", "2024")]
    from siting.data import load_study_data
    from siting.data.registry_use import centre_table
    from siting.network import graph as netgraph
    sc = siting.load_scenario(path)
    data = load_study_data(sc, progress=False)
    c = centre_table(data)
    c = c[c["centre_id"] == "FIX-CE-01"].reset_index(drop=True)
    g = netgraph.build_graph(data.terrain, data.roads, sc.speeds, {"places": data.places, "centres": c},
                             cache_dir=sc.run.cache_dir, max_connector_slope=sc.speeds.max_connector_slope,
                             road_connector_radius_m=sc.speeds.road_connector_radius_m or None)
    m = g.matrix.tocoo()
    G = nx.DiGraph()
    G.add_weighted_edges_from(zip(m.col.tolist(), m.row.tolist(), m.data.tolist()))  # reversed: towards the centre
    dist = nx.single_source_dijkstra_path_length(G, int(g.point_nodes["centres"][0]), weight="weight")
    pos = {cid: i for i, cid in enumerate(data.places["ccpp_id"].astype(str))}
    codes = ["0610070035", "0610070035", "0610070044"]
    within = sum(dist.get(int(g.point_nodes["places"][pos[k]]), np.inf) <= sc.access.main_threshold_min for k in codes)
    assert row["residents_recorded"] == 3 and row["residents_within"] == within
    assert row["residents_within"] + row["residents_beyond"] + row["residents_unknown"] == 3


def test_monitor_without_records_is_a_clear_error(tmp_path, capsys):
    path = _scenario_file(tmp_path, "none", SMALL_EXT, SMALL_MON)
    path.write_text(re.sub(r'\nmonitoring = "[^"]*"', "\n", path.read_text(encoding="utf-8")), encoding="utf-8")
    assert main(["monitor", "--scenario", str(path), "--no-progress"]) == 2
    assert "no monitoring records" in capsys.readouterr().err


# --------------------------------------------------------------------------- learning from outcomes


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("learn")
    sc = siting.load_scenario(_scenario_file(tmp, "learn", LEARN_EXT, LEARN_MON))
    sc.suitability.sensitivity_runs, sc.suitability.speed_samples = 20, 1
    return (sc, *pipeline.score(sc, progress=False))


def test_outcomes_pooled_by_hand():
    rec = registry.load_monitoring(LEARN_MON, QualityReport())
    out = centre_outcomes(rec, "retention").set_index("centre_id")
    raw = pd.read_csv(LEARN_MON, comment="#")
    one = raw[raw["centre_id"] == "FIX-L-01"]
    assert out.loc["FIX-L-01", "outcome"] == pytest.approx(one["retained"].sum() / one["enrolled_total"].sum())
    assert centre_outcomes(rec, "enrolment").set_index("centre_id").loc["FIX-L-01", "outcome"] == \
        pytest.approx(one["enrolled_total"].mean())


def test_learned_model_on_monitoring_fixture(learned):
    sc, data, graph, result, scored = learned
    m = scored.model
    assert m is not None and "learned suitability from monitoring (retention, 19 centres" in scored.model_message
    unc = m.metrics["uncertainty"]
    assert unc["r2"] > 0.3 and unc["mae"] < unc["mae_mean_predictor"]  # beats predicting the mean
    assert unc["r2_90"][0] < unc["r2"] < unc["r2_90"][1] and unc["fold_r2_sd"] > 0
    assert m.metrics["cv"].startswith("GroupKFold(5) by district")
    assert m.importances["feature"].iloc[0] == "altitude_m"  # the invented rule uses altitude only
    cand = pipeline.candidate_table(scored)
    assert {"score", "model_prediction"} <= set(cand.columns) and cand["model_prediction"].notna().all()
    assert (cand["rank"].to_numpy() == np.arange(1, len(cand) + 1)).all()  # still ranked by the weighted score
    saved = Path(sc.run.output_dir) / "modelo_aprendido" / "suitability_model.json"
    assert saved.exists() and '"uncertainty"' in saved.read_text(encoding="utf-8")


def test_labels_are_the_sites_before_opening(learned):
    sc, data, graph, result, scored = learned
    from siting.pipeline import host_premises
    labels = label_table(sc, data, graph, result.places, premises=host_premises(data), indicators=None)
    assert len(labels) == 19 and labels["district"].nunique() >= 5
    raw = pd.read_csv(ROOT / "data/raw/ccpp/inei_cpv2017_ccpp_poblacion_cajamarca.csv", dtype=str).set_index("CCPP_ID")
    np.testing.assert_allclose(labels["altitude_m"], raw.loc[labels["ccpp_id"], "ALTITUD"].astype(float))
    before = result.places.set_index("ccpp_id").loc[labels["ccpp_id"], "minutes_cetpro"].to_numpy()
    np.testing.assert_allclose(labels["time_to_nearest_facility"], before)  # CETPRO only: before the centres
    model, text = learn_from_outcomes(labels, min_centres=25)
    assert model is None and "19 centre(s)" in text and "at least 25" in text
    model, text = learn_from_outcomes(labels.iloc[:3], min_centres=12)
    assert model is None and "at least 12" in text
    enrol = label_table(dataclasses.replace(sc, registry=dataclasses.replace(sc.registry, outcome="enrolment")),
                        data, graph, result.places, premises=host_premises(data), indicators=None)
    assert enrol["outcome"].min() > 1 and labels["outcome"].max() <= 1  # registry.outcome changes the labels


# --------------------------------------------------------------------------- ground truth (backtest)


def test_backtest_leave_one_out_equals_the_ranking_without_the_centre(tmp_path):
    """One INVENTED centre at LA ASUNCION: removing it gives the ranking of the data without any
    centre, computed independently by `siting score` on a scenario without the registry."""
    analysis = FIX / "fixture_registry_analysis_extension_centres_INVENTED.csv"
    lines = analysis.read_text(encoding="utf-8").splitlines()
    one = tmp_path / "fixture_one_centre_INVENTED.csv"
    one.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")  # comment, header, FIX-A-01
    bt = _scenario_file(tmp_path, "bt", one, SMALL_MON)
    assert main(["backtest", "--scenario", str(bt), "--no-progress"]) == 0
    table = pd.read_csv(tmp_path / "bt" / "contraste" / "backtest.csv", dtype={"ccpp_id": str})
    assert table["centre_id"].tolist() == ["FIX-A-01"] and table["ccpp_id"].tolist() == ["0610070072"]
    base = _scenario_file(tmp_path, "base", one, SMALL_MON)
    text = base.read_text(encoding="utf-8")
    text = re.sub(r'extension_centres = "[^"]*"', 'extension_centres = ""', text)
    base.write_text(re.sub(r'\nmonitoring = "[^"]*"', "\n", text), encoding="utf-8")
    assert main(["score", "--scenario", str(base), "--no-progress"]) == 0
    cand = pd.read_csv(tmp_path / "base" / "candidates.csv", dtype={"ccpp_id": str})
    cand = cand[cand["ugel"] == "UGEL SAN MARCOS"].sort_values("score", ascending=False).reset_index(drop=True)
    expected = int(np.flatnonzero(cand["ccpp_id"] == "0610070072")[0]) + 1
    row = table.iloc[0]
    assert row["rank_in_ugel"] == expected and row["candidates_in_ugel"] == len(cand)
    assert row["rank_percentile"] == pytest.approx(100 * (1 - (expected - 1) / len(cand)))
    assert (tmp_path / "bt" / "contraste" / "contraste.xlsx").stat().st_size > 0


def test_backtest_without_centres_is_a_clear_error(tmp_path, capsys):
    path = _scenario_file(tmp_path, "none", SMALL_EXT, SMALL_MON)
    path.write_text(re.sub(r'extension_centres = "[^"]*"', 'extension_centres = ""', path.read_text(encoding="utf-8")),
                    encoding="utf-8")
    assert main(["backtest", "--scenario", str(path), "--no-progress"]) == 2
    assert "no active extension centres" in capsys.readouterr().err
