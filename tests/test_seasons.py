"""Rainy season (issue #14 item 9): slower speeds, closed segments, dry against rainy by UGEL.

The synthetic cases (flat strips, straight roads) are INVENTED fixtures with hand-computed
times; the real-data cases run on one real UGEL (San Marcos, shipped data).
"""
from __future__ import annotations

import dataclasses
import math
import re

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from test_network_graph import FLAT_KMH, X0, Y0, fixture_points, fixture_roads, fixture_terrain

from siting.access.season import TOTAL, compare_seasons, season_table
from siting.data.closures import load_closed_segments, open_roads
from siting.data.quality import QualityReport
from siting.errors import DataError, ScenarioError
from siting.network.graph import build_travel_graph, to_networkx
from siting.network.season import build_rainy_graph, rainy_speeds
from siting.network.solve import nearest
from siting.scenario import Seasons, Speeds, load_scenario


def _strip(road_class: str):
    """INVENTED: flat 3 x 12 km strip, A 300 m before a 9.8 km road, B 300 m after it."""
    yc = Y0 - 1500.0
    terrain = fixture_terrain(np.full((3, 12), 2000.0), 1000.0)
    roads = fixture_roads([[(X0 + 600, yc), (X0 + 10_400, yc)]], [road_class])
    return terrain, roads, fixture_points([[X0 + 300, yc], [X0 + 10_700, yc]])


def test_rainy_speeds_multiply_the_dry_table():
    seasons = Seasons(rainy_road_factor={"vecinal": 0.5, "trail": 0.25}, rainy_walk_factor=0.8)
    sp = rainy_speeds(Speeds(), seasons)
    assert sp.road_kmh["vecinal"] == 10.0 and sp.road_kmh["trail"] == 2.5
    assert sp.road_kmh["national_paved"] == 60.0  # absent from the table: dry speed
    assert sp.walk_kmh_max == pytest.approx(4.8)
    assert Speeds().road_kmh["vecinal"] == 20.0  # the dry table is not modified


@pytest.mark.parametrize("walk_factor", [1.0, 0.8])
def test_unpaved_road_at_half_speed_doubles_the_road_leg(walk_factor):
    """INVENTED strip: dry t = 2 * 0.3 km / 5.0366 km/h + 9.8 km / 30 km/h (19.6 min); rainy with
    f = 0.5 on departmental_unpaved: the road leg doubles to 39.2 min, the walking legs / f_walk."""
    terrain, roads, pts = _strip("departmental_unpaved")
    dry = build_travel_graph(terrain, roads, Speeds(), {"ab": pts})
    seasons = Seasons(rainy_road_factor={"departmental_unpaved": 0.5}, rainy_walk_factor=walk_factor)
    wet = build_travel_graph(terrain, roads, rainy_speeds(Speeds(), seasons), {"ab": pts})
    a, b = dry.point_nodes["ab"]
    walk = 2 * 0.3 / FLAT_KMH * 60
    assert nearest(dry, [b]).minutes[a] == pytest.approx(walk + 19.6, rel=1e-9)
    assert nearest(wet, [b]).minutes[a] == pytest.approx(walk / walk_factor + 39.2, rel=1e-9)
    assert dry.key != wet.key  # the cache keys on the speeds: the rainy graph caches beside the dry one


def _two_routes(tmp_path):
    """INVENTED: a direct 9.8 km national road between A and B and a detour of 3 + 9.8 + 3 km."""
    yc = Y0 - 500.0
    terrain = fixture_terrain(np.full((5, 12), 2000.0), 1000.0)
    lines = [[(X0 + 600, yc), (X0 + 10_400, yc)], [(X0 + 600, yc), (X0 + 600, yc - 3000)],
             [(X0 + 600, yc - 3000), (X0 + 10_400, yc - 3000)], [(X0 + 10_400, yc - 3000), (X0 + 10_400, yc)]]
    roads = fixture_roads(lines, ["national_paved"] * 4)
    roads["road_id"] = ["direct", "d1", "d2", "d3"]
    return terrain, roads, fixture_points([[X0 + 300, yc], [X0 + 10_700, yc]])


def test_closed_segment_forces_the_detour(tmp_path):
    """Closing "direct" (CSV of road_id): A -> B takes the 15.8 km detour (15.8 min at 60 km/h)
    instead of 9.8 min, plus the same two 300 m walks; networkx on the graph without the
    segment agrees with the engine."""
    terrain, roads, pts = _two_routes(tmp_path)
    path = tmp_path / "cerrados.csv"
    path.write_text("road_id,reason\ndirect,huaico (invented)\n", encoding="utf-8")
    q = QualityReport()
    closed = load_closed_segments(path, roads.to_crs(4326), q, crs="EPSG:32717")
    assert closed == ["direct"]
    opened = open_roads(roads, closed)
    assert list(opened["road_id"]) == ["d1", "d2", "d3"]
    dry = build_travel_graph(terrain, roads, Speeds(), {"ab": pts})
    wet = build_travel_graph(terrain, opened, Speeds(), {"ab": pts})
    walk = 2 * 0.3 / FLAT_KMH * 60
    a, b = dry.point_nodes["ab"]
    assert nearest(dry, [b]).minutes[a] == pytest.approx(walk + 9.8, rel=1e-9)
    a, b = wet.point_nodes["ab"]
    assert nearest(wet, [b]).minutes[a] == pytest.approx(walk + 15.8, rel=1e-9)
    reference = nx.shortest_path_length(to_networkx(wet), int(a), int(b), weight="weight")
    assert nearest(wet, [b]).minutes[a] == pytest.approx(reference, rel=1e-12)


def test_closed_segments_from_lines(tmp_path):
    """INVENTED: a GeoPackage line drawn along the direct road closes it (and only it)."""
    import geopandas as gpd
    terrain, roads, pts = _two_routes(tmp_path)
    yc = Y0 - 500.0
    line = gpd.GeoDataFrame({"note": ["invented"]}, geometry=[shapely.LineString([(X0 + 620, yc + 20),
                                                                                (X0 + 10_380, yc + 20)])],
                            crs="EPSG:32717")
    path = tmp_path / "cierres.gpkg"
    line.to_file(path, layer="cierres")
    assert load_closed_segments(path, roads.to_crs(4326), QualityReport(), crs="EPSG:32717") == ["direct"]


def test_closed_segments_are_validated(tmp_path):
    _, roads, _ = _two_routes(tmp_path)
    roads = roads.to_crs(4326)
    bad = tmp_path / "sin_columna.csv"
    bad.write_text("tramo\ndirect\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"sin_columna\.csv.*no 'road_id' column"):
        load_closed_segments(bad, roads, QualityReport(), crs="EPSG:32717")
    empty = tmp_path / "vacio.csv"
    empty.write_text("road_id,reason\ndirect,a\n,b\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"vacio\.csv: row 3: empty road_id"):
        load_closed_segments(empty, roads, QualityReport(), crs="EPSG:32717")
    none = tmp_path / "ajenos.csv"
    none.write_text("road_id\nnat:PE-99:1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"ajenos\.csv: none of the 1 road_id"):
        load_closed_segments(none, roads, QualityReport(), crs="EPSG:32717")
    some = tmp_path / "mixto.csv"
    some.write_text("road_id\nd2\nnat:PE-99:1\n", encoding="utf-8")
    q = QualityReport()
    assert load_closed_segments(some, roads, q, crs="EPSG:32717") == ["d2"]
    assert [p["row_id"] for p in q.problems] == ["nat:PE-99:1"] and q.problems[0]["action"] == "dropped"


def test_season_keys_are_validated(sc):
    base = sc.source
    with pytest.raises(ScenarioError, match=r"seasons\.rainy_road_factor\.vecinal' must be in \(0, 1\]"):
        load_scenario(base, seasons__rainy_road_factor={"vecinal": 1.5})
    with pytest.raises(ScenarioError, match=r"seasons\.rainy_road_factor\.vecinall' is not a road class"):
        load_scenario(base, seasons__rainy_road_factor={"vecinall": 0.5})
    with pytest.raises(ScenarioError, match=r"seasons\.rainy_walk_factor' must be in \(0, 1\]"):
        load_scenario(base, seasons__rainy_walk_factor=0.0)


def test_season_table_hand_computed():
    """INVENTED places: 3 in U1, 1 in U2; beyond 60 min dry / rainy by hand."""
    places = pd.DataFrame({"ugel": ["U1", "U1", "U1", "U2"], "population": [100.0, 50.0, 10.0, 7.0],
                           "pop_15_29": [30.0, 10.0, 2.0, 1.0], "minutes_dry": [20.0, 61.0, 59.0, 60.0],
                           "minutes_rainy": [30.0, 90.0, np.inf, 60.0]})
    tab = season_table(places, thresholds=[60.0], target="15_29").set_index("ugel")
    assert tab.loc["U1", "population_beyond_60_dry"] == 50.0
    assert tab.loc["U1", "population_beyond_60_rainy"] == 60.0  # unreachable counts as beyond
    assert tab.loc["U2", "population_beyond_60_added"] == 0.0  # 60.0 is within 60
    assert tab.loc[TOTAL, "target_beyond_60_added"] == 2.0
    assert tab.loc["U1", "mean_minutes_rainy"] == pytest.approx((100 * 30 + 50 * 90) / 150)


# --------------------------------------------------------------------------- real data (San Marcos)


def test_rainy_minutes_never_below_dry_on_real_data(san_marcos, tmp_path):
    """Every real place of San Marcos: rainy >= dry; the dry column equals the access stage's
    figures (rainy_road_factor defaults, rainy_walk_factor 0.9); closing a real road segment
    (closed_segments) removes its edges and never makes anyone nearer."""
    s = san_marcos
    sc = dataclasses.replace(s.sc, seasons=Seasons(rainy=True, rainy_walk_factor=0.9))
    wet = build_rainy_graph(sc, s.data)
    season = compare_seasons(sc, s.data, s.gaps, wet)
    dry, rainy = season.places["minutes_dry"].to_numpy(), season.places["minutes_rainy"].to_numpy()
    assert (rainy >= dry).all()
    assert (rainy > dry).mean() > 0.5  # slower walking slows nearly every trip
    total = s.gaps.total.iloc[0]
    for th in (60, 120):
        assert season.by_ugel.set_index("ugel").loc[TOTAL, f"population_beyond_{th}_dry"] == pytest.approx(
            total[f"population_beyond_{th}"])
    # a real road segment closed: the first national one
    roads = s.data.roads
    road_id = str(roads.loc[roads["road_class"].astype(str).str.startswith("national"), "road_id"].iloc[0])
    path = tmp_path / "closed_segments.csv"
    path.write_text(f"road_id\n{road_id}\n", encoding="utf-8")
    sc_closed = dataclasses.replace(sc, inputs=dataclasses.replace(sc.inputs, closed_segments=str(path)),
                                    seasons=Seasons(rainy=True, rainy_road_factor={}, rainy_walk_factor=1.0))
    closed = build_rainy_graph(sc_closed, s.data)
    assert closed.n_edges < s.graph.n_edges
    shut = compare_seasons(sc_closed, s.data, s.gaps, closed, closed=[road_id])
    assert (shut.places["minutes_rainy"] >= shut.places["minutes_dry"]).all()


def test_rainy_run_writes_csv_sheet_and_report_section(san_marcos, tmp_path):
    """`siting access --rainy` on San Marcos, then the report stage: the section's sentence and
    table show the figures of season_by_ugel.csv (seasons.rainy)."""
    import openpyxl
    import pyogrio

    from siting import pipeline
    from siting.report import make_report
    from siting.report.html_report import fmt_number
    from siting.report.labels import t
    from siting.report.numbers import format_people
    from siting.report.season_section import shown_columns
    s = san_marcos
    road_id = str(s.data.roads["road_id"].iloc[0])  # a real segment, and one outside the study area
    closures = tmp_path / "closed_segments.csv"
    closures.write_text(f"road_id,reason\n{road_id},derrumbe\nnat:PE-99:1,fuera del área\n", encoding="utf-8")
    sc = load_scenario(s.sc.source, study_area__ugels=list(s.sc.study_area.ugels), seasons__rainy=True,
                       inputs__closed_segments=str(closures),
                       run__output_dir=str(tmp_path / "run"), run__cache_dir=str(s.tmp / "cache"))
    done = pipeline.access(sc, progress=False)
    folder = done.folder
    csv = pd.read_csv(folder / "season_by_ugel.csv").set_index("ugel")
    assert t("sheet.temporada_lluvias", "es") in openpyxl.load_workbook(folder / "acceso.xlsx").sheetnames
    quality = pd.read_csv(folder / "quality_report.csv")
    assert "nat:PE-99:1" in set(quality["row_id"].astype(str))  # the id outside the area is reported
    vias = pyogrio.read_dataframe(folder / "acceso.gpkg", layer="vias")
    assert vias.loc[vias["closed_rainy"].astype(bool), "road_id"].tolist() == [road_id]
    make_report(sc, done.data, done.access, None, folder=folder, raster=folder / "travel_time_minutes.tif",
                progress=False)
    html = (folder / "report.html").read_text(encoding="utf-8")
    row = csv.loc[TOTAL]
    sentence = t("report.season_sentence", "es").format(
        added=format_people(row["population_beyond_60_added"]), threshold="60",
        dry=format_people(row["population_beyond_60_dry"]), rainy=format_people(row["population_beyond_60_rainy"]))
    assert sentence in html and "En temporada de lluvias" in html
    section = html.split('id="season"')[1].split("</table>")[0]
    cells = re.findall(r"<tr><td>([^<]*)</td>(.*?)</tr>", section)
    shown = {unit: re.findall(r'class="num">([^<]*)<', rest) for unit, rest in cells}
    assert set(shown) == set(csv.index)
    columns = shown_columns(done.access.season)[1:]
    for unit, texts in shown.items():
        assert texts == [fmt_number(csv.loc[unit, c], c, "es")[0] for c in columns]
    assert math.isclose(done.access.season.added(60), row["population_beyond_60_added"], rel_tol=1e-9)
    assert t("report.season_closed", "es").format(n=1) in html
