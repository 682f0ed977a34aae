"""QGIS styles (QML) and GeoPackage metadata, so that every layer opens styled and labelled.

* :func:`default_styles` - the QML styles of a layer, chosen from its name and columns:
  populated places by travel-time band with the web map's colours (``labels.BAND_COLOURS``)
  and population-sized circles (diameter ``1.06 + 5.29 * sqrt(p / max p)`` mm, the web
  map's ``2 + 10 * sqrt(p / max p)`` pixel radius at 96 dpi); proposals numbered inside
  their marker and labelled with their name; candidates graduated by score; districts and
  UGELs as a graduated choropleth of the target group's share within the main threshold
  (and a second style: people beyond it); isochrones by threshold.
* :func:`raster_style` / :func:`write_raster_style` - the travel-time raster classified by
  band (discrete colour ramp, ``value <= threshold``), written beside the GeoTIFF as
  ``<name>.qml`` (QGIS loads it as the layer's default style).
* :func:`write_gpkg_metadata` - into an existing GeoPackage: field aliases in
  ``gpkg_data_columns`` (GeoPackage schema extension; GDAL reads them as field alternative
  names, QGIS as aliases) and the ``layer_styles`` table QGIS reads (one default style per
  layer, fixed ``update_time`` so identical runs give identical files).

QML is built with :mod:`xml.etree.ElementTree` (every text escaped) in the format of QGIS 3.22+.
"""
from __future__ import annotations

import re
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..io import atomic_path
from .labels import BAND_COLOURS, has_label, t
from .values import band_text

QGIS_VERSION = "3.22.16-Białowieża"
#: ``layer_styles.update_time`` (fixed: byte-identical reruns)
STYLE_TIME = "2000-01-01T00:00:00.000Z"
NO_ACCESS = "sin acceso"
QML_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
_OUTLINE = "51,51,51,255"
PROPOSAL_COLOUR = "#b2182b"
#: choropleth of shares (0-1): low access red, high access green
SHARE_CLASSES = [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.0)]
SHARE_COLOURS = ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"]
PEOPLE_COLOURS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]


@dataclass(frozen=True)
class Style:
    """One QGIS style of a layer (a row of ``layer_styles``)."""

    name: str
    qml: str
    default: bool = True
    description: str = ""


# --------------------------------------------------------------------------- colours
def _rgba(colour: str, alpha: int = 255) -> str:
    c = colour.lstrip("#")
    return f"{int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)},{alpha}"


def band_colours(bands: Sequence[str]) -> dict[str, str]:
    """Colour of each band value: the web map's for ``<=30 .. sin acceso``; other thresholds
    sample the same red-yellow-green ramp (as the web and print maps do)."""
    if all(b in BAND_COLOURS for b in bands):
        return {b: BAND_COLOURS[b] for b in bands}
    import matplotlib
    from matplotlib.colors import to_hex
    finite = [b for b in bands if b != NO_ACCESS]
    cmap = matplotlib.colormaps["RdYlGn_r"]
    out = {b: to_hex(cmap(i / max(1, len(finite) - 1))) for i, b in enumerate(finite)}
    if NO_ACCESS in bands:
        out[NO_ACCESS] = BAND_COLOURS[NO_ACCESS]
    return out


def band_order(values) -> list[str]:
    """Band values present, in travel-time order (``<=30``, ``30-60``, ..., ``>120``, ``sin acceso``)."""
    s = pd.Series(values)
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [str(c) for c in s.cat.categories]

    def key(b: str) -> tuple[int, float]:
        if b == NO_ACCESS:
            return (3, 0.0)
        num = re.findall(r"\d+(?:\.\d+)?", b)
        first = float(num[0]) if num else 0.0
        return (0, first) if b.startswith("<=") else ((2, first) if b.startswith(">") else (1, first))
    return sorted({str(v) for v in s.dropna()}, key=key)


# --------------------------------------------------------------------------- XML pieces
def _option_map(props: Mapping[str, str]) -> ET.Element:
    m = ET.Element("Option", type="Map")
    for k, v in props.items():
        ET.SubElement(m, "Option", name=k, type="QString", value=str(v))
    return m


def _data_defined(exprs: Mapping[str, str] | None = None) -> ET.Element:
    dd = ET.Element("data_defined_properties")
    m = ET.SubElement(dd, "Option", type="Map")
    ET.SubElement(m, "Option", name="name", type="QString", value="")
    props = ET.SubElement(m, "Option", name="properties", type="Map") if exprs else \
        ET.SubElement(m, "Option", name="properties")
    for key, expr in (exprs or {}).items():
        p = ET.SubElement(props, "Option", name=key, type="Map")
        ET.SubElement(p, "Option", name="active", type="bool", value="true")
        ET.SubElement(p, "Option", name="expression", type="QString", value=expr)
        ET.SubElement(p, "Option", name="type", type="int", value="3")  # expression-based property
    ET.SubElement(m, "Option", name="type", type="QString", value="collection")
    return dd


def _symbol_layer(cls: str, props: Mapping[str, str], exprs: Mapping[str, str] | None = None) -> ET.Element:
    layer = ET.Element("layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    layer.append(_option_map(props))
    for k, v in props.items():  # the older <prop> form too: QGIS 3.x reads either
        ET.SubElement(layer, "prop", k=k, v=str(v))
    layer.append(_data_defined(exprs))
    return layer


def _symbol(kind: str, name: str, layers: Sequence[ET.Element], *, alpha: float = 1.0) -> ET.Element:
    sym = ET.Element("symbol", {"type": kind, "name": name, "alpha": f"{alpha:g}", "clip_to_extent": "1",
                                "force_rhr": "0"})
    sym.append(_data_defined())
    sym.extend(layers)
    return sym


def marker(colour: str, *, size_mm: float = 2.0, shape: str = "circle", size_expr: str | None = None,
           name: str = "0", extra: Sequence[ET.Element] = ()) -> ET.Element:
    """A simple marker symbol (optionally data-defined size) plus ``extra`` symbol layers."""
    props = {"angle": "0", "color": _rgba(colour), "horizontal_anchor_point": "1", "joinstyle": "bevel",
             "name": shape, "offset": "0,0", "offset_unit": "MM", "outline_color": _OUTLINE, "outline_style": "solid",
             "outline_width": "0.2", "outline_width_unit": "MM", "scale_method": "diameter", "size": f"{size_mm:g}",
             "size_unit": "MM", "vertical_anchor_point": "1"}
    base = _symbol_layer("SimpleMarker", props, {"size": size_expr} if size_expr else None)
    return _symbol("marker", name, [base, *extra])


def fill(colour: str, *, alpha: int = 255, outline: str = "#4d4d4d", width_mm: float = 0.26,
         name: str = "0") -> ET.Element:
    """A simple fill symbol."""
    props = {"border_width_unit": "MM", "color": _rgba(colour, alpha), "joinstyle": "bevel", "offset": "0,0",
             "offset_unit": "MM", "outline_color": _rgba(outline), "outline_style": "solid",
             "outline_width": f"{width_mm:g}", "outline_width_unit": "MM", "style": "solid"}
    return _symbol("fill", name, [_symbol_layer("SimpleFill", props)])


def line(colour: str, *, width_mm: float = 0.6, name: str = "0") -> ET.Element:
    """A simple line symbol (routes)."""
    props = {"capstyle": "round", "customdash": "5;2", "joinstyle": "round", "line_color": _rgba(colour),
             "line_style": "solid", "line_width": f"{width_mm:g}", "line_width_unit": "MM", "offset": "0",
             "offset_unit": "MM", "use_custom_dash": "0"}
    return _symbol("line", name, [_symbol_layer("SimpleLine", props)])


def _number_layer(field: str) -> ET.Element:
    """A font marker drawing the value of ``field`` (the proposal's rank) inside the marker."""
    props = {"angle": "0", "chr": "1", "color": "255,255,255,255", "font": "Sans Serif", "font_style": "Bold",
             "horizontal_anchor_point": "1", "joinstyle": "miter", "offset": "0,0.05", "offset_unit": "MM",
             "outline_color": "255,255,255,255", "outline_width": "0", "size": "3", "size_unit": "MM",
             "vertical_anchor_point": "1"}
    return _symbol_layer("FontMarker", props, {"char": f'to_string("{field}")'})


def _labeling(expression: str, *, size_pt: float = 8.0, bold: bool = False, max_scale: float = 0.0,
              placement: str = "6", distance_mm: float = 1.5) -> ET.Element:
    """Simple labels from ``expression``, white halo; shown at scales larger than 1:``max_scale``
    when ``max_scale`` > 0 (so thousands of names do not cover the map when zoomed out)."""
    lab = ET.Element("labeling", type="simple")
    settings = ET.SubElement(lab, "settings", calloutType="simple")
    style = ET.SubElement(settings, "text-style", {
        "fieldName": expression, "isExpression": "1", "fontFamily": "Sans Serif", "fontSize": f"{size_pt:g}",
        "fontSizeUnit": "Point", "fontWeight": "75" if bold else "50", "namedStyle": "Bold" if bold else "Regular",
        "textColor": "0,0,0,255", "textOpacity": "1", "fontItalic": "0", "fontUnderline": "0",
        "fontStrikeout": "0", "blendMode": "0", "multilineHeight": "1", "capitalization": "0"})
    ET.SubElement(style, "text-buffer", {"bufferDraw": "1", "bufferSize": "0.8", "bufferSizeUnits": "MM",
                                         "bufferColor": "255,255,255,255", "bufferOpacity": "1",
                                         "bufferNoFill": "1", "bufferJoinStyle": "128", "bufferBlendMode": "0"})
    ET.SubElement(settings, "text-format", {"wrapChar": "", "multilineAlign": "0", "autoWrapLength": "0",
                                            "plussign": "0", "formatNumbers": "0", "decimals": "3"})
    ET.SubElement(settings, "placement", {"placement": placement, "dist": f"{distance_mm:g}", "distUnits": "MM",
                                          "quadOffset": "4", "priority": "5", "offsetType": "0",
                                          "placementFlags": "10", "centroidWhole": "0", "centroidInside": "0"})
    # QGIS writes the most zoomed-out scale denominator at which labels show as "scaleMax"
    ET.SubElement(settings, "rendering", {"scaleVisibility": "1" if max_scale else "0",
                                          "scaleMax": f"{max_scale:g}" if max_scale else "0", "scaleMin": "0",
                                          "obstacle": "1", "drawLabels": "1", "displayAll": "0",
                                          "upsidedownLabels": "0", "limitNumLabels": "0", "mergeLines": "0"})
    return lab


def _aliases(columns: Sequence[str], lang: str) -> ET.Element:
    el = ET.Element("aliases")
    for i, c in enumerate(columns):
        ET.SubElement(el, "alias", field=c, index=str(i), name=t(c, lang) if has_label(c) else "")
    return el


def _geometry_type(gdf: gpd.GeoDataFrame) -> int:
    kinds = set(gdf.geom_type.dropna())
    if kinds <= {"Point", "MultiPoint"}:
        return 0
    if kinds <= {"LineString", "MultiLineString"}:
        return 1
    return 2


def qml_document(renderer: ET.Element, *, columns: Sequence[str], lang: str, geometry_type: int,
                 labeling: ET.Element | None = None, opacity: float = 1.0) -> str:
    """A whole ``.qml`` document: renderer, optional labels, aliases, opacity."""
    root = ET.Element("qgis", {"version": QGIS_VERSION, "styleCategories": "Symbology|Labeling|Fields|Rendering",
                               "labelsEnabled": "1" if labeling is not None else "0",
                               "hasScaleBasedVisibilityFlag": "0", "minScale": "100000000", "maxScale": "0",
                               "simplifyDrawingHints": "0", "readOnly": "0"})
    root.append(renderer)
    if labeling is not None:
        root.append(labeling)
    for tag, text in (("blendMode", "0"), ("featureBlendMode", "0"), ("layerOpacity", f"{opacity:g}")):
        ET.SubElement(root, tag).text = text
    root.append(_aliases(columns, lang))
    ET.SubElement(root, "layerGeometryType").text = str(geometry_type)
    ET.indent(root)
    return QML_DOCTYPE + ET.tostring(root, encoding="unicode") + "\n"


def _renderer(kind: str, **attrib: str) -> ET.Element:
    return ET.Element("renderer-v2", {"type": kind, "symbollevels": "0", "forceraster": "0",
                                      "referencescale": "-1", **attrib})


def _order_by(r: ET.Element, expression: str, *, ascending: bool) -> None:
    r.set("enableorderby", "1")
    ob = ET.SubElement(r, "orderby")
    ET.SubElement(ob, "orderByClause", asc="1" if ascending else "0", nullsFirst="0").text = expression


# --------------------------------------------------------------------------- renderers
def categorized(field: str, categories: Sequence[tuple[str, str, ET.Element]], source: ET.Element) -> ET.Element:
    """``categorizedSymbol`` renderer: (value, label, symbol) per category."""
    r = _renderer("categorizedSymbol", attr=field, enableorderby="0")
    cats, syms = ET.SubElement(r, "categories"), ET.SubElement(r, "symbols")
    for i, (value, label, sym) in enumerate(categories):
        ET.SubElement(cats, "category", value=str(value), label=label, symbol=str(i), render="true")
        sym.set("name", str(i))
        syms.append(sym)
    src = ET.SubElement(r, "source-symbol")
    src.append(source)
    return r


def graduated(field: str, ranges: Sequence[tuple[float, float, str, ET.Element]], source: ET.Element,
              *, decimals: int = 1) -> ET.Element:
    """``graduatedSymbol`` renderer: (lower, upper, label, symbol) per class, ``lower < v <= upper``."""
    r = _renderer("graduatedSymbol", attr=field, graduatedMethod="GraduatedColor", enableorderby="0")
    rs, syms = ET.SubElement(r, "ranges"), ET.SubElement(r, "symbols")
    for i, (lo, hi, label, sym) in enumerate(ranges):
        ET.SubElement(rs, "range", lower=f"{lo:.6f}", upper=f"{hi:.6f}", label=label, symbol=str(i), render="true")
        sym.set("name", str(i))
        syms.append(sym)
    src = ET.SubElement(r, "source-symbol")
    src.append(source)
    method = ET.SubElement(r, "classificationMethod", id="EqualInterval")
    ET.SubElement(method, "symmetricMode", enabled="0", symmetrypoint="0", astride="0")
    ET.SubElement(method, "labelFormat", format="%1 - %2", labelprecision=str(decimals), trimtrailingzeroes="1")
    ET.SubElement(method, "extraInformation")
    return r


def single(symbol: ET.Element) -> ET.Element:
    """``singleSymbol`` renderer."""
    r = _renderer("singleSymbol", enableorderby="0")
    syms = ET.SubElement(r, "symbols")
    symbol.set("name", "0")
    syms.append(symbol)
    return r


# --------------------------------------------------------------------------- layer styles
def _size_expression(gdf: gpd.GeoDataFrame, field: str = "population") -> str | None:
    if field not in gdf:
        return None
    top = float(pd.to_numeric(gdf[field], errors="coerce").clip(lower=0).max() or 0.0)
    if not np.isfinite(top) or top <= 0:
        return None
    return f'1.06 + 5.29 * sqrt(max(coalesce("{field}", 0), 0) / {top:.6g})'


def places_style(gdf: gpd.GeoDataFrame, lang: str, *, field: str = "band") -> Style:
    """Points by travel-time band (web map colours), sized by population, names at 1:50,000."""
    bands = band_order(gdf[field])
    colours = band_colours(bands)
    size = _size_expression(gdf)
    cats = [(b, str(band_text(b, lang)), marker(colours[b], size_expr=size)) for b in bands]
    r = categorized(field, cats, marker("#999999", size_expr=size))
    if "population" in gdf:
        _order_by(r, '"population"', ascending=False)  # small places drawn on top of large ones
    label = _labeling('"name"', size_pt=7, max_scale=50000) if "name" in gdf else None
    qml = qml_document(r, columns=_columns(gdf), lang=lang, geometry_type=0, labeling=label)
    return Style(t("layer.places", lang), qml, True, t("ui.size_by_population", lang))


def proposals_style(gdf: gpd.GeoDataFrame, lang: str) -> Style:
    """Numbered markers (the rank inside) labelled with the place name."""
    number = [_number_layer("rank")] if "rank" in gdf else []
    sym = marker(PROPOSAL_COLOUR, size_mm=5.0, extra=number)
    label = _labeling('"name"', size_pt=9, bold=True, distance_mm=2.5) if "name" in gdf else None
    qml = qml_document(single(sym), columns=_columns(gdf), lang=lang, geometry_type=0, labeling=label)
    return Style(t("layer.proposals", lang), qml, True, t("layerdesc.proposals", lang))


def _ramp_ranges(values: pd.Series, colours: Sequence[str], make, *, kind: str, lang: str,
                 fixed: Sequence[tuple[float, float]] | None = None) -> list:
    from . import numbers as nb
    if fixed is None:
        x = pd.to_numeric(values, errors="coerce").to_numpy(float)
        x = x[np.isfinite(x)]
        if not x.size:
            return []
        edges = np.unique(np.quantile(x, np.linspace(0, 1, len(colours) + 1)))
        if edges.size < 2:
            edges = np.array([edges[0], edges[0] + 1.0])
        fixed = list(zip(edges[:-1], edges[1:]))  # QGIS: lower <= v <= upper, the first matching class
    n = len(fixed)
    pick = [colours[round(i * (len(colours) - 1) / max(1, n - 1))] for i in range(n)]
    out = []
    for (lo, hi), colour in zip(fixed, pick):
        label = f"{nb.format_value(lo, kind, lang=lang)} – {nb.format_value(hi, kind, lang=lang)}"
        out.append((float(lo), float(hi), label, make(colour)))
    return out


def candidates_style(gdf: gpd.GeoDataFrame, lang: str) -> Style:
    """Candidates graduated by score (five quantile classes, yellow to red)."""
    ranges = _ramp_ranges(gdf["score"], PEOPLE_COLOURS, lambda c: marker(c, size_mm=2.6), kind="score",
                          lang=lang) if "score" in gdf else []
    r = graduated("score", ranges, marker("#fd8d3c", size_mm=2.6), decimals=3) if ranges else \
        single(marker("#fd8d3c", size_mm=2.6))
    qml = qml_document(r, columns=_columns(gdf), lang=lang, geometry_type=0)
    return Style(t("layer.candidates", lang), qml, True, t("layerdesc.candidates", lang))


def _choropleth_field(gdf: gpd.GeoDataFrame, main_threshold: float | None) -> tuple[str | None, str | None]:
    """(share field, people field) of the target group at the main threshold, e.g.
    (``share_pop_15_29_within_60``, ``pop_15_29_beyond_60``)."""
    shares = [c for c in gdf.columns if re.fullmatch(r"share_pop_\d+_\d+_within_\d+(?:_\d+)?", c)]
    if not shares:
        shares = [c for c in gdf.columns if re.fullmatch(r"share_population_within_\d+(?:_\d+)?", c)]
    if not shares:
        return None, None
    want = f"{main_threshold:g}".replace(".", "_") if main_threshold else None
    chosen = next((c for c in shares if want and c.endswith(f"_within_{want}")), shares[len(shares) // 2])
    people = chosen.removeprefix("share_").replace("_within_", "_beyond_")
    return chosen, people if people in gdf.columns else None


def choropleth_styles(gdf: gpd.GeoDataFrame, lang: str, *, title: str, main_threshold: float | None = 60.0,
                      share_field: str | None = None) -> list[Style]:
    """Graduated polygons: the target group's share within the main threshold (default style,
    fixed classes of 20 %, red = low access) and the people beyond it (quantile classes)."""
    share, people = _choropleth_field(gdf, main_threshold)
    share = share_field or share
    styles = []
    cols = _columns(gdf)
    label = _labeling('"unit"' if "unit" in gdf else ('"district"' if "district" in gdf else '"ugel"'),
                      size_pt=7, placement="1") if {"unit", "district", "ugel"} & set(gdf.columns) else None
    if share:
        ranges = _ramp_ranges(gdf[share], SHARE_COLOURS, lambda c: fill(c, alpha=200), kind="share", lang=lang,
                              fixed=SHARE_CLASSES)
        r = graduated(share, ranges, fill("#cccccc", alpha=200))
        styles.append(Style(f"{title}: {t(share, lang)}", qml_document(r, columns=cols, lang=lang, geometry_type=2,
                                                                       labeling=label), True, t(share, lang)))
    if people:
        ranges = _ramp_ranges(gdf[people], PEOPLE_COLOURS, lambda c: fill(c, alpha=200), kind="people", lang=lang)
        if ranges:
            r = graduated(people, ranges, fill("#cccccc", alpha=200), decimals=0)
            styles.append(Style(f"{title}: {t(people, lang)}", qml_document(
                r, columns=cols, lang=lang, geometry_type=2, labeling=label), not styles, t(people, lang)))
    if not styles:
        styles.append(Style(title, qml_document(single(fill("#cccccc", alpha=120)), columns=cols, lang=lang,
                                                geometry_type=2, labeling=label)))
    return styles


def isochrones_style(gdf: gpd.GeoDataFrame, lang: str) -> Style:
    """Isochrone polygons by threshold, semi-transparent, the smallest drawn on top."""
    field = "threshold_min" if "threshold_min" in gdf else "min_to"
    values = sorted(float(v) for v in gdf[field].dropna().unique())
    colours = band_colours([f"<={values[0]:g}"] + [f"{a:g}-{b:g}" for a, b in zip(values[:-1], values[1:])]) \
        if values else {}
    cats = [(f"{v:g}", f"≤ {v:g} min", fill(c, alpha=110, outline=c, width_mm=0.4))
            for v, c in zip(values, colours.values())]
    r = categorized(field, cats, fill("#999999", alpha=110))
    _order_by(r, f'"{field}"', ascending=False)
    qml = qml_document(r, columns=_columns(gdf), lang=lang, geometry_type=2)
    return Style(t("layer.isochrones", lang), qml, True, t("layerdesc.isochrones", lang))


def _columns(gdf: pd.DataFrame) -> list[str]:
    return [str(c) for c in gdf.columns if c != "geometry"]


#: layer name -> (title label, description label)
LAYER_TEXT = {
    "centros_poblados": ("layer.places", "layerdesc.places"),
    "propuestas": ("layer.proposals", "layerdesc.proposals"),
    "candidatos": ("layer.candidates", "layerdesc.candidates"),
    "excluidos": ("layer.excluded", "layerdesc.excluded"),
    "distritos": ("layer.districts", "layerdesc.districts"),
    "ugel": ("layer.ugels", "layerdesc.ugels"),
    "isocronas": ("layer.isochrones", "layerdesc.isochrones"),
    "rutas": ("layer.routes", "layerdesc.routes"),
}


def layer_text(name: str, lang: str) -> tuple[str, str]:
    """(title, description) of a layer for ``gpkg_contents`` (the name itself when unknown)."""
    if name in LAYER_TEXT:
        title, desc = LAYER_TEXT[name]
        return t(title, lang), t(desc, lang)
    return name, ""


def default_styles(name: str, gdf: gpd.GeoDataFrame, lang: str = "es", *,
                   main_threshold: float | None = 60.0) -> list[Style]:
    """The styles of layer ``name`` (the first default), from its name and columns."""
    geom = _geometry_type(gdf) if len(gdf) else 0
    if name == "propuestas" or (geom == 0 and {"rank", "parent_name"} <= set(gdf.columns)):
        return [proposals_style(gdf, lang)]
    if name == "candidatos" or (geom == 0 and "score" in gdf and "rank" in gdf):
        return [candidates_style(gdf, lang)]
    if geom == 0 and "band" in gdf:
        return [places_style(gdf, lang)]
    if "threshold_min" in gdf or "min_to" in gdf:
        return [isochrones_style(gdf, lang)]
    if geom == 2:
        return choropleth_styles(gdf, lang, title=layer_text(name, lang)[0], main_threshold=main_threshold)
    sym = marker("#7f7f7f", size_mm=1.6) if geom == 0 else line("#c2185b") if geom == 1 else fill("#cccccc", alpha=120)
    qml = qml_document(single(sym), columns=_columns(gdf), lang=lang, geometry_type=geom)
    return [Style(layer_text(name, lang)[0], qml, True, layer_text(name, lang)[1])]


# --------------------------------------------------------------------------- raster
def raster_style(thresholds: Sequence[float], lang: str = "es", *, opacity: float = 0.8) -> str:
    """QML of the travel-time raster: one colour per band, ``value <= threshold`` (discrete),
    nodata transparent."""
    th = [float(x) for x in thresholds]
    bands = [f"<={th[0]:g}"] + [f"{a:g}-{b:g}" for a, b in zip(th[:-1], th[1:])] + [f">{th[-1]:g}"]
    colours = band_colours(bands)
    root = ET.Element("qgis", {"version": QGIS_VERSION, "styleCategories": "Symbology",
                               "hasScaleBasedVisibilityFlag": "0", "minScale": "1e+08", "maxScale": "0"})
    pipe = ET.SubElement(root, "pipe")
    rr = ET.SubElement(pipe, "rasterrenderer", {"type": "singlebandpseudocolor", "band": "1",
                                                "opacity": f"{opacity:g}", "alphaBand": "-1", "nodataColor": "",
                                                "classificationMin": "0", "classificationMax": f"{th[-1] * 2:g}"})
    ET.SubElement(rr, "rasterTransparency")
    mm = ET.SubElement(rr, "minMaxOrigin")
    for tag, text in (("limits", "None"), ("extent", "WholeRaster"), ("statAccuracy", "Estimated"),
                      ("cumulativeCutLower", "0.02"), ("cumulativeCutUpper", "0.98"), ("stdDevFactor", "2")):
        ET.SubElement(mm, tag).text = text
    shader = ET.SubElement(rr, "rastershader")
    ramp = ET.SubElement(shader, "colorrampshader", {"colorRampType": "DISCRETE", "classificationMode": "2",
                                                     "clip": "0", "minimumValue": "0",
                                                     "maximumValue": f"{th[-1] * 2:g}", "labelPrecision": "0"})
    uppers = [f"{x:g}" for x in th] + ["inf"]
    for b, upper in zip(bands, uppers):
        ET.SubElement(ramp, "item", alpha="255", value=upper, label=str(band_text(b, lang)), color=colours[b])
    ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    ET.SubElement(pipe, "huesaturation", saturation="0", grayscaleMode="0", colorizeOn="0", colorizeRed="255",
                  colorizeGreen="128", colorizeBlue="128", colorizeStrength="100", invertColors="0")
    ET.SubElement(pipe, "rasterresampler", maxOversampling="2")
    ET.SubElement(root, "blendMode").text = "0"
    ET.indent(root)
    return QML_DOCTYPE + ET.tostring(root, encoding="unicode") + "\n"


def write_raster_style(raster: str | Path, thresholds: Sequence[float], lang: str = "es") -> Path:
    """Write ``<raster stem>.qml`` beside the GeoTIFF (QGIS applies it on opening)."""
    path = Path(raster).with_suffix(".qml")
    with atomic_path(path) as tmp:
        tmp.write_text(raster_style(thresholds, lang), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- GeoPackage
_DATA_COLUMNS_DDL = """CREATE TABLE IF NOT EXISTS gpkg_data_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT,
  mime_type TEXT, constraint_name TEXT,
  CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
  CONSTRAINT gdc_tn UNIQUE (table_name, name))"""
_CONSTRAINTS_DDL = """CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
  constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT, min NUMERIC,
  min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
  CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value))"""
_STYLES_DDL = """CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
  useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME)"""
SCHEMA_EXTENSION = "http://www.geopackage.org/spec121/#extension_schema"


def write_gpkg_metadata(path: str | Path, layers: Mapping[str, tuple[Mapping[str, str], Sequence[Style]]]) -> None:
    """Add field aliases and QGIS styles to the GeoPackage ``path`` (written by GDAL).

    ``layers``: layer name -> (``{column: alias}``, styles).  Aliases go to
    ``gpkg_data_columns`` (``name`` and ``title``), registered as the GeoPackage schema
    extension; styles to ``layer_styles`` (registered in ``gpkg_contents`` as attributes,
    as QGIS does when it saves a style into a GeoPackage).
    """
    con = sqlite3.connect(str(path))
    try:
        with con:
            con.execute(_DATA_COLUMNS_DDL)
            con.execute(_CONSTRAINTS_DDL)
            for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
                con.execute("INSERT OR IGNORE INTO gpkg_extensions (table_name, column_name, extension_name, "
                            "definition, scope) VALUES (?, NULL, 'gpkg_schema', ?, 'read-write')",
                            (table, SCHEMA_EXTENSION))
            con.execute(_STYLES_DDL)
            con.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, "
                        "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', "
                        "'QGIS styles of the layers', ?)", (STYLE_TIME,))
            for name, (aliases, styles) in layers.items():
                geom_col = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                                       (name,)).fetchone()
                for column, alias in aliases.items():
                    con.execute("INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, title) "
                                "VALUES (?, ?, ?, ?)", (name, column, alias, alias))
                for style in styles:
                    con.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, "
                                "ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', ?, ?, 'siting', NULL, ?)",
                                (name, geom_col[0] if geom_col else "", style.name,
                                 style.qml, int(style.default), style.description, STYLE_TIME))
    finally:
        con.close()

