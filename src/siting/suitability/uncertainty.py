"""Travel-time draws of the Monte Carlo: road speeds per class and the detour factor within
their calibrated intervals, or one global speed factor.

**Intervals** (:func:`speed_intervals`): the table of ``suitability.speed_intervals`` (the
``calibration_parameters.csv`` that ``siting calibrate`` writes: columns ``parameter``,
``low``, ``high``; ``"auto"`` = the shipped ``docs/calibration/calibration_parameters.csv``
next to the scenarios folder when it exists; ``"none"`` = no table), overridden by
``[suitability.speed_ranges]`` (``national_paved = [34.4, 55.3]``, ``detour = [1.10, 1.64]``).
A parameter is a road class of ``speeds.road_kmh`` (km/h) or ``detour``
(``speeds.approximate_detour_factor``); rows without both ends are left at their value.
A class's own detour factor (``detour_<class>``) is not drawn: on a class whose km are all
rebuilt the trips identify only ``d_c / v_c``, and the speed's bootstrap interval already
carries that ratio's spread (drawing both independently would count it twice).

**Draws** (:func:`draw_speeds`): ``suitability.speed_samples`` draws, each parameter
independently uniform in its interval, ``v_c ~ U(lo_c, hi_c)``, ``d ~ U(lo_d, hi_d)``.

**Exactness** (:func:`reach_draws`): when classes scale differently a time is no longer a
scaled base time (the fastest path itself can change), so no threshold on the base minutes
is exact.  Each draw therefore re-times the road edges of the graph
(:func:`siting.network.reweight.reweighted`, equal to a rebuild with those speeds) and
recomputes, on it, the candidates' reach within ``T``, every place's minutes to the nearest
centre and the teacher minutes: a few bounded Dijkstra runs per draw, exact by construction.
Without intervals the former scheme stays: one global factor ``f ~ U(1 - j, 1 + j)`` on
every speed scales every time by ``1/f``, so a draw is the base reach within ``T f``
(computed once within ``T (1 + j)``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..data import StudyData
from ..errors import ScenarioError
from ..network import solve
from ..network.cost_cache import cached_directed_coverage
from ..network.graph import TravelGraph
from ..network.reweight import graph_road_pieces, reweighted, road_edge_positions
from ..scenario import Scenario, Speeds

DETOUR = "detour"
SHIPPED = Path("..") / "docs" / "calibration" / "calibration_parameters.csv"


@dataclass(frozen=True)
class ReachDraw:
    """One travel-time draw: its speeds (or global ``factor``) and what the stages need of it."""

    speeds: Speeds
    factor: float  # 1.0 for an interval draw; the global speed factor otherwise
    coverage: sp.csr_array  # candidates x places within allocation.max_minutes (minutes)
    minutes_nearest: np.ndarray  # per place: minutes to the nearest centre (access.direction)
    teacher_minutes: sp.csr_array  # candidates x CETPRO within allocation.teacher_max_minutes


def interval_table(sc: Scenario) -> Path | None:
    """The interval table the scenario points at (``None`` = none)."""
    spec = sc.suitability.speed_intervals.strip()
    if spec.lower() in {"", "none"}:
        return None
    base = Path(sc.source).parent if sc.source else Path.cwd()
    if spec.lower() == "auto":
        path = (base / SHIPPED).resolve()
        return path if path.is_file() else None
    path = Path(spec) if Path(spec).is_absolute() else (base / spec).resolve()
    if not path.is_file():
        raise ScenarioError(f"suitability.speed_intervals: no file {path}",
                            hint="give the calibration_parameters.csv of `siting calibrate`, 'auto' or 'none'")
    return path


def speed_intervals(sc: Scenario) -> dict[str, tuple[float, float]]:
    """``{parameter: (low, high)}`` of the draws (see the module docstring); empty = use
    the global ``speed_jitter``."""
    out: dict[str, tuple[float, float]] = {}
    path = interval_table(sc)
    if path is not None:
        table = pd.read_csv(path)
        for _, row in table.iterrows():
            lo, hi = pd.to_numeric(row.get("low"), errors="coerce"), pd.to_numeric(row.get("high"), errors="coerce")
            if np.isfinite(lo) and np.isfinite(hi):
                out[str(row["parameter"])] = (float(lo), float(hi))
    for name, pair in sc.suitability.speed_ranges.items():
        if len(pair) != 2 or not 0 < pair[0] <= pair[1]:
            raise ScenarioError(f"suitability.speed_ranges.{name} must be [low, high] with 0 < low <= high, "
                                f"got {pair!r}")
        out[name] = (float(pair[0]), float(pair[1]))
    known = set(sc.speeds.road_kmh) | {DETOUR}
    return {k: v for k, v in out.items() if k in known}


def outside_note(sc: Scenario, intervals: dict[str, tuple[float, float]]) -> list[str]:
    """A note when a base value of the scenario lies outside its draw interval (the draws are
    then systematically slower or faster than the plan's own speeds)."""
    base = dict(sc.speeds.road_kmh, **{DETOUR: sc.speeds.approximate_detour_factor})
    out = [f"{k} {base[k]:g} ({lo:g}-{hi:g})" for k, (lo, hi) in sorted(intervals.items())
           if not lo <= base[k] <= hi]
    if not out:
        return []
    if sc.run.language == "en":
        return ["Speed draws: base values outside their calibrated interval: " + ", ".join(out)
                + "; the selection frequency then also measures the change to the calibrated speeds"]
    return ["Sorteos de velocidades: valores base fuera de su intervalo calibrado: " + ", ".join(out)
            + "; la frecuencia de selección mide entonces también el cambio a las velocidades calibradas"]


def draw_speeds(base: Speeds, intervals: dict[str, tuple[float, float]], *, n: int,
                rng: np.random.Generator) -> list[Speeds]:
    """``n`` speed tables, each parameter of ``intervals`` uniform in its interval (sorted
    parameter order, so a seed gives the same draws)."""
    out = []
    for _ in range(n):
        kmh = dict(base.road_kmh)
        detour = base.approximate_detour_factor
        for name in sorted(intervals):
            lo, hi = intervals[name]
            value = float(rng.uniform(lo, hi))
            if name == DETOUR:
                detour = value
            else:
                kmh[name] = value
        out.append(dataclasses.replace(base, road_kmh=kmh, approximate_detour_factor=detour))
    return out


def nearest_minutes(graph: TravelGraph, sources: np.ndarray, targets: np.ndarray, direction: str) -> np.ndarray:
    """Minutes of ``targets`` to their nearest source in ``direction`` (as the access stage)."""
    to = solve.nearest(graph, sources, towards_sources=True)
    back = solve.nearest(graph, sources, towards_sources=False)
    return np.asarray(solve.combine(to.minutes, back.minutes, direction))[targets]


def draw_reach(sc: Scenario, graph: TravelGraph, *, candidate_nodes: np.ndarray, facility_nodes: np.ndarray,
               progress: bool = False, run_aside: solve.RunAside | None = None
               ) -> tuple[sp.csr_array, np.ndarray, sp.csr_array]:
    """Reach within ``T``, minutes to the nearest centre and teacher minutes on ``graph``
    (``run_aside``: the trip back of a mean direction searched in a side process)."""
    from ..access.bands import round_minutes
    direction = sc.access.direction
    places = graph.point_nodes["places"]
    cache = sc.run.cache_dir  # keyed by the re-timed graph's arrays (network.cost_cache, #19)
    cov = cached_directed_coverage(graph, candidate_nodes, places, sc.allocation.max_minutes, direction=direction,
                                   cache_dir=cache, progress=progress, run_aside=run_aside)
    minutes = round_minutes(nearest_minutes(graph, facility_nodes, places, direction))
    teacher = cached_directed_coverage(graph, graph.point_nodes["cetpro"], candidate_nodes,
                                       sc.allocation.teacher_max_minutes, direction=solve.TEACHER[direction],
                                       cache_dir=cache, progress=progress, run_aside=run_aside).T.tocsr()
    return sp.csr_array(cov), minutes, sp.csr_array(teacher)


def reach_draws(sc: Scenario, data: StudyData, graph: TravelGraph, *, candidate_nodes: np.ndarray,
                facility_nodes: np.ndarray, rng: np.random.Generator, progress: bool = False,
                run_aside: solve.RunAside | None = None) -> list[ReachDraw]:
    """The interval draws (empty without intervals or samples): one re-timed graph each
    (``run_aside``: see :func:`draw_reach`)."""
    s = sc.suitability
    intervals = speed_intervals(sc)
    if not intervals or s.speed_samples <= 0 or data.terrain is None:
        return []
    positions = road_edge_positions(graph)
    pieces = graph_road_pieces(data.roads, data.terrain) if data.roads is not None and len(data.roads) else None
    out = []
    for speeds in draw_speeds(sc.speeds, intervals, n=s.speed_samples, rng=rng):
        g = reweighted(graph, data.roads, data.terrain, speeds, positions=positions, pieces=pieces)
        cov, minutes, teacher = draw_reach(sc, g, candidate_nodes=candidate_nodes, facility_nodes=facility_nodes,
                                           progress=progress, run_aside=run_aside)
        out.append(ReachDraw(speeds, 1.0, cov, minutes, teacher))
    return out
