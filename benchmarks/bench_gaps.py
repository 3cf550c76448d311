"""Gap analysis at scale: 1,000 synthetic departments x 57 CSE elements (target: analyse() < 2 s).

Every department owns every element and returns one evidence row per element (57,000 rows), with a
seeded mix of stale, self-rated partial, missing rows, Compliance Plus claims and unreturned workbooks,
and five years of outcomes. Prints the time of each step (best of --repeat runs).

    source scripts/env.sh && python benchmarks/bench_gaps.py [--departments 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from measure import load, peak_rss_mib, rss_line

from reaccreditation.demo import build_config, build_history
from reaccreditation.gaps.analysis import analyse
from reaccreditation.gaps.gap_register import write_register
from reaccreditation.organisation.config import parse_organisation

FIRST_DAY = date(2027, 3, 15)
TODAY = date(2026, 12, 1)


def synthetic(departments: int, seed: int = 7):
    rng = random.Random(seed)
    config = build_config(FIRST_DAY)
    elements = [e for d in config["departments"] for e in d["elements"]]
    elements = list(dict.fromkeys(elements))
    config["departments"] = [
        {
            "id": f"dept-{i:04d}",
            "name": f"Department {i:04d}",
            "head": {"name": f"Head {i}", "email": f"head{i}@example.org"},
            "evidence_contacts": [{"name": f"Contact {i}", "email": f"contact{i}@example.org"}],
            "elements": elements,
        }
        for i in range(departments)
    ]
    org = parse_organisation(config, source="benchmark")
    window = org.assessment.evidence_window_start
    evidence = []
    for d in org.departments:
        for e in d.elements:
            roll = rng.random()
            if roll < 0.02:
                continue  # missing
            when = window - timedelta(days=rng.randint(1, 300)) if roll < 0.07 else window + timedelta(days=rng.randint(1, 250))
            rating = "Partial Compliance" if rng.random() < 0.03 else "Compliance"
            claim = rng.random() < 0.01
            evidence.append(
                {
                    "department_id": d.id,
                    "element_id": e,
                    "title": "Evidence",
                    "evidence_type": "Document",
                    "evidence_date": when,
                    "self_rating": rating,
                    "cplus_claim": claim,
                    "cplus_justification": "Exceptional" if claim and rng.random() < 0.7 else None,
                    "is_current": True,
                }
            )
    submissions = [
        {"department_id": d.id, "assessment_year": FIRST_DAY.year, "status": "accepted"}
        for d in org.departments
        if rng.random() < 0.9
    ]
    outcomes = build_history(FIRST_DAY)
    return org, evidence, submissions, outcomes


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    print(load())
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    org, evidence, submissions, outcomes = synthetic(args.departments)
    print(
        f"setup: {args.departments} departments x {len(org.standard.elements)} elements, {len(evidence):,} evidence rows, "
        f"{len(submissions)} returned workbooks, {len(outcomes)} outcomes ({time.perf_counter() - started:.2f} s)"
    )
    seconds, snapshot = best(lambda: analyse(org, evidence, submissions, outcomes, TODAY), args.repeat)
    o = snapshot.overall  # type: ignore[attr-defined]
    print(f"analyse(): {seconds:.3f} s (target < 2 s) -> ready {o.ready}, at risk {o.at_risk}, gap {o.gaps}, score {o.score}")
    seconds, payload = best(snapshot.to_dict, args.repeat)  # type: ignore[attr-defined]
    print(f"to_dict() with the gap register rows: {seconds:.3f} s -> {len(payload['gaps']):,} rows")  # type: ignore[index]
    with tempfile.TemporaryDirectory() as tmp:
        seconds, _ = best(lambda: write_register(Path(tmp) / "gap_register.xlsx", payload), 1)  # type: ignore[arg-type]
        size = (Path(tmp) / "gap_register.xlsx").stat().st_size
    print(f"write_register() xlsx: {seconds:.3f} s ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
    print(f"whole benchmark process {rss_line(peak_rss_mib())}")
    print(load())
