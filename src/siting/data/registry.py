"""The registry DRE and UGEL staff keep: extension centres, petitions, host premises, CETPRO
missing from the school base, candidate exclusions and monitoring records.

The formats are those of ``REGISTRY_CONTRACT.md``, machine-readable in
:mod:`siting.data.registry_spec`; reading and row validation are in
:mod:`siting.data.registry_read` (every problem goes into the quality report with its sheet,
row and column).  This module has one loader per kind and :func:`load_inputs`, which
:func:`siting.data.load_study_data` calls for every registry input of a scenario.  The
extension centres are read by :func:`siting.data.facilities.load_extension_centres` (through
:func:`read_registry`).

Every input is optional: with none, the tool works as before and says so in its outputs.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..scenario import Scenario
from .boundaries import fold
from .quality import QualityReport
from .registry_read import known_ccpp, locate, read_registry
from .registry_spec import ENROLLED_PATTERN, KINDS

__all__ = ["read_registry", "load_petitions", "load_host_premises", "load_additional_cetpro", "with_additional_cetpro",
           "load_candidate_exclusions", "load_monitoring", "load_inputs", "empty", "KINDS", "EXTENSION_EXTRA",
           "HOST_PREMISES_COLUMNS", "EXCLUSION_COLUMNS", "PETITION_COLUMNS", "REGISTRY_FIELDS"]

#: columns the extension-centre loader adds to :data:`siting.data.facilities.EXTENSION_COLUMNS`
EXTENSION_EXTRA = ["opening_date", "specialties", "host_type", "resolution", "status", "note"]
HOST_PREMISES_COLUMNS = ["premises_id", "name", "kind", "ccpp_id", "note", "geometry"]
EXCLUSION_COLUMNS = ["ccpp_id", "reason"]
PETITION_COLUMNS = [c.name for c in KINDS["petitions"].columns]
#: StudyData fields filled by :func:`load_inputs`
REGISTRY_FIELDS = ("petitions", "host_premises", "candidate_exclusions", "monitoring")


def empty(kind: str) -> pd.DataFrame:
    """An empty table of ``kind`` with the columns its loader returns."""
    if kind == "host_premises":
        return gpd.GeoDataFrame({c: pd.Series(dtype="string") for c in HOST_PREMISES_COLUMNS[:-1]},
                                geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    cols = EXCLUSION_COLUMNS if kind == "candidate_exclusions" else [c.name for c in KINDS[kind].columns]
    return pd.DataFrame({c: pd.Series(dtype="string") for c in cols})


def _where(row: pd.Series) -> str:
    return f"{row['_sheet']}:{row['_row']}"


def _done(out: pd.DataFrame, read: pd.DataFrame, kind: str, quality: QualityReport | None) -> pd.DataFrame:
    """Final row count of ``kind`` (rows of the file vs rows returned), private columns dropped."""
    if quality is not None:
        quality.count(kind, read=read.attrs.get("rows_read", len(read)), kept=len(out))
    return out.drop(columns=[c for c in ("_row", "_sheet", "_lon", "_lat") if c in out.columns]).reset_index(drop=True)


# --------------------------------------------------------------------------- simple kinds


def load_petitions(path: str | Path, quality: QualityReport | None = None, *,
                   places: pd.DataFrame | None = None) -> pd.DataFrame:
    """Community petitions (``ccpp_id``, date, organisation, interested people, specialties).

    With ``places``, a petition for a code that is not a centro poblado of ``places`` is
    dropped (reported).  Numbers of interested people stay NaN when not given.  Without a
    ``quality`` report the first bad value raises :class:`~siting.errors.DataError`."""
    df = read_registry(path, "petitions", quality, strict=quality is None)
    return _done(known_ccpp(df, "petitions", quality or QualityReport(), places), df, "petitions", quality)


def load_host_premises(path: str | Path, quality: QualityReport, *,
                       places: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Tambos, municipal premises, schools and other premises able to host a centre
    (:data:`HOST_PREMISES_COLUMNS`; ``kind`` is tambo / municipalidad / ie / otro).  A row
    located by ``ccpp_id`` takes the centro poblado's point."""
    df = read_registry(path, "host_premises", quality)
    g = locate(df, "host_premises", quality, places=places, id_col="premises_id")
    return gpd.GeoDataFrame(_done(g[HOST_PREMISES_COLUMNS], df, "host_premises", quality), geometry="geometry",
                            crs=4326)


def load_candidate_exclusions(path: str | Path, quality: QualityReport, *,
                              places: pd.DataFrame | None = None) -> pd.DataFrame:
    """Places a planner excludes as candidates, each with its reason (:data:`EXCLUSION_COLUMNS`)."""
    df = read_registry(path, "candidate_exclusions", quality)
    kept = known_ccpp(df, "candidate_exclusions", quality, places)
    return _done(kept[EXCLUSION_COLUMNS], df, "candidate_exclusions", quality)


# --------------------------------------------------------------------------- additional CETPRO


def _ugel_key(text: object) -> str:
    """``"UGEL Cutervo (060006)"`` and ``"UGEL CUTERVO"`` -> ``"CUTERVO"``."""
    s = re.sub(r"\(.*?\)", "", fold(text)).strip()
    return s[5:].strip() if s.startswith("UGEL ") else s


def _provisional_codes(df: pd.DataFrame, quality: QualityReport) -> pd.DataFrame:
    """Rows without ``cod_mod``: ``LOCAL-<CODLOCAL>`` when the premises code is known, else dropped."""
    local = next((c for c in df.columns if fold(c) in {"CODLOCAL", "COD_LOCAL", "CODIGO_LOCAL"}), None)
    keep = pd.Series(True, index=df.index)
    for i, row in df[df["cod_mod"].isna()].iterrows():
        code = str(row[local]).strip() if local and pd.notna(row[local]) and str(row[local]).strip() else ""
        if code:
            df.loc[i, "cod_mod"] = f"LOCAL-{code}"
            quality.add("additional_cetpro", _where(row), "provisional code",
                        f"column 'cod_mod' empty: provisional code LOCAL-{code} from its premises code (CODLOCAL)",
                        action="estimated")
        else:
            quality.add("additional_cetpro", _where(row), "missing required value",
                        "column 'cod_mod': this column must be filled (or a provisional code such as NEW-001); "
                        "row not used", action="dropped")
            keep[i] = False
    df["codlocal"] = df[local].astype("string") if local else pd.NA
    return df[keep]


def load_additional_cetpro(path: str | Path, quality: QualityReport, *, places: pd.DataFrame | None = None,
                           districts: gpd.GeoDataFrame | None = None,
                           default_max_extensions: int = 3) -> gpd.GeoDataFrame:
    """CETPRO missing from the school base (public or private), in the CETPRO table's schema.

    Returns the columns of :data:`siting.data.facilities.CETPRO_COLUMNS` plus ``gestion``,
    ``user_added`` (True) and ``note``.  District, province and UGEL come from the district
    polygon holding the point (a disagreeing ``ugel`` is flagged).  What the tool assumes
    when figures are missing (each case in the quality report, ``action="estimated"``):

    - no ``enrolment``: 0 seats (``enrolment`` = ``capacity`` = 0) in the 2SFCA supply;
    - no ``teachers``: NaN, so the CETPRO cannot be the parent of a new extension centre
      (the practice needs a CETPRO with teachers to run one);
    - no ``max_extensions``: ``default_max_extensions`` (``allocation.max_extensions_per_cetpro``).

    The verified northern file's own columns (``COD_MOD``, ``NOMBRE_CETPRO``, ``GESTION``,
    ``UGEL``, ``CODLOCAL``, ``lon``/``lat``) are accepted as they are.
    """
    from .facilities import CETPRO_COLUMNS
    read = read_registry(path, "additional_cetpro", quality)
    df = _provisional_codes(read.copy(), quality)
    dup = df["cod_mod"].duplicated(keep="first")
    for _, row in df[dup].iterrows():
        quality.add("additional_cetpro", _where(row), "duplicate code",
                    f"column 'cod_mod' = {row['cod_mod']!r}: the first row with this code is kept; row not used",
                    action="dropped")
    g = locate(df[~dup], "additional_cetpro", quality, places=places, id_col="cod_mod")
    out = gpd.GeoDataFrame({"facility_id": g["cod_mod"], "cod_mod": g["cod_mod"], "codlocal": g["codlocal"],
                            "name": g["name"], "kind": "cetpro"}, geometry=g.geometry, crs=4326)
    for c in ("ubigeo", "district", "province", "ugel"):
        out[c] = pd.Series(pd.NA, index=out.index, dtype="object")
    if districts is not None and len(out):
        hit = gpd.sjoin(out[["geometry"]], districts[["ubigeo", "district", "province", "ugel", "geometry"]],
                        how="left", predicate="within")
        hit = hit[~hit.index.duplicated()]
        for c in ("ubigeo", "district", "province", "ugel"):
            out[c] = hit[c].reindex(out.index)
        given = g["ugel"].map(lambda v: _ugel_key(v) if pd.notna(v) else "")
        differ = (given != "") & (given != out["ugel"].map(lambda v: _ugel_key(v) if pd.notna(v) else ""))
        for i in np.flatnonzero(differ.to_numpy()):
            quality.add("additional_cetpro", out["cod_mod"].iloc[i], "UGEL differs from the district's UGEL",
                        f"file {g['ugel'].iloc[i]}, polygon {out['ugel'].iloc[i]}")
    enr, teach = g["enrolment"], g["teachers"]
    for i in np.flatnonzero(enr.isna().to_numpy()):
        quality.add("additional_cetpro", out["cod_mod"].iloc[i], "enrolment unknown",
                    "counted as 0 seats in the 2SFCA supply", action="estimated")
    for i in np.flatnonzero(teach.isna().to_numpy()):
        quality.add("additional_cetpro", out["cod_mod"].iloc[i], "teachers unknown",
                    "cannot be the parent CETPRO of a new extension centre", action="estimated")
    out["enrolment"] = enr.fillna(0.0).to_numpy()
    out["teachers"] = teach.to_numpy()
    out["capacity"] = out["enrolment"]
    out["max_extensions"] = g["max_extensions"].fillna(default_max_extensions).astype(int).to_numpy()
    out["gestion"] = g["gestion"].to_numpy()
    out["user_added"] = True
    out["note"] = g["note"].to_numpy()
    out = _done(out[CETPRO_COLUMNS[:-1] + ["gestion", "user_added", "note", "geometry"]], read,
                "additional_cetpro", quality)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=4326)


def _counts_text(series: pd.Series) -> str:
    return ", ".join(f"{k} {v}" for k, v in series.fillna("?").value_counts().sort_index().items())


def with_additional_cetpro(cetpro: gpd.GeoDataFrame, sc: Scenario, quality: QualityReport, *,
                           places: pd.DataFrame | None = None,
                           districts: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The CETPRO table with the user's ``inputs.additional_cetpro`` appended.

    Adds ``gestion`` (``"publica"`` for the school base, whose rows are public services) and
    ``user_added`` to every row.  A user row whose code is already in the base is dropped
    (reported); the others are noted as a study-level caveat with what the tool assumes."""
    base = cetpro.copy()
    base["gestion"] = "publica"
    base["user_added"] = False
    base["note"] = pd.Series(pd.NA, index=base.index, dtype="object")
    if not sc.inputs.additional_cetpro:
        return base
    extra = load_additional_cetpro(sc.inputs.additional_cetpro, quality, places=places, districts=districts,
                                   default_max_extensions=sc.allocation.max_extensions_per_cetpro)
    known = extra["cod_mod"].isin(set(base["cod_mod"]))
    for code in extra.loc[known, "cod_mod"]:
        quality.add("additional_cetpro", code, "already in the school base", "the school base's row is used",
                    action="dropped")
    extra = extra[~known]
    n_priv = int((extra["gestion"] == "privada").sum())
    no_enr = int((extra["enrolment"] == 0).sum())
    no_teach = int(extra["teachers"].isna().sum())
    by_ugel = _counts_text(extra["ugel"])
    quality.note(
        f"{len(extra)} CETPRO added by the user (inputs.additional_cetpro), flagged user_added: {by_ugel}; "
        f"{n_priv} private. Without enrolment ({no_enr}) a CETPRO counts 0 seats in the 2SFCA supply; without "
        f"teachers ({no_teach}) it cannot be the parent of a new extension centre; both count as places people "
        "travel to.",
        es=f"{len(extra)} CETPRO agregados por el usuario (inputs.additional_cetpro), marcados user_added: "
           f"{by_ugel}; {n_priv} privados. Sin matrícula ({no_enr}) un CETPRO cuenta 0 vacantes en la oferta "
           f"2SFCA; sin docentes ({no_teach}) no puede ser sede de un nuevo centro de extensión; todos cuentan "
           "como destino de viaje.")
    only_user = sorted(set(extra["ugel"].dropna()) - set(base["ugel"].dropna()))
    if only_user:
        quality.note(f"In {', '.join(only_user)} every CETPRO in the data was added by the user: if that list is "
                     "incomplete, their gaps are over-estimated.",
                     es=f"En {', '.join(only_user)} todos los CETPRO de los datos fueron agregados por el usuario: "
                        "si esa lista está incompleta, su brecha está sobrestimada.")
    parts = [base, extra.to_crs(base.crs) if base.crs is not None else extra]
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)


# --------------------------------------------------------------------------- monitoring


def enrolled_groups(df: pd.DataFrame) -> list[str]:
    """The ``enrolled_{women,men}_{group}`` columns of a monitoring table."""
    return [c for c in df.columns if ENROLLED_PATTERN.match(str(c))]


def _consistency(df: pd.DataFrame, quality: QualityReport) -> None:
    """Flag (keep) rows whose counts contradict each other."""
    groups = enrolled_groups(df)
    pairs = [("retained", "enrolled_total"), ("completed", "enrolled_total"), ("certified", "enrolled_total"),
             ("placed_in_work", "enrolled_total")]
    for _, row in df.iterrows():
        bad = [f"{a} {row[a]:g} > {b} {row[b]:g}" for a, b in pairs
               if pd.notna(row[a]) and pd.notna(row[b]) and row[a] > row[b]]
        if bad:
            quality.add("monitoring", _where(row), "counts larger than the enrolment", "; ".join(bad))
        if groups and pd.notna(row["_groups_sum"]) and pd.notna(row["_total_given"]) \
                and abs(row["_groups_sum"] - row["_total_given"]) > 1e-9:
            quality.add("monitoring", _where(row), "total differs from the sum of the groups",
                        f"enrolled_total {row['_total_given']:g}, sum by sex and age {row['_groups_sum']:g}; "
                        "enrolled_total is used")


def load_monitoring(path: str | Path, quality: QualityReport, *, centres: set[str] | None = None) -> pd.DataFrame:
    """Monitoring records, one row per centre and period.

    ``enrolled_total`` empty = the sum of the ``enrolled_{women,men}_{group}`` columns.
    Flags (rows kept): counts larger than the enrolment, a total that differs from the sum
    of the groups, a ``centre_id`` not among ``centres`` (extension centres and CETPRO of
    the data), residence codes that are not 10-digit codes (removed from the list).
    A repeated (centre, period) is dropped."""
    read = df = read_registry(path, "monitoring", quality)
    groups = enrolled_groups(df)
    df["_total_given"] = df["enrolled_total"]
    df["_groups_sum"] = df[groups].sum(axis=1, min_count=1) if groups else np.nan
    df["enrolled_total"] = df["enrolled_total"].fillna(df["_groups_sum"])
    dup = df.duplicated(["centre_id", "period"], keep="first")
    for _, row in df[dup].iterrows():
        quality.add("monitoring", _where(row), "duplicate centre and period",
                    f"{row['centre_id']} {row['period']}: the first row is kept; row not used", action="dropped")
    df = df[~dup].copy()
    _consistency(df, quality)
    if centres is not None:
        for _, row in df[~df["centre_id"].isin(centres)].iterrows():
            quality.add("monitoring", _where(row), "unknown centre_id",
                        f"{row['centre_id']} is neither an extension centre nor a CETPRO of the data: its records "
                        "cannot be placed on the map")
    cleaned = []
    for _, row in df.iterrows():
        codes = [] if pd.isna(row["enrolled_living_ccpp_ids"]) else str(row["enrolled_living_ccpp_ids"]).split("; ")
        ok = [c.zfill(10) for c in codes if re.fullmatch(r"\d{9,10}", c)]
        if len(ok) < len(codes):
            quality.add("monitoring", _where(row), "invalid ccpp_id",
                        f"column 'enrolled_living_ccpp_ids': {len(codes) - len(ok)} code(s) are not 10-digit "
                        "codes and are not used")
        cleaned.append("; ".join(ok) if ok else pd.NA)
    df["enrolled_living_ccpp_ids"] = pd.Series(cleaned, index=df.index, dtype="string")
    return _done(df.drop(columns=["_total_given", "_groups_sum"]), read, "monitoring", quality)


# --------------------------------------------------------------------------- all inputs


_MISSING_TEXT = {
    "extension_centres": ("no existing extension centres", "sin centros de extensión existentes"),
    "petitions": ("no community petitions", "sin petitorios de las comunidades"),
    "host_premises": ("no host premises besides the shipped ones", "sin locales anfitriones adicionales"),
    "additional_cetpro": ("no CETPRO beyond the school base", "sin CETPRO adicionales al padrón"),
    "candidate_exclusions": ("no places excluded by planners", "sin lugares excluidos por los planificadores"),
    "monitoring": ("no monitoring records", "sin registros de monitoreo"),
}


def load_inputs(sc: Scenario, quality: QualityReport, *, places: pd.DataFrame | None = None,
                cetpro: pd.DataFrame | None = None,
                extension_centres: pd.DataFrame | None = None) -> dict[str, Any]:
    """Every registry input of ``sc`` except extension centres and additional CETPRO, as a
    dict of :data:`REGISTRY_FIELDS` (empty tables for inputs not given).  ``places``
    should be all centros poblados of the department (registry rows are located by them).
    Adds one caveat listing the registry inputs that were not given."""
    i = sc.inputs
    centres = set() if cetpro is None else set(cetpro["cod_mod"].astype(str))
    if extension_centres is not None:
        centres |= set(extension_centres["facility_id"].astype(str))
    out: dict[str, Any] = {
        "petitions": load_petitions(i.petitions, quality, places=places) if i.petitions else empty("petitions"),
        "host_premises": (load_host_premises(i.host_premises, quality, places=places) if i.host_premises
                          else empty("host_premises")),
        "candidate_exclusions": (load_candidate_exclusions(i.candidate_exclusions, quality, places=places)
                                 if i.candidate_exclusions else empty("candidate_exclusions")),
        "monitoring": load_monitoring(i.monitoring, quality, centres=centres or None) if i.monitoring
        else empty("monitoring"),
    }
    missing = [k for k in _MISSING_TEXT if not getattr(i, k)]
    if missing:
        keys = ", ".join(f"inputs.{k}" for k in missing)
        en = "; ".join(_MISSING_TEXT[k][0] for k in missing)
        es = "; ".join(_MISSING_TEXT[k][1] for k in missing)
        quality.note(f"Registry kept by DRE/UGEL not given ({keys}): {en}. `siting templates` writes the forms.",
                     es=f"No se entregó el registro de la DRE/UGEL ({keys}): {es}. `siting templates` genera "
                        "los formatos.")
    return out
