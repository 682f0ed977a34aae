"""One number convention for every figure a person reads (workbooks, reports, popups, printed tables).

The *kind* of a column is decided from its code (the snake_case name the stages give it,
the same code the CSVs keep), and the kind decides three things at once, so that a card,
a chart, a workbook cell and a popup never show the same figure two ways:

=============  =========  ===============  ============================================
kind           decimals   Excel format     examples
=============  =========  ===============  ============================================
people         0          ``#,##0``        ``population``, ``pop_15_29_beyond_60``
count          0          ``#,##0``        ``places``, ``n_sites``, ``host_premises``
share          3 (0.1 %)  ``0.0%``         ``share_population_within_60`` (a fraction)
percent        1          ``0.0``          ``poverty`` (already in percent points)
minutes        0          ``0``            ``minutes_nearest``, ``teacher_minutes``
score          3          ``0.000``        ``score``, ``contrib_poverty``, ``gini``
rate           1          ``0.0``          ``seats_per_1000_2sfca``
rank           0          ``0``            ``rank``, ``rank_p05``
rank_fraction  1          ``0.0``          ``rank_median`` (medians of ranks: 2.5)
metres         0          ``#,##0``        ``altitude_m``, ``flag_road_distance_m``
area           1          ``#,##0.0``      ``area_km2``
degrees        6          ``0.000000``     ``lon``, ``lat`` (WGS 84)
code           text       ``@``            ``ccpp_id``, ``ubigeo``, ``cod_mod``
number         as is      ``General``      anything else that is numeric
=============  =========  ===============  ============================================

Rounding is *round half away from zero* on the decimal value,
``r(x) = sign(x) * floor(|x| * 10^d + 0.5) / 10^d`` (the way Excel displays a number,
and the way :func:`siting.access.round_minutes` rounds minutes); it is applied for display
only: the CSVs keep full precision.

Text is formatted with Babel (CLDR).  The default number locale of Spanish outputs is
``es_PE`` (Peru: ``12,345.6``: comma for thousands, point for decimals); English uses
``en``.  Pass ``locale="es_ES"`` (or any CLDR locale) to get ``12.345,6``.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np

#: kind -> (decimals or None, Excel number format, Babel pattern or None)
KINDS: dict[str, tuple[int | None, str, str | None]] = {
    "people": (0, "#,##0", "#,##0"),
    "count": (0, "#,##0", "#,##0"),
    "share": (3, "0.0%", "#,##0.0%"),
    "percent": (1, "0.0", "#,##0.0"),
    "minutes": (0, "0", "#,##0"),
    "score": (3, "0.000", "#,##0.000"),
    "rate": (1, "0.0", "#,##0.0"),
    "rank": (0, "0", "#,##0"),
    "rank_fraction": (1, "0.0", "#,##0.0"),
    "metres": (0, "#,##0", "#,##0"),
    "area": (1, "#,##0.0", "#,##0.0"),
    "km": (1, "#,##0.0", "#,##0.0"),  # route lengths
    "degrees": (6, "0.000000", "0.000000"),
    "code": (None, "@", None),
    "measure": (3, "#,##0.000", "#,##0.000"),  # mixed people / minutes / Gini rows (plan measures, #18)
    "number": (None, "General", None),
}

#: Number locale of each output language (``lang`` -> CLDR locale).
LOCALES = {"es": "es_PE", "en": "en"}

_PEOPLE = r"(?:population|women|men|target|(?:pop|women|men)_\d+_\d+)"
# (regular expression matched against the whole code, kind): the first match wins
_RULES: list[tuple[re.Pattern[str], str]] = [(re.compile(p), k) for p, k in [
    # plan measures, priorities and Pareto front (#18)
    (r"before|after|change|objective|objective_at_default|cost|value|default", "measure"),
    (r"factor_p\d+|cost_per_person", "score"),
    (r"point|sites_changed", "count"),
    # near-optimal site sets (#14 item 6)
    (r"set|changed_sites", "count"),
    (r"covered_weight", "people"),
    (r"people|beyond|beyond_before|beyond_after|epsilon|newly_covered|coverage_cost|fairness_gain", "people"),
    (r"ccpp_id|ubigeo|department_code|province_code|facility_id|cod_mod|codlocal|parent_cod_mod|tambo_code"
     r"|road_id|route_code|candidate_id|row_id|premises_id|nearest_(?:facility|cetpro|extension|any)"
     r"|centre_id|period_year", "code"),
    # the registry's monitoring indicators (siting.monitoring): rates of the enrolled are shares
    (r"(?:retention|completion|certification|placement)(?:_first|_last|_change)?|min_retention", "share"),
    (r"selection_frequency|gap_to_optimum", "share"),  # robustness (issue #14 item 6)
    (r"enrolled_per_teacher|enrolment_slope_per_year", "rate"),
    (r"rank_percentile", "percent"),
    (r"rank_in_ugel", "rank"),
    (r"candidates_in_ugel", "count"),
    (r"enrolled_.+|retained|completed|certified|placed_in_work|residents_.+", "people"),
    (r"share|share_.+|.+_share_.+|.+_change_rel|gap_women_men_.+", "share"),  # the gap is a share difference
    (r"poverty", "percent"),
    (r"seats_per_1000_.+", "rate"),
    (r"score|contrib_.+|norm_.+|weight|importance|std|model_prediction|hdi|gini(?:_.+)?|supply_ratio_.+", "score"),
    (r"(?:suitability_)?rank_median", "rank_fraction"),
    (r"rank|rank_p\d+|suitability_rank", "rank"),
    (r"area_km2", "area"),
    (r"lon|lat", "degrees"),
    (r"(?:teacher_)?route_km(?:_.+)?", "km"),
    (r"(?:.+_)?minutes(?:_.+)?|time_to_nearest_facility|min_from|min_to|threshold_min", "minutes"),
    (r"altitude_m|.+_m", "metres"),
    (r"places(?:_.+)?|n_.+|new_places|host_premises|tambo|community_request|read|kept|flagged|dropped"
     r"|flag_road_component_nodes|max_extensions|teachers|enrolment|capacity|band_index|petitions", "count"),
    (rf"{_PEOPLE}(?:_.+)?|new_.+|unserved_.+|covered_target|catchment_demand|marginal_gain|beyond_\d+"
     r"|petition_interested", "people"),
]]


def column_kind(code: str) -> str:
    """The kind of a column from its code (see the module table); ``"number"`` when unknown.

    >>> column_kind("pop_15_29_beyond_60"), column_kind("share_women_within_60"), column_kind("teacher_minutes")
    ('people', 'share', 'minutes')
    """
    return _column_kind(str(code))


@lru_cache(maxsize=4096)
def _column_kind(code: str) -> str:
    """:func:`column_kind` of a text code, remembered (the rules are fixed at import, #19)."""
    for pattern, kind in _RULES:
        if pattern.fullmatch(code):
            return kind
    return "number"


def _kind(kind: str) -> tuple[int | None, str, str | None]:
    if kind not in KINDS:
        raise ValueError(f"unknown number kind {kind!r}; one of {sorted(KINDS)}")
    return KINDS[kind]


def excel_format(kind: str) -> str:
    """The Excel number format of ``kind`` (``"people"`` -> ``"#,##0"``)."""
    return _kind(kind)[1]


def decimals(kind: str) -> int | None:
    """Decimals shown for ``kind`` (None: shown as is)."""
    return _kind(kind)[0]


def round_half_away(values, ndigits: int) -> np.ndarray:
    """Round half away from zero: ``sign(x) * floor(|x| * 10^d + 0.5) / 10^d``.

    Computed with a relative nudge of 1e-12 so that decimal halves stored just below the
    half in binary (``2.675``) round up as a person expects; ``inf`` and NaN pass through.
    """
    x = np.asarray(values, dtype=float)
    scale = 10.0 ** ndigits
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.sign(x) * np.floor(np.abs(x) * scale * (1 + 1e-12) + 0.5) / scale
    out = np.where(out == 0, 0.0, out)  # no "-0"
    return np.where(np.isfinite(x), out, x)


def round_half_away_scalar(value: float, ndigits: int) -> float:
    """:func:`round_half_away` of one finite float with Python floats: the same double
    operations ``sign(x) * floor(|x| * 10^d * (1 + 1e-12) + 0.5) / 10^d`` (so the same bits),
    without the cost of a NumPy call per figure (#19)."""
    scale = 10.0 ** ndigits
    y = abs(value) * scale * (1 + 1e-12) + 0.5
    if not math.isfinite(y) or not math.isfinite(value):  # overflow or inf/NaN: NumPy's rules
        return float(round_half_away(value, ndigits))
    f = float(math.floor(y))
    out = (f if value > 0 else -f if value < 0 else 0.0 * f) / scale
    return 0.0 if out == 0 else out


def display_round(values, kind: str) -> np.ndarray:
    """Values rounded to what ``kind`` shows (unchanged for ``code``/``number``)."""
    d = decimals(kind)
    x = np.asarray(values, dtype=float)
    return x if d is None else round_half_away(x, d)


def number_locale(lang: str = "es", locale: str | None = None) -> str:
    """The CLDR locale used for numbers: ``locale`` if given, else ``es_PE`` / ``en``."""
    if locale:
        return locale
    if lang not in LOCALES:
        raise ValueError(f"language must be one of {tuple(LOCALES)}, got {lang!r}")
    return LOCALES[lang]


def _no_access(lang: str) -> str:
    from .labels import band_label
    return band_label("sin acceso", lang)


def format_value(value, kind: str = "number", *, lang: str = "es", locale: str | None = None,
                 missing: str = "") -> str:
    """One figure as text in the run's convention.

    ``format_value(12345.4, "people")`` -> ``"12,345"``; ``format_value(0.6754, "share")`` ->
    ``"67.5%"``; ``format_value(inf, "minutes")`` -> ``"Sin acceso"``; NaN -> ``missing``.
    """
    _kind(kind)
    loc = number_locale(lang, locale)
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return missing if value is None else str(value)
    v = float(value)
    if math.isnan(v):
        return missing
    if math.isinf(v):
        return _no_access(lang) if kind == "minutes" else ("∞" if v > 0 else "-∞")
    if kind == "code":
        return str(int(v)) if v.is_integer() else str(value)
    return _babel_text(v, math.copysign(1.0, v) < 0, kind, loc)


@lru_cache(maxsize=65536)
def _babel_text(v: float, negative: bool, kind: str, loc: str) -> str:
    """The Babel text of a finite ``v`` of ``kind`` in locale ``loc``, remembered: a report
    formats the same figures many times and Babel parses its pattern on every call (#19).
    ``negative`` (the sign bit) is in the key because ``-0.0 == 0.0`` hash alike."""
    from babel.numbers import format_decimal, format_percent

    d, _, pattern = _kind(kind)
    if pattern is None:  # "number": Babel's default pattern of the locale (up to 3 decimals)
        return format_decimal(v, locale=loc)
    v = round_half_away_scalar(v, d if d is not None else 6)
    if pattern in _PLAIN_PATTERNS and _plain_symbols(loc):
        return _plain_text(v, pattern)
    if kind == "share":
        return format_percent(v, pattern, locale=loc)
    return format_decimal(v, pattern, locale=loc)


#: Babel patterns of :data:`KINDS` -> (decimals shown, thousands grouped, percent)
_PLAIN_PATTERNS: dict[str, tuple[int, bool, bool]] = {
    "#,##0": (0, True, False), "#,##0.0": (1, True, False), "#,##0.000": (3, True, False),
    "0.000000": (6, False, False), "#,##0.0%": (1, True, True)}


@lru_cache(maxsize=16)
def _plain_symbols(loc: str) -> bool:
    """Whether locale ``loc`` writes numbers with "." for decimals, "," for thousands, "-"
    for minus and a trailing "%" (``es_PE``, ``en``): then :func:`_plain_text` gives Babel's text."""
    from babel.numbers import format_percent, get_decimal_symbol, get_group_symbol, get_minus_sign_symbol

    return ((get_decimal_symbol(loc), get_group_symbol(loc), get_minus_sign_symbol(loc)) == (".", ",", "-")
            and format_percent(-0.5, "#,##0.0%", locale=loc) == "-50.0%")


def _plain_text(v: float, pattern: str) -> str:
    """What Babel writes for ``v`` with ``pattern`` in a locale of :func:`_plain_symbols`, without
    parsing the pattern again: the decimal of ``str(v)`` (as Babel reads a float), times 100 for
    a percent, rounded half to even to the shown decimals (Babel's rounding), ``,`` between thousands.
    Babel took most of the time of formatting a report's tables (#19)."""
    from decimal import Decimal

    places, grouped, percent = _PLAIN_PATTERNS[pattern]
    x = Decimal(str(v)) * 100 if percent else Decimal(str(v))
    text = format(x, f"{',' if grouped else ''}.{places}f")
    return text + "%" if percent else text


def format_people(value, *, lang: str = "es", locale: str | None = None) -> str:
    """People: ``12,345`` (no decimals)."""
    return format_value(value, "people", lang=lang, locale=locale)


def format_share(value, *, lang: str = "es", locale: str | None = None) -> str:
    """A fraction as a percentage with one decimal: ``0.6754`` -> ``67.5%``."""
    return format_value(value, "share", lang=lang, locale=locale)


def format_minutes(value, *, lang: str = "es", locale: str | None = None) -> str:
    """Minutes without decimals (``inf`` -> "Sin acceso" / "No access")."""
    return format_value(value, "minutes", lang=lang, locale=locale)


def format_score(value, *, lang: str = "es", locale: str | None = None) -> str:
    """A score with three decimals: ``0.749``."""
    return format_value(value, "score", lang=lang, locale=locale)


def format_column(values: Iterable, code: str, *, lang: str = "es", locale: str | None = None,
                  missing: str = "") -> list[str]:
    """Every value of column ``code`` formatted by its kind (for printed and HTML tables)."""
    kind = column_kind(code)
    return [format_value(v, kind, lang=lang, locale=locale, missing=missing) for v in values]


def format_table(df, *, lang: str = "es", locale: str | None = None, columns: Sequence[str] | None = None):
    """A copy of ``df`` where every numeric column is text in the convention (for display only)."""
    import pandas as pd

    out = df.copy()
    for col in columns if columns is not None else df.columns:
        if col == "geometry" or not pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
            continue
        out[col] = format_column(df[col].tolist(), str(col), lang=lang, locale=locale)
    return out
