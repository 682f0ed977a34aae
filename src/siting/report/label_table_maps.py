"""Labels of the ``maps`` option (issue #19: which static maps the report stage draws): part of
:data:`siting.report.label_table.TABLE`.  ``key -> (es, en)``."""
from __future__ import annotations

MAPS_LABELS: dict[str, tuple[str, str]] = {
    "maps.none_note": ("Los mapas estáticos (PNG/PDF) no se dibujaron en esta corrida (run.maps = none); "
                       "el mapa interactivo sí. Para dibujarlos: siting report --maps all.",
                       "The static maps (PNG/PDF) were not drawn in this run (run.maps = none); the interactive "
                       "map was. To draw them: siting report --maps all."),
    "maps.region_note": ("En esta corrida solo se dibujaron los mapas estáticos de la región (run.maps = region); "
                         "los de cada UGEL, con siting report --maps all.",
                         "Only the region's static maps were drawn in this run (run.maps = region); the maps of "
                         "each UGEL with siting report --maps all."),
}
