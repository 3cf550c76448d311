"""An independent check of a timetable against the problem's rules, written without the solver.

It reads only plain placements, so it also vets a timetable edited by hand or stored by an older run.
Each violation is a sentence naming the sessions, people, rooms or days involved. People are compared by
email whatever its case; a session overlapping a busy time of one of its members or of its assessor
(``Problem.busy``, from their diaries), or coming closer to one than the changeover on either side, is a
violation, and so is an assessor's lunch break there.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

from reaccreditation.timetable import links
from reaccreditation.timetable.problem import Problem, clock
from reaccreditation.timetable.solution import Timetable


def _overlaps(items: list[tuple[int, int, int, str]], what: str) -> list[str]:
    """items: (day, start, end, label); report every overlapping neighbour pair."""
    out = []
    for a, b in pairwise(sorted(items)):
        if a[0] == b[0] and b[1] < a[2]:
            out.append(
                f"{what}: {a[3]} ({clock(a[1])}-{clock(a[2])}) overlaps {b[3]} ({clock(b[1])}-{clock(b[2])}) on day {a[0] + 1}"
            )
    return out


def _diary(p: Problem, email: str, day: int, start: int, end: int, what: str) -> list[str]:
    """``what`` (day, start-end) against one person's busy times, the changeover kept either side of each."""
    out = []
    c = p.changeover
    for d, a, b in p.busy_of(email):
        if d != day or not (a - c < end and start < b + c):
            continue
        said = f"diary: {p.name_of(email)} ({email}) is busy {clock(a)}-{clock(b)} on day {d + 1}, but {what} is "
        said += f"{clock(start)}-{clock(end)}"
        if not (a < end and start < b):  # clear of it, but too close
            said += f" (less than the {c} minutes' changeover {'after' if start >= b else 'before'} it)"
        out.append(said)
    return out


def check(p: Problem, t: Timetable) -> list[str]:
    """Every broken rule; an empty list means the timetable is valid."""
    out: list[str] = []
    by_key = {s.key: s for s in p.sessions}
    seen: dict[str, int] = defaultdict(int)
    for pl in t.placements:
        seen[pl.key] += 1
    out += [f"session {k} is not in the timetable" for k in by_key if seen[k] == 0]
    out += [f"session {k} is in the timetable {n} times" for k, n in seen.items() if n > 1]
    out += [f"session {k} is not one of the configured sessions" for k in seen if k not in by_key]
    assessor_emails = {e for _, e in p.assessors}
    assessor_items: dict[str, list[tuple[int, int, int, str]]] = defaultdict(list)
    person_items: dict[str, list[tuple[int, int, int, str]]] = defaultdict(list)
    group_items: dict[str, list[tuple[int, int, int, str]]] = defaultdict(list)
    room_items: dict[str, list[tuple[int, int, int, str]]] = defaultdict(list)
    timeline: dict[tuple[str, int], list[tuple[int, int, str | None, str]]] = defaultdict(list)
    for pl in t.placements:
        s = by_key.get(pl.key)
        if s is None:
            continue
        name = f"{s.key}"
        if not 0 <= pl.day < len(p.days):
            out.append(f"{name}: day {pl.day + 1} is not a day of the assessment")
        if pl.end - pl.start != s.minutes:
            out.append(f"{name}: lasts {pl.end - pl.start} minutes, should last {s.minutes}")
        if pl.start < p.day_start or pl.end > p.day_end:
            out.append(f"{name}: {clock(pl.start)}-{clock(pl.end)} is outside the day {clock(p.day_start)}-{clock(p.day_end)}")
        if pl.start % max(1, p.slot):
            out.append(f"{name}: starts at {clock(pl.start)}, not on a {p.slot}-minute slot")
        if not any(d == pl.day and a <= pl.start and pl.end <= b for d, a, b in s.windows):
            out.append(f"{name}: day {pl.day + 1} {clock(pl.start)}-{clock(pl.end)} is outside the group's availability")
        if pl.assessor not in assessor_emails:
            out.append(f"{name}: assessor {pl.assessor} is not one of the assessors")
        if pl.mode == "virtual":
            if not s.virtual_possible:
                out.append(f"{name}: held virtually but the group must meet in person")
            if pl.site or pl.room:
                out.append(f"{name}: a virtual session has no site or room")
        else:
            if pl.mode != s.mode:
                out.append(f"{name}: held as {pl.mode}, configured as {s.mode}")
            if pl.site != s.site:
                out.append(f"{name}: held at {pl.site}, configured at {s.site}")
            if s.rooms and pl.room not in s.rooms:
                out.append(f"{name}: room {pl.room} is not one of its rooms ({', '.join(s.rooms)})")
            if pl.room:
                room = p.rooms.get(pl.room)
                if room is None or room.site != pl.site:
                    out.append(f"{name}: room {pl.room} is not at {pl.site}")
                elif room.capacity < s.people:
                    out.append(f"{name}: room {pl.room} seats {room.capacity}, the group has {s.people}")
                room_items[pl.room].append((pl.day, pl.start, pl.end, name))
        item = (pl.day, pl.start, pl.end, name)
        assessor_items[pl.assessor].append((pl.day, pl.start, pl.end + p.changeover, name))
        group_items[s.group_id].append(item)
        for email in {e.lower() for e in s.emails}:
            person_items[email].append(item)
        for email in dict.fromkeys([e.lower() for e in s.emails] + [pl.assessor.lower()]):
            out += _diary(p, email, pl.day, pl.start, pl.end, name)
        timeline[pl.assessor, pl.day].append((pl.start, pl.end, p.location(s, pl.mode), name))
    # lunch: once a day per assessor, inside its window, never overlapping a session, nor near a busy time
    earliest, latest, length = p.lunch
    if length > 0:
        for _, email in p.assessors:
            for d in range(len(p.days)):
                mine = [lb for lb in t.lunches if lb.assessor == email and lb.day == d]
                if len(mine) != 1:
                    out.append(f"{email}: {len(mine)} lunch breaks on day {d + 1}, expected 1")
                    continue
                lb = mine[0]
                if lb.end - lb.start != length or lb.start < earliest or lb.end > latest:
                    out.append(
                        f"{email}: lunch on day {d + 1} {clock(lb.start)}-{clock(lb.end)} is not {length} minutes within "
                        f"{clock(earliest)}-{clock(latest)}"
                    )
                out += _diary(p, email.lower(), d, lb.start, lb.end, "their lunch")
                assessor_items[email].append((d, lb.start, lb.end + p.changeover, "lunch"))
                timeline[email, d].append((lb.start, lb.end, p.base_site, "lunch"))
    for email, items in assessor_items.items():
        out += _overlaps(items, f"assessor {email}")
    for email, items in person_items.items():
        out += _overlaps(items, f"{email} double-booked")
    for gid, items in group_items.items():
        out += _overlaps(items, f"group {gid} double-booked")
    for rid, items in room_items.items():
        out += _overlaps(items, f"room {rid} double-booked")
    # travel between consecutive sessions at different places
    for (email, d), items in timeline.items():
        for a, b in pairwise(sorted(items, key=lambda x: x[0])):
            need = p.travel_minutes(a[2], b[2])
            if b[0] - a[1] < need:
                out.append(
                    f"travel: {email} leaves {a[3]} at {a[2]} at {clock(a[1])} on day {d + 1} and cannot reach {b[3]} at {b[2]} "
                    f"by {clock(b[0])} ({need} minutes)"
                )
    # coverage of the elements in scope
    covered = {e for pl in t.placements if pl.key in by_key for e in by_key[pl.key].elements}
    out += [f"coverage: element {e} is in scope but no session speaks to it" for e in p.scope if e not in covered]
    out += links.check(p, t)  # joining links: from the template or pool, never one pool link twice at once
    return out
