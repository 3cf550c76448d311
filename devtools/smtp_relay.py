"""A local stand-in for a council's SMTP relay, for the tests and benchmarks of the SMTP transport.

Unlike the sink (``devtools.smtp_sink``) it asks for a login (AUTH LOGIN/PLAIN, over plain text on loopback),
counts sessions and logins, keeps every message it took (by Message-ID), and can behave like a remote,
rate-limited relay: ``latency`` seconds before every reply (a network round trip) and ``login_cost``
seconds on each login, and ``drop_after`` messages per session, after which it closes the connection
(as relays that cap messages per session do). ``drop_in_data`` closes it once, after a message's content
arrives and before the reply: the client cannot know whether that message was taken.
"""

from __future__ import annotations

import asyncio
import email
import json
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from email import policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USER, PASSWORD = "reaccreditation", "relay-test-password"
# aiosmtpd warns on every successful AUTH that its own legacy Session.login_data is deprecated.
logging.getLogger("mail.log").setLevel(logging.ERROR)


@dataclass
class RelayLog:
    sessions: int = 0
    logins: int = 0
    messages: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]


class _Handler:
    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        relay = self.relay
        if relay.drop_in_data:
            relay.drop_in_data = False
            assert server.transport is not None
            server.transport.close()  # the content arrived; the client never hears whether it was taken
            return "250 OK"  # goes nowhere: the connection is closed
        msg = email.message_from_bytes(envelope.original_content or b"", policy=policy.default)
        with relay.log.lock:
            relay.log.messages.append(msg)
        session.taken = getattr(session, "taken", 0) + 1  # type: ignore[attr-defined]
        if relay.drop_after and session.taken >= relay.drop_after:  # type: ignore[attr-defined]
            loop = asyncio.get_running_loop()
            assert server.transport is not None
            loop.call_soon(server.transport.close)  # after the 250 below is written
        return "250 Message accepted for delivery"


class _RelaySMTP(SMTP):
    relay: Relay

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        with self.relay.log.lock:
            self.relay.log.sessions += 1
        super().connection_made(transport)

    async def push(self, status: Any) -> None:
        if self.relay.latency:
            await asyncio.sleep(self.relay.latency)
        await super().push(status)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Relay(Controller):
    """``with Relay() as relay:`` a relay on a free loopback port; ``relay.connection()`` is its Airflow
    connection (JSON for ``AIRFLOW_CONN_...``)."""

    def __init__(self, *, latency: float = 0.0, login_cost: float = 0.0, drop_after: int = 0, drop_in_data: bool = False) -> None:
        self.log = RelayLog()
        self.latency, self.login_cost = latency, login_cost
        self.drop_after, self.drop_in_data = drop_after, drop_in_data
        super().__init__(
            _Handler(self),
            hostname="127.0.0.1",
            port=_free_port(),
            auth_require_tls=False,
            authenticator=self._authenticate,
        )

    def factory(self) -> SMTP:
        smtp = _RelaySMTP(self.handler, **self.SMTP_kwargs)
        smtp.relay = self
        return smtp

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
        if ok:
            if self.login_cost:
                time.sleep(self.login_cost)  # the relay's own cost of a login (a directory look-up)
            with self.log.lock:
                self.log.logins += 1
        return AuthResult(success=ok, handled=False)

    def connection(self) -> str:
        return json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": self.port,
                "login": USER,
                "password": PASSWORD,
                "extra": {
                    "disable_ssl": True,
                    "disable_tls": True,
                    "from_email": "quality@kestrelvale.example.org",
                    "retry_limit": 0,
                },
            }
        )

    def __enter__(self) -> Relay:
        self.start()
        with self.log.lock:
            self.log.sessions = 0  # start() connected once to check the server is up
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
