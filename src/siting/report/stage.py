"""The report stage: the interactive map, the static maps (PNG/PDF) and the HTML reports
(region + one per UGEL), all from the stage results and in the run's language and bands."""
from __future__ import annotations

import contextlib
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..access import AccessResult, place_table
from ..allocation import ProposalResult
from ..data import StudyData
from ..scenario import Scenario
from .side_tasks import SidePool, side_pool


@dataclass(frozen=True)
class ReportResult:
    """The files written by :func:`make_report` (key -> path)."""

    files: dict[str, Path] = field(default_factory=dict)


def _slug(t: float) -> str:
    return f"{t:g}".replace(".", "_")


def report_gap_table(summary: pd.DataFrame, key: str, thresholds: list[float]) -> pd.DataFrame:
    """The compact gap table of the HTML report: unit, places, population, target population,
    ``share_within_T`` and people ``beyond_T`` for each threshold of ``summary``, mean minutes."""
    slugs = [_slug(t) for t in thresholds]
    out = summary.rename(columns={key: "unit", **{f"population_beyond_{s}": f"beyond_{s}" for s in slugs}})
    keep = (["unit", "places", "population", "target_population"] + [f"share_within_{s}" for s in slugs]
            + [f"beyond_{s}" for s in slugs] + ["mean_minutes"])
    return out[[c for c in keep if c in out.columns]]


def _summary_thresholds(summary: pd.DataFrame) -> list[float]:
    found = [m[1] for c in summary.columns if (m := re.fullmatch(r"share_within_(\d+(?:_\d+)?)", str(c)))]
    return [float(s.replace("_", ".")) for s in found]


#: the end of a sentence: "." or ";" after a lowercase word (not "Emp." nor "dic. 2022"), then a capital
_SENTENCE_END = re.compile(r"(?<=[a-záéíóúñ)\]]{3}[.;])\s+(?=[A-ZÁÉÍÓÚÑ¿¡«\"(])")


def shorten(note: str, limit: int = 200) -> str:
    """The first sentence of a caveat, for the print maps; longer than ``limit`` characters, it
    is cut at the last whole word that fits and ends with "…" (never in the middle of a word)."""
    first = _SENTENCE_END.split(note, maxsplit=1)[0]
    if len(first) <= limit:
        return first
    return textwrap.shorten(first, width=limit, placeholder=" …")


def area_name(sc: Scenario, lang: str) -> str:
    """The study area as a title names it: its UGEL(s) when at most three, else "Región (8 UGEL)"."""
    ugels = list(sc.study_area.ugels)
    if ugels and len(ugels) <= 3:
        return ", ".join(ugels)
    from .labels import t
    return f"{t('map.region', lang)} ({len(ugels)} UGEL)" if ugels else t("map.region", lang)


def known_extension(sc: Scenario, data: StudyData) -> pd.DataFrame | None:
    """The existing extension centres, or ``None`` when no list was given (the report then says
    "not in the data" instead of a count of 0)."""
    ext = data.extension_centres
    given = bool(sc.inputs.extension_centres)
    return ext if (ext is not None and len(ext)) or given else None


def _static_maps(pool: SidePool, sc: Scenario, data: StudyData, places: pd.DataFrame, *, folder: Path,
                 raster: str | Path | None, proposals: pd.DataFrame | None, notes: list[str], option: str
                 ) -> Callable[[], dict[str, list[Path]]]:
    """Start drawing the static maps of ``option`` (``run.maps``: ``"region"`` the regional maps,
    ``"all"`` also every UGEL's, ``"none"``) in ``pool``, the maps (area, kind) shared out in
    turn over the side processes (the region's two maps are drawn side by side); return the
    getter of ``{key: [png, pdf]}`` in the order of the areas (region first)."""
    from .slugs import unique_slugs

    if option == "none":
        return dict
    ugels: list[str] = [] if option == "region" else sorted(data.districts["ugel"].dropna().unique())
    slugs = unique_slugs(ugels)
    areas: list[str | None] = [None, *ugels]
    kinds = (["travel_time"] if raster is not None else []) + ["proposals"]
    units = [(a, kind) for a in areas for kind in kinds]  # one map each, shared out in turn
    shares = max(1, min(pool.workers, len(units)))
    common = {"places": places, "districts": data.districts, "raster_path": raster, "proposals": proposals,
              "cetpro": data.cetpro, "extension": data.extension_centres, "crs": data.crs,
              "thresholds": list(sc.access.thresholds_min), "notes": [shorten(n) for n in notes],
              "lang": sc.run.language, "slugs": slugs}
    getters = [pool.submit(_write_static_maps, folder / "mapas", region=(None, kind) in units[k::shares],
                           ugels=[a for a, kd in units[k::shares] if a is not None and kd == kind], kinds=(kind,),
                           **common)
               for k in range(shares) for kind in kinds if any(kd == kind for _, kd in units[k::shares])]

    def merged() -> dict[str, list[Path]]:
        got = {key: paths for get in getters for key, paths in get().items()}
        keys = [f"{kind}_{'region' if a is None else slugs[a]}" for a in areas for kind in ("travel_time", "proposals")]
        return {k: got[k] for k in keys if k in got}
    return merged


def _write_static_maps(*args: Any, **kwargs: Any) -> dict[str, list[Path]]:
    """:func:`.static_maps.write_static_maps`, imported where it runs (a side process): the
    main process then never imports matplotlib (issue #19)."""
    from .static_maps import write_static_maps

    return write_static_maps(*args, **kwargs)


@dataclass
class StartedReport:
    """The report work :func:`start_report` started in side processes: the static maps, the
    charts and the Pareto chart (getters), the place table and the notes they were drawn with."""

    pool: SidePool
    places: pd.DataFrame
    notes: list[str]
    get_maps: Callable[[], dict[str, list[Path]]]
    charts: dict
    pareto: Callable[[], Any] | None


def start_report(sc: Scenario, data: StudyData, access: AccessResult, plan: ProposalResult | None, *,
                 folder: str | Path, raster: str | Path | None, pool: SidePool) -> StartedReport:
    """Start the static maps, the charts and the Pareto chart of :func:`make_report` in ``pool``:
    ``siting run`` starts them as soon as the plan is known, while the propose stage evaluates
    and writes it (issue #19); the files are those :func:`make_report` draws itself."""
    from . import html_report, objective_section
    lang, th = sc.run.language, list(sc.access.thresholds_min)
    notes = data.quality.notes_in(lang) + ([] if plan is None else plan.notes)
    places = place_table(access, sc)
    get_maps = _static_maps(pool, sc, data, places, folder=Path(folder), raster=raster,
                            proposals=None if plan is None else plan.proposals, notes=notes,
                            option=getattr(sc.run, "maps", "all"))
    # the charts before the workbooks: the reports need them, the workbooks are waited for last
    charts = html_report.start_charts(pool, places, None if plan is None else plan.curve, lang=lang, thresholds=th)
    pareto = None if plan is None or not len(plan.tradeoff.table) else pool.submit(
        objective_section.pareto_chart_uri, plan.tradeoff, lang, png_data_uri=html_report.png_data_uri)
    return StartedReport(pool=pool, places=places, notes=notes, get_maps=get_maps, charts=charts, pareto=pareto)


def make_report(sc: Scenario, data: StudyData, access: AccessResult, plan: ProposalResult | None = None, *,
                folder: str | Path, raster: str | Path | None = None, progress: bool = True,
                started: StartedReport | None = None) -> ReportResult:
    """The report stage: ``mapa.html`` (Folium), ``mapas/*.png|pdf`` (travel time with the
    ``raster`` GeoTIFF, proposals) and ``report.html`` + ``report_<ugel>.html`` into ``folder``.

    Bands, colours and "people beyond T" figures follow ``access.thresholds_min`` and
    ``access.main_threshold_min``; every caveat of the data (and the solver note of the plan)
    is repeated in every output.  ``started``: the maps and charts :func:`start_report` began
    for the same inputs (its pool is closed here)."""
    from . import html_report, objective_section
    from .glossary import glossary
    from .labels import t
    folder = Path(folder)
    lang, th = sc.run.language, list(sc.access.thresholds_min)
    proposals = None if plan is None else plan.proposals
    maps_option = getattr(sc.run, "maps", "all")
    with side_pool() if started is None else contextlib.closing(started.pool) as pool:  # side processes (#19)
        if started is None:
            started = start_report(sc, data, access, plan, folder=folder, raster=raster, pool=pool)
        places, notes, get_maps, charts, pareto = (started.places, started.notes, started.get_maps, started.charts,
                                                   started.pareto)
        from . import folium_map, robust_section, season_section  # after the fork: the side processes need none
        from .analyst import start_analyst_tables
        get_analyst, ugel_tables = start_analyst_tables(folder, sc, data, places, caveats=notes, pool=pool)
        m = folium_map.make_map(places, cetpro=data.cetpro, extension=data.extension_centres, proposals=proposals,
                                tambos=data.tambos, premises=data.school_premises, roads=data.roads,
                                districts=data.districts, travel_time_tif=raster, thresholds=th, quality_notes=notes,
                                area_name=area_name(sc, lang), lang=lang)
        written = {"map": folium_map.save_map(m, folder / "mapa.html")}
        objective = None if plan is None else robust_section.with_robustness(objective_section.objective_context(
            plan, lang, table_context=html_report.table_context, png_data_uri=html_report.png_data_uri, chart=pareto),
            sc, plan, places, table_context=html_report.table_context)
        maps = get_maps()
        headline = _summary_thresholds(access.summary)
        by_district = access.summary_by_district
        reports = html_report.write_reports(
            folder, places=places, by_ugel=report_gap_table(access.summary, "ugel", headline),
            by_district=report_gap_table(by_district, "district", headline).assign(ugel=by_district.get("ugel")),
            proposals=proposals, coverage=None if plan is None else plan.curve, static_maps=maps,
            map_href="mapa.html", lang=lang, notes=notes, reason=sc.study_area.reason, cetpro=data.cetpro,
            extension=known_extension(sc, data), target_column=f"pop_{sc.population.target_group}", thresholds=th,
            main_threshold=sc.access.main_threshold_min, glossary=glossary(sc, lang), ugel_tables=ugel_tables,
            maps_note={"none": t("maps.none_note", lang), "region": t("maps.region_note", lang)}.get(maps_option, ""),
            maps_note_region=maps_option == "none", objective=objective, charts=charts,
            season=None if access.season is None else season_section.season_context(
                access.season, lang, main_threshold=sc.access.main_threshold_min,
                table_context=html_report.table_context))
        analyst_files = get_analyst()
    for key, paths in maps.items():
        for p in paths:
            written[f"{key}{p.suffix}"] = p
    written.update(analyst_files)
    written.update({f"report_{k}": v for k, v in reports.items()})
    return ReportResult(files=written)
