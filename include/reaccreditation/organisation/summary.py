"""The season summary: what the config says this year's reaccreditation looks like.

The quality team's first check after editing the config: the key dates, who owns which elements and
what is left unowned. Plain data in, plain data out; the DAG publishes and emails it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from reaccreditation.organisation.config import Organisation
from reaccreditation.organisation.working_days import NATION_NAMES, day_off, days_off_between


def key_dates(org: Organisation) -> list[dict[str, Any]]:
    """Every date someone acts on, already moved off weekends and bank holidays (``moved`` says from what)."""
    s = org.schedule
    rows = [("Evidence requests sent", s.requests_days_before)]
    rows += [(f"Reminder {i}", d) for i, d in enumerate(s.reminders_days_before, 1)]
    rows += [("Workbooks due back", s.return_days_before), ("Escalation to heads of department", s.escalation_days_before)]
    rows += [(f"Readiness pack {i}", d) for i, d in enumerate(s.packs_days_before, 1)]
    out = []
    for what, days in rows:
        why = org.moved_because(days)
        was = org.scheduled_date(days)
        on = f"{was.day} {was:%b}"
        moved = (
            (f"moved from {why} {on}" if why in ("Saturday", "Sunday") else f"moved from {was:%a} {on} ({why})") if why else None
        )
        out.append({"what": what, "date": org.due_date(days), "days_before": days, "moved": moved})
    out.append({"what": "Assessment starts", "date": org.assessment.dates[0], "days_before": 0, "moved": None})
    out.append(
        {
            "what": "Assessor's outcome entered (DAG assessment_outcome)",
            "date": org.outcome_due,
            "days_before": None,
            "moved": None,
        }
    )
    return sorted(out, key=lambda r: r["date"])


def calendar_notes(org: Organisation) -> list[str]:
    """What the config check tells the quality team about the assessment dates and the nation's calendar."""
    a = org.assessment
    nation = NATION_NAMES[org.nation]
    notes = []
    why = day_off(a.first_day, org.nation)
    if why:
        notes.append(
            f"assessment.first_day {a.first_day:%A %d %B %Y} is a day off in {nation} ({why}): "
            f"the assessment days start on {a.dates[0]:%A %d %B}; move first_day, or agree the date with the assessor"
        )
    holidays = [(d, w) for d, w in days_off_between(a.first_day, a.last_day, org.nation) if d != a.first_day and "bank" in w]
    if holidays:
        notes.append(
            f"the {a.days} assessment days skip {', '.join(f'{d:%a} {d.day} {d:%b} ({w})' for d, w in holidays)}: "
            f"they run {a.dates[0]:%a} {a.dates[0].day} {a.dates[0]:%b} to {a.last_day:%a} {a.last_day.day} {a.last_day:%b %Y}"
            "; no session is timetabled on a day off (move first_day, or agree the dates with the assessor)"
        )
    return notes


def summarise(org: Organisation, today: date) -> dict[str, Any]:
    standard = org.standard
    criteria = []
    for c in standard.criteria:
        elements = c.elements
        criteria.append(
            {
                "id": c.id,
                "title": c.title,
                "sub_criteria": len(c.sub_criteria),
                "elements": len(elements),
                "owned": sum(1 for e in elements if org.owners(e.id)),
                "max_partials": c.max_partials,
            }
        )
    departments = [
        {
            "id": d.id,
            "name": d.name,
            "head": d.head.name,
            "contacts": [p.name for p in d.evidence_contacts],
            "elements": len(d.elements),
        }
        for d in org.departments
    ]
    return {
        "organisation": org.organisation.name,
        "framework": standard.name,
        "assessment_year": org.assessment.year,
        "assessment_type": org.assessment.type,
        "first_day": org.assessment.first_day,
        "last_day": org.assessment.last_day,
        "days_to_go": (org.assessment.first_day - today).days,
        "evidence_window_start": org.assessment.evidence_window_start,
        "today": today,
        "counts": {
            "criteria": len(standard.criteria),
            "sub_criteria": len(standard.sub_criteria),
            "elements": len(standard.elements),
            "departments": len(org.departments),
            "contacts": sum(len(d.evidence_contacts) for d in org.departments),
        },
        "criteria": criteria,
        "departments": departments,
        "unowned_elements": org.unowned_elements,
        "key_dates": key_dates(org),
        "nation": NATION_NAMES[org.nation],
        "calendar_notes": calendar_notes(org),
        "assessment_dates": list(org.assessment.dates),
    }
