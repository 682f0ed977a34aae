"""What every objective model shares: construction, solve(), greedy and interchange."""
from __future__ import annotations

import inspect
import time
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from ...errors import UserError
from .constraints import Feasibility, infeasible
from .problem import Plan, SitingData, SitingResult

__all__ = ["SitingModel", "AUTO_EXACT_MAX_PAIRS"]

#: ``solve("auto")`` uses the exact MILP up to this many assignment pairs, else the heuristic
AUTO_EXACT_MAX_PAIRS = 3_000_000
_TOL = 1e-9
#: keyword arguments of SitingData.from_cost_matrix (the rest go to the model)
_SHARED = set(inspect.signature(SitingData.from_cost_matrix).parameters) - {"cost_matrix", "weights"}


class SitingModel:
    """Base of the objective models (spopt style: ``from_cost_matrix`` then ``solve``).

    Subclasses set ``name`` and ``sense`` and implement :meth:`evaluate`, :meth:`exact`,
    :meth:`heuristic`; they may use :meth:`_greedy` and :meth:`_interchange` with their
    own gain functions.  After :meth:`solve` the result is in ``result_``.
    """

    name = "model"
    sense: Literal["min", "max"] = "min"

    def __init__(self, data: SitingData, **options: Any):
        self.data = data
        self.options = options
        self.feas = Feasibility(data)
        self.result_: SitingResult | None = None

    @classmethod
    def from_cost_matrix(cls, cost_matrix: Any, weights: Sequence[float] | np.ndarray, **kwargs: Any):
        """Build from places x candidates minutes (see :meth:`SitingData.from_cost_matrix` for
        the shared keyword arguments; the model's own keywords are in its docstring)."""
        data_kw = {k: v for k, v in kwargs.items() if k in _SHARED}
        own = {k: v for k, v in kwargs.items() if k not in _SHARED}
        return cls(SitingData.from_cost_matrix(cost_matrix, weights, **data_kw), **own)

    def with_data(self, data: SitingData) -> SitingModel:
        """The same model (same options) on other data, e.g. ``data.with_options(n_sites=5)``."""
        return type(self)(data, **self.options)

    # ------------------------------------------------------------------ interface
    def evaluate(self, selected: Plan) -> tuple[float, float]:
        """``(objective, score)`` of a plan."""
        raise NotImplementedError

    def exact(self, *, time_limit: float = 60.0, mip_rel_gap: float = 1e-6) -> SitingResult:
        raise NotImplementedError

    def heuristic(self) -> SitingResult:
        raise NotImplementedError

    def n_pairs(self) -> int:
        return int(self.data.useful_pairs().sum())

    def solve(self, method: Literal["auto", "exact", "heuristic"] = "auto", *, time_limit: float = 60.0,
              mip_rel_gap: float = 1e-6) -> SitingResult:
        """Solve by ``"exact"`` (HiGHS), ``"heuristic"`` (with a bound) or ``"auto"`` (exact up to
        ``AUTO_EXACT_MAX_PAIRS`` useful pairs).  The result is also stored in ``result_``."""
        if method == "auto":
            method = "exact" if self.n_pairs() <= AUTO_EXACT_MAX_PAIRS else "heuristic"
        if method == "exact":
            res = self.exact(time_limit=time_limit, mip_rel_gap=mip_rel_gap)
        elif method == "heuristic":
            res = self.heuristic()
        else:
            raise UserError(f"unknown method {method!r}", hint="use 'auto', 'exact' or 'heuristic'")
        self.result_ = res
        return res

    # ------------------------------------------------------------------ helpers
    def _tol(self, score: float) -> float:
        """Smallest score change that counts as an improvement."""
        return 1e-9 * max(1.0, abs(score))

    def _better(self, a: float, b: float) -> bool:
        """Is score ``a`` strictly better than ``b``?"""
        tol = self._tol(max(abs(a), abs(b)))
        return a < b - tol if self.sense == "min" else a > b + tol

    def _greedy(self, gains, *, sel: Plan = ()) -> list[int]:
        """Greedy: add the feasible candidate of largest ``gains(sel)`` (score improvement;
        per unit cost with a budget) until N sites, the budget, or no gain; sites needed by
        unmet group minimums are added even without gain."""
        d = self.data
        sel = [int(i) for i in sel]
        while len(sel) < d.max_sites:
            g = np.asarray(gains(sel), dtype=float).copy()
            g[~d.eligible] = -np.inf
            g[sel] = -np.inf
            key = g / np.where(d.cost > 0, d.cost, 1e-12) if d.budget is not None else g
            counts = np.bincount(d.group[sel], minlength=len(d.group_labels)) if sel else np.zeros(
                len(d.group_labels), dtype=int)
            unmet = counts < d.group_min
            picked = None
            for i in np.argsort(-key, kind="stable"):
                if not np.isfinite(g[i]):
                    break
                if g[i] <= self._tol(0.0) and not (unmet.any() and unmet[d.group[i]]):
                    continue
                if self.feas.can_extend(sel, int(i)):
                    picked = int(i)
                    break
            if picked is None:
                break
            sel.append(picked)
        if not self.feas.feasible(sel):
            raise infeasible(self.name)
        return sel

    def _interchange(self, sel: list[int], swap_gains, *, max_iter: int = 500) -> tuple[list[int], int]:
        """Best-improvement interchange (Teitz & Bart 1968): apply the feasible exchange of an
        open site for a closed candidate with the largest ``swap_gains(sel)[a, c]`` > 0 until none
        improves the score (checked again with :meth:`evaluate`)."""
        d = self.data
        n_moves = 0
        current = self.evaluate(sel)[1]
        while n_moves < max_iter and sel:
            G = np.asarray(swap_gains(sel), dtype=float)
            closed = d.eligible.copy()
            closed[sel] = False
            G[:, ~closed] = -np.inf
            flat = np.flatnonzero(G.ravel() > self._tol(current))
            if flat.size == 0:
                break
            applied = False
            for f in flat[np.argsort(-G.ravel()[flat], kind="stable")][:200]:
                a, c = divmod(int(f), d.n_candidates)
                if not self.feas.can_swap(sel, sel[a], c):
                    continue
                trial = [k for k in sel if k != sel[a]] + [c]
                score = self.evaluate(trial)[1]
                if self._better(score, current):
                    sel, current = trial, score
                    n_moves += 1
                    applied = True
                    break
            if not applied:
                break
        return sel, n_moves

    def _timed_heuristic(self, gains, swap_gains, bound_fn, solver: str,
                         start: Sequence[int] | None = None) -> SitingResult:
        t0 = time.perf_counter()
        sel = self._greedy(gains) if start is None else [int(i) for i in start]
        t1 = time.perf_counter()
        sel, n_moves = self._interchange(sel, swap_gains)
        sel = self._greedy(gains, sel=sel)  # a swap may leave room for one more useful site
        t2 = time.perf_counter()
        obj, score = self.evaluate(sel)
        bound = bound_fn(sel, score)
        t3 = time.perf_counter()
        return self.data.result(sel, objective=obj, score=score, bound=bound, status="heuristic", solver=solver,
                                sense=self.sense, timings={"greedy_s": t1 - t0, "interchange_s": t2 - t1,
                                                           "bound_s": t3 - t2, "total_s": t3 - t0},
                                details={"interchanges": n_moves})
