"""The one number rule of the project: Peruvian and English number formats, decided per column.

Every numeric column of every input (coordinates, population, enrolment, indicators) is
parsed by :func:`parse_numbers` / :func:`to_number`, so that ``-7,312`` (a latitude with a
decimal comma), ``18.603`` (a census count with a thousands point) and ``1.234,5`` are read
as the file meant them.  Values that read two ways are decided from the whole column and
the decision is returned (:class:`NumberFormat`) for the quality report.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import DataError

_FORMS = {  # unsigned number bodies, tested in this order
    "int": r"\d+",
    "en_full": r"\d{1,3}(?:,\d{3})+\.\d*",  # 1,234.5
    "es_full": r"\d{1,3}(?:\.\d{3})+,\d*",  # 1.234,5
    "en_groups": r"\d{1,3}(?:,\d{3}){2,}",  # 1,234,567
    "es_groups": r"\d{1,3}(?:\.\d{3}){2,}",  # 1.234.567
    "amb_comma": r"[1-9]\d{0,2},\d{3}",  # 1,234 or -7,312: thousands or decimal comma?
    "amb_dot": r"[1-9]\d{0,2}\.\d{3}",  # 1.234 or 18.603: thousands or decimal point?
    "comma_dec": r"\d*,\d+",  # 12,5  0,512  1234,567
    "dot_dec": r"\d*\.\d+|\d+\.",  # 12.5  0.512  1234.567
}
_POINT = ("en_full", "en_groups", "dot_dec")  # forms that show a decimal point (comma = thousands)
_COMMA = ("es_full", "es_groups", "comma_dec")  # forms that show a decimal comma (point = thousands)
NUMBER_KINDS = ("number", "count", "degrees")
_WS = r"[ \t\n\r\f\v]*"  # ASCII white space (str.strip removes it)
# the common case (#19): ASCII digits with at most one decimal point, or blank; read one way
_PLAIN_RE = rf"^{_WS}[+-]?(?:[0-9]+|[0-9]*\.[0-9]+|[0-9]+\.)?{_WS}$"
_AMB_DOT_RE = rf"^{_WS}[+-]?[1-9][0-9]{{0,2}}\.[0-9]{{3}}{_WS}$"  # the "amb_dot" form of _FORMS


@dataclass(frozen=True)
class NumberFormat:
    """How the ambiguous values of one column were read, and why (for the quality report).

    ``comma`` / ``point`` are ``"decimal"`` or ``"thousands"``: the meaning given to the
    mark in values such as ``1,234`` / ``1.234``, which read both ways.  ``ambiguous`` is
    how many values were of that kind; ``example`` one of them and ``value`` its reading;
    ``evidence`` how many other values of the column showed the decimal mark (0 when the
    reading came from the kind of column or the file's separator).
    """

    column: str | None = None
    source: str | None = None
    ambiguous: int = 0
    comma: str = "thousands"
    point: str = "decimal"
    reason: str = ""
    reason_es: str = ""
    example: str = ""
    value: float = float("nan")
    evidence: int = 0

    @property
    def note(self) -> tuple[str, str] | None:
        """``(english, spanish)`` caveat for :meth:`QualityReport.note`.

        ``None`` when nothing was ambiguous, or when the column's own values settled it
        beyond doubt (more values showing the decimal mark than ambiguous ones: one
        ``-78.918`` among 6,000 ``-78.5473115610915`` is no caveat worth repeating in every output).
        """
        if not self.ambiguous or self.evidence > self.ambiguous:
            return None
        name = Path(self.source).name if self.source else "table"
        mark = "',' as a " if "," in self.example else "'.' as a "
        meaning = self.comma if "," in self.example else self.point
        es_mark = "la coma como separador " if "," in self.example else "el punto como separador "
        es_meaning = {"decimal": "decimal", "thousands": "de miles"}[meaning]
        shown = f"{self.value:.10g}"
        en = (f"{name}, column {self.column}: {self.ambiguous} value(s) such as '{self.example}' read two ways; "
              f"read with {mark}{meaning} mark (= {shown}) because {self.reason}.")
        es = (f"{name}, columna {self.column}: {self.ambiguous} valor(es) como '{self.example}' admiten dos "
              f"lecturas; se leyeron con {es_mark}{es_meaning} (= {shown.replace('.', ',')}) porque {self.reason_es}.")
        return en, es


def _decide(forms: pd.Series, raw: pd.Series, kind: str, sep: str | None, column: str | None,
            source: str | None) -> tuple[str, str, str, str]:
    """(comma meaning, point meaning, reason, reason_es) for the ambiguous values of a column."""
    point = forms.isin(_POINT)
    comma = forms.isin(_COMMA)
    if point.any() and comma.any():
        amb = raw[forms.isin(("amb_comma", "amb_dot"))].iloc[0]
        raise DataError(f"column {column!r} mixes number formats: {raw[point].iloc[0]!r} has a decimal point and "
                        f"{raw[comma].iloc[0]!r} a decimal comma, so {amb!r} cannot be read", source=source,
                        hint="write every number of the column the same way, e.g. 1234.5 (or 1234,5) without "
                             "thousands marks")
    if point.any():
        ex = raw[point].iloc[0]
        return ("thousands", "decimal", f"other values of the column such as '{ex}' have a decimal point",
                f"otros valores de la columna, como '{ex}', usan punto decimal")
    if comma.any():
        ex = raw[comma].iloc[0]
        return ("decimal", "thousands", f"other values of the column such as '{ex}' have a decimal comma",
                f"otros valores de la columna, como '{ex}', usan coma decimal")
    if kind == "count":
        return ("thousands", "thousands", "the column holds whole counts",
                "la columna contiene cantidades enteras")
    if kind == "degrees":
        return ("decimal", "decimal", "coordinates in degrees are never in the thousands",
                "las coordenadas en grados nunca llegan a miles")
    if sep == ";":
        return ("decimal", "thousands", "the file is separated by ';', as spreadsheets in Spanish write 1.234,5",
                "el archivo está separado por ';', como escriben 1.234,5 las hojas de cálculo en español")
    return ("thousands", "decimal", "the file is separated by ',' (1,234.5 convention)",
            "el archivo está separado por ',' (convención 1,234.5)")


def _plain_text(values: pd.Series) -> pd.Series | None:
    """The stripped text of a column of plain numbers, or ``None`` when it needs the full rule.

    Plain: every value is missing, blank or a string of ASCII digits with an optional sign
    and at most one ``.`` (``-78.54731``, ``3281``, ``+5``, ``.5``, ``1.``), with ASCII white
    space around, and none is of the ambiguous form ``1.234`` (one to three digits, a point,
    exactly three digits).  Such values take the ``int`` / ``dot_dec`` forms of
    :func:`parse_numbers` (or none, when blank), whose reading is the stripped text itself,
    so the text is all :func:`pandas.to_numeric` needs.  Tested on the whole column at once
    with :mod:`pyarrow.compute` (RE2; ``[0-9]`` is ASCII, unlike ``\\d`` of the full rule).
    """
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return None  # numbers, bytes or mixed objects: str(value) of the full rule
    try:
        arr = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    plain = pc.match_substring_regex(arr, _PLAIN_RE)
    if not pc.all(plain.fill_null(True)).as_py() or pc.any(pc.match_substring_regex(arr, _AMB_DOT_RE)).as_py():
        return None
    text = pc.utf8_trim(arr, characters=" \t\n\r\f\v").to_numpy(zero_copy_only=False)
    return pd.Series(text, index=values.index, dtype=object)


def parse_numbers(values: pd.Series, *, kind: str = "number", sep: str | None = None, column: str | None = None,
                  source: str | None = None) -> tuple[pd.Series, NumberFormat]:
    """Parse a column of numbers written the Peruvian or the English way; one rule for every column.

    Each value is read by its own form when it has one: ``1.234,5`` / ``1.234.567`` /
    ``12,5`` (decimal comma, point = thousands), ``1,234.5`` / ``1,234,567`` / ``12.5``
    (decimal point, comma = thousands), ``-7312``; ``1e5``, ``inf`` and ``nan`` as
    :func:`pandas.to_numeric` reads them; anything else is NaN.  Values such as ``1.234``,
    ``1,234``, ``18.603`` or ``-7,312`` (one mark followed by exactly three digits) read two
    ways and are decided **for the whole column**, in this order:

    1. the other values of the column: a decimal point elsewhere makes the comma a
       thousands mark and the point decimal; a decimal comma elsewhere the reverse; both
       at once is a :class:`DataError` naming the column;
    2. ``kind``: ``"count"`` (people, students, metres of altitude: whole numbers) reads both
       marks as thousands (``18.603`` -> 18603); ``"degrees"`` reads both as decimal
       (``-7,312`` -> -7.312, since -7312 degrees does not exist);
    3. the file's separator ``sep``: ``";"`` (spreadsheets in Spanish) means decimal comma and
       thousands point, anything else the English convention.

    Returns the floats and a :class:`NumberFormat` saying how many values were ambiguous and
    why they were read as they were (its ``note`` goes to the quality report).
    """
    if kind not in NUMBER_KINDS:
        raise ValueError(f"kind must be one of {NUMBER_KINDS}, got {kind!r}")
    fmt = NumberFormat(column=column, source=source)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float), fmt
    plain = _plain_text(values)
    if plain is not None:  # the common case: nothing to decide (#19)
        parsed = pd.to_numeric(plain, errors="coerce").astype(float)
        return pd.Series(parsed.to_numpy(), index=values.index, name=values.name), fmt
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


def to_number(values: pd.Series, *, kind: str = "number", sep: str | None = None, column: str | None = None,
              source: str | None = None) -> pd.Series:
    """The floats of :func:`parse_numbers` (NaN where a value is not a number)."""
    return parse_numbers(values, kind=kind, sep=sep, column=column, source=source)[0]
