"""Data layer: every input read, validated and restricted to the study area.

:func:`load_study_data` is the single entry point used by the pipeline and notebooks::

    import siting
    from siting.data import load_study_data
    data = load_study_data(siting.load_scenario("scenarios/cajamarca.toml"))
    data.places, data.cetpro, data.quality.summary()

Facilities (CETPRO, extension centres, Tambos, school premises) are kept when they lie in
the study area *or within ``study_area.buffer_km`` of it* (people cross district lines;
the terrain and roads are loaded over the same buffered area).  Places are restricted to
the study area by their district code (``ubigeo``).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
from tqdm.auto import tqdm

from ..scenario import Scenario
from . import registry
from .boundaries import dissolve_study_area, load_districts, select_study_area, ugel_table, utm_crs
from .facilities import (
    EXTENSION_COLUMNS,
    TAMBO_COLUMNS,
    load_cetpro,
    load_extension_centres,
    load_school_premises,
    load_tambos,
)
from .population import load_places
from .quality import QualityReport
from .terrain import check_projected_crs

__all__ = ["StudyData", "load_study_data", "load_districts", "select_study_area", "ugel_table", "load_places",
           "load_cetpro", "load_extension_centres", "load_tambos", "load_school_premises", "QualityReport"]


def _empty(columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: pd.Series(dtype="object") for c in columns if c != "geometry"},
                            geometry=gpd.GeoSeries([], crs=4326), crs=4326)


@dataclass
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
    cetpro: gpd.GeoDataFrame  # CETPRO in the study area + buffer
    extension_centres: gpd.GeoDataFrame = field(default_factory=lambda: _empty(EXTENSION_COLUMNS))
    tambos: gpd.GeoDataFrame = field(default_factory=lambda: _empty(TAMBO_COLUMNS))
    school_premises: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None  # from siting.data.roads.load_roads when available
    terrain: Any = None  # siting.data.terrain.Terrain when available
    # registry kept by DRE/UGEL (siting.data.registry; empty tables when not given)
    petitions: pd.DataFrame = field(default_factory=lambda: registry.empty("petitions"))
    host_premises: gpd.GeoDataFrame = field(default_factory=lambda: registry.empty("host_premises"))
    candidate_exclusions: pd.DataFrame = field(default_factory=lambda: registry.empty("candidate_exclusions"))
    monitoring: pd.DataFrame = field(default_factory=lambda: registry.empty("monitoring"))

    @property
    def study_area_gdf(self) -> gpd.GeoDataFrame:
        """The study area as a one-row GeoDataFrame (EPSG:4326)."""
        return gpd.GeoDataFrame({"name": [self.scenario.run.name]}, geometry=[self.study_area], crs=4326)

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
        listed = f": {', '.join(ids)}" if n_out <= 20 else ""
        quality.note(f"{input_name}: {n_out} of {len(gdf)} rows lie outside the study area + {km:g} km and are not "
                     f"used{listed}.",
                     es=f"{input_name}: {n_out} de {len(gdf)} filas están fuera del área de estudio + {km:g} km "
                     f"y no se usan{listed}.")
    return gdf[inside].reset_index(drop=True)


def _optional_loader(module: str, func: str):
    """``siting.data.<module>.<func>`` if that module and function exist, else ``None``."""
    import importlib
    try:
        mod = importlib.import_module(f"{__name__}.{module}")
    except ImportError:
        return None
    return getattr(mod, func, None)


def load_study_data(sc: Scenario, *, progress: bool = True) -> StudyData:
    """Load and validate every input of ``sc`` and restrict it to the study area.

    Missing optional inputs (extension centres, Tambos, school premises, roads, DEM) are
    not errors: each adds a caveat to ``quality.notes`` that every output repeats, as do
    UGELs of the study area without any CETPRO in the data.
    """
    q = QualityReport()
    steps = ["districts", "places", "cetpro", "extension centres", "tambos", "school premises", "roads", "terrain"]
    bar = tqdm(total=len(steps), desc="loading data", disable=not progress or not sys.stderr.isatty())

    def step(name: str) -> None:
        bar.set_postfix_str(name)
        bar.update(1)

    all_districts = load_districts(sc, q)
    districts = select_study_area(all_districts, sc.study_area)
    area = dissolve_study_area(districts)
    crs = sc.study_area.crs or utm_crs(area)
    check_projected_crs(crs)
    km = sc.study_area.buffer_km
    area_buf = _buffered(area, crs, km)
    step("districts")

    all_places = load_places(sc, all_districts, q)  # the department's: registry rows are located by them
    places = all_places[all_places["ubigeo"].isin(set(districts["ubigeo"]))].reset_index(drop=True)
    step("places")

    cetpro = load_cetpro(sc, q, districts=all_districts)
    cetpro = registry.with_additional_cetpro(cetpro, sc, q, places=all_places, districts=all_districts)
    cetpro = _keep_within(cetpro, area_buf, "cetpro", "cod_mod", q, km)
    step("cetpro")

    if sc.inputs.extension_centres:
        ext = load_extension_centres(sc.inputs.extension_centres, q, places=all_places, cetpro=cetpro)
        ext = _keep_within(ext, area_buf, "extension_centres", "facility_id", q, km)
    else:
        ext = _empty(EXTENSION_COLUMNS)
        q.note("No list of existing extension centres (inputs.extension_centres): access is measured to CETPRO "
               "sedes only, so gaps are over-estimated where extension centres already operate.",
               es="No se cuenta con la lista de centros de extensión existentes (inputs.extension_centres): "
               "el acceso se mide solo hasta las sedes de CETPRO, por lo que las brechas se sobrestiman donde "
               "ya funcionan centros de extensión.")
    step("extension centres")

    if sc.inputs.tambos:
        tambos = _keep_within(load_tambos(sc.inputs.tambos, q, area=area_buf), area_buf, "tambos", "tambo_code",
                              q, km)
    else:
        tambos = _empty(TAMBO_COLUMNS)
        q.note("No Tambo list (inputs.tambos): Tambos are not counted as host premises.",
               es="No se cuenta con la lista de Tambos (inputs.tambos): los Tambos no se consideran como "
               "locales anfitriones.")
    step("tambos")

    premises = None
    if sc.inputs.school_premises:
        premises = load_school_premises(sc.inputs.school_premises, q, area=all_districts.geometry.union_all())
        premises = _keep_within(premises, area_buf, "school_premises", "codlocal", q, km)
    else:
        q.note("No school premises layer (inputs.school_premises): host premises cannot be checked.",
               es="No se cuenta con la capa de locales escolares (inputs.school_premises): no se pueden "
               "verificar los locales anfitriones.")
    step("school premises")

    roads = None
    load_roads = _optional_loader("roads", "load_roads")
    if load_roads is not None and (sc.inputs.roads or sc.inputs.road_route_nodes or sc.inputs.osm):
        roads = load_roads(sc, q, polygon=area_buf)
    else:
        q.note("No road network loaded: travel is on foot over terrain only.",
               es="No se cargó la red vial: el desplazamiento es solo a pie sobre el terreno.")
    step("roads")

    terrain = None
    load_dem = _optional_loader("terrain", "load_dem")
    if load_dem is not None and sc.inputs.dem:
        terrain = load_dem(sc.inputs.dem, bounds_4326=tuple(area_buf.bounds), crs=crs, quality=q)
    else:
        q.note("No elevation model loaded (inputs.dem or siting.data.terrain.load_dem missing).",
               es="No se cargó el modelo digital de elevación (falta inputs.dem o "
               "siting.data.terrain.load_dem).")
    step("terrain")
    bar.close()

    served = set(cetpro["ugel"].dropna()) | set(
        gpd.sjoin(ext[["geometry"]], districts[["ugel", "geometry"]], predicate="within")["ugel"]
        if len(ext) else [])
    without = [u for u in ugel_table(districts)["ugel"] if u not in served]
    if without:
        q.note(f"{len(without)} UGEL(s) of the study area have no CETPRO in the data: {', '.join(without)}. "
               "Their people can only be served by CETPRO of neighbouring UGELs; if they have CETPRO that are "
               "missing from the school base, their gap is over-estimated.",
               es=f"{len(without)} UGEL del área de estudio no "
               f"{'tiene' if len(without) == 1 else 'tienen'} ningún CETPRO en los datos: {', '.join(without)}. "
               "Su población solo puede ser atendida por CETPRO de UGEL vecinas; si "
               f"{'tiene' if len(without) == 1 else 'tienen'} CETPRO que faltan en el padrón de instituciones "
               "educativas, su brecha está sobrestimada.")
    reg = registry.load_inputs(sc, q, places=all_places, cetpro=cetpro, extension_centres=ext)
    return StudyData(scenario=sc, quality=q, crs=crs, study_area=area, study_area_buffer=area_buf,
                     all_districts=all_districts, districts=districts, ugels=ugel_table(districts),
                     places=places, cetpro=cetpro, extension_centres=ext, tambos=tambos,
                     school_premises=premises, roads=roads, terrain=terrain, **reg)
