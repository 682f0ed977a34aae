"""The registry file formats as data: one :class:`Kind` per file, one :class:`Column` per column.

This is the machine-readable form of ``REGISTRY_CONTRACT.md``.  The loaders
(:mod:`siting.data.registry`) validate every row against it and the XLSX templates
(:mod:`siting.report.registry_templates`) are written from it, so the two cannot disagree.
Column names are ASCII snake_case; ``es`` is the Spanish header of the templates, which the
loaders accept as well (and any ``aliases``), compared accent- and case-insensitively.

Value types (``Column.type``):

==========  ====================================================================
``text``    free text (stripped; a leading ``=`` is kept as text, never a formula)
``ccpp``    10-digit INEI centro poblado code (leading zeros restored)
``codmod``  7-digit COD_MOD (leading zeros restored)
``code``    ``codmod``, or a provisional code such as ``NEW-001`` (letters, digits, ``-``)
``count``   a number >= 0 (people, teachers)
``lon``     longitude, EPSG:4326; ``lat`` latitude
``date``    ``YYYY-MM-DD`` (an Excel date cell is accepted)
``period``  ``YYYY`` or ``YYYY-MM``
``choice``  one of ``Column.choices`` (synonyms in :data:`CHOICE_SYNONYMS`)
``list``    values separated by ``;`` (specialties, residence codes)
==========  ====================================================================
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

HOST_TYPES = ("tambo", "municipalidad", "ie", "otro")
STATUSES = ("activo", "cerrado")
GESTIONES = ("publica", "privada")

#: accepted spellings -> canonical choice (keys compared after accent/case folding)
CHOICE_SYNONYMS: dict[str, str] = {
    "TAMBO": "tambo", "TAMBO PAIS": "tambo", "TAMBO (PROGRAMA PAIS)": "tambo",
    "MUNICIPALIDAD": "municipalidad", "MUNICIPAL": "municipalidad", "MUNICIPIO": "municipalidad",
    "LOCAL MUNICIPAL": "municipalidad", "MUNICIPAL HALL": "municipalidad", "MUNICIPALITY": "municipalidad",
    "IE": "ie", "I.E.": "ie", "I.E": "ie", "INSTITUCION EDUCATIVA": "ie", "COLEGIO": "ie", "ESCUELA": "ie",
    "SCHOOL": "ie", "OTRO": "otro", "OTRA": "otro", "OTHER": "otro",
    "ACTIVO": "activo", "ACTIVA": "activo", "ACTIVE": "activo", "EN FUNCIONAMIENTO": "activo",
    "CERRADO": "cerrado", "CERRADA": "cerrado", "CLOSED": "cerrado",
    "PUBLICA": "publica", "PUBLICO": "publica", "PUBLIC": "publica", "ESTATAL": "publica",
    "PRIVADA": "privada", "PRIVADO": "privada", "PRIVATE": "privada", "PARTICULAR": "privada",
}

#: Specialties offered in the data validation list of the templates.  Taken from the real
#: sources shipped with the project: the programme names of CETPRO "Cajamarca"'s agreements
#: register and the programmes of CETPRO Arzobispo Oscar Arnulfo Romero (San Ignacio), see
#: ``data/raw/SOURCES.md``.  Other values are accepted and flagged in the quality report
#: (the national catalogue, CNOF, is not shipped).
SPECIALTIES = (
    "Administración y Comercio", "Agricultura Orgánica y Pecuaria", "Cocina", "Computación e Informática",
    "Construcción Civil", "Electricidad", "Estilismo", "Mecánica Automotriz", "Panificación Industrial",
    "Servicios Sociales y de Salud", "Textil y Confección", "Topografía", "Otra",
)

#: monitoring columns ``enrolled_{women,men}_{group}``; the group is ``<a>_<b>`` or ``<a>_plus``
ENROLLED_PATTERN = re.compile(r"^enrolled_(women|men)_(\d+)_(\d+|plus)$")
ENROLLED_PATTERN_ES = re.compile(r"^matriculad[oa]s_(mujeres|hombres)_(\d+)_(\d+|mas)$")
PROVISIONAL_CODE = re.compile(r"^[A-Z][A-Z0-9]*-[A-Z0-9-]+$")


@dataclass(frozen=True)
class Column:
    """One column of a registry file."""

    name: str  # ASCII snake_case (the contract's name)
    type: str
    es: str  # Spanish header of the template
    help_es: str
    help_en: str
    required: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    example: str = ""  # value of the template's example row

    def headers(self) -> tuple[str, ...]:
        """Every accepted header of this column."""
        return (self.name, self.es, *self.aliases)


@dataclass(frozen=True)
class Kind:
    """One registry file: its scenario key, sheet names and columns."""

    name: str  # also the ``inputs.<name>`` key and the quality-report input name
    sheet_es: str
    sheet_en: str
    title_es: str
    title_en: str
    columns: tuple[Column, ...]
    id_column: str = ""  # unique per row ("" = no uniqueness rule)
    located: bool = False  # needs ``ccpp_id`` or ``lon`` + ``lat``
    extra_examples: tuple[dict[str, str], ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _loc(example_ccpp: str) -> tuple[Column, ...]:
    return (
        Column("ccpp_id", "ccpp", "codigo_ccpp", "Código INEI del centro poblado (10 dígitos). Obligatorio si no hay "
               "lon y lat.", "INEI code of the centro poblado (10 digits). Required unless lon and lat are given.",
               aliases=("CCPP_ID", "CODCCPP", "codigo_centro_poblado", "CODCPSIG_INEI"), example=example_ccpp),
        Column("lon", "lon", "longitud", "Longitud en grados decimales (WGS 84), p. ej. -78.52. Opcional si hay "
               "código de centro poblado.", "Longitude in decimal degrees (WGS 84), e.g. -78.52. Optional when "
               "the centro poblado code is given.", aliases=("LONGITUD", "longitude", "X", "X_LONGITUD")),
        Column("lat", "lat", "latitud", "Latitud en grados decimales (WGS 84), p. ej. -7.16.",
               "Latitude in decimal degrees (WGS 84), e.g. -7.16.", aliases=("LATITUD", "latitude", "Y", "Y_LATITUD")),
    )


_SPEC_HELP = ("Especialidades separadas por «;» (lista en la hoja «listas»).",
              "Specialties separated by ';' (list on the 'lists' sheet).")
_NOTE = Column("note", "text", "nota", "Observación libre.", "Free remark.", aliases=("observacion", "comentario"))

EXTENSION_CENTRES = Kind(
    "extension_centres", "centros_extension", "extension_centres",
    "Centros de extensión existentes", "Existing extension centres",
    (
        Column("facility_id", "text", "codigo_centro", "Código único del centro de extensión (el que usa la UGEL; "
               "si se deja vacío se numera EXT-001…).", "Unique code of the extension centre (the UGEL's; empty = "
               "numbered EXT-001…).", aliases=("codigo", "id"), example="EJEMPLO-CE-01"),
        Column("name", "text", "nombre", "Nombre del centro de extensión.", "Name of the extension centre.",
               required=True, aliases=("NOMBRE_CE",), example="EJEMPLO Centro de extensión (borrar esta fila)"),
        Column("parent_cod_mod", "codmod", "cod_mod_sede", "Código modular (7 dígitos) del CETPRO sede que lo "
               "atiende.", "Modular code (7 digits) of the parent CETPRO that runs it.", required=True,
               aliases=("COD_MOD_SEDE", "COD_MOD_CETPRO", "COD_MOD", "codigo_modular_sede"), example="0522599"),
        *_loc("0601010058"),
        Column("opening_date", "date", "fecha_apertura", "Fecha de inicio de funcionamiento (AAAA-MM-DD).",
               "Opening date (YYYY-MM-DD).", aliases=("fecha_inicio",), example="2024-04-01"),
        Column("specialties", "list", "especialidades", *_SPEC_HELP, example="Cocina; Estilismo"),
        Column("host_type", "choice", "tipo_local", "Tipo de local anfitrión: tambo, municipalidad, ie u otro.",
               "Host premises type: tambo, municipalidad, ie or otro.", choices=HOST_TYPES,
               aliases=("tipo_local_anfitrion",), example="tambo"),
        Column("resolution", "text", "resolucion", "N.° de resolución directoral de la UGEL que lo autoriza.",
               "Number of the UGEL's directoral resolution that authorises it.",
               aliases=("resolucion_directoral", "RD"), example="RD N.° 0000-2024-UGEL (ejemplo)"),
        Column("status", "choice", "estado", "activo o cerrado (vacío = activo). Los cerrados no cuentan en el "
               "acceso.", "activo or cerrado (empty = activo). Closed centres do not count for access.",
               choices=STATUSES, example="activo"),
        _NOTE,
    ),
    id_column="facility_id", located=True,
)

PETITIONS = Kind(
    "petitions", "petitorios", "petitions", "Petitorios de las comunidades", "Community petitions",
    (
        Column("ccpp_id", "ccpp", "codigo_ccpp", "Código INEI del centro poblado que pide el servicio (10 dígitos).",
               "INEI code of the centro poblado that asks for the service (10 digits).", required=True,
               aliases=("CCPP_ID", "CODCCPP"), example="0601010058"),
        Column("date", "date", "fecha", "Fecha del petitorio o acta (AAAA-MM-DD).",
               "Date of the petition or minutes (YYYY-MM-DD).", example="2025-03-15"),
        Column("organisation", "text", "organizacion", "Organización o autoridad que lo presenta.",
               "Organisation or authority that filed it.", aliases=("organization", "organizacion_solicitante"),
               example="EJEMPLO Comunidad campesina (borrar esta fila)"),
        Column("interested_women", "count", "interesadas_mujeres", "Número de mujeres interesadas.",
               "Number of interested women.", example="18"),
        Column("interested_men", "count", "interesados_hombres", "Número de hombres interesados.",
               "Number of interested men.", example="9"),
        Column("interested_15_29", "count", "interesados_15_29", "De ellos, cuántos tienen 15 a 29 años.",
               "Of them, how many are 15 to 29 years old.", example="20"),
        Column("specialties", "list", "especialidades", *_SPEC_HELP, example="Cocina"),
        _NOTE,
    ),
)

HOST_PREMISES = Kind(
    "host_premises", "locales_anfitriones", "host_premises", "Tambos y otros locales anfitriones",
    "Tambos and other host premises",
    (
        Column("premises_id", "text", "codigo_local", "Código único del local (p. ej. código de plataforma del "
               "Tambo).", "Unique code of the premises (e.g. the Tambo's platform code).", required=True,
               aliases=("CODIGO_PLATAFORMA", "codigo"), example="EJEMPLO-T-01"),
        Column("name", "text", "nombre", "Nombre del local.", "Name of the premises.", required=True,
               aliases=("TAMBO",), example="EJEMPLO Tambo (borrar esta fila)"),
        Column("kind", "choice", "tipo", "tambo, municipalidad, ie u otro.", "tambo, municipalidad, ie or otro.",
               required=True, choices=HOST_TYPES, example="tambo"),
        *_loc("0601010058"),
        _NOTE,
    ),
    id_column="premises_id", located=True,
)

ADDITIONAL_CETPRO = Kind(
    "additional_cetpro", "cetpro_adicionales", "additional_cetpro", "CETPRO que faltan en el padrón",
    "CETPRO missing from the school base",
    (
        Column("cod_mod", "code", "cod_mod", "Código modular (7 dígitos) o un código provisional como NEW-001.",
               "Modular code (7 digits) or a provisional code such as NEW-001.", required=True,
               aliases=("COD_MOD", "codigo_modular"), example="EJEMPLO-001"),
        Column("name", "text", "nombre", "Nombre del CETPRO.", "Name of the CETPRO.", required=True,
               aliases=("NOMBRE_CETPRO", "NOMBRE_IE", "CEN_EDU"), example="EJEMPLO CETPRO (borrar esta fila)"),
        Column("gestion", "choice", "gestion", "publica o privada.", "publica (public) or privada (private).",
               choices=GESTIONES, aliases=("GESTION",), example="privada"),
        *_loc("0601010001"),
        Column("enrolment", "count", "matricula", "Estudiantes matriculados (vacío = desconocido).",
               "Enrolled students (empty = unknown).", aliases=("TOTAL_ALUMNOS", "MATRICULA"), example="120"),
        Column("teachers", "count", "docentes", "Docentes (vacío = desconocido).", "Teachers (empty = unknown).",
               aliases=("TDOCENTE", "DOCENTES"), example="6"),
        Column("max_extensions", "count", "max_extensiones", "Centros de extensión que puede atender como máximo "
               "(vacío = valor del escenario).", "Maximum extension centres it can run (empty = the scenario's).",
               aliases=("MAX_EXTENSIONES",), example="2"),
        Column("ugel", "text", "ugel", "UGEL (se verifica con el distrito del punto).",
               "UGEL (checked against the point's district).", aliases=("UGEL",), example="UGEL CAJAMARCA"),
        _NOTE,
    ),
    id_column="cod_mod", located=True,
)

CANDIDATE_EXCLUSIONS = Kind(
    "candidate_exclusions", "exclusiones", "exclusions", "Lugares excluidos como candidatos",
    "Places excluded as candidates",
    (
        Column("ccpp_id", "ccpp", "codigo_ccpp", "Código INEI del centro poblado que no debe proponerse.",
               "INEI code of the centro poblado that must not be proposed.", required=True,
               aliases=("CCPP_ID", "CODCCPP"), example="0601010058"),
        Column("reason", "text", "motivo", "Motivo (se muestra en la lista de excluidos).",
               "Reason (shown in the list of excluded places).", required=True,
               example="EJEMPLO ya atendido por un programa municipal (borrar esta fila)"),
    ),
    id_column="ccpp_id",
)

_GROUPS = (("women", "mujeres", "15_29", "mujeres de 15 a 29 años", "women aged 15-29", "12"),
           ("men", "hombres", "15_29", "hombres de 15 a 29 años", "men aged 15-29", "5"),
           ("women", "mujeres", "30_plus", "mujeres de 30 años o más", "women aged 30 or more", "8"),
           ("men", "hombres", "30_plus", "hombres de 30 años o más", "men aged 30 or more", "3"))

MONITORING = Kind(
    "monitoring", "monitoreo", "monitoring", "Monitoreo por centro y periodo", "Monitoring per centre and period",
    (
        Column("centre_id", "text", "codigo_centro", "Código del centro de extensión (codigo_centro) o código "
               "modular del CETPRO.", "The extension centre's code (facility_id) or the CETPRO's modular code.",
               required=True, aliases=("facility_id", "cod_mod"), example="EJEMPLO-CE-01"),
        Column("period", "period", "periodo", "Año (AAAA) o mes (AAAA-MM) del registro.",
               "Year (YYYY) or month (YYYY-MM) of the record.", required=True, example="2025"),
        *(Column(f"enrolled_{sex}_{g}", "count", f"matriculados_{sx}_{g.replace('plus', 'mas')}",
                 f"Matriculados: {es}.", f"Enrolled: {en}.", example=ex) for sex, sx, g, es, en, ex in _GROUPS),
        Column("enrolled_total", "count", "matriculados_total", "Total de matriculados (vacío = suma de los "
               "grupos).", "Total enrolled (empty = sum of the groups).", example="28"),
        Column("retained", "count", "permanecen", "Matriculados que siguen asistiendo al cierre del periodo.",
               "Enrolled people still attending at the end of the period.", example="24"),
        Column("completed", "count", "culminaron", "Culminaron el módulo o programa.",
               "Completed the module or programme.", example="20"),
        Column("certified", "count", "certificados", "Recibieron certificado.", "Received a certificate.",
               example="18"),
        Column("placed_in_work", "count", "insertados_laboral", "Con empleo o emprendimiento tras el programa.",
               "In work or self-employment after the programme.", aliases=("insercion_laboral",), example="7"),
        Column("teachers", "count", "docentes", "Docentes que atendieron el centro en el periodo.",
               "Teachers who served the centre in the period.", example="2"),
        Column("enrolled_living_ccpp_ids", "list", "ccpp_residencia_matriculados",
               "Códigos de centro poblado donde viven los matriculados, uno por persona, separados por «;» "
               "(opcional).", "Centro poblado codes where the enrolled people live, one per person, separated "
               "by ';' (optional).", example="0601010058; 0601010058; 0601010001"),
    ),
)

KINDS: dict[str, Kind] = {k.name: k for k in (EXTENSION_CENTRES, PETITIONS, HOST_PREMISES, ADDITIONAL_CETPRO,
                                              CANDIDATE_EXCLUSIONS, MONITORING)}
