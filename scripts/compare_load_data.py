"""Snapshot and compare the result of the data stage (issue #19: ``load_data`` must not change).

Usage (from a worktree; ``PYTHONPATH`` picks the code to snapshot)::

    PYTHONPATH=/work/main/src python scripts/compare_load_data.py dump /tmp/main.pkl
    PYTHONPATH=$PWD/src python scripts/compare_load_data.py dump /tmp/branch.pkl
    python scripts/compare_load_data.py compare /tmp/main.pkl /tmp/branch.pkl

``dump`` runs :func:`siting.load_data` on ``scenarios/cajamarca.toml`` (or ``--scenario``),
twice, and pickles every table of the result (geometries as WKB), the terrain, the quality
problems, counts and notes (English and Spanish) in order, with the CPU and wall seconds of
the second (warm) call.  ``compare`` asserts that two snapshots are identical
(``pandas.testing.assert_frame_equal(check_exact=True)``).
"""
from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _frame(df) -> pd.DataFrame | None:
    """A plain DataFrame with every geometry column as WKB bytes (``None`` stays ``None``)."""
    if df is None:
        return None
    out = pd.DataFrame(df).copy()
    for c in out.columns:
        if out[c].dtype.name == "geometry":
            out[c] = [None if g is None else g.wkb for g in out[c].array]
    return out


def snapshot(scenario: str) -> dict:
    """Everything :func:`siting.load_data` returns, in comparable form, with the warm timings."""
    import siting
    from siting.scenario import load_scenario
    sc = load_scenario(scenario)
    siting.load_data(sc, progress=False)  # cold call (imports, file cache)
    w0, c0 = time.perf_counter(), time.process_time()
    d = siting.load_data(sc, progress=False)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    snap: dict = {"siting": siting.__file__, "wall": wall, "cpu": cpu, "crs": d.crs,
                  "study_area": d.study_area.wkb, "study_area_buffer": d.study_area_buffer.wkb}
    for name in ("places", "cetpro", "cetpro_inactive", "extension_centres", "tambos", "school_premises",
                 "roads", "districts", "all_districts", "ugels", "district_indicators", "labels",
                 "petitions", "host_premises", "candidate_exclusions", "monitoring"):
        snap[name] = _frame(getattr(d, name))
    snap["facilities"] = _frame(d.facilities())
    t = d.terrain
    snap["terrain"] = None if t is None else (np.asarray(t.elevation), tuple(t.transform), str(t.crs))
    snap["landcover"] = d.landcover
    q = d.quality
    snap["problems"], snap["counts"] = list(q.problems), dict(q.counts)
    snap["notes"], snap["notes_es"] = list(q.notes), [q.notes_es.get(n) for n in q.notes]
    return snap


def compare(a: dict, b: dict) -> list[str]:
    """The names of the parts of two snapshots that differ (empty: identical)."""
    bad = []
    for key in a:
        if key in ("siting", "wall", "cpu"):
            continue
        x, y = a[key], b.get(key)
        try:
            if isinstance(x, pd.DataFrame):
                pd.testing.assert_frame_equal(x, y, check_exact=True)
            elif key == "terrain" and x is not None:
                assert np.array_equal(x[0], y[0], equal_nan=True) and x[1:] == y[1:]
            elif isinstance(x, np.ndarray):
                assert np.array_equal(x, y, equal_nan=True)
            else:
                assert x == y
        except AssertionError as exc:
            bad.append(f"{key}: {str(exc)[:300]}")
    return bad


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out")
    d.add_argument("--scenario", default=str(ROOT / "scenarios" / "cajamarca.toml"))
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    args = p.parse_args(argv)
    if args.cmd == "dump":
        snap = snapshot(args.scenario)
        Path(args.out).write_bytes(pickle.dumps(snap))
        print(f"{snap['siting']}: load_data warm {snap['wall']:.2f} s wall, {snap['cpu']:.2f} s CPU; "
              f"{len(snap['problems'])} problems, {len(snap['notes'])} notes")
        return 0
    a, b = (pickle.loads(Path(f).read_bytes()) for f in (args.a, args.b))
    bad = compare(a, b)
    print("identical" if not bad else "DIFFERENT:\n" + "\n".join(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
