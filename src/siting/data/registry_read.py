"""Reading and validating registry files (the loaders are in :mod:`siting.data.registry`).

Every file may be a CSV (UTF-8 or Latin-1, ``,``/``;``) or an XLSX template written by
``siting templates`` (the data sheet is found by its name or by its header).
:func:`read_registry` validates **every row**: a bad value goes into the quality report with
its sheet, row and column (``row_id`` = ``"<sheet>:<row>"``, the spreadsheet row number;
``detail`` starts with the column); a row without a required value is dropped, a bad
optional value is emptied and the row kept.  Fatal problems (no file, no data sheet, a
required column missing) raise :class:`~siting.errors.DataError`.

Rows whose first cell starts with ``#`` are comments; rows with a text cell starting with
``EJEMPLO``/``EXAMPLE`` are the templates' example rows: both are skipped (example rows are
reported, so that a forgotten example is seen).
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import DataError
from ..io import ENCODINGS, to_number
from .boundaries import check_coordinates, fold
from .quality import QualityReport
from .registry_spec import (
    CHOICE_SYNONYMS,
    ENROLLED_PATTERN,
    ENROLLED_PATTERN_ES,
    KINDS,
    PROVISIONAL_CODE,
    SPECIALTIES,
    Column,
    Kind,
)

__all__ = ["read_registry", "locate", "known_ccpp"]

_EXAMPLE = re.compile(r"^\s*(EJEMPLO|EXAMPLE)\b", re.IGNORECASE)
_SPECIALTY_KEYS = {fold(s) for s in SPECIALTIES}


# --------------------------------------------------------------------------- reading


def _decode(raw: bytes, path: Path) -> str:
    for enc in ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DataError("cannot decode the file as UTF-8 or Latin-1", source=str(path),
                    hint="save it as UTF-8 (CSV UTF-8 in Excel)")


def _cell_text(v: object) -> str | None:
    """An XLSX cell as text: integers without ``.0`` (codes), dates as ISO, blanks as None."""
    if v is None:
        return None
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.strftime("%Y-%m-%d") if not isinstance(v, _dt.datetime) or not (v.hour or v.minute) \
            else v.isoformat(sep=" ")
    s = str(v).strip()
    return s or None


def _accepted_headers(kind: Kind) -> set[str]:
    return {fold(h) for c in kind.columns for h in c.headers()}


def _read_csv(path: Path) -> tuple[list[str], list[list[str | None]], list[int], str]:
    raw = path.read_bytes()
    if b"\x00" in raw[:65536]:
        raise DataError("this is not a text table (it contains binary data)", source=str(path),
                        hint="give a CSV or an XLSX file (keep the .xlsx extension)")
    lines = _decode(raw, path).splitlines()
    skip = 0
    while skip < len(lines) and (not lines[skip].strip() or lines[skip].lstrip().startswith("#")):
        skip += 1  # comment lines above the header (fixtures say INVENTED there)
    body = "\n".join(lines[skip:])
    if not body.strip():
        raise DataError("the file has no header row", source=str(path))
    try:
        sep = csv.Sniffer().sniff(lines[skip], delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    rows = list(csv.reader(io.StringIO(body), delimiter=sep))
    header = [h.strip() for h in rows[0]]
    data = [[(v.strip() or None) for v in r] for r in rows[1:]]
    numbers = [skip + 2 + i for i in range(len(data))]
    return header, data, numbers, path.name


def _pick_sheet(wb, kind: Kind, path: Path):
    names = {fold(n): n for n in wb.sheetnames}
    for wanted in (kind.sheet_es, kind.sheet_en, kind.name):
        if fold(wanted) in names:
            return wb[names[fold(wanted)]]
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=1, max_row=5, values_only=True):
            cells = {fold(c) for c in (_cell_text(v) for v in row) if c}
            if all(any(fold(h) in cells for h in kind.column(r).headers()) for r in kind.required):
                return ws
    raise DataError(f"no sheet with the columns of '{kind.name}' ({', '.join(kind.required)})", source=str(path),
                    hint=f"the workbook has the sheets {', '.join(wb.sheetnames)}; use the template of "
                         f"`siting templates` (sheet '{kind.sheet_es}')")


def _read_xlsx(path: Path, kind: Kind) -> tuple[list[str], list[list[str | None]], list[int], str]:
    import openpyxl
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zip / XML errors of a damaged file
        raise DataError(f"cannot open the workbook ({exc})", source=str(path),
                        hint="open it in Excel or LibreOffice and save it again as .xlsx") from exc
    try:
        ws = _pick_sheet(wb, kind, path)
        header: list[str] | None = None
        data, numbers = [], []
        for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in row]
            if header is None:
                if any(cells) and not (cells[0] or "").startswith("#"):
                    header = [c or "" for c in cells]
                continue
            data.append(cells)
            numbers.append(r)
        title = ws.title
    finally:
        wb.close()
    if header is None:
        raise DataError(f"sheet '{title}' has no header row", source=str(path))
    return header, data, numbers, title


def _header_map(header: list[str], kind: Kind, path: Path) -> dict[int, str]:
    """Position in the file -> canonical column name (unknown columns keep their own name)."""
    lookup = {fold(h): c.name for c in kind.columns for h in c.headers()}
    out: dict[int, str] = {}
    for i, h in enumerate(header):
        if not h:
            continue
        f = fold(h).replace(" ", "_").lower()
        name = lookup.get(fold(h))
        if name is None and kind.name == "monitoring":
            m = ENROLLED_PATTERN_ES.match(f)
            if m:
                sex = {"mujeres": "women", "hombres": "men"}[m.group(1)]
                name = f"enrolled_{sex}_{m.group(2)}_{'plus' if m.group(3) == 'mas' else m.group(3)}"
            elif ENROLLED_PATTERN.match(f):
                name = f
        name = name or h
        if name in out.values():
            raise DataError(f"two columns mean '{name}' (one is '{h}')", source=str(path),
                            hint="keep one of them")
        out[i] = name
    missing = [c for c in kind.required if c not in out.values()]
    if missing:
        col = kind.column(missing[0])
        raise DataError(f"missing column '{col.name}' (or '{col.es}')", source=str(path),
                        hint=f"the file has: {', '.join(h for h in header if h)}; the format is "
                             f"{', '.join(c.name for c in kind.columns)}")
    return out


def _raw_table(path: str | Path, kind: Kind) -> tuple[pd.DataFrame, str]:
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", source=str(path), hint="check the path in the scenario's [inputs] section")
    if path.stat().st_size == 0:
        raise DataError("the file is empty", source=str(path))
    header, data, numbers, sheet = (_read_xlsx(path, kind) if path.suffix.lower() in {".xlsx", ".xlsm"}
                                    else _read_csv(path))
    cols = _header_map(header, kind, path)
    rows = []
    for cells, n in zip(data, numbers):
        if not any(cells) or (cells and (cells[0] or "").startswith("#")):
            continue
        rec: dict[str, object] = {name: (cells[i] if i < len(cells) else None) for i, name in cols.items()}
        rec["_row"] = n
        rows.append(rec)
    df = pd.DataFrame(rows, columns=list(cols.values()) + ["_row"])
    for c in kind.columns:
        if c.name not in df.columns:
            df[c.name] = None
    df["_sheet"] = sheet
    return df, sheet


# --------------------------------------------------------------------------- validation


class _Checker:
    """Records row problems (sheet, row, column); raises at the first one when strict."""

    def __init__(self, kind: Kind, quality: QualityReport | None, path: Path, strict: bool):
        self.kind, self.quality, self.path, self.strict = kind, quality, path, strict

    def report_row(self, row: pd.Series, column: str, *, problem: str, how: str, drop: bool) -> None:
        """One problem of ``row`` in ``column``: ``drop`` = the row is not used (else kept)."""
        value = row.get(column)
        where = f"{row['_sheet']}:{row['_row']}"
        shown = f" = {value!r}" if isinstance(value, str) or (isinstance(value, float) and np.isfinite(value)) else ""
        detail = f"column '{column}'{shown}: {how}" + ("; row not used" if drop else "")
        if self.strict or self.quality is None:
            raise DataError(f"sheet {row['_sheet']}, row {row['_row']}, column '{column}'{shown}: {problem} ({how})",
                            source=str(self.path), hint="correct the value and run again")
        if drop:
            self.quality.add(self.kind.name, where, f"{problem}", detail, action="dropped")
        else:
            self.quality.add(self.kind.name, where, f"{problem}", detail, action="kept")


def _code(raw: str) -> str:
    return re.sub(r"\.0+$", "", raw.replace(" ", ""))


def _parse_code(col: Column, raw: str, row: pd.Series, check: _Checker) -> tuple[object, bool]:
    s = _code(raw)
    if col.type == "ccpp":
        if re.fullmatch(r"\d{9,10}", s):
            return s.zfill(10), True
        check.report_row(row, col.name, problem="invalid ccpp_id", drop=col.required,
                         how="expected the 10-digit INEI code of a centro poblado")
        return None, False
    if re.fullmatch(r"\d{5,7}", s):
        return s.zfill(7), True
    if col.type == "code" and PROVISIONAL_CODE.match(s.upper()):
        return s.upper(), True
    check.report_row(row, col.name, problem="invalid cod_mod", drop=col.required,
                     how="expected a 7-digit modular code" + (" or a provisional code such as NEW-001"
                                                              if col.type == "code" else ""))
    return None, False


def _parse_number(col: Column, raw: str, row: pd.Series, check: _Checker) -> tuple[object, bool]:
    v = float(to_number(pd.Series([raw])).iloc[0])
    if not np.isfinite(v):
        check.report_row(row, col.name, problem="not a number", how="expected a number", drop=col.required)
        return None, False
    if col.type == "count" and v < 0:
        check.report_row(row, col.name, problem="negative number", how="expected a number >= 0", drop=col.required)
        return None, False
    return v, True


def _parse_time(col: Column, raw: str, row: pd.Series, check: _Checker) -> tuple[object, bool]:
    if col.type == "period":
        if re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2]))?", raw):
            return raw, True
        check.report_row(row, col.name, problem="invalid period", how="expected YYYY or YYYY-MM", drop=col.required)
        return None, False
    try:
        return _dt.date.fromisoformat(raw[:10]).isoformat(), True
    except ValueError:
        check.report_row(row, col.name, problem="invalid date", how="expected a date YYYY-MM-DD", drop=col.required)
        return None, False


def _parse_choice(col: Column, raw: str, row: pd.Series, check: _Checker) -> tuple[object, bool]:
    v = CHOICE_SYNONYMS.get(fold(raw), raw.strip().lower())
    if v in col.choices:
        return v, True
    check.report_row(row, col.name, problem="value not in the list", drop=col.required,
                     how=f"expected one of {', '.join(col.choices)}")
    return None, False


def _parse_list(col: Column, raw: str, row: pd.Series, check: _Checker) -> tuple[object, bool]:
    items = [x.strip() for x in raw.split(";") if x.strip()]
    if col.name == "specialties":
        unknown = [x for x in items if fold(x) not in _SPECIALTY_KEYS]
        if unknown:
            check.report_row(row, col.name, problem="specialty not in the template list", drop=False,
                             how=f"{'; '.join(unknown)} kept as written")
    return "; ".join(items), True


_PARSERS = {"ccpp": _parse_code, "codmod": _parse_code, "code": _parse_code, "count": _parse_number,
            "lon": _parse_number, "lat": _parse_number, "date": _parse_time, "period": _parse_time,
            "choice": _parse_choice, "list": _parse_list, "text": lambda col, raw, row, check: (raw, True)}


def _validate_row(row: pd.Series, kind: Kind, check: _Checker) -> tuple[dict[str, object], bool]:
    out: dict[str, object] = {}
    keep = True
    for col in kind.columns:
        raw = row.get(col.name)
        if raw is None or (isinstance(raw, float) and np.isnan(raw)) or str(raw).strip() == "":
            out[col.name] = None
            if col.required and not (kind.name == "additional_cetpro" and col.name == "cod_mod"):
                check.report_row(row, col.name, problem="missing required value", how="this column must be filled",
                                 drop=True)
                keep = False
            continue
        value, ok = _PARSERS[col.type](col, str(raw).strip(), row, check)
        keep = keep and (ok or not col.required)
        out[col.name] = value
    return out, keep


def _enrolled_values(extra: dict, row: pd.Series, check: _Checker) -> None:
    """Monitoring's ``enrolled_{women,men}_{group}`` cells as numbers >= 0 (bad ones emptied)."""
    for k in list(extra):
        if ENROLLED_PATTERN.match(str(k)) and extra[k] is not None:
            v = float(to_number(pd.Series([extra[k]])).iloc[0])
            if not np.isfinite(v) or v < 0:
                check.report_row(row, str(k), problem="not a number", how="expected a number >= 0", drop=False)
                v = np.nan
            extra[k] = v


def _typed(out: pd.DataFrame, spec: Kind) -> pd.DataFrame:
    for col in spec.columns:
        if col.type in {"count", "lon", "lat"}:
            out[col.name] = pd.to_numeric(out[col.name], errors="coerce").astype(float)
        else:
            out[col.name] = out[col.name].astype("string")
    for k in out.columns:
        if ENROLLED_PATTERN.match(str(k)):
            out[k] = pd.to_numeric(out[k], errors="coerce").astype(float)
    return out


def read_registry(path: str | Path, kind: str, quality: QualityReport | None = None, *,
                  strict: bool = False) -> pd.DataFrame:
    """Read and validate one registry file of ``kind`` (a key of :data:`KINDS`).

    Returns one row per kept data row with every column of the kind (``None``/NaN when
    empty; counts and coordinates as floats, codes zero-filled, choices canonical, lists
    joined with ``"; "``), columns the format does not know (kept as text), and ``_sheet``
    / ``_row`` (where the row is in the file).  ``strict`` (or no ``quality``) raises a
    :class:`DataError` at the first bad value instead of reporting it.
    """
    spec = KINDS[kind]
    path = Path(path)
    df, sheet = _raw_table(path, spec)
    check = _Checker(spec, quality, path, strict)
    rows, keep = [], []
    for _, row in df.iterrows():
        texts = [str(v) for k, v in row.items() if k not in {"_row", "_sheet"} and isinstance(v, str)]
        if any(_EXAMPLE.match(t) for t in texts):
            if quality is not None:
                quality.add(kind, f"{sheet}:{row['_row']}", "example row",
                            "a row of the template's examples (a text starts with EJEMPLO/EXAMPLE): not used",
                            action="dropped")
            continue
        values, ok = _validate_row(row, spec, check)
        extra = {k: v for k, v in row.items() if k not in values}
        if kind == "monitoring":
            _enrolled_values(extra, row, check)
        rows.append({**values, **extra})
        keep.append(ok)
    out = pd.DataFrame(rows, columns=list(df.columns))
    out = _typed(out[np.asarray(keep, dtype=bool)] if len(out) else out, spec)
    if spec.id_column and spec.id_column in out and kind != "extension_centres":
        dup = out[spec.id_column].notna() & out[spec.id_column].duplicated(keep="first")
        for _, row in out[dup].iterrows():
            check.report_row(row, spec.id_column, problem="duplicate code", how="the first row with this code is kept",
                             drop=True)
        out = out[~dup]
    if kind == "extension_centres":  # facility_id: the UGEL's code, or EXT-001… by row
        auto = pd.Series([f"EXT-{i + 1:03d}" for i in range(len(out))], index=out.index, dtype="string")
        out["facility_id"] = out["facility_id"].fillna(auto)
    out = out.reset_index(drop=True)
    out.attrs["rows_read"] = len(df)  # data rows in the file (comments and blank rows aside)
    if quality is not None:
        quality.count(kind, read=len(df), kept=len(out))
    return out


# --------------------------------------------------------------------------- location


def locate(df: pd.DataFrame, kind: str, quality: QualityReport, *, places: pd.DataFrame | None,
           id_col: str) -> gpd.GeoDataFrame:
    """Points from ``lon``/``lat``, else from the centro poblado ``ccpp_id`` (in ``places``).
    Rows with neither are dropped with ``"no location"``; coordinates are checked
    (:func:`siting.data.boundaries.check_coordinates`)."""
    df = df.copy()
    df["_lon"], df["_lat"] = df["lon"], df["lat"]
    no_xy = df["_lon"].isna() | df["_lat"].isna()
    if no_xy.any() and places is not None and len(places):
        lookup = places.drop_duplicates("ccpp_id").set_index(places.drop_duplicates("ccpp_id")["ccpp_id"]
                                                             .astype(str)).geometry
        pts = df.loc[no_xy, "ccpp_id"].astype("string").map(lookup)
        ok = pts.notna()
        df.loc[pts.index[ok], "_lon"] = [p.x for p in pts[ok]]
        df.loc[pts.index[ok], "_lat"] = [p.y for p in pts[ok]]
    lost = df["_lon"].isna() | df["_lat"].isna()
    for _, row in df[lost].iterrows():
        why = (f"ccpp_id {row['ccpp_id']} is not a centro poblado of the department and there are no lon/lat"
               if pd.notna(row["ccpp_id"]) else "neither ccpp_id nor lon and lat given")
        quality.add(kind, f"{row['_sheet']}:{row['_row']}", "no location", f"{row[id_col]}: {why}",
                    action="dropped")
    df = df[~lost]
    df = check_coordinates(df, lon="_lon", lat="_lat", id_col=id_col, input_name=kind, quality=quality)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["_lon"], df["_lat"]), crs=4326)


def known_ccpp(df: pd.DataFrame, kind: str, quality: QualityReport, places: pd.DataFrame | None) -> pd.DataFrame:
    """Drop rows whose ``ccpp_id`` is not a centro poblado of ``places`` (reported)."""
    if places is None or not len(df):
        return df
    known = df["ccpp_id"].astype("string").isin(set(places["ccpp_id"].astype(str)))
    for _, row in df[~known].iterrows():
        quality.add(kind, f"{row['_sheet']}:{row['_row']}", "unknown ccpp_id",
                    f"column 'ccpp_id' = {row['ccpp_id']!r}: not a centro poblado of the department; row not used",
                    action="dropped")
    return df[known].reset_index(drop=True)


