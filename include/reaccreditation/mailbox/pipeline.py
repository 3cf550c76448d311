"""The evidence_intake DAG's mailbox step as a plain function: collect what arrived, then answer it.

Without an IMAP connection nothing happens and the inbox folder alone is swept. The mailbox session
is closed before the answers go out, and the organisation config is read only once there is a
mailbox to work on (a config problem fails the sweep, not this step as well).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the DAG imports this module when it is parsed: the rest is imported when a step runs
    from sqlalchemy import Engine

    from reaccreditation.mail.outbox import Transport
    from reaccreditation.organisation.config import Organisation
    from reaccreditation.settings import Paths


def fetch(
    imap: AbstractContextManager[tuple[Any, dict[str, Any]] | None],
    transport: Transport,
    organisation: Callable[[], Organisation],
    engine: Engine,
    paths: Paths,
    run_id: str,
) -> dict[str, Any]:
    """``imap``: the logged-in client and the connection's extras, or None when no mailbox is configured."""
    from reaccreditation.mailbox.imap import Mailbox, MailboxSettings
    from reaccreditation.mailbox.process import Context, collect, own_addresses, send_answers

    with imap as opened:
        if opened is None:
            return {"mailbox": "not configured"}
        client, extra = opened
        org = organisation()
        ctx = Context(org, engine, paths, run_id, own_addresses(org))
        counts = collect(Mailbox(client, MailboxSettings.from_extra(extra)), ctx)
    return counts | {"answers_sent": send_answers(ctx, transport)}
