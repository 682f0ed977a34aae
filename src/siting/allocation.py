"""Location-allocation: where to open N new extension centres, and which CETPRO runs each.

The input is a **coverage matrix** ``A`` (candidates x demand places, scipy sparse) as
returned by :func:`siting.network.solve.coverage`: every stored entry ``a_ij`` means
"candidate *i* reaches place *j* within the time limit" (explicit zeros = 0 minutes count
as covered; values above ``max_minutes`` do not).  Demand weights ``w_j`` are decided by the
caller (e.g. target-age population weighted for women, youth, poverty); places already
served by an existing CETPRO / extension centre get weight 0 (``already_covered``).

Maximal covering location problem (Church & ReVelle 1974), as solved by
:class:`MaximalCovering` (``x_i`` = open candidate *i*, ``y_j`` = place *j* covered)::

    maximise    sum_j w_j y_j  +  eps * sum_i s_i x_i          (s_i: suitability in [0, 1])
    subject to  y_j <= sum_{i : a_ij} x_i                      for every place j
                sum_i x_i <= N                                 (n_sites)
                sum_i c_i x_i <= B                             (budget, site_cost c_i)
                lo_g <= sum_{i in g} x_i <= hi_g               (min/max per province/UGEL g)
                x_i = 0 for candidates that are not eligible   (e.g. no parent CETPRO)
                x_i in {0, 1},  0 <= y_j <= 1

Coverage-target mode (``coverage_target = t``) instead minimises the number (or cost) of
sites that cover at least a share *t* of the unserved weight ``W``::

    minimise    sum_i c_i x_i - 0.5 * sum_j w_j y_j / W        (the second term < 1 only
    subject to  sum_j w_j y_j >= t * W,  same constraints       breaks ties: most coverage)

With ``require_parent`` (``parent_minutes`` given) a candidate may only be opened if it
can be assigned to a CETPRO within ``parent_max_minutes`` without exceeding any CETPRO's
capacity (max extension centres).  The exact model adds assignment variables ``z_ik``
for the eligible pairs: ``sum_k z_ik = x_i`` and ``sum_i z_ik <= cap_k``, ``0 <= z <= 1``
(for integral ``x`` this is a bipartite b-matching / transportation system, whose matrix
is totally unimodular, so continuous ``z`` suffice).  The greedy keeps a matching and
accepts a candidate only if an augmenting path exists.  :func:`assign_parents` then
computes the parent of each selected site that minimises total teacher travel.

Solvers (``MaximalCovering.solve(method=...)``):

* ``"greedy"`` — lazy greedy (Minoux 1978) + 1-swap local search, with an upper bound
  (see :meth:`MaximalCovering.greedy`).  Cardinality case: (1 - 1/e) guarantee.
* ``"exact"`` — MILP with ``scipy.optimize.milp`` (HiGHS) on a *reduced* problem (see
  :meth:`MaximalCovering.reduce`), first on a small candidate pool proven sufficient by
  Lagrangian pricing (see :meth:`MaximalCovering.exact`), time limit and reported gap.
* ``"auto"`` — exact (with pricing) when ``n_sites`` is set; otherwise exact when the
  reduced problem is small enough, else greedy.  An exact solve stopped by its time limit
  returns the better of its incumbent and greedy + swap, with HiGHS' bound.

Problems the user can fix (impossible minimums, target above what is reachable, wrong
shapes) raise :class:`~siting.errors.UserError` naming the option and what to do.
"""
from __future__ import annotations

import copy
import heapq
import math
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp
from tqdm.auto import tqdm

from .errors import UserError

__all__ = [
    "CoverageSolution",
    "MaximalCovering",
    "ParentAssignment",
    "ReducedProblem",
    "assign_parents",
    "coverage_pattern",
]

_TOL = 1e-9
#: auto mode solves exactly when the reduced matrix has at most this many non-zeros
AUTO_EXACT_MAX_NNZ = 5_000_000
#: ... and at most this many candidate variables
AUTO_EXACT_MAX_CANDIDATES = 50_000


def _no_tty() -> bool:
    """True when progress bars should be hidden (stderr is not an interactive terminal)."""
    return not sys.stderr.isatty()


# --------------------------------------------------------------------------- inputs


def coverage_pattern(coverage: Any, *, max_minutes: float | None = None, name: str = "coverage") -> sp.csr_array:
    """Boolean CSR pattern of a coverage matrix.

    * scipy sparse: every *stored* entry is covered (explicit zeros = 0 minutes count),
      and if ``max_minutes`` is given only entries with value <= ``max_minutes``;
    * dense bool: as is;  dense numbers (minutes): finite entries <= ``max_minutes``
      (``max_minutes`` is then required; NaN / inf = unreachable).
    """
    if sp.issparse(coverage):
        m = sp.csr_array(coverage)
        m.sum_duplicates()
        m.sort_indices()
        keep = np.ones(m.nnz, dtype=bool)
        if max_minutes is not None and m.dtype != bool:
            with np.errstate(invalid="ignore"):
                keep = np.asarray(m.data <= max_minutes)
        # build from the stored positions directly (arithmetic would drop explicit zeros)
        row_of = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        return sp.csr_array((np.ones(int(keep.sum()), dtype=bool), (row_of[keep], m.indices[keep])), shape=m.shape)
    arr = np.asarray(coverage)
    if arr.ndim != 2:
        raise UserError(f"{name} must be a 2-D matrix (candidates x places), got shape {arr.shape}")
    if arr.dtype == bool:
        return sp.csr_array(arr)
    if max_minutes is None:
        raise UserError(f"{name} is a dense matrix of minutes: pass max_minutes to say what counts as covered")
    with np.errstate(invalid="ignore"):
        return sp.csr_array(np.isfinite(arr) & (arr <= max_minutes))


def _group_bounds(spec: int | dict | None, labels: np.ndarray, default: float, name: str) -> np.ndarray:
    """Per-group bound array from an int (same for every group), a dict {label: int} or None."""
    out = np.full(len(labels), default, dtype=float)
    if spec is None:
        return out
    if isinstance(spec, dict):
        known = {str(l) for l in labels}
        for key, val in spec.items():
            if str(key) not in known:
                raise UserError(f"{name}: group {key!r} has no candidate",
                                hint=f"groups present: {', '.join(sorted(known))}")
            out[[str(l) == str(key) for l in labels]] = float(val)
        return out
    out[:] = float(spec)
    return out


# --------------------------------------------------------------------------- results


@dataclass
class CoverageSolution:
    """A solution of :class:`MaximalCovering`.

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
    reduction: dict[str, int] = field(default_factory=dict)
    parents: ParentAssignment | None = None

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


@dataclass
class ReducedProblem:
    """The problem after :meth:`MaximalCovering.reduce`.

    ``matrix`` is (len(candidates) x len(weights)) bool; ``candidates`` are original
    candidate indices; ``demand_groups[j]`` the original places merged into column j.
    ``removed_weight`` is weight of places no eligible candidate covers (constant 0).
    """

    matrix: sp.csr_array
    weights: np.ndarray
    candidates: np.ndarray
    column_of_place: np.ndarray  # original place -> reduced column (-1 = removed)
    stats: dict[str, int]


# --------------------------------------------------------------------------- parent matching


class _ParentMatcher:
    """Incremental bipartite b-matching (sites -> CETPRO slots) by augmenting paths (Kuhn)."""

    def __init__(self, options: list[np.ndarray], capacity: np.ndarray):
        self.options = options  # per candidate: eligible parent indices
        self.capacity = capacity.astype(int)
        self.load = np.zeros(len(capacity), dtype=int)
        self.parent_of: dict[int, int] = {}
        self.sites_of: list[list[int]] = [[] for _ in capacity]

    def copy(self) -> _ParentMatcher:
        new = copy.copy(self)
        new.load = self.load.copy()
        new.parent_of = dict(self.parent_of)
        new.sites_of = [list(s) for s in self.sites_of]
        return new

    def _augment(self, site: int, seen: set[int]) -> bool:
        for p in self.options[site]:
            p = int(p)
            if p in seen:
                continue
            seen.add(p)
            if self.load[p] < self.capacity[p]:
                self._assign(site, p)
                return True
            for other in list(self.sites_of[p]):
                self.sites_of[p].remove(other)
                self.load[p] -= 1
                del self.parent_of[other]
                if self._augment(other, seen):
                    self._assign(site, p)
                    return True
                self._assign(other, p)
        return False

    def _assign(self, site: int, p: int) -> None:
        self.parent_of[site] = p
        self.sites_of[p].append(site)
        self.load[p] += 1

    def try_add(self, site: int) -> bool:
        """Add ``site`` if a matching of all sites still exists (state unchanged on failure)."""
        trial = self.copy()
        if trial._augment(site, set()):
            self.__dict__.update(trial.__dict__)
            return True
        return False

    def remove(self, site: int) -> None:
        p = self.parent_of.pop(site)
        self.sites_of[p].remove(site)
        self.load[p] -= 1


# --------------------------------------------------------------------------- model


class MaximalCovering:
    """Maximal covering location problem on a sparse coverage matrix (formulation in the
    module docstring).  Build with :meth:`from_coverage`, then :meth:`solve`.

    Attributes are read-only after construction; :meth:`with_options` returns a modified
    copy sharing the matrix (used by :meth:`coverage_curve`).
    """

    def __init__(self, pattern: sp.csr_array, weights: np.ndarray, *, total_weight: float,
                 n_sites: int | None, coverage_target: float | None, budget: float | None,
                 site_cost: np.ndarray, group_index: np.ndarray, group_labels: np.ndarray,
                 group_min: np.ndarray, group_max: np.ndarray, suitability: np.ndarray,
                 eps: float, candidate_ids: list, eligible: np.ndarray,
                 parent_options: list[np.ndarray] | None, parent_capacity: np.ndarray | None):
        self.pattern = pattern
        self.A = sp.csr_array((np.ones(pattern.nnz), pattern.indices, pattern.indptr), shape=pattern.shape)
        self.w = weights
        self.total_weight = total_weight
        self.n_sites = n_sites
        self.coverage_target = coverage_target
        self.budget = budget
        self.cost = site_cost
        self.group = group_index
        self.group_labels = group_labels
        self.group_min = group_min
        self.group_max = group_max
        self.s = suitability
        self.eps = eps
        self.candidate_ids = candidate_ids
        self.eligible = eligible
        self.parent_options = parent_options
        self.parent_capacity = parent_capacity
        self._check_feasible()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_coverage(
        cls,
        coverage: Any,
        demand_weight: Sequence[float] | np.ndarray,
        *,
        already_covered: Sequence[bool] | np.ndarray | None = None,
        max_minutes: float | None = None,
        n_sites: int | None = None,
        coverage_target: float | None = None,
        budget: float | None = None,
        site_cost: float | Sequence[float] | np.ndarray | None = None,
        group_of_candidate: Sequence[Any] | np.ndarray | None = None,
        min_per_group: int | dict[Any, int] | None = None,
        max_per_group: int | dict[Any, int] | None = None,
        suitability: Sequence[float] | np.ndarray | None = None,
        suitability_weight: float | None = None,
        candidate_ids: Sequence[Any] | None = None,
        eligible: Sequence[bool] | np.ndarray | None = None,
        parent_minutes: Any = None,
        parent_capacity: int | Sequence[int] | np.ndarray | None = None,
        parent_max_minutes: float | None = None,
    ) -> MaximalCovering:
        """Build the model.

        Parameters
        ----------
        coverage: candidates x places; see :func:`coverage_pattern`.
        demand_weight: weight per place (>= 0, finite), e.g. weighted target population.
        already_covered: places served by existing facilities; their weight counts nothing.
        n_sites: open at most N sites (at most: fewer if the rest would cover nothing).
        coverage_target: share in (0, 1] of the unserved weight to reach with the fewest
            sites (or least total ``site_cost``); ``n_sites`` / ``budget`` then act as caps.
        budget, site_cost: sum of the opened sites' cost <= budget (cost 1 per site default).
        group_of_candidate, min_per_group, max_per_group: province/UGEL label per candidate
            and an int (every group) or dict {label: int} of bounds; ``None`` = no bound.
        suitability, suitability_weight: score per candidate, min-max normalised to
            s in [0, 1]; adds ``eps * s_i`` per opened site.  Default ``eps`` is a
            tie-breaker: 1e-6 x the smallest positive weight (greedy ties; the MILP only
            within its gap tolerance).  Give ``suitability_weight`` to make it a real term
            (in weight units per site at score 1).
        candidate_ids: labels used in results (default: row numbers).
        eligible: bool per candidate; False = may not be opened.
        parent_minutes, parent_capacity, parent_max_minutes: ``require_parent`` — teacher
            minutes candidate x CETPRO (sparse: stored = reachable, or dense with NaN/inf),
            max extension centres per CETPRO (int or array) and the teacher time limit.
            Candidates without an eligible parent become ineligible and capacity is
            enforced jointly (see module docstring).
        """
        pattern = coverage_pattern(coverage, max_minutes=max_minutes)
        n_cand, n_dem = pattern.shape
        w = np.asarray(demand_weight, dtype=float).ravel()
        if w.shape[0] != n_dem:
            raise UserError(f"demand_weight has {w.shape[0]} values but the coverage matrix has {n_dem} places (columns)",
                            hint="pass one weight per demand place, in the coverage matrix's column order")
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            raise UserError(f"demand_weight must be finite and >= 0; {int(bad.sum())} values are not "
                            f"(first at place {int(np.flatnonzero(bad)[0])})",
                            hint="fill missing populations before allocation (see the data-quality report)")
        w = w.copy()
        if already_covered is not None:
            ac = np.asarray(already_covered, dtype=bool).ravel()
            if ac.shape[0] != n_dem:
                raise UserError(f"already_covered has {ac.shape[0]} values, expected {n_dem} (one per place)")
            w[ac] = 0.0
        total = float(w.sum())

        if coverage_target is None and n_sites is None and budget is None:
            raise UserError("location-allocation needs n_sites, budget or coverage_target",
                            hint="set allocation.n_sites (e.g. 10) in the scenario")
        if n_sites is not None and (int(n_sites) != n_sites or n_sites < 0):
            raise UserError(f"n_sites must be a non-negative integer, got {n_sites!r}")
        if coverage_target is not None and not (0 < coverage_target <= 1):
            raise UserError(f"coverage_target must be a share in (0, 1], got {coverage_target!r}",
                            hint="e.g. 0.8 = cover 80 % of the unserved target population")

        if site_cost is None:
            cost = np.ones(n_cand)
        else:
            cost = np.broadcast_to(np.asarray(site_cost, dtype=float), (n_cand,)).copy()
            if (~np.isfinite(cost) | (cost < 0)).any():
                raise UserError("site_cost must be finite and >= 0 for every candidate")
        if budget is not None and budget < 0:
            raise UserError(f"budget must be >= 0, got {budget!r}")

        if group_of_candidate is None:
            if min_per_group or (max_per_group is not None):
                raise UserError("min_per_group / max_per_group need group_of_candidate (province or UGEL per candidate)")
            gidx = np.zeros(n_cand, dtype=int)
            glabels = np.array(["all"], dtype=object)
            gmin = np.zeros(1)
            gmax = np.full(1, np.inf)
        else:
            labels = np.asarray(group_of_candidate, dtype=object).ravel()
            if labels.shape[0] != n_cand:
                raise UserError(f"group_of_candidate has {labels.shape[0]} values, expected {n_cand} (one per candidate)")
            codes, uniques = pd.factorize(pd.Series(labels.astype(str)), sort=True)
            gidx = np.asarray(codes, dtype=int)
            glabels = np.asarray(uniques, dtype=object)
            gmin = _group_bounds(min_per_group, glabels, 0.0, "min_per_group")
            gmax = _group_bounds(max_per_group, glabels, np.inf, "max_per_group")
            if (gmin > gmax).any():
                g = int(np.flatnonzero(gmin > gmax)[0])
                raise UserError(f"min_per_group ({gmin[g]:g}) exceeds max_per_group ({gmax[g]:g}) for group {glabels[g]!r}")

        if suitability is None:
            s = np.zeros(n_cand)
            eps = 0.0
        else:
            raw = np.asarray(suitability, dtype=float).ravel()
            if raw.shape[0] != n_cand:
                raise UserError(f"suitability has {raw.shape[0]} values, expected {n_cand} (one per candidate)")
            raw = np.where(np.isfinite(raw), raw, np.nanmin(raw) if np.isfinite(raw).any() else 0.0)
            span = raw.max() - raw.min()
            s = (raw - raw.min()) / span if span > 0 else np.zeros(n_cand)
            if suitability_weight is None:
                pos = w[w > 0]
                eps = 1e-6 * (pos.min() if pos.size else 1.0)
            else:
                eps = float(suitability_weight)

        ids = list(range(n_cand)) if candidate_ids is None else list(candidate_ids)
        if len(ids) != n_cand:
            raise UserError(f"candidate_ids has {len(ids)} values, expected {n_cand}")
        elig = np.ones(n_cand, dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool).ravel().copy()
        if elig.shape[0] != n_cand:
            raise UserError(f"eligible has {elig.shape[0]} values, expected {n_cand}")

        options = cap = None
        if parent_minutes is not None:
            if parent_capacity is None:
                raise UserError("parent_minutes given without parent_capacity (max extension centres per CETPRO)",
                                hint="set allocation.max_extensions_per_cetpro")
            pm = coverage_pattern(parent_minutes, max_minutes=parent_max_minutes, name="parent_minutes")
            if pm.shape[0] != n_cand:
                raise UserError(f"parent_minutes has {pm.shape[0]} rows, expected {n_cand} (one per candidate)",
                                hint="teacher minutes must be candidates x CETPRO")
            cap = np.broadcast_to(np.asarray(parent_capacity), (pm.shape[1],)).astype(int).copy()
            options = [pm.indices[pm.indptr[i]:pm.indptr[i + 1]] for i in range(n_cand)]
            options = [o[cap[o] > 0] for o in options]
            elig &= np.array([len(o) > 0 for o in options], dtype=bool)
        return cls(pattern, w, total_weight=total, n_sites=None if n_sites is None else int(n_sites),
                   coverage_target=coverage_target, budget=budget, site_cost=cost, group_index=gidx,
                   group_labels=glabels, group_min=gmin, group_max=gmax, suitability=s, eps=eps,
                   candidate_ids=ids, eligible=elig, parent_options=options, parent_capacity=cap)

    def with_options(self, **changes: Any) -> MaximalCovering:
        """Copy with some of ``n_sites``, ``coverage_target``, ``budget``, ``group_min``,
        ``group_max`` replaced (the matrix is shared)."""
        new = copy.copy(self)
        for key, val in changes.items():
            if key not in {"n_sites", "coverage_target", "budget", "group_min", "group_max"}:
                raise TypeError(f"with_options: unknown option {key!r}")
            setattr(new, key, val)
        new._check_feasible()
        return new

    # ------------------------------------------------------------------ helpers
    @property
    def n_candidates(self) -> int:
        return self.pattern.shape[0]

    @property
    def n_places(self) -> int:
        return self.pattern.shape[1]

    @property
    def _max_sites(self) -> float:
        return float(self.n_sites) if self.n_sites is not None else math.inf

    def _has_parents(self) -> bool:
        return self.parent_options is not None

    def _check_feasible(self) -> None:
        """Raise UserError for models that are infeasible for obvious counting reasons."""
        elig_per_group = np.bincount(self.group[self.eligible], minlength=len(self.group_labels))
        need = np.maximum(self.group_min, 0)
        short = need > elig_per_group
        if short.any():
            g = int(np.flatnonzero(short)[0])
            raise UserError(f"min_per_group asks for {need[g]:g} sites in {self.group_labels[g]!r} but only "
                            f"{elig_per_group[g]} eligible candidates are there",
                            hint="lower min_per_ugel, or relax the candidate / parent-CETPRO rules")
        if need.sum() > self._max_sites:
            raise UserError(f"the minimums per group add up to {need.sum():g} sites but n_sites is {self.n_sites}",
                            hint="raise allocation.n_sites or lower allocation.min_per_ugel")
        if self.budget is not None and need.any():
            cheapest = 0.0
            for g in np.flatnonzero(need):
                c = np.sort(self.cost[self.eligible & (self.group == g)])
                cheapest += c[: int(need[g])].sum()
            if cheapest > self.budget + _TOL:
                raise UserError(f"the cheapest way to meet the minimums per group costs {cheapest:g}, "
                                f"more than the budget {self.budget:g}",
                                hint="raise allocation.budget or lower allocation.min_per_ugel")
        if self._has_parents() and need.any():
            total_cap = int(self.parent_capacity.sum())
            if need.sum() > total_cap:
                raise UserError(f"the minimums per group need {need.sum():g} sites but the CETPRO can run only "
                                f"{total_cap} extension centres in total",
                                hint="raise allocation.max_extensions_per_cetpro or lower min_per_ugel")

    def covered_weight(self, selected: Iterable[int]) -> float:
        """Unserved weight covered by a set of candidates."""
        sel = np.fromiter(selected, dtype=int)
        if sel.size == 0:
            return 0.0
        hit = np.zeros(self.n_places, dtype=bool)
        hit[self.pattern[sel].indices] = True
        return float(self.w[hit].sum())

    def _covered_mask(self, sel: np.ndarray) -> np.ndarray:
        hit = np.zeros(self.n_places, dtype=bool)
        if len(sel):
            hit[self.pattern[np.asarray(sel, dtype=int)].indices] = True
        return hit

    def _cover(self, i: int) -> np.ndarray:
        p = self.pattern
        return p.indices[p.indptr[i]:p.indptr[i + 1]]

    def _order_by_gain(self, sel: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Re-order a set greedily by marginal gain; returns (order, gains)."""
        remaining = list(int(i) for i in sel)
        covered = np.zeros(self.n_places, dtype=bool)
        order, gains = [], []
        while remaining:
            best, best_g = None, -1.0
            for i in remaining:
                c = self._cover(i)
                g = float(self.w[c[~covered[c]]].sum()) + self.eps * self.s[i]
                if g > best_g + _TOL:
                    best, best_g = i, g
            remaining.remove(best)
            c = self._cover(best)
            gains.append(float(self.w[c[~covered[c]]].sum()))
            covered[c] = True
            order.append(best)
        return np.array(order, dtype=int), np.array(gains, dtype=float)

    def _coverable_weight(self) -> float:
        hit = np.zeros(self.n_places, dtype=bool)
        hit[self.pattern[np.flatnonzero(self.eligible)].indices] = True
        return float(self.w[hit].sum())

    def _target_weight(self) -> float:
        return float(self.coverage_target) * self.total_weight - 1e-9 * max(self.total_weight, 1.0)

    def _solution(self, sel: Sequence[int], *, solver: str, status: str, bound: float, timings: dict,
                  n_swaps: int = 0, sites_lb: float = float("nan"), reduction: dict | None = None) -> CoverageSolution:
        order, gains = self._order_by_gain(sel)
        covered = self._covered_mask(order)
        obj = float(self.w[covered].sum())
        score = obj + self.eps * float(self.s[order].sum()) if len(order) else 0.0
        if self.coverage_target is not None:
            bound = float("nan")
        gap = (bound - obj) / bound if (np.isfinite(bound) and bound > 0) else 0.0 if np.isfinite(bound) else float("nan")
        return CoverageSolution(
            selected=order, selected_ids=[self.candidate_ids[i] for i in order], objective=obj, score=score,
            bound=bound, gap=max(gap, 0.0) if np.isfinite(gap) else gap, solver=solver, status=status,
            timings=timings, marginal_gains=gains, covered=covered, total_weight=self.total_weight,
            coverable_weight=self._coverable_weight(), n_swaps=n_swaps, sites_lower_bound=sites_lb,
            reduction=reduction or {})

    # ------------------------------------------------------------------ solve
    def solve(self, method: Literal["auto", "greedy", "exact"] = "auto", *, time_limit: float = 60.0,
              mip_rel_gap: float = 1e-6, swap: bool = True, max_swap_iter: int = 200) -> CoverageSolution:
        """Solve with ``method`` ("auto" | "greedy" | "exact"); see the module docstring.

        ``auto``: with ``n_sites`` (not coverage-target mode) the exact solver with
        Lagrangian pricing (it never returns less than greedy + swap: on its time limit it
        returns the better of both with HiGHS' bound).  Otherwise the problem is reduced
        and solved exactly when it has at most ``AUTO_EXACT_MAX_NNZ`` non-zeros and
        ``AUTO_EXACT_MAX_CANDIDATES`` candidates, else by greedy + swap.
        """
        if method == "greedy":
            return self.greedy(swap=swap, max_swap_iter=max_swap_iter)
        if method == "exact":
            return self.exact(time_limit=time_limit, mip_rel_gap=mip_rel_gap)
        if method != "auto":
            raise UserError(f"unknown allocation method {method!r}", hint="use 'auto', 'greedy' or 'exact'")
        if self.n_sites is not None and self.coverage_target is None:
            return self.exact(time_limit=time_limit, mip_rel_gap=mip_rel_gap)
        t0 = time.perf_counter()
        red = self.reduce()
        if red.matrix.nnz > AUTO_EXACT_MAX_NNZ or len(red.candidates) > AUTO_EXACT_MAX_CANDIDATES:
            return self.greedy(swap=swap, max_swap_iter=max_swap_iter)
        return self.exact(time_limit=time_limit, mip_rel_gap=mip_rel_gap, reduced=red,
                          reduce_time=time.perf_counter() - t0)

    # ------------------------------------------------------------------ greedy
    def greedy(self, *, swap: bool = True, max_swap_iter: int = 200) -> CoverageSolution:
        """Lazy greedy + 1-swap local search.

        **Greedy.**  Repeatedly open the feasible candidate with the largest marginal gain
        ``g_i(S) = sum_{j in cover(i), j not covered by S} w_j + eps s_i`` (with a budget:
        the largest ``g_i / c_i``).  Gains only shrink as S grows (the objective is
        monotone submodular), so stale gains in a priority queue are upper bounds and a
        popped candidate whose recomputed gain is still >= the next stale bound is the true
        maximum (Minoux's lazy greedy).  Stops at ``n_sites`` / budget / coverage target,
        or when no candidate adds anything (then fewer sites are returned).
        Guarantees: cardinality only: ``f(S) >= (1 - 1/e) OPT`` (Nemhauser, Wolsey &
        Fisher 1978).  With max per group (partition matroid) or the parent-capacity
        matching (a transversal matroid): 1/2.  With a budget the result is the better of
        the ratio greedy and the best single site, ``(1 - 1/e)/2`` (Khuller, Moss & Naor
        1999).  With min per group, slots/budget are reserved for unmet minimums, and no
        constant guarantee holds.  Coverage-target mode: the greedy set-cover bound
        ``H(max covered places)`` on the number of sites (for unit costs).

        **Swap.**  Then, repeatedly, the best exchange of one open site for one closed
        candidate that keeps all constraints and increases the objective is applied (at
        most ``max_swap_iter`` exchanges); in coverage-target mode redundant sites are
        dropped first.

        **Bound.**  For any set S and any feasible set O of at most N sites,
        ``f(O) <= f(S) + sum_{i in O} g_i(S)`` (submodularity), hence
        ``OPT <= f(S) + (sum of the N largest g_i(S))`` — with a budget, the fractional
        knapsack of the ``g_i(S)`` with costs ``c_i``; also ``OPT <= `` coverable weight
        ``+ eps N``.  The smallest value over the greedy and swapped sets is reported.
        Coverage-target mode reports instead ``sites_lower_bound``: the least k such that
        the k largest single-site coverages reach the target.
        """
        t0 = time.perf_counter()
        sel, matcher = self._lazy_greedy()
        t1 = time.perf_counter()
        bound = self._greedy_bound(sel)
        n_swaps = 0
        if swap:
            sel, n_swaps = self._swap(sel, matcher, max_iter=max_swap_iter)
            bound = min(bound, self._greedy_bound(sel))
        t2 = time.perf_counter()
        sites_lb = self._sites_lower_bound() if self.coverage_target is not None else float("nan")
        return self._solution(sel, solver="greedy+swap" if swap else "greedy", status="heuristic", bound=bound,
                              timings={"greedy_s": t1 - t0, "swap_s": t2 - t1, "total_s": t2 - t0},
                              n_swaps=n_swaps, sites_lb=sites_lb)

    def _reserve_ok(self, i: int, counts: np.ndarray, n_sel: int, used: float, sel_mask: np.ndarray) -> bool:
        """Can candidate i be added now while every group minimum stays reachable?"""
        g = self.group[i]
        if counts[g] + 1 > self.group_max[g]:
            return False
        if n_sel + 1 > self._max_sites:
            return False
        if self.budget is not None and used + self.cost[i] > self.budget + _TOL:
            return False
        unmet = np.maximum(self.group_min - counts, 0)
        if unmet[g] > 0:
            unmet[g] -= 1
        if unmet.sum() == 0:
            return True
        if n_sel + 1 + unmet.sum() > self._max_sites:
            return False
        if self.budget is not None:
            reserve = 0.0
            for h in np.flatnonzero(unmet):
                pool = self.eligible & (self.group == h) & ~sel_mask
                pool[i] = False
                reserve += np.sort(self.cost[pool])[: int(unmet[h])].sum()
            if used + self.cost[i] + reserve > self.budget + _TOL:
                return False
        return True

    def _lazy_greedy(self) -> tuple[list[int], _ParentMatcher | None]:
        w, eps_s = self.w, self.eps * self.s
        use_ratio = self.budget is not None or (self.coverage_target is not None and np.any(self.cost != 1))
        cost = np.where(self.cost > 0, self.cost, 1e-12)
        gains0 = self.A @ w + eps_s
        key0 = gains0 / cost if use_ratio else gains0
        heap = [(-key0[i], i) for i in np.flatnonzero(self.eligible)]
        heapq.heapify(heap)
        covered = np.zeros(self.n_places, dtype=bool)
        counts = np.zeros(len(self.group_labels), dtype=int)
        sel_mask = np.zeros(self.n_candidates, dtype=bool)
        sel: list[int] = []
        used = 0.0
        cov_w = 0.0
        matcher = _ParentMatcher(self.parent_options, self.parent_capacity) if self._has_parents() else None
        target = self._target_weight() if self.coverage_target is not None else None
        while heap:
            if target is not None and cov_w >= target:
                break
            negk, i = heapq.heappop(heap)
            if not self._reserve_ok(i, counts, len(sel), used, sel_mask):
                continue  # infeasibility is permanent: counts, used and slots only grow
            c = self._cover(i)
            g = float(w[c[~covered[c]]].sum()) + eps_s[i]
            k = g / cost[i] if use_ratio else g
            if heap and k < -heap[0][0] - _TOL * max(1.0, abs(k)):
                heapq.heappush(heap, (-k, i))
                continue
            if g <= _TOL:
                # nothing left to gain; only minimums can still force sites (repair below)
                heapq.heappush(heap, (-k, i))
                break
            if matcher is not None and not matcher.try_add(i):
                continue  # no parent slot now => none later (matching only gets fuller)
            sel.append(i)
            sel_mask[i] = True
            counts[self.group[i]] += 1
            used += self.cost[i]
            covered[c] = True
            cov_w += g - eps_s[i]
        cov_w = float(w[covered].sum())
        sel = self._repair_minimums(sel, matcher)
        if self.budget is not None and self.coverage_target is None and sel:
            # Khuller et al.: compare with the best feasible single site
            feas = [i for i in np.flatnonzero(self.eligible) if self.cost[i] <= self.budget + _TOL]
            if feas and not (self.group_min > 0).any():
                gains = gains0[feas]
                best = int(feas[int(np.argmax(gains))])
                if gains.max() > self.covered_weight(sel) + eps_s[sel].sum() + _TOL:
                    if matcher is None or _ParentMatcher(self.parent_options, self.parent_capacity).try_add(best):
                        sel = [best]
                        if matcher is not None:
                            matcher = _ParentMatcher(self.parent_options, self.parent_capacity)
                            matcher.try_add(best)
        if target is not None and self.covered_weight(sel) < target:
            raise UserError(
                f"coverage_target {self.coverage_target:.0%} cannot be reached: the eligible candidates cover at most "
                f"{self._coverable_weight() / self.total_weight:.1%} of the unserved weight within the limits given",
                hint="lower allocation.coverage_target, raise n_sites / budget, or widen max_minutes")
        return sel, matcher

    def _repair_minimums(self, sel: list[int], matcher: _ParentMatcher | None) -> list[int]:
        """Add the best-gain feasible sites of groups still below their minimum."""
        sel = list(sel)
        while True:
            counts = np.bincount(self.group[sel], minlength=len(self.group_labels)) if sel else \
                np.zeros(len(self.group_labels), dtype=int)
            unmet = np.flatnonzero(counts < self.group_min)
            if unmet.size == 0:
                return sel
            sel_mask = np.zeros(self.n_candidates, dtype=bool)
            sel_mask[sel] = True
            covered = self._covered_mask(np.array(sel, dtype=int))
            gains = self.A @ (self.w * ~covered) + self.eps * self.s
            used = float(self.cost[sel].sum())
            pool = np.flatnonzero(self.eligible & ~sel_mask & np.isin(self.group, unmet))
            added = False
            for i in pool[np.argsort(-gains[pool], kind="stable")]:
                if not self._reserve_ok(int(i), counts, len(sel), used, sel_mask):
                    continue
                if matcher is not None and not matcher.try_add(int(i)):
                    continue
                sel.append(int(i))
                added = True
                break
            if not added:
                g = int(unmet[0])
                raise UserError(f"cannot place {self.group_min[g]:g} site(s) in {self.group_labels[g]!r} within the "
                                f"other limits (n_sites, budget, parent-CETPRO capacity)",
                                hint="lower allocation.min_per_ugel or raise n_sites / budget / max_extensions_per_cetpro")

    def _swap(self, sel: list[int], matcher: _ParentMatcher | None, *, max_iter: int) -> tuple[list[int], int]:
        """Best-improvement 1-swap local search (and redundant-site dropping in target mode)."""
        sel = list(sel)
        w, A, eps_s = self.w, self.A, self.eps * self.s
        target_mode = self.coverage_target is not None
        target = self._target_weight() if target_mode else None
        n_swaps = 0
        if target_mode:  # drop redundant sites (largest cost first)
            for i in sorted(sel, key=lambda k: -self.cost[k]):
                rest = [k for k in sel if k != i]
                counts = np.bincount(self.group[rest], minlength=len(self.group_labels))
                if (counts >= self.group_min).all() and self.covered_weight(rest) >= target:
                    sel = rest
                    if matcher is not None:
                        matcher.remove(i)
        bar = tqdm(total=max_iter, desc="swap", disable=_no_tty(), leave=False)
        while n_swaps < max_iter and sel:
            cnt = np.asarray(self.pattern[np.array(sel)].sum(axis=0)).ravel().astype(int)
            base = A @ (w * (cnt == 0))
            counts = np.bincount(self.group[sel], minlength=len(self.group_labels))
            used = float(self.cost[sel].sum())
            closed = self.eligible.copy()
            closed[sel] = False
            moves: list[tuple[float, int, int]] = []
            # weight only s covers (lost when s closes), one column per open site
            uniq_rows, uniq_cols = [], []
            for col, s_ in enumerate(sel):
                c = self._cover(s_)
                u = c[cnt[c] == 1]
                uniq_rows.append(u)
                uniq_cols.append(np.full(len(u), col))
            ur = np.concatenate(uniq_rows)
            uc = np.concatenate(uniq_cols)
            loss = np.bincount(uc, weights=w[ur], minlength=len(sel))
            Wu = sp.csr_array((w[ur], (ur, uc)), shape=(self.n_places, len(sel)))
            regained = (A @ Wu).toarray()  # regained[c, s]: s-only weight that c also covers
            for col, s_ in enumerate(sel):
                cov_delta = base + regained[:, col] - loss[col]
                delta = cov_delta + eps_s - eps_s[s_]
                ok = closed.copy()
                g = self.group[s_]
                other = self.group != g
                ok &= ~other | ((counts[self.group] + 1 <= self.group_max[self.group]) & (counts[g] - 1 >= self.group_min[g]))
                if self.budget is not None:
                    ok &= used - self.cost[s_] + self.cost <= self.budget + _TOL
                if target_mode:
                    ok &= self.cost <= self.cost[s_]
                    delta = cov_delta
                ok &= delta > _TOL * max(1.0, self.total_weight)
                if not ok.any():
                    continue
                cand = np.flatnonzero(ok)
                k = 1 if matcher is None else 5
                top = cand[np.argsort(-delta[cand], kind="stable")[:k]]
                moves.extend((float(delta[c_]), s_, int(c_)) for c_ in top)
            moves.sort(key=lambda m: -m[0])
            applied = False
            for _d, s_, c_ in moves:
                if matcher is not None:
                    trial = matcher.copy()
                    trial.remove(s_)
                    if not trial.try_add(c_):
                        continue
                    matcher.__dict__.update(trial.__dict__)
                sel[sel.index(s_)] = c_
                n_swaps += 1
                bar.update(1)
                applied = True
                break
            if not applied:
                break
        bar.close()
        return sel, n_swaps

    def _greedy_bound(self, sel: Sequence[int]) -> float:
        """Upper bound on the optimum from the marginal gains at ``sel`` (see :meth:`greedy`)."""
        if self.coverage_target is not None:
            return float("nan")
        sel = np.asarray(sel, dtype=int)
        covered = self._covered_mask(sel)
        f_s = float(self.w[covered].sum()) + self.eps * float(self.s[sel].sum())
        gains = self.A @ (self.w * ~covered) + self.eps * self.s
        gains = gains[self.eligible]
        costs = self.cost[self.eligible]
        n_max = self._max_sites
        trivial = self._coverable_weight() + self.eps * (min(n_max, self.n_candidates))
        if self.budget is not None:
            order = np.argsort(-(gains / np.where(costs > 0, costs, 1e-12)), kind="stable")
            g, c = gains[order], costs[order]
            cum_c = np.cumsum(c)
            full = cum_c <= self.budget + _TOL
            extra = float(g[full].sum())
            k = int(full.sum())
            if k < len(g) and c[k] > 0:
                extra += g[k] * (self.budget - (cum_c[k - 1] if k else 0.0)) / c[k]
            elif k < len(g):
                extra += float(g[k:][c[k:] == 0].sum())
            if np.isfinite(n_max):
                extra = min(extra, float(np.sort(gains)[::-1][: int(n_max)].sum()))
        else:
            extra = float(np.sort(gains)[::-1][: int(min(n_max, len(gains)))].sum())
        return min(f_s + extra, trivial)

    def _sites_lower_bound(self) -> float:
        """Least k with the k largest single-site coverages >= the target (unit costs)."""
        single = np.sort((self.A @ self.w)[self.eligible])[::-1]
        cum = np.cumsum(single)
        k = int(np.searchsorted(cum, self._target_weight())) + 1
        return float(min(k, len(single)))

    # ------------------------------------------------------------------ reduction
    def _dominance_allowed(self) -> bool:
        return not (self.group_min > 0).any() and not self._has_parents()

    def reduce(self) -> ReducedProblem:
        """Reduce the problem without changing its optimum value.

        1. Ineligible candidates are removed.
        2. Places with weight 0 (already covered) or covered by no eligible candidate are
           removed (their contribution is a constant 0).
        3. Places with identical sets of covering candidates are merged (weights summed):
           their ``y_j`` are interchangeable.
        4. Dominated candidates are removed: i is dominated by k when cover(i) is a subset
           of cover(k), both are in the same group, ``c_k <= c_i`` and ``s_k >= s_i``
           (ties broken by index so that exactly one of equal candidates stays).  Any
           solution with i can swap i for k (or drop i if k is open) keeping every
           ``<=`` constraint and not lowering the objective.  This is *not* valid with a
           minimum per group (dropping i may break the minimum) nor with parent-CETPRO
           capacity (i and k may need different parents), so step 4 is skipped then.
        """
        stats: dict[str, int] = {"candidates": self.n_candidates, "places": self.n_places}
        cand = np.flatnonzero(self.eligible)
        P = self.pattern[cand]
        colcount = np.bincount(P.indices, minlength=self.n_places)
        keep_places = np.flatnonzero((self.w > 0) & (colcount > 0))
        stats["places_zero_or_uncoverable"] = self.n_places - len(keep_places)
        Pc = sp.csc_array(P[:, keep_places])
        Pc.sort_indices()
        key_to_col: dict[bytes, int] = {}
        col_of = np.empty(len(keep_places), dtype=int)
        idx, ptr = Pc.indices, Pc.indptr
        for j in range(len(keep_places)):
            key = idx[ptr[j]:ptr[j + 1]].tobytes()
            col_of[j] = key_to_col.setdefault(key, len(key_to_col))
        n_cols = len(key_to_col)
        weights = np.bincount(col_of, weights=self.w[keep_places], minlength=n_cols)
        first = np.full(n_cols, -1)
        first[col_of[::-1]] = np.arange(len(keep_places))[::-1]
        R = sp.csr_array(Pc[:, first].astype(bool))
        stats["places_merged"] = len(keep_places) - n_cols
        column_of_place = np.full(self.n_places, -1)
        column_of_place[keep_places] = col_of
        if self._dominance_allowed():
            R, cand, n_dom = self._remove_dominated(R, cand)
            stats["candidates_dominated"] = n_dom
        else:
            stats["candidates_dominated"] = 0
        stats["candidates_ineligible"] = int((~self.eligible).sum())
        stats["reduced_candidates"] = len(cand)
        stats["reduced_places"] = n_cols
        stats["reduced_nnz"] = int(R.nnz)
        return ReducedProblem(matrix=sp.csr_array(R), weights=weights, candidates=cand,
                              column_of_place=column_of_place, stats=stats)

    def _remove_dominated(self, R: sp.csr_array, cand: np.ndarray) -> tuple[sp.csr_array, np.ndarray, int]:
        Ri = sp.csr_array((np.ones(R.nnz, dtype=np.int32), R.indices, R.indptr), shape=R.shape)
        size = np.diff(Ri.indptr)
        n = len(cand)
        dominated = np.zeros(n, dtype=bool)
        grp, cost, s = self.group[cand], self.cost[cand], self.eps * self.s[cand]
        # candidates covering nothing: dropped unless their suitability term counts
        if self.eps == 0:
            dominated |= size == 0
        C = sp.coo_array(Ri @ Ri.T)
        i, k, v = C.row, C.col, C.data
        m = (i != k) & (v == size[i]) & (size[i] > 0) & (grp[i] == grp[k]) & (cost[k] <= cost[i]) & (s[k] >= s[i])
        i, k = i[m], k[m]
        strictly = (size[k] > size[i]) | (cost[k] < cost[i]) | (s[k] > s[i])
        # equal candidates: the lower index survives
        m2 = strictly | (k < i)
        dominated[i[m2]] = True
        keep = ~dominated
        return sp.csr_array(R[keep]), cand[keep], int(dominated.sum())

    # ------------------------------------------------------------------ exact
    def exact(self, *, time_limit: float = 60.0, mip_rel_gap: float = 1e-6, reduced: ReducedProblem | None = None,
              reduce_time: float | None = None, pricing: bool = True) -> CoverageSolution:
        """Exact MILP (formulation in the module docstring) solved by HiGHS through
        ``scipy.optimize.milp``.  Stops at ``time_limit`` seconds or relative gap
        ``mip_rel_gap``; status "optimal" or "time_limit", ``bound``/``gap`` from HiGHS'
        dual bound.  Infeasible models raise :class:`UserError`.

        With ``n_sites`` set (any other constraints allowed, not coverage-target mode) and
        ``pricing=True`` the MILP is first solved on a small pool of candidates and the
        pool is proven sufficient by **Lagrangian pricing / variable fixing**: relax the
        coverage rows with multipliers ``lambda_j in [0, w_j]`` (and drop every constraint
        except ``sum x <= N``)::

            L(lambda) = sum_j max(0, w_j - lambda_j) + sum of the N largest r_i,
            r_i = eps s_i + sum_{j in cover(i)} lambda_j  >=  OPT.

        Forcing ``x_i = 1`` gives ``UB_i = L - r_(N) + r_i`` (``r_(N)`` = N-th largest) when
        i is not among the N largest.  With ``LB`` the best known feasible score, every
        candidate with ``UB_i < LB`` is in no optimal solution.  ``lambda`` are the LP duals
        of the pool's relaxation (places no pool candidate covers get ``lambda_j = w_j``,
        which is exactly LP column-generation pricing).  Candidates that cannot be fixed
        join the pool and the loop repeats; when all of them are in the pool, the pool's
        MILP optimum is the global optimum.  If the pool grows too much (the bound is
        loose, e.g. with binding group/budget constraints) the full reduced MILP
        (:meth:`reduce`) is solved instead.
        """
        t0 = time.perf_counter()
        if pricing and reduced is None and self.n_sites is not None and self.coverage_target is None:
            sol = self._exact_by_pricing(time_limit=time_limit, mip_rel_gap=mip_rel_gap)
            if sol is not None:
                return sol
        left = max(time_limit - (time.perf_counter() - t0), 1.0)
        sol = self._exact_full(time_limit=left, mip_rel_gap=mip_rel_gap, reduced=reduced, reduce_time=reduce_time)
        if sol is None:
            heur = self.greedy(swap=True)
            heur.solver = "exact (HiGHS, no solution in time limit) -> greedy+swap"
            heur.status = "time_limit"
            heur.timings["total_s"] = time.perf_counter() - t0
            return heur
        if sol.status != "optimal" and self.coverage_target is None:
            # time limit: keep HiGHS' bound but never return less than the greedy + swap answer
            heur = self.greedy(swap=True)
            if heur.score > sol.score:
                bound = min(sol.bound, heur.bound)
                heur.solver = "exact (HiGHS, time limit) -> greedy+swap incumbent"
                heur.status = "time_limit"
                heur.bound = max(bound, heur.score)
                heur.gap = max((heur.bound - heur.score) / heur.bound, 0.0) if heur.bound > 0 else 0.0
                heur.timings = dict(sol.timings, greedy_s=heur.timings["total_s"],
                                    total_s=time.perf_counter() - t0)
                heur.reduction = sol.reduction
                return heur
        sol.timings["total_s"] = time.perf_counter() - t0
        return sol

    def _restricted(self, pool: np.ndarray) -> MaximalCovering:
        """Copy whose eligible candidates are ``pool`` (bool mask) — no feasibility re-check."""
        sub = copy.copy(self)
        sub.eligible = self.eligible & pool
        return sub

    def _lp_duals(self, red: ReducedProblem) -> tuple[np.ndarray, float]:
        """Duals ``(lambda, mu)`` of the coverage rows and of ``sum x <= N`` in the
        cardinality-only LP relaxation of ``red`` (maximise w y + eps s x, y <= A^T x,
        sum x <= N, 0 <= x, y <= 1)."""
        from scipy.optimize import linprog
        R, wr, cand = red.matrix, red.weights, red.candidates
        nc, nd = R.shape
        A_ub = sp.vstack([sp.hstack([-sp.csr_array(R.T.astype(float)), sp.eye_array(nd, format="csr")]),
                          sp.hstack([sp.csr_array(np.ones((1, nc))), sp.csr_array((1, nd))])], format="csr")
        b_ub = np.concatenate([np.zeros(nd), [float(self.n_sites)]])
        c = -np.concatenate([self.eps * self.s[cand], wr])
        res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=(0, 1), method="highs")
        if res.status != 0:
            return wr.copy(), 0.0
        return np.clip(-res.ineqlin.marginals[:nd], 0.0, wr), float(-res.ineqlin.marginals[nd])

    def _lagrangian(self, pool: np.ndarray, red: ReducedProblem) -> tuple[np.ndarray, float, float]:
        """Multipliers from the pool LP extended to every place; returns ``(r, L, mu)``."""
        lam_col, mu = self._restricted(pool)._lp_duals(red)
        lam = self.w.copy()  # places no pool candidate covers: lambda = w (column-generation pricing)
        col = red.column_of_place
        inpool = col >= 0
        tot = red.weights[col[inpool]]
        share = np.divide(self.w[inpool], tot, out=np.zeros(int(inpool.sum())), where=tot > 0)
        lam[inpool] = lam_col[col[inpool]] * share
        r = np.where(self.eligible, self.A @ lam + self.eps * self.s, -np.inf)
        top = np.partition(r[self.eligible], -int(self.n_sites))[-int(self.n_sites):]
        L = float(np.maximum(self.w - lam, 0.0).sum() + top.sum())
        return r, L, mu

    def _exact_by_pricing(self, *, time_limit: float, mip_rel_gap: float, max_lp_rounds: int = 50,
                          max_pool: int = 2500) -> CoverageSolution | None:
        """Pool MILP + Lagrangian pricing (see :meth:`exact`); None = fall back to the full MILP."""
        t0 = time.perf_counter()
        N = int(self.n_sites)
        elig = self.eligible
        if N == 0 or elig.sum() <= N:
            return None
        heur = self.greedy(swap=True)
        best_sel, LB = list(heur.selected), heur.score
        tol = 1e-9 * max(abs(LB), 1.0)
        single = np.where(elig, self.A @ self.w + self.eps * self.s, -np.inf)
        add = 2 * N + 20
        pool = np.zeros(self.n_candidates, dtype=bool)
        pool[best_sel] = True
        pool[np.argsort(-single, kind="stable")[:add]] = True
        pool &= elig
        t_lp = t_milp = 0.0
        rounds = 0
        # 1. column generation on the LP relaxation
        while True:
            rounds += 1
            ta = time.perf_counter()
            red = self._restricted(pool).reduce()
            r, L, mu = self._lagrangian(pool, red)
            t_lp += time.perf_counter() - ta
            viol = np.flatnonzero(elig & ~pool & (r > mu + tol))
            if viol.size == 0 or rounds >= max_lp_rounds or pool.sum() > max_pool:
                break
            pool[viol[np.argsort(-r[viol], kind="stable")[:add]]] = True
            if time.perf_counter() - t0 > time_limit:
                return None
        # 2. MILP on the pool, then prove that no other candidate can be in an optimum
        for _ in range(3):
            ta = time.perf_counter()
            remaining = time_limit - (ta - t0)
            if remaining <= 0 or pool.sum() > max_pool:
                return None
            sub = self._restricted(pool)
            red = sub.reduce()
            sol = sub._exact_full(time_limit=remaining, mip_rel_gap=mip_rel_gap, reduced=red)
            t_milp += time.perf_counter() - ta
            if sol is None or sol.status != "optimal":
                return None
            if sol.score > LB:
                best_sel, LB = list(sol.selected), sol.score
            r_n = np.partition(r[elig], -N)[-N]
            keep = elig & (r >= r_n - (L - LB) - tol)
            new = keep & ~pool
            if not new.any():
                final = self._solution(best_sel, solver="exact (HiGHS, Lagrangian pricing)", status="optimal",
                                       bound=max(min(sol.bound, L), LB), timings={})
                final.gap = max((final.bound - final.score) / final.bound, 0.0) if final.bound > 0 else 0.0
                final.timings = {"greedy_s": heur.timings["total_s"], "lp_pricing_s": t_lp, "milp_s": t_milp,
                                 "total_s": time.perf_counter() - t0}
                final.reduction = dict(red.stats, lp_rounds=rounds, pool=int(pool.sum()),
                                       fixed_by_lagrangian=int(elig.sum() - keep.sum()), lagrangian_bound=L)
                return final
            pool |= keep
        return None

    def _exact_full(self, *, time_limit: float, mip_rel_gap: float, reduced: ReducedProblem | None = None,
                    reduce_time: float | None = None) -> CoverageSolution | None:
        """The MILP on the whole reduced problem (see :meth:`exact`); None if the time
        limit passed before HiGHS found any feasible solution."""
        t0 = time.perf_counter()
        red = self.reduce() if reduced is None else reduced
        t1 = time.perf_counter()
        t_reduce = (t1 - t0) if reduced is None else (reduce_time or 0.0)
        R, wr, cand = red.matrix, red.weights, red.candidates
        nc, nd = R.shape
        target_mode = self.coverage_target is not None
        # variables: x (nc) | y (nd) | z (pairs, only with parents)
        pairs_i = pairs_k = np.zeros(0, dtype=int)
        if self._has_parents():
            lens = [len(self.parent_options[i]) for i in cand]
            pairs_i = np.repeat(np.arange(nc), lens)
            pairs_k = np.concatenate([self.parent_options[i] for i in cand]) if nc else np.zeros(0, dtype=int)
        nz = len(pairs_i)
        nv = nc + nd + nz
        rows: list[sp.csr_array] = []
        lo: list[np.ndarray] = []
        hi: list[np.ndarray] = []

        def block(x_part=None, y_part=None, z_part=None, n_rows=0):
            parts = [x_part if x_part is not None else sp.csr_array((n_rows, nc)),
                     y_part if y_part is not None else sp.csr_array((n_rows, nd)),
                     z_part if z_part is not None else sp.csr_array((n_rows, nz))]
            return sp.hstack(parts, format="csr")

        # y_j - sum_i a_ij x_i <= 0
        rows.append(block(-sp.csr_array(R.T.astype(float)), sp.eye_array(nd, format="csr"), n_rows=nd))
        lo.append(np.full(nd, -np.inf))
        hi.append(np.zeros(nd))
        if self.n_sites is not None:
            rows.append(block(sp.csr_array(np.ones((1, nc))), n_rows=1))
            lo.append(np.array([-np.inf]))
            hi.append(np.array([float(self.n_sites)]))
        if self.budget is not None:
            rows.append(block(sp.csr_array(self.cost[cand][None, :]), n_rows=1))
            lo.append(np.array([-np.inf]))
            hi.append(np.array([float(self.budget)]))
        gmask = (self.group_min > 0) | np.isfinite(self.group_max)
        if gmask.any():
            gs = np.flatnonzero(gmask)
            inrow = np.isin(self.group[cand], gs)
            G = sp.csr_array((np.ones(int(inrow.sum())),
                              (np.searchsorted(gs, self.group[cand][inrow]), np.flatnonzero(inrow))), shape=(len(gs), nc))
            rows.append(block(G, n_rows=len(gs)))
            lo.append(self.group_min[gs])
            hi.append(self.group_max[gs])
        if target_mode:
            rows.append(block(y_part=sp.csr_array(wr[None, :]), n_rows=1))
            lo.append(np.array([self._target_weight() - 0.0]))
            hi.append(np.array([np.inf]))
        if nz:
            # sum_k z_ik - x_i = 0
            Zi = sp.csr_array((np.ones(nz), (pairs_i, np.arange(nz))), shape=(nc, nz))
            rows.append(block(-sp.eye_array(nc, format="csr"), z_part=Zi, n_rows=nc))
            lo.append(np.zeros(nc))
            hi.append(np.zeros(nc))
            n_par = len(self.parent_capacity)
            Zk = sp.csr_array((np.ones(nz), (pairs_k, np.arange(nz))), shape=(n_par, nz))
            rows.append(block(z_part=Zk, n_rows=n_par))
            lo.append(np.full(n_par, -np.inf))
            hi.append(self.parent_capacity.astype(float))
        Amat = sp.vstack(rows, format="csr")
        if target_mode:
            W = max(float(wr.sum()), 1e-12)
            c = np.concatenate([self.cost[cand], -0.5 * wr / W, np.zeros(nz)])
        else:
            c = -np.concatenate([self.eps * self.s[cand], wr, np.zeros(nz)])
        integrality = np.concatenate([np.ones(nc), np.zeros(nd + nz)])
        t2 = time.perf_counter()
        res = milp(c, constraints=LinearConstraint(Amat, np.concatenate(lo), np.concatenate(hi)),
                   integrality=integrality, bounds=Bounds(np.zeros(nv), np.ones(nv)),
                   options={"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap), "disp": False, "presolve": bool(R.nnz < 200_000)})
        t3 = time.perf_counter()
        if res.status == 2:
            raise UserError("the location-allocation model is infeasible: no set of sites meets all the limits "
                            "(n_sites, budget, min/max per group, coverage target, parent-CETPRO capacity)",
                            hint="relax allocation.min_per_ugel / coverage_target or raise n_sites / budget / "
                                 "max_extensions_per_cetpro")
        if res.x is None:
            return None  # time limit without an incumbent: the caller falls back to greedy
        x = res.x[:nc] > 0.5
        sel = cand[x]
        status = "optimal" if res.status == 0 else "time_limit"
        if target_mode:
            bound = float("nan")
            lb = float(getattr(res, "mip_dual_bound", np.nan))
            sites_lb = math.ceil(lb - 1e-6) if np.isfinite(lb) else float("nan")
        else:
            dual = getattr(res, "mip_dual_bound", None)
            bound = -float(dual) if dual is not None and np.isfinite(dual) else -float(res.fun)
            sites_lb = float("nan")
        sol = self._solution(sel, solver="exact (HiGHS)", status=status, bound=bound,
                             timings={"reduce_s": t_reduce, "build_s": t2 - t1, "solve_s": t3 - t2,
                                      "total_s": t_reduce + (t3 - t1)},
                             sites_lb=sites_lb, reduction=red.stats)
        if not target_mode:
            sol.bound = max(sol.bound, sol.score)  # HiGHS bound is on the score; never below the incumbent
            sol.gap = max((sol.bound - sol.score) / sol.bound, 0.0) if sol.bound > 0 else 0.0
        return sol

    # ------------------------------------------------------------------ curve
    def coverage_curve(self, n_max: int, *, exact: bool = False, time_limit: float = 30.0) -> pd.DataFrame:
        """Covered weight for N = 1..n_max.

        The greedy column comes from one greedy run (nested sets, cardinality only: the
        budget, coverage target and group minimums are ignored; eligibility, parent
        capacity and group maximums are kept).  With ``exact=True`` each N is also solved
        exactly (same relaxation of constraints), adding ``exact_covered`` and
        ``greedy_gap = 1 - greedy / exact``.
        """
        base = self.with_options(n_sites=int(n_max), coverage_target=None, budget=None,
                                 group_min=np.zeros_like(self.group_min))
        g = base.greedy(swap=False)
        n = len(g.selected)
        cum = np.cumsum(g.marginal_gains)
        tw = self.total_weight if self.total_weight > 0 else 1.0
        df = pd.DataFrame({"n_sites": np.arange(1, n + 1), "candidate_id": g.selected_ids,
                           "marginal_gain": g.marginal_gains, "greedy_covered": cum, "greedy_share": cum / tw})
        if exact:
            red = base.reduce()
            vals = []
            for k in tqdm(range(1, n + 1), desc="exact curve", disable=_no_tty(), leave=False):
                vals.append(base.with_options(n_sites=k).exact(time_limit=time_limit, reduced=red).objective)
            df["exact_covered"] = vals
            df["exact_share"] = df["exact_covered"] / tw
            df["greedy_gap"] = 1.0 - df["greedy_covered"] / df["exact_covered"].where(df["exact_covered"] > 0)
        return df


# --------------------------------------------------------------------------- parents


@dataclass
class ParentAssignment:
    """Parent CETPRO per selected site.

    ``table`` columns: ``candidate``, ``candidate_id``, ``parent`` (index, -1 = none),
    ``parent_id``, ``teacher_minutes`` (NaN = none), ``status`` ("assigned",
    "no_parent_within_limit", "parents_full").
    """

    table: pd.DataFrame
    total_minutes: float

    @property
    def unassigned(self) -> pd.DataFrame:
        return self.table[self.table["status"] != "assigned"]


def _minutes_dense(teacher_minutes: Any, rows: np.ndarray, max_minutes: float) -> np.ndarray:
    """Rows of a teacher-minutes matrix as dense floats, NaN where not reachable / > max."""
    if sp.issparse(teacher_minutes):
        m = sp.csr_array(teacher_minutes)
        out = np.full((len(rows), m.shape[1]), np.nan)
        for r, i in enumerate(rows):
            a, b = m.indptr[i], m.indptr[i + 1]
            out[r, m.indices[a:b]] = m.data[a:b]
    else:
        out = np.asarray(teacher_minutes, dtype=float)[rows].copy()
    with np.errstate(invalid="ignore"):
        out[~(np.isfinite(out) & (out <= max_minutes))] = np.nan
    return out


def assign_parents(
    selected: Sequence[int] | np.ndarray,
    teacher_minutes: Any,
    capacity: int | Sequence[int] | np.ndarray,
    max_minutes: float,
    *,
    candidate_ids: Sequence[Any] | None = None,
    parent_ids: Sequence[Any] | None = None,
) -> ParentAssignment:
    """Assign each selected site a parent CETPRO.

    ``teacher_minutes`` is candidates x CETPRO (dense, NaN/inf = unreachable, or sparse
    with stored entries = reachable); ``capacity[k]`` the extension centres CETPRO k may
    still run.  Solves ``min sum_ik t_ik z_ik + M * (unassigned sites)`` subject to each
    site having at most one parent with ``t_ik <= max_minutes`` and ``sum_i z_ik <=
    capacity_k``: first as many sites as possible are assigned, then total teacher
    minutes is minimal.  Solved exactly with ``scipy.optimize.linear_sum_assignment`` on
    the matrix expanded to one column per CETPRO slot plus one "no parent" column per
    site (cost M > n_sites x max_minutes).
    """
    sel = np.asarray(selected, dtype=int).ravel()
    n_par = teacher_minutes.shape[1]
    cap = np.broadcast_to(np.asarray(capacity), (n_par,)).astype(int)
    if (cap < 0).any():
        raise UserError("parent capacity (max extension centres per CETPRO) must be >= 0")
    if parent_ids is not None and len(parent_ids) != n_par:
        raise UserError(f"parent_ids has {len(parent_ids)} values, expected {n_par} (one per CETPRO column)")
    T = _minutes_dense(teacher_minutes, sel, max_minutes)
    n = len(sel)
    reach = np.isfinite(T)
    slots = np.repeat(np.arange(n_par), np.minimum(cap, n))
    big = (float(np.nanmax(T)) if reach.any() else 1.0) * (n + 1) + 1.0
    if n and len(slots):
        cost = T[:, slots]
        cost = np.where(np.isfinite(cost), cost, 10 * big)
    else:
        cost = np.zeros((n, 0))
    full = np.hstack([cost, np.where(np.eye(n, dtype=bool), big, 10 * big)]) if n else np.zeros((0, 0))
    parent = np.full(n, -1)
    if n:
        r, c = linear_sum_assignment(full)
        for ri, ci in zip(r, c):
            if ci < len(slots) and full[ri, ci] < big:
                parent[ri] = slots[ci]
    minutes = np.array([T[r, p] if p >= 0 else np.nan for r, p in enumerate(parent)], dtype=float)
    status = np.where(parent >= 0, "assigned", np.where(reach.any(axis=1), "parents_full", "no_parent_within_limit"))
    ids = [candidate_ids[i] for i in sel] if candidate_ids is not None else list(sel)
    pids = [parent_ids[p] if (parent_ids is not None and p >= 0) else (int(p) if p >= 0 else None) for p in parent]
    table = pd.DataFrame({"candidate": sel, "candidate_id": ids, "parent": parent, "parent_id": pids,
                          "teacher_minutes": minutes, "status": status})
    return ParentAssignment(table=table, total_minutes=float(np.nansum(minutes)))
