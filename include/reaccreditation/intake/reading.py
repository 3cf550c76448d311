"""Read a file that passed :mod:`.safety` into layout-keyed rows (python-calamine for .xlsx and .ods; csv for .csv).

Columns are found by header text or alias (:func:`workbook.layout.column_for_header`), so reordered or
slightly renamed columns still work; values in merged ranges are copied to every cell of the range.
Text is kept exactly as typed: a cell reading ``=HYPERLINK(...)`` stays that text and is never evaluated.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from reaccreditation.intake.safety import SAVE_XLSX, SafetyReport
from reaccreditation.workbook import layout

HEADER_SEARCH_ROWS = 10
INPUT_KEYS = tuple(c.key for c in layout.INPUT_COLUMNS)
REQUIRED_KEYS = tuple(c.key for c in layout.COLUMNS if c.required)


class Unreadable(ValueError):
    """The file is safe but not a usable evidence return; ``str(exc)`` is the message for the department."""


@dataclass
class Row:
    number: int  # the sheet's row number (1-based), or the CSV record number
    values: dict[str, Any]


@dataclass
class ReturnedFile:
    name: str
    kind: str
    sheet: str
    meta: dict[str, str]
    headers: dict[str, tuple[int, str]]  # layout key -> (1-based column, header text as written)
    header_row: int
    rows: list[Row]
    unknown_headers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def header_text(self, key: str) -> str:
        return self.headers[key][1] if key in self.headers else layout.COLUMN_BY_KEY[key].heading()


def read_return(name: str, data: bytes, report: SafetyReport) -> ReturnedFile:
    if report.kind == "csv":
        text = data.decode(report.encoding or "utf-8-sig")
        grid = [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
        return _from_grid(name, "csv", "CSV", grid, origin=(1, 1), meta={}, notes=list(report.notes))
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        meta = _meta(wb)
        sheet_name = _evidence_sheet(wb, report)
        grid = wb.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except (CalamineError, ValueError) as exc:
        if isinstance(exc, Unreadable):
            raise
        raise Unreadable(
            f"the workbook could not be read ({' '.join(str(exc).split())[:200]}): open it and save it again ({SAVE_XLSX})"
        ) from exc
    origin = (1, 1)
    info = report.sheet(sheet_name)
    if info is not None:
        _fill_merged(grid, info.merged, origin)
    return _from_grid(name, report.kind, sheet_name, grid, origin=origin, meta=meta, notes=list(report.notes))


def _meta(wb: Any) -> dict[str, str]:
    if layout.META_SHEET not in wb.sheet_names:
        return {}
    out = {}
    for row in wb.get_sheet_by_name(layout.META_SHEET).to_python():
        if len(row) >= 2 and row[0]:
            out[str(row[0])] = text_value(row[1]) or ""
    return out


def _evidence_sheet(wb: Any, report: SafetyReport) -> str:
    visible = [s.name for s in report.sheets if s.state == "visible" and s.name in wb.sheet_names]
    if layout.EVIDENCE_SHEET in visible:
        return layout.EVIDENCE_SHEET
    for name in visible:
        if name.strip().lower() == layout.EVIDENCE_SHEET.lower():
            return name
    best, best_hits = None, 0
    for name in visible:
        if name == layout.COVER_SHEET:
            continue
        grid = wb.get_sheet_by_name(name).to_python(nrows=HEADER_SEARCH_ROWS)
        hits = max((_header_hits(r) for r in grid), default=0)
        if hits > best_hits:
            best, best_hits = name, hits
    if best is None or best_hits < 3:
        raise Unreadable(
            f"no '{layout.EVIDENCE_SHEET}' sheet with the evidence columns was found (sheets: {', '.join(visible) or 'none'})"
        )
    return best


def _header_hits(row: list[Any]) -> int:
    return len({c.key for v in row if (c := layout.column_for_header(v)) is not None})


def _fill_merged(grid: list[list[Any]], merged: list[tuple[int, int, int, int]], origin: tuple[int, int]) -> None:
    """Copy a merged range's top-left value into every cell of it (readers return it only once)."""
    r0, c0 = origin
    for min_row, min_col, max_row, max_col in merged:
        top = min_row - r0
        left = min_col - c0
        if top < 0 or left < 0 or top >= len(grid) or left >= len(grid[top]):
            continue
        value = grid[top][left]
        for r in range(top, min(max_row - r0 + 1, len(grid))):
            row = grid[r]
            for c in range(left, min(max_col - c0 + 1, len(row))):
                if row[c] in ("", None):
                    row[c] = value


def _from_grid(
    name: str, kind: str, sheet: str, grid: list[list[Any]], origin: tuple[int, int], meta: dict[str, str], notes: list[str]
) -> ReturnedFile:
    if not any(any(v not in ("", None) for v in row) for row in grid):
        raise Unreadable(f"sheet '{sheet}' is empty: no header row and no evidence rows were found")
    header_index = max(range(min(HEADER_SEARCH_ROWS, len(grid))), key=lambda i: _header_hits(grid[i]))
    headers: dict[str, tuple[int, str]] = {}
    unknown: list[str] = []
    for i, value in enumerate(grid[header_index]):
        text = text_value(value)
        if not text:
            continue
        column = layout.column_for_header(text)
        if column is None:
            unknown.append(text)
        elif column.key not in headers:
            headers[column.key] = (origin[1] + i, " ".join(text.split()))
    missing = [layout.COLUMN_BY_KEY[k].heading() for k in REQUIRED_KEYS if k not in headers]
    if missing:
        raise Unreadable(
            f"sheet '{sheet}' is missing the required column(s): {', '.join(repr(m) for m in missing)} "
            f"(header row {origin[0] + header_index} has: "
            f"{', '.join(repr(text_value(v)) for v in grid[header_index] if text_value(v)) or 'nothing'})"
        )
    rows = []
    for i in range(header_index + 1, len(grid)):
        raw = grid[i]
        values = {key: _cell(raw, col - origin[1]) for key, (col, _) in headers.items()}
        if all(values.get(k) in (None, "") for k in INPUT_KEYS):
            continue  # an element row nobody filled in, or a spare row
        rows.append(Row(origin[0] + i, values))
    if not rows:
        raise Unreadable(f"sheet '{sheet}' has no evidence rows filled in: add at least one evidence item")
    return ReturnedFile(name, kind, sheet, meta, headers, origin[0] + header_index, rows, unknown, notes)


# Control characters (NUL and the rest of C0 except tab, LF, CR) cannot be stored in PostgreSQL text
# (NUL) or written to an .xlsx (any of them), so they are dropped from what we read.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _cell(raw: list[Any], index: int) -> Any:
    if index < 0 or index >= len(raw):
        return None
    value = raw[index]
    if isinstance(value, str):
        value = _CONTROL.sub("", value).strip()
        return value or None
    return value


def text_value(value: Any) -> str | None:
    """A cell as text: integral floats without '.0', dates as ISO, blanks as None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y", "%B %Y", "%Y-%m-%d %H:%M:%S")
_EXCEL_EPOCH = date(1899, 12, 30)


def parse_date(value: Any) -> date | None:
    """A date from a date cell, an Excel serial number or UK-style text; None when it is not a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 <= value <= 80000:
            return _EXCEL_EPOCH + timedelta(days=int(value))
        return None
    if isinstance(value, str):
        text = re.sub(r"\s+", " ", value.strip())
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
    return None
