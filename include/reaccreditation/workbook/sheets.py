"""Helpers for the workbooks we generate (openpyxl): text that can never become a formula, tidy sheets.

Every string we write that came from a person (spreadsheet, config) goes through :func:`set_text`, so
``=HYPERLINK(...)`` or ``=cmd|...`` typed by someone stays text in everything we send on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from reaccreditation.workbook.formulas import FORMULA_START

HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")
REFERENCE_FILL = PatternFill("solid", fgColor="F2F2F2")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")


def set_text(cell: Cell, value: Any) -> Cell:
    """Write a value; strings are always stored as text, never as formulas."""
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True  # Excel and LibreOffice show it as typed and keep it text on edit
    else:
        cell.value = value
    return cell


def write_header(ws: Worksheet, headers: Sequence[str], widths: Sequence[int] | None = None, row: int = 1) -> None:
    for i, header in enumerate(headers, 1):
        cell = set_text(ws.cell(row=row, column=i), header)
        cell.fill, cell.font, cell.alignment = HEADER_FILL, HEADER_FONT, Alignment(wrap_text=True, vertical="center")
        if widths:
            ws.column_dimensions[get_column_letter(i)].width = widths[i - 1]


def write_rows(ws: Worksheet, rows: Iterable[Sequence[Any]], start_row: int = 2, wrap: bool = True) -> int:
    """Append rows from ``start_row``; returns the last row written."""
    r = start_row - 1
    for r, values in enumerate(rows, start_row):
        for c, value in enumerate(values, 1):
            cell = set_text(ws.cell(row=r, column=c), value)
            if wrap:
                cell.alignment = WRAP_TOP
    return r


def table_sheet(
    ws: Worksheet, headers: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[int] | None = None
) -> None:
    """A filterable table: header row, frozen, autofilter over the data."""
    write_header(ws, headers, widths)
    last = write_rows(ws, rows)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(last, 1)}"


def print_landscape(ws: Worksheet, pages_wide: int = 1) -> None:
    """Printed (or exported to PDF) landscape on A4, ``pages_wide`` pages across, as many down as needed."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = pages_wide
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
