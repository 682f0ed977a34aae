"""Observed trips (siting.data.trips) and ``siting validate-times`` on REAL data.

The matcher is checked on the shipped trips (``data/raw/travel/observed_trips.csv``) against
the real INEI centros poblados read straight from the CCPP CSV (an independent table: not
through ``load_places``).  validate-times runs on the real UGEL Cajamarca and its minutes are
checked against an independent search (``siting.network.nearest`` on the transposed graph).
The only invented inputs are the two malformed tables of the error tests (labelled INVENTED).
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from siting.data import trips
from siting.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
TRIPS = ROOT / "data" / "raw" / "travel" / "observed_trips.csv"
CCPP = ROOT / "data" / "raw" / "ccpp" / "inei_cpv2017_ccpp_poblacion_cajamarca.csv"
UGEL_CAJAMARCA = "UGEL CAJAMARCA"


@pytest.fixture(scope="module")
def real_places() -> gpd.GeoDataFrame:
    """The 6,513 real centros poblados of Cajamarca straight from the INEI CSV."""
    df = pd.read_csv(CCPP, dtype=str)
    return gpd.GeoDataFrame({"ccpp_id": df["CCPP_ID"], "name": df["CENTRO_POBLADO"], "district": df["DISTRITO"],
                             "population": pd.to_numeric(df["POB_CENSADA_2017"])},
                            geometry=gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float)), crs=4326)


@pytest.fixture(scope="module")
def matched(real_places) -> pd.DataFrame:
    return trips.match_trips(trips.read_trips(TRIPS, lang="en"), real_places, lang="en")


def test_read_real_trips_observed_minutes_is_the_middle_of_the_range():
    t = trips.read_trips(TRIPS)
    assert len(t) == 49
    row3 = t[t["row"] == 3].iloc[0]  # "between 4 and 5 hours" (Sep 2006)
    assert (row3["minutes_low"], row3["minutes_high"], row3["observed_min"]) == (240, 300, 270)
    assert int(t["walking"].sum()) == 4  # the provenance: only four rows are walking times


def test_road_state_follows_the_dates_of_the_paving():
    t = trips.read_trips(TRIPS).set_index("row")
    assert t.loc[3, "road_state"] == "before_paving" and t.loc[3, "trip_year"] == 2006  # gravel, 2006
    assert t.loc[5, "road_state"] == "current" and t.loc[5, "trip_year"] == 2013  # Lundero, Apr 2013
    assert t.loc[9, "road_state"] == "upper_bound"  # undated tourist 'Distancias' sheet
    assert t.loc[2, "road_state"] == "before_paving"  # undated, 'mostly unpaved road'
    assert t.loc[33, "road_state"] == "before_paving"  # Llama-Cochabamba before asphalting
    assert t.loc[34, "road_state"] == "current"


def test_matcher_on_real_names(matched, real_places):
    m = matched.set_index("row")
    ids = real_places["ccpp_id"].to_numpy()
    # Cajamarca -> Celendín: the two provincial capitals (INEI codes ...0001)
    assert (m.loc[5, "origin_ccpp_id"], m.loc[5, "destination_ccpp_id"]) == ("0601010001", "0603010001")
    assert m.loc[5, "matched"] and ids[m.loc[5, "origin_place"]] == "0601010001"
    # the flattened parenthesis wins over the bare name (a district Santa Cruz exists in two provinces)
    assert m.loc[32, "destination_place_name"] == "SANTA CRUZ DE SUCCHABAMBA"
    # accents and a leading article: 'La Encañada' is INEI's ENCAÑADA; Otuzco is in Los Baños del Inca
    assert m.loc[39, "destination_ccpp_id"] == "0601050001"
    assert m.loc[36, "destination_ccpp_id"] == "0601080065"
    # a caserío with its parenthesis dropped
    assert m.loc[44, "destination_place_name"] == "LAGUNA SAN NICOLAS"


def test_unmatched_rows_are_reported_with_a_reason_never_dropped(matched, real_places):
    assert len(matched) == 49
    u = trips.unmatched(matched).set_index("row")
    assert set(u.index) == set(matched.loc[~matched["matched"], "row"])
    assert "outside the department" in u.loc[14, "origin_match"]  # Chiclayo
    assert "site" in u.loc[40, "destination_match"]  # Cumbemayo (archaeological site)
    assert "no centro poblado named POLLOC" in u.loc[39, "origin_match"]
    assert "no district" in u.loc[47, "destination_match"]  # Sarauz, no district given
    assert u["origin_match"].notna().all() and u["destination_match"].notna().all()
    es = trips.match_trips(trips.read_trips(TRIPS), real_places).set_index("row")  # Spanish default
    assert es.loc[14, "origin_match"] == "fuera del departamento"


def test_names_are_accent_case_and_article_insensitive():
    assert trips.name_key("La Encañada") == trips.name_key("ENCAÑADA") == "ENCANADA"
    assert trips.name_key("Celendín") == "CELENDIN"
    assert trips.name_variants("Santa Cruz (de Succhabamba)") == ["SANTA CRUZ DE SUCCHABAMBA", "SANTA CRUZ"]
    assert trips.is_site("Cruce a Chetilla (road end)") and trips.is_site("Palturo (desvío)")
    assert not trips.is_site("Laguna San Nicolás (caserío)")


def test_code_and_coordinate_columns_are_used(tmp_path, real_places):
    """INVENTED rows (made-up times) naming REAL places by code and by coordinates."""
    cel = real_places[real_places["ccpp_id"] == "0603010001"].geometry.iloc[0]
    f = tmp_path / "invented_trips.csv"
    f.write_text("origin,origin_district,origin_ccpp_id,destination,destination_district,destination_lon,"
                 "destination_lat,minutes_low,minutes_high,mode\n"
                 f"x,,0601010001,y,,{cel.x},{cel.y},100,120,bus\n", encoding="utf-8")
    m = trips.match_trips(trips.read_trips(f), real_places, lang="en").iloc[0]
    assert m["origin_match"] == "code" and m["origin_ccpp_id"] == "0601010001"
    assert m["destination_match"].startswith("coordinates") and m["destination_ccpp_id"] == "0603010001"
    assert m["observed_min"] == 110 and m["matched"]


@pytest.mark.parametrize("header,row,needle", [
    ("origin,origin_district,destination,destination_district,minutes_low,minutes_high,mode",
     "A,B,C,D,cuatro,300,bus", "row 2, column minutes_low"),
    ("origin,origin_district,destination,destination_district,minutes_low,minutes_high,mode",
     "A,B,C,D,300,240,bus", "row 2, columns minutes_low/minutes_high"),
    ("origin,destination,minutes_low,minutes_high,mode", "A,C,240,300,bus", "origin_district"),
])
def test_bad_tables_name_file_row_and_column(tmp_path, header, row, needle):
    """INVENTED malformed tables."""
    f = tmp_path / "invented_bad_trips.csv"
    f.write_text(f"{header}\n{row}\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        trips.read_trips(f)
    assert needle in str(err.value) and "invented_bad_trips.csv" in str(err.value)


# --------------------------------------------------------------------------- validate-times (real UGEL)


@pytest.fixture(scope="module")
def cajamarca_ugel(tmp_path_factory):
    """The shipped scenario on the real UGEL Cajamarca (outputs and graph cache in a temp folder)."""
    import siting
    tmp = tmp_path_factory.mktemp("ugel_cajamarca")
    sc = siting.load_scenario(ROOT / "scenarios" / "cajamarca.toml", study_area__ugels=[UGEL_CAJAMARCA],
                              run__output_dir=str(tmp / "run"), run__cache_dir=str(tmp / "cache"))
    return sc, siting.load_data(sc, progress=False), tmp


def test_validate_times_on_a_real_ugel_matches_an_independent_search(cajamarca_ugel, capsys):
    import siting
    from siting.calibration.validate import validate_times
    from siting.network import nearest
    sc, data, tmp = cajamarca_ugel
    v = validate_times(sc, TRIPS, output=tmp / "val", data=data)
    out = capsys.readouterr().out
    assert "mediana modelado/observado" in out and "mediana |log(razón)|" in out  # Spanish by default
    table = pd.read_csv(tmp / "val" / "trip_validation.csv", dtype={"origin_ccpp_id": str,
                                                                      "destination_ccpp_id": str})
    assert list(table.columns[:5]) == ["origin", "destination", "observed_min", "modelled_min", "ratio"]
    assert len(table) == 49 and (tmp / "val" / "trips_unmatched.csv").exists()
    ok = table[table["matched"]]
    # in UGEL Cajamarca: Cajamarca-Baños del Inca, Cajamarca-Otuzco, Namora-Laguna San Nicolás (car, on foot)
    assert set(ok["row"]) == {35, 36, 43, 44}
    graph = siting.build_graph(sc, data)  # from the cache
    walk = siting.build_graph(sc, data, mode="walk")
    nodes = graph.point_nodes["places"]
    for _, r in v.table[v.table["matched"]].iterrows():
        m = v.matched[v.matched["row"] == r["row"]].iloc[0]
        g = walk if m["walking"] else graph
        dest = g.point_nodes["places"][m["destination_place"]]
        ref = nearest(g, [dest], towards_sources=True).minutes[g.point_nodes["places"][m["origin_place"]]]
        assert r["modelled_min"] == pytest.approx(ref, abs=6e-4)
        assert r["ratio"] == pytest.approx(ref / r["observed_min"], abs=6e-5)
    assert len(nodes) == len(data.places)
    s = v.summary
    ratios = ok.loc[ok["used"], "modelled_min"] / ok.loc[ok["used"], "observed_min"]
    assert s["median_ratio"] == pytest.approx(float(np.median(ratios)), rel=1e-9)
    assert s["median_abs_log"] == pytest.approx(float(np.median(np.abs(np.log(ratios)))), rel=1e-9)


def test_the_commands_are_on_the_cli():
    from siting.cli import build_parser
    p = build_parser()
    a = p.parse_args(["validate-times", "--scenario", "s.toml", "--trips", "t.csv", "--lang", "en"])
    assert a.func.__name__ == "_cmd_validate" and a.lang == "en" and a.output is None
    b = p.parse_args(["calibrate", "--scenario", "s.toml", "--trips", "t.csv", "--output", "out", "--folds", "4"])
    assert b.func.__name__ == "_cmd_calibrate" and b.folds == 4 and b.iterations == 3
