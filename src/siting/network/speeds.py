"""Travel speeds: Tobler's hiking function for walking and a table per road class.

Walking speed on a slope ``s = dh/dx`` (rise over horizontal run, signed: uphill > 0) is
Tobler's hiking function

    v(s) = walk_kmh_max * exp(-tobler_decay * |s + tobler_slope_offset|)      [km/h]

which with the defaults (6 km/h, 3.5, 0.05) gives 5.04 km/h on the flat, its maximum
6 km/h on a gentle descent (s = -0.05), and is *asymmetric*: climbing a slope is slower
than descending it.  Times are in minutes everywhere:

    minutes = distance_m / 1000 / v_kmh * 60
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import DataError
from ..scenario import Speeds

MIN_PER_HOUR = 60.0
M_PER_KM = 1000.0


def tobler_kmh(slope: np.ndarray | float, *, walk_kmh_max: float = 6.0, tobler_slope_offset: float = 0.05,
               tobler_decay: float = 3.5) -> np.ndarray:
    """Walking speed in km/h on a signed slope ``dh/dx`` (uphill positive).

    ``v = walk_kmh_max * exp(-tobler_decay * |slope + tobler_slope_offset|)``.
    """
    s = np.asarray(slope, dtype=float)
    return walk_kmh_max * np.exp(-tobler_decay * np.abs(s + tobler_slope_offset))


def tobler_from(speeds: Speeds, slope: np.ndarray | float) -> np.ndarray:
    """:func:`tobler_kmh` with the parameters of a scenario's ``[speeds]`` section."""
    return tobler_kmh(slope, walk_kmh_max=speeds.walk_kmh_max, tobler_slope_offset=speeds.tobler_slope_offset,
                      tobler_decay=speeds.tobler_decay)


def minutes(distance_m: np.ndarray | float, kmh: np.ndarray | float) -> np.ndarray:
    """Travel time in minutes: ``distance_m / 1000 / kmh * 60``."""
    return np.asarray(distance_m, dtype=float) / M_PER_KM / np.asarray(kmh, dtype=float) * MIN_PER_HOUR


def walk_minutes(distance_m: np.ndarray | float, dh_m: np.ndarray | float, speeds: Speeds, *,
                 max_abs_slope: float = np.inf) -> np.ndarray:
    """Minutes to walk ``distance_m`` (horizontal) while rising ``dh_m`` (negative = descending).

    The slope ``dh/dx`` is clipped to ``±max_abs_slope``; a zero distance gives 0 minutes.
    """
    d = np.asarray(distance_m, dtype=float)
    dh = np.asarray(dh_m, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(d > 0, dh / np.where(d > 0, d, 1.0), 0.0)
    slope = np.clip(slope, -max_abs_slope, max_abs_slope)
    return minutes(d, tobler_from(speeds, slope))


def road_speed_kmh(road_class: str | np.ndarray | list, table: Mapping[str, float], *,
                   source: str = "roads") -> np.ndarray | float:
    """Speed in km/h of each road class from the scenario table ``speeds.road_kmh``.

    An unknown class raises :class:`~siting.errors.DataError` naming it (never a silent default).
    """
    scalar = isinstance(road_class, str)
    classes = np.asarray([road_class] if scalar else list(road_class), dtype=object)
    unknown = sorted({str(c) for c in classes if c not in table})
    if unknown:
        raise DataError(f"road class {unknown[0]!r} has no speed (unknown classes: {', '.join(unknown)})",
                        source=source,
                        hint=f"add it to [speeds.road_kmh] in the scenario; known classes: {', '.join(table)}")
    out = np.array([float(table[c]) for c in classes], dtype=float)
    return float(out[0]) if scalar else out


def detour_factors(road_class: np.ndarray | list, approximate: np.ndarray | list, speeds: Speeds) -> np.ndarray:
    """Detour factor of each road segment (issue #14: one factor per rebuilt class).

    ``f = speeds.detour_factor_by_class.get(class, speeds.approximate_detour_factor)`` for a
    segment flagged ``approximate``, ``f = 1`` for a real line; the graph's time of a segment of
    straight length ``L`` is ``L * f / v(class)``.
    """
    by_class = speeds.detour_factor_by_class or {}
    default = float(speeds.approximate_detour_factor)
    f = np.array([float(by_class.get(str(c), default)) for c in road_class], dtype=float)
    return np.where(np.asarray(approximate, dtype=bool), f, 1.0)


def max_speed_kmh(speeds: Speeds, *, mode: str | None = None, landcover_max: float = 1.0) -> float:
    """The highest speed any edge of the graph can have (for lower bounds on time)."""
    walk = speeds.walk_kmh_max * max(1.0, landcover_max)
    mode = mode or speeds.mode
    if mode == "walk" or not speeds.road_kmh:
        return walk
    return max(walk, max(speeds.road_kmh.values()))
