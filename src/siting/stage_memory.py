"""Peak memory of each pipeline stage, estimated from its input sizes before it runs (issue #19).

Each function returns an :class:`Estimate`: the bytes of the largest arrays and tables the
stage holds at once, term by term, so the manifest can show why (``memory_estimate_mb`` and
its terms per stage; ``peak_rss_mb`` / ``rss_growth_mb`` measured by
:meth:`siting.manifest.Run.stage`) and ``scripts/benchmark_memory.py`` can print estimate
against measured.  The estimates are upper bounds of the peak of traced allocations
(``tracemalloc``: Python objects and NumPy arrays) of the stage, checked on real runs (the
shipped 8-UGEL scenario and UGEL San Marcos, ``tests/test_stage_memory.py``); C buffers of
GDAL, HiGHS or matplotlib's renderer are outside ``tracemalloc`` and partly outside them.

Notation: ``P`` places, ``C`` candidates, ``N`` graph nodes, ``E`` graph edges, ``R`` Monte
Carlo runs of the suitability stage, ``K`` criteria, ``F`` input bytes, ``B = 8`` bytes of
a float64.  Every estimate adds a fixed ``BASE`` of 16 MiB (interpreter work: parsing,
temporary DataFrames of a few columns).

* data: ``3 F + BASE`` (a file read into columns: the decoded text, the parsed arrays and a
  copy while joining);
* graph: :func:`siting.network.memory.graph_memory_estimate`, summed over the graphs the
  stage builds (the driving one and the walking one);
* access: ``B N (4 s + 6) + 4 KiB P + BASE``: per facility set and direction ``s`` a distance
  and a predecessor array over the nodes (twice while the nearest is reduced), six node
  arrays of the graph's search, and per place its table row and route text;
* score: ``B P R (K + 2) + B P^2 / 2 + 16 KiB P + BASE``: the normalised criteria of every
  run (``P`` bounds ``C``) and its score and rank, the catchment pairs between places
  (at most half of all pairs within the catchment radius), the candidate table;
* propose: ``24 B C P + 4 KiB P + BASE``: the coverage and cost matrices of the candidates
  against the places, held by the MILPs, the near-optimal sets, the Pareto front and the
  plan measures (up to 24 matrices of ``C x P`` at once);
* report (main process): ``24 KiB P + 4 KiB Q + 128 B V + S + BASE``: per place its GeoJSON
  feature, popup texts, table rows and their HTML (the interactive map of the shipped run is
  5 MB of text, its objects several times that), per school premises ``Q`` its feature and
  table row, per road vertex ``V`` its coordinates as numbers and text (calibrated: the
  shipped run traced 93 MB in this process against 129 MB estimated, side processes on,
  2026-12-03), and the static maps drawn in this process
  (``S = 48 MiB`` per figure when no side process draws them: an A4 canvas at 150 dpi,
  ``1754 x 1240 x 4`` bytes, and its copies while encoding PNG and PDF; with side processes,
  :mod:`siting.report.side_tasks`, they are in the workers, ``S = 0``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIB = 2 ** 20
BASE = 16 * MIB
B = 8  # bytes of a float64
#: bytes of one static map drawn in the process (canvas and its copies while saving)
FIGURE_BYTES = 48 * MIB


@dataclass(frozen=True)
class Estimate:
    """Estimated peak bytes of one stage and the terms they add up from."""

    stage: str
    terms: dict[str, int] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        return int(sum(self.terms.values()))

    @property
    def mb(self) -> float:
        return self.bytes / MIB

    def record(self) -> dict[str, Any]:
        """The manifest's fields: ``memory_estimate_mb`` and each term in MB."""
        return {"memory_estimate_mb": round(self.mb, 1),
                "memory_estimate_terms_mb": {k: round(v / MIB, 1) for k, v in self.terms.items()}}


def input_bytes(inputs: Any) -> int:
    """Total size of the input files named by a scenario's ``[inputs]`` (paths or lists of paths)."""
    total = 0
    for f in dataclasses.fields(inputs):
        value = getattr(inputs, f.name)
        for p in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(p, (str, Path)) and str(p) and Path(p).is_file():
                total += Path(p).stat().st_size
    return total


def data_estimate(n_input_bytes: int) -> Estimate:
    """The data stage: ``3 F + BASE``."""
    return Estimate("data", {"inputs": 3 * int(n_input_bytes), "base": BASE})


def graph_estimate(graph_bytes: list[int]) -> Estimate:
    """The graph stage: the sum of :func:`siting.network.memory.graph_memory_estimate` of its graphs."""
    return Estimate("graph", {f"graph_{i}": int(b) for i, b in enumerate(graph_bytes)})


def access_estimate(*, n_places: int, n_nodes: int, n_sets: int = 1) -> Estimate:
    """The access stage: ``B N (4 s + 6) + 4 KiB P + BASE`` (``s``: facility sets x directions)."""
    return Estimate("access", {"node_arrays": B * int(n_nodes) * (4 * max(1, int(n_sets)) + 6),
                               "place_rows": 4096 * int(n_places), "base": BASE})


def score_estimate(*, n_places: int, n_runs: int, n_criteria: int) -> Estimate:
    """The score stage: ``B P R (K + 2) + B P^2 / 2 + 16 KiB P + BASE``."""
    p = int(n_places)
    return Estimate("score", {"monte_carlo": B * p * max(1, int(n_runs)) * (int(n_criteria) + 2),
                              "catchment_pairs": B * p * p // 2, "candidate_rows": 16384 * p, "base": BASE})


def propose_estimate(*, n_candidates: int, n_places: int) -> Estimate:
    """The propose stage: ``24 B C P + 4 KiB P + BASE``."""
    return Estimate("propose", {"candidate_place_matrices": 24 * B * int(n_candidates) * int(n_places),
                                "place_rows": 4096 * int(n_places), "base": BASE})


def report_estimate(*, n_places: int, n_premises: int, n_road_vertices: int, n_figures: int,
                    side_processes: bool) -> Estimate:
    """The report stage (main process): ``24 KiB P + 4 KiB Q + 128 B V + S + BASE``."""
    return Estimate("report", {"places": 24576 * int(n_places), "premises": 4096 * int(n_premises),
                               "road_vertices": 128 * int(n_road_vertices),
                               "static_maps": 0 if side_processes or n_figures == 0 else FIGURE_BYTES,
                               "base": BASE})


def road_vertices(roads: Any) -> int:
    """Vertices of the road lines (0 without roads)."""
    if roads is None or not len(roads):
        return 0
    import shapely

    return int(shapely.get_num_coordinates(roads.geometry.to_numpy()).sum())


def n_static_figures(maps: str, n_ugels: int) -> int:
    """Figures ``run.maps`` draws: 2 per area (travel time, proposals), the region and each UGEL with ``"all"``."""
    return {"none": 0, "region": 2}.get(maps, 2 * (1 + int(n_ugels)))


def estimate_stage(stage: str, sc: Any, *, data: Any = None, graph: Any = None, access: Any = None,
                   scores: Any = None, graph_modes: list[str | None] | None = None,
                   walk: bool = False) -> Estimate:
    """The :class:`Estimate` of ``stage`` from the results of the stages before it (see the
    module docstring): ``data`` (:class:`siting.data.StudyData`) from the graph stage on,
    ``graph`` for access, ``access`` from score on, ``scores`` for propose.  ``graph_modes``:
    the graphs the graph stage builds (default: the driving one, and the walking one when
    ``speeds.mode`` is not ``"walk"``); ``walk``: access also on the walking graph."""
    if stage == "data":
        return data_estimate(input_bytes(sc.inputs))
    if stage == "graph":
        from .network.memory import graph_memory_estimate
        from .network.stage import _terrain, graph_points

        modes = graph_modes if graph_modes is not None else [None] + (["walk"] if sc.speeds.mode != "walk" else [])
        terrain, points = _terrain(sc, data), graph_points(data)
        return graph_estimate([graph_memory_estimate(terrain, data.roads, sc.speeds, points, mode=m) for m in modes])
    if stage == "access":
        return access_estimate(n_places=len(data.places), n_nodes=graph.n_nodes, n_sets=2 * (2 if walk else 1))
    if stage == "score":
        return score_estimate(n_places=len(access.places), n_runs=sc.suitability.sensitivity_runs,
                              n_criteria=len(sc.suitability.weights))
    if stage == "propose":
        return propose_estimate(n_candidates=len(scores.candidates), n_places=len(access.places))
    if stage == "report":
        from .report.side_tasks import report_workers

        maps = getattr(sc.run, "maps", "all")
        ugels = data.districts["ugel"].dropna().nunique() if "ugel" in data.districts else 0
        premises = 0 if data.school_premises is None else len(data.school_premises)
        return report_estimate(n_places=len(access.places), n_premises=premises,
                               n_road_vertices=road_vertices(data.roads), n_figures=n_static_figures(maps, ugels),
                               side_processes=report_workers() > 1)
    raise ValueError(f"unknown stage {stage!r}")
