"""One SMTP session for all of a task's messages, reopened when the relay drops it.

A council relay rate-limits logins: 300 departments × 2 contacts sent with a login each is 600 logins in one
request day. :class:`SmtpSession` opens the session on the first message, keeps it for every later one and
closes it when the task lets go of the transport (or leaves a ``with`` block).

A relay that closes an idle or long session (or answers 421, "closing") makes the next message fail before
its content is sent: the server has not taken it, so the session is opened again and that message sent on
the new one. A session that breaks *after* the content was sent leaves it unknown whether the relay took the
message; that raises :class:`DeliveryUncertain` and the message is not sent again (``outbox.send_once``
keeps it in ``sending`` for the quality team to check), so nobody receives it twice.
"""

from __future__ import annotations

import smtplib
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any


@dataclass
class Opened:
    """A logged-in session: the client, how to end it, and the sender for a message built without From."""

    client: smtplib.SMTP
    end: Callable[[], None]
    sender: str | None = None


# Connect, say EHLO, STARTTLS and log in. The Airflow seam builds it from the ``smtp_default`` connection.
Connect = Callable[[], Opened]
CLOSING = 421  # "service not available, closing transmission channel": definite, the message was not taken


class DeliveryUncertain(Exception):
    """The session broke after the message's content was sent: the relay may or may not have taken it."""


class _Dropped(Exception):
    """The relay dropped the session before it took the message: safe to send it again on a new session."""


class SmtpSession:
    """A ``Transport`` (``Callable[[EmailMessage], None]``) that reuses one SMTP session.

    ``reconnects`` bounds how many times a dropped session is reopened for one message; a relay that keeps
    dropping fails the message (and the task retries it later, under the retry policy).
    """

    def __init__(self, connect: Connect, *, reconnects: int = 2) -> None:
        self._connect = connect
        self._reconnects = reconnects
        self._opened: Opened | None = None
        self.sessions = 0  # sessions opened (logins), for tests and benchmarks
        self.sent = 0
        # Closed when the task drops its last reference (CPython frees it as the facade returns).
        self._finalizer = weakref.finalize(self, SmtpSession._close_state, self.__dict__)

    def __call__(self, msg: EmailMessage) -> None:
        for attempt in range(self._reconnects + 1):
            opened = self._open()
            if not msg["From"] and opened.sender:
                msg["From"] = opened.sender
            try:
                _deliver(opened.client, msg)
            except _Dropped as dropped:
                self.close()
                if attempt == self._reconnects:
                    raise (dropped.__cause__ or dropped) from None
                continue
            except DeliveryUncertain:
                self.close()
                raise
            self.sent += 1
            return

    def _open(self) -> Opened:
        if self._opened is None:
            self._opened = self._connect()
            self.sessions += 1
        return self._opened

    def close(self) -> None:
        SmtpSession._close_state(self.__dict__)

    @staticmethod
    def _close_state(state: dict[str, Any]) -> None:
        opened, state["_opened"] = state.get("_opened"), None
        if opened is not None:
            try:
                opened.end()
            except (OSError, smtplib.SMTPException):
                pass  # the session is gone either way

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


def _deliver(client: smtplib.SMTP, msg: EmailMessage) -> None:
    """``client.send_message(msg)``, telling a session dropped before the content from one dropped after it."""
    content_sent = False
    data = client.data

    def tracked(payload: Any) -> Any:
        nonlocal content_sent
        content_sent = True
        return data(payload)

    client.data = tracked  # type: ignore[method-assign]  # smtplib calls self.data() from sendmail()
    try:
        client.send_message(msg)
    except smtplib.SMTPServerDisconnected as err:
        if content_sent:
            raise DeliveryUncertain(f"the SMTP session broke while sending {msg['Message-ID']}: {err}") from err
        raise _Dropped(str(err)) from err
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as err:
        if err.smtp_code == CLOSING:
            raise _Dropped(str(err)) from err
        raise
    except smtplib.SMTPRecipientsRefused as err:
        if err.recipients and all(code == CLOSING for code, _ in err.recipients.values()):
            raise _Dropped(str(err)) from err
        raise
    finally:
        del client.data
