"""The demo council's week with and without people's diaries, and the day-1 picture of docs/timetable.md.

    python -m devtools.demo_week [--picture docs/timetable-day1.png] [--seconds 20]

Plans the demo (first day 15 March 2027, every element in scope) without the diaries, then with them: the
sessions the diaries rule out where they were, and what a minimal-change re-plan from the plan without
diaries moves (docs/timetable.md, "How the diaries shaped the demo's week"). The picture is day 1 of the
plan with diaries, as the published ``timetable-day1.png`` draws it (sessions only, never busy times).
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import date
from pathlib import Path

from reaccreditation.demo import generate
from reaccreditation.organisation.config import load_organisation
from reaccreditation.timetable import pipeline
from reaccreditation.timetable.checker import check
from reaccreditation.timetable.picture import day_png
from reaccreditation.timetable.problem import clock
from reaccreditation.timetable.solver import solve

FIRST_DAY = date(2027, 3, 15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--picture", type=Path, help="write day 1 of the plan with diaries here")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(Path(tmp), FIRST_DAY)
        org = load_organisation(paths["config"])
        diaries = pipeline.read_busy(org, config_dir=paths["config"].parent)
    scope = {"elements": [e.id for e in org.standard.elements], "focus": []}
    plain = pipeline.problem_for(org, scope)
    diaried = pipeline.problem_for(org, scope, busy=diaries["busy"])
    print("sources:", ", ".join(f"{diaried.name_of(e)}: {s}" for e, s in diaries["source_of"].items()))
    for note in diaries["diary_notes"]:
        print("note:", note)
    without = solve(plain, seconds=args.seconds)
    print(f"without diaries: {without.status} in {without.seconds:.1f} s; where the diaries say someone is busy:")
    for line in check(diaried, without):
        print("  ", line)
    previous = {pl.key: pl for pl in without.placements}
    moved = solve(diaried, previous, seconds=args.seconds)
    print(f"minimal change from that plan: {moved.status} in {moved.seconds:.1f} s, {len(moved.moved)} sessions moved:")
    for key in moved.moved:
        a, b = previous[key], moved.placement(key)
        print(
            f"   {diaried.session(key).title}: day {a.day + 1} {clock(a.start)} {a.mode} -> day {b.day + 1} "
            f"{clock(b.start)} {b.mode}"
        )
    fresh = solve(diaried, seconds=args.seconds)
    violations = len(check(diaried, fresh))
    print(f"with diaries from scratch (the demo's plan): {fresh.status} in {fresh.seconds:.1f} s, {violations} violations")
    if args.picture:
        args.picture.write_bytes(day_png(diaried, fresh, 0))
        print("wrote", args.picture)


if __name__ == "__main__":
    main()
