"""Typed availability (``availability:`` windows) as busy times: the rest of each assessment day's working hours."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from reaccreditation.timetable.config import Window
from reaccreditation.timetable.diaries.reading import Interval, merged


def working_hours(days: Sequence[date], tz: ZoneInfo, day_start: time, day_end: time) -> list[Interval]:
    return [(datetime.combine(d, day_start, tz), datetime.combine(d, day_end, tz)) for d in days]


def busy_from_rules(
    windows: Sequence[Window], days: Sequence[date], tz: ZoneInfo, day_start: time, day_end: time
) -> tuple[Interval, ...]:
    """No windows: never busy. Otherwise busy whenever no window is open (a day with no window: all day).

    A window's ``day`` is 1-based or a date, as for groups; days outside the assessment are ignored here
    (the config check names them).
    """
    if not windows:
        return ()
    busy: list[Interval] = []
    for i, d in enumerate(days):
        start, end = datetime.combine(d, day_start, tz), datetime.combine(d, day_end, tz)
        free = merged(
            (max(start, datetime.combine(d, w.start or day_start, tz)), min(end, datetime.combine(d, w.end or day_end, tz)))
            for w in windows
            if w.day == i + 1 or w.day == d
        )
        cursor = start
        for a, b in free:
            if a > cursor:
                busy.append((cursor, a))
            cursor = max(cursor, b)
        if cursor < end:
            busy.append((cursor, end))
    return merged(busy)
