"""A QGIS project (``.qgz``) for a run folder: every styled layer, relative paths.

:func:`run_project` reads the default styles from the GeoPackages of the run (the
``layer_styles`` rows written by :func:`siting.report.qgis.write_gpkg_metadata`) and the
raster style (:func:`siting.report.qgis.raster_style`), and embeds them in a ``.qgs``
document zipped as ``siting.qgz``: opening it shows proposals, candidates, places and the
travel-time raster, styled, wherever the folder has been copied.
"""
from __future__ import annotations

import re
import sqlite3
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..io import atomic_path
from .labels import t
from .qgis import QGIS_VERSION, QML_DOCTYPE, raster_style


@dataclass(frozen=True)
class ProjectLayer:
    """A layer of a QGIS project: ``source`` relative to the project file (``acceso.gpkg``
    with ``layer``, or a GeoTIFF), its title and its style (a QML document)."""

    source: str
    title: str
    qml: str
    layer: str = ""  # GeoPackage layer name ("" for a raster)
    crs: str = "EPSG:4326"  # the layer's CRS (siting's vector layers are EPSG:4326; rasters are projected)
    visible: bool = True


def _crs_element(tag: str, crs: str) -> ET.Element:
    """``<tag><spatialrefsys>`` with the WKT, PROJ string and authority code QGIS reads."""
    from pyproj import CRS
    c = CRS.from_user_input(crs)
    el = ET.Element(tag)
    srs = ET.SubElement(el, "spatialrefsys")
    auth = c.to_authority() or ("EPSG", "4326")
    with warnings.catch_warnings():  # a PROJ string is lossy by design; QGIS reads the WKT first
        warnings.filterwarnings("ignore", "You will likely lose important projection information", UserWarning)
        proj4 = c.to_proj4()
    for key, value in (("wkt", c.to_wkt()), ("proj4", proj4), ("srid", auth[1]),
                       ("authid", f"{auth[0]}:{auth[1]}"), ("description", c.name),
                       ("geographicflag", "true" if c.is_geographic else "false")):
        ET.SubElement(srs, key).text = value
    return el


def project_xml(layers: Sequence[ProjectLayer], *, title: str, crs: str = "EPSG:4326") -> str:
    """A QGIS project (``.qgs``) showing ``layers`` (first on top) with their styles embedded
    and *relative* paths, so the run folder can be moved or shared as it is."""
    root = ET.Element("qgis", {"projectname": title, "version": QGIS_VERSION})
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = title
    root.append(_crs_element("projectCrs", crs))
    tree = ET.SubElement(root, "layer-tree-group")
    maps = ET.SubElement(root, "projectlayers")
    for i, lay in enumerate(layers):
        lid = f"siting_{i:02d}_{re.sub(r'[^a-z0-9_]', '_', (lay.layer or Path(lay.source).stem).lower())}"
        raster = not lay.layer
        source = f"./{lay.source}" + ("" if raster else f"|layername={lay.layer}")
        ET.SubElement(tree, "layer-tree-layer", id=lid, name=lay.title, source=source,
                      providerKey="gdal" if raster else "ogr", expanded="1",
                      checked="Qt::Checked" if lay.visible else "Qt::Unchecked")
        style = ET.fromstring(lay.qml)
        ml = ET.SubElement(maps, "maplayer", type="raster" if raster else "vector")
        if not raster:
            ml.set("geometry", ("Point", "Line", "Polygon")[int(style.findtext("layerGeometryType") or 0)])
        ET.SubElement(ml, "id").text = lid
        ET.SubElement(ml, "datasource").text = source
        ET.SubElement(ml, "layername").text = lay.title
        ET.SubElement(ml, "provider", encoding="UTF-8").text = "gdal" if raster else "ogr"
        ml.append(_crs_element("srs", lay.crs))
        if style.get("labelsEnabled"):
            ml.set("labelsEnabled", style.get("labelsEnabled", ""))
        ml.extend(list(style))
    props = ET.SubElement(root, "properties")
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    ET.indent(root)
    return QML_DOCTYPE + ET.tostring(root, encoding="unicode") + "\n"


def write_project(path: str | Path, layers: Sequence[ProjectLayer], *, title: str) -> Path:
    """Write a ``.qgz`` (zipped ``.qgs``, fixed entry date: identical runs, identical bytes)."""
    import zipfile
    path = Path(path)
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo(path.with_suffix(".qgs").name, date_time=(1980, 1, 1, 0, 0, 0)),
                   project_xml(layers, title=title), compress_type=zipfile.ZIP_DEFLATED)
    return path


def run_project(folder: str | Path, *, lang: str = "es", thresholds: Sequence[float] = (30, 60, 120),
                name: str = "siting.qgz") -> Path | None:
    """A ``.qgz`` project of a run folder: every styled GeoPackage layer found in it
    (proposals on top) and the travel-time raster at the bottom; None when there is nothing."""
    folder = Path(folder)
    layers: list[ProjectLayer] = []
    for gpkg in ("propuestas.gpkg", "candidatos.gpkg", "acceso.gpkg"):
        if not (folder / gpkg).exists():
            continue
        con = sqlite3.connect(str(folder / gpkg))
        try:
            rows = con.execute("SELECT s.f_table_name, c.identifier, s.styleQML FROM layer_styles s "
                               "JOIN gpkg_contents c ON c.table_name = s.f_table_name WHERE s.useAsDefault "
                               "ORDER BY s.id").fetchall()
        finally:
            con.close()
        layers += [ProjectLayer(gpkg, title, qml, table, visible=table != "excluidos") for table, title, qml in rows]
    tif = folder / "travel_time_minutes.tif"
    if tif.exists():
        import rasterio
        with rasterio.open(tif) as src:
            epsg = src.crs.to_epsg() if src.crs else None
        layers.append(ProjectLayer(tif.name, t("layer.travel_time", lang), raster_style(thresholds, lang),
                                   crs=f"EPSG:{epsg}" if epsg else "EPSG:4326"))
    if not layers:
        return None
    return write_project(folder / name, layers, title=t("report.title", lang))
