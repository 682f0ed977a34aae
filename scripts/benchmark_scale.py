#!/usr/bin/env python
"""Benchmark of the national run, serial versus Dask (not a test; timings depend on load).

    python scripts/benchmark_scale.py                       # all cases, each in its own process
    python scripts/benchmark_scale.py --case coverage-dask --candidates 5000 --json out.json

Cases (``scenarios/peru_national.toml``: 94,922 CCPP, whole-Peru DEM, 1,891 capitals,
Cajamarca roads only):

* ``nearest-serial`` / ``nearest-dask``: :func:`siting.national.run_national` (nearest district
  capital for every CCPP, gaps by department) with the serial engine and with one task per
  department on a LocalCluster of ``--workers`` worker processes, each building its own window
  of the graph; the two output folders are compared byte for byte.
* ``target3`` (issue 19): ``coverage_all-serial`` / ``coverage_all-dask`` (every CCPP a
  candidate, ``--candidates 0``, x all CCPP within ``--limit``; serial = whole graph +
  ``solve.coverage``, dask = :func:`siting.distributed_partitions.coverage_by_windows` in chunks
  of ``--chunk``) and ``mc-serial`` / ``mc-dask`` (the score stage's rank Monte Carlo on its
  real inputs, captured once from ``--mc-scenario`` by ``mc-inputs``; ``--runs`` in
  ``--mc-chunks`` chunks, :func:`siting.distributed.monte_carlo`); prints
  ``dask speed-up vs serial: xN.NN (workload, workers ...)`` per workload, with both walls, CPU
  seconds (dask: every child process of a LocalCluster - forkserver and workers, start-up
  included - plus the driver, whose in-process scheduler and nannies count there), the
  1-minute load at start and end, and the result hashes.  Dask wall times count everything
  the user waits for: the LocalCluster starts in a thread while the driver reads its point
  tables (coverage) or runs Monte Carlo chunks itself (``chunks_on_driver``).  With
  ``--scheduler-file`` the dask cases run on a cluster already running instead; the line says
  so (its start is then not counted, and worker CPU is counted from the moment it is reached).
* ``scale``: the national grid refined to ``--resolution`` m from the same DEM (a scale test,
  not better data): the serial engine refuses it up front with its estimate; a LocalCluster
  with ``--memory-limit`` per worker runs ``--departments`` by worker-built windows.
* ``coverage-serial`` / ``coverage-dask``: bounded coverage of ``--candidates`` CCPP sampled
  with the scenario seed (candidates) x all 94,922 CCPP within ``--limit`` minutes, with
  :func:`siting.network.solve.coverage` (serial), with :func:`siting.distributed.coverage`
  in this process (``coverage-local``: its tasks one after the other, no Dask) and on Dask
  (chunks of ``--chunk`` candidates); the matrices are compared through a hash of their
  structure and values.

Each case reports wall time, the driver's peak resident memory and, for Dask, each worker's
peak (``resource.getrusage`` inside the worker process).
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import siting  # noqa: E402
from siting import distributed as dist  # noqa: E402
from siting import national as nat  # noqa: E402
from siting.network import coverage  # noqa: E402

CASES = ["nearest-serial", "nearest-dask", "coverage-serial", "coverage-local", "coverage-dask"]
#: issue 19 target 3: workloads where distribution matters (worker-built partitions, Monte Carlo)
CASES_T3 = ["coverage_all-serial", "coverage_all-dask", "mc-serial", "mc-dask"]


def peak_mb() -> float:
    """Peak resident memory of this process (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def hwm_mb() -> float:
    """Peak resident memory since this process image started (``VmHWM``; unlike ``ru_maxrss`` it
    is not inherited from the parent of a spawned worker)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def cpu_s() -> float:
    """CPU seconds (user + system) used so far by this process."""
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def _worker_cpu(client) -> float:
    return float(sum(client.run(cpu_s).values()))


def _worker_peaks(client) -> list[float]:
    return [round(v, 0) for v in client.run(hwm_mb).values()]


def _hash_csr(m) -> str:
    h = hashlib.sha256()
    for a in (m.indptr.astype(np.int64), m.indices.astype(np.int64), np.round(m.data, 9)):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def case_nearest(sc, engine: str, workers: int, out: Path) -> dict:
    r: dict = {"case": f"nearest-{engine}", "workers": workers if engine == "dask" else 1}
    t0 = time.perf_counter()
    r["load_avg_1min"] = round(__import__("os").getloadavg()[0], 2)
    if engine == "serial":
        res = nat.run_national(sc, engine="serial", output_dir=out)
    else:
        with dist.open_client(n_workers=workers, processes=True) as client:
            t1 = time.perf_counter()
            r["cluster_start_s"] = round(t1 - t0, 2)
            res = nat.run_national(sc, engine="dask", output_dir=out, client=client)
            r["worker_peak_mb"] = _worker_peaks(client)
            r["partition_cells_max"] = int(res.tasks["cells"].max())  # worker-built windows
            r["partition_edges_max"] = int(res.tasks["edges"].max())
            r["partition_edges_total"] = int(res.tasks["edges"].sum())
    r["wall_s"] = round(time.perf_counter() - t0, 2)
    r.update(res.figures)
    r["memory_estimate_mb"] = round(res.memory / 2**20)  # the engine's model (network.graph)
    r["files_sha"] = {k: siting.io.sha256(v)[:16] for k, v in res.files.items() if k.endswith(".csv")}
    r["peak_mb"] = round(hwm_mb(), 0)
    return r


def case_coverage(sc, engine: str, workers: int, n_candidates: int, limit: float, chunk: int) -> dict:
    r: dict = {"case": f"coverage-{engine}", "workers": workers if engine == "dask" else 1,
               "candidates": n_candidates, "limit_min": limit,
               "load_avg_1min": round(__import__("os").getloadavg()[0], 2)}
    t0 = time.perf_counter()
    with (dist.open_client(n_workers=workers, processes=True) if engine == "dask"
          else contextlib.nullcontext()) as client:
        r["cluster_start_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        ng = nat.national_graph(sc)
        g = ng.graph
        r.update(load_build_s=round(time.perf_counter() - t0, 2), nodes=g.n_nodes, edges=g.n_edges)
        places = g.point_nodes["places"]
        rng = np.random.default_rng(sc.run.seed)
        cand = np.sort(rng.choice(len(places), size=min(n_candidates, len(places)), replace=False))
        origins, targets = places[cand], places
        t1 = time.perf_counter()
        _ = g.reverse  # transpose once (both engines)
        r["transpose_s"] = round(time.perf_counter() - t1, 2)
        t1, c1 = time.perf_counter(), cpu_s()
        if engine == "serial":
            m = coverage(g, origins, targets, limit, progress=True)
            r["coverage_cpu_s"] = round(cpu_s() - c1, 2)
        elif engine == "local":  # the Dask engine's tasks run one after the other in this process
            m = dist.coverage(g, origins, targets, limit, None, chunk_origins=chunk, progress=True)
            r["coverage_cpu_s"] = round(cpu_s() - c1, 2)
        else:
            w1 = _worker_cpu(client)
            m = dist.coverage(g, origins, targets, limit, client, chunk_origins=chunk, progress=True)
            r["coverage_cpu_s"] = round(_worker_cpu(client) - w1, 2)  # summed over the workers
            r["driver_cpu_s"] = round(cpu_s() - c1, 2)
            r["worker_peak_mb"] = _worker_peaks(client)
        r["coverage_s"] = round(time.perf_counter() - t1, 2)
    r.update(pairs=int(m.nnz), matrix_sha=_hash_csr(m),
             candidates_covering_median=float(np.median(np.diff(m.indptr))))
    r["peak_mb"] = round(hwm_mb(), 0)
    return r


def _load_avg() -> float:
    return round(os.getloadavg()[0], 2)


def case_coverage_all(sc, engine: str, workers: int, n_candidates: int, limit: float, chunk: int,
                      scheduler_file: str | None = None) -> dict:
    """All (or ``n_candidates`` sampled) CCPP as candidates x all CCPP within ``limit``: serial =
    the whole graph + ``solve.coverage``; dask = worker-built partitions (the driver reads the
    point tables only)."""
    from siting import distributed_partitions as dp
    r: dict = {"case": f"coverage_all-{engine}", "workers": workers if engine == "dask" else 1,
               "limit_min": limit, "load_avg_1min_start": _load_avg()}
    t0, c0 = time.perf_counter(), cpu_s()
    if engine == "serial":
        ng = nat.national_graph(sc)
        places, g = ng.places, ng.graph
        cand = _candidates(len(places), n_candidates, sc.run.seed)
        r.update(nodes=g.n_nodes, edges=g.n_edges, load_build_s=round(time.perf_counter() - t0, 2))
        t1 = time.perf_counter()
        pn = g.point_nodes["places"]
        m = coverage(g, pn[cand], pn, limit, progress=True)
        r["coverage_s"] = round(time.perf_counter() - t1, 2)
        r["cpu_s"] = round(cpu_s() - c0, 2)
    else:
        source = nat.national_source(sc)
        with dist.client_in_background(n_workers=workers, scheduler_file=scheduler_file,
                                       on_ready=lambda c: dp.prefetch_roads(source, c)) as pending:
            places, capitals, _q = nat._national_inputs(sc)  # read here while the cluster starts
            cand = _candidates(len(places), n_candidates, sc.run.seed)
            r["inputs_s"] = round(time.perf_counter() - t0, 2)
            client = pending.result()
            r["cluster_ready_s"] = round(time.perf_counter() - t0, 2)  # inputs read and cluster up
            w0 = _cluster_cpu(client, scheduler_file)
            t1 = time.perf_counter()
            m = dp.coverage_by_windows(source, {"places": places, "capitals": capitals},
                                       name="places", origins=cand, limit=limit, client=client,
                                       chunk_origins=chunk, progress=True)
            r["coverage_s"] = round(time.perf_counter() - t1, 2)
            _cluster_figures(r, client, scheduler_file, w0, c0)
    r["wall_s"] = round(time.perf_counter() - t0, 2)
    r.update(candidates=len(cand), pairs=int(m.nnz), matrix_sha=_hash_csr(m), peak_mb=round(hwm_mb(), 0),
             load_avg_1min_end=_load_avg())
    return r


def _children_cpu() -> float:
    """CPU seconds of this process's child processes still running (a LocalCluster's workers
    and its forkserver: their start-up and imports are counted too)."""
    import psutil
    total = 0.0
    for ch in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            t = ch.cpu_times()
            total += t.user + t.system
    return total


def _cluster_cpu(client, scheduler_file: str | None) -> float:
    return _worker_cpu(client) if scheduler_file else _children_cpu()


def _cluster_figures(r: dict, client, scheduler_file: str | None, w0: float, c0: float) -> None:
    """Worker CPU (a LocalCluster: every child process since it started; a running cluster:
    its workers since the client connected), driver CPU, their sum and the worker peaks."""
    r["cluster"] = ("already running (--scheduler-file; its start is not counted)" if scheduler_file
                    else "LocalCluster started in this run (counted)")
    r["worker_cpu_s"] = round(_cluster_cpu(client, scheduler_file) - (w0 if scheduler_file else 0.0), 2)
    r["driver_cpu_s"] = round(cpu_s() - c0, 2)
    r["cpu_s"] = round(r["worker_cpu_s"] + r["driver_cpu_s"], 2)
    r["worker_peak_mb"] = _worker_peaks(client)


def _candidates(n: int, k: int, seed: int) -> np.ndarray:
    if k <= 0 or k >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))


def capture_mc_inputs(path: Path, scenario: str) -> None:
    """Run the score stage of ``scenario`` once and save the real inputs of its Monte Carlo
    (criteria table, weights, the criteria tables of the travel-time draws)."""
    import pickle

    from siting.suitability import stage
    seen: dict = {}
    real = stage.monte_carlo

    def spy(table, weights, **kw):
        seen.update(table=table, weights=dict(weights), tables=kw.get("tables"),
                    concentration=kw.get("concentration"), normalisation=kw.get("normalisation"), seed=kw.get("seed"),
                    top_n=kw.get("top_n"))
        return real(table, weights, **kw)

    stage.monte_carlo = spy
    sc = siting.load_scenario(scenario)
    data = siting.load_data(sc)
    graph = siting.build_graph(sc, data)
    access = siting.compute_access(sc, data, graph)
    siting.score_candidates(sc, data, graph, access)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(seen))


def case_mc(path: Path, engine: str, workers: int, runs: int, chunks: int,
            scheduler_file: str | None = None, wait_for_cluster: bool = False) -> dict:
    """Rank-stability Monte Carlo of the score stage's real inputs: ``distributed.monte_carlo``
    in ``chunks`` chunks, serially here and on ``workers`` Dask workers (same table)."""
    import pickle
    mc = pickle.loads(path.read_bytes())
    kw = dict(n_runs=runs, n_chunks=chunks, concentration=mc["concentration"] or 50.0, seed=mc["seed"] or 20241126,
              normalisation=mc["normalisation"] or "minmax", draw_tables=mc["tables"], top_n=mc["top_n"] or 10,
              progress=False)
    r: dict = {"case": f"mc-{engine}", "workers": workers if engine == "dask" else 1, "runs": runs,
               "chunks": chunks, "candidates": len(mc["table"]), "draw_tables": len(mc["tables"] or []),
               "load_avg_1min_start": _load_avg()}
    t0, c0 = time.perf_counter(), cpu_s()
    if engine == "serial":
        out = dist.monte_carlo(mc["table"], mc["weights"], None, **kw)
        r["cpu_s"] = round(cpu_s() - c0, 2)
    else:
        with dist.client_in_background(n_workers=workers, scheduler_file=scheduler_file) as pending:
            ready: list[tuple[float, float]] = []  # when the client was up, the workers' CPU then
            pending.add_done_callback(lambda f: ready.append(
                (time.perf_counter(), _cluster_cpu(f.result(), scheduler_file) if scheduler_file else 0.0)))
            if wait_for_cluster:  # no chunk on the driver: the tasks wait for the cluster
                pending.result()
            out = dist.monte_carlo(mc["table"], mc["weights"], pending, **kw)  # chunks run here until it is up
            client = pending.result()
            r["cluster_ready_s"] = round(ready[0][0] - t0, 2)
            r["chunks_on_driver"] = int(out.attrs["chunks_here"])  # run by the driver while the cluster started
            _cluster_figures(r, client, scheduler_file, ready[0][1], c0)
    r["wall_s"] = round(time.perf_counter() - t0, 2)
    r["table_sha"] = hashlib.sha256(pd.util.hash_pandas_object(out, index=True).to_numpy().tobytes()).hexdigest()[:16]
    r["load_avg_1min_end"] = _load_avg()
    return r


def case_scale(sc, workers: int, resolution_m: float, memory_limit: str, departments: list[str],
               max_minutes: float, regions: str = "department") -> dict:
    """Scale test (not better data): the national grid refined to ``resolution_m`` from the
    same 30" DEM.  The serial engine must refuse the whole graph up front with its estimate;
    a LocalCluster whose workers have ``memory_limit`` each runs the nearest capital of
    ``departments`` (``["all"]``: the whole country) by worker-built windows, one task per
    department or per province (``regions``)."""
    from siting import distributed_partitions as dp
    from siting.errors import UserError
    from siting.network.memory import estimate_graph_memory
    r: dict = {"case": "scale", "resolution_m": resolution_m, "worker_memory_limit": memory_limit,
               "departments": departments, "max_minutes": max_minutes, "load_avg_1min_start": _load_avg()}
    t0 = time.perf_counter()
    try:
        nat.national_graph(sc, progress=False, resolution_m=resolution_m)
        r["serial"] = "built (not refused)"
    except UserError as exc:
        r["serial"] = str(exc).splitlines()[0]
    r["serial_refused_after_s"] = round(time.perf_counter() - t0, 2)
    source = nat.national_source(sc, resolution_m=resolution_m)
    grid = dp.grid_of(source)
    places, capitals, _q = nat._national_inputs(sc)
    sel = (places["department_code"].isin(departments).to_numpy() if departments != ["all"]
           else np.ones(len(places), bool))
    labels = (places["department_code"] if regions == "department" else places["ubigeo"].str[:4]).to_numpy()
    r["regions"] = regions
    t1 = time.perf_counter()
    with dist.open_client(n_workers=workers, processes=True, memory_limit=memory_limit) as client:
        r["cluster_start_s"] = round(time.perf_counter() - t1, 2)
        road_xy = client.submit(dp.road_nodes_xy, source, pure=False).result()
        r["whole_graph_estimate_gb"] = round(dp.whole_graph_estimate(source, len(places) + len(capitals),
                                                                     road_xy=road_xy) / 2**30, 2)
        t2 = time.perf_counter()
        minutes, which, outside, tasks = dp.nearest_by_windows(
            source, {"places": places.iloc[np.flatnonzero(sel)], "capitals": capitals}, sources="capitals",
            targets="places", regions=labels[sel], max_minutes=max_minutes,
            client=client, progress=True)
        r["query_s"] = round(time.perf_counter() - t2, 2)
        r["worker_peak_mb"] = _worker_peaks(client)
    est = [estimate_graph_memory((1, int(c)), 0, 0, source.speeds.grid_neighbours) for c in tasks["cells"]]
    r.update(grid=list(grid.shape), grid_cells=grid.shape[0] * grid.shape[1], road_nodes=len(road_xy),
             places=int(sel.sum()), within_limit=int(np.isfinite(minutes).sum()),
             median_minutes=round(float(np.median(minutes[np.isfinite(minutes)])), 1),
             partitions=tasks.assign(estimate_mb=[round(e / 2**20) for e in est]).to_dict("records"),
             partition_estimate_mb_max=round(max(est) / 2**20), partition_cells_max=int(tasks["cells"].max()),
             partition_cells_total=int(tasks["cells"].sum()), partition_edges_total=int(tasks["edges"].sum()),
             wall_s=round(time.perf_counter() - t0, 2), load_avg_1min_end=_load_avg())
    return r


def speedup_line(serial: dict, dask: dict, workload: str) -> str:
    """``dask speed-up vs serial: xN.NN (...)``: wall ratio, both walls and CPU seconds (dask:
    workers + driver), how the cluster was had, the 1-minute load at start -> end, the hashes."""
    h_s = serial.get("matrix_sha", serial.get("table_sha"))
    h_d = dask.get("matrix_sha", dask.get("table_sha"))
    same = f"identical {h_s}" if h_s == h_d else f"DIFFERENT {h_s} vs {h_d}"
    return (f"dask speed-up vs serial: x{serial['wall_s'] / dask['wall_s']:.2f} ({workload}, {dask['workers']} "
            f"workers; serial {serial['wall_s']} s wall / {serial.get('cpu_s')} CPU-s, load "
            f"{serial.get('load_avg_1min_start')}->{serial.get('load_avg_1min_end')}; dask {dask['wall_s']} s wall / "
            f"{dask.get('cpu_s')} CPU-s (workers {dask.get('worker_cpu_s')}, driver {dask.get('driver_cpu_s')}), "
            f"{dask.get('cluster', '')}, ready at {dask.get('cluster_ready_s')} s, load "
            f"{dask.get('load_avg_1min_start')}->{dask.get('load_avg_1min_end')}; results {same})")


def _run_cases(cases: list[str], args) -> list[dict]:
    results = []
    for case in cases:
        cmd = [sys.executable, __file__, "--case", case, "--json", "/dev/stdout", "--scenario", args.scenario,
               "--workers", str(args.workers), "--candidates", str(args.candidates), "--limit", str(args.limit),
               "--chunk", str(args.chunk), "--out", args.out, "--runs", str(args.runs), "--mc-chunks",
               str(args.mc_chunks), "--mc-scenario", args.mc_scenario]
        if args.scheduler_file and case.endswith("-dask"):
            cmd += ["--scheduler-file", args.scheduler_file]
        if args.mc_wait_for_cluster:
            cmd += ["--mc-wait-for-cluster"]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", choices=["all", "target3", "mc-inputs", "scale", *CASES, *CASES_T3], default="all")
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "peru_national.toml"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--candidates", type=int, default=5000,
                    help="sampled candidates (coverage); 0 = every CCPP (the coverage_all cases' default)")
    ap.add_argument("--limit", type=float, default=120.0)
    ap.add_argument("--chunk", type=int, default=250)
    ap.add_argument("--runs", type=int, default=20000, help="Monte Carlo runs (mc cases)")
    ap.add_argument("--mc-chunks", type=int, default=8, help="Monte Carlo chunks (same in both engines)")
    ap.add_argument("--mc-scenario", default=str(ROOT / "scenarios" / "cajamarca.toml"),
                    help="scenario whose score stage gives the Monte Carlo inputs")
    ap.add_argument("--resolution", type=float, default=250.0, help="cell size of the scale test (m)")
    ap.add_argument("--memory-limit", default="2GB", help="memory limit of each worker (scale test)")
    ap.add_argument("--departments", default="06,13,01,14,20,22,02",
                    help="departments of the scale test (comma-separated codes)")
    ap.add_argument("--max-minutes", type=float, default=240.0, help="censoring limit of the scale test")
    ap.add_argument("--regions", choices=["department", "province"], default="department",
                    help="one task per department or per province (scale test)")
    ap.add_argument("--mc-wait-for-cluster", action="store_true",
                    help="mc-dask: run no chunk on the driver while the LocalCluster starts (compare both)")
    ap.add_argument("--scheduler-file", default=None,
                    help="target3 dask cases on a cluster already running (its start not counted; labelled so)")
    ap.add_argument("--out", default=str(ROOT / "runs" / "benchmark_scale"))
    ap.add_argument("--json", help="write the measured numbers to this JSON file")
    args = ap.parse_args()
    mc_inputs = Path(args.out) / "mc_inputs.pkl"
    if args.case in ("all", "target3"):
        if args.case == "target3" and not mc_inputs.exists():
            capture_mc_inputs(mc_inputs, args.mc_scenario)
        results = _run_cases(CASES if args.case == "all" else CASES_T3, args)
        by = {r["case"]: r for r in results}
        if args.case == "all":
            summary = {
                "nearest_identical": by["nearest-serial"]["files_sha"] == by["nearest-dask"]["files_sha"],
                "coverage_identical": (by["coverage-serial"]["matrix_sha"] == by["coverage-dask"]["matrix_sha"]
                                       == by["coverage-local"]["matrix_sha"]),
            }
        else:
            summary = {"lines": [speedup_line(by["coverage_all-serial"], by["coverage_all-dask"],
                                              f"national coverage, {by['coverage_all-dask']['candidates']:,} "
                                              f"candidates, {args.limit:g} min"),
                                 speedup_line(by["mc-serial"], by["mc-dask"],
                                              f"score-stage Monte Carlo, {args.runs:,} runs")]}
            for line in summary["lines"]:
                print(line, flush=True)
        text = json.dumps({"results": results, "summary": summary}, indent=1)
        print(text)
        if args.json:
            Path(args.json).write_text(text + "\n")
        return
    if args.case == "mc-inputs":
        capture_mc_inputs(mc_inputs, args.mc_scenario)
        return
    sc = siting.load_scenario(args.scenario)
    engine = args.case.split("-")[1] if "-" in args.case else ""
    if args.case == "scale":
        r = case_scale(sc, args.workers, args.resolution, args.memory_limit, args.departments.split(","),
                       args.max_minutes, args.regions)
    elif args.case.startswith("nearest"):
        r = case_nearest(sc, engine, args.workers, Path(args.out) / args.case)
    elif args.case.startswith("coverage_all"):
        r = case_coverage_all(sc, engine, args.workers, args.candidates, args.limit, args.chunk,
                              args.scheduler_file)
    elif args.case.startswith("mc"):
        r = case_mc(mc_inputs, engine, args.workers, args.runs, args.mc_chunks, args.scheduler_file,
                    args.mc_wait_for_cluster)
    else:
        r = case_coverage(sc, engine, args.workers, args.candidates, args.limit, args.chunk)
    print(json.dumps(r), file=sys.stderr, flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            fh.write("\n" + json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
