"""Import past years' accepted evidence and past outcomes from CSV, for a register that has no history yet.

The request workbooks pre-fill last year's accepted evidence and show last year's ratings, both read from
the project database. A deployment that starts using this pipeline (and the demo) has them only as files:
``history/evidence_<year>.csv`` (one row per accepted evidence item) and ``history/outcomes.csv`` (the
assessor's rating per element per year). Importing is idempotent: a file already imported (same SHA-256)
is skipped; a changed evidence file replaces the earlier import of that year (old rows stop being current);
outcomes are imported only while the database has none for last year (later corrections go through the
``assessment_history`` DAG and are never overwritten from here).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from reaccreditation.db.schema import assessment_outcome, evidence, submission
from reaccreditation.files import sha256_bytes
from reaccreditation.standards import Standard, available, load_standard
from reaccreditation.workbook.layout import EVIDENCE_TYPES

SOURCE = "history"
EVIDENCE_FILE = re.compile(r"^evidence_(\d{4})\.csv$")
EVIDENCE_COLUMNS = ("department_id", "element_id", "title", "evidence_type")


class HistoryError(ValueError):
    """A history file cannot be imported; the message names the file, row and column."""


@dataclass(frozen=True)
class Imported:
    file: str
    status: str  # absent | already imported | imported
    rows: int = 0

    def __str__(self) -> str:
        return f"{self.file}: {self.status}" + (f" ({self.rows} rows)" if self.status == "imported" else "")


def _read_csv(path: Path, data: bytes, required: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HistoryError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise HistoryError(
            f"{path}: missing column(s) {', '.join(missing)} in the header row (found: {', '.join(reader.fieldnames or [])})"
        )
    return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


def _yes(value: str) -> bool:
    return value.lower() in ("yes", "y", "true", "1")


def _date(path: Path, line: int, value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HistoryError(f"{path}: row {line}, column evidence_date: {value!r} is not a date like 2026-03-31") from None


def _ratings(standard: Standard | None) -> tuple[str, ...]:
    """Self-rating labels a history row may carry: the standard's own, or (no standard given) any standard's."""
    if standard is not None:
        return standard.labels
    return tuple(dict.fromkeys(label for s in available() for label in load_standard(s).labels))


def _evidence_rows(
    path: Path, rows: list[dict[str, str]], valid_elements: set[str] | None, standard: Standard | None = None
) -> list[dict]:
    ratings = _ratings(standard)
    out = []
    for line, row in enumerate(rows, 2):
        for column in EVIDENCE_COLUMNS:
            if not row.get(column):
                raise HistoryError(f"{path}: row {line}, column {column}: empty (required)")
        if valid_elements is not None and row["element_id"] not in valid_elements:
            raise HistoryError(f"{path}: row {line}, column element_id: unknown element {row['element_id']!r}")
        if row["evidence_type"] not in EVIDENCE_TYPES:
            raise HistoryError(
                f"{path}: row {line}, column evidence_type: {row['evidence_type']!r} is not one of {', '.join(EVIDENCE_TYPES)}"
            )
        if row.get("self_rating") and row["self_rating"] not in ratings:
            raise HistoryError(
                f"{path}: row {line}, column self_rating: {row['self_rating']!r} is not one of {', '.join(ratings)}"
            )
        out.append(
            {
                "department_id": row["department_id"],
                "element_id": row["element_id"],
                "title": row["title"],
                "evidence_type": row["evidence_type"],
                "link": row.get("link") or None,
                "evidence_date": _date(path, line, row.get("evidence_date", "")),
                "owner": row.get("owner") or None,
                "self_rating": row.get("self_rating") or None,
                "cplus_claim": _yes(row.get("cplus_claim", "")),
                "cplus_justification": row.get("cplus_justification") or None,
                "notes": row.get("notes") or None,
                "statement": row.get("statement") or None,  # optional column: how the element is met
                "sheet": path.name,
                "row_number": line,
                "is_current": True,
            }
        )
    return out


def import_evidence(
    engine: Engine, path: Path, valid_elements: set[str] | None = None, standard: Standard | None = None
) -> Imported:
    """Load ``evidence_<year>.csv`` into ``submission`` (source "history") and ``evidence``."""
    path = Path(path)
    if not path.is_file():
        return Imported(path.name, "absent")
    match = EVIDENCE_FILE.match(path.name)
    if not match:
        raise HistoryError(f"{path}: expected a file name like evidence_2026.csv (the year the evidence was accepted for)")
    year = int(match.group(1))
    data = path.read_bytes()
    sha = sha256_bytes(data)
    with engine.connect() as conn:
        if conn.execute(select(submission.c.id).where(submission.c.sha256 == sha)).first():
            return Imported(path.name, "already imported")
    rows = _evidence_rows(path, _read_csv(path, data, EVIDENCE_COLUMNS), valid_elements, standard)
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            earlier = conn.execute(
                select(submission.c.id, submission.c.version).where(
                    submission.c.source == SOURCE, submission.c.assessment_year == year
                )
            ).all()
            if earlier:  # a corrected file replaces the earlier import of that year
                conn.execute(
                    update(evidence).where(evidence.c.submission_id.in_([i for i, _ in earlier])).values(is_current=False)
                )
            submission_id = conn.execute(
                insert(submission).values(
                    sha256=sha,
                    original_name=path.name,
                    assessment_year=year,
                    department_id=None,
                    source=SOURCE,
                    submitter="history import",
                    received_at=now,
                    status="accepted",
                    archive_path=str(path),
                    rows_total=len(rows),
                    rows_accepted=len(rows),
                    rows_rejected=0,
                    version=max((v or 1 for _, v in earlier), default=0) + 1,
                    message=f"last year's accepted evidence imported from {path.name}",
                )
            ).inserted_primary_key[0]
            if rows:
                conn.execute(
                    insert(evidence),
                    [r | {"assessment_year": year, "submission_id": submission_id, "created_at": now} for r in rows],
                )
    except IntegrityError:  # a concurrent run imported the same file first
        return Imported(path.name, "already imported")
    return Imported(path.name, "imported", len(rows))


def import_outcomes(engine: Engine, path: Path, assessment_year: int) -> Imported:
    """Load ``outcomes.csv`` (with the gap stage's importer) only while last year has no outcomes at all.

    Once last year is in the database, outcomes belong to the ``assessment_history`` DAG: a daily run
    here must never overwrite a correction imported there.
    """
    from reaccreditation.outcomes.history import import_outcomes as upsert_outcomes

    path = Path(path)
    if not path.is_file():
        return Imported(path.name, "absent")
    with engine.connect() as conn:
        have = conn.execute(
            select(func.count())
            .select_from(assessment_outcome)
            .where(assessment_outcome.c.assessment_year == assessment_year - 1)
        ).scalar_one()
    if have:
        return Imported(path.name, "already imported")
    result = upsert_outcomes(engine, path)
    return Imported(path.name, "imported", result.inserted + result.updated)


def import_history(
    engine: Engine,
    folder: Path,
    assessment_year: int,
    valid_elements: set[str] | None = None,
    standard: Standard | None = None,
) -> list[Imported]:
    """Import the outcomes history and every past year's evidence from ``folder`` (the config's ``history/``).

    Last year's evidence pre-fills this year's workbooks; earlier years let the gap analysis measure its
    forecast against what the assessor then said (gaps.accuracy). Each file is imported once.
    """
    folder = Path(folder)
    last = folder / f"evidence_{assessment_year - 1}.csv"
    earlier = sorted(
        p
        for p in (folder.glob("evidence_*.csv") if folder.is_dir() else ())
        if (m := EVIDENCE_FILE.match(p.name)) and int(m.group(1)) < assessment_year - 1
    )
    return [
        import_outcomes(engine, folder / "outcomes.csv", assessment_year),
        import_evidence(engine, last, valid_elements, standard),
        *(import_evidence(engine, p, valid_elements, standard) for p in earlier),
    ]


def history_count(engine: Engine, assessment_year: int) -> int:
    """Current evidence rows of ``assessment_year`` (for logs and tests)."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.count())
            .select_from(evidence)
            .where(evidence.c.assessment_year == assessment_year, evidence.c.is_current.is_(True))
        ).scalar_one()
