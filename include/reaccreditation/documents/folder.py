"""Documents dropped in the intake inbox: a folder beside a workbook, or a folder holding a workbook and its documents.

``inbox/housing-evidence-2027.xlsx`` + ``inbox/housing-evidence-2027/…pdf``: the folder named like the
workbook holds its documents. ``inbox/from-housing/`` holding a workbook and documents: the workbook is moved
into the inbox for the sweep and the rest are its documents. The department is the one the folder's (or
workbook's) name says, as intake identifies a workbook by name; a folder that names none is quarantined
whole, with ``REASON.txt``. Documents are kept (or refused) before the sweep reads the workbook, so its
reply can say which rows name a document that did not come.
"""

from __future__ import annotations

import logging
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from reaccreditation.documents import store
from reaccreditation.files import write_atomic
from reaccreditation.organisation.config import Organisation
from reaccreditation.settings import Paths

log = logging.getLogger(__name__)
WORKBOOK_SUFFIXES = (".xlsx", ".ods", ".csv", ".xlsm", ".xls")
MAX_FILES = 200


def _department(org: Organisation, name: str) -> str | None:
    lowered = name.lower()
    for dept_id in sorted((d.id for d in org.departments), key=len, reverse=True):
        if re.search(rf"(?<![a-z0-9]){re.escape(dept_id)}(?![a-z0-9])", lowered):
            return dept_id
    return None


def take_deliveries(org: Organisation, engine: Engine, paths: Paths) -> list[Path]:
    """Keep the documents of every delivery folder in the inbox, remove the folder; the workbooks moved into the inbox."""
    inbox = paths.inbox
    counts = {"kept": 0, "refused": 0, "folders": 0, "quarantined": 0}
    moved: list[Path] = []
    if not inbox.is_dir():
        return moved
    for folder in sorted(p for p in inbox.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")):
        files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink() and not p.name.startswith((".", "~$")))
        workbooks = [p for p in files if p.suffix.lower() in WORKBOOK_SUFFIXES]
        documents = [p for p in files if p not in workbooks]
        beside = next(
            (w for w in inbox.iterdir() if w.is_file() and w.stem == folder.name and w.suffix.lower() in WORKBOOK_SUFFIXES), None
        )
        workbook_name = workbooks[0].name if workbooks else beside.name if beside else None
        department = _department(org, folder.name) or (_department(org, workbook_name) if workbook_name else None)
        counts["folders"] += 1
        if department is None or len(files) > MAX_FILES or (workbook_name is None):
            why = (
                "no department could be identified from the folder's name"
                if department is None
                else f"more than {MAX_FILES} files"
                if len(files) > MAX_FILES
                else "no evidence workbook in it or beside it"
            )
            _quarantine(paths, folder, why)
            counts["quarantined"] += 1
            continue
        received = datetime.fromtimestamp(folder.stat().st_mtime, UTC)
        delivery = store.Delivery(org.assessment.year, department, "inbox", received, container=f"with {workbook_name}")
        for path in documents:
            row = store.keep(engine, paths, delivery, path.name, path.read_bytes())
            counts[row["status"]] += 1
        for wb in workbooks:  # the sweep reads it from the inbox, under its own name (a second one gets a number)
            target = inbox / wb.name
            n = 1
            while target.exists():
                n += 1
                target = inbox / f"{wb.stem} ({n}){wb.suffix}"
            wb.replace(target)
            moved.append(target)
        shutil.rmtree(folder)
        log.info("documents: %s from %s: %s document(s)", folder.name, department, len(documents))
    if counts["folders"]:
        log.info("documents: %s", counts)
    return moved


def _quarantine(paths: Paths, folder: Path, why: str) -> None:
    target = paths.quarantine / f"folder-{datetime.now(UTC):%Y%m%dT%H%M%S}-{store.safe_name(folder.name)}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(folder), str(target))
    write_atomic(target / "REASON.txt", f"{folder.name}: not read, {why}\n".encode())
    log.warning("documents: folder %s quarantined: %s", folder.name, why)
