"""JSON views of an answered what-if (:class:`siting.app.engine.WhatIf`).

Plain functions from the engine's tables to JSON-ready dicts: every figure the UI shows
comes from the same table the CLI writes (``places``, ``access_by_district``,
``proposals``, ``coverage_curve``, ``before_after``).  Text from data files is passed as
data (JSON strings); the UI renders it with ``textContent``, never as HTML.  NaN and
infinite values become ``null``.
"""
from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from ..report.labels import BAND_COLOURS, band_label, has_label, t
from ..suitability.candidates import REASONS
from ..suitability.criteria import CRITERIA
from .engine import Engine, WhatIf, route_legs


def clean(value: Any) -> Any:
    """A JSON-safe Python value: numpy scalars unwrapped, NaN/inf/NA -> None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [clean(v) for v in value]
    return value if isinstance(value, (int, str)) else str(value)


def records(df: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Rows of ``df`` as dicts of the ``columns`` it has."""
    cols = [c for c in columns if c in df.columns]
    return [clean(r) for r in df[cols].to_dict("records")]


def columns(df: pd.DataFrame, names: list[str], *, digits: int | None = None) -> dict[str, list]:
    """Column-oriented JSON (smaller than records for map layers)."""
    out = {}
    for c in names:
        if c not in df.columns:
            continue
        s = df[c]
        if digits is not None and pd.api.types.is_float_dtype(s):
            s = s.round(digits)
        out[c] = clean(s.to_numpy(dtype=object) if not pd.api.types.is_numeric_dtype(s) else s.to_numpy())
    return out


def fold(text: str) -> str:
    """Upper case without accents (for search)."""
    return "".join(ch for ch in unicodedata.normalize("NFD", str(text).upper()) if unicodedata.category(ch) != "Mn")


def label(key: str, lang: str) -> str:
    return t(key, lang) if has_label(key) else key


# --------------------------------------------------------------------------- page metadata


def _area_tree(places: pd.DataFrame) -> list[dict[str, Any]]:
    tree = []
    p = places[["ugel", "province", "district", "ubigeo"]].drop_duplicates().sort_values(["ugel", "province",
                                                                                          "district"])
    for ugel, g in p.groupby("ugel", sort=True):
        provs = [{"province": str(pr), "districts": [{"ubigeo": str(u), "district": str(d)} for u, d in
                                                     zip(h["ubigeo"], h["district"])]}
                 for pr, h in g.groupby("province", sort=True)]
        tree.append({"ugel": str(ugel), "provinces": provs})
    return tree


def controls(wi: WhatIf) -> dict[str, Any]:
    """Current value of every what-if control, in ``section__key`` form."""
    sc = wi.sc
    a, c, s = sc.allocation, sc.candidates, sc.suitability
    return {
        "allocation__n_sites": a.n_sites, "allocation__coverage_target": a.coverage_target,
        "allocation__max_minutes": a.max_minutes, "allocation__teacher_max_minutes": a.teacher_max_minutes,
        "allocation__max_extensions_per_cetpro": a.max_extensions_per_cetpro,
        "population__target_group": sc.population.target_group, "allocation__weight_women": a.weight_women,
        "candidates__min_population": c.min_population, "allocation__group_by": a.group_by,
        "allocation__min_per_ugel": a.min_per_ugel, "allocation__max_per_ugel": a.max_per_ugel,
        "suitability__weights": dict(s.weights), "suitability__ahp": dict(s.ahp), "allocation__solver": a.solver,
        "allocation__objective": a.objective,
    }


def meta(engine: Engine, wi: WhatIf, lang: str) -> dict[str, Any]:
    """Everything the page needs once: scenario, controls, choices, areas, caveats, labels."""
    sc, base = wi.sc, wi.base
    b = base.districts.total_bounds
    crit = [{"key": k, "label": label(k, lang), "description": getattr(CRITERIA.get(k), f"description_{lang}", k)}
            for k in CRITERIA]
    labels = {k: label(k, lang) for k in (
        "name", "district", "province", "ugel", "population", "women", "men", "rank", "parent_name",
        "teacher_minutes", "new_population", "new_women", "new_target", "new_women_target", "minutes_saved",
        "host_premises", "score", "share_top_n", "top_criteria", "minutes_nearest", "nearest_facility")}
    for g in sc.population.age_groups:
        for m in ("pop", "women", "men"):
            labels[f"{m}_{g}"] = label(f"{m}_{g}", lang)
    return clean({
        "scenario": {"name": sc.run.name, "path": str(engine.session_path), "original": str(engine.original_path),
                     "edited": engine.session_path != engine.original_path},
        "lang": lang, "thresholds": list(sc.access.thresholds_min), "main_threshold": sc.access.main_threshold_min,
        "age_groups": {k: list(v) for k, v in sc.population.age_groups.items()},
        "controls": controls(wi), "criteria": crit,
        "choices": {"solver": ["auto", "exact", "greedy"], "group_by": ["ugel", "province"],
                    "objective": ["mclp", "pmedian", "pcenter", "fair"],
                    "target_group": list(sc.population.age_groups)},
        "areas": _area_tree(base.places),
        "bounds": [[b[1], b[0]], [b[3], b[2]]],
        "bands": [{"key": k, "label": band_label(k, lang), "colour": c} for k, c in BAND_COLOURS.items()],
        "labels": labels,
        "cetpro": records(base.cetpro, ["cod_mod", "name", "ugel"]),
        "caveats": caveats(wi, lang),
    })


def caveats(wi: WhatIf, lang: str) -> list[str]:
    """The data caveats of the run plus what the app itself approximates."""
    st = wi.stability
    es = lang == "es"
    app = [("Estabilidad del puesto: Monte Carlo de {runs} sorteos de pesos (Dirichlet) y {s} de velocidades; "
            "cada cambio recalcula puntaje y propuestas, no el grafo de viaje.") if es else
           ("Rank stability: Monte Carlo of {runs} weight draws (Dirichlet) and {s} speed draws; each what-if "
            "recomputes score and proposals, not the travel graph.")]
    return wi.base.notes(lang) + [app[0].format(runs=st["runs"], s=st["speed_samples"])]


# --------------------------------------------------------------------------- map layers


def layers(wi: WhatIf, lang: str) -> dict[str, Any]:
    """Places (by band), CETPRO, extension centres, Tambos, roads and district outlines."""
    import shapely
    base = wi.base
    p = wi.places
    place_cols = ["ccpp_id", "name", "district", "province", "ugel", "population", "minutes_nearest",
                  "minutes_walk_nearest", "band"]
    places = columns(p, place_cols, digits=1)
    places["band"] = [str(v) if v is not None else None for v in places.get("band", [])]
    places["lon"] = np.round(p.geometry.x.to_numpy(), 5).tolist()
    places["lat"] = np.round(p.geometry.y.to_numpy(), 5).tolist()

    def points(gdf, cols):
        if gdf is None or len(gdf) == 0:
            return []
        rows = records(gdf, cols)
        for r, x, y in zip(rows, gdf.geometry.x, gdf.geometry.y):
            r["lon"], r["lat"] = round(float(x), 5), round(float(y), 5)
        return rows

    def lines(gdf, tolerance_m: float, props: list[str]):
        if gdf is None or len(gdf) == 0:
            return []
        simple = gdf.to_crs(base.crs).geometry.simplify(tolerance_m).to_crs(4326)
        out = []
        for geom, rec in zip(simple, records(gdf, props)):
            if geom is None or geom.is_empty:
                continue
            parts = getattr(geom, "geoms", [geom])
            for part in parts:
                ring = part.exterior if part.geom_type == "Polygon" else part
                coords = np.round(np.asarray(shapely.get_coordinates(ring))[:, ::-1], 5).tolist()
                out.append({**rec, "coords": coords})
        return out

    roads = lines(base.roads, 100.0, ["road_class", "approximate"])
    for r in roads:
        r["label"] = label(f"road.{r['road_class']}", lang) if has_label(f"road.{r['road_class']}") \
            else r["road_class"]
    return {"places": places,
            "cetpro": points(base.cetpro, ["cod_mod", "name", "district", "ugel", "enrolment", "teachers"]),
            "extension": points(base.extension, ["facility_id", "name", "parent_cod_mod", "ccpp_id"]),
            "tambos": points(base.tambos, ["tambo_code", "name"]),
            "host_premises": points(base.host_premises, ["premises_id", "name", "kind", "ccpp_id"]),
            "roads": roads,
            "districts": lines(base.districts, 200.0, ["ubigeo", "district", "province", "ugel"])}


# --------------------------------------------------------------------------- gaps


def gaps(wi: WhatIf, lang: str, *, ugel: str = "", province: str = "", ubigeo: str = "") -> dict[str, Any]:
    """People beyond each threshold by district, sex and age group (filtered), with totals."""
    sc = wi.sc
    d = wi.by_district
    if ugel:
        d = d[d["ugel"] == ugel]
    if province:
        d = d[d["province"] == province]
    if ubigeo:
        d = d[d["ubigeo"] == ubigeo]
    measures = ["population", "women", "men"] + [f"{m}_{g}" for g in sc.population.age_groups
                                                 for m in ("pop", "women", "men")]
    cols = ["ubigeo", "district", "province", "ugel"] + measures
    beyond = [f"{m}_beyond_{th:g}" for th in sc.access.thresholds_min for m in measures]
    rows = records(d, cols + beyond + ["mean_minutes"])
    total = {c: clean(d[c].sum()) for c in measures + beyond if c in d.columns}
    return {"thresholds": list(sc.access.thresholds_min), "measures": measures,
            "measure_labels": {m: label(m, lang) for m in measures}, "rows": rows, "total": total}


# --------------------------------------------------------------------------- proposals

PROPOSAL_COLUMNS = ["rank", "ccpp_id", "name", "district", "province", "ugel", "population", "parent_cod_mod",
                    "parent_name", "teacher_minutes", "parent_status", "new_places", "new_population", "new_women",
                    "new_target", "new_women_target", "minutes_saved", "nearest_existing", "nearest_existing_minutes",
                    "host_premises", "score", "share_top_n", "suitability_rank", "suitability_rank_median",
                    "top_criteria"]


def _fmt_int(v: Any, lang: str) -> str:
    """Whole number with the grouping of the app's other figures (es-PE and English: ``12,345``)."""
    try:
        return f"{float(v):,.0f}"
    except (TypeError, ValueError):
        return "–"


def _criteria_words(text: Any, lang: str) -> str:
    names = re.findall(r"(\w+) \(([-\d.]+)\)", str(text or ""))
    return ", ".join(f"{label(k, lang).lower()} ({v})" for k, v in names)


def reason(row: dict[str, Any], wi: WhatIf, lang: str) -> str:
    """Why this site: what it newly covers, its main criteria and its parent CETPRO."""
    a = wi.sc.allocation
    g = wi.sc.population.target_group.replace("_", "-")
    crit = _criteria_words(row.get("top_criteria"), lang)
    if lang == "es":
        text = (f"Acerca a {_fmt_int(row.get('new_target'), lang)} personas de {g} años (de ellas "
                f"{_fmt_int(row.get('new_women_target'), lang)} mujeres) que hoy están a más de {a.max_minutes:g} "
                f"min, en {_fmt_int(row.get('new_places'), lang)} centros poblados.")
        text += f" Criterios con mayor aporte: {crit}." if crit else ""
        parent = (f" CETPRO sede: {row.get('parent_name')} a {_fmt_int(row.get('teacher_minutes'), lang)} min."
                  if row.get("parent_cod_mod") else
                  f" Sin CETPRO sede a {a.teacher_max_minutes:g} min o menos con capacidad.")
    else:
        text = (f"Brings {_fmt_int(row.get('new_target'), lang)} people aged {g} ("
                f"{_fmt_int(row.get('new_women_target'), lang)} women) who are now beyond {a.max_minutes:g} min "
                f"within reach, in {_fmt_int(row.get('new_places'), lang)} populated places.")
        text += f" Main criteria: {crit}." if crit else ""
        parent = (f" Parent CETPRO: {row.get('parent_name')}, {_fmt_int(row.get('teacher_minutes'), lang)} min away."
                  if row.get("parent_cod_mod") else
                  f" No parent CETPRO with capacity within {a.teacher_max_minutes:g} min.")
    return text + parent


def _petition_ids(wi: WhatIf) -> set[str]:
    """Places with a community petition (the data stage's validated petitions table)."""
    pet = wi.base.petitions
    return set(pet["ccpp_id"].astype(str)) if len(pet) and "ccpp_id" in pet else set()


def petitions(wi: WhatIf, lang: str) -> list[dict[str, Any]]:
    """Each petitioned place: chosen (rank), candidate (suitability rank) or excluded (why)."""
    out: list[dict[str, Any]] = []
    ids = _petition_ids(wi)
    if not ids:
        return out
    chosen = dict(zip(wi.proposals["ccpp_id"].astype(str), wi.proposals["rank"]))
    cand = wi.candidates.set_index(wi.candidates["ccpp_id"].astype(str))
    exc = wi.excluded.set_index(wi.excluded["ccpp_id"].astype(str))
    names = wi.places.set_index(wi.places["ccpp_id"].astype(str))["name"]
    for cid in sorted(ids):
        item: dict[str, Any] = {"ccpp_id": cid, "name": clean(names.get(cid)), "proposal_rank": clean(chosen.get(cid))}
        if cid in cand.index:
            item.update(status="chosen" if cid in chosen else "candidate",
                        suitability_rank=clean(cand.loc[cid, "rank"]), candidates=len(cand))
        elif cid in exc.index:
            codes = str(exc.loc[cid, "reason"]).split("; ")
            item.update(status="excluded", reasons=[REASONS.get(c, (c, c))[0 if lang == "es" else 1] for c in codes])
        else:
            item.update(status="outside")
        out.append(item)
    return out


def proposals(wi: WhatIf, lang: str) -> dict[str, Any]:
    """The answer of ``POST /api/propose``."""
    rows = records(wi.proposals, PROPOSAL_COLUMNS)
    cand = wi.candidates.set_index(wi.candidates["ccpp_id"].astype(str))
    pet = _petition_ids(wi)
    for r, geom in zip(rows, wi.proposals.geometry):
        r["lon"], r["lat"] = round(float(geom.x), 5), round(float(geom.y), 5)
        r["reason"] = reason(r, wi, lang)
        r["petition"] = str(r["ccpp_id"]) in pet
        hp = cand["host_premises_list"].get(str(r["ccpp_id"])) if "host_premises_list" in cand else None
        r["host_premises_list"] = clean(hp)
    ba = wi.before_after
    total = ba[ba["ugel"] == "total"].iloc[0] if "ugel" in ba and (ba["ugel"] == "total").any() else ba.iloc[-1]
    g = wi.sc.population.target_group
    summary = {k: clean(total.get(k)) for k in (
        "population", "population_within_before", "population_within_after", "population_newly_within",
        f"pop_{g}_within_before", f"pop_{g}_within_after", f"pop_{g}_newly_within",
        f"women_{g}_within_before", f"women_{g}_within_after", f"women_{g}_newly_within",
        "women_newly_within", "mean_minutes_before", "mean_minutes_after")}
    summary["target_total"] = clean(wi.places[f"pop_{g}"].sum())
    curve = records(wi.curve, ["n_sites", "covered_target", "share", "marginal_gain", "candidate_id"])
    return clean({"id": wi.id, "overrides": wi.overrides, "proposals": rows, **wi.solution,
                  "seconds": round(wi.seconds, 3), "timings": wi.timings, "threshold": wi.sc.allocation.max_minutes,
                  "target_group": g, "summary": summary, "curve": curve, "notes": wi.notes,
                  "petitions": petitions(wi, lang), "stability": wi.stability})


# --------------------------------------------------------------------------- places


def place_index(wi: WhatIf, ccpp_id: str) -> int:
    """Row of ``ccpp_id`` in the places table (KeyError when unknown)."""
    ids = wi.places["ccpp_id"].astype(str).to_numpy()
    hit = np.flatnonzero(ids == str(ccpp_id))
    if not len(hit):
        raise KeyError(ccpp_id)
    return int(hit[0])


def _opening_alone(wi: WhatIf, ci: int) -> dict[str, Any]:
    """What opening candidate ``ci`` alone adds: places not yet within the threshold it reaches."""
    cov = wi.coverage
    cols = cov.indices[cov.indptr[ci]:cov.indptr[ci + 1]]
    before = wi.places["minutes_nearest"].to_numpy(float)
    new = cols[~(before[cols] <= wi.sc.allocation.max_minutes)]
    p = wi.places.iloc[new]
    g = wi.sc.population.target_group
    return {"places": int(len(new)), "population": clean(p["population"].sum()), "women": clean(p["women"].sum()),
            "target": clean(p[f"pop_{g}"].sum()), "women_target": clean(p[f"women_{g}"].sum())}


def _parents(wi: WhatIf, ci: int) -> list[dict[str, Any]]:
    t_ = wi.teacher
    cols = t_.indices[t_.indptr[ci]:t_.indptr[ci + 1]]
    mins = t_.data[t_.indptr[ci]:t_.indptr[ci + 1]]
    cet = wi.base.cetpro
    out = [{"cod_mod": str(cet["cod_mod"].iloc[j]), "name": clean(cet["name"].iloc[j]), "minutes": clean(m),
            "capacity_left": int(wi.parent_capacity[j])} for j, m in zip(cols, mins)]
    return sorted(out, key=lambda r: r["minutes"] if r["minutes"] is not None else math.inf)


def place(wi: WhatIf, ccpp_id: str, lang: str) -> dict[str, Any]:
    """The place panel: its minutes and how they are composed, who could serve it, and what
    opening it would add when it is a candidate."""
    i = place_index(wi, ccpp_id)
    p = wi.places.iloc[i]
    g = wi.sc.population.target_group
    names = wi.base.facility_names()
    near = str(p.get("nearest_facility")) if pd.notna(p.get("nearest_facility")) else None
    cand_ids = wi.candidates["ccpp_id"].astype(str).to_numpy()
    out: dict[str, Any] = {k: clean(p.get(k)) for k in (
        "ccpp_id", "name", "district", "province", "ugel", "area", "altitude_m", "population", "population_estimated",
        "women", "men", f"pop_{g}", f"women_{g}", f"men_{g}", "minutes_nearest", "minutes_walk_nearest",
        "minutes_to_nearest", "minutes_from_nearest", "minutes_cetpro", "minutes_extension")}
    out.update(lon=round(float(p.geometry.x), 5), lat=round(float(p.geometry.y), 5), band=clean(p.get("band")),
               band_label=band_label(str(p["band"]), lang) if pd.notna(p.get("band")) else None,
               threshold=wi.sc.allocation.max_minutes, teacher_max_minutes=wi.sc.allocation.teacher_max_minutes,
               target_group=g, minutes_after=clean(wi.places_after[i]),
               nearest_facility={"id": near, "name": names.get(near, (near, ""))[0],
                                 "kind": names.get(near, ("", ""))[1]} if near else None)
    out["legs"] = route_legs(wi.base, wi.places, i, lang=lang)
    col = wi.served_by()
    rows = col.indices[col.indptr[i]:col.indptr[i + 1]]
    mins = col.data[col.indptr[i]:col.indptr[i + 1]]
    chosen = dict(zip(wi.proposals["ccpp_id"].astype(str), wi.proposals["rank"]))
    served = [{"ccpp_id": cand_ids[r], "name": clean(wi.candidates["name"].iloc[r]), "minutes": clean(m),
               "suitability_rank": clean(wi.candidates["rank"].iloc[r]),
               "proposal_rank": clean(chosen.get(cand_ids[r]))} for r, m in zip(rows, mins)]
    out["served_by"] = sorted(served, key=lambda r: r["minutes"] if r["minutes"] is not None else math.inf)[:25]
    ci = np.flatnonzero(cand_ids == str(ccpp_id))
    out["petition"] = str(ccpp_id) in _petition_ids(wi)
    if len(ci):
        c = int(ci[0])
        out["candidate"] = {"suitability_rank": clean(wi.candidates["rank"].iloc[c]),
                            "candidates": int(len(cand_ids)), "score": clean(wi.candidates["score"].iloc[c]),
                            "share_top_n": clean(wi.candidates["share_top_n"].iloc[c]),
                            "proposal_rank": clean(chosen.get(str(ccpp_id))),
                            "opening_alone": _opening_alone(wi, c), "parents": _parents(wi, c)}
    else:
        ex = wi.excluded[wi.excluded["ccpp_id"].astype(str) == str(ccpp_id)]
        codes = str(ex["reason"].iloc[0]).split("; ") if len(ex) else []
        out["candidate"] = None
        out["excluded"] = {"reasons": [REASONS.get(c, (c, c))[0 if lang == "es" else 1] for c in codes],
                           "detail": clean(ex["reason_detail"].iloc[0]) if len(ex) else None}
    return out


def search(wi: WhatIf, q: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Places whose code starts with ``q`` or whose name contains it (accents ignored)."""
    q = q.strip()
    if not q:
        return []
    p = wi.places
    ids = p["ccpp_id"].astype(str)
    if q.isdigit():
        hit = p[ids.str.startswith(q)]
    else:
        key = fold(q)
        hit = p[p["name"].astype(str).map(fold).str.contains(key, regex=False)]
        hit = hit.assign(_starts=hit["name"].astype(str).map(fold).str.startswith(key))
        hit = hit.sort_values(["_starts", "population"], ascending=[False, False])
    return records(hit.head(limit), ["ccpp_id", "name", "district", "province", "population"])
