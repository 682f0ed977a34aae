"""Labels of the rainy-season comparison (issue #14 item 9): part of
:data:`siting.report.label_table.TABLE`.  ``key -> (es, en)``."""
from __future__ import annotations

SEASON_LABELS: dict[str, tuple[str, str]] = {
    "minutes_dry": ("Minutos en temporada seca", "Minutes in the dry season"),
    "minutes_rainy": ("Minutos en temporada de lluvias", "Minutes in the rainy season"),
    "minutes_added": ("Minutos añadidos por las lluvias", "Minutes added by the rains"),
    "mean_minutes_dry": ("Minutos promedio (seca)", "Mean minutes (dry)"),
    "mean_minutes_rainy": ("Minutos promedio (lluvias)", "Mean minutes (rainy)"),
    "closed_rainy": ("Cerrada en lluvias", "Closed in the rainy season"),
    "season.dry": ("temporada seca", "dry season"),
    "season.rainy": ("temporada de lluvias", "rainy season"),
    "season.added": ("aumento por las lluvias", "added by the rains"),
    "sheet.temporada_lluvias": ("Temporada de lluvias", "Rainy season"),
    "report.season_section": ("Temporada de lluvias: antes y después", "Rainy season: before and after"),
    "report.season_table": ("Personas a más de cada umbral por UGEL, temporada seca y de lluvias",
                            "People beyond each threshold by UGEL, dry and rainy season"),
    "report.season_sentence": (
        "En temporada de lluvias, {added} personas más quedan a más de {threshold} min de un centro "
        "({dry} en temporada seca, {rainy} en lluvias).",
        "In the rainy season, {added} more people are beyond {threshold} min of a centre "
        "({dry} in the dry season, {rainy} in the rainy season)."),
    "report.season_factors": (
        "Velocidades de lluvias = velocidad seca × factor por tipo de vía: {factors}; a pie × {walk}. "
        "Los factores son supuestos (no mediciones): los viajes observados con nota de temporada "
        "(San Ignacio - La Balsa tras lluvia fuerte: 240 min frente a 120 en julio; Cajamarca - Celendín, "
        "abril frente a julio de 2013: 150 frente a 120-130 min) sitúan las vías afirmadas entre 0,5 y 0,83.",
        "Rainy speeds = dry speed × factor per road class: {factors}; walking × {walk}. "
        "The factors are assumptions (not measurements): the observed trips with a season note "
        "(San Ignacio - La Balsa after heavy rain: 240 min against 120 in July; Cajamarca - Celendín, "
        "April against July 2013: 150 against 120-130 min) put gravel roads between 0.5 and 0.83."),
    "report.season_closed": ("Tramos cerrados en lluvias (inputs.closed_segments): {n}.",
                             "Road segments closed in the rainy season (inputs.closed_segments): {n}."),
}
