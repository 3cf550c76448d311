"""Which evidence-request emails are due on a given day, decided from the config's schedule alone.

The DAG runs daily. Each stage has a window: it opens on its day (``T - days_before``) and stays open
until the next stage opens, so a missed day is caught up by the next run, and the dedupe keys in the
request log make sure nothing goes twice:

- requests open at ``T - requests_days_before`` and stay open until the assessment (a department added to
  the config late still gets its request);
- reminder *n* opens at its offset and closes when the next reminder or the escalation opens; it goes to
  contacts of departments that still have open elements, once their own request went out in an earlier run;
- the escalation opens at ``T - escalation_days_before`` and closes when the assessment starts; it goes
  to the head of each department that still has open elements, with the quality team in copy.

A manual run may name one department (its request is then due whatever the date) and may ask for an
explicit resend of that department's request, under a new key that includes the run id.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Literal

from reaccreditation.organisation.config import Department, Organisation

StageKind = Literal["request", "reminder", "escalation"]
SendKind = Literal["request", "resend", "reminder", "escalation"]


class PlanError(ValueError):
    """The run's parameters cannot be honoured (unknown department, resend without a department)."""


@dataclass(frozen=True)
class Stage:
    kind: StageKind
    opens: date
    closes: date  # last day the stage is still caught up
    number: int = 0  # reminders count from 1

    @property
    def label(self) -> str:
        return f"reminder {self.number}" if self.kind == "reminder" else self.kind


def stages(org: Organisation) -> list[Stage]:
    """Every stage of the season with its window, in date order."""
    s = org.schedule
    last = org.assessment.first_day - timedelta(days=1)
    escalation = org.due_date(s.escalation_days_before)
    reminder_days = sorted(org.due_date(d) for d in set(s.reminders_days_before))
    out = [Stage("request", org.due_date(s.requests_days_before), last)]
    for n, opens in enumerate(reminder_days, 1):
        later = [d for d in [*reminder_days, escalation] if d > opens]
        out.append(Stage("reminder", opens, min(later) - timedelta(days=1) if later else last, n))
    out.append(Stage("escalation", escalation, last))
    return sorted(out, key=lambda st: (st.opens, st.kind))


def open_stages(org: Organisation, today: date) -> list[Stage]:
    return [st for st in stages(org) if st.opens <= today <= st.closes]


def why_nothing_is_due(org: Organisation, today: date) -> str:
    upcoming = [st for st in stages(org) if st.opens > today]
    if today >= org.assessment.first_day:
        return f"the assessment started on {org.assessment.first_day}: no more requests, reminders or escalations"
    if upcoming:
        nxt = upcoming[0]
        return f"nothing is due on {today}: the next stage is {nxt.label} on {nxt.opens} ({(nxt.opens - today).days} days)"
    return f"nothing is due on {today}"


@dataclass(frozen=True)
class Send:
    """One email to send: its key in the request log says what it is and makes it at-most-once."""

    kind: SendKind
    dedupe_key: str
    contact_email: str | None = None  # None: the escalation, addressed to the department head
    number: int = 0


@dataclass
class DepartmentWork:
    """Everything one department is due in this run: one mapped task."""

    department_id: str
    sends: list[Send] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"department_id": self.department_id, "sends": [asdict(s) for s in self.sends]}

    @classmethod
    def from_dict(cls, data: dict) -> DepartmentWork:
        return cls(data["department_id"], [Send(**s) for s in data["sends"]])


@dataclass
class Plan:
    today: date
    assessment_year: int
    stages: list[Stage]
    work: list[DepartmentWork]
    notes: list[str]


def open_elements(org: Organisation, department: Department, evidenced: dict[str, set[str]]) -> list[str]:
    """The department's owned elements still without current evidence from it, in standard order."""
    have = evidenced.get(department.id, set())
    order = {e.id: i for i, e in enumerate(org.standard.elements)}
    return sorted((e for e in set(department.elements) if e not in have), key=order.__getitem__)


def request_key(year: int, department_id: str, email: str) -> str:
    return f"request:{year}:{department_id}:{email.lower()}"


def resend_key(year: int, department_id: str, run_id: str, email: str) -> str:
    return f"resend:{year}:{department_id}:{run_id}:{email.lower()}"


def reminder_key(number: int, year: int, department_id: str, email: str) -> str:
    return f"reminder{number}:{year}:{department_id}:{email.lower()}"


def escalation_key(year: int, department_id: str) -> str:
    return f"escalation:{year}:{department_id}"


def plan_run(
    org: Organisation,
    today: date,
    *,
    run_id: str,
    sent: set[str],
    requested_before: set[tuple[str, str]],
    evidenced: dict[str, set[str]],
    department: str | None = None,
    resend: bool = False,
) -> Plan:
    """Decide every email of this run from plain data (the DAG fetches ``sent``, ``requested_before`` and
    ``evidenced`` from the database; tests pass them in).

    ``sent``: dedupe keys already in the request log; ``requested_before``: (department id, contact email)
    whose request went out in an earlier run; ``evidenced``: department id -> elements with current evidence.
    """
    year = org.assessment.year
    notes: list[str] = []
    if resend and not department:
        raise PlanError("resend=true needs a department: say which department's request to send again")
    if department is not None:
        ids = [d.id for d in org.departments]
        if department not in ids:
            raise PlanError(f"department {department!r} is not in the config; departments: {', '.join(ids)}")
    departments = [d for d in org.departments if department is None or d.id == department]
    due = open_stages(org, today)
    if department and today < org.assessment.first_day and not any(st.kind == "request" for st in due):
        due = [Stage("request", today, today), *due]
        notes.append(
            f"manual run for {department}: its request is due now (the scheduled date is "
            f"{org.due_date(org.schedule.requests_days_before)})"
        )
    if not due and not resend:
        notes.append(why_nothing_is_due(org, today))
        return Plan(today, year, [], [], notes)

    work: list[DepartmentWork] = []
    for d in departments:
        item = DepartmentWork(d.id)
        open_ids = open_elements(org, d, evidenced)
        if resend:
            item.sends += [Send("resend", resend_key(year, d.id, run_id, c.email), c.email) for c in d.evidence_contacts]
        for st in due:
            if st.kind == "request":
                item.sends += [
                    Send("request", key, c.email)
                    for c in d.evidence_contacts
                    if (key := request_key(year, d.id, c.email)) not in sent
                ]
            elif not open_ids:
                continue  # fully evidenced: no reminder, no escalation
            elif not any((d.id, c.email) in requested_before for c in d.evidence_contacts):
                notes.append(f"{d.id}: no {st.label} because its request was not sent by an earlier run")
            elif st.kind == "reminder":
                for c in d.evidence_contacts:
                    if (d.id, c.email) not in requested_before:
                        notes.append(f"{d.id}: no {st.label} to {c.email}: the request to them was not sent by an earlier run")
                    elif (key := reminder_key(st.number, year, d.id, c.email)) not in sent:
                        item.sends.append(Send("reminder", key, c.email, st.number))
            elif (key := escalation_key(year, d.id)) not in sent:
                item.sends.append(Send("escalation", key))
        if item.sends:
            work.append(item)
    labels = ", ".join(st.label for st in due)
    if not work:
        notes.append(
            f"{labels} open on {today}, but every email due is already in the request log (or no department has open elements)"
        )
    return Plan(today, year, due, work, notes)
