"""The commands: the stages composed in order into a run folder, with a manifest.

    scenario ─► load_data ─► build_graph ─► compute_access ─► score_candidates
             ─► propose_sites ─► evaluate_plan ─► make_report

Each stage lives in its package (``siting.data``, ``siting.network``, ``siting.access``,
``siting.suitability``, ``siting.allocation``, ``siting.report``); this module only calls
them, writes their files (:mod:`siting.report.writers`), prints the summaries and records
every stage in ``manifest.json`` (:class:`siting.manifest.Run`).  Each command returns one
:class:`RunResult`.  The travel-time graph is cached in ``run.cache_dir`` by a hash of its
inputs and parameters, so a rerun after an interruption resumes from it.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .access import AccessResult, PlanAccess, compute_access, evaluate_plan
from .access.season import compare_seasons
from .allocation import ProposalResult, propose_sites
from .data import StudyData, load_data
from .manifest import Run, previous_outputs
from .network import build_graph, check_graph_memory
from .network.graph import TravelGraph
from .network.season import build_rainy_graph, rainy_roads
from .report import ReportResult, make_report, qgis_project, writers
from .report.labels import t
from .report.season_section import season_sentence
from .report.shortfall import Shortfall, shortfall
from .report.side_tasks import borrowed_pool, deferred_writes, run_aside, wait_for_writes
from .report.stage import StartedReport, start_report
from .scenario import Scenario
from .stage_memory import estimate_stage
from .suitability import ScoreResult, candidate_table, score_candidates


@dataclass(frozen=True)
class RunResult:
    """What a command computed (the stages after it are ``None``) and where it wrote it."""

    folder: Path
    data: StudyData
    graph: TravelGraph | None = None
    walk_graph: TravelGraph | None = None  # walking only (when speeds.mode is not "walk")
    access: AccessResult | None = None
    scores: ScoreResult | None = None
    plan: ProposalResult | None = None
    evaluation: PlanAccess | None = None  # access once the proposals open
    report: ReportResult | None = None
    shortfall: Shortfall | None = None  # fewer sites placed than asked, and why


def _say(text: str) -> None:
    print(text, flush=True)


def _print_table(df: pd.DataFrame, title: str) -> None:
    def fmt(v: float) -> str:  # shares and scores need decimals, people and minutes do not
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"

    with pd.option_context("display.max_columns", 20, "display.width", 160, "display.float_format", fmt):
        _say(f"\n{title}\n{df.to_string(index=False)}")


def _finish(run: Run) -> None:
    """Finish ``run`` and say which outputs of the previous run in the folder it removed."""
    run.finish()
    if run.removed:
        shown = sorted(run.removed, key=lambda r: (not r.endswith(".html"), "/" in r, r))  # the reports first
        names = ", ".join(shown[:6]) + (" ..." if len(shown) > 6 else "")
        _say("  ! " + t("run.removed_stale", run.scenario.run.language).format(n=len(run.removed), names=names))


def _holds_report(sc: Scenario) -> bool:
    """Whether the last run written into the output folder left a report (``report.html``)."""
    return "report.html" in previous_outputs(sc.run.output_dir)


def _open(sc: Scenario, record: Run | None, command: str) -> tuple[Run, bool]:
    """The run to record into (``record``) or a new one (``own``: this command finishes it)."""
    if record is not None:
        return record, False
    run = Run.start(sc, command=command)
    run.manifest["name"] = sc.run.name  # saved with the first stage
    return run, True


# --------------------------------------------------------------------------- commands


def data_check(sc: Scenario, *, progress: bool = True, record: Run | None = None) -> RunResult:
    """``siting data check``: load every input, print and write the quality report."""
    run, own = _open(sc, record, "data check")
    with run.stage("data") as info:
        info.update(estimate_stage("data", sc).record())
        data = load_data(sc, progress=progress)
        info.update(places=len(data.places), cetpro=len(data.cetpro), districts=len(data.districts),
                    roads=0 if data.roads is None else len(data.roads),
                    terrain_shape=None if data.terrain is None else list(data.terrain.shape),
                    problems=len(data.quality.problems))
    writers.write_quality(run, data)
    _print_table(data.quality.summary(lang=sc.run.language), "Calidad de datos / Data quality")
    for note in data.quality.notes_in(sc.run.language):
        _say(f"  ! {note}")
    _say(f"\nquality report: {Path(sc.run.output_dir) / 'quality_report.md'}")
    if own:
        _finish(run)
    return RunResult(folder=run.output_folder or run.folder, data=data)


def _access_figures(result: AccessResult, sc: Scenario) -> dict:
    t = result.total.iloc[0]
    g = sc.population.target_group
    figures = {"places": int(len(result.places)), "population": float(t["population"])}
    for th in sc.access.thresholds_min:
        s = f"{th:g}"
        if f"population_beyond_{s}" in t:
            figures[f"population_beyond_{s}"] = float(t[f"population_beyond_{s}"])
        if f"pop_{g}_beyond_{s}" in t:
            figures[f"target_beyond_{s}"] = float(t[f"pop_{g}_beyond_{s}"])
    figures["no_access"] = int(np.isinf(result.places["minutes_nearest"]).sum())
    return figures


def access(sc: Scenario, *, progress: bool = True, record: Run | None = None) -> RunResult:
    """``siting access``: travel-time gaps per place, district, province and UGEL."""
    run, own = _open(sc, record, "access")
    data = data_check(sc, progress=progress, record=run).data
    with run.stage("graph") as info:
        walk_too = sc.speeds.mode != "walk"
        rainy: list[str | None] = [None] if sc.seasons.rainy else []  # the rainy graph is as large as the dry one
        check_graph_memory(sc, data, [None] + (["walk"] if walk_too else []) + rainy)  # every graph, before any
        info.update(estimate_stage("graph", sc, data=data).record())
        graph = build_graph(sc, data)
        walk = build_graph(sc, data, mode="walk") if walk_too else None
        info.update(nodes=graph.n_nodes, edges=graph.n_edges, mode=graph.mode, cache_key=graph.key)
    with run.stage("access") as info:
        info.update(estimate_stage("access", sc, data=data, graph=graph, walk=walk is not None).record())
        result = compute_access(sc, data, graph, walk_graph=walk, with_routes=True)
        info.update(_access_figures(result, sc))
    if sc.seasons.rainy:
        result = _rainy_season(sc, data, run, result)
    writers.write_access(run, result, graph, data.study_area)
    _print_table(result.summary, "Acceso por UGEL / Access by UGEL (minutos; participación = fracción de población)")
    if result.season is not None:
        _say("  " + season_sentence(result.season, sc.access.main_threshold_min, sc.run.language))
    if own:
        _finish(run)
    return RunResult(folder=run.output_folder or run.folder, data=data, graph=graph, walk_graph=walk, access=result)


def _rainy_season(sc: Scenario, data: StudyData, run: Run, result: AccessResult) -> AccessResult:
    """The rainy-season graph and its access against the dry one (``seasons.rainy``)."""
    with run.stage("season") as info:
        closed = rainy_roads(sc, data)
        rainy_graph = build_rainy_graph(sc, data, closed=closed)
        season = compare_seasons(sc, data, result, rainy_graph, closed=closed[1])
        info.update(cache_key=rainy_graph.key, closed_segments=len(closed[1]),
                    **{f"added_beyond_{th:g}": season.added(th) for th in season.thresholds})
    if sc.optional("inputs.closed_segments") is not None:
        writers.write_quality(run, data)  # the closures' rows (ids outside the study area) join the report
    return dataclasses.replace(result, season=season)


def score(sc: Scenario, *, progress: bool = True, record: Run | None = None) -> RunResult:
    """``siting score``: candidate localities, criteria, suitability score and its stability."""
    run, own = _open(sc, record, "score")
    done = access(sc, progress=progress, record=run)
    assert done.graph is not None and done.access is not None
    with run.stage("score") as info:
        info.update(estimate_stage("score", sc, access=done.access).record())
        scored = score_candidates(sc, done.data, done.graph, done.access, progress=progress, run_aside=run_aside)
        info.update(candidates=len(scored.candidates), excluded=len(scored.excluded), weights=scored.weights,
                    model=scored.model_message, notes=scored.notes)
    writers.write_score(run, scored, done.access.places)
    _say(f"\n{scored.model_message}")
    for note in scored.notes:
        _say(f"  {note}")
    top = candidate_table(scored).head(15)[["rank", "name", "district", "ugel", "score", "share_top_n",
                                            "rank_p05", "rank_p95"]]
    _print_table(top, "Mejores candidatos / Best candidates")
    if own:
        _finish(run)
    return dataclasses.replace(done, scores=scored)


def propose(sc: Scenario, *, progress: bool = True, record: Run | None = None,
            on_plan: Callable[[RunResult, ProposalResult], None] | None = None) -> RunResult:
    """``siting propose``: choose and rank new extension centres, each with a parent CETPRO,
    and the access of everyone once they open.

    Into a folder whose last run left a report and maps, the report stage runs too (they
    depend on the proposals), so the folder never shows the proposals of one run beside the
    report of another.  Fewer sites than asked: the result carries the :class:`Shortfall`.
    ``on_plan(done, plan)`` is called as soon as the plan is chosen (``siting run`` starts the
    report's maps then, while the plan is evaluated and written)."""
    if record is None and _holds_report(sc):
        _say(t("run.refresh_report", sc.run.language).format(folder=sc.run.output_dir))
        return run(sc, progress=progress, command="propose")
    run_, own = _open(sc, record, "propose")
    return _propose(sc, run_, own, progress=progress, on_plan=on_plan)


def _propose(sc: Scenario, run: Run, own: bool, *, progress: bool,
             on_plan: Callable[[RunResult, ProposalResult], None] | None = None) -> RunResult:
    done = score(sc, progress=progress, record=run)
    assert done.graph is not None and done.access is not None and done.scores is not None
    with run.stage("propose") as info:
        info.update(estimate_stage("propose", sc, access=done.access, scores=done.scores).record())
        plan = propose_sites(sc, done.data, done.access, done.scores, graph=done.graph, run_aside=run_aside)
        if on_plan is not None:
            on_plan(done, plan)
        evaluation = evaluate_plan(sc, done.data, done.graph, plan, access=done.access)
        s = plan.solution
        short = shortfall(sc, done.data, done.scores, plan)
        info.update(objective_kind=plan.objective, n_sites=int(s.n_sites), objective=float(s.objective),
                    bound=float(s.bound), gap=float(s.gap),
                    solver=s.solver, status=s.status, unassigned=len(plan.unassigned),
                    solver_seconds={k: round(v, 3) for k, v in s.timings.items()},
                    shortfall=None if short is None else short.message(sc.run.language))
    writers.write_propose(run, plan, evaluation)
    cols = ["rank", "name", "district", "ugel", "parent_name", "teacher_minutes", "new_population", "new_women",
            "new_target", "minutes_saved"]
    _print_table(plan.proposals[cols], "Propuestas / Proposals")
    for note in plan.notes + plan.priority_notes + plan.tradeoff.sentences:
        _say(f"  {note}")
    if len(plan.unassigned):
        _say(f"  ! {len(plan.unassigned)} proposed site(s) have no parent CETPRO within "
             f"{sc.allocation.teacher_max_minutes:g} min or with capacity left")
    if short is not None:
        _say("  ! " + short.message(sc.run.language))
    if own:
        _finish(run)
    return dataclasses.replace(done, plan=plan, evaluation=evaluation, shortfall=short)


def run(sc: Scenario, *, progress: bool = True, record: Run | None = None, command: str = "run") -> RunResult:
    """``siting run`` / ``siting demo`` / ``siting report``: every stage, every output, into
    ``sc.run.output_dir`` (maps and reports last)."""
    job, _ = _open(sc, record, command)
    raster = job.folder / "travel_time_minutes.tif"  # written by the access stage
    started: list[StartedReport] = []

    def start_maps(done: RunResult, plan: ProposalResult) -> None:  # the report's maps and charts, aside
        if (pool := borrowed_pool()) is not None:
            assert done.access is not None
            started.append(start_report(sc, done.data, done.access, plan, folder=job.folder, raster=raster,
                                        pool=pool))

    with deferred_writes():  # each stage's workbook is written while the next stages compute (#19)
        done = propose(sc, progress=progress, record=job, on_plan=start_maps)
        assert done.access is not None
        with job.stage("report") as info:
            info.update(estimate_stage("report", sc, data=done.data, access=done.access).record())
            result = make_report(sc, done.data, done.access, done.plan, folder=job.folder, raster=raster,
                                 progress=progress, started=started[0] if started else None)
            info.update(files=len(result.files))
        job.outputs(result.files.values())
        wait_for_writes()  # the QGIS project reads the styles of the GeoPackages written aside
        if qgz := qgis_project.run_project(job.folder, lang=sc.run.language, thresholds=sc.access.thresholds_min):
            job.output(qgz)  # siting.qgz: every styled layer of the run, relative paths
    _finish(job)
    _say(f"\nlisto / done: {job.folder}  (abra / open {job.folder / 'report.html'})")
    return dataclasses.replace(done, report=result)


def report(sc: Scenario, *, progress: bool = True, record: Run | None = None) -> RunResult:
    """``siting report``: the whole chain, then maps and reports."""
    return run(sc, progress=progress, record=record, command="report")
