"""Access indicators per district / province / UGEL / whole area: :func:`aggregate`,
:func:`rank_unserved`, :func:`summary_table` (the CLI and report table) and
:func:`before_after` (what new sites change)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import DataError
from .bands import NO_ACCESS_SLUG, _band_codes, _check_thresholds, _minutes_array, _slug, band_slugs
from .stats import _grouped_gini, _grouped_weighted_median, _share, _sum, _weighted_mean

SEX_COLUMNS = ("population", "women", "men")


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
