"""Intake throughput: N returned workbooks x R rows checked, read, validated (GX) and registered.

    source scripts/env.sh && python benchmarks/bench_intake.py [--files 100] [--rows 200]

Target: 100 x 200 in under 30 s (GX import reported separately; it happens once per task), and within 4x
of the raw-read limit measured in the same run: python-calamine alone reading every file's evidence sheet
(bytes already in memory; unzipping them is shown too). The naive baseline reads the same files with openpyxl
and inserts row by row (no safety check, no validation): the ratio shows what the safety checks, calamine and
one batched GX run cost or save. The sweep's time is split by step (wall time inside each function, the
same run), so the remainder over the limit can be read off.

Each sweep runs in its own child process over copies of the same files. ``--baseline ROOT`` sweeps them
again, in the same run, with the code of another checkout (``ROOT/include`` first on the path, e.g. main's),
alternating with this checkout's ``--repeat`` times; the best of each is compared. ``BENCH_PROFILE=FILE``
writes a cProfile of this checkout's (last) sweep to FILE; ``--detail`` also times the parts of the register
and of "other" (wall time, so a profile's overhead does not distort them).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from measure import load, peak_rss_mib, rss_line
from openpyxl import Workbook, load_workbook
from sqlalchemy import insert

from reaccreditation.db import make_engine, upgrade
from reaccreditation.db.schema import evidence, submission
from reaccreditation.demo import generate
from reaccreditation.organisation.config import Organisation, load_organisation
from reaccreditation.settings import Paths
from reaccreditation.standards import load_standard
from reaccreditation.workbook import layout

KEYS = ("element_id", "evidence_title", "evidence_type", "link", "evidence_date", "owner", "self_rating", "cplus_claim", "notes")


def workbook(org: Organisation, dept_index: int, n_rows: int, seed: int) -> bytes:
    rng = random.Random(seed)
    dept = org.departments[dept_index % len(org.departments)]
    wb = Workbook()
    ws = wb.active
    ws.title = layout.EVIDENCE_SHEET
    ws.append([layout.COLUMN_BY_KEY[k].heading(load_standard("cse")) for k in KEYS])
    start = org.assessment.evidence_window_start
    for i in range(n_rows):
        ws.append(
            [
                dept.elements[i % len(dept.elements)],
                f"Evidence item {i} for {dept.name}",
                rng.choice(layout.EVIDENCE_TYPES),
                f"https://intranet.example.org/{dept.id}/{i}",
                start + timedelta(days=rng.randrange(1, 200)),
                "A. Person",
                "Compliance",
                "No",
                "Benchmark row",
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def naive(files: list[Path], url: str) -> float:
    """openpyxl read + one INSERT per row."""
    engine = make_engine(url)
    t = time.perf_counter()
    for n, path in enumerate(files):
        ws = load_workbook(path)[layout.EVIDENCE_SHEET]
        with engine.begin() as conn:
            sub = conn.execute(
                insert(submission).values(
                    sha256=f"naive{n}",
                    original_name=path.name,
                    source="bench",
                    received_at=datetime.now(UTC),
                    status="accepted",
                    rows_total=0,
                    rows_accepted=0,
                    rows_rejected=0,
                    version=1,
                )
            ).inserted_primary_key[0]
            for r, row in enumerate(ws.iter_rows(min_row=2, values_only=True), 2):
                v = dict(zip(KEYS, row, strict=False))
                conn.execute(
                    insert(evidence).values(
                        assessment_year=2027,
                        department_id="bench",
                        element_id=v["element_id"],
                        title=v["evidence_title"],
                        evidence_type=v["evidence_type"],
                        link=v["link"],
                        evidence_date=v["evidence_date"].date(),
                        owner=v["owner"],
                        self_rating=v["self_rating"],
                        cplus_claim=False,
                        notes=v["notes"],
                        submission_id=sub,
                        sheet="Evidence",
                        row_number=r,
                        is_current=True,
                        created_at=datetime.now(UTC),
                    )
                )
    return time.perf_counter() - t


def read_limit(files: list[Path]) -> tuple[float, float, int]:
    """python-calamine alone: every file's evidence sheet as Python rows; and unzipping every member."""
    import zipfile

    from python_calamine import CalamineWorkbook

    blobs = [f.read_bytes() for f in files]
    best_read = best_unzip = float("inf")
    rows = 0
    for _ in range(3):  # the best of three: the machine is shared
        t = time.perf_counter()
        rows = sum(
            len(CalamineWorkbook.from_filelike(io.BytesIO(b)).get_sheet_by_name(layout.EVIDENCE_SHEET).to_python()) for b in blobs
        )
        best_read = min(best_read, time.perf_counter() - t)
        t = time.perf_counter()
        for b in blobs:
            with zipfile.ZipFile(io.BytesIO(b)) as zf:
                for name in zf.namelist():
                    zf.read(name)
        best_unzip = min(best_unzip, time.perf_counter() - t)
    return best_read, best_unzip, rows


STEPS = (  # (label, module, function): wall time spent inside each during the sweep
    ("safety checks (zip, XML scan)", "reaccreditation.intake.pipeline", "check_file"),
    ("read (calamine + cells)", "reaccreditation.intake.pipeline", "read_return"),
    ("GX checkpoint (+ Data Docs page)", "reaccreditation.intake.gx_validation", "Validator.validate"),
    ("rows -> frame/records", "reaccreditation.intake.frame", "records"),
    ("rules", "reaccreditation.intake.rules", "check"),
    ("documents + link check", "reaccreditation.intake.pipeline", "Sweep._documents"),
    ("register (SQL)", "reaccreditation.intake.store", "record"),
    ("archive (write + fsync)", "reaccreditation.intake.pipeline", "Sweep._archive"),
)
DETAIL = (  # --detail: parts of the steps above and of "other", shown below the split (they overlap it)
    ("  of other: links checked at once", "reaccreditation.intake.pipeline", "Sweep._check_links"),
    ("  of other: current elements", "reaccreditation.intake.pipeline", "Sweep._current_elements"),
    ("  of other: known submission", "reaccreditation.intake.store", "known_submission"),
    ("  of other: sender look-up", "reaccreditation.intake.pipeline", "sent_by"),
    ("  of other: changed cells", "reaccreditation.intake.changes", "frame_changes"),
    ("  of other: pandas frame", "reaccreditation.intake.frame", "evidence_frame"),
    ("  of register: change summary", "reaccreditation.intake.store", "_changes"),
    ("  of register: next version", "reaccreditation.intake.store", "_next_version"),
)


def timed_steps(steps: tuple[tuple[str, str, str], ...] = STEPS) -> dict[str, float]:
    """Wrap each step's function to add up its wall time (nested steps are not double-counted here)."""
    import importlib

    spent = dict.fromkeys((label for label, _, _ in steps), 0.0)
    for label, module, name in steps:
        owner: Any = importlib.import_module(module)
        *path, attr = name.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, attr)

        def wrapper(*args: Any, _f: Any = original, _label: str = label, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return _f(*args, **kwargs)
            finally:
                spent[_label] += time.perf_counter() - t

        setattr(owner, attr, wrapper)
    return spent


def sweep_child(source: Path, work: Path) -> dict[str, Any]:
    """One sweep of copies of ``source``'s files, with whatever ``reaccreditation`` is first on the path."""
    from reaccreditation.intake.gx_validation import Validator
    from reaccreditation.intake.pipeline import Sweep, inbox_files

    org = load_organisation(generate(work / "demo", date(2027, 3, 15))["config"], today=date(2027, 1, 20))
    shutil.copytree(
        Path(__file__).resolve().parents[1] / "great_expectations", work / "gx", ignore=shutil.ignore_patterns("uncommitted")
    )
    t = time.perf_counter()
    validator = Validator(work / "gx")
    gx_import = time.perf_counter() - t
    paths = Paths(work / "data")
    paths.inbox.mkdir(parents=True)
    for f in sorted(source.iterdir()):
        shutil.copyfile(f, paths.inbox / f.name)
    url = f"sqlite:///{work / 'intake.db'}"
    upgrade(url)
    sweep = Sweep(org, make_engine(url), paths, lambda: validator, today=date(2027, 1, 20), run_id="bench")
    spent = timed_steps()
    detail = timed_steps(DETAIL) if os.environ.get("BENCH_DETAIL") else {}
    profile_to = os.environ.get("BENCH_PROFILE")
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t = time.perf_counter()
    outcomes = sweep.run(inbox_files(paths.inbox))
    elapsed = time.perf_counter() - t
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile_to)
    return {
        "elapsed": elapsed,
        "gx_import": gx_import,
        "spent": spent,
        "detail": detail,
        "registered": sum(o.rows_accepted for o in outcomes),
        "statuses": sorted({o.status for o in outcomes}),
        "code": str(Path(sys.modules["reaccreditation"].__file__ or "").parents[1]),
    }


def run_sweep(
    source: Path, work: Path, include: Path | None = None, profile: str | None = None, detail: bool = False
) -> dict[str, Any]:
    """``sweep_child`` in a fresh interpreter; ``include``: another checkout's ``include/`` first on the path."""
    env = dict(os.environ)
    env.pop("BENCH_PROFILE", None)
    env.pop("BENCH_DETAIL", None)
    if detail:
        env["BENCH_DETAIL"] = "1"
    if profile:
        env["BENCH_PROFILE"] = profile
    if include is not None:
        env["PYTHONPATH"] = f"{include}:{env.get('PYTHONPATH', '')}"
    work.mkdir(parents=True)
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(source), str(work)], env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def each(runs: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['elapsed']:.2f} s ({r['load']})" for r in runs)


def main() -> None:
    print(load())
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--baseline", type=Path, help="another checkout (e.g. /work/main) whose sweep to time beside this one")
    parser.add_argument("--repeat", type=int, default=1, help="sweeps of each code, alternating (the best is kept)")
    parser.add_argument("--detail", action="store_true", help="also time the parts of the register and of 'other'")
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(sweep_child(*args.child)))
        return
    work = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    try:
        org = load_organisation(generate(work / "demo", date(2027, 3, 15))["config"], today=date(2027, 1, 20))
        source = work / "source"
        source.mkdir()
        for i in range(args.files):
            (source / f"{org.departments[i % len(org.departments)].id}-bench-{i:03d}.xlsx").write_bytes(
                workbook(org, i, args.rows, i)
            )
        files = sorted(source.iterdir())
        total_rows = args.files * args.rows

        before = read_limit(files)  # measured before and after the sweeps: the fastest (the strictest limit) counts
        ours: list[dict[str, Any]] = []
        theirs: list[dict[str, Any]] = []
        for n in range(args.repeat):
            loads = load()
            ours.append(run_sweep(source, work / f"ours{n}", profile=os.environ.get("BENCH_PROFILE"), detail=args.detail))
            ours[-1]["load"] = loads
            if args.baseline:
                loads = load()
                theirs.append(run_sweep(source, work / f"baseline{n}", include=args.baseline.resolve() / "include"))
                theirs[-1]["load"] = loads
        for r in ours + theirs:
            assert r["registered"] == total_rows, r["statuses"]
        best = min(ours, key=lambda r: r["elapsed"])
        elapsed = best["elapsed"]

        after = read_limit(files)
        limit, unzip, limit_rows = min(before[0], after[0]), min(before[1], after[1]), after[2]

        naive_url = f"sqlite:///{work / 'naive.db'}"
        upgrade(naive_url)
        baseline = naive(files, naive_url)

        print(f"intake: {args.files} workbooks x {args.rows} rows = {total_rows} rows")
        print(f"  GX context open (import + checkpoint, once per task): {best['gx_import']:.1f} s")
        print(
            f"  sweep (safety + calamine + GX + rules + register + archive): {elapsed:.2f} s "
            f"= {args.files / elapsed:.1f} files/s, {total_rows / elapsed:,.0f} rows/s (target < 30 s: "
            f"{'met' if elapsed < 30 else 'MISSED'}); code {best['code']}" + (f"; each: {each(ours)}" if len(ours) > 1 else "")
        )
        if theirs:
            other = min(theirs, key=lambda r: r["elapsed"])
            print(
                f"  baseline sweep, same files, code {other['code']}: {other['elapsed']:.2f} s "
                f"({other['elapsed'] / elapsed:.2f}x this checkout's; {other['elapsed'] / limit:.1f}x the raw-read limit); "
                f"each: {each(theirs)}"
            )
        print(
            f"  naive baseline (openpyxl read + row-by-row insert, no checks): {baseline:.1f} s "
            f"= {args.files / baseline:.1f} files/s, {total_rows / baseline:,.0f} rows/s"
        )
        print(f"  ratio naive / intake: {baseline / elapsed:.2f}x")
        ratio = elapsed / limit
        print(
            f"  raw-read limit (python-calamine alone, {limit_rows:,} rows incl. headers, best of 3 before / 3 after the "
            f"sweeps: {before[0]:.2f} / {after[0]:.2f} s): {limit:.2f} s "
            f"({limit_rows / limit:,.0f} rows/s); unzipping every member {unzip:.2f} s"
        )
        print(f"  sweep / raw-read limit: {ratio:.1f}x (target within 4x: {'met' if ratio <= 4 else 'MISSED'})")
        print("  where the sweep's time goes" + (" (this checkout | baseline):" if theirs else ":"))
        for label, secs in best["spent"].items():
            theirs_secs = f"  | {min(theirs, key=lambda r: r['elapsed'])['spent'][label]:6.2f} s" if theirs else ""
            print(f"    {label:<34} {secs:6.2f} s  {secs / limit:5.1f}x limit{theirs_secs}")
        rest = elapsed - sum(best["spent"].values())
        theirs_rest = ""
        if theirs:
            other = min(theirs, key=lambda r: r["elapsed"])
            theirs_rest = f"  | {other['elapsed'] - sum(other['spent'].values()):6.2f} s"
        print(f"    {'other (identification, moves, ...)':<34} {rest:6.2f} s  {rest / limit:5.1f}x limit{theirs_rest}")
        for label, secs in best["detail"].items():
            print(f"    {label:<34} {secs:6.2f} s  {secs / limit:5.1f}x limit")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
    if "--child" not in sys.argv:
        print(f"whole benchmark process {rss_line(peak_rss_mib())}")
        print(f"largest sweep process {rss_line(peak_rss_mib(children=True))}")
        print(load())
