"""Build the emails we send (HTML with a plain-text alternative, attachments, inline images).

Only builds :class:`email.message.EmailMessage` objects; delivery goes through the Airflow SMTP
provider in :mod:`reaccreditation.orchestration.connections`. Anything that came from a spreadsheet or config and
lands in a header is forced onto one line here, so it cannot inject headers.

Every message we build is marked ``Auto-Submitted: auto-generated`` (RFC 3834: out-of-office robots do
not answer it), dated in the organisation's time zone with its offset, identified by a Message-ID in the
sender's (the organisation's) domain, and its bodies are encoded in lines of at most 76 characters.
A calendar invitation goes in the shape Outlook, Google and Thunderbird all process (RFC 6047, iMIP):
``text/calendar; method=...`` inside ``multipart/alternative`` beside the text and HTML, plus an
attached ``invite.ics`` copy for clients that only offer files.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from reaccreditation.settings import local_now

# Fold header lines only past RFC 5322's hard limit: the default (78) folds a 70-character subject right
# after "Subject:", which some parsers (Python's included) then read back with a leading space. The policy
# is the one the message is written with (SMTP), so it governs header folding only.
POLICY = policy.default.clone(max_line_length=998)
# Body parts are encoded with this one: the policy's max_line_length is also the quoted-printable and
# base64 line length, and RFC 2045 allows 76 characters there.
BODY_POLICY = policy.default.clone(max_line_length=76)
AUTO_SUBMITTED = "auto-generated"
MSGID_TAG = "reaccreditation"  # in every Message-ID we make: how the mailbox knows our own mail
FALLBACK_DOMAIN = "reaccreditation.local"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def one_line(text: str, limit: int = 200) -> str:
    """Collapse control characters (CR, LF, NUL...) to spaces and bound the length."""
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def address(name: str, email: str) -> Address:
    user, _, domain = email.partition("@")
    return Address(display_name=one_line(name, 100), username=user, domain=domain)


@dataclass
class Attachment:
    filename: str
    content: bytes
    mime_type: str | None = None


@dataclass
class InlineImage:
    """An image shown in the HTML body as ``<img src="cid:{cid}">``; named ``{cid}.{subtype}``."""

    cid: str
    content: bytes
    subtype: str = "png"


@dataclass
class CalendarPart:
    """An iTIP message (RFC 5546): the calendar object and its METHOD (REQUEST, CANCEL, PUBLISH)."""

    content: bytes
    method: str
    filename: str = "invite.ics"


@dataclass
class Draft:
    """Everything needed to build one message; kept as data so tests can inspect it."""

    to: Sequence[Address]
    subject: str
    text: str
    html: str
    sender: Address | None = None
    cc: Sequence[Address] = ()
    reply_to: Address | None = None
    attachments: Sequence[Attachment] = ()
    images: Sequence[InlineImage] = ()
    headers: dict[str, str] = field(default_factory=dict)
    calendar: CalendarPart | None = None


def sender(org) -> Address:  # type: ignore[no-untyped-def]
    """The one From (and Reply-To) of everything the organisation's pipeline sends: the quality mailbox
    under the config's sender name (``quality_team.sender_name``)."""
    return address(org.sender_name, org.quality_team.mailbox)


def message_domain(draft: Draft) -> str:
    """The organisation's domain: the sender's (the quality mailbox), else the Reply-To's."""
    for a in (draft.sender, draft.reply_to):
        if a is not None and a.domain:
            return a.domain
    return FALLBACK_DOMAIN


def build_message(draft: Draft, domain: str | None = None) -> EmailMessage:
    msg = EmailMessage(policy=BODY_POLICY)
    msg["Subject"] = one_line(draft.subject, 250)
    if draft.sender is not None:
        msg["From"] = draft.sender
    msg["To"] = list(draft.to)
    if draft.cc:
        msg["Cc"] = list(draft.cc)
    reply_to = draft.reply_to or draft.sender
    if reply_to is not None:
        msg["Reply-To"] = reply_to
    msg["Date"] = format_datetime(local_now())
    msg["Message-ID"] = make_msgid(idstring=MSGID_TAG, domain=domain or message_domain(draft))
    msg["Auto-Submitted"] = AUTO_SUBMITTED
    for key, value in draft.headers.items():
        name = one_line(key, 60)
        del msg[name]
        msg[name] = one_line(value, 500)
    msg.set_content(draft.text)
    msg.add_alternative(draft.html, subtype="html")
    if draft.images:
        html_part = msg.get_payload()[-1]
        for image in draft.images:
            html_part.add_related(
                image.content,
                maintype="image",
                subtype=image.subtype,
                cid=f"<{image.cid}>",
                disposition="inline",
                filename=f"{one_line(image.cid, 60)}.{image.subtype}",
            )
    if draft.calendar is not None:
        method = draft.calendar.method.upper()
        msg.add_alternative(draft.calendar.content.decode("utf-8"), subtype="calendar", params={"method": method})
    for att in draft.attachments:
        mime = att.mime_type or mimetypes.guess_type(att.filename)[0] or "application/octet-stream"
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(att.content, maintype=maintype, subtype=subtype, filename=one_line(Path(att.filename).name, 120))
    if draft.calendar is not None:  # the copy for clients that only offer attachments
        msg.add_attachment(
            draft.calendar.content,
            maintype="application",
            subtype="ics",
            filename=one_line(draft.calendar.filename, 120),
            params={"method": draft.calendar.method.upper()},
        )
    msg.policy = POLICY  # written (and its headers folded) with the SMTP policy; bodies stay 76 wide
    return msg


def recipients(msg: EmailMessage) -> list[str]:
    out: list[str] = []
    for header in ("To", "Cc", "Bcc"):
        for addr in msg.get_all(header, []) or []:
            out.extend(a.addr_spec for a in getattr(addr, "addresses", ()) or ())
    return out


def attachment_from_file(path: Path, name: str | None = None) -> Attachment:
    return Attachment(name or path.name, path.read_bytes())


def join_addresses(addresses: Iterable[Address]) -> str:
    return ", ".join(a.addr_spec for a in addresses)
