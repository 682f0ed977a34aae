"""Data layer: every input a run uses, read, validated and restricted to the study area.

:func:`load_data` is the data stage (``siting.load_data``; ``siting data check``)::

    import siting
    data = siting.load_data(siting.load_scenario("scenarios/cajamarca.toml"))
    data.places, data.cetpro, data.quality.summary()

It owns every input: boundaries, centros poblados, CETPRO and the other facilities, roads,
the DEM, and the optional tables the later stages read (district indicators, community
petitions, labelled sites, land-cover speed multipliers).  Later stages take these tables
from the :class:`StudyData` it returns, never paths from the scenario.

Facilities (CETPRO, extension centres, Tambos, school premises) are kept when they lie in
the study area *or within ``study_area.buffer_km`` of it* (people cross district lines;
the terrain and roads are loaded over the same buffered area).  Places are restricted to
the study area by their district code (``ubigeo``).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..errors import UserError
from ..i18n import bilingual
from ..limits import activate
from ..manifest import input_paths
from ..scenario import Scenario
from . import registry
from .boundaries import dissolve_study_area, load_districts, select_study_area, ugel_table, utm_crs
from .facilities import (
    CETPRO_COLUMNS,
    EXTENSION_COLUMNS,
    TAMBO_COLUMNS,
    load_cetpro,
    load_extension_centres,
    load_school_premises,
    load_tambos,
)
from .indicators import district_indicator_table, load_district_indicators
from .labelled_sites import load_labels
from .landcover import read_multipliers
from .load_cache import cache_key, cached_load
from .population import load_places
from .quality import QualityReport
from .terrain import Terrain, check_projected_crs, load_dem

__all__ = ["StudyData", "load_data", "load_districts", "select_study_area", "ugel_table", "load_places",
           "load_cetpro", "load_extension_centres", "load_tambos", "load_school_premises", "QualityReport",
           "district_indicator_table", "load_district_indicators", "load_labels", "registry",
           "read_multipliers"]


def _empty(columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: pd.Series(dtype="object") for c in columns if c != "geometry"},
                            geometry=gpd.GeoSeries([], crs=4326), crs=4326)


@dataclass(frozen=True)
class StudyData:
    """Everything the later stages need, in EPSG:4326 (``crs`` is the metric CRS to use)."""

    scenario: Scenario
    quality: QualityReport
    crs: str  # projected CRS for metric work
    study_area: Any  # shapely (Multi)Polygon, EPSG:4326: union of the study-area districts
    study_area_buffer: Any  # the study area grown by study_area.buffer_km (EPSG:4326)
    all_districts: gpd.GeoDataFrame  # every district of the department
    districts: gpd.GeoDataFrame  # districts of the study area
    ugels: pd.DataFrame  # ugel_table(districts)
    places: gpd.GeoDataFrame  # centros poblados of the study area
    cetpro: gpd.GeoDataFrame  # CETPRO in the study area + buffer that serve (see access.empty_cetpro_serve)
    cetpro_inactive: gpd.GeoDataFrame = field(default_factory=lambda: _empty(CETPRO_COLUMNS))  # 0 students, 0 teachers
    extension_centres: gpd.GeoDataFrame = field(default_factory=lambda: _empty(EXTENSION_COLUMNS))
    tambos: gpd.GeoDataFrame = field(default_factory=lambda: _empty(TAMBO_COLUMNS))
    school_premises: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None  # from siting.data.roads.load_roads when available
    terrain: Terrain | None = None  # the DEM in the projected CRS
    landcover: np.ndarray | None = None  # walking-speed multipliers on the terrain grid (inputs.landcover_speeds)
    district_indicators: pd.DataFrame | None = None  # ubigeo, poverty, hdi (inputs.district_indicators)
    labels: pd.DataFrame | None = None  # labelled sites for the learned model (inputs.labels)
    # the registry kept by DRE/UGEL (siting.data.registry; empty tables when not given)
    petitions: pd.DataFrame = field(default_factory=lambda: registry.empty("petitions"))
    host_premises: gpd.GeoDataFrame = field(default_factory=lambda: registry.empty("host_premises"))
    candidate_exclusions: pd.DataFrame = field(default_factory=lambda: registry.empty("candidate_exclusions"))
    monitoring: pd.DataFrame = field(default_factory=lambda: registry.empty("monitoring"))

    def facilities(self) -> gpd.GeoDataFrame:
        """CETPRO and extension centres together (``facility_id``, ``name``, ``kind``, geometry)."""
        cols = ["facility_id", "name", "kind", "geometry"]
        parts = [self.cetpro[cols]] + ([self.extension_centres[cols]] if len(self.extension_centres) else [])
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)


def _buffered(area, crs: str, km: float):
    g = gpd.GeoSeries([area], crs=4326).to_crs(crs)
    return g.buffer(km * 1000.0).to_crs(4326).iloc[0] if km > 0 else area



def _keep_within(gdf: gpd.GeoDataFrame, area, input_name: str, id_col: str, quality: QualityReport,
                 km: float) -> gpd.GeoDataFrame:
    """Rows inside ``area`` (the buffered study area).  The others are not errors, so they are
    reported as one study-level note (with their ids when there are at most 20)."""
    inside = gdf.geometry.within(area)
    n_out = int((~inside).sum())
    if n_out:
        ids = gdf.loc[~inside, id_col].astype(str).tolist()
        en, es = bilingual("data.outside_area", input=input_name, n_out=n_out, n=len(gdf), km=km,
                           listed=f": {', '.join(ids)}" if n_out <= 20 else "")
        quality.note(en, es=es)
    return gdf[inside].reset_index(drop=True)


def note_speeds(sc: Scenario, *, roads: pd.DataFrame | None, quality: QualityReport) -> None:
    """Quality note: where the road speeds come from (``speeds.calibration``: the report of
    ``siting calibrate``, or assumed values) and the values of the classes the roads use and
    the detour factors; once per report."""
    s = sc.speeds
    if s.mode == "walk" or any(n.startswith("Road speeds") for n in quality.notes):
        return
    present = set(roads["road_class"].astype(str)) if roads is not None and len(roads) else set()
    parts = [f"{c} {v:g} km/h" for c, v in s.road_kmh.items() if c in present]
    parts.append(f"rodeo/detour {s.approximate_detour_factor:g}")
    parts += [f"rodeo/detour {c} {v:g}" for c, v in s.detour_factor_by_class.items()]
    if s.calibration:
        _note(quality, "speeds.calibrated", report=Path(s.calibration).name, values=", ".join(parts))
    else:
        _note(quality, "speeds.assumed", values=", ".join(parts))


def _note(quality: QualityReport, key: str, **fields: object) -> None:
    en, es = bilingual(key, **fields)
    quality.note(en, es=es)


@dataclass(frozen=True)
class _Area:
    """The study area and where its inputs are read."""

    all_districts: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    area: Any
    buffered: Any
    crs: str
    km: float


def _study_area(sc: Scenario, q: QualityReport) -> _Area:
    all_districts = load_districts(sc, q)
    districts = select_study_area(all_districts, sc.study_area)
    area = dissolve_study_area(districts)
    crs = sc.optional("study_area.crs") or utm_crs(area)
    check_projected_crs(crs)
    km = sc.study_area.buffer_km
    return _Area(all_districts, districts, area, _buffered(area, crs, km), crs, km)


def _load_facilities(sc: Scenario, q: QualityReport, a: _Area, places: gpd.GeoDataFrame) -> dict[str, Any]:
    """CETPRO (with the registry's additional CETPRO), extension centres, Tambos and school
    premises within the buffered area; ``places`` are the department's (registry rows are
    located by them)."""
    cetpro = load_cetpro(sc, q, districts=a.all_districts)
    cetpro = registry.with_additional_cetpro(cetpro, sc, q, places=places, districts=a.all_districts)
    cetpro = _keep_within(cetpro, a.buffered, "cetpro", "cod_mod", q, a.km)
    if sc.inputs.extension_centres:
        ext = load_extension_centres(sc.inputs.extension_centres, q, places=places, cetpro=cetpro)
        ext = _keep_within(ext, a.buffered, "extension_centres", "facility_id", q, a.km)
    else:
        ext = _empty(EXTENSION_COLUMNS)
        _note(q, "data.no_extension_centres")
    if sc.inputs.tambos:
        tambos = _keep_within(load_tambos(sc.inputs.tambos, q, area=a.buffered), a.buffered, "tambos", "tambo_code",
                              q, a.km)
    else:
        tambos = _empty(TAMBO_COLUMNS)
        _note(q, "data.no_tambos")
    premises = None
    if sc.inputs.school_premises:
        premises = load_school_premises(sc.inputs.school_premises, q, area=a.all_districts.geometry.union_all())
        premises = _keep_within(premises, a.buffered, "school_premises", "codlocal", q, a.km)
    else:
        _note(q, "data.no_school_premises")
    return {"cetpro": cetpro, "extension_centres": ext, "tambos": tambos, "school_premises": premises}


def _split_empty_cetpro(sc: Scenario, q: QualityReport, cetpro: gpd.GeoDataFrame
                        ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """``(serving, inactive)`` CETPRO: a CETPRO of the school base with 0 students **and** 0
    teachers serves nobody (``access.empty_cetpro_serve = false``, the default), so it is
    neither a destination nor a parent; a CETPRO the registry added always serves.  The
    access stage says how many people it would otherwise count as served."""
    added = cetpro["user_added"].fillna(False).astype(bool) if "user_added" in cetpro else False
    empty = (cetpro["enrolment"].fillna(-1) == 0) & (cetpro["teachers"].fillna(-1) == 0) & ~added
    if sc.access.empty_cetpro_serve or not empty.any():
        return cetpro, cetpro.iloc[0:0].copy()
    names = ", ".join(f"{n} ({c})" for n, c in zip(cetpro.loc[empty, "name"], cetpro.loc[empty, "cod_mod"]))
    _note(q, "data.empty_cetpro", n=int(empty.sum()), names=names)
    return cetpro[~empty].reset_index(drop=True), cetpro[empty].reset_index(drop=True)


def _load_roads(sc: Scenario, q: QualityReport, polygon: Any, towns: gpd.GeoDataFrame | None = None, *,
                key: str | None = None) -> gpd.GeoDataFrame | None:
    """The road lines (``None`` without road inputs); ``towns`` are snapped onto the national
    routes.  With ``key`` (:func:`_cache_key`) the table is kept in ``run.cache_dir``
    (:mod:`.load_cache`), except for OSM roads downloaded at run time."""
    if not (sc.inputs.roads or sc.inputs.road_route_nodes or sc.inputs.osm):
        return None

    def load(report: QualityReport) -> gpd.GeoDataFrame:
        from .roads import load_roads  # the slowest loader: imported when there are roads
        return load_roads(sc, report, polygon=polygon, towns=towns)
    if key is None or sc.inputs.osm == "download":
        return load(q)
    return cached_load("roads", load, quality=q, cache_dir=sc.run.cache_dir, key=key)


#: inputs that are not read by the cached loaders (rasters: large to hash, read by their own loaders)
_NOT_HASHED = frozenset({"dem", "landcover_speeds"})


def _cache_key(sc: Scenario) -> str:
    """The key of the places and roads tables of :func:`load_data` (:func:`.load_cache.cache_key`):
    every input file but the rasters, and the sections ``study_area``, ``inputs``,
    ``population``, ``speeds`` and ``limits`` (the loaders read no other)."""
    d = sc.to_dict()
    files = [p for k, p in input_paths(sc).items() if k.split("[")[0] not in _NOT_HASHED]
    return cache_key("load_data", files=files,
                     settings={k: d[k] for k in ("study_area", "inputs", "population", "speeds", "limits")})


def _load_terrain(sc: Scenario, q: QualityReport, bounds_4326: tuple, crs: str) -> Terrain | None:
    """The DEM over the buffered area (``None`` without ``inputs.dem``)."""
    if not sc.inputs.dem:
        return None
    return load_dem(sc.inputs.dem, bounds_4326=bounds_4326, crs=crs, quality=q)


def _load_tables(sc: Scenario, terrain: Terrain | None) -> dict[str, Any]:
    """The optional tables of the later stages (``None`` when the scenario gives none)."""
    lc = sc.optional("inputs.landcover_speeds")
    return {
        "district_indicators": load_district_indicators(sc.inputs.district_indicators)
        if sc.inputs.district_indicators else None,
        "labels": load_labels(sc.inputs.labels) if sc.inputs.labels else None,
        "landcover": read_multipliers(lc, terrain) if lc and terrain is not None else None,
    }


def _note_ugels_without_cetpro(q: QualityReport, districts: gpd.GeoDataFrame, cetpro: gpd.GeoDataFrame,
                               ext: gpd.GeoDataFrame) -> None:
    served = set(cetpro["ugel"].dropna()) | set(
        gpd.sjoin(ext[["geometry"]], districts[["ugel", "geometry"]], predicate="within")["ugel"]
        if len(ext) else [])
    without = [u for u in ugel_table(districts)["ugel"] if u not in served]
    if without:
        _note(q, "data.ugels_without_cetpro", n=len(without), ugels=", ".join(without),
              verb="tiene" if len(without) == 1 else "tienen")


def load_data(sc: Scenario, *, progress: bool = True) -> StudyData:
    """The data stage: load and validate every input of ``sc``, restricted to the study area.

    Missing optional inputs (extension centres, Tambos, school premises, roads, DEM, the
    optional tables) are not errors: each adds a caveat to ``quality.notes`` that every
    output repeats, as do UGELs of the study area without any CETPRO in the data.  A study
    area without populated places raises :class:`~siting.errors.UserError`.
    """
    activate(sc)  # the scenario's [limits] and [inputs.layers] for every reader of the run
    q = QualityReport()
    steps = ["districts", "places", "facilities", "roads", "terrain", "tables", "registry"]
    bar = tqdm(total=len(steps), desc="loading data", disable=not progress or not sys.stderr.isatty())

    def step(name: str) -> None:
        bar.set_postfix_str(name)
        bar.update(1)

    a = _study_area(sc, q)
    step("districts")
    key = _cache_key(sc)
    all_places = cached_load("places", lambda report: load_places(sc, a.all_districts, report), quality=q,
                             cache_dir=sc.run.cache_dir, key=key)  # the department's: registry rows are located by them
    places = all_places[all_places["ubigeo"].isin(set(a.districts["ubigeo"]))].reset_index(drop=True)
    if len(places) == 0:
        raise UserError("the study area has no populated places", source=sc.source,
                        hint="check [study_area] (department, provinces, ugels, districts)")
    step("places")
    fac = _load_facilities(sc, q, a, all_places)
    step("facilities")
    roads = _load_roads(sc, q, a.buffered, all_places, key=key)
    if roads is None:
        _note(q, "data.no_roads")
    else:
        note_speeds(sc, roads=roads, quality=q)
    step("roads")
    terrain = _load_terrain(sc, q, tuple(a.buffered.bounds), a.crs)
    if terrain is None:
        _note(q, "data.no_dem")
    step("terrain")
    tables = _load_tables(sc, terrain)
    step("tables")
    reg = registry.load_inputs(sc, q, places=all_places, cetpro=fac["cetpro"],
                               extension_centres=fac["extension_centres"])
    step("registry")
    bar.close()
    fac["cetpro"], fac["cetpro_inactive"] = _split_empty_cetpro(sc, q, fac["cetpro"])
    _note_ugels_without_cetpro(q, a.districts, fac["cetpro"], fac["extension_centres"])
    return StudyData(scenario=sc, quality=q, crs=a.crs, study_area=a.area, study_area_buffer=a.buffered,
                     all_districts=a.all_districts, districts=a.districts, ugels=ugel_table(a.districts),
                     places=places, roads=roads, terrain=terrain, **fac, **tables, **reg)
