"""Road segments closed in the rainy season (``inputs.closed_segments``, issue #14 item 9).

Two forms, both validated row by row (a bad row is a :class:`~siting.errors.DataError`
naming the file and the row):

* a **table** (CSV/TXT/XLSX) with a ``road_id`` column (the ids of the road table,
  :data:`siting.data.roads.ROAD_COLUMNS`, e.g. ``mtc:<file>:<row>.<part>``, ``vec:<route>:<n>``,
  ``nat:<route>:<k>``) and optionally ``reason``; a vector file with a ``road_id`` column
  is read the same way;
* a **vector file of lines** (GPKG/GeoJSON/SHP/FGB) without ``road_id``: a road segment is
  closed when at least :data:`COVERED_SHARE` of its length lies within :data:`BUFFER_M`
  metres of a closure line (lengths in the study area's projected CRS).

Ids that are not roads of this study area (a closure list of the whole department used for
a few UGELs) are listed in the quality report and ignored; a file of which *no* row matches
a road is refused.  Closing a segment removes its edges from the rainy graph: the builder
never sees the road (:func:`open_roads`).
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import DataError
from ..io import read_table, read_vector
from .quality import QualityReport

INPUT = "closed_segments"
BUFFER_M = 50.0  # a road within this distance of a closure line is along it
COVERED_SHARE = 0.5  # share of a road segment's length along a closure line to close it
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")


def _ids_from_table(df: pd.DataFrame, path: Path) -> list[str]:
    """The ``road_id`` of every row; a missing column or an empty id is refused (row = file line)."""
    cols = {str(c).strip().lower(): c for c in df.columns}
    if "road_id" not in cols:
        names = ", ".join(map(str, df.columns))
        raise DataError(f"the closed-segments table has no 'road_id' column (columns: {names})", source=str(path),
                        hint="one row per closed road segment, column road_id as in the layer 'vias' of acceso.gpkg "
                             "(written by `siting access --rainy`), or give a GeoPackage of lines")
    ids = df[cols["road_id"]]
    empty = ids.isna() | (ids.astype(str).str.strip() == "")
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0]) + 2  # header is line 1
        raise DataError(f"row {row}: empty road_id", source=str(path),
                        hint="every row names one road segment; delete the empty rows")
    return [str(v).strip() for v in ids]


def _ids_along_lines(lines: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, path: Path, crs: str) -> list[str]:
    """Roads with at least :data:`COVERED_SHARE` of their length within :data:`BUFFER_M` of ``lines``."""
    if lines.crs is None:
        raise DataError("the closed-segments layer has no CRS", source=str(path),
                        hint="save it with a coordinate reference system (e.g. EPSG:4326)")
    kinds = lines.geometry.geom_type
    bad = lines.geometry.isna() | lines.geometry.is_empty | ~kinds.isin(["LineString", "MultiLineString"])
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        kind = "empty" if lines.geometry.isna().iloc[first] else kinds.iloc[first]
        raise DataError(f"feature {first + 1}: geometry is {kind}, not a line", source=str(path),
                        hint="draw each closed stretch as a line along the road")
    zone = lines.to_crs(crs).geometry.buffer(BUFFER_M).union_all()
    metric = roads.to_crs(crs).geometry
    covered = metric.intersection(zone).length.to_numpy() / np.maximum(metric.length.to_numpy(), 1e-9)
    return roads["road_id"].astype(str)[covered >= COVERED_SHARE].tolist()


def load_closed_segments(path: str | Path, roads: gpd.GeoDataFrame, quality: QualityReport, *,
                         crs: str) -> list[str]:
    """The ``road_id`` of the road segments ``path`` closes (see the module docstring).

    Unknown ids go to ``quality`` (``action="dropped"``); no match at all is a
    :class:`DataError`.  ``crs``: projected CRS for the line matching."""
    path = Path(path)
    if path.suffix.lower() in TABLE_SUFFIXES:
        ids = _ids_from_table(read_table(path), path)
    else:
        layer = read_vector(path)
        if "road_id" in {str(c).strip().lower() for c in layer.columns}:
            ids = _ids_from_table(pd.DataFrame(layer.drop(columns="geometry")), path)
        else:
            ids = _ids_along_lines(layer, roads, path, crs)
            if not ids:
                raise DataError(f"no road segment lies along the {len(layer)} closure line(s)", source=str(path),
                                hint=f"a road is closed when half its length is within {BUFFER_M:g} m of a line")
    known = set(roads["road_id"].astype(str))
    unknown = [i for i in dict.fromkeys(ids) if i not in known]
    if unknown and len(unknown) == len(set(ids)):
        raise DataError(f"none of the {len(set(ids))} road_id is a road of this study area (first: {unknown[0]!r})",
                        source=str(path),
                        hint="road ids are those of the layer 'vias' of acceso.gpkg (`siting access --rainy`)")
    quality.add_many(INPUT, unknown, "road_id not in the roads of the study area", action="dropped")
    closed = [i for i in dict.fromkeys(ids) if i in known]
    quality.count(INPUT, read=len(ids), kept=len(closed))
    return closed


def open_roads(roads: gpd.GeoDataFrame, closed: list[str]) -> gpd.GeoDataFrame:
    """``roads`` without the rows whose ``road_id`` is in ``closed`` (index reset)."""
    keep = ~roads["road_id"].astype(str).isin(set(closed))
    return roads[keep.to_numpy()].reset_index(drop=True)
