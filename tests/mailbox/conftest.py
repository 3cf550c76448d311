"""Mailbox fixtures: a real Dovecot IMAP server (installed by scripts/install-dovecot when missing; in
CI its absence fails), a fresh mailbox per test behind the ``imap_default`` connection, replies built
the way a mail client builds them."""

from __future__ import annotations

import email
import imaplib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from .dovecot import ROOT, Dovecot, dovecot_binary

TODAY = date(2027, 1, 20)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if dovecot_binary() is None:
        result = subprocess.run([str(ROOT / "scripts" / "install-dovecot")], capture_output=True, text=True)
        if dovecot_binary() is None:
            message = (
                f"dovecot-imapd is not installed and scripts/install-dovecot failed: {result.stdout[-500:]}{result.stderr[-500:]}"
            )
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    server = Dovecot(Path(tempfile.mkdtemp(prefix="dovecot-"))).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


class ImapBox:
    """One test's mailbox as the quality team's mail server holds it."""

    def __init__(self, server: Dovecot, login: str, password: str) -> None:
        self.server, self.login, self.password = server, login, password

    def client(self) -> imaplib.IMAP4:
        c = imaplib.IMAP4("127.0.0.1", self.server.port)
        c.login(self.login, self.password)
        return c

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        c = self.client()
        try:
            for raw in messages:
                typ, data = c.append(folder, None, imaplib.Time2Internaldate(time.time()), raw)
                assert typ == "OK", data
        finally:
            c.logout()

    def flags(self, folder: str = "INBOX") -> list[str]:
        c = self.client()
        try:
            typ, _ = c.select(folder)
            if typ != "OK":
                return []
            _, data = c.uid("FETCH", "1:*", "(FLAGS)")
            return [d.decode() for d in data if d]
        finally:
            c.logout()

    def count(self, folder: str = "INBOX") -> int:
        c = self.client()
        try:
            typ, data = c.select(folder, readonly=True)
            return int(data[0]) if typ == "OK" else 0
        finally:
            c.logout()

    def connection(self, **extra: object) -> str:
        return json.dumps(
            {
                "conn_type": "imap",
                "host": "127.0.0.1",
                "port": self.server.port,
                "login": self.login,
                "password": self.password,
                "extra": {"use_ssl": False, **extra},
            }
        )


@pytest.fixture
def imap(dovecot: Dovecot) -> Iterator[ImapBox]:
    """A fresh mailbox, configured as the ``imap_default`` Airflow connection for the test."""
    box = ImapBox(dovecot, *dovecot.new_user())
    old = os.environ.get("AIRFLOW_CONN_IMAP_DEFAULT")
    os.environ["AIRFLOW_CONN_IMAP_DEFAULT"] = box.connection()
    yield box
    if old is None:
        os.environ.pop("AIRFLOW_CONN_IMAP_DEFAULT", None)
    else:
        os.environ["AIRFLOW_CONN_IMAP_DEFAULT"] = old


@pytest.fixture
def org(demo):  # type: ignore[no-untyped-def]
    from reaccreditation.organisation.config import load_organisation

    return load_organisation(demo["config"], today=TODAY)


class Sent(list):
    def __call__(self, msg: EmailMessage) -> None:
        self.append(email.message_from_bytes(msg.as_bytes(), policy=policy.default))


@pytest.fixture
def run(imap, project_db, org, tmp_path):  # type: ignore[no-untyped-def]
    """One mailbox pass as the DAG task does it (own IMAP login), returning (counts, answers sent)."""
    from reaccreditation.db import make_engine
    from reaccreditation.mailbox.imap import Mailbox, MailboxSettings
    from reaccreditation.mailbox.process import Context, collect, own_addresses, send_answers
    from reaccreditation.settings import Paths

    engine = make_engine(project_db)
    paths = Paths(tmp_path / "data")
    sent = Sent()

    def once(**settings: object) -> dict:
        client = imap.client()
        try:
            ctx = Context(org, engine, paths, "test", own_addresses(org))
            counts = collect(Mailbox(client, MailboxSettings(**settings)), ctx)  # type: ignore[arg-type]
            counts["answers_sent"] = send_answers(ctx, sent)
            return counts
        finally:
            client.logout()

    once.engine, once.paths, once.sent = engine, paths, sent  # type: ignore[attr-defined]
    return once
