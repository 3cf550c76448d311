"""The stored timetable: the previous solution for the next run and each session's calendar identity.

A session keeps one iCalendar UID for ever (derived from the assessment year and the session's key);
its SEQUENCE goes up by one each time its time, mode, place, joining link, assessor or attendees change,
or when it is cancelled, so
calendars update the same entry and the invites task knows exactly what is new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, select, update

from reaccreditation.db.schema import timetable_session
from reaccreditation.timetable.problem import Problem
from reaccreditation.timetable.solution import Placement, Timetable


@dataclass(frozen=True)
class SessionState:
    key: str
    uid: str
    sequence: int
    status: str  # scheduled | cancelled
    changed: bool  # new, moved or cancelled in this run


def session_uid(year: int, key: str, domain: str) -> str:
    """Stable across runs and reschedules: the identity of the session, not of its slot."""
    return f"cse-{year}-{key}@{domain}"


def local_datetime(p: Problem, day: int, minute: int) -> datetime:
    d = p.days[day]
    return datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(p.timezone)) + timedelta(minutes=minute)


def _placement(row: dict) -> Placement:
    return Placement(
        row["session_key"],
        row["day"],
        row["start_minute"],
        row["end_minute"],
        row["mode"],
        row["site_id"],
        row["room_id"],
        row["assessor"],
        row.get("joining_link"),
    )


def previous_timetable(engine: Engine, year: int) -> dict[str, Placement]:
    """The scheduled sessions stored for the year, by session key."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(timetable_session).where(
                timetable_session.c.assessment_year == year, timetable_session.c.status == "scheduled"
            )
        )
        return {r.session_key: _placement(dict(r._mapping)) for r in rows}


def stored_sessions(engine: Engine, year: int) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(timetable_session)
            .where(timetable_session.c.assessment_year == year)
            .order_by(timetable_session.c.day, timetable_session.c.start_minute)
        )
        return [dict(r._mapping) for r in rows]


def save_timetable(
    engine: Engine, year: int, p: Problem, t: Timetable, domain: str, run_id: str | None = None
) -> list[SessionState]:
    """Store the new timetable; bump SEQUENCE for moved sessions and cancel the ones no longer configured."""
    now = datetime.now(UTC)
    titles = {s.key: s.title for s in p.sessions}
    attendees = {s.key: [list(m) for m in s.members] for s in p.sessions}
    states: list[SessionState] = []
    with engine.begin() as conn:
        stored = {
            r.session_key: dict(r._mapping)
            for r in conn.execute(select(timetable_session).where(timetable_session.c.assessment_year == year))
        }
        for pl in t.placements:
            values = {
                "title": titles[pl.key],
                "day": pl.day,
                "start_minute": pl.start,
                "end_minute": pl.end,
                "starts_at": local_datetime(p, pl.day, pl.start),
                "ends_at": local_datetime(p, pl.day, pl.end),
                "mode": pl.mode,
                "site_id": pl.site,
                "room_id": pl.room,
                "assessor": pl.assessor,
                "joining_link": pl.link,
                "attendees": attendees[pl.key],
                "status": "scheduled",
                "run_id": run_id,
                "updated_at": now,
            }
            old = stored.get(pl.key)
            if old is None:
                uid = session_uid(year, pl.key, domain)
                conn.execute(
                    insert(timetable_session).values(assessment_year=year, session_key=pl.key, uid=uid, sequence=0, **values)
                )
                states.append(SessionState(pl.key, uid, 0, "scheduled", True))
                continue
            same = (
                old["status"] == "scheduled"
                and _placement(old).same_slot(pl)
                and old.get("joining_link") == pl.link
                and old["assessor"] == pl.assessor
                and old["attendees"] == attendees[pl.key]
            )
            sequence = old["sequence"] if same else old["sequence"] + 1
            if not same:
                conn.execute(
                    update(timetable_session).where(timetable_session.c.id == old["id"]).values(sequence=sequence, **values)
                )
            states.append(SessionState(pl.key, old["uid"], sequence, "scheduled", not same))
        placed = {pl.key for pl in t.placements}
        for key, old in stored.items():
            if key in placed or old["status"] == "cancelled":
                continue
            conn.execute(
                update(timetable_session)
                .where(timetable_session.c.id == old["id"])
                .values(status="cancelled", sequence=old["sequence"] + 1, run_id=run_id, updated_at=now)
            )
            states.append(SessionState(key, old["uid"], old["sequence"] + 1, "cancelled", True))
    return states
