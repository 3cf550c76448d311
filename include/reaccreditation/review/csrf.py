"""The token every review POST carries, so a page elsewhere cannot make a reviewer's browser post a change.

The browser sends Airflow's ``_token`` cookie with any request to the API server, a forged cross-site
form included; the forger cannot read our page, so it cannot know this token. It is an HMAC of the
user id under a server secret (the API's JWT secret): stateless, valid for that user only.
"""

from __future__ import annotations

import hashlib
import hmac

PURPOSE = b"reaccreditation-review-csrf:"


def token(key: bytes, user_id: str) -> str:
    return hmac.new(key, PURPOSE + user_id.encode(), hashlib.sha256).hexdigest()


def valid(key: bytes, user_id: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(token(key, user_id), str(given))
