"""``siting app`` JSON interface on the real shipped data (8 UGEL), checked against the
pipeline stages run directly and against scipy's Dijkstra on the travel graph."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from _app_support import minutes_mean, direct_plan, minutes_from, minutes_to, scenario_copy  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from siting.app.engine import Engine, tier_keys  # noqa: E402
from siting.app.server import build_app  # noqa: E402


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return scenario_copy(tmp_path_factory.mktemp("app_api"))


@pytest.fixture(scope="module")
def engine(scenario):
    e = Engine(scenario)
    e.start()
    return e


@pytest.fixture(scope="module")
def client(engine):
    return TestClient(build_app(engine), base_url="http://localhost")


@pytest.fixture(scope="module")
def direct5(scenario):
    return direct_plan(scenario, allocation__n_sites=5)


def test_health(client, direct5):
    r = client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["scenario"] == "cajamarca-8ugel"
    assert body["places"] == len(direct5[1].places) == 3296


def test_propose_two_n_match_the_pipeline(client, direct5, scenario):
    r5 = client.post("/api/propose", json={"allocation__n_sites": 5})
    r12 = client.post("/api/propose", json={"allocation__n_sites": 12})
    assert r5.status_code == r12.status_code == 200
    p5, p12 = r5.json(), r12.json()
    assert [p["rank"] for p in p5["proposals"]] == [1, 2, 3, 4, 5] and len(p12["proposals"]) == 12
    plan = direct5[-1]
    assert [p["ccpp_id"] for p in p5["proposals"]] == plan.proposals["ccpp_id"].astype(str).tolist()
    assert p5["objective"] == pytest.approx(plan.solution.objective)
    np.testing.assert_allclose([p["new_target"] for p in p5["proposals"]], plan.proposals["new_target"])
    assert [p["parent_cod_mod"] for p in p5["proposals"]] == plan.proposals["parent_cod_mod"].tolist()
    assert p12["objective"] > p5["objective"]  # more sites cover more
    for key in ("rank", "ccpp_id", "name", "parent_cod_mod", "new_target", "new_women", "reason", "share_top_n"):
        assert key in p5["proposals"][0]
    for key in ("objective", "bound", "gap", "seconds", "curve", "summary", "id"):
        assert key in p5
    # the rank stability of the app is the CLI's (same Monte Carlo): same share in the top N
    np.testing.assert_allclose([p["share_top_n"] for p in p5["proposals"]], plan.proposals["share_top_n"])
    # answered again from the cache: identical
    assert client.post("/api/propose", json={"allocation__n_sites": 5}).json()["proposals"] == p5["proposals"]


def test_threshold_and_weights_what_ifs_match_the_pipeline(client, scenario):
    overrides = {"allocation__max_minutes": 90.0, "allocation__n_sites": 6,
                 "suitability__weights": {"unserved_target": 0.5, "poverty": 0.3, "host_premises": 0.2}}
    got = client.post("/api/propose", json=overrides).json()
    plan = direct_plan(scenario, **overrides)[-1]
    assert [p["ccpp_id"] for p in got["proposals"]] == plan.proposals["ccpp_id"].astype(str).tolist()
    np.testing.assert_allclose([p["score"] for p in got["proposals"]], plan.proposals["score"])
    np.testing.assert_allclose([p["share_top_n"] for p in got["proposals"]], plan.proposals["share_top_n"])


def test_objective_selector_what_if_matches_the_stage(client, scenario):
    """allocation__objective = pmedian through the API is the stage's p-median plan (same limits),
    and it has the least mean minutes of the target group (what p-median minimises)."""
    got = client.post("/api/propose", json={"allocation__objective": "pmedian"}).json()
    plan = direct_plan(scenario, allocation__objective="pmedian")[-1]
    assert got["objective_kind"] == "pmedian" and plan.objective == "pmedian"
    assert [p["ccpp_id"] for p in got["proposals"]] == plan.proposals["ccpp_id"].astype(str).tolist()
    assert got["objective"] == pytest.approx(plan.solution.objective)
    mclp = client.post("/api/propose", json={}).json()
    assert mclp["objective_kind"] == "mclp"
    assert {p["ccpp_id"] for p in got["proposals"]} != {p["ccpp_id"] for p in mclp["proposals"]}
    assert got["measures"]["mean_minutes"] <= mclp["measures"]["mean_minutes"]
    assert mclp["measures"]["newly_covered"] >= got["measures"]["newly_covered"]  # mclp maximises this one
    assert mclp["measures"]["newly_covered"] == pytest.approx(mclp["objective"])
    meta = client.get("/api/meta").json()
    assert meta["choices"]["objective"] == ["mclp", "pmedian", "pcenter", "fair"]
    assert meta["controls"]["allocation__objective"] == "mclp"


def test_bad_input_is_422_with_the_cli_message(client, scenario, capsys):
    from siting.cli import main
    assert main(["propose", "--scenario", str(scenario), "--n", "-1"]) == 2
    cli_message = capsys.readouterr().err.strip().removeprefix("siting: error: ")
    r = client.post("/api/propose", json={"allocation__n_sites": -1})
    assert r.status_code == 422 and r.json()["detail"] == cli_message
    r = client.post("/api/propose", json={"allocation__bogus": 3})
    assert r.status_code == 422 and "unknown key 'allocation.bogus'" in r.json()["detail"]
    r = client.post("/api/propose", json={"allocation__n_sites": "ten"})
    assert r.status_code == 422 and "must be an integer" in r.json()["detail"]
    for bad in ([1, 2], {"n_sites": 3}, {"inputs__ccpp": "/etc/passwd"}):
        assert client.post("/api/propose", json=bad).status_code == 422
    assert client.get("/api/meta?lang=xx").status_code == 422


def test_place_query_against_dijkstra(client, engine):
    wi = engine.start()
    graph, T = wi.base.graph, wi.sc.allocation.max_minutes
    place_nodes = graph.point_nodes["places"]
    cand_pos = wi.base.places["ccpp_id"].astype(str).reset_index(drop=True)
    cand_rows = [int(np.flatnonzero(cand_pos == c)[0]) for c in wi.candidates["ccpp_id"].astype(str)]
    cand_nodes = place_nodes[cand_rows]
    # a proposed site: what opening it alone would add, and which CETPRO could run it
    site = wi.proposals["ccpp_id"].astype(str).iloc[0]
    r = client.get(f"/api/place/{site}")
    assert r.status_code == 200
    p = r.json()
    i = cand_rows[int(np.flatnonzero(wi.candidates["ccpp_id"].astype(str) == site)[0])]
    assert p["minutes_nearest"] == pytest.approx(wi.places["minutes_nearest"].iloc[i])
    to_site = minutes_mean(graph, place_nodes[i], limit=T)[place_nodes]  # access.direction = "mean"
    before = wi.places["minutes_nearest"].to_numpy(float)
    new = (to_site <= T) & ~(before <= T)
    g = wi.sc.population.target_group
    alone = p["candidate"]["opening_alone"]
    assert alone["places"] == int(new.sum())
    assert alone["population"] == pytest.approx(wi.places["population"].to_numpy(float)[new].sum())
    assert alone["target"] == pytest.approx(wi.places[f"pop_{g}"].to_numpy(float)[new].sum())
    assert alone["women"] == pytest.approx(wi.places["women"].to_numpy(float)[new].sum())
    tmax = wi.sc.allocation.teacher_max_minutes
    cet_t = minutes_mean(graph, place_nodes[i], limit=tmax)[graph.point_nodes["cetpro"]]
    assert {q["cod_mod"] for q in p["candidate"]["parents"]} == set(
        wi.base.cetpro["cod_mod"].astype(str).to_numpy()[cet_t <= tmax])
    assert p["candidate"]["proposal_rank"] == 1
    # the legs of its trip there add up to its minutes there, and are told in words
    there = float(wi.places["minutes_to_nearest"].iloc[i])
    assert sum(x["minutes"] for x in p["legs"]["parts"]) == pytest.approx(there, abs=0.05 + 1e-9)
    assert p["legs"]["description"] and p["legs"]["km"] > 0 and p["legs"]["km_road"] >= 0
    # an unserved place: the candidates that would serve it are those it reaches within T
    far = wi.places[(wi.places["minutes_nearest"] > 90)].index[0]
    q = client.get(f"/api/place/{wi.places['ccpp_id'].iloc[far]}").json()
    reach = minutes_mean(graph, place_nodes[far], limit=T)[cand_nodes]
    expected = set(wi.candidates["ccpp_id"].astype(str).to_numpy()[reach <= T])
    assert expected and len(expected) <= 25 and {s["ccpp_id"] for s in q["served_by"]} == expected
    assert q["minutes_walk_nearest"] >= q["minutes_nearest"]  # roads can only help
    assert client.get("/api/place/0000000000").status_code == 404
    assert client.get("/api/place/0611070001?what_if=nope").status_code == 404


def test_search_and_layers(client, engine):
    hits = client.get("/api/search", params={"q": "llapa"}).json()
    assert hits[0]["ccpp_id"] == "0611070001" and all("LLAPA" in h["name"] for h in hits)
    assert [h["ccpp_id"] for h in client.get("/api/search", params={"q": "0611070001"}).json()] == ["0611070001"]
    layers = client.get("/api/layers").json()
    assert len(layers["places"]["ccpp_id"]) == 3296 and len(layers["cetpro"]) == len(engine.start().base.cetpro)
    assert layers["roads"] and layers["districts"]


def test_gaps_table_adds_up_to_the_access_totals(client, engine):
    wi = engine.start()
    g = client.get("/api/gaps").json()
    beyond = wi.places["minutes_nearest"].to_numpy(float) > 60
    assert sum(r["population_beyond_60"] for r in g["rows"]) == pytest.approx(
        wi.places["population"].to_numpy(float)[beyond].sum(), rel=1e-9)
    assert sum(r["population_beyond_60"] for r in g["rows"]) == pytest.approx(243_443, abs=1)  # shipped 8 UGELs
    beyond = wi.places["minutes_nearest"].to_numpy(float) > 120
    assert g["total"]["women_beyond_120"] == pytest.approx(wi.places["women"].to_numpy(float)[beyond].sum())
    one = client.get("/api/gaps", params={"ugel": "UGEL SAN MIGUEL"}).json()
    assert one["rows"] and {r["ugel"] for r in one["rows"]} == {"UGEL SAN MIGUEL"}


def test_meta_languages_and_caveats(client):
    es, en = client.get("/api/meta").json(), client.get("/api/meta?lang=en").json()
    assert es["lang"] == "es" and en["lang"] == "en"
    assert any("centros de extensión" in c for c in es["caveats"])
    assert any("extension centres" in c for c in en["caveats"])
    assert es["controls"]["allocation__n_sites"] == 10 and {"auto", "exact", "greedy"} == set(es["choices"]["solver"])


def test_tier_keys_follow_what_each_stage_reads(scenario):
    from siting.scenario import load_scenario
    base = tier_keys(load_scenario(scenario))
    n = tier_keys(load_scenario(scenario, allocation__n_sites=3))
    solver = tier_keys(load_scenario(scenario, allocation__solver="greedy"))
    speeds = tier_keys(load_scenario(scenario, speeds__walk_kmh_max=5.0))
    assert n.data == base.data and n.access == base.access and n.score != base.score
    assert solver.score == base.score and solver.full != base.full
    assert speeds.data != base.data


def test_named_scenarios_compare(client):
    client.post("/api/scenarios", json={"name": "diez", "overrides": {}})
    book = client.post("/api/scenarios", json={"name": "cinco <b>", "overrides": {"allocation__n_sites": 5}}).json()
    rows = {r["name"]: r for r in book["scenarios"]}
    assert rows["cinco <b>"]["n_sites"] == 5 and rows["diez"]["n_sites"] == 10
    common = len(set(rows["diez"]["sites"]) & set(rows["cinco <b>"]["sites"]))
    i, j = book["names"].index("diez"), book["names"].index("cinco <b>")
    assert book["common"][i][j] == common and book["common"][i][i] == 10
    assert rows["diez"]["curve"][4] == pytest.approx([5, rows["cinco <b>"]["curve"][4][1]])  # same greedy curve
    assert client.post("/api/scenarios", json={"name": "x", "overrides": {"allocation__bogus": 1}}).status_code == 422
    assert client.delete("/api/scenarios/diez").status_code == 200
    assert client.delete("/api/scenarios/diez").status_code == 404


def test_host_and_origin_guards(client):
    assert client.get("/api/health", headers={"host": "evil.example"}).status_code == 403
    assert client.post("/api/propose", json={}, headers={"origin": "http://evil.example"}).status_code == 403
    r = client.get("/")
    assert r.status_code == 200 and "script-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/vendor/leaflet.js").status_code == 200  # vendored: no CDN


def test_coverage_memo_thresholds_exactly(engine):
    from siting.app.engine import CoverageMemo
    from siting.network import solve
    wi = engine.start()
    graph = wi.base.graph
    nodes = graph.point_nodes["places"]
    origins, targets = nodes[::40], nodes
    memo = CoverageMemo()
    with memo.installed(expand=1.2):
        got = [solve.coverage(graph, origins, targets, t, towards_origins=True) for t in (60.0, 51.0, 72.0, 30.0)]
    assert memo.misses == 1 and memo.hits == 3  # one Dijkstra pass at 72 min answers all four
    assert solve.coverage is memo._original  # uninstalled
    for t, m in zip((60.0, 51.0, 72.0, 30.0), got):
        ref = solve.coverage(graph, origins, targets, t, towards_origins=True)
        assert (m.indptr == ref.indptr).all() and (m.indices == ref.indices).all() and (m.data == ref.data).all()
