"""The whole country on one machine: travel time from every centro poblado of Peru to its
nearest district capital, and the access gaps by department.

Inputs (``scenarios/peru_national.toml``): the INEI national list of 94,922 centros poblados
with coordinates (``inputs.ccpp``; it has **no population**), the whole-Peru 30″ DEM
(``inputs.dem``), the INEI 2025 directory of 1,891 district capitals
(``inputs.district_capitals``), the MINAM/INEI district population (``inputs.district_population``)
and road files (``inputs.roads`` / ``inputs.road_route_nodes``).  Only Cajamarca's roads are
shipped: they are used for department ``study_area.department`` (06) and walking over
terrain everywhere (a trip that reaches a Cajamarca road may use it, wherever it started).

Population: census counts per centro poblado exist only for Cajamarca, so nationally each
place gets ``population_estimate = P_d / n_d`` (``P_d`` = district population of
``population.projection_year``, ``n_d`` = centros poblados of the district in the list),
a documented equal-share estimate; gap tables give counts of places **and** this estimate.

Memory is estimated before building with the engine's model
(:func:`siting.network.memory.graph_memory_estimate`, refused up front when it does not fit);
the graph is one sparse CSR matrix and the query one multi-source Dijkstra (no dense matrix).
Bands and the per-department sums use the shared :mod:`siting.access` helpers.  ``engine="dask"`` runs
one task per department; each worker reads the DEM window of the department's halo and the
roads of that window and builds its own partition of the graph
(:func:`siting.distributed_partitions.nearest_by_windows`): the driver reads only the point
tables and never builds the graph.  Both engines report times above ``max_minutes`` as beyond
the limit, so they agree exactly.  A whole graph that does not fit in memory is refused by the
serial engine before the DEM is read (:func:`refuse_whole_graph`, with the estimate and the
hint to use the Dask engine); see ``docs/CLUSTER.md`` for a real cluster.
"""
from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .access.aggregate import _grouping
from .access.bands import assign_band
from .access.stats import _share, _sum
from .data.boundaries import number_column
from .data.quality import QualityReport
from .errors import DataError, UserError
from .io import atomic_path, check_file, read_table, zfill_code
from .limits import activate
from .network.graph import TravelGraph
from .scenario import Scenario

log = logging.getLogger(__name__)

#: Equidistant conic centred on Peru (standard parallels 3°S and 15°S): true scale along the
#: meridians and both standard parallels, scale error < ~1 % over Peru (0°-18.4° S).
NATIONAL_CRS = "+proj=eqdc +lat_0=-9.2 +lon_0=-75 +lat_1=-3 +lat_2=-15 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
#: Default censoring limit (12 h): times above it are "beyond the limit" in both engines.
DEFAULT_MAX_MINUTES = 720.0
ENGINES = ("serial", "dask")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- inputs


def _points(df: pd.DataFrame, lon: str, lat: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df[lon], df[lat]), crs="EPSG:4326")


def read_national_places(path: str | Path, *, quality: QualityReport | None = None,
                         district_population: str | Path | None = None, year: int = 2023) -> gpd.GeoDataFrame:
    """The INEI national list of centros poblados (parquet/CSV with ``inei_ccpp``,
    ``inei_distrito``, ``departamento``, ``provincia``, ``distrito``, ``ccpp``, ``tipo``,
    ``latitude``, ``longitude``) as points with ``ccpp_id``, ``name``, ``ubigeo``,
    ``department_code``, ``department``, ``province``, ``district``, ``area``,
    ``population_estimate`` (``P_d / n_d``, NaN without district population) and
    ``population_source``.  Rows without coordinates are dropped and counted in ``quality``.
    """
    path = Path(path)
    check_file(path, "table", hint="check 'inputs.ccpp' in the scenario")
    df = read_table(path)
    need = ["inei_ccpp", "inei_distrito", "departamento", "provincia", "distrito", "ccpp", "latitude", "longitude"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}", source=str(path),
                        hint=f"the national CCPP list must have {', '.join(need)}; it has {', '.join(df.columns)}")
    sep = df.attrs.get("sep")
    lat = number_column(df["latitude"], kind="degrees", column="latitude", path=path, quality=quality, sep=sep)
    lon = number_column(df["longitude"], kind="degrees", column="longitude", path=path, quality=quality, sep=sep)
    ok = lat.notna() & lon.notna() & lat.between(-19, 1) & lon.between(-82, -68)
    if quality is not None:
        quality.count(f"ccpp_national:{path.name}", read=len(df), kept=int(ok.sum()))
    df = df[ok.to_numpy()].reset_index(drop=True)
    out = pd.DataFrame({
        "ccpp_id": zfill_code(df["inei_ccpp"], 10), "name": df["ccpp"].astype(str),
        "ubigeo": zfill_code(df["inei_distrito"], 6),
        "department": df["departamento"].astype(str), "province": df["provincia"].astype(str),
        "district": df["distrito"].astype(str),
        "area": df["tipo"].astype(str).str.lower().map({"urban": "urbano", "rural": "rural"}) if "tipo" in df
        else pd.Series(pd.NA, index=df.index),
        "longitude": lon[ok.to_numpy()].to_numpy(), "latitude": lat[ok.to_numpy()].to_numpy()})
    out.insert(3, "department_code", out["ubigeo"].str[:2])
    out["population_estimate"] = np.nan
    out["population_source"] = "not available"
    if district_population:
        from .data.population import read_district_population
        dp = read_district_population(district_population, year, quality=quality)
        n_d = out.groupby("ubigeo")["ccpp_id"].transform("size")
        p_d = out["ubigeo"].map(dp["total"])
        out["population_estimate"] = (p_d / n_d).to_numpy(dtype=float)
        has = out["population_estimate"].notna()
        out.loc[has, "population_source"] = f"district {year} / places in district"
        if quality is not None:
            quality.note(f"National population is not available per centro poblado: each of {int(has.sum()):,} "
                         f"places gets its district's {year} population divided by the number of places listed "
                         f"in the district (estimate); {int((~has).sum()):,} places are in districts without "
                         "a population figure.",
                         es=f"No hay población por centro poblado a nivel nacional: cada uno de {int(has.sum()):,} "
                            f"centros poblados recibe la población {year} de su distrito dividida entre el número de "
                            f"centros poblados del distrito (estimación); {int((~has).sum()):,} están en distritos "
                            "sin cifra de población.")
    return _points(out, "longitude", "latitude")


def read_capitals(path: str | Path, *, quality: QualityReport | None = None) -> gpd.GeoDataFrame:
    """INEI directory of municipalities: one district capital per row (``ubigeo``, ``name``,
    ``altitude_m``, point from ``latitud``/``longitud``)."""
    path = Path(path)
    check_file(path, "table", hint="check 'inputs.district_capitals' in the scenario")
    df = read_table(path, dtype={"ubigeo": "str"})
    need = ["ubigeo", "capital_legal", "latitud", "longitud"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}", source=str(path),
                        hint=f"the file has: {', '.join(df.columns)}")
    sep = df.attrs.get("sep")
    lat = number_column(df["latitud"], kind="degrees", column="latitud", path=path, quality=quality, sep=sep)
    lon = number_column(df["longitud"], kind="degrees", column="longitud", path=path, quality=quality, sep=sep)
    ok = (lat.notna() & lon.notna()).to_numpy()
    if quality is not None:
        quality.count(f"capitals:{path.name}", read=len(df), kept=int(ok.sum()))
    out = pd.DataFrame({"ubigeo": zfill_code(df["ubigeo"], 6)[ok].to_numpy(),
                        "name": df["capital_legal"].astype(str)[ok].to_numpy(),
                        "altitude_m": number_column(df["altitud"], kind="count", column="altitud", path=path,
                                                    quality=quality, sep=sep)[ok].to_numpy()
                        if "altitud" in df else np.nan,
                        "longitude": lon[ok].to_numpy(), "latitude": lat[ok].to_numpy()})
    return _points(out, "longitude", "latitude")


# --------------------------------------------------------------------------- gaps


def gaps_by_department(places: pd.DataFrame, thresholds: list[float], *, main_threshold: float,
                       roads_department: str = "") -> pd.DataFrame:
    """One row per department: ``places``, ``places_within_T_min`` for each threshold T,
    ``places_beyond_main`` and ``share_places_beyond_main`` (> ``main_threshold`` or
    unreachable), ``population_estimate`` and ``population_estimate_beyond_main``,
    ``share_population_beyond_main``, ``median_minutes`` (over places with a time),
    ``beyond_max_minutes`` (on the DEM, no capital within the censoring limit),
    ``unreachable`` (no time and not beyond the limit: off the DEM with no road), ``roads_used``.
    A last row ``department_code = "PE"`` gives the country.  Sums per department are the
    grouped sums of :mod:`siting.access` (one pass over the places, as for districts and UGELs).
    """
    m = places["minutes_to_capital"].to_numpy(dtype=float)
    pop = np.nan_to_num(places["population_estimate"].to_numpy(dtype=float))
    limit = places["beyond_max_minutes"].to_numpy(dtype=bool) if "beyond_max_minutes" in places \
        else np.zeros(len(m), bool)
    keys = pd.DataFrame({"department_code": places["department_code"].to_numpy(),
                         "department": places["department"].to_numpy()})
    codes, table = _grouping(keys, ["department_code", "department"])
    departments = pd.concat([table.reset_index(drop=True), _gap_columns(codes, len(table), m, pop, limit, thresholds,
                                                                        main_threshold)], axis=1)
    departments["roads_used"] = departments["department_code"] == roads_department
    country = _gap_columns(np.zeros(len(m), dtype=np.int64), 1, m, pop, limit, thresholds, main_threshold)
    country.insert(0, "department", "PERÚ")
    country.insert(0, "department_code", "PE")
    country["roads_used"] = bool(roads_department)
    return pd.concat([departments, country], ignore_index=True)


def _gap_columns(codes: np.ndarray, n: int, m: np.ndarray, pop: np.ndarray, limit: np.ndarray,
                 thresholds: list[float], main_threshold: float) -> pd.DataFrame:
    """The figures of :func:`gaps_by_department` for ``n`` groups (``codes`` per place)."""
    beyond = ~(m <= main_threshold)
    reach = np.isfinite(m)
    n_places = np.bincount(codes, minlength=n)
    cols: dict[str, object] = {"places": n_places}
    for t in thresholds:
        cols[f"places_within_{t:g}_min"] = _sum(codes, (m <= t).astype(float), n).astype(np.int64)
    n_beyond = _sum(codes, beyond.astype(float), n)
    cols["places_beyond_main"] = n_beyond.astype(np.int64)
    cols["share_places_beyond_main"] = [round(float(v), 4) for v in _share(n_beyond, n_places)]
    total = [round(float(v), 0) for v in _sum(codes, pop, n)]
    pop_beyond = [round(float(v), 0) for v in _sum(codes, pop * beyond, n)]
    cols["population_estimate"] = total
    cols["population_estimate_beyond_main"] = pop_beyond
    cols["share_population_beyond_main"] = [round(b / a, 4) if a > 0 else np.nan for a, b in zip(total, pop_beyond)]
    median = pd.Series(np.where(reach, m, np.nan)).groupby(codes).median().reindex(range(n))
    cols["median_minutes"] = [round(float(v), 1) if np.isfinite(v) else np.nan for v in median]
    cols["beyond_max_minutes"] = _sum(codes, limit.astype(float), n).astype(np.int64)
    cols["unreachable"] = _sum(codes, (~reach & ~limit).astype(float), n).astype(np.int64)
    return pd.DataFrame(cols)


# --------------------------------------------------------------------------- run


@dataclass
class NationalResult:
    """What :func:`run_national` computed and wrote."""

    places: pd.DataFrame  # one row per centro poblado (see places_national.csv)
    gaps: pd.DataFrame  # gaps_by_department.csv
    memory: int  # bytes: siting.network.memory.graph_memory_estimate of the national graph
    figures: dict = field(default_factory=dict)  # counts and timings
    files: dict[str, Path] = field(default_factory=dict)
    tasks: pd.DataFrame | None = None  # per-department halo tasks (dask engine)


def _load_national_roads(sc: Scenario, quality: QualityReport, crs: str) -> gpd.GeoDataFrame | None:
    if sc.speeds.mode == "walk" or not (sc.inputs.roads or sc.inputs.road_route_nodes or sc.inputs.osm):
        return None
    from .data.roads import load_roads
    roads = load_roads(sc, quality, crs=crs)
    return roads if len(roads) else None


@dataclass
class NationalGraph:
    """The national inputs and their travel-time graph (points "places" and "capitals")."""

    graph: TravelGraph
    places: gpd.GeoDataFrame
    capitals: gpd.GeoDataFrame
    roads_used: bool
    memory: int  # bytes (siting.network.memory.graph_memory_estimate)
    quality: QualityReport
    figures: dict = field(default_factory=dict)


def _national_inputs(sc: Scenario) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, QualityReport]:
    """The national point tables (places, capitals) and the quality report they started."""
    for key in ("ccpp", "dem", "district_capitals"):
        if not getattr(sc.inputs, key):
            raise UserError(f"the national run needs inputs.{key}", source=sc.source or None,
                            hint="see scenarios/peru_national.toml")
    activate(sc)  # the scenario's [limits] and [inputs.layers] for every reader
    q = QualityReport()
    places = read_national_places(sc.inputs.ccpp, quality=q,
                                  district_population=sc.optional("inputs.district_population"),
                                  year=sc.optional("population.projection_year") or 2023)
    capitals = read_capitals(sc.inputs.district_capitals, quality=q)
    return places, capitals, q


def national_source(sc: Scenario, *, resolution_m: float | None = None):
    """The :class:`siting.distributed_partitions.GraphSource` of the national graph (paths
    and parameters a worker builds its windows from)."""
    from .distributed_partitions import GraphSource
    with_roads = sc.speeds.mode != "walk" and bool(sc.inputs.roads or sc.inputs.road_route_nodes or sc.inputs.osm)
    return GraphSource(dem=str(sc.inputs.dem), crs=sc.study_area.crs or NATIONAL_CRS, speeds=sc.speeds,
                       mode="roads+walk" if with_roads else "walk", resolution_m=resolution_m,
                       roads=sc if with_roads else None)


def refuse_whole_graph(mem: int, *, cells: tuple[int, int], available: int | None = None) -> None:
    """Refuse up front (``UserError`` with the estimate) a whole national graph that does not
    fit in :data:`siting.limits.MEMORY_SHARE` of the memory available; the hint names the
    Dask engine, whose workers build windows of it."""
    from .limits import MEMORY_SHARE, available_memory
    free = available_memory() if available is None else int(available)
    if mem <= MEMORY_SHARE * free:
        return
    raise UserError(f"the whole national graph ({cells[0]:,} x {cells[1]:,} cells) needs about "
                    f"{mem / 2**30:.2f} GB and {free / 2**30:.2f} GB are available (the serial engine builds it "
                    "whole)", source="inputs.dem",
                    hint="use --engine dask: each worker builds only its department's window of the graph "
                         "(a cluster of workers with enough memory each), or a coarser --resolution-m")


def national_graph(sc: Scenario, *, progress: bool = True, resolution_m: float | None = None,
                   available_memory: int | None = None) -> NationalGraph:
    """Load the national inputs of ``sc`` and build one graph (cells + roads + places +
    capitals); the memory estimate is made (and shown, and a graph that does not fit
    refused) before the DEM is read or anything is built."""
    from .data.terrain import load_dem_national
    from .distributed_partitions import grid_of
    from .network.graph import build_travel_graph
    from .network.memory import estimate_graph_memory, graph_memory_estimate

    crs = sc.study_area.crs or NATIONAL_CRS
    fig: dict = {}
    t0 = time.perf_counter()
    places, capitals, q = _national_inputs(sc)
    roads = _load_national_roads(sc, q, crs)
    grid = grid_of(national_source(sc, resolution_m=resolution_m))
    from .network.memory import _estimate_road_nodes
    n_road = _estimate_road_nodes(roads, crs, grid.res) if roads is not None else 0
    refuse_whole_graph(estimate_graph_memory(grid.shape, n_road, len(places) + len(capitals),
                                             sc.speeds.grid_neighbours), cells=grid.shape,
                       available=available_memory)
    terrain = load_dem_national(sc.inputs.dem, crs, quality=q, resolution_m=resolution_m)
    if roads is not None:
        _roads_note(q, sc)
    t1 = time.perf_counter()
    fig["load_s"] = round(t1 - t0, 2)
    points = {"places": places, "capitals": capitals}
    mode = "roads+walk" if roads is not None else "walk"
    mem = graph_memory_estimate(terrain, roads, sc.speeds, points, mode=mode)
    if progress:
        _say(f"  load: {fig['load_s']} s; memory estimate: ~{mem / 2**20:,.0f} MB")
    graph = build_travel_graph(terrain, roads, sc.speeds, points, mode=mode)
    fig.update(graph_s=round(time.perf_counter() - t1, 2), nodes=graph.n_nodes, edges=graph.n_edges,
               road_nodes=int(graph.road_nodes.size), places=len(places), capitals=len(capitals),
               memory_estimate_mb=round(mem / 2**20))
    if progress:
        _say(f"  graph: {fig['graph_s']} s, {graph.n_nodes:,} nodes, {graph.n_edges:,} edges")
    return NationalGraph(graph, places, capitals, roads is not None, mem, q, fig)


@dataclass
class _Answer:
    """Per place: minutes to the nearest capital, which one, off the DEM; and how it was made."""

    places: gpd.GeoDataFrame
    capitals: gpd.GeoDataFrame
    minutes: np.ndarray
    which: np.ndarray
    outside_dem: np.ndarray
    roads_used: bool
    memory: int
    quality: QualityReport
    tasks: pd.DataFrame | None = None


def _answer_serial(sc: Scenario, fig: dict, *, progress: bool, resolution_m: float | None) -> _Answer:
    from .network.solve import nearest
    ng = national_graph(sc, progress=progress, resolution_m=resolution_m)
    fig.update(ng.figures)
    t = time.perf_counter()
    pn, cn = ng.graph.point_nodes["places"], ng.graph.point_nodes["capitals"]
    res = nearest(ng.graph, cn)
    fig["query_s"] = round(time.perf_counter() - t, 2)
    return _Answer(ng.places, ng.capitals, res.minutes[pn], res.source[pn],
                   ng.graph.point_info["places"]["outside_dem"].to_numpy(), ng.roads_used, ng.memory, ng.quality)


def _answer_windows(sc: Scenario, fig: dict, client, *, progress: bool, max_minutes: float,
                    resolution_m: float | None) -> _Answer:
    """One task per department; each worker reads its DEM window and roads and builds its
    partition (:mod:`siting.distributed_partitions`): the driver never builds the graph.
    ``client``: a client or the ``concurrent.futures.Future`` of one still starting (the
    point tables are read meanwhile)."""
    from concurrent.futures import Future

    from .distributed_partitions import _road_xy, grid_of, nearest_by_windows, prefetch_roads, whole_graph_estimate
    t0 = time.perf_counter()
    source = national_source(sc, resolution_m=resolution_m)
    if not isinstance(client, Future):
        roads = prefetch_roads(source, client)  # cut once on a worker while the point tables are read here
    places, capitals, q = _national_inputs(sc)
    if isinstance(client, Future):
        client = client.result()
        roads = prefetch_roads(source, client)  # the future the cluster's on_ready submitted
    road_xy = _road_xy(roads, client)
    mem = whole_graph_estimate(source, len(places) + len(capitals), road_xy=road_xy)
    grid = grid_of(source)
    fig.update(load_s=round(time.perf_counter() - t0, 2), places=len(places), capitals=len(capitals),
               road_nodes=len(road_xy), cells=grid.shape[0] * grid.shape[1], memory_estimate_mb=round(mem / 2**20))
    if progress:
        _say(f"  load: {fig['load_s']} s; whole-graph memory estimate ~{mem / 2**20:,.0f} MB (never built here)")
    if len(road_xy):
        _roads_note(q, sc)
    t = time.perf_counter()
    minutes, which, outside, tasks = nearest_by_windows(
        source, {"places": places, "capitals": capitals}, sources="capitals", targets="places",
        regions=places["department_code"].to_numpy(), max_minutes=max_minutes, client=client, progress=progress)
    fig["query_s"] = round(time.perf_counter() - t, 2)
    fig.update(partition_cells_max=int(tasks["cells"].max()), partition_edges_max=int(tasks["edges"].max()))
    return _Answer(places, capitals, minutes, which, outside, len(road_xy) > 0, mem, q, tasks)


def _roads_note(q: QualityReport, sc: Scenario) -> None:
    q.note(f"Road lines are given only for department {sc.study_area.department}: travel elsewhere is walking "
           "over terrain (a trip that reaches those roads may use them).",
           es=f"Solo hay vías para el departamento {sc.study_area.department}: en el resto el viaje es a pie "
              "sobre el terreno (un viaje que llega a esas vías puede usarlas).")


def run_national(sc: Scenario, *, engine: str = "serial", scheduler: str | None = None, progress: bool = True,
                 max_minutes: float = DEFAULT_MAX_MINUTES, n_workers: int = 2, scheduler_file: str | None = None,
                 resolution_m: float | None = None, memory_limit: str | None = None,
                 output_dir: str | Path | None = None, client=None, run=None) -> NationalResult:
    """Nearest district capital for every centro poblado of Peru; gaps by department.

    ``engine="serial"``: the whole graph, one multi-source Dijkstra (refused up front, with
    its memory estimate, when the whole graph does not fit).  ``engine="dask"``: one task
    per department; each worker reads the DEM window of the department's halo and its roads
    and builds that partition (:func:`siting.distributed_partitions.nearest_by_windows`), so
    the driver never builds the graph.  The cluster: ``client`` as it is, else
    :func:`siting.distributed.open_client` (``scheduler``, ``scheduler_file``,
    ``DASK_SCHEDULER_ADDRESS``, dask config, else a ``LocalCluster`` of ``n_workers`` with
    ``memory_limit`` each).  ``resolution_m``: cell size of the grid (default the DEM's
    native-equivalent size; a finer one is a scale test, not better data).  Both engines
    censor times above ``max_minutes`` (``minutes_to_capital`` = inf, ``beyond_max_minutes``
    True, band ``">L"``; places off the DEM with no time keep band ``"unreachable"``) and give
    identical tables.  Writes ``places_national.csv`` and ``gaps_by_department.csv`` into
    ``output_dir``; by default into a run folder ``sc.run.output_dir`` with its
    ``manifest.json`` (:class:`siting.manifest.Run`, stage ``"national"``), or into the given
    ``run`` (which the caller finishes).
    """
    if engine not in ENGINES:
        raise UserError(f"unknown engine {engine!r}", hint="use --engine serial or --engine dask")
    fig: dict = {"engine": engine, "max_minutes": max_minutes}
    t0 = time.perf_counter()
    if engine == "serial":
        ans = _answer_serial(sc, fig, progress=progress, resolution_m=resolution_m)
    elif client is not None:
        ans = _answer_windows(sc, fig, client, progress=progress, max_minutes=max_minutes, resolution_m=resolution_m)
    else:
        from .distributed import client_in_background
        from .distributed_partitions import prefetch_roads
        source = national_source(sc, resolution_m=resolution_m)
        with client_in_background(scheduler, scheduler_file=scheduler_file, n_workers=n_workers,
                                  memory_limit=memory_limit, on_ready=lambda c: prefetch_roads(source, c)) as pending:
            ans = _answer_windows(sc, fig, pending, progress=progress, max_minutes=max_minutes,
                                  resolution_m=resolution_m)  # reads the point tables while the cluster starts
    if progress:
        _say(f"  query: {fig['query_s']:.1f} s")
    minutes, which = ans.minutes, ans.which
    beyond = np.isfinite(minutes) & (minutes > max_minutes)
    minutes = np.where(beyond, np.inf, minutes)
    which = np.where(beyond, -1, which)
    out = _places_table(sc, ans, minutes, which, max_minutes)
    gaps = gaps_by_department(out, sc.access.thresholds_min, main_threshold=sc.access.main_threshold_min,
                              roads_department=sc.study_area.department if ans.roads_used else "")
    files = _write_national(sc, out, gaps, ans.quality, fig, t0, minutes, ans.memory, output_dir=output_dir, run=run)
    if progress:
        _say(f"  national: {len(out):,} places, median {fig['median_minutes']} min to the district capital, "
             f"{fig['unreachable']:,} unreachable or beyond {max_minutes:g} min; total {fig['total_s']} s")
    return NationalResult(places=out, gaps=gaps, memory=ans.memory, figures=fig, files=files, tasks=ans.tasks)


def _places_table(sc: Scenario, ans: _Answer, minutes: np.ndarray, which: np.ndarray,
                  max_minutes: float) -> pd.DataFrame:
    """``places_national.csv``: one row per centro poblado."""
    outside = np.asarray(ans.outside_dem, dtype=bool)
    out = pd.DataFrame(ans.places.drop(columns="geometry"))
    out["minutes_to_capital"] = minutes
    out["nearest_capital_ubigeo"] = np.where(which >= 0, ans.capitals["ubigeo"].to_numpy()[np.clip(which, 0, None)],
                                             "")
    out["beyond_max_minutes"] = ~(minutes <= max_minutes) & ~outside
    out["band"] = np.asarray(assign_band(minutes, thresholds=sc.access.thresholds_min).astype(str), dtype=object)
    out.loc[out["beyond_max_minutes"].to_numpy() & ~np.isfinite(minutes), "band"] = f">{max_minutes:g}"
    out["outside_dem"] = outside
    out["roads_used"] = (out["department_code"] == sc.study_area.department) if ans.roads_used else False
    return out


def _write_national(sc: Scenario, out: pd.DataFrame, gaps: pd.DataFrame, q: QualityReport, fig: dict, t0: float,
                    minutes: np.ndarray, mem: int, *, output_dir: str | Path | None, run) -> dict[str, Path]:
    """Write the two tables and the quality report; record them in the run's manifest."""
    own_run = False
    if run is None and output_dir is None:
        from .manifest import Run
        run, own_run = Run.start(sc, command="national"), True
    folder = Path(output_dir) if output_dir is not None else run.folder
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, df in (("places_national.csv", out), ("gaps_by_department.csv", gaps)):
        with atomic_path(folder / name) as tmp:
            df.to_csv(tmp, index=False)
        files[name] = folder / name
    files.update({f"quality_{k}": v for k, v in q.write(folder, lang=sc.run.language).items()})
    fig["total_s"] = round(time.perf_counter() - t0, 2)
    fig["unreachable"] = int((~np.isfinite(minutes)).sum())
    fig["median_minutes"] = round(float(np.median(minutes[np.isfinite(minutes)])), 1)
    if run is not None:
        for path in files.values():
            run.output(path)
        run.manifest["stages"]["national"] = {**fig, "memory_estimate": f"~{mem / 2**20:,.0f} MB"}
        run.save()
        if own_run:
            run.finish()
    return files
