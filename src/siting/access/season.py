"""Access in the rainy season against the dry season (issue #14 item 9).

The rainy graph (:func:`siting.network.season.build_rainy_graph`) is queried exactly as the
access stage queries the dry one: per facility set, the trips to and from the nearest
facility combined by ``access.direction``, rounded once to 0.1 min
(:func:`~siting.access.bands.round_minutes`), then the minimum over the sets.  The dry
minutes are the access stage's ``minutes_nearest``, so the dry column of every table equals
the figures of ``access_by_ugel.csv``.

People beyond ``T`` in a unit ``u`` (``inf`` = unreachable counts as beyond)::

    B_u(T) = sum_{j in u} p_j [m_j > T]        added_u(T) = B_u^rainy(T) - B_u^dry(T)
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..data import StudyData
from ..network import graph as netgraph
from ..network.stage import facility_sets
from ..scenario import Scenario
from .bands import round_minutes
from .stage import AccessResult, _both_ways

PLACE_COLUMNS = ["ccpp_id", "name", "district", "province", "ugel", "population"]
TOTAL = "Total"


@dataclass(frozen=True)
class SeasonAccess:
    """Dry against rainy season: per place and by UGEL (+ a ``Total`` row)."""

    places: pd.DataFrame  # PLACE_COLUMNS, pop_<target>, minutes_dry, minutes_rainy, minutes_added
    by_ugel: pd.DataFrame  # ugel, population, target_population, {population,target}_beyond_<T>_{dry,rainy,added}
    thresholds: tuple[float, ...]
    closed: list[str] = field(default_factory=list)  # road_id closed in the rainy season
    factors: dict[str, float] = field(default_factory=dict)  # rainy_road_factor as used
    walk_factor: float = 1.0
    roads: Any = None  # the road table with ``closed_rainy`` (the ids a closed_segments file names)

    def added(self, threshold: float, *, column: str = "population") -> float:
        """People more beyond ``threshold`` in the rainy season, whole study area."""
        row = self.by_ugel[self.by_ugel["ugel"] == TOTAL].iloc[0]
        return float(row[f"{column}_beyond_{threshold:g}_added"])


def rainy_place_minutes(sc: Scenario, data: StudyData, graph: netgraph.TravelGraph) -> np.ndarray:
    """Per place: rounded minutes to the nearest facility in ``graph`` (the access stage's rule)."""
    place_nodes = graph.point_nodes["places"]
    per_set = [round_minutes(_both_ways(graph, graph.point_nodes[name], sc.access.direction)[2][place_nodes])
               for name in facility_sets(data)]
    return np.min(np.vstack(per_set), axis=0)


def _beyond(df: pd.DataFrame, minutes: str, weight: str, threshold: float, by: str) -> pd.Series:
    far = ~(df[minutes].to_numpy(float) <= threshold)  # inf (unreachable) is beyond
    w = df[weight].fillna(0).to_numpy(float) * far
    return pd.Series(w, index=df.index).groupby(df[by].to_numpy()).sum()


def season_table(places: pd.DataFrame, *, thresholds: Sequence[float], target: str, by: str = "ugel"
                 ) -> pd.DataFrame:
    """People (and the target group ``pop_<target>``) beyond each threshold, dry and rainy, and
    the difference, by ``by`` with a ``Total`` row; mean minutes weighted by population over
    the places reachable in both seasons."""
    tcol = f"pop_{target}"
    keys = sorted(places[by].dropna().astype(str).unique())
    whole = places.assign(**{by: TOTAL})
    both = pd.concat([places.assign(**{by: places[by].astype(str)}), whole], ignore_index=True)
    out = pd.DataFrame({by: keys + [TOTAL]})
    g = both.groupby(by)
    out["population"] = out[by].map(g["population"].sum())
    out["target_population"] = out[by].map(g[tcol].sum())
    for th in thresholds:
        s = f"{th:g}"
        for col, weight in (("population", "population"), ("target", tcol)):
            dry = _beyond(both, "minutes_dry", weight, th, by)
            rainy = _beyond(both, "minutes_rainy", weight, th, by)
            out[f"{col}_beyond_{s}_dry"] = out[by].map(dry).to_numpy()
            out[f"{col}_beyond_{s}_rainy"] = out[by].map(rainy).to_numpy()
            out[f"{col}_beyond_{s}_added"] = out[f"{col}_beyond_{s}_rainy"] - out[f"{col}_beyond_{s}_dry"]
    finite = both[np.isfinite(both["minutes_dry"]) & np.isfinite(both["minutes_rainy"])]
    for season in ("dry", "rainy"):
        w = finite["population"].fillna(0)
        mean = (finite[f"minutes_{season}"] * w).groupby(finite[by]).sum() / w.groupby(finite[by]).sum()
        out[f"mean_minutes_{season}"] = out[by].map(mean).to_numpy()
    return out


def compare_seasons(sc: Scenario, data: StudyData, access: AccessResult, rainy_graph: netgraph.TravelGraph, *,
                    closed: Sequence[str] = ()) -> SeasonAccess:
    """Dry (``access.places["minutes_nearest"]``) against rainy (``rainy_graph``) minutes per
    place and the table by UGEL of :func:`season_table` at every ``access.thresholds_min``."""
    target = sc.population.target_group
    p = access.places
    cols = [c for c in PLACE_COLUMNS + [f"pop_{target}"] if c in p.columns]
    places = pd.DataFrame(p[cols]).reset_index(drop=True)
    places["minutes_dry"] = p["minutes_nearest"].to_numpy(float)
    places["minutes_rainy"] = rainy_place_minutes(sc, data, rainy_graph)
    places["minutes_added"] = round_minutes(places["minutes_rainy"] - places["minutes_dry"])
    th = tuple(float(x) for x in sc.access.thresholds_min)
    table = season_table(places, thresholds=th, target=target)
    factors = {c: float(sc.seasons.rainy_road_factor.get(c, 1.0)) for c in sc.speeds.road_kmh}
    roads = None
    if data.roads is not None and len(data.roads):
        roads = data.roads.drop(columns=[c for c in ("approximate",) if c in data.roads.columns]).copy()
        roads["closed_rainy"] = roads["road_id"].astype(str).isin(set(closed)).to_numpy()
    return SeasonAccess(places=places, by_ugel=table, thresholds=th, closed=list(closed), factors=factors,
                        walk_factor=float(sc.seasons.rainy_walk_factor), roads=roads)
