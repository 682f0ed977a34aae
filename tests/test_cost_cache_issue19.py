"""Issue #19 (propose stage): the disk cache of the cost matrix
(:mod:`siting.network.cost_cache`) returns the computed matrix array for array, is keyed by
the graph, nodes, limit and direction, and ignores a corrupt or foreign file.  Real graph of
UGEL San Marcos (fixture ``san_marcos`` of tests/conftest.py)."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _same(a: sp.csr_array, b: sp.csr_array) -> bool:
    return (a.shape == b.shape and np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
            and np.array_equal(a.data, b.data))


def test_cost_cache_identity_key_and_corruption(san_marcos, tmp_path):
    from siting.network.cost_cache import cached_directed_coverage, cost_key
    from siting.network.solve import directed_coverage
    g = san_marcos.graph
    nodes = g.point_nodes["places"]
    origins = nodes[::7]
    ref = sp.csr_array(directed_coverage(g, origins, nodes, 90.0, direction="mean", progress=False))
    assert (ref.data == 0).any()  # explicit zeros (a place at its own node) must survive the cache
    first = cached_directed_coverage(g, origins, nodes, 90.0, direction="mean", cache_dir=tmp_path, progress=False)
    files = list(tmp_path.glob("cost_*.npz"))
    assert len(files) == 1 and _same(first, ref)
    again = cached_directed_coverage(g, origins, nodes, 90.0, direction="mean", cache_dir=tmp_path, progress=False)
    assert _same(again, ref)
    # another limit, direction or origin set is another key (another file)
    keys = {cost_key(g, origins, nodes, 90.0, "mean"), cost_key(g, origins, nodes, 60.0, "mean"),
            cost_key(g, origins, nodes, 90.0, "to"), cost_key(g, origins[1:], nodes, 90.0, "mean")}
    assert len(keys) == 4
    # a corrupt file (one minute changed, digest kept) is recomputed, not used
    path = files[0]
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["data"] = arrays["data"].copy()
    arrays["data"][0] += 1.0
    np.savez(path, **arrays)
    fixed = cached_directed_coverage(g, origins, nodes, 90.0, direction="mean", cache_dir=tmp_path, progress=False)
    assert _same(fixed, ref)
    path.write_bytes(b"not a npz")
    assert _same(cached_directed_coverage(g, origins, nodes, 90.0, direction="mean", cache_dir=tmp_path,
                                          progress=False), ref)
