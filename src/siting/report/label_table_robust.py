"""es/en labels of the robustness outputs (issue #14 item 6): selection frequency, places near
the threshold, near-optimal site sets; merged into :data:`siting.report.label_table.TABLE`."""
from __future__ import annotations

ROBUST_LABELS: dict[str, tuple[str, str]] = {
    "selection_frequency": ("Frecuencia de selección (sorteos de velocidades)",
                            "Selection frequency (speed draws)"),
    "near_threshold": ("Cerca del umbral", "Near the threshold"),
    "set": ("Conjunto", "Set"),
    "covered_weight": ("Demanda cubierta (ponderada)", "Covered demand (weighted)"),
    "gap_to_optimum": ("Distancia al óptimo", "Gap to the optimum"),
    "changed_sites": ("Sedes distintas del óptimo", "Sites other than the optimum's"),
    "ccpp_ids": ("Códigos CCPP", "Populated place codes"),
    "names": ("Nombres", "Names"),
    "report.near_optimal_table": ("Conjuntos de sedes casi óptimos", "Near-optimal site sets"),
    "robust.frequency": ("Frecuencia de selección en {n} sorteos de velocidades por tipo de vía y factor de "
                         "desvío (intervalos calibrados): {items}.",
                         "Selection frequency over {n} draws of road speeds per class and detour factor "
                         "(calibrated intervals): {items}."),
    "robust.frequency_jitter": ("Frecuencia de selección en {n} sorteos de un factor global de velocidad "
                                "(±{j}): {items}.",
                                "Selection frequency over {n} draws of one global speed factor (±{j}): {items}."),
    "robust.near_optimal": ("{n} conjuntos dentro del {g} del óptimo{capped}: todos comparten {shared}.",
                            "{n} site sets within {g} of the optimum{capped}: all share {shared}."),
    "robust.near_optimal_none": ("{n} conjuntos dentro del {g} del óptimo{capped}: no hay una sede que "
                                 "compartan todos.",
                                 "{n} site sets within {g} of the optimum{capped}: no site is shared by all."),
    "robust.capped": (" (al menos; lista limitada a {m})", " (at least; list capped at {m})"),
    "robust.capped_time": (" (al menos; la enumeración llegó al límite de {s:g} s)",
                           " (at least; the enumeration reached its {s:g}-s limit)"),
    "robust.near_threshold": ("{n:,} centros poblados ({p:,.0f} personas) están a menos de {d:.0f} min del umbral "
                              "de {T:.0f} min: su lado del umbral es incierto (columna near_threshold de places.csv).",
                              "{n:,} populated places ({p:,.0f} people) are within {d:.0f} min of the {T:.0f}-min "
                              "threshold: their side of it is uncertain (column near_threshold of places.csv)."),
    "robust.catchment": ("Regla de población por área de atención: {n} candidatos admitidos con menos de {m} "
                         "habitantes propios.",
                         "Catchment population rule: {n} candidates admitted with fewer than {m} own inhabitants."),
}
