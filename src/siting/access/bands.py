"""Travel-time bands per place: display rounding, band labels and slugs, and
:func:`place_access` (minutes, nearest facility and band of every centro poblado).

Conventions
-----------
* Minutes are ``float``; ``inf`` means *unreachable* (no path at all).  ``NaN`` is refused.
* A place is *within* a threshold ``T`` when ``minutes <= T`` (bands are closed on the
  right: ``"<=30"`` is ``[0, 30]``, ``"30-60"`` is ``(30, 60]``, ..., ``">120"`` is
  ``(120, inf)``) and ``"sin acceso"`` (no access) for ``inf``.  *Beyond* ``T`` is the complement of
  within, so it includes the places with no access.
* Rounding rule: every computation (bands, shares, means) uses the **unrounded** minutes.
  Minutes are only rounded for display, by :func:`round_minutes`: round half up to 0.1 min
  (``12.25 -> 12.3``, ``12.24 -> 12.2``); unreachable stays ``inf``.
* Population-weighted means, medians and the Gini coefficient are taken over the places
  that *can* reach a facility (finite minutes); people with no access are reported
  separately (``*_no_access`` columns), never mixed into an average.
* A missing population value counts as 0 people (the loaders estimate populations and
  flag them in the quality report; this module does not guess).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, ScenarioError

NO_ACCESS = "sin acceso"
"""Band *value* of places that cannot reach any facility (``inf`` minutes).  It is the key
the report layer translates (``siting.report.labels``: "Sin acceso" / "No access");
column names use the slug ``no_access``."""
NO_ACCESS_SLUG = "no_access"


# --------------------------------------------------------------------------- bands


def round_minutes(minutes: np.ndarray | pd.Series | float, *, step: float = 0.1) -> np.ndarray:
    """Display rounding of minutes: round half **up** to a multiple of ``step`` (0.1 min).

    ``r(x) = floor(x / step + 0.5) * step``, computed on the decimal scale to avoid binary
    artefacts (``12.25 -> 12.3``; Python's ``round`` would give ``12.2``).  ``inf`` stays
    ``inf``.  The access stage applies it once to the place minutes, so bands and every
    statistic use the same rounded minutes that are written.
    """
    x = np.asarray(minutes, dtype=float)
    scale = 1.0 / step
    with np.errstate(invalid="ignore"):
        # the tiny relative nudge makes values like 12.25 (stored as 12.2499999...) round up
        out = np.floor(x * scale * (1 + 1e-12) + 0.5) / scale
    return np.where(np.isfinite(x), out, x)


def _check_thresholds(thresholds: Sequence[float] | np.ndarray) -> np.ndarray:
    th = np.asarray(list(thresholds), dtype=float)
    if th.ndim != 1 or th.size == 0 or not np.all(np.isfinite(th)) or th[0] <= 0 or np.any(np.diff(th) <= 0):
        raise ScenarioError(f"thresholds must be increasing positive minutes, got {list(thresholds)!r}",
                            hint="set access.thresholds_min, e.g. [30, 60, 120]")
    return th


def _fmt(t: float) -> str:
    """30.0 -> '30'; 22.5 -> '22.5'."""
    return str(int(t)) if float(t).is_integer() else f"{t:g}"


def _slug(t: float) -> str:
    """30.0 -> '30'; 22.5 -> '22_5' (for column names)."""
    return _fmt(t).replace(".", "_")


def band_labels(thresholds: Sequence[float] | np.ndarray = (30, 60, 120)) -> list[str]:
    """Band values, in order: ``["<=30", "30-60", "60-120", ">120", "sin acceso"]``."""
    th = _check_thresholds(thresholds)
    labels = [f"<={_fmt(th[0])}"]
    labels += [f"{_fmt(a)}-{_fmt(b)}" for a, b in zip(th[:-1], th[1:])]
    labels += [f">{_fmt(th[-1])}", NO_ACCESS]
    return labels


def band_slugs(thresholds: Sequence[float] | np.ndarray = (30, 60, 120)) -> list[str]:
    """Column-name forms of the bands: ``["0_30", "30_60", "60_120", "over_120", "no_access"]``."""
    th = _check_thresholds(thresholds)
    slugs = [f"0_{_slug(th[0])}"]
    slugs += [f"{_slug(a)}_{_slug(b)}" for a, b in zip(th[:-1], th[1:])]
    slugs += [f"over_{_slug(th[-1])}", NO_ACCESS_SLUG]
    return slugs


def _minutes_array(minutes, *, name: str, n: int | None = None) -> np.ndarray:
    m = np.asarray(minutes, dtype=float)
    if m.ndim != 1:
        raise DataError(f"minutes '{name}' must be a 1-D array, got shape {m.shape}")
    if n is not None and m.size != n:
        raise DataError(f"minutes '{name}' has {m.size} values but the places table has {n} rows",
                        hint="pass the travel times computed for these same places, in the same order")
    if np.isnan(m).any():
        bad = np.flatnonzero(np.isnan(m))[:5].tolist()
        raise DataError(f"minutes '{name}' contain NaN (rows {bad}...)",
                        hint="the travel-time engine must return inf for unreachable places, never NaN")
    if (m < 0).any():
        raise DataError(f"minutes '{name}' contain negative travel times (rows {np.flatnonzero(m < 0)[:5].tolist()})")
    return m


def _band_codes(m: np.ndarray, th: np.ndarray) -> np.ndarray:
    """Band index per value: 0..len(th) for finite values, len(th)+1 for inf."""
    codes = np.searchsorted(th, m, side="left")  # th[i-1] < m <= th[i]  ->  i
    codes[~np.isfinite(m)] = th.size + 1
    return codes


def assign_band(minutes: np.ndarray | pd.Series, *, thresholds: Sequence[float] = (30, 60, 120)) -> pd.Categorical:
    """Ordered categorical band of each (unrounded) time: ``<=30`` is ``m <= 30``,
    ``30-60`` is ``30 < m <= 60`` ..., ``>120`` is ``120 < m < inf`` and ``sin acceso`` is ``inf``."""
    th = _check_thresholds(thresholds)
    m = _minutes_array(minutes, name="minutes")
    return pd.Categorical.from_codes(_band_codes(m, th), categories=band_labels(th), ordered=True)


# --------------------------------------------------------------------------- per place


def _nearest_ids(name: str, m: np.ndarray, idx, facilities) -> pd.Series:
    """Facility id of the nearest facility (``<NA>`` when unreachable)."""
    idx = np.asarray(idx)
    if idx.shape != m.shape:
        raise DataError(f"nearest['{name}'] has {idx.size} values but minutes['{name}'] has {m.size}")
    if facilities is None or "facility_id" not in facilities.columns:
        raise DataError(f"facilities['{name}'] is missing or has no 'facility_id' column",
                        hint="pass the facility table the travel times were computed to")
    ids = facilities["facility_id"].astype("string").to_numpy()
    idx = np.where(np.isfinite(m), idx, -1).astype(np.int64)
    if (idx >= len(ids)).any():
        raise DataError(f"nearest['{name}'] refers to facility row {int(idx.max())} but facilities['{name}'] "
                        f"has {len(ids)} rows", hint="nearest must hold row positions in the facility table")
    reachable = idx >= 0
    out = pd.array([pd.NA] * m.size, dtype="string")
    if reachable.any():
        out[reachable] = ids[idx[reachable]]
    return pd.Series(out, dtype="string")


def place_access(places: pd.DataFrame, *, minutes: Mapping[str, np.ndarray], nearest: Mapping[str, np.ndarray],
                 facilities: Mapping[str, pd.DataFrame], thresholds: Sequence[float] = (30, 60, 120),
                 headline: str = "any") -> pd.DataFrame:
    """Add travel time, nearest facility and band per facility set to the places table.

    For each set ``S`` in ``minutes`` (e.g. ``"cetpro"``, ``"extension"``):
    ``minutes_S`` (unrounded float, ``inf`` = unreachable), ``nearest_S`` (the
    ``facility_id`` of the nearest facility, ``<NA>`` when unreachable) and ``band_S``
    (ordered categorical, see :func:`assign_band`).  ``nearest[S]`` holds, for each place,
    the *row position* in ``facilities[S]`` of its nearest facility (any value, e.g. -1,
    where the minutes are ``inf``).

    The headline set (``"any"``) is taken from the inputs when given; otherwise it is
    derived as the element-wise minimum over all sets, ``m_any = min_S m_S`` (ties go to
    the first set), with ``nearest_set_any`` naming the set that wins.  Its values are
    repeated in the headline columns ``minutes_nearest``, ``nearest_facility`` and ``band``.
    The input table is not modified; the result has the same index and row order.
    """
    th = _check_thresholds(thresholds)
    if not minutes:
        raise DataError("place_access needs at least one facility set in 'minutes'")
    n = len(places)
    out = places.copy()
    labels = band_labels(th)
    mins = {name: _minutes_array(m, name=name, n=n) for name, m in minutes.items()}
    ids: dict[str, pd.Series] = {}
    for name, m in mins.items():
        if name not in nearest:
            raise DataError(f"nearest['{name}'] is missing", hint="pass the nearest-facility index for every set")
        ids[name] = _nearest_ids(name, m, nearest[name], facilities.get(name))
    if headline not in mins:
        names = list(mins)
        stack = np.vstack([mins[s] for s in names])
        win = np.argmin(stack, axis=0)
        m_any = stack[win, np.arange(n)]
        id_stack = pd.concat([ids[s].reset_index(drop=True) for s in names], axis=1).to_numpy()
        any_ids = pd.Series(id_stack[np.arange(n), win], dtype="string")
        any_ids[~np.isfinite(m_any)] = pd.NA
        set_name = pd.Series(np.asarray(names, dtype=object)[win], dtype="string")
        set_name[~np.isfinite(m_any)] = pd.NA
        mins[headline] = m_any
        ids[headline] = any_ids
        out[f"nearest_set_{headline}"] = pd.Series(set_name.to_numpy(), index=out.index, dtype="string")
    for name, m in mins.items():
        out[f"minutes_{name}"] = m
        out[f"nearest_{name}"] = pd.Series(ids[name].to_numpy(), index=out.index, dtype="string")
        out[f"band_{name}"] = pd.Categorical.from_codes(_band_codes(m, th), categories=labels, ordered=True)
    out["minutes_nearest"] = out[f"minutes_{headline}"]
    out["nearest_facility"] = out[f"nearest_{headline}"]
    out["band"] = out[f"band_{headline}"]
    return out
