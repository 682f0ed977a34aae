"""One home for language: the languages of the outputs and the bilingual message catalogue.

This module sits at the bottom of the import graph (it imports nothing from ``siting``), so
the data layer (quality notes), the scenario (``run.language``), the command line
(``--lang``) and the report layer (labels) all use the same list of languages and the
same catalogue, and no lower layer imports from ``siting.report``.

- :data:`LANGUAGES` — ``("es", "en")``; Spanish is the default of every user-facing output.
- :func:`check_language` — validate a language code (``ValueError`` naming the choices).
- :data:`MESSAGES` and :func:`message` / :func:`bilingual` — study-level caveats written by
  the data stage, keyed by a stable name, each with its English and Spanish text
  (``str.format`` fields are filled from keyword arguments).

The report's labels and column headers stay in :mod:`siting.report.labels`, which uses
:data:`LANGUAGES` and :func:`check_language` from here.
"""
from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("es", "en")
DEFAULT_LANGUAGE = "es"


def check_language(lang: str | None) -> int:
    """Position of ``lang`` in :data:`LANGUAGES` (0 = Spanish); ``ValueError`` for another code."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return LANGUAGES.index(lang)


# key -> (English, Spanish).  Caveats of the data stage (siting.data.load_data); every output
# that depends on the missing input repeats them (QualityReport.notes_in).
MESSAGES: dict[str, tuple[str, str]] = {
    "data.no_extension_centres": (
        "No list of existing extension centres (inputs.extension_centres): access is measured to CETPRO "
        "sedes only, so gaps are over-estimated where extension centres already operate.",
        "No se cuenta con la lista de centros de extensión existentes (inputs.extension_centres): "
        "el acceso se mide solo hasta las sedes de CETPRO, por lo que las brechas se sobrestiman donde "
        "ya funcionan centros de extensión."),
    "data.no_tambos": (
        "No Tambo list (inputs.tambos): Tambos are not counted as host premises.",
        "No se cuenta con la lista de Tambos (inputs.tambos): los Tambos no se consideran como "
        "locales anfitriones."),
    "data.no_school_premises": (
        "No school premises layer (inputs.school_premises): host premises cannot be checked.",
        "No se cuenta con la capa de locales escolares (inputs.school_premises): no se pueden "
        "verificar los locales anfitriones."),
    "data.no_roads": (
        "No road network loaded: travel is on foot over terrain only.",
        "No se cargó la red vial: el desplazamiento es solo a pie sobre el terreno."),
    "data.no_dem": (
        "No elevation model loaded (inputs.dem or siting.data.terrain.load_dem missing).",
        "No se cargó el modelo digital de elevación (falta inputs.dem o "
        "siting.data.terrain.load_dem)."),
    "data.outside_area": (
        "{input}: {n_out} of {n} rows lie outside the study area + {km:g} km and are not used{listed}.",
        "{input}: {n_out} de {n} filas están fuera del área de estudio + {km:g} km y no se usan{listed}."),
    "data.ugels_without_cetpro": (
        "{n} UGEL(s) of the study area have no CETPRO in the data (with students or teachers): {ugels}. "
        "Their people can only be served by CETPRO of neighbouring UGELs; if they have CETPRO that are "
        "missing from the school base, their gap is over-estimated.",
        "{n} UGEL del área de estudio no {verb} ningún CETPRO en los datos (con alumnos o docentes): {ugels}. "
        "Su población solo puede ser atendida por CETPRO de UGEL vecinas; si {verb} CETPRO que faltan "
        "en el padrón de instituciones educativas, su brecha está sobrestimada."),
    "data.empty_cetpro": (
        "{n} CETPRO have no students and no teachers in the school base and do not count as serving "
        "(access.empty_cetpro_serve = false): {names}.",
        "{n} CETPRO no tienen alumnos ni docentes en el padrón y no se cuentan como oferta "
        "(access.empty_cetpro_serve = false): {names}."),
    "access.empty_cetpro_effect": (
        "Without the {n} CETPRO that have no students and no teachers, {people} people ({target} aged {group}) "
        "are no longer counted within {threshold} min of a centre.",
        "Sin los {n} CETPRO que no tienen alumnos ni docentes, {people} personas ({target} de {group} años) "
        "dejan de contarse a {threshold} min o menos de un centro."),
    # where the road speeds come from (issue #14 item 5), one note per run
    "speeds.calibrated": (
        "Road speeds and detour factors calibrated on observed trips by siting calibrate ({report}): {values}.",
        "Velocidades de las vías y factores de rodeo calibrados con viajes observados por siting calibrate "
        "({report}): {values}."),
    "speeds.assumed": (
        "Road speeds are assumed values, not calibrated on observed trips ({values}); run siting calibrate "
        "to fit them (docs/calibration/).",
        "Las velocidades de las vías son valores supuestos, no calibrados con viajes observados ({values}); "
        "siting calibrate las ajusta (docs/calibration/)."),
    # route legs (siting.network.routes): the parts of a trip told in words
    "route.walk": ("walk {minutes} min", "camina {minutes} min"),
    "route.road": ("{minutes} min on {road}", "{minutes} min por {road}"),
    "route.then": ("then", "luego"),
    "route.arrive": ("to {destination}", "hasta {destination}"),
    "route.totals": ("{total} in all, {km} km, {climb} m of climb", "{total} en total, {km} km, {climb} m de subida"),
    "route.none": ("no route (unreachable)", "sin ruta (inalcanzable)"),
    "route.class.national_paved": ("the paved national road", "la carretera nacional asfaltada"),
    "route.class.national_unknown": ("the national road (surface unknown)",
                                     "la carretera nacional (superficie desconocida)"),
    "route.class.departmental_paved": ("the paved departmental road", "la carretera departamental asfaltada"),
    "route.class.departmental_unpaved": ("the unpaved departmental road", "la carretera departamental sin asfaltar"),
    "route.class.vecinal": ("the local (vecinal) road", "la vía vecinal"),
    "route.class.trail": ("the trail", "el camino de herradura"),
    "route.class.urban": ("town streets", "calles urbanas"),
    "route.class.other": ("the road ({name})", "la vía ({name})"),
    # national routes refined from what ships (siting.data.roads.national, issue #14 item 1)
    "roads.national_rebuilt": (
        "National routes refined from the shipped data: {n_towns} towns that name a route (bracketed in its "
        "junction names, or district capitals within 4 km) and {n_nodes} route nodes within 300 m were snapped "
        "onto it as vertices, and {n_follow} pieces follow an MTC line that joins the same junctions (with that "
        "line's class); rebuilt length from {km_before:.0f} km to {km_after:.0f} km. {n_unknown} of {n} pieces have "
        "no surface in any shipped layer: class 'national_unknown' (own speed key). Straight pieces stay "
        "approximate (their detour factor applies).",
        "Rutas nacionales mejoradas con los datos incluidos: {n_towns} centros poblados que nombran una ruta "
        "(entre paréntesis en sus empalmes, o capitales de distrito a 4 km o menos) y {n_nodes} nodos de ruta a "
        "300 m o menos se ajustaron sobre ella como vértices, y {n_follow} tramos siguen una línea del MTC que "
        "une los mismos empalmes (con la clase de esa línea); longitud reconstruida de {km_before:.0f} km a "
        "{km_after:.0f} km. {n_unknown} de {n} tramos no tienen superficie en ninguna capa incluida: clase "
        "'national_unknown' (velocidad propia). Los tramos rectos siguen siendo aproximados (se les aplica su "
        "factor de rodeo)."),
}


def message(key: str, lang: str = DEFAULT_LANGUAGE, **fields: object) -> str:
    """The catalogue text ``key`` in ``lang``, with ``fields`` filled in (``KeyError`` if unknown)."""
    i = check_language(lang)
    if key not in MESSAGES:
        raise KeyError(f"no message {key!r}: add it to siting/i18n.py")
    en, es = MESSAGES[key]
    return (es, en)[i].format(**fields)


def bilingual(key: str, **fields: object) -> tuple[str, str]:
    """``(english, spanish)`` texts of ``key`` for :meth:`siting.data.quality.QualityReport.note`."""
    return message(key, "en", **fields), message(key, "es", **fields)
