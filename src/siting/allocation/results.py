"""What the solvers return: :class:`CoverageSolution` and :class:`ReducedProblem`."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .problem import TOL, CoveringProblem


@dataclass(frozen=True)
class CoverageSolution:
    """A solution of :class:`~siting.allocation.MaximalCovering`.

    ``selected`` lists candidate indices in greedy order of marginal gain (for the exact
    solver: the optimal set re-ordered greedily), so ``marginal_gains[k]`` is the weight
    newly covered by the k-th site given the k-1 before it.  ``objective`` is the covered
    (previously unserved) weight; ``bound`` an upper bound on the best possible covered
    weight (``nan`` in coverage-target mode, where ``sites_lower_bound`` is given instead);
    ``gap = (bound - objective) / bound``.
    """

    selected: np.ndarray
    selected_ids: list
    objective: float
    score: float  # objective + eps * sum of suitability (what the solver maximised)
    bound: float
    gap: float
    solver: str
    status: str  # "optimal", "time_limit", "heuristic"
    timings: dict[str, float]
    marginal_gains: np.ndarray
    covered: np.ndarray  # bool per demand place
    total_weight: float  # unserved weight (after already_covered)
    coverable_weight: float  # unserved weight that some eligible candidate reaches
    n_swaps: int = 0
    sites_lower_bound: float = float("nan")
    reduction: dict[str, float] = field(default_factory=dict)

    @property
    def n_sites(self) -> int:
        return len(self.selected)

    @property
    def share(self) -> float:
        """Share of the unserved weight covered by the selected sites."""
        return self.objective / self.total_weight if self.total_weight > 0 else 0.0

    def table(self) -> pd.DataFrame:
        """One row per selected site in selection order (English snake_case columns)."""
        cum = np.cumsum(self.marginal_gains)
        return pd.DataFrame({
            "rank": np.arange(1, len(self.selected) + 1),
            "candidate": self.selected,
            "candidate_id": self.selected_ids,
            "newly_covered": self.marginal_gains,
            "cumulative_covered": cum,
            "cumulative_share": cum / self.total_weight if self.total_weight > 0 else np.zeros(len(cum)),
        })

    def curve(self) -> pd.DataFrame:
        """Coverage versus number of sites along the selection order (n = 1..len)."""
        t = self.table()
        return pd.DataFrame({"n_sites": t["rank"], "covered": t["cumulative_covered"],
                             "share": t["cumulative_share"], "marginal_gain": t["newly_covered"],
                             "candidate_id": t["candidate_id"]})


@dataclass(frozen=True)
class ReducedProblem:
    """The problem after :func:`siting.allocation.reduce.reduce`.

    ``matrix`` is (len(candidates) x len(weights)) bool; ``candidates`` are original
    candidate indices; ``column_of_place[j]`` the reduced column of original place j
    (-1 = removed: weight 0 or covered by no eligible candidate, a constant 0).
    """

    matrix: sp.csr_array
    weights: np.ndarray
    candidates: np.ndarray
    column_of_place: np.ndarray  # original place -> reduced column (-1 = removed)
    stats: dict[str, float]
    #: per original candidate, the row of ``matrix`` of a kept candidate that covers at least
    #: as much at no more cost (itself when kept; -1 when ineligible); ``None`` = not recorded
    row_of_candidate: np.ndarray | None = None


def order_by_gain(p: CoveringProblem, sel: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Re-order a set greedily by marginal gain; returns ``(order, gains)``."""
    remaining = [int(i) for i in sel]
    covered = np.zeros(p.n_places, dtype=bool)
    order, gains = [], []
    while remaining:
        best, best_g = remaining[0], -1.0
        for i in remaining:
            c = p.cover(i)
            g = float(p.w[c[~covered[c]]].sum()) + p.eps * p.s[i]
            if g > best_g + TOL:
                best, best_g = i, g
        remaining.remove(best)
        c = p.cover(best)
        gains.append(float(p.w[c[~covered[c]]].sum()))
        covered[c] = True
        order.append(best)
    return np.array(order, dtype=int), np.array(gains, dtype=float)


def relative_gap(bound: float, value: float) -> float:
    """``max((bound - value) / bound, 0)``, 0 when the bound is not positive."""
    return max((bound - value) / bound, 0.0) if bound > 0 else 0.0


def make_solution(p: CoveringProblem, sel: Sequence[int], *, solver: str, status: str, bound: float, timings: dict,
                  n_swaps: int = 0, sites_lb: float = float("nan"), reduction: dict | None = None) -> CoverageSolution:
    """The :class:`CoverageSolution` of the set ``sel`` (ordered by gain, objective, gap)."""
    order, gains = order_by_gain(p, sel)
    covered = p.covered_mask(order)
    obj = float(p.w[covered].sum())
    score = obj + p.eps * float(p.s[order].sum()) if len(order) else 0.0
    if p.coverage_target is not None:
        bound = float("nan")
    gap = (bound - obj) / bound if (np.isfinite(bound) and bound > 0) else 0.0 if np.isfinite(bound) else float("nan")
    return CoverageSolution(
        selected=order, selected_ids=[p.candidate_ids[i] for i in order], objective=obj, score=score,
        bound=bound, gap=max(gap, 0.0) if np.isfinite(gap) else gap, solver=solver, status=status,
        timings=timings, marginal_gains=gains, covered=covered, total_weight=p.total_weight,
        coverable_weight=p.coverable_weight(), n_swaps=n_swaps, sites_lower_bound=sites_lb,
        reduction=reduction or {})
