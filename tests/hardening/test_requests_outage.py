"""Evidence requests through a mail outage: some sent, the server refusing, then stopped, then back.

The requests stage stays open after its first day, so the run after recovery sends what is still due;
the sink counts every message: each evidence contact gets the request exactly once.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import outbound_message

from ..conftest import FIRST_DAY
from .conftest import load_dag, run_loaded

T_REQUESTS = FIRST_DAY - timedelta(days=120)


def test_requests_outage_then_each_contact_exactly_once(airflow_db, project_db, demo, org, flaky_sink, ledger):  # type: ignore[no-untyped-def]
    contacts = sorted(c.email for d in org.departments for c in d.evidence_contacts)
    dag = load_dag("evidence_requests")
    send = dag.get_task("send_batch")
    send.partial_kwargs["retries"], send.partial_kwargs["retry_delay"] = 1, timedelta(seconds=1)

    flaky_sink.script = ["ok"] * 4  # four delivered, then the server refuses everything
    flaky_sink.mode = "451"
    assert run_loaded(dag, T_REQUESTS, hour=7).state == "failed"
    assert len(flaky_sink.received) == 4
    flaky_sink.stop()  # the next day it is down altogether
    assert run_loaded(dag, T_REQUESTS + timedelta(days=1), hour=7).state == "failed"
    flaky_sink.mode = "ok"
    flaky_sink.start()
    assert run_loaded(dag, T_REQUESTS + timedelta(days=2), hour=7).state == "success"
    assert run_loaded(dag, T_REQUESTS + timedelta(days=3), hour=7).state == "success"

    delivered = Counter(rcpt for rcpts, _ in flaky_sink.received for rcpt in rcpts)
    with make_engine(project_db).connect() as conn:
        log = conn.execute(select(outbound_message.c.kind, outbound_message.c.status)).all()
    duplicates = sum(n - 1 for n in delivered.values())
    ledger.add(
        "faults", "evidence requests: refused beyond retries, server stopped, back", survived=True, duplicate_emails=duplicates
    )
    assert sorted(delivered) == contacts and duplicates == 0
    assert Counter(log) == Counter({("request", "sent"): len(contacts)})
