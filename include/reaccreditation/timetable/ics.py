"""iCalendar for the timetable: a METHOD:REQUEST invite per session and the assessor's full calendar.

Each event's UID is the session's stable identity and SEQUENCE its revision (see ``store``), so a
moved session updates the calendar entry people already have instead of adding a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress, vText

from reaccreditation.mail import one_line
from reaccreditation.timetable.problem import Problem
from reaccreditation.timetable.store import local_datetime

PRODID = "-//Reaccreditation//Assessment timetable//EN"
MODE_LABEL = {"site_visit": "Site visit", "face_to_face": "Face to face", "virtual": "Virtual"}


@dataclass(frozen=True)
class EventInfo:
    """What one calendar event says; built from the stored session and the problem."""

    uid: str
    sequence: int
    key: str
    day: int
    start: int
    end: int
    mode: str
    site: str | None
    room: str | None
    cancelled: bool = False
    title: str = ""  # as stored, for a session no longer configured
    members: tuple[tuple[str, str], ...] = ()


def where(p: Problem, mode: str, site: str | None, room: str | None) -> str:
    if mode == "virtual" or site is None:
        return "Online (joining link from the quality team)"
    place = p.sites.get(site, site)
    return f"{p.rooms[room].name}, {place}" if room and room in p.rooms else place


def _address(email: str, name: str, role: str = "REQ-PARTICIPANT") -> vCalAddress:
    a = vCalAddress(f"mailto:{email}")
    a.params["cn"] = vText(one_line(name, 100))
    a.params["role"] = vText(role)
    a.params["partstat"] = vText("NEEDS-ACTION")
    a.params["rsvp"] = vText("TRUE")
    return a


def event(p: Problem, info: EventInfo, organiser: tuple[str, str], stamp: datetime | None = None) -> Event:
    known = {s.key for s in p.sessions}
    title = p.session(info.key).title if info.key in known else info.title
    members = p.session(info.key).members if info.key in known else info.members
    ev = Event()
    ev.add("uid", info.uid)
    ev.add("sequence", info.sequence)
    ev.add("dtstamp", stamp or datetime.now(UTC))
    ev.add("dtstart", local_datetime(p, info.day, info.start))
    ev.add("dtend", local_datetime(p, info.day, info.end))
    ev.add("summary", one_line(f"CSE assessment: {title}", 200))
    ev.add("location", where(p, info.mode, info.site, info.room))
    if info.key in known:
        s = p.session(info.key)
        elements = ", ".join(s.elements[:30]) + (" …" if len(s.elements) > 30 else "")
        depts = ", ".join(p.department_names.get(d, d) for d in s.departments) or "-"
        ev.add("description", f"{MODE_LABEL[info.mode]} session with the assessor.\nDepartments: {depts}\nElements: {elements}")
    ev.add("status", "CANCELLED" if info.cancelled else "CONFIRMED")
    org = vCalAddress(f"mailto:{organiser[1]}")
    org.params["cn"] = vText(one_line(organiser[0], 100))
    ev.add("organizer", org)
    for name, email in p.assessors:
        ev.add("attendee", _address(email, name, "CHAIR"))
    for name, email in members:
        ev.add("attendee", _address(email, name))
    return ev


def calendar(p: Problem, events: Sequence[EventInfo], organiser: tuple[str, str], method: str = "REQUEST") -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    for info in events:
        cal.add_component(event(p, info, organiser))
    cal.add_missing_timezones()
    return cal.to_ical()
