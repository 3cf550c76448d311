"""One SMTP session per task, through the Airflow SMTP provider, at a real relay that counts logins.

``devtools.smtp_relay`` is an aiosmtpd server asking for AUTH; it can drop the connection between messages
(a relay's per-session cap) or in the middle of one (after the content, before the reply).
"""

from __future__ import annotations

import gc

import pytest
from sqlalchemy import select

from devtools.smtp_relay import Relay
from reaccreditation.db import make_engine
from reaccreditation.db.schema import outbound_message
from reaccreditation.mail.compose import Draft, address, build_message
from reaccreditation.mail.outbox import send_once
from reaccreditation.mail.session import DeliveryUncertain
from reaccreditation.orchestration import connections

CONN_ID = "relay_under_test"


def _message(n: int):  # type: ignore[no-untyped-def]
    to = [address(f"Contact {n}", f"contact{n}@kestrelvale.example.org")]
    return build_message(Draft(to=to, subject=f"Evidence request {n}", text="Hello", html="<p>Hello</p>"))


def _send(engine, transport, n: int) -> bool:  # type: ignore[no-untyped-def]
    return send_once(engine, transport, _message(n), dedupe_key=f"request:{n}", assessment_year=2027, kind="request")


def _statuses(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(outbound_message.c.status).order_by(outbound_message.c.id)).scalars().all()


@pytest.fixture
def relay(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with Relay() as server:
        monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", server.connection())
        yield server


def test_a_task_logs_in_once_for_all_its_messages(project_db, relay) -> None:
    engine = make_engine(project_db)
    transport = connections.smtp_transport(CONN_ID)
    assert relay.log.sessions == 0  # nothing to send, no login
    assert all(_send(engine, transport, n) for n in range(6))
    assert (relay.log.sessions, relay.log.logins) == (1, 1)
    assert len(relay.log.message_ids()) == len(set(relay.log.message_ids())) == 6
    assert relay.log.messages[0]["From"] == "quality@kestrelvale.example.org"  # the connection's from_email
    assert _statuses(engine) == ["sent"] * 6
    del transport  # the task lets go of it: the session ends (QUIT), no login is left open
    gc.collect()
    assert relay.log.sessions == 1


def test_a_dropped_session_is_reopened_and_nothing_is_sent_twice(project_db, relay) -> None:
    relay.drop_after = 2  # the relay closes the connection after two messages, as capped relays do
    engine = make_engine(project_db)
    transport = connections.smtp_transport(CONN_ID)
    assert all(_send(engine, transport, n) for n in range(5))
    assert (relay.log.sessions, relay.log.logins) == (3, 3)
    ids = relay.log.message_ids()
    assert len(ids) == len(set(ids)) == 5
    assert [m["Subject"] for m in relay.log.messages] == [f"Evidence request {n}" for n in range(5)]
    assert not any(_send(engine, transport, n) for n in range(5))  # a rerun of the task sends nothing
    assert len(relay.log.messages) == 5 and _statuses(engine) == ["sent"] * 5


def test_a_session_lost_after_the_content_is_never_resent(project_db, relay) -> None:
    relay.drop_in_data = True  # the first message's content arrives, then the line goes dead
    engine = make_engine(project_db)
    transport = connections.smtp_transport(CONN_ID)
    with pytest.raises(DeliveryUncertain):
        _send(engine, transport, 0)
    assert _statuses(engine) == ["sending"]  # kept for the quality team: it may have been delivered
    assert not _send(engine, connections.smtp_transport(CONN_ID), 0)  # the task's retry does not send it again
    assert _send(engine, transport, 1)  # the next message goes on a new session
    assert [m["Subject"] for m in relay.log.messages] == ["Evidence request 1"]
    assert relay.log.sessions == 2
