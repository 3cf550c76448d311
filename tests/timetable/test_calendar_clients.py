"""The invites as calendar clients read them: iMIP shape, three strict parsers plus vobject, every UTC instant.

Parsers: icalendar (what we write with), ``ical`` (a strict pydantic parser), ical.js (Mozilla's, the one
Thunderbird uses; tests/node) and vobject (which misread the RDATE-list VTIMEZONE as one fixed offset).
An assessment from Thursday 25 March 2027 spans the UK's change to summer time (Sunday 28 March; its
five working days are 25 March and 30 March to 2 April, Good Friday and Easter Monday being bank
holidays), so a parser that gets the zone wrong is an hour out on most of the sessions.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from icalendar import Calendar

from reaccreditation.db import make_engine, upgrade
from reaccreditation.demo import generate
from reaccreditation.organisation.config import load_organisation
from reaccreditation.timetable import pipeline
from reaccreditation.timetable.solution import Timetable

from ..conftest import FIRST_DAY, ROOT

NODE_TOOLS = ROOT / "tests" / "node"
ASSESSOR = "alan.wicks@northfield-cert.example.com"


def _council(tmp_path: Path, first_day: date):  # type: ignore[no-untyped-def]
    paths = generate(tmp_path / "demo", first_day)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    upgrade(url)
    return load_organisation(paths["config"]), make_engine(url), tmp_path / "out"


def _ics_parts(msg: EmailMessage) -> list[EmailMessage]:
    return [p for p in msg.walk() if p.get_content_type() in ("text/calendar", "application/ics")]


def _utc_icalendar(text: str) -> dict[str, tuple[datetime, datetime]]:
    cal = Calendar.from_ical(text)
    return {str(e["UID"]): (e.decoded("DTSTART").astimezone(UTC), e.decoded("DTEND").astimezone(UTC)) for e in cal.walk("VEVENT")}


def _utc_ical(text: str) -> dict[str, tuple[datetime, datetime]]:
    from ical.calendar_stream import IcsCalendarStream

    cal = IcsCalendarStream.calendar_from_ics(text)
    return {e.uid: (e.dtstart.astimezone(UTC), e.dtend.astimezone(UTC)) for e in cal.events}


def _utc_vobject(text: str) -> dict[str, tuple[datetime, datetime]]:
    import vobject

    cal = vobject.readOne(text)
    return {e.uid.value: (e.dtstart.value.astimezone(UTC), e.dtend.value.astimezone(UTC)) for e in cal.contents.get("vevent", [])}


def _utc_icaljs(files: list[Path]) -> dict[Path, dict]:
    node = shutil.which("node")
    assert node and (NODE_TOOLS / "node_modules" / "ical.js").exists(), "run scripts/install-node-tools"
    out = subprocess.run(
        [node, str(NODE_TOOLS / "ical_check.mjs"), *map(str, files)], capture_output=True, text=True, timeout=120, check=True
    )
    return {Path(f["file"]): f for f in json.loads(out.stdout)}


def _expected(folder: Path) -> dict[str, tuple[datetime, datetime]]:
    data = json.loads((folder / "timetable.json").read_text())
    return {
        s["uid"]: (datetime.fromisoformat(s["starts_at"]).astimezone(UTC), datetime.fromisoformat(s["ends_at"]).astimezone(UTC))
        for s in data["sessions"]
    }


def _assert_mail_hygiene(msg: EmailMessage, domain: str) -> None:
    assert msg["Auto-Submitted"] == "auto-generated"
    assert re.search(r"[+-]\d{4}$", msg["Date"]) and not msg["Date"].endswith("-0000")
    assert parsedate_to_datetime(msg["Date"]).utcoffset() is not None
    assert msg["Message-ID"].endswith(f"@{domain}>")
    assert msg["From"].addresses[0].display_name == "Kestrel Vale quality team"
    for part in msg.walk():
        if part.get_content_maintype() != "multipart":
            assert part.get("Content-Transfer-Encoding", "7bit") in ("7bit", "quoted-printable", "base64")
    for line in _body_lines(msg):
        assert len(line) <= 76, line[:90]


def _body_lines(msg: EmailMessage) -> list[bytes]:
    """Every encoded body line (headers left out): what RFC 2045's 76-character limit is about."""
    lines = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload()
        if isinstance(payload, str):
            lines.extend(payload.encode().splitlines())
    return lines


@pytest.mark.parametrize("first_day", [FIRST_DAY, date(2027, 3, 25)], ids=["march-gmt", "across-summer-time"])
def test_every_session_is_at_the_same_utc_instant_in_every_parser(tmp_path, first_day):
    org, engine, folder = _council(tmp_path, first_day)
    planned = pipeline.plan(org, engine, seconds=4)
    pipeline.publish(org, engine, planned, folder, "run-1")
    sent: list[EmailMessage] = []
    counts = pipeline.send(org, engine, sent.append, planned, folder, "run-1")
    expected = _expected(folder)
    assert counts["invites"] == counts["assessor_sessions"] == len(expected) and counts["assessor"] == 1
    if first_day == date(2027, 3, 25):  # the assessment days really do span the change
        offsets = {
            datetime.fromisoformat(s["starts_at"]).utcoffset().total_seconds()
            for s in json.loads((folder / "timetable.json").read_text())["sessions"]
        }
        assert offsets == {0.0, 3600.0}

    files: list[Path] = [folder / "timetable.ics"]
    for n, msg in enumerate(sent):
        _assert_mail_hygiene(msg, "kestrelvale.example.org")
        for k, part in enumerate(_ics_parts(msg)):
            path = tmp_path / "ics" / f"{n:03d}-{k}.ics"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(part.get_payload(decode=True))
            files.append(path)
    by_js = _utc_icaljs(files)
    for path in files:
        text = path.read_text(encoding="utf-8")
        for parser in (_utc_icalendar, _utc_ical, _utc_vobject):
            found = parser(text)
            assert found, (parser.__name__, path)
            for uid, instants in found.items():
                assert instants == expected[uid], (parser.__name__, path.name, uid)
        js = by_js[path]
        for ev in js["events"]:
            start = datetime.fromisoformat(ev["start_utc"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(ev["end_utc"].replace("Z", "+00:00"))
            assert (start, end) == expected[ev["uid"]], ("ical.js", path.name, ev["uid"])
            assert ev["tzid"] == "Europe/London"
    publish = by_js[folder / "timetable.ics"]
    assert publish["method"] == "PUBLISH" and len(publish["events"]) == len(expected)
    assert all(ev["attendees"] == [] for ev in publish["events"])  # RFC 5546: PUBLISH carries no ATTENDEE


def test_an_invite_is_a_meeting_request_in_the_imip_shape(tmp_path):
    org, engine, folder = _council(tmp_path, FIRST_DAY)
    planned = pipeline.plan(org, engine, seconds=4)
    pipeline.publish(org, engine, planned, folder, "run-1")
    sent: list[EmailMessage] = []
    pipeline.send(org, engine, sent.append, planned, folder, "run-1")
    invite = next(m for m in sent if "Opening meeting" in m["Subject"] and ASSESSOR not in m["To"])
    assert invite.get_content_type() == "multipart/mixed"
    alternative, *attached = invite.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html", "text/calendar"]
    cal_part = alternative.get_payload()[2]
    assert cal_part.get_param("method") == "REQUEST" and cal_part.get_content_charset() == "utf-8"
    assert cal_part.get_content_disposition() is None  # a body alternative, not an attachment: Outlook's meeting request
    assert [(p.get_content_type(), p.get_filename(), p.get_param("method")) for p in attached] == [
        ("application/ics", "invite.ics", "REQUEST")
    ]
    assert cal_part.get_payload(decode=True).splitlines() == attached[0].get_payload(decode=True).splitlines()
    (event,) = Calendar.from_ical(cal_part.get_payload(decode=True)).walk("VEVENT")
    assert str(event["ORGANIZER"]) == "mailto:quality@kestrelvale.example.org"
    attendees = {str(a).removeprefix("mailto:"): a.params for a in event.get("ATTENDEE")}
    assert attendees[ASSESSOR]["ROLE"] == "CHAIR" and all(a["RSVP"] == "TRUE" for a in attendees.values())

    chair = [m for m in sent if m["To"].addresses[0].addr_spec == ASSESSOR and "Opening meeting" in m["Subject"]]
    assert len(chair) == 1 and chair[0].get_payload()[0].get_payload()[2].get_param("method") == "REQUEST"
    covering = next(m for m in sent if "assessment timetable" in m["Subject"])
    ics = next(p for p in covering.iter_attachments() if p.get_filename() == "assessment-timetable.ics")
    assert ics.get_content_type() == "text/calendar" and ics.get_param("method") == "PUBLISH"
    assert b"ATTENDEE" not in ics.get_payload(decode=True) and b"RSVP" not in ics.get_payload(decode=True)
    vtz = ics.get_payload(decode=True).decode()
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in vtz and "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in vtz
    assert "RDATE" not in vtz


def test_a_move_a_cancellation_and_an_addition_reach_the_assessor_and_are_listed(tmp_path):
    org, engine, folder = _council(tmp_path, FIRST_DAY)
    planned = pipeline.plan(org, engine, seconds=4)
    full = Timetable.from_dict(planned["timetable"])
    keys = [pl.key for pl in full.placements if pl.key != "opening-meeting"]
    added, moved, cancelled = keys[0], keys[1], keys[2]
    first = replace(full, placements=tuple(pl for pl in full.placements if pl.key != added))
    pipeline.publish(org, engine, planned | {"timetable": first.to_dict()}, folder, "run-1")
    sent: list[EmailMessage] = []
    pipeline.send(org, engine, sent.append, planned | {"timetable": first.to_dict()}, folder, "run-1")
    assert not any(m["Subject"].startswith("Changed:") for m in sent)

    old = full.placement(moved)
    second = replace(
        full,
        placements=tuple(
            replace(pl, start=pl.start + 30, end=pl.end + 30) if pl.key == moved else pl
            for pl in full.placements
            if pl.key != cancelled
        ),
    )
    again = planned | {"timetable": second.to_dict()}
    summary = pipeline.publish(org, engine, again, folder, "run-2")
    assert set(summary["changed"]) == {added, moved, cancelled}
    sent.clear()
    counts = pipeline.send(org, engine, sent.append, again, folder, "run-2")
    assert counts["invites"] == 2 and counts["cancellations"] == 1 and counts["assessor_sessions"] == 3

    to_assessor = [m for m in sent if m["To"].addresses[0].addr_spec == ASSESSOR]
    methods = {}
    for m in to_assessor:
        for part in m.walk():
            if (
                part.get_content_type() == "text/calendar"
                and part.get_content_disposition() is None
                and part.get_param("method") != "PUBLISH"
            ):
                (event,) = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
                methods[str(event["UID"]).split("-", 2)[2].split("@")[0]] = (part.get_param("method"), int(event["SEQUENCE"]))
    assert methods == {added: ("REQUEST", 0), moved: ("REQUEST", 1), cancelled: ("CANCEL", 1)}

    covering = next(m for m in to_assessor if "assessment timetable" in m["Subject"])
    assert covering["Subject"].startswith("Changed: ")
    text = covering.get_body(("plain",)).get_content()
    p = pipeline.problem_for(org, planned["scope"])
    title = {s.key: s.title for s in p.sessions}
    assert "1 cancelled, 1 moved, 1 added." in text
    assert f"Cancelled: {title[cancelled]}" in text and f"Added: {title[added]}" in text
    hhmm = f"{old.start // 60:02d}:{old.start % 60:02d}"
    assert re.search(rf"Moved: {re.escape(title[moved])}, .*\(was .*{hhmm}", text)
    publish = next(p for p in covering.iter_attachments() if p.get_filename() == "assessment-timetable.ics")
    uids = {str(e["UID"]) for e in Calendar.from_ical(publish.get_payload(decode=True)).walk("VEVENT")}
    assert f"cse-2027-{cancelled}@kestrelvale.example.org" not in uids and f"cse-2027-{added}@kestrelvale.example.org" in uids

    moved_mail = next(m for m in sent if title[moved] in m["Subject"] and ASSESSOR not in m["To"])
    assert moved_mail["Subject"].startswith("Updated: ") and "was: " in moved_mail.get_body(("plain",)).get_content()
    sent.clear()
    assert pipeline.send(org, engine, sent.append, again, folder, "run-3")["skipped"] > 0 and sent == []
