"""Joining links for the virtual sessions of a solved timetable, and their independent check.

A template gives each session its own link. A pool is a set of standing meeting rooms: they are
handed out like rooms, in start order, each session keeping the link it had in the stored timetable
when that one is free. Handing out in start order never needs more links than the most virtual
sessions running at one moment (an interval graph is coloured greedily), and the solver keeps that
number within the pool (``solver._link_pool``); a timetable that needs more (edited by hand, or a pool
shrunk since) is refused with the moment and the sessions named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from itertools import combinations

from reaccreditation.timetable.joining import render
from reaccreditation.timetable.problem import Problem, clock
from reaccreditation.timetable.solution import Placement, Timetable, TimetableInfeasible


def template_link(p: Problem, key: str) -> str | None:
    """The template's link for a session (None without a template)."""
    cfg = p.joining_links
    if cfg is None or cfg.template is None:
        return None
    s = p.session(key)
    return render(cfg.template, session=s.key, group=s.group_id, year=p.days[0].year if p.days else 0)


def _overlap(a: Placement, b: Placement) -> bool:
    return a.day == b.day and a.start < b.end and b.start < a.end


def assign(p: Problem, t: Timetable, previous: Mapping[str, Placement] | None = None) -> Timetable:
    """The timetable with a joining link on every virtual session (and none on the others)."""
    cfg = p.joining_links
    links: dict[str, str | None] = {}
    virtual = sorted((pl for pl in t.placements if pl.mode == "virtual"), key=lambda pl: (pl.day, pl.start, pl.end, pl.key))
    if cfg is not None and cfg.template is not None:
        links = {pl.key: template_link(p, pl.key) for pl in virtual}
    elif cfg is not None:
        previous = previous or {}
        running: list[Placement] = []
        for pl in virtual:
            running = [r for r in running if _overlap(r, pl)]
            taken = {links[r.key] for r in running}
            free = [link for link in cfg.pool if link not in taken]
            if not free:
                raise TimetableInfeasible([exhausted(p, [*running, pl])])
            before = previous.get(pl.key)
            links[pl.key] = before.link if before is not None and before.link in free else free[0]
            running.append(pl)
    placements = tuple(replace(pl, link=links.get(pl.key)) for pl in t.placements)
    return replace(t, placements=placements)


def exhausted(p: Problem, together: list[Placement]) -> str:
    """The quality team's message when more virtual sessions run at once than the pool has links."""
    pool = p.joining_links.pool if p.joining_links else ()
    first = max(together, key=lambda pl: pl.start)
    names = ", ".join(f"{p.session(pl.key).title} ({clock(pl.start)}-{clock(pl.end)})" for pl in together)
    return (
        f"timetable.joining_links.pool has {len(pool)} link(s) but {len(together)} virtual sessions run at once on "
        f"{p.day_label(first.day)} at {clock(first.start)}: {names}. Add a link to the pool for each virtual session "
        "that may run at the same time (one per assessor is always enough), or use a template"
    )


def check(p: Problem, t: Timetable) -> list[str]:
    """Every joining-link rule a timetable breaks: links only on virtual sessions, from the configured
    template or pool, and never one pool link for two sessions at the same time."""
    cfg = p.joining_links
    out = []
    keys = {s.key for s in p.sessions}
    for pl in t.placements:
        if pl.key not in keys:
            continue
        if pl.mode != "virtual":
            if pl.link:
                out.append(f"{pl.key}: held in person but has a joining link")
            continue
        if cfg is None:
            if pl.link:
                out.append(f"{pl.key}: has a joining link but timetable.joining_links is not configured")
        elif not pl.link:
            out.append(f"{pl.key}: a virtual session without a joining link")
        elif cfg.template is not None and pl.link != template_link(p, pl.key):
            out.append(f"{pl.key}: joining link {pl.link} is not the template's {template_link(p, pl.key)}")
        elif cfg.template is None and pl.link not in cfg.pool:
            out.append(f"{pl.key}: joining link {pl.link} is not in timetable.joining_links.pool")
    virtual = [pl for pl in t.placements if pl.mode == "virtual" and pl.link]
    for a, b in combinations(sorted(virtual, key=lambda pl: (pl.day, pl.start)), 2):
        if a.link == b.link and _overlap(a, b):
            out.append(
                f"joining link {a.link} is used by {a.key} ({clock(a.start)}-{clock(a.end)}) and {b.key} "
                f"({clock(b.start)}-{clock(b.end)}) at the same time on day {a.day + 1}"
            )
    return out
