"""The road table shared by every road loader: its columns, sources, readers and connectivity.

Rules of the loaders: :mod:`siting.data.roads` (package docstring).  Every loader returns
:func:`empty_roads`-shaped tables (:data:`ROAD_COLUMNS`, EPSG:4326, 2-D LineStrings).
"""
from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ...errors import DataError
from ...io import vector_layer
from ..quality import QualityReport

ROAD_COLUMNS = ["road_id", "route_code", "road_class", "surface", "approximate", "source", "geometry"]
ROAD_CLASSES = ("national_paved", "national_unknown", "departmental_paved",
                "departmental_unpaved", "vecinal", "trail", "urban")

SOURCE_MTC_LINES = "mtc_lines"
SOURCE_VECINAL = "mtc_vecinal_nodes"
SOURCE_NATIONAL = "national_from_junctions"
NATIONAL_UNKNOWN = "national_unknown"  # class of national roads whose surface no layer gives (#14)
SOURCE_OSM = "osm"

DUPLICATE_NODE_M = 1.0  # nodes of one route closer than this at the same POSICION are one node
MIN_LENGTH_M = 0.01  # lines shorter than this (projected) are "length 0"


def _plain(text: object) -> str:
    """Upper case without accents and repeated spaces (for value lookups)."""
    import unicodedata
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", s).strip().upper()


def empty_roads() -> gpd.GeoDataFrame:
    """An empty road table with the contract's columns."""
    columns = {c: pd.Series(dtype=object) for c in ROAD_COLUMNS[:-1]} | {"approximate": pd.Series(dtype=bool)}
    return gpd.GeoDataFrame(columns,
                            geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")[ROAD_COLUMNS]


def _roads_frame(rows: list[dict], crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    if not rows:
        return empty_roads()
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    gdf["approximate"] = gdf["approximate"].astype(bool)
    return gdf[ROAD_COLUMNS]

# ---------------------------------------------------------------- reading layers
def _read_layer(path: str | Path, input_name: str, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer, check it has features and a CRS, return it in EPSG:4326 (2-D)."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", source=str(path), hint=f"check 'inputs.{input_name}' in the scenario")
    layer = vector_layer(path, layer=layer, strict=False)  # issue #20: size limit; several layers need a choice
    try:
        gdf = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise DataError(f"cannot read the layer ({exc})", source=str(path),
                        hint="give a GeoPackage, shapefile or GeoJSON readable by GDAL") from exc
    if len(gdf) == 0 or gdf.geometry.isna().all() or gdf.geometry.is_empty.all():
        raise DataError("the layer has no features (a road layer with no lines)" if input_name == "roads"
                        else "the layer has no features", source=str(path),
                        hint=f"check that the file is the right one, or remove it from 'inputs.{input_name}'")
    if gdf.crs is None:
        raise DataError("the layer has no coordinate reference system (CRS)", source=str(path),
                        hint="assign the CRS it was made in (e.g. EPSG:4326 for lon/lat) in QGIS "
                             "or with `ogr2ogr -a_srs EPSG:4326 out.gpkg in.gpkg`, and save it again")
    gdf = gdf.to_crs("EPSG:4326")
    gdf = gdf.set_geometry(shapely.force_2d(gdf.geometry.values))
    return gdf


def _first_column(df: pd.DataFrame, names: Sequence[str]) -> str | None:
    upper = {c.upper(): c for c in df.columns}
    for n in names:
        if n.upper() in upper:
            return upper[n.upper()]
    return None

def _drop_zero_length(roads: gpd.GeoDataFrame, crs: str, quality: QualityReport, name: str) -> gpd.GeoDataFrame:
    if len(roads) == 0:
        return roads
    length = roads.to_crs(crs).length.to_numpy()
    zero = length < MIN_LENGTH_M
    if zero.any():
        quality.add_many(name, roads.loc[zero, "road_id"], "line of length 0", action="dropped")
    return roads.loc[~zero].reset_index(drop=True)


# ---------------------------------------------------------------- projections
@functools.lru_cache(maxsize=8)
def _transformer(crs: str):
    from pyproj import Transformer
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def _to_4326(coords: np.ndarray, crs: str) -> np.ndarray:
    t = _transformer(crs)
    lon, lat = t.transform(coords[:, 0], coords[:, 1])
    return np.c_[lon, lat]


# ---------------------------------------------------------------- connectivity
def road_components(roads: gpd.GeoDataFrame, crs: str, tolerance_m: float = 50.0) -> np.ndarray:
    """Connected component id of every road line (0 = the largest component, then by size).

    Two lines are connected when an end point of one lies within ``tolerance_m`` (in the
    projected ``crs``) of any point of the other (shared nodes, T-junctions, small gaps);
    lines that merely cross are not.  Components are the connected components of that
    relation (``scipy.sparse.csgraph.connected_components``).
    """
    n = len(roads)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    geoms = roads.to_crs(crs).geometry.values
    starts = shapely.get_point(geoms, 0)
    ends = shapely.get_point(geoms, -1)
    tree = shapely.STRtree(geoms)
    pts = np.concatenate([starts, ends])
    owner = np.concatenate([np.arange(n), np.arange(n)])
    pi, li = tree.query(pts, predicate="dwithin", distance=tolerance_m)
    a = np.concatenate([owner[pi], np.arange(n)])
    b = np.concatenate([li, np.arange(n)])
    adj = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)).tocsr()
    _, labels = connected_components(adj, directed=False)
    sizes = np.bincount(labels)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[labels].astype(np.int64)


def report_components(roads: gpd.GeoDataFrame, quality: QualityReport, *, crs: str,
                      tolerance_m: float = 50.0) -> np.ndarray:
    """Compute :func:`road_components` and put the count and sizes into ``quality``."""
    comp = road_components(roads, crs, tolerance_m)
    if len(comp) == 0:
        return comp
    km = roads.to_crs(crs).length.to_numpy() / 1000.0
    table = pd.DataFrame({"comp": comp, "km": km}).groupby("comp").agg(lines=("km", "size"), km=("km", "sum"))
    n = len(table)
    if n > 1:
        quality.note(f"The road network is split into {n} disconnected parts (end points farther than "
                     f"{tolerance_m:g} m from any other road); the largest has {int(table['lines'].iloc[0])} lines "
                     f"({table['km'].iloc[0]:.0f} km of {km.sum():.0f} km). Places on the others reach the rest "
                     "only by walking.",
                     es=f"La red vial está dividida en {n} partes desconectadas (extremos a más de "
                     f"{tolerance_m:g} m de cualquier otra vía); la mayor tiene {int(table['lines'].iloc[0])} "
                     f"tramos ({table['km'].iloc[0]:.0f} km de {km.sum():.0f} km). Los centros poblados ubicados "
                     "en las demás partes llegan al resto solo caminando.")
        for cid, r in table.iloc[1:].iterrows():
            routes = sorted(set(roads["route_code"].to_numpy()[comp == cid]))
            quality.add("roads", f"component {cid}", "disconnected road component",
                        f"{int(r['lines'])} lines, {r['km']:.1f} km, routes {', '.join(routes[:5])}"
                        + ("…" if len(routes) > 5 else ""))
    return comp
