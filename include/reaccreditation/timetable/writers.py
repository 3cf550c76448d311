"""The timetable for people: ``timetable.xlsx`` (``timetable.json`` for other DAGs is ``timetable_json``).

The workbook has one sheet per day (the assessor's running order, lunch and journeys between sites
included, virtual sessions with their joining link), a per-participant sheet (each person's sessions)
and a coverage sheet (which sessions speak to each element in scope).
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from reaccreditation.timetable.ics import MODE_LABEL, where
from reaccreditation.timetable.problem import Problem, clock
from reaccreditation.timetable.solution import Timetable
from reaccreditation.timetable.travel import legs
from reaccreditation.workbook.formulas import spreadsheet_text


def timetable_xlsx(p: Problem, t: Timetable) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    lunch_fill = PatternFill("solid", fgColor="F2F2F2")
    travel_fill = PatternFill("solid", fgColor="FFF2CC")
    journeys = legs(p, t)
    wb = Workbook()
    wb.remove(wb.active)
    names = {e: n for s in p.sessions for n, e in s.members} | {e: n for n, e in p.assessors}
    for day, date in enumerate(p.days):
        ws = wb.create_sheet(f"Day {day + 1} {date:%a %d %b}")
        ws.append(
            [
                "Start",
                "End",
                "Session",
                "Kind",
                "Mode",
                "Where",
                "Departments",
                "Elements",
                "Participants",
                "Assessor",
                "Joining link",
            ]
        )
        rows: list[tuple[int, Any]] = [(pl.start, pl) for pl in t.placements if pl.day == day]
        rows += [(lb.start, lb) for lb in t.lunches if lb.day == day] + [(leg.start, leg) for leg in journeys if leg.day == day]
        for _, item in sorted(rows, key=lambda r: (r[0], type(r[1]).__name__)):
            if hasattr(item, "origin"):
                ws.append(
                    [
                        clock(item.start),
                        clock(item.end),
                        "Travel",
                        "",
                        f"{item.minutes} minutes",
                        spreadsheet_text(item.text(p)),
                        "",
                        "",
                        "",
                        names.get(item.assessor, item.assessor),
                    ]
                )
                for cell in ws[ws.max_row]:
                    cell.fill = travel_fill
                continue
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
                    spreadsheet_text(s.title),
                    s.kind,
                    MODE_LABEL[item.mode],
                    spreadsheet_text(where(p, item.mode, item.site, item.room, item.link)),
                    spreadsheet_text(", ".join(p.department_names.get(d, d) for d in s.departments)),
                    ", ".join(s.elements),
                    spreadsheet_text(", ".join(n for n, _ in s.members)),
                    names.get(item.assessor, item.assessor),
                    spreadsheet_text(item.link or ""),
                ]
            )
            _hyperlink(ws.cell(ws.max_row, 11), item.link)
        _format(ws, bold, head_fill, Alignment)
    ws = wb.create_sheet("Participants")
    ws.append(["Person", "Email", "Session", "Day", "Date", "Start", "End", "Mode", "Where", "Joining link"])
    rows = []
    for pl in t.placements:
        s = p.session(pl.key)
        for n, e in s.members:
            rows.append(
                [
                    spreadsheet_text(n),
                    e,
                    spreadsheet_text(s.title),
                    pl.day + 1,
                    p.days[pl.day].isoformat(),
                    clock(pl.start),
                    clock(pl.end),
                    MODE_LABEL[pl.mode],
                    spreadsheet_text(where(p, pl.mode, pl.site, pl.room, pl.link)),
                    spreadsheet_text(pl.link or ""),
                ]
            )
    for row in sorted(rows, key=lambda r: (r[0].lower(), r[3], r[5])):
        ws.append(row)
        _hyperlink(ws.cell(ws.max_row, 10), row[9] or None)
    _format(ws, bold, head_fill, Alignment)
    ws = wb.create_sheet("Coverage")
    ws.append(["Element", "Focus", "Sessions"])
    for e in p.scope:
        covering = [p.session(pl.key).title for pl in t.placements if e in p.session(pl.key).elements]
        ws.append([e, "yes" if e in p.focus else "", spreadsheet_text("; ".join(covering))])
    _format(ws, bold, head_fill, Alignment)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _hyperlink(cell: Any, link: str | None) -> None:
    """A joining link people can click in Excel, LibreOffice and Numbers."""
    if link:
        cell.hyperlink = link
        cell.style = "Hyperlink"


def _format(ws: Any, bold: Any, fill: Any, alignment: Any) -> None:
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
    ws.freeze_panes = "A2"
    for column in ws.columns:
        width = max(len(str(c.value or "")) for c in column)
        ws.column_dimensions[column[0].column_letter].width = min(60, max(8, width + 2))
        for c in column[1:]:
            c.alignment = alignment(vertical="top", wrap_text=width > 60)
