"""Texts of the observed-trips reader and matcher (:mod:`siting.data.trips`): key -> (es, en).

Spanish by default, English with ``lang="en"`` (the language of every user-facing output of
``siting validate-times`` / ``siting calibrate``)."""
from __future__ import annotations

from ..i18n import check_language

TEXTS: dict[str, tuple[str, str]] = {
    "before_asphalting": ("antes del asfaltado (lo dice la fuente)", "before asphalting (the source says so)"),
    "dated_before": ("viaje de {year}, antes del asfaltado de las vías ({paving} en adelante)",
                     "trip of {year}, before the roads were paved ({paving} on)"),
    "tourist_sheet": ("hoja turística sin fecha: varias cifras son de antes del asfaltado (cota superior)",
                      "undated tourist sheet: several figures predate paving (an upper bound)"),
    "undated_unpaved": ("viaje sin fecha por una vía descrita como sin asfaltar: puede ser de antes del asfaltado",
                        "undated trip on a road described as unpaved: it may predate paving"),
    "by_code": ("código", "code"),
    "code_unknown": ("el código {code} no es un centro poblado del área",
                     "code {code} is not a place of the study area"),
    "by_coords": ("coordenadas ({m:.0f} m)", "coordinates ({m:.0f} m)"),
    "no_coords": ("ningún centro poblado a menos de {m:g} m de las coordenadas",
                  "no place within {m:g} m of the coordinates"),
    "site": ("un sitio (cruce, fin de vía, frontera, santuario...), no un centro poblado",
             "a site (junction, road end, border, sanctuary...), not a centro poblado"),
    "outside_department": ("fuera del departamento", "outside the department"),
    "no_district": ("sin distrito", "no district given"),
    "district_not_in_area": ("el distrito {district} no está en el área de estudio",
                             "district {district} is not in the study area"),
    "by_name": ("nombre + distrito ({key})", "name + district ({key})"),
    "no_place": ("ningún centro poblado llamado {key} en el distrito {district}",
                 "no centro poblado named {key} in district {district}"),
    "same_place": ("ambos extremos son el mismo centro poblado", "both ends are the same centro poblado"),
}


def trip_text(name: str, lang: str = "es", **fields: object) -> str:
    """The text ``name`` in ``lang`` with ``fields`` filled in."""
    return TEXTS[name][check_language(lang)].format(**fields)
