"""The mailbox's record in the project database: each message claimed once, each attachment's fate.

A message is claimed by inserting its Message-ID (unique) *before* anything is done with it: a second
run, a retry or an overlapping run loses the insert and leaves the message alone. A claim whose run
died (still ``claimed`` after :data:`STALE_CLAIM`) is taken over with a compare-and-set; every step
after the claim is idempotent (content-addressed archive, attachment rows by position, outbox keys).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from reaccreditation.db.schema import intake_receipt, mailbox_attachment, mailbox_message, outbound_message, submission
from reaccreditation.mailbox.message import Incoming

STALE_CLAIM = timedelta(minutes=30)


def claim(
    engine: Engine,
    incoming: Incoming,
    *,
    folder: str,
    uid: int | None,
    uidvalidity: str | None,
    received_at: datetime,
    run_id: str | None,
    now: datetime | None = None,
) -> tuple[int | None, str]:
    """(row id, state): ``new`` claimed now, ``retaken`` from a dead run, or (None, ``done``/``busy``)."""
    now = now or datetime.now(UTC)
    try:
        with engine.begin() as conn:
            row_id = conn.execute(
                insert(mailbox_message).values(
                    message_key=incoming.message_key,
                    folder=folder,
                    uid=uid,
                    uidvalidity=uidvalidity,
                    sender=incoming.sender,
                    subject=incoming.subject,
                    in_reply_to=" ".join(incoming.in_reply_to),
                    references=" ".join(incoming.references[-20:]),
                    received_at=received_at,
                    raw_sha256=incoming.raw_sha256,
                    status="claimed",
                    run_id=run_id,
                    claimed_at=now,
                )
            ).inserted_primary_key[0]
        return row_id, "new"
    except IntegrityError:
        pass
    with engine.begin() as conn:
        row = conn.execute(select(mailbox_message).where(mailbox_message.c.message_key == incoming.message_key)).one()
        if row.status != "claimed":
            return None, "done"
        claimed_at = row.claimed_at if row.claimed_at.tzinfo else row.claimed_at.replace(tzinfo=UTC)
        if now - claimed_at < STALE_CLAIM:
            return None, "busy"
        taken = conn.execute(
            update(mailbox_message)
            .where(
                and_(
                    mailbox_message.c.id == row.id,
                    mailbox_message.c.status == "claimed",
                    mailbox_message.c.claimed_at == row.claimed_at,
                )
            )
            .values(claimed_at=now, run_id=run_id)
        ).rowcount
    return (row.id, "retaken") if taken == 1 else (None, "busy")


def finish(engine: Engine, row_id: int, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(mailbox_message)
            .where(mailbox_message.c.id == row_id)
            .values(status="done", finished_at=datetime.now(UTC), **values)
        )


def attachment(engine: Engine, row_id: int, position: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(mailbox_attachment).where(
                and_(mailbox_attachment.c.mailbox_message_id == row_id, mailbox_attachment.c.position == position)
            )
        ).first()
    return dict(row._mapping) if row else None


def add_attachment(engine: Engine, row_id: int, position: int, **values: Any) -> dict[str, Any]:
    """Record one attachment (idempotent by message and position: a retaken claim gets the same row)."""
    existing = attachment(engine, row_id, position)
    if existing is not None:
        return existing
    with engine.begin() as conn:
        conn.execute(insert(mailbox_attachment).values(mailbox_message_id=row_id, position=position, **values))
    return attachment(engine, row_id, position)  # type: ignore[return-value]


def sent_by_us(engine: Engine, message_id: str) -> bool:
    """Whether this Message-ID is one of ours: every message the pipeline sends is in the outbox log first.

    A Message-ID that merely looks like ours (our tag, our domain) proves nothing: anyone can write it.
    """
    with engine.connect() as conn:
        return conn.execute(select(outbound_message.c.id).where(outbound_message.c.message_id == message_id)).first() is not None


def thread_departments(engine: Engine, ids: list[str]) -> list[str]:
    """Departments of our own emails (requests, reminders, replies) with one of these Message-IDs."""
    if not ids:
        return []
    with engine.connect() as conn:
        rows = conn.execute(select(outbound_message.c.department_id).where(outbound_message.c.message_id.in_(ids))).scalars()
        return [d for d in rows if d]


def link_receipts(engine: Engine) -> int:
    """Tie each attachment handed to intake to the receipt the sweep recorded for it, once.

    The sweep knows the file by content, name and modification time (which we set); the submission of a
    newly registered file gets ``source = imap`` and the message (sender, Message-ID, ``.eml``) in its
    details, so the evidence's provenance leads to the archived email.
    """
    linked = 0
    with engine.begin() as conn:
        todo = conn.execute(
            select(
                mailbox_attachment,
                mailbox_message.c.message_key,
                mailbox_message.c.sender,
                mailbox_message.c.eml_path,
                mailbox_message.c.subject,
                mailbox_message.c.details.label("mail_details"),
            )
            .join(mailbox_message, mailbox_attachment.c.mailbox_message_id == mailbox_message.c.id)
            .where(and_(mailbox_attachment.c.handling == "intake", mailbox_attachment.c.receipt_id.is_(None)))
        ).all()
        for a in todo:
            receipts = conn.execute(
                select(intake_receipt).where(
                    and_(intake_receipt.c.sha256 == a.sha256, intake_receipt.c.original_name == a.inbox_name)
                )
            ).all()
            written = a.written_at if a.written_at.tzinfo else a.written_at.replace(tzinfo=UTC)
            match = next(
                (
                    r
                    for r in receipts
                    if abs(
                        ((r.received_at if r.received_at.tzinfo else r.received_at.replace(tzinfo=UTC)) - written).total_seconds()
                    )
                    < 0.001
                ),
                None,
            )
            if match is None:
                continue
            conn.execute(update(mailbox_attachment).where(mailbox_attachment.c.id == a.id).values(receipt_id=match.id))
            linked += 1
            if match.outcome == "processed" and match.submission_id:
                sub = conn.execute(select(submission.c.details).where(submission.c.id == match.submission_id)).scalar()
                mail = {
                    "message_id": a.message_key,
                    "sender": a.sender,
                    "subject": a.subject,
                    "eml": a.eml_path,
                    "attachment": a.filename,
                    "container": a.container,
                    "authentication": (a.mail_details or {}).get("authentication"),  # the mail server's verdict on From
                }
                conn.execute(
                    update(submission)
                    .where(submission.c.id == match.submission_id)
                    .values(source="imap", details=dict(sub or {}) | {"mail": mail})
                )
    return linked


def sent_by(engine: Engine, sha256: str, inbox_name: str, written_at: datetime) -> dict[str, Any] | None:
    """Who the mailbox found this inbox file to come from: the authorised sender and department, or None.

    The file is known by content, name and the modification time the mailbox set (as :func:`link_receipts`
    knows it); a file the quality team dropped in the inbox by hand has no such row.
    """
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                mailbox_attachment.c.written_at,
                mailbox_message.c.department_id,
                mailbox_message.c.sender,
                mailbox_message.c.message_key,
            )
            .join(mailbox_message, mailbox_attachment.c.mailbox_message_id == mailbox_message.c.id)
            .where(
                and_(
                    mailbox_attachment.c.handling == "intake",
                    mailbox_attachment.c.sha256 == sha256,
                    mailbox_attachment.c.inbox_name == inbox_name,
                )
            )
        ).all()
    for row in rows:
        written = row.written_at if row.written_at.tzinfo else row.written_at.replace(tzinfo=UTC)
        if abs((written - written_at).total_seconds()) < 0.001:
            return {"department_id": row.department_id, "sender": row.sender, "message_key": row.message_key}
    return None


def mail_for_receipt(engine: Engine, receipt_id: int | None) -> dict[str, Any] | None:
    """The message an intake receipt's file came in (for threading the reply), if it came by email."""
    if receipt_id is None:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(mailbox_message)
            .join(mailbox_attachment, mailbox_attachment.c.mailbox_message_id == mailbox_message.c.id)
            .where(mailbox_attachment.c.receipt_id == receipt_id)
        ).first()
    return dict(row._mapping) if row else None


def owed_answers(engine: Engine) -> list[dict[str, Any]]:
    """Finished messages whose own answer (no workbook, stranger notice...) is not yet in the outbox."""
    with engine.connect() as conn:
        claimed = set(
            conn.execute(select(outbound_message.c.dedupe_key).where(outbound_message.c.dedupe_key.like("mailbox:%"))).scalars()
        )
        rows = conn.execute(
            select(mailbox_message)
            .where(and_(mailbox_message.c.status == "done", mailbox_message.c.answer_key.is_not(None)))
            .order_by(mailbox_message.c.id)
        ).all()
    return [dict(r._mapping) for r in rows if r.answer_key not in claimed]


def attachments_of(engine: Engine, row_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(mailbox_attachment)
            .where(mailbox_attachment.c.mailbox_message_id == row_id)
            .order_by(mailbox_attachment.c.position)
        )
        return [dict(r._mapping) for r in rows]
