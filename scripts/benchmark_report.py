#!/usr/bin/env python
"""Seconds of the report stage alone (issue #19 target 2), with and without side processes.

Runs the shipped chain up to ``propose`` once (or loads it from ``--state``, a pickle this
script wrote with ``--save``), then ``make_report`` into ``OUT/workers_<w>`` for each
``--workers`` value (``SITING_REPORT_WORKERS``), printing wall seconds, CPU seconds of the
main process and of the side processes, the load average, and whether every file of each
folder has the same SHA-256 as the first folder's.

Usage:  python scripts/benchmark_report.py --save /tmp/state.pkl --out /tmp/rep [--maps region]
        python scripts/benchmark_report.py --state /tmp/state.pkl --out /tmp/rep --workers 1 2
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import pickle
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import siting  # noqa: E402


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios/cajamarca.toml"))
    ap.add_argument("--state", help="pickle of (scenario, data, access, plan) written by --save")
    ap.add_argument("--save", help="run the chain and write its pickle here")
    ap.add_argument("--out", required=True)
    ap.add_argument("--maps", default="region", choices=["all", "region", "none"])
    ap.add_argument("--workers", nargs="*", default=["1", "2"])
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.state:
        with open(args.state, "rb") as f:
            st = pickle.load(f)
    else:
        from siting import pipeline
        sc = siting.load_scenario(args.scenario, run__output_dir=str(out / "chain"), run__maps=args.maps)
        res = pipeline.propose(sc, progress=False)
        st = {"sc": sc, "data": res.data, "access": res.access, "plan": res.plan}
        if args.save:
            with open(args.save, "wb") as f:
                pickle.dump(st, f)
    from siting.report import make_report
    sc = dataclasses.replace(st["sc"], run=dataclasses.replace(st["sc"].run, maps=args.maps))
    tif = Path(st["sc"].run.output_dir) / "travel_time_minutes.tif"  # written by the access stage
    raster = tif if tif.is_file() else None
    first = None
    for w in args.workers:
        os.environ["SITING_REPORT_WORKERS"] = str(w)
        folder = out / f"workers_{w}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        t, load0 = os.times(), os.getloadavg()[0]
        t0 = time.perf_counter()
        make_report(sc, st["data"], st["access"], st["plan"], folder=folder, raster=raster, progress=False)
        wall, t1 = time.perf_counter() - t0, os.times()
        hashes = _hashes(folder)
        first = first or hashes
        print(f"workers={w}: wall {wall:.2f} s, CPU main {t1.user + t1.system - t.user - t.system:.2f} s, "
              f"side {t1.children_user + t1.children_system - t.children_user - t.children_system:.2f} s, "
              f"load {load0:.2f}->{os.getloadavg()[0]:.2f}, files {len(hashes)}, same as first: {hashes == first}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
