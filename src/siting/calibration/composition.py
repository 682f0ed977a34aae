"""Path composition of observed trips: road kilometres per class and walking minutes.

:func:`route_composition` reads it off each trip's shortest path
(:func:`siting.network.routes.path_tree`, :func:`~siting.network.routes.trace`,
:func:`~siting.network.routes.legs_table`): minutes per road class ``c`` give the effective
(as costed) kilometres ``km_eff_c = minutes_c · v_c / 60``; walking and connector minutes are
the walking part.  :func:`perturbation_composition` measures the same thing without looking
at the path, as an independent check:

The time of a shortest path is a sum over its edges, each edge's minutes inversely
proportional to one speed: a road edge of class ``c`` costs ``60 · L · f / v_c`` (``f`` = the
detour factor on approximate segments, 1 elsewhere), a walking edge (terrain or connector)
costs minutes proportional to ``1 / walk_kmh_max`` (Tobler's speed scales with it).  So the
path time is homogeneous of degree one in the inverse speeds, and its partial derivatives
*are* its composition (Euler; on a fixed path, exactly):

    t = Σ_c ∂t/∂ln(1/v_c) + ∂t/∂ln(1/w),    ∂t/∂ln(1/v_c) = 60 · km_eff_c / v_c,
    ∂t/∂ln(1/w) = walking minutes

:func:`perturbation_composition` measures them by rebuilding the graph with one speed ``(1 +
ε)`` times slower at a time and re-routing (a shortest path's time is differentiable where
it is unique, and its derivative is the one of the optimal path: Danskin).  The effective
kilometres ``km_eff_c = km_c + f · kma_c`` are split into real-line and approximate km by the
share of approximate length of the class in the road table (on the shipped data every class
is either all approximate or all real lines).  The identity ``Σ parts = t`` is the check
(:attr:`TripComposition.closure`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from ..data import StudyData
from ..network import build_graph
from ..network.model import TravelGraph
from ..network.routes import legs_table, path_tree, trace
from ..scenario import Scenario, Speeds
from .fit import Composition
from .validate import trip_minutes

EPS = 1e-3  # relative slow-down of one speed for the derivative


@dataclass(frozen=True)
class TripComposition:
    """Per trip: modelled ``minutes``, ``minutes_by_class`` (n, classes), ``walk_min``,
    effective km per class ``km_eff`` and ``closure`` = minutes - (Σ classes + walk)."""

    classes: tuple[str, ...]
    minutes: np.ndarray
    minutes_by_class: np.ndarray
    walk_min: np.ndarray
    km_eff: np.ndarray

    def head(self, n: int) -> TripComposition:
        """The first ``n`` trips."""
        return TripComposition(self.classes, self.minutes[:n], self.minutes_by_class[:n], self.walk_min[:n],
                               self.km_eff[:n])

    @property
    def closure(self) -> np.ndarray:
        return self.minutes - self.minutes_by_class.sum(axis=1) - self.walk_min


def approximate_share(data: StudyData) -> dict[str, float]:
    """Share of each road class's length on approximate (rebuilt straight) segments."""
    roads = data.roads
    if roads is None or not len(roads):
        return {}
    g = roads.to_crs(data.crs)
    length = shapely.length(np.asarray(g.geometry.values))
    df = pd.DataFrame({"c": g["road_class"].astype(str).to_numpy(), "a": g["approximate"].to_numpy(bool),
                       "L": length})
    tot = df.groupby("c")["L"].sum()
    appr = df[df["a"]].groupby("c")["L"].sum().reindex(tot.index, fill_value=0.0)
    return {str(c): float(appr[c] / tot[c]) if tot[c] > 0 else 0.0 for c in tot.index}


def _uncached(sc: Scenario, speeds: Speeds) -> Scenario:
    """The scenario with other speeds and no graph cache (perturbed graphs are thrown away)."""
    return dataclasses.replace(sc, speeds=speeds, run=dataclasses.replace(sc.run, cache_dir=""))


def _minutes(sc: Scenario, data: StudyData, matched: pd.DataFrame) -> np.ndarray:
    graph = build_graph(sc, data)
    walk = build_graph(sc, data, mode="walk") if matched["walking"].any() and graph.mode != "walk" else None
    return trip_minutes(matched, graph=graph, walk_graph=walk)


def perturbation_composition(sc: Scenario, data: StudyData, *, matched: pd.DataFrame,
                             base_minutes: np.ndarray | None = None, eps: float = EPS) -> TripComposition:
    """Composition of the trips ``matched`` (rows of :func:`siting.data.trips.match_trips`
    with both ends matched) under ``sc.speeds`` (module doc for the method)."""
    sp = sc.speeds
    t0 = _minutes(sc, data, matched) if base_minutes is None else np.asarray(base_minutes, float)
    present = sorted(set(data.roads["road_class"].astype(str))) if data.roads is not None else []
    classes = tuple(sp.road_kmh)
    by_class = np.zeros((len(t0), len(classes)))
    for k, c in enumerate(classes):
        if c not in present:
            continue
        slow = dataclasses.replace(sp, road_kmh={**sp.road_kmh, c: sp.road_kmh[c] / (1.0 + eps)})
        by_class[:, k] = (_minutes(_uncached(sc, slow), data, matched) - t0) / eps
    slow_walk = dataclasses.replace(sp, walk_kmh_max=sp.walk_kmh_max / (1.0 + eps))
    walk = (_minutes(_uncached(sc, slow_walk), data, matched) - t0) / eps
    by_class = np.maximum(by_class, 0.0)
    v = np.array([sp.road_kmh[c] for c in classes], dtype=float)
    return TripComposition(classes, t0, by_class, np.maximum(walk, 0.0), by_class * v[None, :] / 60.0)


def route_composition(matched: pd.DataFrame, *, speeds: Speeds, graph: TravelGraph,
                      walk_graph: TravelGraph | None = None) -> TripComposition:
    """Composition of the trips ``matched`` (both ends matched) from their shortest paths:
    one path tree per distinct origin place (``towards=False``: trips out of the origin),
    the path traced to the destination place, :func:`~siting.network.routes.legs_table`
    summed by part.  Walking rows use ``walk_graph`` when given."""
    classes = tuple(speeds.road_kmh)
    n = len(matched)
    minutes, walk = np.full(n, np.nan), np.zeros(n)
    by_class = np.zeros((n, len(classes)))
    walking = matched["walking"].to_numpy(bool)
    for use, g in ((~walking, graph), (walking, walk_graph or graph)):
        rows = np.flatnonzero(use)
        if not len(rows):
            continue
        nodes = g.point_nodes["places"]
        o = nodes[matched["origin_place"].to_numpy(np.int64)[rows]]
        d = nodes[matched["destination_place"].to_numpy(np.int64)[rows]]
        paths: list[np.ndarray] = [np.zeros(0, np.int64)] * len(rows)
        for origin in np.unique(o):
            tree = path_tree(g, [int(origin)], towards=False)
            for j in np.flatnonzero(o == origin).tolist():
                paths[j] = trace(tree, int(d[j]))
        legs = legs_table(g, paths)
        minutes[rows] = legs["minutes"].to_numpy(float)
        walk[rows] = (legs["minutes_walk"] + legs["minutes_connector"]).to_numpy(float)
        for k, c in enumerate(classes):
            if f"minutes_{c}" in legs.columns:
                by_class[rows, k] = legs[f"minutes_{c}"].to_numpy(float)
    v = np.array([speeds.road_kmh[c] for c in classes], dtype=float)
    return TripComposition(classes, minutes, by_class, walk, by_class * v[None, :] / 60.0)


def to_fit_composition(tc: TripComposition, observed: np.ndarray, *, detour: float, share: dict[str, float],
                       walk_multiplier: float = 1.0, walking: np.ndarray | None = None,
                       detour_by_class: dict[str, float] | None = None,
                       distance_km: np.ndarray | None = None) -> Composition:
    """The :class:`~siting.calibration.fit.Composition` of the fit: effective km split into
    real-line ``km = (1 - a) km_eff / (1 - a + a d)`` and approximate ``kma = a km_eff / (1 - a + a d)``
    (``a`` = approximate share of the class, ``d`` = the detour factor in use for the class:
    ``detour_by_class[c]``, else ``detour``), and walking minutes brought back to the
    scenario's original walking speed (``÷ walk_multiplier``)."""
    a = np.array([share.get(c, 0.0) for c in tc.classes], dtype=float)
    d = np.array([float((detour_by_class or {}).get(c, detour)) for c in tc.classes], dtype=float)
    denom = 1.0 - a + a * d
    km = tc.km_eff * ((1.0 - a) / denom)[None, :]
    kma = tc.km_eff * (a / denom)[None, :]
    return Composition(tc.classes, km, kma, tc.walk_min / walk_multiplier, np.asarray(observed, dtype=float),
                       None if walking is None else np.asarray(walking, bool),
                       None if distance_km is None else np.asarray(distance_km, dtype=float))
