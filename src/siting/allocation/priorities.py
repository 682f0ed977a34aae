"""How the planner's priorities entered the objective, and whether they changed the plan.

Priorities of the scenario and where they enter (every objective of
:mod:`siting.allocation.choice` sees the same demand ``w_j`` and suitability term):

* ``allocation.weight_women`` (default 1) and ``allocation.weight_poverty`` (default 0) — in
  the demand ``w_j = (men_G + weight_women women_G) (1 + weight_poverty poverty_j / 100)``
  (:func:`siting.allocation.stage.demand_weights`): they change *who counts*;
* ``allocation.suitability_weight`` ``lambda`` (default 0) — the term ``lambda sum_{i open} s_i``;
  with 0 the score (and so every ``suitability.weights`` criterion, e.g. the women criterion)
  only breaks ties between plans of equal objective.

For each priority away from its default the plan is solved again with that one key at its
default (same objective, same limits): the table says how many places' demand changed, whether
the plan changed (sites in one plan and not in the other) and what the change cost in the
objective.  When the plan did not change, ``why`` gives the reason measured on the data: the
spread of ``w_new / w_default`` over the places (a nearly constant factor cannot reorder the
sites), or that the plan was already the best for both weightings.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..scenario import Scenario

#: (key, default) of the priorities explained
PRIORITY_KEYS: tuple[tuple[str, float], ...] = (("weight_women", 1.0), ("weight_poverty", 0.0),
                                                ("suitability_weight", 0.0))
PRIORITY_COLUMNS = ["key", "value", "default", "enters", "places_reweighted", "factor_p05", "factor_p95",
                    "plan_changed", "sites_changed", "objective", "objective_at_default", "cost", "why"]

_ENTERS = {
    "weight_women": ("demanda: w_j = hombres_G + peso_mujeres x mujeres_G (todas las funciones objetivo)",
                     "demand: w_j = men_G + weight_women x women_G (every objective)"),
    "weight_poverty": ("demanda: w_j x (1 + peso_pobreza x pobreza_j / 100) (todas las funciones objetivo)",
                       "demand: w_j x (1 + weight_poverty x poverty_j / 100) (every objective)"),
    "suitability_weight": ("término lambda x suma de la aptitud normalizada s_i de las sedes abiertas",
                           "term lambda x sum of the opened sites' normalised suitability s_i"),
}


def _lang(lang: str) -> int:
    return 1 if lang == "en" else 0


def explain_priorities(sc: Scenario, *, selected: list[int], objective: float, sense: str,
                       weights_of: Callable[[Scenario], np.ndarray],
                       choose: Callable[[Scenario], tuple[list[int], float]]) -> tuple[pd.DataFrame, list[str]]:
    """One row per priority of :data:`PRIORITY_KEYS` (see the module docstring) and the notes.

    ``weights_of(sc)`` = the demand of a scenario; ``choose(sc)`` = its plan (candidate
    indices) and objective value; ``selected`` / ``objective`` = the run's plan; ``sense`` =
    "max" or "min" (the cost is the objective given up against the default)."""
    lang = sc.run.language
    i = _lang(lang)
    w = np.asarray(weights_of(sc), float)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for key, default in PRIORITY_KEYS:
        value = float(getattr(sc.allocation, key))
        row: dict[str, Any] = {"key": f"allocation.{key}", "value": value, "default": default,
                               "enters": _ENTERS[key][i]}
        if value == default:
            row.update(plan_changed=False, sites_changed=0, why=_default_why(key, i))
            rows.append(row)
            continue
        changes: dict[str, Any] = {key: default}
        sc0 = dataclasses.replace(sc, allocation=dataclasses.replace(sc.allocation, **changes))
        w0 = np.asarray(weights_of(sc0), float)
        sel0, obj0 = choose(sc0)
        changed = sorted(set(selected) - set(sel0))
        cost = (obj0 - objective) if sense == "max" else (objective - obj0)
        pos = w0 > 0
        factor = w[pos] / w0[pos]
        row.update(places_reweighted=int((~np.isclose(w, w0)).sum()),
                   factor_p05=float(np.percentile(factor, 5)) if factor.size else np.nan,
                   factor_p95=float(np.percentile(factor, 95)) if factor.size else np.nan,
                   plan_changed=bool(changed), sites_changed=len(changed), objective=objective,
                   objective_at_default=obj0, cost=cost if key == "suitability_weight" else np.nan)
        row["why"] = _why(key, row, i)
        rows.append(row)
        notes.append(_note(row, i))
    return pd.DataFrame(rows, columns=PRIORITY_COLUMNS), notes


def _default_why(key: str, i: int) -> str:
    if key == "suitability_weight":
        return ("lambda = 0: la aptitud solo desempata planes de igual valor objetivo (1e-6 x la menor demanda), "
                "así que cambiar los pesos de los criterios de aptitud casi nunca cambia el plan; "
                "dé un valor a allocation.suitability_weight para que cuente",
                "lambda = 0: suitability only breaks ties between plans of equal objective (1e-6 x the smallest "
                "demand), so changing the suitability criteria weights almost never changes the plan; give "
                "allocation.suitability_weight a value to make it count")[i]
    return ("en su valor por defecto", "at its default")[i]


def _why(key: str, row: dict[str, Any], i: int) -> str:
    if row["plan_changed"]:
        return (f"{row['sites_changed']} sede(s) cambian", f"{row['sites_changed']} site(s) change")[i]
    if key == "suitability_weight":
        return ("lambda demasiado pequeño frente a la diferencia de objetivo entre planes: las mismas sedes son "
                "óptimas con y sin el término", "lambda is too small against the objective differences between "
                "plans: the same sites are optimal with and without the term")[i]
    lo, hi = row["factor_p05"], row["factor_p95"]
    if hi - lo <= 0.1 * max(lo, 1e-12):
        return (f"la demanda de casi todos los lugares se multiplica por un factor casi constante ({lo:.2f} a "
                f"{hi:.2f}, percentiles 5-95): el orden entre sedes no cambia",
                f"almost every place's demand is multiplied by a nearly constant factor ({lo:.2f} to {hi:.2f}, "
                "percentiles 5-95): the order between sites does not change")[i]
    return (f"la demanda cambia (factor {lo:.2f} a {hi:.2f}, percentiles 5-95) pero el mismo plan sigue siendo el "
            "mejor con ambas ponderaciones", f"demand changes (factor {lo:.2f} to {hi:.2f}, percentiles 5-95) but "
            "the same plan remains the best under both weightings")[i]


def _note(row: dict[str, Any], i: int) -> str:
    key, v, d = row["key"], row["value"], row["default"]
    if row["plan_changed"]:
        text = (f"{key} = {v:g} (por defecto {d:g}) cambió el plan: {row['sites_changed']} sede(s) distintas "
                f"de las del valor por defecto", f"{key} = {v:g} (default {d:g}) changed the plan: "
                f"{row['sites_changed']} site(s) differ from the default's")[i]
        if key.endswith("suitability_weight") and np.isfinite(row["cost"]):
            text += (f"; cuesta {row['cost']:,.1f} en el objetivo ({row['objective_at_default']:,.1f} -> "
                     f"{row['objective']:,.1f})", f"; it costs {row['cost']:,.1f} in the objective "
                     f"({row['objective_at_default']:,.1f} -> {row['objective']:,.1f})")[i]
        return text + "."
    if key.endswith("suitability_weight"):
        return (f"{key} = {v:g} (por defecto {d:g}) NO cambió el plan: {row['why']}.",
                f"{key} = {v:g} (default {d:g}) did NOT change the plan: {row['why']}.")[i]
    return (f"{key} = {v:g} (por defecto {d:g}) cambió la demanda de {row.get('places_reweighted', 0)} lugares pero "
            f"NO cambió el plan: {row['why']}.", f"{key} = {v:g} (default {d:g}) changed the demand of "
            f"{row.get('places_reweighted', 0)} places but did NOT change the plan: {row['why']}.")[i]
