"""The project's external systems through Airflow connections: the database, SMTP out, IMAP in.

Domain code takes plain values (an engine, a transport callable, an IMAP client); these build them
from the connections ``reaccreditation_db``, ``smtp_default`` and ``imap_default``, so credentials,
TLS and retries stay the Airflow providers'.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import Engine

if TYPE_CHECKING:
    from reaccreditation.mail.session import SmtpSession

DB_CONN_ID = "reaccreditation_db"
SMTP_CONN_ID = "smtp_default"
IMAP_CONN_ID = "imap_default"
SIGNING_KEY_VARIABLE = "reaccreditation_signing_key"
# The Airflow pool every mail-sending task takes a slot of: its size (REACCREDITATION_SMTP_RELAY_SLOTS, set by
# deploy/airflow-init.sh) is how many SMTP sessions the relay is asked to hold at once.
SMTP_POOL = "smtp_relay"


def database_url(conn_id: str = DB_CONN_ID) -> str:
    """SQLAlchemy URL of the project database, from an Airflow connection (sqlite or postgres)."""
    from airflow.sdk.bases.hook import BaseHook

    conn = BaseHook.get_connection(conn_id)
    kind = (conn.conn_type or "").lower()
    if kind == "sqlite":
        return f"sqlite:///{conn.host}"
    if kind in ("postgres", "postgresql"):
        auth = ""
        if conn.login:
            auth = quote(conn.login, safe="") + (f":{quote(conn.password, safe='')}" if conn.password else "") + "@"
        port = f":{conn.port}" if conn.port else ""
        return f"postgresql+psycopg2://{auth}{conn.host}{port}/{conn.schema or 'reaccreditation'}"
    raise ValueError(f"connection {conn_id!r} has type {conn.conn_type!r}; expected sqlite or postgres")


@cache
def engine(conn_id: str = DB_CONN_ID) -> Engine:
    from reaccreditation.db import make_engine

    return make_engine(database_url(conn_id))


def smtp_transport(conn_id: str = SMTP_CONN_ID) -> SmtpSession:
    """A transport delivering built messages through the Airflow SMTP provider, one session per task.

    The session opens on the first message and serves every later one (``mail.session``: reopened when the
    relay drops it, closed when the task lets go of the transport). SmtpHook.send_email_smtp cannot send a
    text/plain alternative or inline images, so we log in with the hook (connection, TLS, auth and its
    connect retries stay the provider's) and hand its client our finished message.
    """
    from reaccreditation.mail.session import Opened, SmtpSession

    def connect() -> Opened:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        hook = SmtpHook(smtp_conn_id=conn_id).get_conn()
        client = hook._smtp_client  # the provider exposes no public send for a built message
        if not isinstance(client, smtplib.SMTP):
            raise RuntimeError(f"SMTP connection {conn_id!r} did not open")

        def end() -> None:
            try:
                client.quit()
            finally:
                hook.__exit__(None, None, None)

        return Opened(client, end, hook.from_email)

    return SmtpSession(connect)


@contextmanager
def imap_mailbox(conn_id: str = IMAP_CONN_ID) -> Iterator[tuple[Any, dict] | None]:
    """The quality mailbox's logged-in ``imaplib`` client and the connection's extras, or None when no
    IMAP connection is configured (the mailbox is optional: the inbox folder alone works).

    The IMAP provider's ``retrieve_mail_attachments`` drops the sender and headers, so callers read whole
    messages through the hook's client; connection, SSL and login stay the provider's.
    """
    from airflow.providers.imap.hooks.imap import ImapHook
    from airflow.sdk.bases.hook import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        yield None
        return
    with ImapHook(imap_conn_id=conn_id) as hook:
        yield hook.mail_client, dict(conn.extra_dejson)


def imap_ssl_context(extra: Mapping[str, Any]) -> ssl.SSLContext:
    """The TLS context the Airflow IMAP provider's hook connects with, for a connection with ``use_ssl``, so
    the mailbox watcher (``mailbox.watch``, in the triggerer) connects exactly as the intake's fetch does.

    The provider's rule (``ImapHook._build_client``): the connection's ``ssl_context`` extra, else
    ``[imap] ssl_context``, else ``[email] ssl_context``, else "default". "default" verifies the server's
    certificate and name (``ssl.create_default_context()``); "none" hands ``imaplib.IMAP4_SSL`` no context, and
    imaplib then connects with the standard library's own, which verifies nothing: so does this. Any other
    word is refused, as the provider refuses it (here as an ``ImapError``: the watcher retries, not dies).
    """
    from airflow.providers.common.compat.sdk import conf

    from reaccreditation.mailbox.imap import ImapError

    name = extra.get("ssl_context") or None
    if name is None:
        name = conf.get("imap", "SSL_CONTEXT", fallback=None)
    if name is None:
        name = conf.get("email", "SSL_CONTEXT", fallback=None)
    if name is None:
        name = "default"
    if name == "default":
        return ssl.create_default_context()
    if name == "none":
        return ssl._create_stdlib_context()  # what imaplib.IMAP4_SSL uses when given no context
    raise ImapError(f"The email.ssl_context configuration variable must be set to 'default' or 'none' and is '{name}'.")


def signing_key(variable: str = SIGNING_KEY_VARIABLE) -> bytes:
    """The secret the request workbooks' ``_meta`` is signed with (``workbook.signature``).

    An Airflow variable (or a secrets backend behind it); the demo and the tests set it to the public
    demo key through ``AIRFLOW_VAR_REACCREDITATION_SIGNING_KEY``. Missing, the task fails and says how to set it.
    """
    from airflow.sdk import Variable

    value = Variable.get(variable, default=None)
    if not value or len(value) < 16:
        raise RuntimeError(
            f"the Airflow variable {variable!r} is not set (or shorter than 16 characters): set it to a long random secret, "
            f"e.g. airflow variables set {variable} \"$(python -c 'import secrets; print(secrets.token_urlsafe(32))')\""
        )
    return str(value).encode()


def variable_secrets(name: str) -> str | None:
    """A secret by Airflow variable name (or the secrets backend behind variables), None when unset: the
    ``secrets`` callable of ``timetable.diaries.read_for`` (a CalDAV diary's ``password_variable``)."""
    from airflow.sdk import Variable

    value = Variable.get(name, default=None)
    return str(value) if value else None


def server_signing_key(variable: str = SIGNING_KEY_VARIABLE) -> bytes:
    """:func:`signing_key` outside a task (a command line, the API server): the environment or secrets
    backend, else the metadata database (the Task SDK's ``Variable.get`` does not read it outside a task)."""
    try:
        return signing_key(variable)
    except RuntimeError:
        from airflow.models import Variable  # the server-side model reads the database; the SDK one does not here

        value = Variable.get(variable, default_var=None)  # noqa: AIR311
        if not value or len(str(value)) < 16:
            raise
        return str(value).encode()


def api_base_url() -> str:
    """The Airflow API server's address, as the links it serves are written: ``[api] base_url``, else
    localhost on ``[api] port`` (what the evidence_portfolio DAG's send uses)."""
    from airflow.configuration import conf

    return conf.get("api", "base_url", fallback=None) or f"http://localhost:{conf.get('api', 'port', fallback='8080')}"
