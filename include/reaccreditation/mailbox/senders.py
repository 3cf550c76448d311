"""Who may send evidence for a department, and which department a message is about.

The department comes from the request reference (``REQ-2027-housing``): the reference header, the
request email the message answers (its Message-ID is in our outbox log), the subject (ours ends in
``[REQ-...]`` and replies keep it), a forwarded message inside; failing all of those, the sender's own
department when they belong to exactly one. Only that department's evidence contacts and head may
submit; anyone else's attachments are quarantined and the quality team told, and strangers get no reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from reaccreditation.mailbox.message import Incoming
from reaccreditation.organisation.config import Organisation
from reaccreditation.workbook import layout

REFERENCE = re.compile(r"REQ-(\d{4})-([A-Za-z0-9][A-Za-z0-9_-]*)", re.IGNORECASE)


@dataclass(frozen=True)
class Decision:
    department_id: str | None
    reference: str | None
    found_by: str  # header | thread | subject | forwarded | sender | none
    authorised: bool
    role: str | None  # evidence contact | head of department
    reason: str


def _department_in(text: str, known: Iterable[str]) -> tuple[str, str] | None:
    """(department id, reference) for the first reference in ``text`` naming a known department."""
    ids = sorted(known, key=len, reverse=True)
    for m in REFERENCE.finditer(text or ""):
        token = m.group(2).lower()
        for dept_id in ids:
            if token == dept_id or token.startswith(dept_id + "-") or token.startswith(dept_id + "_"):
                return dept_id, layout.request_reference(int(m.group(1)), dept_id)
    return None


def decide(org: Organisation, incoming: Incoming, thread_departments: Iterable[str] = ()) -> Decision:
    """``thread_departments``: departments of our emails whose Message-ID this message answers."""
    known = {d.id for d in org.departments}
    year = org.assessment.year
    found: tuple[str, str] | None = None
    found_by = "none"
    candidates: list[tuple[str, str]] = [("header", str(incoming.msg.get("X-Reaccreditation-Reference") or ""))]
    for how, text in candidates:
        found = _department_in(text, known)
        if found:
            found_by = how
            break
    if not found:
        thread = [d for d in dict.fromkeys(thread_departments) if d in known]
        if len(thread) == 1:
            found, found_by = (thread[0], layout.request_reference(year, thread[0])), "thread"
    for how, text in (
        ("subject", incoming.subject),
        *(("forwarded", t) for t in incoming.nested_references + incoming.nested_subjects),
    ):
        if found:
            break
        found = _department_in(text, known)
        found_by = how if found else found_by
    sender = incoming.sender or ""
    if not found:
        own = [d.id for d in org.departments if sender in _allowed(org, d.id)]
        if len(own) == 1:
            found, found_by = (own[0], layout.request_reference(year, own[0])), "sender"
    if not found:
        return Decision(
            None,
            None,
            "none",
            False,
            None,
            f"{sender or 'the sender'} is not an evidence contact or head of any one department, and the message names no "
            "request reference",
        )
    dept_id, reference = found
    role = _role(org, dept_id, sender)
    if role is None:
        dept = org.department(dept_id)
        return Decision(
            dept_id,
            reference,
            found_by,
            False,
            None,
            f"{sender or 'the sender'} is not an evidence contact or the head of {dept.name}, the department {reference} names",
        )
    return Decision(dept_id, reference, found_by, True, role, f"{sender} is {role} of {org.department(dept_id).name}")


def _allowed(org: Organisation, dept_id: str) -> set[str]:
    dept = org.department(dept_id)
    return {c.email.lower() for c in dept.evidence_contacts} | {dept.head.email.lower()}


def _role(org: Organisation, dept_id: str, sender: str) -> str | None:
    dept = org.department(dept_id)
    if sender in {c.email.lower() for c in dept.evidence_contacts}:
        return "evidence contact"
    if sender == dept.head.email.lower():
        return "head of department"
    return None
