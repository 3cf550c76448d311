"""A season at scale on the production stack: requests -> returns -> intake -> gaps -> readiness pack.

Backs docs/scaling.md. ``scripts/stack`` starts the native CeleryExecutor stack (PostgreSQL, Redis, api-server,
scheduler, dag-processor, triggerer, one Celery worker, an SMTP sink) in ``var/bench-season-<N>/`` of this
checkout, on an organisation of ``--departments`` synthetic departments (``bench_scale.config``, each owning
``--elements`` CSE elements, last year's evidence history regenerated for them). The real DAGs are triggered
through the REST API, one after another, each at the logical date of its stage, and waited for:

1. ``evidence_requests`` at T-120: a workbook and email per evidence contact, in batches of ``requests.batch_size``;
2. (preparation, the departments' part, not the pipeline's) every department fills the workbook it received
   (``demo.returns.fill``, ``--items`` evidence items per element) into the stack's inbox;
3. ``evidence_intake`` at T-50 (the return deadline): one sweep of every returned workbook, an answer to each;
4. ``gap_analysis`` at T-30;
5. ``readiness_pack`` at T-30, signed off over the REST API (``hitlDetails``) as the approver would.

It prints the wall time of each stage (trigger to the run's end) and the run's own duration, the tasks it ran,
the emails the sink received, the slowest task instances (``task_instance``: end - start), the databases'
size (``pg_database_size``), the peak RSS of every process of the Celery worker (sampled from /proc every
0.5 s: the worker, its pool processes and each task's supervisor and task process) and the load average
before and after. The stack is stopped at the end (``--keep`` leaves it running).

    source scripts/env.sh && python benchmarks/bench_season.py --departments 100 [--elements 20] [--items 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from bench_scale import ROOT, config, write_returns
from measure import in_child, load

from devtools.stack_env import read_stack_env

STACK = ROOT / "scripts" / "stack"
APPROVER = "admin"  # the stack's one Airflow user answers the pack's sign-off (assigned through the config)
ANSWER_AFTER_SECONDS = 10  # as tests/approvals/test_live_airflow.py: a person never answers within a second
STOP_AT = float("inf")  # time.monotonic() after which no stage is waited for (--stop-after)


def first_day(today: date) -> date:
    """A Monday three to four weeks ahead: T-120 to T-30 are in the past, so every stage's run can start."""
    ahead = today + timedelta(days=14)
    return ahead + timedelta(days=(7 - ahead.weekday()) % 7)


class Api:
    def __init__(self, base: str) -> None:
        self.base, self.token = base, ""

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(errors="replace")

    def login(self, user: str, password: str) -> None:
        status, body = self.call("POST", "/auth/token", {"username": user, "password": password})
        assert status in (200, 201), body
        self.token = body["access_token"]


def kind_of(title: str) -> str:
    """A Celery worker process by its title (Airflow's setproctitle), without the task's ids."""
    if title.startswith("airflow worker --"):
        return "task " + title.split()[-1]  # the task instance's id: named from the database at the end
    if title.startswith(("airflow supervisor:", "airflow task supervisor:")):
        return "task supervisor (airflow supervisor: <task instance>)"
    return " ".join(title.split()[:3])


@dataclass
class RssSampler:
    """Peak VmRSS of the Celery worker and every process below it (pool, supervisors, tasks), from /proc."""

    root: int
    interval: float = 0.5
    peaks: dict[tuple[int, str], float] = field(default_factory=dict)  # (pid, kind) -> MiB
    peak_total: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def _sample(self) -> None:
        parents: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
        ours = {self.root}
        grew = True
        while grew:  # every descendant of the worker, whatever process group it is in
            below = {pid for pid, ppid in parents.items() if ppid in ours} - ours
            ours |= below
            grew = bool(below)
        total = 0.0
        for pid in ours:
            proc = Path("/proc") / str(pid)
            try:
                status = (proc / "status").read_text().splitlines()
                rss = next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))
                title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            except (OSError, StopIteration, ValueError):
                continue
            total += rss
            key = (pid, kind_of(title))
            self.peaks[key] = max(self.peaks.get(key, 0.0), rss)
        self.peak_total = max(self.peak_total, total)

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self, task_names: dict[str, str]) -> list[str]:
        """One line per kind of process; task processes grouped by their task (``task_names``: id -> dag.task)."""
        kinds: dict[str, list[float]] = defaultdict(list)
        for (_, kind), rss in self.peaks.items():
            if kind.startswith("task "):
                kind = f"task process {task_names.get(kind[5:], '(not a task of this season)')}"
            kinds[kind].append(rss)
        lines = [f"Celery worker and its processes: {len(self.peaks)} seen, peak of their sum {self.peak_total:,.0f} MiB"]
        for kind, values in sorted(kinds.items(), key=lambda kv: -max(kv[1])):
            median = sorted(values)[len(values) // 2]
            lines.append(f"  {max(values):6,.0f} MiB peak, median {median:,.0f} ({len(values)} process(es)): {kind}")
        return lines


def trigger_and_wait(api: Api, dag_id: str, when: date, timeout: float, on_waiting: Any = None) -> dict[str, Any]:
    """Unpause, trigger at ``when`` (noon UTC) and wait; returns the run with its wall time from the trigger."""
    deadline = time.monotonic() + 120
    while api.call("GET", f"/api/v2/dags/{dag_id}")[0] != 200:
        assert time.monotonic() < deadline, f"{dag_id} not parsed"
        time.sleep(2)
    status, body = api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    assert status == 200, body
    run_id = f"bench_season__{dag_id}__{when}"
    logical = datetime(when.year, when.month, when.day, 12, tzinfo=UTC).isoformat()
    started = time.monotonic()
    status, body = api.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"dag_run_id": run_id, "logical_date": logical})
    assert status == 200, body
    deadline = min(started + timeout, STOP_AT)
    while True:
        time.sleep(2)
        status, run = api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        assert status == 200, run
        if run["state"] in ("success", "failed"):
            break
        if on_waiting:
            on_waiting(run_id)
        assert time.monotonic() < deadline, f"{dag_id} still {run['state']} after {timeout:.0f}s"
    run["wall"] = time.monotonic() - started
    run["tasks"] = []
    while True:  # the API gives at most 100 a page
        _, page = api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100&offset={len(run['tasks'])}")
        run["tasks"] += page["task_instances"]
        if not page["task_instances"] or len(run["tasks"]) >= page["total_entries"]:
            break
    return run


class PackApprover:
    """Signs off the pack once its approval task waits: the chosen option and the form, as the UI sends them."""

    def __init__(self, api: Api) -> None:
        self.api, self.answered, self.seen_at = api, False, 0.0

    def __call__(self, run_id: str) -> None:
        from reaccreditation.approvals.decisions import APPROVE

        if self.answered:
            return
        url = f"/api/v2/dags/readiness_pack/dagRuns/{run_id}/taskInstances/approve_pack/-1/hitlDetails"
        status, detail = self.api.call("GET", url)
        if status != 200:
            return
        self.seen_at = self.seen_at or time.monotonic()
        if time.monotonic() - self.seen_at < ANSWER_AFTER_SECONDS:
            return
        form = {k: v["value"] for k, v in (detail.get("params") or {}).items()}
        status, body = self.api.call("PATCH", url, {"chosen_options": [APPROVE], "params_input": form})
        assert status == 200, body
        self.answered = True


def pg(env: dict[str, str], sql: str, database: str = "airflow") -> list[list[str]]:
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", env["STACK_PG_PORT"], "-U", "postgres", "-d", database, "-At", "-F", "\t", "-c", sql],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def run_line(label: str, run: dict[str, Any]) -> str:
    own = (datetime.fromisoformat(run["end_date"]) - datetime.fromisoformat(run["start_date"])).total_seconds()
    states = defaultdict(int)
    for t in run["tasks"]:
        states[t["state"]] += 1
    return f"{label:38} {run['wall']:8.1f} s wall ({own:.1f} s from the run's start to end), {run['state']}: {dict(states)}"


def rest_of_season(api: Api, cfg: dict[str, Any], org: Any, data: Path, t: dict[int, date], items: int, runs: list) -> float:
    """Stages 2-5; returns the seconds the departments took to fill their workbooks."""
    requests = data / "output" / str(org.assessment.year) / "requests"
    filled, seconds, peak = in_child(write_returns, cfg, str(requests), str(data / "inbox"), items, "Replaced")
    print(
        f"{'2. (departments fill their workbooks)':38} {seconds:8.1f} s, {filled['files']} files, "
        f"{filled['rows']:,} rows, peak {peak:,.0f} MiB (not the pipeline's)",
        flush=True,
    )
    runs.append(("3. evidence_intake @ T-50", trigger_and_wait(api, "evidence_intake", t[50], 3600)))
    print(run_line(*runs[-1]), flush=True)
    runs.append(("4. gap_analysis @ T-30", trigger_and_wait(api, "gap_analysis", t[30], 1800)))
    print(run_line(*runs[-1]), flush=True)
    approver = PackApprover(api)
    runs.append(("5. readiness_pack @ T-30", trigger_and_wait(api, "readiness_pack", t[30], 1800, approver)))
    print(run_line(*runs[-1]) + f" (incl. the {ANSWER_AFTER_SECONDS} s before the sign-off)", flush=True)
    return seconds


def main() -> None:  # noqa: PLR0915 (one benchmark, read top to bottom)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=100)
    parser.add_argument("--elements", type=int, default=20)
    parser.add_argument("--items", type=int, default=2, help="evidence items each department returns per element")
    parser.add_argument("--batch-size", type=int, default=None, help="requests.batch_size (default: the config's, 25)")
    parser.add_argument("--requests-only", action="store_true", help="only stage 1 (to compare batch sizes)")
    parser.add_argument("--stop-after", type=float, default=0, help="minutes after which the season stops and reports")
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    args = parser.parse_args()
    global STOP_AT  # noqa: PLW0603 (one run per process)
    STOP_AT = time.monotonic() + args.stop_after * 60 if args.stop_after else STOP_AT
    from reaccreditation.demo import build_history, generate, write_evidence_history
    from reaccreditation.organisation.config import parse_organisation

    print(f"before: {load()}")
    folder = ROOT / "var" / f"bench-season-{args.departments}"
    demo = folder / "demo"
    day1 = first_day(date.today())
    generate(demo, day1)
    cfg = config(args.departments, args.elements, day1)
    cfg["quality_team"]["members"][0]["airflow_user"] = APPROVER
    if args.batch_size:
        cfg["requests"] = {"batch_size": args.batch_size}
    (demo / "organisation.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False, width=120), encoding="utf-8")
    write_evidence_history(demo, cfg, build_history(day1))
    org = parse_organisation(cfg)
    t = {n: org.due_date(n) for n in (120, 50, 30)}
    contacts = sum(len(d.evidence_contacts) for d in org.departments)
    print(
        f"{args.departments} departments x {args.elements} elements, {contacts} contacts, batches of {org.requests.batch_size}; "
        f"assessment {day1}: T-120 {t[120]}, T-50 {t[50]}, T-30 {t[30]}"
    )

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "REACCREDITATION_"))}
    env |= {"REACCREDITATION_CONFIG": str(demo / "organisation.yaml"), "STACK_USE_JOB_SCHEDULE": "False"}
    stack_dir = folder / "stack"
    started = time.monotonic()
    result = subprocess.run([str(STACK), "start", str(stack_dir)], env=env, capture_output=True, text=True, timeout=600)
    if result.returncode:
        print(result.stderr[-4000:])
        raise SystemExit(f"scripts/stack start failed ({result.returncode})")
    print(f"stack up in {time.monotonic() - started:.0f} s: {stack_dir}")
    senv = read_stack_env(stack_dir / "stack.env")
    api = Api(senv["STACK_API_URL"])
    api.login(senv["AIRFLOW_ADMIN_USER"], senv["AIRFLOW_ADMIN_PASSWORD"])
    worker = int((stack_dir / "pids" / "celery-worker.pid").read_text().split()[0])
    data = Path(senv["REACCREDITATION_DATA"])
    outbox = Path(senv["STACK_OUTBOX"])
    runs: list[tuple[str, dict[str, Any]]] = []
    try:
        with RssSampler(worker) as rss:
            season = time.monotonic()
            print(f"start of the season: {load()}")
            seconds, sent = 0.0, 0
            try:
                runs.append(("1. evidence_requests @ T-120", trigger_and_wait(api, "evidence_requests", t[120], 3600)))
                print(run_line(*runs[-1]), flush=True)
                sent = len(list(outbox.glob("*.eml")))
                if not args.requests_only:
                    seconds = rest_of_season(api, cfg, org, data, t, args.items, runs)
            except AssertionError as stopped:  # a stage out of time: report what the season did so far
                print(f"STOPPED: {stopped}", flush=True)
                runs.append(("stopped", {"state": "stopped"}))
            total = time.monotonic() - season
        print(f"end of the season: {load()}")
        time.sleep(1)
        emails = len(list(outbox.glob("*.eml")))
        print(
            f"season wall time {total:.1f} s (incl. the departments' {seconds:.1f} s); "
            f"{sent} request emails, {emails - sent} emails after them (answers, pack)"
        )
        tasks = pg(senv, "SELECT id, dag_id, task_id FROM task_instance")
        names = {ti_id: f"{dag_id}.{task_id}" for ti_id, dag_id, task_id in tasks}
        for line in rss.summary(names):
            print(line)
        [[rows, files]] = pg(senv, "SELECT (SELECT count(*) FROM evidence), (SELECT count(*) FROM submission)", "reaccreditation")
        print(f"register: {int(rows):,} evidence rows from {files} submissions")
        databases = "'airflow', 'reaccreditation'"
        sizes = pg(senv, f"SELECT datname, pg_database_size(datname) FROM pg_database WHERE datname IN ({databases})")
        print("database size: " + ", ".join(f"{name} {int(size) / 2**20:,.1f} MiB" for name, size in sizes))
        rows = pg(
            senv,
            "SELECT dag_id, task_id, map_index, EXTRACT(EPOCH FROM end_date - start_date), try_number FROM task_instance "
            "WHERE run_id LIKE 'bench_season__%' AND end_date IS NOT NULL ORDER BY 4 DESC LIMIT 6",
        )
        print("slowest task instances (task_instance.end_date - start_date):")
        for dag_id, task_id, index, secs, tries in rows:
            print(f"  {float(secs):7.1f} s  {dag_id}.{task_id}{'' if index == '-1' else f'[{index}]'} (try {tries})")
        per_task = pg(
            senv,
            "SELECT dag_id, task_id, count(*), sum(EXTRACT(EPOCH FROM end_date - start_date)), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM end_date - start_date)) FROM task_instance "
            "WHERE run_id LIKE 'bench_season__%' AND end_date IS NOT NULL GROUP BY 1, 2 ORDER BY 4 DESC",
        )
        print("task time by task (count, sum, median):")
        for dag_id, task_id, count, secs, median in per_task:
            print(f"  {dag_id}.{task_id}: {count} x, {float(secs):.1f} s, median {float(median):.2f} s")
        failed = [label for label, run in runs if run["state"] != "success"]
        if failed:
            raise SystemExit(f"not every stage succeeded: {failed}; logs in {stack_dir / 'logs'}")
    finally:
        if not args.keep:
            subprocess.run([str(STACK), "stop", str(stack_dir)], env=env, capture_output=True, timeout=300)
        print(f"after: {load()}")


if __name__ == "__main__":
    main()
