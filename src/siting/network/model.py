"""The travel-time graph as data: :class:`TravelGraph` and its node kinds (built by
:func:`siting.network.graph.build_travel_graph`, cached by :mod:`siting.network.cache`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp
from affine import Affine

CELL, ROAD, POINT = 0, 1, 2
KIND_NAMES = np.array(["cell", "road", "point"])


@dataclass(eq=False)
class TravelGraph:
    """A directed travel-time graph (minutes) with its node tables.

    Besides the matrix, the graph keeps what a route needs to be told in words: the
    elevation of every node (metres; NaN where the DEM has none) and, for every road
    segment (an undirected pair of road nodes), its road class and its length.  Road
    segments are keyed by ``lo * n_road + hi`` over road-local ids (``node - n_cells``,
    ``lo < hi``), sorted, so :meth:`road_segments` looks them up with one ``searchsorted``.
    """

    matrix: sp.csr_array  # (n, n), row = from-node, column = to-node, minutes
    kind: np.ndarray  # int8 per node: CELL, ROAD or POINT
    x: np.ndarray  # projected x per node (metres)
    y: np.ndarray
    shape: tuple[int, int]  # terrain grid (rows, cols); cells are nodes 0 .. rows*cols-1
    transform: Affine
    crs: str
    mode: str
    point_nodes: dict[str, np.ndarray] = field(default_factory=dict)
    point_info: dict[str, pd.DataFrame] = field(default_factory=dict)
    road_component_size: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # per road node
    key: str = ""
    elevation: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # per node, metres
    road_segment_key: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # sorted, see above
    road_segment_class: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))  # into road_class_names
    road_segment_m: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # length x detour, metres
    road_class_names: tuple[str, ...] = ()

    @property
    def n_nodes(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.matrix.nnz)

    @property
    def n_cells(self) -> int:
        return int(self.shape[0] * self.shape[1])

    @property
    def road_nodes(self) -> np.ndarray:
        return np.flatnonzero(self.kind == ROAD)

    @property
    def nodes(self) -> pd.DataFrame:
        """Node table: ``kind`` ("cell"/"road"/"point"), ``x``, ``y`` (projected CRS)."""
        return pd.DataFrame({"kind": pd.Categorical.from_codes(self.kind, KIND_NAMES), "x": self.x, "y": self.y})

    @cached_property
    def reverse(self) -> sp.csr_array:
        """The transposed graph (edges reversed), for "time *to* a node" queries."""
        return sp.csr_array(self.matrix.T.tocsr())

    @cached_property
    def asymmetry(self) -> float:
        """:func:`edge_asymmetry` of the graph: the largest ratio of an edge's minutes to its
        reverse edge's (1 for a symmetric graph, ``inf`` if some edge has no reverse)."""
        return edge_asymmetry(self.matrix, self.reverse)

    def cell_grid(self, values: np.ndarray) -> np.ndarray:
        """Per-node values (length ``n_nodes``) or per-cell values as a (rows, cols) grid."""
        values = np.asarray(values)
        return values[: self.n_cells].reshape(self.shape)

    def road_segments(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Class code and length (metres) of the road segments between road nodes ``a[k]``
        and ``b[k]`` (global node ids, either order); code ``-1`` and NaN metres where the
        pair is not a road segment."""
        a = np.asarray(a, np.int64) - self.n_cells
        b = np.asarray(b, np.int64) - self.n_cells
        n_road = int((self.kind == ROAD).sum())
        code = np.full(a.shape, -1, np.int64)
        metres = np.full(a.shape, np.nan)
        if not len(self.road_segment_key) or not a.size:
            return code, metres
        key = np.minimum(a, b) * n_road + np.maximum(a, b)
        pos = np.clip(np.searchsorted(self.road_segment_key, key), 0, len(self.road_segment_key) - 1)
        hit = (self.road_segment_key[pos] == key) & (a >= 0) & (b >= 0)
        code[hit] = self.road_segment_class[pos[hit]]
        metres[hit] = self.road_segment_m[pos[hit]]
        return code, metres


def edge_asymmetry(matrix: sp.sparray, reverse: sp.sparray | None = None) -> float:
    """The largest ratio ``rho = max_(u, v) w(u -> v) / w(v -> u)`` over the edges of ``matrix``.

    Every path then costs at most ``rho`` times as much travelled backwards (edge by edge),
    so for any two nodes ``t(b -> a) <= rho * t(a -> b)``.  On the walking grid it is
    Tobler's up/downhill ratio ``exp(3.5 * 0.1) = 1.419`` (roads are symmetric).  ``1.0``
    for an empty or symmetric matrix; ``inf`` when some edge has no reverse edge, or a
    reverse edge of 0 minutes against a positive one.  ``reverse``: the transposed matrix,
    if already at hand.
    """
    m = sp.csr_array(matrix)
    if not m.has_canonical_format:
        m = sp.csr_array(m, copy=True)
        m.sum_duplicates()
    r = sp.csr_array(m.T.tocsr()) if reverse is None else sp.csr_array(reverse)
    if not r.has_canonical_format:
        r = sp.csr_array(r, copy=True)
        r.sum_duplicates()
    if m.nnz == 0:
        return 1.0
    if not (np.array_equal(m.indptr, r.indptr) and np.array_equal(m.indices, r.indices)):
        return float("inf")  # an edge without its reverse
    w, back = np.asarray(m.data, np.float64), np.asarray(r.data, np.float64)
    both_zero = (w == 0) & (back == 0)
    if ((back == 0) & (w > 0)).any():
        return float("inf")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(both_zero, 1.0, w / np.where(back == 0, 1.0, back))
    return max(1.0, float(ratio.max()))
