"""Messages as department staff and robots send them to the quality mailbox."""

from __future__ import annotations

import random
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from reaccreditation.demo.returns import fill, good_rows
from reaccreditation.mail.compose import POLICY
from reaccreditation.organisation.config import Organisation
from reaccreditation.requests.workbook import RequestWorkbook

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def workbook(org: Organisation, dept_id: str, *, stale: bool = False, seed: int = 1) -> bytes:
    """The department's request workbook filled in; ``stale``: one row dated before the evidence window."""
    dept = org.department(dept_id)
    rows = good_rows(org, dept, random.Random(seed), partial_share=0.0)
    if stale:
        rows[1]["evidence_date"] = org.assessment.evidence_window_start - timedelta(days=400)
    return fill(RequestWorkbook(org, dept).to_bytes(), rows)


def request_subject(org: Organisation, dept_id: str) -> str:
    dept = org.department(dept_id)
    return (
        f"Evidence request {org.assessment.year}: {dept.name}, reply by {org.return_deadline:%d %B %Y} "
        f"[REQ-{org.assessment.year}-{dept_id}]"
    )


def reply(
    org: Organisation,
    dept_id: str | None,
    sender: tuple[str, str],
    *,
    attachments: list[tuple[str, bytes]] = (),
    subject: str | None = None,
    headers: dict[str, str] | None = None,
    body: str = "Please find our evidence attached.",
    in_reply_to: str | None = None,
) -> EmailMessage:
    msg = EmailMessage(policy=POLICY)
    msg["From"] = f"{sender[0]} <{sender[1]}>"
    msg["To"] = org.quality_team.mailbox
    msg["Subject"] = subject if subject is not None else "Re: " + request_subject(org, dept_id)  # type: ignore[arg-type]
    msg["Date"] = formatdate()
    msg["Message-ID"] = make_msgid(domain="mail.kestrelvale.example.org")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(body)
    for name, data in attachments:
        if name.endswith(".xlsx"):
            msg.add_attachment(data, maintype=XLSX[0], subtype=XLSX[1], filename=name)
        else:
            maintype, subtype = ("application", "zip") if name.endswith(".zip") else ("application", "pdf")
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def contact(org: Organisation, dept_id: str, n: int = 0) -> tuple[str, str]:
    p = org.department(dept_id).evidence_contacts[n]
    return p.name, p.email


def raw(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=POLICY.clone(linesep="\r\n"))


AUTHSERV = "mail.kestrelvale.example.org"  # the demo council's inbound mail server, as a secured config names it


def verdict(sender: tuple[str, str] | str, result: str = "pass", authserv: str = AUTHSERV) -> str:
    """The Authentication-Results header a mail server writes after checking DMARC for ``sender``'s domain."""
    domain = (sender if isinstance(sender, str) else sender[1]).rsplit("@", 1)[1]
    return (
        f"Authentication-Results: {authserv};\r\n\tspf=pass smtp.mailfrom={domain};\r\n\tdkim=pass header.d={domain};"
        f"\r\n\tdmarc={result} (p=reject) header.from={domain}"
    )


def delivered(data: bytes, *headers: str) -> bytes:
    """The message as the mail server stores it: ``headers`` added on top, the first topmost."""
    return b"".join(h.encode() + b"\r\n" for h in headers) + data
