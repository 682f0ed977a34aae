"""Labels of the plan measures and trade-off (issue #18) and of the report's glossary, run
folders and analyst tables (issue #17): part of :data:`siting.report.label_table.TABLE`.
``key -> (es, en)``."""
from __future__ import annotations

PLAN_AND_REPORT_LABELS: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------------ objectives, measures, trade-off (#18)
    "objective": ("Valor de la función objetivo", "Objective value"),
    "group": ("Grupo de población", "Population group"),
    "group.target": ("Población objetivo (jóvenes)", "Target population (youth)"),
    "group.women_target": ("Mujeres de la población objetivo", "Women of the target population"),
    "group.population": ("Población total", "Total population"),
    "group.women": ("Mujeres (todas las edades)", "Women (all ages)"),
    "measure": ("Medida", "Measure"),
    "measure.people": ("Personas", "People"),
    "measure.mean_minutes": ("Minutos promedio", "Mean minutes"),
    "measure.worst_minutes": ("Minutos del peor caso", "Worst-case minutes"),
    "measure.gini": ("Gini de los minutos", "Gini of minutes"),
    "measure.no_access": ("Personas sin acceso", "People without access"),
    "measure.beyond": ("Personas a más del umbral", "People beyond the threshold"),
    "measure.newly_within": ("Personas nuevas dentro del umbral", "People newly within the threshold"),
    "before": ("Antes", "Before"),
    "after": ("Después", "After"),
    "change": ("Cambio", "Change"),
    "people": ("Personas", "People"),
    "beyond_before": ("A más del umbral antes", "Beyond the threshold before"),
    "beyond_after": ("A más del umbral después", "Beyond the threshold after"),
    "key": ("Clave del escenario", "Scenario key"),
    "value": ("Valor", "Value"),
    "default": ("Valor por defecto", "Default"),
    "enters": ("Cómo entra en el objetivo", "How it enters the objective"),
    "places_reweighted": ("Lugares con demanda cambiada", "Places with changed demand"),
    "factor_p05": ("Factor de demanda (percentil 5)", "Demand factor (5th percentile)"),
    "factor_p95": ("Factor de demanda (percentil 95)", "Demand factor (95th percentile)"),
    "plan_changed": ("¿Cambió el plan?", "Plan changed?"),
    "sites_changed": ("Sedes cambiadas", "Sites changed"),
    "objective_at_default": ("Objetivo con el valor por defecto", "Objective at the default"),
    "cost": ("Costo en el objetivo", "Cost in the objective"),
    "why": ("Por qué", "Why"),
    "point": ("Punto", "Point"),
    "epsilon": ("Límite epsilon (personas a más de T2)", "Epsilon limit (people beyond T2)"),
    "newly_covered": ("Personas nuevas dentro de T", "People newly within T"),
    "beyond": ("Personas a más de T2 (después)", "People beyond T2 (after)"),
    "sites": ("Sedes (códigos CCPP)", "Sites (CCPP codes)"),
    "status": ("Estado del solucionador", "Solver status"),
    "coverage_cost": ("Cobertura cedida", "Coverage given up"),
    "fairness_gain": ("Personas traídas dentro de T2", "People brought within T2"),
    "cost_per_person": ("Cobertura cedida por persona (paso)", "Coverage given up per person (step)"),
    "gini_nondominated": ("Gini no dominado", "Gini non-dominated"),
    "sheet.medidas": ("Medidas del plan", "Plan measures"),
    "sheet.medidas_distrito": ("Medidas por distrito", "Measures by district"),
    "sheet.prioridades": ("Prioridades", "Priorities"),
    "sheet.frente_pareto": ("Frente de Pareto", "Pareto front"),
    "report.objective_section": ("Función objetivo, prioridades y medidas del plan",
                                 "Objective, priorities and plan measures"),
    "report.objective_used": ("Función objetivo usada", "Objective used"),
    "report.measures": ("Medidas del plan (cualquiera sea la función objetivo)",
                        "Plan measures (whatever the objective)"),
    "report.priorities": ("Cómo entró cada prioridad", "How each priority entered"),
    "report.pareto_title": ("Cobertura frente a equidad: frente de Pareto", "Coverage against equity: Pareto front"),
    "report.pareto_chart": ("Frente de Pareto cobertura-equidad (método epsilon-restricción)",
                            "Coverage-equity Pareto front (epsilon-constraint method)"),
    "objective.mclp": ("Máxima cobertura", "Maximal covering"),
    "objective.pmedian": ("p-mediana (menos minutos ponderados)", "p-median (least weighted minutes)"),
    "objective.pcenter": ("p-centro (menor peor tiempo)", "p-center (least worst time)"),
    "objective.fair": ("Equidad entre distritos (max-min)", "Fairness between districts (max-min)"),
    # ------------------------------------------------------------------ end of #18 block
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
        "Minutos entre el centro poblado y el CETPRO o centro de extensión más cercano, por carretera y "
        "caminando sobre el relieve (a pie como máximo {walk:g} km/h, más lento en pendiente): el promedio del "
        "viaje de ida y el de vuelta (subir cuesta más que bajar; access.direction). Es una estimación, no un "
        "tiempo medido.",
        "Minutes between the centro poblado and the nearest CETPRO or extension centre, by road and walking over "
        "the terrain (on foot at most {walk:g} km/h, slower on slopes): the mean of the trip there and the trip "
        "back (going up is slower than going down; access.direction). An estimate, not a measured time."),
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
