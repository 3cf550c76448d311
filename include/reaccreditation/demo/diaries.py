"""The demo's personal diaries: iCalendar files of busy times, as Outlook or Google would publish them.

``council.yaml``'s ``timetable.people`` entries may carry ``demo_busy`` (day of the assessment, from, to,
and a private title): the generator writes them as ``diaries/<name>.ics`` next to the demo config, with
dates from the assessment's working days, so the planner reads them like any diary. The titles are there
to show they never reach the timetable (only busy times are read).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

TIMEZONE = "Europe/London"


def busy_ics(email: str, busy: list[dict[str, Any]], dates: tuple[date, ...], stamp: datetime) -> bytes:
    """A diary with one opaque event per busy entry (times in UTC, as free/busy publishing writes them)."""
    tz = ZoneInfo(TIMEZONE)
    cal = Calendar()
    cal.add("prodid", "-//Kestrel Vale demo//diary//EN")
    cal.add("version", "2.0")
    for n, entry in enumerate(busy, 1):
        day = dates[int(entry["day"]) - 1]
        event = Event()
        event.add("uid", f"demo-{n}-{email}")
        event.add("dtstamp", stamp)
        event.add("dtstart", datetime.combine(day, time.fromisoformat(entry["from"]), tz).astimezone(ZoneInfo("UTC")))
        event.add("dtend", datetime.combine(day, time.fromisoformat(entry["to"]), tz).astimezone(ZoneInfo("UTC")))
        event.add("summary", entry.get("title", "Busy"))
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    return cal.to_ical()
