"""Location-allocation: where to open N new extension centres, and which CETPRO runs each.

Modules, one concern each:

- :mod:`.problem` — :class:`CoveringProblem`, the validated immutable data (coverage
  pattern, weights, limits, groups, parents) and :func:`coverage_pattern`;
- :mod:`.greedy` — lazy greedy + 1-swap local search and its upper bound;
- :mod:`.reduce` — reductions that keep the optimum (places merged, dominated candidates);
- :mod:`.milp` — the exact MILP from small row builders (:class:`~.milp.ModelBuilder`),
  HiGHS, Lagrangian pricing;
- :mod:`.parents` — the parent-CETPRO matching and :func:`assign_parents`;
- :mod:`.results` — :class:`CoverageSolution`, :class:`ReducedProblem`;
- :mod:`.model` — :class:`MaximalCovering`, the facade (formulation in its docstring);
- :mod:`.stage` — the propose stage :func:`propose_sites` and :class:`ProposalResult`.
"""
from __future__ import annotations

from .model import AUTO_EXACT_MAX_CANDIDATES, AUTO_EXACT_MAX_NNZ, MaximalCovering
from .parents import ParentAssignment, assign_parents
from .problem import CoveringProblem, coverage_pattern
from .results import CoverageSolution, ReducedProblem
from .stage import ProposalResult, covering_model, demand_weights, parent_capacity, propose_sites, site_gains

__all__ = [
    "AUTO_EXACT_MAX_CANDIDATES",
    "AUTO_EXACT_MAX_NNZ",
    "CoverageSolution",
    "CoveringProblem",
    "MaximalCovering",
    "ParentAssignment",
    "ProposalResult",
    "ReducedProblem",
    "assign_parents",
    "covering_model",
    "coverage_pattern",
    "demand_weights",
    "parent_capacity",
    "propose_sites",
    "site_gains",
]
