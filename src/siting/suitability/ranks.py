"""Ranks of values with ties, in NumPy (``scipy.stats.rankdata``'s ``average`` and ``min``).

SciPy's ``rankdata`` is the only thing the run used from ``scipy.stats``, whose import costs
the main process 0.45-0.75 s of every command (issue #19); this is its sort-based algorithm,
tested against it in ``tests/test_ranks.py``.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["rank_values"]


def _ranks_last_axis(x: np.ndarray, method: Literal["average", "min"]) -> np.ndarray:
    """Ranks along the last axis: sort, find the runs of equal values, scatter back."""
    n = x.shape[-1]
    if n == 0:
        return np.empty(x.shape, dtype=float)
    order = np.argsort(x, axis=-1, kind="stable")
    ordered = np.take_along_axis(x, order, axis=-1)
    differs = ordered[..., 1:] != ordered[..., :-1]
    edge = np.ones(x.shape[:-1] + (1,), dtype=bool)
    position = np.broadcast_to(np.arange(n), x.shape)
    first = np.concatenate([edge, differs], axis=-1)  # a run of equal values starts here
    start = np.maximum.accumulate(np.where(first, position, 0), axis=-1)
    if method == "min":
        ranked = start + 1.0
    else:
        last = np.concatenate([differs, edge], axis=-1)  # ... and ends here
        end = np.minimum.accumulate(np.where(last, position, n - 1)[..., ::-1], axis=-1)[..., ::-1]
        ranked = 0.5 * (start + end) + 1.0
    out = np.empty(x.shape, dtype=float)
    np.put_along_axis(out, order, ranked, axis=-1)
    return out


def rank_values(values: np.ndarray | list[float], *, method: Literal["average", "min"] = "average",
                axis: int | None = None) -> np.ndarray:
    """Ranks 1..n of ``values`` (smallest = 1), along ``axis`` (``None``: of the flattened 1-D array).

    Ties: ``average`` gives every member of a run of ``m`` equal values starting at sorted
    position ``s`` (0-based) the rank ``s + (m + 1) / 2``; ``min`` gives them ``s + 1``.
    ``values`` must not hold NaN (the callers rank finite scores).

    Returns
    -------
    numpy.ndarray
        float ranks of the shape of ``values``.
    """
    x = np.asarray(values, dtype=float)
    if method not in ("average", "min"):
        raise ValueError(f"method must be 'average' or 'min', got {method!r}")
    if axis is None:
        return _ranks_last_axis(x.ravel(), method)
    return np.moveaxis(_ranks_last_axis(np.moveaxis(x, axis, -1), method), -1, axis)
