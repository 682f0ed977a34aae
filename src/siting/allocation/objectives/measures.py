"""Demand weights by sex and age, and every measure of a plan whatever its objective.

Conventions are those of :mod:`siting.access`: *within* T is ``minutes <= T``, *beyond* T
is the complement (including no access); means, worst case and Gini are over the people who
can reach a facility (finite minutes), people with no access are counted apart.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...access import gini
from ...errors import DataError, UserError
from .problem import Plan, SitingData

__all__ = ["PlanMeasures", "compare_plans", "demand_weights", "plan_measures", "population_groups"]


def demand_weights(places: pd.DataFrame, *, target_group: str, weight_women: float = 1.0, weight_men: float = 1.0,
                   age_weights: Mapping[str, float] | None = None, poverty: np.ndarray | None = None,
                   weight_poverty: float = 0.0) -> np.ndarray:
    """Demand weight of every place from its population by sex and age group::

        w_j = (sum_G a_G (weight_men * men_G,j + weight_women * women_G,j)) * (1 + weight_poverty * poverty_j / 100)

    ``age_weights`` = ``{G: a_G}`` (default ``{target_group: 1}``; groups are columns
    ``men_G`` / ``women_G`` of the places table and may overlap: a person in two listed groups
    counts in both).  ``weight_women = 2`` makes a young woman count as two young men in every
    objective.  ``poverty`` = district poverty (%) per place, NaN = 0.
    """
    groups = dict(age_weights) if age_weights else {target_group: 1.0}
    w = np.zeros(len(places))
    for g, a in groups.items():
        for sex in ("men", "women"):
            if f"{sex}_{g}" not in places.columns:
                raise DataError(f"the places table has no column {sex}_{g}",
                                hint="list the age group in population.age_groups of the scenario")
        men = pd.to_numeric(places[f"men_{g}"], errors="coerce").fillna(0).to_numpy(float)
        women = pd.to_numeric(places[f"women_{g}"], errors="coerce").fillna(0).to_numpy(float)
        w += float(a) * (weight_men * men + weight_women * women)
    if weight_poverty:
        if poverty is None:
            raise UserError("weight_poverty needs the district poverty of every place")
        w = w * (1 + weight_poverty * np.nan_to_num(np.asarray(poverty, float)) / 100.0)
    if (w < 0).any():
        raise UserError("demand weights came out negative: weights by sex and age must be >= 0")
    return w


def population_groups(places: pd.DataFrame, *, target_group: str) -> dict[str, np.ndarray]:
    """The populations every plan is measured on: the target group, its women, everybody, women."""
    cols = {"target": f"pop_{target_group}", "women_target": f"women_{target_group}", "population": "population",
            "women": "women"}
    out = {}
    for key, col in cols.items():
        if col in places.columns:
            out[key] = pd.to_numeric(places[col], errors="coerce").fillna(0).to_numpy(float)
    if "target" not in out:
        raise DataError(f"the places table has no column pop_{target_group}")
    return out


@dataclass
class PlanMeasures:
    """``total``: one row per population group; ``by_district``: one row per district with
    people beyond each threshold before and after; ``notes``: how the minutes were obtained."""

    total: pd.DataFrame
    by_district: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _group_row(pop: np.ndarray, before: np.ndarray, after: np.ndarray, thresholds: Sequence[float]) -> dict[str, Any]:
    row: dict[str, Any] = {"people": float(pop.sum())}
    for tag, t in (("before", before), ("after", after)):
        ok = np.isfinite(t) & (pop > 0)
        W = float(pop[ok].sum())
        row[f"mean_minutes_{tag}"] = float((pop[ok] * t[ok]).sum() / W) if W > 0 else float("nan")
        row[f"worst_minutes_{tag}"] = float(t[ok].max()) if ok.any() else float("nan")
        row[f"gini_{tag}"] = gini(t, pop)
        row[f"no_access_{tag}"] = float(pop[~np.isfinite(t)].sum())
    for T in thresholds:
        b0, b1 = float(pop[~(before <= T)].sum()), float(pop[~(after <= T)].sum())
        row[f"beyond_{T:g}_before"], row[f"beyond_{T:g}_after"] = b0, b1
        row[f"newly_within_{T:g}"] = b0 - b1
    return row


def plan_measures(before: np.ndarray, after: np.ndarray, populations: Mapping[str, np.ndarray], *,
                  place_group: Sequence[Any] | np.ndarray | None = None,
                  thresholds: Sequence[float] = (30.0, 60.0, 120.0), notes: Sequence[str] = ()) -> PlanMeasures:
    """All measures of a plan from the minutes of every place before and after it.

    For every population group (e.g. :func:`population_groups`): people, mean and worst
    minutes, Gini (:func:`siting.access.gini`), people with no access, people beyond each
    threshold and newly within it, before and after; and per district the people beyond each
    threshold before and after.
    """
    before = np.asarray(before, float)
    after = np.asarray(after, float)
    if before.shape != after.shape:
        raise UserError(f"minutes before ({before.shape}) and after ({after.shape}) differ in length")
    rows = []
    for name, pop in populations.items():
        pop = np.asarray(pop, float)
        if pop.shape != before.shape:
            raise UserError(f"population {name!r} has {pop.shape[0]} values, expected {before.shape[0]}")
        rows.append({"group": name, **_group_row(pop, before, after, thresholds)})
    total = pd.DataFrame(rows)
    if place_group is None:
        return PlanMeasures(total=total, by_district=pd.DataFrame(), notes=list(notes))
    labels = pd.Series(np.asarray(place_group, dtype=object).astype(str))
    frame: dict[str, Any] = {"district": labels}
    for name, pop in populations.items():
        pop = np.asarray(pop, float)
        frame[f"{name}_people"] = pop
        for T in thresholds:
            frame[f"{name}_beyond_{T:g}_before"] = np.where(before <= T, 0.0, pop)
            frame[f"{name}_beyond_{T:g}_after"] = np.where(after <= T, 0.0, pop)
    by = pd.DataFrame(frame).groupby("district", sort=True).sum().reset_index()
    return PlanMeasures(total=total, by_district=by, notes=list(notes))


def measures_of(data: SitingData, selected: Plan, populations: Mapping[str, np.ndarray], *,
                place_group: Sequence[Any] | np.ndarray | None = None,
                thresholds: Sequence[float] = (30.0, 60.0, 120.0),
                minutes_after: np.ndarray | None = None) -> PlanMeasures:
    """:func:`plan_measures` of ``selected`` with the minutes of the cost data (or exact
    ``minutes_after`` from a multi-source shortest path, as the propose stage computes)."""
    notes = []
    if minutes_after is None:
        after, exact = data.minutes_after(selected)
        if not exact.all():
            notes.append(f"{int((~exact).sum())} places are farther than the cost matrix's cut-off "
                         f"({data.cutoff:g} min) from every facility after the plan: their minutes are an upper "
                         "bound (the existing-facility time)")
    else:
        after = np.asarray(minutes_after, float)
    return plan_measures(data.existing, after, populations, place_group=place_group, thresholds=thresholds,
                         notes=notes)


def compare_plans(data: SitingData, plans: Mapping[str, Sequence[int]], populations: Mapping[str, np.ndarray], *,
                  thresholds: Sequence[float] = (30.0, 60.0, 120.0), main_threshold: float = 60.0,
                  place_group: Sequence[Any] | np.ndarray | None = None) -> pd.DataFrame:
    """One row per plan (e.g. per objective) with the headline measures of every group:
    newly within ``main_threshold``, mean / worst minutes, Gini and people beyond each
    threshold after the plan, and the people beyond ``main_threshold`` in the worst district."""
    rows = []
    for name, sel in plans.items():
        pm = measures_of(data, sel, populations, place_group=place_group, thresholds=thresholds)
        row: dict[str, Any] = {"plan": name, "n_sites": len(sel),
                               "sites": ", ".join(str(data.candidate_ids[i]) for i in sorted(sel))}
        for _, r in pm.total.iterrows():
            g = r["group"]
            row[f"{g}_newly_within_{main_threshold:g}"] = r[f"newly_within_{main_threshold:g}"]
            for k in ("mean_minutes_after", "worst_minutes_after", "gini_after"):
                row[f"{g}_{k.replace('_after', '')}"] = r[k]
            for T in thresholds:
                row[f"{g}_beyond_{T:g}"] = r[f"beyond_{T:g}_after"]
        if len(pm.by_district):
            col = f"target_beyond_{main_threshold:g}_after"
            if col in pm.by_district:
                i = int(pm.by_district[col].to_numpy().argmax())
                row["worst_district"] = pm.by_district["district"].iloc[i]
                row[f"worst_district_target_beyond_{main_threshold:g}"] = float(pm.by_district[col].iloc[i])
        rows.append(row)
    return pd.DataFrame(rows)
