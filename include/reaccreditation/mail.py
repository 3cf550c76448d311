"""Build the emails we send (HTML with a plain-text alternative, attachments, inline images).

Only builds :class:`email.message.EmailMessage` objects; delivery goes through the Airflow SMTP
provider in :mod:`reaccreditation.airflow_adapter`. Anything that came from a spreadsheet or config and
lands in a header is forced onto one line here, so it cannot inject headers.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

# Fold header lines only past RFC 5322's hard limit: the default (78) folds a 70-character subject right
# after "Subject:", which some parsers (Python's included) then read back with a leading space.
POLICY = policy.default.clone(max_line_length=998)
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
    """An image shown in the HTML body as ``<img src="cid:{cid}">``."""

    cid: str
    content: bytes
    subtype: str = "png"


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


def build_message(draft: Draft, domain: str = "reaccreditation.local") -> EmailMessage:
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = one_line(draft.subject, 250)
    if draft.sender is not None:
        msg["From"] = draft.sender
    msg["To"] = list(draft.to)
    if draft.cc:
        msg["Cc"] = list(draft.cc)
    if draft.reply_to is not None:
        msg["Reply-To"] = draft.reply_to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=domain)
    for key, value in draft.headers.items():
        msg[one_line(key, 60)] = one_line(value, 500)
    msg.set_content(draft.text)
    msg.add_alternative(draft.html, subtype="html")
    if draft.images:
        html_part = msg.get_payload()[-1]
        for image in draft.images:
            html_part.add_related(image.content, maintype="image", subtype=image.subtype, cid=f"<{image.cid}>")
    for att in draft.attachments:
        mime = att.mime_type or mimetypes.guess_type(att.filename)[0] or "application/octet-stream"
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(att.content, maintype=maintype, subtype=subtype, filename=one_line(Path(att.filename).name, 120))
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
