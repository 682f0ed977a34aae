"""Observed trips (``data/raw/travel/observed_trips.csv``): reading, road-state rules, matching.

A trip row names its two ends (``origin``, ``origin_district``, ``destination``,
``destination_district``), a time range ``minutes_low .. minutes_high``, the ``mode`` and
its source (``source_title``, ``source_url``, ``quote``).  The observed time is the middle
of the range::

    observed_min = (minutes_low + minutes_high) / 2

**Matching** each end to an INEI centro poblado of the loaded places (:func:`match_trips`),
in this order: a code column (``origin_ccpp_id`` / ``destination_ccpp_id``) when present
and filled; coordinates (``origin_lon``/``origin_lat``...) to the nearest place within
:data:`COORD_TOLERANCE_M`; else the name within the district, accent- and case-insensitive
(:func:`name_key`: punctuation dropped, a leading article ``LA/EL/LOS/LAS`` dropped), trying
the name with its parenthesis flattened (``Santa Cruz (de Succhabamba)`` -> ``SANTA CRUZ DE
SUCCHABAMBA``) before the name without it (``Laguna San Nicolás (caserío)`` -> ``LAGUNA SAN
NICOLAS``).  Several places of the same name in the district: the most populous, and the
count is reported.  An end whose parenthesis marks a site (a junction, a road end, a
border post, a sanctuary, a national park: :data:`SITE_WORDS`) is a site, not a centro
poblado, and is not matched.  Every unmatched end gets a reason; no row is dropped.

**Road state** (:func:`road_state`): roads were paved over the years (Cajamarca-Celendín
4-5 h on gravel in 2006-07, about 2-2.5 h after 2013), so a trip is used for calibration
only when it can describe today's roads: trips dated before :data:`PAVING_YEAR`, rows that
say "before asphalting", and undated rows on a road described as unpaved / gravel / dirt
are ``before_paving``; the undated tourist "Distancias" sheet is an ``upper_bound`` (several
of its figures predate paving); the rest are ``current``.
"""
from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import DataError
from ..io import fold, read_table, to_number, zfill_code
from .trip_texts import trip_text

REQUIRED = ["origin", "origin_district", "destination", "destination_district", "minutes_low", "minutes_high",
            "mode"]
OPTIONAL = ["distance_km", "surface_note", "season_note", "source_title", "source_url", "quote"]
ENDS = ("origin", "destination")
COORD_TOLERANCE_M = 2000.0  # a coordinate end matches the nearest place within this distance
PAVING_YEAR = 2013  # trips dated before this describe roads that were paved later
#: words that, inside an end's parenthesis (or as its first word), mark a site, not a centro poblado
SITE_WORDS = ("junction", "road end", "site", "border", "desvio", "cruce", "santuario", "sanctuary",
              "parque nacional", "national park", "archaeological")
#: first words of an end's name that mark a site
SITE_FIRST_WORDS = ("cruce", "cueva", "ex hacienda")
_ARTICLES = {"LA", "EL", "LOS", "LAS"}
_UNPAVED = re.compile(r"unpaved|gravel|dirt|grava|sin afirmar", re.IGNORECASE)
_BEFORE = re.compile(r"before (asphalting|paving)|antes del asfaltado", re.IGNORECASE)
_UPPER = re.compile(r"tourist info sheet|promper", re.IGNORECASE)
_YEAR = re.compile(r"\b(19[89]\d|20[0-4]\d)\b")


def name_key(text: object) -> str:
    """Accent/case-insensitive key of a name: ``"La Encañada"`` -> ``"ENCANADA"``.

    Accents folded (:func:`siting.io.fold`), every character other than A-Z and 0-9 becomes a
    space, and a leading article (LA, EL, LOS, LAS) is dropped.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    words = re.sub(r"[^A-Z0-9]+", " ", fold(text)).split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def name_variants(name: object) -> list[str]:
    """Keys to try for a name, best first: the parenthesis flattened, then without it."""
    text = "" if name is None else str(name)
    flat = name_key(text.replace("(", " ").replace(")", " "))
    bare = name_key(re.sub(r"\(.*?\)", " ", text))
    return [k for k in dict.fromkeys([flat, bare]) if k]


def is_site(name: object) -> bool:
    """Whether an end's name marks a site (junction, road end, border, sanctuary...), not a place."""
    text = "" if name is None else str(name)
    inner = f" {name_key(' '.join(re.findall(r'[(](.*?)[)]', text))).lower()} "
    first = f"{name_key(text).lower()} "
    return any(f" {w} " in inner for w in SITE_WORDS) or any(first.startswith(f"{w} ") for w in SITE_FIRST_WORDS)


def _txt(row: pd.Series, column: str) -> str:
    """The text of a cell, ``""`` when the column is absent or the cell is empty."""
    v = row.get(column)
    return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def trip_year(row: pd.Series) -> int | None:
    """The trip or article year stated in ``season_note`` (the first four-digit year), else None."""
    found = _YEAR.findall(_txt(row, "season_note"))
    return int(found[0]) if found else None


def road_state(row: pd.Series, lang: str = "es") -> tuple[str, str]:
    """``(state, why)`` of a trip: ``"current"``, ``"before_paving"`` or ``"upper_bound"`` (module doc)."""
    notes = f"{_txt(row, 'season_note')} {_txt(row, 'surface_note')}"
    year = trip_year(row)
    if _BEFORE.search(notes):
        return "before_paving", trip_text("before_asphalting", lang)
    if year is not None and year < PAVING_YEAR:
        return "before_paving", trip_text("dated_before", lang, year=year, paving=PAVING_YEAR)
    if year is None and _UPPER.search(f"{_txt(row, 'mode')} {_txt(row, 'season_note')}"):
        return "upper_bound", trip_text("tourist_sheet", lang)
    if year is None and _UNPAVED.search(_txt(row, "surface_note")):
        return "before_paving", trip_text("undated_unpaved", lang)
    return "current", ""


def is_walking(mode: object) -> bool:
    """Whether a trip's ``mode`` is walking (``walking``, ``a pie``, ``caminata``)."""
    return bool(re.search(r"walk|a pie|caminat", str(mode or ""), re.IGNORECASE))


def read_trips(path: str | Path, *, lang: str = "es") -> pd.DataFrame:
    """Read and validate an observed-trips table (CSV/XLSX).

    Required columns :data:`REQUIRED`; :data:`OPTIONAL` ones are added empty.  Adds
    ``row`` (the file's line number, header = 1), ``observed_min`` (middle of the range),
    ``walking``, ``trip_year``, ``road_state`` and ``road_state_why``.  A missing column, a
    time that is not a positive number or a range whose low end is above its high end is a
    :class:`~siting.errors.DataError` naming the file, row and column.
    """
    path = Path(path)
    df = read_table(path)
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise DataError(f"the trips table lacks column(s) {', '.join(missing)}", source=str(path),
                        hint=f"columns needed: {', '.join(REQUIRED)}")
    df = df.reset_index(drop=True)
    df.insert(0, "row", np.arange(len(df)) + 2)
    for col in OPTIONAL:
        if col not in df.columns:
            df[col] = pd.NA
    for col in ("minutes_low", "minutes_high"):
        num = to_number(df[col], sep=df.attrs.get("sep"), column=col, source=str(path))
        bad = ~(num > 0)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"row {i + 2}, column {col}: {df[col].iloc[i]!r} is not a positive number of minutes",
                            source=str(path))
        df[col] = num.astype(float)
    flipped = df["minutes_low"] > df["minutes_high"]
    if flipped.any():
        i = int(np.flatnonzero(flipped.to_numpy())[0])
        raise DataError(f"row {i + 2}, columns minutes_low/minutes_high: {df['minutes_low'].iloc[i]:g} > "
                        f"{df['minutes_high'].iloc[i]:g}", source=str(path), hint="the low end comes first")
    for end in ENDS:
        if df[end].isna().any():
            i = int(np.flatnonzero(df[end].isna().to_numpy())[0])
            raise DataError(f"row {i + 2}, column {end}: empty", source=str(path))
        if f"{end}_ccpp_id" in df.columns:
            df[f"{end}_ccpp_id"] = zfill_code(df[f"{end}_ccpp_id"], 10)
        for axis in ("lon", "lat"):
            if f"{end}_{axis}" in df.columns:
                df[f"{end}_{axis}"] = to_number(df[f"{end}_{axis}"], sep=df.attrs.get("sep"), column=f"{end}_{axis}",
                                                source=str(path))
    df["observed_min"] = (df["minutes_low"] + df["minutes_high"]) / 2.0
    df["walking"] = df["mode"].map(is_walking)
    df["trip_year"] = pd.array([trip_year(r) for _, r in df.iterrows()], dtype="Int64")
    states = [road_state(r, lang) for _, r in df.iterrows()]
    df["road_state"] = [s for s, _ in states]
    df["road_state_why"] = [w for _, w in states]
    return df


def _by_code(code: object, places: pd.DataFrame, lang: str) -> tuple[int, str] | None:
    if code is None or pd.isna(code) or not str(code).strip():
        return None
    hit = np.flatnonzero(places["ccpp_id"].astype(str).to_numpy() == str(code))
    return (int(hit[0]), trip_text("by_code", lang)) if len(hit) else (-1, trip_text("code_unknown", lang, code=code))


def _by_coords(lon: object, lat: object, places: gpd.GeoDataFrame, crs: str, lang: str) -> tuple[int, str] | None:
    if lon is None or lat is None or pd.isna(lon) or pd.isna(lat):
        return None
    pt = gpd.GeoSeries(gpd.points_from_xy([float(str(lon))], [float(str(lat))]), crs=4326).to_crs(crs).iloc[0]
    d = places.geometry.to_crs(crs).distance(pt).to_numpy()
    i = int(d.argmin())
    if d[i] <= COORD_TOLERANCE_M:
        return i, trip_text("by_coords", lang, m=d[i])
    return -1, trip_text("no_coords", lang, m=COORD_TOLERANCE_M)


def _by_name(name: object, district: object, places: pd.DataFrame, keys: pd.DataFrame, lang: str
             ) -> tuple[int, str, int]:
    """``(row, how or reason, n_candidates)``; row -1 when unmatched."""
    if is_site(name):
        return -1, trip_text("site", lang), 0
    d = name_key(district)
    if not d or str(district).strip().startswith("("):
        why = trip_text("outside_department" if "outside" in str(district).lower() else "no_district", lang)
        return -1, why, 0
    in_district = keys["district"] == d
    if not in_district.any():
        return -1, trip_text("district_not_in_area", lang, district=district), 0
    for k in name_variants(name):
        hit = np.flatnonzero((in_district & (keys["name"] == k)).to_numpy())
        if len(hit):
            pop = pd.to_numeric(places["population"].iloc[hit], errors="coerce").fillna(-1).to_numpy() \
                if "population" in places.columns else np.zeros(len(hit))
            return int(hit[int(np.argmax(pop))]), trip_text("by_name", lang, key=k), len(hit)
    return -1, trip_text("no_place", lang, key=name_key(name), district=district), 0


def match_trips(trips: pd.DataFrame, places: gpd.GeoDataFrame, *, crs: str = "EPSG:32717",
                lang: str = "es") -> pd.DataFrame:
    """Match both ends of every trip to a row of ``places`` (module doc for the rules).

    Returns ``trips`` with, per end ``e`` in (origin, destination): ``e_place`` (row
    position in ``places``, -1 = unmatched), ``e_ccpp_id``, ``e_place_name``, ``e_match``
    (how it matched, or why not) and ``e_candidates``; and ``matched`` (both ends). Every
    input row is kept.  Texts in ``lang`` (Spanish by default).
    """
    keys = pd.DataFrame({"name": places["name"].map(name_key).to_numpy(),
                         "district": places["district"].map(name_key).to_numpy()})
    out = trips.copy()
    for end in ENDS:
        rows, how, cands = [], [], []
        for _, r in trips.iterrows():
            found = _by_code(r.get(f"{end}_ccpp_id"), places, lang) or \
                _by_coords(r.get(f"{end}_lon"), r.get(f"{end}_lat"), places, crs, lang)
            if found is None:
                i, why, n = _by_name(r[end], r[f"{end}_district"], places, keys, lang)
            else:
                (i, why), n = found, int(found[0] >= 0)
            rows.append(i)
            how.append(why)
            cands.append(n)
        idx = np.asarray(rows, dtype=np.int64)
        out[f"{end}_place"] = idx
        ok = idx >= 0
        out[f"{end}_ccpp_id"] = np.where(ok, places["ccpp_id"].astype(str).to_numpy()[np.clip(idx, 0, None)], None) \
            if len(places) else None
        out[f"{end}_place_name"] = np.where(ok, places["name"].astype(str).to_numpy()[np.clip(idx, 0, None)], None) \
            if len(places) else None
        out[f"{end}_match"] = how
        out[f"{end}_candidates"] = cands
    out["matched"] = (out["origin_place"] >= 0) & (out["destination_place"] >= 0) & \
        (out["origin_place"] != out["destination_place"])
    same = (out["origin_place"] >= 0) & (out["origin_place"] == out["destination_place"])
    out.loc[same, "destination_match"] = trip_text("same_place", lang)
    return out


def unmatched(matched: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`match_trips` with an unmatched end and the reason of each end."""
    cols = ["row", "origin", "origin_district", "destination", "destination_district", "mode", "observed_min",
            "origin_match", "destination_match", "source_url"]
    return matched.loc[~matched["matched"], cols].reset_index(drop=True)
