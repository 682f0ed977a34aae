"""Candidate eligibility by the population a site would serve (``candidates.population_rule``).

``"own"`` (default): a place is a candidate when its own ``population >= min_population``
(:func:`siting.suitability.candidates.select_candidates`).  ``"catchment"``: a rural
centre serves the caseríos around it, so the minimum applies to its **catchment**, the
people of every place within ``T = allocation.max_minutes`` of it (``access.direction``,
its own place included, served or not)::

    P_i^catch = sum_{j : t_ij <= T} P_j      candidate  <=>  P_i^catch >= min_population

The other rules are applied first with the minimum at 0 (:func:`relaxed_rules`); the
reach is then computed once for those places and :func:`catchment_filter` keeps the rows
whose catchment passes.  The rows it drops join the excluded table with the reason
``catchment_below_min``.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..scenario import Candidates

RULES = ("own", "catchment")


def relaxed_rules(rules: Candidates) -> Candidates:
    """The rules to select with: the minimum at 0 when it applies to the catchment."""
    return dataclasses.replace(rules, min_population=0) if rules.population_rule == "catchment" else rules


def catchment_population(coverage, population: np.ndarray) -> np.ndarray:
    """``P_i^catch`` of every row of ``coverage`` (candidates x places within T; a stored
    entry, an explicit 0 included, means reached)."""
    pattern = coverage.tocsr().copy()
    pattern.data = np.ones_like(pattern.data, dtype=float)
    return np.asarray(pattern @ np.nan_to_num(np.asarray(population, dtype=float)), dtype=float)


def catchment_filter(cand: pd.DataFrame, coverage, places: pd.DataFrame, *, min_population: float,
                     minutes: float, lang: str = "es") -> tuple[np.ndarray, pd.DataFrame, int]:
    """``(keep, dropped, added)``: the rows of ``cand`` whose catchment reaches ``min_population``,
    the dropped rows as excluded-table rows, and how many kept rows have their own population
    below the minimum (what the rule adds)."""
    catch = catchment_population(coverage, places["population"].to_numpy(float))
    keep = catch >= min_population
    own = pd.to_numeric(cand["population"], errors="coerce").to_numpy(float)
    added = int((keep & ~(own >= min_population)).sum())
    cols = [c for c in ("ccpp_id", "name", "ubigeo", "province", "district", "ugel", "area", "population",
                        "minutes_existing", "host_premises") if c in cand.columns]
    dropped = pd.DataFrame(cand.loc[~keep, cols])
    dropped["reason"] = "catchment_below_min"
    word = ("población en su área de {t:.0f} min {p:.0f} < {m:g}" if lang == "es"
            else "population within its {t:.0f}-min catchment {p:.0f} < {m:g}")
    dropped["reason_detail"] = [word.format(t=minutes, p=p, m=min_population) for p in catch[~keep]]
    return keep, dropped, added
