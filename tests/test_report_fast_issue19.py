"""The faster report stage (issue #19) writes the same text and pictures as before.

* the HTML table cells (:func:`siting.report.html_report.table_context`, now column by column)
  equal :func:`~siting.report.html_report.fmt_number` of each cell read row by row, the way
  the stage formatted them before, on real tables (San Marcos) and on a frame of every kind
  of value a cell can hold (invented values, to reach the rare types: NA, NumPy scalars, -0.0);
* the map's popup values (``folium_map._formatted``) equal ``_fmt(_clean(v))`` of each value
  of ``to_dict("records")`` (the former code);
* :func:`~siting.report.numbers.round_half_away_scalar` gives the same bits as the NumPy
  :func:`~siting.report.numbers.round_half_away`;
* the charts drawn in side processes (:func:`~siting.report.html_report.start_charts`) are the
  same PNGs as those drawn in the main process (the Pareto chart, drawn aside by the same
  mechanism, is checked by the byte-identical ``report.html`` of the shipped scenario).
"""
from __future__ import annotations

import math
import struct

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from siting.access import place_table  # noqa: E402
from siting.report import folium_map, html_report  # noqa: E402
from siting.report.numbers import round_half_away, round_half_away_scalar  # noqa: E402
from siting.report.side_tasks import side_pool  # noqa: E402


def _cells_row_by_row(df: pd.DataFrame, cols: list[str], lang: str) -> list[list[dict]]:
    """The former loop of ``table_context``: every cell of every row through ``fmt_number``."""
    rows = []
    for rec in df[cols].itertuples(index=False):
        row = []
        for c, v in zip(cols, rec):
            text, num = html_report.fmt_number(v, c, lang)
            row.append({"text": text, "num": num})
        rows.append(row)
    return rows


def _every_kind() -> pd.DataFrame:
    """Invented cells: text with repeats and NA, coded bands, floats with NaN/inf/-0.0,
    nullable integers, booleans, an object column mixing NumPy scalars, None and pd.NA."""
    n = 8
    return pd.DataFrame({
        "district": pd.array(["A", "B", "A", None, "C", "A", "B", "total"], dtype="str"),
        "ugel": pd.array(["U1", None, "U1", "U2", "U2", "U1", pd.NA, "U2"], dtype="string"),
        "band": ["<=30", "30-60", ">120", "sin acceso", "<=30", None, "60-120", "<=30"],
        "population": [1234.5, np.nan, 0.0, -0.0, 1e9 + 0.5, 2.675, -3.5, np.inf],
        "share_within_60": np.linspace(-0.0015, 1.0, n),
        "minutes_nearest": [12.5, np.inf, np.nan, 0.49, 60.5, 120.0, -1.5, 1e6],
        "places": pd.array([1, 2, None, 4, 5, 6, 7, 8], dtype="Int64"),
        "approximate": [True, False, True, np.True_, np.False_, True, False, True],
        "source": [1.0, 2.5, 150.25, np.float32(np.nan), np.int64(7), None, pd.NA, np.float64(0.123)],
        "ccpp_id": [601010001, 601010002.0, np.nan, 7, 8, 9, 10, 11],
        "status": ["assigned", "unserved", "x", None, "assigned", "assigned", "unserved", "y"],
    })


@pytest.mark.parametrize("lang", ["es", "en"])
def test_table_cells_equal_fmt_number_of_each_cell(lang):
    df = _every_kind()
    got = html_report.table_context(df, "t", lang)
    assert got["rows"] == _cells_row_by_row(df, list(df.columns), lang)
    assert html_report.table_context(df.iloc[:0], "t", lang)["rows"] == []
    assert html_report.table_context(df, "t", lang, columns=["nothing"])["rows"] == [[]] * len(df)


def test_real_tables_equal_fmt_number_of_each_cell(san_marcos):
    places = place_table(san_marcos.gaps, san_marcos.sc)
    cols = [c for c in places.columns if c != "geometry"]
    assert html_report.table_context(places, "t", "es")["rows"] == _cells_row_by_row(places, cols, "es")
    summary = san_marcos.gaps.summary_by_district
    got = html_report.table_context(summary, "t", "en")["rows"]
    assert got == _cells_row_by_row(summary, [c for c in summary.columns if c != "geometry"], "en")


def _popups_by_record(gdf, columns, lang):
    """The former ``folium_map._formatted``."""
    return [{c: folium_map._fmt(folium_map._clean(v), lang, c) for c, v in rec.items()}
            for rec in gdf[columns].to_dict("records")]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_popup_values_equal_the_former_records(lang, san_marcos):
    df = _every_kind()
    assert folium_map._formatted(df, list(df.columns), lang) == _popups_by_record(df, list(df.columns), lang)
    places = place_table(san_marcos.gaps, san_marcos.sc)
    cols = [c for c in places.columns if c != "geometry"]
    got = folium_map._formatted(places, cols, lang)
    assert got == _popups_by_record(places, cols, lang)
    assert [list(r) for r in got[:3]] == [cols] * 3  # keys in the order of the columns


def test_scalar_rounding_has_the_bits_of_numpy():
    rng = np.random.default_rng(19)
    values = np.concatenate([rng.normal(0, 1e4, 20000), rng.integers(-10**6, 10**6, 20000) / 2,
                             rng.integers(-10**7, 10**7, 20000) / 1000,
                             [0.0, -0.0, 2.675, -2.675, 0.5, -0.5, 1.5, 2.5, 1.005, 0.05, 1e308, -1e308, 5e-324,
                              2.0**53, 1e15 + 0.5, np.inf, -np.inf]])
    for d in (0, 1, 3, 6):
        ref = round_half_away(values, d)
        got = [round_half_away_scalar(float(v), d) for v in values]
        assert [struct.pack("d", g) for g in got] == [struct.pack("d", float(r)) for r in ref]
    assert math.isnan(round_half_away_scalar(math.nan, 1))
    assert round_half_away_scalar(2.675, 2) == 2.68 and round_half_away_scalar(-0.4, 0) == 0.0


def test_charts_from_side_processes_are_the_main_process_pngs(san_marcos, san_marcos_plan):
    places = place_table(san_marcos.gaps, san_marcos.sc)
    plan = san_marcos_plan.plan
    th = list(san_marcos.sc.access.thresholds_min)
    ugels = html_report.report_ugels(places)
    here = {None: html_report.report_charts(places, plan.curve, lang="es", thresholds=th)}
    here |= {u: html_report.report_charts(places[places["ugel"] == u], None, lang="es", thresholds=th) for u in ugels}
    assert [k for k, _ in here[None]] == ["coverage_chart", "band_chart"]
    with side_pool(2) as pool:
        charts = html_report.start_charts(pool, places, plan.curve, lang="es", thresholds=th)
        aside = {a: get() for a, get in charts.items()}
    assert list(aside) == [None, *ugels]
    for area, got in aside.items():
        assert [c["src"] for c in got] == [src for _, src in here[area]]
        assert all(c["src"].startswith("data:image/png;base64,") for c in got)
    # the report drawn with the side charts is the report that draws its own
    kw = dict(places=places, coverage=plan.curve, lang="es", thresholds=th)
    assert html_report.render_report(**kw, charts=aside[None]) == html_report.render_report(**kw)

