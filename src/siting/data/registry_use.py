"""How the registry enters the analysis (``[registry]`` of the scenario).

Plain functions of :class:`~siting.data.StudyData` and tables, called by the access,
suitability and allocation stages:

- :func:`facility_sets`: CETPRO (school base + ``inputs.additional_cetpro``) and the *active*
  extension centres people travel to (``registry.extension_centres_use`` in {both, gaps});
- :func:`parent_load`: the active extension centres that use up their parent's
  ``max_extensions`` (``extension_centres_use`` in {both, parent_capacity});
- :func:`host_premises`: school premises, Tambos (``inputs.tambos``) and the user's host
  premises (``inputs.host_premises``) as one layer with a ``kind`` column;
- :func:`petition_demand`: interested people of the petitions of each place, the extra demand
  weight of the allocation;
- :func:`petition_summary`: per place, its petitions in words (shown beside the ranking);
- :func:`centre_table`: every centre a monitoring record can name, with its UGEL and point.
"""
from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

#: registry host kind -> kind of the host-premises layer (``n_<kind>`` columns of the candidates)
HOST_KINDS = {"tambo": "tambo", "municipalidad": "municipal_hall", "ie": "school_premises", "otro": "other_premises"}


def active_extension_centres(data: Any) -> gpd.GeoDataFrame:
    """Extension centres whose ``status`` is not ``cerrado`` (a closed centre serves nobody)."""
    ext = data.extension_centres
    if "status" not in ext.columns or not len(ext):
        return ext
    return ext[ext["status"].fillna("activo") != "cerrado"]


def _note_use(data: Any, use: str, closed: int) -> None:
    q = data.quality
    if closed:
        q.note(f"{closed} extension centre(s) of the registry are closed (status cerrado): they are not counted.",
               es=f"{closed} centro(s) de extensión del registro están cerrados (estado cerrado): no se cuentan.")
    if len(data.extension_centres) and use in {"parent_capacity", "none"}:
        q.note("Existing extension centres are not counted as places people travel to "
               f"(registry.extension_centres_use = \"{use}\"): gaps are measured to CETPRO only.",
               es="Los centros de extensión existentes no se cuentan como destino de viaje "
                  f"(registry.extension_centres_use = \"{use}\"): las brechas se miden solo hasta los CETPRO.")
    if len(data.extension_centres) and use in {"gaps", "none"}:
        q.note(f"Existing extension centres do not use up their parent CETPRO's capacity "
               f"(registry.extension_centres_use = \"{use}\").",
               es="Los centros de extensión existentes no descuentan la capacidad de su CETPRO sede "
                  f"(registry.extension_centres_use = \"{use}\").")


def facility_sets(data: Any, *, use: str = "both") -> dict[str, gpd.GeoDataFrame]:
    """The facility sets people travel to: ``{"cetpro": ..., "extension": ...}``.

    ``extension`` (active centres only) is present when ``use`` is ``"both"`` or ``"gaps"``
    and there is at least one; the choice is noted in the quality report."""
    active = active_extension_centres(data)
    _note_use(data, use, len(data.extension_centres) - len(active))
    sets = {"cetpro": data.cetpro}
    if use in {"both", "gaps"} and len(active):
        sets["extension"] = active
    return sets


def parent_load(data: Any, *, use: str = "both") -> pd.DataFrame:
    """The extension centres that already use up one of their parent's ``max_extensions``."""
    if use not in {"both", "parent_capacity"}:
        return data.extension_centres.iloc[0:0]
    return active_extension_centres(data)


def host_premises(data: Any) -> gpd.GeoDataFrame | None:
    """School premises, Tambos and the registry's host premises as one layer
    (``premises_id``, ``name``, ``kind``, geometry); ``None`` when there is none.

    Registry kinds become ``tambo``, ``municipal_hall``, ``school_premises``, ``other_premises``
    (:data:`HOST_KINDS`); their ids get the prefix ``registry:`` so they never collide."""
    parts = []
    if data.school_premises is not None and len(data.school_premises):
        p = data.school_premises[["codlocal", "name", "geometry"]].rename(columns={"codlocal": "premises_id"})
        parts.append(p.assign(kind="school_premises"))
    if len(data.tambos):
        t = data.tambos[["tambo_code", "name", "geometry"]].rename(columns={"tambo_code": "premises_id"})
        parts.append(t.assign(kind="tambo"))
    reg = getattr(data, "host_premises", None)
    if reg is not None and len(reg):
        r = reg[["premises_id", "name", "geometry"]].copy()
        r["premises_id"] = "registry:" + r["premises_id"].astype(str)
        parts.append(r.assign(kind=reg["kind"].map(HOST_KINDS).fillna("other_premises").to_numpy()))
    if not parts:
        return None
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)


def _interested(petitions: pd.DataFrame, target_group: str) -> pd.Series:
    """Interested people of each petition (see :func:`petition_demand`)."""
    sexes = petitions[["interested_women", "interested_men"]].sum(axis=1, min_count=1)
    if target_group == "15_29":
        return petitions["interested_15_29"].fillna(sexes).fillna(0.0)
    return sexes.fillna(petitions["interested_15_29"]).fillna(0.0)


def petition_demand(places: pd.DataFrame, petitions: pd.DataFrame | None, *, target_group: str = "15_29",
                    weight: float = 1.0) -> np.ndarray:
    """Extra demand weight of every place from its petitions, aligned with ``places``.

    ``e_j = weight * sum_k d_k`` over the petitions k of place j, where ``d_k`` is
    ``interested_15_29`` when the target group is ``15_29`` and it is given, else
    ``interested_women + interested_men`` (0 when the petition gives no number).
    The allocation maximises ``sum_j (w_j + e_j) * covered_j``."""
    out = np.zeros(len(places))
    if petitions is None or not len(petitions) or weight == 0:
        return out
    d = _interested(petitions, target_group).groupby(petitions["ccpp_id"].astype(str)).sum()
    return weight * places["ccpp_id"].astype(str).map(d).fillna(0.0).to_numpy(float)


def petition_summary(petitions: pd.DataFrame | None, *, target_group: str = "15_29") -> pd.DataFrame:
    """Per petitioned place (index ``ccpp_id``): ``petitions`` (count), ``petition_interested``
    (as in :func:`petition_demand`) and ``petition_detail`` (date, organisation, people, specialties
    of each petition, ``" | "``-separated)."""
    cols = ["petitions", "petition_interested", "petition_detail"]
    if petitions is None or not len(petitions):
        return pd.DataFrame(columns=cols, index=pd.Index([], name="ccpp_id"))
    p = petitions.copy()
    p["_d"] = _interested(p, target_group)

    def words(r: pd.Series) -> str:
        parts = [str(r[c]) for c in ("date", "organisation") if pd.notna(r[c])]
        if r["_d"]:
            parts.append(f"{r['_d']:g}")
        if pd.notna(r["specialties"]):
            parts.append(str(r["specialties"]))
        return ", ".join(parts) or "-"

    p["_w"] = p.apply(words, axis=1)
    g = p.groupby(p["ccpp_id"].astype(str))
    return pd.DataFrame({"petitions": g.size(), "petition_interested": g["_d"].sum(),
                         "petition_detail": g["_w"].agg(" | ".join)}).rename_axis("ccpp_id")


def centre_table(data) -> gpd.GeoDataFrame:
    """Every centre a monitoring record can name: extension centres (``facility_id``) and CETPRO
    (``cod_mod``), with ``centre_id``, ``centre_name``, ``centre_kind``, ``ugel``, ``district``
    (from the district polygon holding the point) and geometry."""
    parts = []
    if len(data.extension_centres):
        e = data.extension_centres
        parts.append(gpd.GeoDataFrame({"centre_id": e["facility_id"].astype(str).to_numpy(),
                                       "centre_name": e["name"].astype(str).to_numpy(), "centre_kind": "extension"},
                                      geometry=e.geometry.to_numpy(), crs=4326))
    c = data.cetpro
    parts.append(gpd.GeoDataFrame({"centre_id": c["cod_mod"].astype(str).to_numpy(),
                                   "centre_name": c["name"].astype(str).to_numpy(), "centre_kind": "cetpro"},
                                  geometry=c.geometry.to_numpy(), crs=4326))
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)
    out = out.drop_duplicates("centre_id").reset_index(drop=True)
    hit = gpd.sjoin(out[["geometry"]], data.all_districts[["ugel", "district", "geometry"]], how="left",
                    predicate="within")
    hit = hit[~hit.index.duplicated()]
    out["ugel"] = hit["ugel"].reindex(out.index).to_numpy()
    out["district"] = hit["district"].reindex(out.index).to_numpy()
    return out
