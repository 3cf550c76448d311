"""Carry out one department's share of a run: build its workbook and emails, send each at most once.

Open elements are counted again here, at the moment of sending, so evidence accepted between planning
and sending stops a reminder. The workbook is written to the output folder before it is sent, so the
quality team can open exactly what the department received.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import Engine

from reaccreditation.files import write_atomic
from reaccreditation.mail.compose import build_message
from reaccreditation.mail.outbox import already_sent, send_once
from reaccreditation.organisation.config import Department, Organisation, Person
from reaccreditation.requests import emails, queries
from reaccreditation.requests.plan import DepartmentWork, Send, open_elements
from reaccreditation.requests.workbook import RequestWorkbook

log = logging.getLogger(__name__)


def workbook_path(output: Path, assessment_year: int, department_id: str) -> Path:
    return Path(output) / str(assessment_year) / "requests" / f"{department_id}.xlsx"


def build_workbook(
    engine: Engine, org: Organisation, department: Department, now: datetime | None = None, signing_key: bytes | None = None
) -> RequestWorkbook:
    """The department's request workbook with last year's evidence and ratings from the database."""
    year = org.assessment.year
    last = queries.last_outcomes(engine, year, department.elements)
    return RequestWorkbook(
        org,
        department,
        prefilled=queries.prefilled_evidence(engine, year, department),
        last_ratings=last.ratings,
        last_actions=last.actions,
        last_year=last.year,
        generated_at=now or datetime.now(UTC).replace(tzinfo=None),
        cycle_asks=cycle_asks(engine, org),
        **({"signing_key": signing_key} if signing_key else {}),
    )


def cycle_asks(engine: Engine, org: Organisation) -> str:
    """What this year's assessment asks of departments: full assessment, review year 1 or 2 (organisation.cycle)."""
    from reaccreditation.organisation.cycle import cycle_year
    from reaccreditation.outcomes.history import load_outcomes

    return cycle_year(org, load_outcomes(engine)).asks(org.standard)


def _contact(department: Department, email: str | None) -> Person | None:
    return next((c for c in department.evidence_contacts if c.email == email), None)


def carry_out(
    engine: Engine,
    transport: Callable[[EmailMessage], None],
    org: Organisation,
    work: DepartmentWork,
    *,
    today: date,
    run_id: str,
    output: Path,
    signing_key: bytes | None = None,
) -> dict[str, int]:
    """Send what ``work`` lists; returns counts per kind of what was sent now (and ``skipped``)."""
    year = org.assessment.year
    department = org.department(work.department_id)
    counts: Counter[str] = Counter()
    evidenced = queries.evidenced_elements(engine, year)
    open_ids = open_elements(org, department, evidenced)
    ratings = queries.last_outcomes(engine, year, department.elements).ratings
    lines = emails.element_lines(org, open_ids, ratings)

    def send(s: Send, draft, attachment: str | None = None) -> None:  # type: ignore[no-untyped-def]
        sent = send_once(
            engine,
            transport,
            build_message(draft),
            dedupe_key=s.dedupe_key,
            assessment_year=year,
            kind=s.kind,
            department_id=department.id,
            run_id=run_id,
            attachment=attachment,
        )
        counts[s.kind if sent else "skipped"] += 1

    requests = [s for s in work.sends if s.kind in ("request", "resend") and not already_sent(engine, s.dedupe_key)]
    if requests:
        workbook = build_workbook(engine, org, department, signing_key=signing_key)
        data = workbook.to_bytes()
        path = write_atomic(workbook_path(output, year, department.id), data)
        attachment = str(path)
        log.info(
            "%s: workbook %s (%d bytes, %d elements, %d pre-filled rows)",
            department.id,
            path,
            len(data),
            len(workbook.element_ids),
            len(workbook.prefilled),
        )
        for s in requests:
            contact = _contact(department, s.contact_email)
            if contact is None:
                log.warning("%s: a planned %s is for someone no longer an evidence contact; not sent", department.id, s.kind)
                counts["skipped"] += 1
                continue
            send(
                s,
                emails.request_draft(
                    org,
                    department,
                    contact,
                    workbook=data,
                    file_name=workbook.file_name,
                    open_elements=lines,
                    prefilled=len(workbook.prefilled),
                    today=today,
                    resend=s.kind == "resend",
                    asks=workbook.cycle_asks,
                ),
                attachment,
            )
    for s in work.sends:
        if s.kind not in ("reminder", "escalation"):
            continue
        if not open_ids:
            log.info("%s: every element now has evidence; %s not sent", department.id, s.dedupe_key)
            counts["skipped"] += 1
            continue
        if s.kind == "reminder":
            contact = _contact(department, s.contact_email)
            if contact is None:
                counts["skipped"] += 1
                continue
            send(s, emails.reminder_draft(org, department, contact, number=s.number, open_elements=lines, today=today))
        else:
            send(s, emails.escalation_draft(org, department, open_elements=lines, today=today))
    log.info("%s: %s", department.id, dict(counts) or "nothing sent")
    return dict(counts)
