"""People's busy times as the timetable sees them: (day index, from minute, to minute) per lower-case email.

The diary readers (``timetable.diaries``) give busy intervals as aware datetimes, from any time zone
and of any length; the solver, the pre-check and the checker work in minutes of an assessment day. The
conversion happens here once: each interval in the organisation's time zone, clipped to each day's
hours (so one that crosses midnight, or lasts a week, becomes a piece per day it touches), merged.
Minutes are wall-clock minutes from local midnight, as everywhere in the timetable (``store.local_datetime``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Busy = Mapping[str, tuple[tuple[int, int, int], ...]]


def _wall(moment: datetime, tz: ZoneInfo) -> datetime:
    """The moment as local wall-clock time (a naive datetime is taken as already local)."""
    return moment.replace(tzinfo=None) if moment.tzinfo is None else moment.astimezone(tz).replace(tzinfo=None)


def busy_minutes(
    busy: Mapping[str, Iterable[tuple[datetime, datetime]]],
    days: Sequence[date],
    timezone: str,
    day_start: int,
    day_end: int,
) -> dict[str, tuple[tuple[int, int, int], ...]]:
    """Busy intervals per lower-case email in day minutes, clipped to ``day_start``..``day_end`` and merged.

    A start is rounded down and an end up to the minute (busy is never shortened); a person with no busy
    time inside the assessment's hours is left out.
    """
    tz = ZoneInfo(timezone)
    index = {d: i for i, d in enumerate(days)}
    first, final = (min(days), max(days)) if days else (date.max, date.min)
    out: dict[str, list[tuple[int, int, int]]] = {}
    for email, intervals in busy.items():
        pieces = out.setdefault(email.strip().lower(), [])
        for start, end in intervals:
            a, b = _wall(start, tz), _wall(end, tz)
            if b <= a:
                continue
            day, last = max(a.date(), first), min(b.date(), final)
            while day <= last:
                if day in index:
                    midnight = datetime.combine(day, time())
                    lo = max(day_start, (a - midnight) // timedelta(minutes=1))
                    hi = min(day_end, -((midnight - b) // timedelta(minutes=1)))
                    if hi > lo:
                        pieces.append((index[day], lo, hi))
                day += timedelta(days=1)
    return {email: merged for email, pieces in out.items() if (merged := merge(pieces))}


def merge(pieces: Iterable[tuple[int, int, int]]) -> tuple[tuple[int, int, int], ...]:
    """(day, from, to) intervals sorted, with overlapping or touching ones joined."""
    joined: list[tuple[int, int, int]] = []
    for d, a, b in sorted(pieces):
        if joined and joined[-1][0] == d and a <= joined[-1][2]:
            joined[-1] = (d, joined[-1][1], max(b, joined[-1][2]))
        else:
            joined.append((d, a, b))
    return tuple(joined)


def to_json(busy: Busy) -> dict[str, list[list[int]]]:
    return {email: [list(x) for x in intervals] for email, intervals in busy.items()}


def from_json(data: Mapping[str, Iterable[Iterable[int]]] | None) -> dict[str, tuple[tuple[int, int, int], ...]]:
    return {email: tuple(tuple(x) for x in intervals) for email, intervals in (data or {}).items()}  # type: ignore[misc]


def free_starts(
    windows: Iterable[tuple[int, int, int]],
    busy: Iterable[tuple[int, int, int]],
    minutes: int,
    day_start: int,
    day_end: int,
    slot: int = 1,
    gap: int = 0,
) -> list[tuple[int, int, int]]:
    """(day, first, last) ranges of start minutes, on the slot grid, where ``minutes`` fit inside a window and
    the day and keep ``gap`` minutes clear of every busy interval on both sides (with no gap a session may start
    as one ends, or end as one starts; the timetable passes ``Problem.changeover``)."""
    slot = max(1, slot)
    blocked: dict[int, list[tuple[int, int]]] = {}
    for d, a, b in busy:
        blocked.setdefault(d, []).append((a - gap - minutes + 1, b + gap - 1))  # starts that would come within gap of [a, b)
    out: list[tuple[int, int, int]] = []
    for d, a, b in sorted(windows):
        ranges = [(max(a, day_start), min(b, day_end) - minutes)]
        for x, y in sorted(blocked.get(d, ())):
            ranges = [r for lo, hi in ranges for r in ((lo, min(hi, x - 1)), (max(lo, y + 1), hi)) if r[0] <= r[1]]
        for lo, hi in ranges:
            lo, hi = -(-lo // slot) * slot, hi // slot * slot
            if lo <= hi:
                out.append((d, lo, hi))
    return _join(out)


def _join(ranges: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    joined: list[tuple[int, int, int]] = []
    for d, a, b in sorted(ranges):
        if joined and joined[-1][0] == d and a <= joined[-1][2]:
            joined[-1] = (d, joined[-1][1], max(b, joined[-1][2]))
        else:
            joined.append((d, a, b))
    return joined
