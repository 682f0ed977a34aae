"""Data corrections in ``siting app``: saved as plain files beside the scenario, read by the
CLI, replayed by ``siting run`` to the same proposals; data/raw is never touched.

The tests of this module run in order on one session (each builds on the previous edits).
"""
from __future__ import annotations

import csv
import tomllib

import pytest

pytest.importorskip("fastapi")
from _app_support import REPO, scenario_copy  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from siting.app.engine import Engine  # noqa: E402
from siting.app.server import build_app  # noqa: E402

XSS = "<script>alert(1)</script> {{7*7}} =cmd|' /C calc'!A0"


@pytest.fixture(scope="module")
def raw_state():
    files = sorted(p for p in (REPO / "data" / "raw").rglob("*") if p.is_file())
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in files}


@pytest.fixture(scope="module")
def session(tmp_path_factory, raw_state):
    path = scenario_copy(tmp_path_factory.mktemp("app_edits"))
    engine = Engine(path)
    engine.start()
    return {"path": path, "engine": engine, "client": TestClient(build_app(engine), base_url="http://localhost")}


def _district_beyond(client, ubigeo: str, th: int = 60) -> float:
    return client.get("/api/gaps", params={"ubigeo": ubigeo}).json()["rows"][0][f"population_beyond_{th}"]


def test_extension_centre_lowers_the_gap_around_it(session):
    c, eng = session["client"], session["engine"]
    p = eng.start().places
    far = p[p["minutes_nearest"] > 120].sort_values("population", ascending=False).iloc[0]
    before_place = c.get(f"/api/place/{far['ccpp_id']}").json()
    before_gap = _district_beyond(c, far["ubigeo"])
    parent = eng.start().base.cetpro["cod_mod"].iloc[0]
    r = c.post("/api/edits/extension_centres", json={"name": XSS, "parent_cod_mod": parent, "ccpp_id": far["ccpp_id"],
                                                     "opening_date": "2024-04-01", "host_type": "ie"})
    assert r.status_code == 200, r.text
    saved = r.json()["saved"]
    assert saved["facility_id"] == "APP-CE-001"
    after_place = c.get(f"/api/place/{far['ccpp_id']}").json()
    assert before_place["minutes_nearest"] > 120 and after_place["minutes_nearest"] < 30
    assert after_place["nearest_facility"] == {"id": "APP-CE-001", "name": XSS, "kind": "extension"}
    assert _district_beyond(c, far["ubigeo"]) < before_gap
    # neighbours gain too: nobody is farther, and some other place of the district moves inside 60 min
    now = eng.start().places
    assert (now["minutes_nearest"].to_numpy() <= p["minutes_nearest"].to_numpy() + 1e-9).all()
    moved = (p["minutes_nearest"] > 60) & (now["minutes_nearest"] <= 60) & (p["ccpp_id"] != far["ccpp_id"])
    assert moved.any()
    # the file is the contract's format, the scenario points at it, text kept as text
    with open(eng.edits_dir / "extension_centres.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows == [{**{k: "" for k in rows[0]}, **saved}]
    toml = tomllib.loads(eng.edits_path.read_text(encoding="utf-8"))
    assert toml["inputs"]["extension_centres"] == f"{eng.edits_dir.name}/extension_centres.csv"
    layer = c.get("/api/layers").json()["extension"]
    assert [e["name"] for e in layer] == [XSS]
    assert c.get("/api/meta").json()["scenario"]["edited"] is True


def test_bad_edit_is_refused_and_nothing_changes(session):
    c, eng = session["client"], session["engine"]
    files = {p: p.read_bytes() for p in eng.edits_dir.glob("*.csv")} | {eng.edits_path: eng.edits_path.read_bytes()}
    for kind, row, words in [
        ("extension_centres", {"name": "x", "parent_cod_mod": "1234567", "ccpp_id": "0611070001"}, "parent_cod_mod"),
        ("extension_centres", {"name": "x", "parent_cod_mod": "0695999", "ccpp_id": "9999999999"},
         "not a centro poblado"),
        ("extension_centres", {"name": "x", "parent_cod_mod": "0695999"}, "ccpp_id"),
        ("extension_centres", {"nombre_raro": "x"}, "unknown column"),
        ("petitions", {"ccpp_id": "0611070001", "date": "2024-13-45"}, "not a date"),
        ("nonsense", {}, "unknown kind"),
    ]:
        r = c.post(f"/api/edits/{kind}", json=row)
        assert r.status_code == 422 and words in r.json()["detail"], (kind, r.text)
    assert {p: p.read_bytes() for p in files} == files


def test_petition_is_ranked_and_raises_the_score_by_its_weight(session):
    c, eng = session["client"], session["engine"]
    wi = eng.start()
    cand = wi.candidates
    target = cand.iloc[40]
    before = float(target["score"])
    r = c.post("/api/edits/petitions", json={"ccpp_id": target["ccpp_id"], "organisation": XSS})
    assert r.status_code == 200, r.text
    res = c.post("/api/propose", json={}).json()
    pet = [p for p in res["petitions"] if p["ccpp_id"] == target["ccpp_id"]]
    assert pet and pet[0]["status"] in {"candidate", "chosen"} and pet[0]["suitability_rank"] >= 1
    after = eng.start().candidates.set_index("ccpp_id").loc[target["ccpp_id"]]
    w = eng.start().sc.suitability.weights
    # min-max normalised 0/1 criterion: the petitioned place gains exactly its normalised weight
    assert float(after["community_request"]) == 1.0
    assert float(after["score"]) - before == pytest.approx(w["community_request"] / sum(w.values()), abs=1e-9)
    assert c.get(f"/api/place/{target['ccpp_id']}").json()["petition"] is True


def test_tambo_is_written_in_the_programa_pais_format(session):
    c, eng = session["client"], session["engine"]
    wi = eng.start()
    code = str(wi.candidates.loc[wi.candidates["tambo"] == 0, "ccpp_id"].iloc[0])  # a candidate with no Tambo near
    place = wi.places[wi.places["ccpp_id"] == code].iloc[0]
    r = c.post("/api/edits/tambos", json={"TAMBO": "Tambo de prueba", "ccpp_id": code})
    assert r.status_code == 200, r.text
    header = (eng.edits_dir / "tambos.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == ["CODIGO_PLATAFORMA", "TAMBO", "UBIGEO", "LATITUD", "LONGITUD"]
    tambos = c.get("/api/layers").json()["tambos"]
    assert tambos == [{"tambo_code": "APP-TAMBO-001", "name": "Tambo de prueba",
                       "lon": round(place.geometry.x, 5), "lat": round(place.geometry.y, 5)}]
    cand = eng.start().candidates.set_index("ccpp_id")
    assert cand.loc[code, "tambo"] == 1  # a Tambo now stands within the host distance


def test_planner_exclusion_host_premises_and_missing_cetpro(session):
    c, eng = session["client"], session["engine"]
    first = c.post("/api/propose", json={}).json()["proposals"][0]["ccpp_id"]
    r = c.post("/api/edits/candidate_exclusions", json={"ccpp_id": first, "reason": "terreno en litigio"})
    assert r.status_code == 200, r.text
    assert first not in [p["ccpp_id"] for p in c.post("/api/propose", json={}).json()["proposals"]]
    excluded = c.get(f"/api/place/{first}").json()
    assert excluded["candidate"] is None and "excluido por la DRE/UGEL" in excluded["excluded"]["reasons"]
    # a place left out only for lack of host premises becomes a candidate with a registered premises
    ex = eng.start().excluded
    only = ex[ex["reason"] == "no_host_premises"].iloc[0]["ccpp_id"]
    r = c.post("/api/edits/host_premises", json={"name": "Local comunal", "kind": "municipalidad", "ccpp_id": only})
    assert r.status_code == 200 and r.json()["saved"]["premises_id"] == "APP-LOCAL-001", r.text
    assert c.get(f"/api/place/{only}").json()["candidate"] is not None
    # a CETPRO missing from the school base: the places around it are served
    p = eng.start().places
    far = p[p["minutes_nearest"] > 120].sort_values("population", ascending=False).iloc[0]
    r = c.post("/api/edits/additional_cetpro", json={"cod_mod": "", "name": "CETPRO comunal", "ccpp_id": far["ccpp_id"],
                                                     "teachers": "4", "enrolment": "60", "gestion": "publica"})
    assert r.status_code == 200 and r.json()["saved"]["cod_mod"] == "NEW-001", r.text
    place = c.get(f"/api/place/{far['ccpp_id']}").json()
    assert place["minutes_nearest"] < 30 and place["nearest_facility"]["id"] == "NEW-001"
    assert "NEW-001" in {x["cod_mod"] for x in c.get("/api/meta").json()["cetpro"]}


@pytest.mark.slow
def test_edits_persist_and_replay_with_siting_run(session, tmp_path, raw_state):
    from siting.cli import main
    eng = session["engine"]
    app_ids = [p["ccpp_id"] for p in session["client"].post("/api/propose", json={}).json()["proposals"]]
    # a new server on the same scenario resumes the session from the files
    again = Engine(session["path"])
    assert again.session_path == eng.edits_path
    assert again.start().proposals["ccpp_id"].astype(str).tolist() == app_ids
    out = tmp_path / "replay"
    assert main(["run", "--scenario", str(eng.edits_path), "--output", str(out), "--no-progress"]) == 0
    with open(out / "proposals.csv", encoding="utf-8-sig") as f:
        assert [r["ccpp_id"] for r in csv.DictReader(f)] == app_ids
    assert "APP-CE-001" in (out / "places.csv").read_text(encoding="utf-8-sig")  # the edited centre serves places
    after = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in raw_state}
    assert after == raw_state  # data/raw untouched


def test_deleting_the_edits_restores_the_scenario(session):
    c, eng = session["client"], session["engine"]
    assert c.delete("/api/edits/tambos/NOT-THERE").status_code == 404
    for kind in c.get("/api/edits").json()["kinds"]:
        for rid in dict.fromkeys(r[kind["id_column"]] for r in kind["rows"]):
            assert c.delete(f"/api/edits/{kind['kind']}/{rid}").status_code == 200, (kind["kind"], rid)
    assert not eng.edits_path.exists() and eng.session_path == session["path"]
    p = eng.start().places
    assert (p["minutes_nearest"] > 120).sum() > 0 and len(eng.start().base.extension) == 0
