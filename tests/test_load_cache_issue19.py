"""The slow loaders' tables kept between runs (issue #19, ``siting.data.load_cache``): a hit
gives the very tables and quality report of a fresh load (real data, checked against a load
without any cache), the key follows the files' bytes, and a damaged or inexact cache is
never trusted.  The small tables below are invented fixtures."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from siting.data.load_cache import cache_key, cached_load
from siting.data.quality import QualityReport


def _types(df):
    return {c: [type(v).__name__ for v in df[c].tolist()] for c in df.columns if df[c].dtype == object}


def _same(a, b):
    if a is None or b is None:
        assert a is None and b is None
        return
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), check_exact=True)
        assert _types(a) == _types(b) and a.attrs == b.attrs
        assert getattr(a, "crs", None) == getattr(b, "crs", None)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_a_hit_gives_the_tables_and_report_of_a_load_without_cache(tmp_path):
    import siting
    from siting.scenario import load_scenario

    base = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "cajamarca.toml",
                         study_area__ugels=["UGEL SAN MARCOS"])
    plain = siting.load_data(dataclasses.replace(base, run=dataclasses.replace(base.run, cache_dir="")),
                             progress=False)
    cached = dataclasses.replace(base, run=dataclasses.replace(base.run, cache_dir=str(tmp_path)))
    first = siting.load_data(cached, progress=False)  # writes the tables
    assert {p.name.split("_")[0] for p in tmp_path.glob("*.parquet")} == {"places", "roads"}
    second = siting.load_data(cached, progress=False)  # reads them
    for got in (first, second):
        for f in dataclasses.fields(plain):
            if f.name not in ("scenario", "quality", "terrain", "study_area", "study_area_buffer"):
                _same(getattr(plain, f.name), getattr(got, f.name))
        assert got.quality.problems == plain.quality.problems and got.quality.counts == plain.quality.counts
        assert got.quality.notes == plain.quality.notes and got.quality.notes_es == plain.quality.notes_es
        assert list(got.quality.counts) == list(plain.quality.counts)  # and in the same order


def _loader(calls, df, note=("Invented caveat.", "Nota inventada.")):
    def load(q: QualityReport):
        calls.append(1)
        q.add("fixture", "r1", "invented problem", action="kept")
        q.count("fixture", read=3, kept=len(df))
        q.note(note[0], es=note[1])
        return df
    return load


def _points(**cols):
    n = len(next(iter(cols.values())))
    return gpd.GeoDataFrame(cols, geometry=[Point(-78.5 + i / 10, -7.1) for i in range(n)], crs=4326)


def test_a_hit_skips_the_loader_and_replays_its_report(tmp_path):
    df = _points(name=["Alfa", "Beta"], population=[10.0, np.nan])
    calls: list[int] = []
    reports = []
    for _ in range(2):
        q = QualityReport()
        q.note("Earlier caveat.", es="Nota anterior.")
        got = cached_load("fixture", _loader(calls, df), quality=q, cache_dir=tmp_path, key="k1")
        _same(df, got)
        reports.append(q)
    assert calls == [1]  # the second time from the cache
    assert reports[0] == reports[1] and reports[1].notes == ["Earlier caveat.", "Invented caveat."]
    assert reports[1].counts == {"fixture": {"read": 3, "kept": 2}}


@pytest.mark.parametrize("values", [["Alfa", None], ["Alfa", 7]])
def test_a_table_that_does_not_read_back_exactly_is_not_kept(tmp_path, values):
    """A text column holding ``None`` comes back from Parquet with ``NaN``, one mixing text and
    numbers cannot be written: such a table is loaded again each run, never returned changed,
    and leaves no file behind."""
    df = _points(name=pd.Series(values, dtype=object), code=["a", "b"])
    calls: list[int] = []
    for _ in range(2):
        got = cached_load("mixed", _loader(calls, df), quality=QualityReport(), cache_dir=tmp_path, key="k2")
        assert [type(v) for v in got["name"]] == [type(v) for v in values]
    assert calls == [1, 1] and not list(tmp_path.glob("*mixed*"))


def test_a_damaged_cache_is_loaded_again_and_rewritten(tmp_path):
    df = _points(name=["Alfa", "Beta"])
    calls: list[int] = []
    cached_load("fixture", _loader(calls, df), quality=QualityReport(), cache_dir=tmp_path, key="k3")
    (tmp_path / "fixture_k3.parquet").write_bytes(b"not a parquet file")
    got = cached_load("fixture", _loader(calls, df), quality=QualityReport(), cache_dir=tmp_path, key="k3")
    _same(df, got)
    assert calls == [1, 1]
    got = cached_load("fixture", _loader(calls, df), quality=QualityReport(), cache_dir=tmp_path, key="k3")
    assert calls == [1, 1]  # rewritten the second time


def test_the_key_follows_the_bytes_of_the_files_and_the_sidecars(tmp_path):
    shp = tmp_path / "vias.shp"
    for ext in ("shp", "dbf", "prj"):
        (tmp_path / f"vias.{ext}").write_bytes(b"invented " + ext.encode())
    key = cache_key("roads", files=[shp], settings={"a": 1})
    assert cache_key("roads", files=[shp], settings={"a": 1}) == key
    assert cache_key("roads", files=[shp], settings={"a": 2}) != key
    (tmp_path / "vias.dbf").write_bytes(b"invented dbf, one attribute changed")
    changed = cache_key("roads", files=[shp], settings={"a": 1})
    assert changed != key
    towns = _points(name=["Alfa"])
    with_towns = cache_key("roads", files=[shp], settings={"a": 1}, frames={"towns": towns})
    towns.loc[0, "name"] = "Alfa 2"
    assert cache_key("roads", files=[shp], settings={"a": 1}, frames={"towns": towns}) != with_towns != changed
