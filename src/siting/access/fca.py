"""The two-step floating catchment family (2SFCA, E2SFCA): supply-to-demand ratios with
CETPRO capacity; equal to PySAL ``access`` on the same inputs."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import DataError, ScenarioError

LUO_QI_WEIGHTS = (1.0, 0.68, 0.22)
"""Step weights of the three travel-time zones of Luo & Qi (2009) E2SFCA."""


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
