"""Parent CETPRO of each new site: the incremental matching the greedy keeps while it adds
sites (:class:`ParentMatcher`) and the exact final assignment (:func:`assign_parents`)."""
from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from ..errors import UserError


class ParentMatcher:
    """Incremental bipartite b-matching (sites -> CETPRO slots) by augmenting paths (Kuhn)."""

    def __init__(self, options: list[np.ndarray], capacity: np.ndarray):
        self.options = options  # per candidate: eligible parent indices
        self.capacity = capacity.astype(int)
        self.load = np.zeros(len(capacity), dtype=int)
        self.parent_of: dict[int, int] = {}
        self.sites_of: list[list[int]] = [[] for _ in capacity]

    def copy(self) -> ParentMatcher:
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


@dataclass(frozen=True)
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
