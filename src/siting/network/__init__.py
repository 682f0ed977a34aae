"""The travel-time engine: roads + walking over terrain as one sparse directed graph.

Build the graph once (it is cached by a hash of its inputs), then ask many questions::

    import siting
    from siting.data.terrain import load_dem
    from siting.data.roads import load_roads
    from siting.data.quality import QualityReport
    from siting.network import build_travel_graph, nearest, coverage, point_flags
    from siting.network.raster import travel_time_raster, isochrones

    sc = siting.load_scenario("scenarios/cajamarca.toml")
    q = QualityReport()
    terrain = load_dem(sc.inputs.dem, bounds_4326=(-79.75, -7.95, -77.45, -4.45),
                       crs=sc.study_area.crs, quality=q)
    roads = load_roads(sc, q)
    g = build_travel_graph(terrain, roads, sc.speeds, {"places": places, "cetpro": cetpro},
                           cache_dir=sc.run.cache_dir)
    minutes, which = nearest(g, g.point_nodes["cetpro"])          # from every node TO a CETPRO
    place_min = minutes[g.point_nodes["places"]]                    # inf = unreachable
    nearest_cetpro_row = which[g.point_nodes["places"]]              # row of `cetpro`, -1 = none
    cov = coverage(g, g.point_nodes["places"][candidate_rows], g.point_nodes["places"], 60.0)
    # cov[i, j] = minutes from place j to candidate i, only pairs <= 60 min (sparse structure)
    flags = point_flags(g, "places", far_from_road_km=5.0)
    travel_time_raster(g, minutes, "runs/x/minutes_to_cetpro.tif")
    bands = isochrones(g, minutes, sc.access.thresholds_min)       # GeoDataFrame, EPSG:4326

On a scenario and its :class:`~siting.data.StudyData`, the graph stage is
``siting.build_graph(sc, data, *, mode=None)`` (:mod:`.stage`).

Modules: :mod:`.speeds` (Tobler, road speed table), :mod:`.graph` (build, cache, flags),
:mod:`.legs` (edge lists and walking legs of the builder), :mod:`.solve` (nearest,
coverage), :mod:`.raster` (GeoTIFF, isochrones), :mod:`.stage` (the graph stage).
"""
from __future__ import annotations

from .graph import CELL, POINT, ROAD, TravelGraph, build_travel_graph, point_flags, to_networkx
from .solve import Nearest, coverage, nearest
from .speeds import road_speed_kmh, tobler_kmh, walk_minutes
from .stage import build_graph, check_graph_memory, facility_sets, graph_points

__all__ = ["TravelGraph", "build_graph", "build_travel_graph", "check_graph_memory", "facility_sets", "graph_points",
           "point_flags", "to_networkx", "CELL", "ROAD", "POINT",
           "Nearest", "nearest", "coverage", "tobler_kmh", "road_speed_kmh", "walk_minutes"]
