"""Every output follows the thresholds of the run (issue 13, item 6), on one real UGEL
(San Marcos, shipped data): with ``access.thresholds_min = [20, 45, 90]`` and with two
thresholds ``[45, 90]`` the band chart counts everyone, the proposals map draws every
place, the interactive map colours and lists the run's bands, the raster legend has one
entry per band, and the report tables and cards name the run's thresholds.  Before the
fix the bands 30/60/120 were hard-coded and the first two checks failed (the chart counted
only the people without access and the map drew no place).
"""
from __future__ import annotations

import dataclasses
import html
import json
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import siting  # noqa: E402
from siting.access import band_labels, place_table  # noqa: E402
from siting.report import folium_map, html_report, static_maps  # noqa: E402
from siting.report.labels import band_colours, band_label  # noqa: E402
from siting.report.stage import report_gap_table  # noqa: E402


@pytest.fixture(scope="module", params=[[20.0, 45.0, 90.0], [45.0, 90.0]], ids=["20-45-90", "45-90"])
def run(request, san_marcos):
    th = request.param
    sc = dataclasses.replace(san_marcos.sc, access=dataclasses.replace(san_marcos.sc.access, thresholds_min=th))
    gaps = siting.compute_access(sc, san_marcos.data, san_marcos.graph)
    return sc, gaps, place_table(gaps, sc), th


def test_places_get_the_bands_of_the_run(run):
    sc, gaps, places, th = run
    assert set(places["band"].astype(str)) <= set(band_labels(th))
    assert list(band_colours(th)) == band_labels(th)
    minutes = gaps.places["minutes_nearest"].to_numpy(float)
    assert (places["band"].astype(str) == f"<={th[0]:g}").sum() == int((minutes <= th[0]).sum())


def test_band_chart_counts_everyone(run):
    sc, gaps, places, th = run
    fig = html_report.band_chart(places, "es", thresholds=th)
    heights = [bar.get_height() for bar in fig.axes[0].patches]
    labels = [tick.get_text() for tick in fig.axes[0].get_xticklabels()]
    plt.close(fig)
    assert len(heights) == len(th) + 2  # every time band and "no access"
    assert sum(heights) == pytest.approx(places["population"].sum(), rel=1e-9)
    assert labels == [band_label(b, "es") for b in band_labels(th)]
    assert labels[0] == f"≤ {th[0]:g} min"


def test_proposals_map_draws_every_place_with_the_run_legend(run, san_marcos):
    sc, gaps, places, th = run
    fig = static_maps.proposals_map(places, san_marcos.data.districts, crs=san_marcos.data.crs, lang="en",
                                    thresholds=th)
    ax = fig.axes[0]
    drawn = sum(len(c.get_offsets()) for c in ax.collections if c.get_zorder() == 8)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(fig)
    assert drawn == len(places)
    assert legend[: len(th) + 2] == [band_label(b, "en") for b in band_labels(th)]


def test_travel_time_map_legend_has_one_entry_per_band(run, san_marcos, tmp_path):
    sc, gaps, places, th = run
    from siting.network import raster
    tif = raster.travel_time_raster(san_marcos.graph, gaps.node_minutes, tmp_path / "minutes.tif")
    fig = static_maps.travel_time_map(tif, san_marcos.data.districts, crs=san_marcos.data.crs, thresholds=th)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    plt.close(fig)
    assert legend[: len(th) + 1] == [f"≤ {th[0]:g} min"] + [f"{a:g}–{b:g} min" for a, b in zip(th[:-1], th[1:])] \
        + [f"> {th[-1]:g} min"]


def test_interactive_map_colours_and_lists_the_run_bands(run, san_marcos):
    sc, gaps, places, th = run
    m = folium_map.make_map(places, districts=san_marcos.data.districts, thresholds=th, basemap=None, lang="es")
    page = folium_map.render_page(m, offline=False)
    colours = band_colours(th)
    legend = page[page.index("siting-legend"):]
    for band, colour in colours.items():
        assert html.escape(band_label(band, "es")) in legend and colour in legend
    payload = json.loads(page[page.index('id="siting-map-data">') + len('id="siting-map-data">'):].split("</script>")[0])
    places_layer = next(spec for spec in payload["layers"] if spec.get("search"))
    used = {f["properties"]["_style"]["fillColor"] for f in places_layer["data"]["features"]}  # the places' markers
    assert used and used <= set(colours.values())  # no place falls back to grey


def test_report_tables_and_cards_name_the_run_thresholds(run):
    sc, gaps, places, th = run
    headline = [t for t in th if t >= sc.access.main_threshold_min] or th
    table = report_gap_table(gaps.summary, "ugel", headline)
    for t in headline:
        s = f"{t:g}"
        assert f"share_within_{s}" in table.columns and f"beyond_{s}" in table.columns
    cards = html_report.key_figures(places, lang="en", thresholds=th, main_threshold=sc.access.main_threshold_min)
    labels = [c["label"] for c in cards]
    minutes = places["minutes_nearest"].to_numpy(float)
    for t in html_report.beyond_thresholds(th, sc.access.main_threshold_min):
        card = next(c for c in cards if c["label"] == f"Population beyond {t:g} min")
        assert card["raw"] == pytest.approx(places["population"].to_numpy(float)[minutes > t].sum())
    assert f"Population beyond {th[-1]:g} min" in labels
    page = html_report.render_report(places=places, by_ugel=table, lang="en", thresholds=th,
                                     main_threshold=sc.access.main_threshold_min, generated="fixed")
    assert f"% within {headline[-1]:g} min" in page and "within 120 min" not in page


def test_default_thresholds_keep_the_default_palette():
    assert band_colours() == {"<=30": "#1a9641", "30-60": "#a6d96a", "60-120": "#fdae61", ">120": "#d7191c",
                              "sin acceso": "#5e3c99"}
    assert np.unique(list(band_colours([45.0, 90.0]).values())).size == 4
