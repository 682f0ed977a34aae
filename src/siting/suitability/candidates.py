"""Candidate localities for a new extension centre.

A centro poblado is a candidate when it passes every rule of
:class:`siting.scenario.Candidates`:

1. ``population >= min_population`` (missing population fails the rule);
2. ``area == "rural"`` when ``rural_only``;
3. not already served: ``minutes_existing > exclude_within_min`` (time to the nearest
   CETPRO / extension centre; ``inf``/NaN = unreachable = not served);
4. a host premises (school premises, Tambo, municipal hall…) within
   ``host_premises_within_m`` metres when ``require_host_premises``;
5. it has a location.

Every place ends up in exactly one of the two returned tables; an excluded place keeps
*all* the rules it failed, as codes in ``reason`` (joined with ``"; "``) and in words,
with numbers, in ``reason_detail``.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..scenario import Candidates

#: Reason codes (translated by the report layer).
REASONS = {
    "no_location": ("sin coordenadas", "no coordinates"),
    "population_missing": ("sin población", "population missing"),
    "population_below_min": ("población menor al mínimo", "population below the minimum"),
    "catchment_below_min": ("población de su área de atención menor al mínimo",
                            "population of its catchment below the minimum"),
    "urban": ("área urbana (solo rurales)", "urban area (rural only)"),
    "already_served": ("ya está cerca de un CETPRO o centro de extensión", "already near a CETPRO or extension centre"),
    "no_host_premises": ("sin local anfitrión cercano", "no host premises nearby"),
    # registry (suitability/registry_candidates.py)
    "no_petition": ("sin petitorio de la comunidad", "no community petition"),
    "planner_excluded": ("excluido por la DRE/UGEL", "excluded by DRE/UGEL planners"),
}

_ID_COLUMNS = ("premises_id", "codlocal", "tambo_code", "facility_id")


def _premises_ids(premises: gpd.GeoDataFrame, id_column: str | None) -> np.ndarray:
    col = id_column or next((c for c in _ID_COLUMNS if c in premises.columns), None)
    if col is None:
        return premises.index.astype(str).to_numpy()
    return premises[col].astype("string").fillna("?").to_numpy(dtype=object)


def _kind_column_name(kind: str) -> str:
    return "n_" + "".join(ch if ch.isalnum() else "_" for ch in str(kind).lower())


def host_premises_near(places: gpd.GeoDataFrame, premises: gpd.GeoDataFrame | None, *, within_m: float,
                       crs: str, id_column: str | None = None) -> pd.DataFrame:
    """Premises within ``within_m`` metres (Euclidean, in the projected ``crs``) of every place.

    Returns one row per place (same index) with ``n_<kind>`` counts for every kind in
    ``premises['kind']`` (always ``n_school_premises`` and ``n_tambo``), ``host_premises``
    (total), ``tambo`` (0/1), ``host_premises_list`` (``"kind:id"`` of each, nearest
    first), ``nearest_premises_id`` and ``nearest_premises_m``.
    """
    kinds = ["school_premises", "tambo"]
    if premises is not None and len(premises):
        if "kind" not in premises.columns:
            raise ValueError("premises needs a 'kind' column (school_premises, tambo, municipal_hall, ...)")
        kinds += [k for k in pd.unique(premises["kind"].astype(str)) if k not in kinds]
    n = len(places)
    out = pd.DataFrame(index=places.index)
    for k in kinds:
        out[_kind_column_name(k)] = 0
    out["host_premises"] = 0
    out["tambo"] = 0
    out["host_premises_list"] = ""
    out["nearest_premises_id"] = pd.Series([pd.NA] * n, index=places.index, dtype="string")
    out["nearest_premises_m"] = np.nan
    if premises is None or not len(premises) or not n:
        return out
    pg = places.geometry.to_crs(crs).to_numpy()
    hg = premises.geometry.to_crs(crs).to_numpy()
    ok = ~(shapely.is_missing(hg) | shapely.is_empty(hg))
    hidx = np.flatnonzero(ok)
    tree = shapely.STRtree(hg[ok])
    valid = ~(shapely.is_missing(pg) | shapely.is_empty(pg))
    pidx = np.flatnonzero(valid)
    p_i, h_j = tree.query(pg[valid], predicate="dwithin", distance=float(within_m))
    if not len(p_i):
        return out
    rows = pidx[p_i]
    prem = hidx[h_j]
    dist = shapely.distance(pg[rows], hg[prem])
    pairs = pd.DataFrame({"row": rows, "kind": premises["kind"].astype(str).to_numpy()[prem],
                          "id": _premises_ids(premises, id_column)[prem], "dist": dist})
    pairs = pairs.sort_values(["row", "dist"], kind="stable")
    counts = pairs.groupby(["row", "kind"]).size().unstack(fill_value=0)
    for k in counts.columns:
        out.iloc[counts.index.to_numpy(), out.columns.get_loc(_kind_column_name(k))] = counts[k].to_numpy()
    total = counts.sum(axis=1)
    out.iloc[total.index.to_numpy(), out.columns.get_loc("host_premises")] = total.to_numpy()
    out["tambo"] = (out["n_tambo"] > 0).astype(int)
    listed = pairs.assign(label=pairs["kind"] + ":" + pairs["id"].astype(str)).groupby("row")["label"].agg("; ".join)
    out.iloc[listed.index.to_numpy(), out.columns.get_loc("host_premises_list")] = listed.to_numpy()
    first = pairs.groupby("row").first()
    out.iloc[first.index.to_numpy(), out.columns.get_loc("nearest_premises_id")] = first["id"].astype(str).to_numpy()
    out.iloc[first.index.to_numpy(), out.columns.get_loc("nearest_premises_m")] = first["dist"].to_numpy()
    return out


def select_candidates(
    places: gpd.GeoDataFrame,
    *,
    minutes_existing: np.ndarray,
    premises: gpd.GeoDataFrame | None,
    rules: Candidates,
    crs: str,
    premises_id_column: str | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Split ``places`` into candidates and excluded places.

    ``minutes_existing[i]`` is the travel time from place i to the nearest CETPRO /
    extension centre (``inf`` when unreachable).  ``premises`` holds possible host
    premises with a ``kind`` column (``school_premises``, ``tambo``, ``municipal_hall``…).

    Returns ``(candidates, excluded)``: ``candidates`` is a GeoDataFrame with the place
    columns plus ``minutes_existing`` and the premises columns of
    :func:`host_premises_near`; ``excluded`` a DataFrame with ``ccpp_id``, ``name``,
    ``population``, ``minutes_existing``, ``host_premises``, ``reason`` (codes of
    :data:`REASONS`, joined with ``"; "``) and ``reason_detail``.
    """
    minutes = np.asarray(minutes_existing, dtype=float)
    if minutes.shape != (len(places),):
        raise ValueError(f"minutes_existing has length {minutes.shape}, expected {len(places)} places")
    places = places.copy()
    places["minutes_existing"] = minutes
    near = host_premises_near(places, premises, within_m=rules.host_premises_within_m, crs=crs,
                              id_column=premises_id_column)
    for col in near.columns:  # positional: the places index may have duplicates
        places[col] = near[col].to_numpy()

    codes: list[list[str]] = [[] for _ in range(len(places))]
    details: list[list[str]] = [[] for _ in range(len(places))]

    def flag(mask: np.ndarray, code: str, text) -> None:
        for i in np.flatnonzero(mask):
            codes[i].append(code)
            details[i].append(text(i))

    geom = places.geometry.to_numpy()
    flag(shapely.is_missing(geom) | shapely.is_empty(geom), "no_location", lambda i: "no coordinates")
    pop = pd.to_numeric(places["population"], errors="coerce").to_numpy(float) if "population" in places \
        else np.full(len(places), np.nan)
    flag(np.isnan(pop), "population_missing", lambda i: "population missing")
    flag(pop < rules.min_population, "population_below_min",
         lambda i: f"population {pop[i]:.0f} < {rules.min_population}")
    if rules.rural_only:
        area = places["area"].astype("string").str.lower().fillna("") if "area" in places \
            else pd.Series([""] * len(places))
        flag((area != "rural").to_numpy(), "urban", lambda i: f"area '{area.iloc[i]}' is not rural")
    flag(minutes <= rules.exclude_within_min, "already_served",
         lambda i: f"{minutes[i]:.0f} min to a CETPRO/extension (<= {rules.exclude_within_min:g})")
    if rules.require_host_premises:
        flag(places["host_premises"].to_numpy() == 0, "no_host_premises",
             lambda i: f"no school premises / Tambo within {rules.host_premises_within_m:g} m")

    excluded_mask = np.array([bool(c) for c in codes])
    cand = places.loc[~excluded_mask].copy()
    ex = places.loc[excluded_mask]
    keep = [c for c in ("ccpp_id", "name", "ubigeo", "province", "district", "ugel", "area", "population",
                        "minutes_existing", "host_premises") if c in ex.columns]
    excluded = pd.DataFrame(ex[keep])
    excluded["reason"] = ["; ".join(codes[i]) for i in np.flatnonzero(excluded_mask)]
    excluded["reason_detail"] = ["; ".join(details[i]) for i in np.flatnonzero(excluded_mask)]
    return cand, excluded


def exclusion_summary(excluded: pd.DataFrame) -> pd.DataFrame:
    """Count excluded places by single reason code (a place can count under several)."""
    codes = excluded["reason"].astype(str).str.split("; ").explode()
    counts = codes.value_counts()
    return pd.DataFrame({"reason": counts.index, "places": counts.to_numpy(),
                         "label_es": [REASONS.get(c, (c, c))[0] for c in counts.index],
                         "label_en": [REASONS.get(c, (c, c))[1] for c in counts.index]})
