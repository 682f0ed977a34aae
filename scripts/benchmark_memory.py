#!/usr/bin/env python
"""Peak memory of each pipeline stage against its estimate (issue #19 target 4).

Runs data -> graph -> access -> score -> propose -> report on a scenario in ONE process and,
for every stage, prints the estimate made before the stage from its input sizes
(:func:`siting.stage_memory.estimate_stage`, the figure the manifest records as
``memory_estimate_mb``), the peak of traced allocations during the stage (``tracemalloc``:
Python objects and NumPy arrays; not GDAL/HiGHS C buffers), the growth of the process'
peak resident set (``resource.getrusage``: ``ru_maxrss``) and the largest side process of
the report stage (``RUSAGE_CHILDREN``), and "within" = traced peak <= estimate.

Usage:  python scripts/benchmark_memory.py [--scenario scenarios/cajamarca.toml] [--maps region]
                                           [--ugels "UGEL SAN MARCOS"] [--runs 20]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import siting  # noqa: E402


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _children_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios/cajamarca.toml"))
    ap.add_argument("--maps", default="region", choices=["all", "region", "none"])
    ap.add_argument("--ugels", nargs="*", help="study area UGELs (default: the scenario's)")
    ap.add_argument("--runs", type=int, help="Monte Carlo runs of the suitability stage (default: the scenario's)")
    args = ap.parse_args(argv)
    out = Path(tempfile.mkdtemp(prefix="siting_mem_"))
    over: dict = {"run__output_dir": str(out), "run__maps": args.maps}
    if args.ugels:
        over["study_area__ugels"] = args.ugels
    if args.runs:
        over["suitability__sensitivity_runs"] = args.runs
    sc = siting.load_scenario(args.scenario, **over)
    from siting.report import make_report
    from siting.stage_memory import estimate_stage
    st: dict = {}
    stages = [
        ("data", lambda: st.__setitem__("data", siting.load_data(sc, progress=False))),
        ("graph", lambda: st.__setitem__("graph", siting.build_graph(sc, st["data"]))),
        ("access", lambda: st.__setitem__("access", siting.compute_access(sc, st["data"], st["graph"]))),
        ("score", lambda: st.__setitem__("scores", siting.score_candidates(
            sc, st["data"], st["graph"], st["access"], progress=False))),
        ("propose", lambda: st.__setitem__("plan", siting.propose_sites(
            sc, st["data"], st["access"], st["scores"], graph=st["graph"]))),
        ("report", lambda: make_report(sc, st["data"], st["access"], st["plan"], folder=out / "report",
                                       raster=None, progress=False)),
    ]
    print(f"scenario {args.scenario}, ugels={args.ugels or 'scenario'}, maps={args.maps}, output {out}")
    print(f"load average at start {os.getloadavg()}")
    print(f"{'stage':8} {'seconds':>8} {'CPU s':>6} {'traced peak MB':>15} {'RSS peak MB':>12} {'RSS growth MB':>14} "
          f"{'children MB':>12} {'estimate MB':>12}  within")
    tracemalloc.start()
    for name, fn in stages:
        (out / "report").mkdir(parents=True, exist_ok=True)
        est = estimate_stage(name, sc, data=st.get("data"), graph=st.get("graph"), access=st.get("access"),
                             scores=st.get("scores"), graph_modes=[None]).mb
        rss0 = _rss_mb()
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        _, peak = tracemalloc.get_traced_memory()
        traced = (peak - base) / 2**20
        rss = _rss_mb()
        within = "yes" if traced <= est else "NO"
        print(f"{name:8} {secs:8.1f} {cpu:6.1f} {traced:15,.0f} {rss:12,.0f} {rss - rss0:14,.0f} "
              f"{_children_mb():12,.0f} {est:12,.0f}  {within}", flush=True)
    print(f"load average at end {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
