"""The timetable as files: ``timetable.json`` for other DAGs, ``timetable.xlsx`` for people.

The workbook has one sheet per day (the assessor's running order, lunch included), a per-participant
sheet (each person's sessions) and a coverage sheet (which sessions speak to each element in scope).
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from reaccreditation.timetable.ics import MODE_LABEL, where
from reaccreditation.timetable.problem import Problem, clock
from reaccreditation.timetable.solution import Timetable
from reaccreditation.timetable.store import SessionState, local_datetime

SCHEMA = "reaccreditation.timetable/1"


def _safe(text: str) -> str:
    """Cell text that a spreadsheet will never read as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def timetable_json(
    p: Problem,
    t: Timetable,
    states: list[SessionState],
    *,
    organisation: str,
    year: int,
    assessment_type: str,
    scope: dict[str, Any],
) -> dict[str, Any]:
    ident = {s.key: s for s in states}
    sessions = []
    for pl in t.placements:
        s = p.session(pl.key)
        st = ident.get(pl.key)
        sessions.append(
            {
                "key": s.key,
                "uid": st.uid if st else None,
                "sequence": st.sequence if st else None,
                "title": s.title,
                "group_id": s.group_id,
                "kind": s.kind,
                "departments": list(s.departments),
                "elements": list(s.elements),
                "focus": s.focus,
                "day": pl.day + 1,
                "date": p.days[pl.day].isoformat(),
                "start": clock(pl.start),
                "end": clock(pl.end),
                "starts_at": local_datetime(p, pl.day, pl.start).isoformat(),
                "ends_at": local_datetime(p, pl.day, pl.end).isoformat(),
                "mode": pl.mode,
                "preferred_mode": s.mode,
                "site": pl.site,
                "room": pl.room,
                "where": where(p, pl.mode, pl.site, pl.room),
                "assessor": pl.assessor,
                "members": [{"name": n, "email": e} for n, e in s.members],
            }
        )
    return {
        "schema": SCHEMA,
        "organisation": organisation,
        "assessment_year": year,
        "assessment_type": assessment_type,
        "days": [d.isoformat() for d in p.days],
        "scope": scope,
        "sessions": sessions,
        "lunches": [
            {"assessor": lb.assessor, "day": lb.day + 1, "start": clock(lb.start), "end": clock(lb.end)} for lb in t.lunches
        ],
        "cancelled": [{"key": s.key, "uid": s.uid, "sequence": s.sequence} for s in states if s.status == "cancelled"],
        "solver": t.to_dict() | {"placements": None, "lunches": None},
    }


def timetable_xlsx(p: Problem, t: Timetable) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    lunch_fill = PatternFill("solid", fgColor="F2F2F2")
    wb = Workbook()
    wb.remove(wb.active)
    names = {e: n for s in p.sessions for n, e in s.members} | {e: n for n, e in p.assessors}
    for day, date in enumerate(p.days):
        ws = wb.create_sheet(f"Day {day + 1} {date:%a %d %b}")
        ws.append(["Start", "End", "Session", "Kind", "Mode", "Where", "Departments", "Elements", "Participants", "Assessor"])
        rows = [(pl.start, pl) for pl in t.placements if pl.day == day] + [(lb.start, lb) for lb in t.lunches if lb.day == day]
        for _, item in sorted(rows, key=lambda r: (r[0], type(r[1]).__name__)):
            if not hasattr(item, "key"):
                ws.append(
                    [clock(item.start), clock(item.end), "Lunch", "", "", "", "", "", "", names.get(item.assessor, item.assessor)]
                )
                for cell in ws[ws.max_row]:
                    cell.fill = lunch_fill
                continue
            s = p.session(item.key)
            ws.append(
                [
                    clock(item.start),
                    clock(item.end),
                    _safe(s.title),
                    s.kind,
                    MODE_LABEL[item.mode],
                    _safe(where(p, item.mode, item.site, item.room)),
                    _safe(", ".join(p.department_names.get(d, d) for d in s.departments)),
                    ", ".join(s.elements),
                    _safe(", ".join(n for n, _ in s.members)),
                    names.get(item.assessor, item.assessor),
                ]
            )
        _format(ws, bold, head_fill, Alignment)
    ws = wb.create_sheet("Participants")
    ws.append(["Person", "Email", "Session", "Day", "Date", "Start", "End", "Mode", "Where"])
    rows = []
    for pl in t.placements:
        s = p.session(pl.key)
        for n, e in s.members:
            rows.append(
                [
                    _safe(n),
                    e,
                    _safe(s.title),
                    pl.day + 1,
                    p.days[pl.day].isoformat(),
                    clock(pl.start),
                    clock(pl.end),
                    MODE_LABEL[pl.mode],
                    _safe(where(p, pl.mode, pl.site, pl.room)),
                ]
            )
    for row in sorted(rows, key=lambda r: (r[0].lower(), r[3], r[5])):
        ws.append(row)
    _format(ws, bold, head_fill, Alignment)
    ws = wb.create_sheet("Coverage")
    ws.append(["Element", "Focus", "Sessions"])
    for e in p.scope:
        covering = [p.session(pl.key).title for pl in t.placements if e in p.session(pl.key).elements]
        ws.append([e, "yes" if e in p.focus else "", _safe("; ".join(covering))])
    _format(ws, bold, head_fill, Alignment)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _format(ws: Any, bold: Any, fill: Any, alignment: Any) -> None:
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
    ws.freeze_panes = "A2"
    for column in ws.columns:
        width = max(len(str(c.value or "")) for c in column)
        ws.column_dimensions[column[0].column_letter].width = min(60, max(8, width + 2))
        for c in column[1:]:
            c.alignment = alignment(vertical="top", wrap_text=width > 60)
