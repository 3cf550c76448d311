"""Dynamic task mapping at scale: ``evidence_requests`` at T-120 for 300 departments, through Airflow.

Backs docs/scaling.md. The demo council with its departments replaced by ``bench_scale.config``'s
synthetic ones (and last year's evidence history regenerated for them), run with ``scripts/run_dags.py``
(``dag.test()``: every mapped ``send_batch`` instance runs in this one process, one after another)
in an isolated VAR with its own SMTP sink, as ``bench_e2e`` does. Prints the mapped instances, the
emails delivered, the wall time and the peak RSS.

    source scripts/env.sh && python benchmarks/bench_requests_dag.py [--departments 300] [--elements 20]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import yaml
from bench_e2e import ROOT, environment, free_port, shell
from bench_scale import FIRST_DAY, config
from measure import load, rss_line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=300)
    parser.add_argument("--elements", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    from reaccreditation.demo import build_history, generate, write_evidence_history

    print(load())
    var = Path(tempfile.mkdtemp(prefix="bench-requests-"))
    port = free_port()
    env = environment(var, port)
    (var / "logs").mkdir()
    outbox = var / "outbox"
    outbox.mkdir()
    demo = var / "demo"
    generate(demo, FIRST_DAY)
    cfg = config(args.departments, args.elements)
    (demo / "organisation.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False, width=120), encoding="utf-8")
    write_evidence_history(demo, cfg, build_history(FIRST_DAY))
    sink = subprocess.Popen(
        ["bash", "-c", f'source scripts/env.sh && exec python -m devtools.smtp_sink --dir "{outbox}" --port {port}'],
        cwd=ROOT,
        env=env,
        stdout=(var / "logs" / "smtp-sink.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    failed = False
    try:
        for n, command in enumerate(("airflow db migrate", "python -m reaccreditation.db upgrade")):
            seconds, _, rc, output = shell(command, env, var / "logs" / f"setup-{n}.log")
            print(f"set-up: {command}: {seconds:.1f} s")
            if rc:
                print(output[-3000:])
                failed = True
                return
        seconds, rss, rc, output = shell("python scripts/run_dags.py evidence_requests@T-120", env, var / "logs" / "requests.log")
        failed = rc != 0
        dag_line = next((line for line in output.splitlines() if re.search(r"^evidence_requests @", line)), "no result line")
        time.sleep(1)  # the sink writes the last .eml
        emails = len(list(outbox.glob("*.eml")))
        workbooks = len(list((var / "data" / "output").rglob("*.xlsx")))
        print(f"{args.departments} departments x {args.elements} elements: {dag_line}")
        print(
            f"  process wall time {seconds:.1f} s (Airflow import and DAG parse included); {emails} emails delivered, "
            f"{workbooks} request workbooks written; {seconds / max(args.departments, 1):.2f} s per department"
        )
        print(f"  {rss_line(rss)}")
        if failed:
            print(output[-3000:])
    finally:
        sink.terminate()
        sink.wait(10)
        print(load())
        if args.keep or failed:
            print(f"kept {var}")
        else:
            shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
