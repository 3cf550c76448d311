"""Outages and crashes: mail server refusing or down, database gone mid-sweep, a worker SIGKILLed, two
sweeps at once, and the clock at the year and evidence-window edges. Nothing lost, nothing sent twice.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import evidence, intake_receipt, outbound_message, submission

from .conftest import load_dag, load_make_hostile, run_loaded, task_states

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("worker.py")
GOOD = ("customer-services", "housing", "digital", "people-od", "waste-environment", "libraries-culture")


def drop_returns(org, inbox: Path, departments=GOOD, suffix: str = "") -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Good returns for ``departments`` plus one empty file; name -> rows it must register."""
    make = load_make_hostile()
    inbox.mkdir(parents=True, exist_ok=True)
    expected = {}
    for i, dept in enumerate(departments):
        name = f"{dept}-evidence{suffix}.xlsx"
        (inbox / name).write_bytes(make.good(org, dept, lambda r, i=i: [r[0] | {"notes": f"{suffix} {i}"}, *r[1:]]))
        expected[name] = len(make.rows(org, dept))
    (inbox / f"digital-empty{suffix}.xlsx").write_bytes(b"")
    expected[f"digital-empty{suffix}.xlsx"] = 0
    return expected


def counts(engine) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return {
            "submissions": conn.execute(select(func.count()).select_from(submission)).scalar(),
            "receipts": conn.execute(select(func.count()).select_from(intake_receipt)).scalar(),
            "current_rows": conn.execute(
                select(func.count()).select_from(evidence).where(evidence.c.is_current.is_(True))
            ).scalar(),
            "rows_by_file": dict(
                conn.execute(
                    select(submission.c.original_name, func.count(evidence.c.id))
                    .join(evidence, isouter=True)
                    .group_by(submission.c.id)
                ).all()
            ),
            "statuses": Counter(conn.execute(select(submission.c.status)).scalars()),
            "claims": Counter(conn.execute(select(outbound_message.c.status)).scalars()),
        }


def assert_intact(root: Path) -> None:
    """Every archived original is whole (its name is its SHA-256), nothing final is half-written, no temporaries."""
    assert [p for p in root.rglob(".*.tmp")] == []
    for p in (root / "archive").rglob("*"):
        if p.is_file() and p.parent.name != "duplicates" and not p.name.startswith("."):
            assert hashlib.sha256(p.read_bytes()).hexdigest() == p.name.split(".")[0], p
    from openpyxl import load_workbook

    for p in (root / "output").rglob("*.xlsx"):
        load_workbook(p)


# -- mail server refusing, down, back ---------------------------------------------------------------


def test_mail_outage_retries_then_every_reply_exactly_once(airflow_db, project_db, demo, org, gx_dir, flaky_sink, ledger):  # type: ignore[no-untyped-def]
    inbox = demo["data"] / "inbox"
    engine = make_engine(project_db)
    dag = load_dag("evidence_intake")
    send = dag.get_task("send_replies")
    send.retry_delay, send.retry_exponential_backoff = timedelta(seconds=1), 2.0  # the real policy, in seconds
    day = load_make_hostile().RUN_DAY
    files = drop_returns(org, inbox, GOOD[:3], "-a")

    # 1. one accepted, then 554, then 451: the task fails twice and succeeds on its third try
    flaky_sink.script = ["ok", "554", "451"]
    run = run_loaded(dag, day)
    assert run.state == "success"
    assert task_states(run)["send_replies"] == ("success", 3)
    assert len(flaky_sink.received) == len(files)

    # 2. refusing everything beyond the retries: the run fails, the replies are owed
    files |= drop_returns(org, inbox, GOOD[3:], "-b")
    flaky_sink.mode = "451"
    send.retries = 1
    run = run_loaded(dag, day + timedelta(days=1))
    assert run.state == "failed" and task_states(run)["send_replies"] == ("failed", 2)
    assert task_states(run)["sweep_inbox"][0] == "success"
    # 3. the server stopped: connection refused, the next run fails too
    flaky_sink.stop()
    run = run_loaded(dag, day + timedelta(days=2))
    assert run.state == "failed" and task_states(run)["send_replies"] == ("failed", 2)
    # 4. back: the next run (nothing new in the inbox) sends every owed reply; 5. and then nothing
    flaky_sink.mode = "ok"
    flaky_sink.start()
    assert run_loaded(dag, day + timedelta(days=3)).state == "success"
    assert run_loaded(dag, day + timedelta(days=4)).state == "success"

    ids = Counter(flaky_sink.message_ids())
    c = counts(engine)
    assert len(flaky_sink.received) == len(files) == c["receipts"]
    assert max(ids.values()) == 1 and c["claims"] == {"sent": len(files)}
    lost = sum(n - c["rows_by_file"].get(name, 0) for name, n in files.items())
    # the rows of run 2 (whose replies failed, so its publish step never ran) reached the register file
    register = demo["data"] / "output" / "2027" / "intake" / "evidence_register.csv"
    assert len(register.read_text(encoding="utf-8-sig").strip().splitlines()) == 1 + c["current_rows"] == 1 + sum(files.values())
    ledger.add("faults", "smtp 554/451 mid-batch, retried", survived=True)
    ledger.add(
        "faults",
        "smtp refusing beyond retries, then stopped, then back",
        survived=True,
        rows_lost=lost,
        duplicate_emails=sum(ids.values()) - len(ids),
    )
    assert lost == 0


# -- project database gone ---------------------------------------------------------------------------


def test_database_unreachable_fails_the_task_for_retry_and_loses_nothing(
    airflow_db, project_db, demo, org, gx_dir, outbox, monkeypatch, tmp_path, ledger
):  # type: ignore[no-untyped-def]
    from reaccreditation.orchestration import connections

    inbox = demo["data"] / "inbox"
    files = drop_returns(org, inbox, GOOD[:2])
    dag = load_dag("evidence_intake")
    for task in dag.tasks:
        task.retries, task.retry_delay = 1, timedelta(seconds=1)
    good = os.environ["AIRFLOW_CONN_REACCREDITATION_DB"]
    monkeypatch.setenv(
        "AIRFLOW_CONN_REACCREDITATION_DB", '{"conn_type": "sqlite", "host": "%s"}' % (tmp_path / "gone" / "db.sqlite")
    )
    connections.engine.cache_clear()
    run = run_loaded(dag, load_make_hostile().RUN_DAY)
    assert run.state == "failed" and task_states(run)["sweep_inbox"] == ("failed", 2)  # retried by the policy, then failed
    assert sorted(p.name for p in inbox.iterdir()) == sorted(files)  # nothing taken out of the inbox
    assert not (demo["data"] / "quarantine").exists()  # and no file blamed for our outage

    monkeypatch.setenv("AIRFLOW_CONN_REACCREDITATION_DB", good)
    connections.engine.cache_clear()
    assert run_loaded(dag, load_make_hostile().RUN_DAY + timedelta(days=1)).state == "success"
    c = counts(make_engine(project_db))
    assert c["receipts"] == len(files) and len(outbox.messages()) == len(files)
    lost = sum(n - c["rows_by_file"].get(name, 0) for name, n in files.items())
    ledger.add(
        "faults",
        "project database unreachable for a whole run",
        survived=True,
        rows_lost=lost,
        duplicate_emails=len(outbox.messages()) - len({m["Message-ID"] for m in outbox.messages()}),
    )
    assert lost == 0


def test_database_lost_mid_sweep(project_db, demo, org, tmp_path, ledger):  # type: ignore[no-untyped-def]
    """The database goes away after two files were committed: the sweep stops; a rerun finishes the rest."""
    from reaccreditation.intake import store
    from reaccreditation.intake.pipeline import Sweep, inbox_files
    from reaccreditation.settings import Paths

    from .worker import NoGX

    paths = Paths(demo["data"])
    files = drop_returns(org, paths.inbox)
    engine = make_engine(project_db)
    sweep = Sweep(org, engine, paths, NoGX, today=load_make_hostile().RUN_DAY, run_id="db-lost")
    original = store.record
    calls = {"n": 0}

    def record(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = original(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 2:
            sweep.engine = make_engine(f"sqlite:///{tmp_path / 'gone' / 'db.sqlite'}")  # as if the server stopped
        return out

    store.record = record
    try:
        from sqlalchemy.exc import OperationalError

        with pytest.raises(OperationalError):
            sweep.run(inbox_files(paths.inbox))
    finally:
        store.record = original
    assert len(list(paths.inbox.iterdir())) == len(files) - 2
    assert counts(engine)["submissions"] == 2
    Sweep(org, engine, paths, NoGX, today=load_make_hostile().RUN_DAY, run_id="db-back").run(inbox_files(paths.inbox))
    c = counts(engine)
    assert c["submissions"] == c["receipts"] == len(files) and "quarantined" not in c["statuses"]
    lost = sum(n - c["rows_by_file"].get(name, 0) for name, n in files.items())
    ledger.add("faults", "project database lost mid-sweep", survived=True, rows_lost=lost)
    assert lost == 0 and list(paths.inbox.iterdir()) == []


# -- a worker killed mid-task ------------------------------------------------------------------------


def rerun_sweep_and_send(org, root: Path, engine) -> None:  # type: ignore[no-untyped-def]
    from reaccreditation.intake.pipeline import Sweep, inbox_files, summary
    from reaccreditation.intake.replies import send_replies
    from reaccreditation.orchestration import connections
    from reaccreditation.settings import Paths

    from .worker import RUN_DAY, NoGX

    outcomes = Sweep(org, engine, Paths(root), NoGX, today=RUN_DAY, run_id="rerun").run(inbox_files(Paths(root).inbox))
    send_replies(engine, org, connections.smtp_transport(), summary(outcomes)["replies"], run_id="rerun")


def _worker(root: Path, db_url: str, config: Path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(ROOT) + os.pathsep + str(ROOT / "include")}
    return subprocess.run(
        [sys.executable, str(WORKER), str(root), db_url, str(config), *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.parametrize(("point", "nth"), [("in_transaction", 2), ("after_commit", 3), ("mid_write", 3), ("external", 0)])
def test_worker_killed_mid_sweep_then_rerun(project_db, demo, org, outbox, point, nth, ledger):  # type: ignore[no-untyped-def]
    root = demo["data"]
    files = drop_returns(org, root / "inbox", GOOD[:3])
    engine = make_engine(project_db)
    if point == "external":  # a real SIGKILL from outside, as soon as the first original is archived
        env = os.environ | {"PYTHONPATH": str(ROOT) + os.pathsep + str(ROOT / "include")}
        child = subprocess.Popen(
            [sys.executable, str(WORKER), str(root), project_db, str(demo["config"]), "--slow", "0.5"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while (
            not any(p.is_file() and not p.name.startswith(".") for p in (root / "archive").rglob("*"))
            and time.monotonic() < deadline
        ):
            time.sleep(0.005)
        child.kill()
        assert child.wait() == -9
    else:
        crashed = _worker(root, project_db, demo["config"], "--die", point, "--nth", str(nth))
        assert crashed.returncode == -9, crashed.stderr[-2000:]
    assert list((root / "inbox").iterdir())  # work was left over
    if point == "mid_write":
        assert list(root.rglob(".*.tmp"))  # the temporary file of the interrupted write

    rerun_sweep_and_send(org, root, engine)  # the rerun: in this process (a fresh worker would only add start-up time)
    assert list((root / "inbox").iterdir()) == []
    assert_intact(root)
    c = counts(engine)
    assert c["submissions"] == c["receipts"] == len(files), c
    lost = sum(n - c["rows_by_file"].get(name, 0) for name, n in files.items())
    ids = Counter(m["Message-ID"] for m in outbox.messages())
    ledger.add("crash", f"SIGKILL {point}", survived=True, rows_lost=lost, duplicate_emails=sum(ids.values()) - len(ids))
    assert lost == 0 and c["current_rows"] == sum(files.values())
    assert len(ids) == len(files) and max(ids.values()) == 1


# -- two sweeps at once ------------------------------------------------------------------------------


def test_two_sweeps_at_once_register_and_answer_each_file_once(project_db, demo, org, outbox, ledger):  # type: ignore[no-untyped-def]
    root = demo["data"]
    files = drop_returns(org, root / "inbox", GOOD[:5])
    env = os.environ | {"PYTHONPATH": str(ROOT) + os.pathsep + str(ROOT / "include")}
    cmd = [sys.executable, str(WORKER), str(root), project_db, str(demo["config"]), "--send"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [r[1][-2000:] for r in results]
    c = counts(make_engine(project_db))
    ids = Counter(m["Message-ID"] for m in outbox.messages())
    lost = sum(n - c["rows_by_file"].get(name, 0) for name, n in files.items())
    ledger.add(
        "concurrency",
        "two intake processes on one inbox",
        survived=True,
        rows_lost=lost,
        duplicate_emails=sum(ids.values()) - len(ids),
    )
    assert c["submissions"] == c["receipts"] == len(files), c
    assert len(outbox.messages()) == len(files) and lost == 0
    assert c["current_rows"] == sum(files.values())


# -- the clock at the edges --------------------------------------------------------------------------


def test_year_boundary_and_evidence_window_edges(airflow_db, project_db, demo, org, gx_dir, outbox, ledger):  # type: ignore[no-untyped-def]
    """31 Dec 23:59 and 1 Jan 00:01: the same 2027 workbook; evidence dated 1 Jan is 'future' only on 31 Dec.

    The window's first day is accepted and the day before it is not.
    """
    import pendulum

    make = load_make_hostile()
    start = org.assessment.evidence_window_start
    inbox = demo["data"] / "inbox"
    inbox.mkdir(parents=True)
    dag = load_dag("evidence_intake")
    engine = make_engine(project_db)
    results = {}
    for label, when in (
        ("31 Dec 23:59", pendulum.datetime(2026, 12, 31, 23, 59, tz="UTC")),
        ("1 Jan 00:01", pendulum.datetime(2027, 1, 1, 0, 1, tz="UTC")),
    ):
        dated = [start - timedelta(days=1), start, date(2026, 12, 31), date(2027, 1, 1)]
        body = make.good(
            org,
            "housing",
            lambda r, d=dated, lbl=label: [x | {"evidence_date": d[i], "notes": lbl} if i < 4 else x for i, x in enumerate(r)],
        )
        (inbox / f"housing-evidence-{label[:2]}.xlsx").write_bytes(body)
        assert dag.test(logical_date=when).state == "success"
        with engine.connect() as conn:
            sub = conn.execute(select(submission).order_by(submission.c.id.desc())).first()
        results[label] = (
            sub.assessment_year,
            sub.rows_rejected,
            [i["row"] for i in sub.details["issues"]],
            sub.details["issues"],
        )
    assert results["31 Dec 23:59"][:2] == (2027, 2)  # the day before the window and 1 January (future on 31 Dec)
    assert results["1 Jan 00:01"][:2] == (2027, 1)  # only the day before the window
    assert "before the evidence window" in results["1 Jan 00:01"][3][0]["problem"]
    ledger.add("clock", "31 Dec / 1 Jan and the window edges", survived=True)


def test_summer_time_midnight_is_today_in_the_uk(airflow_db, project_db, demo, org, gx_dir, outbox):  # type: ignore[no-untyped-def]
    """At 00:30 BST on 1 July 2026 (23:30 UTC on 30 June) evidence dated 1 July is not 'in the future'."""
    import pendulum

    make = load_make_hostile()
    inbox = demo["data"] / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "housing-evidence.xlsx").write_bytes(
        make.good(
            org,
            "housing",
            lambda r: [r[0] | {"evidence_date": date(2026, 7, 1)}, *(x | {"evidence_date": date(2026, 6, 1)} for x in r[1:])],
        )
    )
    assert load_dag("evidence_intake").test(logical_date=pendulum.datetime(2026, 6, 30, 23, 30, tz="UTC")).state == "success"
    with make_engine(project_db).connect() as conn:
        sub = conn.execute(select(submission)).one()
    assert sub.status == "accepted", sub.details["issues"]
