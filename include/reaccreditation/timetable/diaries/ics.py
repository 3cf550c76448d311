"""Busy times from an iCalendar file, as Outlook, Google and Thunderbird publish them (and CalDAV free/busy answers).

Counted as busy: VFREEBUSY periods other than ``FBTYPE=FREE``, and VEVENT occurrences (recurring ones expanded by
``recurring-ical-events``) unless ``TRANSP:TRANSPARENT``, ``STATUS:CANCELLED`` or Outlook's busy status ``FREE``.
All-day events block whole days; floating times are the organisation's time zone. Only times leave this module:
errors never quote the file, whose lines may carry a title.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from reaccreditation.timetable.diaries.reading import Interval

MAX_BYTES = 5_000_000  # the default of timetable.diaries.max_megabytes: a year of a busy person's diary is well under 1 MB
MAX_REPEATS = 100_000  # steps a recurring event may take from its first occurrence to the assessment's end
_STEP = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": 86400,
    "WEEKLY": 7 * 86400,
    "MONTHLY": 28 * 86400,
    "YEARLY": 365 * 86400,
}
_EXPANDING = ("BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS")


class DiaryError(Exception):
    """A diary that cannot be used; the message finishes a sentence about the source ('... did not answer')."""


def too_big(size: int | None = None, limit: int = MAX_BYTES) -> DiaryError:
    """``size``: the whole answer's, when known (a file, a declared length); else only "more than"."""
    measured = f"is {size / 1e6:.1f} MB, " if size else "is "
    return DiaryError(
        f"{measured}more than the {limit / 1e6:g} MB a diary may be (timetable.diaries.max_megabytes): refused. "
        "If it is a genuine diary, publish a shorter range of it or raise that limit"
    )


def busy_from_ics(
    data: bytes, start: datetime, end: datetime, tz: ZoneInfo, *, skim: bool = True, max_bytes: int = MAX_BYTES
) -> list[Interval]:
    """Busy intervals of an iCalendar file that overlap ``start``..``end`` (aware, unmerged).

    ``skim``: leave out, before parsing, the one-off events that end days before or start days after the window
    (a year's diary holds hundreds; parsing is most of the time); False parses everything (the tests' check).
    """
    import icalendar
    import recurring_ical_events

    if len(data) > max_bytes:
        raise too_big(len(data), max_bytes)
    head = data.lstrip()[:15].lower()
    if head.startswith((b"<!doctype", b"<html")):
        raise DiaryError("gave a web page, not a calendar (use the calendar's published .ics address)")
    if head.startswith(b"<"):
        raise DiaryError("gave an XML document, not a calendar")
    if skim:
        data = skimmed(data, start.date() - timedelta(days=2), end.date() + timedelta(days=2))
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception:  # the parser's message quotes the offending line, which may be a title
        raise DiaryError("is not a readable iCalendar file") from None
    if not calendars:
        raise DiaryError("is not a readable iCalendar file (no complete calendar in it)")
    out: list[Interval] = []
    try:
        for cal in calendars:
            for fb in cal.walk("VFREEBUSY"):
                out.extend(_free_busy(fb, tz))
            for event in cal.walk("VEVENT"):
                _check_repeats(event, end, tz)
            for event in recurring_ical_events.of(cal).between(start, end):
                if _counts(event):
                    out.append((_aware(event["DTSTART"].dt, tz), _aware(event["DTEND"].dt, tz)))
    except DiaryError:
        raise
    except Exception:
        raise DiaryError("is not a readable iCalendar file (an event's dates or repeat rule are broken)") from None
    return [(a, b) for a, b in out if a < end and b > start]


_FOLD = re.compile(rb"\r?\n[ \t]")
_EVENT = re.compile(rb"^BEGIN:VEVENT\r?\n.*?^END:VEVENT[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE | re.IGNORECASE)
_REPEATS = re.compile(rb"^(?:RRULE|RDATE|RECURRENCE-ID|DURATION)[;:]", re.MULTILINE | re.IGNORECASE)
_DTSTART = re.compile(rb"^DTSTART[;:][^\r\n]*?(\d{8})", re.MULTILINE | re.IGNORECASE)
_DTEND = re.compile(rb"^DTEND[;:][^\r\n]*?(\d{8})", re.MULTILINE | re.IGNORECASE)


def skimmed(data: bytes, first: date, last: date) -> bytes:
    """``data`` without the one-off events wholly outside ``first``..``last`` (dates as written: pass a margin of
    a day or two for time zones). Anything repeating, moved, with a DURATION or unclear is kept for the parser."""
    data = _FOLD.sub(b"", data)
    low, high = first.strftime("%Y%m%d").encode(), last.strftime("%Y%m%d").encode()

    def keep(match: re.Match[bytes]) -> bytes:
        block = match.group(0)
        begins, ends = _DTSTART.search(block), _DTEND.search(block)
        if _REPEATS.search(block) or begins is None:
            return block
        until = ends.group(1) if ends else begins.group(1)
        return block if until >= low and begins.group(1) <= high else b""

    return _EVENT.sub(keep, data)


def _free_busy(component, tz: ZoneInfo) -> Iterator[Interval]:
    periods = component.get("FREEBUSY", [])
    for period in periods if isinstance(periods, list) else [periods]:
        if str(period.params.get("FBTYPE", "BUSY")).upper() == "FREE":
            continue
        begin, until = period.dt
        begin = _aware(begin, tz)
        yield begin, begin + until if isinstance(until, timedelta) else _aware(until, tz)


def _counts(event) -> bool:
    free = str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT"
    cancelled = str(event.get("STATUS", "")).upper() == "CANCELLED"
    outlook_free = str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).upper() == "FREE"
    return not (free or cancelled or outlook_free)


def _check_repeats(event, end: datetime, tz: ZoneInfo) -> None:
    """Refuse a repeat rule that would take more than MAX_REPEATS steps to reach the assessment (a hostile
    ``FREQ=SECONDLY`` from years ago would otherwise keep the expander busy for hours)."""
    rules = event.get("RRULE")
    if rules is None or "DTSTART" not in event:
        return
    first = _aware(event["DTSTART"].dt, tz)
    for rule in rules if isinstance(rules, list) else [rules]:
        freq = str((rule.get("FREQ") or ["DAILY"])[0]).upper()
        interval = int((rule.get("INTERVAL") or [1])[0]) or 1
        steps = max(0.0, (end - first).total_seconds()) / (_STEP.get(freq, 1) * interval)
        for key in _EXPANDING:
            steps *= max(1, len(rule.get(key) or ()))
        if steps > MAX_REPEATS:
            raise DiaryError(f"has an event repeating {freq.lower()} too often to expand (over {MAX_REPEATS:,} repeats): refused")


def _aware(value: date | datetime, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=tz) if value.tzinfo is None else value
    return datetime.combine(value, time(0), tz)
