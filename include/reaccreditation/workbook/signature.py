"""The request workbook's seal: an HMAC over what it was sent for, so a returned copy can prove it.

The hidden ``_meta`` sheet names the organisation, department, assessment year and request reference;
anyone can unhide and edit a sheet, so intake trusts those values only when ``signature`` (HMAC-SHA256
under the organisation's secret, the Airflow variable ``reaccreditation_signing_key``) matches them.
Values are compared as text, normalised the way spreadsheet apps change them (``2027`` saved back as
``2027.0``, stray spaces), so a department's own copy, saved in Excel or LibreOffice, always verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

SIGNED = ("organisation", "department_id", "assessment_year", "request_reference")
SIGNATURE_KEY = "signature"
VERSION = "v1"
# The demo and the tests only: scripts/env.sh and tests/conftest.py set the Airflow variable to it.
DEMO_KEY = b"reaccreditation-demo-signing-key: not a secret, never use it for a real organisation"


def _text(value: object) -> str:
    text = " ".join(str(value if value is not None else "").split())
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text


def signed_text(meta: Mapping[str, object]) -> bytes:
    return json.dumps([_text(meta.get(k)) for k in SIGNED], ensure_ascii=False).encode()


def sign(key: bytes, meta: Mapping[str, object]) -> str:
    if not key:
        raise ValueError("the workbook signing key is empty")
    return f"{VERSION}:" + hmac.new(key, signed_text(meta), hashlib.sha256).hexdigest()


def verify(key: bytes, meta: Mapping[str, object]) -> str | None:
    """None when ``meta`` carries our signature over its own values, else why not (in plain words)."""
    given = _text(meta.get(SIGNATURE_KEY))
    if not given:
        return "its hidden request details carry no signature"
    if not hmac.compare_digest(given, sign(key, meta)):
        return "its hidden request details have been changed since we sent it"
    return None
