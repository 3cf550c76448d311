"""Joining links: the template's placeholders checked, a pool handed out like rooms, a pool too small said plainly."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import ValidationError

from reaccreditation.timetable import links
from reaccreditation.timetable.checker import check
from reaccreditation.timetable.joining import JoiningLinks
from reaccreditation.timetable.solution import TimetableInfeasible
from reaccreditation.timetable.solver import solve

from .conftest import problem, session

ROOMS = ("https://meet.example.org/room-1", "https://meet.example.org/room-2")


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"template": "https://meet.example.org/kv-{sesion}"}, "unknown placeholder {sesion} (use {session}, {group}, {year})"),
        ({"template": "https://meet.example.org/kv-{session"}, "write placeholders as {session}"),
        ({"template": "https://meet.example.org/kv-{session:>9}"}, "write {session} without ':' or '!'"),
        ({"template": "https://meet.example.org/kv-{year}"}, "gives every session the same link: put {session} in it"),
        ({"template": "javascript:alert(1)//{session}"}, "must be a web address starting https://"),
        ({"pool": ["https://meet.example.org/a b"]}, "pool[0] 'https://meet.example.org/a b' contains a space"),
        ({"pool": [ROOMS[0], ROOMS[0]]}, "lists 'https://meet.example.org/room-1' twice"),
        (
            {"template": "https://m.example.org/{session}", "pool": list(ROOMS)},
            "either template: (one link per session) or pool:",
        ),
        ({}, "either template:"),
    ],
)
def test_a_wrong_setting_says_what_to_write(given, says):
    with pytest.raises(ValidationError) as info:
        JoiningLinks(**given)
    assert says in str(info.value)


def test_the_template_gives_each_virtual_session_its_own_link_and_none_in_person():
    p = problem(
        [session("a", mode="virtual"), session("b", members=["b@example.org"])],
        joining_links=JoiningLinks(template="https://meet.example.org/kv-{year}-{session}"),
    )
    t = solve(p, seconds=5)
    assert t.placement("a").link == "https://meet.example.org/kv-2027-a" and t.placement("b").link is None
    assert check(p, t) == []
    assert check(p, replace(t, placements=tuple(replace(pl, link=ROOMS[0]) for pl in t.placements))) == [
        "a: joining link https://meet.example.org/room-1 is not the template's https://meet.example.org/kv-2027-a",
        "b: held in person but has a joining link",
    ]


def test_a_pool_never_gives_one_link_to_two_sessions_at_once_and_keeps_links_on_a_rerun():
    same_time = [(0, 9 * 60, 9 * 60 + 30)]
    p = problem(
        [session("a", 30, mode="virtual", windows=same_time), session("b", 30, mode="virtual", windows=same_time)]
        + [session("c", 30, mode="virtual")],
        assessors=2,
        lunch=(12 * 60, 14 * 60, 0),
        joining_links=JoiningLinks(pool=ROOMS),
    )
    t = solve(p, seconds=5)
    assert {t.placement("a").link, t.placement("b").link} == set(ROOMS) and t.placement("c").link in ROOMS
    assert check(p, t) == []
    shared = replace(t, placements=tuple(replace(pl, link=ROOMS[0]) for pl in t.placements))
    clash = [
        v for v in check(p, shared) if v.startswith(f"joining link {ROOMS[0]} is used by ") and "at the same time on day 1" in v
    ]
    assert any("a (09:00-09:30)" in v and "b (09:00-09:30)" in v for v in clash), clash
    again = solve(p, {pl.key: pl for pl in t.placements}, seconds=5)
    assert again.placements == t.placements  # the same links: nobody's invite changes


def test_a_pool_too_small_for_the_plan_is_explained():
    same_time = [(0, 9 * 60, 9 * 60 + 30)]
    p = problem(
        [session("a", 30, mode="virtual", windows=same_time), session("b", 30, mode="virtual", windows=same_time)],
        assessors=2,
        lunch=(12 * 60, 14 * 60, 0),
        joining_links=JoiningLinks(pool=ROOMS[:1]),
    )
    with pytest.raises(TimetableInfeasible) as info:
        solve(p, seconds=5)
    assert any(
        "the joining-link pool has 1 link(s) (timetable.joining_links.pool): at most 1 virtual session(s) can run at the "
        "same time" in r
        for r in info.value.reasons
    ), info.value.reasons
    # a timetable that needs more links than the pool has (edited by hand, or the pool shrunk) is refused by name
    roomy = replace(p, joining_links=JoiningLinks(pool=ROOMS))
    t = solve(roomy, seconds=5)
    with pytest.raises(
        TimetableInfeasible, match=r"pool has 1 link\(s\) but 2 virtual sessions run at once on day 1 \(Mon 15 Mar\)"
    ):
        links.assign(p, t)
