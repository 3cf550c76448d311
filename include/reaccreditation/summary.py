"""The season summary: what the config says this year's reaccreditation looks like.

The quality team's first check after editing the config: the key dates, who owns which elements and
what is left unowned. Plain data in, plain data out; the DAG publishes and emails it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from reaccreditation.organisation import Organisation


def key_dates(org: Organisation) -> list[dict[str, Any]]:
    s = org.schedule
    rows = [("Evidence requests sent", s.requests_days_before)]
    rows += [(f"Reminder {i}", d) for i, d in enumerate(s.reminders_days_before, 1)]
    rows += [("Workbooks due back", s.return_days_before), ("Escalation to heads of department", s.escalation_days_before)]
    rows += [(f"Readiness pack {i}", d) for i, d in enumerate(s.packs_days_before, 1)]
    out = [{"what": what, "date": org.due_date(days), "days_before": days} for what, days in rows]
    out.append({"what": "Assessment starts", "date": org.assessment.first_day, "days_before": 0})
    return sorted(out, key=lambda r: r["date"])


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
    }
