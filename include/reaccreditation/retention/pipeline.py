"""The data_retention DAG's one step: delete what is older than ``retention.years``, one log line each.

What goes, and how its age is read:

- archived mail (``archive/mail/**/*.eml``, every message the mailbox fetched): the file's modification
  time, which is when it was archived (nothing rewrites an archived message);
- quarantine (each case folder under ``quarantine/``: refused files and their REASON.txt): the newest
  modification time inside the folder, so a case touched again keeps its full period;
- superseded documents (``documents/``): a kept document whose name has a later version for the same
  department and year, received (``evidence_document.received_at``) more than the period ago, and whose
  content no current version still uses. Its row stays (provenance), its file goes.

Archived workbooks, the register and the database rows are not touched here (docs/security.md lists what
remains). A deletion that fails is logged and skipped; the next day's run tries again.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the DAG imports this module when it is parsed
    from sqlalchemy import Engine

    from reaccreditation.settings import Paths

log = logging.getLogger(__name__)


@dataclass
class Purged:
    cutoff: str
    mail: list[str] = field(default_factory=list)
    quarantine: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff,
            "mail": len(self.mail),
            "quarantine": len(self.quarantine),
            "documents": len(self.documents),
            "failed": len(self.failed),
        }


def cutoff_for(today: date, years: int) -> datetime:
    """The start of the same calendar day ``years`` ago (29 February falls back to the 28th), UTC."""
    try:
        day = today.replace(year=today.year - years)
    except ValueError:
        day = today.replace(year=today.year - years, day=28)
    return datetime.combine(day, time.min, tzinfo=UTC)


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _newest(folder: Path) -> datetime:
    """The newest file inside (the folder's own time changes whenever a file is added or removed)."""
    times = [_mtime(p) for p in folder.rglob("*") if p.is_file()]
    return max(times) if times else _mtime(folder)


def _delete(path: Path, what: str, when: datetime, done: list[str], purged: Purged, root: Path) -> None:
    shown = str(path.relative_to(root))
    try:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    except OSError as exc:
        log.warning("retention: could not delete %s %s (%s); tried again tomorrow", what, shown, exc.strerror)
        purged.failed.append(shown)
        return
    log.info("retention: deleted %s %s (from %s, older than %s)", what, shown, when.date(), purged.cutoff)
    done.append(shown)


def purge(engine: Engine, paths: Paths, years: int, today: date) -> dict[str, Any]:
    """Delete archived mail, quarantine cases and superseded documents older than ``years``; the counts."""
    cutoff = cutoff_for(today, years)
    purged = Purged(cutoff=cutoff.date().isoformat())
    root = paths.root
    mail = paths.archive / "mail"
    for eml in sorted(mail.rglob("*.eml")) if mail.is_dir() else []:
        when = _mtime(eml)
        if when < cutoff:
            _delete(eml, "archived mail", when, purged.mail, purged, root)
    for case in sorted(paths.quarantine.iterdir()) if paths.quarantine.is_dir() else []:
        when = _newest(case) if case.is_dir() else _mtime(case)
        if when < cutoff:
            _delete(case, "quarantine case", when, purged.quarantine, purged, root)
    for stored, when in _superseded_documents(engine, cutoff):
        path = Path(stored)
        if path.is_file() and path.resolve().is_relative_to(root.resolve()):
            _delete(path, "superseded document", when, purged.documents, purged, root)
    log.info("retention: %s", purged.summary())
    return purged.summary()


def _superseded_documents(engine: Engine, cutoff: datetime) -> list[tuple[str, datetime]]:
    """(stored path, received) of kept documents replaced by a later version and received before ``cutoff``."""
    from sqlalchemy import select

    from reaccreditation.db.schema import evidence_document as d

    with engine.connect() as conn:
        rows = conn.execute(
            select(
                d.c.department_id, d.c.assessment_year, d.c.match_name, d.c.version, d.c.sha256, d.c.stored_path, d.c.received_at
            ).where(d.c.status == "kept")
        ).all()
    newest: dict[tuple, int] = {}
    for r in rows:
        key = (r.department_id, r.assessment_year, r.match_name)
        newest[key] = max(newest.get(key, 0), r.version)
    in_use = {r.sha256 for r in rows if r.version == newest[(r.department_id, r.assessment_year, r.match_name)]}
    out = []
    for r in rows:
        received = r.received_at if r.received_at.tzinfo else r.received_at.replace(tzinfo=UTC)  # SQLite drops the zone
        superseded = r.version < newest[(r.department_id, r.assessment_year, r.match_name)]
        if superseded and received < cutoff and r.sha256 not in in_use and r.stored_path:
            out.append((r.stored_path, received))
    return sorted(set(out))
