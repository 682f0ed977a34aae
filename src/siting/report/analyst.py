"""The UGEL analyst's tables (issue #17, item 9): who is beyond each threshold, and where a
course could be hosted near them.

* :func:`premises_table` -- the school premises (MINEDU locales) of the study area with their
  district and UGEL and the schools they hold (name and level from ``inputs.school_base``
  when it lists them), written as ``school_premises.csv``;
* :func:`beyond_table` -- every centro poblado beyond the smallest travel-time threshold with
  its people, women, target group, district, nearest centre (name) and minutes, the largest
  threshold it exceeds (``threshold_min``; people with no route exceed them all) and the host
  premises (school premises with their schools, Tambos, premises of the registry) within
  ``candidates.host_premises_within_m`` metres of it;
* :func:`write_ugel_workbooks` -- one workbook per UGEL (``ugel_<name>.xlsx``) with both tables.

Distances are straight lines in the study area's projected CRS (metres), the rule the
candidate stage uses for host premises.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..data import StudyData, registry_use
from ..data.facilities import read_points
from ..scenario import Scenario
from .labels import has_label, t
from .side_tasks import SidePool

#: the columns of :func:`beyond_table`, in order (the target-group columns are inserted after ``women``)
BEYOND_COLUMNS = ["ugel", "district", "ccpp_id", "name", "population", "women", "minutes_nearest", "nearest_facility",
                  "threshold_min", "n_host_premises", "host_premises_near"]
PREMISES_TABLE_COLUMNS = ["ugel", "district", "codlocal", "name", "ccpp_name", "schools", "levels", "altitude_m",
                          "lon", "lat"]


def school_levels(sc: Scenario) -> pd.DataFrame:
    """``codlocal``, ``schools`` ("NAME (level); ...") and ``levels`` ("Primaria, Secundaria") of
    every premises code of the school base (``inputs.school_base``; empty without the columns)."""
    empty = pd.DataFrame(columns=["codlocal", "schools", "levels"])
    if not sc.inputs.school_base:
        return empty
    df = read_points(sc.inputs.school_base, layer=sc.inputs.layers.get("school_base"))
    cols = {c.upper(): c for c in df.columns}
    code, name, level = cols.get("CODLOCAL"), cols.get("NOMBRE_IE"), cols.get("NIVEL_MODALIDAD")
    if not (code and name):
        return empty
    d = pd.DataFrame({"codlocal": df[code].astype("string").str.strip().str.zfill(6),
                      "name": df[name].astype("string").str.strip(),
                      "level": df[level].astype("string").str.strip() if level else pd.NA}).dropna(subset=["codlocal"])
    d = d.sort_values(["codlocal", "level", "name"], na_position="last")
    school = np.where(d["level"].notna(), d["name"].fillna("") + " (" + d["level"].fillna("") + ")", d["name"])
    return _joined_per_code(d["codlocal"].tolist(), list(school), d["level"].tolist())


def _joined_per_code(codes: list, schools: list, levels: list) -> pd.DataFrame:
    """Per code (sorted), its distinct schools joined by "; " and levels by ", ", in the order
    of the rows (missing values skipped).  One pass over the rows: a pandas ``groupby`` with a
    Python function per group took seconds of the report stage (#19)."""
    per_code: dict[str, tuple[dict, dict]] = {}
    for code, school, level in zip(codes, schools, levels):
        seen = per_code.setdefault(code, ({}, {}))
        if not pd.isna(school):
            seen[0][school] = None
        if not pd.isna(level):
            seen[1][level] = None
    keys = sorted(per_code)
    return pd.DataFrame({"codlocal": pd.array(keys, dtype="string"),  # the dtypes the groupby gave
                         "schools": pd.Series(["; ".join(per_code[k][0]) for k in keys], dtype="str"),
                         "levels": pd.array([", ".join(per_code[k][1]) for k in keys], dtype="string")})


def _in_area(gdf: gpd.GeoDataFrame, data: StudyData) -> gpd.GeoDataFrame:
    """``gdf`` with the ``district`` and ``ugel`` of the study-area district holding each point
    (points outside the study area are dropped)."""
    d = data.districts[["district", "ugel", "geometry"]]
    joined = gpd.sjoin(gdf, d, how="inner", predicate="within").drop(columns="index_right")
    return joined[~joined.index.duplicated()]


def premises_table(sc: Scenario, data: StudyData) -> gpd.GeoDataFrame:
    """The school premises of the study area with district, UGEL, schools and levels (see module)."""
    p = data.school_premises
    if p is None or not len(p):
        return gpd.GeoDataFrame({c: [] for c in PREMISES_TABLE_COLUMNS}, geometry=[], crs=4326)
    out = _in_area(p, data).merge(school_levels(sc), on="codlocal", how="left")
    out["schools"] = out["schools"].fillna(out["name"])
    out["lon"], out["lat"] = out.geometry.x.round(6), out.geometry.y.round(6)
    out = out.sort_values(["ugel", "district", "codlocal"]).reset_index(drop=True)
    return gpd.GeoDataFrame(out[PREMISES_TABLE_COLUMNS + ["geometry"]], geometry="geometry", crs=4326)


def _host_labels(sc: Scenario, data: StudyData, premises: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """Every host premises with the text the analyst reads: "Local educativo 123456: SCHOOL (level)"."""
    hosts = registry_use.host_premises(data)
    if hosts is None or not len(hosts):
        return None
    schools = dict(zip(premises["codlocal"].astype(str), premises["schools"].astype("string")))
    lang = sc.run.language
    kind = [t(f"kind.{k}", lang) if has_label(f"kind.{k}") else k for k in hosts["kind"].astype(str)]
    kind = [k[:1].upper() + k[1:] for k in kind]
    names = [schools.get(str(i)) if k == "school_premises" and schools.get(str(i)) else n
             for i, k, n in zip(hosts["premises_id"].astype(str), hosts["kind"], hosts["name"].astype("string"))]
    text = [f"{k} {i}: {n}" if isinstance(n, str) and n else f"{k} {i}"
            for k, i, n in zip(kind, hosts["premises_id"].astype(str), names)]
    return gpd.GeoDataFrame({"host": text}, geometry=hosts.geometry.to_numpy(), crs=hosts.crs)


def beyond_table(sc: Scenario, data: StudyData, places: pd.DataFrame, *,
                 premises: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """The centros poblados beyond the smallest threshold ``T_1`` (``minutes_nearest > T_1``,
    no route included), sorted by ``threshold_min`` (the largest ``T`` with ``m > T``) then
    population, both descending; with the host premises within ``host_premises_within_m``."""
    th = sorted(float(x) for x in sc.access.thresholds_min)
    g = sc.population.target_group
    minutes = pd.to_numeric(places["minutes_nearest"], errors="coerce").fillna(np.inf).to_numpy(float)
    keep = minutes > th[0]
    p = places.loc[keep].copy()
    m = minutes[keep]
    p["threshold_min"] = [max(x for x in th if v > x) for v in m]
    names = data.facilities()
    near = p["nearest_facility"].astype("string")
    p["nearest_facility"] = near.map(dict(zip(names["facility_id"].astype(str), names["name"].astype(str)))
                                     ).fillna(near)
    p["n_host_premises"], p["host_premises_near"] = 0, ""
    hosts = _host_labels(sc, data, premises if premises is not None else premises_table(sc, data))
    if hosts is not None and len(p):
        pts = gpd.GeoDataFrame({"row": np.arange(len(p))}, geometry=gpd.GeoSeries(p.geometry.to_numpy(), crs=4326))
        pairs = gpd.sjoin(pts.to_crs(data.crs), hosts.to_crs(data.crs), how="inner", predicate="dwithin",
                          distance=float(sc.candidates.host_premises_within_m))
        by_row = pairs.sort_values("host").groupby("row")["host"]
        p["n_host_premises"] = by_row.size().reindex(range(len(p)), fill_value=0).to_numpy()
        p["host_premises_near"] = by_row.agg("; ".join).reindex(range(len(p)), fill_value="").to_numpy()
    cols = BEYOND_COLUMNS[:6] + [c for c in (f"pop_{g}", f"women_{g}") if c in p.columns] + BEYOND_COLUMNS[6:]
    out = pd.DataFrame(p[[c for c in cols if c in p.columns]])
    return out.sort_values(["threshold_min", "population"], ascending=False, kind="stable").reset_index(drop=True)


def ugel_tables(beyond: pd.DataFrame, premises: pd.DataFrame, ugels: Iterable[str]
                ) -> dict[str, dict[str, pd.DataFrame]]:
    """``{ugel: {"beyond": ..., "premises": ...}}``: the rows of each UGEL."""
    return {u: {"beyond": beyond[beyond["ugel"] == u].reset_index(drop=True),
                "premises": pd.DataFrame(premises[premises["ugel"] == u].drop(columns="geometry", errors="ignore")
                                         ).reset_index(drop=True)} for u in ugels}


def workbook_name(slug: str) -> str:
    """``ugel_san_marcos.xlsx`` (``ugel_`` is added when the slug of the UGEL lacks it)."""
    return f"{slug}.xlsx" if slug.startswith("ugel_") else f"ugel_{slug}.xlsx"


def write_ugel_workbooks(folder: str | Path, tables: Mapping[str, Mapping[str, pd.DataFrame]], *, sc: Scenario,
                         slugs: Mapping[str, str], caveats: Iterable[str] = ()) -> dict[str, Path]:
    """``ugel_<slug>.xlsx`` per UGEL: a Léame sheet, the places beyond the thresholds and the
    school premises of the UGEL (see :func:`siting.report.exports.write_xlsx`)."""
    from .exports import ReadMe, write_xlsx
    readme = ReadMe.from_scenario(sc, caveats=list(caveats))
    out = {}
    for u, sheets in tables.items():
        out[u] = write_xlsx({"ccpp_fuera_umbral": sheets["beyond"], "locales_escolares": sheets["premises"]},
                            Path(folder) / workbook_name(slugs[u]), lang=sc.run.language, readme=readme)
    return out


def write_analyst_tables(folder: str | Path, sc: Scenario, data: StudyData, places: pd.DataFrame, *,
                         caveats: Iterable[str] = ()) -> tuple[dict[str, Path], dict[str, list[dict]]]:
    """Write ``school_premises.csv`` and ``ugel_<slug>.xlsx`` per UGEL; return the files and,
    per UGEL, the two tables for its HTML report (:func:`siting.report.html_report.table_context`)."""
    get_files, html = start_analyst_tables(folder, sc, data, places, caveats=caveats)
    return get_files(), html


def start_analyst_tables(folder: str | Path, sc: Scenario, data: StudyData, places: pd.DataFrame, *,
                         caveats: Iterable[str] = (), pool: SidePool | None = None
                         ) -> tuple[Callable[[], dict[str, Path]], dict[str, list[dict]]]:
    """:func:`write_analyst_tables` with the workbooks written by the side processes of
    ``pool`` (:mod:`siting.report.side_tasks`), one share of the UGELs per side process and
    one written here at once (without side processes: every workbook, here), and the HTML
    tables made here; returns the getter of the files (it waits for the side processes' workbooks)."""
    from .exports import write_csv
    from .html_report import table_context
    from .slugs import unique_slugs

    folder, lang = Path(folder), sc.run.language
    premises = premises_table(sc, data)
    beyond = beyond_table(sc, data, places, premises=premises)
    ugels = sorted(places["ugel"].dropna().astype(str).unique())
    slugs = unique_slugs(set(ugels))
    tables = ugel_tables(beyond, premises, ugels)
    files: dict[str, Path] = {"school_premises": write_csv(premises, folder / "school_premises.csv", lang=None)}
    pool = pool if pool is not None else SidePool(0)
    # one share per side process (submitted first) and one written here at once, while the side
    # processes draw the maps and charts the reports wait for
    shares = pool.workers + 1 if pool.workers > 1 else 1
    getters = [pool.submit(write_ugel_workbooks, folder, tables={u: tables[u] for u in ugels[k::shares]}, sc=sc,
                           slugs=slugs, caveats=list(caveats)) for k in range(1, shares) if ugels[k::shares]]
    if ugels[0::shares]:
        here = write_ugel_workbooks(folder, tables={u: tables[u] for u in ugels[0::shares]}, sc=sc, slugs=slugs,
                                    caveats=list(caveats))
        getters.append(lambda: here)
    first, metres = min(sc.access.thresholds_min), sc.candidates.host_premises_within_m
    html: dict[str, list[dict]] = {}
    for u, sheets in tables.items():
        b = table_context(sheets["beyond"], t("report.beyond_table", lang), lang,
                          columns=[c for c in sheets["beyond"].columns if c != "ugel"])
        b["note"] = t("report.beyond_note", lang).format(first=first, metres=metres, file=workbook_name(slugs[u]))
        p = table_context(sheets["premises"], t("report.premises_table", lang), lang,
                          columns=["district", "codlocal", "ccpp_name", "schools", "altitude_m"])
        p["note"] = t("report.premises_note", lang)
        html[u] = [b, p]

    def get_files() -> dict[str, Path]:
        written = {u: path for get in getters for u, path in get().items()}
        return files | {f"ugel_xlsx_{slugs[u]}": written[u] for u in ugels}  # in the order of the UGELs
    return get_files, html
