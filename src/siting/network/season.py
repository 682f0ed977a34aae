"""The rainy-season graph (issue #14 item 9): the same builder with slower speeds and the
closed road segments removed; nothing inside :mod:`siting.network.graph` changes.

Speeds of the rainy season (``[seasons]``), for road class ``c`` and on foot::

    v_rainy(c) = f_c * v_dry(c)                 f_c = seasons.rainy_road_factor[c]  (1 if absent)
    v_walk_rainy(s) = f_walk * v_tobler(s)      f_walk = seasons.rainy_walk_factor

so a road leg of length ``L`` takes ``L / (f_c v)`` = ``t_dry / f_c`` minutes and a walking
leg ``t_dry / f_walk`` (Tobler is proportional to ``walk_kmh_max``).  With every ``f <= 1``
and closures only removing edges, no place is nearer in the rainy season.  The graph cache
keys on the speeds and the road geometry, so the rainy graph is cached beside the dry one.
"""
from __future__ import annotations

import dataclasses

import geopandas as gpd

from ..data import StudyData
from ..data.closures import load_closed_segments, open_roads
from ..scenario import Scenario, Seasons, Speeds
from .graph import TravelGraph, build_travel_graph
from .stage import _terrain, graph_points


def rainy_speeds(speeds: Speeds, seasons: Seasons) -> Speeds:
    """``speeds`` of the rainy season: ``road_kmh[c] * f_c`` and ``walk_kmh_max * f_walk``."""
    f = seasons.rainy_road_factor
    roads = {c: v * float(f.get(c, 1.0)) for c, v in speeds.road_kmh.items()}
    return dataclasses.replace(speeds, road_kmh=roads, walk_kmh_max=speeds.walk_kmh_max * seasons.rainy_walk_factor)


def rainy_roads(sc: Scenario, data: StudyData) -> tuple[gpd.GeoDataFrame | None, list[str]]:
    """The roads open in the rainy season and the ``road_id`` closed (``inputs.closed_segments``)."""
    path = sc.optional("inputs.closed_segments")
    if path is None or data.roads is None or not len(data.roads):
        return data.roads, []
    closed = load_closed_segments(path, data.roads, data.quality, crs=str(data.crs))
    return open_roads(data.roads, closed), closed


def build_rainy_graph(sc: Scenario, data: StudyData, *, closed: tuple[gpd.GeoDataFrame | None, list[str]] | None = None
                      ) -> TravelGraph:
    """The graph of the rainy season (speeds :func:`rainy_speeds`, roads :func:`rainy_roads`;
    ``closed`` passes an already computed :func:`rainy_roads`)."""
    roads, _ = rainy_roads(sc, data) if closed is None else closed
    return build_travel_graph(_terrain(sc, data), roads, rainy_speeds(sc.speeds, sc.seasons), graph_points(data),
                              landcover=data.landcover, cache_dir=sc.run.cache_dir,
                              max_connector_slope=sc.speeds.max_connector_slope,
                              road_connector_radius_m=sc.optional("speeds.road_connector_radius_m"))
