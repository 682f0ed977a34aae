"""Issue #14 item 4: every place's route to its nearest centre, as columns that add up and as
lines in the GeoPackage, on the shipped real data (UGEL San Marcos)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pyogrio
import pytest
import shapely

import siting
from siting.access import place_table
from siting.manifest import Run
from siting.report import writers


@pytest.fixture(scope="module")
def routed(san_marcos):
    s = san_marcos
    return siting.compute_access(s.sc, s.data, s.graph, with_routes=True)


def test_route_columns_add_up_to_the_trip_to_the_centre(routed, san_marcos):
    r = routed.routes
    assert len(r) == len(routed.places) == 307
    parts = r[[c for c in r.columns if c.startswith("route_minutes_")]].sum(axis=1).to_numpy()
    to = routed.places["minutes_to_nearest"].to_numpy(float)  # rounded to 0.1 min
    assert np.all(np.abs(parts - to) <= 0.05 + 1e-9)
    classes = set(san_marcos.graph.road_class_names)
    assert {f"route_minutes_{c}" for c in classes} <= set(r.columns)
    assert (r["route_km"] >= r["route_km_road"]).all() and (r["route_climb_m"] >= 0).all()
    assert r["route_description"].str.contains("min").all()
    # the minutes themselves are unchanged by asking for the routes
    assert np.array_equal(to, san_marcos.gaps.places["minutes_to_nearest"].to_numpy(float))


def test_places_table_and_geopackage_carry_the_routes(routed, san_marcos, tmp_path):
    s = san_marcos
    table = place_table(routed, s.sc)
    assert "route_description" in table.columns and table.columns[-1] == "geometry"
    sc = dataclasses.replace(s.sc, run=dataclasses.replace(s.sc.run, output_dir=str(tmp_path / "run")))
    run = Run.start(sc, command="test")
    writers.write_access(run, routed, s.graph, s.data.study_area)
    run.finish()
    gpkg = tmp_path / "run" / "acceso.gpkg"
    assert {"centros_poblados", "rutas"} <= set(pyogrio.list_layers(gpkg)[:, 0])
    routes = pyogrio.read_dataframe(gpkg, layer="rutas")
    far = routed.places["minutes_nearest"] > s.sc.access.main_threshold_min
    assert len(routes) == int(far.sum()) > 0
    assert set(routes.geom_type) == {"LineString"}
    # each line starts at its place and ends at a facility
    places = routed.places.set_index("ccpp_id")
    fac = s.data.facilities().geometry
    for _, row in routes.head(10).iterrows():
        start, end = shapely.get_point(row.geometry, 0), shapely.get_point(row.geometry, -1)
        assert start.distance(places.loc[row["ccpp_id"], "geometry"]) < 1e-6
        assert fac.distance(end).min() < 1e-6


def test_each_proposal_tells_its_teacher_trip(san_marcos, san_marcos_plan):
    import networkx as nx

    from siting.network import to_networkx
    s, plan = san_marcos, san_marcos_plan.plan
    ev = siting.evaluate_plan(s.sc, s.data, s.graph, plan)
    tr = ev.teacher_routes
    assert len(tr) == len(plan.proposals) == 3
    G = to_networkx(s.graph)
    cet = {str(c): i for i, c in enumerate(s.data.cetpro["cod_mod"].astype(str))}
    row = {str(c): i for i, c in enumerate(s.data.places["ccpp_id"].astype(str))}
    for k, p in plan.proposals.reset_index(drop=True).iterrows():
        a = int(s.graph.point_nodes["cetpro"][cet[str(p["parent_cod_mod"])]])
        b = int(s.graph.point_nodes["places"][row[str(p["ccpp_id"])]])
        assert tr["teacher_route_minutes"].iloc[k] == pytest.approx(nx.dijkstra_path_length(G, a, b), rel=1e-9)
        assert str(p["parent_name"]) in tr["teacher_route_description"].iloc[k]
        assert tr["teacher_route_km"].iloc[k] >= tr["teacher_route_km_road"].iloc[k] >= 0
