"""Keep a document content-addressed (``documents/<sha[:2]>/<sha><suffix>``) or quarantine it, with provenance.

One row per (department, year, file name, content) in ``evidence_document``: the message and container it
came in, its SHA-256, and its version (a new content under a name already received is the next version;
the newest is the one the portfolio uses). Recording the same file again returns the first row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select

from reaccreditation.db.schema import evidence_document
from reaccreditation.documents import safety
from reaccreditation.documents.matching import fold
from reaccreditation.files import sha256_bytes, write_atomic
from reaccreditation.settings import Paths


@dataclass(frozen=True)
class Delivery:
    """Where a document came from: the department, the message (if by email) and the zip or folder around it."""

    assessment_year: int
    department_id: str
    source: str  # imap | inbox
    received_at: datetime
    mailbox_message_id: int | None = None
    message_key: str | None = None
    container: str | None = None


def documents_root(paths: Paths) -> Path:
    return paths.root / "documents"


def document_path(paths: Paths, sha: str, filename: str) -> Path:
    return documents_root(paths) / sha[:2] / (sha + safety.suffix(filename))


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._ -]+", "_", Path(name.replace("\\", "/")).name).strip(" .")[:120] or "document"


def keep(engine: Engine, paths: Paths, delivery: Delivery, filename: str, data: bytes) -> dict[str, Any]:
    """Check, store and record one document; the row (``status`` kept or refused, ``reason``)."""
    sha = sha256_bytes(data)
    name = fold(filename)
    existing = _find(engine, delivery, name, sha)
    if existing is not None:
        return existing
    values: dict[str, Any] = {"content_type": None, "reason": None}
    try:
        values["content_type"] = safety.check(filename, data)
        target = document_path(paths, sha, filename)
        if not target.exists():
            write_atomic(target, data)
        values |= {"status": "kept", "stored_path": str(target)}
    except safety.RefusedDocument as exc:
        folder = paths.quarantine / f"document-{sha[:12]}"
        write_atomic(folder / safe_name(filename), data)
        reason = f"{filename}: not kept, {exc}"
        provenance = f"department: {delivery.department_id}\nmessage: {delivery.message_key or '-'}\nsha256: {sha}\n"
        write_atomic(folder / "REASON.txt", (reason + "\n" + provenance).encode())
        values |= {"status": "refused", "reason": str(exc), "stored_path": str(folder)}
    with engine.begin() as conn:
        earlier = conn.execute(
            select(func.count())
            .select_from(evidence_document)
            .where(
                evidence_document.c.department_id == delivery.department_id,
                evidence_document.c.assessment_year == delivery.assessment_year,
                evidence_document.c.match_name == name,
                evidence_document.c.status == "kept",
            )
        ).scalar_one()
        conn.execute(
            insert(evidence_document).values(
                assessment_year=delivery.assessment_year,
                department_id=delivery.department_id,
                filename=filename,
                match_name=name,
                sha256=sha,
                size=len(data),
                source=delivery.source,
                mailbox_message_id=delivery.mailbox_message_id,
                message_key=delivery.message_key,
                container=delivery.container,
                received_at=delivery.received_at,
                version=earlier + 1,
                **values,
            )
        )
    found = _find(engine, delivery, name, sha)
    assert found is not None
    return found


def _find(engine: Engine, delivery: Delivery, name: str, sha: str) -> dict[str, Any] | None:
    t = evidence_document
    with engine.connect() as conn:
        row = conn.execute(
            select(t).where(
                t.c.department_id == delivery.department_id,
                t.c.assessment_year == delivery.assessment_year,
                t.c.match_name == name,
                t.c.sha256 == sha,
            )
        ).first()
    return dict(row._mapping) if row else None


def kept(engine: Engine, year: int, department_id: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    """The newest kept document per (department, folded name)."""
    t = evidence_document
    query = select(t).where(t.c.assessment_year == year, t.c.status == "kept").order_by(t.c.version, t.c.id)
    if department_id is not None:
        query = query.where(t.c.department_id == department_id)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    return {(r["department_id"], r["match_name"]): r for r in rows}
