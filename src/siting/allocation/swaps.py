"""Every feasible set within one or two swaps of a plan that covers at least a threshold (issue #19).

The near-optimal listing (:mod:`.near_optimal`) needs the sets of ``N`` sites whose covered
weight is at least ``(1 - g) Z*``.  Most of them differ from the optimum ``S*`` by one or two
sites, and those can be weighed exactly without a MILP.  For ``D`` a subset of ``S*`` of size
``d`` (the sites left out) and ``B = S* \\ D``, with ``u_j = w_j`` for the places ``B`` leaves
uncovered (0 otherwise)::

    g_a = sum_j a_aj u_j                               (what site a adds to B)
    Z(B + {a})     = Z(B) + g_a                         (d = 1, exact)
    Z(B + {a, b})  = Z(B) + g_a + g_b - sum_j a_aj a_bj u_j   (d = 2, exact)

Pairs are first screened by the bound ``Z(B) + g_a + g_b >= threshold`` (coverage is
submodular, so the bound is never below the exact value) and only the survivors get their
overlap.  Every set returned is feasible: ``N`` distinct eligible sites, the group minimums and
maximums, the budget, and a parent CETPRO slot for each site (the augmenting-path matching
of :class:`siting.allocation.parents.ParentMatcher`, as the greedy uses).  The listing is complete for
``d <= 2``; a set farther from ``S*`` is found by the MILP of :mod:`.near_optimal`.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
import scipy.sparse as sp

from .parents import ParentMatcher
from .problem import TOL, CoveringProblem

__all__ = ["feasible_set", "sets_within_swaps"]


def feasible_set(p: CoveringProblem, sites: tuple[int, ...] | list[int]) -> bool:
    """Do ``sites`` meet every limit of ``p`` other than the cardinality: distinct eligible
    sites, group minimums and maximums, budget, and one parent slot per site?"""
    arr = np.asarray(sites, dtype=int)
    if len(np.unique(arr)) != len(arr) or not p.eligible[arr].all():
        return False
    counts = np.bincount(p.group[arr], minlength=len(p.group_labels))
    if (counts > p.group_max).any() or (counts < p.group_min).any():
        return False
    if p.budget is not None and p.cost[arr].sum() > p.budget + TOL:
        return False
    if p.parent_options is None or p.parent_capacity is None:
        return True
    matcher = ParentMatcher(p.parent_options, p.parent_capacity)
    return all(matcher.try_add(int(i)) for i in arr)


def sets_within_swaps(p: CoveringProblem, star: list[int], threshold: float, *, max_swaps: int = 2
                      ) -> dict[tuple[int, ...], float]:
    """Every feasible set ``(S* \\ D) + A`` with ``|A| = |D| <= max_swaps`` (``max_swaps`` 1 or 2),
    ``A`` outside ``S*`` and covered weight ``>= threshold``, as ``{sorted sites: covered
    weight}``; ``S*`` itself is included when it reaches the threshold (see the module docstring)."""
    if max_swaps not in (1, 2):
        raise ValueError("max_swaps must be 1 or 2")
    star = sorted(int(i) for i in star)
    out: dict[tuple[int, ...], float] = {}
    z_star = p.covered_weight(star)
    if z_star >= threshold and feasible_set(p, star):
        out[tuple(star)] = z_star
    outside = p.eligible.copy()
    outside[star] = False
    addable = np.flatnonzero(outside)
    for d in range(1, min(max_swaps, len(star)) + 1):
        for dropped in combinations(star, d):
            base = [i for i in star if i not in dropped]
            u = np.where(p.covered_mask(base), 0.0, p.w)
            z_base = float(p.w.sum() - u.sum())
            g = p.A[addable] @ u
            found: list[tuple[tuple[int, ...], float]]
            if d == 1:
                found = [((a,), z_base + float(ga)) for a, ga in zip(addable.tolist(), g.tolist())]
            else:
                found = _pairs(p, addable, g, u, need=threshold - z_base, z_base=z_base)
            for add, z in found:
                if z >= threshold:
                    sites = tuple(sorted(base + list(add)))
                    if sites not in out and feasible_set(p, sites):
                        out[sites] = z
    return out


def _pairs(p: CoveringProblem, addable: np.ndarray, g: np.ndarray, u: np.ndarray, *, need: float,
           z_base: float) -> list[tuple[tuple[int, ...], float]]:
    """Pairs ``{a, b}`` of ``addable`` with ``z_base + g_a + g_b - overlap >= z_base + need``."""
    if len(g) < 2:
        return []
    top = float(np.max(g))
    keep = np.flatnonzero(g + top >= need)  # a site that cannot reach `need` with the best partner
    if len(keep) < 2:
        return []
    gk = g[keep]
    A = sp.csr_array(p.A[addable[keep]])
    overlap = (sp.csr_array(A.multiply(u[None, :])) @ A.T).toarray()
    value = gk[:, None] + gk[None, :] - overlap
    i, j = np.nonzero(np.triu(value >= need, 1))
    sites = addable[keep]
    return [((int(sites[a]), int(sites[b])), z_base + float(value[a, b])) for a, b in zip(i.tolist(), j.tolist())]
