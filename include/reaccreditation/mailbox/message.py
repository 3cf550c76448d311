"""One message from the mailbox, parsed: who sent it, which thread it answers, what it carries.

Attachments are found wherever a mail client puts them: attached, inline with a file name, inside an
attached or forwarded message (``message/rfc822`` or an ``.eml`` file), each with the container it came
from. Zip files are expanded later (:mod:`.parts`), after the sender is known.
"""

from __future__ import annotations

import email
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.utils import parsedate_to_datetime

from reaccreditation.mail.compose import one_line

MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
MAX_DEPTH = 3  # forwarded inside forwarded inside forwarded: enough for people, bounded for robots


@dataclass
class Part:
    """One attached file as found in the message."""

    filename: str
    content_type: str
    data: bytes
    container: str | None = None  # "message: <subject>" when it came inside an attached/forwarded message

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Incoming:
    raw: bytes
    msg: EmailMessage
    message_id: str | None  # the sender's Message-ID, only when well-formed (it goes into our headers)
    sender: str | None  # lower-case address from From: None unless From is exactly one well-formed mailbox
    sender_name: str
    subject: str
    in_reply_to: list[str]
    references: list[str]
    sent_at: datetime | None
    parts: list[Part] = field(default_factory=list)
    nested_subjects: list[str] = field(default_factory=list)
    nested_references: list[str] = field(default_factory=list)  # X-Reaccreditation-Reference inside forwarded messages
    from_problem: str | None = None  # why From gave no sender (for the quality team's notice)

    @property
    def raw_sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def message_key(self) -> str:
        """What the message is claimed by: its Message-ID, or a digest of its bytes when it has none."""
        return self.message_id or f"<sha256-{self.raw_sha256}@no-message-id>"

    @property
    def forwarded(self) -> bool:
        return bool(self.nested_subjects) or bool(re.match(r"^\s*(fwd?|fw):", self.subject, re.IGNORECASE))


def _text(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a header Python cannot parse reads as empty, never as a crash
        return ""
    return "" if value is None else str(value)


def message_ids(value: str) -> list[str]:
    return MESSAGE_ID.findall(value or "")


def parse(raw: bytes) -> Incoming:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    ids = message_ids(_text(msg, "Message-ID"))
    sender_name, sender, from_problem = "", None, None
    try:
        sender_name, sender = strict_from(msg)
    except ValueError as exc:
        from_problem = str(exc)
    try:
        sent_at = parsedate_to_datetime(_text(msg, "Date")) if _text(msg, "Date") else None
    except (TypeError, ValueError):
        sent_at = None
    incoming = Incoming(
        raw=raw,
        msg=msg,
        message_id=ids[0] if ids else None,
        sender=sender,
        sender_name=sender_name,
        subject=one_line(_text(msg, "Subject"), 250),
        in_reply_to=message_ids(_text(msg, "In-Reply-To")),
        references=message_ids(_text(msg, "References")),
        sent_at=sent_at,
        from_problem=from_problem,
    )
    incoming.parts = list(_attachments(msg, None, incoming, 0))
    if not msg.is_multipart() and msg.get_filename():  # a message that is nothing but one attached file
        incoming.parts = [
            Part(one_line(msg.get_filename() or "", 200), msg.get_content_type(), msg.get_payload(decode=True) or b"")
        ]
    return incoming


def strict_from(msg: Message) -> tuple[str, str]:
    """(display name, lower-case address) of the one mailbox in the one From header, else ValueError.

    Read with Python's RFC 5322 header parser (``email.headerregistry``), not the lenient ``getaddresses``:
    a header with defects is refused, because lenient readers disagree about it (``a@council <b@evil>``
    reads as the council address here and as ``b@evil`` to a DMARC checker).
    """
    values = msg.get_all("From") or []
    if len(values) != 1:
        raise ValueError(f"the message has {len(values)} From headers, not one")
    shown = one_line(str(values[0]), 200)
    try:
        header = msg["From"]
        addresses = header.addresses
        defects = list(header.defects)
    except Exception as exc:  # noqa: BLE001 - a From Python cannot parse at all is no sender
        raise ValueError(f"the From header {shown!r} could not be read ({type(exc).__name__})") from exc
    if defects:
        raise ValueError(f"the From header {shown!r} is malformed ({one_line(str(defects[0]), 120)})")
    if len(addresses) != 1:
        raise ValueError(f"the From header {shown!r} names {len(addresses)} addresses, not one")
    [a] = addresses
    if not a.username or not a.domain or "." not in a.domain:
        raise ValueError(f"the From header {shown!r} is not a full email address")
    return one_line(a.display_name, 100), one_line(a.addr_spec, 254).lower()


def _nested(msg: Message, incoming: Incoming, depth: int) -> Iterator[Part]:
    subject = one_line(_text(msg, "Subject"), 200)
    incoming.nested_subjects.append(subject)
    ref = _text(msg, "X-Reaccreditation-Reference")
    if ref:
        incoming.nested_references.append(one_line(ref, 100))
    yield from _attachments(msg, f"message: {subject or '(no subject)'}", incoming, depth + 1)


def _attachments(msg: Message, container: str | None, incoming: Incoming, depth: int) -> Iterator[Part]:
    if depth > MAX_DEPTH:
        return
    for part in msg.iter_parts() if isinstance(msg, EmailMessage) and msg.is_multipart() else []:
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                yield from _nested(inner, incoming, depth)
            continue
        if part.is_multipart():
            yield from _attachments(part, container, incoming, depth)
            continue
        name = part.get_filename()
        disposition = part.get_content_disposition()
        if not name and disposition != "attachment" and not ctype.startswith(("application/", "message/")):
            continue  # the body text, or an image in it without a name
        data = part.get_payload(decode=True) or b""
        filename = one_line(name or "", 200) or _unnamed(ctype)
        if filename.lower().endswith(".eml") or ctype == "message/global":
            inner = email.message_from_bytes(data, policy=policy.default)
            yield from _nested(inner, incoming, depth)
            continue
        yield Part(filename, ctype, data, container)


def _unnamed(content_type: str) -> str:
    import mimetypes

    return "attachment" + (mimetypes.guess_extension(content_type) or ".bin")
