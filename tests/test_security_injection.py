"""Nothing in a data file runs: hostile centro poblado and CETPRO names through the whole
chain (``siting run``) on the REAL shipped data of one UGEL (San Marcos).

The only change to the real inputs: the NAMES of every San Marcos centro poblado in the
INEI file and of the San Marcos CETPRO in the DRE base are replaced by hostile strings
(template expressions, HTML/JS payloads, line separators, mathtext) - a copy written in
the test folder, marked FIXTURE in its file name.  Populations, codes and coordinates are
the real ones, so the run computes real results and the hostile names reach every output:
the map (tooltips, popups, search index, GeoJSON properties), the reports, the tables,
the quality report (the names now differ from the national list) and the print maps.
"""
from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from siting.cli import main

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
UGEL = "UGEL SAN MARCOS"
PROVINCE_CODE = "0610"  # San Marcos (UBIGEO 0610xx)

TEMPLATE = "ZZ{{7*7}}ZZ"  # evaluated by a template engine it would read ZZ49ZZ
PAYLOADS = [
    TEMPLATE,
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(2)</script>",
    "\"><svg onload=alert(3)>",
    "javascript:alert(4)",
    "line\u2028separator\u2029paragraph",
    "back\\'slash\\\";alert(5)//",
    "{% if 1 %}x{% endif %} ${alert(6)} `${alert(7)}`",
    "$\\frac{a}{b}$",
    "'-alert(8)-'",
    "<a href=\"javascript:alert(9)\">link</a>",
    "hasOwnProperty",
    "__proto__",
]


def hostile(i: int) -> str:
    """Payload ``i`` (cycled), numbered so that every place keeps a distinct name."""
    return f"{PAYLOADS[i % len(PAYLOADS)]} #{i}"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    ccpp = pd.read_csv(RAW / "ccpp" / "inei_cpv2017_ccpp_poblacion_cajamarca.csv", dtype=str, keep_default_na=False)
    sel = ccpp["UBIGEO"].str.startswith(PROVINCE_CODE)
    assert sel.sum() > 300
    ccpp.loc[sel, "CENTRO_POBLADO"] = [hostile(i) for i in range(int(sel.sum()))]
    ccpp_path = tmp / "FIXTURE_hostile_names_inei_ccpp.csv"
    ccpp.to_csv(ccpp_path, index=False, encoding="utf-8")
    base = gpd.read_file(RAW / "education" / "dre_cajamarca_base2025_iiee_8ugel.gpkg")
    cet = (base["UGEL"] == UGEL) & (base["NIVEL_MODALIDAD"] == "Técnico Productiva")
    assert cet.sum() >= 1
    base.loc[cet, "NOMBRE_IE"] = [f"CETPRO {hostile(i)}" for i in range(int(cet.sum()))]
    base_path = tmp / "FIXTURE_hostile_names_dre_base.gpkg"
    base.to_file(base_path, driver="GPKG")
    text = (ROOT / "scenarios" / "cajamarca.toml").read_text(encoding="utf-8").replace("../data/raw/", f"{RAW}/")
    text = re.sub(r"ugels = \[.*?\]\n", f'ugels = ["{UGEL}"]\n', text, flags=re.S)
    text = text.replace('output_dir = "../runs/cajamarca"', f'output_dir = "{tmp / "run"}"')
    text = text.replace('cache_dir = "../data/processed"', f'cache_dir = "{tmp / "cache"}"')
    text = text.replace(f'"{RAW}/ccpp/inei_cpv2017_ccpp_poblacion_cajamarca.csv"', f'"{ccpp_path}"')
    text = text.replace(f'"{RAW}/education/dre_cajamarca_base2025_iiee_8ugel.gpkg"', f'"{base_path}"')
    text = text.replace("n_sites = 10", "n_sites = 3")
    assert str(ccpp_path) in text and str(base_path) in text
    scenario = tmp / "scenario.toml"
    scenario.write_text(text, encoding="utf-8")
    assert main(["run", "--scenario", str(scenario), "--no-progress"]) == 0
    return tmp / "run"


def output_texts(folder: Path) -> dict[str, str]:
    """The text of every output: text files as they are, XLSX sheets and strings (XML),
    GeoPackages as their bytes read as UTF-8 (SQLite stores text as UTF-8), PDFs through
    ``pdftotext``."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = str(p.relative_to(folder))
        if p.suffix in {".csv", ".md", ".html", ".json", ".toml"}:
            out[rel] = p.read_text(encoding="utf-8-sig")
        elif p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                out[rel] = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
        elif p.suffix == ".gpkg":
            out[rel] = p.read_bytes().decode("utf-8", errors="replace")
        elif p.suffix == ".pdf":
            out[rel] = subprocess.run(["pdftotext", str(p), "-"], capture_output=True, text=True, check=True).stdout
    return out


def test_template_text_stays_literal_in_every_output(run):
    texts = output_texts(run)
    assert {"mapa.html", "report.html", "report_ugel_san_marcos.html", "places.csv", "quality_report.md",
            "acceso.xlsx", "propuestas.xlsx", "acceso.gpkg"} <= set(texts)
    rendered = [name for name, text in texts.items() if "ZZ49ZZ" in text]
    assert not rendered, f"a template engine evaluated a place name in {rendered}"
    # literally there, in the escaping of each format (HTML/Markdown/JSON leave braces alone)
    for name in ("mapa.html", "report.html", "report_ugel_san_marcos.html", "places.csv", "acceso.xlsx",
                 "acceso.gpkg", "quality_report.csv"):
        assert TEMPLATE in texts[name], name
    assert "ZZ{{7\\*7}}ZZ" in texts["quality_report.md"]  # Markdown-escaped; rendered: see below


def test_no_raw_markup_from_data_in_html_and_markdown(run):
    texts = output_texts(run)
    for name in ("report.html", "report_ugel_san_marcos.html", "mapa.html", "quality_report.md"):
        t = texts[name]
        for raw in ("<img src=x", "<script>alert", "<svg onload", "<a href=\"javascript"):
            assert raw not in t, (name, raw)
    assert "&lt;img src=x onerror=alert(1)&gt;" in texts["report_ugel_san_marcos.html"]


def test_quality_report_markdown_renders_as_text(run):
    from markdown_it import MarkdownIt

    md = (run / "quality_report.md").read_text(encoding="utf-8")
    q = pd.read_csv(run / "quality_report.csv", dtype=str, encoding="utf-8-sig")
    renamed = q[q["detail"].fillna("").str.contains(" #")]
    assert len(renamed) > 100  # the renamed places are reported (names differ from the national list)
    html = MarkdownIt("commonmark").enable("table").render(md)
    for tag in ("<img", "<script", "<svg", "<a "):
        assert tag not in html, tag
    import html as _html
    cells = {_html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", html, re.S)}
    shown = [d for d in renamed["detail"] if d in cells]
    assert len(shown) == len(renamed), set(renamed["detail"]) - cells  # every detail shown exactly as typed
    # (the detail quotes names with repr(), so the backslash of the mathtext name is doubled there)
    assert any(TEMPLATE in d for d in shown) and any("frac{a}{b}$ #" in d for d in shown)


def test_map_payload_is_json_that_cannot_leave_its_script(run):
    page = (run / "mapa.html").read_text(encoding="utf-8")
    blob = re.search(r'<script type="application/json" id="siting-map-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in blob and ">" not in blob and "\u2028" not in blob and "\u2029" not in blob
    data = json.loads(blob)
    names = {f["properties"]["name"] for spec in data["layers"] if spec.get("search")
             for f in spec["data"]["features"]}
    assert hostile(1) in names and hostile(5) in names and hostile(0) in names


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("headless Chromium is not installed (/usr/bin/chromium)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(chromium), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def open_page(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    seen = {"dialogs": [], "errors": [], "console": [], "blocked": []}

    def offline(route):  # no internet: only the basemap tiles may ask for it; refuse them fast
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            seen["blocked"].append(url)
            route.abort()

    page.route("**/*", offline)
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("console", lambda m: seen["console"].append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, seen


EXERCISE = """() => {
  const m = window[document.querySelector('.folium-map').id];
  const counts = {circle: 0, marker: 0, path: 0, image: 0};
  const texts = [];
  m.eachLayer(l => {
    if (l instanceof L.CircleMarker) counts.circle++;
    else if (l instanceof L.Marker) counts.marker++;
    else if (l instanceof L.ImageOverlay) counts.image++;
    else if (l instanceof L.Path) counts.path++;
    const p = l.feature && l.feature.properties;  // markers, and the places with a hostile name
    if (p && (l instanceof L.Marker || String(p.name).indexOf(' #') >= 0) && (l.getPopup() || l.getTooltip())) {
      if (l.getTooltip()) { l.openTooltip(); const t = l.getTooltip().getElement(); if (t) texts.push(t.textContent); }
      if (l.getPopup()) { l.openPopup(); const p = document.querySelector('.leaflet-popup-content');
                          if (p) texts.push(p.textContent); l.closePopup(); }
    }
  });
  const overlays = Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label span span'))
    .map(s => s.textContent.trim());
  return {counts, texts, overlays, legend: document.getElementById('siting-legend').textContent,
          records: Object.keys(window.siting_searchControl._recordsFromLayer()).length};
}"""


def test_hostile_names_run_no_script_in_chromium_and_every_layer_renders(run, browser):
    places = pd.read_csv(run / "places.csv", dtype=str)
    proposals = pd.read_csv(run / "proposals.csv", dtype=str)
    page, seen = open_page(browser, run / "mapa.html")
    r = page.evaluate(EXERCISE)  # every tooltip and popup of every layer opened once
    # the search box: type the start of each payload and pick the first tip
    box = page.locator(".leaflet-control-search input")
    for payload in PAYLOADS:
        box.fill("")
        box.type(payload[:6], delay=5)
        page.wait_for_timeout(500)
        tip = page.locator(".search-tip").first
        if tip.count():
            tip.click()
            page.wait_for_timeout(100)
    page.wait_for_timeout(300)
    assert seen["dialogs"] == [], seen["dialogs"]
    assert seen["errors"] == [] and seen["console"] == [], (seen["errors"], seen["console"])
    assert all("tile.openstreetmap.org" in u for u in seen["blocked"]), seen["blocked"][:5]  # tiles only
    assert r["counts"]["circle"] >= len(places)  # every place drawn (premises may add more circles)
    assert r["counts"]["marker"] >= len(proposals) and r["counts"]["path"] > 0 and r["counts"]["image"] == 1
    assert len(r["overlays"]) >= 6
    joined = "\n".join(r["texts"])
    for payload in (hostile(1), hostile(2), hostile(3), TEMPLATE):
        assert payload.replace("\u2028", " ") in joined or payload in joined, payload  # shown as typed
    assert r["records"] == places["name"].nunique()
    page.close()


def test_reports_run_no_script_in_chromium(run, browser):
    for name in ("report.html", "report_ugel_san_marcos.html"):
        page, seen = open_page(browser, run / name)
        text = page.inner_text("body")
        assert seen["dialogs"] == [] and seen["errors"] == [], (name, seen)
        assert page.locator("img[src='x']").count() == 0 and page.locator("svg").count() == 0
        assert TEMPLATE in text or name == "report.html"
        page.close()


def test_latex_like_names_do_not_break_print_maps(run, tmp_path):
    """A UGEL (and a caveat) named like mathtext: the print maps are drawn, the text as typed."""
    import matplotlib

    matplotlib.use("Agg")
    from siting.report import static_maps

    places = gpd.read_file(run / "acceso.gpkg")
    districts = gpd.read_file(RAW / "boundaries" / "innovar_peru_distritos_inei2017.gpkg", layer="distritos",
                              where="\"dep.code\" = '06'")
    districts = districts[districts["ubigeo"].astype(str).str.startswith(PROVINCE_CODE)]
    name = "$\\frac{a}{b}$ UGEL ^_{x}"
    districts = gpd.GeoDataFrame({"ubigeo": districts["ubigeo"], "ugel": name}, geometry=districts.geometry,
                                 crs=districts.crs).to_crs(4326)
    pl = gpd.GeoDataFrame({"population": pd.to_numeric(places.iloc[:, 0], errors="coerce").fillna(1.0).to_numpy(),
                           "band": "<=30", "ugel": name}, geometry=places.geometry.to_crs(4326).to_numpy(), crs=4326)
    written = static_maps.write_static_maps(tmp_path, places=pl, districts=districts, ugels=[name],
                                            notes=["$x^2$ caveat with {{7*7}}"], formats=("pdf",))
    assert len(written) == 2  # region + the UGEL
    for (pdf,) in written.values():
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "$x^2$ caveat with {{7*7}}" in text
    ugel_pdf = next(p for k, (p,) in written.items() if k != "proposals_region")
    text = subprocess.run(["pdftotext", str(ugel_pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "$\\frac{a}{b}$" in text
