"""Small I/O helpers shared by every stage: guarded reading, numbers, atomic writes, hashes.

Peruvian open data arrives as UTF-8 or Latin-1, separated by ``,`` or ``;``, with
thousands marks, decimal commas and codes that lost their leading zeros.
:func:`read_table` reads all of these; every reader first goes through one guarded open
(:func:`check_file`: the file exists, is a file, is not empty, is not larger than the
limit for its kind of :mod:`siting.limits`) and, for text tables, sniffs the first 64 KB
before anything is read whole.  :func:`to_number` is the one number rule of the project
(see :func:`parse_numbers`).  :func:`atomic_path` (from :mod:`siting.atomic`, re-exported
here) guarantees that a file is either complete or absent, never half-written.
"""
from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import os
import re
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import PARTIAL_NAME as PARTIAL_NAME
from .atomic import atomic_path as atomic_path
from .atomic import pid_alive as pid_alive
from .atomic import process_token as process_token
from .atomic import remove_partial_files as remove_partial_files
from .errors import DataError
from .limits import active, check_file_size, check_memory
from .numformat import NumberFormat as NumberFormat
from .numformat import parse_numbers as parse_numbers
from .numformat import to_number

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
#: bytes sniffed at the start of a file before anything is read whole
HEAD_BYTES = 1 << 16
_CHUNK = 1 << 20
#: bytes 0x81, 0x8D, 0x8F, 0x90, 0x9D are not defined in Windows-1252 (then the file is Latin-1)
_NOT_CP1252 = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
#: signatures of files that are not text tables: (prefix, what it is, what to do)
_MAGIC = (
    (b"SQLite format 3\x00", "an SQLite database (a GeoPackage?)", "a GeoPackage must keep its .gpkg extension"),
    (b"PK\x03\x04", "a ZIP archive (an Excel workbook or a zipped shapefile?)",
     "an Excel workbook must keep its .xlsx extension; unzip a zipped shapefile first"),
    (b"PAR1", "a Parquet file", "a Parquet file must keep its .parquet extension"),
    (b"II*\x00", "a TIFF image", "rasters go in inputs.dem or inputs.landcover_speeds"),
    (b"MM\x00*", "a TIFF image", "rasters go in inputs.dem or inputs.landcover_speeds"),
    (b"%PDF", "a PDF document", "export the table from the PDF to CSV first"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel .xls (OLE2) document",
     "open it and save it as .xlsx or CSV UTF-8"),
    (b"\x1f\x8b", "a gzip archive", "decompress it first"),
    (b"\xff\xfe", "UTF-16 text ('Unicode text' from Excel)", "save it again as CSV UTF-8"),
    (b"\xfe\xff", "UTF-16 text ('Unicode text' from Excel)", "save it again as CSV UTF-8"),
)
_BINARY_HINT = ("give a CSV/TXT or XLSX file; a GeoPackage or Excel file renamed to .csv must keep its own "
                "extension, and a UTF-16 text ('Unicode text' in Excel) must be saved again as CSV UTF-8")


def sha256(path: str | os.PathLike, *, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file (used in run manifests and cache keys)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def fold(text: object) -> str:
    """Accent- and case-insensitive key: ``"UGEL Celendín "`` -> ``"UGEL CELENDIN"``.

    NFKD decomposition, combining marks removed, upper case, white space runs made one
    space; memoised per text (a column repeats its values: area classes, districts, #19).
    """
    return _fold_text(str(text))


@functools.lru_cache(maxsize=1 << 16)
def _fold_text(text: str) -> str:
    s = unicodedata.normalize("NFKD", text)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return " ".join(s.upper().split())


#: first characters that make a spreadsheet read a cell as a formula (OWASP "CSV Injection")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """Neutralise text a spreadsheet would run as a formula: text starting with ``=``, ``+``,
    ``-``, ``@``, tab or carriage return gets a leading ``'`` (OWASP CSV-injection guidance),
    so ``=HYPERLINK(...)`` is shown as ``'=HYPERLINK(...)`` and never evaluated.  Numbers
    (``-1.5``) and every other value are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def spreadsheet_safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with :func:`spreadsheet_safe` applied to every text cell and header
    (numeric, boolean and datetime columns are untouched); for CSV files people open in Excel."""
    out = pd.DataFrame(df).copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or isinstance(s.dtype, (pd.StringDtype, pd.CategoricalDtype)):
            values = s.astype(object)
            if values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START)).any():
                out[col] = values.map(spreadsheet_safe)
    out.columns = [spreadsheet_safe(c) for c in out.columns]
    return out


# --------------------------------------------------------------------------- guarded open


def check_file(path: str | os.PathLike, kind: str, *, hint: str | None = None, limit: bool = True) -> int:
    """The one guarded open of every reader: ``path`` exists, is a readable file, is not
    empty and (with ``limit``) is not larger than the active limit for ``kind`` (``"table"``,
    ``"vector"``, ``"raster"``, ``"model"``; see :mod:`siting.limits`).  Returns its size in
    bytes.  Readers that sniff the file's first bytes check the limit right after sniffing,
    so that a binary file is named as such rather than as too large."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", source=str(path),
                        hint=hint or "check the path in the scenario's [inputs] section")
    if not path.is_file():
        raise DataError("this is a folder, not a file", source=str(path), hint="give the file itself")
    size = path.stat().st_size
    if size == 0:
        raise DataError("the file is empty", source=str(path))
    if not os.access(path, os.R_OK):
        raise DataError("the file cannot be read (permission denied)", source=str(path))
    if limit:
        check_file_size(path, kind, size=size)
    return size


def head_bytes(path: str | os.PathLike, n: int = HEAD_BYTES) -> bytes:
    """The first ``n`` bytes of a file (what every reader sniffs before reading more)."""
    with open(path, "rb") as fh:
        return fh.read(n)


def _nul_error(path: Path, offset: int, size: int) -> DataError:
    if offset == 0:
        what = "it starts with NUL bytes (zeros): binary data, or an empty preallocated or sparse file"
    else:
        what = (f"it has NUL bytes (zeros) from byte {offset:,} of {size:,}: binary data, or a copy or download "
                "that was cut and padded with zeros")
    return DataError(f"this is not a text table: {what}", source=str(path),
                     hint="get the file again from its source, or give the CSV/TXT/XLSX it should be")


def _refuse_binary(path: Path, head: bytes, size: int) -> None:
    for magic, what, todo in _MAGIC:
        if head.startswith(magic):
            raise DataError(f"this is not a text table (it contains binary data: {what})", source=str(path),
                            hint=todo)
    nul = head.find(b"\x00")
    if nul >= 0:
        raise _nul_error(path, nul, size)


def _scan_text(path: Path, size: int) -> str:
    """Stream the whole file once (1 MB at a time): refuse NUL bytes anywhere, and return the
    first of :data:`ENCODINGS` that decodes all of it."""
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok, cp1252_ok, offset = True, True, 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            nul = chunk.find(b"\x00")
            if nul >= 0:
                raise _nul_error(path, offset + nul, size)
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
            cp1252_ok = cp1252_ok and not any(b in chunk for b in _NOT_CP1252)
            offset += len(chunk)
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    return ENCODINGS[0] if utf8_ok else ENCODINGS[1] if cp1252_ok else ENCODINGS[2]


def _sniff_separator(sample: str) -> str:
    first = sample.splitlines()[0] if sample else ""
    try:
        return csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def check_unique_columns(columns: list, path: str | os.PathLike) -> None:
    """Refuse a header that names a column twice (compared as the loaders match names:
    accent-, case- and space-insensitively): which copy holds the data cannot be known."""
    seen: dict[str, list[int]] = {}
    for i, c in enumerate(columns):
        if c is None or (isinstance(c, float) and np.isnan(c)) or not str(c).strip():
            continue
        seen.setdefault(fold(c), []).append(i)
    dup = [(k, v) for k, v in seen.items() if len(v) > 1]
    if dup:
        key, pos = dup[0]
        names = ", ".join(f"{str(columns[i]).strip()!r} (column {i + 1})" for i in pos)
        raise DataError(f"duplicate column {str(columns[pos[0]]).strip()!r} in the header: {names}",
                        source=str(path), hint="rename or delete the extra copy: which one holds the data "
                                               "cannot be known")


def _read_text(path: Path, size: int) -> pd.DataFrame:
    head = head_bytes(path)
    _refuse_binary(path, head, size)
    check_file_size(path, "table", size=size)
    encoding = _scan_text(path, size)
    sample = head.decode(encoding, errors="ignore")
    sep = _sniff_separator(sample)
    try:
        header = next(csv.reader(io.StringIO(sample), delimiter=sep))
    except StopIteration:
        raise DataError("the file has no header row", source=str(path)) from None
    check_unique_columns(header, path)
    lines = max(sample.count("\n"), 1)
    rows = size / (len(head) / lines)
    check_memory(3 * size + 16 * rows * max(len(header), 1), what=f"reading the table ({rows:,.0f} rows estimated)",
                 source=str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            df = pd.read_csv(path, sep=sep, dtype=str, encoding=encoding, keep_default_na=False, na_values=[""],
                             index_col=False)
        except pd.errors.ParserWarning:
            raise DataError(f"some rows have more values than the header has columns ({len(header)}): "
                            f"a decimal comma in a file separated by {sep!r}, or an unquoted separator in a value",
                            source=str(path), hint="quote such values, or save the file with ';' as separator"
                            ) from None
        except pd.errors.EmptyDataError:
            raise DataError("the file has no header row", source=str(path)) from None
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise DataError(f"malformed table ({exc})", source=str(path)) from exc
    df.attrs["sep"] = sep
    return df


# --------------------------------------------------------------------------- spreadsheets and parquet


def _cell_text(v: object) -> object:
    """An XLSX cell as the text a CSV would hold.  Numbers typed in Excel are exact, so they
    are written in a form no number rule can misread: ``7.312`` (three decimals, which reads
    like a thousands mark) becomes ``7.3120``."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return np.nan
    if isinstance(v, bool):
        return str(v).upper()
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if f.is_integer() and abs(f) < 1e15:
            return str(int(f))
        text = repr(f)
        return text + "0" if re.fullmatch(r"-?[1-9]\d{0,2}\.\d{3}", text) else text
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def _read_xlsx(path: Path, size: int, sheet: str | None) -> pd.DataFrame:
    import zipfile

    head = head_bytes(path, 8)
    if not head.startswith(b"PK\x03\x04"):
        kind = next((what for magic, what, _ in _MAGIC if head.startswith(magic)), None)
        if kind is None and b"\x00" not in head_bytes(path, 4096):
            kind = "a text file (a CSV with the .xlsx extension?)"
        raise DataError(f"this is not an Excel workbook (.xlsx): it is {kind or 'a file of unknown format'}",
                        source=str(path), hint="save it from Excel/LibreOffice as .xlsx, or give a CSV with "
                                               "the .csv extension")
    check_file_size(path, "table", size=size)
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            unpacked = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"cannot read the workbook: a broken ZIP archive ({exc})", source=str(path),
                        hint="save it again from Excel/LibreOffice as .xlsx") from exc
    if "xl/workbook.xml" not in names:
        raise DataError("this ZIP archive is not an Excel workbook (no xl/workbook.xml)", source=str(path),
                        hint="give an .xlsx saved by Excel/LibreOffice, or unzip the archive first")
    check_file_size(path, "table", size=unpacked)  # the uncompressed workbook is what is parsed
    check_memory(4 * unpacked, what="reading the workbook", source=str(path))
    import openpyxl
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheets = list(wb.sheetnames)
        wb.close()
        sheet = _choose(path, sheets, sheet or active().layer_for(path), what="sheet")
        raw = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object, engine="openpyxl")
    except DataError:
        raise
    except Exception as exc:  # openpyxl raises KeyError, ValueError, zipfile errors... for broken workbooks
        raise DataError(f"cannot read the workbook ({type(exc).__name__}: {exc})", source=str(path),
                        hint="save it again from Excel/LibreOffice as .xlsx") from exc
    raw = raw.dropna(how="all")
    if raw.empty:
        raise DataError(f"the sheet {sheet!r} is empty", source=str(path))
    header = [("" if _cell_text(c) is np.nan else str(_cell_text(c))) for c in raw.iloc[0]]
    check_unique_columns(header, path)
    body = raw.iloc[1:].map(_cell_text)
    body.columns = [h if h else f"Unnamed: {i}" for i, h in enumerate(header)]
    return body.reset_index(drop=True).astype(object)


def _read_parquet(path: Path, size: int) -> pd.DataFrame:
    with open(path, "rb") as fh:
        first = fh.read(4)
        fh.seek(max(size - 4, 0))
        last = fh.read(4)
    if first != b"PAR1" or last != b"PAR1":
        raise DataError("this is not a Parquet file (it does not start and end with 'PAR1'): "
                        + ("it was cut short" if first == b"PAR1" else "wrong format or extension"),
                        source=str(path), hint="write it again (pandas.DataFrame.to_parquet), or give a CSV")
    check_file_size(path, "table", size=size)
    try:
        import pyarrow.parquet as pq
        meta = pq.ParquetFile(path).metadata
        unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        check_memory(2 * unpacked, what=f"reading the Parquet table ({meta.num_rows:,} rows)", source=str(path))
        df = pd.read_parquet(path)
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError... for damaged files
        raise DataError(f"cannot read the Parquet file ({type(exc).__name__}: {exc})", source=str(path),
                        hint="write it again (pandas.DataFrame.to_parquet), or give a CSV") from exc
    check_unique_columns(list(df.columns), path)
    return df


def _choose(path: Path, names: list[str], wanted: str | None, *, what: str,
            prefer: tuple[str, ...] = ()) -> str:
    """The layer (or sheet) to read: ``wanted``, else the only one, else a ``prefer`` name;
    several and none chosen is an error listing them."""
    if wanted is not None:
        if wanted not in names:
            raise DataError(f"the file has no {what} {wanted!r}; its {what}s are: {', '.join(names)}",
                            source=str(path), hint="fix the name in the scenario's [inputs.layers]")
        return wanted
    if len(names) == 1:
        return names[0]
    for p in prefer:
        if p in names:
            return p
    if not names:
        raise DataError(f"the file has no {what}", source=str(path))
    key = active().input_key(path) or "<input>"
    raise DataError(f"the file has {len(names)} {what}s ({', '.join(names)}) and the scenario does not say which "
                    "one to read", source=str(path),
                    hint=f"add to the scenario: [inputs.layers] {key} = \"{names[0]}\" (or the right one)")


def read_table(path: str | os.PathLike, *, dtype: dict[str, str] | None = None,
               sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV/TXT (UTF-8, Windows-1252 or Latin-1; ``,``/``;``/tab/``|``), XLSX or Parquet table.

    Guarded (:func:`check_file`), then sniffed before it is read whole: binary files, NUL
    bytes anywhere (a broken download padded with zeros), UTF-16 text, a duplicated column
    name and an estimate beyond the memory available are refused with a message naming the
    file.  Text and XLSX columns are read as strings so that codes keep their leading zeros
    (callers convert numbers with :func:`to_number`); a cell that is empty or only spaces is
    missing, while texts such as ``NA``, ``NULL`` or ``-`` are kept as written.  An XLSX
    with several sheets needs ``sheet`` (or the scenario's ``[inputs.layers]``).  The
    separator of a text table is in ``df.attrs["sep"]``.
    """
    path = Path(path)
    size = check_file(path, "table", limit=False)  # each format checks the limit once it is sniffed
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        df = _read_xlsx(path, size, sheet)
    elif suffix == ".xls":
        raise DataError("old Excel .xls workbooks are not read", source=str(path),
                        hint="open it in Excel/LibreOffice and save it as .xlsx or CSV UTF-8")
    elif suffix == ".parquet":
        df = _read_parquet(path, size)
    else:
        df = _read_text(path, size)
    sep = df.attrs.get("sep")
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise DataError("the table has a header but no rows", source=str(path))
    if suffix != ".parquet":  # explicit empty cells: "" and "   " are missing, any other text is kept
        for c in df.columns:
            s = df[c]
            blank = s.notna() & (s.astype(str).str.strip() == "")
            if blank.any():
                df[c] = s.where(~blank)
    if dtype:
        for col, kind in dtype.items():
            if col in df.columns and kind != "str":
                df[col] = to_number(df[col], sep=sep, column=col, source=str(path))
    if sep:
        df.attrs["sep"] = sep
    return df


def zfill_code(values: pd.Series, width: int) -> pd.Series:
    """Codes that lost their leading zeros (``60101`` or ``60101.0``) back to ``060101``.

    Only digits are padded: a text such as ``NA`` stays ``NA`` (it is no code, and no check
    downstream mistakes ``0000NA`` for one)."""
    s = values.astype("string").str.strip().str.replace(r"\.0+$", "", regex=True)
    return s.where(~s.str.fullmatch(r"\d+").fillna(False).astype(bool), s.str.zfill(width))


# --------------------------------------------------------------------------- vector and raster files

VECTOR_SUFFIXES = frozenset({".gpkg", ".geojson", ".json", ".shp", ".fgb"})


def vector_layer(path: str | os.PathLike, *, layer: str | None = None, prefer: tuple[str, ...] = (),
                 hint: str | None = None, strict: bool = True) -> str | None:
    """The guarded open of a vector file: it exists, is not empty or beyond ``[limits] vector_mb``,
    a ``.gpkg`` is an SQLite database, and the layer to read is ``layer``, else the scenario's
    ``[inputs.layers]`` entry for the file, else its only layer, else the first of ``prefer``
    it has.  Several layers and none chosen is a :class:`DataError` listing them.  With
    ``strict=False`` a file whose layers cannot be listed returns ``layer`` unchanged (the
    caller's reader then reports the damage in its own words)."""
    import pyogrio

    path = Path(path)
    check_file(path, "vector", hint=hint)
    if path.suffix.lower() == ".gpkg" and not head_bytes(path, 16).startswith(b"SQLite format 3\x00"):
        if not strict:
            return layer
        raise DataError("cannot read the file: this is not a GeoPackage (it does not start like an SQLite "
                        "database)", source=str(path), hint="give a GeoPackage saved by QGIS/GDAL, or the file with "
                                                            "its real extension")
    try:
        layers = [str(x[0]) for x in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and others for unreadable files
        if not strict:
            return layer
        raise DataError(f"cannot read the file ({exc})", source=str(path),
                        hint="give a GeoPackage, GeoJSON or shapefile readable by GDAL") from exc
    return _choose(path, layers, layer or active().layer_for(path), what="layer", prefer=prefer)


def read_vector(path: str | os.PathLike, *, layer: str | None = None, prefer: tuple[str, ...] = (),
                hint: str | None = None):
    """A vector layer (GPKG/GeoJSON/SHP/FGB) as a GeoDataFrame, through the guarded open.

    The layer is ``layer``, else the scenario's ``[inputs.layers]`` entry for this file, else
    the only layer of the file, else the first of ``prefer`` it has; a file with several
    layers and none of these is refused with the list of its layers (never "the first one").
    """
    import geopandas as gpd

    path = Path(path)
    name = vector_layer(path, layer=layer, prefer=prefer, hint=hint)
    check_memory(4 * path.stat().st_size, what="reading the layer", source=str(path))
    try:
        return gpd.read_file(path, layer=name)
    except Exception as exc:
        raise DataError(f"cannot read the file (layer {name!r}: {exc})", source=str(path),
                        hint="give a GeoPackage, GeoJSON or shapefile readable by GDAL") from exc


def read_point_layer(path: str | os.PathLike, *, layer: str | None = None) -> pd.DataFrame:
    """A vector layer (GPKG/GeoJSON/SHP/FGB) as a DataFrame plus float ``_lon`` / ``_lat``
    columns in EPSG:4326 (centroids for non-point geometries).  Text fields become strings;
    numeric fields keep their type (they are exact: no number rule is applied to them)."""
    import shapely

    path = Path(path)
    g = read_vector(path, layer=layer)
    if len(g) == 0:
        raise DataError("the layer has no features", source=str(path))
    if g.crs is not None:
        g = g.to_crs(4326)
    geom = g.geometry
    if not geom.dropna().geom_type.eq("Point").all():
        geom = geom.centroid
    df = pd.DataFrame(g.drop(columns="geometry"))
    check_unique_columns(list(df.columns), path)
    text = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])]
    df = df.astype({c: "string" for c in text})
    df["_lon"] = shapely.get_x(np.asarray(geom.values))
    df["_lat"] = shapely.get_y(np.asarray(geom.values))
    return df


def open_raster(path: str | os.PathLike, *, what: str = "raster", hint: str | None = None):
    """Open a raster with rasterio through the guarded open; an unreadable file is a
    :class:`DataError` naming it and saying what was expected (a GeoTIFF)."""
    import rasterio

    path = Path(path)
    check_file(path, "raster", hint=hint)
    try:
        src = rasterio.open(path)
    except Exception as exc:  # RasterioIOError, and others for damaged files
        raise DataError(f"cannot read the raster ({exc})", source=str(path),
                        hint=f"give the {what} as a GeoTIFF readable by GDAL") from exc
    if src.count < 1:
        src.close()
        raise DataError(f"the {what} has no band", source=str(path), hint="give a single-band GeoTIFF")
    return src
