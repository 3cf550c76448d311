"""``timetable.json``: the solved timetable for other DAGs and the dashboard, and its one reader.

Schema ``reaccreditation.timetable/1`` (docs/timetable.md): sessions with key, UID, SEQUENCE, date,
times (local and ISO with offset), mode, site, room, where, joining link, members, departments,
elements; lunches; the assessor's journeys between sites; scope; solver figures. The timetable stage
writes it; everything else reads it through :func:`read`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reaccreditation.files import Unavailable, read_json, write_json
from reaccreditation.timetable.problem import Problem, clock
from reaccreditation.timetable.solution import Timetable
from reaccreditation.timetable.store import SessionState, local_datetime

SCHEMA = "reaccreditation.timetable/1"
NAME = "timetable.json"


def folder(output: Path, year: int) -> Path:
    """The timetable stage's folder: timetable.json, .xlsx, .ics and the day pictures."""
    return output / str(year) / "timetable"


def path(output: Path, year: int) -> Path:
    return folder(output, year) / NAME


def build(
    p: Problem,
    t: Timetable,
    states: list[SessionState],
    *,
    organisation: str,
    year: int,
    assessment_type: str,
    scope: dict[str, Any],
) -> dict[str, Any]:
    from reaccreditation.timetable.ics import where  # icalendar: only when writing
    from reaccreditation.timetable.travel import legs

    ident = {s.key: s for s in states}
    sessions = []
    for pl in t.placements:
        s = p.session(pl.key)
        st = ident.get(pl.key)
        sessions.append(
            {
                "key": s.key,
                "uid": st.uid if st else None,
                "sequence": st.sequence if st else None,
                "title": s.title,
                "group_id": s.group_id,
                "kind": s.kind,
                "departments": list(s.departments),
                "elements": list(s.elements),
                "focus": s.focus,
                "day": pl.day + 1,
                "date": p.days[pl.day].isoformat(),
                "start": clock(pl.start),
                "end": clock(pl.end),
                "starts_at": local_datetime(p, pl.day, pl.start).isoformat(),
                "ends_at": local_datetime(p, pl.day, pl.end).isoformat(),
                "mode": pl.mode,
                "preferred_mode": s.mode,
                "site": pl.site,
                "room": pl.room,
                "where": where(p, pl.mode, pl.site, pl.room, pl.link),
                "joining_link": pl.link,
                "assessor": pl.assessor,
                "members": [{"name": n, "email": e} for n, e in s.members],
            }
        )
    return {
        "schema": SCHEMA,
        "organisation": organisation,
        "assessment_year": year,
        "assessment_type": assessment_type,
        "days": [d.isoformat() for d in p.days],
        "scope": scope,
        "sessions": sessions,
        "lunches": [
            {"assessor": lb.assessor, "day": lb.day + 1, "start": clock(lb.start), "end": clock(lb.end)} for lb in t.lunches
        ],
        "travel": [
            {
                "assessor": leg.assessor,
                "day": leg.day + 1,
                "start": clock(leg.start),
                "end": clock(leg.end),
                "from": leg.origin,
                "to": leg.destination,
                "minutes": leg.minutes,
                "text": leg.text(p),
            }
            for leg in legs(p, t)
        ],
        "cancelled": [{"key": s.key, "uid": s.uid, "sequence": s.sequence} for s in states if s.status == "cancelled"],
        "solver": t.to_dict() | {"placements": None, "lunches": None},
    }


def write(folder: Path, data: dict[str, Any]) -> Path:
    return write_json(folder / NAME, data)


def read(output: Path, year: int) -> tuple[dict[str, Any] | None, Unavailable | None]:
    """The year's timetable, or why there is none (not written yet, unreadable, another schema or year)."""
    return read_json(path(output, year), SCHEMA, year)
