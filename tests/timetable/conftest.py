"""Small timetabling problems built by hand, so each hard rule can be tested on its own."""

from __future__ import annotations

from datetime import date, timedelta

from reaccreditation.timetable.problem import Problem, Room, Session, shortest_travel

MONDAY = date(2027, 3, 15)


def session(
    key: str,
    minutes: int = 60,
    *,
    days: int = 1,
    windows=None,
    members=(),
    mode="face_to_face",
    site="hq",
    rooms=(),
    virtual_ok=True,
    elements=("1.1.1",),
    departments=(),
) -> Session:
    return Session(
        key=key,
        group_id=key,
        title=f"Group {key}",
        kind="staff",
        departments=tuple(departments),
        elements=tuple(elements),
        members=tuple((m.split("@")[0].title(), m) for m in members),
        people=max(1, len(members)),
        minutes=minutes,
        mode=mode,
        virtual_ok=virtual_ok,
        site=None if mode == "virtual" else site,
        rooms=tuple(rooms),
        windows=tuple(windows) if windows is not None else tuple((d, 9 * 60, 17 * 60) for d in range(days)),
    )


def problem(
    sessions,
    *,
    days: int = 1,
    assessors: int = 1,
    lunch=(12 * 60, 14 * 60, 45),
    rooms=(),
    travel=(),
    sites=("hq",),
    scope=(),
    **kw,
) -> Problem:
    return Problem(
        days=tuple(MONDAY + timedelta(days=d) for d in range(days)),
        day_start=9 * 60,
        day_end=17 * 60,
        sessions=tuple(sessions),
        assessors=tuple((f"Assessor {k}", f"assessor{k}@example.org") for k in range(assessors)),
        lunch=lunch,
        base_site=sites[0],
        sites={s: s.title() for s in sites},
        rooms={r.id: r for r in rooms},
        travel=shortest_travel(sites, travel),
        scope=tuple(scope),
        solver_seconds=5,
        **kw,
    )


def room(rid: str, site: str = "hq", capacity: int = 10) -> Room:
    return Room(rid, rid.title(), site, capacity)
