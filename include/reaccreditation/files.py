"""Files we generate: writes that never leave a half-written file behind, reading our JSON back, hashes."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal


def write_atomic(path: Path, data: bytes, *, mtime_ns: int | None = None) -> Path:
    """Write via a temporary file in the same folder and rename: readers see old or new, never half.

    ``mtime_ns``: the modification time the file has from the moment it appears under its name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mtime_ns is not None:
            os.utime(tmp, ns=(mtime_ns, mtime_ns))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, payload: Any) -> Path:
    return write_atomic(path, (json.dumps(payload, indent=2, default=str, ensure_ascii=False) + "\n").encode())


@dataclass(frozen=True)
class Unavailable:
    """Why a generated JSON file cannot be used; each reader says so in its own words."""

    path: Path
    reason: Literal["missing", "unreadable", "other_schema", "other_year"]
    detail: str = ""  # the parse error, the schema expected, or the year the file is for


def read_json(path: Path, schema: str, year: int) -> tuple[dict[str, Any] | None, Unavailable | None]:
    """One of our JSON files, checked for its schema id and assessment year; a problem is returned, not raised."""
    if not path.exists():
        return None, Unavailable(path, "missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, Unavailable(path, "unreadable", str(exc))
    if not isinstance(data, dict) or data.get("schema") != schema:
        return None, Unavailable(path, "other_schema", schema)
    if data.get("assessment_year") != year:
        return None, Unavailable(path, "other_year", str(data.get("assessment_year")))
    return data, None


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
