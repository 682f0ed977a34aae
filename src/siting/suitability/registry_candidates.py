"""Candidates and the registry: petitions (required, included or favoured) and planners' exclusions.

:func:`apply_registry` runs after :func:`~siting.suitability.select_candidates`:

1. ``registry.petition_candidates = "include"``: a petitioned place excluded *only* for
   population, urban area or missing host premises becomes a candidate (it is re-checked with
   those rules off; already served places stay excluded);
2. ``"require"``: candidates without a petition are excluded (``no_petition``);
3. ``inputs.candidate_exclusions``: listed places are excluded (``planner_excluded``) with the
   planner's reason in ``reason_detail`` (a place excluded for other reasons gets the code too);
4. every candidate gets ``petitions``, ``petition_interested`` and ``petition_detail``
   (:func:`siting.data.registry_use.petition_summary`), so the ranking shows each petition.
"""
from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd

from ..data.registry_use import petition_summary
from ..errors import UserError
from ..scenario import Candidates
from .candidates import select_candidates

#: exclusion reasons the petition rule "include" may lift
LIFTABLE = {"population_below_min", "population_missing", "urban", "no_host_premises"}
_EXCLUDED_COLUMNS = ("ccpp_id", "name", "ubigeo", "province", "district", "ugel", "area", "population",
                     "minutes_existing", "host_premises")


def _as_excluded(rows: pd.DataFrame, code: str, details: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(rows[[c for c in _EXCLUDED_COLUMNS if c in rows.columns]])
    out["reason"] = code
    out["reason_detail"] = details
    return out


def _include_petitioned(cand: gpd.GeoDataFrame, excluded: pd.DataFrame, places: gpd.GeoDataFrame, asked: set[str],
                        *, minutes: np.ndarray, premises, rules: Candidates, crs: str,
                        premises_id_column: str | None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    codes = excluded["reason"].astype(str).str.split("; ")
    lift = excluded["ccpp_id"].astype(str).isin(asked) & codes.map(lambda c: set(c) <= LIFTABLE)
    if not lift.any():
        return cand, excluded
    ids = set(excluded.loc[lift, "ccpp_id"].astype(str))
    mask = places["ccpp_id"].astype(str).isin(ids).to_numpy()
    relaxed = dataclasses.replace(rules, min_population=0, rural_only=False, require_host_premises=False)
    sub = places[mask]
    got, _ = select_candidates(sub, minutes_existing=np.asarray(minutes, float)[mask], premises=premises,
                               rules=relaxed, crs=crs, premises_id_column=premises_id_column)
    got = got[pd.to_numeric(got["population"], errors="coerce").fillna(0) > 0] if "population" in got else got
    moved = set(got["ccpp_id"].astype(str))
    cand = gpd.GeoDataFrame(pd.concat([cand, got]), geometry="geometry", crs=cand.crs)
    return cand, excluded[~excluded["ccpp_id"].astype(str).isin(moved)]


def apply_registry(cand: gpd.GeoDataFrame, excluded: pd.DataFrame, places: gpd.GeoDataFrame, *,
                   petitions: pd.DataFrame | None, exclusions: pd.DataFrame | None, mode: str = "favour",
                   minutes: np.ndarray | None = None, premises=None, rules: Candidates | None = None,
                   crs: str = "", target_group: str = "15_29",
                   premises_id_column: str | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Candidates and excluded places after the registry rules (see the module docstring).

    ``minutes``, ``premises``, ``rules`` and ``crs`` are those given to ``select_candidates``
    (needed by ``mode="include"``).  Returns ``(candidates, excluded)``; every place stays in
    exactly one of them."""
    asked = set() if petitions is None else set(petitions["ccpp_id"].astype(str))
    if mode == "include" and asked:
        if minutes is None or rules is None:
            raise ValueError("mode='include' needs minutes and rules")
        cand, excluded = _include_petitioned(cand, excluded, places, asked, minutes=minutes, premises=premises,
                                             rules=rules, crs=crs, premises_id_column=premises_id_column)
    moved = []
    if mode == "require":
        if not asked:
            raise UserError("registry.petition_candidates = \"require\" but there are no petitions",
                            hint="give inputs.petitions or use petition_candidates = \"favour\"")
        no = ~cand["ccpp_id"].astype(str).isin(asked)
        moved.append(_as_excluded(cand[no], "no_petition",
                                  ["no community petition in inputs.petitions"] * int(no.sum())))
        cand = cand[~no]
    if exclusions is not None and len(exclusions):
        first = exclusions.drop_duplicates("ccpp_id")
        why = pd.Series(first["reason"].astype(str).to_numpy(), index=first["ccpp_id"].astype(str).to_numpy())
        hit = cand["ccpp_id"].astype(str).isin(why.index)
        moved.append(_as_excluded(cand[hit], "planner_excluded",
                                  [f"planner: {why[c]}" for c in cand.loc[hit, "ccpp_id"].astype(str)]))
        cand = cand[~hit]
        old = excluded["ccpp_id"].astype(str).isin(why.index)
        if old.any():
            excluded = excluded.copy()
            ids = excluded.loc[old, "ccpp_id"].astype(str)
            excluded.loc[old, "reason"] = excluded.loc[old, "reason"].astype(str) + "; planner_excluded"
            excluded.loc[old, "reason_detail"] = (excluded.loc[old, "reason_detail"].astype(str) + "; planner: "
                                                  + ids.map(why).astype(str))
    if moved:
        excluded = pd.concat([excluded, *moved])
    summary = petition_summary(petitions, target_group=target_group)
    ids = cand["ccpp_id"].astype(str)
    cand = cand.copy()
    cand["petitions"] = ids.map(summary["petitions"]).fillna(0).astype(int).to_numpy()
    cand["petition_interested"] = ids.map(summary["petition_interested"]).fillna(0.0).to_numpy(float)
    cand["petition_detail"] = ids.map(summary["petition_detail"]).astype(object).fillna("").to_numpy()
    return gpd.GeoDataFrame(cand, geometry="geometry", crs=cand.crs), excluded
