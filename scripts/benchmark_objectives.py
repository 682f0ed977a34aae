#!/usr/bin/env python
"""Benchmark the objective models (siting.allocation.objectives) on the real Cajamarca instance vs spopt.

Instance (the pipeline's own, scenarios/cajamarca.toml): every candidate locality of the score
stage x every centro poblado of the 8 UGELs, the scenario's demand weights (men + weight_women x
women of the target group), each place's minutes to the nearest existing CETPRO (access stage),
and the travel times from the project's graph (``solve.coverage`` towards the sites) within a
cut-off T for each ``--cutoffs`` value (``max`` = the largest existing time: the exact p-median).

For every cut-off, model and N it times, in the same run:
  * ours: ``PMedian`` / ``PCenter`` ``.from_cost_matrix(...).solve("exact")`` (HiGHS via
    scipy.optimize.milp) end to end (build + solve), and the heuristic with its bound;
  * PySAL spopt ``PMedian`` / ``PCenter`` ``.from_cost_matrix(dense).solve(PULP_CBC_CMD())``
    end to end (dense matrix, model build, solve) on the *same* problem: the dense matrix holds
    the stored minutes, each place's existing minutes where a pair is beyond the cut-off (no
    better than the existing facility), and one more column with the existing minutes,
    predefined open, p = N + 1.
It prints objectives, whether they are equal, the times and ``speed-up NNx`` (spopt / ours).
spopt has no parent-CETPRO, quota or budget constraints, so the spopt comparison is on the
unconstrained models; ``--constrained`` also times ours with the scenario's parents (no spopt).
``--spopt-places useful`` gives spopt only the places some candidate can improve (the others
are constant): the same optimum up to a constant, a smaller model (reported as such).

Usage:  python scripts/benchmark_objectives.py --cutoffs 60 120 --n 10 --models pmedian pcenter
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from siting.allocation.objectives import (  # noqa: E402
    MaxCovering,
    MaxMinFairness,
    PCenter,
    PMedian,
    SitingData,
    compare_plans,
    demand_weights,
    describe_front,
    pareto_front,
    population_groups,
    suitability_cost,
)
from siting.io import atomic_path  # noqa: E402


def pipeline_instance(scenario: str, cutoffs: list[str]) -> dict:
    """Candidates of the score stage x places, minutes within each cut-off, weights, existing minutes."""
    import siting
    from siting.allocation.stage import demand_weights, parent_capacity
    from siting.network.solve import coverage

    sc = siting.load_scenario(scenario)
    data = siting.load_data(sc, progress=False)
    graph = siting.build_graph(sc, data)
    gaps = siting.compute_access(sc, data, graph)
    scores = siting.score_candidates(sc, data, graph, gaps, progress=False)
    place_nodes = graph.point_nodes["places"]
    cand_nodes = place_nodes[scores.candidate_place_index]
    e = gaps.places["minutes_nearest"].to_numpy(float)
    out = {"w": demand_weights(sc, gaps.places, indicators=data.district_indicators), "e": e, "matrices": {},
           "teacher": scores.teacher_minutes,
           "cap": parent_capacity(sc, data), "teacher_max": sc.allocation.teacher_max_minutes,
           "groups": scores.candidates[sc.allocation.group_by].astype(str).to_numpy(),
           "places": gaps.places, "candidates": scores.candidates, "scenario": sc}
    for c in cutoffs:
        T = float(np.ceil(e[np.isfinite(e)].max())) if c == "max" else float(c)
        t0 = time.perf_counter()
        cov = coverage(graph, cand_nodes, place_nodes, T, towards_origins=True, progress=False)
        out["matrices"][T] = sp.csr_array(cov.T)  # places x candidates
        print(f"engine coverage <= {T:g} min: {len(cand_nodes):,} candidates x {len(place_nodes):,} places, "
              f"{cov.nnz:,} pairs in {time.perf_counter() - t0:.2f} s", flush=True)
    out["source"] = (f"pipeline: {len(cand_nodes):,} candidates x {len(place_nodes):,} places, weight (men + "
                     f"{sc.allocation.weight_women:g} x women) aged {sc.population.target_group}")
    return out


def spopt_dense(data: SitingData, places: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same problem for spopt: dense places x (candidates + existing) minutes."""
    base = data.base[places]
    dense = np.repeat(base[:, None], data.n_candidates, axis=1)
    D = data.D[places].tocoo()
    dense[D.row, D.col] = np.minimum(D.data, base[D.row])
    return np.c_[dense, base], np.r_[np.zeros(data.n_candidates), 1].astype(int)


def run_spopt(kind: str, data: SitingData, N: int, *, places: np.ndarray, time_limit: float) -> dict:
    import pulp
    from spopt.locate import PCenter as SpoptPCenter
    from spopt.locate import PMedian as SpoptPMedian
    t0 = time.perf_counter()
    full, pre = spopt_dense(data, places)
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit)
    if kind == "pmedian":
        model = SpoptPMedian.from_cost_matrix(full, data.w[places], p_facilities=N + 1, predefined_facilities_arr=pre)
    else:
        model = SpoptPCenter.from_cost_matrix(full, p_facilities=N + 1, predefined_facilities_arr=pre)
    t1 = time.perf_counter()
    try:
        model = model.solve(solver)
        # sol_status tells a proven optimum (1) from an incumbent at the time limit (2)
        status = pulp.LpStatus[model.problem.status] + ("" if model.problem.sol_status == 1 else
                                                        f" (solution status {model.problem.sol_status}: not proven)")
        obj = float(model.problem.objective.value())
    except Exception as exc:  # spopt raises when CBC stops without an optimal solution
        status, obj = f"failed ({type(exc).__name__}: {str(exc)[:80]})", float("nan")
    return {"spopt_obj": obj, "spopt_s": time.perf_counter() - t0, "spopt_build_s": t1 - t0, "spopt_status": status}


def ours(kind: str, matrix, inst: dict, T: float, N: int, *, constrained: bool, method: str) -> dict:
    kw = dict(existing_minutes=inst["e"], cutoff=T, n_sites=N)
    if constrained:
        kw.update(parent_minutes=inst["teacher"], parent_capacity=inst["cap"], parent_max_minutes=inst["teacher_max"])
    cls = PMedian if kind == "pmedian" else PCenter
    t0 = time.perf_counter()
    model = cls.from_cost_matrix(matrix, inst["w"], **kw)
    res = model.solve(method, time_limit=600.0)
    return {"obj": res.objective, "bound": res.bound, "gap": res.gap, "status": res.status,
            "s": time.perf_counter() - t0, "model": model, "sites": len(res.selected)}


def scenario_data(inst: dict, T: float, *, weights: np.ndarray | None = None, **changes) -> SitingData:
    """The scenario's own limits (N, parents within teacher time and with capacity, groups)."""
    sc = inst["scenario"]
    cand = inst["candidates"]
    kw = dict(existing_minutes=inst["e"], cutoff=T, n_sites=sc.allocation.n_sites, parent_minutes=inst["teacher"],
              parent_capacity=inst["cap"], parent_max_minutes=inst["teacher_max"], group_of_candidate=inst["groups"],
              min_per_group=sc.allocation.min_per_ugel or None, max_per_group=sc.allocation.max_per_ugel or None,
              suitability=cand["score"].to_numpy(float), candidate_ids=cand["name"].astype(str).tolist())
    kw.update(changes)
    return SitingData.from_cost_matrix(inst["matrices"][T], inst["w"] if weights is None else weights, **kw)


def report_figures(inst: dict, *, n_points: int, out: Path) -> None:
    """The Pareto front, every objective's measures, the women weight and the suitability cost
    on the shipped scenario (N = allocation.n_sites, exact minutes: cut-off = the largest existing time)."""
    sc = inst["scenario"]
    T_all = max(inst["matrices"])
    places = inst["places"]
    data = scenario_data(inst, T_all)
    T, T2 = sc.allocation.max_minutes, 120.0
    with pd.option_context("display.width", 220, "display.max_columns", 30, "display.max_colwidth", 90,
                           "display.float_format", lambda v: f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"):
        t0 = time.perf_counter()
        front = pareto_front(data, max_minutes=T, equity_minutes=T2, n_points=n_points)
        print(f"\nPareto front, N = {data.n_sites} ({time.perf_counter() - t0:.1f} s):")
        cols = ["point", "epsilon", "newly_covered", "beyond", "coverage_cost", "fairness_gain", "cost_per_person",
                "gini", "gini_nondominated", "sites"]
        print(front.table[cols].to_string(index=False))
        for line in describe_front(front, lang="en"):
            print("  " + line)
        front.table.drop(columns=["selected"]).to_csv(out.with_name("pareto_front.csv"), index=False)
        district = places["district"].astype(str).to_numpy()
        plans = {}
        for name, model in [("mclp", MaxCovering(data, max_minutes=T)), ("pmedian", PMedian(data)),
                            ("pcenter", PCenter(data)),
                            ("fair", MaxMinFairness(data, place_group=district, max_minutes=T))]:
            t0 = time.perf_counter()
            r = model.solve("exact")
            plans[name] = r.selected
            print(f"{name}: objective {r.objective:,.3f}, bound {r.bound:,.3f}, {r.status}, "
                  f"{time.perf_counter() - t0:.1f} s, {r.details if name in ('pcenter', 'fair') else ''}")
        table = compare_plans(data, plans, population_groups(places, target_group=sc.population.target_group),
                              main_threshold=T, place_group=district)
        print("\nAll measures, every objective (target = 15-29, minutes exact):")
        print(table.drop(columns=["sites"]).T.to_string())
        table.to_csv(out.with_name("objectives_compare.csv"), index=False)
        # women weighted 2x: does it change who counts and the plan?
        w2 = demand_weights(places, target_group=sc.population.target_group, weight_women=2.0)
        d2 = scenario_data(inst, T_all, weights=w2)
        for name, cls, kw in [("mclp", MaxCovering, {"max_minutes": T}), ("pmedian", PMedian, {})]:
            a = set(plans[name].tolist())
            b = set(cls(d2, **kw).solve("exact").selected.tolist())
            print(f"weight_women = 2, {name}: {len(b - a)} of {len(b)} sites change")
        for name, model in [("mclp", MaxCovering(data, max_minutes=T)), ("pmedian", PMedian(data))]:
            lams = [100.0, 1000.0, 5000.0] if name == "mclp" else [1e4, 1e5, 1e6]
            print(f"\nsuitability cost ({name}):")
            print(suitability_cost(model, lams).drop(columns=["sites"]).to_string(index=False))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios/cajamarca.toml"))
    ap.add_argument("--cutoffs", nargs="+", default=["60", "120"], help="minutes, or 'max'")
    ap.add_argument("--n", type=int, nargs="+", default=[10])
    ap.add_argument("--models", nargs="+", default=["pmedian", "pcenter"], choices=["pmedian", "pcenter"])
    ap.add_argument("--no-spopt", action="store_true")
    ap.add_argument("--spopt-places", choices=["all", "useful"], default="all")
    ap.add_argument("--spopt-time-limit", type=float, default=1800.0, help="CBC limit (s) for the p-median")
    ap.add_argument("--spopt-pcenter-time-limit", type=float, default=600.0, help="CBC limit (s) for the p-center")
    ap.add_argument("--constrained", action="store_true", help="also time ours with the scenario's parents")
    ap.add_argument("--out", default=str(ROOT / "runs/benchmarks/objectives.csv"))
    ap.add_argument("--front", action="store_true",
                    help="instead: the Pareto front and every objective's measures on the scenario (use --cutoffs max)")
    ap.add_argument("--front-points", type=int, default=8)
    args = ap.parse_args(argv)
    if args.front:
        inst = pipeline_instance(args.scenario, args.cutoffs)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        report_figures(inst, n_points=args.front_points, out=Path(args.out))
        return 0

    inst = pipeline_instance(args.scenario, args.cutoffs)
    print(f"instance: {inst['source']}")
    rows = []
    for T, matrix in inst["matrices"].items():
        for kind in args.models:
            for N in args.n:
                ex = ours(kind, matrix, inst, T, N, constrained=False, method="exact")
                he = ours(kind, matrix, inst, T, N, constrained=False, method="heuristic")
                row = {"cutoff_min": T, "model": kind, "n_sites": N, "pairs": ex["model"].n_pairs(),
                       "exact_obj": ex["obj"], "exact_s": ex["s"], "exact_status": ex["status"],
                       "heuristic_obj": he["obj"], "heuristic_bound": he["bound"], "heuristic_gap": he["gap"],
                       "heuristic_s": he["s"]}
                print(f"\ncut-off {T:g} min, {kind}, N={N}: {row['pairs']:,} useful pairs\n"
                      f"  ours exact      {ex['obj']:,.3f} ({ex['s']:.2f} s, {ex['status']})\n"
                      f"  ours heuristic  {he['obj']:,.3f} bound {he['bound']:,.3f} gap {he['gap']:.2%} "
                      f"({he['s']:.2f} s)", flush=True)
                if args.constrained:
                    co = ours(kind, matrix, inst, T, N, constrained=True, method="exact")
                    row.update(parents_obj=co["obj"], parents_s=co["s"], parents_status=co["status"])
                    print(f"  ours exact with parent CETPRO {co['obj']:,.3f} ({co['s']:.2f} s)", flush=True)
                if not args.no_spopt:
                    d = ex["model"].data
                    places = np.arange(d.n_places)
                    constant = 0.0
                    if args.spopt_places == "useful":
                        places = np.unique(d.pair_place[d.useful_pairs()])
                        if kind == "pmedian":
                            rest = np.setdiff1d(np.arange(d.n_places), places)
                            rest = rest[~d.unreachable[rest]]
                            constant = float((d.w[rest] * d.base[rest]).sum())
                    if kind == "pcenter":
                        places = places[ex["model"].counted[places]]
                    limit = args.spopt_time_limit if kind == "pmedian" else args.spopt_pcenter_time_limit
                    sp_row = run_spopt(kind, d, N, places=places, time_limit=limit)
                    sp_row["spopt_obj"] += constant
                    if kind == "pcenter" and args.spopt_places == "useful":  # constant places bound the max
                        rest = ex["model"].counted.copy()
                        rest[places] = False
                        sp_row["spopt_obj"] = max(sp_row["spopt_obj"], float(d.base[rest].max(initial=0.0)))
                    row.update(sp_row, spopt_places=args.spopt_places, spopt_rows=len(places))
                    row["same_objective"] = bool(abs(row["spopt_obj"] - ex["obj"]) <= 1e-6 * max(1.0, abs(ex["obj"])))
                    row["speedup_vs_spopt"] = row["spopt_s"] / ex["s"]  # a lower bound when spopt stopped early
                    print(f"  spopt (CBC)     {row['spopt_obj']:,.3f} ({row['spopt_s']:.1f} s, of which build "
                          f"{row['spopt_build_s']:.1f} s; {row['spopt_status']}; {len(places):,} places)  "
                          f"same={row['same_objective']}  speed-up {row['speedup_vs_spopt']:.0f}x", flush=True)
                rows.append(row)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
