"""The rainy-season outputs (issue #14 item 9): ``season_by_ugel.csv``, ``season_places.csv``,
the ``temporada_lluvias`` sheet of ``acceso.xlsx`` and the section of the regional report.

Every figure of the section and of its sentence is read from
:attr:`siting.access.season.SeasonAccess.by_ugel`, the table written to the CSV.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from ..access.season import TOTAL, SeasonAccess
from .labels import has_label, t
from .numbers import format_people


def _people(value: float, lang: str) -> str:
    return format_people(float(value), lang=lang)


def season_sentence(season: SeasonAccess, threshold: float, lang: str = "es") -> str:
    """"En temporada de lluvias, X personas más quedan a más de T min ..." (the Total row)."""
    row = season.by_ugel[season.by_ugel["ugel"] == TOTAL].iloc[0]
    s = f"{threshold:g}"
    return t("report.season_sentence", lang).format(
        added=_people(row[f"population_beyond_{s}_added"], lang), threshold=s,
        dry=_people(row[f"population_beyond_{s}_dry"], lang), rainy=_people(row[f"population_beyond_{s}_rainy"], lang))


def factors_note(season: SeasonAccess, lang: str = "es") -> str:
    """The multipliers used, and that they are assumptions."""
    dec = "," if lang == "es" else "."
    factors = ", ".join(f"{t(f'road.{c}', lang) if has_label(f'road.{c}') else c} {f:g}".replace(".", dec)
                        for c, f in season.factors.items())
    return t("report.season_factors", lang).format(factors=factors, walk=f"{season.walk_factor:g}".replace(".", dec))


def shown_columns(season: SeasonAccess) -> list[str]:
    """The columns of the report table: population beyond each threshold, dry / rainy / added."""
    cols = ["ugel", "population"]
    for th in season.thresholds:
        cols += [f"population_beyond_{th:g}_{k}" for k in ("dry", "rainy", "added")]
    return cols + ["mean_minutes_dry", "mean_minutes_rainy"]


def season_context(season: SeasonAccess, lang: str, *, main_threshold: float,
                   table_context: Callable[..., dict]) -> dict[str, Any]:
    """Template context of the section: ``title``, ``sentences`` (the headline at every threshold
    from the main one on), ``notes`` (factors, closures) and ``table``."""
    sentences = [season_sentence(season, th, lang) for th in season.thresholds if th >= main_threshold]
    notes = [factors_note(season, lang), t("report.season_closed", lang).format(n=len(season.closed))]
    table = table_context(season.by_ugel, t("report.season_table", lang), lang, columns=shown_columns(season))
    return {"title": t("report.season_section", lang), "sentences": sentences, "notes": notes, "table": table}


def season_tables(season: SeasonAccess) -> dict[str, pd.DataFrame]:
    """The CSV tables of the comparison: ``season_by_ugel`` and ``season_places``."""
    return {"season_by_ugel": season.by_ugel, "season_places": season.places}
