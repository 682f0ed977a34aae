"""Observed trips against the model: ``siting validate-times`` and ``siting calibrate`` (issue #14).

- :mod:`.validate` - the model's minutes between the matched ends of observed trips;
- :mod:`.fit` - bounded least squares of road speeds, detour factor and a walking
  multiplier on log times, grouped cross-validation and cluster-bootstrap intervals;
- :mod:`.calibrate` - re-route with the fitted speeds and refit, write a calibrated scenario
  and its report;
- :mod:`.labels` - texts (Spanish by default).

A command floor (like :mod:`siting.monitoring`): it composes the data and network stages.
"""
from __future__ import annotations
