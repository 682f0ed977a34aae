"""Outputs for people: maps, tables and reports (Spanish by default).

- :mod:`~siting.report.stage`: ``make_report`` -> the report stage (maps and HTML reports).
- :mod:`~siting.report.writers`: the CSV / XLSX / GeoPackage / GeoTIFF files of each stage.
- :mod:`~siting.report.labels`: the one es/en table of labels and column headers (``t``, ``headers``)
  and the colours of the travel-time bands of a run (``band_colours``).
- :mod:`~siting.report.folium_map`: ``make_map`` / ``save_map`` -> one self-contained interactive HTML map.
- :mod:`~siting.report.static_maps`: PNG/PDF travel-time and proposals maps per region and UGEL.
- :mod:`~siting.report.html_report`: ``write_reports`` -> report.html + one per UGEL.
- :mod:`~siting.report.exports`: CSV (UTF-8 BOM), XLSX, GeoPackage, GeoJSON, written atomically.

The map and chart modules (folium and matplotlib are slow to import) are imported by
:func:`make_report` when it runs.
"""
from __future__ import annotations

from .stage import ReportResult, make_report, report_gap_table

__all__ = ["ReportResult", "make_report", "report_gap_table"]
