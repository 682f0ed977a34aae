"""Why a plan has fewer sites than were asked for (issue #17, item 10).

The propose stage places at most ``allocation.n_sites`` new extension centres.  It can place
fewer, and the user must be told how many and why.  The upper bounds known from the inputs:

* ``C`` -- the candidate localities (after the ``[candidates]`` rules; the others are listed
  with their reason in ``excluded_places.csv``);
* ``P = sum_k cap_k`` over the CETPRO ``k`` that have capacity left (:func:`parent_capacity`)
  and are within ``allocation.teacher_max_minutes`` of at least one candidate, when
  ``allocation.require_parent`` (each new centre needs a parent CETPRO that sends teachers);
* ``G * max_per_ugel`` (``G`` groups with a candidate) when ``allocation.max_per_ugel > 0``;
* ``floor(budget / cost_per_site)`` when ``allocation.budget > 0``.

When the plan has fewer sites than asked and none of these bounds is below the request, the
remaining candidates add nobody to the covered target population (the objective cannot grow).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..allocation.stage import ProposalResult, parent_capacity
from ..data import StudyData
from ..scenario import Scenario
from ..suitability import ScoreResult
from .labels import t


@dataclass(frozen=True)
class Shortfall:
    """A plan with fewer sites than asked: ``asked``, ``placed`` and the reasons (one sentence each)."""

    asked: int
    placed: int
    reasons: list[str]

    def message(self, lang: str = "es") -> str:
        """``"5 sites were asked for and 3 could be placed: <reasons>"`` in ``lang``."""
        head = t("shortfall.head", lang).format(asked=self.asked, placed=self.placed)
        return f"{head} {'; '.join(self.reasons)}."


def requested_sites(sc: Scenario) -> int | None:
    """The number of sites the scenario asks for, or ``None`` when a coverage target decides it."""
    if sc.optional("allocation.coverage_target") is not None:
        return None
    return int(sc.allocation.n_sites)


def parent_bound(sc: Scenario, data: StudyData, scores: ScoreResult) -> tuple[int, list[str]]:
    """``P`` (see the module docstring) and the names of the CETPRO that make it up."""
    cap = parent_capacity(sc, data)
    tm = scores.teacher_minutes.tocsc()
    reached = np.zeros(len(cap), dtype=bool)
    if tm.shape[0]:
        within = tm.copy()
        within.data = (within.data <= sc.allocation.teacher_max_minutes).astype(float)
        reached = np.asarray(within.sum(axis=0)).ravel()[: len(cap)] > 0
    usable = reached & (cap > 0)
    names = data.cetpro["name"].astype(str).to_numpy()[usable].tolist()
    return int(cap[usable].sum()), names


def shortfall(sc: Scenario, data: StudyData, scores: ScoreResult, plan: ProposalResult) -> Shortfall | None:
    """The :class:`Shortfall` of ``plan``, or ``None`` when it has the sites asked for."""
    asked, placed = requested_sites(sc), len(plan.proposals)
    if asked is None or placed >= asked:
        return None
    a, lang = sc.allocation, sc.run.language
    reasons: list[str] = []
    n_cand = len(scores.candidates)
    if asked > n_cand:
        reasons.append(t("shortfall.candidates", lang).format(n=n_cand, min_population=sc.candidates.min_population,
                                                              exclude_min=sc.candidates.exclude_within_min))
    if a.require_parent:
        bound, names = parent_bound(sc, data, scores)
        if asked > bound:
            shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
            reasons.append(t("shortfall.parents", lang).format(
                k=len(names), names=shown or "-", minutes=a.teacher_max_minutes, bound=bound,
                per_cetpro=a.max_extensions_per_cetpro))
    if a.max_per_ugel > 0:
        groups = scores.candidates[a.group_by].nunique()
        if asked > groups * a.max_per_ugel:
            reasons.append(t("shortfall.per_group", lang).format(groups=groups, per_group=a.max_per_ugel,
                                                                bound=groups * a.max_per_ugel))
    if a.budget > 0 and a.cost_per_site > 0 and asked > math.floor(a.budget / a.cost_per_site):
        reasons.append(t("shortfall.budget", lang).format(budget=a.budget, cost=a.cost_per_site,
                                                          bound=math.floor(a.budget / a.cost_per_site)))
    if not reasons:
        reasons.append(t("shortfall.no_gain", lang).format(minutes=a.max_minutes))
    return Shortfall(asked=asked, placed=placed, reasons=reasons)
