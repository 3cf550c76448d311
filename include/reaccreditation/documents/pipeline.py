"""The documents stage's steps, called from small hooks in the mailbox pass and the intake sweep.

``keep_parts``: the mailbox keeps (or refuses) each non-workbook attachment of an authorised message.
``workbook_findings``: while intake reads a workbook, which rows name a document that never arrived,
which documents came with it, and which were refused; worded for the department's reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine, select

from reaccreditation.documents import store
from reaccreditation.documents.matching import fold, named_files
from reaccreditation.settings import Paths


def keep_parts(
    engine: Engine, paths: Paths, delivery: store.Delivery, parts: list[tuple[str, bytes, str | None]]
) -> list[dict[str, Any]]:
    """Each (file name, bytes, container) kept or refused, in order; one refusal never stops the others."""
    return [store.keep(engine, paths, replace(delivery, container=within), name, data) for name, data, within in parts]


@dataclass
class Findings:
    missing: list[tuple[int, str]] = field(default_factory=list)  # (sheet row, file name the row names)
    notes: list[str] = field(default_factory=list)
    tied: dict[int, list[str]] = field(default_factory=dict)  # sheet row -> sha256s of its documents


def workbook_findings(
    engine: Engine, *, year: int, department_id: str, workbook_sha: str, workbook_name: str, rows: list[dict[str, Any]]
) -> Findings:
    """What the department should hear about its documents when this workbook is read.

    A named file counts as sent when the department sent it at any time this year (with this workbook or
    before); the documents delivered with this workbook and not named by any row are listed as kept anyway.
    """
    found = Findings()
    naming = [(row["row_number"], name) for row in rows for name in named_files(row.get("link"))]
    kept = store.kept(engine, year, department_id) if naming else {}  # most rows give links, not file names
    named: set[str] = set()
    for row_number, name in naming:
        doc = kept.get((department_id, fold(name)))
        named.add(fold(name))
        if doc is None:
            found.missing.append((row_number, name))
        else:
            found.tied.setdefault(row_number, []).append(doc["sha256"])
    delivered = _delivered_with(engine, year, department_id, workbook_sha, workbook_name)
    kept_here = [d for d in delivered if d["status"] == "kept"]
    if kept_here:
        found.notes.append(
            "documents received with this workbook and kept as evidence: " + ", ".join(d["filename"] for d in kept_here)
        )
    unnamed = [d["filename"] for d in kept_here if d["match_name"] not in named]
    if unnamed:
        found.notes.append(
            "kept, but no row names them (add the file name to the row's 'Link or file name' so the assessor sees "
            "which element it supports): " + ", ".join(unnamed)
        )
    for d in delivered:
        if d["status"] == "refused":
            found.notes.append(f"{d['filename']} was not kept: {d['reason']}")
    return found


def _delivered_with(engine: Engine, year: int, department_id: str, workbook_sha: str, workbook_name: str) -> list[dict[str, Any]]:
    """Documents from the same email (or zip, or folder) as this workbook."""
    from reaccreditation.db.schema import evidence_document as d
    from reaccreditation.db.schema import mailbox_attachment as a

    with engine.connect() as conn:
        message_ids = set(
            conn.execute(select(a.c.mailbox_message_id).where(a.c.sha256 == workbook_sha, a.c.handling == "intake")).scalars()
        )
        query = select(d).where(d.c.assessment_year == year, d.c.department_id == department_id)
        if message_ids:
            query = query.where(d.c.mailbox_message_id.in_(message_ids))
        else:
            query = query.where(d.c.source == "inbox", d.c.container == f"with {workbook_name}")
        return [dict(r._mapping) for r in conn.execute(query.order_by(d.c.id))]
