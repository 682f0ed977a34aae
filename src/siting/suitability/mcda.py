"""Transparent multi-criteria scoring: normalisation, weights (direct or AHP), score, rank.

Score of candidate i:  ``S_i = Σ_c w_c · v_ic`` with ``Σ_c w_c = 1`` and ``v_ic ∈ [0, 1]``
the normalised value of criterion c, direction applied so that 1 is always better.
The *contribution* of c to i is ``w_c · v_ic``; contributions sum to the score.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ScenarioError
from ..scenario import Scenario, Suitability
from .criteria import CRITERIA
from .ranks import rank_values

#: Saaty's random consistency index RI(n) (Saaty 1980, n = 1..15).
SAATY_RI = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49,
            11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59}
CR_LIMIT = 0.10


# --------------------------------------------------------------------------- normalisation

def _clip_inf(x: np.ndarray) -> np.ndarray:
    """Replace +inf / -inf by the largest / smallest finite value (unreachable = extreme)."""
    x = x.astype(float).copy()
    finite = np.isfinite(x)
    if finite.any():
        x[x == np.inf] = x[finite].max()
        x[x == -np.inf] = x[finite].min()
    else:
        x[np.isinf(x)] = np.nan
    return x


def normalise_column(values, direction: str, *, method: str = "minmax") -> np.ndarray:
    """Normalise one criterion to [0, 1] with 1 = better.

    * ``minmax``: ``v = (x − min) / (max − min)`` for ``"+"`` and ``(max − x) / (max − min)``
      for ``"−"``; a constant column gives 0 everywhere (it does not discriminate).
    * ``rank``: ``v = (r − 1) / (n − 1)`` with r the average rank of ``±x`` among the n
      non-missing values (ties share a rank).

    ``±inf`` is treated as the most extreme finite value; NaN (unknown) gets 0, the worst.
    """
    if method not in {"minmax", "rank"}:
        raise ScenarioError(f"key 'suitability.normalisation' = {method!r} is not one of ['minmax', 'rank']")
    if direction not in {"+", "−", "-"}:
        raise ValueError(f"direction must be '+' or '−', got {direction!r}")
    sign = 1.0 if direction == "+" else -1.0
    x = _clip_inf(np.asarray(values, dtype=float))
    out = np.zeros(len(x))
    ok = ~np.isnan(x)
    if ok.sum() < 2:
        return out
    if method == "minmax":
        lo, hi = x[ok].min(), x[ok].max()
        if hi > lo:
            out[ok] = (x[ok] - lo) / (hi - lo) if sign > 0 else (hi - x[ok]) / (hi - lo)
    else:
        r = rank_values(sign * x[ok], method="average")
        out[ok] = (r - 1.0) / (ok.sum() - 1.0)
    return out


def normalise(table: pd.DataFrame, *, method: str = "minmax", criteria: Sequence[str] | None = None) -> pd.DataFrame:
    """Normalise every criterion column (default: all columns that are in :data:`CRITERIA`)."""
    names = [c for c in CRITERIA if c in table.columns] if criteria is None else list(criteria)
    missing = [c for c in names if c not in table.columns]
    if missing:
        raise ValueError(f"criteria table has no column {missing[0]!r}")
    return pd.DataFrame({c: normalise_column(table[c].to_numpy(), CRITERIA[c].direction, method=method)
                         for c in names}, index=table.index)


# --------------------------------------------------------------------------- weights

def resolve_weights(weights: Mapping[str, float], *, key: str = "suitability.weights") -> dict[str, float]:
    """Validate and normalise weights to sum 1.  Unknown criterion → :class:`ScenarioError`."""
    for name, w in weights.items():
        if name not in CRITERIA:
            raise ScenarioError(f"unknown criterion '{name}' in '{key}'",
                                hint=f"valid criteria: {', '.join(CRITERIA)}")
        if not np.isfinite(w) or w < 0:
            raise ScenarioError(f"weight '{key}.{name}' must be a number >= 0, got {w!r}")
    total = float(sum(weights.values()))
    if total <= 0:
        raise ScenarioError(f"the weights in '{key}' sum to 0", hint="give at least one criterion a positive weight")
    return {k: float(v) / total for k, v in weights.items()}


@dataclass
class AHPResult:
    """Weights from an AHP pairwise-comparison matrix and its consistency."""

    criteria: list[str]
    weights: dict[str, float]
    lambda_max: float
    ci: float
    ri: float
    cr: float


def ahp_weights(criteria: Sequence[str], matrix, *, cr_limit: float = CR_LIMIT,
                key: str = "suitability.ahp") -> AHPResult:
    """Analytic Hierarchy Process weights (Saaty).

    ``matrix[i][j] = a_ij`` says how much more important criterion i is than j (1-9 scale);
    it must be positive with ``a_ii = 1`` and reciprocal ``a_ji = 1 / a_ij`` (1 % tolerance).
    Weights are the principal right eigenvector, ``A w = λ_max w``, scaled to ``Σ w = 1``.
    Consistency: ``CI = (λ_max − n) / (n − 1)``, ``CR = CI / RI(n)`` with Saaty's random
    index RI (``CR = 0`` for n ≤ 2).  ``CR > cr_limit`` (0.10) raises :class:`ScenarioError`
    naming the judgements that disagree most with the weights, i.e. the pairs with the
    largest ``|log(a_ij · w_j / w_i)|``.
    """
    names = list(criteria)
    for name in names:
        if name not in CRITERIA:
            raise ScenarioError(f"unknown criterion '{name}' in '{key}'", hint=f"valid criteria: {', '.join(CRITERIA)}")
    if len(set(names)) != len(names):
        raise ScenarioError(f"criteria repeated in '{key}'")
    try:
        a = np.asarray(matrix, dtype=float)
    except ValueError as exc:
        raise ScenarioError(f"'{key}.matrix' must be a square table of numbers ({exc})") from exc
    n = len(names)
    if a.shape != (n, n):
        raise ScenarioError(f"'{key}.matrix' has shape {a.shape}; expected {n}×{n} for criteria {names}")
    if n == 0:
        raise ScenarioError(f"'{key}' has no criteria")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        i, j = np.argwhere(~np.isfinite(a) | (a <= 0))[0]
        raise ScenarioError(f"'{key}.matrix' row {i + 1} column {j + 1} ({names[i]} vs {names[j]}) must be > 0, "
                            f"got {a[i, j]}")
    for i in range(n):
        if abs(a[i, i] - 1) > 1e-9:
            raise ScenarioError(f"'{key}.matrix' diagonal entry {i + 1} ({names[i]}) must be 1, got {a[i, i]}")
        for j in range(i + 1, n):
            if abs(a[i, j] * a[j, i] - 1) > 0.01:
                raise ScenarioError(
                    f"'{key}.matrix' is not reciprocal for {names[i]} vs {names[j]}: "
                    f"a[{i + 1}][{j + 1}] = {a[i, j]:g} but a[{j + 1}][{i + 1}] = {a[j, i]:g}",
                    hint=f"set a[{j + 1}][{i + 1}] = 1/{a[i, j]:g}")
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    lam = float(vals[k].real)
    w = np.abs(vecs[:, k].real)
    w = w / w.sum()
    ci = (lam - n) / (n - 1) if n > 1 else 0.0
    ri = SAATY_RI.get(n, 1.59)
    cr = ci / ri if ri > 0 else 0.0
    rows = [{"criterion_i": names[i], "criterion_j": names[j], "judgement": a[i, j], "implied": w[i] / w[j],
             "log_error": abs(np.log(a[i, j] * w[j] / w[i]))} for i in range(n) for j in range(i + 1, n)]
    errs = pd.DataFrame(rows, columns=["criterion_i", "criterion_j", "judgement", "implied", "log_error"])
    errs = errs.sort_values("log_error", ascending=False, kind="stable").reset_index(drop=True)
    if cr > cr_limit:
        worst = "; ".join(f"{r.criterion_i} vs {r.criterion_j} (judged {r.judgement:.3g}, "
                          f"weights imply {r.implied:.3g})"
                          for r in errs.head(3).itertuples())
        raise ScenarioError(f"the AHP matrix in '{key}' is inconsistent: CR = {cr:.3f} > {cr_limit:g}; "
                            f"most inconsistent judgements: {worst}",
                            hint="revise those pairwise judgements so that they agree with the others")
    return AHPResult(names, dict(zip(names, map(float, w))), lam, float(ci), float(ri), float(cr))


def weights_from_scenario(suit: Suitability | Scenario) -> dict[str, float]:
    """The scenario's criterion weights, normalised to sum 1.

    With a non-empty ``[suitability.ahp]`` table (``matrix = [[...]]``) the weights come
    from :func:`ahp_weights`; the criteria order is ``ahp.criteria`` when given, otherwise
    the order of the keys of ``[suitability.weights]`` (whose values are then ignored).
    """
    if isinstance(suit, Scenario):
        suit = suit.suitability
    if suit.ahp:
        if "matrix" not in suit.ahp:
            raise ScenarioError("'suitability.ahp' has no 'matrix'", hint="write matrix = [[1, 3], [0.3333, 1]]")
        criteria = list(suit.ahp.get("criteria") or suit.weights)
        return ahp_weights(criteria, suit.ahp["matrix"]).weights
    return resolve_weights(suit.weights)


# --------------------------------------------------------------------------- scoring

def top_criteria_text(contrib: pd.DataFrame, *, k: int = 3) -> list[str]:
    """``"unserved_target (0.31), poverty (0.12)"``: the k largest positive contributions per row."""
    names = np.asarray(contrib.columns)
    vals = contrib.to_numpy(float)
    order = np.argsort(-vals, axis=1, kind="stable")[:, :k]
    texts = []
    for row, idx in zip(vals, order):
        texts.append(", ".join(f"{names[j]} ({row[j]:.2f})" for j in idx if row[j] > 0))
    return texts


def score_table(criteria_table: pd.DataFrame, weights: Mapping[str, float], *, normalisation: str = "minmax",
                top_k: int = 3) -> pd.DataFrame:
    """Weighted score of every candidate.

    Returns the same index with ``norm_<c>`` (normalised values), ``contrib_<c>``
    (``w_c · norm_c``), ``score`` (``Σ_c contrib_c``), ``rank`` (1 = best; ties share the
    lowest rank) and ``top_criteria``.  ``attrs["notes"]`` lists weighted criteria with no data.
    """
    w = resolve_weights(weights)
    missing = [c for c in w if c not in criteria_table.columns]
    if missing:
        raise ScenarioError(f"criterion '{missing[0]}' has a weight but is not in the criteria table",
                            hint="set its weight to 0 or provide the input it needs")
    names = list(w)
    norm = normalise(criteria_table, method=normalisation, criteria=names)
    contrib = norm * pd.Series(w)
    out = pd.DataFrame(index=criteria_table.index)
    if "ccpp_id" in criteria_table:
        out["ccpp_id"] = criteria_table["ccpp_id"]
    for c in names:
        out[f"norm_{c}"] = norm[c]
    for c in names:
        out[f"contrib_{c}"] = contrib[c]
    out["score"] = contrib.sum(axis=1)
    out["rank"] = rank_values(-out["score"].to_numpy(), method="min").astype(int) if len(out) else []
    out["top_criteria"] = top_criteria_text(contrib, k=top_k)
    out.attrs["notes"] = [f"criterion '{c}' has no data: its weight {w[c]:.2f} contributes nothing"
                          for c in names if w[c] > 0 and criteria_table[c].isna().all()]
    return out


@dataclass
class WeightedScore:
    """The transparent scoring model: ``S_i = Σ_c w_c · v_ic`` (see :func:`score_table`)."""

    weights: dict[str, float]
    normalisation: str = "minmax"

    def __post_init__(self) -> None:
        self.weights = resolve_weights(self.weights)

    @classmethod
    def from_scenario(cls, sc: Scenario | Suitability) -> WeightedScore:
        suit = sc.suitability if isinstance(sc, Scenario) else sc
        return cls(weights_from_scenario(suit), normalisation=suit.normalisation)

    def score(self, criteria_table: pd.DataFrame, *, top_k: int = 3) -> pd.DataFrame:
        return score_table(criteria_table, self.weights, normalisation=self.normalisation, top_k=top_k)
