#!/usr/bin/env python
"""Benchmark location-allocation on the full Cajamarca instance (all candidates x all places).

The default instance is the pipeline's own: every candidate locality of the suitability
stage (scenarios/cajamarca.toml rules) x every centro poblado of the study area, with the
scenario's demand weights and the places already within T of a CETPRO weighted 0.
``--all-places`` makes every centro poblado a candidate (a harder stress instance).

For every threshold T (minutes) and number of sites N it times, in the same run:
  * greedy (lazy greedy, no swap), greedy + swap, exact (build + solve, HiGHS via
    scipy.optimize.milp with reductions and Lagrangian pricing) from siting.allocation;
  * PySAL spopt ``MCLP.from_cost_matrix(...).solve(PULP_CBC_CMD())`` (its default CBC
    solver), end to end (dense cost matrix, model build, solve);
and reports objectives and ratios.  Targets: exact >= 20x faster than spopt with the same
objective; greedy+swap within 0.5 % of the optimum; every exact solve < 5 s.

Where the coverage matrix comes from (first that applies):
  --coverage T=FILE.npz (repeatable) and --weights FILE.npy   saved matrices (scipy.sparse
      .save_npz, candidates x places, stored entries = minutes within T; weights per place);
  --proxy   REAL centros poblados (INEI CPV 2017 coordinates and census population from
      data/raw/ccpp) with a STRAIGHT-LINE travel-time PROXY (distance / --proxy-kmh): real
      places and weights, synthetic times — for timing the solvers only;
  default   the engine: siting.data.load_data + siting.network (graph, coverage),
      following docs/ARCHITECTURE.md.

Usage:  python scripts/benchmark_allocation.py --proxy --thresholds 60 120 --n 5 10 19 30
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

from siting.allocation import MaximalCovering  # noqa: E402
from siting.io import atomic_path  # noqa: E402


def engine_instance(scenario: str, thresholds: list[float]) -> tuple[dict[float, sp.csr_array], np.ndarray, str]:
    """Coverage (all places as candidates) from the travel-time engine (contract in ARCHITECTURE.md)."""
    from siting import load_scenario
    from siting.data import load_data
    from siting.network.graph import build_travel_graph
    from siting.network.solve import coverage

    sc = load_scenario(scenario)
    data = load_data(sc)
    places = data.places
    if data.terrain is None:
        raise AttributeError("load_data returned no terrain (DEM)")
    graph = build_travel_graph(data.terrain, data.roads, sc.speeds, {"places": places}, cache_dir=sc.run.cache_dir)
    nodes = graph.point_nodes["places"]
    col = f"pop_{sc.population.target_group}"
    w = places[col].to_numpy(float) if col in places else places["population"].to_numpy(float)
    cov = {}
    for T in thresholds:
        t0 = time.perf_counter()
        cov[T] = coverage(graph, nodes, nodes, T)
        print(f"engine coverage T={T:g}: nnz={cov[T].nnz:,} in {time.perf_counter() - t0:.1f} s", flush=True)
    return cov, np.nan_to_num(w), f"engine ({len(places):,} places, weight {col})"


def pipeline_instance(scenario: str, thresholds: list[float]) -> tuple[dict[float, sp.csr_array], dict, str]:
    """The pipeline's instance: suitability candidates x places, demand weights, already covered."""
    import siting
    from siting.network.solve import coverage
    from siting.allocation import demand_weights

    sc = siting.load_scenario(scenario)
    data = siting.load_data(sc, progress=False)
    graph = siting.build_graph(sc, data)
    gaps = siting.compute_access(sc, data, graph)
    scores = siting.score_candidates(sc, data, graph, gaps, progress=False)
    place_nodes = graph.point_nodes["places"]
    cand_nodes = place_nodes[scores.candidate_place_index]
    w = demand_weights(sc, gaps.places, indicators=data.district_indicators)
    before = gaps.places["minutes_nearest"].to_numpy(float)
    cov, weights = {}, {}
    for T in thresholds:
        t0 = time.perf_counter()
        cov[T] = coverage(graph, cand_nodes, place_nodes, T, progress=False)
        weights[T] = np.where(before <= T, 0.0, w)  # people already within T count nothing
        print(f"engine coverage T={T:g}: {len(cand_nodes):,} candidates, nnz={cov[T].nnz:,} in "
              f"{time.perf_counter() - t0:.2f} s", flush=True)
    return cov, weights, (f"pipeline: {len(cand_nodes):,} candidates x {len(place_nodes):,} places, "
                          f"weight (men + women) aged {sc.population.target_group}, already covered = 0")


def proxy_instance(thresholds: list[float], kmh: float) -> tuple[dict[float, sp.csr_array], np.ndarray, str]:
    """REAL place locations and census population; STRAIGHT-LINE travel-time proxy."""
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    df = pd.read_csv(ROOT / "data/raw/ccpp/inei_cpv2017_ccpp_poblacion_cajamarca.csv", dtype={"CCPP_ID": str})
    x, y = Transformer.from_crs(4326, 32717, always_xy=True).transform(df["lon"].to_numpy(), df["lat"].to_numpy())
    pts = np.c_[x, y] / 1000.0
    w = pd.to_numeric(df["POB_CENSADA_2017"], errors="coerce").fillna(0).to_numpy(float)
    tree = cKDTree(pts)
    cov = {}
    n = len(w)
    for T in thresholds:
        D = tree.sparse_distance_matrix(tree, T / 60.0 * kmh, output_type="coo_matrix")
        minutes = D.data / kmh * 60.0
        # keep the diagonal (0 min) as explicit entries
        rows = np.concatenate([D.row[D.row != D.col], np.arange(n)])
        cols = np.concatenate([D.col[D.row != D.col], np.arange(n)])
        vals = np.concatenate([minutes[D.row != D.col], np.zeros(n)])
        cov[T] = sp.csr_array((vals, (rows, cols)), shape=(n, n))
    return cov, w, f"proxy: {n:,} real CCPP, straight line at {kmh:g} km/h"


def spopt_mclp(cov: sp.csr_array, w: np.ndarray, T: float, N: int, time_limit: float) -> tuple[float, float, str]:
    """spopt MCLP end to end (dense clients x facilities cost matrix, default CBC)."""
    import pulp
    from spopt.locate import MCLP

    t0 = time.perf_counter()
    dense = np.full(cov.shape, T + 1.0)  # not covered
    c = sp.coo_array(cov)
    dense[c.row, c.col] = c.data
    model = MCLP.from_cost_matrix(dense.T, w, service_radius=T, p_facilities=N)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit))
    status = pulp.LpStatus[model.problem.status]
    return float(model.problem.objective.value()), time.perf_counter() - t0, status


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios/cajamarca.toml"))
    ap.add_argument("--coverage", action="append", default=[], metavar="T=FILE.npz")
    ap.add_argument("--weights", help="FILE.npy: weight per place (with --coverage)")
    ap.add_argument("--proxy", action="store_true", help="real places, straight-line time proxy")
    ap.add_argument("--all-places", action="store_true", help="engine instance with every place as a candidate")
    ap.add_argument("--proxy-kmh", type=float, default=15.0)
    ap.add_argument("--thresholds", type=float, nargs="+", default=[60.0, 120.0])
    ap.add_argument("--n", type=int, nargs="+", default=[5, 10, 19, 30])
    ap.add_argument("--time-limit", type=float, default=60.0, help="exact solver limit (s)")
    ap.add_argument("--no-spopt", action="store_true")
    ap.add_argument("--spopt-max-n", type=int, default=1000, help="run spopt only for N <= this")
    ap.add_argument("--spopt-time-limit", type=float, default=600.0)
    ap.add_argument("--out", default=str(ROOT / "runs/benchmarks/allocation.csv"))
    ap.add_argument("--subsample", type=int, default=0,
                    help="use K random places (seed 0) as candidates and demand (for a quick spopt comparison)")
    ap.add_argument("--save", metavar="DIR", help="save the coverage matrices (T=<min>.npz) and weights.npy here")
    args = ap.parse_args(argv)

    if args.coverage:
        if not args.weights:
            ap.error("--coverage needs --weights")
        cov = {}
        for item in args.coverage:
            t, path = item.split("=", 1)
            cov[float(t)] = sp.csr_array(sp.load_npz(path))
        w = np.load(args.weights)
        source = f"files {', '.join(args.coverage)}"
    elif args.proxy:
        cov, w, source = proxy_instance(args.thresholds, args.proxy_kmh)
    elif not args.all_places:
        cov, w, source = pipeline_instance(args.scenario, args.thresholds)
    else:
        try:
            cov, w, source = engine_instance(args.scenario, args.thresholds)
        except (ImportError, AttributeError) as exc:
            print(f"travel-time engine not usable yet ({exc}); use --coverage T=FILE.npz --weights FILE.npy "
                  f"or --proxy", file=sys.stderr)
            return 2
    w_of = (lambda T: w[T]) if isinstance(w, dict) else (lambda T: w)  # noqa: E731
    if args.subsample:
        if isinstance(w, dict):
            ap.error("--subsample works with --proxy, --all-places or --coverage")
        keep = np.sort(np.random.default_rng(0).choice(len(w), size=min(args.subsample, len(w)), replace=False))
        cov = {T: sp.csr_array(A[keep][:, keep]) for T, A in cov.items()}
        w = w[keep]
        source += f", random subsample of {len(keep):,} places"
    print(f"instance: {source}")
    if args.save:
        save = Path(args.save)
        save.mkdir(parents=True, exist_ok=True)
        for T, A in cov.items():
            sp.save_npz(save / f"coverage_T{T:g}.npz", sp.csr_matrix(A))
        np.save(save / "weights.npy", w if not isinstance(w, dict) else w[min(w)])
    rows = []
    for T in sorted(cov):
        A, wT = cov[T], w_of(T)
        print(f"\nT = {T:g} min: {A.shape[0]:,} candidates x {A.shape[1]:,} places, nnz {A.nnz:,} "
              f"({A.nnz / A.shape[0]:.0f} places per candidate)", flush=True)
        for N in args.n:
            row: dict = {"threshold_min": T, "n_sites": N, "candidates": A.shape[0], "places": A.shape[1],
                         "nnz": A.nnz}
            t0 = time.perf_counter()
            m = MaximalCovering.from_coverage(A, wT, max_minutes=T, n_sites=N)
            t_build = time.perf_counter() - t0
            g = m.solve("greedy", swap=False)
            row.update(greedy_obj=g.objective, greedy_s=t_build + g.timings["total_s"])
            gs = m.solve("greedy")
            row.update(swap_obj=gs.objective, swap_s=t_build + gs.timings["total_s"], swap_bound=gs.bound)
            t0 = time.perf_counter()
            m2 = MaximalCovering.from_coverage(A, wT, max_minutes=T, n_sites=N)
            ex = m2.solve("exact", time_limit=args.time_limit)
            row.update(exact_obj=ex.objective, exact_s=time.perf_counter() - t0, exact_status=ex.status,
                       exact_solver=ex.solver, exact_gap=ex.gap, exact_pool=ex.reduction.get("pool"))
            print(f"  N={N:>2}  greedy {g.objective:,.0f} ({row['greedy_s']:.2f}s)  greedy+swap {gs.objective:,.0f} "
                  f"({row['swap_s']:.2f}s)  exact {ex.objective:,.0f} ({row['exact_s']:.2f}s, {ex.status}, "
                  f"{ex.solver})", flush=True)
            if not args.no_spopt and N <= args.spopt_max_n:
                obj, secs, status = spopt_mclp(A, wT, T, N, args.spopt_time_limit)
                row.update(spopt_obj=obj, spopt_s=secs, spopt_status=status)
            opt = row.get("spopt_obj") if row.get("spopt_status") == "Optimal" and ex.status != "optimal" \
                else row["exact_obj"]
            row["greedy_ratio"] = row["greedy_obj"] / opt if opt else np.nan
            row["swap_ratio"] = row["swap_obj"] / opt if opt else np.nan
            if "spopt_s" in row:
                row["speedup_vs_spopt"] = row["spopt_s"] / row["exact_s"]
                row["same_objective"] = bool(abs(row["spopt_obj"] - row["exact_obj"]) <= 1e-6 * max(1.0, opt))
            rows.append(row)
            print("        ratios to optimum: greedy {greedy_ratio:.4f}, greedy+swap {swap_ratio:.4f}".format(**row)
                  + (f"  spopt {row['spopt_obj']:,.0f} ({row['spopt_s']:.1f}s, {row['spopt_status']}) "
                     f"speed-up {row['speedup_vs_spopt']:.0f}x same={row['same_objective']}"
                     if "spopt_s" in row else ""), flush=True)
    df = pd.DataFrame(rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        df.to_csv(tmp, index=False)
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
