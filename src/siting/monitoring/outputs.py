"""Monitoring outputs: CSV (stable column codes), ``monitoreo.xlsx`` (headers in the run
language) and ``monitoreo.html``: one section per UGEL with key figures, small multiples (one
chart per centre: enrolment bars, retention line) and the indicator table.  Charts, cards and
tables are drawn from the same indicator table, so they never disagree.  Text from the data is
escaped (Jinja2 autoescape); spreadsheets get it as text (see :mod:`siting.report.exports`).
"""
from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable
from pathlib import Path

import jinja2
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..io import atomic_path
from ..report import exports
from ..report.html_report import fmt_number, png_data_uri
from ..report.labels import t

TEMPLATES = Path(__file__).with_name("templates")
RATE_COLUMNS = {"share_women", "share_15_29", "retention", "completion", "certification", "placement",
                "share_within", "retention_first", "retention_last", "min_retention"}
TABLE_COLUMNS = ["centre_name", "period", "enrolled_total", "share_women", "share_15_29", "retention", "completion",
                 "certification", "placement", "enrolled_per_teacher", "residents_within", "residents_beyond",
                 "share_within"]
TREND_SHOWN = ["centre_name", "first_period", "last_period", "enrolled_first", "enrolled_last",
               "enrolment_slope_per_year", "retention_first", "retention_last", "retention_change"]


def _cell(value: object, column: str, lang: str) -> dict:
    if column in RATE_COLUMNS or column == "retention_change":
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return {"text": "–", "num": True}
        sep = "," if lang == "es" else "."
        unit = " pp" if column == "retention_change" else " %"
        return {"text": f"{100 * float(str(value)):.1f}".replace(".", sep) + unit, "num": True}
    text, num = fmt_number(value, column, lang)
    return {"text": text, "num": num}


def _table(df: pd.DataFrame, columns: list[str], title: str, lang: str) -> dict:
    cols = [c for c in columns if c in df.columns]
    rows = [[_cell(v, c, lang) for c, v in zip(cols, rec)] for rec in df[cols].itertuples(index=False)]
    return {"title": title, "headers": [t(c, lang) for c in cols], "rows": rows}


def small_multiples(ind: pd.DataFrame, *, lang: str = "es", min_retention: float | None = None) -> plt.Figure:
    """One panel per centre: enrolled per period (bars, left axis) and retention (line, right
    axis 0-100 %), with the minimum retention dashed."""
    centres = list(dict.fromkeys(ind["centre_id"]))
    ncols = min(3, len(centres))
    nrows = math.ceil(len(centres) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.7 * nrows), squeeze=False)
    ymax = float(np.nanmax(ind["enrolled_total"].to_numpy(float))) if ind["enrolled_total"].notna().any() else 1.0
    for ax, cid in zip(axes.ravel(), centres):
        g = ind[ind["centre_id"] == cid].sort_values("period_year")
        x = np.arange(len(g))
        ax.bar(x, g["enrolled_total"].fillna(0).to_numpy(float), color="#6baed6", edgecolor="#08306b")
        ax.set_ylim(0, ymax * 1.15)  # one scale for every centre: panels compare
        ax.set_xticks(x, g["period"].astype(str).tolist(), fontsize=7, rotation=45 if len(g) > 4 else 0)
        ax.set_title(str(g["centre_name"].iloc[0])[:38], fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax2 = ax.twinx()
        ax2.plot(x, 100 * g["retention"].to_numpy(float), color="#d94801", marker="o", ms=3)
        if min_retention is not None:
            ax2.axhline(100 * min_retention, color="#d94801", ls="--", lw=0.8)
        ax2.set_ylim(0, 105)
        ax2.tick_params(axis="y", labelsize=7, colors="#d94801")
    for ax in axes.ravel()[len(centres):]:
        ax.axis("off")
    fig.suptitle(t("mon.charts", lang), fontsize=9)
    fig.tight_layout()
    return fig


def _figures(ind: pd.DataFrame, low: pd.DataFrame, lang: str) -> list[dict]:
    last = ind.sort_values("period_year", kind="stable").groupby("centre_id").tail(1)
    items = [("mon.centres", ind["centre_id"].nunique()), ("mon.records", len(ind)),
             ("mon.enrolled_last", float(last["enrolled_total"].fillna(0).sum())), ("mon.below", len(low))]
    return [{"label": t(k, lang), "value": fmt_number(float(v), "", lang)[0]} for k, v in items]


def render_html(ind: pd.DataFrame, tr: pd.DataFrame, low: pd.DataFrame, *, lang: str = "es",
                notes: Iterable[str] = (), threshold: float = 60.0, min_retention: float = 0.7,
                generated: str | None = None) -> str:
    """The monitoring page: caveats, then one section per UGEL (cards, small multiples, tables)."""
    sections = []
    keys = [u for u in dict.fromkeys(ind["ugel"]) if isinstance(u, str)] + ([None] if ind["ugel"].isna().any() else [])
    for u in keys:
        g = ind[ind["ugel"] == u] if u is not None else ind[ind["ugel"].isna()]
        tg = tr[tr["ugel"] == u] if u is not None else tr[tr["ugel"].isna()]
        lg = low[low["ugel"] == u] if u is not None else low[low["ugel"].isna()]
        sections.append({
            "title": u or t("mon.no_ugel", lang), "figures": _figures(g, lg, lang),
            "chart": png_data_uri(small_multiples(g, lang=lang, min_retention=min_retention)),
            "low": _table(lg, ["centre_name", "last_period", "enrolled_total", "retention"],
                          t("mon.low_retention", lang).format(x=f"{100 * min_retention:.0f} %"), lang),
            "tables": [_table(g, TABLE_COLUMNS, t("mon.indicators", lang), lang),
                       _table(tg, TREND_SHOWN, t("mon.trends", lang), lang)]})
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)
    return env.get_template("monitoring.html").render(
        lang=lang, L=lambda k: t(k, lang), title=t("mon.title", lang), notes=list(notes), sections=sections,
        threshold=t("mon.threshold", lang).format(x=f"{threshold:g}"),
        generated=generated or _dt.datetime.now().strftime("%Y-%m-%d %H:%M"))


def write_monitoring(folder: str | Path, ind: pd.DataFrame, tr: pd.DataFrame, low: pd.DataFrame, *,
                     lang: str = "es", notes: Iterable[str] = (), threshold: float = 60.0,
                     min_retention: float = 0.7) -> dict[str, Path]:
    """Write the CSV tables, ``monitoreo.xlsx`` and ``monitoreo.html`` into ``folder`` (atomically)."""
    folder = Path(folder)
    notes = list(notes)
    written = {"indicators": exports.write_csv(ind, folder / "monitoring_indicators.csv", lang=None),
               "trends": exports.write_csv(tr, folder / "monitoring_trends.csv", lang=None),
               "low_retention": exports.write_csv(low, folder / "monitoring_low_retention.csv", lang=None)}
    caveats = pd.DataFrame({"note": notes})
    sheets = {"indicadores" if lang == "es" else "indicators": ind, "tendencias" if lang == "es" else "trends": tr,
              "baja_permanencia" if lang == "es" else "low_retention": low}
    written["xlsx"] = exports.write_xlsx(sheets, folder / "monitoreo.xlsx", lang=lang)
    if len(caveats):
        written["notes"] = exports.write_csv(caveats, folder / "monitoring_notes.csv", lang=None)
    page = render_html(ind, tr, low, lang=lang, notes=notes, threshold=threshold, min_retention=min_retention)
    with atomic_path(folder / "monitoreo.html") as tmp:
        tmp.write_text(page, encoding="utf-8")
    written["html"] = folder / "monitoreo.html"
    return written
