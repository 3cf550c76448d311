"""A large organisation on this machine: 300 departments, ~30,000 evidence rows, without the DAGs.

Backs docs/scaling.md. The organisation is the demo council's config with its departments replaced by
``--departments`` synthetic ones, each owning ``--elements`` of the 57 CSE elements (every element is
owned) and returning ``--items`` evidence items per element. Each stage runs the project's own functions
in a fresh child process (its own imports, its own peak RSS), in the order a season runs them:

1. request workbooks: ``RequestWorkbook(org, dept).to_bytes()`` for every department (what
   ``evidence_requests`` attaches), written to disk;
2. (preparation, not a stage of ours) the departments fill them: ``demo.returns.fill`` into the inbox;
3. intake sweep: ``intake.pipeline.Sweep`` over the whole inbox (safety checks, read, Great Expectations,
   rules, register in SQLite, archive), GX context opening reported separately;
4. gap analysis: ``gaps.store.load_inputs`` from the register, ``gaps.analyse``, ``to_dict`` and the
   gap register workbook.

    source scripts/env.sh && python benchmarks/bench_scale.py [--departments 300] [--elements 20] [--items 5]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from measure import in_child, load, rss_line

ROOT = Path(__file__).resolve().parents[1]
FIRST_DAY = date(2027, 3, 15)


def config(departments: int, elements_each: int, first_day: date = FIRST_DAY) -> dict[str, Any]:
    from reaccreditation.demo import build_config
    from reaccreditation.standards import load_standard

    cfg = build_config(first_day)
    ids = [e.id for e in load_standard("cse").elements]
    cfg["departments"] = [
        {
            "id": f"dept-{i:04d}",
            "name": f"Department {i:04d}",
            "head": {"name": f"Head {i}", "email": f"head{i}@example.org"},
            "evidence_contacts": [{"name": f"Contact {i}", "email": f"contact{i}@example.org"}],
            "elements": [ids[(i * elements_each + k) % len(ids)] for k in range(elements_each)],
        }
        for i in range(departments)
    ]
    return cfg


def organisation(cfg: dict[str, Any]):  # type: ignore[no-untyped-def]
    from reaccreditation.organisation.config import parse_organisation

    return parse_organisation(cfg, source="bench_scale")


def write_requests(cfg: dict[str, Any], out: str) -> dict[str, Any]:
    from reaccreditation.files import write_atomic
    from reaccreditation.requests.workbook import RequestWorkbook

    org = organisation(cfg)
    size = 0
    for dept in org.departments:
        data = RequestWorkbook(org, dept).to_bytes()
        write_atomic(Path(out) / f"{dept.id}.xlsx", data)
        size += len(data)
    return {"workbooks": len(org.departments), "bytes": size}


def write_returns(cfg: dict[str, Any], requests: str, inbox: str, items: int, confirm: str | None = None) -> dict[str, Any]:
    """Each department fills the workbook it was sent; ``confirm`` answers the rows pre-filled with last year's
    evidence (their first items land on those rows), as a department must (an intake rule)."""
    from reaccreditation.demo.returns import fill, good_rows
    from reaccreditation.files import write_atomic

    org = organisation(cfg)
    rng = random.Random(11)
    start, today = org.assessment.evidence_window_start, org.return_deadline
    rows_total = 0
    for dept in org.departments:
        rows = []
        # One self-rating per element (an intake rule), several items each. An element is only as ready as its
        # weakest department, and ~100 departments share each one: 1 in 200 self-rates partial, not the demo's 15%.
        base = good_rows(org, dept, rng, partial_share=0.005)
        for k in range(items):
            for row in base:
                rows.append(
                    row
                    | {
                        "evidence_title": f"{row['evidence_title'][:150]} #{k + 1}",
                        "evidence_date": start + timedelta(days=rng.randrange(1, (today - start).days)),
                        "confirm": confirm,
                    }
                )
        request = (Path(requests) / f"{dept.id}.xlsx").read_bytes()
        write_atomic(Path(inbox) / f"{dept.id}-evidence-{org.assessment.year}.xlsx", fill(request, rows))
        rows_total += len(rows)
    return {"files": len(org.departments), "rows": rows_total}


def sweep(cfg: dict[str, Any], work: str) -> dict[str, Any]:
    import time

    from reaccreditation.db import make_engine, upgrade
    from reaccreditation.intake.gx_validation import Validator
    from reaccreditation.intake.pipeline import Sweep, inbox_files
    from reaccreditation.settings import Paths

    org = organisation(cfg)
    paths = Paths(Path(work) / "data")
    url = f"sqlite:///{Path(work) / 'register.db'}"
    upgrade(url)
    t = time.perf_counter()
    validator = Validator(Path(work) / "gx")
    gx = time.perf_counter() - t
    t = time.perf_counter()
    outcomes = Sweep(org, make_engine(url), paths, lambda: validator, today=org.return_deadline, run_id="bench-scale").run(
        inbox_files(paths.inbox)
    )
    seconds = time.perf_counter() - t
    statuses: dict[str, int] = {}
    for o in outcomes:
        statuses[str(o.status)] = statuses.get(str(o.status), 0) + 1
    return {
        "gx_open": gx,
        "sweep": seconds,
        "files": len(outcomes),
        "rows_accepted": sum(o.rows_accepted for o in outcomes),
        "rows_rejected": sum(o.rows_rejected for o in outcomes),
        "statuses": statuses,
    }


def gaps(cfg: dict[str, Any], work: str) -> dict[str, Any]:
    import time

    from reaccreditation.db import make_engine
    from reaccreditation.demo import build_history
    from reaccreditation.gaps.analysis import analyse
    from reaccreditation.gaps.gap_register import write_register
    from reaccreditation.gaps.store import load_inputs

    org = organisation(cfg)
    t = time.perf_counter()
    inputs = load_inputs(make_engine(f"sqlite:///{Path(work) / 'register.db'}"), org.assessment.year)
    loaded = time.perf_counter() - t
    t = time.perf_counter()
    snapshot = analyse(org, inputs["evidence"], inputs["submissions"], build_history(FIRST_DAY), org.return_deadline)
    analysed = time.perf_counter() - t
    t = time.perf_counter()
    payload = snapshot.to_dict()
    write_register(Path(work) / "gap_register.xlsx", payload)
    written = time.perf_counter() - t
    o = snapshot.overall
    return {
        "rows": len(inputs["evidence"]),
        "load": loaded,
        "analyse": analysed,
        "write": written,
        "gap_rows": len(payload["gaps"]),
        "ready": o.ready,
        "at_risk": o.at_risk,
        "gaps": o.gaps,
        "score": o.score,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=300)
    parser.add_argument("--elements", type=int, default=20, help="elements owned by each department")
    parser.add_argument("--items", type=int, default=5, help="evidence items per owned element")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    print(load())
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        cfg = config(args.departments, args.elements)
        requests, inbox = work / "requests", work / "data" / "inbox"
        requests.mkdir()
        inbox.mkdir(parents=True)
        shutil.copytree(ROOT / "great_expectations", work / "gx", ignore=shutil.ignore_patterns("uncommitted"))
        print(
            f"{args.departments} departments x {args.elements} elements x {args.items} items "
            f"= {args.departments * args.elements * args.items:,} evidence rows expected"
        )
        print(f"{'stage':44} {'seconds':>8} {'peak RSS MiB':>13}")
        peaks = []

        result, seconds, rss = in_child(write_requests, cfg, str(requests))
        peaks.append(rss)
        print(
            f"{'1. request workbooks':44} {seconds:8.1f} {rss:13,.0f}  {result['workbooks']} workbooks, "
            f"{result['bytes'] / 1e6:.1f} MB, {seconds / result['workbooks'] * 1000:.0f} ms each"
        )

        result, seconds, rss = in_child(write_returns, cfg, str(requests), str(inbox), args.items)
        print(
            f"{'   (preparation: departments fill them)':44} {seconds:8.1f} {rss:13,.0f}  {result['files']} files, "
            f"{result['rows']:,} rows"
        )
        rows = result["rows"]

        result, seconds, rss = in_child(sweep, cfg, str(work))
        peaks.append(rss)
        print(
            f"{'2. intake sweep (incl. GX context open)':44} {seconds:8.1f} {rss:13,.0f}  GX open {result['gx_open']:.1f} s, "
            "sweep "
            f"{result['sweep']:.1f} s = {result['rows_accepted'] / result['sweep']:,.0f} rows/s; {result['files']} files "
            f"{result['statuses']}, {result['rows_accepted']:,} rows accepted, {result['rows_rejected']} rejected"
        )
        if result["rows_accepted"] != rows:
            print(f"   WARNING: {rows - result['rows_accepted']} rows not registered")

        result, seconds, rss = in_child(gaps, cfg, str(work))
        peaks.append(rss)
        print(
            f"{'3. gap analysis (load, analyse, register)':44} {seconds:8.1f} {rss:13,.0f}  {result['rows']:,} register rows: "
            "load "
            f"{result['load']:.2f} s, analyse {result['analyse']:.2f} s, to_dict + xlsx {result['write']:.2f} s; "
            f"{result['gap_rows']:,} gap rows; ready {result['ready']}, at risk {result['at_risk']}, gap {result['gaps']}, score "
            f"{result['score']}"
        )
        print(f"largest stage {rss_line(max(peaks))}")
        print(load())
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
