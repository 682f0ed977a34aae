"""Access gaps: per-place travel times and bands, aggregates, equity and 2SFCA measures.

Pure functions on tables and arrays; they work on the *output* of the travel-time engine
(``siting.network``) and the data loaders (``siting.data``), never on the graph itself:

- :func:`place_access` — minutes to the nearest facility of each set ("cetpro",
  "extension", "any"), the facility id and the time band of every centro poblado.
- :func:`aggregate` — population (total, by sex, by age group) in each band, shares within
  each threshold, population-weighted mean and median time, Gini of access time, and the
  women-minus-men gap, per district / province / UGEL / whole area.
- :func:`rank_unserved` — districts ranked by target population beyond a threshold.
- :func:`two_stage_fca`, :func:`enhanced_two_stage_fca` — supply/demand ratios (2SFCA
  family) with CETPRO capacity (enrolment); identical to PySAL ``access`` on the same inputs.
- :func:`before_after` — what new sites change (people newly within 60 min, time saved).
- :func:`summary_table` — the per-UGEL table printed by the CLI.

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
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import DataError, ScenarioError

__all__ = [
    "NO_ACCESS",
    "NO_ACCESS_SLUG",
    "LUO_QI_WEIGHTS",
    "round_minutes",
    "band_labels",
    "band_slugs",
    "assign_band",
    "place_access",
    "weighted_median",
    "gini",
    "aggregate",
    "rank_unserved",
    "FcaResult",
    "decay_weights",
    "two_stage_fca",
    "enhanced_two_stage_fca",
    "before_after",
    "summary_table",
]

NO_ACCESS = "sin acceso"
"""Band *value* of places that cannot reach any facility (``inf`` minutes).  It is the key
the report layer translates (``siting.report.labels``: "Sin acceso" / "No access");
column names use the slug ``no_access``."""
NO_ACCESS_SLUG = "no_access"

LUO_QI_WEIGHTS = (1.0, 0.68, 0.22)
"""Step weights of the three travel-time zones of Luo & Qi (2009) E2SFCA."""

SEX_COLUMNS = ("population", "women", "men")

# --------------------------------------------------------------------------- bands


def round_minutes(minutes: np.ndarray | pd.Series | float, *, step: float = 0.1) -> np.ndarray:
    """Display rounding of minutes: round half **up** to a multiple of ``step`` (0.1 min).

    ``r(x) = floor(x / step + 0.5) * step``, computed on the decimal scale to avoid binary
    artefacts (``12.25 -> 12.3``; Python's ``round`` would give ``12.2``).  ``inf`` stays
    ``inf``.  Bands and every statistic use the unrounded values.
    """
    x = np.asarray(minutes, dtype=float)
    scale = 1.0 / step
    with np.errstate(invalid="ignore"):
        # the tiny relative nudge makes values like 12.25 (stored as 12.2499999...) round up
        out = np.floor(x * scale * (1 + 1e-12) + 0.5) / scale
    return np.where(np.isfinite(x), out, x)


def _check_thresholds(thresholds: Sequence[float]) -> np.ndarray:
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


def band_labels(thresholds: Sequence[float] = (30, 60, 120)) -> list[str]:
    """Band values, in order: ``["<=30", "30-60", "60-120", ">120", "sin acceso"]``."""
    th = _check_thresholds(thresholds)
    labels = [f"<={_fmt(th[0])}"]
    labels += [f"{_fmt(a)}-{_fmt(b)}" for a, b in zip(th[:-1], th[1:])]
    labels += [f">{_fmt(th[-1])}", NO_ACCESS]
    return labels


def band_slugs(thresholds: Sequence[float] = (30, 60, 120)) -> list[str]:
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


# --------------------------------------------------------------------------- statistics


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


# --------------------------------------------------------------------------- aggregates

_UNIT_KEYS = {
    "district": ["ubigeo", "district", "province_code", "province", "ugel"],
    "province": ["province_code", "province", "ugel"],
    "ugel": ["ugel"],
}
TOTAL = "total"


def _frame(table: pd.DataFrame) -> pd.DataFrame:
    df = pd.DataFrame(table)
    if "geometry" in df.columns:
        df = df.drop(columns="geometry")
    return df.reset_index(drop=True)


def _unit_keys(df: pd.DataFrame, by: str | None) -> list[str]:
    if by is None:
        return ["unit"]
    if by in _UNIT_KEYS:
        keys = [k for k in _UNIT_KEYS[by] if k in df.columns]
        if not keys or _UNIT_KEYS[by][0] not in df.columns:
            raise DataError(f"cannot aggregate by {by!r}: the places table has no '{_UNIT_KEYS[by][0]}' column")
        return keys
    if by not in df.columns:
        raise DataError(f"cannot aggregate by {by!r}: no such column in the places table",
                        hint="use 'district', 'province', 'ugel', None or an existing column")
    return [by]


def _measures(df: pd.DataFrame, groups: Sequence[str]) -> list[str]:
    cols = list(SEX_COLUMNS) + [f"{p}_{g}" for g in groups for p in ("pop", "women", "men")]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"the places table lacks population columns {missing}",
                        hint="load places with siting.data.population.load_places for these age groups")
    return cols


def _weights(df: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(df[col], errors="coerce").fillna(0.0).to_numpy(dtype=float)


def _grouping(df: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer group code per row and the (sorted) key table of the groups."""
    if keys == ["unit"] and "unit" not in df.columns:
        df = df.assign(unit=TOTAL)
    grouped = df.groupby(keys, sort=True, dropna=False, observed=True)
    codes = grouped.ngroup().to_numpy()
    key_table = grouped.size().reset_index()[keys]
    return codes, key_table


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


def aggregate(place_table: pd.DataFrame, *, by: str | None = "district",
              thresholds: Sequence[float] = (30, 60, 120), groups: Sequence[str] = ("15_29",),
              target: str | None = None, main_threshold: float = 60.0,
              minutes_col: str = "minutes_nearest") -> pd.DataFrame:
    """Access indicators per unit (``by`` = "district", "province", "ugel", any column, or
    ``None`` for the whole area, one row with ``unit = "total"``).

    Measures ``M`` are ``population, women, men`` and ``pop_G, women_G, men_G`` for each
    age group ``G`` in ``groups``; the *target* group (default the first of ``groups``) is
    ``pop_<target>``.  Columns (``b`` a band slug from :func:`band_slugs`, ``T`` a threshold):

    - ``places``, ``places_in_<b>``, ``places_no_access``; ``M`` (total), ``M_in_<b>``;
    - ``M_within_<T>`` (people with ``minutes <= T``), ``M_beyond_<T> = M - M_within_<T>``
      (includes no access) and ``share_M_within_<T> = M_within_<T> / M``;
    - ``mean_minutes`` / ``mean_minutes_target``: ``sum w m / sum w`` over reachable places
      (``w`` = population, resp. target population);
    - ``median_minutes`` / ``median_minutes_target``: lower weighted median (:func:`weighted_median`);
    - ``gini_minutes_target``: weighted Gini of time across the target population (:func:`gini`);
    - ``gap_women_men_beyond_<T0>`` = share of women beyond ``T0`` - share of men beyond
      ``T0`` (``T0 = main_threshold``), and the same for the target group
      (``gap_women_men_<target>_beyond_<T0>``); positive = women are worse off.
    """
    th = _check_thresholds(thresholds)
    df = _frame(place_table)
    if minutes_col not in df.columns:
        raise DataError(f"the places table has no '{minutes_col}' column", hint="run place_access first")
    groups = list(groups)
    target = target if target is not None else (groups[0] if groups else None)
    if target is not None and target not in groups:
        groups.append(target)
    measures = _measures(df, groups)
    keys = _unit_keys(df, by)
    codes, out = _grouping(df, keys)
    n = len(out)
    m = _minutes_array(df[minutes_col], name=minutes_col)
    bands = _band_codes(m, th)
    slugs = band_slugs(th)
    cols: dict[str, np.ndarray] = {"places": np.bincount(codes, minlength=n).astype(np.int64)}
    for b, slug in enumerate(slugs):
        cols[f"places_in_{slug}"] = _sum(codes, (bands == b).astype(float), n).astype(np.int64)
    cols["places_no_access"] = cols[f"places_in_{NO_ACCESS_SLUG}"]
    W = {c: _weights(df, c) for c in measures}
    for c in measures:
        w = W[c]
        cols[c] = _sum(codes, w, n)
        for b, slug in enumerate(slugs):
            cols[f"{c}_in_{slug}"] = _sum(codes, w * (bands == b), n)
        for t in th:
            within = _sum(codes, w * (m <= t), n)
            cols[f"{c}_within_{_slug(t)}"] = within
            cols[f"{c}_beyond_{_slug(t)}"] = cols[c] - within
            cols[f"share_{c}_within_{_slug(t)}"] = _share(within, cols[c])
    wp = W["population"]
    cols["mean_minutes"] = _weighted_mean(codes, m, wp, n)
    cols["median_minutes"] = _grouped_weighted_median(codes, m, wp, n)
    cols["gini_minutes"] = _grouped_gini(codes, m, wp, n)
    if target is not None:
        wt = W[f"pop_{target}"]
        cols["mean_minutes_target"] = _weighted_mean(codes, m, wt, n)
        cols["median_minutes_target"] = _grouped_weighted_median(codes, m, wt, n)
        cols["gini_minutes_target"] = _grouped_gini(codes, m, wt, n)
    t0 = float(main_threshold)
    beyond = m > t0

    def gap(women: str, men: str) -> np.ndarray:
        sw = _share(_sum(codes, W[women] * beyond, n), _sum(codes, W[women], n))
        sm = _share(_sum(codes, W[men] * beyond, n), _sum(codes, W[men], n))
        return sw - sm

    cols[f"gap_women_men_beyond_{_slug(t0)}"] = gap("women", "men")
    if target is not None:
        cols[f"gap_women_men_{target}_beyond_{_slug(t0)}"] = gap(f"women_{target}", f"men_{target}")
    return pd.concat([out.reset_index(drop=True), pd.DataFrame(cols)], axis=1)


def rank_unserved(place_table: pd.DataFrame, *, threshold: float = 60.0, target: str = "15_29",
                  by: str = "district", minutes_col: str = "minutes_nearest") -> pd.DataFrame:
    """Units (districts by default) ranked by *unserved* target population, i.e. people of
    ``pop_<target>`` living where ``minutes > threshold`` (including no access).

    Columns: the unit keys, ``rank`` (1 = most unserved; ties share the lowest rank),
    ``places``, ``places_unserved``, ``target_population``, ``unserved_target``,
    ``share_unserved_target``, ``unserved_women_target``, ``unserved_population``.
    Sorted by ``unserved_target`` descending, then by the unit keys.
    """
    df = _frame(place_table)
    tcol = f"pop_{target}"
    for c in (minutes_col, tcol, f"women_{target}", "population"):
        if c not in df.columns:
            raise DataError(f"the places table has no '{c}' column",
                            hint="run place_access on places loaded with this age group")
    keys = _unit_keys(df, by)
    codes, out = _grouping(df, keys)
    n = len(out)
    m = _minutes_array(df[minutes_col], name=minutes_col)
    beyond = m > float(threshold)
    wt = _weights(df, tcol)
    out["places"] = np.bincount(codes, minlength=n)
    out["places_unserved"] = np.bincount(codes[beyond], minlength=n)
    out["target_population"] = _sum(codes, wt, n)
    out["unserved_target"] = _sum(codes, wt * beyond, n)
    out["share_unserved_target"] = _share(out["unserved_target"].to_numpy(), out["target_population"].to_numpy())
    out["unserved_women_target"] = _sum(codes, _weights(df, f"women_{target}") * beyond, n)
    out["unserved_population"] = _sum(codes, _weights(df, "population") * beyond, n)
    out = out.sort_values(["unserved_target", *keys], ascending=[False] + [True] * len(keys), kind="stable")
    out.insert(len(keys), "rank", out["unserved_target"].rank(method="min", ascending=False).astype(np.int64))
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- 2SFCA family


@dataclass(frozen=True)
class FcaResult:
    """Result of a two-step floating catchment computation.

    ``access[i]`` is the accessibility of demand location i (0 when no supply is within the
    catchment), ``ratio[j]`` the supply-to-weighted-demand ratio of supply j (NaN when no
    demand lies in its catchment) and ``catchment_demand[j]`` the weighted demand of j.
    """

    access: np.ndarray
    ratio: np.ndarray
    catchment_demand: np.ndarray

    def normalized(self, demand: np.ndarray) -> np.ndarray:
        """``A_i / Abar`` with ``Abar = sum_i P_i A_i / sum_i P_i`` (PySAL's ``normalize=True``):
        1 = the population-weighted regional average."""
        p = np.asarray(demand, float)
        mean = float((p * self.access).sum() / p.sum())
        return self.access / mean


def decay_weights(minutes: np.ndarray, *, decay: str, catchment: float,
                  zones: Sequence[tuple[float, float]] | None = None, sigma: float | None = None) -> np.ndarray:
    """Distance-decay weight ``f(d)`` of travel times ``d <= catchment`` (callers drop the rest).

    - ``"binary"``: ``f = 1`` (classic 2SFCA of Luo & Wang 2003);
    - ``"step"``: ``f = w_k`` for ``d <= u_k`` in the first zone ``(u_k, w_k)`` that contains
      ``d`` (zones sorted by upper limit); 0 beyond the last zone.  Default zones: the
      catchment cut in thirds with the Luo & Qi (2009) weights 1, 0.68, 0.22;
    - ``"gaussian"``: ``f = exp(-d^2 / (2 sigma^2))`` (PySAL ``weights.gaussian``), default
      ``sigma = catchment / 2`` (weight 0.135 at the catchment edge).
    """
    d = np.asarray(minutes, float)
    if decay == "binary":
        return np.ones_like(d)
    if decay == "step":
        if zones is None:
            zones = [(catchment * (k + 1) / 3, w) for k, w in enumerate(LUO_QI_WEIGHTS)]
        zones = sorted((float(u), float(w)) for u, w in zones)
        if any(w < 0 for _, w in zones):
            raise ScenarioError(f"step weights must be >= 0, got {zones}")
        uppers = np.array([u for u, _ in zones])
        weights = np.array([w for _, w in zones] + [0.0])
        return weights[np.searchsorted(uppers, d, side="left")]
    if decay == "gaussian":
        s = catchment / 2 if sigma is None else float(sigma)
        if not s > 0:
            raise ScenarioError(f"gaussian sigma must be > 0, got {s}")
        return np.exp(-d * d / (2 * s * s))
    raise ScenarioError(f"decay {decay!r} is not one of 'binary', 'step', 'gaussian'",
                        hint="set access.decay to \"step\" or \"gaussian\"")


def _values(obj, col: str | None, *, what: str, key: str) -> np.ndarray:
    if isinstance(obj, pd.DataFrame):
        if col is None or col not in obj.columns:
            raise DataError(f"the {what} table has no column {col!r}",
                            hint=f"choose an existing column with {key} (columns: {', '.join(map(str, obj.columns))})")
        s = pd.to_numeric(obj[col], errors="coerce")
        if s.isna().any():
            rows = obj.index[s.isna()][:5].tolist()
            raise DataError(f"the {what} column {col!r} has missing or non-numeric values (rows {rows}...)",
                            hint="fill them (e.g. 0) or drop those rows before the 2SFCA")
        v = s.to_numpy(dtype=float)
    else:
        v = np.asarray(obj, dtype=float)
        if np.isnan(v).any():
            raise DataError(f"the {what} values contain NaN")
    if (v < 0).any():
        raise DataError(f"the {what} values must be >= 0")
    return v


def _edges(cost, n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, col, minutes) of every demand-supply connection.  Sparse input: every stored
    entry is a connection (an explicit 0 is 0 minutes); dense input: finite entries."""
    if sp.issparse(cost):
        if cost.shape != (n, m):
            raise DataError(f"cost matrix is {cost.shape} but there are {n} demand and {m} supply locations")
        coo = sp.coo_array(cost)
        return coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.astype(float)
    d = np.asarray(cost, float)
    if d.shape != (n, m):
        raise DataError(f"cost matrix is {d.shape} but there are {n} demand and {m} supply locations")
    r, c = np.nonzero(np.isfinite(d))
    return r.astype(np.int64), c.astype(np.int64), d[r, c]


def two_stage_fca(demand, supply, cost, *, catchment: float, decay: str = "binary",
                  zones: Sequence[tuple[float, float]] | None = None, sigma: float | None = None,
                  demand_col: str | None = None, capacity_col: str | None = "enrolment") -> FcaResult:
    """Two-step floating catchment area (Luo & Wang 2003; with decay, Luo & Qi 2009).

    With ``d_ij`` the minutes from demand location i to supply j, ``f`` the decay of
    :func:`decay_weights`, ``P_i`` demand (target population) and ``S_j`` supply (capacity,
    e.g. CETPRO enrolment):

    1. ``R_j = S_j / sum_{i: d_ij <= d0} f(d_ij) P_i``
    2. ``A_i = sum_{j: d_ij <= d0} f(d_ij) R_j``

    ``d0 = catchment``.  The decay is applied in both steps, as in PySAL ``access``
    (``Access.two_stage_fca`` / ``enhanced_two_stage_fca``); the results are equal to it
    (PySAL leaves ``A_i`` NaN where no supply is in reach; here it is 0).  ``demand`` and
    ``supply`` are arrays or tables (then ``demand_col`` / ``capacity_col`` name the column);
    ``cost`` is a (n_demand x n_supply) scipy sparse matrix of minutes (stored entries =
    connections, as returned by ``siting.network.solve.coverage``) or a dense array with
    ``inf`` for no connection.
    """
    if not catchment > 0:
        raise ScenarioError(f"catchment must be > 0 minutes, got {catchment}", hint="set access.catchment_min")
    p = _values(demand, demand_col, what="demand", key="the demand (e.g. pop_15_29)")
    s = _values(supply, capacity_col, what="supply", key="access.capacity_column")
    rows, cols, d = _edges(cost, p.size, s.size)
    keep = d <= catchment
    rows, cols, d = rows[keep], cols[keep], d[keep]
    f = decay_weights(d, decay=decay, catchment=catchment, zones=zones, sigma=sigma)
    dem = np.bincount(cols, weights=f * p[rows], minlength=s.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(dem > 0, s / np.where(dem > 0, dem, 1), np.nan)
    contrib = f * np.nan_to_num(ratio[cols], nan=0.0)
    acc = np.bincount(rows, weights=contrib, minlength=p.size)
    return FcaResult(access=acc, ratio=ratio, catchment_demand=dem)


def enhanced_two_stage_fca(demand, supply, cost, *, catchment: float, decay: str = "step",
                           zones: Sequence[tuple[float, float]] | None = None, sigma: float | None = None,
                           demand_col: str | None = None, capacity_col: str | None = "enrolment") -> FcaResult:
    """Enhanced 2SFCA (Luo & Qi 2009): :func:`two_stage_fca` with distance decay.

    ``decay="step"`` uses travel-time zones with weights (default: catchment in thirds,
    weights 1, 0.68, 0.22); ``decay="gaussian"`` uses ``f(d) = exp(-d^2 / (2 sigma^2))``.
    Formula: ``R_j = S_j / sum_i f(d_ij) P_i``, ``A_i = sum_j f(d_ij) R_j`` over ``d_ij <= d0``.
    """
    if decay not in ("step", "gaussian"):
        raise ScenarioError(f"E2SFCA decay {decay!r} is not one of 'step', 'gaussian'",
                            hint="set access.decay to \"step\" or \"gaussian\"")
    return two_stage_fca(demand, supply, cost, catchment=catchment, decay=decay, zones=zones, sigma=sigma,
                         demand_col=demand_col, capacity_col=capacity_col)


# --------------------------------------------------------------------------- before / after


def before_after(places: pd.DataFrame, minutes_before: np.ndarray, minutes_after: np.ndarray, *,
                 threshold: float = 60.0, groups: Sequence[str] = ("15_29",), by: str | None = "ugel") -> pd.DataFrame:
    """What a change of sites does, per unit (``by``, default UGEL) plus a ``total`` row.

    With ``b``/``a`` the minutes before/after and ``T = threshold``, for every measure ``M``
    (``population, women, men, pop_G, women_G, men_G``):
    ``M``, ``M_within_before = sum M [b <= T]``, ``M_within_after = sum M [a <= T]``,
    ``M_newly_within = sum M [b > T and a <= T]``, ``share_M_within_before/after`` and
    ``M_within_change_rel = M_within_after / M_within_before - 1`` (the "coverage rose 10 %").
    Also ``places_newly_within``, ``places_newly_reachable`` (``b = inf``, ``a < inf``),
    ``mean_minutes_before/after`` and ``mean_minutes_saved = sum P (b - a) / sum P``
    (population-weighted, over places reachable both before and after), and
    ``mean_minutes_saved_newly`` (the same over the newly-within places that were reachable
    before).  The last row has the first unit key set to ``"total"``.
    """
    df = _frame(places)
    n_rows = len(df)
    b = _minutes_array(minutes_before, name="minutes_before", n=n_rows)
    a = _minutes_array(minutes_after, name="minutes_after", n=n_rows)
    measures = _measures(df, list(groups))
    t = float(threshold)
    newly = (b > t) & (a <= t)
    both = np.isfinite(b) & np.isfinite(a)
    W = {c: _weights(df, c) for c in measures}

    def table(codes: np.ndarray, n: int) -> pd.DataFrame:
        cols: dict[str, np.ndarray] = {}
        for c in measures:
            w = W[c]
            tot = _sum(codes, w, n)
            wb = _sum(codes, w * (b <= t), n)
            wa = _sum(codes, w * (a <= t), n)
            cols[c] = tot
            cols[f"{c}_within_before"] = wb
            cols[f"{c}_within_after"] = wa
            cols[f"{c}_newly_within"] = _sum(codes, w * newly, n)
            cols[f"share_{c}_within_before"] = _share(wb, tot)
            cols[f"share_{c}_within_after"] = _share(wa, tot)
            cols[f"{c}_within_change_rel"] = _share(wa, wb) - 1
        wp = W["population"]
        cols["places_newly_within"] = np.bincount(codes[newly], minlength=n)
        cols["places_newly_reachable"] = np.bincount(codes[~np.isfinite(b) & np.isfinite(a)], minlength=n)
        bb = np.where(both, b, np.inf)
        aa = np.where(both, a, np.inf)
        cols["mean_minutes_before"] = _weighted_mean(codes, bb, wp, n)
        cols["mean_minutes_after"] = _weighted_mean(codes, aa, wp, n)
        with np.errstate(invalid="ignore"):  # inf - inf where unreachable; masked by `both`
            saved = np.where(both, b - a, np.inf)
        cols["mean_minutes_saved"] = _weighted_mean(codes, saved, wp, n)
        cols["mean_minutes_saved_newly"] = _weighted_mean(codes, np.where(newly, saved, np.inf), wp, n)
        return pd.DataFrame(cols)

    keys = _unit_keys(df, by)
    codes, key_table = _grouping(df, keys)
    units = pd.concat([key_table.reset_index(drop=True), table(codes, len(key_table))], axis=1)
    if by is None:
        return units
    total_keys = pd.DataFrame({k: [TOTAL if i == 0 else pd.NA] for i, k in enumerate(keys)})
    total = pd.concat([total_keys, table(np.zeros(n_rows, dtype=np.int64), 1)], axis=1)
    return pd.concat([units, total], ignore_index=True)


# --------------------------------------------------------------------------- CLI summary


def summary_table(place_table: pd.DataFrame, *, target: str = "15_29", thresholds: Sequence[float] = (60, 120),
                  by: str = "ugel", minutes_col: str = "minutes_nearest") -> pd.DataFrame:
    """Per-UGEL summary for the CLI, with a final ``total`` row.

    Columns: ``places``, ``population``, ``target_population`` (``pop_<target>``), for each
    threshold ``T``: ``share_within_T`` (population with ``minutes <= T`` / population),
    ``target_share_within_T``, ``population_beyond_T`` and ``target_beyond_T`` (people with
    ``minutes > T``, including no access); ``population_no_access`` and ``mean_minutes``
    (population-weighted over reachable places).
    """
    th = _check_thresholds(thresholds)
    df = _frame(place_table)
    tcol = f"pop_{target}"
    for c in (minutes_col, tcol, "population"):
        if c not in df.columns:
            raise DataError(f"the places table has no '{c}' column", hint="run place_access first")
    m = _minutes_array(df[minutes_col], name=minutes_col)
    wp, wt = _weights(df, "population"), _weights(df, tcol)

    def table(codes: np.ndarray, n: int) -> pd.DataFrame:
        cols: dict[str, np.ndarray] = {"places": np.bincount(codes, minlength=n),
                                       "population": _sum(codes, wp, n), "target_population": _sum(codes, wt, n)}
        for t in th:
            s = _slug(t)
            pw, tw = _sum(codes, wp * (m <= t), n), _sum(codes, wt * (m <= t), n)
            cols[f"share_within_{s}"] = _share(pw, cols["population"])
            cols[f"target_share_within_{s}"] = _share(tw, cols["target_population"])
            cols[f"population_beyond_{s}"] = cols["population"] - pw
            cols[f"target_beyond_{s}"] = cols["target_population"] - tw
        cols["population_no_access"] = _sum(codes, wp * ~np.isfinite(m), n)
        cols["mean_minutes"] = _weighted_mean(codes, m, wp, n)
        return pd.DataFrame(cols)

    keys = _unit_keys(df, by)
    codes, key_table = _grouping(df, keys)
    units = pd.concat([key_table.reset_index(drop=True), table(codes, len(key_table))], axis=1)
    total_keys = pd.DataFrame({k: [TOTAL if i == 0 else pd.NA] for i, k in enumerate(keys)})
    total = pd.concat([total_keys, table(np.zeros(len(df), dtype=np.int64), 1)], axis=1)
    return pd.concat([units, total], ignore_index=True)
