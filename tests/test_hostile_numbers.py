"""The one number rule (``siting.numformat.parse_numbers``) and the table reader in every dialect.

* hand-computed cases of the rule, including the ambiguous ``1.234`` / ``1,234`` / ``-7,312``
  decided per column (by the other values, by the kind of column, by the separator);
* a property test (hypothesis, derandomized so CI is not flaky) writing random SYNTHETIC
  tables in several dialects - separator, decimal mark, thousands mark, encoding (UTF-8,
  UTF-8 with BOM, Latin-1, Windows-1252), quoting - and checking that the values read back
  are the values written: codes with leading zeros, accented text (and texts such as "NA"),
  counts with thousands marks, decimals, coordinates with any number of decimals.
"""
from __future__ import annotations

import csv
import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siting.errors import DataError
from siting.io import parse_numbers, read_table, to_number

CASES = [  # values, kind, sep -> floats (hand-computed)
    (["1.234,5", "12"], "number", None, [1234.5, 12.0]),
    (["1,234.5", "12"], "number", None, [1234.5, 12.0]),
    (["1.234.567", "1.234"], "number", None, [1234567.0, 1234.0]),  # groups show the point is thousands
    (["1,234,567", "1,234"], "number", None, [1234567.0, 1234.0]),
    (["12,5", "1.234"], "number", None, [12.5, 1234.0]),  # a decimal comma elsewhere: point = thousands
    (["12.5", "1,234"], "number", None, [12.5, 1234.0]),  # a decimal point elsewhere: comma = thousands
    (["0.512", "1.234"], "number", None, [0.512, 1.234]),
    (["18.603", "523"], "count", None, [18603.0, 523.0]),  # counts are whole: thousands point
    (["1,234"], "count", None, [1234.0]),
    (["-7,312", "-78,547"], "degrees", None, [-7.312, -78.547]),  # degrees never reach thousands
    (["-7.312"], "degrees", ";", [-7.312]),
    (["1.234"], "number", ";", [1234.0]),  # Spanish spreadsheet convention
    (["1,234"], "number", ";", [1.234]),
    (["1,234"], "number", ",", [1234.0]),
    (["1 234 567", "+5", "-0,5", "1e3", "inf"], "number", None, [1234567.0, 5.0, -0.5, 1000.0, math.inf]),
    (["", "abc", "1.2.3", None], "number", None, [math.nan] * 4),
]


@pytest.mark.parametrize("values, kind, sep, expected", CASES, ids=[str(c[0]) for c in CASES])
def test_number_rule_by_hand(values, kind, sep, expected):
    got = to_number(pd.Series(values, dtype=object), kind=kind, sep=sep).tolist()
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert (math.isnan(g) and math.isnan(e)) or g == e


def test_ambiguous_values_are_reported_with_their_reading():
    values, fmt = parse_numbers(pd.Series(["18.603", "523", "1.558"]), kind="count", column="POB", source="x.csv")
    assert values.tolist() == [18603.0, 523.0, 1558.0]
    assert fmt.ambiguous == 2 and fmt.point == "thousands" and fmt.example == "18.603"
    en, es = fmt.note
    assert "x.csv, column POB: 2 value(s) such as '18.603'" in en and "= 18603" in en
    assert "columna POB" in es and "separador de miles" in es


def test_unambiguous_column_has_no_note():
    assert parse_numbers(pd.Series(["1,5", "2"]))[1].note is None


def test_conflicting_evidence_with_ambiguous_values_is_an_error():
    with pytest.raises(DataError, match="column 'V' mixes number formats"):
        parse_numbers(pd.Series(["12.5", "3,25", "1.234"]), column="V", source="f.csv")
    # without an ambiguous value each is read by its own form (a file that mixes exporters)
    assert to_number(pd.Series(["1,234,567.89", "1.234.567,89", "12.5", "3,25"])).tolist() == [
        1234567.89, 1234567.89, 12.5, 3.25]


def test_numeric_and_boolean_dtypes():
    assert to_number(pd.Series([1, 2])).tolist() == [1.0, 2.0]
    assert to_number(pd.Series([True, False], dtype=object)).isna().all()


# --------------------------------------------------------------------------- dialects (property)

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZÁÉÍÓÚÑÜáéíóúñ "
text = st.text(alphabet=LETTERS, min_size=1, max_size=10).map(str.strip).filter(bool)
dialects = st.fixed_dictionaries({
    "sep": st.sampled_from([",", ";", "\t", "|"]),
    "decimal": st.sampled_from([".", ","]),
    "thousands": st.sampled_from(["", "other", " "]),
    "encoding": st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252"]),
    "quoting": st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    "value_decimals": st.sampled_from([1, 2, 4, 5]),  # 3 decimals alone read two ways: see the rule
    "coord_decimals": st.integers(1, 7),
})
rows = st.lists(st.tuples(st.integers(0, 999_999), text, st.integers(0, 20_000_000),
                          st.floats(-1e7, 1e7, allow_nan=False), st.floats(-18.4, -0.05), st.floats(-81.3, -68.7)),
                min_size=1, max_size=12)


def _write_number(value: float, decimals: int, decimal: str, thousands: str) -> str:
    s = f"{value:,.{decimals}f}" if decimals else f"{int(value):,}"
    if thousands == "":
        s = s.replace(",", "")
    mark = {"": "", " ": " ", "other": "," if decimal == "." else "."}[thousands]
    return s.replace(",", "\0").replace(".", decimal).replace("\0", mark)


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=rows, d=dialects)
def test_values_read_back_are_the_values_written(tmp_path_factory, rows, d):
    vd, cd = d["value_decimals"], d["coord_decimals"]
    table = pd.DataFrame({
        "UBIGEO": [f"{r[0]:06d}" for r in rows],
        "NOMBRE DEL AÑO": [r[1] for r in rows],
        "POBLACIÓN": [_write_number(r[2], 0, d["decimal"], d["thousands"]) for r in rows],
        "VALOR": [_write_number(r[3], vd, d["decimal"], d["thousands"]) for r in rows],
        "LATITUD": [_write_number(r[4], cd, d["decimal"], "") for r in rows],
        "LONGITUD": [_write_number(r[5], cd, d["decimal"], "") for r in rows],
    })
    path = tmp_path_factory.mktemp("dialect") / "fixture_dialect.csv"
    path.write_bytes(table.to_csv(sep=d["sep"], index=False, quoting=d["quoting"]).encode(d["encoding"]))
    back = read_table(path)
    assert list(back.columns) == list(table.columns)
    assert back.attrs["sep"] == d["sep"]
    assert back["UBIGEO"].tolist() == table["UBIGEO"].tolist()  # leading zeros
    assert back["NOMBRE DEL AÑO"].tolist() == table["NOMBRE DEL AÑO"].tolist()  # accents, "NA" kept as text
    sep = back.attrs["sep"]
    counts = to_number(back["POBLACIÓN"], kind="count", sep=sep)
    assert counts.tolist() == [float(r[2]) for r in rows]
    values = to_number(back["VALOR"], kind="number", sep=sep)
    assert values.tolist() == [float(f"{r[3]:.{vd}f}") for r in rows]
    for col, i in (("LATITUD", 4), ("LONGITUD", 5)):
        assert to_number(back[col], kind="degrees", sep=sep).tolist() == [float(f"{r[i]:.{cd}f}") for r in rows]
