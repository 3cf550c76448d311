"""Emailing the timetable: meeting requests per session to its participants and to the assessor.

Every session's invite is an iMIP meeting request (``text/calendar; method=REQUEST`` inside
``multipart/alternative``, built by :mod:`reaccreditation.mail.compose`), so Outlook, Google and Thunderbird
show Accept/Decline and keep one calendar entry per UID. The assessor (the CHAIR of every session)
gets each session's REQUEST or CANCEL too, so a move or a cancellation changes their calendar as well,
plus one covering email: the whole timetable as a PUBLISH file (no attendees) and the workbook, saying
what changed since the last one.

Every message goes through :func:`reaccreditation.mail.outbox.send_once`. A session invite's dedupe key is
its UID and SEQUENCE, so a rerun sends nothing and a reschedule sends only the moved sessions' updates;
the covering email's key is a digest of every (UID, SEQUENCE, status), so it goes again only after a
change. What each session last told people is kept (``timetable_session.notified``) for the "moved
from" lines.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Engine, select, update

from reaccreditation.db.schema import outbound_message, timetable_session
from reaccreditation.mail.compose import Attachment, CalendarPart, Draft, address, build_message
from reaccreditation.mail.outbox import Transport, already_sent, send_once
from reaccreditation.render import render
from reaccreditation.timetable.ics import MODE_LABEL, EventInfo, calendar, where
from reaccreditation.timetable.problem import Problem, clock
from reaccreditation.timetable.store import stored_sessions

ICS = "text/calendar"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Sent:
    invites: int = 0
    cancellations: int = 0
    assessor: int = 0  # covering emails with the whole timetable
    assessor_sessions: int = 0  # the assessor's own REQUEST/CANCEL per session
    skipped: int = 0  # already sent (same UID and SEQUENCE), or never sent and now cancelled


@dataclass(frozen=True)
class Change:
    """One line of the covering email: a session added, moved, changed or cancelled since the last email."""

    kind: str  # added | moved | changed | cancelled
    title: str
    now: str  # "Tuesday 16 March 2027, 10:00-11:00, Room 2, Civic Centre"
    was: str | None = None


def invite_key(year: int, uid: str, sequence: int) -> str:
    """The outbox key of one session's invite at one SEQUENCE: sent once, sent again only after a change."""
    return f"timetable:{year}:{uid}:{sequence}"


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
        link=row.get("joining_link"),
    )


def _slot(row: dict) -> dict[str, Any]:
    """What an email says about a session: kept as ``notified`` once it went out."""
    keys = ("day", "start_minute", "end_minute", "mode", "site_id", "room_id", "sequence", "status", "joining_link")
    return {k: row.get(k) for k in keys} | {"attendees": [list(m) for m in row["attendees"]]}


def removed_attendees(row: dict) -> tuple[tuple[str, str], ...]:
    """People invited when the session last went out who are no longer on it (the re-plan left them out)."""
    last = row.get("notified") or {}
    if row["status"] != "scheduled" or last.get("status") != "scheduled" or not last.get("attendees"):
        return ()
    now = {str(e).lower() for _, e in row["attendees"]}
    return tuple((str(n), str(e)) for n, e in last["attendees"] if str(e).lower() not in now)


def _when(p: Problem, slot: dict[str, Any]) -> str:
    day = slot["day"]
    date_text = f"{p.days[day]:%A} {p.days[day].day} {p.days[day]:%B %Y}" if day < len(p.days) else f"day {day + 1}"
    place = where(p, slot["mode"], slot["site_id"], slot["room_id"], slot.get("joining_link"))
    return f"{date_text}, {clock(slot['start_minute'])}-{clock(slot['end_minute'])}, {place}"


def _ever_sent(engine: Engine, year: int, uid: str) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(
                select(outbound_message.c.id).where(outbound_message.c.dedupe_key.like(f"timetable:{year}:{uid}:%")).limit(1)
            ).first()
            is not None
        )


def changes(p: Problem, rows: list[dict]) -> list[Change]:
    """What changed for each session since it was last emailed (nothing for a first timetable)."""
    if not any(r.get("notified") for r in rows):
        return []
    out = []
    for r in rows:
        last = r.get("notified")
        now = _slot(r)
        if last and last["sequence"] == now["sequence"] and last["status"] == now["status"]:
            continue
        if r["status"] == "cancelled":
            if last and last["status"] != "cancelled":
                out.append(Change("cancelled", r["title"], _when(p, last)))
            continue
        if not last or last["status"] == "cancelled":
            out.append(Change("added", r["title"], _when(p, now)))
        elif _when(p, last) != _when(p, now):
            out.append(Change("moved", r["title"], _when(p, now), _when(p, last)))
        else:
            out.append(Change("changed", r["title"], _when(p, now)))
    order = {"cancelled": 0, "moved": 1, "added": 2, "changed": 3}
    return sorted(out, key=lambda c: (order[c.kind], c.title))


def _session_context(p: Problem, info: EventInfo, row: dict, organisation: str, mailbox: str) -> dict[str, Any]:
    last = row.get("notified")
    was = _when(p, last) if last and last["status"] != "cancelled" and info.sequence > last["sequence"] else None
    return {
        "organisation": organisation,
        "title": info.title,
        "date": p.days[info.day] if info.day < len(p.days) else None,
        "start": clock(info.start),
        "end": clock(info.end),
        "mode": MODE_LABEL[info.mode],
        "where": where(p, info.mode, info.site, info.room),  # the link has its own line
        "link": info.link if info.mode == "virtual" and not info.cancelled else None,
        "assessor": ", ".join(n for n, _ in p.assessors),
        "participants": ", ".join(n for n, _ in info.members) or "-",
        "cancelled": info.cancelled,
        "update": info.sequence > 0,
        "was": was if was != _when(p, _slot(row)) else None,
        "mailbox": mailbox,
        "for_assessor": False,
        "removed": False,
    }


def _subject(verb: str, info: EventInfo, ctx: dict[str, Any]) -> str:
    if ctx["date"]:
        return f"{verb}: CSE assessment - {info.title} ({ctx['date']:%a %d %b} {ctx['start']})"
    return f"{verb}: CSE assessment - {info.title}"


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
    invites = cancellations = chair = skipped = 0
    sender = address(*organiser)
    listed = changes(p, rows)
    for row in rows:
        info = _info(row)
        if info.cancelled and not _ever_sent(engine, year, info.uid):
            skipped += 1  # planned and dropped before anyone was told: nothing to cancel
            continue
        method = "CANCEL" if info.cancelled else "REQUEST"
        ics = CalendarPart(calendar(p, [info], organiser, method), method)
        ctx = _session_context(p, info, row, organisation, organiser[1])
        verb = "Cancelled" if info.cancelled else "Updated" if info.sequence else "Invitation"
        if info.members:
            draft = Draft(
                to=[address(n, e) for n, e in info.members],
                subject=_subject(verb, info, ctx),
                text=render("timetable_invite.txt", **ctx),
                html=render("timetable_invite.html", **ctx),
                sender=sender,
                calendar=ics,
            )
            if send_once(
                engine,
                transport,
                build_message(draft),
                dedupe_key=invite_key(year, info.uid, info.sequence),
                assessment_year=year,
                kind="timetable_cancel" if info.cancelled else "timetable_invite",
                attachment="invite.ics",
                run_id=run_id,
            ):
                if info.cancelled:
                    cancellations += 1
                else:
                    invites += 1
            else:
                skipped += 1
        cancellations += _tell_removed(engine, transport, p, row, info, ctx, organiser, year, run_id)
        for name, email in p.assessors:
            draft = Draft(
                to=[address(name, email)],
                subject=_subject(verb, info, ctx),
                text=render("timetable_invite.txt", **(ctx | {"for_assessor": True, "name": name})),
                html=render("timetable_invite.html", **(ctx | {"for_assessor": True, "name": name})),
                sender=sender,
                calendar=ics,
            )
            chair += send_once(
                engine,
                transport,
                build_message(draft),
                dedupe_key=f"timetable-chair:{year}:{email}:{info.uid}:{info.sequence}",
                assessment_year=year,
                kind="timetable_chair",
                attachment="invite.ics",
                run_id=run_id,
            )
    assessor = _send_covering(engine, transport, p, rows, listed, year, organisation, organiser, workbook, run_id)
    with engine.begin() as conn:
        for row in rows:
            conn.execute(update(timetable_session).where(timetable_session.c.id == row["id"]).values(notified=_slot(row)))
    return Sent(invites, cancellations, assessor, chair, skipped)


def _tell_removed(
    engine: Engine,
    transport: Transport,
    p: Problem,
    row: dict,
    info: EventInfo,
    ctx: dict[str, Any],
    organiser: tuple[str, str],
    year: int,
    run_id: str | None,
) -> int:
    """A METHOD:CANCEL to each person taken off a session since it last went out (RFC 5546: the organiser
    removes an attendee with CANCEL), so their calendar entry goes; the others get the REQUEST as usual."""
    gone = removed_attendees(row)
    if not gone or info.cancelled:
        return 0
    off = replace(info, cancelled=True, members=gone)
    draft = Draft(
        to=[address(n, e) for n, e in gone],
        subject=_subject("Cancelled", off, ctx),
        text=render("timetable_invite.txt", **(ctx | {"cancelled": True, "removed": True, "link": None})),
        html=render("timetable_invite.html", **(ctx | {"cancelled": True, "removed": True, "link": None})),
        sender=address(*organiser),
        calendar=CalendarPart(calendar(p, [off], organiser, "CANCEL"), "CANCEL"),
    )
    return int(
        send_once(
            engine,
            transport,
            build_message(draft),
            dedupe_key=f"timetable-removed:{year}:{info.uid}:{info.sequence}",
            assessment_year=year,
            kind="timetable_cancel",
            attachment="invite.ics",
            run_id=run_id,
        )
    )


def _send_covering(
    engine: Engine,
    transport: Transport,
    p: Problem,
    rows: list[dict],
    listed: list[Change],
    year: int,
    organisation: str,
    organiser: tuple[str, str],
    workbook: bytes | None,
    run_id: str | None,
) -> int:
    """The assessor's covering email: the whole timetable (PUBLISH file and workbook) and what changed."""
    scheduled = [_info(r) for r in rows if r["status"] == "scheduled"]
    digest = hashlib.sha256(
        ";".join(f"{r['uid']}:{r['sequence']}:{r['status']}" for r in sorted(rows, key=lambda r: r["uid"])).encode()
    ).hexdigest()[:16]
    sent = 0
    for name, email in p.assessors:
        ctx = {
            "organisation": organisation,
            "name": name,
            "sessions": len(scheduled),
            "first": p.days[0],
            "last": p.days[-1],
            "mailbox": organiser[1],
            "changes": listed,
            "counts": {k: sum(1 for c in listed if c.kind == k) for k in ("cancelled", "moved", "added", "changed")},
        }
        attachments = [Attachment("assessment-timetable.ics", calendar(p, scheduled, organiser, "PUBLISH"), ICS)]
        if workbook:
            attachments.append(Attachment("timetable.xlsx", workbook, XLSX))
        subject = f"{organisation}: CSE assessment timetable {p.days[0]:%d %b}-{p.days[-1]:%d %b %Y}"
        draft = Draft(
            to=[address(name, email)],
            subject=("Changed: " + subject) if listed else subject,
            text=render("timetable_assessor.txt", **ctx),
            html=render("timetable_assessor.html", **ctx),
            sender=address(*organiser),
            attachments=attachments,
        )
        msg = build_message(draft)
        for part in msg.iter_attachments():
            if part.get_content_type() == ICS:
                part.set_param("method", "PUBLISH")  # RFC 6047: the part names the iTIP method too
        sent += send_once(
            engine,
            transport,
            msg,
            dedupe_key=f"timetable-assessor:{year}:{email}:{digest}",
            assessment_year=year,
            kind="timetable_assessor",
            attachment="assessment-timetable.ics",
            run_id=run_id,
        )
    return sent


def pending_invites(engine: Engine, year: int) -> list[str]:
    """Stored sessions whose current invite (UID, SEQUENCE) has not been sent: what an approval would release."""
    return [
        r["session_key"]
        for r in stored_sessions(engine, year)
        if r["attendees"] and not already_sent(engine, invite_key(year, r["uid"], r["sequence"]))
    ]
