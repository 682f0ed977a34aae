"""Problem reduction that keeps the optimum value (see :func:`reduce`)."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .problem import CoveringProblem
from .results import ReducedProblem


def dominance_allowed(p: CoveringProblem) -> bool:
    """Dominated candidates may be removed only without group minimums and parent capacity."""
    return not (p.group_min > 0).any() and not p.has_parents


def reduce(p: CoveringProblem) -> ReducedProblem:
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
    stats: dict[str, float] = {"candidates": p.n_candidates, "places": p.n_places}
    cand = np.flatnonzero(p.eligible)
    P = p.pattern[cand]
    colcount = np.bincount(P.indices, minlength=p.n_places)
    keep_places = np.flatnonzero((p.w > 0) & (colcount > 0))
    stats["places_zero_or_uncoverable"] = p.n_places - len(keep_places)
    Pc = sp.csc_array(P[:, keep_places])
    Pc.sort_indices()
    key_to_col: dict[bytes, int] = {}
    col_of = np.empty(len(keep_places), dtype=int)
    idx, ptr = Pc.indices, Pc.indptr
    for j in range(len(keep_places)):
        key = idx[ptr[j]:ptr[j + 1]].tobytes()
        col_of[j] = key_to_col.setdefault(key, len(key_to_col))
    n_cols = len(key_to_col)
    weights = np.bincount(col_of, weights=p.w[keep_places], minlength=n_cols)
    first = np.full(n_cols, -1)
    first[col_of[::-1]] = np.arange(len(keep_places))[::-1]
    R = sp.csr_array(Pc[:, first].astype(bool))
    stats["places_merged"] = len(keep_places) - n_cols
    column_of_place = np.full(p.n_places, -1)
    column_of_place[keep_places] = col_of
    row_of = np.full(p.n_candidates, -1)
    if dominance_allowed(p):
        R, kept, dominator = _remove_dominated(p, R, cand)
        stats["candidates_dominated"] = int(len(cand) - kept.sum())
        row = np.cumsum(kept) - 1
        row_of[cand] = np.where(dominator >= 0, row[np.maximum(dominator, 0)], -1)
        cand = cand[kept]
    else:
        stats["candidates_dominated"] = 0
        row_of[cand] = np.arange(len(cand))
    stats["candidates_ineligible"] = int((~p.eligible).sum())
    stats["reduced_candidates"] = len(cand)
    stats["reduced_places"] = n_cols
    stats["reduced_nnz"] = int(R.nnz)
    return ReducedProblem(matrix=sp.csr_array(R), weights=weights, candidates=cand,
                          column_of_place=column_of_place, stats=stats, row_of_candidate=row_of)


def _remove_dominated(p: CoveringProblem, R: sp.csr_array, cand: np.ndarray
                      ) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """``(R without the dominated rows, kept mask, dominator)``: ``dominator[i]`` is a kept row
    dominating row i (i itself when kept); dominance is acyclic (a strict improvement or a
    lower index at each step), so following dominators ends at a kept row."""
    Ri = sp.csr_array((np.ones(R.nnz, dtype=np.int32), R.indices, R.indptr), shape=R.shape)
    size = np.diff(Ri.indptr)
    n = len(cand)
    dominated = np.zeros(n, dtype=bool)
    grp, cost, s = p.group[cand], p.cost[cand], p.eps * p.s[cand]
    # candidates covering nothing: dropped unless their suitability term counts
    if p.eps == 0:
        dominated |= size == 0
    C = sp.coo_array(Ri @ Ri.T)
    i, k, v = C.row, C.col, C.data
    m = (i != k) & (v == size[i]) & (size[i] > 0) & (grp[i] == grp[k]) & (cost[k] <= cost[i]) & (s[k] >= s[i])
    i, k = i[m], k[m]
    strictly = (size[k] > size[i]) | (cost[k] < cost[i]) | (s[k] > s[i])
    # equal candidates: the lower index survives
    m2 = strictly | (k < i)
    dominated[i[m2]] = True
    dominator = np.arange(n)
    dominator[i[m2]] = k[m2]
    dominator[(size == 0) & dominated] = -1  # empty rows: no dominator needed (they cover nothing)
    while True:  # pointer jumping to a kept row
        nxt = np.where(dominator >= 0, dominator[np.maximum(dominator, 0)], -1)
        if np.array_equal(nxt, dominator):
            break
        dominator = nxt
    keep = ~dominated
    return sp.csr_array(R[keep]), keep, dominator
