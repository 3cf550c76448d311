"""The readiness workbook attached to each pack: cover, a sheet per criterion, gap register, timetable.

Every cell is written with :func:`reaccreditation.workbook.sheets.set_text` (through ``table_sheet``): text from
config or returned workbooks can never become a formula in the copy leadership opens.
"""

from __future__ import annotations

from collections import defaultdict
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from reaccreditation.dates import as_date
from reaccreditation.workbook.sheets import WRAP_TOP, set_text, table_sheet

RAG_FILL = {"red": "F6D7D2", "amber": "FCE8C3", "green": "CCE2D8", "grey": "E5E6E7"}
READINESS_RAG = {"gap": "red", "at risk": "amber", "ready": "green"}


def _sheet_title(key: str, title: str) -> str:
    bad = str.maketrans({c: " " for c in "[]:*?/\\"})
    return f"{key} {title}".translate(bad)[:31]


def _cover(wb: Workbook, pack: dict[str, Any]) -> None:
    ws = wb.active
    ws.title = "Cover"
    who = pack.get("department") or "Leadership"
    lines: list[tuple[str, Any]] = [
        (
            "Readiness pack",
            f"{pack['organisation']}: {pack['framework']} {pack['assessment_type']} assessment {pack['assessment_year']}",
        ),
        ("For", who),
        ("Pack", f"{pack['label']} ({pack['pack_date']})"),
        (
            "Assessment",
            f"{pack['first_day']} to {pack['last_day']}" + (f", assessor {pack['assessor']}" if pack["assessor"] else ""),
        ),
        ("Days to go", pack["days_to_go"]),
        ("Overall status", pack["rag_word"]),
        ("In one line", pack["verdict"]),
        ("Gap analysis as of", pack["gaps_as_of"] or "not run"),
    ]
    for n, (label, value) in enumerate(lines, 1):
        set_text(ws.cell(row=n, column=1), label).font = Font(bold=True)
        set_text(ws.cell(row=n, column=2), value).alignment = WRAP_TOP
    ws.cell(row=6, column=2).fill = PatternFill("solid", fgColor=RAG_FILL[pack["rag"]])
    row = len(lines) + 2
    set_text(ws.cell(row=row, column=1), "Before the assessor arrives").font = Font(bold=True)
    for n, action in enumerate(pack["actions"], 1):
        set_text(ws.cell(row=row + n - 1, column=2), f"{n}. {action}").alignment = WRAP_TOP
    row += max(len(pack["actions"]), 1) + 1
    set_text(ws.cell(row=row, column=1), "Criterion").font = Font(bold=True)
    for n, head in enumerate(("Status", "Ready", "At risk", "Gaps", "Partials forecast", "Partials last year"), 2):
        set_text(ws.cell(row=row, column=n), head).font = Font(bold=True)
    for c in pack["criteria"]:
        row += 1
        values = [
            f"{c['key']}. {c['title']}",
            c["rag"].title(),
            c.get("ready"),
            c.get("at_risk"),
            c.get("gaps"),
            c.get("partials"),
            c["last_year"]["partials"] if c["last_year"] else None,
        ]
        for n, value in enumerate(values, 1):
            set_text(ws.cell(row=row, column=n), value)
        ws.cell(row=row, column=2).fill = PatternFill("solid", fgColor=RAG_FILL[c["rag"]])
    if pack["missing"]:
        row += 2
        set_text(ws.cell(row=row, column=1), "Missing from this pack").font = Font(bold=True)
        for n, m in enumerate(pack["missing"]):
            set_text(ws.cell(row=row + n, column=2), m).alignment = WRAP_TOP
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 90
    for col in "CDEFG":
        ws.column_dimensions[col].width = 12


ELEMENT_HEADERS = [
    "Element",
    "Title",
    "Status",
    "Forecast",
    "Last year",
    "Owners",
    "Reasons",
    "Evidence items",
    "Fresh evidence",
    "Evidence",
]


def _criterion_sheets(wb: Workbook, org: Any, pack: dict[str, Any], evidence: list[dict[str, Any]]) -> None:
    by_element = {e["element_id"]: e for e in pack["elements"]}
    items: dict[str, list[str]] = defaultdict(list)
    for r in evidence:
        when = as_date(r.get("evidence_date"))
        items[r["element_id"]].append(f"{r['title']} ({r['department_id']}, {when.isoformat() if when else 'undated'})")
    scope = {e["element_id"] for e in pack["elements"]} if pack.get("department_id") else None
    for c in pack["criteria"]:
        criterion = org.standard.criterion(c["key"])
        rows = []
        for element in criterion.elements:
            if scope is not None and element.id not in scope:
                continue
            e = by_element.get(element.id)
            rows.append(
                [
                    element.id,
                    element.title,
                    e["readiness"] if e else "unknown",
                    e["forecast"] if e else "",
                    (e or {}).get("last_rating") or "",
                    ", ".join(d.name for d in org.owners(element.id)) or "no owner",
                    "; ".join(r["message"] for r in e["reasons"] if r["severity"] != "info") if e else "gap analysis not run",
                    e["evidence_count"] if e else None,
                    e["fresh_evidence_count"] if e else None,
                    "; ".join(items.get(element.id, [])),
                ]
            )
        ws = wb.create_sheet(_sheet_title(c["key"], c["title"]))
        table_sheet(ws, ELEMENT_HEADERS, rows, widths=[9, 40, 10, 20, 20, 30, 60, 10, 10, 70])
        for n, row in enumerate(rows, 2):
            ws.cell(row=n, column=3).fill = PatternFill("solid", fgColor=RAG_FILL[READINESS_RAG.get(row[2], "grey")])


GAP_HEADERS = [
    "Element",
    "Element title",
    "Status",
    "Forecast",
    "Severity",
    "Reason",
    "Department",
    "Evidence contact",
    "Due date",
    "Assessor focus",
]


def _gap_register(wb: Workbook, pack: dict[str, Any]) -> None:
    rows = [
        [
            g["element_id"],
            g["element_title"],
            g["readiness"],
            g["forecast"],
            g["severity"],
            g["reason"],
            g["department"] or "",
            g["contact"] or "",
            as_date(g["due_date"]),
            "Yes" if g["in_focus"] else "No",
        ]
        for g in pack["gap_rows"]
        if g["severity"] != "info"
    ]
    ws = wb.create_sheet("Gap register")
    table_sheet(ws, GAP_HEADERS, rows, widths=[9, 40, 10, 20, 9, 70, 26, 45, 12, 10])
    for n in range(2, len(rows) + 2):
        ws.cell(row=n, column=9).number_format = "yyyy-mm-dd"
    if not pack["gaps_as_of"]:
        set_text(ws.cell(row=2, column=1), "The gap analysis has not run: no gap register yet.")


TIMETABLE_HEADERS = ["Day", "Date", "Start", "End", "Session", "Where", "People"]


def _timetable(wb: Workbook, pack: dict[str, Any]) -> None:
    ws = wb.create_sheet("Timetable")
    t = pack["timetable"]
    rows = [
        [d["day"], as_date(d["date"]), i["start"], i["end"], i["title"], i["where"], ", ".join(i["people"])]
        for d in (t["days"] if t else [])
        for i in d["agenda"]
    ]
    table_sheet(ws, TIMETABLE_HEADERS, rows, widths=[6, 12, 8, 8, 45, 40, 60])
    for n in range(2, len(rows) + 2):
        ws.cell(row=n, column=2).number_format = "yyyy-mm-dd"
    if not t:
        set_text(ws.cell(row=2, column=1), "The assessment timetable has not been planned yet (DAG assessment_timetable).")


def readiness_workbook(org: Any, pack: dict[str, Any], evidence: list[dict[str, Any]]) -> bytes:
    """The workbook for a leadership pack or (when ``pack`` has ``department_id``) a department pack."""
    wb = Workbook()
    _cover(wb, pack)
    _criterion_sheets(
        wb,
        org,
        pack,
        evidence if not pack.get("department_id") else [r for r in evidence if r["department_id"] == pack["department_id"]],
    )
    _gap_register(wb, pack)
    _timetable(wb, pack)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
