"""The glossary of the reports: every term a reader meets, defined with the run's own figures.

A director reads "población objetivo", "a más de 60 min", "límite docente", "atendida" and
"2SFCA" in the cards and tables; :func:`glossary` defines each of them with the values of the
scenario (target group ages, thresholds, ``allocation.max_minutes``, ``teacher_max_minutes``,
``access.catchment_min``), so the definitions can never drift from what was computed.

The 2SFCA accessibility of place ``i`` (Luo & Wang 2003) is

    R_j = S_j / sum_{k: d_kj <= d0} P_k ,   A_i = sum_{j: d_ij <= d0} R_j

with ``S_j`` the enrolment of CETPRO ``j`` (``access.capacity_column``), ``P_k`` the target
group of place ``k`` and ``d0`` = ``access.catchment_min``; the report shows ``1000 A_i``
(seats per 1,000 people of the target group).
"""
from __future__ import annotations

from ..scenario import Scenario
from .labels import t

#: the terms, in reading order (label keys ``gloss.<term>`` and ``gloss.<term>.def``)
TERMS = ("ccpp", "target", "travel_time", "thresholds", "served", "new_served", "parent", "teacher_limit",
         "extension", "score", "fca", "ugel")


def target_ages(sc: Scenario) -> tuple[int, int]:
    """The ages ``(a, b)`` of the target group (``population.age_groups[target_group]``)."""
    a, b = sc.population.age_groups[sc.population.target_group]
    return int(a), int(b)


def target_label(sc: Scenario, lang: str = "es") -> str:
    """``"15–29 años"`` / ``"aged 15–29"``: the target group as the cards name it."""
    a, b = target_ages(sc)
    return t("gloss.ages", lang).format(a=a, b=b)


def glossary(sc: Scenario, lang: str = "es") -> list[tuple[str, str]]:
    """``(term, definition)`` pairs for the report, filled with the scenario's values."""
    a, b = target_ages(sc)
    th = ", ".join(f"{x:g}" for x in sc.access.thresholds_min)
    values = dict(a=a, b=b, thresholds=th, main=sc.access.main_threshold_min, max_minutes=sc.allocation.max_minutes,
                  teacher=sc.allocation.teacher_max_minutes, catchment=sc.access.catchment_min,
                  per_cetpro=sc.allocation.max_extensions_per_cetpro, walk=sc.speeds.walk_kmh_max,
                  capacity=sc.access.capacity_column)
    return [(t(f"gloss.{term}", lang).format(**values), t(f"gloss.{term}.def", lang).format(**values))
            for term in TERMS]
