"""The kept documents a reviewer opens from the queue: only those the item itself names, of its own department.

A request names an evidence item and a file name. It is served only when the item's "Link or file name"
cell names that file, the item's own department sent a document of that name this year, the newest copy was
kept (a document the safety checks refused is never served) and its stored copy lies in the document store.
Anything else, a path (``../``), another department's file, a name the item does not give, is "not found":
the answer never says whether such a file exists. The plugin serves the file behind Airflow's login.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from reaccreditation.db.schema import evidence, evidence_document
from reaccreditation.documents.matching import fold, named_files
from reaccreditation.documents.store import documents_root
from reaccreditation.settings import Paths


@dataclass(frozen=True)
class Document:
    path: Path
    filename: str  # as the department sent it
    sha256: str


def find(engine: Engine, paths: Paths, evidence_id: int, name: str) -> Document | None:
    """The newest kept copy of ``name`` when the item ``evidence_id`` names it; None otherwise (see the module)."""
    with engine.connect() as conn:
        row = conn.execute(select(evidence).where(evidence.c.id == evidence_id)).first()
        if row is None or name not in named_files(row.link):
            return None
        t = evidence_document
        newest = conn.execute(
            select(t)
            .where(t.c.department_id == row.department_id, t.c.assessment_year == row.assessment_year)
            .where(t.c.match_name == fold(name))
            .order_by(t.c.id.desc())
            .limit(1)
        ).first()
    if newest is None or newest.status != "kept" or not newest.stored_path:
        return None
    root = documents_root(paths).resolve()
    try:
        path = Path(newest.stored_path).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return Document(path, newest.filename, newest.sha256)


def openable(engine: Engine, assessment_year: int, items: list[dict[str, Any]]) -> dict[int, list[str]]:
    """Item id -> the file names in its cell whose newest copy was kept (those :func:`find` serves; the queue
    links them)."""
    if not items:
        return {}
    t = evidence_document
    departments = sorted({i["department_id"] for i in items})
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.department_id, t.c.match_name, t.c.status)
            .where(t.c.assessment_year == assessment_year, t.c.department_id.in_(departments))
            .order_by(t.c.id)
        ).all()
    newest = {(r.department_id, r.match_name): r.status for r in rows}  # the last row wins
    out: dict[int, list[str]] = {}
    for i in items:
        names = [n for n in named_files(i.get("link")) if newest.get((i["department_id"], fold(n))) == "kept"]
        if names:
            out[i["evidence_id"]] = names
    return out
