"""The graph stage: the travel-time graph of a scenario's study data.

:func:`build_graph` joins the places and the facility sets (:func:`facility_sets`) to the
terrain grid and the roads by costed walking legs (see :mod:`siting.network.graph`); the
graph is cached in ``run.cache_dir`` by a hash of every input and parameter.
"""
from __future__ import annotations

import geopandas as gpd

from ..data import StudyData, registry_use
from ..errors import UserError
from ..scenario import Scenario
from .graph import TravelGraph, build_travel_graph
from .memory import check_memory, graph_memory_estimate


def facility_sets(data: StudyData) -> dict[str, gpd.GeoDataFrame]:
    """The facility sets people travel to: CETPRO sedes and, when listed and
    ``registry.extension_centres_use`` says so, the active extension centres."""
    return registry_use.facility_sets(data, use=data.scenario.registry.extension_centres_use)


def graph_points(data: StudyData) -> dict[str, gpd.GeoDataFrame]:
    """The point layers of the graph: ``places``, every facility set and, when there are
    any, the CETPRO that do not serve (``cetpro_inactive``: not a destination; the access
    stage measures what counting them would change)."""
    inactive = getattr(data, "cetpro_inactive", None)
    extra = {"cetpro_inactive": inactive} if inactive is not None and len(inactive) else {}
    return {"places": data.places, **facility_sets(data), **extra}


def _terrain(sc: Scenario, data: StudyData):
    if data.terrain is None:
        raise UserError("no elevation model: the travel-time engine needs inputs.dem", source=sc.source)
    return data.terrain


def check_graph_memory(sc: Scenario, data: StudyData, modes: list[str | None]) -> None:
    """Refuse up front (``UserError``) graphs of ``modes`` that together do not fit in memory."""
    terrain = _terrain(sc, data)
    points = graph_points(data)
    check_memory(sum(graph_memory_estimate(terrain, data.roads, sc.speeds, points, mode=m) for m in modes))


def build_graph(sc: Scenario, data: StudyData, *, mode: str | None = None,
                points: dict[str, gpd.GeoDataFrame] | None = None) -> TravelGraph:
    """The graph stage: the travel-time graph of ``data`` with places and facilities joined by
    costed walking legs (``mode`` overrides ``speeds.mode``; ``"walk"`` = walking only;
    ``points`` replaces the point layers of :func:`graph_points`, e.g. the centres of a
    monitoring run)."""
    points = graph_points(data) if points is None else points
    return build_travel_graph(_terrain(sc, data), data.roads, sc.speeds, points, mode=mode,
                              landcover=data.landcover, cache_dir=sc.run.cache_dir,
                              max_connector_slope=sc.speeds.max_connector_slope,
                              road_connector_radius_m=sc.optional("speeds.road_connector_radius_m"))
