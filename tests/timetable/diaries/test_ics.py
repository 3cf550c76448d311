"""Busy times from iCalendar files as Outlook, Google and Thunderbird publish them, checked independently."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
import vobject

from reaccreditation.timetable.diaries.ics import MAX_BYTES, DiaryError, busy_from_ics
from reaccreditation.timetable.diaries.reading import DiaryReading, merged

from .conftest import LONDON, SECRET, at, calendar, event

START, END = at(1, 0), at(3, 23, 59)


def busy(data: bytes) -> list[tuple[datetime, datetime]]:
    return list(merged(busy_from_ics(data, START, END, LONDON)))


def test_free_busy_periods_count_unless_free():
    data = calendar(
        "BEGIN:VFREEBUSY\r\nUID:fb\r\nDTSTAMP:20270101T000000Z\r\n"
        "FREEBUSY;FBTYPE=BUSY:20270315T100000Z/20270315T110000Z,20270316T130000Z/PT45M\r\n"
        "FREEBUSY;FBTYPE=FREE:20270315T140000Z/20270315T160000Z\r\n"
        "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20270317T090000Z/20270317T093000Z\r\n"
        "FREEBUSY:20270317T150000Z/20270317T160000Z\r\n"
        "END:VFREEBUSY\r\n"
    )
    assert busy(data) == [
        (at(1, 10), at(1, 11)),
        (at(2, 13), at(2, 13, 45)),
        (at(3, 9), at(3, 9, 30)),
        (at(3, 15), at(3, 16)),
    ]


def test_events_in_their_time_zones_all_day_floating_transparent_and_cancelled():
    data = calendar(
        event("utc", "DTSTART:20270315T100000Z", "DTEND:20270315T110000Z"),
        event("paris", "DTSTART;TZID=Europe/Paris:20270315T150000", "DTEND;TZID=Europe/Paris:20270315T160000"),
        event("floating", "DTSTART:20270316T090000", "DURATION:PT2H"),  # floating: the organisation's time zone
        event("all-day", "DTSTART;VALUE=DATE:20270317"),
        event("transparent", "DTSTART:20270316T140000Z", "DTEND:20270316T150000Z", "TRANSP:TRANSPARENT"),
        event("cancelled", "DTSTART:20270316T150000Z", "DTEND:20270316T160000Z", "STATUS:CANCELLED"),
        event("outlook-free", "DTSTART:20270316T160000Z", "DTEND:20270316T163000Z", "X-MICROSOFT-CDO-BUSYSTATUS:FREE"),
        event("elsewhen", "DTSTART:20270322T100000Z", "DTEND:20270322T110000Z"),
    )
    assert busy(data) == [
        (at(1, 10), at(1, 11)),
        (at(1, 14), at(1, 15)),  # 15:00 in Paris is 14:00 in London in March (before either's summer time)
        (at(2, 9), at(2, 11)),
        (at(3, 0), at(3, 0) + timedelta(days=1)),
    ]


def test_summer_time_starting_mid_assessment():
    """British Summer Time starts at 01:00Z on Sunday 28 March 2027: 10:00 London is 10:00Z before, 09:00Z from then."""
    data = calendar(
        event(
            "weekly",
            "DTSTART;TZID=Europe/London:20270326T100000",
            "DTEND;TZID=Europe/London:20270326T110000",
            "RRULE:FREQ=DAILY;COUNT=4",
        )
    )
    spans = merged(busy_from_ics(data, datetime(2027, 3, 26, tzinfo=UTC), datetime(2027, 3, 30, tzinfo=UTC), LONDON))
    assert [a.astimezone(UTC).hour for a, _ in spans] == [10, 10, 9, 9]  # Fri 26, Sat 27, Sun 28, Mon 29


RECURRING = calendar(
    event(
        "weekly-panel",
        "DTSTART;TZID=Europe/London:20270301T140000",
        "DTEND;TZID=Europe/London:20270301T153000",
        "RRULE:FREQ=DAILY;INTERVAL=1;BYDAY=MO,TU,WE;UNTIL=20270331T000000Z",
        "EXDATE;TZID=Europe/London:20270316T140000",
    ),
    # The Wednesday meeting moved to the morning (an override of one occurrence)
    event(
        "weekly-panel",
        "RECURRENCE-ID;TZID=Europe/London:20270317T140000",
        "DTSTART;TZID=Europe/London:20270317T100000",
        "DTEND;TZID=Europe/London:20270317T113000",
    ),
    event(
        "court",
        "DTSTART;TZID=Europe/London:20270302T093000",
        "DTEND;TZID=Europe/London:20270302T100000",
        "RRULE:FREQ=WEEKLY;BYDAY=TU,FR",
    ),
)


def _vobject_busy(data: bytes) -> list[tuple[datetime, datetime]]:
    """The same file's busy times by vobject's own recurrence expansion (an independent implementation)."""
    cal = vobject.readOne(data.decode())
    overrides = {}
    series = []
    for ev in cal.vevent_list:
        if hasattr(ev, "recurrence_id"):
            overrides[(ev.uid.value, ev.recurrence_id.value)] = (ev.dtstart.value, ev.dtend.value)
        else:
            series.append(ev)
    out = []
    for ev in series:
        length = ev.dtend.value - ev.dtstart.value
        for start in ev.getrruleset(addRDate=True).between(START, END, inc=True):
            out.append(overrides.get((ev.uid.value, start), (start, start + length)))
    return list(merged(out))


def test_recurring_events_expanded_as_an_independent_parser_expands_them():
    ours = busy(RECURRING)
    assert ours == _vobject_busy(RECURRING)
    assert ours == [(at(1, 14), at(1, 15, 30)), (at(2, 9, 30), at(2, 10)), (at(3, 10), at(3, 11, 30))]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2027-03-15 " + SECRET.encode() + b"\r\n", "not a readable iCalendar file"),
        (b"<!DOCTYPE html><html><title>" + SECRET.encode() + b"</title>Sign in</html>", "web page, not a calendar"),
        (calendar(event("bad", "DTSTART:20270315T100000Z", "DTEND:yesterday")), "not a readable iCalendar file"),
        (b"x" * (MAX_BYTES + 1), "more than the 5 MB"),
    ],
    ids=["truncated", "login-page", "broken-date", "huge"],
)
def test_malformed_and_huge_files_are_refused_without_quoting_them(data, says):
    with pytest.raises(DiaryError) as caught:
        busy_from_ics(data, START, END, LONDON)
    assert says in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_hostile_repeat_rule_is_refused_at_once():
    data = calendar(event("every-second", "DTSTART:20000101T000000Z", "DTEND:20000101T000001Z", "RRULE:FREQ=SECONDLY"))
    started = time.monotonic()
    with pytest.raises(DiaryError, match="repeating secondly too often"):
        busy_from_ics(data, START, END, LONDON)
    assert time.monotonic() - started < 1  # refused from the rule, not by expanding it


def test_a_reading_survives_json_for_xcom():
    import json

    reading = DiaryReading(
        busy={"ann@example.org": ((at(1, 10), at(1, 11)),)}, notes=("a note",), source_of={"ann@example.org": "ics url"}
    )
    again = DiaryReading.from_dict(json.loads(json.dumps(reading.to_dict())))
    assert again == reading
    assert again.busy["ann@example.org"][0][0].utcoffset() == timedelta(0)


OUTLOOK_ZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:{name}\r\n"
    "BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\n"
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11\r\nEND:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\n"
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
)


@pytest.mark.parametrize("name", ["Eastern Standard Time", "Customized Time Zone"])
def test_outlooks_own_time_zone_definitions(name):
    """Outlook names zones its own way and defines them in the file: New York is on summer time (-4) from 14 March 2027."""
    data = calendar(
        OUTLOOK_ZONE.format(name=name),
        event("ny", f'DTSTART;TZID="{name}":20270315T080000', f'DTEND;TZID="{name}":20270315T093000'),
    )
    assert busy(data) == [(at(1, 12), at(1, 13, 30))]  # London is still on GMT


def _random_diary(rnd) -> bytes:
    """Events around the window's edges: far time zones (+14, -11), all-day and multi-day, folded lines,
    durations, repeats and moved occurrences, in upper and lower case."""
    zones = ["Europe/London", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York"]
    events = []
    for i in range(60):
        day = date(2027, 3, 10) + timedelta(days=rnd.randrange(13))
        stamp = f"{day:%Y%m%d}T{rnd.randrange(24):02d}{rnd.choice(('00', '30'))}00"
        shape = rnd.randrange(6)
        if shape == 0:
            lines = [f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{day + timedelta(days=rnd.randrange(1, 5)):%Y%m%d}"]
        elif shape == 1:
            lines = [f"DTSTART:{stamp}Z", f"DURATION:PT{rnd.randrange(1, 60)}H"]
        elif shape == 2:
            lines = [f"DTSTART:{stamp}", "RRULE:FREQ=DAILY;COUNT=3"]  # floating, no end: zero length
            lines.append(f"DTEND:{stamp[:-6]}235900")
        else:
            zone = rnd.choice(zones)
            end = day + timedelta(days=rnd.choice((0, 0, 1, 3)))
            lines = [f"DTSTART;TZID={zone}:{stamp}", f"dtend;tzid={zone}:{end:%Y%m%d}T235900"]
        if rnd.random() < 0.2:
            lines.append(f"X-LONG-NOTE:{'x' * 100}")  # folded below
        events.append(event(f"e{i}", *lines))
    text = calendar(*events)
    return text.replace(b"X-LONG-NOTE:" + b"x" * 60, b"X-LONG-NOTE:" + b"x" * 60 + b"\r\n ")


def test_skimming_a_big_diary_before_parsing_changes_nothing():
    import random

    rnd = random.Random(27)
    for _ in range(25):
        data = _random_diary(rnd)
        assert merged(busy_from_ics(data, START, END, LONDON)) == merged(busy_from_ics(data, START, END, LONDON, skim=False))
