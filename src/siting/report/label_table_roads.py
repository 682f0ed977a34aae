"""Labels of the road classes added by the national-route rebuild (issue #14 item 1): part of
:data:`siting.report.label_table.TABLE`.  ``key -> (es, en)``."""
from __future__ import annotations

ROAD_LABELS: dict[str, tuple[str, str]] = {
    "road.national_unknown": ("Nacional, superficie desconocida", "National, surface unknown"),
    "road.source.national_on_mtc_lines": ("Nacional sobre línea del MTC", "National along an MTC line"),
}
