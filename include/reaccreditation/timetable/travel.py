"""The assessor's journeys between sites, read off a solved timetable (for the workbook and timetable.json).

The solver and the checker keep the travel time from the site-to-site table (``travel:``) between
consecutive sessions at different places; this names each journey so the running order shows it. A
virtual call and lunch are taken at the base site, as in the model.
"""

from __future__ import annotations

from dataclasses import dataclass

from reaccreditation.timetable.problem import Problem
from reaccreditation.timetable.solution import Timetable


@dataclass(frozen=True)
class Leg:
    assessor: str
    day: int
    start: int  # leaves when the earlier session or lunch ends
    end: int  # arrives (start + the travel table's minutes)
    origin: str  # site ids
    destination: str
    minutes: int
    before: str  # the session key (or "lunch") it travels to

    def text(self, p: Problem) -> str:
        return f"Travel from {p.sites.get(self.origin, self.origin)} to {p.sites.get(self.destination, self.destination)}"


def legs(p: Problem, t: Timetable) -> list[Leg]:
    """Every journey between consecutive items of each assessor's day at different sites."""
    keys = {s.key: s for s in p.sessions}
    timeline: dict[tuple[str, int], list[tuple[int, int, str | None, str]]] = {}
    for pl in t.placements:
        if pl.key in keys:
            timeline.setdefault((pl.assessor, pl.day), []).append((pl.start, pl.end, p.location(keys[pl.key], pl.mode), pl.key))
    for lb in t.lunches:
        timeline.setdefault((lb.assessor, lb.day), []).append((lb.start, lb.end, p.base_site, "lunch"))
    out = []
    for (assessor, day), items in sorted(timeline.items()):
        items.sort()
        for a, b in zip(items, items[1:], strict=False):
            if a[2] and b[2] and a[2] != b[2]:
                minutes = p.travel_minutes(a[2], b[2])
                out.append(Leg(assessor, day, a[1], a[1] + minutes, a[2], b[2], minutes, b[3]))
    return out
