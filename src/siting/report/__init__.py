"""Outputs for people: maps, tables and reports (Spanish by default).

- :mod:`~siting.report.labels`: the one es/en table of labels and column headers (``t``, ``headers``).
- :mod:`~siting.report.folium_map`: ``make_map`` / ``save_map`` -> one self-contained interactive HTML map.
- :mod:`~siting.report.static_maps`: PNG/PDF travel-time and proposals maps per region and UGEL.
- :mod:`~siting.report.html_report`: ``write_reports`` -> report.html + one per UGEL.
- :mod:`~siting.report.exports`: CSV (UTF-8 BOM), XLSX, GeoPackage, GeoJSON, written atomically.

Submodules are imported on demand (folium and matplotlib are slow to import).
"""
