"""Values people read: codes in table cells turned into words of the run language.

The stages write machine values (``assigned``, ``population_below_min; already_served``,
``unserved_target (0.33), poverty (0.20)``, ``<=30``, ``school_premises:133142``); the CSVs
keep them.  Workbooks, reports and popups show them through :func:`translate_values`
(labels from :mod:`siting.report.labels`, reason texts from
:data:`siting.suitability.candidates.REASONS`).  A value that is not a known code is
shown as it is, never dropped.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

import pandas as pd

from .labels import has_label, t

_BAND_LE = re.compile(r"<=\s*(\d+(?:\.\d+)?)")
_BAND_GT = re.compile(r">\s*(\d+(?:\.\d+)?)")
_BAND_RANGE = re.compile(r"(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)")
_CRITERION = re.compile(r"([a-z][a-z0-9_]*) \(([-+0-9.eE]+)\)")


def band_text(value: object, lang: str = "es") -> object:
    """``"<=30"`` -> ``"≤ 30 min"``, ``"30-60"`` -> ``"30–60 min"``, ``">120"`` -> ``"> 120 min"``,
    ``"sin acceso"`` -> "Sin acceso" / "No access", for any thresholds."""
    if not isinstance(value, str):
        return value
    key = f"band.{value}"
    if has_label(key):
        return t(key, lang)
    if m := _BAND_LE.fullmatch(value):
        return f"≤ {m[1]} min"
    if m := _BAND_GT.fullmatch(value):
        return f"> {m[1]} min"
    if m := _BAND_RANGE.fullmatch(value):
        return f"{m[1]}–{m[2]} min"
    return value


def _coded(prefix: str) -> Callable[[object, str], object]:
    def translate(value: object, lang: str = "es") -> object:
        if isinstance(value, str) and has_label(f"{prefix}.{value}"):
            return t(f"{prefix}.{value}", lang)
        return value
    return translate


status_text = _coded("status")
kind_text = _coded("kind")
area_text = _coded("area")
unit_text = _coded("unit")
group_text = _coded("group")  # population groups of the plan measures (#18)
measure_text = _coded("measure")


def criterion_text(value: object, lang: str = "es") -> object:
    """A criterion key (``unserved_target``) as its label."""
    return t(value, lang) if isinstance(value, str) and has_label(value) else value


def top_criteria_text(value: object, lang: str = "es") -> object:
    """``"unserved_target (0.33), poverty (0.20)"`` -> ``"Población objetivo no atendida al alcance (0.33),
    Pobreza total del distrito (%) (0.20)"``."""
    if not isinstance(value, str):
        return value
    return _CRITERION.sub(lambda m: f"{criterion_text(m[1], lang)} ({m[2]})", value)


def reasons_text(value: object, lang: str = "es") -> object:
    """Exclusion reason codes joined by ``"; "`` as words (``siting.suitability.candidates.REASONS``)."""
    from ..suitability.candidates import REASONS
    if not isinstance(value, str):
        return value
    i = 0 if lang == "es" else 1
    return "; ".join(REASONS[c][i] if c in REASONS else c for c in value.split("; "))


_DETAIL_ES = [
    (re.compile(r"population (\S+) < (\S+)"), r"población \1 < \2"),
    (re.compile(r"(\S+) min to a CETPRO/extension \(<= (\S+)\)"), r"\1 min a un CETPRO o centro de extensión (≤ \2)"),
    (re.compile(r"no school premises / Tambo within (\S+) m"), r"sin local educativo ni Tambo a menos de \1 m"),
    (re.compile(r"area '(.*)' is not rural"), r"área «\1», no rural"),
    (re.compile(r"no coordinates"), "sin coordenadas"),
    (re.compile(r"population missing"), "sin población"),
]


def reason_detail_text(value: object, lang: str = "es") -> object:
    """The English detail of the exclusion reasons in Spanish (unknown parts stay as they are)."""
    if not isinstance(value, str) or lang != "es":
        return value
    parts = []
    for part in value.split("; "):
        for pattern, repl in _DETAIL_ES:
            if pattern.fullmatch(part):
                part = pattern.sub(repl, part)
                break
        parts.append(part)
    return "; ".join(parts)


def premises_text(value: object, lang: str = "es") -> object:
    """``"school_premises:133142; tambo:T01"`` -> ``"local educativo 133142; Tambo T01"``."""
    if not isinstance(value, str):
        return value
    out = []
    for part in value.split("; "):
        kind, sep, code = part.partition(":")
        out.append(f"{kind_text(kind, lang)} {code}" if sep and has_label(f"kind.{kind}") else part)
    return "; ".join(out)


def boolean_text(value: object, lang: str = "es") -> object:
    """``True`` -> "Sí" / "Yes", ``False`` -> "No"; anything else as it is."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return t("ui.yes" if value else "ui.no", lang)
    return value


#: column code (or pattern) -> translator of its values
_BY_COLUMN: list[tuple[re.Pattern[str], Callable[[object, str], object]]] = [
    (re.compile(r"band(?:_\w+)?"), band_text),
    (re.compile(r"(?:parent_)?status"), status_text),
    (re.compile(r"kind|nearest_set_\w+"), kind_text),
    (re.compile(r"area"), area_text),
    (re.compile(r"unit|ugel|province|district|department"), unit_text),  # the "total" row
    (re.compile(r"criterion|feature"), criterion_text),
    (re.compile(r"top_criteria"), top_criteria_text),
    (re.compile(r"reason"), reasons_text),
    (re.compile(r"reason_detail"), reason_detail_text),
    (re.compile(r"host_premises_list"), premises_text),
    (re.compile(r"group"), group_text),
    (re.compile(r"measure"), measure_text),
]


def translator(column: str) -> Callable[[object, str], object] | None:
    """The value translator of a column code, or None (values shown as they are)."""
    return _translator(str(column))


@lru_cache(maxsize=4096)
def _translator(column: str) -> Callable[[object, str], object] | None:
    """:func:`translator`, remembered per code (asked for every cell of a report's tables, #19)."""
    for pattern, fn in _BY_COLUMN:
        if pattern.fullmatch(column):
            return fn
    return None


def column_values(series: pd.Series) -> Iterable[object]:
    """The values of ``series`` as a row loop gives them (``itertuples``), except that a text
    column (``str`` / ``string`` dtype) gives ``None`` for its missing values, read in one call
    instead of one Arrow scalar at a time (the cells of the HTML tables and of the map's popups
    show ``None`` and NaN/NA alike: "–")."""
    if isinstance(series.dtype, pd.StringDtype):
        return series.to_numpy(dtype=object, na_value=None)
    return series


def translate_values(df: pd.DataFrame, lang: str = "es", *, booleans: bool = True) -> pd.DataFrame:
    """A copy of ``df`` whose coded text columns (and booleans, with ``booleans``) are words in ``lang``.

    Column names are not changed (see :func:`siting.report.labels.headers`).
    """
    out = df.copy()
    for col in df.columns:
        if col == "geometry":
            continue
        s = df[col]
        fn = translator(str(col))
        if fn is not None and not pd.api.types.is_numeric_dtype(s):
            out[col] = pd.Series([fn(v, lang) for v in s.astype(object)], index=s.index, dtype=object)
        elif booleans and pd.api.types.is_bool_dtype(s):
            out[col] = pd.Series([boolean_text(bool(v), lang) for v in s], index=s.index, dtype=object)
    return out
