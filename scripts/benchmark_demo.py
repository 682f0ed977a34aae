"""`siting demo` end to end, warm and cold, against another checkout in the same minutes (#19).

    python scripts/benchmark_demo.py --before /path/to/other/checkout [--runs 3] [--cold-runs 2]

Each checkout runs ``python -m siting demo`` in its own folder with its own ``src`` first on
``PYTHONPATH`` (the same interpreter and packages), the two alternating run by run.  Warm: the
checkout's ``data/processed`` keeps the graphs and cost matrices of its previous run (one
untimed run first fills it); cold: every cache file of ``data/processed`` (graphs and
matrices ``*.npz``, loaded tables ``*.parquet`` / ``*.json``) is removed before the run.
Prints wall and CPU seconds (the run and its side processes), the stage seconds of
``runs/cajamarca/manifest.json``, the speed-up against ``--before`` and whether the 57 outputs
(every file but ``manifest.json`` / ``scenario.toml``) have the same SHA-256 in both.
Targets (issue #19): warm <= 15 s, cold <= 25 s, report stage <= 5 s.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

STAGES = ("data", "score", "propose", "report")


def run_demo(tree: Path, *, cold: bool) -> dict:
    if cold:
        for pattern in ("*.npz", "*.parquet", "*.json"):
            for f in (tree / "data" / "processed").glob(pattern):
                f.unlink()
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "siting", "demo"], cwd=tree, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stages = json.loads((tree / "runs" / "cajamarca" / "manifest.json").read_text())["stages"]
    return {"wall": wall, "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            **{s: float(stages[s]["seconds"]) for s in STAGES}}


def output_hashes(tree: Path) -> dict[str, str]:
    folder = tree / "runs" / "cajamarca"
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in ("manifest.json", "scenario.toml")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, required=True, help="the other checkout (its own data/processed)")
    ap.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[1], help="default: this one")
    ap.add_argument("--runs", type=int, default=3, help="warm runs of each checkout")
    ap.add_argument("--cold-runs", type=int, default=2, help="cold runs of each checkout")
    args = ap.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    for tree in trees.values():
        run_demo(tree, cold=False)  # fills data/processed, compiles nothing twice
    results: dict[tuple[str, str], list[dict]] = {}
    for kind, n in (("warm", args.runs), ("cold", args.cold_runs)):
        for _ in range(n):
            for name, tree in trees.items():
                r = run_demo(tree, cold=kind == "cold")
                results.setdefault((name, kind), []).append(r)
                print(f"{name:6} {kind}: wall {r['wall']:5.1f} s, cpu {r['cpu']:5.1f} s, "
                      + ", ".join(f"{s} {r[s]:.1f}" for s in STAGES), flush=True)
    for kind in ("warm", "cold"):
        b = statistics.median(r["wall"] for r in results[("before", kind)])
        a = statistics.median(r["wall"] for r in results[("after", kind)])
        print(f"demo speed-up vs before: x{b / a:.2f} ({kind}, median {b:.1f} -> {a:.1f} s)")
    same = output_hashes(trees["before"]) == output_hashes(trees["after"])
    print(f"outputs identical (SHA-256, {len(output_hashes(trees['after']))} files): {same}")
    worst = {k: max(r["wall"] for r in results[("after", k)]) for k in ("warm", "cold")}
    report = max(r["report"] for k in ("warm", "cold") for r in results[("after", k)])
    print(f"targets: warm {worst['warm']:.1f} <= 15 s {worst['warm'] <= 15}, cold {worst['cold']:.1f} <= 25 s "
          f"{worst['cold'] <= 25}, report stage {report:.1f} <= 5 s {report <= 5}")


if __name__ == "__main__":
    main()
