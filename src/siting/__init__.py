"""siting: where to open the next technical-education centre.

Travel-time access gaps, suitability scoring and location-allocation for CETPRO
extension centres, built for Cajamarca (Peru) and usable for any region with the
same kind of data.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import DataError, ScenarioError, UserError
from .scenario import Scenario, load_scenario, save_scenario

__all__ = ["Scenario", "load_scenario", "save_scenario", "UserError", "ScenarioError", "DataError", "__version__"]
