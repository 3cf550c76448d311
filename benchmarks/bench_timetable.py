"""Timetable solver benchmark: solve time and objective gap for 40, 100 and 200 sessions, with and without people's
diaries; a one-diary re-plan.

    python benchmarks/bench_timetable.py [--seconds 60] [--workers 4] [--replan-only | --diaries-only]

40 is the demo council itself; 100 and 200 scale it: the demo's groups repeated over a longer
assessment (15 and 25 days, as for a large county council or a multi-assessor visit) with the same
kinds of availability, sites, rooms and travel. Every solution is vetted by the independent checker.
Targets: 40 sessions optimal in under 10 s; 100 and 200 feasible within 60 s.

With diaries: the demo's groups filled up to their size with named staff, so its 40 sessions have 60
participants, each with a synthetic diary (seeded: 0-3 meetings of 30 minutes to 3 hours a day, as
aware datetimes through ``busy.busy_minutes``), plus the assessor's (a call most days); no session left
without a free slot, the changeover kept around busy times (a meeting of its people near its windows, the
assessor's too, is dropped until it has one). 200 sessions: five such weeks over
25 days, 300 participants' diaries and the assessor's.

The re-plan row: the 40-session timetable with diaries is stored, then one person's diary gains a
meeting all day on the day their session was planned. The minimal-change re-plan (previous timetable
given) is compared, in the same run, with a from-scratch solve of the same changed problem: sessions
moved (each one an update email to its people) and time.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "include"))

from measure import load, peak_rss_mib, rss_line  # noqa: E402

from reaccreditation.demo import generate  # noqa: E402
from reaccreditation.organisation.config import load_organisation  # noqa: E402
from reaccreditation.timetable.busy import busy_minutes, free_starts, merge  # noqa: E402
from reaccreditation.timetable.checker import check  # noqa: E402
from reaccreditation.timetable.problem import Problem, build_problem  # noqa: E402
from reaccreditation.timetable.solver import moved_from, solve  # noqa: E402

FIRST_DAY = date(2027, 3, 15)


def demo_problem() -> Problem:
    with tempfile.TemporaryDirectory() as tmp:
        org = load_organisation(generate(Path(tmp), FIRST_DAY)["config"])
    return build_problem(org, scope=[e.id for e in org.standard.elements], focus=["1.1.1", "3.2.1", "4.2.2"])


def scaled(base: Problem, copies: int) -> Problem:
    """``copies`` weeks of the demo back to back: sessions, people, windows and diaries shifted by five days per
    copy (the assessors are the same people throughout)."""
    days = len(base.days)
    assessors = {e.lower() for _, e in base.assessors}
    busy: dict[str, list[tuple[int, int, int]]] = {}
    for c in range(copies):
        for email, spans in base.busy.items():
            who = email if email in assessors else email.replace("@", f"+w{c}@")
            busy.setdefault(who, []).extend((d + c * days, a, b) for d, a, b in spans)
    sessions = []
    for c in range(copies):
        for s in base.sessions:
            sessions.append(
                replace(
                    s,
                    key=f"{s.key}-w{c}",
                    group_id=f"{s.group_id}-w{c}",
                    members=tuple((n, e.replace("@", f"+w{c}@")) for n, e in s.members),
                    windows=tuple((d + c * days, a, b) for d, a, b in s.windows),
                    departments=tuple(f"{d}-w{c}" for d in s.departments),
                )
            )
    return replace(
        base,
        days=tuple(base.days[0] + timedelta(days=d) for d in range(days * copies)),
        sessions=tuple(sessions),
        busy={e: tuple(v) for e, v in busy.items()},
    )


def with_diaries(base: Problem, participants: int = 60, seed: int = 27) -> Problem:
    """The demo with its groups filled up to their size (``participants`` people in all) and everyone's diary."""
    rng = random.Random(seed)
    sessions, known = [], {e.lower() for s in base.sessions for e in s.emails}
    extra = participants - len(known)
    for s in base.sessions:
        add = min(extra, max(0, s.people - len(s.members)))
        new = tuple((f"Staff {s.group_id} {n}", f"staff{n}.{s.group_id}@kestrelvale.example.org") for n in range(1, add + 1))
        extra -= add
        sessions.append(replace(s, members=s.members + new))
    p = replace(base, sessions=tuple(sessions))
    people = sorted({e.lower() for s in p.sessions for e in s.emails})
    assert len(people) == participants, f"{len(people)} participants, wanted {participants}"
    tz = ZoneInfo(p.timezone)

    def at(day: int, minute: int) -> datetime:
        d = p.days[day]
        return datetime(d.year, d.month, d.day, tzinfo=tz) + timedelta(minutes=minute)

    diaries: dict[str, list[tuple[datetime, datetime]]] = {}
    for email in people:
        for d in range(len(p.days)):
            for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
                start, length = rng.randrange(p.day_start, p.day_end - 30, 15), rng.choice((30, 45, 60, 90, 120, 180))
                diaries.setdefault(email, []).append((at(d, start), at(d, start + length)))
    for _, email in p.assessors:  # the assessor's own calls
        diaries[email.lower()] = [(at(d, 8 * 60 + 30), at(d, 9 * 60 + 30)) for d in range(len(p.days)) if rng.random() < 0.6]
    p = replace(p, busy=busy_minutes(diaries, p.days, p.timezone, p.day_start, p.day_end))
    while blocked := [s for s in p.sessions if not _free(p, s)]:  # drop a meeting that leaves a session no slot
        s = blocked[0]
        c = p.changeover  # a meeting this close to a window narrows it (busy.free_starts)
        near = {
            e: [x for x in p.busy_of(e) if any(d == x[0] and a - c < x[2] and x[1] < b + c for d, a, b in s.windows)]
            for e in dict.fromkeys([e.lower() for e in s.emails] + [e.lower() for _, e in p.assessors])
        }
        victim = rng.choice([e for e, spans in near.items() if spans])
        drop = rng.choice(near[victim])
        p = replace(p, busy={**p.busy, victim: tuple(x for x in p.busy_of(victim) if x != drop)})
    return p


def _free(p: Problem, s) -> bool:  # type: ignore[no-untyped-def]
    emails = {e.lower() for e in s.emails} | {e.lower() for _, e in p.assessors}
    return bool(
        free_starts(s.windows, [x for e in emails for x in p.busy_of(e)], s.minutes, p.day_start, p.day_end, p.slot, p.changeover)
    )


def main() -> None:
    print(load())
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--early", type=float, default=10.0, help="short limit showing how soon a feasible timetable exists")
    parser.add_argument("--replan-only", action="store_true", help="only the one-diary-change re-plan row")
    parser.add_argument("--diaries-only", action="store_true", help="only the rows with people's diaries")
    args = parser.parse_args()
    base = demo_problem()
    diaried = with_diaries(base)
    replan_row(diaried, args.workers)
    if args.replan_only:
        return
    print(
        f"{'sessions':>8} {'days':>4} {'diaries':>7} {'status':>9} {'seconds':>8} {'objective':>9} {'bound':>9} {'gap':>7}"
        "  violations"
    )
    rows = [("40", diaried), ("200", scaled(diaried, 5))]
    if not args.diaries_only:
        rows = [("40", base), ("100", _hundred(base)), ("200", scaled(base, 5)), *rows]
    for name, p in rows:
        limit = 10.0 if name == "40" else args.seconds
        t = solve(p, seconds=limit, workers=args.workers)
        print(
            f"{len(p.sessions):>8} {len(p.days):>4} {len(p.busy):>7} {t.status:>9} {t.seconds:>8.2f} {t.objective:>9.0f} "
            f"{t.bound:>9.0f} {t.gap:>7.1%}  {len(check(p, t))}"
        )
    # The solver uses its whole limit to improve a feasible timetable; how soon is there one at all?
    early = [scaled(diaried, 5)] if args.diaries_only else [_hundred(base), scaled(base, 5), scaled(diaried, 5)]
    for p in early:
        t = solve(p, seconds=args.early, workers=args.workers)
        print(
            f"{len(p.sessions):>8} sessions, {len(p.busy)} diaries, with a {args.early:g} s limit: {t.status} in "
            f"{t.seconds:.2f} s, gap {t.gap:.1%}, {len(check(p, t))} violations"
        )


def busy_all_day(p: Problem, email: str, day: int) -> Problem:
    """One person's diary change: a meeting all day on ``day``, so none of their sessions can be held then."""
    return replace(p, busy={**p.busy, email.lower(): merge((*p.busy_of(email), (day, p.day_start, p.day_end)))})


def replan_row(base: Problem, workers: int) -> None:
    """The minimal-change re-plan after one diary change against a from-scratch solve of the same problem."""
    first = solve(base, seconds=10, workers=workers)
    previous = {pl.key: pl for pl in first.placements}
    # the first member of the first staff group free all week who is in no other group
    s = next(
        s
        for s in base.sessions
        if s.kind == "staff" and len({d for d, _, _ in s.windows}) == len(base.days)
        for e in s.emails
        if sum(e in x.emails for x in base.sessions) == 1
    )
    email = next(e for e in s.emails if sum(e in x.emails for x in base.sessions) == 1)
    changed = busy_all_day(base, email, previous[s.key].day)
    print(f"re-plan: {email} ({s.key}) busy all day {previous[s.key].day + 1}")
    print(f"{'re-plan':>14} {'status':>9} {'seconds':>8} {'moved':>6} {'people told':>11}  violations")
    for name, t in (
        ("minimal change", solve(changed, previous, seconds=10, workers=workers)),
        ("from scratch", solve(changed, seconds=10, workers=workers)),
    ):
        moved = moved_from(previous, t)
        told = len({e for k in moved for e in changed.session(k).emails})
        print(f"{name:>14} {t.status:>9} {t.seconds:>8.2f} {len(moved):>6} {told:>11}  {len(check(changed, t))}")


def _hundred(base: Problem) -> Problem:
    """100 sessions: three demo weeks (15 days) with the last 20 sessions dropped."""
    three = scaled(base, 3)
    return replace(three, sessions=three.sessions[:100])


if __name__ == "__main__":
    main()
    print(f"whole benchmark process {rss_line(peak_rss_mib())}")
    print(load())
