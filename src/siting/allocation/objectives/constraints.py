"""The siting limits, twice: as MILP rows for HiGHS and as a feasibility oracle for heuristics.

Limits (the same as :class:`siting.allocation.MaximalCovering`), with ``x_i`` = open
candidate *i*::

    sum_i x_i <= N                                  (n_sites)
    sum_i c_i x_i <= B                              (budget, site cost c_i)
    lo_g <= sum_{i in g} x_i <= hi_g                (min/max per UGEL or province g)
    x_i = 0 for candidates that are not eligible
    sum_k z_ik = x_i,   sum_i z_ik <= cap_k,  0 <= z_ik <= 1   (parent CETPRO k within teacher time)

For integral ``x`` the ``z`` system is a transportation polytope with integral capacities, so
a fractional ``z`` exists if and only if an integral matching of sites to parent slots does:
continuous ``z`` are exact.  The oracle checks the same matching with Hopcroft-Karp
(``scipy.sparse.csgraph.maximum_bipartite_matching``) on sites x parent slots.
"""
from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import maximum_bipartite_matching

from ...errors import UserError
from .. import highs
from ..parents import ParentMatcher
from .problem import Plan, SitingData

__all__ = ["Feasibility", "Milp", "add_siting_rows", "siting_start"]

_TOL = 1e-9


class Milp:
    """A small builder of ``scipy.optimize.milp`` models: blocks of variables, sparse rows."""

    def __init__(self) -> None:
        self.c: list[np.ndarray] = []
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.integ: list[np.ndarray] = []
        self.n = 0
        self._rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._lo: list[np.ndarray] = []
        self._hi: list[np.ndarray] = []
        self.n_rows = 0

    def add_vars(self, k: int, *, cost: float | np.ndarray = 0.0, lb: float | np.ndarray = 0.0,
                 ub: float | np.ndarray = 1.0, integer: bool = False) -> int:
        """Add ``k`` variables; returns the index of the first."""
        start = self.n
        self.c.append(np.broadcast_to(np.asarray(cost, float), (k,)).copy())
        self.lb.append(np.broadcast_to(np.asarray(lb, float), (k,)).copy())
        self.ub.append(np.broadcast_to(np.asarray(ub, float), (k,)).copy())
        self.integ.append(np.full(k, 1 if integer else 0))
        self.n += k
        return start

    def add_rows(self, row: np.ndarray, col: np.ndarray, val: np.ndarray, lo: float | np.ndarray,
                 hi: float | np.ndarray, n_rows: int | None = None) -> int:
        """Add rows given in local numbering ``0..n_rows-1``; returns the first row index."""
        row = np.asarray(row, dtype=np.int64)
        k = int(row.max()) + 1 if n_rows is None else n_rows
        start = self.n_rows
        self._rows.append((row + start, np.asarray(col, dtype=np.int64), np.asarray(val, dtype=float)))
        self._lo.append(np.broadcast_to(np.asarray(lo, float), (k,)).copy())
        self._hi.append(np.broadcast_to(np.asarray(hi, float), (k,)).copy())
        self.n_rows += k
        return start

    def arrays(self) -> tuple[np.ndarray, sp.csr_array]:
        """The objective ``c`` and the row matrix ``A`` (bounds: ``np.concatenate`` of ``_lo``,
        ``_hi``, ``lb``, ``ub``)."""
        c = np.concatenate(self.c) if self.c else np.zeros(0)
        rows = np.concatenate([r for r, _, _ in self._rows]) if self._rows else np.zeros(0, dtype=np.int64)
        cols = np.concatenate([c_ for _, c_, _ in self._rows]) if self._rows else np.zeros(0, dtype=np.int64)
        vals = np.concatenate([v for _, _, v in self._rows]) if self._rows else np.zeros(0)
        return c, sp.csr_array((vals, (rows, cols)), shape=(self.n_rows, self.n))

    def solve(self, *, time_limit: float, mip_rel_gap: float = 1e-6, relax: bool = False,
              presolve: bool = True, start: np.ndarray | None = None,
              start_options: dict[str, Any] | None = None):
        """Minimise ``c x``; returns scipy's ``OptimizeResult`` (or the same fields in a
        :class:`~siting.allocation.highs.MilpResult`).

        ``start``: a feasible ``x`` given to HiGHS as its first incumbent, with ``start_options``
        (default :data:`~siting.allocation.highs.START_OPTIONS`: no presolve, no primal heuristics), when
        the binding can be driven directly (:func:`~siting.allocation.highs.available`); without
        it the start is dropped and ``scipy.optimize.milp`` solves the same model (same optimum)."""
        c, A = self.arrays()
        integ = np.zeros(self.n) if relax else np.concatenate(self.integ)
        if start is not None and not relax and self.n_rows and highs.available():
            return highs.solve_milp(c, A, np.concatenate(self._lo), np.concatenate(self._hi), integrality=integ,
                                    lb=np.concatenate(self.lb), ub=np.concatenate(self.ub), start=start,
                                    options={"time_limit": float(max(time_limit, 0.1)),
                                             "mip_rel_gap": float(mip_rel_gap)}, start_options=start_options)
        cons = [LinearConstraint(A, np.concatenate(self._lo), np.concatenate(self._hi))] if self.n_rows else []
        return milp(c, constraints=cons, integrality=integ,
                    bounds=Bounds(np.concatenate(self.lb), np.concatenate(self.ub)),
                    options={"time_limit": float(max(time_limit, 0.1)), "mip_rel_gap": float(mip_rel_gap),
                             "disp": False, "presolve": presolve})


def add_siting_rows(m: Milp, data: SitingData, cand: np.ndarray, x0: int) -> int:
    """Add the siting limits for the x variables ``x0 + k`` of candidates ``cand[k]``; returns
    the index of the first parent variable ``z`` (``-1`` without parents), ordered by
    candidate of ``cand`` then parent of ``data.parent_options``."""
    nc = len(cand)
    idx = np.arange(nc)
    if data.n_sites is not None and nc:
        m.add_rows(np.zeros(nc), x0 + idx, np.ones(nc), -np.inf, float(data.n_sites), n_rows=1)
    if data.budget is not None and nc:
        m.add_rows(np.zeros(nc), x0 + idx, data.cost[cand], -np.inf, data.budget, n_rows=1)
    gmask = (data.group_min > 0) | np.isfinite(data.group_max)
    if gmask.any():
        gs = np.flatnonzero(gmask)
        inrow = np.isin(data.group[cand], gs)
        m.add_rows(np.searchsorted(gs, data.group[cand][inrow]), x0 + idx[inrow], np.ones(int(inrow.sum())),
                   data.group_min[gs], data.group_max[gs], n_rows=len(gs))
    options, cap = data.parent_options, data.parent_capacity
    if options is not None and cap is not None and nc:
        lens = np.array([len(options[i]) for i in cand])
        pi = np.repeat(idx, lens)
        pk = np.concatenate([options[i] for i in cand]).astype(np.int64)
        nz = len(pi)
        z0 = m.add_vars(nz)
        zi = np.arange(nz)
        # sum_k z_ik - x_i = 0
        m.add_rows(np.concatenate([pi, idx]), np.concatenate([z0 + zi, x0 + idx]),
                   np.concatenate([np.ones(nz), -np.ones(nc)]), 0.0, 0.0, n_rows=nc)
        m.add_rows(pk, z0 + zi, np.ones(nz), -np.inf, cap.astype(float), n_rows=len(cap))
        return z0
    return -1


def siting_start(v: np.ndarray, data: SitingData, cand: np.ndarray, x0: int, z0: int, sel: Plan) -> bool:
    """Write the ``x`` (and parent ``z``) of the plan ``sel`` into the start vector ``v`` of a
    model built by :func:`add_siting_rows`: ``x_i = 1`` for the sites, ``z_ik = 1`` for a
    parent matching (:class:`~siting.allocation.parents.ParentMatcher`).  False (``v`` to be
    dropped) when a site is not a candidate or no matching exists."""
    pos = np.full(data.n_candidates, -1)
    pos[cand] = np.arange(len(cand))
    sites = [int(i) for i in sel]
    if any(pos[i] < 0 for i in sites):
        return False
    v[x0 + pos[sites]] = 1.0
    options, cap = data.parent_options, data.parent_capacity
    if z0 < 0 or options is None or cap is None:
        return True
    matcher = ParentMatcher(options, cap)
    if not all(matcher.try_add(i) for i in sites):
        return False
    first = z0 + np.r_[0, np.cumsum([len(options[i]) for i in cand])]
    for i in sites:
        k = int(np.flatnonzero(np.asarray(options[i]) == matcher.parent_of[i])[0])
        v[first[pos[i]] + k] = 1.0
    return True


def infeasible(what: str) -> UserError:
    return UserError(f"the {what} model is infeasible: no set of sites meets all the limits "
                     "(n_sites, budget, min/max per group, parent-CETPRO capacity)",
                     hint="relax allocation.min_per_ugel or raise n_sites / budget / max_extensions_per_cetpro")


class Feasibility:
    """Which sets of sites meet the limits; used by the heuristics and the tests."""

    def __init__(self, data: SitingData):
        self.data = data
        self._slot_parent = np.zeros(0, dtype=int)
        if data.parent_options is not None and data.parent_capacity is not None:
            self._slot_parent = np.repeat(np.arange(len(data.parent_capacity)), data.parent_capacity)

    @cached_property
    def _slots_of(self) -> list[np.ndarray]:
        """Parent slots of each candidate (built at the first matching: most models never match)."""
        if self.data.parent_options is None or self.data.parent_capacity is None:
            return []
        return [np.flatnonzero(np.isin(self._slot_parent, o)) for o in self.data.parent_options]

    def matchable(self, sel: Plan) -> bool:
        """Can every site in ``sel`` get a distinct parent slot?"""
        d = self.data
        if not d.has_parents or len(sel) == 0:
            return True
        sites = [int(i) for i in sel]
        if len(sites) > len(self._slot_parent):
            return False
        rows = np.concatenate([np.full(len(self._slots_of[i]), r) for r, i in enumerate(sites)])
        cols = np.concatenate([self._slots_of[i] for i in sites])
        if len(cols) == 0:
            return False
        B = sp.csr_array((np.ones(len(cols)), (rows, cols)), shape=(len(sites), len(self._slot_parent)))
        match = maximum_bipartite_matching(B, perm_type="column")
        return bool((match >= 0).all())

    def counts_ok(self, sel: Plan, *, final: bool = True) -> bool:
        """Cardinality, budget, max per group (and min per group when ``final``)."""
        d = self.data
        arr = np.asarray(sel, dtype=int)
        if not d.eligible[arr].all() or len(np.unique(arr)) != len(arr):
            return False
        if len(arr) > d.max_sites:
            return False
        if d.budget is not None and d.cost[arr].sum() > d.budget + _TOL:
            return False
        counts = np.bincount(d.group[arr], minlength=len(d.group_labels))
        if (counts > d.group_max).any():
            return False
        return not (final and (counts < d.group_min).any())

    def feasible(self, sel: Plan) -> bool:
        return self.counts_ok(sel) and self.matchable(sel)

    def can_extend(self, sel: Plan, i: int) -> bool:
        """Can ``i`` join ``sel`` and every unmet group minimum still be reached afterwards
        (slots, cheapest costs within the budget, parent matching of the new set)?"""
        d = self.data
        new = list(sel) + [int(i)]
        if not self.counts_ok(new, final=False):
            return False
        counts = np.bincount(d.group[new], minlength=len(d.group_labels))
        unmet = np.maximum(d.group_min - counts, 0)
        if len(new) + unmet.sum() > d.max_sites:
            return False
        if d.budget is not None and unmet.any():
            taken = np.zeros(d.n_candidates, dtype=bool)
            taken[new] = True
            reserve = sum(np.sort(d.cost[d.eligible & ~taken & (d.group == g)])[: int(unmet[g])].sum()
                          for g in np.flatnonzero(unmet))
            if d.cost[new].sum() + reserve > d.budget + _TOL:
                return False
        return self.matchable(new)

    def can_swap(self, sel: Plan, out: int, inn: int) -> bool:
        new = [k for k in sel if k != out] + [int(inn)]
        return self.feasible(new)
