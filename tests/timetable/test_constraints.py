"""Each hard rule on a small case: the solver keeps it and the independent checker notices when it is broken."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reaccreditation.timetable.checker import check
from reaccreditation.timetable.solution import Timetable, TimetableInfeasible
from reaccreditation.timetable.solver import solve

from .conftest import problem, room, session


def _solve(p):  # type: ignore[no-untyped-def]
    t = solve(p, seconds=5)
    assert check(p, t) == []
    return t


def _overlap(a, b) -> bool:  # type: ignore[no-untyped-def]
    return a.day == b.day and a.start < b.end and b.start < a.end


def test_the_assessor_is_never_double_booked_and_the_checker_sees_it():
    p = problem(
        [session("a", windows=[(0, 9 * 60, 11 * 60)]), session("b", windows=[(0, 9 * 60, 11 * 60)])], lunch=(12 * 60, 14 * 60, 0)
    )
    t = _solve(p)
    a, b = t.placement("a"), t.placement("b")
    assert not _overlap(a, b)
    clash = Timetable(placements=(a, replace(b, start=a.start, end=a.end)))
    assert any("overlaps" in v and "assessor" in v for v in check(p, clash))


def test_a_person_in_two_groups_is_never_double_booked_even_with_two_assessors():
    shared = "sam@example.org"
    p = problem(
        [
            session("a", members=[shared, "x@example.org"], mode="virtual"),
            session("b", members=[shared], mode="virtual"),
            session("c", mode="virtual"),
        ],
        assessors=2,
        lunch=(12 * 60, 14 * 60, 0),
    )
    t = _solve(p)
    assert not _overlap(t.placement("a"), t.placement("b"))
    bad = Timetable(
        placements=(
            t.placement("a"),
            replace(t.placement("b"), start=t.placement("a").start, end=t.placement("a").end, assessor="assessor1@example.org"),
            t.placement("c"),
        )
    )
    assert any("sam@example.org double-booked" in v for v in check(p, bad))


def test_availability_is_respected():
    p = problem([session("a", windows=[(2, 14 * 60, 15 * 60)]), session("b", days=3)], days=3)
    t = _solve(p)
    a = t.placement("a")
    assert (a.day, a.start, a.end) == (2, 14 * 60, 15 * 60)
    assert any(
        "outside the group's availability" in v
        for v in check(p, Timetable(placements=(replace(a, day=1), t.placement("b")), lunches=t.lunches))
    )


def test_lunch_is_kept_free_and_the_day_length_holds():
    p = problem([session(k, 60) for k in "abcdefg"], lunch=(12 * 60, 13 * 60, 60))
    t = _solve(p)  # 7 hours of sessions in an 8-hour day with a fixed hour for lunch
    assert all(pl.end <= 12 * 60 or pl.start >= 13 * 60 for pl in t.placements)
    assert all(9 * 60 <= pl.start and pl.end <= 17 * 60 for pl in t.placements)
    assert [(lb.start, lb.end) for lb in t.lunches] == [(12 * 60, 13 * 60)]


def test_travel_time_between_sites_is_left_for_site_visits():
    sites, travel = ("hq", "depot"), [("hq", "depot", 30)]
    p = problem(
        [
            session("hq-team", 60, site="hq", virtual_ok=False),
            session("depot-visit", 60, mode="site_visit", site="depot", virtual_ok=False),
        ],
        sites=sites,
        travel=travel,
        lunch=(12 * 60, 14 * 60, 0),
    )
    t = _solve(p)
    first, second = sorted(t.placements, key=lambda pl: pl.start)
    assert second.start - first.end >= 30
    squeezed = Timetable(placements=(first, replace(second, start=first.end, end=first.end + 60)))
    assert any(v.startswith("travel:") for v in check(p, squeezed))


def test_a_session_goes_virtual_when_travel_would_not_fit():
    sites, travel = ("hq", "depot"), [("hq", "depot", 30)]
    p = problem(
        [
            session("hq-team", 60, windows=[(0, 9 * 60, 10 * 60)], virtual_ok=False),
            session("depot-team", 60, site="depot", windows=[(0, 10 * 60, 11 * 60)]),
        ],
        sites=sites,
        travel=travel,
        lunch=(12 * 60, 14 * 60, 0),
    )
    t = _solve(p)
    assert t.placement("depot-team").mode == "virtual" and t.placement("depot-team").site is None
    assert t.terms["mode"] == 1


def test_a_room_holds_one_session_at_a_time_and_seats_the_group():
    rooms = [room("small", capacity=4)]
    p = problem(
        [session(k, rooms=["small"], windows=[(0, 9 * 60, 11 * 60)], virtual_ok=False) for k in "ab"],
        assessors=2,
        rooms=rooms,
        lunch=(12 * 60, 14 * 60, 0),
    )
    t = _solve(p)
    assert not _overlap(t.placement("a"), t.placement("b"))
    crowded = replace(p, sessions=tuple(replace(s, people=6) for s in p.sessions))
    assert any("seats 4" in v for v in check(crowded, t))


def test_every_element_in_scope_is_covered():
    p = problem([session("a", elements=["1.1.1", "1.1.2"])], scope=["1.1.1", "1.1.2"])
    t = _solve(p)
    assert check(replace(p, scope=("1.1.1", "2.1.1")), t) == ["coverage: element 2.1.1 is in scope but no session speaks to it"]
    with pytest.raises(TimetableInfeasible, match="element 2.1.1 is in scope but no participant group speaks to it"):
        solve(replace(p, scope=("2.1.1",)))


def test_a_group_only_available_on_a_full_day_is_explained_by_the_precheck():
    day3 = [(2, 9 * 60, 17 * 60)]
    sessions = [session(f"team-{i}", 120, windows=day3) for i in range(3)] + [session("partners", 90, windows=day3)]
    with pytest.raises(TimetableInfeasible) as info:
        solve(problem(sessions, days=5))
    reason = info.value.reasons[0]
    assert (
        "can only meet on day 3 (Wed 17 Mar)" in reason
        and "that day is full" in reason
        and "450 minutes" in reason
        and "435 minutes" in reason
    )


def test_a_conflict_the_arithmetic_cannot_see_is_explained_by_the_solver():
    """Back-to-back windows at sites 30 minutes apart: only the travel rule and the two availabilities conflict."""
    sites, travel = ("hq", "depot"), [("hq", "depot", 30)]
    p = problem(
        [
            session("hq-team", 60, windows=[(0, 9 * 60, 10 * 60)], virtual_ok=False),
            session("depot-visit", 60, mode="site_visit", site="depot", windows=[(0, 10 * 60, 11 * 60)], virtual_ok=False),
            session("others", 60),
        ],
        sites=sites,
        travel=travel,
    )
    with pytest.raises(TimetableInfeasible) as info:
        solve(p)
    text = "\n".join(info.value.reasons)
    assert len(info.value.reasons) == 3, text
    assert "travel time between sites" in text
    assert "group 'hq-team'" in text and "only available day 1 (Mon 15 Mar) 09:00-10:00" in text
    assert "group 'depot-visit'" in text and "others" not in text


def test_two_assessors_share_the_sessions_and_each_keeps_travel_and_lunch():
    sites, travel = ("hq", "depot"), [("hq", "depot", 30)]
    sessions = [session(f"hq-{i}", 60, virtual_ok=False) for i in range(4)] + [
        session(f"depot-{i}", 60, mode="site_visit", site="depot", virtual_ok=False) for i in range(4)
    ]
    p = problem(sessions, assessors=2, sites=sites, travel=travel)
    t = _solve(p)  # the checker verifies travel, lunch and no overlap per assessor
    assert {pl.assessor for pl in t.placements} == {"assessor0@example.org", "assessor1@example.org"}
    assert len(t.lunches) == 2


def test_a_previous_timetable_is_kept_when_nothing_changed():
    p = problem([session(k, 60, days=2) for k in "abcdef"], days=2)
    first = _solve(p)
    previous = {pl.key: pl for pl in first.placements}
    again = solve(p, previous, seconds=5)
    assert again.moved == () and again.placements == first.placements
    pinned = replace(
        p,
        sessions=tuple(
            replace(s, windows=((1 - first.placement("a").day, 9 * 60, 17 * 60),)) if s.key == "a" else s for s in p.sessions
        ),
    )
    moved = solve(pinned, previous, seconds=5)
    assert moved.moved == ("a",) and check(pinned, moved) == []
