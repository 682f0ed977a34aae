"""The plain-number fast path of ``siting.numformat.parse_numbers`` (issue #19) reads exactly
what the former per-cell rule read.

``_former_parse_numbers`` below is a verbatim copy of ``parse_numbers`` before #19 (every
cell mapped through ``str(v).strip()`` and tested against every form): the independent
reference.  Compared on

* every column of the real tables the data stage parses (``data/raw``: INEI centros
  poblados, MINAM district population, RENIEC age x sex, the district indicators, the
  MINEDU school premises), with each ``kind`` and separator, and
* INVENTED values (labelled so; not real data) that reach the branches real data does not:
  white space of every kind, signs alone, Unicode digits, ``1.234``-like values next to plain
  ones, thousands marks, ``nan``/``inf``/``1e5``, bytes, mixed objects and missing values.

Equality is exact: the same floats bit for bit (NaN where NaN) and the same
:class:`~siting.numformat.NumberFormat`, or the same :class:`~siting.errors.DataError` text.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import siting.numformat as nf
from siting.errors import DataError
from siting.io import read_table
from siting.numformat import _COMMA, _FORMS, _POINT, NUMBER_KINDS, NumberFormat, _decide, parse_numbers

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


def _former_parse_numbers(values: pd.Series, *, kind: str = "number", sep: str | None = None,
                          column: str | None = None, source: str | None = None) -> tuple[pd.Series, NumberFormat]:
    """``parse_numbers`` as it was before #19 (verbatim): the reference."""
    if kind not in NUMBER_KINDS:
        raise ValueError(f"kind must be one of {NUMBER_KINDS}, got {kind!r}")
    fmt = NumberFormat(column=column, source=source)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float), fmt
    raw = pd.Series(values, dtype=object).where(pd.notna(values), None)
    text = raw.map(lambda v: v if v is None else str(v).strip())
    text = text.str.replace(r"(?<=\d)[ \u00a0\u202f'](?=\d{3}(?!\d))", "", regex=True)  # 1 234 567
    sign = text.str.extract(r"^([+-]?)", expand=False).fillna("")
    body = text.str.replace(r"^[+-]", "", regex=True)
    forms = pd.Series(None, index=raw.index, dtype=object)
    for name, pattern in _FORMS.items():
        hit = forms.isna() & body.str.fullmatch(pattern).fillna(False).astype(bool)
        forms[hit] = name
    ambiguous = forms.isin(("amb_comma", "amb_dot"))
    comma_is, point_is = "thousands", "decimal"
    if ambiguous.any():
        comma_is, point_is, reason, reason_es = _decide(forms, text, kind, sep, column, source)
    out = body.copy()
    drop_comma = forms.isin(("en_full", "en_groups")) | (forms.eq("amb_comma") & (comma_is == "thousands"))
    drop_point = forms.isin(("es_full", "es_groups")) | (forms.eq("amb_dot") & (point_is == "thousands"))
    comma_dec = forms.isin(("es_full", "comma_dec")) | (forms.eq("amb_comma") & (comma_is == "decimal"))
    out[drop_comma] = out[drop_comma].str.replace(",", "", regex=False)
    out[drop_point] = out[drop_point].str.replace(".", "", regex=False)
    out[comma_dec] = out[comma_dec].str.replace(",", ".", regex=False)
    known = forms.notna()
    out[known] = sign[known] + out[known]
    out[~known] = text[~known]
    parsed = pd.to_numeric(out, errors="coerce").astype(float)
    if ambiguous.any():
        i = int(np.flatnonzero(ambiguous.to_numpy())[0])
        fmt = NumberFormat(column=column, source=source, ambiguous=int(ambiguous.sum()), comma=comma_is,
                           point=point_is, reason=reason, reason_es=reason_es, example=str(text.iloc[i]),
                           value=float(parsed.iloc[i]), evidence=int(forms.isin(_POINT + _COMMA).sum()))
    return pd.Series(parsed.to_numpy(), index=values.index, name=values.name), fmt


def _outcome(fn, values: pd.Series, **kw):
    """``(floats as bytes, format fields)`` or the error text, comparable with ``==``."""
    try:
        got, fmt = fn(values, **kw)
    except DataError as exc:
        return "error", str(exc), exc.hint
    f = fmt.__dict__ | {"value": np.float64(fmt.value).tobytes()}  # NaN == NaN by bytes
    return got.to_numpy(dtype=float).tobytes(), list(got.index), got.name, f


def _same(values: pd.Series, **kw) -> bool:
    """Assert both rules give the same outcome; whether the column had ambiguous values (or an error)."""
    former = _outcome(_former_parse_numbers, values, **kw)
    assert _outcome(parse_numbers, values, **kw) == former
    return former[0] == "error" or former[-1]["ambiguous"] > 0


def _real_tables() -> dict[str, pd.DataFrame]:
    tables = {p.name: read_table(p) for p in (
        RAW / "ccpp" / "inei_cpv2017_ccpp_poblacion_cajamarca.csv",
        RAW / "population" / "minam_poblacion_distrital_urbana_rural_2019_2023.csv",
        RAW / "population" / "reniec_poblacion_identificada_dic2022_cajamarca_sexo_edad.csv",
        RAW / "population" / "ubigeo_distrito_aumentado.csv")}
    premises = gpd.read_file(RAW / "education" / "minedu_locales_educativos_cajamarca.gpkg", ignore_geometry=True)
    tables["minedu_locales_educativos_cajamarca.gpkg"] = premises.astype("string")  # as read_point_layer gives
    return tables


@pytest.fixture(scope="module")
def real_tables():
    return _real_tables()


def test_every_real_column_reads_as_before(real_tables):
    n_fast = 0
    for name, df in real_tables.items():
        for col in df.columns:
            ambiguous = _same(df[col], kind="number", sep=df.attrs.get("sep"), column=col, source=name)
            for kind in ("count", "degrees") if ambiguous else ():  # kind only decides ambiguous values
                _same(df[col], kind=kind, sep=df.attrs.get("sep"), column=col, source=name)
            n_fast += nf._plain_text(df[col]) is not None
    assert n_fast >= 10  # the fast path is taken by the real number columns (lon, lat, POB..., Cantidad ...)


def test_real_columns_of_the_data_stage_take_the_fast_path(real_tables):
    ccpp = real_tables["inei_cpv2017_ccpp_poblacion_cajamarca.csv"]
    reniec = real_tables["reniec_poblacion_identificada_dic2022_cajamarca_sexo_edad.csv"]
    for col in [c for c in ccpp.columns if c.upper().startswith(("LAT", "POB", "ALT"))] + ["Cantidad"]:
        values = reniec[col] if col == "Cantidad" else ccpp[col]
        assert nf._plain_text(values) is not None, col


# ------------------------------------------------------------------ INVENTED values
INVENTED = [  # INVENTED cells (not real data), each with a branch of the rule
    [" 12 ", "\t-3.5\n", "+7", ".5", "1.", "", "  ", None, np.nan],  # plain: the fast path
    ["12", "1.234"],  # amb_dot next to an int: decided by the kind / separator
    ["12.5", "1.234"],  # ... and by a decimal point elsewhere
    ["1,5", "1.234"],  # decimal comma elsewhere
    ["12.5", "3,25", "1.234"],  # conflicting evidence: DataError
    ["+", "-", "1 234", "1\u00a0234", "1'234", "\x1c5", "5\x85", "\u0661\u0662", "1e5", "inf", "nan", "NaN"],
    ["١٢٣", "12"],  # Unicode digits (str.strip / \d read them, the fast RE2 class does not)
    [b"12", "3"],  # bytes: str(b"12") is not a number
    [12, "3"], [1.5, "2"], [True, "1"],  # objects that are not text
    [pd.NA, "4", None], [None, None],
    ["0001", "-0", "+0.0", "00.50", "9" * 30, "1." + "9" * 25],
]


@pytest.mark.parametrize("cells", INVENTED, ids=[repr(c)[:40] for c in INVENTED])
@pytest.mark.parametrize("kind", NUMBER_KINDS)
@pytest.mark.parametrize("sep", [None, ";", ","])
def test_invented_cells_read_as_before(cells, kind, sep):
    _same(pd.Series(cells, dtype=object), kind=kind, sep=sep, column="V", source="invented.csv")
    if all(isinstance(c, str) or c is None for c in cells):
        _same(pd.Series(cells, dtype="string"), kind=kind, sep=sep, column="V", source="invented.csv")


def test_fast_path_is_taken_only_when_nothing_is_ambiguous():
    assert nf._plain_text(pd.Series(["12", " -3.5 ", "", None], dtype=object)) is not None
    assert nf._plain_text(pd.Series(["12", "1.234"], dtype=object)) is None  # 1.234 reads two ways
    assert nf._plain_text(pd.Series(["1,5"], dtype=object)) is None
    assert nf._plain_text(pd.Series([b"12"], dtype=object)) is None
    assert nf._plain_text(pd.Series(["\u0661"], dtype=object)) is None


CELL = st.text(alphabet=st.sampled_from(list("0123456789.,+- e") + ["\t", "\n", "\u00a0", "\x1c", "\u0663", "a"]),
               max_size=9)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(cells=st.lists(st.one_of(CELL, st.none()), min_size=1, max_size=8), kind=st.sampled_from(NUMBER_KINDS),
       sep=st.sampled_from([None, ";"]))
def test_random_invented_cells_read_as_before(cells, kind, sep):
    _same(pd.Series(cells, dtype=object), kind=kind, sep=sep, column="V", source="invented.csv")
