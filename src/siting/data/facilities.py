"""Facilities: CETPRO (from a school base / padrón), extension centres, Tambos, school premises.

Every loader returns a GeoDataFrame in EPSG:4326 with the schema of
``docs/ARCHITECTURE.md`` and writes what it rejected or doubts to the quality report.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from ..errors import DataError
from ..io import VECTOR_SUFFIXES, read_point_layer, read_table, to_number, zfill_code
from ..scenario import Scenario
from .boundaries import check_coordinates, fold, load_districts
from .quality import QualityReport
from .registry_read import read_registry

#: NIVEL_MODALIDAD values of a CETPRO (compared accent- and case-insensitively);
#: "Educación Ocupacional" is the pre-2003 name of the same modality.
CETPRO_MODALITIES = ("Técnico Productiva", "Educación Ocupacional")

CETPRO_COLUMNS = ["facility_id", "cod_mod", "codlocal", "name", "kind", "ubigeo", "district", "province", "ugel",
                  "enrolment", "teachers", "capacity", "max_extensions", "geometry"]
EXTENSION_COLUMNS = ["facility_id", "name", "kind", "parent_cod_mod", "ccpp_id", "opening_date", "specialties",
                     "host_type", "resolution", "status", "note", "geometry"]  # registry contract columns
TAMBO_COLUMNS = ["tambo_code", "name", "ubigeo", "geometry"]
PREMISES_COLUMNS = ["codlocal", "name", "ccpp_name", "altitude_m", "geometry"]


def _col(df: pd.DataFrame, *names: str) -> str | None:
    """The first column of ``df`` whose folded name is one of ``names``."""
    folded = {fold(c): c for c in df.columns}
    for n in names:
        if fold(n) in folded:
            return folded[fold(n)]
    return None


def _require(df: pd.DataFrame, path: Path, spec: dict[str, tuple[str, ...]]) -> dict[str, str]:
    found, missing = {}, []
    for key, names in spec.items():
        c = _col(df, *names)
        if c is None:
            missing.append(f"{key} (one of {', '.join(names)})")
        else:
            found[key] = c
    if missing:
        raise DataError(f"missing column(s): {'; '.join(missing)}", source=str(path),
                        hint=f"the file has: {', '.join(map(str, df.columns))}")
    return found


def read_points(path: str | Path, *, lon: tuple[str, ...] = ("lon", "LONGITUD", "longitude", "X"),
                lat: tuple[str, ...] = ("lat", "LATITUD", "latitude", "Y")) -> pd.DataFrame:
    """A point file as a DataFrame of strings plus float ``_lon``/``_lat`` columns.

    Vector files (GPKG/GeoJSON/SHP) take coordinates from the geometry (reprojected to
    EPSG:4326); tables (CSV/TXT/XLSX) from a lon/lat column pair (NaN when absent).
    """
    path = Path(path)
    if path.suffix.lower() in VECTOR_SUFFIXES:
        return read_point_layer(path)
    df = read_table(path)
    x, y = _col(df, *lon), _col(df, *lat)
    df["_lon"] = to_number(df[x]) if x else np.nan
    df["_lat"] = to_number(df[y]) if y else np.nan
    df.attrs["has_xy"] = bool(x and y)
    return df


def _require_xy(df: pd.DataFrame, path: Path) -> None:
    if not df.attrs.get("has_xy", True):
        raise DataError("missing coordinate columns (LATITUD and LONGITUD, or lat and lon)", source=str(path),
                        hint=f"the file has: {', '.join(c for c in df.columns if not c.startswith('_'))}")


def _drop_duplicates(df: pd.DataFrame, key: str, input_name: str, quality: QualityReport) -> pd.DataFrame:
    dup = df[key].duplicated(keep="first")
    if dup.any():
        quality.add_many(input_name, df.loc[dup, key], f"duplicate {key}", "first row kept", action="dropped")
    return df[~dup]


def _points(df: pd.DataFrame) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy(df["_lon"], df["_lat"]), index=df.index, crs=4326)


# --------------------------------------------------------------------------- CETPRO


def load_cetpro(sc: Scenario, quality: QualityReport, *, districts: gpd.GeoDataFrame | None = None
                ) -> gpd.GeoDataFrame:
    """CETPRO services of the school base (``inputs.school_base``).

    Keeps rows whose ``NIVEL_MODALIDAD`` is one of :data:`CETPRO_MODALITIES`.
    ``enrolment`` = ``TOTAL_ALUMNOS``; ``teachers`` = ``TDOCENTE``; ``capacity`` = a
    ``CAPACIDAD``/``capacity`` column if present, else ``access.capacity_column``
    (default the enrolment); ``max_extensions`` = a ``MAX_EXTENSIONES``/``max_extensions``
    column if present, else ``allocation.max_extensions_per_cetpro``.  District, province
    and UGEL come from the polygon holding the point (``districts``, loaded when not
    given); a disagreeing ``UGEL`` column is flagged.  Flags: zero enrolment (kept),
    duplicate COD_MOD (dropped), missing/outside-Peru coordinates (dropped), outside the
    department (kept).
    """
    name = "cetpro"
    if not sc.inputs.school_base:
        raise DataError("no school base given", source="scenario [inputs] school_base",
                        hint="set inputs.school_base to a MINEDU padrón / DRE base with NIVEL_MODALIDAD")
    path = Path(sc.inputs.school_base)
    df = read_points(path)
    cols = _require(df, path, {"COD_MOD": ("COD_MOD", "CODMOD", "CODIGO_MODULAR"),
                               "NIVEL_MODALIDAD": ("NIVEL_MODALIDAD", "D_NIV_MOD", "NIVEL/MODALIDAD")})
    _require_xy(df, path)
    wanted = {fold(m) for m in CETPRO_MODALITIES}
    df = df[df[cols["NIVEL_MODALIDAD"]].map(lambda v: fold(v) if isinstance(v, str) else "").isin(wanted)].copy()
    if districts is None:
        districts = load_districts(sc, QualityReport())
    n_read = len(df)
    df["cod_mod"] = zfill_code(df[cols["COD_MOD"]], 7)
    df = _drop_duplicates(df, "cod_mod", name, quality)
    df = check_coordinates(df, lon="_lon", lat="_lat", id_col="cod_mod", input_name=name, quality=quality,
                           area=districts.geometry.union_all())
    c_local = _col(df, "CODLOCAL", "COD_LOCAL")
    c_name = _col(df, "NOMBRE_IE", "CEN_EDU", "NOMBRE", "name")
    c_enr = _col(df, "TOTAL_ALUMNOS", "TALUMNO", "MATRICULA", "enrolment")
    c_teach = _col(df, "TDOCENTE", "DOCENTES", "teachers")
    c_cap = _col(df, "CAPACIDAD", "capacity") or _col(df, sc.access.capacity_column)
    c_max = _col(df, "MAX_EXTENSIONES", "max_extensions")
    out = gpd.GeoDataFrame({
        "facility_id": df["cod_mod"], "cod_mod": df["cod_mod"],
        "codlocal": zfill_code(df[c_local], 6) if c_local else pd.NA,
        "name": df[c_name].astype("string") if c_name else df["cod_mod"],
        "kind": "cetpro",
    }, geometry=_points(df), crs=4326)
    out["enrolment"] = to_number(df[c_enr]) if c_enr else np.nan
    out["teachers"] = to_number(df[c_teach]) if c_teach else np.nan
    out["capacity"] = to_number(df[c_cap]) if c_cap else out["enrolment"]
    out["max_extensions"] = (to_number(df[c_max]).fillna(sc.allocation.max_extensions_per_cetpro).astype(int)
                             if c_max else int(sc.allocation.max_extensions_per_cetpro))
    zero = out["enrolment"].fillna(0) == 0
    if zero.any():
        quality.add_many(name, out.loc[zero, "cod_mod"], "zero enrolment",
                         [f"{n}: no students in the base; capacity {c:g}" for n, c in
                          zip(out.loc[zero, "name"], out.loc[zero, "capacity"].fillna(0))])
    _attach_district(out, districts, name, quality)
    c_dist = _col(df, "DISTRITO", "D_DIST")
    if c_dist:
        given = df[c_dist].map(lambda v: fold(v) if isinstance(v, str) else "")
        differ = (given != "") & (given != out["district"].map(lambda v: fold(v) if isinstance(v, str) else ""))
        if differ.any():
            quality.add_many(name, out.loc[differ, "cod_mod"], "point in another district than the base says",
                             [f"base {a}, polygon {b}" for a, b in zip(df.loc[differ, c_dist], out.loc[differ, "district"])])
    c_ugel = _col(df, "UGEL")
    if c_ugel:
        given = df[c_ugel].map(lambda v: fold(v) if isinstance(v, str) else "")
        poly = out["ugel"].map(lambda v: fold(v) if isinstance(v, str) else "")
        differ = given.str.startswith("UGEL") & (given != poly)
        if differ.any():
            quality.add_many(name, out.loc[differ, "cod_mod"], "UGEL differs from the district's UGEL",
                             [f"base {a}, polygon {b}" for a, b in zip(df.loc[differ, c_ugel], out.loc[differ, "ugel"])])
    quality.count(name, read=n_read, kept=len(out))
    return out[CETPRO_COLUMNS].reset_index(drop=True)


def _attach_district(gdf: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, input_name: str,
                     quality: QualityReport) -> None:
    """Add ``ubigeo``, ``district``, ``province``, ``ugel`` from the polygon holding each point (NaN outside)."""
    cols = ["ubigeo", "district", "province", "ugel"]
    hit = gpd.sjoin(gdf[["geometry"]], districts[cols + ["geometry"]], how="left", predicate="within")
    hit = hit[~hit.index.duplicated()]
    for c in cols:
        gdf[c] = hit[c].reindex(gdf.index)


# --------------------------------------------------------------------------- extension centres


def load_extension_centres(path: str | Path, quality: QualityReport, *, places: gpd.GeoDataFrame | None = None,
                           cetpro: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Existing Centros de Extensión from a CSV/XLSX in the registry format (``siting templates``).

    Columns: ``name``, ``parent_cod_mod`` (COD_MOD of the CETPRO that runs it), and either
    ``lon``/``lat`` or a ``ccpp_id`` resolved to the place's point in ``places``;
    ``facility_id`` optional (default ``EXT-001``…).  Rows with neither usable coordinates
    nor a known ``ccpp_id`` are dropped; a parent not in ``cetpro`` is flagged.  The contract's
    ``opening_date``, ``specialties``, ``host_type``, ``resolution``, ``status`` (default
    ``activo``) and ``note`` are kept; every row is validated by
    :func:`siting.data.registry_read.read_registry`.
    """
    name = "extension_centres"
    path = Path(path)
    df = read_registry(path, name, quality)  # registry contract: Spanish headers, XLSX templates, rows validated
    df["_lon"], df["_lat"] = df["lon"], df["lat"]
    cols = _require(df, path, {"name": ("name", "nombre", "NOMBRE_CE"),
                               "parent_cod_mod": ("parent_cod_mod", "COD_MOD_SEDE", "COD_MOD_CETPRO", "COD_MOD")})
    n_read = df.attrs.get("rows_read", len(df))
    c_id = _col(df, "facility_id", "codigo", "id")
    df["facility_id"] = (df[c_id].astype("string") if c_id
                         else pd.Series([f"EXT-{i + 1:03d}" for i in range(len(df))], index=df.index))
    df = _drop_duplicates(df, "facility_id", name, quality)
    c_cc = _col(df, "ccpp_id", "CCPP_ID", "CODCCPP")
    df["ccpp_id"] = zfill_code(df[c_cc], 10) if c_cc else pd.Series(pd.NA, index=df.index, dtype="string")
    no_xy = df["_lon"].isna() | df["_lat"].isna()
    if no_xy.any() and places is not None:
        lookup = places.set_index("ccpp_id").geometry
        pts = df.loc[no_xy, "ccpp_id"].map(lookup)
        ok = pts.notna()
        df.loc[pts.index[ok], "_lon"] = [p.x for p in pts[ok]]
        df.loc[pts.index[ok], "_lat"] = [p.y for p in pts[ok]]
        if ok.any():
            quality.add_many(name, df.loc[pts.index[ok], "facility_id"], "located at its centro poblado",
                             [f"ccpp_id {c}" for c in df.loc[pts.index[ok], "ccpp_id"]], action="estimated")
    df = check_coordinates(df, lon="_lon", lat="_lat", id_col="facility_id", input_name=name, quality=quality)
    out = gpd.GeoDataFrame({"facility_id": df["facility_id"], "name": df[cols["name"]].astype("string"),
                            "kind": "extension", "parent_cod_mod": zfill_code(df[cols["parent_cod_mod"]], 7),
                            "ccpp_id": df["ccpp_id"]}, geometry=_points(df), crs=4326)
    for c in EXTENSION_COLUMNS[5:-1]:  # registry contract columns (siting.data.registry)
        out[c] = df[c]
    out["status"] = out["status"].fillna("activo")
    if cetpro is not None:
        orphan = ~out["parent_cod_mod"].isin(set(cetpro["cod_mod"]))
        if orphan.any():
            quality.add_many(name, out.loc[orphan, "facility_id"], "parent CETPRO not in the CETPRO list",
                             [f"parent_cod_mod {p}" for p in out.loc[orphan, "parent_cod_mod"]])
    quality.count(name, read=n_read, kept=len(out))
    return out[EXTENSION_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------- Tambos


def load_tambos(path: str | Path, quality: QualityReport, *, area: BaseGeometry | None = None) -> gpd.GeoDataFrame:
    """Programa PAIS Tambos (``CODIGO_PLATAFORMA, TAMBO, UBIGEO, LATITUD, LONGITUD``; CSV or XLSX).

    Duplicate codes dropped; coordinates checked (swapped fixed, NaN/outside Peru dropped,
    outside ``area`` flagged when given).
    """
    name = "tambos"
    path = Path(path)
    df = read_points(path)
    cols = _require(df, path, {"CODIGO_PLATAFORMA": ("CODIGO_PLATAFORMA", "COD_TAMBO", "CODIGO"),
                               "TAMBO": ("TAMBO", "NOMBRE_TAMBO", "NOMBRE")})
    _require_xy(df, path)
    n_read = len(df)
    df["tambo_code"] = df[cols["CODIGO_PLATAFORMA"]].astype("string").str.strip()
    df = _drop_duplicates(df, "tambo_code", name, quality)
    df = check_coordinates(df, lon="_lon", lat="_lat", id_col="tambo_code", input_name=name, quality=quality,
                           area=area)
    c_ub = _col(df, "UBIGEO")
    out = gpd.GeoDataFrame({"tambo_code": df["tambo_code"], "name": df[cols["TAMBO"]].astype("string"),
                            "ubigeo": zfill_code(df[c_ub], 6) if c_ub else pd.NA},
                           geometry=_points(df), crs=4326)
    quality.count(name, read=n_read, kept=len(out))
    return out[TAMBO_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------- school premises


def load_school_premises(path: str | Path, quality: QualityReport, *, area: BaseGeometry | None = None) -> gpd.GeoDataFrame:
    """MINEDU school premises (locales): ``CODLOCAL, NOMCPSIG, NALT_LOCAL, CEN_EDU_L`` + points.

    ``name`` = ``CEN_EDU_L`` (one institution of the premises), ``ccpp_name`` = ``NOMCPSIG``.
    Duplicate CODLOCAL dropped; coordinates checked as in :func:`load_tambos`.
    """
    name = "school_premises"
    path = Path(path)
    df = read_points(path, lon=("X_LONGITUD", "lon", "LONGITUD"), lat=("Y_LATITUD", "lat", "LATITUD"))
    cols = _require(df, path, {"CODLOCAL": ("CODLOCAL", "COD_LOCAL")})
    _require_xy(df, path)
    n_read = len(df)
    df["codlocal"] = zfill_code(df[cols["CODLOCAL"]], 6)
    df = _drop_duplicates(df, "codlocal", name, quality)
    df = check_coordinates(df, lon="_lon", lat="_lat", id_col="codlocal", input_name=name, quality=quality,
                           area=area)
    c_name, c_cp, c_alt = _col(df, "CEN_EDU_L", "NOMBRE"), _col(df, "NOMCPSIG", "CEN_POB"), _col(df, "NALT_LOCAL")
    out = gpd.GeoDataFrame({"codlocal": df["codlocal"],
                            "name": df[c_name].astype("string") if c_name else pd.NA,
                            "ccpp_name": df[c_cp].astype("string") if c_cp else pd.NA,
                            "altitude_m": to_number(df[c_alt]) if c_alt else np.nan},
                           geometry=_points(df), crs=4326)
    quality.count(name, read=n_read, kept=len(out))
    return out[PREMISES_COLUMNS].reset_index(drop=True)
