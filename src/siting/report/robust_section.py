"""The report's sentences on robustness (issue #14 item 6): selection frequency of the
proposals over the travel-time draws, the near-optimal site sets and the sites they all
share, the places near the threshold and what the catchment rule added."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..allocation import ProposalResult
from ..scenario import Scenario
from .labels import t


def pct(share: float, lang: str = "es") -> str:
    """A share as a percentage: ``40 %`` in Spanish (space before the sign), ``40%`` in English."""
    return f"{share * 100:.0f} %" if lang == "es" else f"{share * 100:.0f}%"


def robust_sentences(sc: Scenario, plan: ProposalResult, places: pd.DataFrame, lang: str = "es") -> list[str]:
    """The sentences of the section (Spanish by default)."""
    out = []
    props = plan.proposals
    freq = props["selection_frequency"] if "selection_frequency" in props else pd.Series(dtype=float)
    if len(freq) and freq.notna().any():
        items = ", ".join(f"{n} {pct(f, lang)}" for n, f in zip(props["name"], freq))
        key = "robust.frequency_jitter" if plan.draws.get("kind") == "jitter" else "robust.frequency"
        out.append(t(key, lang).format(n=plan.draws.get("n", 0), items=items,
                                   j=pct(sc.suitability.speed_jitter, lang)))
    near = plan.near
    if near.n_sets:
        key = "robust.capped_time" if near.stopped_by == "time" else "robust.capped"
        capped = t(key, lang).format(m=sc.allocation.near_optimal_max_sets, s=sc.allocation.time_limit_s) \
            if near.capped else ""
        names = dict(zip(props["ccpp_id"].astype(str), props["name"]))
        shared = ", ".join(str(names.get(i, i)) for i in near.shared)
        key = "robust.near_optimal" if shared else "robust.near_optimal_none"
        out.append(t(key, lang).format(n=near.n_sets, g=pct(near.gap, lang), capped=capped, shared=shared))
    if "near_threshold" in places:
        flag = places["near_threshold"].to_numpy(bool)
        T = sc.allocation.max_minutes
        out.append(t("robust.near_threshold", lang).format(
            n=int(flag.sum()), p=float(np.nansum(places["population"].to_numpy(float)[flag])),
            d=sc.allocation.near_threshold_margin * T, T=T))
    if sc.candidates.population_rule == "catchment":
        out.append(t("robust.catchment", lang).format(n=plan.draws.get("catchment_added", 0),
                                                      m=sc.candidates.min_population))
    return out


def with_robustness(context: dict[str, Any], sc: Scenario, plan: ProposalResult, places: pd.DataFrame, *,
                    table_context: Callable[..., dict]) -> dict[str, Any]:
    """The objective section's context with the robustness sentences and the near-optimal table."""
    lang = sc.run.language
    context = dict(context)
    context["sentences"] = list(context.get("sentences", [])) + robust_sentences(sc, plan, places, lang)
    if len(plan.near.table):
        context["tables"] = list(context.get("tables", [])) + [
            table_context(plan.near.table, t("report.near_optimal_table", lang), lang,
                          columns=["set", "covered_weight", "gap_to_optimum", "changed_sites", "names"])]
    return context
