"""Memory estimates per stage (issue #19 target 4): each is an upper bound of the stage's
traced peak (``tracemalloc``) on a small real run (UGEL San Marcos, real data), and the
formulas add up the terms the module documents (hand-computed cases)."""
from __future__ import annotations

import dataclasses
import tracemalloc

import pytest

from siting import stage_memory as sm

MIB = 2 ** 20


def test_formulas_hand_computed():
    # propose: 24 * 8 B * C * P + 4 KiB * P + 16 MiB
    assert sm.propose_estimate(n_candidates=10, n_places=100).bytes == 24 * 8 * 10 * 100 + 4096 * 100 + 16 * MIB
    # score: 8 P R (K + 2) + 8 P^2 / 2 + 16 KiB P + 16 MiB
    assert sm.score_estimate(n_places=300, n_runs=20, n_criteria=6).bytes == (
        8 * 300 * 20 * 8 + 8 * 300 * 300 // 2 + 16384 * 300 + 16 * MIB)
    # access: 8 N (4 s + 6) + 4 KiB P + 16 MiB
    assert sm.access_estimate(n_places=300, n_nodes=5000, n_sets=2).bytes == 8 * 5000 * 14 + 4096 * 300 + 16 * MIB
    # report: static maps count only when drawn in this process
    serial = sm.report_estimate(n_places=1, n_premises=0, n_road_vertices=0, n_figures=2, side_processes=False)
    side = sm.report_estimate(n_places=1, n_premises=0, n_road_vertices=0, n_figures=2, side_processes=True)
    assert serial.bytes - side.bytes == sm.FIGURE_BYTES
    assert sm.n_static_figures("none", 8) == 0 and sm.n_static_figures("region", 8) == 2
    assert sm.n_static_figures("all", 8) == 18
    rec = sm.data_estimate(MIB).record()
    assert rec["memory_estimate_mb"] == 19.0 and rec["memory_estimate_terms_mb"] == {"inputs": 3.0, "base": 16.0}


def _traced(fn):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        out = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak - base


@pytest.mark.slow
def test_estimates_bound_the_traced_peak_san_marcos(san_marcos, tmp_path, monkeypatch):
    """Every stage of the real San Marcos run stays within its estimate made before it."""
    import siting
    from siting.report import make_report

    monkeypatch.setenv("SITING_REPORT_WORKERS", "1")  # static maps in this process: the larger estimate
    sc = dataclasses.replace(san_marcos.sc, run=dataclasses.replace(san_marcos.sc.run, maps="region"))
    st: dict = {}
    steps = [
        ("data", lambda: siting.load_data(sc, progress=False)),
        ("graph", lambda: siting.build_graph(sc, st["data"])),
        ("access", lambda: siting.compute_access(sc, st["data"], st["graph"])),
        ("score", lambda: siting.score_candidates(sc, st["data"], st["graph"], st["access"], progress=False)),
        ("propose", lambda: siting.propose_sites(sc, st["data"], st["access"], st["score"], graph=st["graph"])),
        ("report", lambda: make_report(sc, st["data"], st["access"], st["propose"], folder=tmp_path, raster=None,
                                       progress=False)),
    ]
    rows = []
    for name, fn in steps:
        est = sm.estimate_stage(name, sc, data=st.get("data"), graph=st.get("graph"), access=st.get("access"),
                                scores=st.get("score"), graph_modes=[None])
        st[name], peak = _traced(fn)
        rows.append((name, peak / MIB, est.mb))
    print(rows)
    assert all(peak <= est for _, peak, est in rows), rows
