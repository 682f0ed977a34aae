"""``siting calibrate``: road speeds, detour factor and walking fitted to observed trips.

Steps (formulas in :mod:`.fit` and :mod:`.composition`):

1. read and match the trips (:mod:`siting.data.trips`); the fit uses the matched trips that
   fit today's roads (``road_state == "current"``: trips dated before the paving, rows said
   to be before asphalting, undated rows on unpaved roads and the undated tourist sheet's
   upper bounds are excluded, and listed with their reason); the matched road trips that
   give their road km (``distance_km``) join the fit through their km alone, whatever their
   date (:func:`distance_rows`): they fit each rebuilt class's own detour factor
   (``speeds.detour_factor_by_class``, parameter ``detour_<class>``);
2. route them on the scenario's graph and measure each path's composition under the
   current parameters ``θ0``;
3. fit ``θ`` (bounded least squares on log times, weak pull to ``θ0``), rebuild the graph with
   the fitted speeds, re-route, measure the new compositions and refit: ``iterations`` times
   (paths change when speeds change);
4. K-fold cross-validation grouped by origin-destination pair on the compositions under
   ``θ0`` (held-out error before = the current model, after = fitted on the other folds);
5. cluster-bootstrap 95 % intervals of each fitted parameter on the final compositions;
6. write the calibrated scenario (a NEW TOML: the ``target`` scenario with its ``[speeds]``
   replaced and its relative paths rebased) and the report (:mod:`.report`).

The walking multiplier ``m`` is written as ``walk_kmh_max = walk_kmh_max0 / m`` (every
walking time, terrain and connectors, scales with ``1 / walk_kmh_max``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import StudyData, load_data
from ..data import trips as trips_mod
from ..errors import UserError
from ..scenario import Scenario, Speeds
from . import fit as fitting
from .composition import TripComposition, approximate_share, route_composition, to_fit_composition
from .labels import text
from .validate import route_trips, validation_table

SPEED_DECIMALS, DETOUR_DECIMALS, WALK_DECIMALS = 1, 2, 2


def start_params(speeds: Speeds) -> fitting.Params:
    """The scenario's parameters ``θ0`` (walking multiplier 1)."""
    return fitting.Params(dict(speeds.road_kmh), float(speeds.approximate_detour_factor), 1.0,
                          dict(speeds.detour_factor_by_class or {}))


def speeds_of(base: Speeds, p: fitting.Params) -> Speeds:
    """``base`` with the fitted speeds (rounded as written), detour and walking speed
    ``walk_kmh_max = base.walk_kmh_max / m``."""
    return dataclasses.replace(
        base, road_kmh={c: round(float(v), SPEED_DECIMALS) for c, v in p.speeds.items()},
        approximate_detour_factor=round(float(p.detour), DETOUR_DECIMALS),
        detour_factor_by_class={c: round(float(v), DETOUR_DECIMALS) for c, v in p.detour_by_class.items()},
        walk_kmh_max=round(float(base.walk_kmh_max / p.walk), WALK_DECIMALS))


def rounded(base: Speeds, p: fitting.Params) -> fitting.Params:
    """The parameters as they are written into the scenario (see :func:`speeds_of`)."""
    s = speeds_of(base, p)
    return fitting.Params(dict(s.road_kmh), s.approximate_detour_factor, base.walk_kmh_max / s.walk_kmh_max,
                          dict(s.detour_factor_by_class))


def pair_groups(used: pd.DataFrame) -> np.ndarray:
    """One label per trip for its unordered origin-destination pair (ccpp codes)."""
    a = used["origin_ccpp_id"].astype(str).to_numpy()
    b = used["destination_ccpp_id"].astype(str).to_numpy()
    return np.array([f"{min(x, y)}-{max(x, y)}" for x, y in zip(a, b)])


@dataclass
class Calibration:
    """Everything :func:`calibrate` computed (the report and the TOML are written from it)."""

    start: fitting.Params
    final: fitting.Params
    final_fit: fitting.Fit
    speeds: Speeds  # the calibrated [speeds] section
    used: pd.DataFrame  # the trips of the fit (match_trips rows)
    before: pd.DataFrame  # trip_validation table under θ0 (every row)
    after: pd.DataFrame  # the same under the calibrated speeds
    cv: fitting.CrossValidation
    folds: int
    intervals: pd.DataFrame
    composition: TripComposition  # final paths
    share: dict[str, float] = field(default_factory=dict)  # approximate share of each road class
    prior_sd: float = 0.5
    iterations: list[dict] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    distance: pd.DataFrame | None = None  # trips with an observed road km: modelled_km, observed_km


def distance_rows(matched: pd.DataFrame, used: pd.DataFrame) -> pd.DataFrame:
    """Matched road trips with an observed road distance that are not in ``used``: they
    inform the detour factor of each rebuilt class through their km, whatever the date of
    their time (a road's length changes little when it is paved)."""
    km = pd.to_numeric(matched.get("distance_km", pd.Series(np.nan, index=matched.index)), errors="coerce")
    keep = matched["matched"].astype(bool) & ~matched["walking"].astype(bool) & np.isfinite(km)
    keep &= ~matched["row"].isin(used["row"])
    return matched[keep.to_numpy()].reset_index(drop=True)


def _fit_set(used: pd.DataFrame, extra: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The trips of the fit: ``used`` (times and, when given, km) then ``extra`` (km only);
    their observed minutes (NaN for ``extra``) and road km (NaN when not known)."""
    rows = pd.concat([used, extra], ignore_index=True)
    obs = np.concatenate([used["observed_min"].to_numpy(float), np.full(len(extra), np.nan)])
    km = pd.to_numeric(rows.get("distance_km", pd.Series(np.nan, index=rows.index)), errors="coerce")
    return rows, obs, km.to_numpy(float)


def _iterate(sc: Scenario, data: StudyData, used: pd.DataFrame, theta0: fitting.Params, *, iterations: int,
             share: dict[str, float], prior_sd: float, say, lang: str, distance_km: np.ndarray
             ) -> tuple[fitting.Params, list[dict], TripComposition]:
    """Fit, rebuild, re-route, refit; returns the final parameters, the log and the first
    composition.  ``used`` is the fit set (:func:`_fit_set`): rows without an observed time
    carry only their road km (``distance_km``, NaN where not known)."""
    obs, km = used["observed_min"].to_numpy(float), distance_km
    timed = np.isfinite(obs)
    cur, log, first = theta0, [], None
    minutes, graph, walk = route_trips(sc, data, matched=used)
    for i in range(1, iterations + 1):
        tc = route_composition(used, speeds=speeds_of(sc.speeds, cur) if i > 1 else sc.speeds, graph=graph,
                               walk_graph=walk)
        first = first or tc
        comp = to_fit_composition(tc, obs, detour=cur.detour, share=share, walk_multiplier=cur.walk,
                                  walking=used["walking"].to_numpy(bool), detour_by_class=cur.detour_by_class,
                                  distance_km=km)
        f = fitting.fit(comp, cur, prior=theta0, prior_sd=prior_sd)
        cur = rounded(sc.speeds, f.params)
        cur_sc = dataclasses.replace(sc, speeds=speeds_of(sc.speeds, cur))
        minutes, graph, walk = route_trips(cur_sc, data, matched=used)
        err = fitting.median_abs_log(minutes[timed] / obs[timed])
        log.append({"iteration": i, "median_abs_log": err, "fit_success": f.success, **cur.as_dict()})
        say(text("iteration", lang, i=i, err=err, n=int(timed.sum())))
    assert first is not None
    return cur, log, first


def calibrate(sc: Scenario, trips_path: str | Path, *, folds: int = 5, iterations: int = 3, repeats: int = 10,
              bootstrap_draws: int = 200, prior_sd: float = 0.5, seed: int | None = None,
              progress: bool = False, say=print) -> Calibration:
    """Steps 1-5 of the module doc on scenario ``sc``; nothing is written (see :mod:`.report`)."""
    lang = sc.run.language
    seed = sc.run.seed if seed is None else seed
    data = load_data(sc, progress=progress)
    matched = trips_mod.match_trips(trips_mod.read_trips(trips_path, lang=lang), data.places, crs=data.crs,
                                    lang=lang)
    minutes0, _, _ = route_trips(sc, data, matched=matched)
    before = validation_table(matched, minutes0)
    used = matched[before["used"].to_numpy(bool)].reset_index(drop=True)
    if len(used) < 3:
        raise UserError(f"only {len(used)} observed trips match the study area and today's roads: too few to "
                        "calibrate", source=str(trips_path), hint="use a larger study area (e.g. "
                        "scenarios/cajamarca_13ugel.toml) or add trips (siting validate-times lists the unmatched)")
    theta0 = start_params(sc.speeds)
    share = approximate_share(data)
    fitset, obs, km = _fit_set(used, distance_rows(matched, used))
    final, log, first = _iterate(sc, data, fitset.assign(observed_min=obs), theta0, iterations=iterations,
                                 share=share, prior_sd=prior_sd, say=say, lang=lang, distance_km=km)
    groups = pair_groups(fitset)
    walking = fitset["walking"].to_numpy(bool)
    comp0 = to_fit_composition(first, obs, detour=theta0.detour, share=share, walking=walking,
                               detour_by_class=theta0.detour_by_class, distance_km=km)
    cv = fitting.cross_validate(comp0, theta0, groups=groups, k=folds, seed=seed, repeats=repeats, prior_sd=prior_sd,
                                prior=theta0)
    say(text("cv", lang, k=cv.k, before=cv.error_before, after=cv.error_after, reps=len(cv.after)))
    cal_sc = dataclasses.replace(sc, speeds=speeds_of(sc.speeds, final))
    minutes1, graph1, walk1 = route_trips(cal_sc, data, matched=matched)
    after = validation_table(matched, minutes1)
    tc = route_composition(fitset, speeds=cal_sc.speeds, graph=graph1, walk_graph=walk1)
    comp1 = to_fit_composition(tc, obs, detour=final.detour, share=share, walk_multiplier=final.walk,
                               walking=walking, detour_by_class=final.detour_by_class, distance_km=km)
    final_fit = fitting.fit(comp1, final, prior=theta0, prior_sd=prior_sd)
    intervals = fitting.bootstrap(comp1, final, groups=groups, n=bootstrap_draws, seed=seed, prior_sd=prior_sd,
                                  prior=theta0)
    return Calibration(theta0, final, final_fit, cal_sc.speeds, used, before, after, cv, folds, intervals,
                       tc.head(len(used)), share, prior_sd, log, distance=fitset.assign(
                           modelled_km=np.round(fitting.predict_km(comp1, final), 1), observed_km=km)[
                           np.isfinite(km)].reset_index(drop=True))
