#!/usr/bin/env python
"""Does a priority change the plan?  The propose stage on the shipped scenario with one key changed
(issue #18): weight_women = 2 for mclp and pmedian, suitability_weight = 500 and 2000 for mclp;
prints each run's objective and the notes saying how the weight entered and whether the plan changed.

Usage:  PYTHONPATH=src python scripts/priorities_effect.py [--scenario scenarios/cajamarca.toml]
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import siting  # noqa: E402
from siting.allocation import propose_sites  # noqa: E402

CASES = [("mclp", {"weight_women": 2.0}), ("pmedian", {"weight_women": 2.0}),
         ("mclp", {"suitability_weight": 500.0}), ("mclp", {"suitability_weight": 2000.0})]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "cajamarca.toml"))
    args = ap.parse_args()
    sc = siting.load_scenario(args.scenario)
    data = siting.load_data(sc, progress=False)
    graph = siting.build_graph(sc, data)
    access = siting.compute_access(sc, data, graph)
    scores = siting.score_candidates(sc, data, graph, access, progress=False)
    for objective, change in CASES:
        a = dataclasses.replace(sc.allocation, objective=objective, pareto_points=0, **change)
        t0 = time.perf_counter()
        plan = propose_sites(dataclasses.replace(sc, allocation=a), data, access, scores, graph=graph)
        print(f"{objective} {change}: objective {plan.solution.objective:,.1f} ({time.perf_counter() - t0:.1f} s)")
        for note in plan.priority_notes:
            print("   ", note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
