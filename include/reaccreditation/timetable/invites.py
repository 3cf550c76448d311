"""Emailing the timetable: one invite per session to its participants, the full calendar to the assessor.

Every message goes through :func:`reaccreditation.outbox.send_once`. A session invite's dedupe key is
its UID and SEQUENCE, so a rerun sends nothing and a reschedule sends only the moved sessions' updates;
the assessor's calendar key is a digest of every (UID, SEQUENCE), so it goes again only after a change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Engine

from reaccreditation.mail import Attachment, Draft, address, build_message
from reaccreditation.outbox import Transport, send_once
from reaccreditation.render import render
from reaccreditation.timetable.ics import MODE_LABEL, EventInfo, calendar, where
from reaccreditation.timetable.problem import Problem, clock
from reaccreditation.timetable.store import stored_sessions

ICS = "text/calendar"


@dataclass(frozen=True)
class Sent:
    invites: int = 0
    cancellations: int = 0
    assessor: int = 0
    skipped: int = 0  # already sent (same UID and SEQUENCE) or nobody to invite


def _info(row: dict) -> EventInfo:
    return EventInfo(
        uid=row["uid"],
        sequence=row["sequence"],
        key=row["session_key"],
        day=row["day"],
        start=row["start_minute"],
        end=row["end_minute"],
        mode=row["mode"],
        site=row["site_id"],
        room=row["room_id"],
        cancelled=row["status"] == "cancelled",
        title=row["title"],
        members=tuple(tuple(m) for m in row["attendees"]),  # type: ignore[misc]
    )


def send_timetable(
    engine: Engine,
    transport: Transport,
    p: Problem,
    *,
    year: int,
    organisation: str,
    organiser: tuple[str, str],
    workbook: bytes | None = None,
    run_id: str | None = None,
) -> Sent:
    rows = stored_sessions(engine, year)
    invites = cancellations = skipped = 0
    sender = address(*organiser)
    for row in rows:
        info = _info(row)
        if not info.members:
            skipped += 1
            continue
        method = "CANCEL" if info.cancelled else "REQUEST"
        ctx = {
            "organisation": organisation,
            "title": info.title,
            "date": p.days[info.day] if info.day < len(p.days) else None,
            "start": clock(info.start),
            "end": clock(info.end),
            "mode": MODE_LABEL[info.mode],
            "where": where(p, info.mode, info.site, info.room),
            "assessor": ", ".join(n for n, _ in p.assessors),
            "cancelled": info.cancelled,
            "update": info.sequence > 0,
            "mailbox": organiser[1],
        }
        verb = "Cancelled" if info.cancelled else "Updated" if info.sequence else "Invitation"
        draft = Draft(
            to=[address(n, e) for n, e in info.members],
            subject=f"{verb}: CSE assessment - {info.title} ({ctx['date']:%a %d %b} {ctx['start']})"
            if ctx["date"]
            else f"{verb}: CSE assessment - {info.title}",
            text=render("timetable_invite.txt", **ctx),
            html=render("timetable_invite.html", **ctx),
            sender=sender,
            reply_to=sender,
            attachments=[Attachment("invite.ics", calendar(p, [info], organiser, method), ICS)],
        )
        msg = build_message(draft)
        for part in msg.iter_attachments():
            if part.get_content_type() == ICS:
                part.set_param("method", method)  # calendar clients look for it on the part, not only inside
        sent = send_once(
            engine,
            transport,
            msg,
            dedupe_key=f"timetable:{year}:{info.uid}:{info.sequence}",
            assessment_year=year,
            kind="timetable_cancel" if info.cancelled else "timetable_invite",
            attachment="invite.ics",
            run_id=run_id,
        )
        if not sent:
            skipped += 1
        elif info.cancelled:
            cancellations += 1
        else:
            invites += 1
    assessor = 0
    scheduled = [_info(r) for r in rows if r["status"] == "scheduled"]
    digest = hashlib.sha256(
        ";".join(f"{r['uid']}:{r['sequence']}:{r['status']}" for r in sorted(rows, key=lambda r: r["uid"])).encode()
    ).hexdigest()[:16]
    for name, email in p.assessors:
        ctx = {
            "organisation": organisation,
            "name": name,
            "sessions": len(scheduled),
            "first": p.days[0],
            "last": p.days[-1],
            "mailbox": organiser[1],
        }
        attachments = [Attachment("assessment-timetable.ics", calendar(p, scheduled, organiser, "PUBLISH"), ICS)]
        if workbook:
            attachments.append(
                Attachment("timetable.xlsx", workbook, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            )
        draft = Draft(
            to=[address(name, email)],
            subject=f"{organisation}: CSE assessment timetable {p.days[0]:%d %b}-{p.days[-1]:%d %b %Y}",
            text=render("timetable_assessor.txt", **ctx),
            html=render("timetable_assessor.html", **ctx),
            sender=sender,
            reply_to=sender,
            attachments=attachments,
        )
        if send_once(
            engine,
            transport,
            build_message(draft),
            dedupe_key=f"timetable-assessor:{year}:{email}:{digest}",
            assessment_year=year,
            kind="timetable_assessor",
            attachment="assessment-timetable.ics",
            run_id=run_id,
        ):
            assessor += 1
    return Sent(invites, cancellations, assessor, skipped)
