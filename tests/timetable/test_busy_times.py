"""People's busy times from their diaries: the solver plans around them, the checker and pre-check say who is busy."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reaccreditation.demo import generate
from reaccreditation.organisation.config import ConfigError, load_organisation
from reaccreditation.timetable.busy import busy_minutes, free_starts
from reaccreditation.timetable.checker import check
from reaccreditation.timetable.config import Person, Weights
from reaccreditation.timetable.problem import build_problem
from reaccreditation.timetable.solution import Timetable, TimetableInfeasible
from reaccreditation.timetable.solver import solve

from ..conftest import FIRST_DAY
from .conftest import problem, session

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
NO_LUNCH = (12 * 60, 14 * 60, 0)


def _overlaps(pl, busy) -> bool:  # type: ignore[no-untyped-def]
    return any(d == pl.day and a < pl.end and pl.start < b for d, a, b in busy)


def _solve(p):  # type: ignore[no-untyped-def]
    t = solve(p, seconds=3, workers=2)
    assert check(p, t) == []
    return t


def test_sessions_avoid_their_members_and_the_assessors_busy_times_and_the_checker_sees_a_clash():
    busy = {
        "ann@example.org": ((0, 9 * 60, 12 * 60 + 30),),  # a whole morning in court
        "assessor0@example.org": ((0, 14 * 60, 15 * 60),),
    }
    p = problem([session("a", 45, members=["Ann@Example.org"]), session("b", 60), session("c", 60)], lunch=NO_LUNCH, busy=busy)
    t = _solve(p)
    a = t.placement("a")
    assert a.start >= 12 * 60 + 30 and not _overlaps(a, busy["assessor0@example.org"])
    assert not any(_overlaps(pl, busy["assessor0@example.org"]) for pl in t.placements)
    planted = Timetable(tuple(replace(pl, start=9 * 60, end=9 * 60 + 45) if pl.key == "a" else pl for pl in t.placements))
    assert "diary: Ann (ann@example.org) is busy 09:00-12:30 on day 1, but a is 09:00-09:45" in check(p, planted)
    into_assessor = Timetable(tuple(replace(pl, start=14 * 60, end=15 * 60) if pl.key == "b" else pl for pl in t.placements))
    assert any(v.startswith("diary: Assessor 0 (assessor0@example.org) is busy 14:00-15:00") for v in check(p, into_assessor))


def test_with_two_assessors_only_the_assigned_assessors_diary_counts():
    busy = {"assessor0@example.org": ((0, 9 * 60, 17 * 60),)}  # assessor 0 away all day
    p = problem([session("a", 60, windows=[(0, 9 * 60, 10 * 60)]), session("b", 60)], assessors=2, lunch=NO_LUNCH, busy=busy)
    t = _solve(p)
    assert {pl.assessor for pl in t.placements} == {"assessor1@example.org"}
    moved = Timetable(tuple(replace(pl, assessor="assessor0@example.org") for pl in t.placements), lunches=t.lunches)
    assert sum(v.startswith("diary: Assessor 0") for v in check(p, moved)) == 2


def test_a_person_in_two_groups_is_never_double_booked_whatever_the_case_of_their_email():
    """b speaks to a focus element (and days need not balance), so without the rule it would join a on day 1 with the
    other assessor."""
    first_hour = [(0, 9 * 60, 10 * 60)]
    p = problem(
        [
            session("a", 60, members=["Sam@Example.org", "x@example.org"], mode="virtual", windows=first_hour),
            replace(
                session("b", 60, members=["sam@example.org"], mode="virtual", windows=[*first_hour, (1, 9 * 60, 10 * 60)]),
                focus=True,
            ),
        ],
        days=2,
        assessors=2,
        lunch=NO_LUNCH,
        weights=Weights(balance=0),
    )
    t = _solve(p)
    assert (t.placement("a").day, t.placement("b").day) == (0, 1)
    a, b = t.placement("a"), t.placement("b")
    other = next(e for _, e in p.assessors if e != a.assessor)
    clash = Timetable((a, replace(b, day=0, assessor=other)), lunches=t.lunches)
    assert any("sam@example.org double-booked" in v for v in check(p, clash))


def test_the_precheck_names_whose_diaries_block_a_session():
    p = problem(
        [session("panel", 45, members=["priya.raman@example.org", "tom.hollis@example.org"], windows=[(1, 9 * 60, 17 * 60)])],
        days=2,
        busy={
            "priya.raman@example.org": ((1, 9 * 60, 12 * 60 + 30), (0, 9 * 60, 10 * 60)),
            "tom.hollis@example.org": ((1, 12 * 60 + 15, 17 * 60),),
        },
    )
    with pytest.raises(TimetableInfeasible) as info:
        solve(p, seconds=2)
    (reason,) = info.value.reasons
    assert reason == (
        "Group panel with Priya.Raman and Tom.Hollis cannot meet: on day 2 (Tue 16 Mar) Priya.Raman is busy 09:00-12:30 and "
        "Tom.Hollis 12:15-17:00; no slot of 45 minutes is free for all of them in the group's availability (day 2 (Tue 16 Mar))"
    )
    assessor = replace(p, busy={"assessor0@example.org": ((1, 9 * 60, 17 * 60),)})
    with pytest.raises(TimetableInfeasible, match=r"on day 2 \(Tue 16 Mar\) the assessor Assessor 0 is busy 09:00-17:00"):
        solve(assessor, seconds=2)


def test_diaries_that_conflict_only_together_are_named_by_the_solver():
    """Each session fits alone; both need 09:00-10:00, and the assessor is one person."""
    busy = {e: ((0, 10 * 60, 11 * 60),) for e in ("xena@example.org", "yuri@example.org")}
    p = problem(
        [
            session("a", 60, members=["xena@example.org"], windows=[(0, 9 * 60, 11 * 60)]),
            session("b", 60, members=["yuri@example.org"], windows=[(0, 9 * 60, 11 * 60)]),
        ],
        lunch=NO_LUNCH,
        busy=busy,
    )
    with pytest.raises(TimetableInfeasible) as info:
        solve(p, seconds=2)
    text = "\n".join(info.value.reasons)
    assert "Xena's diary: busy on day 1 (Mon 15 Mar) 10:00-11:00" in text and "Yuri's diary" in text, text


def test_a_diary_change_moves_only_the_sessions_it_must():
    p = problem([session(k, 60, days=2, members=[f"{k}@example.org"]) for k in "abcdef"], days=2)
    first = _solve(p)
    previous = {pl.key: pl for pl in first.placements}
    a = first.placement("a")
    changed = replace(p, busy={"a@example.org": ((a.day, a.start, a.end),)})  # a's member is now busy then
    again = solve(changed, previous, seconds=3, workers=2)
    assert again.moved == ("a",) and check(changed, again) == []
    assert check(changed, first) == [f"diary: A (a@example.org) is busy {_clock(a)} on day {a.day + 1}, but a is {_clock(a)}"]


def _clock(pl) -> str:  # type: ignore[no-untyped-def]
    return f"{pl.start // 60:02d}:{pl.start % 60:02d}-{pl.end // 60:02d}:{pl.end % 60:02d}"


# The converter: aware datetimes from any zone to day minutes in the organisation's zone.

DAYS = (date(2027, 3, 26), date(2027, 3, 29), date(2027, 3, 30))  # Fri, then Mon and Tue after the clocks go forward


def _at(d: date, h: int, m: int = 0, tz=LONDON) -> datetime:  # type: ignore[no-untyped-def]
    return datetime(d.year, d.month, d.day, h, m, tzinfo=tz)


def test_busy_times_are_converted_to_local_day_minutes_across_zones_and_the_change_to_summer_time():
    busy = busy_minutes(
        {
            "Priya@Example.org": [
                (datetime(2027, 3, 26, 10, 0, tzinfo=UTC), datetime(2027, 3, 26, 11, 0, tzinfo=UTC)),  # GMT: 10:00 local
                (datetime(2027, 3, 29, 10, 0, tzinfo=UTC), datetime(2027, 3, 29, 11, 0, tzinfo=UTC)),  # BST: 11:00 local
                # New York is on summer time two weeks before London: 09:00 there is 13:00 here, then 14:00
                (_at(DAYS[0], 9, tz=NEW_YORK), _at(DAYS[0], 10, tz=NEW_YORK)),
                (_at(DAYS[2], 9, tz=NEW_YORK), _at(DAYS[2], 10, tz=NEW_YORK)),
            ]
        },
        DAYS,
        "Europe/London",
        9 * 60,
        17 * 60,
    )
    assert busy == {"priya@example.org": ((0, 600, 660), (0, 780, 840), (1, 660, 720), (2, 840, 900))}


def test_busy_times_crossing_midnight_or_days_are_split_clipped_merged_and_rounded_outwards():
    busy = busy_minutes(
        {
            "night@example.org": [(_at(DAYS[0], 22), _at(DAYS[1], 10))],  # over the weekend, into Monday morning
            "week@example.org": [(_at(DAYS[0], 7), _at(DAYS[2], 23))],
            "edges@example.org": [
                (_at(DAYS[1], 8), _at(DAYS[1], 9)),  # before the day: nothing
                (_at(DAYS[1], 16, 59) + timedelta(seconds=30), _at(DAYS[1], 18)),
                (_at(DAYS[1], 12), _at(DAYS[1], 13)),
                (_at(DAYS[1], 12, 30), _at(DAYS[1], 13, 30)),  # overlapping: merged
                (_at(DAYS[1], 13, 30), _at(DAYS[1], 14)),  # touching: merged
                (_at(DAYS[1], 15), _at(DAYS[1], 15) + timedelta(seconds=1)),  # a second is a minute
            ],
            "none@example.org": [(_at(DAYS[1], 18), _at(DAYS[1], 19)), (_at(DAYS[1], 12), _at(DAYS[1], 11))],
        },
        DAYS,
        "Europe/London",
        9 * 60,
        17 * 60,
    )
    assert busy["night@example.org"] == ((1, 540, 600),)  # Saturday and Sunday are not assessment days
    assert busy["week@example.org"] == ((0, 540, 1020), (1, 540, 1020), (2, 540, 1020))
    assert busy["edges@example.org"] == ((1, 720, 840), (1, 900, 901), (1, 1019, 1020))
    assert "none@example.org" not in busy


def test_free_starts_keep_to_windows_the_slot_grid_and_touching_edges():
    assert free_starts([(0, 540, 1020)], [(0, 600, 660)], 45, 540, 1020, slot=15) == [(0, 540, 555), (0, 660, 975)]
    # 5 minutes' changeover either side of the busy time
    assert free_starts([(0, 540, 1020)], [(0, 600, 660)], 45, 540, 1020, slot=15, gap=5) == [(0, 540, 540), (0, 675, 975)]
    assert free_starts([(0, 540, 720)], [(0, 540, 700)], 45, 540, 1020) == []
    assert free_starts([(0, 540, 700)], [], 45, 600, 640, slot=5) == []  # the day is shorter than the session


def test_a_person_with_a_diary_whom_nobody_meets_stops_the_plan_naming_the_key(tmp_path):
    org = load_organisation(generate(tmp_path, FIRST_DAY)["config"])
    tt = org.timetable
    typo = Person(email="priya.ramen@kestrelvale.example.org")
    org = org.model_copy(update={"timetable": tt.model_copy(update={"people": (*tt.people, typo)})})
    with pytest.raises(ConfigError, match=r"timetable.people\[6\].email: 'priya.ramen@kestrelvale.example.org' is not a member"):
        build_problem(org)


# Around busy times: the changeover either side, and the assessor's lunch kept out of them.

HOUR = 60


def test_a_session_keeps_the_changeover_after_and_before_a_participants_and_the_assessors_busy_time():
    """Ann is busy until 10:00, so with 5 minutes' changeover her session starts at 10:05 at the earliest; the checker
    flags one that starts as her meeting ends, or ends as the assessor's begins."""
    ann = {"ann@example.org": ((0, 9 * HOUR, 10 * HOUR),)}
    tight = problem([session("a", 60, members=["ann@example.org"], windows=[(0, 9 * HOUR, 11 * HOUR)])], changeover=5, busy=ann)
    with pytest.raises(TimetableInfeasible) as info:
        solve(tight, seconds=2)
    assert info.value.reasons == [
        "Group a with Ann cannot meet: on day 1 (Mon 15 Mar) Ann is busy 09:00-10:00; no slot of 60 minutes is free for "
        "them in the group's availability (day 1 (Mon 15 Mar) 09:00-11:00), keeping the 5 minutes' changeover either "
        "side of a busy time"
    ]
    busy = {**ann, "assessor0@example.org": ((0, 11 * HOUR + 10, 17 * HOUR),)}
    p = problem(
        [session("a", 60, members=["ann@example.org"], windows=[(0, 9 * HOUR, 11 * HOUR + 30)])],
        changeover=5,
        lunch=NO_LUNCH,
        busy=busy,
    )
    assert _solve(p).placement("a").start == 10 * HOUR + 5  # the one start 5 minutes clear of both
    t = _solve(p)
    at_ten = Timetable(tuple(replace(pl, start=10 * HOUR, end=11 * HOUR) for pl in t.placements))
    assert check(p, at_ten) == [
        "diary: Ann (ann@example.org) is busy 09:00-10:00 on day 1, but a is 10:00-11:00 (less than the 5 minutes' "
        "changeover after it)"
    ]
    late = Timetable(tuple(replace(pl, start=10 * HOUR + 10, end=11 * HOUR + 10) for pl in t.placements))
    assert check(p, late) == [
        "diary: Assessor 0 (assessor0@example.org) is busy 11:10-17:00 on day 1, but a is 10:10-11:10 (less than the 5 "
        "minutes' changeover before it)"
    ]


def test_with_two_assessors_the_changeover_is_kept_around_the_assigned_assessors_busy_time():
    """Assessor 0 is free from 10:00, too late with the changeover for an hour ending by 11:00; assessor 1 is free until
    10:30, so the session ends by 10:25."""
    busy = {"assessor0@example.org": ((0, 9 * HOUR, 10 * HOUR),), "assessor1@example.org": ((0, 10 * HOUR + 30, 17 * HOUR),)}
    p = problem([session("a", 60, windows=[(0, 9 * HOUR, 11 * HOUR)])], assessors=2, changeover=5, lunch=NO_LUNCH, busy=busy)
    t = _solve(p)
    a = t.placement("a")
    assert a.assessor == "assessor1@example.org" and a.end <= 10 * HOUR + 25
    other = Timetable((replace(a, start=10 * HOUR, end=11 * HOUR, assessor="assessor0@example.org"),))
    assert check(p, other) == [
        "diary: Assessor 0 (assessor0@example.org) is busy 09:00-10:00 on day 1, but a is 10:00-11:00 (less than the 5 "
        "minutes' changeover after it)"
    ]


def test_the_assessors_lunch_is_placed_clear_of_their_busy_time_with_the_changeover():
    """The assessor is busy 12:00-13:15: lunch goes at 13:20 or later, even though the focus session then has to wait
    for day 2 (with lunch inside the busy time it would fit on day 1, 13:20-14:20)."""
    busy = {"assessor0@example.org": ((0, 12 * HOUR, 13 * HOUR + 15),)}
    focus = replace(session("a", 60, windows=[(0, 13 * HOUR + 20, 14 * HOUR + 50), (1, 9 * HOUR, 17 * HOUR)]), focus=True)
    p = problem([focus], days=2, lunch=(12 * HOUR, 14 * HOUR + 30, 45), changeover=5, busy=busy)
    t = _solve(p)
    (lunch,) = [lb for lb in t.lunches if lb.day == 0]
    assert lunch.start >= 13 * HOUR + 20 and lunch.end <= 14 * HOUR + 30
    assert t.placement("a").day == 1
    inside = replace(
        t, lunches=tuple(replace(lb, start=12 * HOUR, end=12 * HOUR + 45) if lb.day == 0 else lb for lb in t.lunches)
    )
    assert check(p, inside) == [
        "diary: Assessor 0 (assessor0@example.org) is busy 12:00-13:15 on day 1, but their lunch is 12:00-12:45"
    ]
    close = replace(t, lunches=tuple(replace(lb, start=13 * HOUR + 15, end=14 * HOUR) if lb.day == 0 else lb for lb in t.lunches))
    assert check(p, close) == [
        "diary: Assessor 0 (assessor0@example.org) is busy 12:00-13:15 on day 1, but their lunch is 13:15-14:00 (less than "
        "the 5 minutes' changeover after it)"
    ]


def test_the_precheck_says_when_the_assessors_diary_leaves_no_lunch_break_in_the_window():
    busy = {"assessor0@example.org": ((1, 11 * HOUR + 30, 13 * HOUR), (1, 13 * HOUR + 30, 15 * HOUR))}
    p = problem([session("a", 60)], days=2, changeover=5, busy=busy)
    with pytest.raises(TimetableInfeasible) as info:
        solve(p, seconds=2)
    assert info.value.reasons == [
        "the assessor Assessor 0's lunch on day 2 (Tue 16 Mar) does not fit: their diary says busy 11:30-13:00 and "
        "13:30-15:00, which leaves no 45 minutes free between 12:00 and 14:00, keeping the 5 minutes' changeover either "
        "side of a busy time (free time for lunch in their diary, or widen timetable.lunch)"
    ]


def test_a_lunch_that_fits_the_assessors_diary_alone_but_not_beside_a_session_is_explained():
    """Busy 12:00-13:00 leaves lunch 13:05-13:15 to start; the session can only be 13:05-14:30: they cannot both fit."""
    busy = {"assessor0@example.org": ((0, 12 * HOUR, 13 * HOUR),)}
    p = problem([session("a", 60, windows=[(0, 13 * HOUR, 14 * HOUR + 30)])], changeover=5, busy=busy)
    with pytest.raises(TimetableInfeasible) as info:
        solve(p, seconds=3)
    text = "\n".join(info.value.reasons)
    assert "Assessor 0's diary: busy on day 1 (Mon 15 Mar) 12:00-13:00" in text and "the assessor's lunch on day 1" in text, text
