"""Arrival -> answer: a department's workbook (by mail or in the inbox folder) until its answer reaches the sink.

Target (issue 25): p50 <= 60 s, p95 <= 120 s on the embedded default. Runs ``airflow standalone`` (scheduler,
triggerer, dag-processor, api-server; SQLite, LocalExecutor) in an isolated temporary VAR with free ports,
the real Dovecot of the mailbox tests, the SMTP sink of ``scripts/run`` on a free port (never 8025). Only
``evidence_intake`` is unpaused. Replies with one demo returned workbook each go into the mailbox (IMAP
APPEND, as the council's mail server delivers them) and a few workbooks are dropped into the inbox folder,
spaced apart; each is timed until its answer arrives at the sink (mail: by In-Reply-To; a drop: by its
department's contact). The baseline is the former 15-minute schedule, computed: its wait is uniform over 15
minutes, added to the same measured run time.

    source scripts/env.sh && python benchmarks/bench_arrival.py [--mails 6] [--drops 2] [--spacing 35] [--keep]
"""

from __future__ import annotations

import argparse
import email
import imaplib
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from email import policy
from pathlib import Path

from bench_e2e import ROOT, environment, free_port, shell
from measure import load

sys.path.insert(0, str(ROOT))
from tests.mailbox.dovecot import Dovecot  # noqa: E402  (the mailbox tests' server, started the same way)

P50, P95, CRON = 60.0, 120.0, 900.0


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def wait_for(what: str, ok, timeout: float, every: float = 1.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := ok():
            return result
        time.sleep(every)
    raise SystemExit(f"timed out waiting for {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=6)
    parser.add_argument("--drops", type=int, default=2)
    parser.add_argument("--spacing", type=float, default=35.0, help="seconds between two arrivals")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    print("before:", load(), flush=True)
    var = Path(tempfile.mkdtemp(prefix="bench-arrival-"))
    sink_port, api_port = free_port(), free_port()
    dovecot = Dovecot(Path(tempfile.mkdtemp(prefix="dovecot-bench-"))).start()  # its own folder: Dovecot's users must reach it
    login, password = dovecot.new_user()
    imap_conn = {"conn_type": "imap", "host": "127.0.0.1", "port": dovecot.port, "login": login, "password": password}
    env = environment(var, sink_port) | {
        "AIRFLOW_CONN_IMAP_DEFAULT": json.dumps(imap_conn | {"extra": {"use_ssl": False}}),
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"http://localhost:{api_port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{api_port}/execution/",
    }
    outbox, logs = var / "outbox", var / "logs"
    outbox.mkdir(parents=True)
    logs.mkdir()
    print(f"isolated VAR {var}; SMTP sink :{sink_port}, API :{api_port}, Dovecot :{dovecot.port}", flush=True)
    procs: list[subprocess.Popen] = []

    def start(name: str, command: str) -> None:
        procs.append(
            subprocess.Popen(
                ["bash", "-c", f"source scripts/env.sh && exec {command}"],
                cwd=ROOT,
                env=env,
                stdout=(logs / f"{name}.log").open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    try:
        for n, command in enumerate(
            [
                'mkdir -p "$REACCREDITATION_OUTBOX" && '
                'python -m reaccreditation.demo --out "$(dirname "$REACCREDITATION_CONFIG")"',
                "airflow db migrate",
                "python -m reaccreditation.db upgrade",
                'airflow pools set smtp_relay 2 "SMTP sessions"',
                "airflow dags reserialize",
            ]
        ):
            seconds, _, rc, output = shell(command, env, logs / f"setup-{n}.log")
            if rc:
                raise SystemExit(f"set-up failed: {command}\n{output[-2000:]}")
        start("smtp-sink", f'python -m devtools.smtp_sink --dir "{outbox}" --port {sink_port}')
        shell("airflow dags pause --treat-dag-id-as-regex --yes '.*'", env, logs / "pause.log")
        start("standalone", "airflow standalone")

        def healthy() -> bool:
            try:
                return urllib.request.urlopen(f"http://localhost:{api_port}/api/v2/monitor/health", timeout=2).status == 200
            except OSError:
                return False

        wait_for("the API server", healthy, 300, 2)
        shell("airflow dags unpause evidence_intake", env, logs / "unpause.log")
        db = var / "airflow" / "airflow.db"

        def watching() -> bool:
            with sqlite3.connect(db) as c:
                return c.execute("select count(*) from trigger where triggerer_id is not null").fetchone()[0] >= 2

        wait_for("the triggerer to run both watchers", watching, 180, 1)
        print("Airflow up, both watchers running in the triggerer", flush=True)

        sys.path.insert(0, str(ROOT / "include"))
        config = var / "demo" / "organisation.yaml"  # where scripts/env.sh puts it for this VAR
        os.environ["REACCREDITATION_CONFIG"] = str(config)
        from reaccreditation.organisation.config import load_organisation
        from tests.mailbox.mails import contact, raw, reply, workbook

        org = load_organisation(config)
        everyone = [d.id for d in org.departments if d.evidence_contacts]
        departments, burst = everyone[: args.mails + args.drops], everyone[args.mails + args.drops :]
        inbox = var / "data" / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        pending: dict[str, tuple[str, float]] = {}  # match key -> (kind, sent)
        plan = [("mail" if i % 4 != 3 or args.drops == 0 else "drop", d) for i, d in enumerate(departments)]
        drops = [d for k, d in plan if k == "drop"]
        for d in departments:  # exactly --drops drops, spread through the run
            if len(drops) < args.drops and ("mail", d) in plan:
                plan[plan.index(("mail", d))] = ("drop", d)
                drops.append(d)
        started = time.monotonic()
        for i, (kind, dept) in enumerate(plan):
            time.sleep(max(0.0, started + i * args.spacing - time.monotonic()))
            data = workbook(org, dept, seed=i + 1)
            if kind == "mail":
                msg = reply(org, dept, contact(org, dept), attachments=[(f"{dept}-evidence.xlsx", data)])
                c = imaplib.IMAP4("127.0.0.1", dovecot.port)
                c.login(login, password)
                c.append("INBOX", None, imaplib.Time2Internaldate(time.time()), raw(msg))
                c.logout()
                pending[str(msg["Message-ID"])] = ("mail", time.time())
            else:
                tmp = inbox / f".{dept}.tmp"
                tmp.write_bytes(data)
                tmp.rename(inbox / f"{dept}-evidence.xlsx")
                pending[contact(org, dept)[1]] = ("drop", time.time())
            print(f"  {time.monotonic() - started:6.1f} s  {kind} from {dept}", flush=True)

        latencies: dict[str, list[float]] = {"mail": [], "drop": []}
        seen: set[Path] = set()

        def answered() -> bool:
            for path in sorted(outbox.glob("*.eml")):
                if path in seen:
                    continue
                seen.add(path)
                msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
                to = [a.addr_spec for a in msg["To"].addresses] if msg["To"] else []
                key = msg["In-Reply-To"] if msg["In-Reply-To"] in pending else next((t for t in to if t in pending), None)
                if key:
                    kind, sent = pending.pop(key)
                    latencies[kind].append(path.stat().st_mtime - sent)
            return not pending

        try:
            wait_for("every answer", answered, 300, 0.5)
        except SystemExit as missing:
            print(f"{missing}: {len(pending)} without an answer")
        every = latencies["mail"] + latencies["drop"]

        def runs_so_far() -> int:
            with sqlite3.connect(db) as c:
                return c.execute("select count(*) from dag_run where dag_id='evidence_intake'").fetchone()[0]

        # A burst: the remaining departments' workbooks dropped at once (one or two runs expected, not one each).
        before_burst, burst_sent = runs_so_far(), time.time()
        for i, dept in enumerate(burst):
            tmp = inbox / f".{dept}.tmp"
            tmp.write_bytes(workbook(org, dept, seed=100 + i))
            tmp.rename(inbox / f"{dept}-evidence.xlsx")
            pending[contact(org, dept)[1]] = ("burst", burst_sent)
        latencies["burst"] = []
        try:
            wait_for("the burst's answers", answered, 300, 0.5)
        except SystemExit as missing:
            print(f"{missing}: {len(pending)} without an answer")
        time.sleep(10)  # a second run the burst queued would have started by now
        burst_runs = runs_so_far() - before_burst
        with sqlite3.connect(db) as c:
            runs = c.execute("select run_type, count(*) from dag_run where dag_id='evidence_intake' group by run_type").fetchall()
            durations = [
                r[0]
                for r in c.execute(
                    "select (julianday(end_date) - julianday(start_date)) * 86400 from dag_run "
                    "where dag_id='evidence_intake' and end_date is not null"
                )
            ]
        p50, p95 = quantile(every, 0.5), quantile(every, 0.95)
        print(f"\n{len(every)} arrivals answered ({len(latencies['mail'])} mails, {len(latencies['drop'])} drops)")
        for kind, values in latencies.items():
            if values and kind != "burst":
                print(f"  {kind:5} " + ", ".join(f"{v:.1f}" for v in sorted(values)) + " s")
        print(f"arrival -> answer: p50 {p50:.1f} s, p95 {p95:.1f} s, max {max(every):.1f} s")
        print(f"  target p50 <= {P50:.0f} s, p95 <= {P95:.0f} s: {'met' if p50 <= P50 and p95 <= P95 else 'NOT MET'}")
        run_time = statistics.median(durations) if durations else 0.0
        if burst:
            print(
                f"burst of {len(burst)} files dropped at once: {burst_runs} run(s), all answered within "
                f"{max(latencies['burst'], default=float('nan')):.1f} s"
            )
        print(f"evidence_intake runs: {dict(runs)}; median run {run_time:.1f} s (start to end, as Airflow records it)")
        print(
            f"baseline, the 15-minute schedule alone (wait uniform over {CRON / 60:.0f} min + the measured p50): "
            f"p50 {CRON * 0.5 + p50:.0f} s, p95 {CRON * 0.95 + p50:.0f} s: {(CRON * 0.5 + p50) / p50:.1f}x the p50 here"
        )
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        dovecot.stop()
        shutil.rmtree(dovecot.folder, ignore_errors=True)
        print("after:", load())
        if args.keep:
            print(f"kept {var}")
        else:
            shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
