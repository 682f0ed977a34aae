"""Tables and layers for people and for GIS: CSV, XLSX, GeoPackage, GeoJSON.

Every file is written atomically (:func:`siting.io.atomic_path`): it is either complete
or absent.  Headers are translated with :mod:`siting.report.labels` (Spanish by
default; ``lang=None`` keeps the snake_case names for machine use).

- CSV: UTF-8 with BOM (Excel opens accents correctly), ``,`` separator.
- XLSX: a "Léame" sheet, then one sheet per table (:mod:`siting.report.workbook`).
- GeoPackage: one file, one layer per GeoDataFrame (EPSG:4326), snake_case fields with
  labels as aliases, QGIS styles in ``layer_styles`` (:mod:`siting.report.qgis`).
- GeoJSON: one file per layer (RFC 7946, EPSG:4326).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..errors import DataError
from ..io import atomic_path, spreadsheet_safe_frame
from .labels import headers, t
from .qgis import Style, default_styles, layer_text, write_gpkg_metadata
from .workbook import ReadMe, write_workbook

__all__ = ["ReadMe", "write_csv", "write_xlsx", "write_gpkg", "write_geojson", "export_all"]


#: timestamp written into XLSX and GeoPackage metadata so that identical runs give identical bytes
FIXED_TIMESTAMP = "2000-01-01T00:00:00.000Z"
_CORE_TIME = re.compile(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def _normalise_xlsx(path: Path) -> None:
    """Rewrite an XLSX (a zip) with fixed entry dates and fixed created/modified times
    (openpyxl stamps "now" on save; nothing else in the file depends on the clock)."""
    import zipfile
    with zipfile.ZipFile(path) as zin:
        entries = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = _CORE_TIME.sub(lambda m: m.group(1) + FIXED_TIMESTAMP[:19] + "Z" + m.group(2),
                                      data.decode("utf-8")).encode("utf-8")
            zout.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                          compress_type=zipfile.ZIP_DEFLATED)


def _translated(df: pd.DataFrame, lang: str | None) -> pd.DataFrame:
    return df.copy() if lang is None else headers(df, lang)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Drop geometry (tables only) and turn pandas string/categorical dtypes into objects."""
    out = pd.DataFrame(df.drop(columns=["geometry"], errors="ignore"))
    return out


def write_csv(df: pd.DataFrame, path: str | Path, *, lang: str | None = "es") -> Path:
    """Write ``df`` (without geometry) as CSV in UTF-8 with BOM; headers in ``lang``.

    Full precision; text that a spreadsheet would run as a formula (starting with ``=``,
    ``+``, ``-``, ``@``, tab, CR) gets a leading ``'`` (:func:`siting.io.spreadsheet_safe`).
    """
    path = Path(path)
    table = spreadsheet_safe_frame(_translated(_plain(df), lang))
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig")
    return path


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | Path, *, lang: str | None = "es",
               readme: ReadMe | None = None) -> Path:
    """Write a workbook for planners: a "Léame" sheet, then one sheet per table
    (see :mod:`siting.report.workbook`: sheet names, headers and coded values in ``lang``,
    number formats per column kind, values rounded as shown, text never a formula, frozen
    filtered header, fitted widths).  ``readme`` carries the run, scenario and data caveats
    (:meth:`ReadMe.from_scenario`); without it the sheet still explains the figures.

    The file is byte-identical for identical inputs (fixed zip and document times).
    """
    if not sheets:
        raise DataError("no tables to write", source=str(path))
    path = Path(path)
    tables = {name: _plain(df) for name, df in sheets.items()}
    if lang:
        for df in tables.values():
            headers(df, lang)  # unlabelled columns fail before anything is written
    with atomic_path(path) as tmp:
        write_workbook(tmp, tables, lang=lang, readme=readme, workbook_name=path.name)
    return path


def _geo(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise DataError(f"layer '{name}' has no geometry column", hint="pass a GeoDataFrame")
    if gdf.crs is None:
        raise DataError(f"layer '{name}' has no CRS", hint="set it with gdf.set_crs('EPSG:4326')")
    return gdf.to_crs("EPSG:4326")


_FIELD = re.compile(r"[a-z][a-z0-9_]*")


def write_gpkg(layers: Mapping[str, gpd.GeoDataFrame], path: str | Path, *, lang: str | None = "es",
               styles: Mapping[str, Sequence[Style]] | None = None, main_threshold: float | None = 60.0) -> Path:
    """Write all ``layers`` into ONE GeoPackage that QGIS opens styled (layer names are the keys).

    - fields keep the ASCII snake_case codes of the CSVs; the labels in ``lang`` are their
      aliases (``gpkg_data_columns``, GeoPackage schema extension);
    - each layer has a title and a description in ``gpkg_contents`` (``identifier``,
      ``description``);
    - the ``layer_styles`` table holds QGIS styles (:func:`siting.report.qgis.default_styles`,
      or ``styles[name]``): bands in the web map's colours, population-sized points, numbered
      proposals, graduated choropleths for districts and UGELs.

    ``lang=None`` writes no aliases (English style texts).  Identical inputs give identical bytes.
    """
    if not layers:
        raise DataError("no layers to write", source=str(path))
    import pyogrio
    path = Path(path)
    text_lang = lang or "en"
    prepared = {}
    for name, gdf in layers.items():  # every check before anything is written
        g = _geo(gdf, name)
        bad = [c for c in [name, *g.columns] if c != "geometry" and not _FIELD.fullmatch(str(c))]
        if bad:
            raise DataError(f"layer '{name}': names must be ASCII snake_case, got {bad[:3]}",
                            hint="rename the columns to their codes (labels become aliases)")
        aliases = {str(c): t(str(c), lang) for c in g.columns if c != "geometry"} if lang else {}
        layer_styles = list(styles[name]) if styles and name in styles else \
            default_styles(name, g, text_lang, main_threshold=main_threshold)
        prepared[name] = (g, aliases, layer_styles)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_TIMESTAMP})  # byte-identical reruns
    titles: set[str] = set()
    with atomic_path(path) as tmp:
        for name, (g, _, _) in prepared.items():
            title, description = layer_text(name, text_lang)
            title = title if title not in titles else f"{title} ({name})"
            titles.add(title)
            pyogrio.write_dataframe(g, tmp, layer=name, driver="GPKG", dataset_options={"VERSION": "1.2"},
                                    layer_options={"IDENTIFIER": title, "DESCRIPTION": description})
        write_gpkg_metadata(tmp, {name: (aliases, st) for name, (_, aliases, st) in prepared.items()})
    return path


def write_geojson(gdf: gpd.GeoDataFrame, path: str | Path, *, lang: str | None = "es", name: str = "") -> Path:
    """Write one layer as GeoJSON (EPSG:4326)."""
    path = Path(path)
    g = _geo(gdf, name or path.stem)
    g = _translated(g, lang) if lang else g
    with atomic_path(path) as tmp:
        g.to_file(tmp, driver="GeoJSON", engine="pyogrio")
    return path


def export_all(out_dir: str | Path, *, tables: Mapping[str, pd.DataFrame] | None = None,
               layers: Mapping[str, gpd.GeoDataFrame] | None = None, lang: str = "es",
               workbook: str = "tablas.xlsx", geopackage: str = "capas.gpkg",
               geojson: bool = True) -> dict[str, Path]:
    """Write every table as CSV + one XLSX workbook, every layer into one GeoPackage
    (and GeoJSON files).  Returns ``{"<name>.csv": path, "xlsx": path, "gpkg": path, ...}``.
    """
    out_dir = Path(out_dir)
    written: dict[str, Path] = {}
    tables = dict(tables or {})
    layers = dict(layers or {})
    for name, df in tables.items():
        written[f"{name}.csv"] = write_csv(df, out_dir / f"{name}.csv", lang=lang)
    if tables:
        written["xlsx"] = write_xlsx(tables, out_dir / workbook, lang=lang)
    if layers:
        written["gpkg"] = write_gpkg(layers, out_dir / geopackage, lang=lang)
        if geojson:
            for name, gdf in layers.items():
                written[f"{name}.geojson"] = write_geojson(gdf, out_dir / "geojson" / f"{name}.geojson",
                                                           lang=lang, name=name)
    return written
