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
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..io import atomic_path  # noqa: E402
from .labels import band_colours, band_label, t  # noqa: E402
from .numbers import _babel_text, column_kind, format_people, format_value, number_locale  # noqa: E402
from .slugs import unique_slugs  # noqa: E402
from .values import column_values, translator  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .side_tasks import SidePool

TEMPLATES = Path(__file__).with_name("templates")

PROPOSAL_COLUMNS = ["rank", "name", "district", "province", "ugel", "parent_name", "teacher_minutes",
                    "new_population", "new_women", "new_target", "new_women_target", "nearest_existing",
                    "minutes_saved", "host_premises", "score", "selection_frequency", "top_criteria"]
SHARE_COLUMNS = {"selection_frequency", "gap_to_optimum",
                 "share", "share_within_30", "share_within_60", "share_within_120"}
_SHARE_WITHIN = re.compile(r"share_within_\d+(?:_\d+)?")


def _is_share(column: str) -> bool:
    """Columns shown as % (``share`` and ``share_within_<T>`` for any threshold of the run)."""
    return column in SHARE_COLUMNS or _SHARE_WITHIN.fullmatch(column) is not None


# --------------------------------------------------------------------------- formatting
def fmt_number(value: object, column: str = "", lang: str = "es") -> tuple[str, bool]:
    """Format one cell in the run's number convention (:mod:`siting.report.numbers`, es-PE
    ``12,345``): the column's code decides the kind (people, share, minutes, score...); coded
    text (bands, statuses, criterion keys) becomes words (:mod:`siting.report.values`).
    Returns ``(text, is_number)``."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–", True
    if isinstance(value, (bool, np.bool_)):
        return (t("ui.yes", lang) if value else t("ui.no", lang)), False
    if isinstance(value, (int, float, np.integer, np.floating)):
        kind = column_kind(column) if column else "number"
        if kind in {"code", "number"}:  # unknown numbers: whole ones (and >= 100) without decimals
            v = float(value)
            kind = "people" if v.is_integer() or abs(v) >= 100 else "rate"
        return format_value(value, kind, lang=lang), True
    fn = translator(column) if column else None
    return str(fn(value, lang) if fn is not None else value), False


def format_cells(series: pd.Series, column: str, lang: str) -> list[dict]:
    """``[{"text", "num"}]`` of every value of ``series``: :func:`fmt_number` of each value,
    with the words of a text value looked up once per column (a column repeats its districts,
    bands and statuses; #19)."""
    words: dict[str, str] = {}
    fn = translator(column) if column else None
    kind = column_kind(column) if column else "number"
    loc = ""
    out = []
    for v in column_values(series):
        if type(v) is str:  # text: the column's translator (or the text itself), not a number
            text = words.get(v)
            if text is None:
                text = words[v] = str(fn(v, lang) if fn is not None else v)
            out.append({"text": text, "num": False})
        elif (type(v) is float or type(v) is int) and math.isfinite(x := float(v)):
            # a finite figure: what fmt_number -> format_value gives, without their checks per cell
            loc = loc or number_locale(lang)
            k = kind if kind not in {"code", "number"} else "people" if x.is_integer() or abs(x) >= 100 else "rate"
            out.append({"text": _babel_text(x, math.copysign(1.0, x) < 0, k, loc), "num": True})
        else:
            text, num = fmt_number(v, column, lang)
            out.append({"text": text, "num": num})
    return out


#: width of the long-text columns in the printed tables (the others take what their values need)
TEXT_WIDTHS = {"top_criteria": "17%", "host_premises_near": "30%", "schools": "52%"}
#: the widths of the other text columns, in a table with a long-text column (fixed layout)
_NAME_WIDTHS = {"name": "10%", "district": "8%", "ccpp_name": "14%", "parent_name": "7%", "nearest_existing": "7%",
                "nearest_facility": "7%", "ccpp_id": "7%"}


def table_context(df: pd.DataFrame, title: str, lang: str, *, columns: Sequence[str] | None = None) -> dict:
    """A table for the template: translated headers, formatted cells and the widths of its
    long-text columns (:data:`TEXT_WIDTHS`)."""
    cols = [c for c in (columns or df.columns) if c in df.columns and c != "geometry"]
    sub = df[cols]
    cells = [format_cells(sub.iloc[:, k], c, lang) for k, c in enumerate(cols)]  # column by column
    rows = [list(r) for r in zip(*cells)] if cols else [[] for _ in range(len(df))]
    widths = [TEXT_WIDTHS.get(c, "") for c in cols]
    if any(widths):  # fixed layout: the long text gets its share, names theirs, numbers split the rest
        widths = [w or _NAME_WIDTHS.get(c, "") for w, c in zip(widths, cols)]
    return {"title": title, "headers": [t(c, lang) for c in cols], "rows": rows,
            "widths": widths if any(widths) else []}


def png_data_uri(fig: Figure, *, dpi: int = 110) -> str:
    """Render a matplotlib figure as a base64 PNG data URI (and close it)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def file_data_uri(path: str | Path) -> str:
    """A PNG file as a base64 data URI."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


# --------------------------------------------------------------------------- charts
def coverage_chart(coverage: pd.DataFrame, lang: str = "es") -> Figure:
    """Covered target population (left axis) and share (right axis) against the number of sites."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    c = coverage.sort_values("n_sites")
    ax.plot(c["n_sites"], c["covered_target"], marker="o", color="#08306b")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # a number of sites is whole
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


def band_population(places: pd.DataFrame, thresholds: Sequence[float] = (30, 60, 120)) -> np.ndarray:
    """The population of each travel-time band of ``thresholds`` (in the order of the bands)."""
    bands = list(band_colours(thresholds))
    return places.groupby(places["band"].astype(str))["population"].sum().reindex(bands, fill_value=0.0).to_numpy()


def band_chart(places: pd.DataFrame, lang: str = "es", *, thresholds: Sequence[float] = (30, 60, 120)) -> Figure:
    """Population by travel-time band of ``thresholds`` (bars coloured as on the maps)."""
    return band_figure(band_population(places, thresholds), lang, thresholds=thresholds)


def band_figure(pop: np.ndarray, lang: str = "es", *, thresholds: Sequence[float] = (30, 60, 120)) -> Figure:
    """:func:`band_chart` from the population of each band (:func:`band_population`)."""
    import matplotlib.pyplot as plt

    colours = band_colours(thresholds)
    bands = list(colours)
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    bars = ax.bar([band_label(b, lang) for b in bands], pop, color=[colours[b] for b in bands],
                  edgecolor="#333333")
    for bar, v in zip(bars, pop):
        ax.annotate(format_people(v, lang=lang), (bar.get_x() + bar.get_width() / 2, v), ha="center",
                    va="bottom", fontsize=8)
    ax.set_ylabel(t("population", lang))
    ax.set_title(t("report.band_chart", lang), fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def chart_uri(kind: str, data: object, lang: str, thresholds: Sequence[float]) -> str:
    """The PNG data URI of a chart of the report from plain data (a module-level function: a
    side process can draw it, :mod:`siting.report.side_tasks`): ``"coverage_chart"`` from the
    coverage curve, ``"band_chart"`` from :func:`band_population`."""
    if kind == "coverage_chart":
        return png_data_uri(coverage_chart(data, lang))
    return png_data_uri(band_figure(data, lang, thresholds=thresholds))  # type: ignore[arg-type]


def report_charts(places: pd.DataFrame, coverage: pd.DataFrame | None, *, lang: str,
                  thresholds: Sequence[float], pool: SidePool | None = None) -> list[tuple[str, Any]]:
    """``(kind, data URI)`` of the charts of one report: the coverage curve (when ``coverage``
    has rows) and the population by band (when ``places`` has rows).  With ``pool`` the charts
    are drawn in its side processes and the URIs are getters (call them for the text)."""
    jobs: list[tuple[str, object]] = []
    if coverage is not None and len(coverage):
        jobs.append(("coverage_chart", coverage))
    if len(places):
        jobs.append(("band_chart", band_population(places, thresholds)))
    if pool is None:
        return [(kind, chart_uri(kind, data, lang, list(thresholds))) for kind, data in jobs]
    return [(kind, pool.submit(chart_uri, kind, data, lang, list(thresholds))) for kind, data in jobs]


def start_charts(pool: SidePool, places: pd.DataFrame, coverage: pd.DataFrame | None, *, lang: str,
                 thresholds: Sequence[float], ugels: Iterable[str] | None = None) -> dict[str | None, Any]:
    """Start drawing the charts of every report of :func:`write_reports` in ``pool`` (region:
    key ``None``, then each UGEL of ``ugels``, default :func:`report_ugels`); return, per
    report, the getter of its ``charts`` for :func:`render_report` (the same PNGs as drawn there)."""
    areas: list[str | None] = [None, *(report_ugels(places) if ugels is None else ugels)]
    started = {a: report_charts(places if a is None else places[places["ugel"] == a], coverage if a is None else None,
                                lang=lang, thresholds=thresholds, pool=pool) for a in areas}

    def getter(jobs: list[tuple[str, Any]]) -> Callable[[], list[dict]]:
        return lambda: [{"title": t(f"report.{kind}", lang), "src": get()} for kind, get in jobs]
    return {a: getter(jobs) for a, jobs in started.items()}


def report_ugels(places: pd.DataFrame) -> list[str]:
    """The UGELs that get a report: every UGEL of ``places``, sorted."""
    return sorted(places["ugel"].dropna().unique())


# --------------------------------------------------------------------------- figures
def beyond_thresholds(thresholds: Sequence[float], main_threshold: float) -> list[float]:
    """The thresholds of the "people beyond T minutes" figures: the main one and the largest."""
    return sorted({float(main_threshold), float(list(thresholds)[-1])})


def _slug(t: float) -> str:
    return f"{t:g}".replace(".", "_")


def _ages(target_column: str, lang: str) -> str:
    """``"pop_15_29"`` -> ``"15–29 años"`` (the target group as the cards name it)."""
    m = re.fullmatch(r"pop_(\d+)_(\d+)", target_column)
    return t("gloss.ages", lang).format(a=m[1], b=m[2]) if m else t("fig.target_population", lang)


def key_figures(places: pd.DataFrame, *, proposals: pd.DataFrame | None = None, n_cetpro: int | None = None,
                n_extension: int | None = None, target_column: str = "pop_15_29",
                lang: str = "es", thresholds: Sequence[float] = (30, 60, 120),
                main_threshold: float = 60.0) -> list[dict]:
    """The headline numbers shown as cards (``group``, label, formatted value, raw value).

    Cards are grouped so that a group never mixes denominators: *all people* (places,
    population, people beyond ``T`` for ``T`` in :func:`beyond_thresholds`), *the target
    group* (its people, its women, its people beyond ``T``), *existing supply* (CETPRO,
    extension centres: "not in the data" when no list was given, ``n_extension=None``) and
    *proposed sites* (sites, newly served people of the target group and its women).  People
    beyond ``T`` = ``sum_i p_i [m_i > T]`` (no access counts as beyond)."""
    pop = places["population"].fillna(0.0)
    minutes = places["minutes_nearest"].astype(float).fillna(np.inf)
    ages = _ages(target_column, lang)
    beyond = beyond_thresholds(thresholds, main_threshold)
    items: list[tuple[str, str, float | None, str]] = [
        ("population", t("fig.places", lang), len(places), "count"),
        ("population", t("fig.total_population", lang), pop.sum(), "people")]
    items += [("population", t(f"fig.beyond_{_slug(b)}", lang), pop[minutes > b].sum(), "people") for b in beyond]
    if target_column in places.columns:
        target = places[target_column].fillna(0.0)
        items.append(("target", t("fig.target_population", lang), target.sum(), "people"))
        women = target_column.replace("pop_", "women_", 1)
        if women in places.columns:
            items.append(("target", t("fig.target_women", lang).format(ages=ages), places[women].fillna(0).sum(),
                          "people"))
        items += [("target", t("fig.target_beyond", lang).format(ages=ages, t=b), target[minutes > b].sum(),
                   "people") for b in beyond]
    if n_cetpro is not None:
        items.append(("supply", t("fig.cetpro", lang), n_cetpro, "count"))
    items.append(("supply", t("fig.extension", lang), n_extension, "count"))
    if proposals is not None:
        items.append(("plan", t("fig.proposals", lang), len(proposals), "count"))
        if len(proposals):
            items.append(("plan", t("fig.new_target_ages", lang).format(ages=ages), proposals["new_target"].sum(),
                          "people"))
            if "new_women_target" in proposals.columns:
                items.append(("plan", t("fig.new_women_target", lang).format(ages=ages),
                              proposals["new_women_target"].sum(), "people"))
    return [{"group": g, "label": label,
             "value": t("fig.not_in_data", lang) if v is None else format_value(float(v), kind, lang=lang),
             "raw": None if v is None else float(v)} for g, label, v, kind in items]


def figure_groups(cards: list[dict], lang: str, target_column: str) -> list[dict]:
    """The cards of :func:`key_figures` in their groups, each with its title."""
    titles = {"population": t("fig.group.population", lang),
              "target": t("fig.group.target", lang).format(ages=_ages(target_column, lang)),
              "supply": t("fig.group.supply", lang), "plan": t("fig.group.plan", lang)}
    return [{"title": title, "cards": [c for c in cards if c["group"] == g]}
            for g, title in titles.items() if any(c["group"] == g for c in cards)]


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    """One environment for every report of the process (it keeps the compiled templates, #19).
    Templates come only from ``templates/`` (never from data); every value is HTML-escaped
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
                  thresholds: Sequence[float] = (30, 60, 120), main_threshold: float = 60.0,
                  glossary: Sequence[tuple[str, str]] = (), extra_tables: Sequence[dict] = (),
                  objective: Mapping | None = None, season: Mapping | None = None, maps_note: str = "",
                  charts: Sequence[dict] | None = None) -> str:
    """Render the report HTML for the region (``ugel=None``) or one UGEL (``maps_note``: a
    sentence in the maps section saying which static maps this run did not draw; ``charts``:
    the ``{"title", "src"}`` of the charts when drawn elsewhere, see :func:`report_charts`).

    ``objective``: the section of :func:`siting.report.objective_section.objective_context`
    (objective, priorities, measures, Pareto front), shown in the regional report; ``season``
    the rainy-season section of :func:`siting.report.season_section.season_context` (region only).

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
    same = {"ugel", "province"} if ugel is not None else set()  # one UGEL: columns of one value say nothing
    if props is not None:
        cols = [c for c in PROPOSAL_COLUMNS if c in props.columns and c not in same]
        tables.append(table_context(props.sort_values("rank"), t("report.proposals", lang), lang, columns=cols))
    if by_district is not None:
        bd = by_district
        if ugel is not None:
            bd = bd[bd["ugel"] == ugel] if "ugel" in bd.columns else bd[bd["unit"].isin(set(p["district"]))]
        main = f"beyond_{_slug(float(main_threshold))}"
        bd = bd.sort_values(main, ascending=False) if main in bd.columns else bd
        bd = bd.drop(columns=[c for c in same if c in bd.columns])
        tables.append(table_context(bd, t("report.gaps_district", lang), lang))
    if charts is None:
        charts = [{"title": t(f"report.{kind}", lang), "src": src} for kind, src in
                  report_charts(p, coverage if ugel is None else None, lang=lang, thresholds=thresholds)]
    maps = [{"title": cap, "src": file_data_uri(path)} for cap, path in map_images if Path(path).exists()]
    ctx = {
        "lang": lang, "L": lambda key: t(key, lang),
        "title": title or t("report.title", lang),
        "area_name": ugel or t("map.region", lang), "reason": reason,
        "generated": generated or "",  # no clock time by default: two identical runs write identical reports
        "notes": list(notes),
        "figure_groups": figure_groups(
            key_figures(p, proposals=props, n_cetpro=_count(cetpro, ugel), n_extension=_count(extension, ugel),
                        target_column=target_column, lang=lang, thresholds=thresholds,
                        main_threshold=main_threshold), lang, target_column),
        "glossary": list(glossary),
        "tables": tables + list(extra_tables), "charts": list(charts), "maps": maps, "map_href": map_href,
        "other_reports": list(other_reports), "back_href": back_href, "maps_note": maps_note,
        "objective": objective if ugel is None else None,
        "season": season if ugel is None else None,
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
                  thresholds: Sequence[float] = (30, 60, 120), main_threshold: float = 60.0,
                  glossary: Sequence[tuple[str, str]] = (),
                  ugel_tables: Mapping[str, Sequence[dict]] | None = None,
                  objective: Mapping | None = None, season: Mapping | None = None, maps_note: str = "",
                  maps_note_region: bool = False, charts: Mapping[str | None, Callable[[], list[dict]]] | None = None
                  ) -> dict[str, Path]:
    """Write ``report.html`` (region) and ``report_<ugel slug>.html`` for each UGEL
    (``objective``, ``season``: sections of the regional report, see :func:`render_report`).
    ``maps_note`` (which static maps were not drawn) is shown in the maps section of every
    UGEL report, and of the regional report too with ``maps_note_region``.

    ``static_maps`` is the mapping returned by
    :func:`siting.report.static_maps.write_static_maps`; its PNGs are embedded.
    ``ugels=None`` means every UGEL present in ``places``.  ``glossary`` (``(term,
    definition)`` pairs, :func:`siting.report.glossary.glossary`) closes every report;
    ``ugel_tables`` adds tables (:func:`table_context` dicts) to the report of each UGEL;
    ``charts`` (:func:`start_charts`) gives the charts of each report drawn by side processes.
    """
    out_dir = Path(out_dir)
    notes = list(notes)
    static_maps = dict(static_maps or {})
    ugel_list = report_ugels(places) if ugels is None else list(ugels)
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
                  target_column=target_column, thresholds=thresholds, main_threshold=main_threshold,
                  glossary=glossary)
    ugel_tables = dict(ugel_tables or {})
    written = {}
    page = render_report(**common, ugel=None, map_images=images("region"), map_href=map_href,
                         other_reports=[(u, files[u]) for u in ugel_list], objective=objective, season=season,
                         maps_note=maps_note if maps_note_region else "", charts=charts[None]() if charts else None)
    written["region"] = _write(out_dir / files["region"], page)
    for u in ugel_list:
        page = render_report(**common, ugel=u, map_images=images(slugs[u]), map_href=map_href,
                             back_href=files["region"], extra_tables=ugel_tables.get(u, ()), maps_note=maps_note,
                             charts=charts[u]() if charts else None)
        written[u] = _write(out_dir / files[u], page)
    return written


def _write(path: Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
