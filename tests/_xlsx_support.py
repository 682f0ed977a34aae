"""Reading back what a workbook shows (shared by the workbook tests)."""
from __future__ import annotations

#: what Excel adds to a column's width in characters for the cell padding (Calibri 11: 5 px
#: of a 7 px digit); XlsxWriter stores ``width + PADDING`` so that the column shows ``width``
PADDING = 0.7109375


def column_widths(ws) -> dict[int, float]:
    """Shown width of every column (1-based) of openpyxl worksheet ``ws`` that has one.

    A ``<col min= max=>`` element sets the width of a run of columns; openpyxl keys it by its
    first column only, so the run is expanded here."""
    widths: dict[int, float] = {}
    for dim in ws.column_dimensions.values():
        if dim.width and dim.customWidth:
            for j in range(dim.min, dim.max + 1):
                widths[j] = dim.width - PADDING
    return widths
