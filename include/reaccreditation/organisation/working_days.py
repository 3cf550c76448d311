"""Working days of the organisation's nation: nobody is asked to act on a weekend or a bank holiday.

Bank holidays come from the maintained ``holidays`` package (UK, per subdivision), never a hand list:
England and Wales share one calendar; Scotland (2 January, St Andrew's Day, no Easter Monday, an early
August holiday) and Northern Ireland (St Patrick's Day, the Battle of the Boyne) differ.
A date people must act on that falls on a day off moves to the working day before it, so a deadline
is never later than the one configured.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import Literal

Nation = Literal["england-and-wales", "scotland", "northern-ireland"]
NATIONS: dict[str, str] = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR"}
DEFAULT_NATION: Nation = "england-and-wales"
NATION_NAMES = {"england-and-wales": "England and Wales", "scotland": "Scotland", "northern-ireland": "Northern Ireland"}


@cache
def _calendar(nation: str):  # type: ignore[no-untyped-def]
    import holidays

    try:
        subdivision = NATIONS[nation]
    except KeyError:
        raise ValueError(f"unknown nation {nation!r}; expected one of {', '.join(NATIONS)}") from None
    return holidays.country_holidays("GB", subdiv=subdivision)  # expands to any year asked for


def bank_holiday(day: date, nation: str = DEFAULT_NATION) -> str | None:
    """The bank holiday's name on ``day`` in ``nation``, or None."""
    return _calendar(nation).get(day)


def day_off(day: date, nation: str = DEFAULT_NATION) -> str | None:
    """Why nobody works on ``day``: 'Saturday', 'Easter Monday, a bank holiday'; None on a working day."""
    holiday = bank_holiday(day, nation)
    if holiday:
        return f"{holiday}, a bank holiday"
    return f"{day:%A}" if day.weekday() >= 5 else None


def is_working_day(day: date, nation: str = DEFAULT_NATION) -> bool:
    return day_off(day, nation) is None


def previous_working_day(day: date, nation: str = DEFAULT_NATION) -> date:
    """``day`` itself when it is a working day, else the nearest working day before it."""
    while not is_working_day(day, nation):
        day -= timedelta(days=1)
    return day


def next_working_day(day: date, nation: str = DEFAULT_NATION) -> date:
    """``day`` itself when it is a working day, else the nearest working day after it."""
    while not is_working_day(day, nation):
        day += timedelta(days=1)
    return day


def working_days_before(day: date, count: int, nation: str = DEFAULT_NATION) -> date:
    """The working day ``count`` working days before ``day`` (``day`` itself, moved back to a working day, for 0)."""
    day = previous_working_day(day, nation)
    for _ in range(count):
        day = previous_working_day(day - timedelta(days=1), nation)
    return day


def working_days_from(first: date, count: int, nation: str = DEFAULT_NATION) -> tuple[date, ...]:
    """``count`` working days starting on ``first`` (or the next working day after it)."""
    out: list[date] = []
    day = first
    while len(out) < count:
        if is_working_day(day, nation):
            out.append(day)
        day += timedelta(days=1)
    return tuple(out)


def days_off_between(first: date, last: date, nation: str = DEFAULT_NATION) -> list[tuple[date, str]]:
    """Every day off from ``first`` to ``last`` inclusive, with why."""
    out = []
    day = first
    while day <= last:
        why = day_off(day, nation)
        if why:
            out.append((day, why))
        day += timedelta(days=1)
    return out
