"""Suitability criteria: a registry (:data:`CRITERIA`) and :func:`compute_criteria`.

Each criterion has a unit and a *direction*: ``"+"`` means a larger raw value makes a
candidate more suitable (more need or better conditions), ``"−"`` means smaller is better.
:mod:`siting.suitability.mcda` applies the direction when normalising, so that 1 is
always "better".

Criteria (one column each in the table returned by :func:`compute_criteria`):

* ``unserved_target`` — target population (``pop_<group>``, e.g. ages 15-29) of the
  places that are *not yet* within T minutes of a CETPRO / extension centre and that are
  within T minutes of the candidate:  ``U_i = Σ_j P_j · unserved_j · [j ∈ reach(i)]``.
* ``unserved_women_target`` — the same sum over women of the target group (``women_<group>``).
* ``time_to_nearest_facility`` — minutes from the candidate to the nearest existing
  CETPRO / extension centre (farther = more need, ``+``).
* ``teacher_minutes`` — minutes from the best parent CETPRO to the candidate (``−``).
* ``host_premises`` — school premises / Tambos / municipal halls within the host distance (``+``).
* ``tambo`` — 1 when a Tambo is within the host distance (``+``).
* ``poverty`` — % of the district's population in total poverty (``+``).
* ``hdi`` — district Human Development Index (``−``: lower HDI = more need).
* ``altitude_m`` — altitude of the centro poblado (``−``).  Documented choice: higher
  places are colder and costlier to reach for teachers and materials; the need of high
  communities is already counted by poverty, HDI and travel time, so altitude enters as
  an operating cost.  Its default weight is 0.
* ``road_minutes`` — walking minutes from the place to the nearest road (``−``).
* ``community_request`` — 1 when the community petitioned for a centre (optional
  petitions CSV keyed by ``ccpp_id``; ``+``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from ..data.indicators import district_indicator_table, load_petitions
from ..io import zfill_code

__all__ = ["CRITERIA", "Criterion", "compute_criteria", "district_indicator_table", "load_petitions"]


@dataclass(frozen=True)
class Criterion:
    """One suitability criterion.  ``direction`` is ``"+"`` (more is better) or ``"−"``."""

    name: str
    unit: str
    direction: str
    description_es: str
    description_en: str

    @property
    def sign(self) -> int:
        """+1 for ``"+"``, -1 for ``"−"``."""
        return 1 if self.direction == "+" else -1


_LIST = [
    Criterion("unserved_target", "persons", "+",
              "Población objetivo aún sin acceso (fuera de T min de un CETPRO) que queda a T min del candidato",
              "Target population not yet within T min of a CETPRO that the candidate reaches within T min"),
    Criterion("unserved_women_target", "persons", "+",
              "Mujeres del grupo objetivo sin acceso que el candidato alcanza en T min",
              "Women of the target group not yet served that the candidate reaches within T min"),
    Criterion("time_to_nearest_facility", "min", "+",
              "Tiempo al CETPRO o centro de extensión más cercano (más lejos = más necesidad)",
              "Time to the nearest CETPRO or extension centre (farther = more need)"),
    Criterion("teacher_minutes", "min", "−",
              "Tiempo de viaje del docente desde el mejor CETPRO matriz",
              "Teacher travel time from the best parent CETPRO"),
    Criterion("host_premises", "count", "+",
              "Locales que pueden acoger el centro (locales escolares, Tambos, municipios) cerca",
              "Premises able to host the centre (school premises, Tambos, municipal halls) nearby"),
    Criterion("tambo", "0/1", "+",
              "Hay un Tambo cerca", "A Tambo is nearby"),
    Criterion("poverty", "%", "+",
              "Pobreza total del distrito (%)", "District total poverty (%)"),
    Criterion("hdi", "index", "−",
              "Índice de desarrollo humano del distrito (menor = más necesidad)",
              "District Human Development Index (lower = more need)"),
    Criterion("altitude_m", "m", "−",
              "Altitud del centro poblado (costo de operación)",
              "Altitude of the populated place (operating cost)"),
    Criterion("road_minutes", "min", "−",
              "Tiempo a pie hasta la vía más cercana", "Walking time to the nearest road"),
    Criterion("community_request", "0/1", "+",
              "La comunidad solicitó un centro", "The community petitioned for a centre"),
]

#: Registry of all criteria, by name (in display order).
CRITERIA: dict[str, Criterion] = {c.name: c for c in _LIST}

def _covered_sum(coverage, weights: np.ndarray, self_idx: np.ndarray) -> np.ndarray:
    """Σ_j weights_j over the places j reached by each candidate (stored entries of the
    sparse ``coverage`` matrix, plus the candidate's own place ``self_idx`` when ≥ 0)."""
    cov = sparse.csr_array(coverage)
    reach = sparse.csr_array((np.ones(cov.nnz), cov.indices, cov.indptr), shape=cov.shape)
    reach.sum_duplicates()
    reach.data[:] = 1.0
    own = self_idx >= 0
    if own.any():
        rows = np.flatnonzero(own)
        add = sparse.csr_array((np.ones(len(rows)), (rows, self_idx[own])), shape=cov.shape)
        reach = reach + add
        reach.data[:] = 1.0  # a place counts once even if listed twice
    return np.asarray(reach @ weights, dtype=float)


def compute_criteria(
    candidates: pd.DataFrame,
    places: pd.DataFrame,
    coverage,
    unserved_mask: np.ndarray,
    teacher_minutes: np.ndarray | None,
    district_indicators: pd.DataFrame | None,
    petitions: pd.DataFrame | None = None,
    *,
    target_group: str = "15_29",
    road_minutes: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per candidate (same index and order), one column per criterion of :data:`CRITERIA`.

    ``coverage`` is the engine's sparse matrix (len(candidates) × len(places)) of minutes
    within T (``solve.coverage(graph, candidate_nodes, place_nodes, T)``): a stored entry,
    even an explicit 0, means "reachable".  The candidate's own place (same ``ccpp_id``)
    always counts as reached.  ``unserved_mask[j]`` is True when place j is not yet within
    T minutes of a CETPRO / extension centre.  ``teacher_minutes`` is aligned with the
    candidates (NaN/inf = no parent CETPRO reachable).  ``district_indicators`` may use
    English or ``ubigeo_distrito_aumentado.csv`` names (see :func:`district_indicator_table`).
    ``road_minutes`` (aligned with candidates) falls back to a ``road_minutes`` column of
    ``candidates`` and otherwise is NaN.  Missing inputs give NaN columns, never invented values.
    """
    n, m = len(candidates), len(places)
    cov_shape = sparse.csr_array(coverage).shape
    if cov_shape != (n, m):
        raise ValueError(f"coverage has shape {cov_shape}, expected (candidates={n}, places={m})")
    unserved = np.asarray(unserved_mask, dtype=bool)
    if unserved.shape != (m,):
        raise ValueError(f"unserved_mask has length {unserved.shape}, expected {m} places")
    out = pd.DataFrame(index=candidates.index)
    out["ccpp_id"] = candidates["ccpp_id"].to_numpy() if "ccpp_id" in candidates else None

    pos = pd.Series(np.arange(m), index=places["ccpp_id"].astype("string").to_numpy()) if "ccpp_id" in places else None
    if pos is not None and "ccpp_id" in candidates:
        pos = pos[~pos.index.duplicated()]
        self_idx = pos.reindex(candidates["ccpp_id"].astype("string").to_numpy()).fillna(-1).to_numpy(np.int64)
    else:
        self_idx = np.full(n, -1, dtype=np.int64)

    for crit, column in (("unserved_target", f"pop_{target_group}"),
                         ("unserved_women_target", f"women_{target_group}")):
        if column in places:
            w = np.nan_to_num(pd.to_numeric(places[column], errors="coerce").to_numpy(float)) * unserved
            out[crit] = _covered_sum(coverage, w, self_idx) if n else np.zeros(0)
        else:
            out[crit] = np.nan

    out["time_to_nearest_facility"] = (pd.to_numeric(candidates["minutes_existing"], errors="coerce").to_numpy(float)
                                       if "minutes_existing" in candidates else np.nan)
    if teacher_minutes is None:
        out["teacher_minutes"] = np.nan
    else:
        t = np.asarray(teacher_minutes, dtype=float)
        if t.shape != (n,):
            raise ValueError(f"teacher_minutes has length {t.shape}, expected {n} candidates")
        out["teacher_minutes"] = t
    out["host_premises"] = candidates["host_premises"].to_numpy(float) if "host_premises" in candidates else np.nan
    out["tambo"] = candidates["tambo"].to_numpy(float) if "tambo" in candidates else np.nan

    if district_indicators is not None and "ubigeo" in candidates:
        ind = district_indicator_table(district_indicators).set_index("ubigeo")
        codes = zfill_code(candidates["ubigeo"], 6).to_numpy()
        out["poverty"] = ind["poverty"].reindex(codes).to_numpy(float)
        out["hdi"] = ind["hdi"].reindex(codes).to_numpy(float)
    else:
        out["poverty"] = np.nan
        out["hdi"] = np.nan
    out["altitude_m"] = (pd.to_numeric(candidates["altitude_m"], errors="coerce").to_numpy(float)
                         if "altitude_m" in candidates else np.nan)
    if road_minutes is not None:
        r = np.asarray(road_minutes, dtype=float)
        if r.shape != (n,):
            raise ValueError(f"road_minutes has length {r.shape}, expected {n} candidates")
        out["road_minutes"] = r
    elif "road_minutes" in candidates:
        out["road_minutes"] = pd.to_numeric(candidates["road_minutes"], errors="coerce").to_numpy(float)
    else:
        out["road_minutes"] = np.nan

    if petitions is not None and "ccpp_id" in petitions and "ccpp_id" in candidates:
        asked = set(zfill_code(petitions["ccpp_id"], 10).dropna())
        out["community_request"] = candidates["ccpp_id"].astype("string").isin(asked).to_numpy(float)
    else:
        out["community_request"] = 0.0  # no petitions file: no request is known
    return out
