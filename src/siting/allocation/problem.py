"""The covering problem as validated, immutable data (:class:`CoveringProblem`).

Every solver (:mod:`.greedy`, :mod:`.reduce`, :mod:`.milp`) is a function of a
:class:`CoveringProblem`; :class:`~siting.allocation.MaximalCovering` is the facade that
builds one with :meth:`CoveringProblem.from_coverage` and calls them.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import UserError

TOL = 1e-9


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
        known = {str(label) for label in labels}
        for key, val in spec.items():
            if str(key) not in known:
                raise UserError(f"{name}: group {key!r} has no candidate",
                                hint=f"groups present: {', '.join(sorted(known))}")
            out[[str(label) == str(key) for label in labels]] = float(val)
        return out
    out[:] = float(spec)
    return out


# --------------------------------------------------------------------------- validation helpers


def _demand(demand_weight: Any, already_covered: Any, n_dem: int) -> np.ndarray:
    """Weights ``w_j`` (finite, >= 0), 0 for the places already covered."""
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
    return w


def _check_mode(n_sites: int | None, coverage_target: float | None, budget: float | None) -> None:
    if coverage_target is None and n_sites is None and budget is None:
        raise UserError("location-allocation needs n_sites, budget or coverage_target",
                        hint="set allocation.n_sites (e.g. 10) in the scenario")
    if n_sites is not None and (int(n_sites) != n_sites or n_sites < 0):
        raise UserError(f"n_sites must be a non-negative integer, got {n_sites!r}")
    if coverage_target is not None and not (0 < coverage_target <= 1):
        raise UserError(f"coverage_target must be a share in (0, 1], got {coverage_target!r}",
                        hint="e.g. 0.8 = cover 80 % of the unserved target population")
    if budget is not None and budget < 0:
        raise UserError(f"budget must be >= 0, got {budget!r}")


def _costs(site_cost: Any, n_cand: int) -> np.ndarray:
    if site_cost is None:
        return np.ones(n_cand)
    cost = np.broadcast_to(np.asarray(site_cost, dtype=float), (n_cand,)).copy()
    if (~np.isfinite(cost) | (cost < 0)).any():
        raise UserError("site_cost must be finite and >= 0 for every candidate")
    return cost


def _groups(group_of_candidate: Any, min_per_group: Any, max_per_group: Any, n_cand: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(group index per candidate, labels, min per group, max per group)``."""
    if group_of_candidate is None:
        if min_per_group or (max_per_group is not None):
            raise UserError("min_per_group / max_per_group need group_of_candidate (province or UGEL per candidate)")
        return np.zeros(n_cand, dtype=int), np.array(["all"], dtype=object), np.zeros(1), np.full(1, np.inf)
    labels = np.asarray(group_of_candidate, dtype=object).ravel()
    if labels.shape[0] != n_cand:
        raise UserError(f"group_of_candidate has {labels.shape[0]} values, expected {n_cand} (one per candidate)")
    codes, uniques = pd.factorize(pd.Series(labels.astype(str)), sort=True)
    glabels = np.asarray(uniques, dtype=object)
    gmin = _group_bounds(min_per_group, glabels, 0.0, "min_per_group")
    gmax = _group_bounds(max_per_group, glabels, np.inf, "max_per_group")
    if (gmin > gmax).any():
        g = int(np.flatnonzero(gmin > gmax)[0])
        raise UserError(f"min_per_group ({gmin[g]:g}) exceeds max_per_group ({gmax[g]:g}) for group {glabels[g]!r}")
    return np.asarray(codes, dtype=int), glabels, gmin, gmax


def _suitability(suitability: Any, suitability_weight: float | None, w: np.ndarray, n_cand: int
                 ) -> tuple[np.ndarray, float]:
    """``(s in [0, 1] per candidate, eps)``: min-max normalised score and its weight."""
    if suitability is None:
        return np.zeros(n_cand), 0.0
    raw = np.asarray(suitability, dtype=float).ravel()
    if raw.shape[0] != n_cand:
        raise UserError(f"suitability has {raw.shape[0]} values, expected {n_cand} (one per candidate)")
    raw = np.where(np.isfinite(raw), raw, np.nanmin(raw) if np.isfinite(raw).any() else 0.0)
    span = raw.max() - raw.min()
    s = (raw - raw.min()) / span if span > 0 else np.zeros(n_cand)
    if suitability_weight is not None:
        return s, float(suitability_weight)
    pos = w[w > 0]
    return s, 1e-6 * (pos.min() if pos.size else 1.0)


def _identity(candidate_ids: Any, eligible: Any, n_cand: int) -> tuple[list, np.ndarray]:
    ids = list(range(n_cand)) if candidate_ids is None else list(candidate_ids)
    if len(ids) != n_cand:
        raise UserError(f"candidate_ids has {len(ids)} values, expected {n_cand}")
    elig = np.ones(n_cand, dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool).ravel().copy()
    if elig.shape[0] != n_cand:
        raise UserError(f"eligible has {elig.shape[0]} values, expected {n_cand}")
    return ids, elig


def _parents(parent_minutes: Any, parent_capacity: Any, parent_max_minutes: float | None, n_cand: int
             ) -> tuple[list[np.ndarray] | None, np.ndarray | None]:
    """Eligible parents per candidate (those with capacity) and the capacity per CETPRO."""
    if parent_minutes is None:
        return None, None
    if parent_capacity is None:
        raise UserError("parent_minutes given without parent_capacity (max extension centres per CETPRO)",
                        hint="set allocation.max_extensions_per_cetpro")
    pm = coverage_pattern(parent_minutes, max_minutes=parent_max_minutes, name="parent_minutes")
    if pm.shape[0] != n_cand:
        raise UserError(f"parent_minutes has {pm.shape[0]} rows, expected {n_cand} (one per candidate)",
                        hint="teacher minutes must be candidates x CETPRO")
    cap = np.broadcast_to(np.asarray(parent_capacity), (pm.shape[1],)).astype(int).copy()
    options = [pm.indices[pm.indptr[i]:pm.indptr[i + 1]] for i in range(n_cand)]
    return [o[cap[o] > 0] for o in options], cap


def _readonly(*arrays: np.ndarray | None) -> None:
    for a in arrays:
        if a is not None:
            a.flags.writeable = False


# --------------------------------------------------------------------------- the problem


@dataclass(frozen=True, eq=False)
class CoveringProblem:
    """Validated data of a maximal covering problem (formulation:
    :class:`~siting.allocation.MaximalCovering`).  Arrays are read-only; change options
    with :meth:`with_options`, which returns a checked copy sharing the matrix."""

    pattern: sp.csr_array  # candidates x places, bool: a_ij
    A: sp.csr_array  # the same pattern as float ones (for products)
    w: np.ndarray  # demand weight per place (0 = already covered)
    total_weight: float  # unserved weight
    n_sites: int | None
    coverage_target: float | None
    budget: float | None
    cost: np.ndarray  # site cost per candidate
    group: np.ndarray  # group index per candidate
    group_labels: np.ndarray
    group_min: np.ndarray
    group_max: np.ndarray
    s: np.ndarray  # normalised suitability per candidate
    eps: float  # weight of the suitability term
    candidate_ids: list
    eligible: np.ndarray  # bool per candidate
    parent_options: list[np.ndarray] | None  # eligible parent CETPRO per candidate
    parent_capacity: np.ndarray | None  # extension centres each CETPRO may still run

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
    ) -> CoveringProblem:
        """Validate the inputs (parameters: :meth:`siting.allocation.MaximalCovering.from_coverage`)."""
        pattern = coverage_pattern(coverage, max_minutes=max_minutes)
        n_cand, n_dem = pattern.shape
        w = _demand(demand_weight, already_covered, n_dem)
        _check_mode(n_sites, coverage_target, budget)
        cost = _costs(site_cost, n_cand)
        gidx, glabels, gmin, gmax = _groups(group_of_candidate, min_per_group, max_per_group, n_cand)
        s, eps = _suitability(suitability, suitability_weight, w, n_cand)
        ids, elig = _identity(candidate_ids, eligible, n_cand)
        options, cap = _parents(parent_minutes, parent_capacity, parent_max_minutes, n_cand)
        if options is not None:
            elig &= np.array([len(o) > 0 for o in options], dtype=bool)
        _readonly(w, cost, gidx, gmin, gmax, s, elig, cap)
        a = sp.csr_array((np.ones(pattern.nnz), pattern.indices, pattern.indptr), shape=pattern.shape)
        problem = cls(pattern=pattern, A=a, w=w, total_weight=float(w.sum()),
                      n_sites=None if n_sites is None else int(n_sites), coverage_target=coverage_target,
                      budget=budget, cost=cost, group=gidx, group_labels=glabels, group_min=gmin, group_max=gmax,
                      s=s, eps=eps, candidate_ids=ids, eligible=elig, parent_options=options, parent_capacity=cap)
        problem.check_feasible()
        return problem

    def with_options(self, **changes: Any) -> CoveringProblem:
        """Copy with some of ``n_sites``, ``coverage_target``, ``budget``, ``group_min``,
        ``group_max`` replaced (the matrix is shared); checked like the original."""
        unknown = set(changes) - {"n_sites", "coverage_target", "budget", "group_min", "group_max"}
        if unknown:
            raise TypeError(f"with_options: unknown option {sorted(unknown)[0]!r}")
        new = dataclasses.replace(self, **changes)
        new.check_feasible()
        return new

    def restricted(self, pool: np.ndarray) -> CoveringProblem:
        """Copy whose eligible candidates are ``eligible & pool`` (no feasibility re-check)."""
        elig = self.eligible & pool
        elig.flags.writeable = False
        return dataclasses.replace(self, eligible=elig)

    # ------------------------------------------------------------------ sizes
    @property
    def n_candidates(self) -> int:
        return int(self.pattern.shape[0])

    @property
    def n_places(self) -> int:
        return int(self.pattern.shape[1])

    @property
    def max_sites(self) -> float:
        """``n_sites`` as a float (``inf`` when there is no cardinality limit)."""
        return float(self.n_sites) if self.n_sites is not None else math.inf

    @property
    def has_parents(self) -> bool:
        return self.parent_options is not None

    @property
    def target_mode(self) -> bool:
        return self.coverage_target is not None

    # ------------------------------------------------------------------ coverage
    def cover(self, i: int) -> np.ndarray:
        """Places covered by candidate ``i``."""
        p = self.pattern
        return p.indices[p.indptr[i]:p.indptr[i + 1]]

    def covered_mask(self, sel: Sequence[int] | np.ndarray) -> np.ndarray:
        hit = np.zeros(self.n_places, dtype=bool)
        if len(sel):
            hit[self.pattern[np.asarray(sel, dtype=int)].indices] = True
        return hit

    def covered_weight(self, selected: Iterable[int]) -> float:
        """Unserved weight covered by a set of candidates."""
        sel = np.fromiter(selected, dtype=int)
        if sel.size == 0:
            return 0.0
        hit = np.zeros(self.n_places, dtype=bool)
        hit[self.pattern[sel].indices] = True
        return float(self.w[hit].sum())

    def coverable_weight(self) -> float:
        """Unserved weight that some eligible candidate reaches."""
        hit = np.zeros(self.n_places, dtype=bool)
        hit[self.pattern[np.flatnonzero(self.eligible)].indices] = True
        return float(self.w[hit].sum())

    def target_weight(self) -> float:
        """Weight to reach in coverage-target mode (with a tiny tolerance)."""
        assert self.coverage_target is not None
        return float(self.coverage_target) * self.total_weight - 1e-9 * max(self.total_weight, 1.0)

    # ------------------------------------------------------------------ checks
    def check_feasible(self) -> None:
        """Raise UserError for models that are infeasible for obvious counting reasons."""
        elig_per_group = np.bincount(self.group[self.eligible], minlength=len(self.group_labels))
        need = np.maximum(self.group_min, 0)
        short = need > elig_per_group
        if short.any():
            g = int(np.flatnonzero(short)[0])
            raise UserError(f"min_per_group asks for {need[g]:g} sites in {self.group_labels[g]!r} but only "
                            f"{elig_per_group[g]} eligible candidates are there",
                            hint="lower min_per_ugel, or relax the candidate / parent-CETPRO rules")
        if need.sum() > self.max_sites:
            raise UserError(f"the minimums per group add up to {need.sum():g} sites but n_sites is {self.n_sites}",
                            hint="raise allocation.n_sites or lower allocation.min_per_ugel")
        if self.budget is not None and need.any():
            cheapest = 0.0
            for h in np.flatnonzero(need):
                c = np.sort(self.cost[self.eligible & (self.group == h)])
                cheapest += c[: int(need[h])].sum()
            if cheapest > self.budget + TOL:
                raise UserError(f"the cheapest way to meet the minimums per group costs {cheapest:g}, "
                                f"more than the budget {self.budget:g}",
                                hint="raise allocation.budget or lower allocation.min_per_ugel")
        if self.parent_capacity is not None and need.any():
            total_cap = int(self.parent_capacity.sum())
            if need.sum() > total_cap:
                raise UserError(f"the minimums per group need {need.sum():g} sites but the CETPRO can run only "
                                f"{total_cap} extension centres in total",
                                hint="raise allocation.max_extensions_per_cetpro or lower min_per_ugel")
