"""``siting monitor``: indicators from the monitoring records of a scenario, written into
``<run.output_dir>/monitoreo``.

Residence against the access model: when records list the centros poblados where the
enrolled live, the travel-time graph of the scenario (same settings and cache as
``siting access``) gives the minutes from each of those places to the centre
(``solve.coverage`` towards the centre, within ``access.main_threshold_min``).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import StudyData, load_study_data
from ..errors import UserError
from ..manifest import Run
from ..network import graph as netgraph
from ..network import raster as netraster
from ..network import solve
from ..scenario import Scenario
from .indicators import below_retention, centre_table, indicators, trends
from .outputs import write_monitoring


def residence_minutes(data: StudyData, records: pd.DataFrame, centres, *, threshold: float,
                      progress: bool = False) -> dict[str, pd.Series] | None:
    """Minutes (towards the centre) from every place of the study area to each centre that has
    residence codes, as ``{centre_id: Series indexed by ccpp_id}`` (``inf`` beyond ``threshold``);
    ``None`` when no record has residence codes or there is no elevation model."""
    with_codes = records["enrolled_living_ccpp_ids"].notna()
    ids = set(records.loc[with_codes, "centre_id"].astype(str))
    c = centres[centres["centre_id"].isin(ids)].reset_index(drop=True)
    if not len(c) or data.terrain is None:
        return None
    sc = data.scenario
    landcover = netraster.read_multipliers(sc.inputs.landcover_speeds, data.terrain) \
        if sc.inputs.landcover_speeds else None
    graph = netgraph.build_graph(data.terrain, data.roads, sc.speeds, {"places": data.places, "centres": c},
                                 landcover=landcover, cache_dir=sc.run.cache_dir,
                                 max_connector_slope=sc.speeds.max_connector_slope,
                                 road_connector_radius_m=sc.speeds.road_connector_radius_m or None)
    cov = solve.coverage(graph, graph.point_nodes["centres"], graph.point_nodes["places"], threshold,
                         towards_origins=True, progress=progress).tocsr()
    out = {}
    codes = data.places["ccpp_id"].astype(str).to_numpy()
    for i, cid in enumerate(c["centre_id"]):
        minutes = np.full(len(codes), np.inf)
        lo, hi = cov.indptr[i], cov.indptr[i + 1]
        minutes[cov.indices[lo:hi]] = cov.data[lo:hi]
        out[str(cid)] = pd.Series(minutes, index=codes)
    return out


def monitor(sc: Scenario, *, min_retention: float | None = None, progress: bool = True,
            run: Run | None = None) -> dict[str, pd.DataFrame]:
    """Compute and write the monitoring indicators; returns ``{"indicators", "trends", "low_retention"}``."""
    if not sc.inputs.monitoring:
        raise UserError("no monitoring records: inputs.monitoring is empty", source=sc.source,
                        hint="fill the monitoring form of `siting templates` and set inputs.monitoring to it")
    level = sc.registry.min_retention if min_retention is None else float(min_retention)
    if not 0 <= level <= 1:
        raise UserError(f"the minimum retention must be a share between 0 and 1, got {level}",
                        hint="e.g. --min-retention 0.7")
    folder = Path(sc.run.output_dir) / "monitoreo"
    sc = dataclasses.replace(sc, run=dataclasses.replace(sc.run, output_dir=str(folder)))
    run = run or Run.start(sc, command="monitor")
    threshold = sc.access.main_threshold_min
    with run.stage("monitor") as info:
        data = load_study_data(sc, progress=progress)
        centres = centre_table(data)
        minutes = residence_minutes(data, data.monitoring, centres, threshold=threshold, progress=progress)
        ind = indicators(data.monitoring, centres, minutes=minutes, threshold=threshold)
        tr = trends(ind)
        low = below_retention(ind, level)
        info.update(records=len(ind), centres=int(ind["centre_id"].nunique()), below_retention=len(low),
                    residence_checked=minutes is not None)
    lang = sc.run.language
    paths = data.quality.write(run.folder, lang=lang)
    run.outputs(paths.values())
    written = write_monitoring(run.folder, ind, tr, low, lang=lang, notes=data.quality.notes_in(lang),
                               threshold=threshold, min_retention=level)
    run.outputs(written.values())
    run.finish()
    print(f"monitoreo / monitoring: {len(ind)} registros, {ind['centre_id'].nunique()} centros, "
          f"{len(low)} bajo {level:.0%} de permanencia -> {run.folder / 'monitoreo.html'}", flush=True)
    return {"indicators": ind, "trends": tr, "low_retention": low}
