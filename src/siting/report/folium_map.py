"""The interactive map: one self-contained HTML file a planner can open offline.

:func:`make_map` builds a :class:`folium.Map` with every layer of a run (populated places
coloured by travel-time band and sized by population, CETPRO, extension centres,
numbered proposals with their full justification, Tambos, school premises, roads by
class, the travel-time raster, district and UGEL boundaries), a legend, layer control,
scale, measure tool, full screen and a search box on place names.

:func:`save_map` writes the HTML atomically.  With ``offline=True`` (default) the Leaflet
and plugin JavaScript/CSS are inlined from the vendored copies in ``report/static``
(Leaflet 1.9.3 BSD-2, Leaflet.fullscreen 3.0.0 MIT, leaflet-search 2.9.7 MIT,
leaflet-measure 2.1.7 MIT, jQuery 3.7.1 MIT; see the LICENSE files there) and folium's
unused CDN includes (Bootstrap, Font Awesome, awesome-markers) are removed, so the data
layers show without internet.  Only the basemap tiles (``basemap="OpenStreetMap"``) need
a connection; ``basemap=None`` gives a map without tiles.

Marker size: ``radius_px = 2 + 10 * sqrt(population / max_population)`` (area
proportional to population).
"""
from __future__ import annotations

import base64
import html
import io
import math
import re
from collections.abc import Iterable
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element
from folium import plugins

from ..io import atomic_path
from .labels import band_colours, band_label, has_label, road_label, t

STATIC = Path(__file__).with_name("static")

# URL file name -> vendored file (inlined when offline)
_VENDORED = {
    "leaflet.js": "leaflet.js",
    "jquery-3.7.1.min.js": "jquery-3.7.1.min.js",
    "leaflet.css": "leaflet.css",
    "Control.FullScreen.min.js": "Control.FullScreen.js",
    "Control.FullScreen.js": "Control.FullScreen.js",
    "Control.FullScreen.css": "Control.FullScreen.css",
    "leaflet-search.min.js": "leaflet-search.min.js",
    "leaflet-search.min.css": "leaflet-search.min.css",
    "leaflet-measure.min.js": "leaflet-measure.min.js",
    "leaflet-measure.min.css": "leaflet-measure.min.css",
}
# folium default includes that no layer of this map uses (dropped when offline); jQuery
# stays (folium builds popups with it)
_UNUSED = ("bootstrap", "glyphicons", "fontawesome", "awesome-markers", "awesome.rotate")

# dark neutral/brown road colours, distinct from the green-to-red travel-time bands
ROAD_COLOURS = {"national_paved": "#1a1a1a", "departmental_paved": "#4d4d4d",
                "departmental_unpaved": "#8c510a", "vecinal": "#7570b3", "trail": "#999999",
                "urban": "#666666"}
CETPRO_COLOUR, EXTENSION_COLOUR, PROPOSAL_COLOUR = "#08306b", "#2171b5", "#e7298a"
TAMBO_COLOUR, PREMISES_COLOUR = "#238b45", "#969696"


# --------------------------------------------------------------------------- helpers
def _fmt(value: object, lang: str) -> str:
    """Human formatting of one value for popups (thousands separators, 1 decimal)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return t("ui.yes", lang) if value else t("ui.no", lang)
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}".replace(",", " ")
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return f"{v:,.0f}".replace(",", " ") if abs(v) >= 100 else f"{v:.1f}"
    return str(value)


def _popup_table(row: pd.Series, columns: Iterable[str], lang: str, title: str = "") -> str:
    """An HTML table of ``columns`` of one row with translated labels."""
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>{html.escape(t(c, lang))}</th>"
        f"<td>{html.escape(_fmt(row[c], lang))}</td></tr>"
        for c in columns if c in row.index)
    head = f"<b>{html.escape(title)}</b>" if title else ""
    return f"<div style='font-size:12px'>{head}<table>{cells}</table></div>"


def _to_4326(gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if gdf is None or len(gdf) == 0:
        return None
    if gdf.crs is None:
        raise ValueError("a map layer has no CRS; set it (EPSG:4326) before mapping")
    return gdf.to_crs("EPSG:4326")


def _points_geojson(gdf: gpd.GeoDataFrame, props: list[str], style: list[dict]) -> dict:
    """A compact GeoJSON FeatureCollection of points (5 decimals ≈ 1 m)."""
    feats = []
    xs, ys = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    records = gdf[props].to_dict("records")
    for x, y, rec, st in zip(xs, ys, records, style):
        clean = {k: (None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else
                     (v.item() if isinstance(v, np.generic) else v)) for k, v in rec.items()}
        clean["style"] = st
        feats.append({"type": "Feature", "properties": clean,
                      "geometry": {"type": "Point", "coordinates": [round(float(x), 5), round(float(y), 5)]}})
    return {"type": "FeatureCollection", "features": feats}


def population_radius(population: pd.Series) -> np.ndarray:
    """Marker radius in pixels: ``2 + 10 * sqrt(p / max p)`` (area ∝ population)."""
    p = pd.to_numeric(population, errors="coerce").fillna(0).clip(lower=0).to_numpy(dtype=float)
    top = p.max() if len(p) and p.max() > 0 else 1.0
    return 2.0 + 10.0 * np.sqrt(p / top)


def raster_png_data_uri(path: str | Path, *, thresholds: Iterable[float] = (30, 60, 120),
                        max_pixels: int = 2_000_000) -> tuple[str, list[list[float]]]:
    """Warp a travel-time GeoTIFF (minutes) to Web Mercator, colour it by band, return
    ``(data_uri_png, [[south, west], [north, east]])`` for :class:`folium.raster_layers.ImageOverlay`.
    """
    import matplotlib.image as mpimg
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

    with rasterio.open(path) as src:
        data = src.read(1, masked=True).astype("float64").filled(np.nan)
        if src.nodata is not None:
            data[data == src.nodata] = np.nan
        dst_crs = "EPSG:3857"
        tr, w, h = calculate_default_transform(src.crs, dst_crs, src.width, src.height, *src.bounds)
        scale = max(1.0, math.sqrt(w * h / max_pixels))
        w, h = max(1, int(w / scale)), max(1, int(h / scale))
        tr, w, h = calculate_default_transform(src.crs, dst_crs, src.width, src.height, *src.bounds,
                                               dst_width=w, dst_height=h)
        out = np.full((h, w), np.nan)
        reproject(data, out, src_transform=src.transform, src_crs=src.crs, dst_transform=tr,
                  dst_crs=dst_crs, resampling=Resampling.nearest, src_nodata=np.nan, dst_nodata=np.nan)
        west, north = tr.c, tr.f  # north-up grid (no rotation)
        east, south = tr.c + tr.a * w, tr.f + tr.e * h
        w4326, s4326, e4326, n4326 = transform_bounds(dst_crs, "EPSG:4326", west, south, east, north)
    rgba = _band_rgba(out, list(thresholds))
    buf = io.BytesIO()
    mpimg.imsave(buf, rgba, format="png")
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return uri, [[s4326, w4326], [n4326, e4326]]


def _band_rgba(minutes: np.ndarray, thresholds: list[float], alpha: float = 0.55) -> np.ndarray:
    """RGBA image: one colour per band (≤t1, t1–t2, …, > t_last), transparent where NaN."""
    from matplotlib.colors import to_rgba

    colours = list(band_colours(thresholds).values())[:-1]  # the time bands, as on every map
    idx = np.digitize(np.nan_to_num(minutes, nan=0.0), thresholds, right=True)
    table = np.array([to_rgba(c, alpha) for c in colours])
    rgba = table[idx]
    rgba[~np.isfinite(minutes)] = (0, 0, 0, 0)
    return rgba


def _legend_html(lang: str, *, road_classes: list[str], notes: list[str], has: dict[str, bool],
                 thresholds: list[float], title: str) -> str:
    dot = ("<span style='display:inline-block;width:11px;height:11px;border-radius:50%;"
           "background:{c};border:1px solid #333;margin-right:5px'></span>")
    sq = ("<span style='display:inline-block;width:11px;height:11px;background:{c};"
          "border:1px solid #333;margin-right:5px'></span>")
    line = "<span style='display:inline-block;width:18px;border-top:3px {s} {c};margin-right:5px'></span>"
    rows = [f"<div style='font-weight:bold;margin-bottom:3px'>{html.escape(title)}</div>",
            f"<div><i>{html.escape(t('layer.places', lang))}</i></div>"]
    rows += [f"<div>{dot.format(c=c)}{html.escape(band_label(b, lang))}</div>"
             for b, c in band_colours(thresholds).items()]
    rows.append(f"<div style='color:#555'>{html.escape(t('ui.size_by_population', lang))}</div>")
    if has.get("cetpro"):
        rows.append(f"<div>{sq.format(c=CETPRO_COLOUR)}{html.escape(t('layer.cetpro', lang))}</div>")
    if has.get("extension"):
        rows.append(f"<div>{sq.format(c=EXTENSION_COLOUR)}{html.escape(t('layer.extension', lang))}</div>")
    if has.get("proposals"):
        rows.append(f"<div>{dot.format(c=PROPOSAL_COLOUR)}{html.escape(t('layer.proposals', lang))}</div>")
    if has.get("tambos"):
        rows.append(f"<div>{dot.format(c=TAMBO_COLOUR)}{html.escape(t('layer.tambos', lang))}</div>")
    if has.get("premises"):
        rows.append(f"<div>{dot.format(c=PREMISES_COLOUR)}{html.escape(t('layer.premises', lang))}</div>")
    for rc in road_classes:
        rows.append(f"<div>{line.format(s='solid', c=ROAD_COLOURS.get(rc, '#444'))}"
                    f"{html.escape(road_label(rc, lang))}</div>")
    if has.get("approximate"):
        rows.append(f"<div>{line.format(s='dashed', c='#444')}{html.escape(t('road.approximate', lang))}</div>")
    if notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
        rows.append(f"<div style='margin-top:4px;max-width:260px'><b>{html.escape(t('ui.caveats', lang))}</b>"
                    f"<ul style='margin:2px 0 0 14px;padding:0'>{items}</ul></div>")
    body = "".join(rows)
    return ("<div id='siting-legend' style='position:fixed;bottom:28px;right:10px;z-index:1000;"
            "background:rgba(255,255,255,0.92);padding:8px 10px;border:1px solid #999;border-radius:4px;"
            "font:12px/1.35 sans-serif;max-height:60vh;overflow:auto'>" + body + "</div>")


# --------------------------------------------------------------------------- layers
def _add_places(m: folium.Map, places: gpd.GeoDataFrame, lang: str, thresholds: list[float]) -> folium.GeoJson:
    radius = population_radius(places["population"])
    bands = places["band"].astype(str).to_numpy()
    colours = band_colours(thresholds)
    styles = [{"radius": round(float(r) * 2) / 2, "color": "#333333", "weight": 0.4, "fill": True,
               "fillColor": colours.get(b, "#999999"), "fillOpacity": 0.85}
              for r, b in zip(radius, bands)]
    props = [c for c in ["ccpp_id", "name", "district", "province", "ugel", "population", "women",
                         "minutes_nearest", "nearest_facility"] if c in places.columns]
    age_cols = [c for c in places.columns if re.match(r"^(pop|women)_\d+_\d+$", str(c))]
    g = places[props + age_cols].copy()
    g["band_label"] = [band_label(b, lang) if has_label(f"band.{b}") else b for b in bands]
    for c in ["population", "women", "minutes_nearest", *age_cols]:
        if c in g.columns:
            g[c] = pd.to_numeric(g[c], errors="coerce").round(0 if c != "minutes_nearest" else 1)
    g = gpd.GeoDataFrame(g, geometry=places.geometry, crs="EPSG:4326")
    fields = [c for c in props + age_cols if c != "ccpp_id"] + ["band_label", "ccpp_id"]
    aliases = [t(c, lang) if c != "band_label" else t("band", lang) for c in fields]
    gj = folium.GeoJson(
        _points_geojson(g, list(g.columns.drop("geometry")), styles),
        name=t("layer.places", lang),
        marker=folium.CircleMarker(radius=4),
        style_function=lambda f: f["properties"]["style"],
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases, localize=True),
    )
    gj.add_to(m)
    return gj


def _add_simple_points(m: folium.Map, gdf: gpd.GeoDataFrame, *, name: str, colour: str, columns: list[str],
                       lang: str, square: bool, size: int = 12, show: bool = True,
                       title_col: str = "name") -> None:
    fg = folium.FeatureGroup(name=name, show=show)
    radius = "2px" if square else "50%"
    for _, row in gdf.iterrows():
        icon = folium.DivIcon(
            html=(f"<div style='width:{size}px;height:{size}px;background:{colour};border:1.5px solid white;"
                  f"border-radius:{radius};box-shadow:0 0 2px #000'></div>"),
            icon_size=(size, size), icon_anchor=(size // 2, size // 2))
        title = str(row.get(title_col, ""))
        folium.Marker([row.geometry.y, row.geometry.x], icon=icon, tooltip=title,
                      popup=folium.Popup(_popup_table(row, columns, lang, title), max_width=360)).add_to(fg)
    fg.add_to(m)


def _add_many_points(m: folium.Map, gdf: gpd.GeoDataFrame, *, name: str, colour: str, columns: list[str],
                     lang: str, show: bool) -> None:
    """Thousands of small points (e.g. school premises) as one canvas GeoJSON layer."""
    cols = [c for c in columns if c in gdf.columns]
    style = [{"radius": 2.5, "fill": True, "color": colour, "weight": 0.5, "fillColor": colour,
              "fillOpacity": 0.8}] * len(gdf)
    g = gdf[cols + ["geometry"]].copy()
    folium.GeoJson(_points_geojson(g, cols, style), name=name, show=show,
                   marker=folium.CircleMarker(radius=2.5),
                   style_function=lambda f: f["properties"]["style"],
                   popup=folium.GeoJsonPopup(fields=cols, aliases=[t(c, lang) for c in cols]) if cols else None,
                   ).add_to(m)


def _add_proposals(m: folium.Map, proposals: gpd.GeoDataFrame, lang: str) -> None:
    fg = folium.FeatureGroup(name=t("layer.proposals", lang), show=True)
    cols = ["rank", "name", "ccpp_id", "district", "province", "ugel", "parent_name", "parent_cod_mod",
            "teacher_minutes", "new_population", "new_women", "new_target", "nearest_existing",
            "minutes_saved", "host_premises", "score", "top_criteria"]
    for _, row in proposals.sort_values("rank").iterrows():
        rank = int(row["rank"])
        icon = folium.DivIcon(
            html=(f"<div class='siting-proposal' style='width:24px;height:24px;border-radius:50%;"
                  f"background:{PROPOSAL_COLOUR};color:white;font:bold 12px/24px sans-serif;text-align:center;"
                  f"border:2px solid white;box-shadow:0 0 3px #000'>{rank}</div>"),
            icon_size=(24, 24), icon_anchor=(12, 12))
        title = f"{rank}. {row.get('name', '')}"
        folium.Marker([row.geometry.y, row.geometry.x], icon=icon, tooltip=title,
                      popup=folium.Popup(_popup_table(row, cols, lang, title), max_width=420)).add_to(fg)
    fg.add_to(m)


def _add_roads(m: folium.Map, roads: gpd.GeoDataFrame, lang: str, tolerance_deg: float) -> None:
    r = roads[["road_class", "approximate", "geometry"]].copy()
    r["approximate"] = r["approximate"].fillna(False).astype(bool)
    r["geometry"] = r.geometry.force_2d().simplify(tolerance_deg)
    r["road_class_label"] = [road_label(c, lang) for c in r["road_class"].astype(str)]
    r["road_class"] = r["road_class"].astype(str)
    folium.GeoJson(
        r[["road_class", "road_class_label", "approximate", "geometry"]].to_json(drop_id=True),
        name=t("layer.roads", lang),
        style_function=lambda f: {"color": ROAD_COLOURS.get(f["properties"]["road_class"], "#444444"),
                                  "weight": 2.5 if "paved" in f["properties"]["road_class"] else 1.6,
                                  "opacity": 0.85,
                                  "dashArray": "6 5" if f["properties"]["approximate"] else None},
        tooltip=folium.GeoJsonTooltip(fields=["road_class_label"], labels=False),
    ).add_to(m)


def _add_boundaries(m: folium.Map, districts: gpd.GeoDataFrame, lang: str, tolerance_deg: float) -> None:
    d = districts[["ubigeo", "district", "province", "ugel", "geometry"]].copy()
    d["geometry"] = d.geometry.simplify(tolerance_deg, preserve_topology=True)
    folium.GeoJson(
        d.to_json(drop_id=True), name=t("layer.districts", lang), show=True,
        style_function=lambda f: {"color": "#555555", "weight": 0.8, "fill": False, "dashArray": "2 3"},
        tooltip=folium.GeoJsonTooltip(fields=["district", "province"],
                                      aliases=[t("district", lang), t("province", lang)]),
    ).add_to(m)
    u = districts[["ugel", "geometry"]].dissolve(by="ugel", as_index=False)
    u["geometry"] = u.geometry.simplify(tolerance_deg * 2, preserve_topology=True)
    folium.GeoJson(
        u.to_json(drop_id=True), name=t("layer.ugels", lang), show=True,
        style_function=lambda f: {"color": "#111111", "weight": 2.2, "fill": False},
        tooltip=folium.GeoJsonTooltip(fields=["ugel"], labels=False),
    ).add_to(m)


# --------------------------------------------------------------------------- public
def make_map(places: gpd.GeoDataFrame, *, cetpro: gpd.GeoDataFrame | None = None,
             extension: gpd.GeoDataFrame | None = None, proposals: gpd.GeoDataFrame | None = None,
             tambos: gpd.GeoDataFrame | None = None, premises: gpd.GeoDataFrame | None = None,
             roads: gpd.GeoDataFrame | None = None, districts: gpd.GeoDataFrame | None = None,
             travel_time_tif: str | Path | None = None, thresholds: Iterable[float] = (30, 60, 120),
             quality_notes: Iterable[str] = (), title: str = "", lang: str = "es",
             basemap: str | None = "OpenStreetMap", simplify_deg: float = 0.0005) -> folium.Map:
    """Build the interactive map of a run.

    ``places`` follows the places contract (``band``, ``population``, ...).  Every other
    layer is optional; an empty or ``None`` layer is simply left out.  ``basemap=None``
    draws no tile layer (fully offline).  ``simplify_deg`` is the Douglas-Peucker tolerance
    for roads and boundaries (degrees; 0.0005 ≈ 55 m).
    """
    places = _to_4326(places)
    if places is None:
        raise ValueError("make_map needs at least one populated place")
    missing = [c for c in ("name", "population", "band") if c not in places.columns]
    if missing:
        raise ValueError(f"places lack column(s) {missing}: pass the output of the access stage")
    layers = {k: _to_4326(v) for k, v in dict(cetpro=cetpro, extension=extension, proposals=proposals,
                                                tambos=tambos, premises=premises, roads=roads,
                                                districts=districts).items()}
    area = layers["districts"] if layers["districts"] is not None else places
    minx, miny, maxx, maxy = area.total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=8, tiles=None,
                   prefer_canvas=True, control_scale=True)
    if basemap:
        folium.TileLayer(basemap, name=basemap, control=True, show=True).add_to(m)
    if travel_time_tif:
        uri, bounds = raster_png_data_uri(travel_time_tif, thresholds=thresholds)
        folium.raster_layers.ImageOverlay(uri, bounds=bounds, name=t("layer.travel_time", lang),
                                          opacity=1.0, show=True, pixelated=True).add_to(m)
    if layers["districts"] is not None:
        _add_boundaries(m, layers["districts"], lang, simplify_deg)
    if layers["premises"] is not None:
        _add_many_points(m, layers["premises"], name=t("layer.premises", lang), colour=PREMISES_COLOUR,
                         columns=["codlocal", "name", "ccpp_name"], lang=lang, show=False)
    places_layer = _add_places(m, places, lang, list(thresholds))
    if layers["roads"] is not None:  # above the places: thin lines must stay visible
        _add_roads(m, layers["roads"], lang, simplify_deg)
    if layers["tambos"] is not None:
        _add_simple_points(m, layers["tambos"], name=t("layer.tambos", lang), colour=TAMBO_COLOUR,
                           columns=["tambo_code", "name", "ubigeo"], lang=lang, square=False, size=10)
    if layers["extension"] is not None:
        _add_simple_points(m, layers["extension"], name=t("layer.extension", lang), colour=EXTENSION_COLOUR,
                           columns=["facility_id", "name", "parent_cod_mod"], lang=lang, square=True, size=11)
    if layers["cetpro"] is not None:
        _add_simple_points(m, layers["cetpro"], name=t("layer.cetpro", lang), colour=CETPRO_COLOUR,
                           columns=["facility_id", "cod_mod", "name", "district", "enrolment", "teachers"],
                           lang=lang, square=True, size=13)
    if layers["proposals"] is not None:
        _add_proposals(m, layers["proposals"], lang)

    plugins.Search(places_layer, search_label="name", geom_type="Point", placeholder=t("ui.search", lang),
                   collapsed=False, position="topright", search_zoom=13).add_to(m)
    plugins.Fullscreen(title=t("ui.fullscreen", lang), title_cancel=t("ui.fullscreen_exit", lang)).add_to(m)
    plugins.MeasureControl(position="topleft", primary_length_unit="kilometers",
                           secondary_length_unit="meters", primary_area_unit="hectares",
                           secondary_area_unit="sqmeters").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    roads_l = layers["roads"]
    road_classes = [] if roads_l is None else sorted(roads_l["road_class"].astype(str).unique())
    has = {k: layers[k] is not None for k in ("cetpro", "extension", "proposals", "tambos", "premises")}
    has["approximate"] = roads_l is not None and bool(roads_l["approximate"].fillna(False).astype(bool).any())
    legend = _legend_html(lang, road_classes=road_classes, notes=list(quality_notes), has=has,
                          thresholds=list(thresholds), title=title or t("ui.legend", lang))
    m.get_root().html.add_child(Element(legend))  # type: ignore[attr-defined]
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def _inline_assets(page: str) -> str:
    """Replace CDN ``<script src>``/``<link href>`` by inline vendored copies; drop unused ones."""
    def script(mt: re.Match) -> str:
        url = mt.group(1)
        fname = url.rsplit("/", 1)[-1]
        if fname in _VENDORED:
            code = (STATIC / _VENDORED[fname]).read_text(encoding="utf-8")
            return f"<script>/* {fname} (vendored) */\n{code}\n</script>"
        if any(u in url for u in _UNUSED):
            return ""
        return mt.group(0)

    def link(mt: re.Match) -> str:
        url = mt.group(1)
        fname = url.rsplit("/", 1)[-1]
        if fname in _VENDORED:
            css = (STATIC / _VENDORED[fname]).read_text(encoding="utf-8")
            return f"<style>/* {fname} (vendored) */\n{css}\n</style>"
        if any(u in url for u in _UNUSED):
            return ""
        return mt.group(0)

    page = re.sub(r'<script src="(https?://[^"]+)"></script>', script, page)
    page = re.sub(r'<link rel="stylesheet" href="(https?://[^"]+)"\s*/?>', link, page)
    return page


def external_resources(page: str) -> list[str]:
    """URLs of scripts and stylesheets an HTML page still loads from the network."""
    return (re.findall(r'<script[^>]+src="(https?://[^"]+)"', page)
            + re.findall(r'<link[^>]+href="(https?://[^"]+)"', page))


def save_map(m: folium.Map, path: str | Path, *, offline: bool = True) -> Path:
    """Write the map as ONE HTML file (atomically).  ``offline`` inlines Leaflet and the
    plugins so that only basemap tiles, if any, need internet."""
    path = Path(path)
    page = m.get_root().render()
    if offline:
        page = _inline_assets(page)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
