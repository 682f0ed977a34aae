"""Issue #14 item 3: a study-area-independent grid, on the shipped real data.

The 8-UGEL and the 13-UGEL scenarios warp the same DEM over different extents.  With one
fixed grid per DEM and CRS (cell size of the whole DEM, origin on multiples of it, each cell
centre interpolated exactly) the shared cells get the same elevation, and a place gets the
same minutes in both, except where its route in the larger area uses what the smaller area
does not have (cells outside its grid, villages outside it).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

import siting
from siting.access import round_minutes
from siting.data.terrain import bilinear_at_cells
from siting.network import POINT, nearest
from siting.network.routes import path_tree, trace

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    out = {}
    for name in ("cajamarca", "cajamarca_13ugel"):
        sc = siting.load_scenario(SCENARIOS / f"{name}.toml", run__cache_dir=str(cache))
        data = siting.load_data(sc, progress=False)
        out[name] = (sc, data, siting.build_graph(sc, data), siting.build_graph(sc, data, mode="walk"))
    return out


def _minutes(graph, data):
    sources = np.concatenate([graph.point_nodes[k] for k in ("cetpro", "extension") if k in graph.point_nodes])
    m = round_minutes(nearest(graph, sources).minutes[graph.point_nodes["places"]])
    return dict(zip(data.places["ccpp_id"], m, strict=True))


def test_the_shared_cells_are_the_same_cells_with_the_same_elevation(both):
    a, b = both["cajamarca"][1].terrain, both["cajamarca_13ugel"][1].terrain
    assert a.cell_size == b.cell_size == 922.0
    dc, dr = (a.transform.c - b.transform.c) / a.cell_size, (b.transform.f - a.transform.f) / a.cell_size
    assert dc == int(dc) and dr == int(dr)  # the grids are aligned
    shared = b.elevation[int(dr):int(dr) + a.shape[0], int(dc):int(dc) + a.shape[1]]
    assert np.array_equal(shared, a.elevation, equal_nan=True)


def test_a_place_gets_the_same_minutes_in_both_study_areas(both):
    (sa, da, ga, wa), (sb, db, gb, wb) = both["cajamarca"], both["cajamarca_13ugel"]
    walk_a, walk_b = _minutes(wa, da), _minutes(wb, db)
    assert len(walk_a) == 3296 and set(walk_a) <= set(walk_b)
    assert all(walk_a[k] == walk_b[k] for k in walk_a)  # walking over the terrain: all equal
    road_a, road_b = _minutes(ga, da), _minutes(gb, db)
    differ = [k for k in road_a if road_a[k] != road_b[k]]
    assert len(differ) <= 3, differ  # before the fixed grid: 521 differed, 90 changed band
    # each that differs travels, in the larger area, through what the smaller one lacks
    sources = np.concatenate([gb.point_nodes[k] for k in ("cetpro", "extension") if k in gb.point_nodes])
    tree = path_tree(gb, sources)
    row = {k: i for i, k in enumerate(db.places["ccpp_id"])}
    inside = set(da.places["ccpp_id"])
    x0, y0 = ga.transform.c, ga.transform.f
    x1, y1 = x0 + ga.shape[1] * ga.transform.a, y0 + ga.shape[0] * ga.transform.e
    for k in differ:
        path = trace(tree, gb.point_nodes["places"][row[k]])
        outside_grid = (gb.x[path] < x0) | (gb.x[path] > x1) | (gb.y[path] > y0) | (gb.y[path] < y1)
        place_nodes = gb.point_nodes["places"]
        foreign = [db.places["ccpp_id"].iloc[int(np.searchsorted(place_nodes, v))] not in inside
                   for v in path if gb.kind[v] == POINT and place_nodes[0] <= v <= place_nodes[-1]]
        assert outside_grid.any() or any(foreign), k


def test_bilinear_at_cells_matches_a_hand_computed_case():
    # SYNTHETIC 3 x 3 source in EPSG:32717 with 100 m pixels; z = x + 10 y (bilinear is exact on it)
    src_t = Affine(100, 0, 500_000, 0, -100, 9_200_300)
    rows, cols = np.mgrid[0:3, 0:3]
    z = (cols * 1.0 + 10.0 * rows).astype(float)
    dst_t = Affine(50, 0, 500_050, 0, -50, 9_200_250)  # centres at 75, 125 m from the origin
    got = bilinear_at_cells(z, src_transform=src_t, src_crs="EPSG:32717", dst_transform=dst_t,
                            dst_crs="EPSG:32717", shape=(2, 2))
    # centre (x=75 m, y=75 m down) -> pixel (c, r) = (0.25, 0.25): z = 0.25 + 2.5
    assert got == pytest.approx(np.array([[2.75, 3.25], [7.75, 8.25]]))
    z[0, 0] = np.nan  # a nodata neighbour: the others are re-weighted
    got = bilinear_at_cells(z, src_transform=src_t, src_crs="EPSG:32717", dst_transform=dst_t,
                            dst_crs="EPSG:32717", shape=(1, 1))
    w = np.array([0.75 * 0.25, 0.25 * 0.75, 0.25 * 0.25])
    assert got[0, 0] == pytest.approx((w * np.array([1.0, 10.0, 11.0])).sum() / w.sum())


def test_it_agrees_with_gdal_away_from_the_approximation(both):
    """Against rasterio/GDAL bilinear on the shipped DEM: within a few metres (GDAL's
    approximate transformer moves sample points by up to 1/8 pixel)."""
    from rasterio.warp import Resampling, reproject
    t = both["cajamarca"][1].terrain
    dem = Path(both["cajamarca"][0].inputs.dem)
    with rasterio.open(dem) as src:
        data = src.read(1, out_dtype="float64")
        data[data < -1000] = np.nan
        ref = np.full(t.shape, np.nan)
        reproject(source=data, destination=ref, src_transform=src.transform, src_crs=src.crs, src_nodata=np.nan,
                  dst_transform=t.transform, dst_crs=t.crs, dst_nodata=np.nan, resampling=Resampling.bilinear)
    both_ok = np.isfinite(ref) & np.isfinite(t.elevation)
    diff = np.abs(ref - t.elevation)[both_ok]
    assert both_ok.mean() > 0.95 and np.median(diff) < 2.0 and np.percentile(diff, 99) < 30.0
