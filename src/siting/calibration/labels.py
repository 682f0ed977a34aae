"""Texts of ``siting validate-times`` and ``siting calibrate`` (key -> (es, en)); Spanish by default."""
from __future__ import annotations

import numpy as np

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
    "cv": ("Validación cruzada ({k} grupos por par origen-destino, {reps} repeticiones): mediana |log(razón)| "
           "de los viajes apartados {before:.3f} -> {after:.3f}",
           "Cross-validation ({k} folds grouped by origin-destination pair, {reps} repetitions): median |log ratio| "
           "of the held-out trips {before:.3f} -> {after:.3f}"),
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
    "why_walk": ("{min:.0f} min a pie en la ruta (lejos de las vías del modelo)",
                 "{min:.0f} min of walking on the path (far from the model's roads)"),
    "why_approx": ("ruta casi toda en tramos reconstruidos rectos (aproximados)",
                   "path almost all on rebuilt straight (approximate) segments"),
    "why_told": ("el tiempo observado es una estimación contada, no medida",
                 "the observed time is an estimate told to the traveller, not measured"),
    "why_stops": ("el tiempo observado incluye paradas", "the observed time includes stops"),
    "why_slower": ("el modelo es más lento: rodeo o tramos a pie del grafo más largos que la vía real",
                   "the model is slower: detour or walking legs longer than the real road"),
    "why_faster": ("el modelo es más rápido: vía real más sinuosa o en peor estado que la del modelo",
                   "the model is faster: the real road is more winding or in worse condition"),
    "md_intro": ("Escenario: `{scenario}`. Viajes: `{trips}` ({n} filas; {matched} con ambos extremos emparejados; "
                 "{used} usados en el ajuste).",
                 "Scenario: `{scenario}`. Trips: `{trips}` ({n} rows; {matched} with both ends matched; {used} used "
                 "in the fit)."),
    "md_insample": ("Viajes del ajuste, con las rutas recalculadas: mediana modelado/observado {rb:.2f} -> {ra:.2f}; "
                    "mediana |log(razón)| {eb:.3f} -> {ea:.3f} (en la muestra).",
                    "Trips of the fit, re-routed: median modelled/observed {rb:.2f} -> {ra:.2f}; median |log ratio| "
                    "{eb:.3f} -> {ea:.3f} (in sample)."),
    "md_cv": ("Validación cruzada en {k} grupos (un par origen-destino nunca está a ambos lados; rutas de los "
              "parámetros iniciales; {reps} repeticiones del sorteo de grupos): mediana |log(razón)| de los viajes "
              "apartados {before:.3f} antes -> {after:.3f} después (media de las repeticiones; entre {lo:.3f} y "
              "{hi:.3f}).",
              "Cross-validation in {k} folds (an origin-destination pair is never on both sides; paths of the "
              "initial parameters; {reps} repetitions of the fold draw): median |log ratio| of the held-out trips "
              "{before:.3f} before -> {after:.3f} after (mean of the repetitions; between {lo:.3f} and {hi:.3f})."),
    "md_uninformed": ("Parámetros que ningún viaje informa (ningún viaje pasa al menos {share:.0%} de su tiempo en "
                      "ellos), se dejan en su valor: {names}.",
                      "Parameters no trip informs (no trip spends at least {share:.0%} of its time on them), left at "
                      "their value: {names}."),
    "md_identify": ("Todos los km de {classes} son tramos reconstruidos (aproximados): los viajes solo identifican "
                    "el cociente rodeo / velocidad; cómo se reparte entre ambos lo decide el tirón débil hacia los "
                    "valores iniciales (desviación {sd} en log).",
                    "Every km of {classes} is on rebuilt (approximate) segments: the trips identify only the ratio "
                    "detour / speed; how it is shared between them is decided by the weak pull to the initial values "
                    "(sd {sd} in log)."),
    "md_method": ("Mínimos cuadrados acotados sobre log(tiempo) (scipy.optimize.least_squares), t = 60 Σ (km + d·km "
                  "aprox.)/v + m·minutos a pie, con la composición de cada ruta medida en el grafo; {it} iteraciones "
                  "(reconstruir el grafo con las velocidades ajustadas, recalcular rutas, reajustar). Intervalos: "
                  "bootstrap por pares origen-destino (percentiles 2,5 y 97,5). Multiplicador a pie m: "
                  "walk_kmh_max = walk_kmh_max0 / m.",
                  "Bounded least squares on log(time) (scipy.optimize.least_squares), t = 60 Σ (km + d·approx. km)/v "
                  "+ m·walking minutes, with each path's composition measured on the graph; {it} iterations "
                  "(rebuild the graph with the fitted speeds, re-route, refit). Intervals: bootstrap over "
                  "origin-destination pairs (2.5 and 97.5 percentiles). Walking multiplier m: "
                  "walk_kmh_max = walk_kmh_max0 / m."),
    "scenario_written": ("Escenario calibrado: {file}", "Calibrated scenario: {file}"),
    "distances": ("Distancias por vía observadas (informan el rodeo de cada clase reconstruida)",
                  "Observed road distances (they inform the detour factor of each rebuilt class)"),
    "md_distances": ("{n} viajes dan los km por vía de su recorrido (también los de fecha antigua o cota "
                     "superior de tiempo: la longitud de una vía cambia poco al asfaltarla). Cada clase "
                     "reconstruida con rodeo propio (`detour_<clase>`) se ajusta con ellos (desviación "
                     "{sd:.2f} en log); los km modelados son los de la ruta más rápida con los parámetros "
                     "calibrados, sin los tramos a pie.",
                     "{n} trips give the road km of their route (also those whose time is old or an upper "
                     "bound: a road's length changes little when it is paved). Each rebuilt class with its own "
                     "detour factor (`detour_<class>`) is fitted on them (log sd {sd:.2f}); the modelled km are "
                     "those of the fastest path under the calibrated parameters, walking legs excluded."),
}


#: column -> (es, en) headers of the report's tables (the CSV files keep the column names)
_HEADERS: dict[str, tuple[str, str]] = {
    "parameter": ("parámetro", "parameter"), "unit": ("unidad", "unit"), "before": ("antes", "before"),
    "after": ("después", "after"), "low": ("IC 95 % inferior", "95 % CI low"),
    "high": ("IC 95 % superior", "95 % CI high"), "informed": ("informado", "informed"),
    "km_on_paths": ("km en las rutas (con rodeo)", "km on the paths (with detour)"),
    "row": ("fila", "row"), "origin": ("origen", "origin"), "destination": ("destino", "destination"),
    "observed_min": ("min observados", "observed min"), "modelled_after": ("min modelados", "modelled min"),
    "ratio_after": ("razón", "ratio"), "why": ("por qué", "why"), "road_state": ("estado de la vía", "road state"),
    "reason": ("motivo", "reason"), "observed_km": ("km observados", "observed km"),
    "modelled_km": ("km modelados", "modelled km"),
}


#: values shown in the report's tables -> (es, en)
_VALUES: dict[str, tuple[str, str]] = {
    "current": ("vías actuales", "today's roads"), "before_paving": ("antes del asfaltado", "before paving"),
    "upper_bound": ("cota superior", "upper bound"), "True": ("sí", "yes"), "False": ("no", "no"),
}


def value(v: object, lang: str = "es") -> object:
    """A table value shown in ``lang`` (codes and booleans translated, anything else unchanged)."""
    key = str(v)
    return _VALUES[key][check_language(lang)] if key in _VALUES and isinstance(v, (str, bool, np.bool_)) else v


def headers(columns: list[str], lang: str = "es") -> list[str]:
    """Report headers of ``columns`` in ``lang`` (unknown columns unchanged)."""
    i = check_language(lang)
    return [_HEADERS[c][i] if c in _HEADERS else c for c in columns]


def text(key: str, lang: str = "es", **fields: object) -> str:
    """The text ``key`` in ``lang`` (``es`` or ``en``) with ``fields`` filled in."""
    i = check_language(lang)
    return _TEXT[key][i].format(**fields)
