"""The timetabling problem as plain data, shared by the pre-check, the solver, the checker and the writers.

Times are minutes from midnight of an assessment day; days are indexes (0 = first day). A
:class:`Problem` can be built from the organisation config (:func:`build_problem`) or by hand in tests
and benchmarks, so the solver and the checker never need the config.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from typing import TYPE_CHECKING

from reaccreditation.organisation.config import ConfigError
from reaccreditation.timetable.config import Group, TimetableConfig, Weights
from reaccreditation.timetable.joining import JoiningLinks

if TYPE_CHECKING:
    from reaccreditation.organisation.config import Organisation
    from reaccreditation.standards import Standard

UNREACHABLE = 24 * 60  # minutes: sites with no travel route cannot share a day
TIMEZONE = "Europe/London"  # what a day's minutes are local to (invites, the store, people's busy times)


def minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def clock(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


@dataclass(frozen=True)
class Session:
    """One meeting of the assessor with a participant group."""

    key: str  # stable identity: the group id, plus "-2", "-3"... for a group's further sessions
    group_id: str
    title: str
    kind: str
    departments: tuple[str, ...]
    elements: tuple[str, ...]
    members: tuple[tuple[str, str], ...]  # (name, email)
    people: int
    minutes: int
    mode: str  # preferred: site_visit | face_to_face | virtual
    virtual_ok: bool
    site: str | None  # where an in-person session happens
    rooms: tuple[str, ...]  # candidate rooms for an in-person session (empty: no room needed)
    windows: tuple[tuple[int, int, int], ...]  # (day, from, to) when the group can meet
    focus: bool = False  # speaks to a focus element (partial last year, at risk, Compliance Plus claim)

    @property
    def virtual_possible(self) -> bool:
        return self.mode == "virtual" or self.virtual_ok

    @property
    def emails(self) -> tuple[str, ...]:
        return tuple(e for _, e in self.members)


@dataclass(frozen=True)
class Room:
    id: str
    name: str
    site: str
    capacity: int


@dataclass(frozen=True)
class Problem:
    days: tuple[date, ...]
    day_start: int
    day_end: int
    sessions: tuple[Session, ...]
    assessors: tuple[tuple[str, str], ...] = (("Assessor", "assessor@example.org"),)
    lunch: tuple[int, int, int] = (12 * 60, 14 * 60, 45)  # earliest, latest, minutes
    base_site: str | None = None
    sites: Mapping[str, str] = field(default_factory=dict)  # id -> name
    rooms: Mapping[str, Room] = field(default_factory=dict)
    travel: Mapping[tuple[str, str], int] = field(default_factory=dict)  # shortest paths, both directions
    scope: tuple[str, ...] = ()  # elements the timetable must cover
    focus: tuple[str, ...] = ()
    changeover: int = 0
    slot: int = 5
    solver_seconds: float = 20.0
    weights: Weights = Weights()
    department_names: Mapping[str, str] = field(default_factory=dict)
    timezone: str = TIMEZONE
    joining_links: JoiningLinks | None = None  # virtual sessions' links (timetable.links assigns them)
    # lower-case email -> (day, from, to) busy in their diary (members and assessors alike; timetable.busy)
    busy: Mapping[str, tuple[tuple[int, int, int], ...]] = field(default_factory=dict)

    def session(self, key: str) -> Session:
        for s in self.sessions:
            if s.key == key:
                return s
        raise KeyError(key)

    def location(self, session: Session, mode: str) -> str | None:
        """Where the assessor is during a session: the site in person, the base site for a virtual call."""
        return self.base_site if mode == "virtual" else session.site

    def travel_minutes(self, a: str | None, b: str | None) -> int:
        if a is None or b is None or a == b:
            return 0
        return self.travel.get((a, b), UNREACHABLE)

    def day_label(self, day: int) -> str:
        d = self.days[day]
        return f"day {day + 1} ({d:%a} {d.day} {d:%b})"

    @property
    def lunch_minutes(self) -> int:
        return self.lunch[2]

    def busy_of(self, email: str) -> tuple[tuple[int, int, int], ...]:
        return self.busy.get(email.lower(), ())

    def name_of(self, email: str) -> str:
        """A person's name as configured (a member or an assessor), else the email."""
        wanted = email.lower()
        for name, e in (*self.assessors, *(m for s in self.sessions for m in s.members)):
            if e.lower() == wanted:
                return name
        return email


def shortest_travel(sites: Iterable[str], legs: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str], int]:
    """All-pairs travel minutes (Floyd-Warshall), so the triangle inequality holds for the solver and checker."""
    ids = list(sites)
    dist = {(a, b): (0 if a == b else UNREACHABLE) for a in ids for b in ids}
    for a, b, m in legs:
        dist[a, b] = min(dist[a, b], m)
        dist[b, a] = min(dist[b, a], m)
    for k in ids:
        for a in ids:
            for b in ids:
                if dist[a, k] + dist[k, b] < dist[a, b]:
                    dist[a, b] = dist[a, k] + dist[k, b]
    return dist


def resolve_elements(standard: Standard, refs: Iterable[str]) -> list[str]:
    """Element ids from element, sub-criterion or criterion ids ("1.1" means every element 1.1.x)."""
    out: list[str] = []
    for ref in refs:
        matched = [e.id for e in standard.elements if e.id == ref or e.id.startswith(ref + ".")]
        if not matched:
            raise KeyError(ref)
        out += [m for m in matched if m not in out]
    return out


def check_references(org: Organisation) -> list[str]:
    """Problems with the timetable section that need the rest of the config (departments, sites, rooms)."""
    tt = org.timetable
    if tt is None:
        return ["timetable: section is missing (see docs/timetable.md)"]
    problems: list[str] = []
    departments = {d.id for d in org.departments}
    sites = {s.id: s for s in org.sites}
    standard = org.standard
    if tt.base_site and tt.base_site not in sites:
        problems.append(f"timetable.base_site: unknown site {tt.base_site!r} (sites: {', '.join(sorted(sites)) or 'none'})")
    if not tt.assessors and org.assessment.assessor is None:
        problems.append("timetable.assessors: no assessor (set assessment.assessor or timetable.assessors)")
    for i, g in enumerate(tt.groups):
        where = f"timetable.groups[{i}] ({g.id})"
        for j, d in enumerate(g.departments):
            if d not in departments:
                problems.append(f"{where}.departments[{j}]: unknown department {d!r}")
        for j, ref in enumerate(g.elements):
            try:
                resolve_elements(standard, [ref])
            except KeyError:
                problems.append(
                    f"{where}.elements[{j}]: {ref!r} is not an element, sub-criterion or criterion of {standard.short_name}"
                )
        if g.site and g.site not in sites:
            problems.append(f"{where}.site: unknown site {g.site!r} (sites: {', '.join(sorted(sites)) or 'none'})")
        if g.room:
            site = sites.get(g.site or tt.base_site or (org.sites[0].id if org.sites else ""))
            if site is None or g.room not in {r.id for r in site.rooms}:
                problems.append(f"{where}.room: no room {g.room!r} at site {site.id if site else '(none)'}")
        if g.mode != "virtual" and not g.site and not org.sites:
            problems.append(f"{where}: an in-person session needs a site, and the config has no sites")
        for j, w in enumerate(g.availability):
            dates = org.assessment.dates
            day = w.day if isinstance(w.day, int) else (dates.index(w.day) + 1 if w.day in dates else 0)
            if not 1 <= day <= org.assessment.days:
                problems.append(
                    f"{where}.availability[{j}].day: {w.day} is not a day of the assessment (1..{org.assessment.days}, "
                    f"{', '.join(str(d) for d in dates)})"
                )
    from reaccreditation.timetable.diaries.check import people_problems  # here: the diaries package imports httpx

    return problems + people_problems(org)  # timetable.people: everyone someone meets, typed days of the assessment


def _windows(group: Group, dates: tuple[date, ...], day_start: int, day_end: int) -> tuple[tuple[int, int, int], ...]:
    if not group.availability:
        return tuple((d, day_start, day_end) for d in range(len(dates)))
    out = []
    for w in group.availability:
        day = w.day - 1 if isinstance(w.day, int) else dates.index(w.day)
        start = max(day_start, minutes(w.start) if w.start else day_start)
        end = min(day_end, minutes(w.end) if w.end else day_end)
        if end > start:
            out.append((day, start, end))
    return tuple(sorted(out))


def build_problem(
    org: Organisation,
    scope: Iterable[str] = (),
    focus: Iterable[str] = (),
    busy: Mapping[str, tuple[tuple[int, int, int], ...]] | None = None,
) -> Problem:
    """The problem for this organisation's assessment; raises ConfigError naming every bad reference.

    ``busy``: people's diaries in day minutes (``timetable.busy.busy_minutes``), by email.
    """
    problems = check_references(org)
    if problems:
        raise ConfigError("organisation.yaml: timetable: " + f"{len(problems)} problem(s):\n  - " + "\n  - ".join(problems))
    tt: TimetableConfig = org.timetable  # type: ignore[assignment]
    a = org.assessment
    standard = org.standard
    focus_set = set(focus)
    base = tt.base_site or (org.sites[0].id if org.sites else None)
    rooms = {r.id: Room(r.id, r.name, s.id, r.capacity) for s in org.sites for r in s.rooms}
    day_start, day_end = minutes(a.day_start), minutes(a.day_end)
    sessions: list[Session] = []
    errors: list[str] = []
    for i, g in enumerate(tt.groups):
        elements = resolve_elements(standard, g.elements)
        for d in g.departments:
            elements += [e for e in org.department(d).elements if e not in elements]
        order = {e.id: n for n, e in enumerate(standard.elements)}
        elements.sort(key=order.__getitem__)
        site = g.site or (base if g.mode != "virtual" else None)
        candidates: tuple[str, ...] = ()
        if g.mode != "virtual" and site:
            if g.room:
                candidates = (g.room,)
            elif g.mode == "face_to_face":
                at_site = [r for r in rooms.values() if r.site == site]
                candidates = tuple(r.id for r in sorted(at_site, key=lambda r: r.capacity) if r.capacity >= g.people)
                if at_site and not candidates:
                    biggest = max(r.capacity for r in at_site)
                    errors.append(
                        f"timetable.groups[{i}] ({g.id}): {g.people} people but the biggest room at {site} seats {biggest}"
                    )
        length = g.minutes or getattr(tt.session_types, g.mode)
        for n in range(1, g.sessions + 1):
            sessions.append(
                Session(
                    key=g.id if n == 1 else f"{g.id}-{n}",
                    group_id=g.id,
                    title=g.name if g.sessions == 1 else f"{g.name} ({n} of {g.sessions})",
                    kind=g.kind,
                    departments=g.departments,
                    elements=tuple(elements),
                    members=tuple((m.name, m.email) for m in g.members),
                    people=g.people,
                    minutes=length,
                    mode=g.mode,
                    virtual_ok=g.virtual_ok,
                    site=site,
                    rooms=candidates,
                    windows=_windows(g, a.dates, day_start, day_end),
                    focus=bool(focus_set & set(elements)),
                )
            )
    keys = [s.key for s in sessions]
    errors += [
        f"timetable.groups: session key {k!r} is used twice (a group id clashes with another group's numbered session)"
        for k in sorted({k for k in keys if keys.count(k) > 1})
    ]
    if errors:
        raise ConfigError("organisation.yaml: timetable: " + f"{len(errors)} problem(s):\n  - " + "\n  - ".join(errors))
    assessors = tt.assessors or ((a.assessor.name, a.assessor.email),)  # type: ignore[union-attr]
    assessors = tuple((m.name, m.email) if hasattr(m, "email") else m for m in assessors)
    legs = [(t.between[0], t.between[1], t.minutes) for t in org.travel]
    return Problem(
        days=a.dates,  # working days only: never a weekend or bank holiday
        day_start=day_start,
        day_end=day_end,
        sessions=tuple(sessions),
        assessors=assessors,  # type: ignore[arg-type]
        lunch=(minutes(tt.lunch.earliest), minutes(tt.lunch.latest), tt.lunch.minutes),
        base_site=base,
        sites={s.id: s.name for s in org.sites},
        rooms=rooms,
        travel=shortest_travel([s.id for s in org.sites], legs),
        scope=tuple(scope),
        focus=tuple(e for e in (x.id for x in standard.elements) if e in focus_set),
        changeover=tt.changeover_minutes,
        slot=tt.slot_minutes,
        solver_seconds=tt.solver_seconds,
        weights=tt.weights,
        department_names={d.id: d.name for d in org.departments},
        joining_links=tt.joining_links,
        busy={e.lower(): tuple(v) for e, v in (busy or {}).items() if v},
    )
