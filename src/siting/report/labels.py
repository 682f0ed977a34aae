"""The ONE es/en translation table for every user-facing label and column header.

Stages name their columns in English ``snake_case``; the report layer applies the
headers below at export time.  ``t(key, lang)`` returns one label, ``headers(df, lang)``
renames a table's columns.  A missing key raises :class:`KeyError` naming the key, so a
test can walk every column the exports use.  The table itself is
:data:`siting.report.label_table.TABLE` (add a label there).

Age-group columns are generated from the scenario (``pop_15_29``, ``women_15_64``, ...):
they are translated by pattern (``pop_<a>_<b>`` -> "Población <a>-<b> años").
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

import pandas as pd

from ..i18n import LANGUAGES, check_language
from .label_table import TABLE as _TABLE

LANGS = LANGUAGES

# age-group columns: pop_15_29, women_15_29, men_15_29 (any <a>_<b>)
_AGE_PATTERN = re.compile(r"^(pop|women|men)_(\d+)_(\d+)$")
_AGE_WORDS = {"pop": ("Población", "Population"), "women": ("Mujeres", "Women"), "men": ("Hombres", "Men")}

BANDS = ("<=30", "30-60", "60-120", ">120", "sin acceso")  # the bands of the default thresholds 30, 60, 120
BAND_COLOURS = {"<=30": "#1a9641", "30-60": "#a6d96a", "60-120": "#fdae61", ">120": "#d7191c",
                "sin acceso": "#5e3c99"}
NO_ACCESS_COLOUR = BAND_COLOURS["sin acceso"]


def band_colours(thresholds: Sequence[float] = (30, 60, 120)) -> dict[str, str]:
    """Colour of every band of ``thresholds``, in band order (``"sin acceso"`` last).

    Three thresholds (four time bands) use the maps' palette green -> red of
    :data:`BAND_COLOURS` by position; any other number samples matplotlib's ``RdYlGn_r``
    at ``i / n_thresholds``.  Every map, chart and legend of a run takes its bands from here.
    """
    from ..access.bands import NO_ACCESS, band_labels
    bands = band_labels(thresholds)[:-1]
    if len(bands) == 4:
        colours = [BAND_COLOURS[b] for b in BANDS[:-1]]
    else:
        import matplotlib
        from matplotlib.colors import to_hex
        cmap = matplotlib.colormaps["RdYlGn_r"]
        colours = [to_hex(cmap(i / max(1, len(bands) - 1))) for i in range(len(bands))]
    return {**dict(zip(bands, colours)), NO_ACCESS: NO_ACCESS_COLOUR}


def _check_lang(lang: str) -> int:
    return check_language(lang)


def t(key: str, lang: str = "es") -> str:
    """The label for ``key`` in ``lang`` ("es" or "en").  Unknown key -> KeyError."""
    i = _check_lang(lang)
    if key in _TABLE:
        return _TABLE[key][i]
    label = _derived(key, i)
    if label is not None:
        return label
    raise KeyError(f"no label for {key!r}: add it to siting/report/label_table.py")


# ---------------------------------------------------------------- generated column names
# Stages build column names from parts (measure, threshold, band, facility set, criterion);
# their labels are composed from the same parts so that every column has one.

_MEASURES = {"population": ("Población", "Population"), "women": ("Mujeres", "Women"), "men": ("Hombres", "Men"),
             "target": ("Población objetivo", "Target population"), "places": ("Centros poblados", "Places")}
_SETS = {"cetpro": ("CETPRO", "CETPRO"), "extension": ("centro de extensión", "extension centre"),
         "any": ("cualquier centro", "any centre"), "nearest": ("centro más cercano", "nearest centre")}
_BAND_SLUGS = {"no_access": "sin acceso"}


def _measure(text: str, i: int) -> str | None:
    if text in _MEASURES:
        return _MEASURES[text][i]
    m = _AGE_PATTERN.match(text)
    if m:
        return f"{_AGE_WORDS[m.group(1)][i]} {m.group(2)}-{m.group(3)} {('años', 'years')[i]}"
    return None


def _band_from_slug(slug: str, i: int) -> str | None:
    if slug in _BAND_SLUGS:
        return _TABLE[f"band.{_BAND_SLUGS[slug]}"][i]
    m = re.fullmatch(r"(\d+(?:_\d+)?)_(\d+(?:_\d+)?)", slug)
    if m:
        return f"{m.group(1).replace('_', '.')}–{m.group(2).replace('_', '.')} min"
    m = re.fullmatch(r"over_(\d+(?:_\d+)?)", slug)
    if m:
        return f"> {m.group(1).replace('_', '.')} min"
    return None


_NUM = r"(\d+(?:[._]\d+)?)"


def _threshold_label(key: str, i: int) -> str | None:
    """Labels that name a threshold of the run: band values (``band.<=20``, ``band.20-45``,
    ``band.>90``), report columns ``share_within_T`` / ``beyond_T`` and cards ``fig.beyond_T``."""
    num = r"(\d+(?:\.\d+)?)"
    m = re.fullmatch(rf"band\.(<=|>)?{num}(?:-{num})?", key)
    if m and (m[1] is None) == (m[3] is not None):
        return {"<=": f"≤ {m[2]} min", ">": f"> {m[2]} min"}[m[1]] if m[1] else f"{m[2]}–{m[3]} min"
    m = re.fullmatch(rf"share_within_{_NUM}", key)
    if m:
        t = m[1].replace("_", ".")
        return (f"% a {t} min o menos", f"% within {t} min")[i]
    m = re.fullmatch(rf"(?:fig\.)?beyond_{_NUM}", key)
    if m:
        t = m[1].replace("_", ".")
        return (f"Población a más de {t} min", f"Population beyond {t} min")[i]
    return None


@lru_cache(maxsize=16384)
def _derived(key: str, i: int) -> str | None:
    """Label of a generated column name, or None (remembered: the rules and the table are
    fixed at import, and reports ask for the same keys thousands of times, #19)."""
    es = i == 0
    if _AGE_PATTERN.match(key):
        return _measure(key, i)
    by_threshold = _threshold_label(key, i)
    if by_threshold is not None:
        return by_threshold
    rules: list[tuple[str, Callable[..., str | None]]] = [
        (r"share_(.+)_within_(before|after)", lambda m, w: f"% {w(m[1])} " + (
            ("dentro del umbral " + {"before": "antes", "after": "después"}[m[2]]) if es
            else f"within threshold {m[2]}")),
        (r"(.+)_within_(before|after)", lambda m, w: f"{w(m[1])} " + (
            ("dentro del umbral " + {"before": "antes", "after": "después"}[m[2]]) if es
            else f"within threshold {m[2]}")),
        (r"(.+)_newly_within", lambda m, w: f"{w(m[1])} " + (
            "nueva dentro del umbral" if es else "newly within threshold")),
        (r"(.+)_within_change_rel", lambda m, w: f"{w(m[1])}: " + ("cambio relativo dentro del umbral" if es
                                                                    else "relative change within threshold")),
        (r"share_(.+)_within_(\d+)", lambda m, w: f"% {w(m[1])} " + (
            f"a {m[2]} min o menos" if es else f"within {m[2]} min")),
        (r"target_share_within_(\d+)", lambda m, w: f"% {w('target')} " + (
            f"a {m[1]} min o menos" if es else f"within {m[1]} min")),
        (r"(.+)_within_(\d+)", lambda m, w: f"{w(m[1])} " + (f"a {m[2]} min o menos" if es else f"within {m[2]} min")),
        (r"(.+)_beyond_(\d+)_(dry|rainy|added)", lambda m, w: f"{w(m[1])} " + (
            f"a más de {m[2]} min ({_TABLE['season.' + m[3]][0]})" if es
            else f"beyond {m[2]} min ({_TABLE['season.' + m[3]][1]})")),
        (r"(.+)_beyond_(\d+)", lambda m, w: f"{w(m[1])} " + (f"a más de {m[2]} min" if es else f"beyond {m[2]} min")),
        (r"(.+)_no_access", lambda m, w: f"{w(m[1])} " + ("sin acceso" if es else "without access")),
        (r"(.+)_in_(.+)", lambda m, w: f"{w(m[1])}: {_band_from_slug(m[2], i)}" if _band_from_slug(m[2], i) else None),
        (r"gap_women_men_(?:(\d+_\d+)_)?beyond_(\d+)", lambda m, w: (
            "Brecha mujeres − hombres a más de " if es else "Women − men gap beyond ") + f"{m[2]} min"
            + (f" ({m[1].replace('_', '-')})" if m[1] else "")),
        (r"(mean|median)_minutes_target", lambda m, w: ({"mean": "Minutos promedio", "median": "Minutos mediana"}[m[1]]
                                                       if es else f"{m[1].title()} minutes") + f" ({w('target')})"),
        (r"median_minutes", lambda m, w: "Minutos mediana (ponderada)" if es else "Median minutes (weighted)"),
        (r"gini_minutes(_target)?", lambda m, w: _TABLE["gini"][i] + (f" ({w('target')})" if m[1] else "")),
        (r"route_minutes_(\w+)", lambda m, w: ("Ruta: minutos por " if es else "Route: minutes on ")
            + _TABLE[f"road.{m[1]}"][i].lower() if f"road.{m[1]}" in _TABLE else None),
        (r"minutes_walk_(\w+)", lambda m, w: ("Minutos a pie a " if es else "Walking minutes to ") + _SETS[m[1]][i]
            if m[1] in _SETS else None),
        (r"minutes_(\w+)", lambda m, w: ("Minutos a " if es else "Minutes to ") + _SETS[m[1]][i]
            if m[1] in _SETS else None),
        (r"nearest_set_(\w+)", lambda m, w: "Tipo de centro más cercano" if es else "Type of nearest centre"),
        (r"nearest_(\w+)", lambda m, w: (f"{_SETS[m[1]][i]} más cercano" if es else f"Nearest {_SETS[m[1]][i]}")
            if m[1] in _SETS else None),
        (r"band_(\w+)", lambda m, w: (f"Rango de tiempo ({_SETS[m[1]][i]})" if es
                                      else f"Travel-time band ({_SETS[m[1]][i]})") if m[1] in _SETS else None),
        (r"norm_(\w+)", lambda m, w: (f"{_TABLE[m[1]][i]} (normalizado)" if es else f"{_TABLE[m[1]][i]} (normalised)")
            if m[1] in _TABLE else None),
        (r"contrib_(\w+)", lambda m, w: (f"Aporte: {_TABLE[m[1]][i]}" if es else f"Contribution: {_TABLE[m[1]][i]}")
            if m[1] in _TABLE else None),
        (r"flag_(\w+)", lambda m, w: (f"Alerta: {_TABLE['flag.' + m[1]][i]}" if es
                                      else f"Flag: {_TABLE['flag.' + m[1]][i]}") if 'flag.' + m[1] in _TABLE else None),
        (r"n_(\w+)", lambda m, w: (f"N.° de {_TABLE[m[1]][i].lower()}" if es
                                   else f"Number of {_TABLE[m[1]][i].lower()}") if m[1] in _TABLE else None),
    ]
    for pattern, make in rules:
        m = re.fullmatch(pattern, key)
        if m is None:
            continue
        groups = [m.group(0)] + list(m.groups())

        def word(text: str) -> str:
            got = _measure(text, i)
            if got is None:
                raise LookupError(text)
            return got
        try:
            label = make(groups, word)
        except LookupError:
            continue
        if label is not None:
            return label
    return None


def has_label(key: str) -> bool:
    """True when :func:`t` knows ``key``."""
    return key in _TABLE or _derived(key, 0) is not None


def keys() -> list[str]:
    """Every key of the table (age-group patterns excluded)."""
    return list(_TABLE)


def band_label(band: str, lang: str = "es") -> str:
    """Label of a travel-time band value such as ``"30-60"``."""
    return t(f"band.{band}", lang)


def road_label(road_class: str, lang: str = "es") -> str:
    """Label of a road class; unknown classes are shown as they are."""
    key = f"road.{road_class}"
    return t(key, lang) if key in _TABLE else str(road_class)


def headers(df: pd.DataFrame, lang: str = "es", *, strict: bool = True) -> pd.DataFrame:
    """A copy of ``df`` with its columns renamed to labels in ``lang``.

    ``geometry`` keeps its name (GeoDataFrames need it).  With ``strict`` an unlabelled
    column raises KeyError; otherwise it keeps its snake_case name.
    """
    _check_lang(lang)
    mapping = {}
    for col in df.columns:
        if col == "geometry":
            continue
        if strict or has_label(str(col)):
            mapping[col] = t(str(col), lang)
    renamed = df.rename(columns=mapping)
    dup = renamed.columns[renamed.columns.duplicated()]
    if len(dup):
        same = [c for c in df.columns if mapping.get(c, c) == dup[0]]
        raise KeyError(f"columns {same} get the same label {dup[0]!r}: make their labels distinct in label_table.py")
    return renamed

