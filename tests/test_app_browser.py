"""``siting app`` in headless Debian Chromium (Playwright pointed at /usr/bin/chromium):
the page loads without JS errors, a what-if changes the table and the map, a click on a
place opens its panel, data text is rendered as text.  Screenshots: test-artifacts/app/."""
from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
sync_api = pytest.importorskip("playwright.sync_api")

from _app_support import REPO, scenario_copy  # noqa: E402

from siting.app.engine import Engine  # noqa: E402
from siting.app.server import BackgroundServer  # noqa: E402

ARTIFACTS = REPO / "test-artifacts" / "app"
XSS = "<script>alert(1)</script> {{7*7}} =cmd|' /C calc'!A0"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    engine = Engine(scenario_copy(tmp_path_factory.mktemp("app_browser")))
    wi = engine.start()
    p = wi.places
    far = p[p["minutes_nearest"] > 120].sort_values("population", ascending=False).iloc[0]
    with BackgroundServer(engine) as srv:
        row = {"name": XSS, "parent_cod_mod": wi.base.cetpro["cod_mod"].iloc[0], "ccpp_id": far["ccpp_id"]}
        r = httpx.post(srv.url + "/api/edits/extension_centres", timeout=120, json=row)
        assert r.status_code == 200, r.text
        srv.far = far  # type: ignore[attr-defined]
        yield srv


@pytest.fixture(scope="module")
def browser(chromium, tmp_path_factory):
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(chromium), args=ARGS)
        yield b
        b.close()


def _open(browser, url: str, *, bypass_csp: bool = False):
    page = browser.new_page(viewport={"width": 1500, "height": 950}, bypass_csp=bypass_csp)
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=90_000)
    return page, errors, dialogs


def test_page_what_if_and_place_panel(server, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page, errors, dialogs = _open(browser, server.url + "/")  # the page's own CSP is enforced here
    expect = sync_api.expect
    expect(page.locator("#proposals-table tbody tr")).to_have_count(10)
    expect(page.locator(".proposal-marker")).to_have_count(10)
    expect(page.locator("#caveat-list li").first).to_be_visible()  # caveats always visible
    page.screenshot(path=str(ARTIFACTS / "01_inicio.png"))
    page.fill("#n-sites", "4")
    page.click("#propose-btn")
    expect(page.locator("#proposals-table tbody tr")).to_have_count(4, timeout=60_000)
    expect(page.locator(".proposal-marker")).to_have_count(4)
    expect(page.locator("#whatif-summary")).to_contain_text("Con 4 sedes nuevas")
    page.screenshot(path=str(ARTIFACTS / "02_cuatro_sedes.png"))
    # click a proposal on the map: its panel opens, with what opening it alone would add
    page.locator(".proposal-marker").first.click()
    expect(page.locator("#place-name")).to_be_visible(timeout=30_000)
    expect(page.locator("#opening-alone li")).to_have_count(3)
    # the legs of its trip to the nearest centre: one line per part, and a sentence
    expect(page.locator("#legs li").first).to_be_visible()
    assert page.locator("#legs li").count() >= 1
    expect(page.locator("#legs-sentence")).to_contain_text(" min")
    assert "no está disponible" not in page.locator("#place-detail").inner_text()
    # the hovered proposal's tooltip is a readable box, not a one-word-wide column
    tip = page.locator(".leaflet-tooltip").first
    expect(tip).to_be_visible()
    tip_box = tip.bounding_box()
    assert tip_box is not None and tip_box["width"] >= 200 and tip_box["height"] < 0.6 * 950, tip_box
    page.screenshot(path=str(ARTIFACTS / "03_lugar_propuesta.png"))
    # the gaps table sorts by a header click
    page.click("#tab-gaps")
    first = page.locator("#gaps-table tbody tr").first.locator("td").first.inner_text()
    page.locator("#gaps-table th[data-key='district']").click()
    assert page.locator("#gaps-table tbody tr").first.locator("td").first.inner_text() != first
    page.select_option("#f-ugel", "UGEL SAN MIGUEL")
    provinces = set(page.locator("#gaps-table tbody tr td:nth-child(2)").all_inner_texts())
    assert provinces == {"SAN MIGUEL"}
    page.screenshot(path=str(ARTIFACTS / "04_brechas_san_miguel.png"))
    assert errors == [] and dialogs == []


def test_click_on_a_place_and_text_stays_text(server, browser):
    # bypass_csp only so the test may read the marker's pixel position with evaluate()
    page, errors, dialogs = _open(browser, server.url + "/", bypass_csp=True)
    cid = server.far["ccpp_id"]
    x, y = page.evaluate(f"(() => {{ const p = sitingMap.pointOf('{cid}'); return [p.x, p.y]; }})()")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    panel = page.locator("#place-detail")
    sync_api.expect(page.locator("#place-name")).to_contain_text(str(server.far["name"]), timeout=30_000)
    text = panel.inner_text()
    assert XSS in text  # the extension centre's name, literally
    assert "49" not in text.split(XSS)[0][-5:]
    assert page.locator("script").count() == 8  # only the page's own scripts
    page.screenshot(path=str(ARTIFACTS / "05_lugar_con_centro_editado.png"))
    page.click("#tab-edits")
    sync_api.expect(page.locator("#edits-extension_centres")).to_contain_text(XSS)
    sync_api.expect(page.locator("#replay-command")).to_contain_text("_ediciones.toml")
    page.screenshot(path=str(ARTIFACTS / "06_datos.png"))
    assert errors == [] and dialogs == []


def test_english_and_compare(server, browser):
    page, errors, dialogs = _open(browser, server.url + "/?lang=en")
    expect = sync_api.expect
    expect(page.locator("#tab-proposals")).to_have_text("Proposals")
    expect(page.locator("#caveats")).to_contain_text("Data caveats")
    page.fill("#scenario-name-input", "ten sites")
    page.click("#save-scenario-btn")
    expect(page.locator("#compare-table tbody tr")).to_have_count(1, timeout=60_000)
    page.click("#tab-proposals")
    page.fill("#n-sites", "5")
    page.click("#propose-btn")
    expect(page.locator("#proposals-table tbody tr")).to_have_count(5, timeout=60_000)
    page.fill("#scenario-name-input", "five sites")
    page.click("#save-scenario-btn")
    expect(page.locator("#compare-table tbody tr")).to_have_count(2, timeout=60_000)
    expect(page.locator("#panel-compare svg.chart path[data-series]")).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / "07_compare_en.png"))
    assert errors == [] and dialogs == []
