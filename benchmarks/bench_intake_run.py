"""The fixed cost of an evidence_intake run: an idle run (nothing new) and a run with one returned workbook.

    source scripts/env.sh && python benchmarks/bench_intake_run.py [--keep]

Targets: an idle run <= 3 s of task time without importing Great Expectations or pandas; a run with one
workbook <= 10 s of task time including GX validation. Each run is the real DAG (``dag.test()``, the four
tasks fetch_mailbox, sweep_inbox, send_replies, publish_register) in a fresh interpreter, in an isolated
VAR (own AIRFLOW_HOME, project SQLite, SMTP sink on a free port; see ``bench_e2e.py``), at the demo's T-100.
The figure is the time inside the facades the four tasks call (our work, which a worker pays in every run); the
task instances' durations as Airflow records them are printed beside it. In ``dag.test()`` those also
hold the start of Airflow's in-process Execution API (~6 s, on the first task) and its per-task API calls,
which a deployment's api-server and worker pay instead; ``BENCH_PROFILE=/tmp/x`` writes a cProfile of each
run. The one-workbook run then splits the GX part: import, context and checkpoint, validation, as measured inside ``sweep_inbox``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_e2e import ROOT, environment, free_port, shell
from measure import load

HEAVY = ("great_expectations", "pandas", "numpy", "scipy", "openpyxl", "python_calamine")


def child(mode: str) -> None:
    """One evidence_intake run in this fresh process; prints a JSON line."""
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    from reaccreditation.orchestration.context import organisation
    from reaccreditation.settings import data_paths

    org = organisation()
    day = org.due_date(100)
    paths = data_paths()
    paths.inbox.mkdir(parents=True, exist_ok=True)
    if mode == "one":  # one of the demo's returned workbooks, prepared by another process (bench's set-up)
        first = sorted((Path(os.environ["VAR"]) / "returns").glob("*.xlsx"))[0]
        shutil.copyfile(first, paths.inbox / first.name)
    spent: dict[str, float] = {}
    if mode == "one":
        from reaccreditation.intake import gx_validation

        original_import, original_validate = gx_validation._import_gx, gx_validation.Validator.validate

        def timed_import():  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return original_import()
            finally:
                spent["GX import"] = time.perf_counter() - t

        def timed_validate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return original_validate(self, *args, **kwargs)
            finally:
                spent["GX checkpoint run (+ Data Docs page)"] = time.perf_counter() - t

        gx_validation._import_gx = timed_import
        gx_validation.Validator.validate = timed_validate
    before = set(sys.modules)
    dag = DagBag(dag_folder=str(ROOT / "dags" / "evidence_intake.py")).get_dag("evidence_intake")
    work: dict[str, float] = {}
    from reaccreditation.intake import pipeline
    from reaccreditation.mailbox import pipeline as mailbox

    # The facade each task calls (the DAG looks them up at run time): our work, without Airflow's start and finish.
    for task_id, module, name in (
        ("fetch_mailbox", mailbox, "fetch"),
        ("sweep_inbox", pipeline, "sweep_inbox"),
        ("send_replies", pipeline, "answer_senders"),
        ("publish_register", pipeline, "publish_register"),
    ):
        body = getattr(module, name)

        def timed(*args, _body=body, _id=task_id, **kwargs):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return _body(*args, **kwargs)
            finally:
                work[_id] = work.get(_id, 0.0) + time.perf_counter() - t

        setattr(module, name, timed)
    profile = None
    if os.environ.get("BENCH_PROFILE"):  # a cProfile of the run, to find where a task's time goes
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    started = time.perf_counter()
    run = dag.test(logical_date=pendulum.datetime(day.year, day.month, day.day, 12, tz="UTC"))
    wall = time.perf_counter() - started
    if profile is not None:
        profile.disable()
        profile.dump_stats(f"{os.environ['BENCH_PROFILE']}-{mode}.prof")
    tasks = {ti.task_id: (ti.end_date - ti.start_date).total_seconds() for ti in run.get_task_instances() if ti.start_date}
    loaded = sorted(name for name in HEAVY if name in sys.modules and name not in before)
    print(json.dumps({"state": str(run.state), "tasks": tasks, "work": work, "wall": wall, "loaded": loaded, "gx": spent}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--child", choices=("idle", "one"))
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    print(load())
    var = Path(tempfile.mkdtemp(prefix="bench-intake-run-"))
    port = free_port()
    env = environment(var, port)
    (var / "logs").mkdir(parents=True)
    (var / "outbox").mkdir()
    sink = subprocess.Popen(
        ["bash", "-c", f'source scripts/env.sh && exec python -m devtools.smtp_sink --dir "{var / "outbox"}" --port {port}'],
        cwd=ROOT,
        env=env,
        stdout=(var / "logs" / "smtp-sink.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        for n, command in enumerate(
            (
                'mkdir -p "$VAR/logs" && python -m reaccreditation.demo --out "$(dirname "$REACCREDITATION_CONFIG")"',
                "airflow db migrate",
                "python -m reaccreditation.db upgrade",
                'python -c "import sys; from pathlib import Path; from reaccreditation.demo.returns import write_returns; '
                "from reaccreditation.orchestration.context import organisation; "
                'write_returns(organisation(), Path(sys.argv[1]))" "$VAR/returns"',
            )
        ):
            _, _, rc, output = shell(command, env, var / "logs" / f"setup-{n}.log")
            assert rc == 0, output[-3000:]
        results = {}
        for mode in ("idle", "one"):
            command = f"python benchmarks/bench_intake_run.py --child {mode}"
            seconds, rss, rc, output = shell(command, env, var / "logs" / f"{mode}.log")
            assert rc == 0, output[-3000:]
            result = json.loads([line for line in output.splitlines() if line.startswith("{")][-1])
            results[mode] = result | {"process": seconds, "rss": rss}
        for mode, target in (("idle", 3.0), ("one", 10.0)):
            r = results[mode]
            ours, recorded = sum(r["work"].values()), sum(r["tasks"].values())
            label = "idle run (nothing new)" if mode == "idle" else "run with one workbook"
            print(
                f"{label}: our work in the tasks {ours:.2f} s (target <= {target:.0f} s: "
                f"{'met' if ours <= target else 'NOT MET'}); "
                f"task durations as Airflow records them {recorded:.2f} s; dag.test() {r['wall']:.1f} s, whole process "
                f"{r['process']:.1f} s, peak RSS {r['rss']:.0f} MiB; {r['state']}"
            )
            for task, secs in r["tasks"].items():
                print(f"    {task:<18} {r['work'].get(task, 0.0):6.2f} s in its facade, {secs:6.2f} s recorded")
            print(f"    heavy modules loaded by the run: {', '.join(r['loaded']) or 'none'}")
            for what, secs in r["gx"].items():
                print(f"    of which {what}: {secs:.2f} s")
    finally:
        sink.terminate()
        sink.wait(10)
        print(load())
        if args.keep:
            print(f"kept {var}")
        else:
            shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
