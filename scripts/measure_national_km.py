"""Rebuilt road length from Cajamarca city to provincial towns, before and after the national
rebuild (issue #14 item 1), against the straight line and the road km of the observed trips.

Usage: ``PYTHONPATH=src python scripts/measure_national_km.py`` (real shipped data).  Path =
shortest path by length over all road lines (vertices within 1 m joined), plus straight
walks from each town to its nearest road vertex (reported apart).
"""
from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

import siting
from siting.data import roads as R
from siting.data.boundaries import load_districts
from siting.data.population import load_places
from siting.data.quality import QualityReport

CRS = "EPSG:32717"
TOWNS = {"CELENDIN": 107, "CAJABAMBA": None, "SAN MARCOS": 64, "BAMBAMARCA": 119, "SAN PABLO": None,
         "CONTUMAZA": None, "CHOTA": 150, "CUTERVO": 219, "TEMBLADERA": None}


def _graph(roads):
    g = nx.Graph()
    for geom in roads.to_crs(CRS).geometry.values:
        xy = np.round(shapely.get_coordinates(geom))
        for a, b in zip(xy[:-1], xy[1:]):
            g.add_edge(tuple(a), tuple(b), w=float(np.hypot(*(b - a))))
    return g


def main() -> None:
    warnings.filterwarnings("ignore")
    sc = siting.load_scenario("scenarios/cajamarca_13ugel.toml")
    q = QualityReport()
    places = load_places(sc, load_districts(sc, q), q).to_crs(CRS)
    caps = places[places["ccpp_id"].str.endswith("0001")].set_index("name")
    before, after = R.load_roads(sc, QualityReport(), crs=CRS, towns=None), R.load_roads(sc, q, crs=CRS, towns=places)
    # "before" = the previous rule: national_from_junctions only (drop the refinement)
    nodes = R.read_route_nodes(sc.inputs.road_route_nodes, QualityReport(), crs=CRS)
    mst = R.national_from_junctions(nodes, QualityReport(), crs=CRS)
    before = pd.concat([before[~before["road_id"].str.startswith("nat:")], mst], ignore_index=True)
    rows = []
    for label, roads in (("before", before), ("after", after)):
        g = _graph(roads)
        nodes_xy = np.array(list(g.nodes))
        tree = cKDTree(nodes_xy)
        origin = caps.loc["CAJAMARCA"].geometry
        d0, i0 = tree.query([origin.x, origin.y])
        dist = nx.single_source_dijkstra_path_length(g, tuple(nodes_xy[i0]), weight="w")
        for town, known in TOWNS.items():
            p = caps.loc[town].geometry
            d1, i1 = tree.query([p.x, p.y])
            km = dist.get(tuple(nodes_xy[i1]), np.nan) / 1000
            rows.append({"town": town, "rule": label, "road_km": round(km, 1), "walk_km": round((d0 + d1) / 1000, 2),
                         "straight_km": round(origin.distance(p) / 1000, 1), "known_km": known})
    t = pd.DataFrame(rows).pivot(index="town", columns="rule", values=["road_km", "walk_km"])
    s = pd.DataFrame(rows).drop_duplicates("town").set_index("town")[["straight_km", "known_km"]]
    t.columns = ["_".join(c) for c in t.columns]
    out = t.join(s)
    out["after/known"] = (out["road_km_after"] / out["known_km"]).round(2)
    out["before/known"] = (out["road_km_before"] / out["known_km"]).round(2)
    print(out.to_string())


if __name__ == "__main__":
    main()
