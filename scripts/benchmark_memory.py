#!/usr/bin/env python
"""Peak memory of each pipeline stage against its estimate (issue #19 target 4).

Runs data -> graph -> access -> score -> propose -> report on a scenario in ONE process and,
for every stage, prints the peak of traced allocations during the stage (``tracemalloc``:
Python objects and NumPy arrays; not GDAL/HiGHS C buffers) and the growth of the process'
peak resident set (``resource.getrusage``: ``ru_maxrss``), next to the estimate the code
makes before the stage where one exists (the graph: ``siting.network.memory.graph_memory_estimate``,
also used by the engine to refuse graphs that do not fit).  Stages without an estimate say so.

Usage:  python scripts/benchmark_memory.py [--scenario scenarios/cajamarca.toml] [--maps region]
"""
from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios/cajamarca.toml"))
    ap.add_argument("--maps", default="region", choices=["all", "region", "none"])
    args = ap.parse_args(argv)
    out = Path(tempfile.mkdtemp(prefix="siting_mem_"))
    sc = siting.load_scenario(args.scenario, run__output_dir=str(out), run__maps=args.maps)
    from siting.network.memory import graph_memory_estimate
    from siting.report import make_report
    state: dict = {}
    estimates: dict[str, float] = {}

    def est_graph() -> None:
        from siting.network.stage import _terrain, graph_points
        d = state["data"]
        estimates["graph"] = graph_memory_estimate(_terrain(sc, d), d.roads, sc.speeds, graph_points(d)) / 2**20

    stages = [
        ("data", lambda: state.__setitem__("data", siting.load_data(sc, progress=False))),
        ("graph", lambda: state.__setitem__("graph", siting.build_graph(sc, state["data"]))),
        ("access", lambda: state.__setitem__("gaps", siting.compute_access(sc, state["data"], state["graph"]))),
        ("score", lambda: state.__setitem__("scores", siting.score_candidates(
            sc, state["data"], state["graph"], state["gaps"], progress=False))),
        ("propose", lambda: state.__setitem__("plan", siting.propose_sites(
            sc, state["data"], state["gaps"], state["scores"], graph=state["graph"]))),
        ("report", lambda: make_report(sc, state["data"], state["gaps"], state["plan"], folder=out / "report",
                                       raster=None, progress=False)),
    ]
    print(f"scenario {args.scenario}, maps={args.maps}, output {out}")
    print(f"{'stage':8} {'seconds':>8} {'traced peak MB':>15} {'RSS peak MB':>12} {'RSS growth MB':>14} "
          f"{'estimate MB':>12}  within")
    tracemalloc.start()
    for name, fn in stages:
        if name == "graph":
            est_graph()
        rss0 = _rss_mb()
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        t0 = time.perf_counter()
        fn()
        secs = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        traced = (peak - base) / 2**20
        rss = _rss_mb()
        est = estimates.get(name)
        within = "-" if est is None else ("yes" if traced <= est else "NO")
        est_s = "no estimate" if est is None else f"{est:,.0f}"
        print(f"{name:8} {secs:8.1f} {traced:15,.0f} {rss:12,.0f} {rss - rss0:14,.0f} {est_s:>12}  {within}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
