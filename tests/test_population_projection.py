"""The vectorised projection of places to district totals equals the former per-district loop
(#19), bit for bit, on the real Cajamarca places and MINAM/INEI table, and on perturbations
of them (invented, said in each case) that reach the flagged branches."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from siting.data.population import load_places, project_population, read_district_population
from siting.data.quality import QualityReport


def _reference_project(places: pd.DataFrame, district_pop: pd.DataFrame, quality: QualityReport) -> pd.Series:
    """The per-district loop that project_population replaced (kept verbatim as the oracle)."""
    pop = places["population"].astype(float)
    out = pop.copy()
    target_col = {"urbano": "urban", "rural": "rural"}
    for ubigeo, idx in places.groupby("ubigeo").groups.items():
        if ubigeo not in district_pop.index:
            quality.add("ccpp", ubigeo, "district not in the projection table", "population left at census value")
            continue
        row = district_pop.loc[ubigeo]
        sub = places.loc[idx]
        sums = pop[idx].groupby(sub["area"]).sum()
        classes_ok = all(sums.get(a, 0) > 0 or row[c] == 0 for a, c in target_col.items())
        if classes_ok:
            for a, c in target_col.items():
                m = sub.index[sub["area"] == a]
                if len(m) and sums.get(a, 0) > 0:
                    out[m] = pop[m] * row[c] / sums[a]
        else:
            tot = pop[idx].sum()
            if tot > 0:
                out[idx] = pop[idx] * row["total"] / tot
            quality.add("ccpp", ubigeo, "no place of an area class with projected population",
                        "all places scaled by the district total ratio")
    return out


@pytest.fixture(scope="module")
def census(sc, districts):
    """Real places of the department before projection, and the real district table."""
    unprojected = dataclasses.replace(sc, population=dataclasses.replace(sc.population, projection_year=0))
    places = load_places(unprojected, districts, QualityReport())
    table = read_district_population(sc.inputs.district_population, sc.population.projection_year)
    return pd.DataFrame(places.drop(columns="geometry")), table


def _both(places, table):
    q_new, q_ref = QualityReport(), QualityReport()
    new, ref = project_population(places, table, q_new), _reference_project(places, table, q_ref)
    return new, ref, q_new.table(), q_ref.table()


def test_real_department_projection_equals_the_loop_bit_for_bit(census):
    places, table = census
    new, ref, q_new, q_ref = _both(places, table)
    assert len(places) > 6000 and (new != places["population"]).mean() > 0.9  # the projection did scale
    np.testing.assert_array_equal(new.to_numpy(), ref.to_numpy())
    assert new.index.equals(ref.index)
    pd.testing.assert_frame_equal(q_new, q_ref)


def test_flagged_districts_equal_the_loop(census):
    places, table = census
    places = places.copy()
    codes = sorted(places["ubigeo"].unique())
    # invented perturbations of the real inputs: one district missing from the table, one whose
    # urban places are all relabelled rural (the table still has urban people: total ratio),
    # one whose rural target is set to 0 with rural places present, and a place without district
    table = table.drop(index=codes[3])
    urban = places.groupby("ubigeo")["area"].apply(lambda a: (a == "urbano").any())
    relabel = [c for c in codes[5:] if urban[c]][0]
    places.loc[places["ubigeo"] == relabel, "area"] = "rural"
    table.loc[codes[7], "rural"] = 0.0
    places.loc[places.index[10], "ubigeo"] = None
    new, ref, q_new, q_ref = _both(places, table)
    np.testing.assert_array_equal(new.to_numpy(), ref.to_numpy())
    pd.testing.assert_frame_equal(q_new, q_ref)
    flagged = set(q_new.iloc[:, 1].astype(str)) if len(q_new) else set()
    assert {codes[3], relabel} <= flagged
