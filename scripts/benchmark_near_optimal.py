#!/usr/bin/env python
"""Benchmark the near-optimal listing of the propose stage (issue #19) on the shipped scenario.

Runs the chain of ``scenarios/cajamarca.toml`` (real data) up to the score stage, builds the
stage's maximal-covering problem and its exact optimum, then, in the same run:

* ``siting.allocation.near_optimal.near_optimal``: exact 1-2 swap neighbourhoods of the
  optimum plus certifying MILPs with no-good cuts (HiGHS' objective bound);
* the **reference**: the listing as it was before (one HiGHS MILP per set, each with a row
  ``sum w y >= (1 - g) Z*`` and a no-good cut per set found, ``scipy.optimize.milp``), written
  out below so that it does not depend on the code it checks;

and prints both times, whether the listed sets are the same (ids and order) and a line
``speed-up NNx``.  Usage: ``python scripts/benchmark_near_optimal.py [--scenario FILE]``.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def reference_listing(p, z_star: float, n: int, gap: float, max_sets: int, *, pool: np.ndarray) -> list[tuple]:
    """One MILP per set (the pre-#19 method): max covered weight s.t. the model,
    ``sum x = N``, ``sum w y >= (1 - gap) Z*`` and a no-good cut per set already listed."""
    from siting.allocation.milp import build_model
    from siting.allocation.reduce import reduce
    q = p.restricted(pool)
    red = reduce(q)
    c, cons, integrality, nc = build_model(q, red)
    c[:nc] = 0.0
    nv, nd = len(c), len(red.weights)
    threshold = (1.0 - gap) * z_star - 1e-9 * max(z_star, 1.0)
    rows = [sp.csr_array(cons.A), sp.csr_array((np.ones(nc), (np.zeros(nc, int), np.arange(nc))), shape=(1, nv)),
            sp.csr_array((red.weights, (np.zeros(nd, int), nc + np.arange(nd))), shape=(1, nv))]
    lo = [np.asarray(cons.lb, float), np.array([n]), np.array([threshold])]
    hi = [np.asarray(cons.ub, float), np.array([n]), np.array([np.inf])]
    out = []
    while len(out) <= max_sets:
        res = milp(c, constraints=LinearConstraint(sp.vstack(rows, format="csr"), np.concatenate(lo),
                                                   np.concatenate(hi)),
                   integrality=integrality, bounds=Bounds(np.zeros(nv), np.ones(nv)),
                   options={"time_limit": 600, "mip_rel_gap": 1e-7, "disp": False})
        if res.status == 2 or res.x is None:
            break
        cols = np.flatnonzero(res.x[:nc] > 0.5)
        out.append(tuple(sorted(int(red.candidates[k]) for k in cols)))
        rows.append(sp.csr_array((np.ones(len(cols)), (np.zeros(len(cols), int), cols)), shape=(1, nv)))
        lo.append(np.array([-np.inf]))
        hi.append(np.array([len(cols) - 1.0]))
    return out[:max_sets]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "cajamarca.toml"))
    args = ap.parse_args()
    from siting import pipeline
    from siting.allocation.near_optimal import _pool, near_optimal
    from siting.allocation.stage import covering_model
    from siting.scenario import load_scenario
    sc = load_scenario(args.scenario)
    with tempfile.TemporaryDirectory() as tmp:
        sc = dataclasses.replace(sc, run=dataclasses.replace(sc.run, output_dir=tmp))
        done = pipeline.score(sc, progress=False)
    a = sc.allocation
    model = covering_model(sc, done.data, done.access, done.scores)
    p = model.problem
    sol = model.solve("exact", time_limit=a.time_limit_s)
    print(f"instance: {int(p.eligible.sum())} candidates x {p.n_places} places, N = {p.n_sites}, "
          f"gap {a.near_optimal_gap:g}, at most {a.near_optimal_max_sets} sets; optimum {sol.objective:,.1f} "
          f"({sol.status})")
    t0 = time.perf_counter()
    got = near_optimal(p, sol, gap=a.near_optimal_gap, max_sets=a.near_optimal_max_sets, time_limit=600)
    t_new = time.perf_counter() - t0
    threshold = (1.0 - a.near_optimal_gap) * sol.objective - 1e-9 * max(sol.objective, 1.0)
    t0 = time.perf_counter()
    ref = reference_listing(p, float(sol.objective), len(sol.selected), a.near_optimal_gap,
                            a.near_optimal_max_sets, pool=_pool(p, sol, threshold))
    t_ref = time.perf_counter() - t0
    ids = np.asarray(p.candidate_ids, dtype=str)
    ref_ids = ["; ".join(ids[list(s)]) for s in ref]
    same = ref_ids == got.table["ccpp_ids"].tolist()
    print(f"near_optimal (neighbourhoods + certifying MILPs): {t_new:.2f} s, {got.n_sets} sets"
          f"{' (at least)' if got.capped else ''}, shared {len(got.shared)}")
    print(f"reference (one MILP per set):                    {t_ref:.2f} s, {len(ref)} sets")
    print(f"speed-up {t_ref / t_new:.0f}x same={same}")


if __name__ == "__main__":
    main()
