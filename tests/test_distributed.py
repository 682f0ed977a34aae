"""siting.distributed: the Dask engine gives the serial engine's results.

Real data on a small area: a ~55 km x 55 km crop of the Cajamarca DEM around Cajamarca
city, the real MTC departmental road lines, the real INEI centros poblados and district
capitals inside it.  References are computed independently on the whole graph
(``solve.coverage``, ``solve.nearest`` - itself checked against networkx in
test_network_graph.py - and ``sensitivity.monte_carlo``).  The Dask cluster is a
LocalCluster of 2 in-process workers (processes=False) shared by the module.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason='the Dask engine needs the extra: pip install "siting[dask]"')

from siting import distributed as dist  # noqa: E402
from siting.data.quality import QualityReport  # noqa: E402
from siting.data.roads import load_mtc_lines  # noqa: E402
from siting.data.terrain import load_dem  # noqa: E402
from siting.network import build_travel_graph, coverage, nearest  # noqa: E402
from siting.scenario import Speeds  # noqa: E402
from siting.suitability.sensitivity import monte_carlo  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BOX = (-78.75, -7.45, -78.25, -6.95)  # lon/lat around Cajamarca city (real data inside it)
CRS = "EPSG:32717"


def _points(df: pd.DataFrame, lon: str, lat: str):
    import geopandas as gpd
    return gpd.GeoDataFrame(df.reset_index(drop=True), geometry=gpd.points_from_xy(df[lon], df[lat]), crs="EPSG:4326")


@pytest.fixture(scope="module")
def area():
    """Real inputs of the small area: DEM crop, road lines, CCPP, district capitals."""
    q = QualityReport()
    terrain = load_dem(ROOT / "data/raw/dem/geodata_elevation30s_cajamarca.tif", bounds_4326=BOX, crs=CRS, quality=q)
    roads = load_mtc_lines(ROOT / "data/raw/roads/mtc_red_vial_departamental_cajamarca.gpkg", q, crs=CRS)
    roads = roads.clip(BOX).explode(ignore_index=True)
    roads = roads[roads.geom_type == "LineString"].reset_index(drop=True)
    ccpp = pd.read_parquet(ROOT / "data/raw/ccpp/ubigeo_ccpp_peru.parquet")
    ccpp = ccpp[ccpp.longitude.between(BOX[0], BOX[2]) & ccpp.latitude.between(BOX[1], BOX[3])]
    caps = pd.read_csv(ROOT / "data/raw/population/inei_directorio_municipalidades_2025_capitales.csv", dtype=str)
    caps["lon"], caps["lat"] = caps.longitud.astype(float), caps.latitud.astype(float)
    caps = caps[caps.lon.between(BOX[0], BOX[2]) & caps.lat.between(BOX[1], BOX[3])]
    return terrain, roads, _points(ccpp, "longitude", "latitude"), _points(caps, "lon", "lat")


@pytest.fixture(scope="module", params=["walk", "roads+walk"])
def graph(request, area):
    terrain, roads, ccpp, caps = area
    return build_travel_graph(terrain, roads, Speeds(), {"ccpp": ccpp, "capitals": caps}, mode=request.param)


@pytest.fixture(scope="module")
def client():
    with dist.open_client(n_workers=2, processes=False) as c:
        yield c


def test_area_is_real_and_non_trivial(area, graph):
    terrain, roads, ccpp, caps = area
    assert len(ccpp) > 300 and len(caps) >= 8 and len(roads) > 0
    assert graph.n_nodes > 3000


def test_edge_speed_limits_match_the_speed_table(graph):
    walk, road = dist.edge_speed_limits(graph)
    # Tobler's maximum is walk_kmh_max = 6 km/h = 100 m/min (at slope -0.05); roads <= 60 km/h
    assert 60 < walk <= 100.0 + 1e-6
    if graph.mode == "walk":
        assert road == 0.0
    else:
        assert 100 < road <= 1000.0 + 1e-6


@pytest.mark.parametrize("use_client", [False, True])
def test_coverage_equals_serial(graph, client, use_client):
    rng = np.random.default_rng(7)
    places = graph.point_nodes["ccpp"]
    origins = rng.choice(places, size=120, replace=False)
    want = coverage(graph, origins, places, 45.0, progress=False)
    got = dist.coverage(graph, origins, places, 45.0, client if use_client else None, chunk_origins=25,
                        progress=False)
    assert got.shape == want.shape and want.nnz > 1000
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_allclose(got.data, want.data, rtol=0, atol=1e-9)


def test_nearest_by_region_equals_whole_graph(graph, client):
    limit = 40.0
    places, caps = graph.point_nodes["ccpp"], graph.point_nodes["capitals"]
    regions = (graph.x[places] // 5_000).astype(int)  # vertical strips 5 km wide: many borders
    assert len(np.unique(regions)) >= 4
    want = dist.censor(nearest(graph, caps), limit)
    minutes, which, tasks = dist.nearest_by_region(graph, caps, places, regions, limit, client, progress=False)
    np.testing.assert_array_equal(np.isinf(minutes), np.isinf(want.minutes[places]))
    ok = np.isfinite(minutes)
    assert ok.sum() > 100 and (~ok).sum() > 100  # both sides of the limit occur
    np.testing.assert_allclose(minutes[ok], want.minutes[places][ok], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(which, want.source[places])
    if graph.mode == "walk":  # the halo really is a part of the graph
        assert (tasks["halo_nodes"] < graph.n_nodes).all()


def test_a_too_narrow_halo_would_be_wrong(area):
    """The halo width matters: with a third of the real walking speed, borders break."""
    terrain, roads, ccpp, caps = area
    graph = build_travel_graph(terrain, None, Speeds(), {"ccpp": ccpp, "capitals": caps}, mode="walk")
    limit = 40.0
    places, caps = graph.point_nodes["ccpp"], graph.point_nodes["capitals"]
    regions = (graph.x[places] // 5_000).astype(int)
    want = dist.censor(nearest(graph, caps), limit).minutes[places]
    walk, _ = dist.edge_speed_limits(graph)
    from siting.network import solve
    rev = solve._oriented(graph, True)
    wrong = 0
    for label in np.unique(regions):
        sel = np.flatnonzero(regions == label)
        nodes = dist.halo_nodes(graph, places[sel], limit, walk_m_per_min=walk / 3)
        local = np.full(graph.n_nodes, -1)
        local[nodes] = np.arange(len(nodes))
        s = caps[local[caps] >= 0]
        t, _ = dist._nearest_task(rev[nodes][:, nodes], local[s], local[places[sel]], limit)
        both = np.isfinite(t) & np.isfinite(want[sel])
        wrong += int((np.isfinite(t) != np.isfinite(want[sel])).sum() + (np.abs(t[both] - want[sel][both]) > 1e-6).sum())
    assert wrong > 0


def fixture_criteria_table(n: int = 60) -> pd.DataFrame:
    """FIXTURE (synthetic numbers, not data): a criteria table of n candidates."""
    rng = np.random.default_rng(3)
    return pd.DataFrame({"ccpp_id": [f"FIXTURE{i:03d}" for i in range(n)],
                         "unserved_target": rng.gamma(2, 100, n), "poverty": rng.uniform(0, 1, n),
                         "time_to_nearest_facility": rng.uniform(10, 300, n)})


WEIGHTS = {"unserved_target": 0.5, "poverty": 0.3, "time_to_nearest_facility": 0.2}


def test_monte_carlo_one_chunk_equals_sensitivity_monte_carlo():
    table = fixture_criteria_table()
    want = monte_carlo(table, WEIGHTS, n_runs=200, seed=11, top_n=10)
    got = dist.monte_carlo(table, WEIGHTS, None, n_runs=200, n_chunks=1, seed=11, top_n=10)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_monte_carlo_on_dask_equals_serial_with_same_chunking(client):
    table = fixture_criteria_table()
    speed = {0.9: table.assign(time_to_nearest_facility=table.time_to_nearest_facility / 0.9)}
    serial = dist.monte_carlo(table, WEIGHTS, None, n_runs=203, n_chunks=4, seed=11, speed_tables=speed)
    on_dask = dist.monte_carlo(table, WEIGHTS, client, n_runs=203, n_chunks=4, seed=11, speed_tables=speed)
    pd.testing.assert_frame_equal(on_dask, serial)
    other = dist.monte_carlo(table, WEIGHTS, None, n_runs=203, n_chunks=3, seed=11, speed_tables=speed)
    assert not other["share_top_n"].equals(serial["share_top_n"])  # the chunk seeds really are used
    assert len(dist.chunk_seeds(11, 4)) == 4


def test_monte_carlo_with_draw_tables_equals_sensitivity_tables(client):
    """The score stage's form (each run uses one travel-time draw's table): one chunk equals
    ``sensitivity.monte_carlo(tables=...)``; on Dask it equals the serial run of the same chunks."""
    table = fixture_criteria_table()
    draws = [table.assign(time_to_nearest_facility=table.time_to_nearest_facility * f) for f in (0.8, 1.1, 1.3)]
    want = monte_carlo(table, WEIGHTS, n_runs=150, seed=5, top_n=7, tables=draws)
    got = dist.monte_carlo(table, WEIGHTS, None, n_runs=150, n_chunks=1, seed=5, top_n=7, draw_tables=draws)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    serial = dist.monte_carlo(table, WEIGHTS, None, n_runs=150, n_chunks=3, seed=5, top_n=7, draw_tables=draws)
    pd.testing.assert_frame_equal(dist.monte_carlo(table, WEIGHTS, client, n_runs=150, n_chunks=3, seed=5, top_n=7,
                                                   draw_tables=draws), serial)


@pytest.mark.parametrize("n_runs", [203, 400, 1001])
def test_stability_from_counts_equals_rank_stability(n_runs):
    """The histogram reduction (workers send rank counts, not ranks) gives the same table,
    dtypes included, as the ranks themselves (even and odd run counts: both medians)."""
    from siting.suitability.sensitivity import rank_stability
    rng = np.random.default_rng(n_runs)
    ranks = rng.integers(1, 41, size=(40, n_runs)).astype(np.int32)
    base = rng.uniform(size=40)
    want = rank_stability(ranks, base, top_n=6, index=pd.RangeIndex(40))
    counts = dist.rank_counts(ranks[:, : n_runs // 3]) + dist.rank_counts(ranks[:, n_runs // 3:])
    pd.testing.assert_frame_equal(dist.stability_from_counts(counts, base, top_n=6, index=pd.RangeIndex(40)), want)
