"""siting: where to open the next technical-education centre.

Travel-time access gaps, suitability scoring and location-allocation for CETPRO
extension centres, built for Cajamarca (Peru) and usable for any region with the
same kind of data.

Public API (each stage is a plain function of typed inputs returning a small frozen
dataclass; each lives in its package)::

    import siting
    sc = siting.load_scenario("scenarios/cajamarca.toml", allocation__n_sites=5)
    data = siting.load_data(sc)                               # StudyData: GeoDataFrames + quality report
    graph = siting.build_graph(sc, data)                      # TravelGraph (roads + walking over terrain)
    gaps = siting.compute_access(sc, data, graph)             # AccessResult: places, by district/UGEL, ...
    scores = siting.score_candidates(sc, data, graph, gaps)   # ScoreResult: candidates and their reach
    plan = siting.propose_sites(sc, data, gaps, scores)       # ProposalResult: sites, parents, gains
    after = siting.evaluate_plan(sc, data, graph, plan)       # PlanAccess: minutes once they open
    siting.make_report(sc, data, gaps, plan, folder="out")    # ReportResult: maps and HTML reports
    result = siting.run(sc)                                   # RunResult: the whole chain into sc.run.output_dir
"""
from __future__ import annotations

__version__ = "0.1.0"

from .access import AccessResult, PlanAccess, compute_access, evaluate_plan
from .allocation import ProposalResult, propose_sites
from .data import StudyData, load_data
from .errors import DataError, ScenarioError, UserError
from .network import TravelGraph, build_graph
from .pipeline import RunResult, run
from .report import ReportResult, make_report
from .scenario import Scenario, load_scenario, save_scenario
from .suitability import ScoreResult, score_candidates

STAGES = ("load_data", "build_graph", "compute_access", "score_candidates", "propose_sites", "evaluate_plan",
          "make_report", "run")

__all__ = ["Scenario", "load_scenario", "save_scenario", "UserError", "ScenarioError", "DataError", "__version__",
           "load_data", "build_graph", "compute_access", "score_candidates", "propose_sites", "evaluate_plan",
           "make_report", "run", "StudyData", "TravelGraph", "AccessResult", "ScoreResult", "ProposalResult",
           "PlanAccess", "ReportResult", "RunResult"]
