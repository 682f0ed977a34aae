"""XLSX forms DRE and UGEL staff fill in: one workbook per registry kind (``siting templates``).

Each workbook has three sheets:

1. the **data sheet** (named as :attr:`siting.data.registry_spec.Kind.sheet_es` / ``sheet_en``,
   the sheet the loaders read): the header row, one example row (every text of it starts with
   ``EJEMPLO``/``EXAMPLE``, grey italics; the loaders skip it and say so) and data validation
   on 1,000 rows: lists for UGEL, CETPRO code, specialty, host type, status and gestión; whole
   numbers >= 0 for counts; text format for codes so that leading zeros stay;
2. **instrucciones / instructions**: what the file is for, the scenario key that reads it,
   and one line per column (header, required, meaning, allowed values);
3. **listas / lists**: the values of the validation lists and where they come from.

The lists come from the data of a scenario: the department's UGELs (district table), the
CETPRO of the school base plus ``inputs.additional_cetpro``, and the specialties of
:data:`siting.data.registry_spec.SPECIALTIES`.  Text taken from data files is always
written as text, never as a formula.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..data.registry_spec import GESTIONES, HOST_TYPES, KINDS, SPECIALTIES, STATUSES, Column, Kind
from ..io import atomic_path
from .exports import _normalise_xlsx

ROWS = 1000  # rows of the data sheet with validation
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQUIRED_FILL = PatternFill("solid", fgColor="F8CBAD")
_EXAMPLE_FILL = PatternFill("solid", fgColor="EDEDED")
_FORMULA_START = ("=", "+", "-", "@")

_TEXT = {
    "instructions": ("instrucciones", "instructions"),
    "lists": ("listas", "lists"),
    "title": ("Formato para el registro de la DRE/UGEL: {title}", "Form for the DRE/UGEL registry: {title}"),
    "key": ("Se lee con la clave del escenario: inputs.{key} = \"<ruta de este archivo>\"",
            "Read through the scenario key: inputs.{key} = \"<path of this file>\""),
    "how": ("Llene una fila por registro en la hoja «{sheet}», desde la fila 3. La fila 2 es un EJEMPLO: "
            "puede borrarla o dejarla (no se carga). Las columnas en rojo son obligatorias. Las filas cuya "
            "primera celda empieza con # son comentarios. También puede guardar la hoja como CSV UTF-8 con "
            "los mismos encabezados.",
            "Fill in one row per record on the sheet '{sheet}', from row 3. Row 2 is an EXAMPLE: delete it "
            "or leave it (it is not loaded). Red columns are required. Rows whose first cell starts with # "
            "are comments. You may also save the sheet as CSV UTF-8 with the same headers."),
    "check": ("Revise el resultado con `siting data check --scenario <escenario>`: cada fila con un problema "
              "aparece en el reporte de calidad con su hoja, fila y columna.",
              "Check the result with `siting data check --scenario <scenario>`: every row with a problem "
              "appears in the quality report with its sheet, row and column."),
    "location": ("Ubicación: dé el código INEI del centro poblado (codigo_ccpp) o la longitud y latitud "
                 "(WGS 84). Si da las dos, se usan las coordenadas.",
                 "Location: give the INEI centro poblado code (ccpp_id) or the longitude and latitude "
                 "(WGS 84). When both are given, the coordinates are used."),
    "columns": ("Columnas", "Columns"),
    "col_header": ("Encabezado", "Header"), "col_required": ("Obligatorio", "Required"),
    "col_meaning": ("Qué poner", "What to enter"), "col_values": ("Valores permitidos", "Allowed values"),
    "yes": ("Sí", "Yes"), "no": ("No", "No"),
    "ugel": ("UGEL", "UGEL"), "cetpro": ("Código modular CETPRO", "CETPRO modular code"),
    "cetpro_name": ("Nombre del CETPRO", "CETPRO name"), "specialty": ("Especialidad", "Specialty"),
    "host": ("Tipo de local", "Host type"), "status": ("Estado", "Status"), "gestion": ("Gestión", "Management"),
    "sources": ("Fuentes de las listas: UGEL del límite distrital INEI 2017 (una por provincia); CETPRO del "
                "padrón DRE Cajamarca 2025 más los agregados en inputs.additional_cetpro; especialidades de los "
                "convenios del CETPRO Cajamarca y de los programas del CETPRO Arzobispo Oscar Arnulfo Romero "
                "(lista no exhaustiva: se aceptan otras y se marcan en el reporte de calidad).",
                "List sources: UGELs from the INEI 2017 district boundaries (one per province); CETPRO from the "
                "DRE Cajamarca 2025 base plus those added in inputs.additional_cetpro; specialties from CETPRO "
                "Cajamarca's agreements and CETPRO Arzobispo Oscar Arnulfo Romero's programmes (not exhaustive: "
                "others are accepted and flagged in the quality report)."),
    "list_warn": ("Valor fuera de la lista", "Value not in the list"),
    "list_warn_body": ("El valor no está en la lista de la hoja «listas»: se aceptará y se marcará.",
                       "The value is not in the list of the 'lists' sheet: it will be accepted and flagged."),
    "bad": ("Valor no válido", "Invalid value"),
}


def _t(text_key: str, lang: str, **kw: str) -> str:
    return _TEXT[text_key][0 if lang == "es" else 1].format(**kw)


@dataclass(frozen=True)
class TemplateLists:
    """Values of the validation lists (see the module docstring for their sources)."""

    ugels: Sequence[str]
    cetpro: Sequence[tuple[str, str]]  # (cod_mod, name)
    specialties: Sequence[str] = SPECIALTIES

    @classmethod
    def from_scenario(cls, sc) -> TemplateLists:
        """UGELs of the department and CETPRO of the school base (+ ``inputs.additional_cetpro``)."""
        from ..data import QualityReport, load_cetpro, load_districts
        from ..data.registry import with_additional_cetpro
        q = QualityReport()
        districts = load_districts(sc, q)
        cetpro = with_additional_cetpro(load_cetpro(sc, q, districts=districts), sc, q, districts=districts)
        ugels = sorted(districts["ugel"].dropna().unique())
        pairs = sorted(zip(cetpro["cod_mod"].astype(str), cetpro["name"].astype(str)))
        return cls(ugels=ugels, cetpro=pairs)


def _set_text(cell: Cell, value: object) -> None:
    """Write ``value``; a text that starts like a formula stays text."""
    cell.value = value
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        cell.data_type = "s"


def _header(col: Column, lang: str) -> str:
    return col.es if lang == "es" else col.name


def _example(col: Column, lang: str) -> str:
    v = col.example
    if lang == "en":
        v = v.replace("EJEMPLO", "EXAMPLE").replace("(borrar esta fila)", "(delete this row)")
    return v


def _lists_sheet(wb: Workbook, lists: TemplateLists, lang: str) -> dict[str, str]:
    """Write the lists sheet; return ``{list name: absolute range}`` for the validations."""
    ws = wb.create_sheet(_t("lists", lang))
    columns = {"ugel": list(lists.ugels), "cetpro": [c for c, _ in lists.cetpro],
               "cetpro_name": [n for _, n in lists.cetpro], "specialty": list(lists.specialties),
               "host": list(HOST_TYPES), "status": list(STATUSES), "gestion": list(GESTIONES)}
    ranges = {}
    for j, (key, values) in enumerate(columns.items(), start=1):
        head = ws.cell(row=1, column=j, value=_t(key, lang))
        head.font, head.fill = Font(bold=True), _HEADER_FILL
        for i, v in enumerate(values, start=2):
            _set_text(ws.cell(row=i, column=j), v)
            ws.cell(row=i, column=j).number_format = "@"
        letter = get_column_letter(j)
        ranges[key] = f"'{ws.title}'!${letter}$2:${letter}${max(2, len(values) + 1)}"
        ws.column_dimensions[letter].width = min(60, max(14, len(_t(key, lang)) + 3,
                                                         *(len(str(v)) + 2 for v in values or [""])))
    note = ws.cell(row=max(len(v) for v in columns.values()) + 3, column=1, value=_t("sources", lang))
    note.alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=note.row, start_column=1, end_row=note.row, end_column=len(columns))
    ws.row_dimensions[note.row].height = 75
    ws.freeze_panes = "A2"
    _fit_landscape(ws)
    return ranges


def _validation(col: Column, ranges: dict[str, str], lang: str) -> DataValidation | None:
    """The data validation of one column (``None`` for free text)."""
    warn = dict(showErrorMessage=True, errorStyle="warning", errorTitle=_t("list_warn", lang),
                error=_t("list_warn_body", lang))
    strict = dict(showErrorMessage=True, errorStyle="stop", errorTitle=_t("bad", lang), error=col.help_es
                  if lang == "es" else col.help_en)
    if col.type == "choice":
        key = {"host_type": "host", "kind": "host", "status": "status", "gestion": "gestion"}[col.name]
        return DataValidation(type="list", formula1=ranges[key], allow_blank=True, **strict)
    if col.name == "parent_cod_mod":
        return DataValidation(type="list", formula1=ranges["cetpro"], allow_blank=True, **warn)
    if col.name == "ugel":
        return DataValidation(type="list", formula1=ranges["ugel"], allow_blank=True, **warn)
    if col.name == "specialties":
        return DataValidation(type="list", formula1=ranges["specialty"], allow_blank=True, **warn)
    if col.type == "count":
        return DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True, **strict)
    if col.type == "ccpp":
        return DataValidation(type="textLength", operator="equal", formula1="10", allow_blank=True, **strict)
    if col.type == "lon":
        return DataValidation(type="decimal", operator="between", formula1="-82", formula2="-68",
                              allow_blank=True, **strict)
    if col.type == "lat":
        return DataValidation(type="decimal", operator="between", formula1="-19", formula2="0.5",
                              allow_blank=True, **strict)
    return None


def _data_sheet(ws: Worksheet, kind: Kind, ranges: dict[str, str], lang: str) -> None:
    ws.title = kind.sheet_es if lang == "es" else kind.sheet_en
    for j, col in enumerate(kind.columns, start=1):
        letter = get_column_letter(j)
        head = ws.cell(row=1, column=j, value=_header(col, lang))
        head.font = Font(bold=True)
        head.fill = _REQUIRED_FILL if col.required else _HEADER_FILL
        head.alignment = Alignment(wrap_text=True, vertical="top")
        ex = ws.cell(row=2, column=j)
        _set_text(ex, _example(col, lang) or None)
        ex.font, ex.fill = Font(italic=True, color="7F7F7F"), _EXAMPLE_FILL
        fmt = "@" if col.type in {"text", "ccpp", "codmod", "code", "date", "period", "list", "choice"} else "General"
        for r in range(2, ROWS + 2):
            ws.cell(row=r, column=j).number_format = fmt
        dv = _validation(col, ranges, lang)
        if dv is not None:
            dv.add(f"{letter}2:{letter}{ROWS + 1}")
            ws.add_data_validation(dv)
        ws.column_dimensions[letter].width = min(46, max(12, len(_header(col, lang)) + 3, len(col.example) + 2))
    ws.row_dimensions[1].height = 30
    ws.freeze_panes = "A2"
    _fit_landscape(ws)
    ws.print_options.gridLines = True
    ws.print_area = f"A1:{get_column_letter(len(kind.columns))}25"


def _fit_landscape(ws: Worksheet) -> None:
    """Print landscape, all columns on one page wide."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _instructions(wb: Workbook, kind: Kind, lang: str) -> None:
    ws = wb.create_sheet(_t("instructions", lang))
    sheet = kind.sheet_es if lang == "es" else kind.sheet_en
    title = ws.cell(row=1, column=1, value=_t("title", lang, title=kind.title_es if lang == "es" else kind.title_en))
    title.font = Font(bold=True, size=14)
    lines = [_t("key", lang, key=kind.name), _t("how", lang, sheet=sheet), _t("check", lang)]
    if kind.located:
        lines.append(_t("location", lang))
    for i, text in enumerate(lines, start=2):
        c = ws.cell(row=i, column=1, value=text)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=4)
        ws.row_dimensions[i].height = 48 if len(text) > 150 else 32
    top = len(lines) + 3
    ws.cell(row=top - 1, column=1, value=_t("columns", lang)).font = Font(bold=True, size=12)
    for j, key in enumerate(("col_header", "col_required", "col_meaning", "col_values"), start=1):
        c = ws.cell(row=top, column=j, value=_t(key, lang))
        c.font, c.fill = Font(bold=True), _HEADER_FILL
    for i, col in enumerate(kind.columns, start=top + 1):
        values = ", ".join(col.choices) if col.choices else ""
        cells = [_header(col, lang) + ("" if lang == "en" else f"  ({col.name})"),
                 _t("yes" if col.required else "no", lang), col.help_es if lang == "es" else col.help_en, values]
        for j, v in enumerate(cells, start=1):
            c = ws.cell(row=i, column=j, value=v)
            c.alignment = Alignment(wrap_text=True, vertical="top")
            if j == 1 and col.required:
                c.fill = _REQUIRED_FILL
        ws.row_dimensions[i].height = 15 * max(1, -(-len(cells[2]) // 66), -(-len(values) // 28))
    for letter, width in zip("ABCD", (34, 12, 70, 30)):
        ws.column_dimensions[letter].width = width
    _fit_landscape(ws)


def template_name(kind: str, lang: str = "es") -> str:
    """File name of a kind's template, e.g. ``formato_centros_extension.xlsx``."""
    k = KINDS[kind]
    return f"formato_{k.sheet_es}.xlsx" if lang == "es" else f"form_{k.sheet_en}.xlsx"


def write_template(kind: str, path: str | Path, *, lists: TemplateLists, lang: str = "es") -> Path:
    """Write the XLSX form of one registry ``kind`` (a key of :data:`KINDS`) atomically."""
    if lang not in ("es", "en"):
        raise ValueError(f"language must be es or en, got {lang!r}")
    spec = KINDS[kind]
    wb = Workbook()
    ranges = _lists_sheet(wb, lists, lang)
    _data_sheet(wb.active, spec, ranges, lang)
    _instructions(wb, spec, lang)
    wb.move_sheet(_t("lists", lang), offset=1)  # data, instructions, lists
    wb.active = 0
    path = Path(path)
    with atomic_path(path) as tmp:
        wb.save(tmp)
        _normalise_xlsx(tmp)
    return path


def write_templates(folder: str | Path, *, lists: TemplateLists, lang: str = "es") -> dict[str, Path]:
    """Write the forms of every registry kind into ``folder``; returns ``{kind: path}``."""
    folder = Path(folder)
    return {k: write_template(k, folder / template_name(k, lang), lists=lists, lang=lang) for k in KINDS}
