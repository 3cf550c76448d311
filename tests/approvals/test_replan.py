"""The re-plan form as constraints: each field changes what the solver may do, and wrong entries say why."""

from __future__ import annotations

import pytest

from reaccreditation.timetable.replan import Replan, ReplanError, apply
from reaccreditation.timetable.solver import solve

from ..timetable.conftest import problem, session


def _three_days():  # type: ignore[no-untyped-def]
    return problem(
        [
            session("a", days=3, members=["ann@x.org"]),
            session("b", days=3, members=["ann@x.org", "bob@x.org"]),
            session("visit", days=3, members=["cat@x.org"]),
        ],
        days=3,
    )


def test_each_field_constrains_the_solution():
    p = _three_days()
    first = solve(p)
    r = Replan.from_form(
        {"lock_sessions": "a", "exclude_people": "bob@x.org", "exclude_days": "3", "move_sessions": "visit=2", "comment": "x"}
    )
    assert r.describe() == ["lock a where it is", "leave out bob@x.org", "no sessions on day 3", "move visit to day 2"]
    q = apply(p, r, first)
    again = solve(q)
    a, b, visit = (again.placement(k) for k in ("a", "b", "visit"))
    assert (a.day, a.start) == (first.placement("a").day, first.placement("a").start)  # locked
    assert visit.day == 1 and b.day != 2  # moved to day 2; nothing on day 3 (0-based 2)
    assert q.session("b").members == (("Ann", "ann@x.org"),)  # Bob left out


def test_earlier_constraints_are_kept_and_a_later_move_wins():
    r = Replan(move=(("visit", 2),), exclude_days=(3,)).merge(Replan(move=(("visit", 1),), lock=("a",)))
    assert r.move == (("visit", 1),) and r.exclude_days == (3,) and r.lock == ("a",)
    assert Replan.from_dict(r.to_dict()) == r


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"exclude_days": "Friday"}, "exclude_days: 'Friday' is not a day number"),
        ({"move_sessions": "visit on 2"}, "should look like 'session-key=day'"),
        ({"move_sessions": "nope=2"}, "no session 'nope'"),
        ({"exclude_days": "9"}, "day 9 is not an assessment day (1..3)"),
        ({"exclude_people": "zed@x.org"}, "nobody called 'zed@x.org'"),
        ({"lock_sessions": "b"}, "cannot lock 'b': it has no current placement"),
    ],
)
def test_wrong_entries_name_the_field_and_entry(form, message):
    with pytest.raises(ReplanError, match=message.replace("(", r"\(").replace(")", r"\)")):
        apply(_three_days(), Replan.from_form(form), None)
