"""Capacity arithmetic done before the solver: it explains the usual infeasibilities exactly.

Each check is a necessary condition, so a problem found here is a real conflict, stated with the
numbers ("group X can only meet on day 3; day 3 holds 435 minutes of sessions, X and Y need 480").
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

from reaccreditation.timetable.busy import free_starts
from reaccreditation.timetable.problem import Problem, Session, clock


def _windows_text(p: Problem, s: Session) -> str:
    parts = []
    for day, a, b in s.windows:
        whole = a <= p.day_start and b >= p.day_end
        parts.append(p.day_label(day) + ("" if whole else f" {clock(a)}-{clock(b)}"))
    return ", ".join(parts) or "never"


def _names(sessions: list[Session]) -> str:
    titles = sorted({s.title for s in sessions})
    if len(titles) > 6:
        return ", ".join(titles[:6]) + f" and {len(titles) - 6} more"
    return ", ".join(titles)


def _days_text(p: Problem, days: tuple[int, ...]) -> str:
    labels = [p.day_label(d) for d in days]
    return labels[0] if len(labels) == 1 else "days " + ", ".join(str(d + 1) for d in days)


def coverage_problems(p: Problem) -> list[str]:
    covered = {e for s in p.sessions for e in s.elements}
    return [
        f"element {e} is in scope but no participant group speaks to it (add it to a group's elements or departments)"
        for e in p.scope
        if e not in covered
    ]


def window_problems(p: Problem) -> list[str]:
    out = []
    for s in p.sessions:
        if not any(b - a >= s.minutes for _, a, b in s.windows):
            out.append(f"group {s.group_id!r} ({s.title}) needs {s.minutes} minutes but is only available {_windows_text(p, s)}")
    return out


def _lunch_inside(p: Problem, a: int, b: int) -> int:
    """Lunch minutes that must fall inside [a, b) whatever time lunch is taken."""
    earliest, latest, length = p.lunch
    outside = max(0, min(latest, a) - earliest) + max(0, latest - max(earliest, b))
    return max(0, length - outside)


def day_capacity_problems(p: Problem) -> list[str]:
    """Sessions that can only go on a set of days must fit those days."""
    out = []
    assessors = len(p.assessors)
    days = range(len(p.days))
    usable = [s for s in p.sessions if any(b - a >= s.minutes for _, a, b in s.windows)]
    # Candidate day sets: each session's own days, unions of two, and all days (every subset would be
    # 2^days; these are where a conflict shows in practice).
    own = {frozenset(d for d, a, b in s.windows if b - a >= s.minutes) for s in usable}
    candidates = own | {x | y for x in own for y in own if len(own) <= 200} | {frozenset(days)}
    by_size: dict[int, list[tuple[int, ...]]] = {}
    for c in candidates:
        by_size.setdefault(len(c), []).append(tuple(sorted(c)))
    for size in sorted(by_size):
        for subset in sorted(by_size[size]):
            inside = [s for s in usable if {d for d, a, b in s.windows if b - a >= s.minutes} <= set(subset)]
            need = sum(s.minutes for s in inside)
            have = assessors * sum(p.day_end - p.day_start - _lunch_inside(p, p.day_start, p.day_end) for _ in subset)
            if inside and need > have:
                out.append(
                    f"{_names(inside)} can only meet on {_days_text(p, subset)}: they need {need} minutes with the assessor, "
                    f"but {'that day is full: it holds' if size == 1 else 'those days hold'} {have} minutes of sessions "
                    f"({clock(p.day_start)}-{clock(p.day_end)} less {p.lunch_minutes} minutes' lunch)"
                )
        if out:
            return out  # the smallest conflicting sets say it best
    return out


def window_capacity_problems(p: Problem) -> list[str]:
    """Within one day: sessions confined to a time range must fit in it (less any lunch forced inside)."""
    out = []
    assessors = len(p.assessors)
    for day in range(len(p.days)):
        only_today = [s for s in p.sessions if s.windows and all(d == day for d, _, _ in s.windows)]
        bounds = sorted({x for s in only_today for _, a, b in s.windows for x in (a, b)})
        for a, b in combinations(bounds, 2):
            inside = [s for s in only_today if all(a <= wa and wb <= b for _, wa, wb in s.windows)]
            if not inside or (a <= p.day_start and b >= p.day_end):
                continue  # the whole day is the day-capacity check's job
            need = sum(s.minutes for s in inside)
            have = assessors * (b - a - _lunch_inside(p, a, b))
            if need > have:
                out.append(
                    f"{_names(inside)} can only meet on {p.day_label(day)} between {clock(a)} and {clock(b)}: "
                    f"they need {need} minutes, the assessor has {have} minutes then"
                )
    return out


def person_problems(p: Problem) -> list[str]:
    """A person in several groups must be able to attend them one after another."""
    out = []
    by_person: dict[str, list[Session]] = {}
    for s in p.sessions:
        for email in dict.fromkeys(e.lower() for e in s.emails):
            by_person.setdefault(email, []).append(s)
    for email, sessions in by_person.items():
        if len({s.group_id for s in sessions}) < 2:
            continue
        windows = {(d, a, b) for s in sessions for d, a, b in s.windows}
        span = sum(b - a for _, a, b in _merge(windows))
        need = sum(s.minutes for s in sessions)
        if need > span:
            out.append(
                f"{email} is in {_names(sessions)}: {need} minutes of sessions, but those groups' availability spans {span} "
                "minutes"
            )
    return out


def _merge(windows: set[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    merged: list[tuple[int, int, int]] = []
    for d, a, b in sorted(windows):
        if merged and merged[-1][0] == d and a <= merged[-1][2]:
            merged[-1] = (d, merged[-1][1], max(b, merged[-1][2]))
        else:
            merged.append((d, a, b))
    return merged


def busy_text(p: Problem, busy: Iterable[tuple[int, int, int]], who: str = "") -> str:
    """Busy intervals by day: "on day 2 (Tue 16 Mar) 09:00-12:30 and 14:00-15:00; on day 3 ..." (``who`` after the day)."""
    days: dict[int, list[str]] = {}
    for d, a, b in sorted(busy):
        days.setdefault(d, []).append(f"{clock(a)}-{clock(b)}")
    return "; ".join(f"on {p.day_label(d)} {who}{' and '.join(times)}" for d, times in days.items())


def _overlapping(busy: Iterable[tuple[int, int, int]], windows: Iterable[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    spans = list(windows)
    return [(d, a, b) for d, a, b in busy if any(wd == d and a < wb and wa < b for wd, wa, wb in spans)]


def diary_problems(p: Problem) -> list[str]:
    """Sessions for which their people's diaries leave no slot free in the group's windows, naming who is busy when."""
    out = []
    assessors = [e.lower() for _, e in p.assessors]
    for s in p.sessions:
        members = list(dict.fromkeys(e.lower() for e in s.emails))

        def free(emails: list[str], s: Session = s) -> bool:
            busy = [x for e in emails for x in p.busy_of(e)]
            return bool(free_starts(s.windows, busy, s.minutes, p.day_start, p.day_end, p.slot, p.changeover))

        if free(members) and any(free([*members, a]) for a in assessors):
            continue
        blocking = members + (assessors if free(members) else [])  # members alone, or no assessor can join them
        near = [(d, a - p.changeover, b + p.changeover) for d, a, b in s.windows]  # busy this close narrows a window
        blocking = [e for e in blocking if _overlapping(p.busy_of(e), near)]
        by_day: dict[int, dict[str, list[str]]] = {}
        for email in blocking:
            for d, a, b in _overlapping(p.busy_of(email), near):
                by_day.setdefault(d, {}).setdefault(email, []).append(f"{clock(a)}-{clock(b)}")
        parts = []
        for d, people in sorted(by_day.items()):
            said = [
                f"{'the assessor ' if e in assessors else ''}{p.name_of(e)}{' is busy' if i == 0 else ''} {' and '.join(times)}"
                for i, (e, times) in enumerate(people.items())
            ]
            parts.append(f"on {p.day_label(d)} " + _and(said))
        out.append(
            f"{s.title} with {_and([p.name_of(e) for e in blocking], limit=6)} cannot meet: "
            + "; ".join(parts)
            + f"; no slot of {s.minutes} minutes is free for {'all of them' if len(blocking) > 1 else 'them'} in the "
            f"group's availability ({_windows_text(p, s)}){_changeover_text(p)}"
        )
    return out


def _changeover_text(p: Problem) -> str:
    return f", keeping the {p.changeover} minutes' changeover either side of a busy time" if p.changeover else ""


def lunch_problems(p: Problem) -> list[str]:
    """Days on which an assessor's diary leaves no lunch break free in the lunch window."""
    earliest, latest, length = p.lunch
    out = []
    if length <= 0:
        return out
    for name, email in p.assessors:
        busy = p.busy_of(email)
        for d in range(len(p.days)):
            window = [(d, earliest, latest)]
            if free_starts(window, busy, length, earliest, latest, p.slot, p.changeover):
                continue
            spans = _overlapping(busy, [(d, earliest - p.changeover, latest + p.changeover)])
            if not spans:
                continue  # a window shorter than lunch is the config check's to say
            out.append(
                f"the assessor {name}'s lunch on {p.day_label(d)} does not fit: their diary says busy "
                f"{' and '.join(f'{clock(a)}-{clock(b)}' for _, a, b in spans)}, which leaves no "
                f"{length} minutes free between {clock(earliest)} and {clock(latest)}{_changeover_text(p)} "
                "(free time for lunch in their diary, or widen timetable.lunch)"
            )
    return out


def _and(items: list[str], limit: int = 0) -> str:
    if limit and len(items) > limit:
        items = items[:limit] + [f"{len(items) - limit} more"]
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def precheck(p: Problem) -> list[str]:
    """Every conflict the arithmetic can prove; empty when the solver has to decide."""
    return (
        coverage_problems(p)
        + window_problems(p)
        + diary_problems(p)
        + lunch_problems(p)
        + day_capacity_problems(p)
        + window_capacity_problems(p)
        + person_problems(p)
    )
