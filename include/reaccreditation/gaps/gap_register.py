"""The gap register ``gap_register.xlsx``: one row per gap and department, for the quality team to chase.

What the team filters and forwards: autofilter on every column, frozen header, widths that fit the
text. The rows are the snapshot's (``Snapshot.gap_rows``, also in gaps.json); openpyxl is imported
inside the writer only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reaccreditation.workbook.formulas import spreadsheet_text

# (key in a gap row, header in the xlsx, column width)
REGISTER_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("element_id", "Element", 9),
    ("element_title", "Element title", 40),
    ("criterion_id", "Criterion", 10),
    ("sub_criterion_id", "Sub-criterion", 13),
    ("readiness", "Readiness", 10),
    ("forecast", "Forecast rating", 20),
    ("severity", "Severity", 9),
    ("reason_code", "Reason code", 24),
    ("reason", "Reason", 70),
    ("department_id", "Department id", 20),
    ("department", "Department", 32),
    ("contact", "Evidence contact", 45),
    ("due_date", "Due date", 12),
    ("in_focus", "Assessor focus", 14),
)


def write_register(path: Path, payload: dict[str, Any]) -> Path:
    """Write the gap register xlsx from a snapshot payload (``Snapshot.to_dict()``), atomically."""
    from datetime import date
    from io import BytesIO

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from reaccreditation.files import write_atomic

    wb = Workbook()
    ws = wb.active
    ws.title = "Gap register"
    ws.append([header for _, header, _ in REGISTER_COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E78")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for row in payload["gaps"]:
        values = []
        for key, _, _ in REGISTER_COLUMNS:
            value = row[key]
            if key == "due_date":
                value = date.fromisoformat(value)
            elif key == "in_focus":
                value = "Yes" if value else "No"
            values.append(spreadsheet_text(value))
        ws.append(values)
    for i, (key, _, width) in enumerate(REGISTER_COLUMNS, 1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = width
        if key == "due_date":
            for cell in ws[letter][1:]:
                cell.number_format = "yyyy-mm-dd"
        if key in ("reason", "element_title", "contact"):
            for cell in ws[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(REGISTER_COLUMNS))}{max(ws.max_row, 1)}"

    about = wb.create_sheet("About")
    about.append(["Organisation", payload["organisation"]])
    about.append(["Framework", payload["framework"]])
    about.append(["Assessment year", payload["assessment_year"]])
    about.append(["Assessment type", payload["assessment_type"]])
    about.append(["As of", payload["as_of"]])
    about.append(["Evidence window starts", payload["evidence_window_start"]])
    about.append(["Gaps due", payload["due_date"]])
    overall = payload["overall"]
    about.append(["Elements ready / at risk / gap", f"{overall['ready']} / {overall['at_risk']} / {overall['gaps']}"])
    meets = payload.get("labels", {}).get("meets", "meets the standard")
    about.append(
        [f"Readiness score (mean forecast; {meets} = {payload.get('scale', {}).get('meets_score', 2)})", overall["score"]]
    )
    about.column_dimensions["A"].width = 46
    about.column_dimensions["B"].width = 40

    buffer = BytesIO()
    wb.save(buffer)
    return write_atomic(Path(path), buffer.getvalue())
