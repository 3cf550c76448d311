"""Mail-loop safety: messages no person wrote are recorded, never answered.

Answering an out-of-office or a bounce starts a loop between two robots; answering a mailing list
mails everyone on it. The signals are the standard ones (RFC 3834 ``Auto-Submitted``, ``Precedence``,
the null return path of a bounce, DSN/MDN ``multipart/report``) plus the headers and subjects of the
common mail servers that do not set them.
"""

from __future__ import annotations

import re
from email.message import Message

AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-AutoReply-From", "X-Mail-Autoreply", "X-Auto-Reply")
LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "Mailing-List")
ROBOT_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+@]|$)", re.IGNORECASE)
AUTO_SUBJECTS = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoreply|out of (the )?office|undeliverable|undelivered mail|"
    r"delivery status notification|mail delivery (failed|failure|system)|returned mail|read:|not read:)",
    re.IGNORECASE,
)


def _header(msg: Message, name: str) -> str | None:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a malformed header is still a header that is present
        return "?"
    return None if value is None else str(value)


def automatic_reason(msg: Message, sender: str | None) -> str | None:
    """Why this message must not be answered (None: a person wrote it)."""
    auto = _header(msg, "Auto-Submitted")
    if auto is not None and auto.strip().lower() != "no":
        return f"automatic message (Auto-Submitted: {auto.strip()[:40]})"
    precedence = (_header(msg, "Precedence") or "").strip().lower()
    if precedence in AUTO_PRECEDENCE:
        return f"automatic or bulk message (Precedence: {precedence})"
    for name in AUTO_HEADERS:
        if _header(msg, name) is not None:
            return f"auto-reply ({name} header)"
    for name in LIST_HEADERS:
        if _header(msg, name) is not None:
            return f"mailing-list traffic ({name} header)"
    return_path = _header(msg, "Return-Path")
    if return_path is not None and return_path.strip() in ("<>", ""):
        return "bounce (empty return path)"
    if msg.get_content_type() == "multipart/report":
        kind = msg.get_param("report-type") or "report"
        return f"delivery or read report (multipart/report; {kind})"
    if sender and ROBOT_SENDERS.match(sender):
        return f"sent by a mail robot ({sender})"
    subject = _header(msg, "Subject") or ""
    if AUTO_SUBJECTS.match(subject):
        return f"automatic reply or bounce (subject {subject.strip()[:60]!r})"
    return None
