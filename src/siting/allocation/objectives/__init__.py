"""Objective models beside maximal covering: mean time, worst case and equity (issue 18).

All models share one input, :class:`SitingData` (spopt style: a sparse places x candidates
matrix of minutes within a cut-off plus each place's minutes to the existing facilities,
with the limits of the covering model: N sites, budget, min/max per UGEL or province,
parent CETPRO within teacher time and with capacity), and one result, :class:`SitingResult`.

* :class:`PMedian` — least population-weighted travel time, existing facilities kept open.
* :class:`PCenter` — least worst travel time (optionally only places with enough people).
* :class:`MaxMinFairness` — least people beyond T in the worst district.
* :class:`MaxCovering` — maximal covering with an optional limit on people beyond T2.
* :func:`demand_weights` — weights by sex and age group (women weighted 2x enters every objective).
* :func:`pareto_front`, :func:`describe_front`, :func:`plot_front` — coverage against equity.
* :func:`suitability_cost` — what a suitability term ``lambda * s`` costs in the objective.
* :func:`plan_measures`, :func:`measures_of`, :func:`compare_plans` — every measure of a plan.

Each model is built with ``Model.from_cost_matrix(cost, weights, **keywords)`` (or
``Model(data, ...)``) and solved with ``solve("auto" | "exact" | "heuristic")``; formulations
and proofs are in the class docstrings.
"""
from __future__ import annotations

from .covering import MaxCovering, MaxMinFairness
from .measures import PlanMeasures, compare_plans, demand_weights, measures_of, plan_measures, population_groups
from .pcenter import PCenter
from .pmedian import PMedian
from .problem import SitingData, SitingResult
from .tradeoff import (
    ParetoFront,
    describe_front,
    front_with_plans,
    pareto_front,
    plot_front,
    start_pareto_front,
    suitability_cost,
)

__all__ = ["MaxCovering", "MaxMinFairness", "PCenter", "PMedian", "ParetoFront", "PlanMeasures", "SitingData",
           "SitingResult", "compare_plans", "demand_weights", "describe_front", "front_with_plans",
           "measures_of", "pareto_front", "plan_measures", "plot_front", "population_groups", "start_pareto_front",
           "suitability_cost"]
