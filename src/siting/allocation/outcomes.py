"""What a plan does, whatever chose it: every measure (:func:`measure_table`) and the
coverage-equity trade-off for the run's N (:func:`tradeoff`).

Measures (:func:`siting.allocation.objectives.plan_measures`, conventions of
:mod:`siting.access`: *within* T is ``minutes <= T``, beyond includes no access; means, worst
case and Gini over the people with finite minutes), for the target group (youth), its women,
the whole population and all women, before and after the plan:

* ``people``; ``mean_minutes`` = ``sum_j p_j m_j / sum_j p_j``; ``worst_minutes`` = ``max_j m_j``
  (places with ``p_j > 0``); ``gini`` of the minutes weighted by ``p_j``; ``no_access``;
* ``beyond`` = ``sum_j p_j [m_j > T]`` for every ``access.thresholds_min`` T, and
  ``newly_within`` = beyond before - beyond after.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..scenario import Scenario
from .objectives import (
    ParetoFront,
    SitingData,
    describe_front,
    front_with_plans,
    plan_measures,
    population_groups,
    start_pareto_front,
)

#: the population groups every plan is measured on (codes of the ``group`` column)
GROUPS = ("target", "women_target", "population", "women")
MEASURE_COLUMNS = ["group", "measure", "threshold_min", "before", "after", "change"]


def measure_table(sc: Scenario, places: pd.DataFrame, before: np.ndarray, after: np.ndarray
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(total, by_district)``: one row per (group, measure[, threshold]) with ``before``,
    ``after`` and ``change = after - before`` (``newly_within``: its value in ``after``);
    per district (ubigeo, name) the people of each group beyond each threshold, before and after."""
    pops = population_groups(places, target_group=sc.population.target_group)
    thresholds = [float(t) for t in sc.access.thresholds_min]
    pm = plan_measures(before, after, pops, place_group=places["ubigeo"].astype(str).to_numpy(),
                       thresholds=thresholds)
    rows: list[dict[str, Any]] = []
    for _, r in pm.total.iterrows():
        g = r["group"]
        rows.append({"group": g, "measure": "people", "threshold_min": np.nan, "before": r["people"],
                     "after": r["people"]})
        for m in ("mean_minutes", "worst_minutes", "gini", "no_access"):
            rows.append({"group": g, "measure": m, "threshold_min": np.nan, "before": r[f"{m}_before"],
                         "after": r[f"{m}_after"]})
        for T in thresholds:
            rows.append({"group": g, "measure": "beyond", "threshold_min": T, "before": r[f"beyond_{T:g}_before"],
                         "after": r[f"beyond_{T:g}_after"]})
        for T in thresholds:
            rows.append({"group": g, "measure": "newly_within", "threshold_min": T, "before": 0.0,
                         "after": r[f"newly_within_{T:g}"]})
    total = pd.DataFrame(rows)
    total["change"] = total["after"] - total["before"]
    wide = pm.by_district
    first = places.drop_duplicates("ubigeo")
    names = first.set_index(first["ubigeo"].astype(str))
    parts = []
    for g in pops:
        for T in thresholds:
            parts.append(pd.DataFrame({
                "ubigeo": wide["district"].to_numpy(), "group": g, "threshold_min": T,
                "people": wide[f"{g}_people"].to_numpy(), "beyond_before": wide[f"{g}_beyond_{T:g}_before"].to_numpy(),
                "beyond_after": wide[f"{g}_beyond_{T:g}_after"].to_numpy()}))
    by = pd.concat(parts, ignore_index=True)
    by.insert(1, "district", by["ubigeo"].map(names["district"]).to_numpy())
    by.insert(2, "province", by["ubigeo"].map(names["province"]).to_numpy())
    return total[MEASURE_COLUMNS], by


def headline(total: pd.DataFrame, *, main_threshold: float, equity_minutes: float) -> dict[str, float]:
    """The few numbers of a plan for the target group (newly covered, mean / worst minutes,
    Gini, people beyond T and T2 after), from :func:`measure_table`."""
    t = total[total["group"] == "target"]

    def get(measure: str, T: float | None = None) -> float:
        s = t[(t["measure"] == measure) & ((t["threshold_min"] == T) if T is not None else t["threshold_min"].isna())]
        return float(s["after"].iloc[0]) if len(s) else float("nan")

    return {"newly_covered": get("newly_within", main_threshold), "mean_minutes": get("mean_minutes"),
            "worst_minutes": get("worst_minutes"), "gini": get("gini"),
            "beyond_main": get("beyond", main_threshold), "beyond_equity": get("beyond", equity_minutes)}


@dataclass(frozen=True)
class Tradeoff:
    """The coverage-equity Pareto front of the run (``table`` empty when not computed) and the
    sentences saying what each step of fairness costs in coverage."""

    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    sentences: list[str] = field(default_factory=list)
    max_minutes: float = 60.0
    equity_minutes: float = 120.0
    n_sites: int | None = None
    plan_point: dict[str, Any] | None = None  # the run's plan on the same axes (objectives other than mclp)

    @property
    def front(self) -> ParetoFront:
        return ParetoFront(table=self.table, max_minutes=self.max_minutes, equity_minutes=self.equity_minutes,
                           n_sites=self.n_sites)


def tradeoff(sc: Scenario, sdata: SitingData | None, *, lang: str, selected: list[int] | None = None,
             run_aside: Any = None, exact_rows: Callable[[np.ndarray], Any] | None = None,
             exact_cutoff: float | None = None) -> Tradeoff:
    """The epsilon-constraint Pareto front (:func:`siting.allocation.objectives.pareto_front`)
    of (target people newly within ``allocation.max_minutes``, target people beyond
    ``allocation.equity_minutes``) for N = ``allocation.n_sites`` and every limit of the run,
    with ``allocation.pareto_points`` epsilon values; empty when ``pareto_points`` < 2 or when
    the minutes do not reach ``equity_minutes`` (no graph).  ``selected`` (a plan chosen by
    another objective) is placed on the same axes, with the coverage the front gains over it
    at no more people beyond T2: ``max {f1(p) : p on the front, f2(p) <= f2(plan)} - f1(plan)``.
    ``run_aside``: the front's chains are solved in side processes (:func:`start_tradeoff`);
    ``exact_rows`` / ``exact_cutoff``: see :func:`start_tradeoff`."""
    return start_tradeoff(sc, sdata, lang=lang, selected=selected, run_aside=run_aside, exact_rows=exact_rows,
                          exact_cutoff=exact_cutoff)()


def start_tradeoff(sc: Scenario, sdata: SitingData | None, *, lang: str, selected: list[int] | None = None,
                   run_aside: Any = None, exact_rows: Callable[[np.ndarray], Any] | None = None,
                   exact_cutoff: float | None = None) -> Callable[[], Tradeoff]:
    """A getter of :func:`tradeoff`; with ``run_aside`` (``run_aside(fn, *args, **kwargs)`` -> a
    getter) the front is already being solved in side processes when this returns.
    ``exact_rows`` / ``exact_cutoff``: the exact minutes of the front's sites when ``sdata``'s
    pairs stop at ``max(T, T2)`` (:func:`~siting.allocation.objectives.start_pareto_front`)."""
    a = sc.allocation
    T, T2 = float(a.max_minutes), float(a.equity_minutes)
    if a.pareto_points < 2 or sdata is None or sdata.cutoff < T2:
        return lambda: Tradeoff(max_minutes=T, equity_minutes=T2, n_sites=a.n_sites)
    data = sdata.with_options(suitability_weight=0.0)
    get_front = start_pareto_front(data, max_minutes=T, equity_minutes=T2, n_points=int(a.pareto_points),
                                   time_limit=a.time_limit_s, run_aside=run_aside, exact_rows=exact_rows,
                                   exact_cutoff=exact_cutoff)
    return lambda: _tradeoff_of(sc, get_front(), data, lang=lang, selected=selected)


def _tradeoff_of(sc: Scenario, front: ParetoFront, data: SitingData, *, lang: str,
                 selected: list[int] | None) -> Tradeoff:
    """The :class:`Tradeoff` of ``front``: its table, its sentences and the run's plan on its axes."""
    a = sc.allocation
    T, T2 = float(a.max_minutes), float(a.equity_minutes)
    table = front.table.drop(columns=["selected"])
    sentences = describe_front(front, lang=lang)
    point = None
    if selected is not None and a.objective != "mclp":
        row = front_with_plans(front, {a.objective: selected}, data).iloc[-1]
        cov, beyond = float(row["newly_covered"]), float(row["beyond"])
        ok = table[table["beyond"] <= beyond + 1e-6]
        gain = float(ok["newly_covered"].max()) - cov if len(ok) else float("nan")
        point = {"name": a.objective, "newly_covered": cov, "beyond": beyond, "gini": float(row["gini"]),
                 "front_gain": gain}
        i = 1 if lang == "en" else 0
        sentences.append((
            f"El plan elegido ({a.objective}) deja {point['newly_covered']:,.0f} personas nuevas dentro de {T:g} min y "
            f"{point['beyond']:,.0f} a más de {T2:g} min; el frente cubre {gain:,.0f} personas más sin dejar más "
            f"personas a más de {T2:g} min.",
            f"The chosen plan ({a.objective}) has {point['newly_covered']:,.0f} people newly within {T:g} min and "
            f"{point['beyond']:,.0f} beyond {T2:g} min; the front covers {gain:,.0f} more people without leaving more "
            f"people beyond {T2:g} min.")[i])
    return Tradeoff(table=table, sentences=sentences, max_minutes=T, equity_minutes=T2, n_sites=front.n_sites,
                    plan_point=point)
