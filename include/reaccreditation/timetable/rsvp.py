"""Answers to the session invites (RSVPs): recognised in the quality mailbox, recorded, never answered.

The invites' ORGANIZER is the quality mailbox, so every Accept, Tentative and Decline arrives where the
evidence does. The mailbox pass asks :func:`find` first, before any evidence handling:

- an iMIP REPLY (RFC 6047): a ``text/calendar`` part or ``.ics`` attachment with ``METHOD:REPLY``, as
  Outlook, Google Calendar, Thunderbird and Apple Calendar send it;
- a reply with no calendar in it whose subject starts ``Accepted:``, ``Declined:``, ``Tentative:`` or
  ``Tentatively accepted:`` (Outlook's and Gmail's subjects, e.g. after a gateway stripped the calendar),
  tied to its session by the invite it answers (In-Reply-To/References) or the session title.

Each answer is kept per session (UID) and attendee, the latest one winning; only people invited to that
session (or the assessor) are recorded. A decline by the only member of a session's group leaves the
assessor nobody to meet: the quality team gets one at-risk note for it (:func:`send_at_risk_notes`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Any

from sqlalchemy import Engine, insert, select, update

from reaccreditation.db.schema import outbound_message, timetable_rsvp, timetable_session

SUBJECT = re.compile(r"^\s*(accepted|declined|tentative|tentatively accepted)\s*:\s*(.*)$", re.IGNORECASE)
PARTSTAT = {"ACCEPTED": "accepted", "DECLINED": "declined", "TENTATIVE": "tentative"}
WORDS = {"accepted": "accepted", "declined": "declined", "tentative": "tentative", "tentatively accepted": "tentative"}
LABEL = {"accepted": "Accepted", "declined": "Declined", "tentative": "Tentative", "none": "No answer"}
# Our outbound invites' dedupe keys (timetable.invites): timetable:<year>:<uid>:<seq>, timetable-chair:<year>:<email>:<uid>:<seq>
_INVITE_KEY = re.compile(r"^timetable(?:-chair:\d+:[^:]+|:\d+):(?P<uid>[^:]+):\d+$")


@dataclass(frozen=True)
class Answer:
    """One attendee's answer as the message gives it; ``uid`` None until matched to a session."""

    attendee: str
    answer: str  # accepted | declined | tentative
    uid: str | None = None
    sequence: int | None = None
    name: str | None = None
    comment: str | None = None
    found_by: str = "calendar"  # calendar | subject
    title: str = ""  # the subject's rest, for a subject-only answer


def _calendars(msg: Message) -> list[bytes]:
    out = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = (part.get_filename() or "").lower()
        if part.get_content_type() in ("text/calendar", "application/ics") or name.endswith(".ics"):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes) and data:
                out.append(data[:1_000_000])
    return out


def _from_calendar(data: bytes) -> list[Answer]:
    from icalendar import Calendar

    try:
        cal = Calendar.from_ical(data)
    except Exception:  # noqa: BLE001 - an unreadable calendar is no RSVP; the message is handled as mail
        return []
    if str(cal.get("METHOD", "")).upper() != "REPLY":
        return []
    out = []
    for ev in cal.walk("VEVENT"):
        attendees = ev.get("ATTENDEE") or []
        for a in attendees if isinstance(attendees, list) else [attendees]:
            answer = PARTSTAT.get(str(a.params.get("PARTSTAT", "")).upper())
            email = str(a).split(":", 1)[-1].strip().lower()
            if answer and "@" in email:
                comment = ev.get("COMMENT")
                out.append(
                    Answer(
                        attendee=email[:254],
                        answer=answer,
                        uid=str(ev.get("UID", ""))[:255] or None,
                        sequence=int(ev["SEQUENCE"]) if "SEQUENCE" in ev else None,
                        name=str(a.params.get("CN", ""))[:200] or None,
                        comment=str(comment)[:1000] if comment else None,
                    )
                )
    return out


def find(msg: Message, subject: str, sender: str | None, has_workbook: bool) -> list[Answer] | None:
    """The RSVPs this message carries; None when it is not an answer to an invite (then it is evidence mail)."""
    answers = [a for data in _calendars(msg) for a in _from_calendar(data)]
    if answers:
        return answers
    m = SUBJECT.match(subject or "")
    if m and sender and not has_workbook:
        return [Answer(sender, WORDS[m.group(1).lower()], found_by="subject", title=m.group(2))]
    return None


@dataclass(frozen=True)
class Recorded:
    recorded: list[str]  # "alice@x declined Housing managers"
    ignored: list[str]  # why an answer was not recorded

    @property
    def reason(self) -> str:
        parts = [f"RSVP recorded: {'; '.join(self.recorded)}"] if self.recorded else []
        parts += [f"not recorded: {'; '.join(self.ignored)}"] if self.ignored else []
        return (" | ".join(parts) or "RSVP without an answer")[:500]


def _sessions(engine: Engine, year: int) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(timetable_session).where(timetable_session.c.assessment_year == year))
        return {r.uid: dict(r._mapping) for r in rows}


def _thread_uid(engine: Engine, ids: list[str]) -> str | None:
    """The session of the invite this message answers (our outbound Message-IDs)."""
    if not ids:
        return None
    with engine.connect() as conn:
        keys = conn.execute(select(outbound_message.c.dedupe_key).where(outbound_message.c.message_id.in_(ids))).scalars()
        for key in keys:
            m = _INVITE_KEY.match(key or "")
            if m:
                return m.group("uid")
    return None


def _invited(session: dict[str, Any], assessors: set[str]) -> dict[str, str]:
    people = {str(e).lower(): str(n) for n, e in session["attendees"]}
    return people | {a: a for a in assessors if a not in people}


def record(
    engine: Engine,
    year: int,
    answers: list[Answer],
    *,
    sender: str | None,
    thread: list[str],
    message_key: str,
    answered_at: datetime,
    assessors: set[str],
) -> Recorded:
    """Store each answer for its session and attendee (the newest answer wins); say what was recorded."""
    sessions = _sessions(engine, year)
    recorded, ignored = [], []
    for a in answers:
        uid = a.uid
        if uid is None:  # the subject form: the thread, else the one session whose title the subject names
            uid = _thread_uid(engine, thread)
            if uid is None:
                titled = [
                    s for s in sessions.values() if s["title"].lower() in a.title.lower() and a.attendee in _invited(s, assessors)
                ]
                titled.sort(key=lambda s: len(s["title"]), reverse=True)
                uid = titled[0]["uid"] if titled else None
        session = sessions.get(uid or "")
        if session is None:
            ignored.append(f"{a.attendee}: no session of the {year} timetable matches ({a.uid or a.title[:80]!r})")
            continue
        invited = _invited(session, assessors)
        if a.attendee not in invited:
            ignored.append(f"{a.attendee} is not invited to {session['title']}")
            continue
        if sender and sender != a.attendee and sender not in invited:
            ignored.append(f"{sender} answered for {a.attendee}, who was invited to {session['title']}")
            continue
        _upsert(engine, year, session, a, message_key, answered_at, invited[a.attendee])
        recorded.append(f"{a.attendee} {a.answer} {session['title']}")
    return Recorded(recorded, ignored)


def _upsert(
    engine: Engine, year: int, session: dict[str, Any], a: Answer, message_key: str, answered_at: datetime, name: str
) -> None:
    values = {
        "assessment_year": year,
        "session_key": session["session_key"],
        "attendee_name": a.name or name,
        "answer": a.answer,
        "sequence": a.sequence,
        "comment": a.comment,
        "found_by": a.found_by,
        "message_key": message_key[:255],
        "answered_at": answered_at,
        "recorded_at": datetime.now(UTC),
    }
    with engine.begin() as conn:
        old = conn.execute(
            select(timetable_rsvp).where(timetable_rsvp.c.uid == session["uid"], timetable_rsvp.c.attendee == a.attendee)
        ).first()
        if old is None:
            conn.execute(insert(timetable_rsvp).values(uid=session["uid"], attendee=a.attendee, **values))
            return
        before = old.answered_at if old.answered_at.tzinfo else old.answered_at.replace(tzinfo=UTC)
        if before <= answered_at:  # an older message read late never overwrites a newer answer
            conn.execute(update(timetable_rsvp).where(timetable_rsvp.c.id == old.id).values(**values))


def answers_by_session(engine: Engine, year: int) -> dict[str, dict[str, Any]]:
    """Per session UID: each invited person's answer (accepted / declined / tentative / no answer) and counts."""
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(timetable_rsvp).where(timetable_rsvp.c.assessment_year == year))]
    got: dict[tuple[str, str], dict[str, Any]] = {(r["uid"], r["attendee"]): r for r in rows}
    out = {}
    for uid, s in _sessions(engine, year).items():
        people = []
        for name, email in s["attendees"]:
            r = got.get((uid, str(email).lower()))
            people.append({"name": name, "email": email, "answer": r["answer"] if r else "none", "comment": r and r["comment"]})
        counts = {k: sum(1 for p in people if p["answer"] == k) for k in LABEL}
        out[uid] = {"people": people, "counts": counts, "status": s["status"], "title": s["title"]}
    return out


def sole_member_declines(engine: Engine, year: int) -> list[dict[str, Any]]:
    """Scheduled sessions whose group has one member, who declined: the assessor would meet nobody."""
    sessions = _sessions(engine, year)
    with engine.connect() as conn:
        declined = conn.execute(
            select(timetable_rsvp).where(timetable_rsvp.c.assessment_year == year, timetable_rsvp.c.answer == "declined")
        ).all()
    out = []
    for r in declined:
        s = sessions.get(r.uid)
        if s and s["status"] == "scheduled" and len(s["attendees"]) == 1 and str(s["attendees"][0][1]).lower() == r.attendee:
            out.append({"session": s, "attendee": r.attendee, "name": r.attendee_name or r.attendee, "comment": r.comment})
    return out


def assessor_emails(org: Any) -> set[str]:
    """The assessors (CHAIR of every session), whose answers are recorded too."""
    tt = getattr(org, "timetable", None)
    people = list(tt.assessors) if tt is not None and tt.assessors else []
    if not people and org.assessment.assessor is not None:
        people = [org.assessment.assessor]
    return {str(getattr(m, "email", m[1] if isinstance(m, (tuple, list)) else m)).lower() for m in people}


def send_at_risk_notes(engine: Engine, org: Any, transport: Any, run_id: str | None = None) -> int:
    """One email to the quality team per sole-member decline (outbox key per session and person)."""
    from reaccreditation.mail.compose import Draft, address, build_message, sender
    from reaccreditation.mail.outbox import send_once
    from reaccreditation.render import render
    from reaccreditation.timetable.problem import clock

    year = org.assessment.year
    sent = 0
    for item in sole_member_declines(engine, year):
        s = item["session"]
        day = org.assessment.first_day.fromordinal(org.assessment.first_day.toordinal() + s["day"])
        ctx = {
            "organisation": org.organisation.name,
            "title": s["title"],
            "date": day,
            "start": clock(s["start_minute"]),
            "end": clock(s["end_minute"]),
            "name": item["name"],
            "email": item["attendee"],
            "comment": item["comment"],
            "session_key": s["session_key"],
        }
        draft = Draft(
            to=[address(m.name, m.email) for m in org.quality_team.members],
            subject=f"{org.organisation.short_name}: at risk: nobody for '{s['title']}' ({item['name']} declined)",
            text=render("rsvp_at_risk.txt", **ctx),
            html=render("rsvp_at_risk.html", **ctx),
            sender=sender(org),
            headers={"X-Reaccreditation-Alert": "rsvp-at-risk"},
        )
        sent += send_once(
            engine,
            transport,
            build_message(draft),
            dedupe_key=f"rsvp-risk:{year}:{s['uid']}:{item['attendee']}"[:255],
            assessment_year=year,
            kind="rsvp_at_risk",
            run_id=run_id,
        )
    return sent
