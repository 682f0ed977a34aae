"""Reports a director can read and the UGEL analyst's table (issue #17, items 8 and 9), on
the REAL shipped data of one UGEL (San Marcos: 307 places, one CETPRO with teachers).

Checked against independent computations: cards against the access summary (one table),
the places beyond each threshold and the host premises near each against a brute-force
distance computation in metres, the schools of each premises against the school base read
with pyogrio; the glossary carries the scenario's values; the print stylesheet gives A4
pages on which no word falls outside the page (headless Chromium + pdftotext); the static
maps are A4 with the legend below the map; the interactive map has a title, a collapsible
caveats panel (escaped) and popups with names and rounded values."""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyogrio  # noqa: E402
import pytest  # noqa: E402

from siting.access import place_table  # noqa: E402
from siting.report import analyst, folium_map, html_report, static_maps  # noqa: E402
from siting.report.glossary import TERMS, glossary  # noqa: E402
from siting.report.labels import t  # noqa: E402
from siting.report.stage import make_report, shorten  # noqa: E402

UGEL = "UGEL SAN MARCOS"


@pytest.fixture(scope="module")
def report(san_marcos, san_marcos_plan, tmp_path_factory):
    folder = tmp_path_factory.mktemp("readable")
    s = san_marcos
    result = make_report(s.sc, s.data, s.gaps, san_marcos_plan.plan, folder=folder, progress=False)
    return folder, result


def test_glossary_defines_every_term_with_the_scenario_values(san_marcos, report):
    sc = san_marcos.sc
    a, b = sc.population.age_groups[sc.population.target_group]
    for lang in ("es", "en"):
        terms = dict(glossary(sc, lang))
        assert len(terms) == len(TERMS) and all(len(d) > 40 for d in terms.values())
        text = " ".join(f"{k} {v}" for k, v in terms.items())
        assert f"{a}–{b}" in text and "2SFCA" in text
        for value in (sc.access.main_threshold_min, sc.allocation.max_minutes, sc.allocation.teacher_max_minutes,
                      sc.access.catchment_min):
            assert f"{value:g} min" in text
    page = (report[0] / f"report_{'ugel_san_marcos'}.html").read_text(encoding="utf-8")
    assert 'id="glossary"' in page
    for term, _ in glossary(sc, "es"):
        assert html.escape(term) in page


def _cards(page: str) -> dict[str, str]:
    return {html.unescape(label): value for value, label in
            re.findall(r'<div class="value">([^<]*)</div><div class="label">([^<]*)</div>', page)}


def test_cards_one_denominator_per_group_and_one_table(san_marcos, san_marcos_plan, report):
    s, plan = san_marcos, san_marcos_plan.plan
    cards = html_report.key_figures(place_table(s.gaps, s.sc), proposals=plan.proposals, n_cetpro=1,
                                    n_extension=None, target_column="pop_15_29", lang="es")
    groups = {c["label"]: c["group"] for c in cards}
    total = s.gaps.total.iloc[0]  # the table of access_total.csv
    raw = {c["label"]: c["raw"] for c in cards}
    # every figure comes from the same table as the access summary (access_by_ugel.csv)
    assert raw["Población total"] == pytest.approx(total["population"])
    assert raw["Población a más de 60 min"] == pytest.approx(total["population_beyond_60"])
    assert raw["Personas de 15–29 años a más de 60 min"] == pytest.approx(total["pop_15_29_beyond_60"])
    # the women card of the plan is the women OF THE TARGET GROUP, beside the target group
    assert raw["Mujeres de 15–29 años nuevas atendidas"] == pytest.approx(plan.proposals["new_women_target"].sum())
    assert groups["Mujeres de 15–29 años nuevas atendidas"] == groups["Personas de 15–29 años nuevas atendidas"]
    assert all("15–29" in k or k == "Población objetivo" for k, g in groups.items() if g == "target")
    assert all("15–29" not in k for k, g in groups.items() if g == "population")
    # no list of extension centres in the shipped data: "not in the data", never 0
    page = (report[0] / "report_ugel_san_marcos.html").read_text(encoding="utf-8")
    shown = _cards(page)
    assert shown["Centros de extensión"] == "no figuran en los datos"
    assert shown["Población total"] == f"{total['population']:,.0f}"  # es-PE 12,345
    en = html_report.key_figures(place_table(s.gaps, s.sc), n_extension=None, lang="en")
    assert {c["label"]: c["value"] for c in en}["Extension centres"] == "not in the data"


def test_report_prints_on_a4_with_nothing_outside_the_page(report, chromium, tmp_path):
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils (pdftotext) is not installed")
    page = report[0] / "report_ugel_san_marcos.html"
    text = page.read_text(encoding="utf-8")
    assert "@media print" in text and "size: A4" in text and "A4 landscape" in text
    pdf = tmp_path / "report.pdf"
    subprocess.run([str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", page.as_uri()], check=True, capture_output=True, timeout=180)
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    pages = re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', bbox, re.S)
    assert pages
    for w, h, body in pages:
        assert sorted((round(float(w)), round(float(h)))) == [595, 842]  # A4, portrait or landscape
        xmax = [float(x) for x in re.findall(r'xMax="([\d.]+)"', body)]
        assert not xmax or max(xmax) <= float(w)  # no word cut at the right edge: the tables fit
    words = " ".join(re.findall(r">([^<]+)</word>", bbox))
    assert "cercanos" in words  # the last header of the analyst's table is on the page


def test_static_maps_are_a4_with_the_legend_below_the_map(san_marcos, san_marcos_plan):
    s = san_marcos
    notes = [shorten(n) for n in s.data.quality.notes_in("es")]
    fig = static_maps.proposals_map(place_table(s.gaps, s.sc), s.data.districts, crs=s.data.crs,
                                    proposals=san_marcos_plan.plan.proposals, ugel=UGEL, notes=notes)
    fig.canvas.draw()
    assert tuple(round(v, 2) for v in fig.get_size_inches()) == (8.27, 11.69)
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    frame = ax.get_window_extent()
    assert legend.y1 <= frame.y0 + 1  # the legend never covers the map
    texts = [x.get_text() for x in ax.texts]
    for rank, name in zip(san_marcos_plan.plan.proposals["rank"], san_marcos_plan.plan.proposals["name"]):
        assert f"{rank}. {name}" in texts  # every proposal is labelled with its name
    biggest = place_table(s.gaps, s.sc).sort_values("population").iloc[-1]["name"]
    assert biggest.title() in texts  # and so are the largest places
    plt.close(fig)


def test_caveats_are_cut_on_word_boundaries(san_marcos):
    for note in san_marcos.data.quality.notes_in("es") + ["palabra " * 60]:
        short = shorten(note)
        words = short.removesuffix(" …").split()
        assert note.split()[: len(words)] == words  # whole words of the note, in order


def test_interactive_map_title_caveats_panel_and_readable_popups(san_marcos, san_marcos_plan):
    s = san_marcos
    bad = "<img src=x onerror=alert(1)>"
    m = folium_map.make_map(place_table(s.gaps, s.sc), cetpro=s.data.cetpro, proposals=san_marcos_plan.plan.proposals,
                            districts=s.data.districts, quality_notes=["nota 1", bad], area_name=UGEL, basemap=None)
    page = folium_map.render_page(m, offline=False)
    assert "siting-title" in page and html.escape(t("map.page_title").format(area=UGEL)) in page
    panel = page[page.index("<details id='siting-caveats'"):]
    assert "Advertencias sobre los datos (2)" in panel and html.escape(bad) in panel and bad not in page
    payload = json.loads(page[page.index('id="siting-map-data">') + len('id="siting-map-data">'):]
                         .split("</script>")[0])
    layer = next(spec for spec in payload["layers"] if spec.get("search"))
    props = {f["properties"]["name"]: f["properties"] for f in layer["data"]["features"]}
    row = place_table(s.gaps, s.sc).set_index("name").loc["SAN MARCOS"]
    p = props["SAN MARCOS"]
    assert p["nearest_facility"] == "ICHOCAN"  # the centre's name, not its code
    assert p["population"] == f"{row['population']:,.0f}" and p["minutes_nearest"] == f"{row['minutes_nearest']:.0f}"


def test_places_beyond_each_threshold_with_host_premises(san_marcos, report):
    s = san_marcos
    sc, places = s.sc, place_table(s.gaps, s.sc)
    premises = analyst.premises_table(sc, s.data)
    table = analyst.beyond_table(sc, s.data, places, premises=premises)
    th = sorted(sc.access.thresholds_min)
    m = places.set_index("ccpp_id")["minutes_nearest"].astype(float).fillna(np.inf)
    assert set(table["ccpp_id"]) == set(m.index[m > th[0]])  # every place beyond the first threshold
    for cid, got in zip(table["ccpp_id"], table["threshold_min"]):
        assert got == max(x for x in th if m[cid] > x)
    assert {"district", "population", "women", "pop_15_29", "nearest_facility"} <= set(table.columns)
    # host premises within 1000 m by brute force in metres (all school premises, no Tambo list)
    xy = places.set_index("ccpp_id").to_crs(s.data.crs).geometry
    sp = s.data.school_premises.to_crs(s.data.crs)
    px, py = sp.geometry.x.to_numpy(), sp.geometry.y.to_numpy()
    for cid, n in zip(table["ccpp_id"].iloc[:40], table["n_host_premises"].iloc[:40]):
        d = np.hypot(px - xy[cid].x, py - xy[cid].y)
        assert n == int((d <= sc.candidates.host_premises_within_m).sum()), cid
    # the schools of each premises: names and levels of the school base
    base = pyogrio.read_dataframe(sc.inputs.school_base, read_geometry=False)
    code = premises.loc[premises["levels"].fillna("") != "", "codlocal"].iloc[0]
    rows = base[base["CODLOCAL"].astype(str).str.zfill(6) == code]
    text = premises.set_index("codlocal").loc[code, "schools"]
    assert all(f"{n} ({lv})" in text for n, lv in zip(rows["NOMBRE_IE"], rows["NIVEL_MODALIDAD"]))
    # the UGEL report and its workbook list them; the premises table is exported
    folder = report[0]
    page = (folder / "report_ugel_san_marcos.html").read_text(encoding="utf-8")
    assert t("report.beyond_table") in page and html.escape(table["host_premises_near"].iloc[0]) in page
    book = pd.read_excel(folder / "ugel_san_marcos.xlsx", sheet_name=None)
    assert list(book) == ["Léame", "CCPP más allá del umbral", "Locales escolares"]
    assert len(book["CCPP más allá del umbral"]) == len(table)
    csv = pd.read_csv(folder / "school_premises.csv", dtype={"codlocal": str})
    assert len(csv) == len(premises) and set(csv["ugel"]) == {UGEL}


def test_ugel_workbook_text_is_never_a_formula(san_marcos, tmp_path):
    from openpyxl import load_workbook
    s = san_marcos
    table = analyst.beyond_table(s.sc, s.data, place_table(s.gaps, s.sc)).head(3)
    table.loc[0, "name"] = "=HYPERLINK(\"http://x\",\"clic\")"
    tables = {UGEL: {"beyond": table, "premises": analyst.premises_table(s.sc, s.data).drop(columns="geometry")}}
    path = analyst.write_ugel_workbooks(tmp_path, tables, sc=s.sc, slugs={UGEL: "ugel_san_marcos"})[UGEL]
    ws = load_workbook(path)["CCPP más allá del umbral"]
    cell = next(c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert cell.data_type == "s"
