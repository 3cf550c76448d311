"""The production stack, proven natively: ``scripts/stack`` starts PostgreSQL, Redis, the Celery worker,
api-server, scheduler, dag-processor and triggerer exactly as docker-compose.yaml wires them, and the
reaccreditation DAGs run through Airflow's REST API on it, as the IT team's deployment would run them.

Add a DAG to STACK_DAGS (and, if it leaves traces worth checking, a function to CHECKS) when it joins
the chain; each runs to success through the API and on the Celery worker. In CI (CI=true) a missing
prerequisite fails the test; locally it skips.
"""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from devtools.smtp_sink import read_outbox
from devtools.stack_env import read_stack_env
from reaccreditation.db.schema import outbound_message, run_record

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "scripts" / "stack"

# The DAGs triggered on the stack, in chain order; REACCREDITATION_STACK_DAGS=a,b,c overrides the list.
STACK_DAGS = [d for d in os.environ.get("REACCREDITATION_STACK_DAGS", "organisation_summary").split(",") if d]

START_TIMEOUT = 240  # seconds for scripts/stack start (databases, migrations, six services)
PARSE_TIMEOUT = 90  # seconds until the dag-processor has serialised a DAG
RUN_TIMEOUT = 180  # seconds for one DAG run to finish


def _missing_prerequisite(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"production stack test cannot run in CI: {reason}")
    pytest.skip(reason)


class Stack:
    """A started stack: its environment (stack.env), REST API with a JWT, its databases and outbox."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.api = env["STACK_API_URL"]
        self.token = ""

    def request(self, method: str, path: str, body: dict | None = None, auth: bool = True) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.api + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if auth:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                return err.code, json.loads(raw)
            except ValueError:
                return err.code, {"detail": raw.decode(errors="replace")}

    def login(self, user: str, password: str) -> tuple[int, dict]:
        status, body = self.request("POST", "/auth/token", {"username": user, "password": password}, auth=False)
        if status in (200, 201):
            self.token = body["access_token"]
        return status, body

    def log_tails(self, lines: int = 25) -> str:
        out = []
        for log in sorted((self.folder / "logs").glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {log.name}\n" + "\n".join(tail))
        return "\n".join(out)

    def project_engine(self):  # type: ignore[no-untyped-def]
        return create_engine(self.env["STACK_PROJECT_DB_URL"])

    def outbox(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in read_outbox(Path(self.env["STACK_OUTBOX"]))
        ]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not (ROOT / ".venv" / "bin" / "airflow").exists():
        _missing_prerequisite("no .venv with Airflow: run scripts/setup")
    if os.geteuid() != 0:  # scripts/stack installs PostgreSQL and Redis with apt-get, as root
        for what, found in (
            ("redis-server", shutil.which("redis-server")),
            ("PostgreSQL", list(Path("/usr/lib/postgresql").glob("*/bin"))),
        ):
            if not found:
                _missing_prerequisite(f"{what} is not installed and this user cannot install it")
    folder = tmp_path_factory.mktemp("stack")
    env = os.environ | {"STACK_USE_JOB_SCHEDULE": "False"}  # only the runs this test triggers
    env.pop("REACCREDITATION_CONFIG", None)  # the stack generates its own demo council
    started = time.monotonic()
    try:
        result = subprocess.run(
            [str(STACK), "start", str(folder)], env=env, capture_output=True, text=True, timeout=START_TIMEOUT
        )
        if result.returncode != 0:
            pytest.fail(f"scripts/stack start failed ({result.returncode}):\n{result.stderr[-4000:]}")
        stack = Stack(folder, read_stack_env(folder / "stack.env"))
        print(f"stack up in {time.monotonic() - started:.0f}s")
        yield stack
    finally:
        groups = [int(p.read_text().split()[0]) for p in (folder / "pids").glob("*.pid")]
        subprocess.run([str(STACK), "stop", str(folder)], env=env, capture_output=True, timeout=120)
        assert not [g for g in groups if _group_alive(g)], "scripts/stack stop left processes running"


def _group_alive(pgid: int) -> bool:
    """Any live (non-zombie) process left in the service's process group."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:  # state, ppid, pgrp
            return True
    return False


def test_api_requires_a_token_and_the_admin_logs_in(stack: Stack) -> None:
    status, _ = stack.request("GET", "/api/v2/dags", auth=False)
    assert status in (401, 403)
    status, _ = stack.login(stack.env["AIRFLOW_ADMIN_USER"], "not-the-password")
    assert status == 401
    status, body = stack.login(stack.env["AIRFLOW_ADMIN_USER"], stack.env["AIRFLOW_ADMIN_PASSWORD"])
    assert status == 201, body
    status, body = stack.request("GET", "/api/v2/monitor/health")
    assert status == 200 and body["metadatabase"]["status"] == "healthy", body
    assert body["scheduler"]["status"] == "healthy" and body["dag_processor"]["status"] == "healthy", body
    assert body["triggerer"]["status"] == "healthy", body


def _trigger_and_wait(stack: Stack, dag_id: str) -> str:
    """Unpause, trigger and wait for one run; returns its run id. Failures carry task states and logs."""
    deadline = time.monotonic() + PARSE_TIMEOUT
    while (status := stack.request("GET", f"/api/v2/dags/{dag_id}")[0]) != 200:
        assert time.monotonic() < deadline, f"{dag_id} not parsed after {PARSE_TIMEOUT}s (HTTP {status})\n{stack.log_tails()}"
        time.sleep(2)
    status, body = stack.request("GET", "/api/v2/importErrors")
    errors = [e for e in body.get("import_errors", []) if e["filename"].endswith(f"/{dag_id}.py")]
    assert status == 200 and not errors, errors

    status, body = stack.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    assert status == 200 and body["is_paused"] is False, body
    run_id = f"stack__{dag_id}__{datetime.now(UTC):%Y%m%dT%H%M%S}"
    status, body = stack.request(
        "POST", f"/api/v2/dags/{dag_id}/dagRuns", {"dag_run_id": run_id, "logical_date": datetime.now(UTC).isoformat()}
    )
    assert status == 200, body

    deadline = time.monotonic() + RUN_TIMEOUT
    state = "queued"
    while state not in ("success", "failed"):
        assert time.monotonic() < deadline, f"{dag_id} run still {state} after {RUN_TIMEOUT}s\n{stack.log_tails()}"
        time.sleep(2)
        status, body = stack.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        assert status == 200, body
        state = body["state"]
    _, tis = stack.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
    task_states = {t["task_id"]: t["state"] for t in tis["task_instances"]}
    assert state == "success", f"{dag_id} {state}: {task_states}\n{stack.log_tails()}"

    # Every task that ran went through Redis to the Celery worker, not a local executor (skipped ones never run).
    worker_log = (stack.folder / "logs" / "celery-worker.log").read_text(errors="replace")
    ran = [task_id for task_id, task_state in task_states.items() if task_state == "success"]
    assert ran, f"{dag_id}: no task ran: {task_states}"
    for task_id in ran:
        assert f"run_id={run_id}/task_id={task_id}/" in worker_log, f"{task_id} was not executed by the Celery worker"
    return run_id


def check_organisation_summary(stack: Stack, run_id: str) -> None:
    """The run recorded itself and sent one summary through the SMTP connection to the quality team."""
    with stack.project_engine().connect() as conn:
        kinds = conn.execute(select(run_record.c.kind).where(run_record.c.run_id == run_id)).scalars().all()
        sent = conn.execute(
            select(outbound_message.c.status, outbound_message.c.message_id, outbound_message.c.subject).where(
                outbound_message.c.run_id == run_id
            )
        ).all()
    assert kinds == ["organisation_summary"]
    assert [row.status for row in sent] == ["sent"]
    delivered = [m for m in stack.outbox() if m["Message-ID"] == sent[0].message_id]
    assert len(delivered) == 1, f"message {sent[0].message_id} not in the SMTP sink"
    msg = delivered[0]
    assert msg["Subject"] == sent[0].subject and "season summary" in msg["Subject"]
    assert "priya.raman@kestrelvale.example.org" in msg["To"]
    summary = Path(stack.env["REACCREDITATION_DATA"]) / "output"
    assert list(summary.glob("*/summary/summary.html")), "summary.html not published in the data folder"


CHECKS: dict[str, Callable[[Stack, str], None]] = {"organisation_summary": check_organisation_summary}


@pytest.mark.parametrize("dag_id", STACK_DAGS)
def test_dag_runs_on_the_celery_stack(stack: Stack, dag_id: str) -> None:
    if not stack.token:
        stack.login(stack.env["AIRFLOW_ADMIN_USER"], stack.env["AIRFLOW_ADMIN_PASSWORD"])
    run_id = _trigger_and_wait(stack, dag_id)
    if dag_id in CHECKS:
        CHECKS[dag_id](stack, run_id)
