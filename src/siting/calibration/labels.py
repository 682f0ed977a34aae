"""Texts of ``siting validate-times`` and ``siting calibrate`` (key -> (es, en)); Spanish by default."""
from __future__ import annotations

from ..i18n import check_language

_TEXT: dict[str, tuple[str, str]] = {
    "rows": ("Viajes observados: {n} filas, {matched} con ambos extremos en centros poblados del área, "
             "{used} acordes con las vías actuales",
             "Observed trips: {n} rows, {matched} with both ends matched to centros poblados of the area, "
             "{used} fitting today's roads"),
    "unmatched": ("{n} filas sin emparejar (listadas en {file})", "{n} rows unmatched (listed in {file})"),
    "figures": ("{what}: mediana modelado/observado = {ratio:.2f}; mediana |log(razón)| = {err:.3f} ({n} viajes)",
                "{what}: median modelled/observed = {ratio:.2f}; median |log ratio| = {err:.3f} ({n} trips)"),
    "current": ("Viajes acordes con las vías actuales", "Trips fitting today's roads"),
    "all": ("Todos los viajes emparejados", "All matched trips"),
    "written": ("Escrito: {file}", "Written: {file}"),
    "unreachable": ("{n} viajes sin ruta en el grafo (minutos infinitos)", "{n} trips with no path in the graph"),
    "iteration": ("Iteración {i}: mediana |log(razón)| = {err:.3f} ({n} viajes)",
                  "Iteration {i}: median |log ratio| = {err:.3f} ({n} trips)"),
    "cv": ("Validación cruzada ({k} grupos por par origen-destino): mediana |log(razón)| {before:.3f} -> {after:.3f}",
           "Cross-validation ({k} folds grouped by origin-destination pair): median |log ratio| "
           "{before:.3f} -> {after:.3f}"),
    "title": ("Calibración de las velocidades con viajes observados", "Calibration of speeds with observed trips"),
    "param": ("Parámetro", "Parameter"),
    "before": ("Antes", "Before"),
    "after": ("Después", "After"),
    "interval": ("Intervalo 95 %", "95 % interval"),
    "informed": ("¿Informado por los viajes?", "Informed by the trips?"),
    "yes": ("sí", "yes"),
    "no": ("no (se deja su valor)", "no (left at its value)"),
    "km": ("km en las rutas", "km on the paths"),
    "far_off": ("Viajes aún lejos del modelo (|log(razón)| > {lim:.2f})",
                "Trips still far off (|log ratio| > {lim:.2f})"),
    "excluded": ("Viajes excluidos del ajuste", "Trips excluded from the fit"),
    "method": ("Método", "Method"),
    "none": ("ninguno", "none"),
    "scenario_written": ("Escenario calibrado: {file}", "Calibrated scenario: {file}"),
}


def text(key: str, lang: str = "es", **fields: object) -> str:
    """The text ``key`` in ``lang`` (``es`` or ``en``) with ``fields`` filled in."""
    i = check_language(lang)
    return _TEXT[key][i].format(**fields)
