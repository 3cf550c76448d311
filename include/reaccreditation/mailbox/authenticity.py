"""Is a message's From its sender's own? The organisation's mail server says so, or nobody does.

``From`` is written by whoever sends the message. The organisation's inbound mail server checks SPF,
DKIM and DMARC on arrival and records its verdict in an ``Authentication-Results`` header (RFC 8601)
that starts with its own ``authserv-id``. Anyone can write such a header too, so only the one from the
configured ``mailbox.authentication.authserv_id`` counts, and only the topmost of those (the mail server
adds its header above everything that came with the message, and must remove inbound ones carrying its
id). The message is authentic when that header says ``dmarc=pass`` for exactly the domain of the one
strictly parsed ``From`` mailbox (:func:`reaccreditation.mailbox.message.strict_from`). Everything else
(no header, another server's, unreadable, ``fail``, ``none``, another domain) is no verdict: the message
is handled as a stranger's. The header is parsed by ``authres``, a maintained RFC 8601 parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message

from reaccreditation.mail.compose import one_line
from reaccreditation.mailbox.message import Incoming
from reaccreditation.organisation.config import MailAuthentication

HEADER = "Authentication-Results"
# authserv-id: the first value of the header, after any comments (RFC 8601 section 2.2)
_AUTHSERV = re.compile(r"\s*(?:\([^()]*\)\s*)*([^\s;()\"]+)")


@dataclass(frozen=True)
class Verdict:
    authentic: bool
    reason: str  # what the quality team and the record are told


def _raw(msg: Message, name: str) -> Iterator[str]:
    """Every ``name`` header as it came (unfolded), topmost first."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            yield re.sub(r"\r?\n(?=[ \t])", "", str(value))


def authserv_id(value: str) -> str | None:
    m = _AUTHSERV.match(value)
    return m.group(1).lower().rstrip(".") if m else None


class NotConfigured(ValueError):
    """Authentication is required but the config names no mail server to trust: no message can be believed."""


def ready(settings: MailAuthentication) -> None:
    """Refuse to read the mailbox at all (before any message is claimed) when no verdict could ever count."""
    if settings.required and not settings.authserv_id:
        raise NotConfigured(
            "organisation config: mailbox.authentication.authserv_id is not set. Name the id your inbound mail server "
            "writes first in its Authentication-Results header (e.g. authserv_id: mail.example.org; see docs/mailbox.md), "
            "or set mailbox.authentication.required: false (demo only: every From is then believed unchecked)"
        )


def check(incoming: Incoming, settings: MailAuthentication) -> Verdict:
    """The verdict on ``incoming``'s sender under ``settings`` (``required: false``: believed unchecked)."""
    if not settings.required:
        return Verdict(True, "not checked: mailbox.authentication.required is false (demo only)")
    ready(settings)
    if incoming.sender is None:
        return Verdict(False, incoming.from_problem or "the message has no From address")
    return verdict(incoming.msg, incoming.sender, settings.authserv_id)  # type: ignore[arg-type]


def verdict(msg: Message, sender: str, trusted: str) -> Verdict:
    import authres

    trusted = trusted.lower().rstrip(".")
    domain = sender.rsplit("@", 1)[1].rstrip(".")
    header = next((v for v in _raw(msg, HEADER) if authserv_id(v) == trusted), None)
    if header is None:
        return Verdict(False, f"not authenticated: no {HEADER} header from our mail server ({trusted})")
    try:
        parsed = authres.AuthenticationResultsHeader.parse_value(header)
    except Exception as exc:  # noqa: BLE001 - an unreadable verdict is no verdict
        return Verdict(False, f"not authenticated: our mail server's {HEADER} could not be read ({one_line(str(exc), 80)})")
    dmarc = [r for r in parsed.results if str(r.method).lower() == "dmarc"]
    if len(dmarc) != 1:
        return Verdict(False, f"not authenticated: our mail server's {HEADER} has {len(dmarc)} DMARC results, not one")
    [result] = dmarc
    outcome = str(result.result).lower()
    checked = next(
        (
            str(p.value).lower().rstrip(".")
            for p in result.properties
            if str(p.type).lower() == "header" and str(p.name).lower() == "from"
        ),
        None,
    )
    if outcome != "pass":
        return Verdict(False, f"not authenticated: DMARC {one_line(outcome, 20)} for {checked or domain} ({trusted})")
    if checked != domain:
        return Verdict(
            False, f"not authenticated: DMARC passed for {one_line(checked or 'no domain', 80)}, not for the From domain {domain}"
        )
    return Verdict(True, f"DMARC pass for {domain} ({trusted})")
