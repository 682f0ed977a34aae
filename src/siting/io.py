"""Small I/O helpers shared by every stage: robust table reading, atomic writes, hashes.

Peruvian open data arrives as UTF-8 or Latin-1, separated by ``,`` or ``;``, with
thousands separators and codes that lost their leading zeros.  :func:`read_table`
reads all of these; :func:`atomic_path` guarantees that a file is either complete
or absent, never half-written.
"""
from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from .errors import DataError

ENCODINGS = ("utf-8-sig", "latin-1")


def sha256(path: str | os.PathLike, *, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file (used in run manifests and cache keys)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


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


def _decode(raw: bytes, path: Path) -> str:
    for enc in ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DataError("cannot decode the file as UTF-8 or Latin-1", source=str(path),
                    hint="save it as UTF-8 (CSV UTF-8 in Excel)")


def read_table(path: str | os.PathLike, *, dtype: dict[str, str] | None = None) -> pd.DataFrame:
    """Read a CSV/TXT (any of UTF-8/Latin-1, ``,``/``;``/tab) or XLSX into a DataFrame.

    All columns are read as strings first so that codes keep their leading zeros;
    callers convert numbers with :func:`to_number`.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", source=str(path),
                        hint="check the path in the scenario's [inputs] section")
    if path.stat().st_size == 0:
        raise DataError("the file is empty", source=str(path))
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xls"}:
        df = pd.read_excel(path, dtype=str)
    elif suffix == ".parquet":
        df = pd.read_parquet(path)
    else:
        raw = path.read_bytes()
        if b"\x00" in raw[:65536]:
            raise DataError("this is not a text table (it contains binary data)", source=str(path),
                            hint="give a CSV/TXT or XLSX file; a GeoPackage or Excel file renamed to .csv "
                                 "must keep its own extension, and a UTF-16 text ('Unicode text' in Excel) "
                                 "must be saved again as CSV UTF-8")
        text = _decode(raw, path)
        sample = text[:20000]
        try:
            sep = csv.Sniffer().sniff(sample.splitlines()[0] if sample else "", delimiters=",;\t|").delimiter
        except csv.Error:
            sep = ","
        try:
            df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=True)
        except pd.errors.ParserError as exc:
            raise DataError(f"malformed table ({exc})", source=str(path)) from exc
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise DataError("the table has a header but no rows", source=str(path))
    if dtype:
        for col, kind in dtype.items():
            if col in df.columns and kind != "str":
                df[col] = to_number(df[col])
    return df


def to_number(values: pd.Series) -> pd.Series:
    """Parse numbers written as ``1,234``, ``1.234,5`` or ``1234.5`` (NaN where impossible)."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    s = values.astype("string").str.strip()
    both = s.str.contains(",", na=False) & s.str.contains(r"\.", na=False)
    comma_dec = both & (s.str.rfind(",") > s.str.rfind("."))
    s = s.where(~comma_dec, s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    thousands = s.str.fullmatch(r"-?\d{1,3}(,\d{3})+", na=False)
    s = s.where(~(thousands | (both & ~comma_dec)), s.str.replace(",", "", regex=False))
    s = s.str.replace(",", ".", regex=False)
    return pd.to_numeric(s, errors="coerce").astype(float)


def zfill_code(values: pd.Series, width: int) -> pd.Series:
    """Codes that lost their leading zeros (``60101`` or ``60101.0``) back to ``060101``."""
    s = values.astype("string").str.strip().str.replace(r"\.0+$", "", regex=True)
    return s.str.zfill(width)


_RUN_RANDOM: dict[int, str] = {}


def process_token() -> str:
    """A token unique to this process: ``<pid>x<8 random hex digits>``.

    Every temporary :func:`atomic_path` makes carries it, so a clean-up can tell its own
    (or a dead process's) temporaries from anything else in the folder.  A forked child
    gets a token of its own (the pid is part of the key)."""
    pid = os.getpid()
    if pid not in _RUN_RANDOM:
        _RUN_RANDOM[pid] = secrets.token_hex(4)
    return f"{pid}x{_RUN_RANDOM[pid]}"


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (``kill(pid, 0)``)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except OSError:
        return False
    return True


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    The temporary is ``.<name>.siting-<token>-<random>.part<suffix>`` with the
    :func:`process_token` of the writer: an interrupted write leaves only such a hidden
    file, which nothing reads.  A hard kill (SIGKILL, power cut) cannot run the clean-up,
    so the temporary (and a GeoPackage's ``-journal``) stays behind until
    :func:`remove_partial_files` removes it: only names of exactly this form, and only
    those of a given token or of a process that no longer runs.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.siting-{process_token()}-", suffix=".part" + target.suffix,
                               dir=target.parent)
    os.close(fd)
    os.unlink(tmp)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        for leftover in (tmp_path, *(tmp_path.with_name(tmp_path.name + s) for s in _SQLITE_SIDE)):
            if leftover.exists():
                leftover.unlink()


_SQLITE_SIDE = ("-journal", "-wal", "-shm")

#: names :func:`atomic_path` gives its temporaries (plus SQLite's side files of a GeoPackage);
#: group ``pid`` and ``token`` (``<pid>x<hex>``) name the process that wrote it
PARTIAL_NAME = re.compile(r"^\..+\.siting-(?P<token>(?P<pid>\d+)x[0-9a-f]{8})-[A-Za-z0-9_]+\.part"
                          r"(\.[^.]+)?(-journal|-wal|-shm)?$")


def remove_partial_files(folder: str | os.PathLike, *, token: str | None = None,
                         older_than_s: float = 0.0) -> list[Path]:
    """Delete the temporaries an interrupted :func:`atomic_path` left in ``folder``.

    Only names that match :data:`PARTIAL_NAME` exactly are touched (a user's file such as
    ``.places.part.csv`` never is), and of those only the ones written with ``token`` or,
    without ``token``, the ones whose writer process no longer runs (:func:`pid_alive`) and
    that were not modified for ``older_than_s`` seconds (a margin for a folder other
    machines may share, such as a network cache).  Returns the paths removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    now = time.time()
    removed = []
    for p in sorted(folder.iterdir()):
        m = PARTIAL_NAME.match(p.name)
        if not m or not p.is_file():
            continue
        if token is not None and m.group("token") != token:
            continue
        if token is None and (m.group("token") == process_token() or pid_alive(int(m.group("pid")))):
            continue  # a live writer's (maybe our own) temporary
        try:
            if now - p.stat().st_mtime >= older_than_s:
                p.unlink()
                removed.append(p)
        except FileNotFoundError:  # removed meanwhile by its own writer
            continue
    return removed


VECTOR_SUFFIXES = frozenset({".gpkg", ".geojson", ".json", ".shp", ".fgb"})


def read_point_layer(path: str | os.PathLike) -> pd.DataFrame:
    """A vector layer (GPKG/GeoJSON/SHP/FGB) as a DataFrame of strings plus float ``_lon`` /
    ``_lat`` columns in EPSG:4326 (centroids for non-point geometries)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    path = Path(path)
    if not path.exists():
        raise DataError("file not found", source=str(path), hint="check the path in the scenario's [inputs] section")
    try:
        g = gpd.read_file(path)
    except Exception as exc:
        raise DataError(f"cannot read the file ({exc})", source=str(path)) from exc
    if len(g) == 0:
        raise DataError("the layer has no features", source=str(path))
    if g.crs is not None:
        g = g.to_crs(4326)
    geom = g.geometry
    if not geom.dropna().geom_type.eq("Point").all():
        geom = geom.centroid
    df = pd.DataFrame(g.drop(columns="geometry"))
    df = df.astype({c: "string" for c in df.columns})
    df["_lon"] = shapely.get_x(np.asarray(geom.values))
    df["_lat"] = shapely.get_y(np.asarray(geom.values))
    return df
