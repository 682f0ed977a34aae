"""siting: where to open the next technical-education centre.

Travel-time access gaps, suitability scoring and location-allocation for CETPRO
extension centres, built for Cajamarca (Peru) and usable for any region with the
same kind of data.

Public API (each stage is a plain function of typed inputs; see ``siting.pipeline``)::

    import siting
    sc = siting.load_scenario("scenarios/cajamarca.toml", allocation__n_sites=5)
    data = siting.load_data(sc)                      # StudyData: GeoDataFrames + quality report
    graph = siting.build_graph(sc, data)             # TravelGraph (roads + walking over terrain)
    gaps = siting.compute_access(sc, data, graph)    # AccessResult: places, by district/UGEL, ...
    scores = siting.score_candidates(sc, data, graph, gaps)      # ScoreResult
    plan = siting.propose_sites(sc, data, graph, gaps, scores)   # ProposalResult
    siting.run(sc)                                   # the whole chain into sc.run.output_dir
"""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import DataError, ScenarioError, UserError
from .scenario import Scenario, load_scenario, save_scenario

_STAGES = {
    "load_data": "stage_data",
    "build_graph": "stage_graph",
    "compute_access": "stage_access",
    "score_candidates": "stage_score",
    "propose_sites": "stage_propose",
    "make_report": "stage_report",
    "run": "run_all",
}


def __getattr__(name: str):
    """Stage functions are imported on first use (they pull in the geospatial stack)."""
    if name in _STAGES:
        from . import pipeline
        return getattr(pipeline, _STAGES[name])
    raise AttributeError(f"module 'siting' has no attribute {name!r}")


__all__ = ["Scenario", "load_scenario", "save_scenario", "UserError", "ScenarioError", "DataError", "__version__",
           *_STAGES]
