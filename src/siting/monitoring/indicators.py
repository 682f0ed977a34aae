"""Monitoring indicators per centre and period, trends, and centres below a retention level.

Input: the monitoring records of :func:`siting.data.registry.load_monitoring` (one row per
centre and period) and the centres of the data (:func:`centre_table`).  With ``E`` =
``enrolled_total`` of the record:

- ``share_women = W / (W + M)`` and ``share_15_29 = Y / (W + M)``, with ``W``/``M`` the sums of
  the ``enrolled_women_*`` / ``enrolled_men_*`` groups and ``Y`` the sum of the groups whose ages
  lie within 15-29 (``15_29``, ``15_17``, ``18_29``...); NaN without groups;
- ``retention = retained / E``, ``completion = completed / E``, ``certification = certified / E``,
  ``placement = placed_in_work / E`` (all over the enrolled, so they can be compared);
- ``enrolled_per_teacher = E / teachers``;
- against the access model, when residence codes are recorded (``enrolled_living_ccpp_ids``):
  ``residents_within`` / ``residents_beyond`` = enrolled people whose centro poblado is within /
  beyond ``threshold_min`` minutes of the centre (the travel-time engine's minutes, towards the
  centre), ``share_within = within / (within + beyond)``; codes that are not a place of the study
  area count as ``residents_unknown``.

Trends (:func:`trends`): per centre, first and last period, change, and the least-squares slope
of the enrolment per year (period ``YYYY-MM`` = ``YYYY + (MM - 1) / 12``).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..data.registry import enrolled_groups
from ..data.registry_spec import ENROLLED_PATTERN
from ..data.registry_use import centre_table  # noqa: F401  (re-exported)

INDICATOR_COLUMNS = [
    "centre_id", "centre_name", "centre_kind", "ugel", "district", "period", "period_year", "enrolled_total",
    "enrolled_women", "enrolled_men", "enrolled_15_29", "share_women", "share_15_29", "retained", "retention",
    "completed", "completion", "certified", "certification", "placed_in_work", "placement", "teachers",
    "enrolled_per_teacher", "residents_recorded", "residents_within", "residents_beyond", "residents_unknown",
    "share_within"]
TREND_COLUMNS = ["centre_id", "centre_name", "ugel", "n_periods", "first_period", "last_period", "enrolled_first",
                 "enrolled_last", "enrolled_change", "retention_first", "retention_last", "retention_change",
                 "enrolment_slope_per_year"]
LOW_RETENTION_COLUMNS = ["centre_id", "centre_name", "ugel", "last_period", "enrolled_total", "retained", "retention",
                         "min_retention"]


def period_year(period: pd.Series) -> pd.Series:
    """``"2025"`` -> 2025.0, ``"2025-07"`` -> 2025.5."""
    def one(p: object) -> float:
        m = re.fullmatch(r"(\d{4})(?:-(\d{2}))?", str(p))
        if not m:
            return np.nan
        return float(m.group(1)) + (float(m.group(2)) - 1) / 12 if m.group(2) else float(m.group(1))
    return period.map(one).astype(float)


def _young(column: str) -> bool:
    m = ENROLLED_PATTERN.match(column)
    if m is None or m.group(3) == "plus":
        return False
    return int(m.group(2)) >= 15 and int(m.group(3)) <= 29


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    b = b.astype(float)
    return (a.astype(float) / b.where(b > 0)).astype(float)


def residence_counts(records: pd.DataFrame, minutes: dict[str, pd.Series] | None, threshold: float) -> pd.DataFrame:
    """``residents_recorded/within/beyond/unknown`` per record.  ``minutes[centre_id]`` is a Series
    of minutes to that centre indexed by ``ccpp_id`` (inf = beyond any limit; a code missing from
    the index is unknown); ``None`` = no travel times (everything unknown)."""
    rows = []
    for cid, codes in zip(records["centre_id"].astype(str), records["enrolled_living_ccpp_ids"]):
        ids = [] if pd.isna(codes) else str(codes).split("; ")
        t = None if minutes is None else minutes.get(cid)
        known = [] if t is None else [float(t[i]) for i in ids if i in t.index]
        within = sum(1 for v in known if v <= threshold)
        rows.append({"residents_recorded": len(ids), "residents_within": within,
                     "residents_beyond": len(known) - within, "residents_unknown": len(ids) - len(known)})
    out = pd.DataFrame(rows, index=records.index, columns=["residents_recorded", "residents_within",
                                                           "residents_beyond", "residents_unknown"]).astype(float)
    out["share_within"] = _ratio(out["residents_within"], out["residents_within"] + out["residents_beyond"])
    return out


def indicators(records: pd.DataFrame, centres: pd.DataFrame, *, minutes: dict[str, pd.Series] | None = None,
               threshold: float = 60.0) -> pd.DataFrame:
    """One row per record (centre and period) with :data:`INDICATOR_COLUMNS` (formulas in the
    module docstring), sorted by UGEL, centre and period."""
    r = records.copy()
    groups = enrolled_groups(r)
    women = [g for g in groups if "_women_" in g]
    men = [g for g in groups if "_men_" in g]
    r["enrolled_women"] = r[women].sum(axis=1, min_count=1) if women else np.nan
    r["enrolled_men"] = r[men].sum(axis=1, min_count=1) if men else np.nan
    young = [g for g in groups if _young(g)]
    r["enrolled_15_29"] = r[young].sum(axis=1, min_count=1) if young else np.nan
    by_sex = r["enrolled_women"].fillna(0) + r["enrolled_men"].fillna(0)
    by_sex = by_sex.where(r["enrolled_women"].notna() | r["enrolled_men"].notna())
    r["share_women"] = _ratio(r["enrolled_women"], by_sex)
    r["share_15_29"] = _ratio(r["enrolled_15_29"], by_sex)
    for rate, count in (("retention", "retained"), ("completion", "completed"), ("certification", "certified"),
                        ("placement", "placed_in_work")):
        r[rate] = _ratio(r[count], r["enrolled_total"])
    r["enrolled_per_teacher"] = _ratio(r["enrolled_total"], r["teachers"])
    r["period_year"] = period_year(r["period"])
    r = pd.concat([r, residence_counts(r, minutes, threshold)], axis=1)
    info = pd.DataFrame(centres).drop(columns="geometry", errors="ignore").set_index("centre_id")
    ids = r["centre_id"].astype(str)
    r["centre_name"] = ids.map(info["centre_name"]).fillna(ids)
    r["centre_kind"] = ids.map(info["centre_kind"]).fillna("unknown")
    r["ugel"] = ids.map(info["ugel"])
    r["district"] = ids.map(info["district"])
    out = r[INDICATOR_COLUMNS].sort_values(["ugel", "centre_id", "period_year"], na_position="last", kind="stable")
    return out.reset_index(drop=True)


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2 or np.ptp(x[ok]) == 0:
        return float("nan")
    return float(np.polyfit(x[ok], y[ok], 1)[0])


def trends(ind: pd.DataFrame) -> pd.DataFrame:
    """Per centre: first and last period, enrolment and retention then, their change, and the
    least-squares enrolment slope per year (NaN with one period)."""
    rows = []
    for cid, g in ind.sort_values("period_year", kind="stable").groupby("centre_id", sort=False):
        first, last = g.iloc[0], g.iloc[-1]
        rows.append({"centre_id": cid, "centre_name": last["centre_name"], "ugel": last["ugel"],
                     "n_periods": len(g), "first_period": first["period"], "last_period": last["period"],
                     "enrolled_first": first["enrolled_total"], "enrolled_last": last["enrolled_total"],
                     "enrolled_change": last["enrolled_total"] - first["enrolled_total"],
                     "retention_first": first["retention"], "retention_last": last["retention"],
                     "retention_change": last["retention"] - first["retention"],
                     "enrolment_slope_per_year": _slope(g["period_year"].to_numpy(float),
                                                        g["enrolled_total"].to_numpy(float))})
    out = pd.DataFrame(rows, columns=TREND_COLUMNS)
    return out.sort_values(["ugel", "centre_id"], na_position="last", kind="stable").reset_index(drop=True)


def below_retention(ind: pd.DataFrame, min_retention: float) -> pd.DataFrame:
    """Centres whose retention in their latest period with a retention is below ``min_retention``."""
    known = ind[ind["retention"].notna()].sort_values("period_year", kind="stable")
    last = known.groupby("centre_id", sort=False).tail(1)
    low = last[last["retention"] < min_retention].rename(columns={"period": "last_period"})
    low = low.assign(min_retention=float(min_retention))
    return low[LOW_RETENTION_COLUMNS].sort_values(["ugel", "retention"], kind="stable").reset_index(drop=True)
