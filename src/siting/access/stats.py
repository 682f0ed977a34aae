"""Population-weighted statistics of travel time, per group: sums, means, shares, the
lower weighted median and the weighted Gini coefficient (grouped in one pass)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    """Lower weighted median: the smallest ``x_k`` (in sorted order) whose cumulative weight
    ``C_k = sum_{i<=k} w_i`` reaches half the total, ``C_k >= W/2``.

    With integer weights it equals the lower median of the sample where each ``x_i`` is
    repeated ``w_i`` times (element ``(W-1)//2`` of the sorted sample).  Non-finite values
    and zero weights are ignored; returns NaN when no weight is left.
    """
    codes = np.zeros(np.size(x), dtype=np.int64)
    return float(_grouped_weighted_median(codes, np.asarray(x, float), np.asarray(w, float), 1)[0])


def gini(x: np.ndarray, w: np.ndarray) -> float:
    """Weighted Gini coefficient of ``x`` (access time) with weights ``w`` (people):

    ``G = sum_i sum_j w_i w_j |x_i - x_j| / (2 W^2 mu)``,  ``W = sum w``, ``mu = sum w x / W``,

    computed in O(n log n) after sorting ``x`` ascending with cumulative weights ``C_i``:
    ``G = sum_i w_i x_i (2 C_i - w_i - W) / (W sum_i w_i x_i)``.  0 = everyone has the
    same time, -> 1 = all the travel time falls on a few people.  Non-finite values and
    zero weights are ignored; NaN when no weight is left, 0 when all times are 0.
    """
    codes = np.zeros(np.size(x), dtype=np.int64)
    return float(_grouped_gini(codes, np.asarray(x, float), np.asarray(w, float), 1)[0])


def _sorted_groups(codes: np.ndarray, x: np.ndarray, w: np.ndarray):
    keep = np.isfinite(x) & (w > 0)
    codes, x, w = codes[keep], x[keep], w[keep]
    order = np.lexsort((x, codes))
    return codes[order], x[order], w[order]


def _group_cumsum(codes: np.ndarray, v: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative sum of ``v`` within consecutive groups (codes sorted) and the group totals."""
    total = np.bincount(codes, weights=v, minlength=n_groups)
    cs = np.cumsum(v)
    offsets = np.concatenate([[0.0], np.cumsum(total)[:-1]])
    return cs - offsets[codes], total


def _grouped_weighted_median(codes: np.ndarray, x: np.ndarray, w: np.ndarray, n_groups: int) -> np.ndarray:
    codes, x, w = _sorted_groups(codes, x, w)
    out = np.full(n_groups, np.nan)
    if codes.size == 0:
        return out
    cw, total = _group_cumsum(codes, w, n_groups)
    tol = 1e-9 * np.maximum(total[codes], 1.0)
    reached = cw >= total[codes] / 2 - tol
    # first row of each group where the half is reached (rows are sorted by group, then x)
    pos = np.flatnonzero(reached)
    first = pd.Series(pos).groupby(codes[pos]).min()
    out[first.index.to_numpy()] = x[first.to_numpy()]
    return out


def _grouped_gini(codes: np.ndarray, x: np.ndarray, w: np.ndarray, n_groups: int) -> np.ndarray:
    codes, x, w = _sorted_groups(codes, x, w)
    out = np.full(n_groups, np.nan)
    if codes.size == 0:
        return out
    cw, total = _group_cumsum(codes, w, n_groups)
    num = np.bincount(codes, weights=w * x * (2 * cw - w - total[codes]), minlength=n_groups)
    wx = np.bincount(codes, weights=w * x, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = num / (total * wx)
    g = np.where((total > 0) & (wx == 0), 0.0, g)
    present = total > 0
    out[present] = g[present]
    return out


def _sum(codes: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(codes, weights=v, minlength=n)


def _weighted_mean(codes: np.ndarray, x: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    ok = np.isfinite(x)
    num = _sum(codes[ok], w[ok] * x[ok], n)
    den = _sum(codes[ok], w[ok], n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
