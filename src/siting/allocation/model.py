"""The :class:`MaximalCovering` facade: build a :class:`~.problem.CoveringProblem`, solve it."""
from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..errors import UserError
from . import greedy as _greedy
from . import milp as _milp
from . import reduce as _reduce
from .problem import CoveringProblem
from .results import CoverageSolution, ReducedProblem

#: auto mode solves exactly when the reduced matrix has at most this many non-zeros
AUTO_EXACT_MAX_NNZ = 5_000_000
#: ... and at most this many candidate variables
AUTO_EXACT_MAX_CANDIDATES = 50_000


class MaximalCovering:
    """Maximal covering location problem (Church & ReVelle 1974) on a sparse coverage matrix.

    The input is a **coverage matrix** ``A`` (candidates x demand places, scipy sparse) as
    returned by :func:`siting.network.solve.coverage`: every stored entry ``a_ij`` means
    "candidate *i* reaches place *j* within the time limit" (explicit zeros = 0 minutes count
    as covered; values above ``max_minutes`` do not).  Demand weights ``w_j`` are decided by
    the caller (e.g. target-age population weighted for women, youth, poverty); places
    already served by an existing CETPRO / extension centre get weight 0 (``already_covered``).
    With ``x_i`` = open candidate *i* and ``y_j`` = place *j* covered::

        maximise    sum_j w_j y_j  +  eps * sum_i s_i x_i          (s_i: suitability in [0, 1])
        subject to  y_j <= sum_{i : a_ij} x_i                      for every place j
                    sum_i x_i <= N                                 (n_sites)
                    sum_i c_i x_i <= B                             (budget, site_cost c_i)
                    lo_g <= sum_{i in g} x_i <= hi_g               (min/max per province/UGEL g)
                    x_i = 0 for candidates that are not eligible   (e.g. no parent CETPRO)
                    x_i in {0, 1},  0 <= y_j <= 1

    Coverage-target mode (``coverage_target = t``) instead minimises the number (or cost)
    of sites that cover at least a share *t* of the unserved weight ``W``::

        minimise    sum_i c_i x_i - 0.5 * sum_j w_j y_j / W        (the second term < 1 only
        subject to  sum_j w_j y_j >= t * W,  same constraints       breaks ties: most coverage)

    With ``require_parent`` (``parent_minutes`` given) a candidate may only be opened if it
    can be assigned to a CETPRO within ``parent_max_minutes`` without exceeding any CETPRO's
    capacity (max extension centres).  The exact model adds assignment variables ``z_ik``
    for the eligible pairs: ``sum_k z_ik = x_i`` and ``sum_i z_ik <= cap_k``, ``0 <= z <= 1``
    (for integral ``x`` this is a bipartite b-matching / transportation system, whose matrix
    is totally unimodular, so continuous ``z`` suffice).  The greedy keeps a matching and
    accepts a candidate only if an augmenting path exists.
    :func:`~siting.allocation.parents.assign_parents` then computes the parent of each
    selected site that minimises total teacher travel.

    Solvers (:meth:`solve`): ``"greedy"`` — lazy greedy (Minoux 1978) + 1-swap local search
    with an upper bound (:mod:`siting.allocation.greedy`; cardinality case: (1 - 1/e)
    guarantee); ``"exact"`` — MILP with ``scipy.optimize.milp`` (HiGHS) on a *reduced*
    problem (:mod:`siting.allocation.reduce`), first on a small candidate pool proven
    sufficient by Lagrangian pricing (:mod:`siting.allocation.milp`), time limit and
    reported gap; ``"auto"`` — exact (with pricing) when ``n_sites`` is set; otherwise
    exact when the reduced problem is small enough, else greedy.  An exact solve stopped by
    its time limit returns the better of its incumbent and greedy + swap, with HiGHS' bound.

    Build with :meth:`from_coverage`; the validated data is :attr:`problem` (its fields are
    also readable as attributes of the model: ``w``, ``pattern``, ``n_sites``, ...).
    Problems the user can fix (impossible minimums, target above what is reachable, wrong
    shapes) raise :class:`~siting.errors.UserError` naming the option and what to do.
    """

    def __init__(self, problem: CoveringProblem):
        self.problem = problem

    def __getattr__(self, name: str) -> Any:
        """The fields of :attr:`problem` (``w``, ``pattern``, ``eligible``, ``n_sites``, ...)."""
        if name == "problem":
            raise AttributeError(name)
        return getattr(self.problem, name)

    @classmethod
    def from_coverage(cls, coverage: Any, demand_weight: Sequence[float] | np.ndarray, **options: Any
                      ) -> MaximalCovering:
        """Build the model.

        Parameters
        ----------
        coverage: candidates x places; see :func:`~siting.allocation.problem.coverage_pattern`.
        demand_weight: weight per place (>= 0, finite), e.g. weighted target population.
        already_covered: places served by existing facilities; their weight counts nothing.
        max_minutes: with a matrix of minutes, what counts as covered.
        n_sites: open at most N sites (at most: fewer if the rest would cover nothing).
        coverage_target: share in (0, 1] of the unserved weight to reach with the fewest
            sites (or least total ``site_cost``); ``n_sites`` / ``budget`` then act as caps.
        budget, site_cost: sum of the opened sites' cost <= budget (cost 1 per site default).
        group_of_candidate, min_per_group, max_per_group: province/UGEL label per candidate
            and an int (every group) or dict {label: int} of bounds; ``None`` = no bound.
        suitability, suitability_weight: score per candidate, min-max normalised to
            s in [0, 1]; adds ``eps * s_i`` per opened site.  Default ``eps`` is a
            tie-breaker: 1e-6 x the smallest positive weight (greedy ties; the MILP only
            within its gap tolerance).  Give ``suitability_weight`` to make it a real term
            (in weight units per site at score 1).
        candidate_ids: labels used in results (default: row numbers).
        eligible: bool per candidate; False = may not be opened.
        parent_minutes, parent_capacity, parent_max_minutes: ``require_parent`` — teacher
            minutes candidate x CETPRO (sparse: stored = reachable, or dense with NaN/inf),
            max extension centres per CETPRO (int or array) and the teacher time limit.
            Candidates without an eligible parent become ineligible and capacity is
            enforced jointly (see the class docstring).
        """
        return cls(CoveringProblem.from_coverage(coverage, demand_weight, **options))

    def with_options(self, **changes: Any) -> MaximalCovering:
        """Copy with some of ``n_sites``, ``coverage_target``, ``budget``, ``group_min``,
        ``group_max`` replaced (the matrix is shared)."""
        return MaximalCovering(self.problem.with_options(**changes))

    @property
    def n_candidates(self) -> int:
        return self.problem.n_candidates

    @property
    def n_places(self) -> int:
        return self.problem.n_places

    def covered_weight(self, selected: Iterable[int]) -> float:
        """Unserved weight covered by a set of candidates."""
        return self.problem.covered_weight(selected)

    # ------------------------------------------------------------------ solvers
    def solve(self, method: Literal["auto", "greedy", "exact"] | str = "auto", *, time_limit: float = 60.0,
              mip_rel_gap: float = 1e-6, swap: bool = True, max_swap_iter: int = 200) -> CoverageSolution:
        """Solve with ``method`` ("auto" | "greedy" | "exact"); see the class docstring.

        ``auto``: with ``n_sites`` (not coverage-target mode) the exact solver with
        Lagrangian pricing (it never returns less than greedy + swap: on its time limit it
        returns the better of both with HiGHS' bound).  Otherwise the problem is reduced
        and solved exactly when it has at most ``AUTO_EXACT_MAX_NNZ`` non-zeros and
        ``AUTO_EXACT_MAX_CANDIDATES`` candidates, else by greedy + swap.
        """
        if method == "greedy":
            return self.greedy(swap=swap, max_swap_iter=max_swap_iter)
        if method == "exact":
            return self.exact(time_limit=time_limit, mip_rel_gap=mip_rel_gap)
        if method != "auto":
            raise UserError(f"unknown allocation method {method!r}", hint="use 'auto', 'greedy' or 'exact'")
        if self.problem.n_sites is not None and self.problem.coverage_target is None:
            return self.exact(time_limit=time_limit, mip_rel_gap=mip_rel_gap)
        t0 = time.perf_counter()
        red = self.reduce()
        if red.matrix.nnz > AUTO_EXACT_MAX_NNZ or len(red.candidates) > AUTO_EXACT_MAX_CANDIDATES:
            return self.greedy(swap=swap, max_swap_iter=max_swap_iter)
        return self.exact(time_limit=time_limit, mip_rel_gap=mip_rel_gap, reduced=red,
                          reduce_time=time.perf_counter() - t0)

    def greedy(self, *, swap: bool = True, max_swap_iter: int = 200) -> CoverageSolution:
        """Lazy greedy + 1-swap local search with an upper bound (:func:`siting.allocation.greedy.greedy`)."""
        return _greedy.greedy(self.problem, swap=swap, max_swap_iter=max_swap_iter)

    def reduce(self) -> ReducedProblem:
        """The problem without ineligible candidates, zero / uncoverable / duplicate places and
        dominated candidates (:func:`siting.allocation.reduce.reduce`); same optimum value."""
        return _reduce.reduce(self.problem)

    def exact(self, *, time_limit: float = 60.0, mip_rel_gap: float = 1e-6, reduced: ReducedProblem | None = None,
              reduce_time: float | None = None, pricing: bool = True) -> CoverageSolution:
        """Exact MILP (formulation in the class docstring) solved by HiGHS through
        ``scipy.optimize.milp``.  Stops at ``time_limit`` seconds or relative gap
        ``mip_rel_gap``; status "optimal" or "time_limit", ``bound``/``gap`` from HiGHS'
        dual bound.  Infeasible models raise :class:`UserError`.

        With ``n_sites`` set (any other constraints allowed, not coverage-target mode) and
        ``pricing=True`` the MILP is first solved on a small pool of candidates and the
        pool is proven sufficient by **Lagrangian pricing / variable fixing**: relax the
        coverage rows with multipliers ``lambda_j in [0, w_j]`` (and drop every constraint
        except ``sum x <= N``)::

            L(lambda) = sum_j max(0, w_j - lambda_j) + sum of the N largest r_i,
            r_i = eps s_i + sum_{j in cover(i)} lambda_j  >=  OPT.

        Forcing ``x_i = 1`` gives ``UB_i = L - r_(N) + r_i`` (``r_(N)`` = N-th largest) when
        i is not among the N largest.  With ``LB`` the best known feasible score, every
        candidate with ``UB_i < LB`` is in no optimal solution.  ``lambda`` are the LP duals
        of the pool's relaxation (places no pool candidate covers get ``lambda_j = w_j``,
        which is exactly LP column-generation pricing).  Candidates that cannot be fixed
        join the pool and the loop repeats; when all of them are in the pool, the pool's
        MILP optimum is the global optimum.  If the pool grows too much (the bound is
        loose, e.g. with binding group/budget constraints) the full reduced MILP
        (:meth:`reduce`) is solved instead.  The pool MILP starts from the incumbent, and
        LP probing first fixes the candidates that no set scoring at least the incumbent
        can change (:func:`siting.allocation.probing.probe_fix`; same optimum).
        """
        return _milp.exact(self.problem, time_limit=time_limit, mip_rel_gap=mip_rel_gap, reduced=reduced,
                           reduce_time=reduce_time, pricing=pricing)

    # ------------------------------------------------------------------ curve
    def coverage_curve(self, n_max: int, *, exact: bool = False, time_limit: float = 30.0) -> pd.DataFrame:
        """Covered weight for N = 1..n_max.

        The greedy column comes from one greedy run (nested sets, cardinality only: the
        budget, coverage target and group minimums are ignored; eligibility, parent
        capacity and group maximums are kept).  With ``exact=True`` each N is also solved
        exactly (same relaxation of constraints), adding ``exact_covered`` and
        ``greedy_gap = 1 - greedy / exact``.
        """
        base = self.with_options(n_sites=int(n_max), coverage_target=None, budget=None,
                                 group_min=np.zeros_like(self.problem.group_min))
        g = base.greedy(swap=False)
        n = len(g.selected)
        cum = np.cumsum(g.marginal_gains)
        tw = self.problem.total_weight if self.problem.total_weight > 0 else 1.0
        df = pd.DataFrame({"n_sites": np.arange(1, n + 1), "candidate_id": g.selected_ids,
                           "marginal_gain": g.marginal_gains, "greedy_covered": cum, "greedy_share": cum / tw})
        if exact:
            red = base.reduce()
            vals = []
            for k in tqdm(range(1, n + 1), desc="exact curve", disable=_greedy.no_tty(), leave=False):
                vals.append(base.with_options(n_sites=k).exact(time_limit=time_limit, reduced=red).objective)
            df["exact_covered"] = vals
            df["exact_share"] = df["exact_covered"] / tw
            df["greedy_gap"] = 1.0 - df["greedy_covered"] / df["exact_covered"].where(df["exact_covered"] > 0)
        return df
