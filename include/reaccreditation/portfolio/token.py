"""The assessor's download link: a signed, expiring token naming one portfolio version and its recipient.

``<payload>.<signature>``: the payload is base64url JSON (year, version, recipient, expiry as a Unix
time, and when it was issued in Unix milliseconds), the signature HMAC-SHA256 over it under the
organisation's signing key (the Airflow variable ``reaccreditation_signing_key``, the key the request
workbooks are sealed with), domain-separated by a fixed prefix so a workbook seal can never pass as a
download token or the other way round. The signature proves the token was issued here and not altered,
the expiry that it is still valid; the issued-at lets a revocation (``portfolio_revocation``, checked by
``portfolio.download``) void the links issued before it and not the ones issued after. The link expires
at the end of the assessment's last day plus ``portfolio.download_days_after``, in the organisation's
time zone.

Tokens signed under the first prefix (``PURPOSE_V1``, no issued-at) are still accepted until they
expire: they count as issued before every revocation, so any revocation naming them voids them.
``issue`` only makes the current format.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PURPOSE = b"reaccreditation portfolio download v2\n"
PURPOSE_V1 = b"reaccreditation portfolio download v1\n"  # links mailed before issued-at existed: verified, never issued


class BadToken(ValueError):
    """The token was not issued here, was altered, or is not a token at all."""


class ExpiredToken(ValueError):
    """A genuine token past its expiry."""

    def __init__(self, grant: Grant) -> None:
        super().__init__(f"the link expired on {grant.expires_at:%d %B %Y at %H:%M %Z}")
        self.grant = grant


@dataclass(frozen=True)
class Grant:
    assessment_year: int
    version: int
    recipient: str
    expires: int  # Unix time
    issued_at: int | None = None  # Unix milliseconds; None for a first-format (v1) token

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.expires, UTC)


def millis(t: datetime) -> int:
    """A moment as the token's issued-at counts it (naive datetimes are UTC)."""
    return int((t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp() * 1000)


def expiry(last_day: date, days_after: int, tz: str = "Europe/London") -> datetime:
    """The first moment after ``last_day + days_after`` in the organisation's time zone."""
    end = datetime.combine(last_day + timedelta(days=days_after + 1), time(0), ZoneInfo(tz))
    return end.astimezone(UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str, purpose: bytes = PURPOSE) -> str:
    if not key:
        raise ValueError("the signing key is empty")
    return _b64(hmac.new(key, purpose + payload.encode(), hashlib.sha256).digest())


def issue(key: bytes, grant: Grant) -> str:
    """A current-format token for ``grant``, issued now unless the grant says when."""
    issued = grant.issued_at if grant.issued_at is not None else millis(datetime.now(UTC))
    body = json.dumps(
        {"y": grant.assessment_year, "v": grant.version, "to": grant.recipient, "exp": grant.expires, "iat": issued},
        separators=(",", ":"),
    )
    payload = _b64(body.encode())
    return f"{payload}.{_mac(key, payload)}"


def verify(key: bytes, token: str, now: datetime) -> Grant:
    """The grant a genuine, unexpired token carries; raises BadToken or ExpiredToken."""
    payload, dot, signature = (token or "").strip().partition(".")
    if not dot or not payload or not signature or len(token) > 2000:
        raise BadToken("this is not a complete download link")
    if hmac.compare_digest(signature, _mac(key, payload)):
        current = True
    elif hmac.compare_digest(signature, _mac(key, payload, PURPOSE_V1)):
        current = False
    else:
        raise BadToken("this download link has been altered or was not issued by us")
    try:
        data = json.loads(_unb64(payload))
        issued = int(data["iat"]) if current else None  # a v1 payload never carried one: it is not read
        grant = Grant(int(data["y"]), int(data["v"]), str(data["to"]), int(data["exp"]), issued)
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:  # signed but unreadable: never issued by issue()
        raise BadToken("this download link cannot be read") from exc
    if now.timestamp() >= grant.expires:
        raise ExpiredToken(grant)
    return grant


def digest(token: str) -> str:
    """What the download log keeps instead of the token (a token in a log would be a working link)."""
    return hashlib.sha256((token or "").encode()).hexdigest()
