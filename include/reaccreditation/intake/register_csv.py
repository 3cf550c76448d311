"""``evidence_register.csv``: the year's current evidence rows with their provenance, for people.

One row per current evidence item: what it is, which file, sheet and row it came from, who sent it and
when, and the file's version. Text a spreadsheet would run as a formula is kept as text. Written only
when it changed, so the evidence register Asset is updated (and gap analysis follows) only then.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from reaccreditation.files import write_atomic
from reaccreditation.intake.store import current_register
from reaccreditation.workbook.formulas import spreadsheet_text

NAME = "evidence_register.csv"
COLUMNS = (
    "department_id",
    "element_id",
    "title",
    "evidence_type",
    "link",
    "evidence_date",
    "owner",
    "self_rating",
    "cplus_claim",
    "cplus_justification",
    "statement",
    "confirm",
    "sheet",
    "row_number",
    "original_name",
    "sha256",
    "submitter",
    "received_at",
    "version",
)


def path(output: Path, year: int) -> Path:
    return output / str(year) / "intake" / NAME


def content(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """The CSV as Excel opens it (UTF-8 with a byte-order mark)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: spreadsheet_text(row.get(k)) for k in COLUMNS})
    return buf.getvalue().encode("utf-8-sig")


def publish(engine: Engine, year: int, output: Path) -> tuple[Path | None, int]:
    """Write the current register when it differs from the file (or none exists yet and there are rows).

    Returns (the path written, or None when nothing changed; the number of current rows).
    """
    rows = current_register(engine, year)
    target = path(output, year)
    data = content(rows)
    if (target.read_bytes() == data) if target.exists() else not rows:
        return None, len(rows)
    write_atomic(target, data)
    return target, len(rows)
