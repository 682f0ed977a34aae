"""Objective models beside maximal covering (issue 18): p-median, p-center, max-min fairness."""
from __future__ import annotations

from .pcenter import PCenter
from .pmedian import PMedian
from .problem import SitingData, SitingResult

__all__ = ["PCenter", "PMedian", "SitingData", "SitingResult"]
