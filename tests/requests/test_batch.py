"""Departments in batches: one department's failure spares the rest of its batch, and the retry sends nothing twice.

A real SMTP server (aiosmtpd) refuses one evidence contact's address at RCPT, as a relay does for a mailbox
that does not exist; another department's workbook cannot be stored (a folder stands where the file goes).
The batch goes through the DAG's own facade and transport (``pipeline.send_batch``, ``smtp_transport()``).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from reaccreditation.db.schema import outbound_message
from reaccreditation.organisation.config import ConfigError, parse_organisation
from reaccreditation.requests import pipeline
from reaccreditation.requests.batch import Batch, DepartmentsFailed, batches
from reaccreditation.requests.plan import DepartmentWork

from ..conftest import _free_port
from .conftest import T_REQUESTS, output_folder

CONN_ID = "batch_relay"
RUN_ID = "scheduled__2026-11-13T07:00:00+00:00"


class RefusingServer:
    """Takes every message except to the addresses in ``refuse``, which it refuses at RCPT (550)."""

    def __init__(self) -> None:
        self.refuse: set[str] = set()
        self.delivered: list[str] = []  # one entry per recipient of every message taken

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.delivered += [a.lower() for a in envelope.rcpt_tos]
        return "250 OK"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    handler = RefusingServer()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    extra = {"disable_ssl": True, "disable_tls": True, "from_email": "quality@kestrelvale.example.org", "retry_limit": 0}
    conn = {"conn_type": "smtp", "host": "127.0.0.1", "port": controller.port, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))
    yield handler
    controller.stop()


def _send(engine, org, batch: dict, demo) -> dict:  # type: ignore[no-untyped-def]
    from reaccreditation.orchestration.connections import smtp_transport

    output = demo["data"] / "output"
    return pipeline.send_batch(engine, smtp_transport(CONN_ID), org, batch, T_REQUESTS, RUN_ID, output)


def test_a_failing_department_spares_its_batch_and_the_retry_sends_nothing_twice(project_db, engine, demo, org, server):
    [planned] = pipeline.plan(org, engine, T_REQUESTS, RUN_ID, {})  # 12 departments: one batch of the default 25
    assert len(planned["departments"]) == 12
    batch = Batch.from_dict(planned | {"departments": planned["departments"][:5]}).to_dict()  # five keep it quick
    refused_dept, unstored_dept = org.departments[1], org.departments[3]
    bad_address = refused_dept.evidence_contacts[0].email
    server.refuse = {bad_address.lower()}
    blocker = output_folder(demo) / f"{unstored_dept.id}.xlsx"
    (blocker / "in-the-way").mkdir(parents=True)  # a folder where the workbook must go: it cannot be stored

    with pytest.raises(DepartmentsFailed) as failed:
        _send(engine, org, batch, demo)
    assert [f.department_id for f in failed.value.failures] == [refused_dept.id, unstored_dept.id]
    refused, unstored = failed.value.failures
    assert f"the mail server refused {bad_address}" in refused.reason and "550" in refused.reason
    assert f"could not be stored at {blocker}" in unstored.reason
    assert "2 of 5 department(s) not done" in str(failed.value)

    # every other department of the batch was sent to, after the failures as before them
    everyone = {c.email.lower(): d.id for d in org.departments[:5] for c in d.evidence_contacts}
    missing = {e for e, d in everyone.items() if d in (refused_dept.id, unstored_dept.id)}  # a failure ends its department
    assert sorted(server.delivered) == sorted(set(everyone) - missing)
    with engine.connect() as conn:
        logged = conn.execute(select(outbound_message.c.dedupe_key, outbound_message.c.status)).all()
    assert {status for _, status in logged} == {"sent"} and len(logged) == len(everyone) - len(missing)

    # fixed, the batch's retry sends exactly what was missing: every contact has the request once
    server.refuse = set()
    shutil.rmtree(blocker)
    result = _send(engine, org, batch, demo)
    assert result["request"] == len(missing) and result["departments"] == 5
    assert Counter(server.delivered) == Counter(set(everyone))
    assert (output_folder(demo) / f"{unstored_dept.id}.xlsx").is_file()


def test_an_outage_stops_the_batch_at_once(project_db, engine, demo, org, monkeypatch):
    extra = {"disable_ssl": True, "disable_tls": True, "from_email": "quality@kestrelvale.example.org", "retry_limit": 0}
    closed = {"conn_type": "smtp", "host": "127.0.0.1", "port": _free_port(), "extra": extra}  # nothing listens
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(closed))
    [batch] = pipeline.plan(org, engine, T_REQUESTS, RUN_ID, {})
    with pytest.raises(ConnectionRefusedError):
        _send(engine, org, batch, demo)
    assert len(list(output_folder(demo).glob("*.xlsx"))) == 1  # stopped at the first department
    with engine.connect() as conn:
        assert conn.execute(select(outbound_message.c.id)).all() == []  # the claim was released: the retry sends it


def test_batches_keep_plan_order_and_the_size_comes_from_the_config(demo):
    import yaml

    work = [DepartmentWork(f"dept-{i:02d}") for i in range(12)]
    planned = batches(work, 5)
    assert [len(b.departments) for b in planned] == [5, 5, 2] and [b.number for b in planned] == [1, 2, 3]
    assert [d for b in planned for d in b.departments] == work
    assert Batch.from_dict(planned[2].to_dict()) == planned[2] and planned[2].label == "dept-10 … dept-11 (2)"
    assert batches([], 25) == []

    cfg = yaml.safe_load(demo["config"].read_text())
    assert parse_organisation(cfg).requests.batch_size == 25
    assert parse_organisation(cfg | {"requests": {"batch_size": 40}}).requests.batch_size == 40
    with pytest.raises(ConfigError, match="requests.batch_size: Input should be greater than or equal to 1"):
        parse_organisation(cfg | {"requests": {"batch_size": 0}})


def test_no_batch_when_nothing_is_due(project_db, engine, org):
    assert pipeline.plan(org, engine, T_REQUESTS - timedelta(days=10), RUN_ID, {}) == []
