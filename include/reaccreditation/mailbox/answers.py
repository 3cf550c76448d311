"""Answers in the sender's thread: our own (no workbook, zip refused) and intake's, threaded.

A reply is threaded by ``In-Reply-To`` (the sender's Message-ID), ``References`` (their chain plus that
id) and the subject ``Re: <their subject>``, and goes to the sender with the department's other evidence
contacts in copy. Strangers get nothing: the quality team gets a notice instead.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Engine

from reaccreditation.mail.compose import Draft, address, build_message, one_line, sender
from reaccreditation.mailbox import store
from reaccreditation.mailbox.message import message_ids
from reaccreditation.organisation.config import Organisation
from reaccreditation.render import local_time, render


def re_subject(subject: str | None) -> str:
    subject = one_line(subject or "", 240)
    return subject if subject.lower().startswith("re:") else f"Re: {subject}".rstrip()


def thread_headers(msg: EmailMessage, mail: dict[str, Any]) -> None:
    """Put ``msg`` in the thread of the message ``mail`` (a ``mailbox_message`` row)."""
    own_id = message_ids(mail["message_key"])
    real = own_id and not own_id[0].endswith("@no-message-id>")
    refs = message_ids(mail.get("references") or "")[-10:] + (own_id if real else [])
    for name in ("Subject", "In-Reply-To", "References", "Auto-Submitted"):
        del msg[name]
    msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: their auto-responders must not answer us
    msg["Subject"] = re_subject(mail.get("subject"))
    if real:
        msg["In-Reply-To"] = own_id[0]
        msg["References"] = " ".join(dict.fromkeys(refs))


def _recipients(org: Organisation, mail: dict[str, Any], name: str = "") -> tuple[list, list]:
    sender = mail["sender"]
    to = [address(name or sender, sender)]
    cc = []
    if mail.get("department_id"):
        dept = org.department(mail["department_id"])
        cc = [address(c.name, c.email) for c in dept.evidence_contacts if c.email.lower() != sender]
        if not name:
            person = next((p for p in [*dept.evidence_contacts, dept.head] if p.email.lower() == sender), None)
            to = [address(person.name if person else sender, sender)]
    return to, cc


def threader(engine: Engine, org: Organisation) -> Callable[[dict[str, Any], dict[str, Any], Any], Any]:
    """A hook for intake's ``send_replies``: a reply to a file that came by email goes back in its thread."""
    store.link_receipts(engine)

    def thread(item: dict[str, Any], sub: dict[str, Any], reply: Any) -> Any:
        mail = store.mail_for_receipt(engine, item.get("receipt_id"))
        if mail is None or reply.department_id is None or not mail.get("sender"):
            return reply  # a dropped file, or an answer that goes to the quality team
        msg = reply.message
        to, cc = _recipients(org, mail | {"department_id": reply.department_id})
        kept = {a.addr_spec.lower() for a in [*to, *cc]}
        cc += [a for a in (msg["Cc"].addresses if msg["Cc"] else ()) if a.addr_spec.lower() not in kept]  # the head
        del msg["To"]
        del msg["Cc"]
        msg["To"] = to
        if cc:
            msg["Cc"] = cc
        thread_headers(msg, mail)
        return reply

    return thread


def answer(org: Organisation, mail: dict[str, Any]) -> tuple[EmailMessage, str, str | None]:
    """Our own answer to a finished message: (message, kind, department id)."""
    details = mail.get("details") or {}
    quality = org.quality_team.members[0]
    ctx = {
        "subject": mail.get("subject") or "(no subject)",
        "received": local_time(mail["received_at"]),
        "reference": mail.get("request_reference") or "-",
        "files": details.get("files", []),
        "headline": details.get("headline", ""),
        "advice": details.get("advice", ""),
        "contact": f"{quality.name}, {quality.email}",
        "sender": mail.get("sender") or "(no sender)",
        "message_id": mail["message_key"],
        "reason": mail.get("reason") or "",
        "eml": mail.get("eml_path") or "-",
        "quarantine": details.get("quarantine"),
    }
    short = org.organisation.short_name
    if mail["handling"] in ("stranger", "unreadable"):
        what = (
            "evidence email from someone who is not a contact"
            if mail["handling"] == "stranger"
            else "an email could not be handled"
        )
        draft = Draft(
            to=[address(m.name, m.email) for m in org.quality_team.members],
            subject=f"{short}: {what}: {ctx['subject']}",
            text=render("mailbox_quality.txt", a=ctx),
            html=render("mailbox_quality.html", a=ctx),
            sender=sender(org),
        )
        return build_message(draft), f"mailbox_{mail['handling']}", None
    to, cc = _recipients(org, mail)
    ctx["name"] = to[0].display_name or mail["sender"]
    draft = Draft(
        to=to,
        cc=cc,
        subject=ctx["subject"],
        text=render("mailbox_answer.txt", a=ctx),
        html=render("mailbox_answer.html", a=ctx),
        sender=sender(org),
        headers={"X-Reaccreditation-Reference": ctx["reference"]},
    )
    msg = build_message(draft)
    thread_headers(msg, mail)
    return msg, f"mailbox_{mail['handling']}", mail.get("department_id")
