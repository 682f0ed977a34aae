"""How stable is each candidate's rank?  Monte Carlo over weights (and optionally speeds).

Each run draws weights ``w̃ ~ Dirichlet(κ · w)`` around the chosen weights w (κ =
``concentration``: ``E[w̃] = w``, ``Var[w̃_c] = w_c (1 − w_c) / (κ + 1)``, so a large κ
keeps the weights close to w).  Criteria with weight 0 stay at 0.  When ``recompute`` is
given, a few speed factors ``f ~ U(1 − jitter, 1 + jitter)`` are drawn, the criteria table
is recomputed once for each (cached) and every run uses one of them at random.  Each run
scores and ranks all candidates (rank 1 = best); per candidate we report the share of runs
in the top N, the median rank and the 5th–95th percentile rank interval (observed ranks:
the lower/higher order statistic, so the interval is never narrowed by interpolation).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .mcda import normalise, resolve_weights
from .ranks import rank_values


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Ranks (1 = highest score, ties share the lowest rank) of every column of ``scores``."""
    return rank_values(-scores, axis=0, method="min").astype(np.int32)


def _weighted_criteria(weights: Mapping[str, float], *, n_runs: int, concentration: float
                       ) -> tuple[dict[str, float], list[str], np.ndarray]:
    """Validate the Monte Carlo settings; the resolved weights, the criteria with a positive
    weight and those weights as a vector."""
    if n_runs < 1:
        raise ValueError("n_runs must be >= 1")
    if concentration <= 0:
        raise ValueError("concentration must be > 0")
    w = resolve_weights(weights)
    names = [c for c, v in w.items() if v > 0]
    return w, names, np.array([w[c] for c in names])


def draw_ranks(norms: Sequence[np.ndarray], w_vec: np.ndarray, *, n_runs: int, concentration: float,
               rng: np.random.Generator) -> np.ndarray:
    """Ranks (candidates x ``n_runs``): each run draws weights ``Dirichlet(concentration * w)``
    and one of the normalised criteria tables ``norms`` (a speed scenario) at random."""
    draws = rng.dirichlet(concentration * w_vec, size=n_runs) if len(w_vec) > 1 else np.ones((n_runs, 1))
    which = rng.integers(0, len(norms), size=n_runs)
    ranks = np.empty((norms[0].shape[0], n_runs), dtype=np.int32)
    for k, nm in enumerate(norms):
        runs = np.flatnonzero(which == k)
        if len(runs):
            ranks[:, runs] = _ranks(nm @ draws[runs].T)
    return ranks


def rank_stability(ranks: np.ndarray, base_scores: np.ndarray, *, top_n: int, index: pd.Index) -> pd.DataFrame:
    """Per candidate: ``rank`` at the chosen weights (``base_scores``), ``share_top_n`` (share of
    runs ranked <= ``top_n``), ``rank_median``, ``rank_p05`` and ``rank_p95`` (observed ranks:
    the lower / higher order statistic, so the interval is never narrowed by interpolation)."""
    return pd.DataFrame({
        "rank": _ranks(np.asarray(base_scores)[:, None])[:, 0],
        "share_top_n": (ranks <= top_n).mean(axis=1),
        "rank_median": np.median(ranks, axis=1),
        "rank_p05": np.percentile(ranks, 5, axis=1, method="lower"),
        "rank_p95": np.percentile(ranks, 95, axis=1, method="higher"),
    }, index=index)


def monte_carlo(
    criteria_table: pd.DataFrame,
    weights: Mapping[str, float],
    *,
    n_runs: int = 500,
    concentration: float = 50.0,
    top_n: int = 10,
    seed: int = 20241126,
    normalisation: str = "minmax",
    recompute: Callable[[float], pd.DataFrame] | None = None,
    speed_jitter: float = 0.2,
    n_speed_samples: int = 5,
    tables: Sequence[pd.DataFrame] | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Rank stability of every candidate under weight (and speed) uncertainty.

    Returns one row per candidate (index of ``criteria_table``) with ``rank`` (deterministic,
    chosen weights), ``share_top_n`` (share of runs ranked ≤ ``top_n``), ``rank_median``,
    ``rank_p05`` and ``rank_p95``.  ``attrs`` records the settings (runs, κ, seed, factors).
    ``recompute(speed_factor)`` must return a criteria table with the same index.
    ``tables`` (criteria tables of travel-time draws, same index) replace the factor draws:
    each run then uses one of them at random.
    """
    w, names, w_vec = _weighted_criteria(weights, n_runs=n_runs, concentration=concentration)
    rng = np.random.default_rng(seed)

    def norm(t: pd.DataFrame) -> np.ndarray:
        if not t.index.equals(criteria_table.index):
            raise ValueError("every speed scenario needs a criteria table with the same index as criteria_table")
        return normalise(t, method=normalisation, criteria=names).to_numpy(float)

    base = norm(criteria_table)
    factors = [1.0]
    scenarios = [base]
    if tables:
        factors = []  # interval draws: no global factor
        scenarios = [norm(t) for t in tables]
    elif recompute is not None and speed_jitter > 0 and n_speed_samples > 0:
        factors = [float(f) for f in rng.uniform(1 - speed_jitter, 1 + speed_jitter, size=n_speed_samples)]
        scenarios = [norm(recompute(f)) for f in tqdm(factors, desc="speed scenarios", leave=False,
                                                      disable=None if progress is None else not progress)]

    ranks = draw_ranks(scenarios, w_vec, n_runs=n_runs, concentration=concentration, rng=rng)
    out = rank_stability(ranks, base @ w_vec, top_n=top_n, index=criteria_table.index)
    if "ccpp_id" in criteria_table:
        out.insert(0, "ccpp_id", criteria_table["ccpp_id"].to_numpy())
    out.attrs.update({"n_runs": n_runs, "concentration": concentration, "top_n": top_n, "seed": seed,
                      "speed_factors": factors, "speed_draws": len(tables or []), "weights": w})
    return out
