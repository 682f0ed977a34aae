"""Centros poblados (populated places) with census population, projection and target groups.

Pipeline of :func:`load_places` (every step writes what it finds to the quality report):

1. read the INEI CCPP table (CSV/TXT/XLSX read by :func:`siting.io.read_table`, or a
   GeoJSON/GPKG), keep the scenario's department (by the code's first two digits);
2. zero-pad codes, drop duplicate ``ccpp_id`` (first kept), check coordinates
   (NaN dropped, swapped lat/lon fixed, outside Peru dropped, outside the department kept);
3. attach district, province and UGEL from the code and cross-check with the polygon the
   point falls in (kept and flagged when they disagree);
4. cross-check against the national CCPP code list (``tipo`` Urban/Rural gives ``area``);
5. estimate missing population (see :func:`estimate_missing_population`);
6. project to ``population.projection_year`` (see :func:`project_population`);
7. split into women/men and age groups with the district structure of the RENIEC table
   (see :func:`age_sex_shares`).
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import DataError, ScenarioError
from ..io import VECTOR_SUFFIXES, read_point_layer, read_table, to_number, zfill_code
from ..scenario import Scenario
from .boundaries import check_coordinates, fold, number_column
from .quality import QualityReport

INPUT = "ccpp"
#: accepted spellings of each column (compared case-insensitively), first = canonical
ALIASES: dict[str, list[str]] = {
    "ccpp_id": ["CCPP_ID", "CODCCPP", "CODCP", "INEI_CCPP", "UBIGEO_CCPP", "IDCCPP"],
    "ubigeo": ["UBIGEO", "INEI_DISTRITO", "CODDIST"],
    "name": ["CENTRO_POBLADO", "NOMCCPP", "NOMBRE", "CCPP", "NOMCP"],
    "altitude_m": ["ALTITUD", "ALTITUDE", "ALT"],
    "population_census": ["POB_CENSADA_2017", "POBLACION", "POB_TOTAL", "TOTAL POBLACION CENSADA", "POPULATION"],
    "lon": ["LON", "LONGITUD", "LONGITUDE", "X"],
    "lat": ["LAT", "LATITUD", "LATITUDE", "Y"],
    "area": ["AREA", "TIPO", "AREA_URBANO_RURAL"],
}
REQUIRED = ("ccpp_id", "population_census")
#: places further than this from their position in the national code list are flagged
REFERENCE_MAX_KM = 10.0


def _rename(df: pd.DataFrame, path: Path, *, required: tuple[str, ...]) -> pd.DataFrame:
    upper = {fold(c): c for c in df.columns}
    mapping = {}
    for canon, names in ALIASES.items():
        for n in names:
            if fold(n) in upper:
                mapping[upper[fold(n)]] = canon
                break
    missing = [c for c in required if c not in mapping.values()]
    if missing:
        want = "; ".join(f"{c} (one of {', '.join(ALIASES[c])})" for c in missing)
        raise DataError(f"missing column(s): {want}", source=str(path),
                        hint=f"the file has: {', '.join(map(str, df.columns))}")
    out = df[list(mapping)].rename(columns=mapping)
    out.attrs = {**df.attrs, "columns": {canon: str(orig) for orig, canon in mapping.items()}}
    return out


def read_places_table(path: str | Path, *, layer: str | None = None) -> pd.DataFrame:
    """Read a CCPP file into a plain DataFrame with canonical column names (strings).

    CSV/TXT/XLSX need ``lon``/``lat`` columns; GeoJSON/GPKG/SHP take them from the points
    (``layer``: which layer of a file that has several).  ``attrs["columns"]`` maps each
    canonical name to the file's own, ``attrs["sep"]`` is the separator of a text table.
    """
    path = Path(path)
    if path.suffix.lower() in VECTOR_SUFFIXES:
        df = read_point_layer(path, layer=layer)
        xy_names = {fold(n) for n in ALIASES["lon"] + ALIASES["lat"]}  # the geometry is the position
        df = df.drop(columns=[c for c in df.columns if fold(c) in xy_names])
        df = df.rename(columns={"_lon": "lon", "_lat": "lat"})
    else:
        df = read_table(path)
    df = _rename(df, path, required=REQUIRED)
    if "lon" not in df.columns or "lat" not in df.columns:
        raise DataError("missing coordinate columns lon / lat", source=str(path),
                        hint="add columns lon and lat in decimal degrees (EPSG:4326), or give a GeoJSON/GPKG")
    return df


# --------------------------------------------------------------------------- estimation


def estimate_missing_population(places: pd.DataFrame, quality: QualityReport, *,
                                method: str = "district_median") -> pd.Series:
    """Analysis population for places whose census population is missing.

    ``method="district_median"`` (default): a place with no census value gets the
    **median census population of the rural places of its own district** that have one
    (falling back to the province's, then the department's rural median when the
    district has none).  Zero values are real census zeros and are kept.  Estimated rows
    are marked ``population_estimated=True`` and listed in the quality report
    (action ``"estimated"``).

    Caveat (written to the quality notes): in Cajamarca the 6,256 places with a value
    already sum to the official CPV 2017 department total (1,341,012), so the estimate
    *adds* people to the census year.  With a projection year the district totals are
    re-scaled to MINAM's, so the estimate then only shifts weight *within* a district
    toward the unpopulated places.  ``method="zero"`` keeps them at 0 instead.
    """
    pop = places["population_census"].astype(float)
    missing = pop.isna()
    if method == "zero":
        est = pop.fillna(0.0)
        if missing.any():
            quality.add_many(INPUT, places.loc[missing, "ccpp_id"], "missing population",
                             "no census value; set to 0 (method 'zero')", action="estimated")
        return est
    if method != "district_median":
        raise ScenarioError(f"unknown missing-population method {method!r}",
                            hint="use 'district_median' or 'zero'")
    rural = places[(places["area"] == "rural") & pop.notna()]
    by_d = rural.groupby("ubigeo")["population_census"].median()
    by_p = rural.groupby("province_code")["population_census"].median()
    dept = float(rural["population_census"].median()) if len(rural) else float(pop.median())
    fill_d = places["ubigeo"].map(by_d)
    fill_p = places["province_code"].map(by_p)
    fill = fill_d.fillna(fill_p).fillna(dept)
    level = np.where(fill_d.notna(), "district", np.where(fill_p.notna(), "province", "department"))
    est = pop.where(~missing, fill)
    if missing.any():
        quality.add_many(INPUT, places.loc[missing, "ccpp_id"], "missing population",
                         [f"estimated {v:.0f} = median of the {lv}'s rural places"
                          for v, lv in zip(fill[missing], level[missing.to_numpy()])], action="estimated")
        quality.note(f"{int(missing.sum())} centros poblados have no census population; each was given the median "
                     f"of its district's rural places ({fill[missing].sum():,.0f} persons in total), marked "
                     "population_estimated.",
                     es=f"{int(missing.sum())} centros poblados no tienen población censal; a cada uno se le asignó "
                     f"la mediana de los centros poblados rurales de su distrito ({fill[missing].sum():,.0f} "
                     "personas en total), marcados como population_estimated (población estimada).")
    return est.astype(float)


# --------------------------------------------------------------------------- projection


def read_district_population(path: str | Path, year: int, *, quality: QualityReport | None = None) -> pd.DataFrame:
    """MINAM/INEI district population of ``year``: index ``ubigeo``, columns total/urban/rural.

    The counts go through the project's number rule (``18.603`` in a count column is
    18,603 people; see :func:`siting.io.parse_numbers`); a negative count is an error."""
    df = read_table(path)
    sep = df.attrs.get("sep")
    need = {"UBIGEO", "POB_TOTAL", "POB_URBANA", "POB_RURAL", "PERIODO"}
    cols = {c.upper(): c for c in df.columns}
    missing = sorted(need - set(cols))
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}", source=str(path),
                        hint=f"the file has: {', '.join(df.columns)}")
    df = df.rename(columns={v: k for k, v in cols.items()})
    years = number_column(df["PERIODO"], kind="count", column="PERIODO", path=path, quality=None, sep=sep)
    sel = df[years == year]
    if sel.empty:
        avail = ", ".join(str(int(y)) for y in sorted(years.dropna().unique()))
        raise ScenarioError(f"population.projection_year = {year} is not in {path}",
                            hint=f"years available: {avail} (or 0 for no projection)")
    ubigeo = zfill_code(sel["UBIGEO"], 6)

    def count(col: str) -> pd.Series:
        return number_column(sel[col], kind="count", column=col, path=path, quality=quality, sep=sep,
                             non_negative=True, ids=ubigeo, what="population")

    out = pd.DataFrame({"ubigeo": ubigeo, "total": count("POB_TOTAL"), "urban": count("POB_URBANA"),
                        "rural": count("POB_RURAL")})
    return out.drop_duplicates("ubigeo").set_index("ubigeo")


def _is(values: pd.Series, value: object) -> np.ndarray:
    """``values == value`` as a NumPy mask (missing values are False)."""
    return (values == value).fillna(False).to_numpy(dtype=bool)


def project_population(places: pd.DataFrame, district_pop: pd.DataFrame, quality: QualityReport) -> pd.Series:
    """Scale places to the district totals of the projection year.

    For district *d* and area class *a* (urbano/rural):
    ``population_i = population_i * P_{d,a}(year) / Σ_{j in d, a} population_j``, so the
    urban places of each district sum to its urban total and the rural ones to its rural
    total.  When a district has people of a class in the projection table but no place of
    that class, all its places are scaled by ``P_d(year) / Σ_{j in d} population_j``
    (flagged).  Districts absent from the table are not scaled (flagged).
    """
    pop = places["population"].astype(float)
    out = pop.copy()
    ubigeo, area = places["ubigeo"], places["area"]
    districts = pd.Index(ubigeo.dropna().unique()).sort_values()
    present = districts.intersection(district_pop.index)
    target = district_pop.loc[present]
    sums = pop.groupby([ubigeo, area]).sum()  # census people per (district, class)
    classes = {"urbano": "urban", "rural": "rural"}
    class_sum = {a: (sums.xs(a, level=1) if a in sums.index.get_level_values(1) else pd.Series(dtype=float))
                 .reindex(present).fillna(0.0) for a in classes}
    ok = np.logical_and.reduce([(class_sum[a] > 0).to_numpy() | (target[c] == 0).to_numpy()
                                for a, c in classes.items()])
    for a, c in classes.items():  # places of class a in districts scaled by class
        scaled = pd.Series(ok & (class_sum[a] > 0).to_numpy(), index=present)
        m = _is(area, a) & ubigeo.map(scaled).fillna(False).to_numpy(dtype=bool)
        codes = ubigeo[m]
        out[m] = pop[m].to_numpy() * codes.map(target[c]).to_numpy(float) / codes.map(class_sum[a]).to_numpy(float)
    not_ok = set(present[~ok])
    for code in districts:  # the flags in district order
        if code not in target.index:
            quality.add(INPUT, code, "district not in the projection table", "population left at census value")
        elif code in not_ok:
            idx = places.index[_is(ubigeo, code)]
            tot = pop[idx].sum()
            if tot > 0:
                out[idx] = pop[idx] * target.at[code, "total"] / tot
            quality.add(INPUT, code, "no place of an area class with projected population",
                        "all places scaled by the district total ratio")
    return out


# --------------------------------------------------------------------------- age and sex


def _sex(value: object) -> str | None:
    """``"Mujer"``/``"Femenino"``/``"F"`` -> women; ``"Hombre"``/``"Masculino"``/``"H"`` -> men."""
    f = fold(value)
    if f.startswith(("MUJ", "FEM")) or f == "F":
        return "women"
    if f.startswith(("HOM", "MASC", "VAR")) or f == "H":
        return "men"
    return None


def age_sex_shares(path: str | Path, age_groups: dict[str, list[int]], *,
                   quality: QualityReport | None = None) -> pd.DataFrame:
    """District structure from the RENIEC OPP-16 table (``UBIGEO_INEI, Sexo, Edad, Cantidad``).

    Returns, indexed by ``ubigeo``: ``women``, ``men`` (shares of the district's people)
    and for every group G = [a, b]: ``pop_G``, ``women_G``, ``men_G`` =
    ``Σ_{a<=edad<=b} Cantidad / Σ Cantidad`` (all sexes / Mujer / Hombre).
    Only the *structure* is used: DNI addresses are not usual residences.
    """
    df = read_table(path)
    cols = {fold(c): c for c in df.columns}
    need = {"SEXO", "EDAD", "CANTIDAD"}
    code_col = cols.get("UBIGEO_INEI") or cols.get("UBIGEO")
    missing = sorted(need - set(cols)) + ([] if code_col else ["UBIGEO_INEI"])
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}", source=str(path),
                        hint=f"the file has: {', '.join(df.columns)}")
    ubigeo = zfill_code(df[code_col], 6)
    sex_col = df[cols["SEXO"]]
    sex = sex_col.map({v: _sex(v) for v in sex_col.dropna().unique()})
    age = pd.to_numeric(df[cols["EDAD"]], errors="coerce")
    if age.isna().any():  # "100 a más", "80+" ...: the leading number
        age = to_number(df[cols["EDAD"]].astype("string").str.extract(r"(\d+)")[0])
    n = number_column(df[cols["CANTIDAD"]], kind="count", column=cols["CANTIDAD"], path=path, quality=quality,
                      sep=df.attrs.get("sep"), non_negative=True, ids=ubigeo, what="number of persons").fillna(0.0)
    t = pd.DataFrame({"ubigeo": ubigeo, "sex": sex, "age": age, "n": n})
    total = t.groupby("ubigeo")["n"].sum()
    out = pd.DataFrame(index=total.index)
    for s in ("women", "men"):
        out[s] = t[t["sex"] == s].groupby("ubigeo")["n"].sum().reindex(total.index, fill_value=0) / total
    for g, (a, b) in age_groups.items():
        in_g = t[(t["age"] >= a) & (t["age"] <= b)]
        out[f"pop_{g}"] = in_g.groupby("ubigeo")["n"].sum().reindex(total.index, fill_value=0) / total
        for s in ("women", "men"):
            out[f"{s}_{g}"] = (in_g[in_g["sex"] == s].groupby("ubigeo")["n"].sum()
                               .reindex(total.index, fill_value=0) / total)
    dept = {c: float((out[c] * total).sum() / total.sum()) for c in out.columns}
    out.attrs["overall"] = dept
    return out[total > 0]


# --------------------------------------------------------------------------- main loader


def _group_columns(age_groups: dict[str, list[int]]) -> list[str]:
    cols = ["women", "men"]
    for g in age_groups:
        cols += [f"pop_{g}", f"women_{g}", f"men_{g}"]
    return cols


def place_columns(age_groups: dict[str, list[int]]) -> list[str]:
    """Column order of :func:`load_places` (without ``geometry``)."""
    return (["ccpp_id", "name", "ubigeo", "province_code", "province", "district", "ugel", "area", "altitude_m",
             "population_census", "population", "population_estimated"] + _group_columns(age_groups))


def load_places(sc: Scenario, districts: gpd.GeoDataFrame, quality: QualityReport, *,
                missing_population: str | None = None) -> gpd.GeoDataFrame:
    """Centros poblados of the department (see the module docstring for every step).

    ``districts`` is :func:`siting.data.boundaries.load_districts`'s table (whole
    department).  ``missing_population`` chooses the estimation method of
    :func:`estimate_missing_population` (``"district_median"`` or ``"zero"``); default
    ``sc.population.missing_population``.  Numbers (coordinates, population, altitude) go
    through the project's number rule; a negative population is a :class:`DataError`
    naming the file and the rows.
    """
    missing_population = missing_population or sc.population.missing_population
    if not sc.inputs.ccpp:
        raise DataError("no centros poblados file given", source="scenario [inputs] ccpp",
                        hint="set inputs.ccpp to the INEI CCPP table with census population")
    path = Path(sc.inputs.ccpp)
    df = _read_department(path, sc, quality)
    n_read = len(df)
    read_codes = df["ccpp_id"].copy()
    df = _check_codes(df, districts, quality)
    gdf = _locate(df, districts, quality, path)
    # national code list: area (urban/rural), names, positions
    gdf["area"] = _area_from_input(gdf)
    if sc.inputs.ccpp_reference:
        _cross_check_reference(gdf, Path(sc.inputs.ccpp_reference), sc.study_area.department, quality,
                               read_codes=read_codes)
    else:
        quality.note("No national CCPP code list (inputs.ccpp_reference): urban/rural area taken from the CCPP "
                     "file if present, else every place is treated as rural.",
                     es="No se cuenta con la lista nacional de códigos de centros poblados (inputs.ccpp_reference): "
                     "el área urbana/rural se toma del archivo de centros poblados si la trae; de lo contrario, "
                     "todos los centros poblados se consideran rurales.")
    gdf["area"] = gdf["area"].fillna("rural")
    # population
    infinite = np.isinf(gdf["population_census"])
    if infinite.any():  # "inf" parses as a number but is not a count: treat it as missing
        quality.add_many(INPUT, gdf.loc[infinite, "ccpp_id"], "population not a finite number",
                         "treated as missing", action="estimated")
        gdf.loc[infinite, "population_census"] = np.nan
    zero = gdf["population_census"] == 0
    if zero.any():
        quality.add_many(INPUT, gdf.loc[zero, "ccpp_id"], "zero population", "census value 0 kept")
    if "name" not in gdf:
        gdf["name"] = gdf["ccpp_id"]
    gdf["population_estimated"] = gdf["population_census"].isna()
    gdf["population"] = estimate_missing_population(gdf, quality, method=missing_population)
    _project(gdf, sc, quality)
    _apply_age_sex(gdf, sc, quality)
    quality.count(INPUT, read=n_read, kept=len(gdf))
    cols = place_columns(sc.population.age_groups)
    out = gdf[cols + ["geometry"]].reset_index(drop=True)
    out["population_estimated"] = out["population_estimated"].astype(bool)
    return out


def _read_department(path: Path, sc: Scenario, quality: QualityReport) -> pd.DataFrame:
    """The rows of the scenario's department, with their numbers parsed (coordinates,
    population, altitude: one rule, decided over these rows; see :func:`siting.io.parse_numbers`)."""
    df = read_places_table(path, layer=sc.inputs.layers.get("ccpp"))
    sep, names = df.attrs.get("sep"), df.attrs.get("columns", {})
    n_all = len(df)
    df["ccpp_id"] = zfill_code(df["ccpp_id"], 10)
    dept = sc.study_area.department
    df = df[df["ccpp_id"].str[:2] == dept].copy()
    if n_all > len(df):
        quality.note(f"{path.name}: {n_all - len(df)} rows of other departments were skipped "
                     f"(study_area.department = {dept}).",
                     es=f"{path.name}: se omitieron {n_all - len(df)} filas de otros departamentos "
                     f"(study_area.department = {dept}).")
    if df.empty:
        raise DataError(f"no centro poblado of department {dept}", source=str(path),
                        hint="check study_area.department and the CCPP_ID codes (10 digits, starting with it)")
    for c in ("lon", "lat"):  # decimal commas (-7,312) are read as the file meant them
        df[c] = number_column(df[c], kind="degrees", column=names.get(c, c), path=path, quality=quality, sep=sep)
    df["population_census"] = number_column(df["population_census"], kind="count", path=path, quality=quality,
                                            column=names.get("population_census", "population_census"), sep=sep,
                                            non_negative=True, ids=df["ccpp_id"], what="population")
    df["altitude_m"] = (number_column(df["altitude_m"], kind="count", column=names.get("altitude_m", "altitude_m"),
                                      path=path, quality=quality, sep=sep) if "altitude_m" in df else np.nan)
    return df


def _check_codes(df: pd.DataFrame, districts: gpd.GeoDataFrame, quality: QualityReport) -> pd.DataFrame:
    """Drop invalid and duplicate codes and codes of unknown districts; ``ubigeo`` from the code."""
    bad_code = ~df["ccpp_id"].str.fullmatch(r"\d{10}", na=False)
    if bad_code.any():
        quality.add_many(INPUT, df.loc[bad_code, "ccpp_id"], "invalid ccpp_id", "not 10 digits", action="dropped")
        df = df[~bad_code]
    dup = df["ccpp_id"].duplicated(keep="first")
    if dup.any():
        quality.add_many(INPUT, df.loc[dup, "ccpp_id"], "duplicate ccpp_id", "first row kept", action="dropped")
        df = df[~dup]
    code_ubigeo = df["ccpp_id"].str[:6]
    if "ubigeo" in df.columns:
        given = zfill_code(df["ubigeo"], 6)
        differ = given.notna() & (given != code_ubigeo)
        if differ.any():
            quality.add_many(INPUT, df.loc[differ, "ccpp_id"], "UBIGEO differs from the code's first 6 digits",
                             [f"UBIGEO {u}; code used" for u in given[differ]])
    df = df.assign(ubigeo=code_ubigeo)
    unknown = ~df["ubigeo"].isin(set(districts["ubigeo"]))
    if unknown.any():
        quality.add_many(INPUT, df.loc[unknown, "ccpp_id"], "district code not in the boundary file",
                         [f"ubigeo {u}" for u in df.loc[unknown, "ubigeo"]], action="dropped")
        df = df[~unknown]
    return df


def _locate(df: pd.DataFrame, districts: gpd.GeoDataFrame, quality: QualityReport, path: Path) -> gpd.GeoDataFrame:
    """Checked points with the district attributes of their code, cross-checked with the polygons."""
    df = check_coordinates(df, lon="lon", lat="lat", id_col="ccpp_id", input_name=INPUT, quality=quality,
                           area=districts.geometry.union_all())
    if df.empty:
        raise DataError("no centro poblado has usable coordinates (all missing or outside Peru)", source=str(path),
                        hint="give lon/lat in decimal degrees (EPSG:4326); UTM metres such as 770909, 9211530 "
                             "must be converted first (see the quality report for each row)")
    dist = districts.set_index("ubigeo")
    for col in ("province_code", "province", "district", "ugel"):
        df[col] = df["ubigeo"].map(dist[col])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)
    hit = gpd.sjoin(gdf[["geometry"]], districts[["ubigeo", "geometry"]].rename(columns={"ubigeo": "poly"}),
                    how="left", predicate="within")
    poly = hit[~hit.index.duplicated()]["poly"].reindex(gdf.index)
    other = poly.notna() & (poly != gdf["ubigeo"])
    if other.any():
        quality.add_many(INPUT, gdf.loc[other, "ccpp_id"], "point in another district than its code",
                         [f"code {c}, point in {p}" for c, p in zip(gdf.loc[other, "ubigeo"], poly[other])])
    return gdf


def _project(gdf: gpd.GeoDataFrame, sc: Scenario, quality: QualityReport) -> None:
    """Scale ``population`` to the projection year (in place), with its caveat."""
    year = sc.population.projection_year
    if not year:
        return
    if sc.inputs.district_population:
        dp = read_district_population(sc.inputs.district_population, year, quality=quality)
        gdf["population"] = project_population(gdf, dp, quality)
        quality.note(f"Population projected from the {sc.population.census_year} census to {year} with the "
                     "MINAM/INEI district totals (urban and rural places scaled separately); "
                     "population_census keeps the census value.",
                     es=f"Población proyectada del censo {sc.population.census_year} al año {year} con los "
                     "totales distritales del MINAM/INEI (centros poblados urbanos y rurales escalados por "
                     "separado); population_census conserva el valor censal.")
    else:
        quality.note(f"population.projection_year = {year} but no inputs.district_population: census "
                     "population used unprojected.",
                     es=f"population.projection_year = {year}, pero falta inputs.district_population: se usa "
                     "la población censal sin proyectar.")


def _area_from_input(gdf: pd.DataFrame) -> pd.Series:
    if "area" not in gdf:
        return pd.Series(pd.NA, index=gdf.index, dtype="object")
    return _area_class(gdf["area"])


def _area_class(values: pd.Series) -> pd.Series:
    """``"urbano"`` for values starting with URB (Urbano, Urban), ``"rural"`` for RUR, else missing."""
    f = values.map(lambda v: fold(v) if isinstance(v, str) else "").astype(str)
    out = pd.Series(None, index=values.index, dtype="object")
    out[f.str.startswith("URB").to_numpy()] = "urbano"
    out[f.str.startswith("RUR").to_numpy()] = "rural"
    return out


def _cross_check_reference(gdf: gpd.GeoDataFrame, path: Path, dept: str, quality: QualityReport, *,
                           read_codes: pd.Series) -> None:
    ref = read_table(path)
    need = {"inei_ccpp", "tipo"}
    if not need <= set(ref.columns):
        raise DataError(f"missing column(s) {', '.join(sorted(need - set(ref.columns)))}", source=str(path),
                        hint="expected the national CCPP list with inei_ccpp, ccpp, tipo, latitude, longitude")
    ref = ref.assign(inei_ccpp=zfill_code(ref["inei_ccpp"], 10))
    ref = ref[ref["inei_ccpp"].str[:2] == dept].drop_duplicates("inei_ccpp").set_index("inei_ccpp")
    area = _area_class(gdf["ccpp_id"].map(ref["tipo"]))
    gdf["area"] = area.where(area.notna(), gdf["area"])
    absent = ~gdf["ccpp_id"].isin(ref.index)
    if absent.any():
        quality.add_many(INPUT, gdf.loc[absent, "ccpp_id"], "not in the national CCPP code list",
                         "area taken from the file or 'rural'")
    extra = ref.index.difference(pd.Index(read_codes))
    if 0 < len(extra) <= 50:
        quality.add_many("ccpp_reference", extra, "in the national list but not in the CCPP file")
    elif len(extra):
        quality.note(f"{len(extra)} centros poblados of the national code list ({path.name}) are not in the CCPP "
                     "file: they have no census population and are not analysed.",
                     es=f"{len(extra)} centros poblados de la lista nacional de códigos ({path.name}) no figuran "
                     "en el archivo de centros poblados: no tienen población censal y no se analizan.")
    if "ccpp" in ref.columns and "name" in gdf:
        ref_name = gdf["ccpp_id"].map(ref["ccpp"])
        differ = ref_name.notna() & (gdf["name"].map(fold) != ref_name.map(fold))
        if differ.any():
            quality.add_many(INPUT, gdf.loc[differ, "ccpp_id"], "name differs from the national list",
                             [f"{a!r} vs {b!r}" for a, b in zip(gdf.loc[differ, "name"], ref_name[differ])])
    if {"latitude", "longitude"} <= set(ref.columns):
        lat = gdf["ccpp_id"].map(to_number(ref["latitude"], kind="degrees", column="latitude", source=str(path)))
        lon = gdf["ccpp_id"].map(to_number(ref["longitude"], kind="degrees", column="longitude", source=str(path)))
        # equirectangular distance (km), enough to flag gross differences
        dx = np.radians(gdf.geometry.x - lon) * np.cos(np.radians(lat))
        dy = np.radians(gdf.geometry.y - lat)
        km = 6371.0 * np.hypot(dx, dy)
        far = km > REFERENCE_MAX_KM
        if far.any():
            quality.add_many(INPUT, gdf.loc[far, "ccpp_id"],
                             f"more than {REFERENCE_MAX_KM:g} km from the national list",
                             [f"{d:.1f} km" for d in km[far]])


def _apply_age_sex(gdf: gpd.GeoDataFrame, sc: Scenario, quality: QualityReport) -> None:
    cols = _group_columns(sc.population.age_groups)
    if not sc.inputs.age_sex:
        for c in cols:
            gdf[c] = np.nan
        quality.note("No age x sex table (inputs.age_sex): women, men and age-group columns are empty (NaN).",
                     es="No se cuenta con la tabla de población por edad y sexo (inputs.age_sex): las columnas "
                     "de mujeres, hombres y grupos de edad quedan vacías (NaN).")
        return
    shares = age_sex_shares(sc.inputs.age_sex, sc.population.age_groups, quality=quality)
    absent = ~gdf["ubigeo"].isin(shares.index)
    if absent.any():
        for u in sorted(gdf.loc[absent, "ubigeo"].unique()):
            quality.add("age_sex", u, "district not in the age x sex table", "department structure used",
                        action="estimated")
    overall = shares.attrs["overall"]
    for c in cols:
        share = gdf["ubigeo"].map(shares[c]).fillna(overall[c])
        gdf[c] = gdf["population"] * share
    quality.note("Women/men and age groups apply each district's RENIEC (DNI, Dec-2022) structure to the place "
                 "population: DNI addresses are not usual residences, so only the shares are used.",
                 es="Las columnas de mujeres/hombres y grupos de edad aplican a la población de cada centro "
                 "poblado la estructura por sexo y edad de su distrito según RENIEC (DNI, dic. 2022): el "
                 "domicilio del DNI no es la residencia habitual, por lo que solo se usan las proporciones.")
