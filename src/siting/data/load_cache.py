"""The slow loaders' tables kept between runs (issue #19): the centros poblados and the roads.

Reading and checking the INEI table and rebuilding the MTC roads take about 1.8 CPU-s of
every run's data stage although they give the same table whenever the files and the
settings are the same.  :func:`cached_load` keeps each table in ``run.cache_dir`` as

- ``<name>_<key>.parquet``: the table (GeoParquet: the geometries as WKB, the dtypes in its
  pandas metadata), and
- ``<name>_<key>.json``: what the loader added to the quality report (problems, row counts,
  caveats in both languages) and the table's ``attrs``,

keyed by the SHA-256 of the input files' bytes (a shapefile with its sidecar files), of the
scenario sections the loader reads, of the tables it is given and of the source of
``siting.data``, ``siting.io`` and the modules they use (a new version of a loader, or of a
caveat's text, never reads an old table).  A hit replays the quality record into the run's
report, so the report and every output are those of a fresh load (a load that fails keeps
nothing, so its error is raised again).  No pickle: a cache file is data only, and one that cannot
be read, or whose key, table or record does not match, is ignored and written again.  A
table is only kept when it reads back exactly (same columns, dtypes, values and value types,
``None`` against ``NaN`` included), so a hit returns the very table the loader returned.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..atomic import atomic_path
from .quality import QualityReport

log = logging.getLogger(__name__)

#: bump when the cache files' layout changes
FORMAT = 1


@lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 of the source of ``siting.data`` and ``siting.io`` (the loaders and readers), of
    ``numformat``, ``limits``, ``scenario`` and ``i18n`` (the caveats' texts are cached too)."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted([*root.joinpath("data").rglob("*.py"), *root.glob("io*.py"),
                        *(root / name for name in ("numformat.py", "limits.py", "i18n.py", "scenario.py"))]):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def file_digest(path: str | Path) -> list[tuple[str, str]]:
    """``(name, sha256)`` of ``path`` and of its shapefile sidecars (``.dbf``, ``.prj``, ...)."""
    from ..io import sha256

    p = Path(path)
    if not p.exists():
        return [(p.name, "missing")]
    files = sorted(q for q in p.parent.glob(f"{p.stem}.*") if q.is_file()) if p.suffix.lower() == ".shp" else [p]
    return [(q.name, sha256(q)) for q in files]


def frame_digest(df: pd.DataFrame | None) -> str:
    """SHA-256 of a table's columns, dtypes and values (geometries as WKB)."""
    if df is None:
        return "none"
    h = hashlib.sha256(json.dumps([list(map(str, df.columns)), list(map(str, df.dtypes))]).encode())
    for col in df.columns:
        s = df[col]
        if isinstance(s.dtype, gpd.array.GeometryDtype):
            h.update(b"".join(g or b"" for g in s.to_wkb().tolist()))
        else:
            h.update(pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes())
    return h.hexdigest()


def cache_key(name: str, *, files: Iterable[str | Path], settings: Mapping[str, Any],
              frames: Mapping[str, pd.DataFrame | None] | None = None) -> str:
    """The key of one cached table: its name, the files' bytes, ``settings`` (JSON), the
    ``frames`` given to the loader and :func:`code_digest`."""
    parts = {"format": FORMAT, "name": name, "code": code_digest(),
             "files": [file_digest(f) for f in files], "settings": settings,
             "frames": {k: frame_digest(v) for k, v in (frames or {}).items()}}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _record(q: QualityReport, df: pd.DataFrame | None = None) -> dict[str, Any]:
    """The quality record of a loader, with the table's ``attrs`` and its ``object`` columns
    (Parquet gives text back as ``str``: :func:`_read` makes them ``object`` again)."""
    return {"problems": q.problems, "counts": q.counts, "notes": [[n, q.notes_es.get(n)] for n in q.notes],
            "attrs": {} if df is None else dict(df.attrs),
            "object_columns": [] if df is None else [str(c) for c in df.columns if df[c].dtype == object]}


def _read(table: Path, record: Mapping[str, Any]) -> gpd.GeoDataFrame:
    df = gpd.read_parquet(table)
    objects = [c for c in record["object_columns"] if df[c].dtype != object]
    if objects:
        df = df.astype(dict.fromkeys(objects, object))
    df.attrs = dict(record["attrs"])
    return df


def _replay(record: Mapping[str, Any], quality: QualityReport) -> None:
    """Add the loader's quality record to ``quality``, as the loader would have added it."""
    quality.problems.extend(dict(p) for p in record["problems"])
    quality.counts.update({k: dict(v) for k, v in record["counts"].items()})
    for en, es in record["notes"]:
        if es is None:  # appended without a Spanish version: as the loader left it
            if en not in quality.notes:
                quality.notes.append(en)
        else:
            quality.note(en, es=es)


def _value_types(df: pd.DataFrame) -> list[Any]:
    return [[type(v).__name__ for v in df[c].tolist()] if df[c].dtype == object else str(df[c].dtype)
            for c in df.columns if not isinstance(df[c].dtype, gpd.array.GeometryDtype)]


def _reads_back_exactly(df: gpd.GeoDataFrame, back: gpd.GeoDataFrame) -> bool:
    try:
        pd.testing.assert_frame_equal(pd.DataFrame(back), pd.DataFrame(df), check_exact=True, check_like=False)
    except AssertionError:
        return False
    return back.crs == df.crs and back.geometry.name == df.geometry.name and _value_types(back) == _value_types(df)


def cached_load(name: str, load: Callable[[QualityReport], gpd.GeoDataFrame], *, quality: QualityReport,
                cache_dir: str | Path | None, key: str) -> gpd.GeoDataFrame:
    """``load(report)`` (a loader that adds its problems and caveats to ``report``), or the
    table it returned for the same ``key`` (:func:`cache_key`) in an earlier run.

    The loader always runs on a fresh :class:`QualityReport` whose record is then replayed
    into ``quality``, so a hit and a fresh load leave ``quality`` the same.  Without
    ``cache_dir`` the loader runs on ``quality`` directly.  An empty table is not kept."""
    if not cache_dir:
        return load(quality)
    folder = Path(cache_dir)
    table, meta = folder / f"{name}_{key}.parquet", folder / f"{name}_{key}.json"
    if table.exists() and meta.exists():
        try:
            record = json.loads(meta.read_text(encoding="utf-8"))
            if record.get("key") == key and record.get("format") == FORMAT:
                df = _read(table, record)
                _replay(record, quality)
                return df
        except Exception as exc:  # noqa: BLE001 - a damaged cache is rebuilt, never trusted
            log.warning("cached %s %s unreadable (%s): loading again", name, table, exc)
    fresh = QualityReport()
    df = load(fresh)
    _replay(_record(fresh), quality)
    if len(df) and isinstance(df, gpd.GeoDataFrame):
        _keep(df, fresh, folder=folder, table=table, meta=meta, key=key, name=name)
    return df


def _keep(df: gpd.GeoDataFrame, fresh: QualityReport, *, folder: Path, table: Path, meta: Path, key: str,
          name: str) -> None:
    """Write the table and its record when both read back exactly (else keep nothing)."""
    try:
        record = {"format": FORMAT, "key": key, **_record(fresh, df)}
        text = json.dumps(record, ensure_ascii=False)
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(table) as tmp:
            df.to_parquet(tmp, index=True)
        back = _read(table, json.loads(text))
        if not _reads_back_exactly(df, back) or back.attrs != df.attrs:
            table.unlink(missing_ok=True)
            log.info("%s does not read back exactly from GeoParquet: not cached", name)
            return
        with atomic_path(meta) as tmp:
            Path(tmp).write_text(text, encoding="utf-8")
    except (OSError, TypeError, ValueError) as exc:  # a cache that cannot be written only costs time
        table.unlink(missing_ok=True)
        log.warning("could not cache %s in %s: %s", name, folder, exc)
