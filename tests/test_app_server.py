"""``siting app`` as a real server (uvicorn on a free port): two clients at once, the
password, the CLI's refusals, and the export of the run folder as a zip."""
from __future__ import annotations

import csv
import threading
import time
import zipfile

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from _app_support import direct_plan, scenario_copy  # noqa: E402

from siting.app.engine import Engine  # noqa: E402
from siting.app.server import BackgroundServer, is_loopback  # noqa: E402


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return scenario_copy(tmp_path_factory.mktemp("app_server"))


@pytest.fixture(scope="module")
def server(scenario):
    engine = Engine(scenario)
    engine.start()
    with BackgroundServer(engine) as srv:
        yield srv


def test_two_what_ifs_at_once_from_two_clients(server, scenario):
    asks = [{"allocation__n_sites": 4, "allocation__max_minutes": 90.0},
            {"allocation__n_sites": 7, "allocation__teacher_max_minutes": 120.0}]
    answers: dict[int, dict] = {}
    barrier = threading.Barrier(2)

    def ask(i: int) -> None:
        with httpx.Client(base_url=server.url, timeout=120) as client:  # one connection per client
            barrier.wait()
            answers[i] = client.post("/api/propose", json=asks[i]).json()

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=180)
    for i, overrides in enumerate(asks):
        plan = direct_plan(scenario, **overrides)[-1]
        got = answers[i]
        assert [p["ccpp_id"] for p in got["proposals"]] == plan.proposals["ccpp_id"].astype(str).tolist()
        assert got["objective"] == pytest.approx(plan.solution.objective)
        assert got["overrides"] == overrides


def test_password_is_required_on_every_request(scenario):
    engine = Engine(scenario)
    engine.start()
    with BackgroundServer(engine, password="s3creto") as srv:
        assert httpx.get(srv.url + "/api/health").status_code == 401
        assert httpx.get(srv.url + "/").status_code == 401
        assert httpx.get(srv.url + "/vendor/leaflet.js").status_code == 401
        assert httpx.get(srv.url + "/api/health", auth=("x", "wrong")).status_code == 401
        ok = httpx.get(srv.url + "/api/health", auth=("planificador", "s3creto"))
        assert ok.status_code == 200 and ok.json()["status"] == "ok"


def test_cli_refuses_other_hosts_without_password_and_busy_ports(capsys, monkeypatch, scenario):
    from siting.cli import main
    monkeypatch.delenv("SITING_APP_PASSWORD", raising=False)
    assert main(["app", "--scenario", str(scenario), "--host", "0.0.0.0", "--no-browser"]) == 2
    assert "needs a password" in capsys.readouterr().err
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["app", "--scenario", str(scenario), "--port", str(port), "--no-browser"]) == 2
    assert "--port" in capsys.readouterr().err


@pytest.mark.slow
def test_export_is_the_run_folder_of_siting_run(server, tmp_path):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        want = client.post("/api/propose", json={"allocation__n_sites": 3}).json()
        job = client.post("/api/export", json={"overrides": {"allocation__n_sites": 3}}).json()
        assert client.post("/api/export", json={"overrides": {"allocation__n_sites": 3}}).json()["job"] == job["job"]
        t0 = time.time()
        while job["state"] in ("queued", "running") and time.time() - t0 < 600:
            time.sleep(1)
            job = client.get(f"/api/export/{job['job']}").json()
        assert job["state"] == "done", job
        r = client.get(job["zip"])
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    path = tmp_path / "run.zip"
    path.write_bytes(r.content)
    with zipfile.ZipFile(path) as z:
        names = {n.split("/", 1)[1] for n in z.namelist() if "/" in n}
        for expected in ("scenario.toml", "manifest.json", "proposals.csv", "propuestas.xlsx", "propuestas.gpkg",
                         "report.html", "mapa.html", "places.csv", "quality_report.md"):
            assert expected in names
        assert any(n.startswith("mapas/") and n.endswith(".png") for n in names)
        root = z.namelist()[0].split("/")[0]
        proposals = z.read(f"{root}/proposals.csv").decode("utf-8-sig").splitlines()
        scenario_text = z.read(f"{root}/scenario.toml").decode("utf-8")
    ids = [row["ccpp_id"] for row in csv.DictReader(proposals)]
    assert ids == [p["ccpp_id"] for p in want["proposals"]]
    assert "n_sites = 3" in scenario_text
