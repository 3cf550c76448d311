"""What an approver asks for when they choose "Re-plan": constraints layered on the timetabling problem.

The form (docs/approvals.md) has four short text fields, so it works the same in the Airflow UI and
through the REST API: sessions to lock where they are, people and days to leave out, and sessions
(typically site visits) to move to another day. Each becomes a narrower availability window or a
smaller attendee list on the :class:`Problem`; the solver needs no new rules. A wrong entry raises
:class:`ReplanError` naming the field, the entry and what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from reaccreditation.timetable.problem import Problem, Session
from reaccreditation.timetable.solution import Timetable

FIELDS = ("lock_sessions", "exclude_people", "exclude_days", "move_sessions")


class ReplanError(ValueError):
    """The re-plan form cannot be applied; the message says which field and entry."""


def _items(text: Any) -> list[str]:
    if text is None:
        return []
    if isinstance(text, (list, tuple)):
        text = ",".join(str(t) for t in text)
    return [t.strip() for t in str(text).replace("\n", ",").replace(";", ",").split(",") if t.strip()]


@dataclass(frozen=True)
class Replan:
    lock: tuple[str, ...] = ()  # session keys kept exactly where they are
    exclude_people: tuple[str, ...] = ()  # emails or names, not invited and not constraining
    exclude_days: tuple[int, ...] = ()  # 1-based assessment days nothing may use
    move: tuple[tuple[str, int], ...] = ()  # (session key, 1-based day) to hold that session on that day

    @property
    def empty(self) -> bool:
        return not (self.lock or self.exclude_people or self.exclude_days or self.move)

    def to_dict(self) -> dict[str, Any]:
        return {k: [list(x) if isinstance(x, tuple) else x for x in v] for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Replan:
        data = data or {}
        return cls(
            lock=tuple(data.get("lock", ())),
            exclude_people=tuple(data.get("exclude_people", ())),
            exclude_days=tuple(int(d) for d in data.get("exclude_days", ())),
            move=tuple((str(k), int(d)) for k, d in data.get("move", ())),
        )

    @classmethod
    def from_form(cls, form: Mapping[str, Any]) -> Replan:
        """Parse the approval form: comma- or line-separated entries; moves as ``session-key=day``."""
        problems: list[str] = []
        days: list[int] = []
        for item in _items(form.get("exclude_days")):
            if item.isdigit():
                days.append(int(item))
            else:
                problems.append(f"exclude_days: {item!r} is not a day number (1 = the first assessment day)")
        moves: list[tuple[str, int]] = []
        for item in _items(form.get("move_sessions")):
            key, sep, day = item.partition("=")
            if not sep or not day.strip().isdigit() or not key.strip():
                problems.append(f"move_sessions: {item!r} should look like 'session-key=day', e.g. 'depot-visit=3'")
            else:
                moves.append((key.strip(), int(day)))
        if problems:
            raise ReplanError("re-plan form: " + "; ".join(problems))
        return cls(tuple(_items(form.get("lock_sessions"))), tuple(_items(form.get("exclude_people"))), tuple(days), tuple(moves))

    def merge(self, other: Replan) -> Replan:
        """Earlier constraints plus newer ones (a later move of the same session wins)."""
        moved = {k for k, _ in other.move}
        return Replan(
            tuple(dict.fromkeys(self.lock + other.lock)),
            tuple(dict.fromkeys(self.exclude_people + other.exclude_people)),
            tuple(dict.fromkeys(self.exclude_days + other.exclude_days)),
            tuple(m for m in self.move if m[0] not in moved) + other.move,
        )

    def describe(self) -> list[str]:
        out = [f"lock {k} where it is" for k in self.lock]
        out += [f"leave out {who}" for who in self.exclude_people]
        out += [f"no sessions on day {d}" for d in self.exclude_days]
        out += [f"move {k} to day {d}" for k, d in self.move]
        return out


def apply(p: Problem, r: Replan, current: Timetable | None = None) -> Problem:
    """The problem with the re-plan's constraints; ReplanError for unknown sessions, people or days."""
    if r.empty:
        return p
    keys = {s.key for s in p.sessions}
    problems: list[str] = []
    n = len(p.days)
    for d in r.exclude_days + tuple(d for _, d in r.move):
        if not 1 <= d <= n:
            problems.append(f"day {d} is not an assessment day (1..{n})")
    for k in r.lock + tuple(k for k, _ in r.move):
        if k not in keys:
            problems.append(f"no session {k!r} (sessions: {', '.join(sorted(keys))})")
    people = {x.lower() for s in p.sessions for m in s.members for x in m}
    problems += [f"nobody called {who!r} is invited to any session" for who in r.exclude_people if who.lower() not in people]
    placed = {pl.key: pl for pl in current.placements} if current else {}
    problems += [f"cannot lock {k!r}: it has no current placement" for k in r.lock if k in keys and k not in placed]
    if problems:
        raise ReplanError("re-plan form: " + "; ".join(dict.fromkeys(problems)))
    gone = {d - 1 for d in r.exclude_days}
    out: list[Session] = []
    for s in p.sessions:
        windows = tuple(w for w in s.windows if w[0] not in gone)
        members = tuple(m for m in s.members if not ({m[0].lower(), m[1].lower()} & {w.lower() for w in r.exclude_people}))
        changes: dict[str, Any] = {"windows": windows, "members": members}
        move = dict(r.move).get(s.key)
        if move is not None:
            day = move - 1
            changes["windows"] = tuple(w for w in s.windows if w[0] == day)
            if not changes["windows"]:
                raise ReplanError(f"re-plan form: {s.key!r} cannot move to day {move}: its group is not available that day")
        if s.key in r.lock:
            pl = placed[s.key]
            changes["windows"] = ((pl.day, pl.start, pl.end),)
            if pl.mode == "virtual":
                changes["mode"] = "virtual"
            else:
                changes["virtual_ok"] = False
            if pl.room:
                changes["rooms"] = (pl.room,)
        out.append(replace(s, **changes))
    return replace(p, sessions=tuple(out))
