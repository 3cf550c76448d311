"""What an approval is bound to: the SHA-256 of exactly what would be sent.

The approval task computes a :class:`Binding` when it opens a request and records it; the send step
computes it again from what it is about to send and refuses on any difference
(``decisions.require_approved``). Each stage says what its content is (``packs.manifest.digest``,
``timetable.pipeline.content_digest``); this module only makes the fingerprint canonical.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Binding:
    """The item an approval request is about: its year, kind, reference (file or folder) and digest."""

    assessment_year: int
    item_kind: str
    item_ref: str
    digest: str


def digest_of(content: Any) -> str:
    """SHA-256 of ``content`` as canonical JSON (sorted keys, no spaces): equal content, equal digest."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_digests(folder: Path, names: Iterable[str]) -> dict[str, str]:
    """SHA-256 of each named file under ``folder`` ("missing" for one that is not there)."""
    out = {}
    for name in names:
        path = folder / name
        out[name] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
    return out
