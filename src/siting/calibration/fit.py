"""Fitting travel-speed parameters to observed trips: bounded least squares on log times.

Each trip ``i`` has a *path composition* under the current parameters (from its shortest
path): road kilometres per class ``c`` drawn from real lines (``km_ic``) and from rebuilt,
straight, flagged-approximate segments (``kma_ic``), and walking minutes ``w_i`` (terrain
and connector legs).  With parameters ``θ = (v_c, d, m)`` (road speed per class in km/h, the
detour factor of approximate segments, a multiplier on walking time) the modelled minutes of
the same path are

    t_i(θ) = 60 · Σ_c (km_ic + d_c · kma_ic) / v_c  +  m · w_i

(with the current ``θ0`` this is the graph's own time of the path), with ``d_c = d`` unless
the class has its own detour factor (``speeds.detour_factor_by_class``,
:attr:`Params.detour_by_class`, parameter ``detour_<class>``).  The fit minimises, over
``log θ`` inside bounds (``scipy.optimize.least_squares``, trust-region reflective),

    Σ_i ρ(((log t_i(θ) - log o_i) / s)²)  +  Σ_k ρ(((log D_k(θ) - log D°_k) / s_D)²)
        +  Σ_j ρ(((log θ_j - log θ0_j) / σ)²)

where ``D_k(θ) = Σ_c (km_kc + d_c · kma_kc)`` is the modelled road km of a trip whose road
distance ``D°_k`` is known (:data:`DIST_LOG_SD` = ``s_D``), and ``ρ(z) = 2 (√(1 + z) − 1)``
is the soft-L1 loss (:data:`LOSS`: a few far-off reported trips do not drag every speed),
with ``o_i`` the observed minutes, ``s`` = :data:`OBS_LOG_SD` the spread of a reported trip
time and ``σ`` = ``prior_sd`` a weak pull towards the current values.  The pull matters only
where the trips cannot separate two parameters: when every kilometre of a class is
approximate, only ``d / v_c`` is identified, and the prior decides how the change is shared.
``prior_sd = 0`` drops it (plain least squares).  A parameter that no trip informs (no
trip spends at least a quarter of its minutes on the class, on approximate segments for
``d``; fewer than two walking trips for ``m``: :func:`informed`) is not fitted and keeps its value
(:attr:`Fit.uninformed`).

Intervals: a cluster bootstrap (:func:`bootstrap`) resamples the origin-destination pairs
with replacement and refits; the 2.5 and 97.5 percentiles of each parameter are its 95 %
interval.  Cross-validation (:func:`cross_validate`) holds out whole pairs
(:func:`grouped_folds`), so that repeated reports of one road never sit on both sides; with
few pairs one shuffle of the folds is noisy, so it is repeated (``repeats``) and the held-out
median ``|log ratio|`` is averaged over the repetitions.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

OBS_LOG_SD = 0.25  # spread of a reported trip time on the log scale (about ±25 %)
LOSS = "soft_l1"  # robust loss on the scaled residuals (issue #14: a few far-off reported trips)
MIN_INFORMING_SHARE = 0.25  # a parameter is fitted when some trip spends this share of its minutes on it
MIN_INFORMING_KM_SHARE = 0.5  # a class's own detour is fitted from trips with this share of their km on it
DIST_LOG_SD = 0.1  # spread of a reported road distance on the log scale (about ±10 %)
MIN_WALKING_TRIPS = 2  # the walking multiplier is fitted only from this many walking trips
#: bounds of each kind of parameter (km/h for speeds)
BOUNDS: dict[str, tuple[float, float]] = {
    "national_paved": (20.0, 90.0), "national_unknown": (20.0, 90.0),
    "departmental_paved": (15.0, 80.0), "departmental_unpaved": (8.0, 70.0),
    "vecinal": (5.0, 60.0), "trail": (2.0, 30.0), "urban": (5.0, 50.0),
    "detour": (1.0, 3.0), "walk": (0.5, 3.0),
}
DEFAULT_SPEED_BOUNDS = (3.0, 100.0)
DETOUR, WALK = "detour", "walk"


@dataclass(frozen=True)
class Composition:
    """Path compositions of ``n`` trips over the road classes ``classes``.

    ``km``, ``km_approx``: (n, len(classes)) road kilometres on real lines and on approximate
    segments (along the segment, before the detour factor); ``walk_min``: (n,) walking
    minutes under the current walking speed; ``observed``: (n,) observed minutes (NaN for a
    trip that only gives its road distance); ``walking``: (n,) whether the trip was made on
    foot (default: none); ``distance_km``: (n,) observed road km (NaN when not known).
    """

    classes: tuple[str, ...]
    km: np.ndarray
    km_approx: np.ndarray
    walk_min: np.ndarray
    observed: np.ndarray
    walking: np.ndarray | None = None
    distance_km: np.ndarray | None = None  # observed road km of the trip (NaN: not known)

    def subset(self, rows: np.ndarray) -> Composition:
        return Composition(self.classes, self.km[rows], self.km_approx[rows], self.walk_min[rows],
                           self.observed[rows], None if self.walking is None else self.walking[rows],
                           None if self.distance_km is None else self.distance_km[rows])

    @property
    def timed(self) -> np.ndarray:
        """Rows with an observed time (rows with only a road distance inform detours only)."""
        return np.isfinite(self.observed)

    @property
    def measured(self) -> np.ndarray:
        """Rows with an observed road distance."""
        return np.zeros(self.n, bool) if self.distance_km is None else np.isfinite(self.distance_km)

    @property
    def n_walking(self) -> int:
        return 0 if self.walking is None else int(np.sum(self.walking))

    @property
    def n(self) -> int:
        return len(self.observed)


@dataclass(frozen=True)
class Params:
    """``speeds`` (km/h per class), ``detour`` and ``walk`` (multiplier on walking time).

    ``detour_by_class``: the classes with their own detour factor
    (``speeds.detour_factor_by_class``, parameter ``detour_<class>``); it is fitted from the
    observed road km of the trips (:attr:`Composition.distance_km`), and ``detour`` applies
    to the approximate segments of the other classes.
    """

    speeds: dict[str, float]
    detour: float
    walk: float = 1.0
    detour_by_class: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        return {**self.speeds, DETOUR: self.detour,
                **{class_detour(c): float(v) for c, v in self.detour_by_class.items()}, WALK: self.walk}

    @classmethod
    def from_dict(cls, d: dict[str, float], classes: Sequence[str], *,
                  detour_classes: Sequence[str] = ()) -> Params:
        return cls({c: float(d[c]) for c in classes}, float(d[DETOUR]), float(d[WALK]),
                   {c: float(d[class_detour(c)]) for c in detour_classes})

    def detour_of(self, classes: Sequence[str]) -> np.ndarray:
        """``d_c`` per class: ``detour_by_class[c]`` when measured, else the fitted ``detour``."""
        return np.array([float(self.detour_by_class.get(c, self.detour)) for c in classes], dtype=float)


def class_detour(road_class: str) -> str:
    """Name of the parameter of a class's own detour factor: ``detour_<class>``."""
    return f"{DETOUR}_{road_class}"


def predict_km(comp: Composition, p: Params) -> np.ndarray:
    """Road km of each path, ``Σ_c (km_ic + d_c kma_ic)`` (walking legs not counted)."""
    d = p.detour_of(comp.classes)
    return (comp.km + d[None, :] * comp.km_approx).sum(axis=1)


def predict(comp: Composition, p: Params) -> np.ndarray:
    """``t_i = 60 Σ_c (km_ic + d_c kma_ic) / v_c + m w_i`` (minutes) for every trip."""
    v = np.array([p.speeds[c] for c in comp.classes], dtype=float)
    d = p.detour_of(comp.classes)
    road = 60.0 * ((comp.km + d[None, :] * comp.km_approx) / v[None, :]).sum(axis=1)
    return road + p.walk * comp.walk_min


def informed(comp: Composition, p: Params) -> list[str]:
    """Names of the parameters the trips inform under ``p``: a road class when at least one
    trip spends :data:`MIN_INFORMING_SHARE` of its minutes on it, the detour factor likewise
    on approximate segments; a class's own detour ``detour_<class>`` when some trip with an
    observed road distance has :data:`MIN_INFORMING_KM_SHARE` of its road km on that class;
    the walking multiplier when at least :data:`MIN_WALKING_TRIPS` trips were made on foot
    (on road trips the walking minutes are mostly the legs between a town and the rebuilt
    road line, an artefact of the geometry, not a walking speed).  A class crossed for a few
    minutes of long trips would only be moved by the prior: it is left alone."""
    timed = comp.subset(np.flatnonzero(comp.timed))
    total = np.maximum(predict(timed, p), 1e-9)
    v = np.array([p.speeds[c] for c in comp.classes], dtype=float)
    d = p.detour_of(comp.classes)
    per_class = 60.0 * (timed.km + d[None, :] * timed.km_approx) / v[None, :]
    generic = np.array([c not in p.detour_by_class for c in comp.classes], dtype=bool)
    approx = 60.0 * (d[generic][None, :] * timed.km_approx[:, generic] / v[generic][None, :]).sum(axis=1)

    def share(part: np.ndarray, whole: np.ndarray) -> float:
        return float(np.max(part / whole)) if len(whole) else 0.0

    names = [c for k, c in enumerate(comp.classes) if share(per_class[:, k], total) >= MIN_INFORMING_SHARE]
    if share(approx, total) >= MIN_INFORMING_SHARE:
        names.append(DETOUR)
    measured = comp.subset(np.flatnonzero(comp.measured))
    km = np.maximum(predict_km(measured, p), 1e-9)
    for k, c in enumerate(comp.classes):
        if c in p.detour_by_class and share(d[k] * measured.km_approx[:, k], km) >= MIN_INFORMING_KM_SHARE:
            names.append(class_detour(c))
    if comp.n_walking >= MIN_WALKING_TRIPS:
        names.append(WALK)
    return names


@dataclass(frozen=True)
class Fit:
    """A fitted parameter set: ``params``, the ``fitted`` and ``uninformed`` names, the
    in-sample log residuals and the solver's status."""

    params: Params
    fitted: list[str]
    uninformed: list[str]
    residuals: np.ndarray  # log t_i(θ) - log o_i at the optimum
    cost: float
    success: bool
    message: str = ""
    jacobian_sd: dict[str, float] = field(default_factory=dict)  # sd of log θ_j from (JᵀJ)⁻¹


def _bound(name: str) -> tuple[float, float]:
    if name in BOUNDS:
        return BOUNDS[name]
    return BOUNDS[DETOUR] if name.startswith(DETOUR + "_") else DEFAULT_SPEED_BOUNDS


def _bounds(names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    lo = np.array([_bound(n)[0] for n in names], dtype=float)
    hi = np.array([_bound(n)[1] for n in names], dtype=float)
    return np.log(lo), np.log(hi)


def fit(comp: Composition, start: Params, *, prior: Params | None = None, prior_sd: float = 0.5,
        obs_sd: float = OBS_LOG_SD) -> Fit:
    """Bounded least squares on log times (module doc) from ``start``, pulled towards
    ``prior`` (the scenario's values ``θ0``; default ``start``).

    Returns the :class:`Fit`; parameters the trips do not inform keep their ``start`` value.
    """
    names = informed(comp, start) if comp.n else []
    base = start.as_dict()
    fixed = [n for n in base if n not in names]
    if not names:
        return Fit(start, [], fixed, np.log(predict(comp, start) / comp.observed) if comp.n else np.zeros(0),
                   0.0, True, "no trip informs any parameter")
    lo, hi = _bounds(names)
    x0 = np.clip(np.log([base[n] for n in names]), lo + 1e-9, hi - 1e-9)
    centre = (prior or start).as_dict()
    prior_x = np.log([centre[n] for n in names])
    with np.errstate(invalid="ignore"):
        log_obs = np.log(comp.observed)

    def params_of(x: np.ndarray) -> Params:
        d = dict(base)
        d.update({n: float(np.exp(v)) for n, v in zip(names, x)})
        return Params.from_dict(d, list(start.speeds), detour_classes=list(start.detour_by_class))

    timed, measured = np.flatnonzero(comp.timed), np.flatnonzero(comp.measured)
    log_km = np.log(comp.distance_km[measured]) if comp.distance_km is not None else np.zeros(0)

    def residuals(x: np.ndarray) -> np.ndarray:
        p = params_of(x)
        r = (np.log(np.maximum(predict(comp, p)[timed], 1e-9)) - log_obs[timed]) / obs_sd
        r_km = (np.log(np.maximum(predict_km(comp, p)[measured], 1e-9)) - log_km) / DIST_LOG_SD
        return np.concatenate([r, r_km, (x - prior_x) / prior_sd] if prior_sd > 0 else [r, r_km])

    res = least_squares(residuals, x0, bounds=(lo, hi), method="trf", x_scale=1.0, loss=LOSS, f_scale=1.0)
    best = params_of(res.x)
    sd: dict[str, float] = {}
    try:
        cov = np.linalg.pinv(res.jac.T @ res.jac)
        sd = {n: float(np.sqrt(max(cov[k, k], 0.0))) for k, n in enumerate(names)}
    except np.linalg.LinAlgError:  # pragma: no cover - pinv of a finite matrix converges
        pass
    r = np.log(predict(comp, best)) - log_obs
    return Fit(best, list(names), fixed, r, float(res.cost), bool(res.success), str(res.message), sd)


def grouped_folds(groups: Sequence[object] | np.ndarray, k: int, *, seed: int = 0) -> list[np.ndarray]:
    """``k`` test-index arrays that never split a group (the groups are shuffled with ``seed``,
    then dealt round-robin; ``k`` is capped at the number of groups)."""
    labels = pd.Series(list(groups)).astype(str).to_numpy()
    uniq = np.unique(labels)
    rng = np.random.default_rng(seed)
    order = uniq[rng.permutation(len(uniq))]
    k = max(1, min(int(k), len(uniq)))
    fold_of = {g: i % k for i, g in enumerate(order)}
    f = np.array([fold_of[g] for g in labels])
    return [np.flatnonzero(f == i) for i in range(k)]


def median_abs_log(ratio: np.ndarray) -> float:
    """Median of ``|log(modelled / observed)|`` (0 = perfect; 0.29 ≈ a factor 4/3)."""
    r = np.asarray(ratio, dtype=float)
    r = r[np.isfinite(r) & (r > 0)]
    return float(np.median(np.abs(np.log(r)))) if len(r) else float("nan")


@dataclass(frozen=True)
class CrossValidation:
    """Held-out ratios (modelled / observed): ``before`` (current parameters, one per trip) and
    ``after`` (fitted on the other folds; one row per repetition of the fold shuffle), and
    the fold of each trip in each repetition."""

    before: np.ndarray  # (n,)
    after: np.ndarray  # (repeats, n)
    fold: np.ndarray  # (repeats, n)

    @property
    def error_before(self) -> float:
        return median_abs_log(self.before)

    @property
    def errors_after(self) -> np.ndarray:
        """Median |log ratio| of each repetition."""
        return np.array([median_abs_log(a) for a in self.after])

    @property
    def error_after(self) -> float:
        """Mean over the repetitions of the held-out median |log ratio|."""
        return float(np.mean(self.errors_after))

    @property
    def k(self) -> int:
        return int(self.fold.max()) + 1 if self.fold.size else 0


def cross_validate(comp: Composition, start: Params, *, groups: Sequence[object] | np.ndarray, k: int = 5,
                   seed: int = 0, repeats: int = 10, prior_sd: float = 0.5,
                   prior: Params | None = None) -> CrossValidation:
    """Repeated K-fold cross-validation grouped by ``groups`` (e.g. the origin-destination
    pair): in each of ``repeats`` shuffles (seeds ``seed, seed + 1, ...``) every fold is
    predicted by the parameters fitted on the other folds (paths held fixed)."""
    before = predict(comp, start) / comp.observed
    after = np.full((repeats, comp.n), np.nan)
    fold = np.full((repeats, comp.n), -1)
    for rep in range(repeats):
        for i, test in enumerate(grouped_folds(groups, k, seed=seed + rep)):
            train = np.setdiff1d(np.arange(comp.n), test)
            f = fit(comp.subset(train), start, prior=prior, prior_sd=prior_sd)
            after[rep, test] = predict(comp.subset(test), f.params) / comp.observed[test]
            fold[rep, test] = i
    return CrossValidation(before, after, fold)


def bootstrap(comp: Composition, start: Params, *, groups: Sequence[object] | np.ndarray, n: int = 200, seed: int = 0,
              prior_sd: float = 0.5, level: float = 0.95, prior: Params | None = None) -> pd.DataFrame:
    """Cluster-bootstrap interval of every parameter: resample the groups with replacement,
    refit, take the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles.  Columns
    ``parameter, low, high, draws``."""
    labels = pd.Series(list(groups)).astype(str).to_numpy()
    uniq = np.unique(labels)
    members = {g: np.flatnonzero(labels == g) for g in uniq}
    rng = np.random.default_rng(seed)
    draws: list[dict[str, float]] = []
    for _ in range(int(n)):
        pick = rng.choice(uniq, size=len(uniq), replace=True)
        rows = np.concatenate([members[g] for g in pick])
        draws.append(fit(comp.subset(rows), start, prior=prior, prior_sd=prior_sd).params.as_dict())
    table = pd.DataFrame(draws)
    q = ((1 - level) / 2, (1 + level) / 2)
    return pd.DataFrame({"parameter": table.columns, "low": table.quantile(q[0]).to_numpy(),
                         "high": table.quantile(q[1]).to_numpy(), "draws": len(table)})
