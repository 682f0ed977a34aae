"""Lazy greedy + 1-swap local search, with an upper bound (see :func:`greedy`)."""
from __future__ import annotations

import heapq
import sys
import time
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from ..errors import UserError
from .parents import ParentMatcher
from .problem import TOL, CoveringProblem
from .results import CoverageSolution, make_solution


def no_tty() -> bool:
    """True when progress bars should be hidden (stderr is not an interactive terminal)."""
    return not sys.stderr.isatty()


def greedy(p: CoveringProblem, *, swap: bool = True, max_swap_iter: int = 200) -> CoverageSolution:
    """Lazy greedy + 1-swap local search.

    **Greedy.**  Repeatedly open the feasible candidate with the largest marginal gain
    ``g_i(S) = sum_{j in cover(i), j not covered by S} w_j + eps s_i`` (with a budget:
    the largest ``g_i / c_i``).  Gains only shrink as S grows (the objective is
    monotone submodular), so stale gains in a priority queue are upper bounds and a
    popped candidate whose recomputed gain is still >= the next stale bound is the true
    maximum (Minoux's lazy greedy).  Stops at ``n_sites`` / budget / coverage target,
    or when no candidate adds anything (then fewer sites are returned).
    Guarantees: cardinality only: ``f(S) >= (1 - 1/e) OPT`` (Nemhauser, Wolsey &
    Fisher 1978).  With max per group (partition matroid) or the parent-capacity
    matching (a transversal matroid): 1/2.  With a budget the result is the better of
    the ratio greedy and the best single site, ``(1 - 1/e)/2`` (Khuller, Moss & Naor
    1999).  With min per group, slots/budget are reserved for unmet minimums, and no
    constant guarantee holds.  Coverage-target mode: the greedy set-cover bound
    ``H(max covered places)`` on the number of sites (for unit costs).

    **Swap.**  Then, repeatedly, the best exchange of one open site for one closed
    candidate that keeps all constraints and increases the objective is applied (at
    most ``max_swap_iter`` exchanges); in coverage-target mode redundant sites are
    dropped first.

    **Bound.**  For any set S and any feasible set O of at most N sites,
    ``f(O) <= f(S) + sum_{i in O} g_i(S)`` (submodularity), hence
    ``OPT <= f(S) + (sum of the N largest g_i(S))`` — with a budget, the fractional
    knapsack of the ``g_i(S)`` with costs ``c_i``; also ``OPT <= `` coverable weight
    ``+ eps N``.  The smallest value over the greedy and swapped sets is reported.
    Coverage-target mode reports instead ``sites_lower_bound``: the least k such that
    the k largest single-site coverages reach the target.
    """
    t0 = time.perf_counter()
    sel, matcher = _lazy_greedy(p)
    t1 = time.perf_counter()
    bound = greedy_bound(p, sel)
    n_swaps = 0
    if swap:
        sel, n_swaps = _swap(p, sel, matcher, max_iter=max_swap_iter)
        bound = min(bound, greedy_bound(p, sel))
    t2 = time.perf_counter()
    sites_lb = sites_lower_bound(p) if p.coverage_target is not None else float("nan")
    return make_solution(p, sel, solver="greedy+swap" if swap else "greedy", status="heuristic", bound=bound,
                         timings={"greedy_s": t1 - t0, "swap_s": t2 - t1, "total_s": t2 - t0},
                         n_swaps=n_swaps, sites_lb=sites_lb)


def _reserve_ok(p: CoveringProblem, i: int, counts: np.ndarray, n_sel: int, used: float,
                sel_mask: np.ndarray) -> bool:
    """Can candidate i be added now while every group minimum stays reachable?"""
    g = p.group[i]
    if counts[g] + 1 > p.group_max[g] or n_sel + 1 > p.max_sites:
        return False
    if p.budget is not None and used + p.cost[i] > p.budget + TOL:
        return False
    unmet = np.maximum(p.group_min - counts, 0)
    if unmet[g] > 0:
        unmet[g] -= 1
    if unmet.sum() == 0:
        return True
    if n_sel + 1 + unmet.sum() > p.max_sites:
        return False
    if p.budget is not None:
        reserve = 0.0
        for h in np.flatnonzero(unmet):
            pool = p.eligible & (p.group == h) & ~sel_mask
            pool[i] = False
            reserve += np.sort(p.cost[pool])[: int(unmet[h])].sum()
        if used + p.cost[i] + reserve > p.budget + TOL:
            return False
    return True


def _new_matcher(p: CoveringProblem) -> ParentMatcher | None:
    if p.parent_options is None or p.parent_capacity is None:
        return None
    return ParentMatcher(p.parent_options, p.parent_capacity)


def _lazy_greedy(p: CoveringProblem) -> tuple[list[int], ParentMatcher | None]:
    w, eps_s = p.w, p.eps * p.s
    use_ratio = p.budget is not None or (p.coverage_target is not None and np.any(p.cost != 1))
    cost = np.where(p.cost > 0, p.cost, 1e-12)
    gains0 = p.A @ w + eps_s
    key0 = gains0 / cost if use_ratio else gains0
    heap: list[tuple[float, int]] = [(-float(key0[i]), int(i)) for i in np.flatnonzero(p.eligible)]
    heapq.heapify(heap)
    covered = np.zeros(p.n_places, dtype=bool)
    counts = np.zeros(len(p.group_labels), dtype=int)
    sel_mask = np.zeros(p.n_candidates, dtype=bool)
    sel: list[int] = []
    used = 0.0
    cov_w = 0.0
    matcher = _new_matcher(p)
    target = p.target_weight() if p.coverage_target is not None else None
    while heap:
        if target is not None and cov_w >= target:
            break
        _negk, i = heapq.heappop(heap)
        if not _reserve_ok(p, i, counts, len(sel), used, sel_mask):
            continue  # infeasibility is permanent: counts, used and slots only grow
        c = p.cover(i)
        g = float(w[c[~covered[c]]].sum()) + eps_s[i]
        k = g / cost[i] if use_ratio else g
        if heap and k < -heap[0][0] - TOL * max(1.0, abs(k)):
            heapq.heappush(heap, (-k, i))
            continue
        if g <= TOL:
            # nothing left to gain; only minimums can still force sites (repair below)
            heapq.heappush(heap, (-k, i))
            break
        if matcher is not None and not matcher.try_add(i):
            continue  # no parent slot now => none later (matching only gets fuller)
        sel.append(i)
        sel_mask[i] = True
        counts[p.group[i]] += 1
        used += p.cost[i]
        covered[c] = True
        cov_w += g - eps_s[i]
    sel = _repair_minimums(p, sel, matcher)
    if p.budget is not None and p.coverage_target is None and sel:
        sel, matcher = _best_single_site(p, sel, matcher, gains0)
    if target is not None and p.covered_weight(sel) < target:
        raise UserError(
            f"coverage_target {p.coverage_target:.0%} cannot be reached: the eligible candidates cover at most "
            f"{p.coverable_weight() / p.total_weight:.1%} of the unserved weight within the limits given",
            hint="lower allocation.coverage_target, raise n_sites / budget, or widen max_minutes")
    return sel, matcher


def _best_single_site(p: CoveringProblem, sel: list[int], matcher: ParentMatcher | None, gains0: np.ndarray
                      ) -> tuple[list[int], ParentMatcher | None]:
    """Khuller et al.: with a budget, the better of the ratio greedy and the best feasible single site."""
    assert p.budget is not None
    feas = [i for i in np.flatnonzero(p.eligible) if p.cost[i] <= p.budget + TOL]
    if not feas or (p.group_min > 0).any():
        return sel, matcher
    gains = gains0[feas]
    best = int(feas[int(np.argmax(gains))])
    fresh = _new_matcher(p)  # None exactly when there are no parents (then matcher is None too)
    if gains.max() > p.covered_weight(sel) + (p.eps * p.s)[sel].sum() + TOL and (
            fresh is None or fresh.try_add(best)):
        return [best], fresh
    return sel, matcher


def _repair_minimums(p: CoveringProblem, sel: list[int], matcher: ParentMatcher | None) -> list[int]:
    """Add the best-gain feasible sites of groups still below their minimum."""
    sel = list(sel)
    while True:
        counts = np.bincount(p.group[sel], minlength=len(p.group_labels)) if sel else \
            np.zeros(len(p.group_labels), dtype=int)
        unmet = np.flatnonzero(counts < p.group_min)
        if unmet.size == 0:
            return sel
        sel_mask = np.zeros(p.n_candidates, dtype=bool)
        sel_mask[sel] = True
        covered = p.covered_mask(np.array(sel, dtype=int))
        gains = p.A @ (p.w * ~covered) + p.eps * p.s
        used = float(p.cost[sel].sum())
        pool = np.flatnonzero(p.eligible & ~sel_mask & np.isin(p.group, unmet))
        added = False
        for i in pool[np.argsort(-gains[pool], kind="stable")]:
            if not _reserve_ok(p, int(i), counts, len(sel), used, sel_mask):
                continue
            if matcher is not None and not matcher.try_add(int(i)):
                continue
            sel.append(int(i))
            added = True
            break
        if not added:
            g = int(unmet[0])
            raise UserError(f"cannot place {p.group_min[g]:g} site(s) in {p.group_labels[g]!r} within the "
                            f"other limits (n_sites, budget, parent-CETPRO capacity)",
                            hint="lower allocation.min_per_ugel or raise n_sites / budget / max_extensions_per_cetpro")


def _drop_redundant(p: CoveringProblem, sel: list[int], matcher: ParentMatcher | None) -> list[int]:
    """Coverage-target mode: drop sites the target does not need (largest cost first)."""
    target = p.target_weight()
    for i in sorted(sel, key=lambda k: -p.cost[k]):
        rest = [k for k in sel if k != i]
        counts = np.bincount(p.group[rest], minlength=len(p.group_labels))
        if (counts >= p.group_min).all() and p.covered_weight(rest) >= target:
            sel = rest
            if matcher is not None:
                matcher.remove(i)
    return sel


def _swap_moves(p: CoveringProblem, sel: list[int], *, k: int) -> list[tuple[float, int, int]]:
    """Improving exchanges ``(delta, open site, closed candidate)``, the ``k`` best per open site."""
    w, A, eps_s = p.w, p.A, p.eps * p.s
    target_mode = p.coverage_target is not None
    cnt = np.asarray(p.pattern[np.array(sel)].sum(axis=0)).ravel().astype(int)
    base = A @ (w * (cnt == 0))
    counts = np.bincount(p.group[sel], minlength=len(p.group_labels))
    used = float(p.cost[sel].sum())
    closed = p.eligible.copy()
    closed[sel] = False
    # weight only s covers (lost when s closes), one column per open site
    uniq_rows, uniq_cols = [], []
    for col, s_ in enumerate(sel):
        c = p.cover(s_)
        u = c[cnt[c] == 1]
        uniq_rows.append(u)
        uniq_cols.append(np.full(len(u), col))
    ur = np.concatenate(uniq_rows)
    uc = np.concatenate(uniq_cols)
    loss = np.bincount(uc, weights=w[ur], minlength=len(sel))
    wu = sp.csr_array((w[ur], (ur, uc)), shape=(p.n_places, len(sel)))
    regained = (A @ wu).toarray()  # regained[c, s]: s-only weight that c also covers
    moves: list[tuple[float, int, int]] = []
    for col, s_ in enumerate(sel):
        cov_delta = base + regained[:, col] - loss[col]
        delta = cov_delta + eps_s - eps_s[s_]
        ok = closed.copy()
        g = p.group[s_]
        other = p.group != g
        ok &= ~other | ((counts[p.group] + 1 <= p.group_max[p.group]) & (counts[g] - 1 >= p.group_min[g]))
        if p.budget is not None:
            ok &= used - p.cost[s_] + p.cost <= p.budget + TOL
        if target_mode:
            ok &= p.cost <= p.cost[s_]
            delta = cov_delta
        ok &= delta > TOL * max(1.0, p.total_weight)
        if not ok.any():
            continue
        cand = np.flatnonzero(ok)
        top = cand[np.argsort(-delta[cand], kind="stable")[:k]]
        moves.extend((float(delta[c_]), s_, int(c_)) for c_ in top)
    moves.sort(key=lambda m: -m[0])
    return moves


def _swap(p: CoveringProblem, sel: list[int], matcher: ParentMatcher | None, *, max_iter: int
          ) -> tuple[list[int], int]:
    """Best-improvement 1-swap local search (and redundant-site dropping in target mode)."""
    sel = list(sel)
    n_swaps = 0
    if p.coverage_target is not None:
        sel = _drop_redundant(p, sel, matcher)
    bar = tqdm(total=max_iter, desc="swap", disable=no_tty(), leave=False)
    while n_swaps < max_iter and sel:
        applied = False
        for _d, s_, c_ in _swap_moves(p, sel, k=1 if matcher is None else 5):
            if matcher is not None:
                trial = matcher.copy()
                trial.remove(s_)
                if not trial.try_add(c_):
                    continue
                matcher.__dict__.update(trial.__dict__)
            sel[sel.index(s_)] = c_
            n_swaps += 1
            bar.update(1)
            applied = True
            break
        if not applied:
            break
    bar.close()
    return sel, n_swaps


def greedy_bound(p: CoveringProblem, sel: Sequence[int]) -> float:
    """Upper bound on the optimum from the marginal gains at ``sel`` (see :func:`greedy`)."""
    if p.coverage_target is not None:
        return float("nan")
    sel_a = np.asarray(sel, dtype=int)
    covered = p.covered_mask(sel_a)
    f_s = float(p.w[covered].sum()) + p.eps * float(p.s[sel_a].sum())
    gains = (p.A @ (p.w * ~covered) + p.eps * p.s)[p.eligible]
    costs = p.cost[p.eligible]
    n_max = p.max_sites
    trivial = p.coverable_weight() + p.eps * (min(n_max, p.n_candidates))
    if p.budget is not None:
        extra = _knapsack_bound(gains, costs, p.budget)
        if np.isfinite(n_max):
            extra = min(extra, float(np.sort(gains)[::-1][: int(n_max)].sum()))
    else:
        extra = float(np.sort(gains)[::-1][: int(min(n_max, len(gains)))].sum())
    return min(f_s + extra, trivial)


def _knapsack_bound(gains: np.ndarray, costs: np.ndarray, budget: float) -> float:
    """Fractional knapsack of the gains with the costs within ``budget``."""
    order = np.argsort(-(gains / np.where(costs > 0, costs, 1e-12)), kind="stable")
    g, c = gains[order], costs[order]
    cum_c = np.cumsum(c)
    full = cum_c <= budget + TOL
    extra = float(g[full].sum())
    k = int(full.sum())
    if k < len(g) and c[k] > 0:
        extra += g[k] * (budget - (cum_c[k - 1] if k else 0.0)) / c[k]
    elif k < len(g):
        extra += float(g[k:][c[k:] == 0].sum())
    return extra


def sites_lower_bound(p: CoveringProblem) -> float:
    """Least k with the k largest single-site coverages >= the target (unit costs)."""
    single = np.sort((p.A @ p.w)[p.eligible])[::-1]
    cum = np.cumsum(single)
    k = int(np.searchsorted(cum, p.target_weight())) + 1
    return float(min(k, len(single)))
