"""What ``siting calibrate`` writes: the calibrated scenario TOML, its tables and its report.

- ``<stem>_calibrated.toml`` (or ``--scenario-out``): the target scenario's own TOML with its
  ``[speeds]`` replaced by the calibrated values, ``run.name`` and ``run.output_dir`` marked
  ``calibrated``, and every relative path rebased to the new file's folder; written with
  ``tomli_w``, a NEW file (the source scenario is never overwritten);
- ``calibration_parameters.csv``: each parameter before / after, its 95 % interval and
  whether the trips inform it;
- ``calibration_trips.csv``: each trip of the fit, modelled minutes before / after, the
  held-out (cross-validated) ratio, its path composition and why it is still far off;
- ``trip_validation.csv`` (under the calibrated speeds) and ``trip_validation_before.csv``;
- ``calibration_report.md``: all of it in words (Spanish by default).
"""
from __future__ import annotations

import datetime as _dt
import os
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UserError
from ..io import atomic_path
from . import fit as fitting
from .calibrate import Calibration
from .labels import headers, text, value
from .validate import write_csv

FAR_OFF = 0.35  # |log ratio| above this (a factor of about 1.4) is "still far off"
PARAMETER_UNITS = {fitting.DETOUR: "factor", fitting.WALK: "factor"}


def _rebase(value: object, old: Path, new: Path) -> object:
    """A relative path of the scenario at ``old`` rewritten relative to the folder ``new``."""
    if isinstance(value, list):
        return [_rebase(v, old, new) for v in value]
    if not isinstance(value, str) or not value or value == "download" or Path(value).is_absolute():
        return value
    return os.path.relpath((old / value).resolve(), new.resolve())


def scenario_text(cal: Calibration, *, target: Path, out: Path, trips: Path, report: Path | None = None) -> str:
    """TOML text of the calibrated scenario (module doc)."""
    data = tomllib.loads(target.read_text(encoding="utf-8-sig"))
    old, new = target.resolve().parent, out.resolve().parent
    inputs = data.get("inputs", {})
    for k, v in inputs.items():
        if k != "layers":
            inputs[k] = _rebase(v, old, new)
    run = data.setdefault("run", {})
    for k in ("output_dir", "cache_dir"):
        if k in run:
            run[k] = _rebase(run[k], old, new)
    run["name"] = f"{run.get('name', 'siting')}-calibrated"
    if run.get("output_dir"):
        run["output_dir"] = f"{run['output_dir']}_calibrated"
    speeds = data.setdefault("speeds", {})
    speeds["road_kmh"] = dict(cal.speeds.road_kmh)
    speeds["approximate_detour_factor"] = cal.speeds.approximate_detour_factor
    if cal.speeds.detour_factor_by_class:
        speeds["detour_factor_by_class"] = dict(cal.speeds.detour_factor_by_class)
    speeds["walk_kmh_max"] = cal.speeds.walk_kmh_max
    if report is not None:  # the outputs of a run with these speeds say where they come from
        speeds["calibration"] = os.path.relpath(report, out.resolve().parent)
    import tomli_w

    header = (f"# siting: scenario {target.name} with [speeds] calibrated on the observed trips {trips.name} "
              f"by `siting calibrate` ({_dt.date.today().isoformat()}); see "
              f"{os.path.relpath(report, out.resolve().parent) if report else 'calibration_report.md'}. "
              f"Fitted: {', '.join(cal.final_fit.fitted) or '-'}; left at their value: "
              f"{', '.join(cal.final_fit.uninformed) or '-'}.")
    return header.replace("\n", " ") + "\n" + tomli_w.dumps(data)


def write_scenario(cal: Calibration, *, target: Path, out: Path, trips: Path, report: Path | None = None) -> Path:
    """Write the calibrated scenario to ``out`` (refused when ``out`` is ``target`` itself)."""
    if out.resolve() == target.resolve():
        raise UserError(f"the calibrated scenario would overwrite its source {target}",
                        hint="give another --scenario-out (the default is <output>/<stem>_calibrated.toml)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        tmp.write_text(scenario_text(cal, target=target, out=out, trips=trips, report=report), encoding="utf-8")
    return out


def parameter_table(cal: Calibration) -> pd.DataFrame:
    """One row per parameter: ``parameter, unit, before, after, low, high, informed, km_on_paths``."""
    iv = cal.intervals.set_index("parameter")
    km = dict(zip(cal.composition.classes, cal.composition.km_eff.sum(axis=0)))
    rows = []
    for name, before in cal.start.as_dict().items():
        after = cal.final.as_dict()[name]
        informed = name in cal.final_fit.fitted
        unit = "factor" if name.startswith(fitting.DETOUR) else PARAMETER_UNITS.get(name, "km/h")
        rows.append({"parameter": name, "unit": unit, "before": before,
                     "after": round(after, 3), "low": round(float(iv.loc[name, "low"]), 3) if informed else np.nan,
                     "high": round(float(iv.loc[name, "high"]), 3) if informed else np.nan,
                     "informed": informed, "km_on_paths": round(float(km.get(name, np.nan)), 1)})
    return pd.DataFrame(rows)


def why_far(row: pd.Series, lang: str = "es") -> str:
    """A short reason why a trip is still far off (from its path composition and its source)."""
    reasons = []
    if row["walk_min"] > 0.3 * row["modelled_after"]:
        reasons.append(text("why_walk", lang, min=row["walk_min"]))
    if row.get("approx_share", 0) > 0.8 and row["ratio_after"] < 1:
        reasons.append(text("why_approx", lang))
    note = f"{row.get('mode', '')} {row.get('surface_note', '')}".lower()
    if "told" in note or "claim" in note or "police" in note:
        reasons.append(text("why_told", lang))
    if "stop" in note or "breakfast" in note or "parada" in note:
        reasons.append(text("why_stops", lang))
    if not reasons:
        reasons.append(text("why_slower" if row["ratio_after"] > 1 else "why_faster", lang))
    return "; ".join(reasons)


def trips_table(cal: Calibration, lang: str = "es") -> pd.DataFrame:
    """One row per trip of the fit (module doc)."""
    u = cal.used
    used_rows = cal.before["used"].to_numpy(bool)
    b = cal.before[used_rows].reset_index(drop=True)
    a = cal.after[used_rows].reset_index(drop=True)
    tc = cal.composition
    t = pd.DataFrame({"row": u["row"], "origin": u["origin"], "destination": u["destination"], "mode": u["mode"],
                      "surface_note": u["surface_note"], "observed_min": u["observed_min"],
                      "modelled_before": b["modelled_min"], "modelled_after": a["modelled_min"],
                      "ratio_before": b["ratio"], "ratio_after": a["ratio"],
                      "ratio_cv": np.round(cal.cv.after[0][:len(u)], 3), "fold": cal.cv.fold[0][:len(u)],
                      "walk_min": np.round(tc.walk_min, 1)})
    for k, c in enumerate(tc.classes):
        if tc.km_eff[:, k].sum() > 0:
            t[f"km_{c}"] = np.round(tc.km_eff[:, k], 1)
    a_c = np.array([cal.share.get(c, 0.0) for c in tc.classes])
    road_min = tc.minutes_by_class.sum(axis=1)
    approx_min = (tc.minutes_by_class * a_c[None, :]).sum(axis=1)
    t["approx_share"] = np.round(np.divide(approx_min, road_min, out=np.zeros_like(road_min), where=road_min > 0), 2)
    t["far_off"] = np.abs(np.log(t["ratio_after"].astype(float))) > FAR_OFF
    t["why"] = [why_far(r, lang) if r["far_off"] else "" for _, r in t.iterrows()]
    t["source_url"] = u["source_url"]
    return t


def md_table(df: pd.DataFrame, lang: str = "es") -> str:
    """A GitHub-Markdown table of ``df`` (``|`` in cells escaped, floats to 3 significant places)."""
    def cell(v: object) -> str:
        if isinstance(v, float):
            return "" if np.isnan(v) else f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
        return str(v).replace("|", "\\|").replace("\n", " ") if v is not None and v is not pd.NA else ""

    head = "| " + " | ".join(headers([str(c) for c in df.columns], lang)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(value(v, lang)) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _excluded(cal: Calibration) -> pd.DataFrame:
    b = cal.before
    out = b[~b["used"].astype(bool)].copy()
    reason = np.where(~out["matched"].astype(bool), out["origin_match"].where(
        out["origin_ccpp_id"].isna(), out["destination_match"]), out["road_state_why"])
    out["reason"] = reason
    return out[["row", "origin", "destination", "observed_min", "road_state", "reason"]]


def markdown(cal: Calibration, *, scenario: Path, trips: Path, lang: str = "es") -> str:
    """The calibration report in Markdown (module doc)."""
    params, table = parameter_table(cal), trips_table(cal, lang)
    ob = cal.before["used"].astype(bool)
    rb = cal.before.loc[ob, "modelled_min"].astype(float) / cal.before.loc[ob, "observed_min"].astype(float)
    ra = cal.after.loc[ob, "modelled_min"].astype(float) / cal.after.loc[ob, "observed_min"].astype(float)
    approx_only = [c for c, a in cal.share.items() if a >= 0.999 and c in cal.final_fit.fitted]
    lines = [f"# {text('title', lang)}", "",
             text("md_intro", lang, scenario=scenario.name, trips=trips.name, n=len(cal.before),
                  matched=int(cal.before["matched"].sum()), used=int(ob.sum())), "",
             text("md_insample", lang, rb=float(rb.median()), ra=float(ra.median()),
                  eb=fitting.median_abs_log(rb.to_numpy()), ea=fitting.median_abs_log(ra.to_numpy())), "",
             text("md_cv", lang, k=cal.cv.k, before=cal.cv.error_before, after=cal.cv.error_after,
                  reps=len(cal.cv.after), lo=float(cal.cv.errors_after.min()), hi=float(cal.cv.errors_after.max())),
             "",
             f"## {text('param', lang)}", "", md_table(params, lang), "",
             text("md_uninformed", lang, names=", ".join(cal.final_fit.uninformed) or text("none", lang),
                  share=fitting.MIN_INFORMING_SHARE), ""]
    if approx_only and fitting.DETOUR in cal.final_fit.fitted:
        lines += [text("md_identify", lang, classes=", ".join(approx_only), sd=cal.prior_sd), ""]
    far = table[table["far_off"]][["row", "origin", "destination", "observed_min", "modelled_after", "ratio_after",
                                   "why"]]
    if cal.distance is not None and len(cal.distance):
        d = cal.distance[["row", "origin", "destination", "observed_km", "modelled_km"]]
        lines += [f"## {text('distances', lang)}", "", text("md_distances", lang, n=len(d), sd=fitting.DIST_LOG_SD),
                  "", md_table(d, lang), ""]
    lines += [f"## {text('far_off', lang, lim=FAR_OFF)}", "",
              md_table(far, lang) if len(far) else text("none", lang), "",
              f"## {text('excluded', lang)}", "", md_table(_excluded(cal), lang), "",
              f"## {text('method', lang)}", "", text("md_method", lang, it=len(cal.iterations)), ""]
    return "\n".join(lines)


def write_outputs(cal: Calibration, folder: Path, *, scenario: Path, target: Path, trips: Path,
                  scenario_out: Path | None = None, lang: str = "es") -> dict[str, Path]:
    """Write every output of ``siting calibrate`` into ``folder`` (and the scenario to
    ``scenario_out``, default ``folder/<target stem>_calibrated.toml``)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = scenario_out or folder / f"{target.stem}_calibrated.toml"
    path = folder / "calibration_report.md"
    files = {"scenario": write_scenario(cal, target=target, out=out, trips=trips, report=path.resolve()),
             "parameters": write_csv(parameter_table(cal), folder / "calibration_parameters.csv"),
             "trips": write_csv(trips_table(cal, lang), folder / "calibration_trips.csv"),
             "iterations": write_csv(pd.DataFrame(cal.iterations), folder / "calibration_iterations.csv"),
             "validation": write_csv(cal.after, folder / "trip_validation.csv"),
             "validation_before": write_csv(cal.before, folder / "trip_validation_before.csv")}
    with atomic_path(path) as tmp:
        tmp.write_text(markdown(cal, scenario=scenario, trips=trips, lang=lang), encoding="utf-8")
    files["report"] = path
    return files
