"""INEI district polygons, UGELs and the study area; shared point-location checks.

UGEL rule
---------
In Cajamarca (and in most departments) there is one UGEL per province, named
``"UGEL " + province name`` as the DRE writes it, i.e. upper case *with* accents
(``"UGEL CELENDÍN"``, ``"UGEL JAÉN"``).  INEI polygons carry province names without
accents, so the accented spelling is taken from, in order:

1. the INEI directory of municipalities (``inputs.district_capitals``, column
   ``provincia``, matched on the 4-digit province code of ``ubigeo``), if given;
2. a built-in table for Cajamarca (department ``06``);
3. the polygon's own (unaccented) name.

Departments whose UGELs do not follow provinces (e.g. Lima Metropolitana) need a
district → UGEL table, which is not supported yet; names are always compared accent-
and case-insensitively (:func:`fold`), so a scenario may write ``"ugel celendin"``.
"""
from __future__ import annotations

import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from ..errors import DataError, ScenarioError
from ..io import read_table, zfill_code
from ..scenario import Scenario, StudyArea
from .quality import QualityReport

DISTRICT_COLUMNS = ["ubigeo", "department_code", "province_code", "department", "province", "district",
                    "ugel", "geometry"]

#: Province names of Cajamarca as the DRE writes them (INEI province code -> name).
CAJAMARCA_PROVINCES: dict[str, str] = {
    "0601": "CAJAMARCA", "0602": "CAJABAMBA", "0603": "CELENDÍN", "0604": "CHOTA",
    "0605": "CONTUMAZÁ", "0606": "CUTERVO", "0607": "HUALGAYOC", "0608": "JAÉN",
    "0609": "SAN IGNACIO", "0610": "SAN MARCOS", "0611": "SAN MIGUEL", "0612": "SAN PABLO",
    "0613": "SANTA CRUZ",
}

#: Bounding box of Peru (lon_min, lat_min, lon_max, lat_max), slightly padded.
PERU_BBOX: tuple[float, float, float, float] = (-81.5, -18.5, -68.5, 0.1)


def fold(text: object) -> str:
    """Accent- and case-insensitive key: ``"UGEL Celendín "`` -> ``"UGEL CELENDIN"``."""
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return " ".join(s.upper().split())


def _accented_province_names(sc: Scenario) -> dict[str, str]:
    names = dict(CAJAMARCA_PROVINCES)
    path = sc.inputs.district_capitals
    if path:
        try:
            d = read_table(path)
        except DataError:
            return names
        if {"ubigeo", "provincia"} <= set(d.columns):
            d["pc"] = zfill_code(d["ubigeo"], 6).str[:4]
            for code, name in d.drop_duplicates("pc")[["pc", "provincia"]].itertuples(index=False):
                if isinstance(name, str) and name.strip():
                    names[str(code)] = name.strip().upper()
    return names


def load_districts(sc: Scenario, quality: QualityReport) -> gpd.GeoDataFrame:
    """District polygons of the scenario's department (EPSG:4326) with their UGEL.

    Reads ``inputs.districts`` (the innovar/INEI GeoPackage, layer ``distritos``, or any
    OGR file with ``ubigeo``, ``dep``, ``prov``, ``distr`` columns).  Invalid polygons
    are repaired with ``make_valid`` (flagged ``"fixed"``).
    """
    path = sc.inputs.districts
    if not path:
        raise DataError("no district polygons given", source="scenario [inputs] districts",
                        hint="set inputs.districts to the INEI district polygons "
                             "(data/raw/boundaries/innovar_peru_distritos_inei2017.gpkg)")
    file = Path(path)
    if not file.exists():
        raise DataError("file not found", source=str(file))
    try:
        import pyogrio
        layers = [str(x[0]) for x in pyogrio.list_layers(path)]
        layer = "distritos" if "distritos" in layers else layers[0]
        gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise DataError(f"cannot read the district polygons ({exc})", source=str(path)) from exc
    required = {"ubigeo", "dep", "prov", "distr"}
    missing = sorted(required - set(gdf.columns))
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}", source=str(path),
                        hint=f"the file has: {', '.join(map(str, gdf.columns))}")
    if gdf.crs is None:
        raise DataError("the polygons have no CRS", source=str(path), hint="save them in EPSG:4326")
    gdf = gdf.to_crs(4326)
    gdf["ubigeo"] = zfill_code(gdf["ubigeo"], 6)
    dept = sc.study_area.department
    sel = gdf[gdf["ubigeo"].str[:2] == dept].copy()
    name = "districts"
    if sel.empty:
        valid = ", ".join(sorted(gdf["ubigeo"].str[:2].unique()))
        raise ScenarioError(f"department '{dept}' has no district in {path}",
                            hint=f"study_area.department must be one of: {valid}")
    bad = ~sel.geometry.is_valid
    if bad.any():
        sel.loc[bad, "geometry"] = sel.loc[bad, "geometry"].make_valid()
        quality.add_many(name, sel.loc[bad, "ubigeo"], "invalid polygon", action="fixed")
    dup = sel["ubigeo"].duplicated()
    if dup.any():
        quality.add_many(name, sel.loc[dup, "ubigeo"], "duplicate ubigeo", action="dropped")
        sel = sel[~dup]
    accented = _accented_province_names(sc)
    out = gpd.GeoDataFrame({
        "ubigeo": sel["ubigeo"].astype(str),
        "department_code": sel["ubigeo"].str[:2],
        "province_code": sel["ubigeo"].str[:4],
        "department": sel["dep"].astype(str),
        "province": sel["prov"].astype(str),
        "district": sel["distr"].astype(str),
    }, geometry=sel.geometry.values, crs=4326)
    prov_name = out["province_code"].map(accented).fillna(out["province"].str.upper())
    out.insert(6, "ugel", "UGEL " + prov_name)
    quality.count(name, read=int((gdf["ubigeo"].str[:2] == dept).sum()), kept=len(out))
    return out.sort_values("ubigeo").reset_index(drop=True)[DISTRICT_COLUMNS]


def ugel_table(districts: pd.DataFrame) -> pd.DataFrame:
    """One row per UGEL: ``ugel``, ``province_code``, ``province``, ``n_districts``, ``ubigeos``
    (comma-separated district codes)."""
    g = districts.groupby("ugel", sort=False)
    out = pd.DataFrame({
        "province_code": g["province_code"].agg(lambda s: ",".join(sorted(set(s)))),
        "province": g["province"].agg(lambda s: ",".join(sorted(set(s)))),
        "n_districts": g["ubigeo"].size(),
        "ubigeos": g["ubigeo"].agg(lambda s: ",".join(sorted(s))),
    }).reset_index()
    return out.sort_values("province_code").reset_index(drop=True)


def _unknown(kind: str, key: str, value: str, valid: list[str]) -> ScenarioError:
    return ScenarioError(f"{kind} {value!r} in 'study_area.{key}' is not in the department",
                         hint=f"valid values: {', '.join(valid)}")


def select_study_area(districts: gpd.GeoDataFrame, study_area: StudyArea) -> gpd.GeoDataFrame:
    """Districts of the study area.

    Each non-empty list of ``study_area`` restricts the selection (they combine with AND):
    ``provinces`` (4-digit codes or names), ``ugels`` (``"UGEL CELENDÍN"``, ``"celendin"``…)
    and ``districts`` (6-digit ubigeo; ``"60101"`` is read as ``"060101"``).  Names match
    accent- and case-insensitively.  An unknown value or an empty result raises
    :class:`ScenarioError` listing the valid values.
    """
    keep = pd.Series(True, index=districts.index)
    if study_area.provinces:
        codes = set(districts["province_code"])
        by_name = {fold(n): c for n, c in zip(districts["province"], districts["province_code"])}
        by_name.update({fold(u.removeprefix("UGEL ")): c
                        for u, c in zip(districts["ugel"], districts["province_code"])})
        wanted = set()
        for p in study_area.provinces:
            p_s = str(p).strip()
            code = p_s.zfill(4) if p_s.isdigit() else by_name.get(fold(p_s))
            if code not in codes:
                valid = sorted({f"{c} ({n})" for c, n in zip(districts["province_code"], districts["province"])})
                raise _unknown("province", "provinces", p_s, valid)
            wanted.add(code)
        keep &= districts["province_code"].isin(wanted)
    if study_area.ugels:
        folded = {fold(u): u for u in districts["ugel"]}
        wanted = set()
        for u in study_area.ugels:
            f = fold(u)
            if not f.startswith("UGEL "):
                f = "UGEL " + f
            if f not in folded:
                raise _unknown("UGEL", "ugels", str(u), sorted(set(districts["ugel"])))
            wanted.add(folded[f])
        keep &= districts["ugel"].isin(wanted)
    if study_area.districts:
        codes = set(districts["ubigeo"])
        wanted = set()
        for d in study_area.districts:
            code = str(d).strip().zfill(6)
            if code not in codes:
                raise _unknown("district", "districts", str(d),
                               [f"{c} ({n})" for c, n in zip(districts["ubigeo"], districts["district"])])
            wanted.add(code)
        keep &= districts["ubigeo"].isin(wanted)
    out = districts[keep]
    if out.empty:
        raise ScenarioError("the study area is empty: study_area.provinces / ugels / districts select no district "
                            "together (they combine with AND)",
                            hint="remove one of the lists or make them consistent")
    return out.reset_index(drop=True)


def dissolve_study_area(districts: gpd.GeoDataFrame) -> BaseGeometry:
    """The study area as one (Multi)Polygon in EPSG:4326 (union of the districts)."""
    return districts.to_crs(4326).geometry.union_all()


def utm_crs(geometry: BaseGeometry) -> str:
    """UTM zone (WGS 84) of a lon/lat geometry's centroid, e.g. ``"EPSG:32717"``."""
    c = geometry.centroid
    zone = int((c.x + 180) // 6) + 1
    return f"EPSG:{32700 + zone if c.y < 0 else 32600 + zone}"


def check_coordinates(df: pd.DataFrame, *, lon: str, lat: str, id_col: str, input_name: str,
                      quality: QualityReport, area: BaseGeometry | None = None,
                      area_label: str = "the department") -> pd.DataFrame:
    """Validate point coordinates in ``df`` (floats in columns ``lon``/``lat``); return kept rows.

    - NaN coordinates: dropped (``"missing coordinates"``);
    - latitude and longitude swapped (the pair is outside Peru but the swapped pair is inside
      :data:`PERU_BBOX`): swapped back, ``"fixed"``;
    - outside Peru: dropped;
    - outside ``area`` (a lon/lat polygon, e.g. the department): kept and flagged.
    """
    df = df.copy()
    x = pd.to_numeric(df[lon], errors="coerce").astype(float)
    y = pd.to_numeric(df[lat], errors="coerce").astype(float)
    nan = x.isna() | y.isna()
    if nan.any():
        quality.add_many(input_name, df.loc[nan, id_col], "missing coordinates",
                         [f"lon={a}, lat={b}" for a, b in zip(df.loc[nan, lon], df.loc[nan, lat])], action="dropped")
    x0, y0, x1, y1 = PERU_BBOX

    def inside(xx, yy):
        return (xx >= x0) & (xx <= x1) & (yy >= y0) & (yy <= y1)

    ok = inside(x, y)
    swapped = ~nan & ~ok & inside(y, x)
    if swapped.any():
        quality.add_many(input_name, df.loc[swapped, id_col], "latitude and longitude swapped",
                         [f"lon={a}, lat={b} read as lon={b}, lat={a}" for a, b in zip(x[swapped], y[swapped])],
                         action="fixed")
        x, y = x.where(~swapped, y), y.where(~swapped, x)
    out_peru = ~nan & ~inside(x, y)
    if out_peru.any():
        metres = (x.abs() > 180) | (y.abs() > 90)  # not degrees at all: projected (UTM) metres?
        quality.add_many(input_name, df.loc[out_peru, id_col], "outside Peru",
                         [f"lon={a}, lat={b}"
                          + (" (metres, not degrees: convert UTM to lon/lat EPSG:4326)" if m else "")
                          for a, b, m in zip(x[out_peru], y[out_peru], metres[out_peru])], action="dropped")
    df[lon], df[lat] = x, y
    df = df[~nan & ~out_peru]
    if area is not None and len(df):
        pts = gpd.points_from_xy(df[lon], df[lat], crs=4326)
        outside = ~np.asarray(pts.within(area))
        if outside.any():
            quality.add_many(input_name, df.loc[outside, id_col], f"outside {area_label}",
                             [f"lon={a:.5f}, lat={b:.5f}" for a, b in zip(df.loc[outside, lon], df.loc[outside, lat])])
    return df
