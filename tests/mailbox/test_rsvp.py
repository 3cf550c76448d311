"""Answers to timetable invites, as Outlook, Gmail and a stripped gateway send them, through real Dovecot.

Each is recorded against its session and attendee, nobody is answered, nothing is quarantined; the
only member of a group declining raises one at-risk note to the quality team, however often it is read.
"""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import pytest
from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import mailbox_message, timetable_rsvp, timetable_session
from reaccreditation.mail.compose import POLICY
from reaccreditation.mailbox.imap import Mailbox, MailboxSettings
from reaccreditation.mailbox.process import Context, collect, own_addresses, send_answers
from reaccreditation.settings import Paths
from reaccreditation.timetable import pipeline
from reaccreditation.timetable.rsvp import answers_by_session

from .mails import AUTHSERV, delivered, raw, verdict


class Sent(list):
    def __call__(self, msg: EmailMessage) -> None:
        self.append(email.message_from_bytes(msg.as_bytes(), policy=policy.default))


@pytest.fixture
def season(imap, project_db, org, tmp_path):  # type: ignore[no-untyped-def]
    """The demo timetable planned and its invites sent (kept), and a mailbox pass as the DAG runs it."""
    engine = make_engine(project_db)
    out = tmp_path / "timetable"
    planned = pipeline.plan(org, engine, seconds=4)
    pipeline.publish(org, engine, planned, out, "run-1")
    invites: list[EmailMessage] = []
    pipeline.send(org, engine, invites.append, planned, out, "run-1")
    with engine.connect() as conn:
        sessions = {r.session_key: dict(r._mapping) for r in conn.execute(select(timetable_session))}
    paths = Paths(tmp_path / "data")
    sent = Sent()

    def once() -> dict:
        client = imap.client()
        try:
            ctx = Context(org, engine, paths, "test", own_addresses(org))
            counts = collect(Mailbox(client, MailboxSettings()), ctx)
            counts["answers_sent"] = send_answers(ctx, sent)
            return counts
        finally:
            client.logout()

    return {"engine": engine, "sessions": sessions, "invites": invites, "sent": sent, "once": once, "paths": paths}


def _reply_ics(session: dict, attendee: tuple[str, str], partstat: str, *, comment: str | None = None, outlook: bool) -> str:
    cal = Calendar()
    cal.add(
        "prodid",
        "-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN" if outlook else "-//Google Inc//Google Calendar 70.9054//EN",
    )
    cal.add("version", "2.0")
    cal.add("method", "REPLY")
    ev = Event()
    ev.add("uid", session["uid"])
    ev.add("sequence", session["sequence"])
    ev.add("dtstamp", session["updated_at"])
    ev.add("dtstart", session["starts_at"])
    ev.add("dtend", session["ends_at"])
    ev.add("summary", f"{'Accepted' if partstat == 'ACCEPTED' else 'Declined'}: CSE assessment: {session['title']}")
    a = vCalAddress(f"mailto:{attendee[1]}")
    a.params["cn"] = vText(attendee[0])
    a.params["partstat"] = vText(partstat)
    ev.add("attendee", a)
    ev.add("organizer", vCalAddress("mailto:quality@kestrelvale.example.org"))
    if comment:
        ev.add("comment", comment)
    if outlook:
        ev.add("x-microsoft-cdo-busystatus", "BUSY")
    cal.add_component(ev)
    return cal.to_ical().decode()


def _message(subject: str, sender: tuple[str, str], *, in_reply_to: str | None = None) -> EmailMessage:
    msg = EmailMessage(policy=POLICY)
    msg["From"] = f"{sender[0]} <{sender[1]}>"
    msg["To"] = "Kestrel Vale quality team <quality@kestrelvale.example.org>"
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender[1].split("@")[1])
    if in_reply_to:
        msg["In-Reply-To"] = msg["References"] = in_reply_to
    return msg


def outlook_reply(session: dict, invite: EmailMessage, person: tuple[str, str], partstat: str) -> bytes:
    """Outlook/Exchange: 'Accepted: <invite subject>', text/calendar; method=REPLY as a body alternative only."""
    word = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative"}[partstat]
    msg = _message(f"{word}: {invite['Subject']}", person)
    msg["Thread-Topic"] = invite["Subject"]
    msg.set_content("")
    msg.add_alternative("<html><body></body></html>", subtype="html")
    msg.add_alternative(_reply_ics(session, person, partstat, outlook=True), subtype="calendar", params={"method": "REPLY"})
    return raw(msg)


def gmail_reply(session: dict, person: tuple[str, str], partstat: str, comment: str | None = None) -> bytes:
    """Gmail: 'Declined: <summary> @ <when> (<email>)', the calendar inline and attached as invite.ics."""
    word = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentatively accepted"}[partstat]
    when = f"{session['starts_at']:%a %d %b %Y %H:%M}"
    msg = _message(f"{word}: CSE assessment: {session['title']} @ {when} (GMT) ({person[1]})", person)
    ics = _reply_ics(session, person, partstat, comment=comment, outlook=False)
    msg.set_content(f"{person[0]} has {word.lower()} this invitation.")
    msg.add_alternative(f"<p>{person[0]} has {word.lower()} this invitation.</p>", subtype="html")
    msg.add_alternative(ics, subtype="calendar", params={"method": "REPLY"})
    msg.add_attachment(ics.encode(), maintype="application", subtype="ics", filename="invite.ics")
    return raw(msg)


def _answers(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return {(r.session_key, r.attendee): (r.answer, r.found_by) for r in conn.execute(select(timetable_rsvp))}


def test_outlook_and_gmail_answers_are_recorded_and_never_answered(season, imap):  # type: ignore[no-untyped-def]
    s = season["sessions"]
    staff = ("Helen Marsh", "helen.marsh@kestrelvale.example.org")  # customer-services-managers, 2 members
    partner = ("Rita Gomez", "rita.gomez@valehomes.example.org")  # vale-homes, a partner (not an evidence contact)
    tentative = ("Joe Barker", "joe.barker@kestrelvale.example.org")
    invite = next(
        m for m in season["invites"] if s["customer-services-managers"]["title"] in m["Subject"] and staff[1] in str(m["To"])
    )
    contact_centre = next(
        m for m in season["invites"] if s["contact-centre-visit"]["title"] in m["Subject"] and tentative[1] in str(m["To"])
    )
    stripped = _message(f"Tentative: {contact_centre['Subject']}", tentative, in_reply_to=contact_centre["Message-ID"])
    stripped.set_content("I may be on leave that day, will confirm.")  # a gateway removed the calendar part
    imap.append(
        outlook_reply(s["customer-services-managers"], invite, staff, "ACCEPTED"),
        gmail_reply(s["vale-homes"], partner, "ACCEPTED"),
        raw(stripped),
    )
    counts = season["once"]()
    assert counts == {"rsvp": 3, "answers_sent": 0}
    assert season["sent"] == []  # nobody answered, no notice to the quality team
    assert _answers(season["engine"]) == {
        ("customer-services-managers", staff[1]): ("accepted", "calendar"),
        ("vale-homes", partner[1]): ("accepted", "calendar"),
        ("contact-centre-visit", tentative[1]): ("tentative", "subject"),
    }
    with season["engine"].connect() as conn:
        rows = conn.execute(select(mailbox_message.c.handling, mailbox_message.c.answer_key)).all()
    assert [tuple(r) for r in rows] == [("rsvp", None)] * 3
    assert not (season["paths"].quarantine).exists() and not (season["paths"].inbox).exists()
    by_uid = answers_by_session(season["engine"], 2027)
    summary = by_uid[s["customer-services-managers"]["uid"]]
    assert summary["counts"] == {"accepted": 1, "declined": 0, "tentative": 0, "none": 1}
    assert imap.flags() and all("$Reaccreditation" in f for f in imap.flags())


def test_a_sole_member_declining_raises_one_at_risk_note(season, imap):  # type: ignore[no-untyped-def]
    s = season["sessions"]["nhs-trust"]
    partner = ("Alan Booth", "alan.booth@kvnhs.example.org")
    imap.append(gmail_reply(s, partner, "DECLINED", comment="On call that week, sorry"))
    assert season["once"]() == {"rsvp": 1, "answers_sent": 1}
    (note,) = season["sent"]
    assert {a.addr_spec for a in note["To"].addresses} == {
        "priya.raman@kestrelvale.example.org",
        "tom.hollis@kestrelvale.example.org",
    }
    assert "at risk" in note["Subject"] and s["title"] in note["Subject"]
    body = note.get_body(("plain",)).get_content()
    assert "only member" in body and "On call that week" in body and "Re-plan" in body
    assert note["Auto-Submitted"] == "auto-generated"

    again = gmail_reply(s, partner, "DECLINED")  # a second decline (another message) is not a second note
    imap.append(again)
    assert season["once"]() == {"rsvp": 1, "answers_sent": 0}
    assert len(season["sent"]) == 1


def test_an_answer_for_someone_else_or_no_session_is_kept_but_not_recorded(season, imap):  # type: ignore[no-untyped-def]
    s = season["sessions"]["nhs-trust"]
    intruder = ("Mallory", "mallory@elsewhere.example.net")
    forged = gmail_reply(s, ("Alan Booth", "alan.booth@kvnhs.example.org"), "DECLINED").replace(
        b"From: Alan Booth <alan.booth@kvnhs.example.org>", b"From: Mallory <mallory@elsewhere.example.net>"
    )
    unknown = _message("Accepted: Team away day", intruder)
    unknown.set_content("See you there")
    imap.append(forged, raw(unknown))
    assert season["once"]() == {"rsvp": 2, "answers_sent": 0}
    assert _answers(season["engine"]) == {} and season["sent"] == []
    with season["engine"].connect() as conn:
        reasons = conn.execute(select(mailbox_message.c.reason).order_by(mailbox_message.c.id)).scalars().all()
    assert "answered for alan.booth" in reasons[0] and "no session" in reasons[1]


def test_a_forged_decline_is_not_recorded_when_mail_is_authenticated(season, imap, org):  # type: ignore[no-untyped-def]
    """With ``mailbox.authentication`` on, only an RSVP our mail server vouches for (DMARC pass) is recorded."""
    from reaccreditation.organisation.config import MailAuthentication
    from reaccreditation.organisation.config import Mailbox as MailboxConfig

    secured = org.model_copy(
        update={"mailbox": MailboxConfig(authentication=MailAuthentication(authserv_id=AUTHSERV, required=True))}
    )
    s = season["sessions"]["nhs-trust"]
    partner = ("Alan Booth", "alan.booth@kvnhs.example.org")
    imap.append(gmail_reply(s, partner, "DECLINED"))  # no verdict from our mail server: anyone could have sent it
    imap.append(delivered(gmail_reply(s, partner, "ACCEPTED"), verdict(partner, "fail")))
    client = imap.client()
    try:
        ctx = Context(secured, season["engine"], season["paths"], "test", own_addresses(secured))
        assert collect(Mailbox(client, MailboxSettings()), ctx) == {"rsvp": 2}
        assert send_answers(ctx, season["sent"]) == 0
    finally:
        client.logout()
    assert _answers(season["engine"]) == {}  # the session is not put at risk by a forgery
    with season["engine"].connect() as conn:
        reasons = conn.execute(select(mailbox_message.c.reason).order_by(mailbox_message.c.id)).scalars().all()
    assert reasons[0].startswith("an answer to a timetable invite, not recorded: not authenticated: no Authentication-Results")
    assert "DMARC fail" in reasons[1]

    imap.append(delivered(gmail_reply(s, partner, "DECLINED"), verdict(partner)))  # vouched for: recorded
    client = imap.client()
    try:
        ctx = Context(secured, season["engine"], season["paths"], "test", own_addresses(secured))
        assert collect(Mailbox(client, MailboxSettings()), ctx) == {"rsvp": 1}
    finally:
        client.logout()
    assert _answers(season["engine"]) == {("nhs-trust", partner[1]): ("declined", "calendar")}
