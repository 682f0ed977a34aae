"""Monitoring the extension centres and CETPRO: indicators, trends, outputs (``siting monitor``).

This package may import :mod:`siting.data`, :mod:`siting.network`, :mod:`siting.access` and
:mod:`siting.report`; no stage imports it.
"""
from __future__ import annotations

from .indicators import below_retention, centre_table, indicators, trends
from .outputs import render_html, small_multiples, write_monitoring
from .run import monitor, residence_minutes

__all__ = ["below_retention", "centre_table", "indicators", "trends", "render_html", "small_multiples",
           "write_monitoring", "monitor", "residence_minutes"]
