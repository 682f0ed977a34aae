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
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from folium import plugins
from folium.elements import JSCSSMixin
from folium.template import Template

from .labels import band_colours, band_label, has_label, road_label, t
from .map_page import STATIC, external_resources, fix_ids, payload_json, render_page, save_map
from .map_panels import facility_names, title_html
from .numbers import column_kind, format_value
from .values import column_values, translator

ROAD_COLOURS = {"national_paved": "#1a1a1a", "national_unknown": "#1a1a1a", "departmental_paved": "#4d4d4d",
                "departmental_unpaved": "#8c510a", "vecinal": "#7570b3", "trail": "#999999",
                "urban": "#666666"}
CETPRO_COLOUR, EXTENSION_COLOUR, PROPOSAL_COLOUR = "#08306b", "#2171b5", "#e7298a"
TAMBO_COLOUR, PREMISES_COLOUR = "#238b45", "#969696"


# --------------------------------------------------------------------------- helpers
def _fmt(value: object, lang: str, column: str = "") -> str:
    """One popup value for reading: numbers in the run's convention by the kind of ``column``
    (:mod:`siting.report.numbers`: people ``12,345``, minutes without decimals, shares in %),
    coded text in words (:mod:`siting.report.values`)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return t("ui.yes", lang) if value else t("ui.no", lang)
    if isinstance(value, (int, float, np.integer, np.floating)):
        kind = column_kind(column) if column else "number"
        if kind == "number":
            kind = "people" if float(value).is_integer() or abs(float(value)) >= 100 else "rate"
        return format_value(value, kind, lang=lang)
    fn = translator(column) if column else None
    return str(fn(value, lang) if fn is not None else value)


def _to_4326(gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if gdf is None or len(gdf) == 0:
        return None
    if gdf.crs is None:
        raise ValueError("a map layer has no CRS; set it (EPSG:4326) before mapping")
    return gdf.to_crs("EPSG:4326")


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
    import rasterio
    from PIL import Image, PngImagePlugin
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
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "siting")
    Image.fromarray(np.ascontiguousarray((rgba * 255).astype(np.uint8)), "RGBA").save(buf, format="png", pnginfo=info)
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return uri, [[s4326, w4326], [n4326, e4326]]


def _band_rgba(minutes: np.ndarray, thresholds: list[float], alpha: float = 0.55) -> np.ndarray:
    """RGBA image (floats in [0, 1]): one colour per band (≤t1, t1–t2, …, > t_last), transparent
    where NaN.  The colours are ``#rrggbb`` (:func:`.labels.band_colours`): read here, without
    matplotlib, which the main process then never imports (issue #19)."""
    colours = list(band_colours(thresholds).values())[:-1]  # the time bands, as on every map
    idx = np.digitize(np.nan_to_num(minutes, nan=0.0), thresholds, right=True)
    table = np.array([[int(c[k:k + 2], 16) / 255 for k in (1, 3, 5)] + [alpha] for c in colours])
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
    body = "".join(rows)
    return ("<div id='siting-legend' style='position:fixed;bottom:28px;right:10px;z-index:1000;"
            "background:rgba(255,255,255,0.92);padding:8px 10px;border:1px solid #999;border-radius:4px;"
            "font:12px/1.35 sans-serif;max-height:60vh;overflow:auto'>" + body + "</div>")


# --------------------------------------------------------------------------- layers
# Every layer is a plain dict (a "spec") that goes, with its GeoJSON, into ONE JSON document
# in the page (see :func:`payload_json`); ``static/siting_map.js`` builds the Leaflet layers
# from it and puts every text in with ``textContent``.  No data value is ever passed to
# folium (whose elements re-render their output as Jinja templates) or to a JS string.
_POINT_SIZE = {"cetpro": 13, "extension": 11, "tambos": 10}


def _clean(value: object) -> object:
    """A JSON-safe scalar: NaN/NA -> None, numpy -> Python."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value
    return value


def _feature(x: float, y: float, props: dict) -> dict:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": [round(float(x), 5), round(float(y), 5)]}}


def _popup_fields(columns: Iterable[str], available: Iterable[str], lang: str) -> list[list[str]]:
    have = set(available)
    return [[c, t(c, lang)] for c in columns if c in have]


def _formatted_column(series: pd.Series, column: str, lang: str) -> list[str]:
    """:func:`_fmt` of every value of ``series``, the words of a text value looked up once."""
    words: dict[str, str] = {}
    out = []
    for v in column_values(series):
        if type(v) is str:
            text = words.get(v)
            if text is None:
                text = words[v] = _fmt(v, lang, column)
            out.append(text)
        else:
            out.append(_fmt(_clean(v), lang, column))
    return out


def _formatted(gdf: gpd.GeoDataFrame, columns: list[str], lang: str) -> list[dict]:
    """The popup values of every row, formatted for reading (see :func:`_fmt`), column by
    column (#19); keys in the order of ``columns`` (a repeated column counts once, as in a record)."""
    cols = list(dict.fromkeys(columns))
    sub = gdf[cols]
    values = [_formatted_column(sub.iloc[:, k], c, lang) for k, c in enumerate(cols)]
    if not cols:
        return [{} for _ in range(len(gdf))]
    return [dict(zip(cols, row)) for row in zip(*values)]


def _places_spec(places: gpd.GeoDataFrame, lang: str, thresholds: list[float],
                 facility_names: dict[str, str] | None = None) -> dict:
    radius = population_radius(places["population"])
    bands = places["band"].astype(str).to_numpy()
    colours = band_colours(thresholds)
    props = [c for c in ["name", "district", "province", "ugel", "population", "women",
                         "minutes_nearest", "minutes_to_nearest", "minutes_from_nearest", "nearest_facility",
                         "route_description"] if c in places.columns]
    age_cols = [c for c in places.columns if re.match(r"^(pop|women)_\d+_\d+$", str(c))]
    g = places[props + age_cols + (["ccpp_id"] if "ccpp_id" in places.columns else [])].copy()
    for c in ["population", "women", "minutes_nearest", "minutes_to_nearest", "minutes_from_nearest", *age_cols]:
        if c in g.columns:
            g[c] = pd.to_numeric(g[c], errors="coerce").round(1 if c.startswith("minutes_") else 0)
    if facility_names and "nearest_facility" in g.columns:  # the centre's name, not its code
        near = g["nearest_facility"].astype("string")
        g["nearest_facility"] = near.map(facility_names).fillna(near).astype(object)
    g["band_label"] = [band_label(b, lang) if has_label(f"band.{b}") else b for b in bands]
    fields = props + age_cols + ["band_label"] + (["ccpp_id"] if "ccpp_id" in g.columns else [])
    values = _formatted(g, fields, lang)
    names = ["" if v is None else str(v) for v in g["name"].map(_clean)]
    feats = []
    xs, ys = places.geometry.x.to_numpy(), places.geometry.y.to_numpy()
    for x, y, r, b, val, name in zip(xs, ys, radius, bands, values, names):
        val["name"] = name
        val["search"] = _search_key(name)
        val["_style"] = {"radius": round(float(r) * 2) / 2, "color": "#333333", "weight": 0.4, "fill": True,
                         "fillColor": colours.get(b, "#999999"), "fillOpacity": 0.85}
        feats.append(_feature(x, y, val))
    popup = [[c, t(c, lang) if c != "band_label" else t("band", lang)] for c in fields if c != "ccpp_id"]
    popup += [["ccpp_id", t("ccpp_id", lang)]] if "ccpp_id" in g.columns else []
    return {"name": t("layer.places", lang), "kind": "circle", "show": True, "tooltip": "name", "popup": popup,
            "search": True, "data": {"type": "FeatureCollection", "features": feats}}


#: names that are properties of every JavaScript object: leaflet-search indexes places in a
#: plain object keyed by name, so such a name gets a trailing space to stay a plain record
_JS_RESERVED = frozenset(dir(object)) | {"__proto__", "constructor", "hasOwnProperty", "isPrototypeOf",
                                         "propertyIsEnumerable", "toLocaleString", "toString", "valueOf",
                                         "__defineGetter__", "__defineSetter__", "__lookupGetter__",
                                         "__lookupSetter__"}


def _search_key(name: str) -> str:
    return name + " " if name in _JS_RESERVED else name


def _icon(colour: str, size: int, square: bool, label: object = None) -> dict:
    radius = "2px" if square else "50%"
    style = (f"width:{size}px;height:{size}px;background:{colour};border:1.5px solid white;"
             f"border-radius:{radius};box-shadow:0 0 2px #000")
    return {"size": size, "style": style, "label": label}


def _markers_spec(gdf: gpd.GeoDataFrame, *, name: str, colour: str, columns: list[str], lang: str,
                  square: bool, size: int, title_col: str = "name") -> dict:
    cols = [c for c in columns if c in gdf.columns]
    values = _formatted(gdf, cols, lang)
    titles = ["" if v is None else str(v) for v in
              (gdf[title_col].map(_clean) if title_col in gdf.columns else [None] * len(gdf))]
    feats = []
    for x, y, val, title in zip(gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy(), values, titles):
        val["_title"] = title
        val["_icon"] = _icon(colour, size, square)
        feats.append(_feature(x, y, val))
    return {"name": name, "kind": "marker", "show": True, "tooltip": "_title", "popup_title": "_title",
            "popup": _popup_fields(cols, cols, lang), "popup_width": 360,
            "data": {"type": "FeatureCollection", "features": feats}}


def _many_points_spec(gdf: gpd.GeoDataFrame, *, name: str, colour: str, columns: list[str], lang: str,
                      show: bool) -> dict:
    """Thousands of small points (e.g. school premises) as one canvas layer."""
    cols = [c for c in columns if c in gdf.columns]
    values = _formatted(gdf, cols, lang)
    feats = [_feature(x, y, val) for x, y, val in zip(gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy(), values)]
    return {"name": name, "kind": "circle", "show": show, "popup": _popup_fields(cols, cols, lang),
            "style": {"radius": 2.5, "fill": True, "color": colour, "weight": 0.5, "fillColor": colour,
                      "fillOpacity": 0.8},
            "data": {"type": "FeatureCollection", "features": feats}}


PROPOSAL_COLUMNS = ["rank", "name", "district", "province", "ugel", "parent_name", "teacher_minutes", "new_population",
                    "new_women", "new_target", "new_women_target", "nearest_existing",
                    "minutes_saved", "host_premises", "score", "top_criteria", "ccpp_id"]


def _proposals_spec(proposals: gpd.GeoDataFrame, lang: str) -> dict:
    p = proposals.sort_values("rank")
    cols = [c for c in PROPOSAL_COLUMNS if c in p.columns]
    values = _formatted(p, cols, lang)
    feats = []
    for x, y, rank, name, val in zip(p.geometry.x.to_numpy(), p.geometry.y.to_numpy(), p["rank"].to_numpy(),
                                     p.get("name", pd.Series([""] * len(p))).map(_clean), values):
        rank = int(rank)
        val["_title"] = f"{rank}. {'' if name is None else name}"
        val["rank_number"] = rank
        val["_icon"] = {"size": 24, "css_class": "siting-proposal", "label": str(rank),
                        "style": (f"width:24px;height:24px;border-radius:50%;background:{PROPOSAL_COLOUR};"
                                  "color:white;font:bold 12px/24px sans-serif;text-align:center;"
                                  "border:2px solid white;box-shadow:0 0 3px #000")}
        feats.append(_feature(x, y, val))
    return {"name": t("layer.proposals", lang), "kind": "marker", "show": True, "tooltip": "_title",
            "popup_title": "_title", "popup": _popup_fields(cols, cols, lang), "popup_width": 420,
            "data": {"type": "FeatureCollection", "features": feats}}


def _geometry_collection(gdf: gpd.GeoDataFrame, props: list[str], styles: list[dict] | None = None) -> dict:
    """A GeoJSON FeatureCollection of any geometries, properties cleaned for JSON."""
    import shapely

    feats = []
    geoms = shapely.to_geojson(np.asarray(gdf.geometry.values))
    records = gdf[props].to_dict("records")
    for i, (geom, rec) in enumerate(zip(geoms, records)):
        if geom is None:
            continue
        pr = {k: _clean(v) for k, v in rec.items()}
        if styles is not None:
            pr["_style"] = styles[i]
        feats.append({"type": "Feature", "properties": pr, "geometry": json.loads(geom)})
    return {"type": "FeatureCollection", "features": feats}


def _round_coordinates(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    import shapely

    g = gdf.copy()
    g["geometry"] = shapely.set_precision(np.asarray(g.geometry.values), 1e-5)
    return g


def _roads_spec(roads: gpd.GeoDataFrame, lang: str, tolerance_deg: float) -> dict:
    r = roads[["road_class", "approximate", "geometry"]].copy()
    r["approximate"] = r["approximate"].fillna(False).astype(bool)
    r["geometry"] = r.geometry.force_2d().simplify(tolerance_deg)
    r["road_class"] = r["road_class"].astype(str)
    r["road_class_label"] = [road_label(c, lang) for c in r["road_class"]]
    styles = [{"color": ROAD_COLOURS.get(c, "#444444"), "weight": 2.5 if "paved" in c else 1.6, "opacity": 0.85,
               "dashArray": "6 5" if a else None} for c, a in zip(r["road_class"], r["approximate"])]
    return {"name": t("layer.roads", lang), "kind": "line", "show": True, "tooltip": "road_class_label",
            "data": _geometry_collection(_round_coordinates(r), ["road_class_label"], styles)}


def _boundary_specs(districts: gpd.GeoDataFrame, lang: str, tolerance_deg: float) -> list[dict]:
    d = districts[["ubigeo", "district", "province", "ugel", "geometry"]].copy()
    d["geometry"] = d.geometry.simplify(tolerance_deg, preserve_topology=True)
    u = districts[["ugel", "geometry"]].dissolve(by="ugel", as_index=False)
    u["geometry"] = u.geometry.simplify(tolerance_deg * 2, preserve_topology=True)
    return [
        {"name": t("layer.districts", lang), "kind": "polygon", "show": True, "tooltip": "district",
         "popup": [["district", t("district", lang)], ["province", t("province", lang)]],
         "style": {"color": "#555555", "weight": 0.8, "fill": False, "dashArray": "2 3"},
         "data": _geometry_collection(_round_coordinates(d), ["district", "province", "ugel"])},
        {"name": t("layer.ugels", lang), "kind": "polygon", "show": True, "tooltip": "ugel",
         "style": {"color": "#111111", "weight": 2.2, "fill": False},
         "data": _geometry_collection(_round_coordinates(u), ["ugel"])},
    ]


class _SearchAssets(JSCSSMixin, MacroElement):
    """Only the leaflet-search JS/CSS links (the control itself is built by siting_map.js)."""

    default_js = [("Leaflet.Search.js", "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.js")]
    default_css = [("Leaflet.Search.css",
                    "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.css")]
    _template = Template("{% macro script(this, kwargs) %}{% endmacro %}")


# --------------------------------------------------------------------------- public
def make_map(places: gpd.GeoDataFrame, *, cetpro: gpd.GeoDataFrame | None = None,
             extension: gpd.GeoDataFrame | None = None, proposals: gpd.GeoDataFrame | None = None,
             tambos: gpd.GeoDataFrame | None = None, premises: gpd.GeoDataFrame | None = None,
             roads: gpd.GeoDataFrame | None = None, districts: gpd.GeoDataFrame | None = None,
             travel_time_tif: str | Path | None = None, thresholds: Iterable[float] = (30, 60, 120),
             quality_notes: Iterable[str] = (), title: str = "", area_name: str = "", lang: str = "es",
             basemap: str | None = "OpenStreetMap", simplify_deg: float = 0.0005) -> folium.Map:
    """Build the interactive map of a run.

    ``places`` follows the places contract (``band``, ``population``, ...).  Every other
    layer is optional; an empty or ``None`` layer is simply left out.  ``basemap=None``
    draws no tile layer (fully offline).  ``title`` (default "Access to ...: ``area_name``")
    heads the page; ``quality_notes`` go into a collapsible caveats panel.  ``simplify_deg`` is
    the Douglas-Peucker tolerance for roads and boundaries (degrees; 0.0005 ≈ 55 m).

    The returned :class:`folium.Map` holds only the scaffolding (tiles, raster, controls);
    the data layers and the legend travel beside it (``m.siting_payload``,
    ``m.siting_legend``) and are added by :func:`render_page` / :func:`save_map` as one
    escaped JSON document and escaped HTML, never through folium's templates.
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
    base: list[tuple[str, folium.TileLayer]] = []
    if basemap:
        tiles = folium.TileLayer(basemap, name=basemap, control=True, show=True)
        tiles.add_to(m)
        base.append((basemap, tiles))
    specs: list[dict] = []
    if travel_time_tif:
        uri, bounds = raster_png_data_uri(travel_time_tif, thresholds=thresholds)
        overlay = folium.raster_layers.ImageOverlay(uri, bounds=bounds, name=t("layer.travel_time", lang),
                                                    opacity=1.0, show=True, pixelated=True, control=False)
        overlay.add_to(m)
        specs.append({"name": t("layer.travel_time", lang), "type": "var", "var": overlay, "show": True})
    if layers["districts"] is not None:
        specs += _boundary_specs(layers["districts"], lang, simplify_deg)
    if layers["premises"] is not None:
        specs.append(_many_points_spec(layers["premises"], name=t("layer.premises", lang), colour=PREMISES_COLOUR,
                                       columns=["codlocal", "name", "ccpp_name"], lang=lang, show=False))
    layers["extension"], names = facility_names(layers["extension"], layers["cetpro"])
    specs.append(_places_spec(places, lang, list(thresholds), names))
    if layers["roads"] is not None:  # above the places: thin lines must stay visible
        specs.append(_roads_spec(layers["roads"], lang, simplify_deg))
    for key, colour, cols, square in (
            ("tambos", TAMBO_COLOUR, ["tambo_code", "name", "ubigeo"], False),
            ("extension", EXTENSION_COLOUR, ["name", "parent_name", "district", "facility_id"], True),
            ("cetpro", CETPRO_COLOUR, ["name", "district", "enrolment", "teachers", "cod_mod"], True)):
        if layers[key] is not None:
            specs.append(_markers_spec(layers[key], name=t(f"layer.{key}", lang), colour=colour, columns=cols,
                                       lang=lang, square=square, size=_POINT_SIZE[key]))
    if layers["proposals"] is not None:
        specs.append(_proposals_spec(layers["proposals"], lang))

    _SearchAssets().add_to(m)
    plugins.Fullscreen(title=t("ui.fullscreen", lang), title_cancel=t("ui.fullscreen_exit", lang)).add_to(m)
    plugins.MeasureControl(position="topleft", primary_length_unit="kilometers",
                           secondary_length_unit="meters", primary_area_unit="hectares",
                           secondary_area_unit="sqmeters").add_to(m)
    roads_l = layers["roads"]
    road_classes = [] if roads_l is None else sorted(roads_l["road_class"].astype(str).unique())
    has = {k: layers[k] is not None for k in ("cetpro", "extension", "proposals", "tambos", "premises")}
    has["approximate"] = roads_l is not None and bool(roads_l["approximate"].fillna(False).astype(bool).any())
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    legend = _legend_html(lang, road_classes=road_classes, notes=[], has=has, thresholds=list(thresholds),
                          title=t("ui.legend", lang))
    page_title = title or t("map.page_title", lang).format(area=area_name or t("map.region", lang))
    m.siting_legend = title_html(page_title, list(quality_notes), lang) + legend  # type: ignore[attr-defined]
    fix_ids(m)  # names are final from here on
    for spec in specs:
        if spec.get("type") == "var":
            spec["var"] = spec["var"].get_name()
    payload = {"map": m.get_name(), "base": [[n, el.get_name()] for n, el in base], "layers": specs,
               "search": {"property": "search", "position": "topright", "zoom": 13,
                          "placeholder": t("ui.search", lang), "not_found": t("ui.not_found", lang),
                          "cancel": t("ui.cancel", lang)}}
    m.siting_payload = payload  # type: ignore[attr-defined]
    return m


__all__ = ["make_map", "save_map", "render_page", "external_resources", "payload_json", "population_radius",
           "raster_png_data_uri", "STATIC"]
