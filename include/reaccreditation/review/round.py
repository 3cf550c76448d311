"""The review round: what one department hears after the quality team reviewed its evidence, once per round.

A round covers a department's review changes since its last round: the items accepted (or marked not
relevant) since then, and every current item that needs work, each with the reviewer's reason. Its *mark* is
the newest ``evidence_review`` id it covers; the outbox key ``review-round:<year>:<department>:<mark>``
makes a rerun send nothing twice, and the department's newest key is where its next round starts.

Only the net change counts: an item sent back and then put back (to the state it had at the last round:
unreviewed, or accepted again) before the send produces nothing, and a department left with nothing to
hear gets no email. The email goes in the thread of the department's last submission (our reply to it,
and their email when it came by email), with a workbook of only the rows to improve
(:mod:`reaccreditation.review.workbook`), which intake accepts as an ordinary return.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from reaccreditation.db.schema import evidence, evidence_review, mailbox_message, outbound_message, submission
from reaccreditation.review.item import Item
from reaccreditation.review.store import ACCEPTED, NEEDS_WORK, NOT_RELEVANT, UNREVIEWED

DAG_ID = "evidence_review_round"  # the queue page's "Send review round now" triggers it
KIND = "review_round"
KEY_PREFIX = "review-round"
log = logging.getLogger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def round_key(assessment_year: int, department_id: str, mark: int) -> str:
    return f"{KEY_PREFIX}:{assessment_year}:{department_id}:{mark}"


@dataclass
class Round:
    department_id: str
    assessment_year: int
    mark: int  # the newest review change it covers
    accepted: list[Item] = field(default_factory=list)
    not_relevant: list[Item] = field(default_factory=list)
    to_improve: list[Item] = field(default_factory=list)  # every current item that needs work
    kept: list[Item] = field(default_factory=list)  # the other current items of those elements (see workbook)

    @property
    def key(self) -> str:
        return round_key(self.assessment_year, self.department_id, self.mark)

    @property
    def news(self) -> bool:
        """Anything the department has not heard: an acceptance, a 'not relevant', an item newly sent back."""
        return bool(self.accepted or self.not_relevant or any(i.new for i in self.to_improve))

    def summary(self) -> dict[str, Any]:
        return {
            "department_id": self.department_id,
            "mark": self.mark,
            "accepted": len(self.accepted),
            "not_relevant": len(self.not_relevant),
            "to_improve": len(self.to_improve),
        }


def last_mark(conn: Connection, assessment_year: int, department_id: str) -> int:
    """The mark of the department's last round (0 before any): the newest claimed round key's number."""
    keys = conn.execute(
        select(outbound_message.c.dedupe_key).where(
            outbound_message.c.kind == KIND,
            outbound_message.c.assessment_year == assessment_year,
            outbound_message.c.department_id == department_id,
        )
    ).scalars()
    return max((int(k.rsplit(":", 1)[1]) for k in keys if k.rsplit(":", 1)[1].isdigit()), default=0)


def _state(changes: list[Any], upto: int | None = None) -> tuple[str, str | None, str | None]:
    """(state, comment, reviewer name) after the changes with id <= ``upto`` (all when None)."""
    seen = [c for c in changes if upto is None or c.id <= upto]
    if not seen:
        return UNREVIEWED, None, None
    last = seen[-1]
    return last.to_state, last.comment, last.reviewer_name or last.reviewer


def plan(engine: Engine, assessment_year: int, department_id: str | None = None) -> list[Round]:
    """The rounds due now: one per department with news since its last round (read in one transaction)."""
    with engine.connect() as conn:
        query = select(evidence_review).where(evidence_review.c.assessment_year == assessment_year)
        if department_id:
            query = query.where(evidence_review.c.department_id == department_id)
        reviews = conn.execute(query.order_by(evidence_review.c.id)).all()
        departments = sorted({r.department_id for r in reviews})
        rows = {
            r.id: dict(r._mapping)
            for r in conn.execute(
                select(evidence).where(
                    evidence.c.assessment_year == assessment_year,
                    evidence.c.is_current.is_(True),
                    evidence.c.department_id.in_(departments),
                )
            )
        }
        marks = {d: last_mark(conn, assessment_year, d) for d in departments}
    by_item: dict[int, list[Any]] = {}
    for r in reviews:
        by_item.setdefault(r.evidence_id, []).append(r)
    rounds = []
    for dept in departments:
        mark = marks[dept]
        newest = max(r.id for r in reviews if r.department_id == dept)
        if newest <= mark:
            continue
        found = Round(dept, assessment_year, newest)
        for evidence_id, changes in by_item.items():
            row = rows.get(evidence_id)
            if row is None or row["department_id"] != dept:
                continue  # replaced by a newer version (or another department's)
            state, comment, who = _state(changes)
            before = _state(changes, mark)
            changed = changes[-1].id > mark and (state, comment if state == NEEDS_WORK else None) != (
                before[0],
                before[1] if before[0] == NEEDS_WORK else None,
            )
            item = Item(evidence_id, row["element_id"], row["title"], state, comment, who, row, new=changed)
            if state == NEEDS_WORK:
                found.to_improve.append(item)
            elif changed and state == ACCEPTED:
                found.accepted.append(item)
            elif changed and state == NOT_RELEVANT:
                found.not_relevant.append(item)
        if not found.news:
            continue
        elements = {i.element_id for i in found.to_improve}
        improving = {i.evidence_id for i in found.to_improve}
        for evidence_id, row in rows.items():
            if row["department_id"] == dept and row["element_id"] in elements and evidence_id not in improving:
                state, comment, who = _state(by_item.get(evidence_id, []))
                found.kept.append(Item(evidence_id, row["element_id"], row["title"], state, comment, who, row, new=False))
        for items in (found.accepted, found.not_relevant, found.to_improve, found.kept):
            items.sort(key=lambda i: (i.element_id, i.evidence_id))
        rounds.append(found)
    return rounds


def thread_of(engine: Engine, assessment_year: int, department_id: str) -> dict[str, Any] | None:
    """The thread of the department's last submission, as ``answers.thread_headers`` takes it: the message
    to answer (our reply to that file, else their email), the References chain before it, and its subject."""
    with engine.connect() as conn:
        sub = conn.execute(
            select(submission.c.sha256, submission.c.details)
            .where(submission.c.assessment_year == assessment_year, submission.c.department_id == department_id)
            .order_by(submission.c.received_at.desc(), submission.c.id.desc())
            .limit(1)
        ).first()
        if sub is None:
            return None
        reply = conn.execute(
            select(outbound_message.c.message_id, outbound_message.c.subject)
            .where(outbound_message.c.dedupe_key.like(f"intake:{sub.sha256}%"), outbound_message.c.department_id == department_id)
            .order_by(outbound_message.c.id.desc())
            .limit(1)
        ).first()
        their_id = ((sub.details or {}).get("mail") or {}).get("message_id")
        mail = None
        if their_id:
            mail = conn.execute(
                select(mailbox_message.c.message_key, mailbox_message.c.references, mailbox_message.c.subject).where(
                    mailbox_message.c.message_key == their_id
                )
            ).first()
    chain = ((mail.references or "") + " " + mail.message_key).split() if mail else []
    if reply is not None and reply.message_id:
        return {"message_key": reply.message_id, "references": " ".join(chain), "subject": reply.subject}
    if mail is not None:
        return {"message_key": mail.message_key, "references": mail.references or "", "subject": mail.subject}
    return None


def compose(
    org: Any, found: Round, thread: dict[str, Any] | None, workbook: bytes | None, file_name: str, reviewed_on: date
) -> Any:
    """The round's email (an EmailMessage): accepted, not relevant, what needs work and why; threaded."""
    from reaccreditation.mail.compose import Attachment, Draft, address, build_message, sender
    from reaccreditation.mailbox.answers import thread_headers
    from reaccreditation.render import long_date, render
    from reaccreditation.workbook.layout import request_reference

    dept = org.department(found.department_id)
    quality = org.quality_team.members[0]
    n = len(found.to_improve)
    headline = (
        f"{n} evidence item{'s' if n != 1 else ''} need{'s' if n == 1 else ''} work"
        if n
        else "your evidence reviewed: nothing needs work"
    )
    ctx = {
        "greeting": f"Dear {dept.name} evidence contact{'s' if len(dept.evidence_contacts) > 1 else ''},",
        "headline": headline,
        "round": found,
        "reviewed_on": long_date(reviewed_on),
        "year": found.assessment_year,
        "file_name": file_name if workbook else None,
        "mailbox": org.quality_team.mailbox,
        "contact": f"{quality.name}, {quality.email}",
        "reference": request_reference(found.assessment_year, dept.id),
    }
    draft = Draft(
        to=[address(c.name, c.email) for c in dept.evidence_contacts],
        subject=f"{org.organisation.short_name} evidence review {found.assessment_year}, {dept.name}: {headline}",
        text=render("review_round.txt", r=ctx),
        html=render("review_round.html", r=ctx),
        sender=sender(org),
        attachments=[Attachment(file_name, workbook, XLSX)] if workbook else [],
        headers={"X-Reaccreditation-Reference": ctx["reference"]},
    )
    msg = build_message(draft)
    if thread is not None:
        thread_headers(msg, thread)
        del msg["Auto-Submitted"]
        msg["Auto-Submitted"] = "auto-generated"  # news of our own, not an answer to their message
    return msg


def send_rounds(
    engine: Engine,
    org: Any,
    transport: Callable[[Any], None],
    output: Path,
    today: date,
    signing_key: bytes,
    *,
    department_id: str | None = None,
    run_id: str | None = None,
) -> list[dict[str, Any]]:
    """Plan and send the rounds due now (the plan is made at send time, so a revert just before counts)."""
    from reaccreditation.files import write_atomic
    from reaccreditation.mail.outbox import send_once
    from reaccreditation.review.workbook import ImproveWorkbook

    year = org.assessment.year
    known = {d.id for d in org.departments}
    done = []
    for found in plan(engine, year, department_id):
        if found.department_id not in known:
            continue  # a department since removed from the config: nobody to write to
        dept = org.department(found.department_id)
        workbook = ImproveWorkbook(org, dept, improve=found.to_improve, keep=found.kept, signing_key=signing_key)
        data = workbook.to_bytes() if found.to_improve else None
        path = None
        if data is not None:
            target = output / str(year) / "review" / dept.id / f"round-{found.mark}.xlsx"
            path = write_atomic(target, data)
        msg = compose(org, found, thread_of(engine, year, dept.id), data, workbook.file_name, today)
        sent = send_once(
            engine,
            transport,
            msg,
            dedupe_key=found.key,
            assessment_year=year,
            kind=KIND,
            department_id=dept.id,
            attachment=str(path) if path else None,
            run_id=run_id,
        )
        log.info(
            "review round for %s: %d accepted, %d not relevant, %d to improve: %s",
            dept.name,
            len(found.accepted),
            len(found.not_relevant),
            len(found.to_improve),
            "sent" if sent else "already sent (nothing sent twice)",
        )
        done.append(found.summary() | {"sent": sent, "message_id": str(msg["Message-ID"])})
    if not done:
        log.info("review round: no department has review changes since its last round")
    return done
