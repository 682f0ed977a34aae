"""The report's section on the objective (issue #18): which objective chose the sites, how
each priority entered and whether it changed the plan, every measure of the plan, and the
coverage-equity Pareto front with what each step of fairness costs in coverage."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..allocation import ProposalResult
from ..allocation.objectives import plot_front
from ..allocation.outcomes import Tradeoff
from .labels import t
from .values import translate_values

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PRIORITY_SHOWN = ["key", "value", "default", "enters", "plan_changed", "sites_changed", "why"]
FRONT_SHOWN = ["point", "newly_covered", "beyond", "coverage_cost", "fairness_gain", "cost_per_person", "gini"]


def pareto_chart(tr: Tradeoff, lang: str = "es") -> Figure:
    """The Pareto front (people beyond T2 on x, people newly within T on y), Spanish by default."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    plot_front(tr.front, ax=ax, lang=lang)
    if tr.plan_point is not None:  # the plan of another objective on the same axes
        p = tr.plan_point
        ax.plot([p["beyond"]], [p["newly_covered"]], "s", color="#e7298a", label=t(f"objective.{p['name']}", lang))
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def pareto_chart_uri(tr: Tradeoff, lang: str, *, png_data_uri: Callable[[Figure], str]) -> str:
    """The data URI of :func:`pareto_chart` (a module-level function: a side process can draw it)."""
    return png_data_uri(pareto_chart(tr, lang))


def objective_context(plan: ProposalResult, lang: str, *, table_context: Any, png_data_uri: Any,
                      chart: Callable[[], str] | None = None) -> dict[str, Any]:
    """Template context of the section: ``title``, ``objective`` (label), ``notes`` (priorities),
    ``sentences`` (front), ``tables`` and ``chart`` (data URI or ""; ``chart``: the getter of the
    Pareto chart's URI when a side process draws it, :func:`pareto_chart_uri`)."""
    tables = []
    m = plan.measures
    if len(m):
        shown = translate_values(m[m["group"].isin(["target", "women_target", "women"])], lang, booleans=False)
        tables.append(table_context(shown, t("report.measures", lang), lang))
    if len(plan.priorities):
        pr = translate_values(plan.priorities, lang)
        tables.append(table_context(pr, t("report.priorities", lang), lang, columns=PRIORITY_SHOWN))
    tr = plan.tradeoff
    chart_uri = ""
    if len(tr.table):
        tables.append(table_context(pd.DataFrame(tr.table), t("report.pareto_title", lang), lang, columns=FRONT_SHOWN))
        chart_uri = chart() if chart is not None else png_data_uri(pareto_chart(tr, lang))
    return {"title": t("report.objective_section", lang),
            "objective": f"{t('report.objective_used', lang)}: {t('objective.' + plan.objective, lang)}",
            "notes": list(plan.priority_notes), "sentences": list(tr.sentences), "tables": tables, "chart": chart_uri,
            "chart_title": t("report.pareto_chart", lang)}
