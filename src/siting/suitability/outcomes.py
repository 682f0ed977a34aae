"""Learning from outcomes: monitoring records become labels of the learned suitability model.

For each centre of the registry with monitoring records (extension centre or CETPRO):

- **outcome** (``registry.outcome``), pooled over its periods: ``retention = Σ retained /
  Σ enrolled`` (likewise ``completion``, ``certification``, ``placement`` = placed in work), or
  ``enrolment`` = mean enrolled per period;
- **site features**: the suitability criteria of its centro poblado (the place of its
  ``ccpp_id``, else the nearest place) *as before it opened*: times and the unserved population
  are those to the CETPRO only (``minutes_cetpro``), not to the extension centres.

The model (:class:`~siting.suitability.model.LearnedSuitability`, regression) is evaluated
with grouped cross-validation - GroupKFold by province when the centres lie in 3 or more
provinces, else by district - so a score is never measured on an area seen in training.  Its
uncertainty is reported three ways: the per-fold spread, a 90 % bootstrap interval (over
centres) of the pooled out-of-fold R² and MAE, and the MAE of the naive model that predicts
the training mean (the model must beat it to mean anything).  With fewer than
``registry.min_centres`` centres, or fewer than 2 areas, the model is refused with a message
saying how many are needed.  The weighted score stays the ranking; the learned prediction is
shown beside it (``model_prediction``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from ..data.registry_use import centre_table
from ..network import solve
from .candidates import host_premises_near
from .criteria import CRITERIA, compute_criteria
from .model import LearnedSuitability

OUTCOMES = {"retention": "retained", "completion": "completed", "certification": "certified",
            "placement": "placed_in_work"}


def centre_outcomes(monitoring: pd.DataFrame, outcome: str = "retention") -> pd.DataFrame:
    """Per centre: ``outcome`` (pooled over periods, see the module docstring), ``n_periods``, ``enrolled``."""
    m = monitoring.copy()
    g = m.groupby(m["centre_id"].astype(str))
    out = pd.DataFrame({"n_periods": g.size(), "enrolled": g["enrolled_total"].sum(min_count=1)})
    if outcome == "enrolment":
        out["outcome"] = g["enrolled_total"].mean()
    else:
        both = m[m[OUTCOMES[outcome]].notna() & m["enrolled_total"].gt(0)]
        gb = both.groupby(both["centre_id"].astype(str))
        out["outcome"] = (gb[OUTCOMES[outcome]].sum() / gb["enrolled_total"].sum()).reindex(out.index)
    return out.rename_axis("centre_id").reset_index()


def centre_place_positions(centres: pd.DataFrame, places, crs: str) -> np.ndarray:
    """Position in ``places`` of each centre's centro poblado: by ``ccpp_id``, else the nearest point."""
    ids = pd.Series(np.arange(len(places)), index=places["ccpp_id"].astype(str).to_numpy())
    ids = ids[~ids.index.duplicated()]
    pos = centres["ccpp_id"].astype("string").map(ids) if "ccpp_id" in centres else pd.Series(np.nan, centres.index)
    pos = pd.to_numeric(pos, errors="coerce")
    missing = pos.isna().to_numpy()
    if missing.any():
        pg = places.geometry.to_crs(crs)
        for i in np.flatnonzero(missing):
            pos.iloc[i] = int(pg.distance(centres.geometry.iloc[[i]].to_crs(crs).iloc[0]).to_numpy().argmin())
    return pos.to_numpy(dtype=np.int64)


def site_features(sc, graph, places, positions: np.ndarray, *, premises, crs: str,
                  indicators: pd.DataFrame | None) -> pd.DataFrame:
    """The criteria of :func:`~siting.suitability.criteria.compute_criteria` at ``places[positions]``
    with the times to the CETPRO only (the situation before the extension centres)."""
    T = sc.allocation.max_minutes
    before = places["minutes_cetpro"].to_numpy(float) if "minutes_cetpro" in places \
        else places["minutes_nearest"].to_numpy(float)
    sites = places.iloc[positions].copy()
    sites["minutes_existing"] = before[positions]
    near = host_premises_near(sites, premises, within_m=sc.candidates.host_premises_within_m, crs=crs,
                              id_column="premises_id")
    for col in ("host_premises", "tambo"):
        sites[col] = near[col].to_numpy()
    place_nodes = graph.point_nodes["places"]
    direction = sc.access.direction
    cov = solve.directed_coverage(graph, place_nodes[positions], place_nodes, T, direction=direction, progress=False)
    teacher = solve.directed_coverage(graph, graph.point_nodes["cetpro"], place_nodes[positions],
                                      sc.allocation.teacher_max_minutes, direction=solve.TEACHER[direction],
                                      progress=False).T.tocsr()
    best = np.full(len(positions), np.inf)
    t = sparse.csr_array(teacher)
    for i in range(len(positions)):
        row = t.data[t.indptr[i]:t.indptr[i + 1]]
        if len(row):
            best[i] = row.min()
    flat = float(np.exp(-sc.speeds.tobler_decay * sc.speeds.tobler_slope_offset) * sc.speeds.walk_kmh_max)
    road = sites["flag_road_distance_m"].to_numpy(float) / (flat * 1000 / 60) if "flag_road_distance_m" in sites \
        else None
    return compute_criteria(sites, places, cov, before > T, best, indicators, None,
                            target_group=sc.population.target_group, road_minutes=road)


def label_table(sc, data, graph, places, *, premises, indicators: pd.DataFrame | None) -> pd.DataFrame:
    """One row per centre with an outcome: ``site_id``, ``ccpp_id``, ``province``, ``district``,
    the criteria and ``outcome``."""
    centres = centre_table(data)
    ext = data.extension_centres
    cc = ext.set_index(ext["facility_id"].astype(str))["ccpp_id"] if "ccpp_id" in ext else pd.Series(dtype="string")
    centres["ccpp_id"] = centres["centre_id"].map(cc)
    outc = centre_outcomes(data.monitoring, sc.registry.outcome)
    outc = outc[outc["outcome"].notna()]
    centres = centres.merge(outc, on="centre_id", how="inner")
    if not len(centres):
        return pd.DataFrame(columns=["site_id", "ccpp_id", "province", "district", "outcome"])
    pos = centre_place_positions(centres, places, data.crs)
    feats = site_features(sc, graph, places, pos, premises=premises, crs=data.crs, indicators=indicators)
    table = pd.DataFrame({"site_id": centres["centre_id"].to_numpy(),
                          "ccpp_id": places["ccpp_id"].astype(str).to_numpy()[pos],
                          "province": places["province"].astype(str).to_numpy()[pos],
                          "district": places["district"].astype(str).to_numpy()[pos]})
    for c in CRITERIA:
        table[c] = feats[c].to_numpy()
    table["outcome"] = centres["outcome"].to_numpy(float)
    table["n_periods"] = centres["n_periods"].to_numpy()
    return table


def _bootstrap(y: np.ndarray, p: np.ndarray, *, n: int, seed: int) -> dict[str, list[float]]:
    from sklearn.metrics import mean_absolute_error, r2_score  # the ml extra, imported when a model is learned
    rng = np.random.default_rng(seed)
    r2, mae = [], []
    for _ in range(n):
        i = rng.integers(0, len(y), len(y))
        if np.ptp(y[i]) > 0:
            r2.append(r2_score(y[i], p[i]))
        mae.append(mean_absolute_error(y[i], p[i]))
    q = [5, 95]
    return {"r2_90": [float(v) for v in np.percentile(r2, q)] if r2 else [np.nan, np.nan],
            "mae_90": [float(v) for v in np.percentile(mae, q)]}


def grouped_cv(model: LearnedSuitability, table: pd.DataFrame, *, group_column: str, n_splits: int,
               n_boot: int = 1000) -> dict:
    """Out-of-fold predictions of ``model`` and of the training mean (GroupKFold by
    ``group_column``), pooled R²/MAE with 90 % bootstrap intervals, per-fold mean and sd."""
    from sklearn.metrics import mean_absolute_error, r2_score
    from sklearn.model_selection import GroupKFold
    x, y = model._xy(table)
    groups = table[group_column].astype(str).to_numpy()
    yv = y.to_numpy(float)
    oof, naive = np.full(len(y), np.nan), np.full(len(y), np.nan)
    for train, test in GroupKFold(n_splits=n_splits).split(x, y, groups):
        oof[test] = model.build().fit(x.iloc[train], y.iloc[train]).predict(x.iloc[test])
        naive[test] = yv[train].mean()
    folds = pd.DataFrame(model.metrics.get("folds", []))
    return {"r2": float(r2_score(yv, oof)), "mae": float(mean_absolute_error(yv, oof)),
            "mae_mean_predictor": float(mean_absolute_error(yv, naive)),
            "r2_mean_predictor": float(r2_score(yv, naive)),
            **_bootstrap(yv, oof, n=n_boot, seed=model.seed),
            "fold_r2_mean": float(folds["r2"].mean()) if "r2" in folds else np.nan,
            "fold_r2_sd": float(folds["r2"].std(ddof=1)) if "r2" in folds and len(folds) > 1 else np.nan,
            "fold_mae_mean": float(folds["mae"].mean()) if "mae" in folds else np.nan,
            "fold_mae_sd": float(folds["mae"].std(ddof=1)) if "mae" in folds and len(folds) > 1 else np.nan,
            "out_of_fold": [float(v) for v in oof]}


def refusal(n: int, need: int, outcome: str, areas: int = 0) -> str:
    """The message when too few centres have an outcome."""
    return (f"learned suitability refused: {n} centre(s) with {outcome} in the monitoring records (in {areas} "
            f"province(s)/district(s)); at least {need} centres in at least 2 areas are needed "
            "(registry.min_centres); the weighted score is used")


def learn_from_outcomes(labels: pd.DataFrame, *, outcome: str = "retention", min_centres: int = 12,
                        model: str = "gradient_boosting", seed: int = 20241126,
                        features: list[str] | None = None) -> tuple[LearnedSuitability | None, str]:
    """Fit, evaluate (grouped CV with uncertainty) and explain a model on ``labels`` from
    :func:`label_table`; ``(None, refusal message)`` when there are too few centres or areas."""
    lab = labels[labels["outcome"].notna()].reset_index(drop=True)
    group = "province" if lab["province"].nunique() >= 3 else "district"
    areas = int(lab[group].nunique()) if len(lab) else 0
    if len(lab) < min_centres or areas < 2:
        return None, refusal(len(lab), min_centres, outcome, areas)
    feats = features or [c for c in CRITERIA if c in lab and pd.to_numeric(lab[c], errors="coerce").nunique() > 1]
    m = LearnedSuitability(features=feats, target="outcome", task="regression", model=model, seed=seed)
    k = min(5, areas)
    m.evaluate(lab, group_column=group, n_splits=k)
    unc = grouped_cv(m, lab, group_column=group, n_splits=k)
    m.metrics["uncertainty"] = {key: v for key, v in unc.items() if key != "out_of_fold"}
    m.metrics["outcome"] = outcome
    m.fit(lab)
    m.permutation_importances(lab)
    lo, hi = unc["r2_90"]
    text = (f"learned suitability from monitoring ({outcome}, {len(lab)} centres, GroupKFold({k}) by {group}): "
            f"out-of-fold R² = {unc['r2']:.2f} (90% bootstrap {lo:.2f} to {hi:.2f}; per fold "
            f"{unc['fold_r2_mean']:.2f} ± {unc['fold_r2_sd']:.2f}), MAE = {unc['mae']:.3f} vs "
            f"{unc['mae_mean_predictor']:.3f} for the mean; shown beside the weighted score (model_prediction), "
            "which stays the ranking")
    return m, text


def learn_from_monitoring(sc, data, graph, places, *, premises,
                          indicators: pd.DataFrame | None) -> tuple[LearnedSuitability | None, str]:
    """:func:`label_table` then :func:`learn_from_outcomes` with the scenario's settings."""
    labels = label_table(sc, data, graph, places, premises=premises, indicators=indicators)
    return learn_from_outcomes(labels, outcome=sc.registry.outcome, min_centres=sc.registry.min_centres,
                               model=sc.suitability.model, seed=sc.run.seed)
