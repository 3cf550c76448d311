"""The assessment timetable as a CP-SAT model.

Time is one line of minutes (day d starts at ``d * 1440``), so "no overlap" and travel gaps need no
day arithmetic. Hard rules: every session placed once inside the day and its group's availability, clear
of its members' and its assessor's busy times by the changeover on both sides (``Problem.busy``: the start's
domain holds only the slots they leave free, so diaries add no booleans), and each assessor's lunch clear
of their own the same way; no overlap for the assessor (with changeover and lunch), a
person (by email, whatever its case), a group or a room; travel between sites
for consecutive sessions (virtual calls and lunch happen at the base site); virtual only where allowed.
The objective (docs/timetable.md) is lexicographic when there is a stored timetable: first the fewest
sessions moved from it (each weighted by the people a move disturbs), then, with that held, a weighted
sum of sessions not in their preferred mode, extra days per department, days over the average and
focus sessions held late. Virtual sessions then get their joining links (``links.assign``).

When no timetable exists, each relaxable rule family gets an assumption literal and CP-SAT's
sufficient assumptions, shrunk to a minimal set, name the rules that conflict.
"""

from __future__ import annotations

import time as clock_time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ortools.sat.python import cp_model

from reaccreditation.timetable import links
from reaccreditation.timetable.busy import free_starts
from reaccreditation.timetable.precheck import busy_text, precheck
from reaccreditation.timetable.problem import Problem, Session, clock
from reaccreditation.timetable.solution import LunchBreak, Placement, Timetable, TimetableInfeasible

DAY = 24 * 60


@dataclass
class _Vars:
    start: dict[str, cp_model.IntVar] = field(default_factory=dict)
    day: dict[tuple[str, int], cp_model.IntVar] = field(default_factory=dict)
    virtual: dict[str, cp_model.IntVar] = field(default_factory=dict)
    room: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)
    assessor: dict[tuple[str, int], cp_model.IntVar] = field(default_factory=dict)
    lunch: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    moved: dict[str, cp_model.IntVar] = field(default_factory=dict)
    move_cost: cp_model.LinearExpr | int = 0  # moved sessions weighted by the people each disturbs
    quality: cp_model.LinearExpr | int = 0  # the weighted sum of the other terms
    assumptions: dict[cp_model.IntVar, str] = field(default_factory=dict)  # literal -> what it stands for
    terms: dict[str, cp_model.LinearExpr] = field(default_factory=dict)


class _Builder:
    def __init__(self, p: Problem, previous: Mapping[str, Placement] | None, explain: bool) -> None:
        self.p = p
        self.m = cp_model.CpModel()
        self.v = _Vars()
        self.previous = dict(previous or {})
        self.explain = explain
        self._lits: dict[str, cp_model.IntVar] = {}
        self.allowed: dict[str, cp_model.Domain] = {}  # each session's possible starts

    def rule(self, key: str, text: str) -> cp_model.IntVar:
        """The literal guarding one family of rules: fixed true normally, an assumption when explaining."""
        if key not in self._lits:
            lit = self.m.NewBoolVar(key)
            if not self.explain:
                self.m.Add(lit == 1)
            self._lits[key] = lit
            self.v.assumptions[lit] = text
        return self._lits[key]

    @property
    def sole_assessor(self) -> str | None:
        """With one assessor their diary narrows every session like a member's; with several, the one assigned."""
        return self.p.assessors[0][1].lower() if len(self.p.assessors) == 1 else None

    def people_of(self, s: Session, assessor: str | None) -> list[str]:
        """The lower-case emails of a session's members (and ``assessor``) that have busy times."""
        emails = dict.fromkeys([e.lower() for e in s.emails] + ([assessor] if assessor else []))
        return [e for e in emails if self.p.busy_of(e)]

    def busy(self, s: Session, assessor: str | None) -> list[tuple[int, int, int]]:
        return [x for e in self.people_of(s, assessor) for x in self.p.busy_of(e)]

    def absolute(self, ranges: list[tuple[int, int, int]]) -> cp_model.Domain:
        return cp_model.Domain.FromIntervals([[d * DAY + a, d * DAY + b] for d, a, b in ranges])

    def grid(self, ranges: list[tuple[int, int, int]], slot: int) -> cp_model.Domain:
        """The slot numbers (start // slot) of the starts in ``ranges``."""
        numbers = [(-(-(d * DAY + a) // slot), (d * DAY + b) // slot) for d, a, b in ranges]
        return cp_model.Domain.FromIntervals([[lo, hi] for lo, hi in numbers if lo <= hi])

    def diary(self, s: Session, start: cp_model.IntVar, email: str, *enforce: cp_model.IntVar) -> None:
        """Explaining: one person's diary as its own rule, so the explanation can name them."""
        p = self.p
        whole = [(d, p.day_start, p.day_end) for d in range(len(p.days))]
        free = free_starts(whole, p.busy_of(email), s.minutes, p.day_start, p.day_end, gap=p.changeover)
        self.m.AddLinearExpressionInDomain(start, self.absolute(free)).OnlyEnforceIf(
            [*enforce, self.rule(f"diary:{email}", f"diary:{email}")]
        )

    def _assessor_diary(self, s: Session, k: int, start: cp_model.IntVar, picked: cp_model.IntVar) -> None:
        """With several assessors: the session avoids the busy times of the one who takes it."""
        p, m = self.p, self.m
        email = p.assessors[k][1].lower()
        if self.sole_assessor or not p.busy_of(email):
            return
        if self.explain:
            self.diary(s, start, email, picked)
            return
        free = free_starts(s.windows, self.busy(s, email), s.minutes, p.day_start, p.day_end, gap=p.changeover)
        if free:
            m.AddLinearExpressionInDomain(start, self.absolute(free)).OnlyEnforceIf(picked)
        else:
            m.Add(picked == 0)

    def days_of(self, s: Session) -> list[int]:
        return sorted({d for d, a, b in s.windows if b - a >= s.minutes}) or list(range(len(self.p.days)))

    def build(self) -> None:
        p, m, v = self.p, self.m, self.v
        K = len(p.assessors)
        slot = max(1, p.slot)
        assessor_intervals: dict[int, list[cp_model.IntervalVar]] = {k: [] for k in range(K)}
        person: dict[str, list[tuple[Session, cp_model.IntVar, cp_model.IntVar]]] = {}
        group: dict[str, list[cp_model.IntervalVar]] = {}
        rooms: dict[str, list[cp_model.IntervalVar]] = {}
        ends: dict[str, cp_model.IntVar] = {}
        for s in p.sessions:
            days = self.days_of(s)
            if self.explain:  # the whole day: availability and diaries are assumptions to name
                ranges = [(d, p.day_start, DAY - s.minutes - 1) for d in range(len(p.days))]
            else:  # only starts inside a window that the members' (and a sole assessor's) diaries leave free
                ranges = free_starts(
                    s.windows, self.busy(s, self.sole_assessor), s.minutes, p.day_start, p.day_end, gap=p.changeover
                )
                days = sorted({d for d, _, _ in ranges})
            k_slots = m.NewIntVarFromDomain(self.grid(ranges, slot), f"slot_{s.key}")
            start = m.NewIntVarFromDomain(self.absolute(ranges), f"start_{s.key}")
            m.Add(start == slot * k_slots)
            self.allowed[s.key] = self.absolute(ranges)
            end = m.NewIntVar(0, len(p.days) * DAY, f"end_{s.key}")
            m.Add(end == start + s.minutes)
            v.start[s.key], ends[s.key] = start, end
            # the day: within day hours (day length guarded by its rule)
            for d in range(len(p.days)):
                x = m.NewBoolVar(f"day_{s.key}_{d}")
                v.day[s.key, d] = x
                m.Add(start >= d * DAY + p.day_start).OnlyEnforceIf(x)
                m.Add(start <= d * DAY + DAY - s.minutes - 1).OnlyEnforceIf(x)
                m.Add(end <= d * DAY + p.day_end).OnlyEnforceIf([x, self.rule(f"day:{d}", f"day:{d}")])
                if d not in days and not self.explain:
                    m.Add(x == 0)
            m.AddExactlyOne(v.day[s.key, d] for d in range(len(p.days)))
            if self.explain:  # availability: one of the group's windows; the diaries: each its own rule
                avail = self.rule(f"avail:{s.group_id}", f"avail:{s.group_id}")
                choices = []
                for i, (d, a, b) in enumerate(s.windows):
                    if b - a < s.minutes:
                        continue
                    w = m.NewBoolVar(f"win_{s.key}_{i}")
                    m.AddImplication(w, v.day[s.key, d])
                    m.Add(start >= d * DAY + a).OnlyEnforceIf(w)
                    m.Add(end <= d * DAY + b).OnlyEnforceIf(w)
                    choices.append(w)
                m.AddBoolOr(choices).OnlyEnforceIf(avail)
                for email in self.people_of(s, self.sole_assessor):
                    self.diary(s, start, email)
            # mode
            virtual = m.NewBoolVar(f"virtual_{s.key}")
            v.virtual[s.key] = virtual
            if s.mode == "virtual":
                m.Add(virtual == 1)
            elif not s.virtual_ok:
                m.Add(virtual == 0)
            # room
            if s.rooms and s.mode != "virtual":
                picks = []
                for r in s.rooms:
                    pick = m.NewBoolVar(f"room_{s.key}_{r}")
                    v.room[s.key, r] = pick
                    picks.append(pick)
                    present = m.NewBoolVar(f"in_{s.key}_{r}")
                    guard = self.rule(f"room:{r}", f"room:{r}")
                    m.AddBoolAnd([pick, guard]).OnlyEnforceIf(present)
                    m.AddBoolOr([pick.Not(), guard.Not(), present])
                    rooms.setdefault(r, []).append(m.NewOptionalIntervalVar(start, s.minutes, end, present, f"iv_{s.key}_{r}"))
                m.Add(sum(picks) == 1).OnlyEnforceIf(virtual.Not())
                m.Add(sum(picks) == 0).OnlyEnforceIf(virtual)
            # assessor
            picks = []
            for k in range(K):
                a_lit = m.NewBoolVar(f"assessor_{s.key}_{k}")
                v.assessor[s.key, k] = a_lit
                picks.append(a_lit)
                busy_end = m.NewIntVar(0, len(p.days) * DAY + p.changeover, f"busy_{s.key}_{k}")
                m.Add(busy_end == end + p.changeover)
                assessor_intervals[k].append(
                    m.NewOptionalIntervalVar(start, s.minutes + p.changeover, busy_end, a_lit, f"a_{s.key}_{k}")
                )
                self._assessor_diary(s, k, start, a_lit)
            m.AddExactlyOne(picks)
            # group and people (by email, whatever its case)
            group.setdefault(s.group_id, []).append(m.NewIntervalVar(start, s.minutes, end, f"g_{s.key}"))
            for email in dict.fromkeys(e.lower() for e in s.emails):
                person.setdefault(email, []).append((s, start, end))
        # lunch for each assessor each day
        earliest, latest, length = p.lunch
        for k in range(K):
            for d in range(len(p.days)):
                if length <= 0:
                    continue
                present = self.rule(f"lunch:{d}", f"lunch:{d}")
                window = [(d, earliest, latest - length)]
                email = p.assessors[k][1].lower()
                # clear of the assessor's busy times, the changeover kept either side (precheck.lunch_problems)
                free = free_starts([(d, earliest, latest)], p.busy_of(email), length, earliest, latest, slot, p.changeover)
                if free and not self.explain:
                    window = free
                lunch_slot = m.NewIntVarFromDomain(self.grid(window, slot), f"lunch_slot_{k}_{d}")
                ls = m.NewIntVarFromDomain(self.absolute(window), f"lunch_{k}_{d}")
                m.Add(ls == slot * lunch_slot)
                v.lunch[k, d] = ls
                if p.busy_of(email) and (self.explain or not free):  # explaining, the diary is a rule to name
                    diary = self.rule(f"diary:{email}", f"diary:{email}")
                    if free:
                        m.AddLinearExpressionInDomain(ls, self.absolute(free)).OnlyEnforceIf([present, diary])
                    else:
                        m.AddBoolOr([present.Not(), diary.Not()])
                assessor_intervals[k].append(
                    m.NewOptionalFixedSizeIntervalVar(ls, length + p.changeover, present, f"lunch_iv_{k}_{d}")
                )
        for intervals in assessor_intervals.values():
            m.AddNoOverlap(intervals)
        if not self.explain:  # redundant: a day's sessions and changeovers fit in the day less lunch
            for d in range(len(p.days)):
                m.Add(
                    sum((s.minutes + p.changeover) * v.day[s.key, d] for s in p.sessions)
                    <= K * (p.day_end - p.day_start - length)
                )
        for intervals in group.values():
            if len(intervals) > 1:
                m.AddNoOverlap(intervals)
        for intervals in rooms.values():
            if len(intervals) > 1:
                m.AddNoOverlap(intervals)
        for email, items in person.items():
            if len({s.group_id for s, _, _ in items}) < 2:
                continue
            guard = self.rule(f"person:{email}", f"person:{email}")
            m.AddNoOverlap([m.NewOptionalIntervalVar(st, s.minutes, en, guard, f"p_{email}_{s.key}") for s, st, en in items])
        self._travel(ends)
        self._link_pool()
        self._objective()

    def _link_pool(self) -> None:
        """No more virtual sessions at once than the pool has joining links (needed only with fewer links than assessors)."""
        p, m, v = self.p, self.m, self.v
        pool = p.joining_links.pool if p.joining_links else ()
        if not pool or len(pool) >= len(p.assessors):
            return
        guard = self.rule("links", "links")
        calls = []
        for s in p.sessions:
            if not s.virtual_possible:
                continue
            present = m.NewBoolVar(f"call_{s.key}")
            m.AddBoolAnd([v.virtual[s.key], guard]).OnlyEnforceIf(present)
            m.AddBoolOr([v.virtual[s.key].Not(), guard.Not(), present])
            calls.append(m.NewOptionalFixedSizeIntervalVar(v.start[s.key], s.minutes, present, f"call_iv_{s.key}"))
        m.AddCumulative(calls, [1] * len(calls), len(pool))

    def _modes(self, s: Session) -> list[tuple[str, cp_model.IntVar | None]]:
        """(location, literal making it so); None: always so."""
        v = self.v.virtual[s.key]
        if s.mode == "virtual":
            return [(self.p.base_site or "", None)]
        here = s.site or ""
        if not s.virtual_ok:
            return [(here, None)]
        return [(here, v.Not()), (self.p.base_site or "", v)]

    def _travel(self, ends: dict[str, cp_model.IntVar]) -> None:
        """Consecutive sessions (and lunch, at the base) at different sites leave the travel time between them."""
        p, m, v = self.p, self.m, self.v
        if not p.travel or not p.base_site:
            return
        guard = self.rule("travel", "travel")
        K = len(p.assessors)
        sessions = list(p.sessions)
        for i, a in enumerate(sessions):
            days_a = set(self.days_of(a))
            for b in sessions[i + 1 :]:
                if not days_a & set(self.days_of(b)):
                    continue
                order = None  # one "a before b" literal per pair, shared by every mode combination
                for loc_a, lit_a in self._modes(a):
                    for loc_b, lit_b in self._modes(b):
                        gap = p.travel_minutes(loc_a or None, loc_b or None)
                        if gap <= p.changeover:
                            continue
                        order = order if order is not None else m.NewBoolVar(f"order_{a.key}_{b.key}")
                        lits = [guard] + [x for x in (lit_a, lit_b) if x is not None]
                        for k in range(K):
                            same = [v.assessor[a.key, k], v.assessor[b.key, k]] if K > 1 else []
                            m.Add(v.start[b.key] >= ends[a.key] + gap).OnlyEnforceIf([order, *lits, *same])
                            m.Add(v.start[a.key] >= ends[b.key] + gap).OnlyEnforceIf([order.Not(), *lits, *same])
            # lunch is taken at the base site
            lunch_order: dict[tuple[int, int], cp_model.IntVar] = {}
            for loc_a, lit_a in self._modes(a):
                gap = p.travel_minutes(loc_a or None, p.base_site)
                if gap <= p.changeover:
                    continue
                for (k, d), ls in v.lunch.items():
                    if d not in days_a:
                        continue
                    order = lunch_order.setdefault((k, d), m.NewBoolVar(f"lorder_{a.key}_{k}_{d}"))
                    lits = [guard, self.rule(f"lunch:{d}", f"lunch:{d}")] + ([lit_a] if lit_a is not None else [])
                    same = [v.assessor[a.key, k]] if K > 1 else []
                    m.Add(ls >= ends[a.key] + gap).OnlyEnforceIf([order, *lits, *same])
                    m.Add(v.start[a.key] >= ls + p.lunch_minutes + gap).OnlyEnforceIf([order.Not(), *lits, *same])

    def _objective(self) -> None:
        if self.explain:
            return
        p, m, v = self.p, self.m, self.v
        w = p.weights
        days = range(len(p.days))
        terms: dict[str, cp_model.LinearExpr] = {}
        # moves from the stored timetable: a move disturbs the assessor and every member
        moved = []
        for s in p.sessions:
            prev = self.previous.get(s.key)
            if prev is None or prev.day >= len(p.days):
                continue
            same = m.NewBoolVar(f"same_{s.key}")
            was_virtual = prev.mode == "virtual"
            m.Add(v.start[s.key] == prev.day * DAY + prev.start).OnlyEnforceIf(same)
            m.Add(v.virtual[s.key] == int(was_virtual)).OnlyEnforceIf(same)
            if prev.room and (s.key, prev.room) in v.room:
                m.Add(v.room[s.key, prev.room] == 1).OnlyEnforceIf(same)
            elif not was_virtual and s.rooms:
                m.Add(same == 0)
            emails = [e for _, e in p.assessors]
            if len(emails) > 1:  # another assessor is a change to the invite too (store.save_timetable)
                if prev.assessor in emails:
                    m.Add(v.assessor[s.key, emails.index(prev.assessor)] == 1).OnlyEnforceIf(same)
                else:
                    m.Add(same == 0)
            v.moved[s.key] = same.Not()
            moved.append((1 + len(s.members)) * same.Not())
            if self.allowed[s.key].contains(prev.day * DAY + prev.start):  # else it must move (a diary, a window)
                m.AddHint(v.start[s.key], prev.day * DAY + prev.start)
            m.AddHint(v.virtual[s.key], int(was_virtual))
        v.move_cost = sum(moved) if moved else 0
        # sessions not in their preferred mode
        switchable = [v.virtual[s.key] for s in p.sessions if s.mode != "virtual" and s.virtual_ok]
        terms["mode"] = sum(switchable) if switchable else 0
        # extra days per department
        spread = []
        for dep in sorted({d for s in p.sessions for d in s.departments}):
            mine = [s for s in p.sessions if dep in s.departments]
            used = []
            for d in days:
                y = m.NewBoolVar(f"dep_{dep}_{d}")
                for s in mine:
                    m.AddImplication(v.day[s.key, d], y)
                used.append(y)
            extra = m.NewIntVar(0, len(p.days) - 1, f"dep_extra_{dep}")
            m.Add(extra == sum(used) - 1)
            spread.append(extra)
        terms["department_days"] = sum(spread) if spread else 0
        # balance: minutes by which any day exceeds the average day plus a tolerance
        total = sum(s.minutes for s in p.sessions)
        target = -(-total // len(p.days)) + w.balance_tolerance
        excess = []
        for d in days:
            over = m.NewIntVar(0, total, f"over_{d}")
            m.Add(over >= sum(s.minutes * v.day[s.key, d] for s in p.sessions) - target)
            excess.append(over)
        terms["balance"] = sum(excess)
        # focus sessions early
        late = [d * v.day[s.key, d] for s in p.sessions if s.focus for d in days if d]
        terms["focus_day"] = sum(late) if late else 0
        v.terms = terms
        v.quality = (
            w.mode * terms["mode"]
            + w.department_days * terms["department_days"]
            + w.balance * terms["balance"]
            + w.focus_day * terms["focus_day"]
        )
        m.Minimize(v.quality)

    @property
    def minimal_change(self) -> bool:
        return bool(self.v.moved) and self.p.weights.move > 0


def _params(seconds: float, workers: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.linearization_level = 2
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 7
    return solver


def solve(
    p: Problem, previous: Mapping[str, Placement] | None = None, *, seconds: float | None = None, workers: int = 4
) -> Timetable:
    """The best timetable found within the time limit; raises TimetableInfeasible saying why there is none."""
    reasons = precheck(p)
    if reasons:
        raise TimetableInfeasible(reasons)
    limit = seconds if seconds is not None else p.solver_seconds
    b = _Builder(p, previous if p.weights.move > 0 else None, explain=False)
    b.build()
    began = clock_time.perf_counter()
    fewest: dict[str, int] = {}
    if b.minimal_change:  # first the fewest (weighted) moves, then the rest with that held
        b.m.Minimize(b.v.move_cost)
        first = _params(max(1.0, limit / 2), workers)
        status = _solved(p, first, first.Solve(b.m), limit)
        fewest = {"move_cost": round(first.ObjectiveValue()), "moves_proven": int(status == cp_model.OPTIMAL)}
        b.m.Add(b.v.move_cost <= fewest["move_cost"])
        b.m.ClearHints()  # the first stage's timetable is a complete, feasible start for the second
        for i in range(len(b.m.Proto().variables)):
            var = b.m.GetIntVarFromProtoIndex(i)
            b.m.AddHint(var, first.Value(var))
        b.m.Minimize(b.v.quality)
    solver = _params(max(1.0, limit - (clock_time.perf_counter() - began)), workers)
    status = _solved(p, solver, solver.Solve(b.m), limit)
    if fewest and not fewest["moves_proven"]:
        status = cp_model.FEASIBLE
    t = _extract(p, b, solver, status, clock_time.perf_counter() - began, previous or {})
    t = replace(t, terms=t.terms | ({"moves_proven": fewest["moves_proven"]} if fewest else {}))
    return links.assign(p, t, previous)


def _solved(p: Problem, solver: cp_model.CpSolver, status: int, limit: float) -> int:
    """The status if a timetable was found; else TimetableInfeasible saying why there is none."""
    if status == cp_model.INFEASIBLE:
        raise TimetableInfeasible(explain(p, seconds=limit))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise TimetableInfeasible(
            [
                f"the solver found no timetable within {limit:g} seconds (status {solver.StatusName(status)}); raise "
                "timetable.solver_seconds"
            ]
        )
    return status


def moved_from(previous: Mapping[str, Placement], t: Timetable) -> list[str]:
    """Sessions of ``t`` whose time, mode, place or assessor differs from ``previous`` (new and dropped ones not
    counted)."""
    return sorted(
        pl.key
        for pl in t.placements
        if pl.key in previous and not (previous[pl.key].same_slot(pl) and previous[pl.key].assessor == pl.assessor)
    )


def _extract(
    p: Problem, b: _Builder, solver: cp_model.CpSolver, status: int, elapsed: float, previous: Mapping[str, Placement]
) -> Timetable:
    v = b.v
    placements = []
    for s in p.sessions:
        start = solver.Value(v.start[s.key])
        day = start // DAY
        virtual = bool(solver.Value(v.virtual[s.key]))
        room = next((r for r in s.rooms if (s.key, r) in v.room and solver.Value(v.room[s.key, r])), None)
        k = next(k for k in range(len(p.assessors)) if solver.Value(v.assessor[s.key, k]))
        placements.append(
            Placement(
                key=s.key,
                day=day,
                start=start - day * DAY,
                end=start - day * DAY + s.minutes,
                mode="virtual" if virtual else s.mode,
                site=None if virtual else s.site,
                room=None if virtual else room,
                assessor=p.assessors[k][1],
            )
        )
    lunches = tuple(
        LunchBreak(p.assessors[k][1], d, solver.Value(ls) - d * DAY, solver.Value(ls) - d * DAY + p.lunch_minutes)
        for (k, d), ls in sorted(v.lunch.items())
    )
    placements.sort(key=lambda x: (x.day, x.start, x.assessor))
    moved = moved_from(previous, Timetable(tuple(placements)))
    weight = {s.key: 1 + len(s.members) for s in p.sessions}
    terms = {name: int(solver.Value(expr)) if not isinstance(expr, int) else expr for name, expr in v.terms.items()}
    return Timetable(
        placements=tuple(placements),
        lunches=lunches,
        status="OPTIMAL" if status == cp_model.OPTIMAL else "FEASIBLE",
        objective=solver.ObjectiveValue(),
        bound=solver.BestObjectiveBound(),
        seconds=round(elapsed, 3),
        moved=tuple(moved),
        terms=terms | {"moves": len(moved), "move_cost": sum(weight[k] for k in moved)},
    )


def _infeasible(p: Problem, keep: list[str], seconds: float) -> bool | None:
    """True when the rules in ``keep`` alone cannot all hold (None: undecided in time)."""
    b = _Builder(p, None, explain=True)
    b.build()
    lits = {name: lit for lit, name in b.v.assumptions.items()}
    b.m.AddAssumptions([lits[k] for k in keep if k in lits])
    status = _params(seconds, 1).Solve(b.m)
    if status == cp_model.INFEASIBLE:
        return True
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False
    return None


def explain(p: Problem, seconds: float = 10.0) -> list[str]:
    """Which rule families conflict, as a minimal set, in words."""
    b = _Builder(p, None, explain=True)
    b.build()
    lits = list(b.v.assumptions)
    b.m.AddAssumptions(lits)
    solver = _params(seconds, 1)
    status = solver.Solve(b.m)
    if status != cp_model.INFEASIBLE:
        return [f"the solver could not prove which rules conflict within {seconds:g} seconds"]
    core = [b.v.assumptions[b.m.GetBoolVarFromProtoIndex(i)] for i in solver.SufficientAssumptionsForInfeasibility()]
    if not core:
        return ["the rules that cannot be relaxed (every session once, one assessor at a time) conflict on their own"]
    deadline = clock_time.perf_counter() + seconds
    for name in list(core):
        if clock_time.perf_counter() > deadline:
            break
        trial = [c for c in core if c != name]
        if _infeasible(p, trial, max(1.0, seconds / 5)):
            core = trial
    return describe(p, core)


def describe(p: Problem, core: list[str]) -> list[str]:
    """Rule-family keys in the quality team's words."""
    out = []
    groups = {s.group_id: s for s in p.sessions}
    for key in sorted(core):
        kind, _, what = key.partition(":")
        if kind == "avail":
            s = groups[what]
            windows = ", ".join(p.day_label(d) + f" {clock(a)}-{clock(b)}" for d, a, b in s.windows)
            out.append(f"group {what!r} ({s.title}) is only available {windows}")
        elif kind == "day":
            d = int(what)
            out.append(
                f"{p.day_label(d)} is full: it runs {clock(p.day_start)}-{clock(p.day_end)} with {p.lunch_minutes} minutes' lunch"
            )
        elif kind == "lunch":
            d = int(what)
            out.append(
                f"the assessor's lunch on {p.day_label(d)} ({p.lunch_minutes} minutes between {clock(p.lunch[0])} and "
                f"{clock(p.lunch[1])})"
            )
        elif kind == "person":
            mine = sorted({s.title for s in p.sessions if what in {e.lower() for e in s.emails}})
            out.append(f"{what} cannot be in two places at once: they are in {', '.join(mine)}")
        elif kind == "room":
            room = p.rooms.get(what)
            users = sorted({s.title for s in p.sessions if what in s.rooms and len(s.rooms) == 1})
            out.append(
                f"room {room.name if room else what} holds one session at a time"
                + (f" ({', '.join(users)} can only use it)" if users else "")
            )
        elif kind == "links":
            n = len(p.joining_links.pool) if p.joining_links else 0
            out.append(
                f"the joining-link pool has {n} link(s) (timetable.joining_links.pool): at most {n} virtual session(s) "
                "can run at the same time; add links to the pool or use a template"
            )
        elif kind == "diary":
            out.append(f"{p.name_of(what)}'s diary: busy {busy_text(p, p.busy_of(what))}")
        elif kind == "travel":
            out.append("the assessor needs travel time between sites (see travel:)")
        else:
            out.append(key)
    return out
