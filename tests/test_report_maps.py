"""Tests of the maps: static PNG/PDF maps and the interactive Folium map opened in headless
Chromium.  Real inputs, FIXTURE analysis results: see the fixtures in ``test_report.py``."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from siting.report import labels
from test_report import ARTIFACTS, study, travel_tif  # noqa: F401  (shared module fixtures)


# =========================================================================== helpers of the maps
def test_population_radius_and_band_colours_hand_computed():
    from matplotlib.colors import to_rgba

    from siting.report import folium_map

    # radius = 2 + 10 * sqrt(p / max p): 0 -> 2, 25/100 -> 7, 100/100 -> 12
    np.testing.assert_allclose(folium_map.population_radius(pd.Series([0, 25, 100])), [2, 7, 12])
    minutes = np.array([[10.0, 30.0, 45.0, 60.0, 90.0, 200.0, np.nan]])
    rgba = folium_map._band_rgba(minutes, [30, 60, 120], alpha=0.5)
    expected = ["<=30", "<=30", "30-60", "30-60", "60-120", ">120"]
    for j, band in enumerate(expected):
        np.testing.assert_allclose(rgba[0, j], to_rgba(labels.BAND_COLOURS[band], 0.5))
    assert rgba[0, 6, 3] == 0  # NaN is transparent


def test_raster_overlay_bounds_match_the_geotiff(travel_tif):
    import rasterio
    from rasterio.warp import transform_bounds

    from siting.report import folium_map

    uri, bounds = folium_map.raster_png_data_uri(travel_tif)
    assert uri.startswith("data:image/png;base64,")
    with rasterio.open(travel_tif) as src:
        w, s, e, n = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    # warping to Web Mercator keeps the footprint within ~2 cells (2 km ≈ 0.02°)
    np.testing.assert_allclose(np.array(bounds).ravel(), [s, w, n, e], atol=0.03)


def test_nice_scale_length_hand_computed():
    from siting.report.static_maps import nice_scale_length, slug

    assert nice_scale_length(100_000) == 20_000
    assert nice_scale_length(7_000) == 1_000
    assert nice_scale_length(300_000) == 50_000
    assert nice_scale_length(26_000) == 5_000
    assert slug("UGEL CELENDÍN") == "ugel_celendin"


# =========================================================================== static maps
def test_static_maps_png_and_pdf_for_region_and_one_ugel(study, travel_tif, tmp_path):
    import matplotlib.image as mpimg

    from siting.report import static_maps

    written = static_maps.write_static_maps(
        tmp_path, places=study["places"], districts=study["districts"], raster_path=travel_tif,
        proposals=study["proposals"], cetpro=study["cetpro"], ugels=["UGEL CELENDÍN"], notes=study["notes"],
        formats=("png",))
    assert set(written) == {"travel_time_region", "proposals_region", "travel_time_ugel_celendin",
                            "proposals_ugel_celendin"}
    fig = static_maps.travel_time_map(travel_tif, study["districts"], cetpro=study["cetpro"], ugel="UGEL CELENDÍN")
    (pdf,) = static_maps.save_figure(fig, tmp_path / "one", formats=("pdf",))
    assert pdf.read_bytes()[:4] == b"%PDF"
    for (png,) in written.values():
        img = mpimg.imread(png)
        assert img.shape[0] > 1000 and img.shape[1] > 1000
    ARTIFACTS.mkdir(exist_ok=True)
    for key in ("travel_time_region", "proposals_region", "proposals_ugel_celendin"):
        (ARTIFACTS / f"report_{key}.png").write_bytes(written[key][0].read_bytes())
    # the regional travel-time map shows the four band colours of the fixture raster
    img = (mpimg.imread(written["travel_time_region"][0])[..., :3] * 255).round().astype(int).reshape(-1, 3)
    packed = np.unique(img[:, 0] * 65536 + img[:, 1] * 256 + img[:, 2])
    colours = {(int(v) // 65536, int(v) // 256 % 256, int(v) % 256) for v in packed}
    from matplotlib.colors import to_rgb
    for band in ("<=30", "30-60", "60-120", ">120"):
        target = np.array(to_rgb(labels.BAND_COLOURS[band])) * 255
        # drawn with alpha 0.9 over white: 0.9 * colour + 0.1 * 255
        blended = tuple(np.round(0.9 * target + 25.5).astype(int))
        assert any(max(abs(a - b) for a, b in zip(c, blended)) <= 2 for c in colours), band
    with pytest.raises(ValueError):
        static_maps.proposals_map(study["places"], study["districts"], ugel="UGEL DOES NOT EXIST")


def test_scale_bar_length_matches_the_axes(study):
    import matplotlib.pyplot as plt

    from siting.report import static_maps

    fig = static_maps.proposals_map(study["places"], study["districts"], ugel="UGEL CELENDÍN")
    ax = fig.axes[0]
    x0, x1 = ax.get_xlim()
    bar = [p for p in ax.patches if isinstance(p, plt.Rectangle) and p.get_facecolor()[:3] == (0, 0, 0)]
    assert len(bar) == 1
    # the black half is half of a "nice" length close to a fifth of the map width
    assert bar[0].get_width() * 2 == static_maps.nice_scale_length(x1 - x0)
    texts = [t.get_text() for t in ax.texts]
    assert f"{static_maps.nice_scale_length(x1 - x0) / 1000:g} km" in texts and "N" in texts
    plt.close(fig)


# =========================================================================== interactive map
_PROBE_HEAD = """<script>window.__errors=[];
window.onerror=function(m,s,l,c){window.__errors.push(String(m)+' @'+l+':'+c);};
window.addEventListener('error',function(e){if(e.target&&e.target!==window){
  window.__errors.push('resource: '+(e.target.src||e.target.href));}},true);
(function(){var ce=console.error;console.error=function(){
  window.__errors.push('console: '+Array.from(arguments).join(' '));ce.apply(console,arguments);};})();
</script>"""
# after load: count the layers Leaflet really drew, list the layer-control entries, open the
# popup of proposal 1, and ask leaflet-search how many place names it indexed.
_PROBE_TAIL = """<script>window.addEventListener('load',function(){setTimeout(function(){
var r={errors:window.__errors};
try{var m=window[document.querySelector('.folium-map').id];
 var c={circle:0,marker:0,image:0,path:0};var first=null;
 m.eachLayer(function(l){if(l instanceof L.CircleMarker)c.circle++;else if(l instanceof L.Marker){c.marker++;
   if(l.feature&&l.feature.properties.rank_number===1)first=l;}
   else if(l instanceof L.ImageOverlay)c.image++;else if(l instanceof L.Path)c.path++;});
 r.counts=c;
 r.overlays=Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label > span > span'))
   .map(function(s){return s.textContent.trim();});
 r.controls={search:!!document.querySelector('.leaflet-control-search'),
   fullscreen:!!document.querySelector('.leaflet-control-zoom-fullscreen, .fullscreen-icon'),
   measure:!!document.querySelector('.leaflet-control-measure'),scale:!!document.querySelector('.leaflet-control-scale'),
   legend:!!document.getElementById('siting-legend')};
 if(first){first.openPopup();var pc=document.querySelector('.leaflet-popup-content');r.popup=pc?pc.textContent:'';}
 for(var k in window){if(/searchControl$/.test(k)&&window[k]._recordsFromLayer){
   r.search_records=Object.keys(window[k]._recordsFromLayer()).length;}}
}catch(e){r.errors.push('probe: '+e);}
var pre=document.createElement('pre');pre.id='siting-probe';pre.textContent=JSON.stringify(r);
document.body.appendChild(pre);},800);});</script>"""


def _chromium_args(chromium: Path, profile: Path) -> list[str]:
    return [str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--window-size=1280,900",
            "--virtual-time-budget=8000"]


def _probe_in_chromium(chromium: Path, html_path: Path, tmp_path: Path) -> dict:
    """Open a copy of the page with the probe injected; return what the probe saw."""
    page = html_path.read_text(encoding="utf-8")
    page = page.replace("<head>", "<head>" + _PROBE_HEAD, 1).replace("</body>", _PROBE_TAIL + "</body>", 1)
    probe = tmp_path / "probe.html"
    probe.write_text(page, encoding="utf-8")
    out = subprocess.run(_chromium_args(chromium, tmp_path / "profile") + ["--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120)
    m = re.search(r'<pre id="siting-probe">(.*?)</pre>', out.stdout, re.S)
    assert m, f"the probe did not run; chromium stderr:\n{out.stderr[-3000:]}"
    import html as _html
    return json.loads(_html.unescape(m.group(1)))


@pytest.fixture(scope="module")
def offline_map(study, travel_tif, tmp_path_factory) -> Path:
    from siting.report import folium_map

    empty_extension = gpd.GeoDataFrame({"facility_id": [], "name": [], "parent_cod_mod": []},
                                       geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    m = folium_map.make_map(study["places"], cetpro=study["cetpro"], extension=empty_extension,
                            proposals=study["proposals"], premises=study["premises"], roads=study["roads"],
                            districts=study["districts"], travel_time_tif=travel_tif, quality_notes=study["notes"],
                            basemap=None, title="Cajamarca (fixture)")
    return folium_map.save_map(m, tmp_path_factory.mktemp("map") / "mapa.html")


def test_map_html_is_self_contained(offline_map, study):
    from siting.report import folium_map

    page = offline_map.read_text(encoding="utf-8")
    assert folium_map.external_resources(page) == []
    assert "tile.openstreetmap" not in page
    assert 't.version="1.9.3"' in page  # Leaflet inlined
    assert "L.Control.Search" in page and "L.Control.Measure" in page
    data = json.loads(re.search(r'<script type="application/json" id="siting-map-data">(.*?)</script>', page,
                                re.S).group(1))
    titles = [f["properties"]["_title"] for spec in data["layers"] if spec.get("name") == labels.t("layer.proposals")
              for f in spec["data"]["features"]]
    assert titles == [f"{r}. {n}" for r, n in zip(study["proposals"]["rank"], study["proposals"]["name"])]


def test_map_with_osm_basemap_keeps_data_layers_inline(study, tmp_path):
    from siting.report import folium_map

    m = folium_map.make_map(study["places"].head(50), cetpro=study["cetpro"], lang="en")
    page = folium_map.save_map(m, tmp_path / "map.html").read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" in page  # only the tiles need internet
    assert folium_map.external_resources(page) == []
    assert labels.t("layer.places", "en") in page
    online = folium_map.save_map(m, tmp_path / "online.html", offline=False).read_text(encoding="utf-8")
    assert any("leaflet" in u for u in folium_map.external_resources(online))


def test_map_opens_in_chromium_without_errors(offline_map, study, chromium, tmp_path):
    r = _probe_in_chromium(chromium, offline_map, tmp_path)
    assert r["errors"] == [], r["errors"]
    # every place is a canvas circle marker; CETPRO + numbered proposals are markers
    assert r["counts"]["circle"] == len(study["places"]) == 6513
    assert r["counts"]["marker"] == len(study["cetpro"]) + len(study["proposals"])
    assert r["counts"]["image"] == 1
    expected = {labels.t(k) for k in ("layer.places", "layer.cetpro", "layer.proposals", "layer.roads",
                                      "layer.travel_time", "layer.districts", "layer.ugels", "layer.premises")}
    assert expected <= set(r["overlays"]), r["overlays"]
    assert labels.t("layer.extension") not in r["overlays"]  # empty layer left out
    assert all(r["controls"].values()), r["controls"]
    first = study["proposals"].iloc[0]
    assert first["parent_name"] in r["popup"] and labels.t("teacher_minutes") in r["popup"]
    assert r["search_records"] == study["places"]["name"].nunique()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report_map.png"
    out = subprocess.run(_chromium_args(chromium, tmp_path / "profile2") + [f"--screenshot={shot}",
                         offline_map.as_uri()], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and shot.stat().st_size > 20_000
