"""Ground-truth check (``siting backtest``): would the tool have pointed to the existing centres?

For each active extension centre ``k`` of the registry, the tool's ranking is recomputed
**without that centre** (leave-one-out: the other centres stay, the travel-time graph is the
same): access, candidates, criteria and the weighted score.  The centre's centro poblado (its
``ccpp_id``, else the nearest place) is then looked up among the candidates of its UGEL:

- ``rank_in_ugel`` = its position by score among the ``candidates_in_ugel`` of that UGEL;
- ``rank_percentile = 100 * (1 - (rank_in_ugel - 1) / candidates_in_ugel)`` (100 = the top
  candidate of the UGEL, 50 = the middle);
- a place that is not a candidate gets no rank and the rules it failed (``excluded_reason``:
  e.g. ``already_served`` = within ``candidates.exclude_within_min`` of a CETPRO).

Approximation, said in every output: the centres that opened after ``k`` are kept (only the
centre itself is removed), and today's population and roads are used.  The Monte Carlo rank
stability and the learned model are switched off in the recomputation (the weighted score
decides the rank).

The module never imports :mod:`siting.pipeline`; the command passes it as ``stages``.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from ..data import registry
from ..data.registry_use import active_extension_centres

BACKTEST_COLUMNS = ["centre_id", "centre_name", "ccpp_id", "place_name", "ugel", "opening_date", "candidates_in_ugel",
                    "rank_in_ugel", "rank_percentile", "score", "excluded_reason"]
NOTE_EN = ("Backtest: each centre's rank is recomputed without that centre (leave-one-out); centres opened after it "
           "are kept and today's population and roads are used.")
NOTE_ES = ("Contraste: el puesto de cada centro se recalcula sin ese centro (dejando uno fuera); se mantienen los "
           "centros abiertos después y se usan la población y las vías actuales.")


def _place_of(centre: pd.Series, places: pd.DataFrame, crs: str) -> int:
    ids = places["ccpp_id"].astype(str).to_numpy()
    if pd.notna(centre.get("ccpp_id")) and str(centre["ccpp_id"]) in set(ids):
        return int(np.flatnonzero(ids == str(centre["ccpp_id"]))[0])
    pts = places.geometry.to_crs(crs)
    one = type(places)(geometry=[centre.geometry], crs=4326).to_crs(crs).geometry.iloc[0]
    return int(pts.distance(one).to_numpy().argmin())


def rank_in_ugel(candidates: pd.DataFrame, ccpp_id: str, ugel: object) -> dict[str, Any]:
    """``candidates_in_ugel``, ``rank_in_ugel``, ``rank_percentile`` and ``score`` of a place
    (ranks by decreasing score among the candidates of ``ugel``; NaN when not a candidate)."""
    same = candidates[candidates["ugel"] == ugel].sort_values(["score", "ccpp_id"], ascending=[False, True],
                                                              kind="stable")
    n = len(same)
    hit = np.flatnonzero(same["ccpp_id"].astype(str).to_numpy() == str(ccpp_id))
    if not len(hit):
        return {"candidates_in_ugel": n, "rank_in_ugel": np.nan, "rank_percentile": np.nan, "score": np.nan}
    r = int(hit[0]) + 1
    return {"candidates_in_ugel": n, "rank_in_ugel": r, "rank_percentile": 100.0 * (1 - (r - 1) / n),
            "score": float(same["score"].iloc[r - 1])}


def backtest(sc, *, stages: Any, progress: bool = False) -> pd.DataFrame:
    """One row per active extension centre (:data:`BACKTEST_COLUMNS`); ``stages`` is
    :mod:`siting.pipeline` (``stage_data``, ``stage_graph``, ``stage_access``, ``stage_score``)."""
    from ..errors import UserError
    quiet = dataclasses.replace(sc, suitability=dataclasses.replace(sc.suitability, sensitivity_runs=2,
                                                                    speed_samples=0),
                                inputs=dataclasses.replace(sc.inputs, labels=""))
    data = stages.stage_data(quiet, progress=progress)
    ext = active_extension_centres(data).reset_index(drop=True)
    if not len(ext) or "extension" not in stages.facility_sets(data):
        raise UserError("no active extension centres to check: inputs.extension_centres is empty or every centre "
                        "is closed, or registry.extension_centres_use does not count them as destinations",
                        source=sc.source, hint="fill the extension-centre form of `siting templates`")
    data = dataclasses.replace(data, extension_centres=ext, monitoring=registry.empty("monitoring"))
    graph = stages.stage_graph(quiet, data)
    nodes = graph.point_nodes["extension"]
    rows = []
    for k in range(len(ext)):
        keep = np.arange(len(ext)) != k
        data_k = dataclasses.replace(data, extension_centres=ext[keep].reset_index(drop=True))
        points = {**graph.point_nodes, "extension": nodes[keep]}
        if not keep.any():
            points.pop("extension")
        graph_k = dataclasses.replace(graph, point_nodes=points)
        result = stages.stage_access(quiet, data_k, graph_k)
        scored = stages.stage_score(quiet, data_k, graph_k, result, progress=False)
        places = result.places
        i = _place_of(ext.iloc[k], places, data.crs)
        code, ugel = str(places["ccpp_id"].iloc[i]), places["ugel"].iloc[i]
        found = rank_in_ugel(scored.candidates, code, ugel)
        why = scored.excluded.loc[scored.excluded["ccpp_id"].astype(str) == code, "reason"]
        rows.append({"centre_id": ext["facility_id"].iloc[k], "centre_name": ext["name"].iloc[k], "ccpp_id": code,
                     "place_name": places["name"].iloc[i], "ugel": ugel,
                     "opening_date": ext["opening_date"].iloc[k] if "opening_date" in ext else pd.NA, **found,
                     "excluded_reason": why.iloc[0] if len(why) else ""})
    return pd.DataFrame(rows, columns=BACKTEST_COLUMNS)


def run_backtest(sc, *, stages: Any, progress: bool = True) -> pd.DataFrame:
    """``siting backtest``: :func:`backtest`, written into ``<run.output_dir>/contraste`` as CSV and XLSX."""
    from pathlib import Path

    from ..manifest import Run
    from ..report import exports
    folder = Path(sc.run.output_dir) / "contraste"
    sc = dataclasses.replace(sc, run=dataclasses.replace(sc.run, output_dir=str(folder)))
    run = Run.start(sc, command="backtest")
    with run.stage("backtest") as info:
        table = backtest(sc, stages=stages, progress=progress)
        info.update(centres=len(table), median_percentile=float(table["rank_percentile"].median()),
                    not_candidates=int(table["rank_in_ugel"].isna().sum()))
    lang = sc.run.language
    notes = pd.DataFrame({"note": [NOTE_ES if lang == "es" else NOTE_EN]})
    written = [exports.write_csv(table, folder / "backtest.csv", lang=None),
               exports.write_csv(notes, folder / "backtest_notes.csv", lang=None),
               exports.write_xlsx({"contraste" if lang == "es" else "backtest": table}, folder / "contraste.xlsx",
                                  lang=lang)]
    run.outputs(written)
    run.finish()
    with pd.option_context("display.width", 160, "display.max_columns", 12):
        print(table[["centre_id", "place_name", "ugel", "candidates_in_ugel", "rank_in_ugel", "rank_percentile",
                     "excluded_reason"]].to_string(index=False))
    print(NOTE_ES if lang == "es" else NOTE_EN, flush=True)
    return table
