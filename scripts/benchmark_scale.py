#!/usr/bin/env python
"""Benchmark of the national run, serial versus Dask (not a test; timings depend on load).

    python scripts/benchmark_scale.py                       # all cases, each in its own process
    python scripts/benchmark_scale.py --case coverage-dask --candidates 5000 --json out.json

Cases (``scenarios/peru_national.toml``: 94,922 CCPP, whole-Peru DEM, 1,891 capitals,
Cajamarca roads only):

* ``nearest-serial`` / ``nearest-dask``: :func:`siting.national.run_national` (nearest district
  capital for every CCPP, gaps by department) with the serial engine and with one task per
  department on a LocalCluster of ``--workers`` worker processes; the two output folders are
  compared byte for byte.
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
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import siting  # noqa: E402
from siting import distributed as dist  # noqa: E402
from siting import national as nat  # noqa: E402
from siting.network import coverage  # noqa: E402

CASES = ["nearest-serial", "nearest-dask", "coverage-serial", "coverage-local", "coverage-dask"]


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
            r["halo_nodes_max"] = int(res.tasks["halo_nodes"].max())
            r["halo_edges_max"] = int(res.tasks["halo_edges"].max())
            r["halo_m"] = float(res.tasks["halo_m"].iloc[0])
            r.update({f"halo_{k}": v for k, v in res.tasks.attrs.items()})
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", choices=["all", *CASES], default="all")
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "peru_national.toml"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--candidates", type=int, default=5000)
    ap.add_argument("--limit", type=float, default=120.0)
    ap.add_argument("--chunk", type=int, default=250)
    ap.add_argument("--out", default=str(ROOT / "runs" / "benchmark_scale"))
    ap.add_argument("--json", help="write the measured numbers to this JSON file")
    args = ap.parse_args()
    if args.case == "all":
        results = []
        for case in CASES:
            cmd = [sys.executable, __file__, "--case", case, "--json", "/dev/stdout", "--scenario", args.scenario,
                   "--workers", str(args.workers), "--candidates", str(args.candidates), "--limit", str(args.limit),
                   "--chunk", str(args.chunk), "--out", args.out]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), flush=True)
        by = {r["case"]: r for r in results}
        summary = {
            "nearest_identical": by["nearest-serial"]["files_sha"] == by["nearest-dask"]["files_sha"],
            "coverage_identical": (by["coverage-serial"]["matrix_sha"] == by["coverage-dask"]["matrix_sha"]
                                   == by["coverage-local"]["matrix_sha"]),
        }
        text = json.dumps({"results": results, "summary": summary}, indent=1)
        print(text)
        if args.json:
            Path(args.json).write_text(text + "\n")
        return
    sc = siting.load_scenario(args.scenario)
    engine = args.case.split("-")[1]
    if args.case.startswith("nearest"):
        r = case_nearest(sc, engine, args.workers, Path(args.out) / args.case)
    else:
        r = case_coverage(sc, engine, args.workers, args.candidates, args.limit, args.chunk)
    print(json.dumps(r), file=sys.stderr, flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            fh.write("\n" + json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
