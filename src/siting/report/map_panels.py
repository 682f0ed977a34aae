"""The parts of the interactive map that name things for a reader (issue #17, item 8): the
page title with its collapsible data-caveats panel, and the names that replace codes in
popups (nearest centre, parent CETPRO).  Every text is HTML-escaped here; the data layers
stay in the JSON payload that ``static/siting_map.js`` reads with ``textContent``."""
from __future__ import annotations

import html

import geopandas as gpd

from .labels import t


def title_html(title: str, notes: list[str], lang: str) -> str:
    """The map's title (top centre) and its data caveats in a collapsible panel (bottom left,
    closed: a ``<details>`` element, no script); every text HTML-escaped."""
    out = ("<div id='siting-title' style='position:fixed;top:10px;left:50%;transform:translateX(-50%);"
           "z-index:1000;background:rgba(255,255,255,0.92);padding:4px 14px;border:1px solid #999;"
           "border-radius:4px;font:bold 15px/1.3 sans-serif;max-width:50vw;text-align:center'>"
           f"{html.escape(title)}</div>")
    if notes:
        items = "".join(f"<li style='margin-bottom:3px'>{html.escape(n)}</li>" for n in notes)
        summary = html.escape(t("map.caveats_summary", lang).format(n=len(notes)))
        out += ("<details id='siting-caveats' style='position:fixed;bottom:52px;left:10px;z-index:1000;"
                "background:rgba(255,248,230,0.96);border:1px solid #f0a030;border-radius:4px;padding:5px 9px;"
                "font:12px/1.35 sans-serif;max-width:min(420px,45vw);max-height:55vh;overflow:auto'>"
                f"<summary style='cursor:pointer;font-weight:bold'>{summary}</summary>"
                f"<ul style='margin:4px 0 0 14px;padding:0'>{items}</ul></details>")
    return out


def facility_names(ext: gpd.GeoDataFrame | None, cet: gpd.GeoDataFrame | None
                    ) -> tuple[gpd.GeoDataFrame | None, dict[str, str]]:
    """The extension centres with their parent's name (``parent_name``) and ``facility_id -> name``
    of every centre (popups show names, not codes)."""
    if ext is not None and cet is not None and "parent_cod_mod" in ext.columns and "cod_mod" in cet.columns:
        parent = dict(zip(cet["cod_mod"].astype(str), cet["name"].astype(str)))
        ext = ext.assign(parent_name=ext["parent_cod_mod"].astype(str).map(parent).to_numpy())
    names: dict[str, str] = {}
    for layer in (cet, ext):
        if layer is not None and {"facility_id", "name"} <= set(layer.columns):
            names.update(zip(layer["facility_id"].astype(str), layer["name"].astype(str)))
    return ext, names
