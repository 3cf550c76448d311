"""The only module that touches Airflow: connections, SMTP delivery and the run's context.

Domain code in this package takes plain values (URLs, callables); DAG tasks get them from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from functools import cache
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine

DB_CONN_ID = "reaccreditation_db"
SMTP_CONN_ID = "smtp_default"


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


def smtp_transport(conn_id: str = SMTP_CONN_ID):  # type: ignore[no-untyped-def]
    """A callable delivering a built message through the Airflow SMTP provider.

    SmtpHook.send_email_smtp cannot send a text/plain alternative or inline images, so we log in with the
    hook (connection, TLS, auth and retries stay the provider's) and hand it our finished message.
    """

    def send(msg: EmailMessage) -> None:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        with SmtpHook(smtp_conn_id=conn_id) as hook:
            if not msg["From"] and hook.from_email:
                msg["From"] = hook.from_email
            client = hook._smtp_client  # the provider exposes no public send for a built message
            if client is None:
                raise RuntimeError(f"SMTP connection {conn_id!r} did not open")
            client.send_message(msg)

    return send


def run_today():  # type: ignore[no-untyped-def]
    """The run's logical date as a date in the organisation's time zone: 'today' for schedule decisions.

    Backfills replay the past. The date is taken in local time (REACCREDITATION_TIMEZONE, default
    Europe/London): between 00:00 and 01:00 UK summer time the UTC date would still be yesterday.
    """
    import os
    from zoneinfo import ZoneInfo

    from airflow.sdk import get_current_context

    ctx = get_current_context()
    when = ctx.get("logical_date") or ctx.get("data_interval_end") or ctx["dag_run"].run_after
    return when.astimezone(ZoneInfo(os.environ.get("REACCREDITATION_TIMEZONE", "Europe/London"))).date()


def run_id() -> str:
    from airflow.sdk import get_current_context

    return str(get_current_context()["run_id"])


def default_args() -> dict:
    """Task defaults shared by every reaccreditation DAG.

    Bad input or config fails at once (a retry cannot fix a spreadsheet); an SMTP or database outage is
    retried with backoff.
    """
    from datetime import timedelta

    from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule

    return {
        "owner": "quality-team",
        "retries": 3,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,
        "on_failure_callback": __import__("reaccreditation.dashboard.alerts", fromlist=["notify_failure"]).notify_failure,
        "retry_policy": ExceptionRetryPolicy(
            rules=[
                RetryRule(
                    exception=["reaccreditation.organisation.config.ConfigError", "reaccreditation.standards.StandardError"],
                    action=RetryAction.FAIL,
                    reason="the organisation config or a standard file is wrong: fix the file, then rerun",
                ),
                RetryRule(
                    exception=[
                        "smtplib.SMTPException",
                        "builtins.ConnectionError",
                        "builtins.TimeoutError",
                        "sqlalchemy.exc.OperationalError",
                    ],
                    action=RetryAction.RETRY,
                    reason="mail server or database unavailable: retrying with backoff",
                ),
            ]
        ),
    }


def organisation(today=None):  # type: ignore[no-untyped-def]
    """The organisation config at the configured path, validated for the run's date."""
    from reaccreditation.organisation.config import load_organisation
    from reaccreditation.settings import config_path

    return load_organisation(config_path(), today=today)


IMAP_CONN_ID = "imap_default"


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
