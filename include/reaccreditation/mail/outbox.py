"""Send each email at most once, whatever reruns, retries or backfills do.

A message is identified by a ``dedupe_key`` (e.g. ``request:2027:finance:alice@x``). We claim the key in
the database *before* handing the message to SMTP; a failed delivery releases the claim so a retry can
send it, a successful one marks it sent. A crash between delivery and marking leaves ``sending``: the
message is then never resent automatically (it may have gone) and shows up for the quality team; so does a
message whose SMTP session broke after its content was sent (``session.DeliveryUncertain``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from reaccreditation.db.schema import outbound_message
from reaccreditation.mail.compose import recipients
from reaccreditation.mail.session import DeliveryUncertain

Transport = Callable[[EmailMessage], None]


def already_sent(engine: Engine, dedupe_key: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(outbound_message.c.id).where(outbound_message.c.dedupe_key == dedupe_key)).first() is not None


def send_once(
    engine: Engine,
    transport: Transport,
    msg: EmailMessage,
    *,
    dedupe_key: str,
    assessment_year: int,
    kind: str,
    department_id: str | None = None,
    attachment: str | None = None,
    run_id: str | None = None,
) -> bool:
    """Deliver ``msg`` unless ``dedupe_key`` was already claimed; True when it was sent now."""
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(outbound_message).values(
                    dedupe_key=dedupe_key,
                    assessment_year=assessment_year,
                    department_id=department_id,
                    kind=kind,
                    recipients=", ".join(recipients(msg)),
                    subject=str(msg["Subject"]),
                    message_id=str(msg["Message-ID"]),
                    status="sending",
                    attachment=attachment,
                    run_id=run_id,
                    created_at=now,
                )
            )
    except IntegrityError:
        return False
    try:
        transport(msg)
    except DeliveryUncertain:
        raise  # it may have gone: keep the claim ("sending"), never send it again automatically
    except Exception:
        # Not delivered: release the claim so the task's retry can send it.
        with engine.begin() as conn:
            conn.execute(delete(outbound_message).where(outbound_message.c.dedupe_key == dedupe_key))
        raise
    with engine.begin() as conn:
        conn.execute(
            update(outbound_message)
            .where(outbound_message.c.dedupe_key == dedupe_key)
            .values(status="sent", sent_at=datetime.now(UTC))
        )
    return True


def sent_messages(engine: Engine, assessment_year: int, kind: str | None = None) -> list[dict]:
    query = select(outbound_message).where(outbound_message.c.assessment_year == assessment_year)
    if kind:
        query = query.where(outbound_message.c.kind == kind)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query.order_by(outbound_message.c.id))]
