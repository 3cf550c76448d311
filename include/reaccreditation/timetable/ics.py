"""iCalendar for the timetable: a METHOD:REQUEST invite per session and the assessor's full calendar.

Each event's UID is the session's stable identity and SEQUENCE its revision (see ``store``), so a
moved session updates the calendar entry people already have instead of adding a second one.

The time zone goes in the rule-based form Outlook and Google write (one STANDARD and one DAYLIGHT block,
each with its yearly RRULE), not icalendar's ``add_missing_timezones()`` list of RDATEs: vobject, and
by public reports Outlook, read that list as one fixed offset (09:00 Europe/London in March as 08:00 UTC).
A PUBLISH calendar (the assessor's file) carries no ATTENDEE (RFC 5546 section 3.2.1).
"""

from __future__ import annotations

import calendar as monthcal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress, vRecur, vText

from reaccreditation.mail.compose import one_line
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
    link: str | None = None  # a virtual session's joining link


def where(p: Problem, mode: str, site: str | None, room: str | None, link: str | None = None) -> str:
    if mode == "virtual" or site is None:
        label = p.joining_links.label if p.joining_links else "Online meeting"
        if link:
            return f"{label}: {link}"
        return label if p.joining_links else "Online (joining link from the quality team)"
    place = p.sites.get(site, site)
    return f"{p.rooms[room].name}, {place}" if room and room in p.rooms else place


def _address(email: str, name: str, role: str = "REQ-PARTICIPANT") -> vCalAddress:
    a = vCalAddress(f"mailto:{email}")
    a.params["cn"] = vText(one_line(name, 100))
    a.params["role"] = vText(role)
    a.params["partstat"] = vText("NEEDS-ACTION")
    a.params["rsvp"] = vText("TRUE")
    return a


def event(
    p: Problem, info: EventInfo, organiser: tuple[str, str], stamp: datetime | None = None, attendees: bool = True
) -> Event:
    known = {s.key for s in p.sessions}
    title = p.session(info.key).title if info.key in known else info.title
    members = info.members or (p.session(info.key).members if info.key in known else ())
    ev = Event()
    ev.add("uid", info.uid)
    ev.add("sequence", info.sequence)
    ev.add("dtstamp", stamp or datetime.now(UTC))
    ev.add("dtstart", local_datetime(p, info.day, info.start))
    ev.add("dtend", local_datetime(p, info.day, info.end))
    ev.add("summary", one_line(f"CSE assessment: {title}", 200))
    link = info.link if info.mode == "virtual" else None
    # a joining link goes where each client shows it: LOCATION (Outlook's and Google's "Join" and map line),
    # URL (Thunderbird's and Apple's link field) and the description's first line
    ev.add("location", link or where(p, info.mode, info.site, info.room))
    label = p.joining_links.label if p.joining_links else "Online meeting"
    join = f"Join online ({label}): {link}\n\n" if link else ""
    if link:
        ev.add("url", link)
    if info.key in known:
        s = p.session(info.key)
        elements = ", ".join(s.elements[:30]) + (" …" if len(s.elements) > 30 else "")
        depts = ", ".join(p.department_names.get(d, d) for d in s.departments) or "-"
        ev.add(
            "description",
            f"{join}{MODE_LABEL[info.mode]} session with the assessor.\nDepartments: {depts}\nElements: {elements}",
        )
    elif join:
        ev.add("description", join.strip())
    ev.add("status", "CANCELLED" if info.cancelled else "CONFIRMED")
    org = vCalAddress(f"mailto:{organiser[1]}")
    org.params["cn"] = vText(one_line(organiser[0], 100))
    ev.add("organizer", org)
    if not attendees:
        return ev
    for name, email in p.assessors:
        ev.add("attendee", _address(email, name, "CHAIR"))
    for name, email in members:
        ev.add("attendee", _address(email, name))
    return ev


def calendar(p: Problem, events: Sequence[EventInfo], organiser: tuple[str, str], method: str = "REQUEST") -> bytes:
    """A calendar object for ``method``: REQUEST/CANCEL name every attendee, PUBLISH none (RFC 5546)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    cal.add_component(vtimezone(p.timezone, p.days[0] if p.days else date.today()))
    for info in events:
        cal.add_component(event(p, info, organiser, attendees=method != "PUBLISH"))
    return cal.to_ical()


# --- VTIMEZONE in the rule-based form ------------------------------------------------------------------


@dataclass(frozen=True)
class _Transition:
    at: datetime  # the UTC instant
    before: timedelta  # UTC offset before
    after: timedelta  # UTC offset after
    name: str  # the zone's abbreviation after (GMT, BST)

    @property
    def local(self) -> datetime:
        """The wall-clock time it happens at, in the offset before (what DTSTART means in a VTIMEZONE)."""
        return (self.at + self.before).replace(tzinfo=None)


def _transitions(tz: ZoneInfo, year: int) -> list[_Transition]:
    """Every change of UTC offset in ``year``, to the minute (days scanned, then bisected)."""

    def offset(t: datetime) -> timedelta:
        return t.astimezone(tz).utcoffset() or timedelta(0)

    out = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    while t < end:
        nxt = t + timedelta(days=1)
        if offset(t) != offset(nxt):
            lo, hi = 0, 24 * 60  # minutes after t: offset(lo) is the old one, offset(hi) the new
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(t + timedelta(minutes=mid)) == offset(t) else (lo, mid)
            at = t + timedelta(minutes=hi)
            out.append(_Transition(at, offset(t), offset(at), at.astimezone(tz).tzname() or ""))
        t = nxt
    return out


def _weekday_rule(local: datetime) -> list[str]:
    """Candidate BYDAY values for this date: the last such weekday of its month, and the nth one."""
    day = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[local.weekday()]
    nth = (local.day - 1) // 7 + 1
    last = local.day + 7 > monthcal.monthrange(local.year, local.month)[1]
    return ([f"-1{day}"] if last else []) + [f"{nth}{day}"]


def _occurs(year: int, month: int, byday: str) -> int:
    """The day of the month of BYDAY (e.g. -1SU, 2SU) in that month."""
    n, weekday = int(byday[:-2]), ("MO", "TU", "WE", "TH", "FR", "SA", "SU").index(byday[-2:])
    days = [d for d in range(1, monthcal.monthrange(year, month)[1] + 1) if date(year, month, d).weekday() == weekday]
    return days[n - 1] if n > 0 else days[n]


def vtimezone(name: str, around: date) -> Timezone:
    """The zone's current rules as STANDARD/DAYLIGHT blocks with yearly RRULEs, checked against the tz
    database for the years around ``around``; a zone whose changes follow no weekday rule gets the
    explicit (RDATE) form instead."""
    tz = ZoneInfo(name)
    year = around.year
    changes = _transitions(tz, year)
    comp = Timezone()
    comp.add("tzid", name)
    if not changes:
        offset = datetime(year, 1, 1, tzinfo=tz).utcoffset() or timedelta(0)
        std = TimezoneStandard()
        std.add("dtstart", datetime(1970, 1, 1))
        std.add("tzoffsetfrom", offset)
        std.add("tzoffsetto", offset)
        std.add("tzname", datetime(year, 1, 1, tzinfo=tz).tzname() or name)
        comp.add_component(std)
        return comp
    others = {y: _transitions(tz, y) for y in (year - 1, year + 1, year + 2)}
    for change in changes:
        match = [o for y in others for o in others[y] if o.after == change.after and o.local.month == change.local.month]
        rule = next(
            (
                byday
                for byday in _weekday_rule(change.local)
                if len(match) == len(others)
                and all(
                    o.local.day == _occurs(o.local.year, o.local.month, byday) and o.local.time() == change.local.time()
                    for o in match
                )
            ),
            None,
        )
        if rule is None:
            return Timezone.from_tzinfo(tz, first_date=date(year - 1, 1, 1), last_date=date(year + 1, 12, 31))
        block = TimezoneDaylight() if change.after > min(c.after for c in changes) else TimezoneStandard()
        first = change.local.replace(year=year - 1, day=_occurs(year - 1, change.local.month, rule))
        block.add("dtstart", first)
        block.add("tzoffsetfrom", change.before)
        block.add("tzoffsetto", change.after)
        block.add("tzname", change.name)
        block.add("rrule", vRecur({"FREQ": "YEARLY", "BYMONTH": change.local.month, "BYDAY": rule}))
        comp.add_component(block)
    return comp
