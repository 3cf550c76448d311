"""One pass over the quality mailbox: claim, archive, decide, hand workbooks to intake, answer.

Per message, in this order: claim by Message-ID (else leave it: done or another run's), archive the
raw ``.eml`` content-addressed, record an answer to a timetable invite (an RSVP from an authenticated sender: never answered, see
:mod:`reaccreditation.timetable.rsvp`), record why it is not answered (our own mail, auto-reply, bounce, list),
decide who sent it, then either quarantine its attachments and tell the quality team (a stranger), or
write its workbooks into the intake inbox (each recorded first, with the name and modification time
the sweep will give its receipt) or prepare a specific answer (no workbook, zip refused). Only when
the message's row says ``done`` is it flagged or moved on the server. Our own answers are sent last,
from the database, each at most once (``mailbox:<digest>:<kind>`` in the outbox).
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Engine

from reaccreditation.files import write_atomic
from reaccreditation.mail.compose import MSGID_TAG, one_line
from reaccreditation.mailbox import answers, authenticity, store
from reaccreditation.mailbox.imap import Mailbox
from reaccreditation.mailbox.loops import automatic_reason
from reaccreditation.mailbox.message import Incoming, Part, parse
from reaccreditation.mailbox.parts import sort_parts
from reaccreditation.mailbox.senders import decide
from reaccreditation.organisation.config import Organisation
from reaccreditation.settings import Paths

log = logging.getLogger(__name__)
# mail.build_message's Message-IDs: <...reaccreditation@organisation's domain> (older ones: @reaccreditation.local)
OWN_MESSAGE_ID = re.compile(rf"(\.{MSGID_TAG}@[^<>@\s]+|@reaccreditation\.local)>$")


@dataclass
class Context:
    org: Organisation
    engine: Engine
    paths: Paths
    run_id: str | None = None
    own_addresses: frozenset[str] = frozenset()


def eml_path(paths: Paths, sha: str) -> Path:
    return paths.archive / "mail" / sha[:2] / f"{sha}.eml"


def collect(mailbox: Mailbox, ctx: Context) -> dict[str, Any]:
    """Handle every waiting message; returns counts for the task log and XCom."""
    counts: Counter[str] = Counter()
    authenticity.ready(ctx.org.mailbox.authentication)  # a config that can believe nobody fails before any claim
    mailbox.open()
    for uid in mailbox.waiting():
        fetched = mailbox.fetch(uid)
        if fetched is None:
            continue
        raw, arrived = fetched
        incoming = _parse(raw)
        row_id, state = store.claim(
            ctx.engine,
            incoming,
            folder=mailbox.settings.folder,
            uid=uid,
            uidvalidity=mailbox.uidvalidity,
            received_at=arrived or incoming.sent_at or datetime.now(UTC),
            run_id=ctx.run_id,
        )
        if row_id is None:
            counts[f"already_{state}"] += 1
            if state == "done":
                mailbox.done(uid)  # handled by a run that stopped before marking it
            continue
        try:
            handling = handle(ctx, row_id, incoming, received_at=arrived or datetime.now(UTC))
        except Exception as exc:  # noqa: BLE001 - one bad message never stops the others
            if _infrastructure(exc):
                raise
            log.exception("mailbox: %s could not be handled", incoming.message_key)
            handling = _unreadable(ctx, row_id, incoming, exc)
        counts[handling] += 1
        mailbox.done(uid)
    return dict(sorted(counts.items()))


def _parse(raw: bytes) -> Incoming:
    """The parsed message; one Python's parser gives up on is kept as bytes (and goes to the quality team)."""
    try:
        return parse(raw)
    except Exception:  # noqa: BLE001
        log.exception("mailbox: a message could not be parsed")
        from email.message import EmailMessage

        return Incoming(
            raw=raw,
            msg=EmailMessage(),
            message_id=None,
            sender=None,
            sender_name="",
            subject="(message could not be read)",
            in_reply_to=[],
            references=[],
            sent_at=None,
        )


def _infrastructure(exc: BaseException) -> bool:
    """Our database, disk or mail server failing: fail the task (retried), never blame the message."""
    import imaplib
    import socket

    from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

    if isinstance(exc, DBAPIError) and not isinstance(exc, (IntegrityError, DataError)):
        return True
    if isinstance(exc, (imaplib.IMAP4.abort, socket.timeout, ConnectionError)):
        return True
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EIO)


def _unreadable(ctx: Context, row_id: int, incoming: Incoming, exc: Exception) -> str:
    key = hashlib.sha256(incoming.message_key.encode()).hexdigest()[:40]
    eml = eml_path(ctx.paths, incoming.raw_sha256)
    if not eml.exists():
        write_atomic(eml, incoming.raw)
    store.finish(
        ctx.engine,
        row_id,
        handling="unreadable",
        reason=f"could not be handled ({type(exc).__name__}: {exc})"[:500],
        eml_path=str(eml),
        details={"headline": "a message could not be handled and needs a person", "files": []},
        answer_key=f"mailbox:{key}:unreadable",
    )
    return "unreadable"


def handle(ctx: Context, row_id: int, incoming: Incoming, *, received_at: datetime) -> str:
    """Decide and record what happens to one claimed message; returns its handling."""
    eml = eml_path(ctx.paths, incoming.raw_sha256)
    if not eml.exists():
        write_atomic(eml, incoming.raw)
    common: dict[str, Any] = {"eml_path": str(eml)}
    sender = incoming.sender
    key = hashlib.sha256(incoming.message_key.encode()).hexdigest()[:40]
    if incoming.message_id and store.sent_by_us(ctx.engine, incoming.message_id):
        store.finish(
            ctx.engine, row_id, handling="own_message", reason="a message this system sent (in the outbox log)", **common
        )
        return "own_message"
    if (handled := _rsvp(ctx, row_id, incoming, common)) is not None:
        return handled
    reason = automatic_reason(incoming.msg, sender)
    if reason:
        log.info("mailbox: %s from %s not answered: %s", incoming.message_key, sender, reason)
        store.finish(ctx.engine, row_id, handling="automatic", reason=reason, **common)
        return "automatic"
    if sender and sender in ctx.own_addresses:  # not in our outbox log, so someone else wrote it: never answered, shown
        why = "it says it comes from the quality mailbox itself, but it is not a message this system sent"
        return _stranger(ctx, row_id, incoming, why, key, common)
    if incoming.message_id and OWN_MESSAGE_ID.search(incoming.message_id):
        log.info("mailbox: %s looks like our own Message-ID but is not in the outbox log: handled as any message", key)
    decision = decide(ctx.org, incoming, store.thread_departments(ctx.engine, incoming.in_reply_to + incoming.references))
    common |= {"department_id": decision.department_id, "request_reference": decision.reference}
    if not sender:
        return _stranger(ctx, row_id, incoming, incoming.from_problem or "the message has no From address", key, common)
    verdict = authenticity.check(incoming, ctx.org.mailbox.authentication)
    if not verdict.authentic:
        claimed = f" (it claims to be from the {decision.role} of {decision.department_id})" if decision.authorised else ""
        return _stranger(ctx, row_id, incoming, verdict.reason + claimed, key, common)
    if not decision.authorised:
        return _stranger(ctx, row_id, incoming, decision.reason, key, common)
    sorted_parts = sort_parts(incoming.parts)
    position = 0
    for part in sorted_parts.workbooks:
        position += 1
        _to_intake(ctx, row_id, position, part, decision.department_id)
    documents = _documents(ctx, row_id, incoming, decision.department_id, sorted_parts.other, received_at)
    for part, doc in zip(sorted_parts.other, documents, strict=True):
        position += 1
        _record(ctx, row_id, position, part, "document" if doc["status"] == "kept" else "refused_document")
    for part, _why in sorted_parts.refused:
        position += 1
        _record(ctx, row_id, position, part, "refused")
    details: dict[str, Any] = {
        "files": [
            _describe(p) + (" (kept as an evidence document)" if d["status"] == "kept" else f": not kept, {d['reason']}")
            for p, d in zip(sorted_parts.other, documents, strict=True)
        ]
        + [f"{_describe(p)}: not opened, {why}" for p, why in sorted_parts.refused],
        "found_by": decision.found_by,
        "role": decision.role,
        "authentication": verdict.reason,
        "forwarded": incoming.forwarded,
    }
    if sorted_parts.workbooks:
        details["workbooks"] = [_describe(p) for p in sorted_parts.workbooks]
        store.finish(ctx.engine, row_id, handling="evidence", reason=decision.reason, details=details, **common)
        return "evidence"
    if sorted_parts.refused:
        details["headline"] = "We could not take evidence from your email: the attachment could not be opened."
        details["advice"] = (
            "Please reply again with the evidence workbook itself attached (the .xlsx file from your request email), not in a "
            "zip file."
        )
    elif any(d["status"] == "kept" for d in documents):
        details["headline"] = "We kept your documents as evidence, but no evidence workbook came with them."
        details["advice"] = (
            "Please reply with the evidence workbook from your request email attached, naming each document in its row's "
            "'Link or file name' column, so the assessor sees which element each document supports."
        )
    elif incoming.parts:
        details["headline"] = (
            "We received your email, but none of its attachments is an evidence workbook, so no evidence was registered."
        )
        details["advice"] = (
            "Please reply again with the evidence workbook from your request email (.xlsx or .ods, or .csv) attached. Other "
            "documents belong in the workbook as links or file names."
        )
    else:
        details["headline"] = "We received your email, but nothing was attached, so no evidence was registered."
        details["advice"] = (
            "Please reply again with the completed evidence workbook from your request email attached (the .xlsx file, or the "
            ".ods LibreOffice saves)."
        )
    store.finish(
        ctx.engine,
        row_id,
        handling="no_workbook",
        reason=details["headline"],
        details=details,
        answer_key=f"mailbox:{key}:no_workbook",
        **common,
    )
    return "no_workbook"


def _documents(
    ctx: Context, row_id: int, incoming: Incoming, department_id: str | None, parts: list[Part], received_at: datetime
) -> list[dict[str, Any]]:
    """Keep (or refuse, with why) each attachment that is not a workbook: the evidence documents."""
    from reaccreditation.documents.pipeline import keep_parts
    from reaccreditation.documents.store import Delivery

    if not parts:
        return []
    delivery = Delivery(
        ctx.org.assessment.year,
        department_id or "unknown",
        "imap",
        received_at,
        mailbox_message_id=row_id,
        message_key=incoming.message_key,
    )
    return keep_parts(ctx.engine, ctx.paths, delivery, [(p.filename, p.data, p.container) for p in parts])


def _rsvp(ctx: Context, row_id: int, incoming: Incoming, common: dict[str, Any]) -> str | None:
    """An answer to a timetable invite: recorded against its session, never answered, never quarantined."""
    from reaccreditation.timetable import rsvp

    has_workbook = bool(sort_parts(incoming.parts).workbooks)
    found = rsvp.find(incoming.msg, incoming.subject, incoming.sender, has_workbook)
    if found is None:
        return None
    verdict = authenticity.check(incoming, ctx.org.mailbox.authentication)
    if not verdict.authentic:  # a forged "Declined" would put a session at risk: kept and shown, never recorded
        reason = f"an answer to a timetable invite, not recorded: {verdict.reason}"
        log.info("mailbox: %s %s", incoming.message_key, reason)
        details = {"recorded": [], "ignored": [], "files": [_describe(p) for p in incoming.parts]}
        store.finish(ctx.engine, row_id, handling="rsvp", reason=reason, details=details, **common)
        return "rsvp"
    done = rsvp.record(
        ctx.engine,
        ctx.org.assessment.year,
        found,
        sender=incoming.sender,
        thread=incoming.in_reply_to + incoming.references,
        message_key=incoming.message_key,
        answered_at=incoming.sent_at or datetime.now(UTC),
        assessors=rsvp.assessor_emails(ctx.org),
    )
    log.info("mailbox: %s is an RSVP: %s", incoming.message_key, done.reason)
    details = {"recorded": done.recorded, "ignored": done.ignored, "files": [_describe(p) for p in incoming.parts]}
    store.finish(ctx.engine, row_id, handling="rsvp", reason=done.reason, details=details, **common)
    return "rsvp"


def _describe(part: Part) -> str:
    where = f" (inside {part.container})" if part.container else ""
    return f"{part.filename}{where}, {len(part.data):,} bytes"


def _record(ctx: Context, row_id: int, position: int, part: Part, handling: str, **extra: Any) -> dict[str, Any]:
    return store.add_attachment(
        ctx.engine,
        row_id,
        position,
        filename=part.filename,
        content_type=part.content_type[:255],
        sha256=part.sha256,
        size=len(part.data),
        container=part.container,
        handling=handling,
        **extra,
    )


def _stranger(ctx: Context, row_id: int, incoming: Incoming, reason: str, key: str, common: dict[str, Any]) -> str:
    """Keep every attachment in quarantine, read nothing, tell the quality team, answer nobody."""
    folder = ctx.paths.quarantine / f"mail-{incoming.raw_sha256[:12]}"
    files = []
    for position, part in enumerate(incoming.parts, 1):
        write_atomic(folder / f"{position:02d}-{inbox_name(part.filename)}", part.data)
        _record(ctx, row_id, position, part, "quarantined")
        files.append(_describe(part))
    write_atomic(
        folder / "REASON.txt",
        (f"{incoming.sender}: {reason}\nMessage-ID: {incoming.message_key}\nSubject: {incoming.subject}\n").encode(),
    )
    details = {
        "files": files,
        "quarantine": str(folder),
        "headline": f"{incoming.sender or 'an unknown sender'} sent {len(files)} attachment(s)"
        if files
        else f"{incoming.sender or 'an unknown sender'} wrote about evidence",
    }
    store.finish(
        ctx.engine, row_id, handling="stranger", reason=reason, details=details, answer_key=f"mailbox:{key}:stranger", **common
    )
    return "stranger"


def inbox_name(filename: str) -> str:
    """A safe file name for the intake inbox: no folders, no control characters, never hidden."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f\x7f/:*?\"<>|]+", "_", one_line(name, 150)).strip(" .")
    return name.lstrip(".~$") or "attachment.xlsx"


def _free_name(inbox: Path, name: str) -> str:
    stem, suffix = os.path.splitext(name)
    candidate, n = name, 1
    while (inbox / candidate).exists():
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    return candidate


def _to_intake(ctx: Context, row_id: int, position: int, part: Part, department_id: str | None) -> None:
    """Hand one workbook to the intake sweep through the inbox folder, exactly once.

    The row (name and modification time) is recorded before the file appears, so the sweep's receipt can
    be tied back to this message; a retaken claim rewrites only a file that neither exists nor was received.
    A file whose name does not say the department (a CSV or the department's own workbook has no hidden
    request details) gets the sender's department id in front, so intake can identify it by name.
    """
    inbox = ctx.paths.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    row = store.attachment(ctx.engine, row_id, position)
    if row is None:
        written_ns = (time.time_ns() // 1000) * 1000  # whole microseconds: what the database keeps
        name = inbox_name(part.filename)
        if department_id and not re.search(rf"(?<![a-z0-9]){re.escape(department_id)}(?![a-z0-9])", name.lower()):
            name = f"{department_id}-{name}"
        row = _record(
            ctx,
            row_id,
            position,
            part,
            "intake",
            inbox_name=_free_name(inbox, name),
            written_at=datetime.fromtimestamp(written_ns / 1e9, UTC),
        )
    elif row["receipt_id"] is not None or (inbox / row["inbox_name"]).exists():
        return
    written = row["written_at"] if row["written_at"].tzinfo else row["written_at"].replace(tzinfo=UTC)
    ns = int(round(written.timestamp() * 1e6)) * 1000
    write_atomic(inbox / row["inbox_name"], part.data, mtime_ns=ns)


def send_answers(ctx: Context, transport: Callable[[Any], None]) -> int:
    """Send every owed answer of our own (this run's and any a failed run left), each at most once."""
    from reaccreditation.mail.outbox import send_once
    from reaccreditation.timetable.rsvp import send_at_risk_notes

    sent = send_at_risk_notes(ctx.engine, ctx.org, transport, ctx.run_id)
    for mail in store.owed_answers(ctx.engine):
        msg, kind, dept = answers.answer(ctx.org, mail)
        sent += send_once(
            ctx.engine,
            transport,
            msg,
            dedupe_key=mail["answer_key"],
            assessment_year=ctx.org.assessment.year,
            kind=kind,
            department_id=dept,
            run_id=ctx.run_id,
        )
    return sent


def own_addresses(org: Organisation, extra: Iterable[str] = ()) -> frozenset[str]:
    return frozenset(a.lower() for a in [org.quality_team.mailbox, *extra] if a)
