"""The access stage and the plan evaluation: travel times from every place to the nearest
facility, bands, aggregates, 2SFCA supply, and the same times once the proposals open.

- :func:`compute_access` — the access stage (``siting.compute_access``).
- :func:`evaluate_plan` — "how far is everyone once the proposals open?": one multi-source
  Dijkstra from the existing facilities plus the proposed sites, and the before/after table.
- :func:`place_table` — the per-place output table (demography, minutes, bands, flags).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..data import StudyData
from ..errors import UserError
from ..i18n import bilingual
from ..network import graph as netgraph
from ..network import solve
from ..network.stage import facility_sets
from ..scenario import Scenario
from .aggregate import aggregate, before_after, rank_unserved, summary_table
from .bands import place_access, round_minutes
from .fca import enhanced_two_stage_fca, two_stage_fca
from .routes import facility_tree, place_routes, teacher_routes

PLACE_COLUMNS = ["ccpp_id", "name", "ubigeo", "district", "province", "ugel", "area", "altitude_m",
                 "population_census", "population", "population_estimated", "women", "men"]
FACILITY_FLAGS = ("outside_dem", "on_impassable_cell", "far_from_road", "small_road_component", "road_distance_m")


@dataclass(frozen=True)
class AccessResult:
    """Per-place access (GeoDataFrame) and its aggregates."""

    places: gpd.GeoDataFrame  # data.places + minutes_*, nearest_*, band_*, seats_per_1000_*, flag_*
    by_district: pd.DataFrame  # aggregate(by="district")
    by_province: pd.DataFrame
    by_ugel: pd.DataFrame
    total: pd.DataFrame  # aggregate(by=None): one row
    summary: pd.DataFrame  # summary_table by UGEL (+ total) for thresholds >= access.main_threshold_min
    summary_by_district: pd.DataFrame  # summary_table by district (+ total), same thresholds
    ranked_districts: pd.DataFrame  # rank_unserved at access.main_threshold_min
    supply: pd.DataFrame  # per CETPRO: capacity, demand in its catchment, 2SFCA / E2SFCA ratios
    node_minutes: np.ndarray  # minutes from every graph node to the nearest facility (roads+walk)
    notes: list[str] = field(default_factory=list)
    routes: pd.DataFrame | None = None  # per place: legs of its trip to the nearest facility (with_routes)
    route_tree: Any = None  # siting.network.routes.PathTree of those trips (with_routes)
    season: Any = None  # siting.access.season.SeasonAccess: dry against rainy season (seasons.rainy)


def supply_demand(sc: Scenario, data: StudyData, graph: netgraph.TravelGraph, places: pd.DataFrame) -> pd.DataFrame:
    """2SFCA and E2SFCA with CETPRO capacity (``access.capacity_column``) and the target
    population as demand, within ``access.catchment_min`` (see :func:`~siting.access.fca.two_stage_fca`).

    Returns one row per CETPRO (``supply_ratio_*`` = seats per person of demand in its
    catchment, and the CETPRO's validation flags); ``attrs`` carries the per-place
    accessibility in seats per 1,000 people of the target group (``seats_per_1000_2sfca``,
    ``seats_per_1000_e2sfca``)."""
    a = sc.access
    demand = places[f"pop_{sc.population.target_group}"].fillna(0).to_numpy(float)
    cost = solve.directed_coverage(graph, graph.point_nodes["cetpro"], graph.point_nodes["places"], a.catchment_min,
                                   direction=a.direction, progress=False).T.tocsr()  # places x CETPRO
    two = two_stage_fca(demand, data.cetpro, cost, catchment=a.catchment_min, decay="binary",
                        capacity_col=a.capacity_column)
    enh = enhanced_two_stage_fca(demand, data.cetpro, cost, catchment=a.catchment_min, decay=a.decay,
                                 sigma=sc.optional("access.gaussian_sigma_min"), capacity_col=a.capacity_column)
    out = pd.DataFrame({"cod_mod": data.cetpro["cod_mod"].to_numpy(), "name": data.cetpro["name"].to_numpy(),
                        "ugel": data.cetpro["ugel"].to_numpy(),
                        "capacity": data.cetpro[a.capacity_column].to_numpy(float),
                        "catchment_demand": two.catchment_demand, "supply_ratio_2sfca": two.ratio,
                        "supply_ratio_e2sfca": enh.ratio})
    for col in ("gestion", "user_added"):  # CETPRO the registry added (inputs.additional_cetpro), private ones
        if col in data.cetpro:
            out[col] = data.cetpro[col].to_numpy()
    flags = netgraph.point_flags(graph, "cetpro", far_from_road_km=a.far_from_road_km,
                                 min_road_component_nodes=a.min_road_component_nodes)
    for col in FACILITY_FLAGS:
        if col in flags:
            out[f"flag_{col}"] = flags[col].to_numpy()  # per-facility validation (AccessMod style)
    out.attrs["seats_per_1000_2sfca"] = two.access * 1000
    out.attrs["seats_per_1000_e2sfca"] = enh.access * 1000
    return out


def _both_ways(graph: netgraph.TravelGraph, sources: np.ndarray, direction: str
               ) -> tuple[solve.Nearest, solve.Nearest, np.ndarray]:
    """The trips *to* the nearest source and *from* it (back), and the node minutes of
    ``direction`` (:func:`siting.network.solve.combine`)."""
    to = solve.nearest(graph, sources, towards_sources=True)
    back = solve.nearest(graph, sources, towards_sources=False)
    return to, back, solve.combine(to.minutes, back.minutes, direction)


def _walk_minutes(places: pd.DataFrame, walk_graph: netgraph.TravelGraph, sets: Sequence[str],
                  direction: str) -> None:
    """``minutes_walk_<set>`` (of ``direction``), ``minutes_walk_to_nearest``,
    ``minutes_walk_from_nearest`` and ``minutes_walk_nearest`` (walking only), added in place."""
    wp = walk_graph.point_nodes["places"]
    to_all, back_all = [], []
    for name in sets:
        to, back, both = _both_ways(walk_graph, walk_graph.point_nodes[name], direction)
        places[f"minutes_walk_{name}"] = round_minutes(both[wp])
        to_all.append(to.minutes[wp])
        back_all.append(back.minutes[wp])
    places["minutes_walk_to_nearest"] = round_minutes(np.min(np.vstack(to_all), axis=0))
    places["minutes_walk_from_nearest"] = round_minutes(np.min(np.vstack(back_all), axis=0))
    places["minutes_walk_nearest"] = np.min(np.vstack([places[f"minutes_walk_{n}"] for n in sets]), axis=0)


def _note_empty_cetpro(sc: Scenario, data: StudyData, graph: netgraph.TravelGraph, places: pd.DataFrame) -> None:
    """Quality note: the people within ``access.main_threshold_min`` of a centre only if the
    CETPRO with no students and no teachers (``graph.point_nodes["cetpro_inactive"]``) served.

    ``n = sum_j p_j [t'_j <= T and not t_j <= T]`` where ``t_j`` is the place's minutes to a
    serving centre and ``t'_j`` the minutes with the inactive CETPRO counted too."""
    inactive = graph.point_nodes.get("cetpro_inactive")
    if inactive is None or not len(inactive):
        return
    prefix = f"Without the {len(inactive)} CETPRO that have no students"
    if any(n.startswith(prefix) for n in data.quality.notes):
        return  # measured once per data (the app's what-ifs reuse the data and its report)
    T = sc.access.main_threshold_min
    # as compute_access counts: per facility set (the inactive CETPRO joining the CETPRO), then the nearest set
    sets = {k: graph.point_nodes[k] for k in ("cetpro", "extension") if k in graph.point_nodes}
    sets["cetpro"] = np.concatenate([sets["cetpro"], inactive])
    place_nodes = graph.point_nodes["places"]
    with_them = np.min([round_minutes(_both_ways(graph, nodes, sc.access.direction)[2][place_nodes])
                        for nodes in sets.values()], axis=0)
    gained = (with_them <= T) & ~(places["minutes_nearest"].to_numpy(float) <= T)
    group = sc.population.target_group
    people = float(places["population"].to_numpy(float)[gained].sum())
    target = float(places[f"pop_{group}"].fillna(0).to_numpy(float)[gained].sum())
    en, es = bilingual("access.empty_cetpro_effect", n=len(inactive), people=f"{people:,.0f}",
                       target=f"{target:,.0f}", group=group.replace("_", "-"), threshold=f"{T:g}")
    data.quality.note(en, es=es)


def compute_access(sc: Scenario, data: StudyData, graph: netgraph.TravelGraph, *,
                   walk_graph: netgraph.TravelGraph | None = None, with_routes: bool = False) -> AccessResult:
    """The access stage: minutes from every place to the nearest facility of each set, bands,
    aggregates by district / province / UGEL, 2SFCA supply and validation flags.

    Uphill and downhill differ, so both trips are computed: ``minutes_to_nearest`` (place
    -> facility), ``minutes_from_nearest`` (the trip back) and ``minutes_nearest`` and
    ``minutes_<set>``, the measure ``access.direction`` chooses (``"mean"``, the default:
    ``(t_to + t_from) / 2``, each trip to or from its nearest facility of the set).  With
    ``walk_graph`` the walking-only times are added as ``minutes_walk_*`` columns.  With
    ``with_routes`` the legs of every place's trip to its nearest facility are kept
    (:func:`siting.access.routes.place_routes`; they add up to ``minutes_to_nearest``).  Place minutes are
    rounded once, here (:func:`~siting.access.bands.round_minutes`, 0.1 min): bands, cards,
    charts and tables all use those rounded minutes, so a place written as 120.0 min is in
    the 60-120 band everywhere.
    """
    sets = facility_sets(data)
    place_nodes = graph.point_nodes["places"]
    direction = sc.access.direction
    minutes, nearest = {}, {}
    for name in sets:
        to, back, both = _both_ways(graph, graph.point_nodes[name], direction)
        # one rounding rule: the minutes written (0.1 min) are the minutes banded and counted
        minutes[name] = round_minutes(both[place_nodes])
        nearest[name] = (back if direction == "from" else to).source[place_nodes]
    all_nodes = np.concatenate([graph.point_nodes[n] for n in sets])
    to_any, back_any, node_any = _both_ways(graph, all_nodes, direction)
    th = sc.access.thresholds_min
    places = place_access(data.places, minutes=minutes, nearest=nearest, facilities=sets, thresholds=th)
    places["minutes_to_nearest"] = round_minutes(to_any.minutes[place_nodes])
    places["minutes_from_nearest"] = round_minutes(back_any.minutes[place_nodes])
    if walk_graph is not None:
        _walk_minutes(places, walk_graph, list(sets), direction)
    supply = supply_demand(sc, data, graph, places)
    for col in ("seats_per_1000_2sfca", "seats_per_1000_e2sfca"):
        places[col] = supply.attrs[col]
    flags = netgraph.point_flags(graph, "places", far_from_road_km=sc.access.far_from_road_km,
                                 min_road_component_nodes=sc.access.min_road_component_nodes)
    for col in flags.columns:
        places[f"flag_{col}"] = flags[col].to_numpy()
    target, main = sc.population.target_group, sc.access.main_threshold_min
    kw: dict[str, Any] = dict(thresholds=th, groups=list(sc.population.age_groups), target=target,
                              main_threshold=main)
    headline = [t for t in th if t >= main]
    places = gpd.GeoDataFrame(places, geometry="geometry", crs=4326)
    _note_empty_cetpro(sc, data, graph, places)
    tree = routes = None
    if with_routes:
        tree = facility_tree(graph)
        names = [str(v) for n in sets for v in sets[n]["name"]]
        routes = place_routes(graph, tree=tree, names=names, lang=sc.run.language)
    return AccessResult(
        places=places,
        by_district=aggregate(places, by="district", **kw),
        by_province=aggregate(places, by="province", **kw),
        by_ugel=aggregate(places, by="ugel", **kw),
        total=aggregate(places, by=None, **kw),
        summary=summary_table(places, target=target, thresholds=headline),
        summary_by_district=summary_table(places, target=target, thresholds=headline, by="district"),
        ranked_districts=rank_unserved(places, threshold=main, target=target),
        supply=supply,
        node_minutes=node_any,
        notes=data.quality.notes_in(sc.run.language),
        routes=routes,
        route_tree=tree,
    )


def place_table(result: AccessResult, sc: Scenario) -> gpd.GeoDataFrame:
    """The per-place output table (demography, minutes per set and mode, bands, flags); minutes
    are rounded for display (:func:`~siting.access.bands.round_minutes`)."""
    p = result.places
    groups = [c for g in sc.population.age_groups for c in (f"pop_{g}", f"women_{g}", f"men_{g}")]
    timing = ["minutes_nearest", "nearest_facility", "band"] + [  # "*_any" repeats the headline columns
        c for c in p.columns if (c.startswith(("minutes_", "nearest_", "band_")) and not c.endswith("_any")
                                 and c not in {"minutes_nearest", "nearest_facility"})]
    flags = [c for c in p.columns if c.startswith("flag_") and c not in {"flag_node", "flag_cell"}]
    fca = ["seats_per_1000_2sfca", "seats_per_1000_e2sfca"]
    cols = [c for c in PLACE_COLUMNS + groups + timing + fca + flags if c in p.columns]
    out = p[cols + ["geometry"]].copy()
    for c in out.columns:
        if c.startswith("minutes_"):
            out[c] = round_minutes(out[c].to_numpy(dtype=float))
    # |minutes - T| < margin T: the side of the threshold is uncertain (issue #14 item 6)
    m = out["minutes_nearest"].to_numpy(float) if "minutes_nearest" in out else np.full(len(out), np.nan)
    T, margin = sc.allocation.max_minutes, sc.allocation.near_threshold_margin
    out.insert(len(out.columns) - 1, "near_threshold", np.isfinite(m) & (np.abs(m - T) < margin * T))
    if result.routes is not None:  # the legs of the trip to the nearest centre, after the times
        legs = result.routes.set_index(out.index)
        for c in legs.columns:
            out[c] = round_minutes(legs[c].to_numpy(float)) if c.startswith("route_minutes_") else (
                legs[c].round(2) if c != "route_description" else legs[c])
        out = out[[c for c in out.columns if c != "geometry"] + ["geometry"]]
    return out


def study_area_minutes(graph: netgraph.TravelGraph, node_minutes: np.ndarray, area: Any) -> np.ndarray:
    """Node minutes with the terrain cells outside the study area set to ``inf`` (nodata in
    the raster): outside it the facility data are incomplete, so times there mean nothing."""
    if area is None:
        return node_minutes
    from rasterio.features import geometry_mask
    geom = gpd.GeoSeries([area], crs=4326).to_crs(graph.crs).iloc[0]
    outside = geometry_mask([geom], out_shape=graph.shape, transform=graph.transform, all_touched=True)
    out = np.array(node_minutes, dtype=float, copy=True)
    out[: graph.n_cells][outside.ravel()] = np.inf
    return out


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class PlanAccess:
    """Access once the proposed sites open (:func:`evaluate_plan`)."""

    site_places: np.ndarray  # row of each proposed site in data.places
    minutes_before: np.ndarray  # per place: minutes to the nearest existing facility
    minutes_after: np.ndarray  # per place: minutes to the nearest facility, proposals included
    before_after: pd.DataFrame  # by UGEL + total (see siting.access.aggregate.before_after)
    teacher_routes: pd.DataFrame | None = None  # per proposal: legs of the parent CETPRO -> site trip


def _site_places(data: StudyData, plan_or_sites: Any) -> np.ndarray:
    """Rows of ``data.places`` of the proposed sites: a plan (``.proposals`` with ``ccpp_id``),
    a table with ``ccpp_id``, or a sequence of ``ccpp_id`` codes."""
    table = getattr(plan_or_sites, "proposals", plan_or_sites)
    ids = table["ccpp_id"] if isinstance(table, pd.DataFrame) else pd.Series(list(table), dtype="object")
    lookup = pd.Series(np.arange(len(data.places)), index=data.places["ccpp_id"].astype(str).to_numpy())
    lookup = lookup[~lookup.index.duplicated()]
    pos = lookup.reindex(ids.astype(str).to_numpy())
    if pos.isna().any():
        missing = ids.astype(str)[pos.isna().to_numpy()].tolist()[:5]
        raise UserError(f"proposed site(s) {missing} are not populated places of the study area",
                        hint="propose sites by their 10-digit ccpp_id from data.places")
    return pos.to_numpy(dtype=np.int64)


def evaluate_plan(sc: Scenario, data: StudyData, graph: netgraph.TravelGraph, plan_or_sites: Any, *,
                  access: AccessResult | None = None) -> PlanAccess:
    """How far is everyone once the proposals open?

    ``plan_or_sites``: a :class:`~siting.allocation.ProposalResult`, a table with a
    ``ccpp_id`` column or a list of ``ccpp_id``.  The minutes *after* come from one
    multi-source Dijkstra (towards the sources) from every existing facility and every
    proposed place; *before* are ``access.places["minutes_nearest"]`` (recomputed from the
    existing facilities when ``access`` is not given).  The table compares both within
    ``allocation.max_minutes`` for every age group (:func:`~siting.access.aggregate.before_after`).
    """
    pos = _site_places(data, plan_or_sites)
    place_nodes = graph.point_nodes["places"]
    existing = [graph.point_nodes[n] for n in facility_sets(data)]
    direction = sc.access.direction
    if access is not None:
        before = access.places["minutes_nearest"].to_numpy(float)
    else:
        before = round_minutes(_both_ways(graph, np.concatenate(existing), direction)[2][place_nodes])
    after = round_minutes(_both_ways(graph, np.concatenate(existing + [place_nodes[pos]]), direction)[2][place_nodes])
    table = before_after(data.places if access is None else access.places, before, after,
                         threshold=sc.allocation.max_minutes,
                         groups=list(sc.population.age_groups))
    teachers = None
    if hasattr(plan_or_sites, "proposals"):  # a plan: the teacher trip of each proposal, told in legs
        teachers = teacher_routes(graph, data.cetpro, data.places, plan_or_sites.proposals, lang=sc.run.language)
    return PlanAccess(site_places=pos, minutes_before=before, minutes_after=after, before_after=table,
                      teacher_routes=teachers)
