"""Learned suitability: a scikit-learn model fitted on labelled sites, when they exist.

Labelled sites are places where a centre already operated, with an outcome: a number
(enrolment, retention → regression) or good/bad (0/1 → classification).  The model is
``Pipeline(ColumnTransformer(numeric: median impute + standard scale; categorical:
most-frequent impute + one-hot), estimator)`` with a gradient-boosting estimator by
default.  It is evaluated with :class:`~sklearn.model_selection.GroupKFold` by province
(or district), so that a score is never measured on a province the model saw in
training, and explained with permutation importances.

Without labels, :func:`fit_if_labelled` returns ``None`` and the message
:data:`NO_LABELS_MESSAGE`: the pipeline then uses the transparent weighted score.

Saved models are written with skops (``suitability_model.skops``), which loads only an
allowlist of types (:data:`TRUSTED_TYPES`) instead of unpickling arbitrary code, and their
SHA-256 is recorded in the metadata and checked on load.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # scikit-learn is optional (extra "ml"): imported when a model is built or loaded
    from sklearn.pipeline import Pipeline

from ..data.labelled_sites import check_outcomes, load_labels
from ..errors import DataError, UserError
from ..io import atomic_path, check_file, sha256

NO_LABELS_MESSAGE = "no labelled sites: using the weighted score"
MODEL_FILE = "suitability_model.skops"
META_FILE = "suitability_model.json"
#: types a saved model may contain beyond skops' own safe defaults (checked for the three
#: estimators of :func:`_estimator`); a model file with any other type is refused
TRUSTED_TYPES = ("numpy.dtype", "sklearn.tree._tree.Tree")
_LEGACY_FILE = "suitability_model.joblib"


def table_hash(df: pd.DataFrame) -> str:
    """Stable SHA-256 (first 16 hex) of a table's content, for the model metadata."""
    h = hashlib.sha256(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    h.update(",".join(map(str, df.columns)).encode())
    return h.hexdigest()[:16]


def _sklearn():
    """scikit-learn, or a clear error when it is not installed."""
    try:
        import sklearn
    except ImportError as exc:
        raise UserError("the learned suitability model (inputs.labels) needs scikit-learn, which is not installed",
                        hint='pip install "siting[ml]"  (or leave inputs.labels empty for the weighted score)') from exc
    return sklearn


def _infer_task(y: pd.Series) -> str:
    values = set(pd.unique(y.dropna()))
    return "classification" if values <= {0, 1} else "regression"


def _estimator(kind: str, task: str, seed: int):
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LinearRegression, LogisticRegression
    if kind == "gradient_boosting":
        cls = GradientBoostingClassifier if task == "classification" else GradientBoostingRegressor
        return cls(random_state=seed)
    if kind == "random_forest":
        cls = RandomForestClassifier if task == "classification" else RandomForestRegressor
        return cls(n_estimators=300, random_state=seed, n_jobs=1)
    if kind == "logistic":
        return LogisticRegression(max_iter=2000, random_state=seed) if task == "classification" else LinearRegression()
    raise UserError(f"unknown model {kind!r}", hint="suitability.model is gradient_boosting, random_forest or logistic")


@dataclass
class LearnedSuitability:
    """A fitted (or fittable) scikit-learn suitability model.

    ``features``: numeric feature columns; ``categorical``: columns one-hot encoded
    (unknown categories at prediction time are ignored).  ``task`` is
    ``"classification"``, ``"regression"`` or ``"auto"`` (0/1 outcome → classification).
    """

    features: list[str]
    categorical: list[str] = field(default_factory=list)
    target: str = "outcome"
    task: str = "auto"
    model: str = "gradient_boosting"
    seed: int = 20241126
    pipeline: Pipeline | None = None
    metrics: dict = field(default_factory=dict)
    importances: pd.DataFrame | None = None
    training_hash: str = ""

    # ------------------------------------------------------------------ building
    def build(self) -> Pipeline:
        """A fresh unfitted pipeline."""
        _sklearn()
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler
        pre = ColumnTransformer([
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]),
             list(self.features)),
            ("categorical", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                                      ("onehot", OneHotEncoder(handle_unknown="ignore"))]), list(self.categorical)),
        ])
        return Pipeline([("prepare", pre), ("estimator", _estimator(self.model, self.task, self.seed))])

    def _features(self, table: pd.DataFrame) -> pd.DataFrame:
        """Model inputs: numeric features as floats (infinite, e.g. "no parent CETPRO within
        reach", becomes missing and is imputed), categorical ones as objects."""
        x = table[list(self.features) + list(self.categorical)].copy()
        for c in self.features:
            x[c] = pd.to_numeric(x[c], errors="coerce").astype(float).replace([np.inf, -np.inf], np.nan)
        for c in self.categorical:
            x[c] = x[c].astype(object).where(x[c].notna(), np.nan)
        return x

    def _xy(self, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
        cols = list(self.features) + list(self.categorical)
        missing = [c for c in cols + [self.target] if c not in table.columns]
        if missing:
            raise DataError(f"the labelled table has no column '{missing[0]}'",
                            hint="the labels need the same feature columns as the criteria table")
        x = self._features(table)
        y = pd.to_numeric(table[self.target], errors="coerce")
        if self.task == "auto":
            self.task = _infer_task(y)
        if self.task == "classification":
            y = y.astype(int)
        return x, y

    # ------------------------------------------------------------------ fit / evaluate
    def fit(self, table: pd.DataFrame) -> LearnedSuitability:
        """Fit on all labelled rows."""
        x, y = self._xy(table)
        check_outcomes(y, None)
        self.pipeline = self.build().fit(x, y)
        self.training_hash = table_hash(table[list(self.features) + list(self.categorical) + [self.target]])
        return self

    def evaluate(self, table: pd.DataFrame, *, group_column: str = "province", n_splits: int = 5) -> dict:
        """Grouped cross-validation (no group is in both train and test of a fold).

        Classification: ROC-AUC and accuracy of the pooled out-of-fold predictions;
        regression: R² and MAE.  Also per-fold values (``folds``).  Stored in ``self.metrics``.
        """
        from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score, roc_auc_score
        from sklearn.model_selection import GroupKFold
        if group_column not in table.columns:
            raise DataError(f"the labelled table has no grouping column '{group_column}'",
                            hint="add the province (or district) of each site")
        x, y = self._xy(table)
        check_outcomes(y, None)
        groups = table[group_column].astype(str).to_numpy()
        k = min(n_splits, len(np.unique(groups)))
        if k < 2:
            raise DataError(f"grouped cross-validation needs at least 2 distinct '{group_column}' values")
        oof = np.full(len(y), np.nan)
        folds = []
        for train, test in GroupKFold(n_splits=k).split(x, y, groups):
            model = self.build().fit(x.iloc[train], y.iloc[train])
            if self.task == "classification":
                if len(np.unique(y.iloc[train])) < 2:
                    continue
                p = model.predict_proba(x.iloc[test])[:, 1]
                oof[test] = p
                yt = y.iloc[test]
                folds.append({"roc_auc": float(roc_auc_score(yt, p)) if yt.nunique() == 2 else float("nan"),
                              "accuracy": float(accuracy_score(yt, p >= 0.5)), "n": int(len(test))})
            else:
                p = model.predict(x.iloc[test])
                oof[test] = p
                folds.append({"r2": float(r2_score(y.iloc[test], p)) if len(test) > 1 else float("nan"),
                              "mae": float(mean_absolute_error(y.iloc[test], p)), "n": int(len(test))})
        ok = ~np.isnan(oof)
        if not ok.any():
            raise DataError(f"grouped cross-validation by '{group_column}' could not train any fold: in every "
                            "fold the training sites have a single outcome",
                            hint=f"the labels need good and bad sites in several {group_column} values")
        if self.task == "classification":
            metrics = {"roc_auc": float(roc_auc_score(y[ok], oof[ok])),
                       "accuracy": float(accuracy_score(y[ok], oof[ok] >= 0.5))}
        else:
            metrics = {"r2": float(r2_score(y[ok], oof[ok])), "mae": float(mean_absolute_error(y[ok], oof[ok]))}
        self.metrics = {**metrics, "cv": f"GroupKFold({k}) by {group_column}", "n_sites": int(len(y)), "folds": folds}
        return self.metrics

    def permutation_importances(self, table: pd.DataFrame, *, n_repeats: int = 10) -> pd.DataFrame:
        """Permutation importance of every input column on ``table`` (mean drop of the
        score — ROC-AUC or R² — when the column is shuffled), sorted decreasing."""
        from sklearn.inspection import permutation_importance
        if self.pipeline is None:
            raise RuntimeError("fit the model first")
        x, y = self._xy(table)
        scoring = "roc_auc" if self.task == "classification" else "r2"
        res = permutation_importance(self.pipeline, x, y, n_repeats=n_repeats, random_state=self.seed,
                                     scoring=scoring, n_jobs=1)
        imp = pd.DataFrame({"feature": x.columns, "importance": res.importances_mean, "std": res.importances_std})
        self.importances = imp.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
        return self.importances

    # ------------------------------------------------------------------ predict
    def predict(self, candidates: pd.DataFrame) -> pd.Series:
        """Predicted suitability per candidate: probability of "good" (classification)
        or predicted outcome (regression); same index as ``candidates``."""
        if self.pipeline is None:
            raise RuntimeError("fit or load the model first")
        cols = list(self.features) + list(self.categorical)
        missing = [c for c in cols if c not in candidates.columns]
        if missing:
            raise DataError(f"the candidates table has no feature column '{missing[0]}' used by the model")
        x = self._features(candidates)
        p = self.pipeline.predict_proba(x)[:, 1] if self.task == "classification" else self.pipeline.predict(x)
        return pd.Series(p, index=candidates.index, name="model_score")

    # ------------------------------------------------------------------ persistence
    def metadata(self) -> dict:
        return {"features": list(self.features), "categorical": list(self.categorical), "target": self.target,
                "task": self.task, "model": self.model, "seed": self.seed, "sklearn_version": _sklearn().__version__,
                "metrics": self.metrics, "training_data_hash": self.training_hash,
                "importances": None if self.importances is None else self.importances.to_dict("records")}

    def save(self, folder: str | Path) -> dict[str, Path]:
        """Write ``suitability_model.skops`` (the pipeline, skops format) and
        ``suitability_model.json`` (features, sklearn version, metrics, training-data hash and
        the model file's SHA-256), atomically."""
        import skops.io as sio

        if self.pipeline is None:
            raise RuntimeError("fit the model first")
        folder = Path(folder)
        paths = {"model": folder / MODEL_FILE, "meta": folder / META_FILE}
        with atomic_path(paths["model"]) as tmp:
            sio.dump(self.pipeline, tmp)
            digest = sha256(tmp)
        with atomic_path(paths["meta"]) as tmp:
            meta = {**self.metadata(), "model_file": MODEL_FILE, "model_sha256": digest}
            tmp.write_text(json.dumps(meta, indent=2, default=float), encoding="utf-8")
        return paths

    @classmethod
    def load(cls, folder: str | Path) -> LearnedSuitability:
        """Read a model written by :meth:`save`.

        **Only load models from a source you trust.**  The model file must match the SHA-256
        recorded in its metadata (a replaced or damaged file is refused), must not exceed
        ``[limits] model_mb``, and is read with skops, which refuses any type outside its safe
        defaults and :data:`TRUSTED_TYPES` (no arbitrary code is unpickled).  Old ``.joblib``
        models are refused: refit them (``siting score``).  Warns in ``metrics['warning']``
        when the scikit-learn version differs from the one that trained it.
        """
        import skops.io as sio

        folder = Path(folder)
        meta_path, model_path = folder / META_FILE, folder / MODEL_FILE
        if not model_path.exists() and (folder / _LEGACY_FILE).exists():
            raise DataError("this is an old model saved with joblib (pickle), which can run any code when loaded",
                            source=str(folder / _LEGACY_FILE), hint="refit it from the labels (siting score)")
        if not meta_path.exists() or not model_path.exists():
            raise DataError(f"no saved suitability model in {folder}",
                            hint=f"expected {MODEL_FILE} and {META_FILE}")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            expected = meta.get("model_sha256")
            obj = cls(features=meta["features"], categorical=meta["categorical"], target=meta["target"],
                      task=meta["task"], model=meta["model"], seed=meta["seed"], metrics=meta.get("metrics", {}),
                      training_hash=meta.get("training_data_hash", ""))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DataError(f"the model metadata cannot be read ({type(exc).__name__}: {exc})", source=str(meta_path),
                            hint="save the model again (siting score)") from exc
        check_file(model_path, "model")
        if not expected or sha256(model_path) != expected:
            raise DataError("the model file does not match the SHA-256 recorded in its metadata (replaced, "
                            "damaged or not written by siting)", source=str(model_path),
                            hint="only load models you trust; refit it from the labels (siting score)")
        untrusted = [t for t in sio.get_untrusted_types(file=model_path) if t not in TRUSTED_TYPES]
        if untrusted:
            raise DataError(f"the model file contains types that are not allowed: {', '.join(untrusted)}",
                            source=str(model_path), hint="only load models saved by siting from a source you trust")
        if meta.get("importances"):
            obj.importances = pd.DataFrame(meta["importances"])
        version = _sklearn().__version__
        if meta.get("sklearn_version") != version:
            obj.metrics["warning"] = (f"model trained with scikit-learn {meta.get('sklearn_version')}, "
                                      f"loaded with {version}")
        try:
            obj.pipeline = sio.load(model_path, trusted=list(TRUSTED_TYPES))
        except Exception as exc:  # a damaged archive whose hash still matches (written so), skops version change
            raise DataError(f"cannot read the model file ({type(exc).__name__}: {exc})", source=str(model_path),
                            hint="refit it from the labels (siting score)") from exc
        return obj


def fit_if_labelled(labels: pd.DataFrame | str | Path | None, *, features: Sequence[str],
                    categorical: Sequence[str] = (), target: str = "outcome", group_column: str = "province",
                    model: str = "gradient_boosting", seed: int = 20241126,
                    n_splits: int = 5) -> tuple[LearnedSuitability | None, str]:
    """Fit, evaluate (grouped CV) and explain a model when labelled sites exist.

    Returns ``(model, message)``; with no labels (``None``, ``""`` or an empty table)
    returns ``(None, NO_LABELS_MESSAGE)``.
    """
    if labels is None or (isinstance(labels, (str, Path)) and not str(labels)):
        return None, NO_LABELS_MESSAGE
    table = load_labels(labels, outcome=target) if isinstance(labels, (str, Path)) else labels
    if len(table) == 0:
        return None, NO_LABELS_MESSAGE
    m = LearnedSuitability(features=list(features), categorical=list(categorical), target=target,
                           model=model, seed=seed)
    m.evaluate(table, group_column=group_column, n_splits=n_splits)
    m.fit(table)
    m.permutation_importances(table)
    key = "roc_auc" if m.task == "classification" else "r2"
    return m, (f"learned suitability ({m.model}, {m.task}): grouped-CV {key} = {m.metrics[key]:.3f} "
               f"on {len(table)} sites")


def fit_from_scenario(sc, *, features: Sequence[str], categorical: Sequence[str] = (), target: str = "outcome",
                      group_column: str = "province") -> tuple[LearnedSuitability | None, str]:
    """:func:`fit_if_labelled` with the scenario's ``inputs.labels``, ``suitability.model``
    and ``run.seed`` (``(None, NO_LABELS_MESSAGE)`` when ``inputs.labels`` is empty)."""
    return fit_if_labelled(sc.optional("inputs.labels"), features=features, categorical=categorical, target=target,
                           group_column=group_column, model=sc.suitability.model, seed=sc.run.seed)
