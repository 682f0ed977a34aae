"""Print-quality static maps (PNG and PDF) with matplotlib, no basemap tiles.

Two maps, for the whole region and for each UGEL:

- :func:`travel_time_map`: the travel-time raster in bands, district/UGEL boundaries,
  CETPRO and extension centres;
- :func:`proposals_map`: populated places coloured by band and sized by population, CETPRO,
  extension centres and the numbered proposals.

Each map is one A4 page: a title, the map with a scale bar, a north arrow and the names of
the largest places (and of the proposals), the legend below the map (never over data) and a
source note at the foot, wrapped on word boundaries, naming
the data and its gaps.  Maps are drawn in the study area's projected CRS (metres), so the
scale bar is exact.  :func:`write_static_maps` writes every map as ``.png`` (150 dpi)
and ``.pdf`` atomically.
"""
from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import patheffects  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from ..io import atomic_path  # noqa: E402
from .labels import band_colours, band_label, t  # noqa: E402
from .slugs import slug, unique_slugs  # noqa: E402, F401  (re-exported: the map file names)

CETPRO_COLOUR, EXTENSION_COLOUR, PROPOSAL_COLOUR = "#08306b", "#2171b5", "#e7298a"




def plain_text(text: object) -> str:
    """``text`` drawn as typed by matplotlib: every ``$`` is escaped (``\\$``), so a name such as
    ``$\\frac{a}{b}$`` is never parsed as mathtext (which draws markup or raises)."""
    return str(text).replace("$", "\\$")


def nice_scale_length(extent_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^k m) close to a fifth of ``extent_m``."""
    target = max(extent_m / 5.0, 1.0)
    k = 10 ** math.floor(math.log10(target))
    for f in (5, 2, 1):
        if f * k <= target:
            return float(f * k)
    return float(k)


def add_scale_bar(ax: plt.Axes, *, lang: str = "es") -> float:
    """Draw a black/white scale bar at the lower left (axes in metres); returns its length (m)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_scale_length(x1 - x0)
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(plt.Rectangle((bx + i * length / 2, by), length / 2, h, facecolor=colour,
                                   edgecolor="black", lw=0.8, zorder=20))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx + length / 2, by + 1.8 * h, label, ha="center", va="bottom", fontsize=8, zorder=20)
    return length


def add_north_arrow(ax: plt.Axes, *, lang: str = "es") -> None:
    """Draw a north arrow at the upper right (projected axes: north is up)."""
    ax.annotate(t("map.north", lang), xy=(0.95, 0.95), xytext=(0.95, 0.86), xycoords="axes fraction",
                ha="center", va="center", fontsize=12, fontweight="bold", zorder=20,
                arrowprops=dict(facecolor="black", width=4, headwidth=11, headlength=10))


def _source_note(fig: plt.Figure, notes: Sequence[str], lang: str) -> float:
    """Sources and caveats at the foot of the page, wrapped on word boundaries; returns the
    height they take (figure fraction).  Wrapped here (matplotlib's ``wrap=True`` re-measures
    the text on every draw, which took minutes for a long note)."""
    width = int(fig.get_figwidth() * 19)  # characters per line at 6.5 pt
    lines = textwrap.wrap(t("map.source_note", lang), width, break_long_words=False)
    for n in notes:
        lines += textwrap.wrap(f"⚠ {n}", width, break_long_words=False, break_on_hyphens=False)
    if notes:
        lines += textwrap.wrap(t("map.full_caveats", lang), width)
    lines = [plain_text(line) for line in lines]
    line_in = 6.5 * 1.25 / 72  # line height in inches
    fig.text(0.01, 0.005, "\n".join(lines), fontsize=6.5, ha="left", va="bottom", color="#333333")
    return 0.015 + len(lines) * line_in / fig.get_figheight()


def _label_places(ax: plt.Axes, places: gpd.GeoDataFrame | None, crs: str, ugel: str | None, *, n: int) -> None:
    """Names of the ``n`` most populated places of the area shown (dark text with a white halo)."""
    if places is None or not len(places) or "name" not in places.columns:
        return
    focus = places if ugel is None or "ugel" not in places.columns else places[places["ugel"] == ugel]
    top = focus.sort_values("population", ascending=False).head(n).to_crs(crs)
    halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
    for x, y, name in zip(top.geometry.x, top.geometry.y, top["name"].astype(str)):
        ax.annotate(plain_text(name.title()), (x, y), xytext=(4, 3), textcoords="offset points", fontsize=6.5,
                    style="italic", color="#222222", zorder=13, path_effects=halo)


def _frame(districts: gpd.GeoDataFrame, crs: str, ugel: str | None) -> tuple[gpd.GeoDataFrame, tuple]:
    d = districts.to_crs(crs)
    # print scale: 100 m is under 0.5 mm even on a UGEL map; drawing and PDFs get much lighter
    d["geometry"] = d.geometry.simplify(100.0, preserve_topology=True)
    focus = d if ugel is None else d[d["ugel"] == ugel]
    if len(focus) == 0:
        raise ValueError(f"no district of {ugel!r} in the districts layer")
    minx, miny, maxx, maxy = focus.total_bounds
    pad = 0.04 * max(maxx - minx, maxy - miny)
    return d, (minx - pad, maxx + pad, miny - pad, maxy + pad)


@functools.lru_cache(maxsize=8)
def _ugel_outlines(d_wkb: tuple, ugels: tuple, crs: str) -> gpd.GeoDataFrame:
    """UGEL polygons dissolved from the districts (cached: every map of a run needs them)."""
    d = gpd.GeoDataFrame({"ugel": list(ugels)}, geometry=gpd.GeoSeries.from_wkb(list(d_wkb)), crs=crs)
    return d.dissolve(by="ugel")


def _draw_boundaries(ax: plt.Axes, d: gpd.GeoDataFrame, ugel: str | None) -> None:
    d.boundary.plot(ax=ax, color="#777777", lw=0.3, zorder=5)
    u = _ugel_outlines(tuple(d.geometry.to_wkb()), tuple(d["ugel"].astype(str)), str(d.crs))
    u.boundary.plot(ax=ax, color="#111111", lw=1.0 if ugel is None else 0.6, zorder=6)
    if ugel is not None:  # veil the rest of the region
        d[d["ugel"] != ugel].plot(ax=ax, color="white", alpha=0.6, edgecolor="none", zorder=9)
        u[u.index == ugel].boundary.plot(ax=ax, color="#000000", lw=1.8, zorder=7)


def _draw_facilities(ax: plt.Axes, cetpro, extension, crs: str, lang: str, handles: list) -> None:
    if cetpro is not None and len(cetpro):
        c = cetpro.to_crs(crs)
        ax.scatter(c.geometry.x, c.geometry.y, marker="s", s=30, c=CETPRO_COLOUR, edgecolors="white",
                   linewidths=0.8, zorder=12)
        handles.append(Line2D([], [], marker="s", ls="", color=CETPRO_COLOUR, markeredgecolor="white",
                              label=t("layer.cetpro", lang)))
    if extension is not None and len(extension):
        e = extension.to_crs(crs)
        ax.scatter(e.geometry.x, e.geometry.y, marker="s", s=18, c=EXTENSION_COLOUR, edgecolors="white",
                   linewidths=0.6, zorder=12)
        handles.append(Line2D([], [], marker="s", ls="", color=EXTENSION_COLOUR, markeredgecolor="white",
                              label=t("layer.extension", lang)))


#: an A4 page in inches (portrait): every print map is one page
A4 = (8.27, 11.69)


def _finish(fig: plt.Figure, ax: plt.Axes, extent: tuple, title: str, handles: list, notes: Sequence[str],
            lang: str) -> plt.Figure:
    """Title, scale bar, north arrow; the legend goes *below* the map (it never covers data)
    and the sources and caveats at the foot of the page; the map takes the rest of the A4 page."""
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_anchor("S")  # the map sits right above its legend
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(plain_text(title), fontsize=12, fontweight="bold")
    for h in handles:
        h.set_label(plain_text(h.get_label()))
    add_scale_bar(ax, lang=lang)
    add_north_arrow(ax, lang=lang)
    foot = _source_note(fig, notes, lang)
    legend_h = 0.0
    if handles:
        ncol = min(4, len(handles))
        rows = math.ceil(len(handles) / ncol)
        legend_h = (rows * 7.5 * 1.55 + 8 * 1.8 + 10) / 72 / fig.get_figheight()
        leg = ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.008), ncol=ncol, fontsize=7.5,
                        framealpha=0.95, title=t("ui.legend", lang), title_fontsize=8)
        leg.set_zorder(30)
    bottom = foot + legend_h + 0.015
    ax.set_position((0.02, bottom, 0.96, 0.93 - bottom))
    return fig


def travel_time_map(raster_path: str | Path, districts: gpd.GeoDataFrame, *, crs: str = "EPSG:32717",
                    cetpro: gpd.GeoDataFrame | None = None, extension: gpd.GeoDataFrame | None = None,
                    ugel: str | None = None, thresholds: Iterable[float] = (30, 60, 120),
                    notes: Sequence[str] = (), title: str = "", lang: str = "es",
                    places: gpd.GeoDataFrame | None = None) -> plt.Figure:
    """Travel-time raster (minutes) in bands ≤t1, t1–t2, …, > t_last over the region or one UGEL
    (with the names of its 8 most populated ``places`` when given)."""
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    d, extent = _frame(districts, crs, ugel)
    with rasterio.open(raster_path) as src:
        data = src.read(1, masked=True).astype("float64").filled(np.nan)
        if src.crs and src.crs.to_string() != crs:
            tr, w, h = calculate_default_transform(src.crs, crs, src.width, src.height, *src.bounds)
            out = np.full((h, w), np.nan)
            reproject(data, out, src_transform=src.transform, src_crs=src.crs, dst_transform=tr, dst_crs=crs,
                      resampling=Resampling.nearest, src_nodata=np.nan, dst_nodata=np.nan)
            data, transform = out, tr
        else:
            transform = src.transform
    h, w = data.shape
    left, top = transform.c, transform.f  # north-up grid (no rotation)
    right, bottom = transform.c + transform.a * w, transform.f + transform.e * h
    th = list(thresholds)
    colours = list(band_colours(th).values())[:-1]  # the time bands (no access is nodata here)
    cmap = ListedColormap(colours)
    bounds = [0.0] + th + [max(th[-1] * 10, np.nanmax(data) + 1 if np.isfinite(data).any() else th[-1] * 10)]
    norm = BoundaryNorm(bounds, cmap.N)
    fig, ax = plt.subplots(figsize=A4)
    ax.imshow(np.ma.masked_invalid(data), extent=(left, right, bottom, top), cmap=cmap, norm=norm,
              interpolation="nearest", zorder=1, alpha=0.9)
    _draw_boundaries(ax, d, ugel)
    handles: list = []
    edges = [0.0] + th
    for i, c in enumerate(colours):
        lab = f"≤ {th[0]:g} min" if i == 0 else (f"> {th[-1]:g} min" if i == len(th) else
                                                  f"{edges[i]:g}–{edges[i + 1]:g} min")
        handles.append(Patch(facecolor=c, edgecolor="#555555", label=lab))
    _draw_facilities(ax, cetpro, extension, crs, lang, handles)
    _label_places(ax, places, crs, ugel, n=8)
    name = ugel or t("map.region", lang)
    return _finish(fig, ax, extent, title or f"{t('map.travel_time_title', lang)}\n{name}", handles, notes, lang)


def proposals_map(places: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, *, crs: str = "EPSG:32717",
                  proposals: gpd.GeoDataFrame | None = None, cetpro: gpd.GeoDataFrame | None = None,
                  extension: gpd.GeoDataFrame | None = None, ugel: str | None = None,
                  notes: Sequence[str] = (), title: str = "", lang: str = "es",
                  thresholds: Iterable[float] = (30, 60, 120)) -> plt.Figure:
    """Places by band of ``thresholds``, CETPRO and numbered proposals, over the region or one UGEL.

    Marker area ``s = 3 + 110 * sqrt(p / max p)`` points² (``max p`` within the area shown),
    so that villages stay visible next to the provincial capitals."""
    d, extent = _frame(districts, crs, ugel)
    p = places.to_crs(crs)
    fig, ax = plt.subplots(figsize=A4)
    d.plot(ax=ax, color="#f7f7f7", edgecolor="none", zorder=0)
    _draw_boundaries(ax, d, ugel)
    pop = p["population"].fillna(0).clip(lower=0).to_numpy(dtype=float)
    focus = p if ugel is None else p[p["ugel"] == ugel]
    top = float(focus["population"].max()) if len(focus) and focus["population"].max() > 0 else 1.0
    size = 3 + 110 * np.sqrt(np.clip(pop / top, 0, 1))
    handles: list = []
    for b, colour in band_colours(list(thresholds)).items():
        sel = (p["band"].astype(str) == b).to_numpy()
        if sel.any():
            ax.scatter(p.geometry.x[sel], p.geometry.y[sel], s=size[sel], c=colour, edgecolors="#333333",
                       linewidths=0.2, alpha=0.85, zorder=8)
        handles.append(Line2D([], [], marker="o", ls="", color=colour, markeredgecolor="#333333",
                              label=band_label(b, lang)))
    _draw_facilities(ax, cetpro, extension, crs, lang, handles)
    if proposals is not None and len(proposals):
        pr = proposals.to_crs(crs)
        if ugel is not None and "ugel" in pr.columns:
            pr = pr[pr["ugel"] == ugel]
        ax.scatter(pr.geometry.x, pr.geometry.y, s=170, c=PROPOSAL_COLOUR, edgecolors="white", linewidths=1.2,
                   zorder=14)
        halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
        names = pr["name"].astype(str) if "name" in pr.columns else [""] * len(pr)
        for x, y, r, name in zip(pr.geometry.x, pr.geometry.y, pr["rank"], names):
            ax.text(x, y, str(int(r)), ha="center", va="center", color="white", fontsize=7, fontweight="bold",
                    zorder=15)
            ax.annotate(plain_text(f"{int(r)}. {name}"), (x, y), xytext=(8, -3), textcoords="offset points",
                        fontsize=7.5, fontweight="bold", color=PROPOSAL_COLOUR, zorder=16, path_effects=halo)
        handles.append(Line2D([], [], marker="o", ls="", color=PROPOSAL_COLOUR, markersize=10,
                              markeredgecolor="white", label=t("layer.proposals", lang)))
    _label_places(ax, places, crs, ugel, n=6)
    name = ugel or t("map.region", lang)
    return _finish(fig, ax, extent, title or f"{t('map.proposals_title', lang)}\n{name}", handles, notes, lang)


#: fixed file metadata, so two identical runs write byte-identical files: no creation date
#: in PDFs (matplotlib otherwise stamps the current time unless SOURCE_DATE_EPOCH is set)
_METADATA = {"pdf": {"CreationDate": None, "ModDate": None, "Creator": "siting", "Producer": "siting (matplotlib)"},
             "png": {"Software": "siting (matplotlib)"}}


def save_figure(fig: plt.Figure, stem: str | Path, *, formats: Sequence[str] = ("png", "pdf"),
                dpi: int = 150) -> list[Path]:
    """Save ``fig`` as ``stem.png`` / ``stem.pdf`` atomically and close it."""
    stem = Path(stem)
    out = []
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_METADATA.get(fmt))
        out.append(path)
    plt.close(fig)
    return out


def write_static_maps(out_dir: str | Path, *, places: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
                      raster_path: str | Path | None = None, proposals: gpd.GeoDataFrame | None = None,
                      cetpro: gpd.GeoDataFrame | None = None, extension: gpd.GeoDataFrame | None = None,
                      ugels: Iterable[str] | None = None, crs: str = "EPSG:32717",
                      thresholds: Iterable[float] = (30, 60, 120), notes: Sequence[str] = (),
                      lang: str = "es", formats: Sequence[str] = ("png", "pdf"), region: bool = True,
                      slugs: Mapping[str, str] | None = None,
                      kinds: Sequence[str] = ("travel_time", "proposals")) -> dict[str, list[Path]]:
    """Write the travel-time and proposals maps for the region and each UGEL.

    Returns ``{"travel_time_region": [png, pdf], "proposals_ugel_celendin": [...], ...}``.
    ``ugels=None`` means every UGEL of ``districts``; ``[]`` means the region only.
    ``region=False`` leaves the regional maps out and ``slugs`` gives the file names of the
    UGELs (for a share of the UGELs drawn by another process: the names of the whole set);
    ``kinds`` the maps drawn (``"travel_time"`` needs ``raster_path``, ``"proposals"``).
    """
    from tqdm import tqdm

    out_dir = Path(out_dir)
    areas: list[str | None] = [None] if region else []
    areas += list(sorted(districts["ugel"].dropna().unique()) if ugels is None else ugels)
    written: dict[str, list[Path]] = {}
    slugs = dict(slugs) if slugs is not None else unique_slugs(a for a in areas if a is not None)
    for area in tqdm(areas, desc="static maps", disable=None):
        key = "region" if area is None else slugs[area]
        if raster_path is not None and "travel_time" in kinds:
            fig = travel_time_map(raster_path, districts, crs=crs, cetpro=cetpro, extension=extension, ugel=area,
                                  thresholds=thresholds, notes=notes, lang=lang, places=places)
            written[f"travel_time_{key}"] = save_figure(fig, out_dir / f"travel_time_{key}", formats=formats)
        if "proposals" not in kinds:
            continue
        fig = proposals_map(places, districts, crs=crs, proposals=proposals, cetpro=cetpro, extension=extension,
                            ugel=area, notes=notes, lang=lang, thresholds=thresholds)
        written[f"proposals_{key}"] = save_figure(fig, out_dir / f"proposals_{key}", formats=formats)
    return written
