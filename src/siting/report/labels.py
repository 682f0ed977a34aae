"""The ONE es/en translation table for every user-facing label and column header.

Stages name their columns in English ``snake_case``; the report layer applies the
headers below at export time.  ``t(key, lang)`` returns one label, ``headers(df, lang)``
renames a table's columns.  A missing key raises :class:`KeyError` naming the key, so a
test can walk every column the exports use.

Age-group columns are generated from the scenario (``pop_15_29``, ``women_15_64``, ...):
they are translated by pattern (``pop_<a>_<b>`` -> "Población <a>-<b> años").
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import pandas as pd

from ..i18n import LANGUAGES, check_language

LANGS = LANGUAGES

# key -> (es, en)
_TABLE: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------------ columns: places
    "ccpp_id": ("Código CCPP", "Populated place code"),
    "name": ("Nombre", "Name"),
    "ubigeo": ("Ubigeo", "Ubigeo"),
    "department_code": ("Código de departamento", "Department code"),
    "province_code": ("Código de provincia", "Province code"),
    "department": ("Departamento", "Department"),
    "district": ("Distrito", "District"),
    "province": ("Provincia", "Province"),
    "ugel": ("UGEL", "UGEL"),
    "area": ("Área", "Area"),
    "altitude_m": ("Altitud (m s. n. m.)", "Altitude (m a.s.l.)"),
    "population_census": ("Población censada 2017", "Census population 2017"),
    "population": ("Población", "Population"),
    "population_estimated": ("Población estimada", "Population estimated"),
    "women": ("Mujeres", "Women"),
    "men": ("Hombres", "Men"),
    "minutes_nearest": ("Minutos al centro más cercano", "Minutes to nearest centre"),
    "nearest_facility": ("Centro más cercano", "Nearest centre"),
    "band": ("Rango de tiempo", "Travel-time band"),
    "geometry": ("geometry", "geometry"),
    # ------------------------------------------------------------------ columns: facilities
    "facility_id": ("Código del centro", "Centre code"),
    "cod_mod": ("Código modular", "Modular code"),
    "codlocal": ("Código de local", "Premises code"),
    "kind": ("Tipo", "Type"),
    "enrolment": ("Matrícula", "Enrolment"),
    "teachers": ("Docentes", "Teachers"),
    "capacity": ("Capacidad", "Capacity"),
    "max_extensions": ("Máx. centros de extensión", "Max. extension centres"),
    "parent_cod_mod": ("Código modular del CETPRO sede", "Parent CETPRO modular code"),
    "tambo_code": ("Código de Tambo", "Tambo code"),
    "ccpp_name": ("Centro poblado", "Populated place"),
    # ------------------------------------------------------------------ columns: roads
    "road_id": ("Código de tramo", "Road segment id"),
    "route_code": ("Código de ruta", "Route code"),
    "road_class": ("Clase de vía", "Road class"),
    "surface": ("Superficie", "Surface"),
    "approximate": ("Trazo aproximado", "Approximate geometry"),
    "source": ("Fuente", "Source"),
    # ------------------------------------------------------------------ columns: proposals
    "rank": ("N.°", "Rank"),
    "parent_name": ("CETPRO sede", "Parent CETPRO"),
    "teacher_minutes": ("Minutos del docente desde la sede", "Teacher minutes from parent"),
    "new_population": ("Población nueva atendida", "Newly reached population"),
    "new_women": ("Mujeres nuevas atendidas", "Newly reached women"),
    "new_target": ("Población objetivo nueva", "Newly reached target population"),
    "nearest_existing": ("Centro existente más cercano", "Nearest existing centre"),
    "minutes_saved": ("Minutos ahorrados", "Minutes saved"),
    "host_premises": ("Local anfitrión", "Host premises"),
    "score": ("Puntaje", "Score"),
    "top_criteria": ("Criterios principales", "Top criteria"),
    # ------------------------------------------------------------------ columns: aggregates
    "unit": ("Unidad", "Unit"),
    "places": ("Centros poblados", "Populated places"),
    "target_population": ("Población objetivo", "Target population"),
    "share_within_30": ("% a 30 min o menos", "% within 30 min"),
    "share_within_60": ("% a 60 min o menos", "% within 60 min"),
    "share_within_120": ("% a 120 min o menos", "% within 120 min"),
    "beyond_60": ("Población a más de 60 min", "Population beyond 60 min"),
    "beyond_120": ("Población a más de 120 min", "Population beyond 120 min"),
    "mean_minutes": ("Minutos promedio (ponderado)", "Mean minutes (weighted)"),
    "gini": ("Índice de Gini del tiempo", "Gini of travel time"),
    "n_sites": ("N.° de sedes nuevas", "Number of new sites"),
    "covered_target": ("Población objetivo cubierta", "Covered target population"),
    "share": ("Proporción", "Share"),
    # ------------------------------------------------------------------ columns: candidates / criteria
    "unserved_target": ("Población objetivo no atendida al alcance", "Unserved target population in reach"),
    "unserved_women_target": ("Mujeres objetivo no atendidas al alcance", "Unserved target women in reach"),
    "time_to_nearest_facility": ("Minutos al centro existente más cercano", "Minutes to nearest existing centre"),
    "minutes_to_nearest": ("Minutos al centro existente más cercano", "Minutes to nearest existing centre"),
    "best_parent_minutes": ("Minutos desde el CETPRO más cercano", "Minutes from the nearest CETPRO"),
    "tambo": ("Tambo cercano", "Tambo nearby"),
    "poverty": ("Pobreza total del distrito (%)", "District total poverty (%)"),
    "hdi": ("IDH del distrito", "District HDI"),
    "road_minutes": ("Minutos a pie hasta la vía", "Walking minutes to the road"),
    "community_request": ("Pedido de la comunidad", "Community request"),
    "host_premises_list": ("Locales anfitriones (más cercano primero)", "Host premises (nearest first)"),
    "share_top_n": ("Frecuencia en el top N (sensibilidad)", "Share of runs in the top N"),
    "rank_median": ("Puesto mediano", "Median rank"),
    "rank_p05": ("Puesto (percentil 5)", "Rank (5th percentile)"),
    "rank_p95": ("Puesto (percentil 95)", "Rank (95th percentile)"),
    "model_prediction": ("Predicción del modelo aprendido", "Learned-model prediction"),
    "reason": ("Motivo de exclusión", "Reason for exclusion"),
    "reason_detail": ("Detalle del motivo", "Reason detail"),
    "places_unserved": ("Centros poblados no atendidos", "Unserved places"),
    "unserved_population": ("Población no atendida", "Unserved population"),
    "share_unserved_target": ("% de población objetivo no atendida", "% of target population unserved"),
    "criterion": ("Criterio", "Criterion"),
    "feature": ("Variable", "Feature"),
    "importance": ("Importancia por permutación", "Permutation importance"),
    "std": ("Desviación estándar", "Standard deviation"),
    "seats_per_1000_2sfca": ("Vacantes por 1 000 hab. objetivo (2SFCA)", "Seats per 1,000 target people (2SFCA)"),
    "seats_per_1000_e2sfca": ("Vacantes por 1 000 hab. objetivo (E2SFCA)", "Seats per 1,000 target people (E2SFCA)"),
    "catchment_demand": ("Demanda en el área de captación", "Demand in catchment"),
    "supply_ratio_2sfca": ("Vacantes por persona en captación (2SFCA)", "Seats per person in catchment (2SFCA)"),
    "supply_ratio_e2sfca": ("Vacantes por persona en captación (E2SFCA)", "Seats per person in catchment (E2SFCA)"),
    "candidate_id": ("Código CCPP", "Populated place code"),
    "marginal_gain": ("Ganancia marginal (población objetivo)", "Marginal gain (target population)"),
    "new_places": ("Centros poblados nuevos atendidos", "Newly reached places"),
    "new_women_target": ("Mujeres objetivo nuevas atendidas", "Newly reached target women"),
    "nearest_existing_minutes": ("Minutos al centro existente más cercano", "Minutes to nearest existing centre"),
    "parent_status": ("Asignación del CETPRO sede", "Parent assignment"),
    "suitability_rank": ("Puesto de idoneidad", "Suitability rank"),
    "suitability_rank_median": ("Puesto de idoneidad (mediana)", "Suitability rank (median)"),
    "places_newly_within": ("Centros poblados nuevos dentro del umbral", "Places newly within threshold"),
    "places_newly_reachable": ("Centros poblados nuevos con acceso", "Places newly reachable"),
    "mean_minutes_before": ("Minutos promedio antes", "Mean minutes before"),
    "mean_minutes_after": ("Minutos promedio después", "Mean minutes after"),
    "mean_minutes_saved": ("Minutos ahorrados (promedio)", "Mean minutes saved"),
    "mean_minutes_saved_newly": ("Minutos ahorrados por los nuevos atendidos", "Mean minutes saved (newly served)"),
    "weight": ("Peso", "Weight"),
    # ------------------------------------------------------------------ registry (DRE/UGEL)
    "petitions": ("Petitorios", "Petitions"),
    "petition_interested": ("Interesados según petitorios", "Interested people (petitions)"),
    "petition_detail": ("Petitorios (fecha, organización, interesados, especialidades)",
                        "Petitions (date, organisation, interested, specialties)"),
    "gestion": ("Gestión", "Management"),
    "user_added": ("Agregado por el usuario", "Added by the user"),
    # monitoring (siting.monitoring)
    "centre_id": ("Código del centro", "Centre code"),
    "centre_name": ("Centro", "Centre"),
    "centre_kind": ("Tipo de centro", "Centre type"),
    "period": ("Periodo", "Period"),
    "period_year": ("Periodo (año decimal)", "Period (decimal year)"),
    "enrolled_total": ("Matriculados", "Enrolled"),
    "enrolled_women": ("Matriculadas mujeres", "Enrolled women"),
    "enrolled_men": ("Matriculados hombres", "Enrolled men"),
    "enrolled_15_29": ("Matriculados de 15 a 29 años", "Enrolled aged 15-29"),
    "share_women": ("% mujeres", "% women"),
    "share_15_29": ("% de 15 a 29 años", "% aged 15-29"),
    "retained": ("Permanecen", "Retained"),
    "retention": ("Permanencia (% de matriculados)", "Retention (% of enrolled)"),
    "completed": ("Culminaron", "Completed"),
    "completion": ("Culminación (% de matriculados)", "Completion (% of enrolled)"),
    "certified": ("Certificados", "Certified"),
    "certification": ("Certificación (% de matriculados)", "Certification (% of enrolled)"),
    "placed_in_work": ("Insertados en el trabajo", "Placed in work"),
    "placement": ("Inserción laboral (% de matriculados)", "Job placement (% of enrolled)"),
    "enrolled_per_teacher": ("Matriculados por docente", "Enrolled per teacher"),
    "residents_recorded": ("Matriculados con residencia registrada", "Enrolled with recorded residence"),
    "residents_within": ("Viven dentro del umbral de tiempo", "Live within the time threshold"),
    "residents_beyond": ("Viven más allá del umbral de tiempo", "Live beyond the time threshold"),
    "residents_unknown": ("Residencia fuera del área o desconocida", "Residence outside the area or unknown"),
    "share_within": ("% que vive dentro del umbral", "% living within the threshold"),
    "n_periods": ("N.° de periodos", "Number of periods"),
    "first_period": ("Primer periodo", "First period"),
    "last_period": ("Último periodo", "Last period"),
    "enrolled_first": ("Matriculados (primer periodo)", "Enrolled (first period)"),
    "enrolled_last": ("Matriculados (último periodo)", "Enrolled (last period)"),
    "enrolled_change": ("Cambio de matrícula", "Change in enrolment"),
    "retention_first": ("Permanencia (primer periodo)", "Retention (first period)"),
    "retention_last": ("Permanencia (último periodo)", "Retention (last period)"),
    "retention_change": ("Cambio de permanencia", "Change in retention"),
    "enrolment_slope_per_year": ("Tendencia de matrícula (por año)", "Enrolment trend (per year)"),
    "min_retention": ("Permanencia mínima", "Minimum retention"),
    "place_name": ("Centro poblado", "Populated place"),
    "opening_date": ("Fecha de apertura", "Opening date"),
    "candidates_in_ugel": ("Candidatos en la UGEL", "Candidates in the UGEL"),
    "rank_in_ugel": ("Puesto en la UGEL", "Rank in the UGEL"),
    "rank_percentile": ("Percentil del puesto (100 = primero)", "Rank percentile (100 = first)"),
    "excluded_reason": ("Motivo por el que no era candidato", "Why it was not a candidate"),
    "mon.title": ("Monitoreo de los centros de extensión y CETPRO", "Monitoring of extension centres and CETPRO"),
    "mon.indicators": ("Indicadores por centro y periodo", "Indicators per centre and period"),
    "mon.trends": ("Tendencias", "Trends"),
    "mon.low_retention": ("Centros con permanencia menor a {x}", "Centres with retention below {x}"),
    "mon.none_low": ("Ningún centro bajo la permanencia mínima.", "No centre below the minimum retention."),
    "mon.charts": ("Matrícula (barras) y permanencia (línea) por centro",
                   "Enrolment (bars) and retention (line) per centre"),
    "mon.threshold": ("Umbral de tiempo de viaje: {x} min", "Travel-time threshold: {x} min"),
    "mon.no_ugel": ("Centros sin UGEL conocida", "Centres without a known UGEL"),
    "mon.centres": ("Centros monitoreados", "Monitored centres"),
    "mon.records": ("Registros (centro y periodo)", "Records (centre and period)"),
    "mon.enrolled_last": ("Matriculados en el último periodo", "Enrolled in the last period"),
    "mon.below": ("Centros bajo la permanencia mínima", "Centres below the minimum retention"),
    # ------------------------------------------------------------------ validation flags
    "flag.outside_dem": ("fuera del modelo de elevación", "outside the elevation model"),
    "flag.on_impassable_cell": ("en celda intransitable", "on an impassable cell"),
    "flag.far_from_road": ("lejos de toda vía", "far from any road"),
    "flag.small_road_component": ("en tramo vial aislado", "on an isolated road fragment"),
    "flag.road_distance_m": ("distancia a la vía (m)", "distance to road (m)"),
    "flag.road_component_nodes": ("tamaño del tramo vial (nodos)", "road component size (nodes)"),
    # ------------------------------------------------------------------ outputs for planners' tools
    # (siting.report.exports / values / qgis: sheet names, Léame sheet, values, GIS layers)
    "sheet.readme": ("Léame", "Read me"),
    "sheet.resumen_ugel": ("Resumen por UGEL", "Summary by UGEL"),
    "sheet.places": ("Centros poblados", "Populated places"),
    "sheet.access_by_district": ("Acceso por distrito", "Access by district"),
    "sheet.access_by_province": ("Acceso por provincia", "Access by province"),
    "sheet.access_by_ugel": ("Acceso por UGEL", "Access by UGEL"),
    "sheet.access_total": ("Acceso en total", "Access in total"),
    "sheet.districts_ranked_unserved": ("Distritos por brecha", "Districts by gap"),
    "sheet.cetpro_supply": ("Oferta de los CETPRO", "CETPRO supply"),
    "sheet.candidatos": ("Candidatos", "Candidates"),
    "sheet.monitoring_indicators": ("Indicadores", "Indicators"),
    "sheet.monitoring_trends": ("Tendencias", "Trends"),
    "sheet.monitoring_low_retention": ("Baja permanencia", "Low retention"),
    "sheet.backtest": ("Contraste", "Backtest"),
    "sheet.candidates": ("Candidatos", "Candidates"),
    "sheet.excluidos": ("Excluidos", "Excluded places"),
    "sheet.excluded_places": ("Excluidos", "Excluded places"),
    "sheet.pesos": ("Pesos", "Weights"),
    "sheet.weights": ("Pesos", "Weights"),
    "sheet.importancias_modelo": ("Importancia de variables", "Feature importance"),
    "sheet.propuestas": ("Propuestas", "Proposals"),
    "sheet.proposals": ("Propuestas", "Proposals"),
    "sheet.curva_cobertura": ("Curva de cobertura", "Coverage curve"),
    "sheet.coverage_curve": ("Curva de cobertura", "Coverage curve"),
    "sheet.antes_despues": ("Antes y después", "Before and after"),
    "sheet.before_after": ("Antes y después", "Before and after"),
    "sheet.quality_report": ("Calidad de datos", "Data quality"),
    "readme.title": ("Léame: qué contiene este libro y cómo leerlo",
                     "Read me: what this workbook holds and how to read it"),
    "readme.item": ("Dato", "Item"),
    "readme.value": ("Valor", "Value"),
    "readme.workbook": ("Libro", "Workbook"),
    "readme.run": ("Corrida", "Run"),
    "readme.date": ("Fecha", "Date"),
    "readme.scenario": ("Escenario", "Scenario"),
    "readme.scenario_copy": ("{name}; la copia resuelta es scenario.toml en esta carpeta "
                             "(siting run --scenario scenario.toml repite la corrida)",
                             "{name}; the resolved copy is scenario.toml in this folder "
                             "(siting run --scenario scenario.toml replays the run)"),
    "readme.study_area": ("Ámbito", "Study area"),
    "readme.reason": ("Motivo del ámbito", "Why this study area"),
    "readme.target_group": ("Población objetivo", "Target population"),
    "readme.target_years": ("{a} a {b} años", "{a} to {b} years"),
    "readme.thresholds": ("Umbrales de tiempo", "Travel-time thresholds"),
    "readme.main_threshold": ("Umbral de «atendido»", "\"Served\" threshold"),
    "readme.language": ("Idioma", "Language"),
    "readme.version": ("Versión de siting", "siting version"),
    "readme.sheets": ("Hojas", "Sheets"),
    "readme.rows": ("{n} filas", "{n} rows"),
    "readme.figures": ("Cifras", "Figures"),
    "readme.figures_text": (
        "Valores redondeados para la lectura: personas sin decimales, porcentajes con un decimal, minutos sin "
        "decimales, puntajes con tres decimales. Los archivos CSV de la misma carpeta conservan la precisión "
        "completa, con los códigos de columna en inglés.",
        "Values rounded for reading: people without decimals, percentages with one decimal, minutes without "
        "decimals, scores with three decimals. The CSV files in the same folder keep full precision, with the "
        "column codes in English."),
    "readme.text_cells": ("Textos", "Text"),
    "readme.text_cells_text": (
        "Los textos de los datos que empiezan con =, +, -, @, tabulación o retorno se guardan como texto, nunca "
        "como fórmula; en los CSV llevan un apóstrofo (') delante.",
        "Text from the data starting with =, +, -, @, tab or carriage return is stored as text, never as a "
        "formula; in the CSV files it carries a leading apostrophe (')."),
    "readme.caveats": ("Advertencias sobre los datos", "Data caveats"),
    "readme.no_caveats": ("Ninguna en esta etapa; vea quality_report.md.",
                          "None at this stage; see quality_report.md."),
    "readme.sources": ("Fuentes", "Sources"),
    "readme.no_access": ("«Sin acceso»: no hay camino hasta ningún centro", "\"No access\": no path to any centre"),
    "status.assigned": ("asignado", "assigned"),
    "status.parents_full": ("los CETPRO cercanos ya no tienen cupo de centros de extensión",
                            "nearby CETPRO have no extension places left"),
    "status.no_parent_within_limit": ("ningún CETPRO dentro del tiempo máximo del docente",
                                      "no CETPRO within the teacher's time limit"),
    "kind.cetpro": ("CETPRO", "CETPRO"),
    "kind.extension": ("centro de extensión", "extension centre"),
    "kind.school_premises": ("local educativo", "school premises"),
    "kind.tambo": ("Tambo", "Tambo"),
    "kind.any": ("cualquier centro", "any centre"),
    "area.urbano": ("urbano", "urban"),
    "area.rural": ("rural", "rural"),
    "unit.total": ("Total", "Total"),
    "min_from": ("Desde (min)", "From (min)"),
    "min_to": ("Hasta (min)", "To (min)"),
    "threshold_min": ("Umbral (min)", "Threshold (min)"),
    "area_km2": ("Superficie (km²)", "Area (km²)"),
    "layer.isochrones": ("Isócronas por umbral de tiempo", "Isochrones by travel-time threshold"),
    "layer.isochrone_bands": ("Rangos de tiempo de viaje (polígonos)", "Travel-time bands (polygons)"),
    "layer.candidates": ("Localidades candidatas", "Candidate places"),
    "layer.excluded": ("Localidades excluidas", "Excluded places"),
    "layerdesc.places": ("Un punto por centro poblado (INEI CPV 2017) con su población estimada, el tiempo de viaje "
                         "estimado al centro más cercano y su rango de tiempo.",
                         "One point per populated place (INEI 2017 census) with its estimated population, the "
                         "estimated travel time to the nearest centre and its travel-time band."),
    "layerdesc.proposals": ("Sedes propuestas en orden de prioridad, con su CETPRO sede y la población nueva atendida.",
                            "Proposed sites in priority order, with their parent CETPRO and the newly reached "
                            "population."),
    "layerdesc.candidates": ("Localidades que pueden recibir un centro de extensión, con su puntaje de idoneidad.",
                             "Places that may host an extension centre, with their suitability score."),
    "layerdesc.excluded": ("Centros poblados excluidos como candidatos, con el motivo.",
                           "Populated places excluded as candidates, with the reason."),
    "layerdesc.districts": ("Límites distritales (INEI 2017) con los indicadores de brecha de acceso del distrito.",
                            "District boundaries (INEI 2017) with the district's access-gap indicators."),
    "layerdesc.ugels": ("UGEL (unión de sus distritos) con los indicadores de brecha de acceso.",
                        "UGELs (union of their districts) with the access-gap indicators."),
    "layerdesc.isochrones": ("Área a cada umbral de tiempo o menos del CETPRO o centro de extensión más cercano, "
                             "trazada sobre las celdas del modelo de elevación.",
                             "Area within each time threshold of the nearest CETPRO or extension centre, drawn on "
                             "the cells of the elevation model."),
    "layerdesc.travel_time": ("Minutos estimados al CETPRO o centro de extensión más cercano por celda.",
                              "Estimated minutes to the nearest CETPRO or extension centre per cell."),
    # quality report
    "input": ("Insumo", "Input"),
    "row_id": ("Fila", "Row"),
    "problem": ("Problema", "Problem"),
    "detail": ("Detalle", "Detail"),
    "action": ("Acción", "Action"),
    # ------------------------------------------------------------------ band values
    "band.<=30": ("≤ 30 min", "≤ 30 min"),
    "band.30-60": ("30–60 min", "30–60 min"),
    "band.60-120": ("60–120 min", "60–120 min"),
    "band.>120": ("> 120 min", "> 120 min"),
    "band.sin acceso": ("Sin acceso", "No access"),
    # ------------------------------------------------------------------ road classes
    "road.national_paved": ("Nacional asfaltada", "National, paved"),
    "road.departmental_paved": ("Departamental asfaltada", "Departmental, paved"),
    "road.departmental_unpaved": ("Departamental sin asfaltar", "Departmental, unpaved"),
    "road.vecinal": ("Vecinal", "Local (vecinal)"),
    "road.trail": ("Camino de herradura", "Trail"),
    "road.urban": ("Calle urbana", "Urban street"),
    "road.approximate": ("trazo aproximado (reconstruido)", "approximate (rebuilt) geometry"),
    # ------------------------------------------------------------------ map layers / UI
    "layer.places": ("Centros poblados por tiempo de viaje", "Populated places by travel time"),
    "layer.cetpro": ("CETPRO (sedes)", "CETPRO (main sites)"),
    "layer.extension": ("Centros de extensión", "Extension centres"),
    "layer.proposals": ("Propuestas de nuevos centros", "Proposed new centres"),
    "layer.tambos": ("Tambos (Programa PAIS)", "Tambos (Programa PAIS)"),
    "layer.premises": ("Locales educativos", "School premises"),
    "layer.roads": ("Vías", "Roads"),
    "layer.travel_time": ("Tiempo de viaje (ráster)", "Travel time (raster)"),
    "layer.districts": ("Límites distritales", "District boundaries"),
    "layer.ugels": ("Límites de UGEL", "UGEL boundaries"),
    "ui.search": ("Buscar centro poblado…", "Search populated place…"),
    "ui.not_found": ("Centro poblado no encontrado", "Populated place not found"),
    "ui.cancel": ("Cancelar", "Cancel"),
    "ui.fullscreen": ("Pantalla completa", "Full screen"),
    "ui.fullscreen_exit": ("Salir de pantalla completa", "Exit full screen"),
    "ui.legend": ("Leyenda", "Legend"),
    "ui.minutes": ("min", "min"),
    "ui.people": ("hab.", "people"),
    "ui.caveats": ("Advertencias sobre los datos", "Data caveats"),
    "ui.size_by_population": ("Tamaño según población", "Size by population"),
    "ui.yes": ("Sí", "Yes"),
    "ui.no": ("No", "No"),
    "ui.none": ("ninguno", "none"),
    "ui.open_map": ("Abrir el mapa interactivo", "Open the interactive map"),
    # ------------------------------------------------------------------ static maps
    "map.travel_time_title": ("Tiempo de viaje al CETPRO o centro de extensión más cercano",
                              "Travel time to the nearest CETPRO or extension centre"),
    "map.proposals_title": ("Propuestas de nuevos centros de extensión",
                            "Proposed new extension centres"),
    "map.minutes_colorbar": ("Minutos de viaje", "Travel minutes"),
    "map.north": ("N", "N"),
    "map.source": ("Fuente", "Source"),
    "map.region": ("Región", "Region"),
    "map.source_note": (
        "Fuentes: INEI CPV 2017 (centros poblados), DRE Cajamarca base 2025 (CETPRO), MTC red vial, "
        "DEM GeoData 30\" (SRTM), límites INEI 2017. Tiempos estimados: vías por clase + caminata "
        "(Tobler) sobre el terreno.",
        "Sources: INEI 2017 census (populated places), DRE Cajamarca 2025 base (CETPRO), MTC road network, "
        "GeoData 30\" DEM (SRTM), INEI 2017 boundaries. Estimated times: roads by class + walking "
        "(Tobler) over terrain."),
    # ------------------------------------------------------------------ html report
    "report.title": ("Dónde abrir nuevos centros de extensión CETPRO", "Where to open new CETPRO extension centres"),
    "report.generated": ("Generado", "Generated"),
    "report.study_area": ("Ámbito", "Study area"),
    "report.key_figures": ("Cifras clave", "Key figures"),
    "report.gaps_ugel": ("Brechas de acceso por UGEL", "Access gaps by UGEL"),
    "report.gaps_district": ("Brechas de acceso por distrito", "Access gaps by district"),
    "report.proposals": ("Propuestas priorizadas", "Ranked proposals"),
    "report.charts": ("Gráficos", "Charts"),
    "report.maps": ("Mapas", "Maps"),
    "report.caveats": ("Advertencias sobre los datos", "Data caveats"),
    "report.no_rows": ("Sin filas.", "No rows."),
    "report.coverage_chart": ("Población objetivo cubierta según el número de sedes nuevas",
                              "Target population covered by number of new sites"),
    "report.band_chart": ("Población por rango de tiempo de viaje", "Population by travel-time band"),
    "report.other_reports": ("Reportes por UGEL", "Reports by UGEL"),
    "report.back_to_region": ("Volver al reporte regional", "Back to the regional report"),
    "fig.total_population": ("Población total", "Total population"),
    "fig.target_population": ("Población objetivo", "Target population"),
    "fig.places": ("Centros poblados", "Populated places"),
    "fig.cetpro": ("CETPRO", "CETPRO"),
    "fig.extension": ("Centros de extensión", "Extension centres"),
    "fig.beyond_60": ("Población a más de 60 min", "Population beyond 60 min"),
    "fig.beyond_120": ("Población a más de 120 min", "Population beyond 120 min"),
    "fig.proposals": ("Sedes propuestas", "Proposed sites"),
    "fig.new_target": ("Población objetivo nueva atendida", "Newly reached target population"),
    "fig.new_women": ("Mujeres nuevas atendidas", "Newly reached women"),
    # ------------------------------------------------------------------ run folders, fewer sites (#17 items 8-11)
    "shortfall.head": ("Se pidieron {asked} sitios y se pudieron ubicar {placed}:",
                       "{asked} sites were asked for and {placed} could be placed:"),
    "shortfall.candidates": (
        "solo hay {n} localidades candidatas (con al menos {min_population} habitantes, un local anfitrión y a "
        "más de {exclude_min:g} min de un CETPRO; las demás figuran con su motivo en excluded_places.csv)",
        "there are only {n} candidate localities (at least {min_population} people, a host premises and more "
        "than {exclude_min:g} min from a CETPRO; the others are listed with their reason in excluded_places.csv)"),
    "shortfall.parents": (
        "cada centro de extensión necesita un CETPRO matriz con docentes a no más de {minutes:g} min de viaje; "
        "CETPRO matriz posibles: {k} ({names}), con capacidad para {bound} centros más en total "
        "(allocation.max_extensions_per_cetpro = {per_cetpro})",
        "each extension centre needs a parent CETPRO with teachers within {minutes:g} min of travel; possible "
        "parents: {k} ({names}), with room for {bound} more centres in all "
        "(allocation.max_extensions_per_cetpro = {per_cetpro})"),
    "shortfall.per_group": (
        "allocation.max_per_ugel = {per_group} en {groups} grupos permite {bound} sitios como máximo",
        "allocation.max_per_ugel = {per_group} over {groups} groups allows at most {bound} sites"),
    "shortfall.budget": (
        "el presupuesto ({budget:g}) a {cost:g} por sitio alcanza para {bound} sitios",
        "the budget ({budget:g}) at {cost:g} per site pays for {bound} sites"),
    "shortfall.no_gain": (
        "ningún otro candidato acerca a más personas del grupo objetivo a {minutes:g} min o menos",
        "no other candidate brings more people of the target group within {minutes:g} min"),
    "shortfall.kept": (
        "La corrida se guardó con los {placed} sitios posibles (código de salida 2: el pedido no se pudo cumplir).",
        "The run was saved with the {placed} possible sites (exit status 2: the request could not be met)."),
    "cli.n_zero": ("--n {n} no pide ningún sitio nuevo: no hay nada que proponer",
                   "--n {n} asks for no new site: there is nothing to propose"),
    "cli.n_zero_hint": ("pida al menos un sitio (--n 1); para ver solo las brechas de acceso use `siting access`",
                        "ask for at least one site (--n 1); for the access gaps alone use `siting access`"),
    "run.refresh_report": (
        "La carpeta {folder} tenía el reporte y los mapas de una corrida anterior: se regeneran con estas "
        "propuestas para que no queden resultados de otra corrida.",
        "The folder {folder} held the report and maps of an earlier run: they are rebuilt with these proposals "
        "so that no result of another run is left beside them."),
    # report: glossary (siting.report.glossary), cards by denominator, print, maps
    "report.glossary": ("Glosario", "Glossary"),
    "report.glossary_intro": ("Qué significa cada término de este reporte, con los valores de esta corrida.",
                              "What each term of this report means, with the values of this run."),
    "gloss.ages": ("{a}–{b} años", "aged {a}–{b}"),
    "gloss.ccpp": ("Centro poblado", "Centro poblado (populated place)"),
    "gloss.ccpp.def": (
        "Localidad registrada por el INEI (censo 2017) con su población y coordenadas; es la unidad de todas las "
        "cifras de población de este reporte.",
        "A locality registered by INEI (2017 census) with its population and coordinates; every population figure "
        "of this report adds up centros poblados."),
    "gloss.target": ("Grupo objetivo ({a}–{b} años)", "Target group (aged {a}–{b})"),
    "gloss.target.def": (
        "Personas de {a} a {b} años, la edad a la que se dirige la oferta técnico-productiva. Se estiman aplicando "
        "a cada centro poblado la estructura por sexo y edad de su distrito (RENIEC).",
        "People aged {a} to {b}, the age the technical-productive offer is aimed at. Estimated by applying the "
        "sex and age structure of each district (RENIEC) to its centros poblados."),
    "gloss.travel_time": ("Tiempo de viaje", "Travel time"),
    "gloss.travel_time.def": (
        "Minutos desde el centro poblado hasta el CETPRO o centro de extensión más cercano, por carretera y "
        "caminando sobre el relieve (a pie como máximo {walk:g} km/h, más lento en pendiente). Es una "
        "estimación, no un tiempo medido.",
        "Minutes from the centro poblado to the nearest CETPRO or extension centre, by road and walking over the "
        "terrain (on foot at most {walk:g} km/h, slower on slopes). An estimate, not a measured time."),
    "gloss.thresholds": ("Umbrales ({thresholds} min)", "Thresholds ({thresholds} min)"),
    "gloss.thresholds.def": (
        "Cortes del tiempo de viaje que forman los rangos de mapas y tablas. «A más de {main:g} min» cuenta a "
        "las personas cuyo tiempo supera {main:g} minutos, incluidas las que no tienen ruta («sin acceso»).",
        "Travel-time cuts that make the bands of maps and tables. \"Beyond {main:g} min\" counts the people "
        "whose time exceeds {main:g} minutes, including those with no route (\"no access\")."),
    "gloss.served": ("Atendida", "Served"),
    "gloss.served.def": (
        "Una persona está atendida cuando vive a {max_minutes:g} minutos o menos de un CETPRO, un centro de "
        "extensión o una sede propuesta. No quiere decir que esté matriculada.",
        "A person is served when living within {max_minutes:g} minutes of a CETPRO, an extension centre or a "
        "proposed site. It does not mean that the person is enrolled."),
    "gloss.new_served": ("Nueva población atendida", "Newly served people"),
    "gloss.new_served.def": (
        "Personas que pasan a estar a {max_minutes:g} min o menos gracias a una sede propuesta y no lo estaban "
        "antes ni por una sede de mejor orden: cada persona se cuenta una sola vez.",
        "People who come within {max_minutes:g} min thanks to a proposed site and were not before, nor thanks "
        "to a site ranked higher: each person is counted once."),
    "gloss.parent": ("CETPRO matriz", "Parent CETPRO"),
    "gloss.parent.def": (
        "CETPRO que abre y administra el centro de extensión y le envía docentes; cada uno puede abrir como "
        "máximo {per_cetpro} centros de extensión nuevos.",
        "The CETPRO that opens and runs the extension centre and sends its teachers; each may open at most "
        "{per_cetpro} new extension centres."),
    "gloss.teacher_limit": ("Límite docente ({teacher:g} min)", "Teacher limit ({teacher:g} min)"),
    "gloss.teacher_limit.def": (
        "Tiempo máximo de viaje de los docentes desde el CETPRO matriz hasta la sede propuesta; una sede sin "
        "CETPRO matriz dentro de ese tiempo no se propone.",
        "The longest travel time of the teachers from the parent CETPRO to the proposed site; a site with no "
        "parent CETPRO within that time is not proposed."),
    "gloss.extension": ("Centro de extensión", "Extension centre"),
    "gloss.extension.def": (
        "Local donde un CETPRO dicta cursos fuera de su sede, por lo general en un local escolar o un Tambo "
        "prestado (local anfitrión).",
        "Premises where a CETPRO teaches away from its seat, usually a lent school building or Tambo (host "
        "premises)."),
    "gloss.score": ("Puntaje de idoneidad (0–1)", "Suitability score (0–1)"),
    "gloss.score.def": (
        "Suma ponderada de criterios normalizados (población objetivo sin atender, pobreza, local anfitrión…); "
        "1 es la mejor candidata. Ordena las candidatas; la elección de sedes maximiza la nueva población "
        "atendida.",
        "Weighted sum of normalised criteria (unserved target group, poverty, host premises...); 1 is the best "
        "candidate. It ranks candidates; the choice of sites maximises the newly served people."),
    "gloss.fca": ("2SFCA (plazas por 1 000)", "2SFCA (seats per 1,000)"),
    "gloss.fca.def": (
        "Accesibilidad de dos pasos con cuenca flotante: cada CETPRO reparte su matrícula (columna {capacity}) "
        "entre las personas de {a}–{b} años a {catchment:g} min o menos, y cada centro poblado suma lo que le "
        "toca de los CETPRO a su alcance; se expresa en plazas por cada 1 000 personas del grupo objetivo.",
        "Two-step floating catchment accessibility: each CETPRO shares its enrolment (column {capacity}) among the "
        "people aged {a}–{b} within {catchment:g} min, and each centro poblado adds its shares of the CETPRO in "
        "reach; shown as seats per 1,000 people of the target group."),
    "gloss.ugel": ("UGEL", "UGEL"),
    "gloss.ugel.def": (
        "Unidad de Gestión Educativa Local: instancia del Ministerio de Educación que administra los servicios "
        "educativos de una o más provincias.",
        "Unidad de Gestión Educativa Local: the local office of the Ministry of Education that runs the "
        "education services of one or more provinces."),
    "fig.group.population": ("Toda la población", "All people"),
    "fig.group.target": ("Grupo objetivo ({ages})", "Target group ({ages})"),
    "fig.group.supply": ("Oferta existente", "Existing supply"),
    "fig.group.plan": ("Sedes propuestas", "Proposed sites"),
    "fig.target_beyond": ("Personas de {ages} a más de {t:g} min", "People {ages} beyond {t:g} min"),
    "fig.target_women": ("Mujeres de {ages}", "Women {ages}"),
    "fig.new_target_ages": ("Personas de {ages} nuevas atendidas", "Newly served people {ages}"),
    "fig.new_women_target": ("Mujeres de {ages} nuevas atendidas", "Newly served women {ages}"),
    "fig.new_population": ("Personas nuevas atendidas (todas las edades)", "Newly served people (all ages)"),
    "fig.not_in_data": ("no figuran en los datos", "not in the data"),
    # the UGEL analyst's tables (siting.report.analyst)
    "schools": ("Instituciones educativas (nivel)", "Schools (level)"),
    "levels": ("Niveles", "Levels"),
    "lon": ("Longitud", "Longitude"),
    "lat": ("Latitud", "Latitude"),
    "host_premises_near": ("Locales anfitriones cercanos", "Host premises nearby"),
    "sheet.ccpp_fuera_umbral": ("CCPP más allá del umbral", "Places beyond threshold"),
    "sheet.locales_escolares": ("Locales escolares", "School premises"),
    "report.beyond_table": ("Centros poblados más allá de los umbrales de tiempo de viaje",
                            "Centros poblados beyond the travel-time thresholds"),
    "report.beyond_note": (
        "Cada centro poblado a más de {first:g} min del CETPRO o centro de extensión más cercano, con el mayor "
        "umbral que supera (los que no tienen ruta superan todos) y los locales anfitriones (locales escolares "
        "con sus instituciones, Tambos) a menos de {metres:g} m. También en {file}.",
        "Every centro poblado more than {first:g} min from the nearest CETPRO or extension centre, with the "
        "largest threshold it exceeds (those with no route exceed them all) and the host premises (school "
        "premises with their schools, Tambos) within {metres:g} m. Also in {file}."),
    "report.premises_table": ("Locales escolares de la UGEL", "School premises of the UGEL"),
    "report.premises_note": ("Locales educativos del MINEDU con las instituciones y niveles de la base de la DRE; "
                             "todos los de la región en school_premises.csv.",
                             "MINEDU school premises with the schools and levels of the DRE base; those of the "
                             "whole region in school_premises.csv."),
    "map.page_title": ("Acceso a la educación técnico-productiva: {area}",
                       "Access to technical-productive education: {area}"),
    "map.caveats_summary": ("Advertencias sobre los datos ({n})", "Data caveats ({n})"),
    "map.full_caveats": ("Texto completo de cada advertencia en el reporte (report.html).",
                         "The full text of every caveat is in the report (report.html)."),
    "run.removed_stale": (
        "Se quitaron {n} archivos de la corrida anterior que este comando no recalcula ({names}): la carpeta "
        "contiene solo esta corrida; `siting run` los vuelve a generar.",
        "Removed {n} file(s) of the earlier run that this command does not recompute ({names}): the folder holds "
        "this run only; `siting run` writes them again."),
}

# age-group columns: pop_15_29, women_15_29, men_15_29 (any <a>_<b>)
_AGE_PATTERN = re.compile(r"^(pop|women|men)_(\d+)_(\d+)$")
_AGE_WORDS = {"pop": ("Población", "Population"), "women": ("Mujeres", "Women"), "men": ("Hombres", "Men")}

BANDS = ("<=30", "30-60", "60-120", ">120", "sin acceso")  # the bands of the default thresholds 30, 60, 120
BAND_COLOURS = {"<=30": "#1a9641", "30-60": "#a6d96a", "60-120": "#fdae61", ">120": "#d7191c",
                "sin acceso": "#5e3c99"}
NO_ACCESS_COLOUR = BAND_COLOURS["sin acceso"]


def band_colours(thresholds: Sequence[float] = (30, 60, 120)) -> dict[str, str]:
    """Colour of every band of ``thresholds``, in band order (``"sin acceso"`` last).

    Three thresholds (four time bands) use the maps' palette green -> red of
    :data:`BAND_COLOURS` by position; any other number samples matplotlib's ``RdYlGn_r``
    at ``i / n_thresholds``.  Every map, chart and legend of a run takes its bands from here.
    """
    from ..access.bands import NO_ACCESS, band_labels
    bands = band_labels(thresholds)[:-1]
    if len(bands) == 4:
        colours = [BAND_COLOURS[b] for b in BANDS[:-1]]
    else:
        import matplotlib
        from matplotlib.colors import to_hex
        cmap = matplotlib.colormaps["RdYlGn_r"]
        colours = [to_hex(cmap(i / max(1, len(bands) - 1))) for i in range(len(bands))]
    return {**dict(zip(bands, colours)), NO_ACCESS: NO_ACCESS_COLOUR}


def _check_lang(lang: str) -> int:
    return check_language(lang)


def t(key: str, lang: str = "es") -> str:
    """The label for ``key`` in ``lang`` ("es" or "en").  Unknown key -> KeyError."""
    i = _check_lang(lang)
    if key in _TABLE:
        return _TABLE[key][i]
    label = _derived(key, i)
    if label is not None:
        return label
    raise KeyError(f"no label for {key!r}: add it to siting/report/labels.py")


# ---------------------------------------------------------------- generated column names
# Stages build column names from parts (measure, threshold, band, facility set, criterion);
# their labels are composed from the same parts so that every column has one.

_MEASURES = {"population": ("Población", "Population"), "women": ("Mujeres", "Women"), "men": ("Hombres", "Men"),
             "target": ("Población objetivo", "Target population"), "places": ("Centros poblados", "Places")}
_SETS = {"cetpro": ("CETPRO", "CETPRO"), "extension": ("centro de extensión", "extension centre"),
         "any": ("cualquier centro", "any centre"), "nearest": ("centro más cercano", "nearest centre")}
_BAND_SLUGS = {"no_access": "sin acceso"}


def _measure(text: str, i: int) -> str | None:
    if text in _MEASURES:
        return _MEASURES[text][i]
    m = _AGE_PATTERN.match(text)
    if m:
        return f"{_AGE_WORDS[m.group(1)][i]} {m.group(2)}-{m.group(3)} {('años', 'years')[i]}"
    return None


def _band_from_slug(slug: str, i: int) -> str | None:
    if slug in _BAND_SLUGS:
        return _TABLE[f"band.{_BAND_SLUGS[slug]}"][i]
    m = re.fullmatch(r"(\d+(?:_\d+)?)_(\d+(?:_\d+)?)", slug)
    if m:
        return f"{m.group(1).replace('_', '.')}–{m.group(2).replace('_', '.')} min"
    m = re.fullmatch(r"over_(\d+(?:_\d+)?)", slug)
    if m:
        return f"> {m.group(1).replace('_', '.')} min"
    return None


_NUM = r"(\d+(?:[._]\d+)?)"


def _threshold_label(key: str, i: int) -> str | None:
    """Labels that name a threshold of the run: band values (``band.<=20``, ``band.20-45``,
    ``band.>90``), report columns ``share_within_T`` / ``beyond_T`` and cards ``fig.beyond_T``."""
    num = r"(\d+(?:\.\d+)?)"
    m = re.fullmatch(rf"band\.(<=|>)?{num}(?:-{num})?", key)
    if m and (m[1] is None) == (m[3] is not None):
        return {"<=": f"≤ {m[2]} min", ">": f"> {m[2]} min"}[m[1]] if m[1] else f"{m[2]}–{m[3]} min"
    m = re.fullmatch(rf"share_within_{_NUM}", key)
    if m:
        t = m[1].replace("_", ".")
        return (f"% a {t} min o menos", f"% within {t} min")[i]
    m = re.fullmatch(rf"(?:fig\.)?beyond_{_NUM}", key)
    if m:
        t = m[1].replace("_", ".")
        return (f"Población a más de {t} min", f"Population beyond {t} min")[i]
    return None


def _derived(key: str, i: int) -> str | None:
    """Label of a generated column name, or None."""
    es = i == 0
    if _AGE_PATTERN.match(key):
        return _measure(key, i)
    by_threshold = _threshold_label(key, i)
    if by_threshold is not None:
        return by_threshold
    rules: list[tuple[str, Callable[..., str | None]]] = [
        (r"share_(.+)_within_(before|after)", lambda m, w: f"% {w(m[1])} " + (
            ("dentro del umbral " + {"before": "antes", "after": "después"}[m[2]]) if es
            else f"within threshold {m[2]}")),
        (r"(.+)_within_(before|after)", lambda m, w: f"{w(m[1])} " + (
            ("dentro del umbral " + {"before": "antes", "after": "después"}[m[2]]) if es
            else f"within threshold {m[2]}")),
        (r"(.+)_newly_within", lambda m, w: f"{w(m[1])} " + (
            "nueva dentro del umbral" if es else "newly within threshold")),
        (r"(.+)_within_change_rel", lambda m, w: f"{w(m[1])}: " + ("cambio relativo dentro del umbral" if es
                                                                    else "relative change within threshold")),
        (r"share_(.+)_within_(\d+)", lambda m, w: f"% {w(m[1])} " + (
            f"a {m[2]} min o menos" if es else f"within {m[2]} min")),
        (r"target_share_within_(\d+)", lambda m, w: f"% {w('target')} " + (
            f"a {m[1]} min o menos" if es else f"within {m[1]} min")),
        (r"(.+)_within_(\d+)", lambda m, w: f"{w(m[1])} " + (f"a {m[2]} min o menos" if es else f"within {m[2]} min")),
        (r"(.+)_beyond_(\d+)", lambda m, w: f"{w(m[1])} " + (f"a más de {m[2]} min" if es else f"beyond {m[2]} min")),
        (r"(.+)_no_access", lambda m, w: f"{w(m[1])} " + ("sin acceso" if es else "without access")),
        (r"(.+)_in_(.+)", lambda m, w: f"{w(m[1])}: {_band_from_slug(m[2], i)}" if _band_from_slug(m[2], i) else None),
        (r"gap_women_men_(?:(\d+_\d+)_)?beyond_(\d+)", lambda m, w: (
            "Brecha mujeres − hombres a más de " if es else "Women − men gap beyond ") + f"{m[2]} min"
            + (f" ({m[1].replace('_', '-')})" if m[1] else "")),
        (r"(mean|median)_minutes_target", lambda m, w: ({"mean": "Minutos promedio", "median": "Minutos mediana"}[m[1]]
                                                       if es else f"{m[1].title()} minutes") + f" ({w('target')})"),
        (r"median_minutes", lambda m, w: "Minutos mediana (ponderada)" if es else "Median minutes (weighted)"),
        (r"gini_minutes(_target)?", lambda m, w: _TABLE["gini"][i] + (f" ({w('target')})" if m[1] else "")),
        (r"minutes_walk_(\w+)", lambda m, w: ("Minutos a pie a " if es else "Walking minutes to ") + _SETS[m[1]][i]
            if m[1] in _SETS else None),
        (r"minutes_(\w+)", lambda m, w: ("Minutos a " if es else "Minutes to ") + _SETS[m[1]][i]
            if m[1] in _SETS else None),
        (r"nearest_set_(\w+)", lambda m, w: "Tipo de centro más cercano" if es else "Type of nearest centre"),
        (r"nearest_(\w+)", lambda m, w: (f"{_SETS[m[1]][i]} más cercano" if es else f"Nearest {_SETS[m[1]][i]}")
            if m[1] in _SETS else None),
        (r"band_(\w+)", lambda m, w: (f"Rango de tiempo ({_SETS[m[1]][i]})" if es
                                      else f"Travel-time band ({_SETS[m[1]][i]})") if m[1] in _SETS else None),
        (r"norm_(\w+)", lambda m, w: (f"{_TABLE[m[1]][i]} (normalizado)" if es else f"{_TABLE[m[1]][i]} (normalised)")
            if m[1] in _TABLE else None),
        (r"contrib_(\w+)", lambda m, w: (f"Aporte: {_TABLE[m[1]][i]}" if es else f"Contribution: {_TABLE[m[1]][i]}")
            if m[1] in _TABLE else None),
        (r"flag_(\w+)", lambda m, w: (f"Alerta: {_TABLE['flag.' + m[1]][i]}" if es
                                      else f"Flag: {_TABLE['flag.' + m[1]][i]}") if 'flag.' + m[1] in _TABLE else None),
        (r"n_(\w+)", lambda m, w: (f"N.° de {_TABLE[m[1]][i].lower()}" if es
                                   else f"Number of {_TABLE[m[1]][i].lower()}") if m[1] in _TABLE else None),
    ]
    for pattern, make in rules:
        m = re.fullmatch(pattern, key)
        if m is None:
            continue
        groups = [m.group(0)] + list(m.groups())

        def word(text: str) -> str:
            got = _measure(text, i)
            if got is None:
                raise LookupError(text)
            return got
        try:
            label = make(groups, word)
        except LookupError:
            continue
        if label is not None:
            return label
    return None


def has_label(key: str) -> bool:
    """True when :func:`t` knows ``key``."""
    return key in _TABLE or _derived(key, 0) is not None


def keys() -> list[str]:
    """Every key of the table (age-group patterns excluded)."""
    return list(_TABLE)


def band_label(band: str, lang: str = "es") -> str:
    """Label of a travel-time band value such as ``"30-60"``."""
    return t(f"band.{band}", lang)


def road_label(road_class: str, lang: str = "es") -> str:
    """Label of a road class; unknown classes are shown as they are."""
    key = f"road.{road_class}"
    return t(key, lang) if key in _TABLE else str(road_class)


def headers(df: pd.DataFrame, lang: str = "es", *, strict: bool = True) -> pd.DataFrame:
    """A copy of ``df`` with its columns renamed to labels in ``lang``.

    ``geometry`` keeps its name (GeoDataFrames need it).  With ``strict`` an unlabelled
    column raises KeyError; otherwise it keeps its snake_case name.
    """
    _check_lang(lang)
    mapping = {}
    for col in df.columns:
        if col == "geometry":
            continue
        if strict or has_label(str(col)):
            mapping[col] = t(str(col), lang)
    renamed = df.rename(columns=mapping)
    dup = renamed.columns[renamed.columns.duplicated()]
    if len(dup):
        same = [c for c in df.columns if mapping.get(c, c) == dup[0]]
        raise KeyError(f"columns {same} get the same label {dup[0]!r}: make their labels distinct in labels.py")
    return renamed

