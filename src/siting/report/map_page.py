"""The map page as a file: folium's HTML with the vendored Leaflet and plugins inlined (so
the map works offline), unique element ids, and the data layers as ONE escaped JSON
document read by ``static/siting_map.js`` (:func:`payload_json`); written atomically by
:func:`save_map`."""
from __future__ import annotations

import json
import re
from pathlib import Path

import folium

from ..io import atomic_path

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


def payload_json(payload: dict) -> str:
    """JSON safe to place inside ``<script type="application/json">``: ``<``, ``>``, ``&``
    and the line separators U+2028/U+2029 are written as ``\\uXXXX`` escapes, so no value
    can close the script element or start markup; NaN is refused (``allow_nan=False``)."""
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def fix_ids(m: folium.Map) -> None:
    """Give every folium/branca element a sequential id (``map_0000000``, ...) instead of a
    random one, so two identical runs write byte-identical pages.  Children are keyed by
    their names: the keys are rebuilt with the new names."""
    seen: list = []

    def walk(el) -> None:
        seen.append(el)
        for child in list(getattr(el, "_children", {}).values()):
            walk(child)

    walk(m.get_root())
    renamed = {}
    for i, el in enumerate(seen):
        before = el.get_name()
        el._id = f"{i:07d}"
        renamed[before] = el.get_name()
    for el in seen:
        ch = getattr(el, "_children", None)
        if ch:
            el._children = type(ch)((renamed.get(k, k), v) for k, v in ch.items())


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


def _insert_before(page: str, marker: str, text: str) -> str:
    """``text`` inserted before the last ``marker`` (plain slicing: no regex replacement
    ever sees data, so backslashes and ``$`` in it stay as they are)."""
    i = page.rfind(marker)
    if i < 0:
        raise ValueError(f"the rendered map has no {marker}")
    return page[:i] + text + page[i:]


def render_page(m: folium.Map, *, offline: bool = True) -> str:
    """The whole HTML page of a map made by :func:`make_map`.

    folium renders only the scaffolding; then the legend (HTML-escaped text) goes before
    ``</body>`` and the data layers as ONE ``<script type="application/json">`` document
    (:func:`payload_json`) plus ``static/siting_map.js`` before ``</html>``.  None of this
    passes through a template engine.
    """
    page = m.get_root().render()
    if offline:
        page = _inline_assets(page)
    legend = getattr(m, "siting_legend", "")
    payload = getattr(m, "siting_payload", None)
    if legend:
        page = _insert_before(page, "</body>", legend + "\n")
    if payload is not None:
        script = (STATIC / "siting_map.js").read_text(encoding="utf-8")
        page = _insert_before(page, "</html>",
                              f'<script type="application/json" id="siting-map-data">{payload_json(payload)}</script>\n'
                              f"<script>/* siting_map.js */\n{script}</script>\n")
    return page


def save_map(m: folium.Map, path: str | Path, *, offline: bool = True) -> Path:
    """Write the map as ONE HTML file (atomically).  ``offline`` inlines Leaflet and the
    plugins so that only basemap tiles, if any, need internet."""
    path = Path(path)
    page = render_page(m, offline=offline)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
