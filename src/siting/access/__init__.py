"""Access gaps: per-place travel times and bands, aggregates, equity and 2SFCA measures.

The pure functions work on the *output* of the travel-time engine (``siting.network``) and
the data loaders (``siting.data``), never on the graph; the stage functions compose them:

- :mod:`.bands` — :func:`round_minutes`, :func:`band_labels`, :func:`band_slugs`,
  :func:`assign_band`, :func:`place_access` (conventions for minutes and bands);
- :mod:`.stats` — :func:`weighted_median`, :func:`gini` (grouped in one pass);
- :mod:`.aggregate` — :func:`aggregate`, :func:`rank_unserved`, :func:`summary_table`,
  :func:`before_after`;
- :mod:`.fca` — :func:`two_stage_fca`, :func:`enhanced_two_stage_fca`, :func:`decay_weights`;
- :mod:`.stage` — the access stage :func:`compute_access` (:class:`AccessResult`) and
  :func:`evaluate_plan` (:class:`PlanAccess`): access once the proposals open.
"""
from __future__ import annotations

from .aggregate import TOTAL, aggregate, before_after, rank_unserved, summary_table
from .bands import NO_ACCESS, NO_ACCESS_SLUG, assign_band, band_labels, band_slugs, place_access, round_minutes
from .fca import LUO_QI_WEIGHTS, FcaResult, decay_weights, enhanced_two_stage_fca, two_stage_fca
from .stage import (
    AccessResult,
    PlanAccess,
    compute_access,
    evaluate_plan,
    place_table,
    study_area_minutes,
    supply_demand,
)
from .stats import gini, weighted_median

__all__ = [
    "NO_ACCESS",
    "NO_ACCESS_SLUG",
    "LUO_QI_WEIGHTS",
    "TOTAL",
    "round_minutes",
    "band_labels",
    "band_slugs",
    "assign_band",
    "place_access",
    "weighted_median",
    "gini",
    "aggregate",
    "rank_unserved",
    "FcaResult",
    "decay_weights",
    "two_stage_fca",
    "enhanced_two_stage_fca",
    "before_after",
    "summary_table",
    "AccessResult",
    "PlanAccess",
    "compute_access",
    "evaluate_plan",
    "place_table",
    "study_area_minutes",
    "supply_demand",
]
