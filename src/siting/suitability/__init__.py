"""Suitability stage: candidates, criteria, weighted score / AHP, learned model, sensitivity.

The stage is :func:`score_candidates` (``siting.score_candidates``, :mod:`.stage`).  Its
building blocks, for use on their own (after the engine and access stages)::

    cand, excluded = select_candidates(places, minutes_existing=t, premises=premises,
                                       rules=sc.candidates, crs=sc.study_area.crs)
    table = compute_criteria(cand, places, coverage, unserved, teacher_min, indicators)
    scored = WeightedScore.from_scenario(sc).score(table)
    stability = monte_carlo(table, WeightedScore.from_scenario(sc).weights, n_runs=500, ...)
"""
from __future__ import annotations

from .candidates import REASONS, exclusion_summary, host_premises_near, select_candidates
from .criteria import CRITERIA, Criterion, compute_criteria, district_indicator_table, load_petitions
from .mcda import (
    AHPResult,
    WeightedScore,
    ahp_weights,
    normalise,
    normalise_column,
    resolve_weights,
    score_table,
    weights_from_scenario,
)
from .model import NO_LABELS_MESSAGE, LearnedSuitability, fit_from_scenario, fit_if_labelled, load_labels
from .sensitivity import monte_carlo
from .stage import CANDIDATE_COLUMNS, ScoreResult, candidate_table, host_premises, score_candidates, within

__all__ = ["REASONS", "exclusion_summary", "host_premises_near", "select_candidates", "CRITERIA", "Criterion",
           "compute_criteria", "district_indicator_table", "load_petitions", "AHPResult", "WeightedScore",
           "ahp_weights", "normalise", "normalise_column", "resolve_weights", "score_table",
           "weights_from_scenario", "NO_LABELS_MESSAGE", "LearnedSuitability", "fit_from_scenario", "fit_if_labelled",
           "load_labels", "monte_carlo", "CANDIDATE_COLUMNS", "ScoreResult", "candidate_table", "host_premises",
           "score_candidates", "within"]
