"""Hardening fixtures: the hostile corpus, a mail server that can refuse or go away, the ledger.

The ledger collects, per fault case, whether the process survived, rows lost and duplicate emails;
``tests/hardening/summarise.py`` runs this suite with ``HARDENING_LEDGER`` set and prints the counts.
"""

from __future__ import annotations

import email
import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from email import policy
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ROOT / "tests" / "data" / "hostile"


def load_make_hostile():  # type: ignore[no-untyped-def]
    if "make_hostile" in sys.modules:
        return sys.modules["make_hostile"]
    spec = importlib.util.spec_from_file_location("make_hostile", HOSTILE / "make_hostile.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["make_hostile"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class Ledger:
    """What each hardening case showed: survived, rows lost, duplicate emails (written at session end)."""

    def __init__(self) -> None:
        self.cases: list[dict[str, Any]] = []

    def add(
        self, group: str, case: str, *, survived: bool, rows_lost: int = 0, duplicate_emails: int = 0, note: str = ""
    ) -> None:
        self.cases.append(
            {
                "group": group,
                "case": case,
                "survived": survived,
                "rows_lost": rows_lost,
                "duplicate_emails": duplicate_emails,
                "note": note,
            }
        )


@pytest.fixture(scope="session")
def ledger() -> Iterator[Ledger]:
    book = Ledger()
    yield book
    target = os.environ.get("HARDENING_LEDGER")
    if target:
        Path(target).write_text(json.dumps(book.cases, indent=2))


@pytest.fixture
def org(demo):  # type: ignore[no-untyped-def]
    from reaccreditation.organisation.config import load_organisation

    return load_organisation(demo["config"], today=load_make_hostile().RUN_DAY)


class FlakySink:
    """A real SMTP server (aiosmtpd) whose answer the test chooses: accept, 451, 554, or stopped.

    ``script`` answers the next messages in turn ("ok", "451", "554"), then ``mode`` answers the rest.
    Accepted messages are kept with their envelope, so a test counts exactly what was delivered.
    """

    def __init__(self, port: int, login: str | None = None, password: str | None = None) -> None:
        self.port, self.login, self.password = port, login, password
        self.mode = "ok"  # ok | 451 | 554
        self.script: list[str] = []
        self.refused = 0
        self.received: list[tuple[list[str], bytes]] = []
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        answer = self.script.pop(0) if self.script else self.mode
        if answer != "ok":
            self.refused += 1
            return "451 4.3.0 Mail server busy, try again later" if answer == "451" else "554 5.7.1 Transaction failed"
        self.received.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK"

    def _auth(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        from aiosmtpd.smtp import AuthResult

        ok = (
            getattr(auth_data, "login", b"") == (self.login or "").encode()
            and getattr(auth_data, "password", b"") == (self.password or "").encode()
        )
        return AuthResult(success=ok)

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        kwargs: dict[str, Any] = {}
        if self.login:
            kwargs = {"authenticator": self._auth, "auth_require_tls": False, "auth_required": True}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=policy.default) for _, raw in self.received]  # type: ignore[misc]

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages()]

    def connection(self, **extra: Any) -> str:
        conn: dict[str, Any] = {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": self.port,
            "extra": {
                "disable_ssl": True,
                "disable_tls": True,
                "from_email": "quality@kestrelvale.example.org",
                "retry_limit": 0,
                **extra,
            },
        }
        if self.login:
            conn |= {"login": self.login, "password": self.password}
        return json.dumps(conn)


@pytest.fixture
def flaky_sink(monkeypatch) -> Iterator[FlakySink]:  # type: ignore[no-untyped-def]
    """A FlakySink behind the smtp_default connection for this test."""
    from tests.conftest import _free_port

    sink = FlakySink(_free_port())
    sink.start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", sink.connection())
    yield sink
    sink.stop()


def load_dag(dag_id: str):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{dag_id}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


def run_loaded(dag, day, hour: int = 12, minute: int = 0):  # type: ignore[no-untyped-def]
    """dag.test() for a DAG object the test may have adjusted (e.g. a 1-second retry delay)."""
    import pendulum

    return dag.test(logical_date=pendulum.datetime(day.year, day.month, day.day, hour, minute, tz="UTC"))


def task_states(run) -> dict[str, tuple[str, int]]:  # type: ignore[no-untyped-def]
    from airflow.models.taskinstance import TaskInstance
    from airflow.settings import Session

    with Session() as session:
        tis = session.query(TaskInstance).filter(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id).all()
        return {ti.task_id: (str(ti.state), ti.try_number) for ti in tis}
