"""The three emails of the request season as drafts: the request (workbook attached), reminders, escalation.

Drafts are plain data built from the config and the register, rendered from Jinja templates
(``templates/request_*``: HTML for phones and desktops, plain text alternative). Every reply goes to the
quality mailbox, and the request reference rides in the subject and in ``X-Reaccreditation-Reference`` so
replies and returned workbooks can be matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from reaccreditation.mail.compose import Attachment, Draft, address, sender
from reaccreditation.organisation.config import Department, Organisation, Person
from reaccreditation.render import render
from reaccreditation.workbook.layout import request_reference

REFERENCE_HEADER = "X-Reaccreditation-Reference"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ElementLine:
    id: str
    title: str
    last_rating: str | None = None
    last_level: str | None = None  # the rating's level on the standard's scale (exceeds, meets, partial, fails)

    @property
    def flag(self) -> str:
        """A short note for elements the assessor did not rate fully met (or rated exceptional) last time."""
        if self.last_level in ("partial", "fails", "exceeds"):
            return f"{self.last_rating} last time"
        return ""

    @property
    def flag_colour(self) -> str:
        """Red for not met last time, green for the top rating (accessible contrast on white)."""
        return "#942514" if self.last_level in ("partial", "fails") else "#005a30"


def element_lines(org: Organisation, element_ids: Sequence[str], last_ratings: dict[str, str]) -> list[ElementLine]:
    standard = org.standard
    return [
        ElementLine(e, standard.element(e).title, last_ratings.get(e), standard.level_of(last_ratings.get(e)))
        for e in element_ids
    ]


def _context(org: Organisation, department: Department, open_elements: Sequence[ElementLine], today: date) -> dict:
    quality = org.quality_team.members[0]
    return {
        "org": org,
        "framework": org.standard.name,
        "department": department,
        "reference": request_reference(org.assessment.year, department.id),
        "deadline": org.return_deadline,
        "deadline_passed": today > org.return_deadline,
        "days_left": (org.return_deadline - today).days,
        "open_elements": list(open_elements),
        "owned": len(set(department.elements)),
        "quality": quality,
        "mailbox": org.quality_team.mailbox,
        "today": today,
    }


def _draft(org: Organisation, template: str, to: Sequence[Person], subject: str, ctx: dict, **extra) -> Draft:  # type: ignore[no-untyped-def]
    return Draft(
        to=[address(p.name, p.email) for p in to],
        subject=f"{subject} [{ctx['reference']}]",
        text=render(f"{template}.txt", **ctx),
        html=render(f"{template}.html", **ctx),
        sender=sender(org),
        headers={REFERENCE_HEADER: ctx["reference"]},
        **extra,
    )


def request_draft(
    org: Organisation,
    department: Department,
    contact: Person,
    *,
    workbook: bytes,
    file_name: str,
    open_elements: Sequence[ElementLine],
    prefilled: int,
    today: date,
    resend: bool = False,
    asks: str = "",
) -> Draft:
    """The request to one evidence contact, with the department's workbook attached; ``asks``: what this
    cycle year (full assessment, review year 1 or 2) asks for."""
    ctx = _context(org, department, open_elements, today) | {
        "cycle_asks": asks,
        "contact": contact,
        "prefilled": prefilled,
        "resend": resend,
        "file_name": file_name,
    }
    year = org.assessment.year
    subject = f"{'Resent: ' if resend else ''}Evidence request {year}: {department.name}, reply by {org.return_deadline:%d %B %Y}"
    return _draft(org, "request_request", [contact], subject, ctx, attachments=[Attachment(file_name, workbook, XLSX)])


def reminder_draft(
    org: Organisation, department: Department, contact: Person, *, number: int, open_elements: Sequence[ElementLine], today: date
) -> Draft:
    ctx = _context(org, department, open_elements, today) | {"contact": contact, "number": number}
    n = len(open_elements)
    subject = (
        f"Reminder: {department.name} evidence due {org.return_deadline:%d %B %Y}, {n} element{'s' if n != 1 else ''} still open"
    )
    return _draft(org, "request_reminder", [contact], subject, ctx)


def escalation_draft(org: Organisation, department: Department, *, open_elements: Sequence[ElementLine], today: date) -> Draft:
    """To the head of department, the quality team in copy."""
    ctx = _context(org, department, open_elements, today) | {"head": department.head}
    n = len(open_elements)
    subject = (
        f"Action needed: {department.name} has {n} element{'s' if n != 1 else ''} without evidence for the {org.assessment.year} "
        "assessment"
    )
    return _draft(
        org,
        "request_escalation",
        [department.head],
        subject,
        ctx,
        cc=[address(m.name, m.email) for m in org.quality_team.members],
    )
