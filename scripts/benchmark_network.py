#!/usr/bin/env python
"""Benchmark of the travel-time engine on the shipped real data (not a test).

    python scripts/benchmark_network.py              # Cajamarca, then national (each in its own process)
    python scripts/benchmark_network.py --case cajamarca
    python scripts/benchmark_network.py --case national

Cajamarca: DEM crop + roads of ``scenarios/cajamarca.toml``, all 6,513 centros poblados of
the INEI 2017 census table, CETPRO = DRE base rows with NIVEL_MODALIDAD "Técnico Productiva"
or "Educación Ocupacional".  Prints nodes, edges, build time, the nearest-CETPRO query for
all places, bounded coverage (120 min) of every candidate place (population >=
candidates.min_population) to all places, the same nearest query with networkx on the
same graph (ratio and max difference), and peak memory.

National: the whole Peru DEM (walking only: there are no national road lines in the shipped
data), nearest district capital (INEI directory 2025, 1,891 capitals) for all 94,922 CCPP.
Projected CRS for Peru: an equidistant conic centred on Peru (see NATIONAL_CRS).
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import siting  # noqa: E402
from siting.data.quality import QualityReport  # noqa: E402
from siting.data.terrain import Terrain  # noqa: E402
from siting.network import build_travel_graph, coverage, nearest, to_networkx  # noqa: E402

#: Equidistant conic centred on Peru: standard parallels 3°S and 15°S (Peru spans 0°-18.4°S),
#: true scale along every meridian and both standard parallels; the scale error along the
#: other parallels stays below about 1 % over Peru.  Distances in metres.
NATIONAL_CRS = "+proj=eqdc +lat_0=-9.2 +lon_0=-75 +lat_1=-3 +lat_2=-15 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
CETPRO_LEVELS = {"Técnico Productiva", "Educación Ocupacional"}


def peak_mb() -> float:
    """Peak resident memory of this process (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _fallback_load_dem(path: str, *, crs: str) -> Terrain:
    """Reproject a DEM onto square cells of about its native resolution (used only when
    ``siting.data.terrain.load_dem`` is not available)."""
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject
    with rasterio.open(path) as src:
        res_m = abs(src.res[0]) * 111_320.0 * np.cos(np.radians((src.bounds.top + src.bounds.bottom) / 2))
        transform, w, h = calculate_default_transform(src.crs, crs, src.width, src.height, *src.bounds,
                                                      resolution=round(res_m))
        out = np.full((h, w), np.nan, dtype=np.float64)
        reproject(rasterio.band(src, 1), out, dst_transform=transform, dst_crs=crs, dst_nodata=np.nan,
                  resampling=Resampling.bilinear)
    out[out < -1000] = np.nan
    return Terrain(out, transform, crs, source=str(path))


def load_terrain(path: str, crs: str, q: QualityReport) -> tuple[Terrain, str]:
    import rasterio
    try:
        from siting.data.terrain import load_dem
    except ImportError:
        return _fallback_load_dem(path, crs=crs), "fallback reprojection in benchmark"
    with rasterio.open(path) as src:
        b = src.bounds
    return load_dem(path, bounds_4326=(b.left, b.bottom, b.right, b.top), crs=crs, quality=q), "siting.data.terrain.load_dem"


def load_roads_any(sc, q: QualityReport) -> tuple[gpd.GeoDataFrame, str]:
    try:
        from siting.data.roads import load_roads
    except ImportError:
        roads = gpd.read_file(sc.inputs.roads[0])
        roads = gpd.GeoDataFrame({"road_class": "departmental_unpaved", "approximate": False},
                                 geometry=roads.geometry.force_2d(), crs=roads.crs, index=roads.index)
        return roads, "fallback: departmental MTC lines only"
    return load_roads(sc, q), "siting.data.roads.load_roads"


def points_from_lonlat(df: pd.DataFrame, lon: str, lat: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(pd.to_numeric(df[lon]), pd.to_numeric(df[lat])),
                            crs="EPSG:4326")


def timed(label: str, fn, results: dict, key: str):
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    results[key] = round(dt, 3)
    print(f"  {label}: {dt:.3f} s", flush=True)
    return out


def case_cajamarca() -> dict:
    r: dict = {"case": "cajamarca"}
    sc = siting.load_scenario(ROOT / "scenarios" / "cajamarca.toml")
    q = QualityReport()
    terrain, r["dem_loader"] = timed("load DEM", lambda: load_terrain(sc.inputs.dem, sc.study_area.crs, q), r,
                                     "load_dem_s")
    roads, r["roads_loader"] = timed("load roads", lambda: load_roads_any(sc, q), r, "load_roads_s")
    places = pd.read_csv(sc.inputs.ccpp, dtype=str)
    places = points_from_lonlat(places, "lon", "lat")
    places["altitude_m"] = pd.to_numeric(places["ALTITUD"], errors="coerce")
    places["population"] = pd.to_numeric(places["POB_CENSADA_2017"], errors="coerce")
    base = gpd.read_file(sc.inputs.school_base)
    cetpro = base[base["NIVEL_MODALIDAD"].isin(CETPRO_LEVELS)].reset_index(drop=True)
    r.update(dem_shape=list(terrain.shape), cell_m=round(terrain.cell_size, 1), roads=len(roads),
             road_km=round(float(roads.to_crs(sc.study_area.crs).length.sum()) / 1000, 1),
             places=len(places), cetpro=len(cetpro))
    print(f"  DEM {terrain.shape} cells of {terrain.cell_size:.0f} m; {len(roads)} road lines "
          f"({r['road_km']} km); {len(places)} places; {len(cetpro)} CETPRO", flush=True)
    g = timed("build graph", lambda: build_travel_graph(terrain, roads, sc.speeds, {"places": places, "cetpro": cetpro}),
              r, "build_s")
    r.update(nodes=g.n_nodes, edges=g.n_edges, road_nodes=int(len(g.road_nodes)))
    print(f"  nodes {g.n_nodes:,} (road nodes {len(g.road_nodes):,}), edges {g.n_edges:,}", flush=True)
    pn, cn = g.point_nodes["places"], g.point_nodes["cetpro"]
    res = timed("nearest CETPRO, all places (first call, includes transposing)", lambda: nearest(g, cn), r,
                "nearest_first_s")
    reps = []
    for _ in range(5):
        t0 = time.perf_counter()
        res = nearest(g, cn)
        reps.append(time.perf_counter() - t0)
    r["nearest_s"] = round(float(np.median(reps)), 3)
    r["nearest_min_s"] = round(float(np.min(reps)), 3)
    print(f"  nearest CETPRO, all places: median of 5 {r['nearest_s']:.3f} s (best {r['nearest_min_s']:.3f} s)",
          flush=True)
    t = res.minutes[pn]
    r["place_minutes_median"] = round(float(np.median(t[np.isfinite(t)])), 1)
    r["places_unreachable"] = int(np.isinf(t).sum())
    r["places_within"] = {str(th): int((t <= th).sum()) for th in sc.access.thresholds_min}
    print(f"  median {r['place_minutes_median']} min; unreachable {r['places_unreachable']}; within "
          f"{r['places_within']}", flush=True)
    cand = np.flatnonzero(places["population"].to_numpy() >= sc.candidates.min_population)
    r["candidates"] = int(len(cand))
    cov = timed(f"coverage of {len(cand)} candidates (pop >= {sc.candidates.min_population}) <= 120 min",
                lambda: coverage(g, pn[cand], pn, 120.0, progress=False), r, "coverage_120_s")
    r["coverage_pairs"] = int(cov.nnz)
    print(f"  coverage pairs {cov.nnz:,} (mean {cov.nnz / max(len(cand), 1):.0f} places per candidate)", flush=True)
    G = timed("convert CSR -> networkx", lambda: to_networkx(g), r, "networkx_convert_s")
    import networkx as nx
    R = G.reverse(copy=False)
    ref = timed("networkx multi_source_dijkstra (same query)",
                lambda: nx.multi_source_dijkstra_path_length(R, [int(c) for c in cn]), r, "networkx_nearest_s")
    want = np.array([ref.get(int(v), np.inf) for v in pn])
    fin = np.isfinite(want)
    r["networkx_max_abs_diff_min"] = float(np.max(np.abs(want[fin] - t[fin]))) if fin.any() else 0.0
    r["networkx_same_unreachable"] = bool(np.array_equal(np.isinf(want), np.isinf(t)))
    r["speedup_vs_networkx"] = round(r["networkx_nearest_s"] / max(r["nearest_s"], 1e-9), 1)  # vs the median
    print(f"  speed-up vs networkx x{r['speedup_vs_networkx']}; max |diff| {r['networkx_max_abs_diff_min']:.2e} min",
          flush=True)
    r["peak_mb"] = round(peak_mb(), 0)
    print(f"  peak memory {r['peak_mb']:.0f} MB", flush=True)
    return r


def case_national() -> dict:
    r: dict = {"case": "national", "crs": NATIONAL_CRS}
    sc = siting.Scenario()  # default speeds, walk only
    sc.speeds.mode = "walk"
    q = QualityReport()
    dem = ROOT / "data" / "raw" / "dem" / "geodata_elevation30s_peru.tif"
    def load_national():
        try:
            from siting.data.terrain import load_dem_national
        except ImportError:
            return load_terrain(str(dem), NATIONAL_CRS, q)
        return load_dem_national(dem, NATIONAL_CRS, quality=q), "siting.data.terrain.load_dem_national"
    terrain, r["dem_loader"] = timed("load + reproject national DEM", load_national, r, "load_dem_s")
    ccpp = pd.read_parquet(ROOT / "data" / "raw" / "ccpp" / "ubigeo_ccpp_peru.parquet")
    ccpp = ccpp[np.isfinite(ccpp["latitude"]) & np.isfinite(ccpp["longitude"])]
    ccpp = points_from_lonlat(ccpp.reset_index(drop=True), "longitude", "latitude")
    caps = pd.read_csv(ROOT / "data" / "raw" / "population" / "inei_directorio_municipalidades_2025_capitales.csv",
                       dtype=str)
    caps = points_from_lonlat(caps, "longitud", "latitud")
    caps["altitude_m"] = pd.to_numeric(caps["altitud"], errors="coerce")
    n_valid = int(np.isfinite(terrain.elevation).sum())
    r.update(dem_shape=list(terrain.shape), cells=int(np.prod(terrain.shape)), cells_with_elevation=n_valid,
             cell_m=round(terrain.cell_size, 1), ccpp=len(ccpp), capitals=len(caps))
    print(f"  DEM {terrain.shape} = {np.prod(terrain.shape):,} cells ({n_valid:,} with elevation) of "
          f"{terrain.cell_size:.0f} m; {len(ccpp):,} CCPP; {len(caps):,} capitals", flush=True)
    g = timed("build walking graph", lambda: build_travel_graph(terrain, None, sc.speeds, {"ccpp": ccpp, "capitals": caps}),
              r, "build_s")
    r.update(nodes=g.n_nodes, edges=g.n_edges)
    print(f"  nodes {g.n_nodes:,}, edges {g.n_edges:,}", flush=True)
    res = timed("nearest capital for all CCPP (includes transposing)", lambda: nearest(g, g.point_nodes["capitals"]),
                r, "nearest_s")
    t = res.minutes[g.point_nodes["ccpp"]]
    r["ccpp_unreachable"] = int(np.isinf(t).sum())
    r["ccpp_minutes_median"] = round(float(np.median(t[np.isfinite(t)])), 1)
    r["total_s"] = round(r["load_dem_s"] + r["build_s"] + r["nearest_s"], 2)
    r["peak_mb"] = round(peak_mb(), 0)
    print(f"  median walk to the district capital {r['ccpp_minutes_median']} min; unreachable "
          f"{r['ccpp_unreachable']:,}; total {r['total_s']} s; peak memory {r['peak_mb']:.0f} MB", flush=True)
    return r


def machine() -> str:
    import os
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 2**20:.0f} GB RAM"
    except (OSError, ValueError):
        pass
    return f"{cpu}, {len(os.sched_getaffinity(0))} cores available{mem}, Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", choices=["all", "cajamarca", "national"], default="all")
    ap.add_argument("--json", help="write the measured numbers to this JSON file")
    args = ap.parse_args()
    if args.case == "all":  # each case in its own process, so peak memory is per case
        results = []
        for case in ("cajamarca", "national"):
            out = subprocess.run([sys.executable, __file__, "--case", case, "--json", "/dev/stdout"],
                                 capture_output=True, text=True, check=True)
            print(out.stderr, end="")
            lines = out.stdout.strip().splitlines()
            print("\n".join(lines[:-1]))
            results.append(json.loads(lines[-1]))
        text = json.dumps({"machine": machine(), "results": results}, indent=1)
        print(text)
        if args.json:
            Path(args.json).write_text(text + "\n")
        return
    print(f"[{args.case}] {machine()}", flush=True)
    r = case_cajamarca() if args.case == "cajamarca" else case_national()
    if args.json:
        with open(args.json, "w") as fh:
            fh.write("\n" + json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
