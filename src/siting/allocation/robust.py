"""Soft "already served" and the selection frequency of the proposals (issue #14 item 6).

**Soft served** (``allocation.served_taper = s``, 0 = off): the demand weight of place j is
multiplied by its unserved share, tapering linearly within ``T s`` of the threshold
``T = allocation.max_minutes`` instead of a 0/1 step at ``T``::

    u_j = clip((m_j - T (1 - s)) / (2 T s), 0, 1)        (m_j: minutes to the nearest centre)

so ``u = 0`` at ``m <= T (1 - s)``, ``1/2`` at ``m = T``, ``1`` at ``m >= T (1 + s)``; with ``s = 0``
``u_j = [m_j > T]`` (the hard rule).

**Selection frequency**: for every travel-time draw of the score stage
(``ScoreResult.draws``: each with its exact reach, minutes to the nearest centre and
teacher minutes) the same maximal-covering model is solved again; the frequency of a
proposal is the share of draws whose chosen set contains it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..scenario import Scenario


def unserved_share(minutes: np.ndarray, *, threshold: float, taper: float) -> np.ndarray:
    """``u_j`` of the module docstring (NaN / inf minutes = unreachable = 1)."""
    m = np.asarray(minutes, dtype=float)
    m = np.where(np.isnan(m), np.inf, m)
    if taper <= 0:
        return (m > threshold).astype(float)
    delta = threshold * taper
    return np.clip((m - (threshold - delta)) / (2 * delta), 0.0, 1.0)


def near_threshold(minutes: np.ndarray, *, threshold: float, margin: float) -> np.ndarray:
    """``|m_j - T| < margin T``: the place is near the threshold (its side is uncertain)."""
    m = np.asarray(minutes, dtype=float)
    return np.isfinite(m) & (np.abs(m - threshold) < margin * threshold)


def selection_frequency(sc: Scenario, draws: list, selected_ids: list[str],
                        solve_draw: Callable[[Any], list[str]]) -> np.ndarray:
    """Share of ``draws`` in which each of ``selected_ids`` is chosen (``solve_draw(draw)`` =
    the candidate ids chosen under that draw); NaN without draws."""
    if not draws:
        return np.full(len(selected_ids), np.nan)
    counts = np.zeros(len(selected_ids))
    for d in draws:
        chosen = set(solve_draw(d))
        counts += [i in chosen for i in selected_ids]
    return counts / len(draws)
