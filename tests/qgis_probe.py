"""Open siting's GeoPackage layers and rasters with QGIS itself and report how they load.

Run with a Python that has PyQGIS (Debian: ``apt-get install python3-qgis``; the
project's virtualenv does not), e.g. ``/usr/bin/python3 tests/qgis_probe.py
'acceso.gpkg|centros_poblados' travel_time_minutes.tif [--render map.png]``.  Prints one
JSON object: per layer its validity, renderer, categories / ranges with labels and colours,
aliases, labelling, styles found in the GeoPackage; with ``--render`` it also draws all
layers (first on top) into a PNG.  Used by tests/test_outputs_qgis.py (skipped without PyQGIS).
"""
from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsSymbolLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def raster_info(layer) -> dict:
    r = layer.renderer()
    fn = r.shader().rasterShaderFunction() if r.type() == "singlebandpseudocolor" else None
    items = fn.colorRampItemList() if fn else []
    return {"valid": layer.isValid(), "renderer": r.type(), "ramp_type": int(fn.colorRampType()) if fn else None,
            "items": [[i.value, i.label, i.color.name()] for i in items]}


def vector_info(layer) -> dict:
    r = layer.renderer()
    fields = layer.fields()
    info = {"valid": layer.isValid(), "renderer": r.type(), "features": layer.featureCount(),
            "aliases": {fields.at(i).name(): layer.attributeAlias(i) for i in range(fields.count())},
            "labels": layer.labelsEnabled(), "db_styles": layer.listStylesInDatabase()[0]}
    if r.type() == "categorizedSymbol":
        cats = r.categories()
        info["attr"] = r.classAttribute()
        info["categories"] = [[c.value(), c.label(), c.symbol().color().name()] for c in cats]
        sym = cats[0].symbol() if cats else None
        prop = sym.symbolLayer(0).dataDefinedProperties().property(QgsSymbolLayer.PropertySize) if sym else None
        info["size_expression"] = prop.expressionString() if prop and prop.isActive() else None
    elif r.type() == "graduatedSymbol":
        ranges = r.ranges()
        info["attr"] = r.classAttribute()
        info["ranges"] = [[g.lowerValue(), g.upperValue(), g.label(), g.symbol().color().name()] for g in ranges]
    elif r.type() == "singleSymbol":
        sym = r.symbol()
        info["symbol_layers"] = [sym.symbolLayer(i).layerType() for i in range(sym.symbolLayerCount())]
        if sym.symbolLayerCount() > 1:
            prop = sym.symbolLayer(1).dataDefinedProperties().property(QgsSymbolLayer.PropertyCharacter)
            info["character_expression"] = prop.expressionString() if prop.isActive() else None
    if layer.labelsEnabled():
        settings = layer.labeling().settings()
        info["label_expression"] = settings.fieldName
        info["label_min_scale"] = settings.minimumScale if settings.scaleVisibility else None
    return info


def main(argv: list[str]) -> int:
    render = None
    if "--render" in argv:
        i = argv.index("--render")
        render = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    out, layers = {}, []
    for spec in argv:
        path, _, name = spec.partition("|")
        if path.lower().endswith((".qgz", ".qgs")):  # a project: every layer it holds, in drawing order
            project = QgsProject.instance()
            ok = project.read(path)
            tree = [n.layer() for n in project.layerTreeRoot().findLayers()]
            out[spec] = {"read": ok, "title": project.title(), "layers": [
                {"name": lay.name(), "source": lay.source(), **(raster_info(lay) if isinstance(lay, QgsRasterLayer)
                                                               else vector_info(lay))} for lay in tree]}
            layers.extend(tree)
            continue
        if path.lower().endswith((".tif", ".tiff")):
            layer = QgsRasterLayer(path, os.path.basename(path))
            out[spec] = raster_info(layer)
        else:
            layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
            out[spec] = vector_info(layer)
        layers.append(layer)
    if render:
        settings = QgsMapSettings()
        settings.setLayers(layers)
        settings.setDestinationCrs(layers[-1].crs())
        settings.setEllipsoid("WGS84")
        settings.setTransformContext(QgsProject.instance().transformContext())
        extent = QgsRectangle(layers[-1].extent())
        extent.scale(1.05)
        settings.setExtent(extent)
        settings.setOutputSize(QSize(1400, 1400))
        settings.setBackgroundColor(QColor(255, 255, 255))
        job = QgsMapRendererParallelJob(settings)
        job.start()
        job.waitForFinished()
        job.renderedImage().save(render, "png")
        out["render"] = render
        out["render_scale"] = settings.scale()
    print(json.dumps(out, ensure_ascii=False, default=str), flush=True)
    os._exit(0)  # QGIS can crash on teardown in headless mode; the result is printed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
