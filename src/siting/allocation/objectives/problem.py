"""The data every objective shares: places, candidates, travel times and the siting limits.

:class:`SitingData` holds a **sparse cost matrix** ``D`` (places x candidates, spopt's
orientation: clients x facilities) of minutes for the pairs within a cut-off ``C``, each
place's minutes ``e_j`` to the nearest *existing* facility (CETPRO sede or extension centre),
the demand weights ``w_j`` and the limits of the covering model (number of sites, budget,
min/max per group, eligibility, parent CETPRO within teacher time and with capacity).

Travel time of a place after opening the set ``S``::

    t_j(S) = min(e_j, min_{i in S} d_ji)

The cut-off.  Only the pairs with ``d_ji < e_j`` can ever lower ``t_j`` (a place never uses
a new site farther than its existing facility), so every other pair can be dropped without
changing any ``t_j(S)``; a cost matrix computed within ``C >= max_j e_j`` is therefore
*exact*.  With a smaller ``C`` the model uses ``t^C_j(S) = min(e_j, min_{i in S, d_ji <= C}
d_ji)``: equal to ``t_j(S)`` whenever ``e_j <= C`` or ``t^C_j(S) <= C`` (a pair beyond ``C`` is
slower than ``C``), and otherwise an upper bound with ``t_j(S)`` in ``(C, t^C_j(S)]``.
:func:`SitingData.minutes_after` reports which places are exact.

Places with no existing facility (``e_j = inf``, no path at all) count in the minute-based
objectives (p-median, p-center) as ``P = unserved_minutes`` minutes until a new site reaches
them (default ``P`` = the largest finite value among ``C``, the stored minutes and ``e``, so
that ``P >= d_ji`` for every stored pair).  Places that neither an existing facility nor any
candidate reaches are constant whatever the plan: they are left out of every objective
(``unreachable``) and reported apart, as ``siting.access`` does.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ...errors import UserError

__all__ = ["Plan", "SitingData", "SitingResult", "group_bounds"]

#: a set of candidate indices (list or array)
Plan = Sequence[int] | np.ndarray


def group_bounds(spec: int | dict | None, labels: np.ndarray, default: float, name: str) -> np.ndarray:
    """Per-group bound array from an int (same for every group), a dict {label: int} or None."""
    out = np.full(len(labels), default, dtype=float)
    if spec is None:
        return out
    if isinstance(spec, dict):
        known = {str(lab) for lab in labels}
        for key, val in spec.items():
            if str(key) not in known:
                raise UserError(f"{name}: group {key!r} has no candidate",
                                hint=f"groups present: {', '.join(sorted(known))}")
            out[[str(lab) == str(key) for lab in labels]] = float(val)
        return out
    out[:] = float(spec)
    return out


def _pairs(cost: Any, cutoff: float | None) -> tuple[sp.csr_array, float]:
    """CSR (places x candidates) of minutes within the cut-off, explicit zeros kept."""
    if sp.issparse(cost):
        m = sp.csr_array(cost)
        m.sum_duplicates()
        m.sort_indices()
        data = np.asarray(m.data, dtype=float)
        inferred = float(data.max()) if data.size else 0.0
        limit = inferred if cutoff is None else float(cutoff)
        keep = np.isfinite(data) & (data <= limit)
        row_of = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        out = sp.csr_array((data[keep], (row_of[keep], m.indices[keep])), shape=m.shape)
    else:
        arr = np.asarray(cost, dtype=float)
        if arr.ndim != 2:
            raise UserError(f"the cost matrix must be 2-D (places x candidates), got shape {arr.shape}")
        limit = math.inf if cutoff is None else float(cutoff)
        with np.errstate(invalid="ignore"):
            keep = np.isfinite(arr) & (arr <= limit)
        r, c = np.nonzero(keep)
        out = sp.csr_array((arr[r, c], (r, c)), shape=arr.shape)
    if out.nnz and (out.data < 0).any():
        raise UserError("the cost matrix has negative minutes", hint="travel times must be >= 0")
    out.sort_indices()
    return out, limit


@dataclass
class SitingResult:
    """A plan chosen by one of the objective models.

    ``objective`` is the model's measure (people covered, people x minutes, worst minutes,
    people beyond T in the worst district); ``score`` what the solver optimised (objective
    plus the suitability term, in the same direction); ``bound`` a proven bound on the best
    score (lower bound for minimisation, upper for maximisation); ``gap`` the relative
    distance between ``score`` and ``bound``.
    """

    selected: np.ndarray
    selected_ids: list
    objective: float
    score: float
    bound: float
    gap: float
    status: str  # "optimal", "time_limit", "heuristic"
    solver: str
    sense: str  # "min" or "max"
    timings: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def n_sites(self) -> int:
        return len(self.selected)


def relative_gap(score: float, bound: float, sense: str) -> float:
    """``|score - bound| / max(|score|, tiny)``, 0 when the bound is met, never negative."""
    if not np.isfinite(bound):
        return float("nan")
    diff = (score - bound) if sense == "min" else (bound - score)
    return max(diff, 0.0) / max(abs(score), 1e-12) if diff > 1e-9 * max(1.0, abs(score)) else 0.0


class SitingData:
    """Validated inputs shared by the objective models (see the module docstring).

    Build with :meth:`from_cost_matrix`.  Pair arrays are sorted by place, then minutes:
    ``pair_place``, ``pair_cand``, ``pair_min``.  ``base[j]`` is the time a place keeps when no
    new site serves it (``e_j``, or ``P`` for a place with no existing facility), ``inf`` for
    an ``unreachable`` place.
    """

    D: sp.csr_array  # places x candidates minutes within the cut-off
    cutoff: float
    w: np.ndarray
    existing: np.ndarray
    base: np.ndarray
    unserved_minutes: float
    unreachable: np.ndarray
    pair_place: np.ndarray
    pair_cand: np.ndarray
    pair_min: np.ndarray
    n_sites: int | None
    budget: float | None
    cost: np.ndarray
    group: np.ndarray
    group_labels: np.ndarray
    group_min: np.ndarray
    group_max: np.ndarray
    eligible: np.ndarray
    parent_options: list[np.ndarray] | None
    parent_capacity: np.ndarray | None
    s: np.ndarray
    suitability_weight: float
    candidate_ids: list

    def __init__(self, **fields: Any):
        self.__dict__.update(fields)

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: Any,
        weights: Sequence[float] | np.ndarray,
        *,
        existing_minutes: Sequence[float] | np.ndarray | None = None,
        cutoff: float | None = None,
        unserved_minutes: float | None = None,
        n_sites: int | None = None,
        budget: float | None = None,
        site_cost: float | Sequence[float] | np.ndarray | None = None,
        group_of_candidate: Sequence[Any] | np.ndarray | None = None,
        min_per_group: int | dict[Any, int] | None = None,
        max_per_group: int | dict[Any, int] | None = None,
        eligible: Sequence[bool] | np.ndarray | None = None,
        parent_minutes: Any = None,
        parent_capacity: int | Sequence[int] | np.ndarray | None = None,
        parent_max_minutes: float | None = None,
        suitability: Sequence[float] | np.ndarray | None = None,
        suitability_weight: float = 0.0,
        candidate_ids: Sequence[Any] | None = None,
    ) -> SitingData:
        """Validate and store the inputs.

        Parameters
        ----------
        cost_matrix : places x candidates minutes.  scipy sparse: every stored entry within
            ``cutoff`` is a pair (explicit zeros = 0 min); dense: finite entries (NaN / inf =
            no path).  Candidates x places matrices (``solve.coverage``) must be transposed.
        weights : demand weight per place (>= 0), e.g. target population by sex and age.
        existing_minutes : minutes of each place to its nearest existing facility (inf = no
            path); ``None`` = no existing facility.
        cutoff : the limit the sparse matrix was computed with (default: its largest entry,
            which is conservative); dense matrices: ``inf``.
        unserved_minutes : ``P`` for places with no existing facility (module docstring).
        n_sites, budget, site_cost : at most N new sites; total ``site_cost`` <= budget.
        group_of_candidate, min_per_group, max_per_group : UGEL / province per candidate and
            the bounds per group (int for all, dict per label).
        eligible : candidates that may be opened.
        parent_minutes, parent_capacity, parent_max_minutes : teacher minutes candidates x
            CETPRO (sparse stored = reachable, dense NaN/inf = not), extension centres each
            CETPRO may still run, teacher time limit.  A site opens only if every open site
            can be matched to a distinct parent slot.
        suitability, suitability_weight : score per candidate (min-max normalised to [0, 1])
            and ``lambda``: the objective gains ``lambda * s_i`` per opened site.
        candidate_ids : labels in results.
        """
        D, limit = _pairs(cost_matrix, cutoff)
        n_pl, n_c = D.shape
        w, e = cls._demand(weights, existing_minutes, n_pl)
        if n_sites is None and budget is None:
            raise UserError("the siting model needs n_sites or a budget", hint="set allocation.n_sites (e.g. 10)")
        if n_sites is not None and (int(n_sites) != n_sites or n_sites < 0):
            raise UserError(f"n_sites must be a non-negative integer, got {n_sites!r}")
        if budget is not None and budget < 0:
            raise UserError(f"budget must be >= 0, got {budget!r}")
        cost = np.ones(n_c) if site_cost is None else np.broadcast_to(np.asarray(site_cost, float), (n_c,)).copy()
        if (~np.isfinite(cost) | (cost < 0)).any():
            raise UserError("site_cost must be finite and >= 0 for every candidate")
        gidx, glab, gmin, gmax = cls._groups(group_of_candidate, min_per_group, max_per_group, n_c)
        s = cls._suitability(suitability, n_c)
        ids = list(range(n_c)) if candidate_ids is None else list(candidate_ids)
        if len(ids) != n_c:
            raise UserError(f"candidate_ids has {len(ids)} values, expected {n_c}")
        elig = np.ones(n_c, dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool).ravel().copy()
        if elig.shape[0] != n_c:
            raise UserError(f"eligible has {elig.shape[0]} values, expected {n_c}")
        options, cap = cls._parents(parent_minutes, parent_capacity, parent_max_minutes, n_c)
        if options is not None:
            elig &= np.array([len(o) > 0 for o in options], dtype=bool)
        # pairs sorted by place then minutes
        coo = sp.coo_array(D)
        order = np.lexsort((coo.data, coo.row))
        pp, pc, pm = coo.row[order].astype(np.int64), coo.col[order].astype(np.int64), coo.data[order].astype(float)
        has_pair = np.bincount(pp[elig[pc]], minlength=n_pl) > 0
        finite = np.concatenate([e[np.isfinite(e)], pm, [limit] if np.isfinite(limit) else []])
        P = float(unserved_minutes) if unserved_minutes is not None else (float(finite.max()) if finite.size else 0.0)
        if unserved_minutes is not None and pm.size and pm.max() > P:
            raise UserError(f"unserved_minutes ({P:g}) must be at least the largest stored minutes ({pm.max():g})")
        unreachable = ~np.isfinite(e) & ~has_pair
        base = np.where(np.isfinite(e), e, np.where(unreachable, np.inf, P))
        data = cls(D=D, cutoff=limit, w=w, existing=e, base=base, unserved_minutes=P, unreachable=unreachable,
                   pair_place=pp, pair_cand=pc, pair_min=pm, n_sites=None if n_sites is None else int(n_sites),
                   budget=None if budget is None else float(budget), cost=cost, group=gidx, group_labels=glab,
                   group_min=gmin, group_max=gmax, eligible=elig, parent_options=options, parent_capacity=cap,
                   s=s, suitability_weight=float(suitability_weight), candidate_ids=ids)
        data.check_counts()
        return data

    # ------------------------------------------------------------------ parsing helpers
    @staticmethod
    def _demand(weights, existing_minutes, n_pl) -> tuple[np.ndarray, np.ndarray]:
        """Demand weights ``w_j`` (finite, >= 0) and existing minutes ``e_j`` (>= 0, ``inf`` =
        no path; all ``inf`` when ``existing_minutes`` is None), one per place."""
        w = np.asarray(weights, dtype=float).ravel()
        if w.shape[0] != n_pl:
            raise UserError(f"weights has {w.shape[0]} values but the cost matrix has {n_pl} places (rows)",
                            hint="pass one weight per place, in the cost matrix's row order")
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            raise UserError(f"weights must be finite and >= 0; {int(bad.sum())} are not "
                            f"(first at place {int(np.flatnonzero(bad)[0])})",
                            hint="fill missing populations before allocation (see the data-quality report)")
        e = np.full(n_pl, np.inf) if existing_minutes is None else np.asarray(existing_minutes, dtype=float).ravel()
        if e.shape[0] != n_pl:
            raise UserError(f"existing_minutes has {e.shape[0]} values, expected {n_pl} (one per place)")
        if np.isnan(e).any() or (e < 0).any():
            raise UserError("existing_minutes must be >= 0 (inf = no path to any existing facility), not NaN")
        return w, e

    @staticmethod
    def _groups(labels_in, min_per_group, max_per_group, n_c):
        if labels_in is None:
            if min_per_group or (max_per_group is not None):
                raise UserError("min_per_group / max_per_group need group_of_candidate "
                                "(province or UGEL per candidate)")
            return np.zeros(n_c, dtype=int), np.array(["all"], dtype=object), np.zeros(1), np.full(1, np.inf)
        labels = np.asarray(labels_in, dtype=object).ravel()
        if labels.shape[0] != n_c:
            raise UserError(f"group_of_candidate has {labels.shape[0]} values, expected {n_c} (one per candidate)")
        codes, uniques = pd.factorize(pd.Series(labels.astype(str)), sort=True)
        glab = np.asarray(uniques, dtype=object)
        gmin = group_bounds(min_per_group, glab, 0.0, "min_per_group")
        gmax = group_bounds(max_per_group, glab, np.inf, "max_per_group")
        if (gmin > gmax).any():
            g = int(np.flatnonzero(gmin > gmax)[0])
            raise UserError(f"min_per_group ({gmin[g]:g}) exceeds max_per_group ({gmax[g]:g}) for group {glab[g]!r}")
        return np.asarray(codes, dtype=int), glab, gmin, gmax

    @staticmethod
    def _suitability(suitability, n_c) -> np.ndarray:
        if suitability is None:
            return np.zeros(n_c)
        raw = np.asarray(suitability, dtype=float).ravel()
        if raw.shape[0] != n_c:
            raise UserError(f"suitability has {raw.shape[0]} values, expected {n_c} (one per candidate)")
        raw = np.where(np.isfinite(raw), raw, np.nanmin(raw) if np.isfinite(raw).any() else 0.0)
        span = raw.max() - raw.min() if raw.size else 0.0
        return (raw - raw.min()) / span if span > 0 else np.zeros(n_c)

    @staticmethod
    def _parents(parent_minutes, parent_capacity, parent_max_minutes, n_c):
        if parent_minutes is None:
            return None, None
        if parent_capacity is None:
            raise UserError("parent_minutes given without parent_capacity (max extension centres per CETPRO)",
                            hint="set allocation.max_extensions_per_cetpro")
        if sp.issparse(parent_minutes):
            pm = sp.csr_array(parent_minutes)
            pm.sort_indices()
            row_of = np.repeat(np.arange(pm.shape[0]), np.diff(pm.indptr))
            keep = np.ones(pm.nnz, dtype=bool) if parent_max_minutes is None else pm.data <= parent_max_minutes
            pat = sp.csr_array((np.ones(int(keep.sum())), (row_of[keep], pm.indices[keep])), shape=pm.shape)
        else:
            arr = np.asarray(parent_minutes, dtype=float)
            lim = np.inf if parent_max_minutes is None else parent_max_minutes
            with np.errstate(invalid="ignore"):
                pat = sp.csr_array((np.isfinite(arr) & (arr <= lim)).astype(float))
        if pat.shape[0] != n_c:
            raise UserError(f"parent_minutes has {pat.shape[0]} rows, expected {n_c} (one per candidate)",
                            hint="teacher minutes must be candidates x CETPRO")
        cap = np.broadcast_to(np.asarray(parent_capacity), (pat.shape[1],)).astype(int).copy()
        if (cap < 0).any():
            raise UserError("parent capacity (max extension centres per CETPRO) must be >= 0")
        options = [pat.indices[pat.indptr[i]:pat.indptr[i + 1]] for i in range(n_c)]
        return [o[cap[o] > 0] for o in options], cap

    # ------------------------------------------------------------------ properties
    @property
    def n_places(self) -> int:
        return int(self.D.shape[0])

    @property
    def n_candidates(self) -> int:
        return int(self.D.shape[1])

    @property
    def max_sites(self) -> float:
        return float(self.n_sites) if self.n_sites is not None else math.inf

    @property
    def has_parents(self) -> bool:
        return self.parent_options is not None

    def with_options(self, **changes: Any) -> SitingData:
        """Copy with some limits replaced (``n_sites``, ``budget``, ``group_min``, ``group_max``,
        ``suitability_weight``); the pairs are shared."""
        allowed = {"n_sites", "budget", "group_min", "group_max", "suitability_weight"}
        new = copy.copy(self)
        for key, val in changes.items():
            if key not in allowed:
                raise TypeError(f"with_options: unknown option {key!r}")
            setattr(new, key, val)
        new.check_counts()
        return new

    def check_counts(self) -> None:
        """Raise UserError for limits that no plan can meet, for counting reasons."""
        per_group = np.bincount(self.group[self.eligible], minlength=len(self.group_labels))
        need = np.maximum(self.group_min, 0)
        if (need > per_group).any():
            g = int(np.flatnonzero(need > per_group)[0])
            raise UserError(f"min_per_group asks for {need[g]:g} sites in {self.group_labels[g]!r} but only "
                            f"{per_group[g]} eligible candidates are there",
                            hint="lower min_per_ugel, or relax the candidate / parent-CETPRO rules")
        if need.sum() > self.max_sites:
            raise UserError(f"the minimums per group add up to {need.sum():g} sites but n_sites is {self.n_sites}",
                            hint="raise allocation.n_sites or lower allocation.min_per_ugel")
        cap = self.parent_capacity
        if cap is not None and need.sum() > int(cap.sum()):
            raise UserError(f"the minimums per group need {need.sum():g} sites but the CETPRO can run only "
                            f"{int(cap.sum())} extension centres in total",
                            hint="raise allocation.max_extensions_per_cetpro or lower min_per_ugel")

    # ------------------------------------------------------------------ evaluation
    def useful_pairs(self, base: np.ndarray | None = None) -> np.ndarray:
        """Mask of the pairs that can lower a place's time: eligible candidate, ``d_ji < base_j``."""
        b = self.base if base is None else base
        return self.eligible[self.pair_cand] & (self.pair_min < b[self.pair_place])

    def open_mask(self, selected: Plan) -> np.ndarray:
        m = np.zeros(self.n_candidates, dtype=bool)
        m[np.asarray(selected, dtype=int)] = True
        return m

    def model_minutes(self, selected: Plan) -> np.ndarray:
        """``min(base_j, min_{i in S} d_ji)``: the minutes the objectives count (``P`` for unserved)."""
        t = self.base.copy()
        m = self.open_mask(selected)[self.pair_cand]
        np.minimum.at(t, self.pair_place[m], self.pair_min[m])
        return t

    def minutes_after(self, selected: Plan) -> tuple[np.ndarray, np.ndarray]:
        """Minutes to the nearest facility after opening ``selected`` (``inf`` = no path) and a
        mask of the places whose minutes are exact (module docstring: the cut-off)."""
        t = self.existing.copy()
        m = self.open_mask(selected)[self.pair_cand]
        np.minimum.at(t, self.pair_place[m], self.pair_min[m])
        exact = (self.existing <= self.cutoff) | (t <= self.cutoff) | np.isinf(self.cutoff)
        return t, exact

    def covered_within(self, selected: Plan, limit: float) -> np.ndarray:
        """Places within ``limit`` minutes after opening ``selected`` (needs ``limit <= cutoff``)."""
        if limit > self.cutoff + 1e-9:
            raise UserError(f"a coverage limit of {limit:g} min needs a cost matrix computed within at least "
                            f"{limit:g} min; this one stops at {self.cutoff:g}",
                            hint="compute solve.coverage with the larger limit")
        t, _ = self.minutes_after(selected)
        return t <= limit

    def suitability_sum(self, selected: Plan) -> float:
        sel = np.asarray(selected, dtype=int)
        return float(self.s[sel].sum()) if sel.size else 0.0

    def result(self, selected: Plan, *, objective: float, score: float, bound: float,
               status: str, solver: str, sense: str, timings: dict[str, float],
               details: dict[str, Any] | None = None) -> SitingResult:
        sel = np.array(sorted(int(i) for i in selected), dtype=int)
        b = bound
        if np.isfinite(b):  # a bound never lies on the wrong side of a feasible score
            b = min(b, score) if sense == "min" else max(b, score)
        return SitingResult(selected=sel, selected_ids=[self.candidate_ids[i] for i in sel], objective=objective,
                            score=score, bound=b, gap=relative_gap(score, b, sense), status=status, solver=solver,
                            sense=sense, timings=timings, details=details or {})
