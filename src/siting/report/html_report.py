"""The HTML report: key figures, gap tables, proposals, charts and maps in one file.

:func:`render_report` renders ``templates/report.html`` (Jinja2, autoescaped) for the
region or for one UGEL; :func:`write_reports` writes the regional report plus one per
UGEL, linked to each other.  Charts (coverage vs number of sites, population by
travel-time band) are matplotlib PNGs embedded as base64, as are the static maps, so each
report is a single self-contained file.  Every label comes from
:mod:`siting.report.labels` (Spanish by default, ``lang="en"`` for English).

Key figures (weighted by population ``p_i`` of place ``i`` with minutes ``m_i``):
population beyond 60 min = ``Σ p_i [m_i > 60]`` (places with no access count as beyond).
"""
from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import jinja2
import matplotlib.pyplot as plt
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..io import atomic_path  # noqa: E402
from .labels import band_colours, band_label, t  # noqa: E402
from .static_maps import unique_slugs  # noqa: E402

TEMPLATES = Path(__file__).with_name("templates")

PROPOSAL_COLUMNS = ["rank", "name", "district", "province", "ugel", "parent_name", "teacher_minutes",
                    "new_population", "new_women", "new_target", "nearest_existing", "minutes_saved",
                    "host_premises", "score", "top_criteria"]
SHARE_COLUMNS = {"share", "share_within_30", "share_within_60", "share_within_120"}
_SHARE_WITHIN = re.compile(r"share_within_\d+(?:_\d+)?")


def _is_share(column: str) -> bool:
    """Columns shown as % (``share`` and ``share_within_<T>`` for any threshold of the run)."""
    return column in SHARE_COLUMNS or _SHARE_WITHIN.fullmatch(column) is not None


# --------------------------------------------------------------------------- formatting
def fmt_number(value: object, column: str = "", lang: str = "es") -> tuple[str, bool]:
    """Format one cell: shares as ``%``, counts with thousands separators, minutes with 1
    decimal.  Returns ``(text, is_number)``."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–", True
    if isinstance(value, (bool, np.bool_)):
        return (t("ui.yes", lang) if value else t("ui.no", lang)), False
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        sep_t, sep_d = (" ", ",") if lang == "es" else (",", ".")
        if _is_share(column):
            return f"{100 * v:.1f}".replace(".", sep_d) + " %", True
        if column == "score":
            return f"{v:.3f}".replace(".", sep_d), True
        if "minutes" in column or column in {"nearest_existing", "mean_minutes"}:
            return f"{v:.1f}".replace(".", sep_d), True
        if float(v).is_integer() or abs(v) >= 100:
            return f"{v:,.0f}".replace(",", sep_t), True
        return f"{v:.2f}".replace(".", sep_d), True
    if column == "band":
        return band_label(str(value), lang), False
    return str(value), False


def table_context(df: pd.DataFrame, title: str, lang: str, *, columns: Sequence[str] | None = None) -> dict:
    """A table for the template: translated headers and formatted cells."""
    cols = [c for c in (columns or df.columns) if c in df.columns and c != "geometry"]
    rows = []
    for rec in df[cols].itertuples(index=False):
        row = []
        for c, v in zip(cols, rec):
            text, num = fmt_number(v, c, lang)
            row.append({"text": text, "num": num})
        rows.append(row)
    return {"title": title, "headers": [t(c, lang) for c in cols], "rows": rows}


def png_data_uri(fig: plt.Figure, *, dpi: int = 110) -> str:
    """Render a matplotlib figure as a base64 PNG data URI (and close it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def file_data_uri(path: str | Path) -> str:
    """A PNG file as a base64 data URI."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


# --------------------------------------------------------------------------- charts
def coverage_chart(coverage: pd.DataFrame, lang: str = "es") -> plt.Figure:
    """Covered target population (left axis) and share (right axis) against the number of sites."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    c = coverage.sort_values("n_sites")
    ax.plot(c["n_sites"], c["covered_target"], marker="o", color="#08306b")
    ax.set_xlabel(t("n_sites", lang))
    ax.set_ylabel(t("covered_target", lang))
    ax.grid(alpha=0.3)
    if "share" in c.columns:
        ax2 = ax.twinx()
        ax2.plot(c["n_sites"], 100 * c["share"], alpha=0)  # aligns the % axis with the curve
        ax2.set_ylabel(t("share", lang) + " (%)")
    ax.set_title(t("report.coverage_chart", lang), fontsize=10)
    fig.tight_layout()
    return fig


def band_chart(places: pd.DataFrame, lang: str = "es", *, thresholds: Sequence[float] = (30, 60, 120)) -> plt.Figure:
    """Population by travel-time band of ``thresholds`` (bars coloured as on the maps)."""
    colours = band_colours(thresholds)
    bands = list(colours)
    pop = places.groupby(places["band"].astype(str))["population"].sum().reindex(bands, fill_value=0.0)
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    bars = ax.bar([band_label(b, lang) for b in bands], pop.to_numpy(), color=[colours[b] for b in bands],
                  edgecolor="#333333")
    for bar, v in zip(bars, pop.to_numpy()):
        ax.annotate(fmt_number(float(v), "", lang)[0], (bar.get_x() + bar.get_width() / 2, v), ha="center",
                    va="bottom", fontsize=8)
    ax.set_ylabel(t("population", lang))
    ax.set_title(t("report.band_chart", lang), fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- figures
def beyond_thresholds(thresholds: Sequence[float], main_threshold: float) -> list[float]:
    """The thresholds of the "people beyond T minutes" figures: the main one and the largest."""
    return sorted({float(main_threshold), float(list(thresholds)[-1])})


def _slug(t: float) -> str:
    return f"{t:g}".replace(".", "_")


def key_figures(places: pd.DataFrame, *, proposals: pd.DataFrame | None = None, n_cetpro: int | None = None,
                n_extension: int | None = None, target_column: str = "pop_15_29",
                lang: str = "es", thresholds: Sequence[float] = (30, 60, 120),
                main_threshold: float = 60.0) -> list[dict]:
    """The headline numbers shown as cards (label, formatted value, raw value); the people
    beyond ``T`` minutes for ``T`` in :func:`beyond_thresholds`."""
    pop = places["population"].fillna(0.0)
    minutes = places["minutes_nearest"].astype(float).fillna(np.inf)
    items: list[tuple[str, float]] = [("fig.places", len(places)), ("fig.total_population", pop.sum())]
    if target_column in places.columns:
        items.append(("fig.target_population", places[target_column].fillna(0).sum()))
    items += [(f"fig.beyond_{_slug(b)}", pop[minutes > b].sum()) for b in beyond_thresholds(thresholds, main_threshold)]
    if n_cetpro is not None:
        items.append(("fig.cetpro", n_cetpro))
    if n_extension is not None:
        items.append(("fig.extension", n_extension))
    if proposals is not None:
        items.append(("fig.proposals", len(proposals)))
        if len(proposals):
            items += [("fig.new_target", proposals["new_target"].sum()),
                      ("fig.new_women", proposals["new_women"].sum())]
    return [{"label": t(k, lang), "value": fmt_number(float(v), "", lang)[0], "raw": float(v)} for k, v in items]


def _env() -> jinja2.Environment:
    """Templates come only from ``templates/`` (never from data); every value is HTML-escaped
    (``autoescape=True`` for any template name), so data is text in element content and in
    quoted attributes alike."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=jinja2.StrictUndefined)


def render_report(*, places: pd.DataFrame, by_ugel: pd.DataFrame | None = None,
                  by_district: pd.DataFrame | None = None, proposals: pd.DataFrame | None = None,
                  coverage: pd.DataFrame | None = None, ugel: str | None = None, lang: str = "es",
                  title: str = "", reason: str = "", notes: Iterable[str] = (),
                  map_images: Sequence[tuple[str, str | Path]] = (), map_href: str = "",
                  other_reports: Sequence[tuple[str, str]] = (), back_href: str = "",
                  cetpro: pd.DataFrame | None = None, extension: pd.DataFrame | None = None,
                  target_column: str = "pop_15_29", generated: str | None = None,
                  thresholds: Sequence[float] = (30, 60, 120), main_threshold: float = 60.0) -> str:
    """Render the report HTML for the region (``ugel=None``) or one UGEL.

    ``by_district`` rows are kept for the UGEL when it has a ``ugel`` column, otherwise
    when its ``unit`` is a district of that UGEL in ``places``.  ``map_images`` are
    ``(caption, png_path)`` pairs embedded as base64.  CETPRO / extension centres are
    counted for a UGEL through their ``ugel`` column (the count is left out without it).
    """
    p = places if ugel is None else places[places["ugel"] == ugel]
    props = None if proposals is None else (proposals if ugel is None else proposals[proposals["ugel"] == ugel])
    tables = []
    if by_ugel is not None:
        bu = by_ugel if ugel is None else by_ugel[by_ugel["unit"] == ugel]
        tables.append(table_context(bu, t("report.gaps_ugel", lang), lang))
    if props is not None:
        cols = [c for c in PROPOSAL_COLUMNS if c in props.columns]
        tables.append(table_context(props.sort_values("rank"), t("report.proposals", lang), lang, columns=cols))
    if by_district is not None:
        bd = by_district
        if ugel is not None:
            bd = bd[bd["ugel"] == ugel] if "ugel" in bd.columns else bd[bd["unit"].isin(set(p["district"]))]
        main = f"beyond_{_slug(float(main_threshold))}"
        bd = bd.sort_values(main, ascending=False) if main in bd.columns else bd
        tables.append(table_context(bd, t("report.gaps_district", lang), lang))
    charts = []
    if coverage is not None and ugel is None and len(coverage):
        charts.append({"title": t("report.coverage_chart", lang), "src": png_data_uri(coverage_chart(coverage, lang))})
    if len(p):
        charts.append({"title": t("report.band_chart", lang),
                       "src": png_data_uri(band_chart(p, lang, thresholds=thresholds))})
    maps = [{"title": cap, "src": file_data_uri(path)} for cap, path in map_images if Path(path).exists()]
    ctx = {
        "lang": lang, "L": lambda key: t(key, lang),
        "title": title or t("report.title", lang),
        "area_name": ugel or t("map.region", lang), "reason": reason,
        "generated": generated or "",  # no clock time by default: two identical runs write identical reports
        "notes": list(notes),
        "figures": key_figures(p, proposals=props, n_cetpro=_count(cetpro, ugel),
                               n_extension=_count(extension, ugel), target_column=target_column, lang=lang,
                               thresholds=thresholds, main_threshold=main_threshold),
        "tables": tables, "charts": charts, "maps": maps, "map_href": map_href,
        "other_reports": list(other_reports), "back_href": back_href,
    }
    return _env().get_template("report.html").render(**ctx)


def _count(facilities: pd.DataFrame | None, ugel: str | None) -> int | None:
    if facilities is None:
        return None
    if ugel is None:
        return len(facilities)
    return int((facilities["ugel"] == ugel).sum()) if "ugel" in facilities.columns else None


def write_reports(out_dir: str | Path, *, places: pd.DataFrame, by_ugel: pd.DataFrame | None = None,
                  by_district: pd.DataFrame | None = None, proposals: pd.DataFrame | None = None,
                  coverage: pd.DataFrame | None = None, static_maps: Mapping[str, Sequence[Path]] | None = None,
                  map_href: str = "", ugels: Iterable[str] | None = None, lang: str = "es",
                  notes: Iterable[str] = (), reason: str = "", cetpro: pd.DataFrame | None = None,
                  extension: pd.DataFrame | None = None, target_column: str = "pop_15_29",
                  thresholds: Sequence[float] = (30, 60, 120), main_threshold: float = 60.0) -> dict[str, Path]:
    """Write ``report.html`` (region) and ``report_<ugel slug>.html`` for each UGEL.

    ``static_maps`` is the mapping returned by
    :func:`siting.report.static_maps.write_static_maps`; its PNGs are embedded.
    ``ugels=None`` means every UGEL present in ``places``.
    """
    out_dir = Path(out_dir)
    notes = list(notes)
    static_maps = dict(static_maps or {})
    ugel_list = sorted(places["ugel"].dropna().unique()) if ugels is None else list(ugels)
    slugs = unique_slugs(set(ugel_list) | set(places["ugel"].dropna().astype(str)))
    files = {"region": "report.html"} | {u: f"report_{slugs[u]}.html" for u in ugel_list}

    def images(key: str) -> list[tuple[str, Path]]:
        out = []
        for kind, caption in (("travel_time", "map.travel_time_title"), ("proposals", "map.proposals_title")):
            paths = [q for q in static_maps.get(f"{kind}_{key}", []) if Path(q).suffix == ".png"]
            out += [(t(caption, lang), q) for q in paths]
        return out

    common = dict(places=places, by_ugel=by_ugel, by_district=by_district, proposals=proposals, coverage=coverage,
                  lang=lang, notes=notes, reason=reason, cetpro=cetpro, extension=extension,
                  target_column=target_column, thresholds=thresholds, main_threshold=main_threshold)
    written = {}
    page = render_report(**common, ugel=None, map_images=images("region"), map_href=map_href,
                         other_reports=[(u, files[u]) for u in ugel_list])
    written["region"] = _write(out_dir / files["region"], page)
    for u in ugel_list:
        page = render_report(**common, ugel=u, map_images=images(slugs[u]), map_href=map_href,
                             back_href=files["region"])
        written[u] = _write(out_dir / files[u], page)
    return written


def _write(path: Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
