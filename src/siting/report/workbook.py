"""XLSX workbooks for planners (used by :func:`siting.report.exports.write_xlsx`).

Every workbook opens on a "Léame" / "Read me" sheet (run, date, scenario, study area,
thresholds, how figures are rounded, data caveats, the list of sheets); then one sheet per
table with:

- sheet names and headers in the run language, coded values in words
  (:mod:`siting.report.values`);
- one number format per column kind (:mod:`siting.report.numbers`: people ``#,##0``,
  shares ``0.0%``, minutes ``0``, scores ``0.000``), values rounded to what is shown
  (the CSVs keep full precision);
- text never stored as a formula: a cell that starts with ``=``, ``+``, ``-``, ``@``, tab or
  CR is a text cell with Excel's quote prefix (editing it does not turn it into a formula);
- a bold, wrapped, frozen and filtered header, the identifying columns frozen too, widths
  fitted to the shown values, A4 landscape print fitted to the page width.
"""
from __future__ import annotations

import dataclasses
import math
import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import FORMULA_START
from . import numbers as nb
from .labels import has_label, headers, t
from .values import boolean_text, translate_values

_SHEET_BAD = re.compile(r"[\[\]\*\?/\\:]")
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")  # characters XML 1.0 cannot hold
_FREEZE_AFTER = ("name", "unit", "ugel", "district", "province", "criterion", "feature", "input", "n_sites")
HEADER_FILL = "DDEBF7"


def run_date() -> str:
    """The date written into outputs: ``SOURCE_DATE_EPOCH`` (reproducible builds) if set,
    else today's UTC date (day precision, so two runs on one day give identical files)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    seconds = int(epoch) if epoch and epoch.strip().isdigit() else time.time()
    return time.strftime("%Y-%m-%d", time.gmtime(seconds))


@dataclasses.dataclass(frozen=True)
class ReadMe:
    """What the "Léame" sheet says about the run (the sheet list is added by the writer).

    Build it with :meth:`from_scenario`; every field may be empty.
    """

    run: str = ""
    scenario: str = ""  # file name of the scenario the run was loaded from
    date: str = ""  # ISO date (see :func:`run_date`)
    ugels: tuple[str, ...] = ()
    department: str = ""
    reason: str = ""
    target_years: tuple[int, int] | None = None
    thresholds: tuple[float, ...] = ()
    main_threshold: float | None = None
    caveats: tuple[str, ...] = ()

    @classmethod
    def from_scenario(cls, sc, *, caveats: Sequence[str] = (), date: str | None = None) -> ReadMe:
        """The Léame facts of scenario ``sc`` plus the run's data ``caveats`` (in the run language)."""
        group = sc.population.age_groups.get(sc.population.target_group)
        return cls(run=sc.run.name, scenario=Path(sc.source).name if sc.source else "", date=date or run_date(),
                   ugels=tuple(sc.study_area.ugels), department=sc.study_area.department,
                   reason=sc.study_area.reason, target_years=(group[0], group[1]) if group else None,
                   thresholds=tuple(sc.access.thresholds_min), main_threshold=sc.access.main_threshold_min,
                   caveats=tuple(str(c) for c in caveats))


def sheet_title(key: str, lang: str | None) -> str:
    """The sheet name of table ``key`` in ``lang`` (labels ``sheet.<key>``; else the key)."""
    return t(f"sheet.{key}", lang) if lang and has_label(f"sheet.{key}") else str(key)


def _unique_sheet_name(name: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub("_", name).strip("'")[:31] or "hoja"
    candidate, i = base, 2
    while candidate.lower() in used:
        suffix = f"_{i}"
        candidate = base[: 31 - len(suffix)] + suffix
        i += 1
    used.add(candidate.lower())
    return candidate


def _clean_text(value: str) -> str:
    return _ILLEGAL.sub("\ufffd", value)


class _Formats:
    """The XlsxWriter formats of one workbook, one per distinct set of properties.

    ``get(bold=True, ...)`` returns the same format object for the same properties, so a
    workbook holds as many cell styles as it uses; ``get()`` is None (the default style).
    """

    def __init__(self, workbook) -> None:
        self._workbook = workbook
        self._made: dict[tuple, object] = {}

    def get(self, **props: object):
        if not props:
            return None
        key = tuple(sorted(props.items()))
        if key not in self._made:
            self._made[key] = self._workbook.add_format(dict(props))
        return self._made[key]


def _write_text(ws, row: int, col: int, value: str, formats: _Formats, **props: object) -> None:
    """Write ``value`` as a text cell, never a formula: text that a spreadsheet would run
    (``=``, ``+``, ``-``, ``@``, tab, CR first) gets Excel's quote prefix as well."""
    value = _clean_text(value)
    if not value:  # an empty text is an empty cell
        return
    if value.startswith(FORMULA_START):
        props = {**props, "quote_prefix": True}
    ws.write_string(row, col, value, formats.get(**props))


@dataclasses.dataclass
class _Column:
    kind: str  # a number kind, "text" or "bool"
    values: list  # cell values, ready to write
    width: float


def _numeric_column(s: pd.Series, code: str, lang: str | None) -> _Column:
    kind = nb.column_kind(code)
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    shown = nb.display_round(x, kind)
    d = nb.decimals(kind)
    no_access = t("band.sin acceso", lang or "en")
    out: list = []
    for v in shown:
        if math.isnan(v):
            out.append(None)
        elif math.isinf(v):
            out.append(no_access if kind == "minutes" else None)
        elif kind == "code":
            out.append(str(int(v)) if float(v).is_integer() else str(v))
        elif d == 0:
            out.append(int(v))
        else:
            out.append(float(v))
    finite = shown[np.isfinite(shown)]
    samples = [finite.max(), finite.min()] if finite.size else []
    longest = max([len(nb.format_value(float(v), kind, lang=lang or "en")) for v in samples] + [0])
    if kind == "minutes" and np.isinf(shown).any():
        longest = max(longest, len(no_access))
    return _Column(kind, out, longest)


def _column(s: pd.Series, code: str, lang: str | None) -> _Column:
    if pd.api.types.is_bool_dtype(s):
        vals = [boolean_text(bool(v), lang) if lang else bool(v) for v in s]
        return _Column("bool", vals, max([len(str(v)) for v in vals[:2000]] + [2]))
    if pd.api.types.is_numeric_dtype(s):
        return _numeric_column(s, code, lang)
    vals = []
    for v in s.astype(object):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
            vals.append(None)
        elif isinstance(v, (bool, np.bool_)):
            vals.append(boolean_text(bool(v), lang) if lang else bool(v))
        elif isinstance(v, (int, float, np.integer, np.floating)):
            vals.append(float(v) if math.isfinite(float(v)) else None)
        else:
            vals.append(str(v))
    return _Column("text", vals, max([len(str(v)) for v in vals[:2000] if v is not None] + [0]))


def _lines(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column ``width`` characters wide (for the row height:
    LibreOffice does not re-measure wrapped rows of an XLSX on opening)."""
    per_line = max(1, int(width * 1.1) - 1)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


def _freeze_column(codes: Sequence[str]) -> int:
    """Columns frozen at the left: up to the first identifying column among the first four."""
    for j, code in enumerate(codes[:4]):
        if code in _FREEZE_AFTER:
            return j + 1
    return 0


def _cell_formats(cols: Sequence[_Column], wrapped: set[int], formats: _Formats) -> list[tuple]:
    """Per column: the properties of its text cells and the format of its numbers.

    Sheets with a wrapped column read every cell from the top (rows of several lines)."""
    top = {"valign": "top"} if wrapped else {}
    out = []
    for j, col in enumerate(cols):
        text = {"text_wrap": True, "valign": "top"} if j in wrapped else top
        fmt = nb.excel_format(col.kind) if col.kind in nb.KINDS else None
        number = formats.get(**top, **({"num_format": fmt} if fmt not in (None, "General") else {}))
        out.append((text, number))
    return out


def write_table_sheet(ws, table: pd.DataFrame, *, lang: str | None, formats: _Formats) -> None:
    """Fill XlsxWriter worksheet ``ws`` with ``table`` (codes as columns), formatted for reading."""
    codes = [str(c) for c in table.columns]
    shown = translate_values(table, lang, booleans=False) if lang else table
    header = list(headers(table, lang).columns) if lang else codes
    cols = [_column(shown[c], code, lang) for c, code in zip(table.columns, codes)]
    head = {"bold": True, "pattern": 1, "bg_color": "#" + HEADER_FILL, "text_wrap": True, "valign": "top"}
    lines = 1
    for j, (label, col) in enumerate(zip(header, cols)):
        _write_text(ws, 0, j, str(label), formats, **head)
        width = min(60, max(8, max(col.width, min(len(str(label)), 18)) + 2))
        ws.set_column(j, j, width)
        lines = max(lines, _lines(str(label), width))
    ws.set_row(0, 13 * lines + 3)
    # text longer than the widest column (60) wraps inside it, with the row height it needs
    wrapped = {j for j, col in enumerate(cols) if col.kind == "text" and col.width + 2 > 60}
    cell_formats = _cell_formats(cols, wrapped, formats)
    for j, col in enumerate(cols):
        text_props, number_format = cell_formats[j]
        for i, v in enumerate(col.values, start=1):
            if v is None:
                continue
            if isinstance(v, str):
                _write_text(ws, i, j, v, formats, **text_props)
            elif isinstance(v, bool):
                ws.write_boolean(i, j, v, number_format)
            else:
                ws.write_number(i, j, v, number_format)
    if wrapped:  # rows of several lines get the height their longest wrapped text needs
        for i in range(len(table)):
            row_lines = max(_lines(v, 60) if isinstance(v, str) else 1 for v in (cols[j].values[i] for j in wrapped))
            if row_lines > 1:
                ws.set_row(i + 1, 13 * row_lines + 2)
    freeze = _freeze_column(codes)
    ws.freeze_panes(1, freeze)
    if codes:
        ws.autofilter(0, 0, len(table), len(codes) - 1)
    _print_setup(ws, landscape=True, pages_wide=math.ceil(max(1, len(codes)) / FIT_COLUMNS))
    if freeze and len(codes) > FIT_COLUMNS:  # wide tables print over several pages: repeat the identity
        ws.repeat_columns(0, freeze - 1)


#: about this many columns fit on one A4 landscape page; wider tables print over several pages
FIT_COLUMNS = 16


def _print_setup(ws, *, landscape: bool, pages_wide: int = 1, title_row: bool = True) -> None:
    """A4, fitted to ``pages_wide`` pages across and as many down as needed; the header row
    repeated on every printed page (``title_row``)."""
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(pages_wide, 0)
    if title_row:
        ws.repeat_rows(0)


def _version() -> str:
    from importlib import metadata
    try:
        return metadata.version("siting")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def _readme_rows(readme: ReadMe, *, workbook: str, sheets: Sequence[tuple[str, int]], lang: str) -> list:
    """(item, value) rows of the Léame sheet; a value of None starts a section."""
    rows: list[tuple[str, str | None]] = [(t("readme.workbook", lang), workbook)]
    if readme.run:
        rows.append((t("readme.run", lang), readme.run))
    rows.append((t("readme.date", lang), readme.date or run_date()))
    if readme.scenario:
        rows.append((t("readme.scenario", lang), t("readme.scenario_copy", lang).format(name=readme.scenario)))
    area = ", ".join(readme.ugels) if readme.ugels else (f"{t('department', lang)} {readme.department}"
                                                         if readme.department else "")
    if area:
        rows.append((t("readme.study_area", lang), area))
    if readme.reason:
        rows.append((t("readme.reason", lang), readme.reason))
    if readme.target_years:
        a, b = readme.target_years
        rows.append((t("readme.target_group", lang), t("readme.target_years", lang).format(a=a, b=b)))
    if readme.thresholds:
        rows.append((t("readme.thresholds", lang), ", ".join(f"{x:g}" for x in readme.thresholds) + " min"))
    if readme.main_threshold:
        rows.append((t("readme.main_threshold", lang), f"{readme.main_threshold:g} min"))
    rows += [(t("readme.language", lang), {"es": "español", "en": "English"}[lang]),
             (t("readme.version", lang), _version()),
             (t("readme.figures", lang), t("readme.figures_text", lang)),
             (t("readme.text_cells", lang), t("readme.text_cells_text", lang)),
             (t("band.sin acceso", lang), t("readme.no_access", lang)),
             (t("readme.sheets", lang), None)]
    rows += [(name, t("readme.rows", lang).format(n=nb.format_value(n, "count", lang=lang))) for name, n in sheets]
    rows.append((t("readme.caveats", lang), None))
    rows += [("", c) for c in readme.caveats] or [("", t("readme.no_caveats", lang))]
    rows.append((t("readme.sources", lang), t("map.source_note", lang)))
    return rows


def write_readme_sheet(ws, readme: ReadMe, *, workbook: str, sheets: Sequence[tuple[str, int]],
                       lang: str | None, formats: _Formats) -> None:
    """Fill the Léame sheet: a title, then item | value rows with section headings."""
    lang = lang or "en"
    _write_text(ws, 0, 0, t("readme.title", lang), formats, bold=True, font_size=14)
    for j, key in enumerate(("readme.item", "readme.value")):
        _write_text(ws, 2, j, t(key, lang), formats, bold=True, pattern=1, bg_color="#" + HEADER_FILL)
    wrap = {"text_wrap": True, "valign": "top"}
    for i, (item, value) in enumerate(_readme_rows(readme, workbook=workbook, sheets=sheets, lang=lang), start=3):
        _write_text(ws, i, 0, item, formats, bold=True, **wrap)
        if value is None:  # section heading
            continue
        _write_text(ws, i, 1, value, formats, **wrap)
        ws.set_row(i, 13 * max(_lines(item, 34), _lines(value, 110)) + 2)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 110)
    ws.freeze_panes(3, 0)
    _print_setup(ws, landscape=False, title_row=False)


def write_workbook(path: str | Path, sheets: Mapping[str, pd.DataFrame], *, lang: str | None,
                   readme: ReadMe | None, workbook_name: str) -> None:
    """Write the workbook to ``path``: the Léame sheet first, then one formatted sheet per table.

    Written with XlsxWriter (#19: the demo's 11 workbooks, 0.3 M cells, take about half the
    CPU time of building and saving openpyxl workbooks of the same cells and styles).  Zip
    entries and document times are fixed, so identical inputs give identical bytes.
    """
    import datetime

    import xlsxwriter

    used: set[str] = set()
    readme_name = _unique_sheet_name(t("sheet.readme", lang or "en"), used)
    names = [_unique_sheet_name(sheet_title(str(key), lang), used) for key in sheets]
    options = {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
               "strings_to_urls": False}
    wb = xlsxwriter.Workbook(str(path), options)
    wb.set_properties({"author": "siting", "created": datetime.datetime(2000, 1, 1)})
    formats = _Formats(wb)
    readme_ws = wb.add_worksheet(readme_name)
    for name, table in zip(names, sheets.values()):
        write_table_sheet(wb.add_worksheet(name), table, lang=lang, formats=formats)
    write_readme_sheet(readme_ws, readme or ReadMe(), workbook=workbook_name,
                       sheets=[(name, len(table)) for name, table in zip(names, sheets.values())],
                       lang=lang, formats=formats)
    wb.close()
