"""An intake worker in its own process, for the crash and concurrency tests.

``python tests/hardening/worker.py DATA_ROOT DB_URL CONFIG [--die POINT] [--send]`` sweeps the inbox once
(``--die`` SIGKILLs the process at a chosen point, as an OOM killer or a lost node would) and, with
``--send``, answers every file through the Airflow SMTP connection. GX is replaced by a validator that
finds nothing (the Python row rules still run): these tests are about what a crash leaves behind, and a
GX import per process would cost 10-20 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "include"))

RUN_DAY = date(2027, 1, 20)


class NoGX:
    def validate(self, df, **kwargs):  # type: ignore[no-untyped-def]
        return []


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str, nth: int) -> None:
    """Make the process kill itself at ``point`` the ``nth`` time it is reached."""
    from reaccreditation import files
    from reaccreditation.intake import store

    calls = {"n": 0}

    def count() -> bool:
        calls["n"] += 1
        return calls["n"] == nth

    if point == "in_transaction":  # inside the open transaction, after the submission row was inserted
        original_row = store._evidence_row

        def row(*args, **kwargs):  # type: ignore[no-untyped-def]
            if count():
                die()
            return original_row(*args, **kwargs)

        store._evidence_row = row
    elif point == "after_commit":  # committed, inbox file not yet removed
        original_record = store.record

        def record(*args, **kwargs):  # type: ignore[no-untyped-def]
            out = original_record(*args, **kwargs)
            if count():
                die()
            return out

        store.record = record
    elif point == "mid_write":  # the temporary file written, not yet renamed into place
        original_replace = files.os.replace

        def replace(src, dst):  # type: ignore[no-untyped-def]
            if count():
                die()
            return original_replace(src, dst)

        files.os.replace = replace  # type: ignore[attr-defined]
    elif point != "none":
        raise SystemExit(f"unknown point {point!r}")


def slow_commits(seconds: float) -> None:
    import time

    from reaccreditation.intake import store

    original_record = store.record

    def record(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(seconds)
        return original_record(*args, **kwargs)

    store.record = record


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_root", type=Path)
    parser.add_argument("db_url")
    parser.add_argument("config", type=Path)
    parser.add_argument("--die", default="none")
    parser.add_argument("--nth", type=int, default=2)
    parser.add_argument("--send", action="store_true")
    parser.add_argument("--slow", type=float, default=0.0, help="seconds of delay before each commit (a slow database)")
    args = parser.parse_args()
    arm(args.die, args.nth)
    if args.slow:
        slow_commits(args.slow)

    from reaccreditation.db import make_engine
    from reaccreditation.intake.pipeline import Sweep, inbox_files
    from reaccreditation.organisation.config import load_organisation
    from reaccreditation.settings import Paths

    org = load_organisation(args.config, today=RUN_DAY)
    engine = make_engine(args.db_url)
    paths = Paths(args.data_root)
    outcomes = Sweep(org, engine, paths, NoGX, today=RUN_DAY, run_id=f"worker-{os.getpid()}").run(inbox_files(paths.inbox))
    print(f"swept {len(outcomes)}", flush=True)
    if args.send:
        from reaccreditation.intake.pipeline import summary
        from reaccreditation.intake.replies import send_replies
        from reaccreditation.orchestration import connections

        sent = send_replies(
            engine, org, connections.smtp_transport(), summary(outcomes)["replies"], run_id=f"worker-{os.getpid()}"
        )
        print(f"sent {sent}", flush=True)


if __name__ == "__main__":
    main()
