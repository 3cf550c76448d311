"""End to end: the demo season of ``scripts/run`` (requests -> intake -> gaps -> review round -> timetable -> pack ->
portfolio), timed.

Target: the whole chain in under 3 minutes of wall time. It runs the same commands as ``scripts/run``
(``python -m reaccreditation.demo``, ``airflow db migrate``, ``python -m reaccreditation.db upgrade``,
the SMTP sink, then its stages as the script lists them, read from it) in an
isolated temporary VAR: its own AIRFLOW_HOME and SQLite metadata DB, its own project SQLite, its own
SMTP sink on a free port (never 8025), so it neither touches ``var/`` nor another engineer's run. The
timetable and pack DAGs ask for sign-off; ``scripts/run_dags.py`` approves as the config's first approver
(docs/approvals.md). Each stage is one child process; its peak RSS comes from ``wait4``.

    source scripts/env.sh && python benchmarks/bench_e2e.py [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from measure import load, rss_line

ROOT = Path(__file__).resolve().parents[1]
TARGET = 180.0


def season_stages(script: str) -> list[tuple[str, str]]:
    """The season's stages as ``scripts/run`` replays them (its ``echo "N. ..."`` lines and the command
    after each), read from the script itself so this benchmark cannot fall out of step with it."""
    stages: list[tuple[str, str]] = []
    for line in script.splitlines():
        line = line.strip()
        if heading := re.fullmatch(r'echo "(\d+\. [^"]+)"', line):
            stages.append((heading[1], ""))
        elif stages and not stages[-1][1] and line.startswith(("run_dags ", "python ")):
            command = re.sub(r"\s*\d*>.*$", "", line)  # scripts/run keeps the output in its log; shell() keeps it here
            command = re.sub(r"^run_dags ", "python scripts/run_dags.py ", command)
            stages[-1] = (stages[-1][0], command)
    return stages


STAGES = season_stages((ROOT / "scripts" / "run").read_text())
SETUP = [
    (
        "set-up: demo council",
        'mkdir -p "$VAR/logs" "$REACCREDITATION_OUTBOX" && python -m reaccreditation.demo --out "$(dirname '
        '"$REACCREDITATION_CONFIG")"',
    ),
    ("set-up: airflow db migrate", "airflow db migrate"),
    ("set-up: project db upgrade", "python -m reaccreditation.db upgrade"),
]
# Inherited variables that would point the run at the shared var/ (env.sh fills them from VAR again).
SHARED = ("VAR", "AIRFLOW_HOME", "SMTP_SINK_PORT", "AIRFLOW_CONN_SMTP_DEFAULT", "AIRFLOW_CONN_REACCREDITATION_DB")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(var: Path, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SHARED and not k.startswith(("REACCREDITATION_", "AIRFLOW__DATABASE__", "AIRFLOW__CORE__SQL"))
    }
    return env | {"VAR": str(var), "SMTP_SINK_PORT": str(port)}


def shell(command: str, env: dict[str, str], log: Path) -> tuple[float, float, int, str]:
    """Run ``command`` after sourcing scripts/env.sh; (wall seconds, peak RSS MiB of it and its children, rc, output)."""
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "-c", f"source scripts/env.sh && {command}"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, usage.ru_maxrss / 1024.0, proc.returncode, log.read_text(errors="replace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary VAR (default: delete it)")
    args = parser.parse_args()
    print(load())
    var = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    port = free_port()
    env = environment(var, port)
    outbox = var / "outbox"
    outbox.mkdir(parents=True)
    (var / "logs").mkdir()
    print(f"isolated VAR {var}, SMTP sink on 127.0.0.1:{port}")
    sink = subprocess.Popen(
        ["bash", "-c", f'source scripts/env.sh && exec python -m devtools.smtp_sink --dir "{outbox}" --port {port}'],
        cwd=ROOT,
        env=env,
        stdout=(var / "logs" / "smtp-sink.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    rows: list[tuple[str, float, float]] = []
    started = time.perf_counter()
    failed = None
    try:
        for n, (label, command) in enumerate(SETUP + STAGES):
            seconds, rss, rc, output = shell(command, env, var / "logs" / f"stage-{n}.log")
            rows.append((label, seconds, rss))
            print(f"{label[:46]:46} {seconds:7.1f} s  peak RSS {rss:6.0f} MiB", flush=True)
            for line in output.splitlines():
                if re.search(r": \S+ in [0-9.]+s$|approved", line):
                    print(f"    {line.strip()}")
            if rc != 0:
                failed = label
                print(output[-3000:])
                break
    finally:
        sink.terminate()
        sink.wait(10)
    total = time.perf_counter() - started
    chain = sum(s for label, s, _ in rows if not label.startswith("set-up"))
    emails = len(list(outbox.glob("*.eml")))
    print(f"{'set-up (demo, migrations)':46} {sum(s for label, s, _ in rows if label.startswith('set-up')):7.1f} s")
    print(f"{f'season ({len(STAGES)} stages)':46} {chain:7.1f} s")
    print(
        f"{'total wall time':46} {total:7.1f} s (target < {TARGET:.0f} s: "
        f"{'met' if total < TARGET and not failed else 'NOT MET'})"
    )
    print(f"emails delivered to the sink: {emails}; largest stage {rss_line(max(r for _, _, r in rows))}")
    if failed:
        print(f"FAILED at: {failed} (logs in {var}/logs)")
    print(load())
    if args.keep or failed:
        print(f"kept {var}")
    else:
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
