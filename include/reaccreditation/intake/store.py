"""The evidence register: one transaction per file records the submission, its rows and its receipt.

A file is known by its SHA-256 (``submission.sha256`` is unique), so a re-sent identical file is only a
new ``intake_receipt``. A file that registers rows for a department and year becomes the next
*version*: for each element it gives accepted evidence for, the earlier rows stay, marked
``is_current = false``. An element whose rows in the new file all failed (or that it leaves out) keeps
its earlier accepted evidence current, so a correction never knocks out what was already accepted; the
reply says so. A fully rejected file registers nothing and leaves the current version alone (its
``version`` is 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, select, update

from reaccreditation.db.schema import evidence, intake_receipt, submission

REGISTERING = ("accepted", "partial")


@dataclass
class Outcome:
    """What happened to one file; everything the register and the reply need."""

    sha256: str
    original_name: str
    received_at: datetime
    status: str  # accepted | partial | rejected | quarantined | duplicate
    message: str
    department_id: str | None = None
    assessment_year: int | None = None
    request_reference: str | None = None
    submitter: str | None = None
    rows_total: int = 0
    rows_rejected: int = 0
    archive_path: str | None = None
    annotated_path: str | None = None
    quarantine_path: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)  # accepted evidence rows, layout-keyed
    elements: int = 0
    submission_id: int | None = None
    receipt_id: int | None = None
    version: int = 0

    @property
    def rows_accepted(self) -> int:
        return len(self.rows)


def known_submission(engine: Engine, sha256: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(submission).where(submission.c.sha256 == sha256)).first()
    return dict(row._mapping) if row else None


def find_receipt(engine: Engine, sha256: str, original_name: str, received_at: datetime) -> dict[str, Any] | None:
    """The receipt of this very inbox file (content, name and time), if a sweep already recorded it."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(intake_receipt).where(and_(intake_receipt.c.sha256 == sha256, intake_receipt.c.original_name == original_name))
        ).all()
    for row in rows:
        when = row.received_at if row.received_at.tzinfo else row.received_at.replace(tzinfo=UTC)
        if abs((when - received_at).total_seconds()) < 0.001:
            return dict(row._mapping)
    return None


def _next_version(conn: Connection, department_id: str, year: int) -> int:
    current = conn.execute(
        select(func.max(submission.c.version)).where(
            and_(
                submission.c.department_id == department_id,
                submission.c.assessment_year == year,
                submission.c.status.in_(REGISTERING),
            )
        )
    ).scalar()
    return int(current or 0) + 1


def record(engine: Engine, outcome: Outcome, *, source: str = "inbox", run_id: str | None = None) -> Outcome:
    """Commit the outcome of a newly seen file (submission, evidence rows, receipt) atomically."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        registering = outcome.status in REGISTERING and outcome.department_id and outcome.assessment_year
        version = _next_version(conn, outcome.department_id, outcome.assessment_year) if registering else 0  # type: ignore[arg-type]
        replaced = sorted({r["element_id"] for r in outcome.rows})
        if registering:
            _note_kept(conn, outcome, replaced)
        sub_id = conn.execute(
            insert(submission).values(
                sha256=outcome.sha256,
                original_name=outcome.original_name,
                assessment_year=outcome.assessment_year,
                department_id=outcome.department_id,
                source=source,
                submitter=outcome.submitter,
                received_at=outcome.received_at,
                status=outcome.status,
                archive_path=outcome.archive_path,
                rows_total=outcome.rows_total,
                rows_accepted=outcome.rows_accepted,
                rows_rejected=outcome.rows_rejected,
                version=version,
                message=outcome.message,
                request_reference=outcome.request_reference,
                run_id=run_id,
                annotated_path=outcome.annotated_path,
                quarantine_path=outcome.quarantine_path,
                details=outcome.details,
            )
        ).inserted_primary_key[0]
        if registering:
            conn.execute(
                update(evidence)
                .where(
                    and_(
                        evidence.c.department_id == outcome.department_id,
                        evidence.c.assessment_year == outcome.assessment_year,
                        evidence.c.is_current.is_(True),
                        evidence.c.element_id.in_(replaced),
                    )
                )
                .values(is_current=False)
            )
            if outcome.rows:
                conn.execute(insert(evidence), [_evidence_row(r, outcome, sub_id, now) for r in outcome.rows])
        receipt_id = conn.execute(
            insert(intake_receipt).values(
                sha256=outcome.sha256,
                original_name=outcome.original_name,
                received_at=outcome.received_at,
                outcome="processed",
                submission_id=sub_id,
                run_id=run_id,
                stored_path=outcome.archive_path,
            )
        ).inserted_primary_key[0]
    outcome.submission_id, outcome.receipt_id, outcome.version = sub_id, receipt_id, version
    return outcome


def _note_kept(conn: Connection, outcome: Outcome, replaced: list[str]) -> None:
    """Say which elements whose new rows failed keep the evidence accepted earlier (in the reply's notes)."""
    failed = [e for e in outcome.details.get("failed_elements", []) if e not in replaced]
    if not failed:
        return
    rows = conn.execute(
        select(evidence.c.element_id, func.max(submission.c.received_at))
        .join(submission, evidence.c.submission_id == submission.c.id)
        .where(
            and_(
                evidence.c.department_id == outcome.department_id,
                evidence.c.assessment_year == outcome.assessment_year,
                evidence.c.is_current.is_(True),
                evidence.c.element_id.in_(failed),
            )
        )
        .group_by(evidence.c.element_id)
    ).all()
    if not rows:
        return
    from reaccreditation.render import long_date

    kept = [f"{element} (received {long_date(when)})" for element, when in sorted(rows)]
    outcome.details["kept_earlier"] = [r[0] for r in sorted(rows)]
    outcome.details.setdefault("notes", []).append(
        "the corrected rows for element(s) "
        + ", ".join(kept)
        + " were not accepted, so the evidence accepted earlier for them stays current until a correction is accepted"
    )


def record_duplicate(
    engine: Engine, outcome: Outcome, submission_id: int, *, run_id: str | None = None, stored_path: str | None = None
) -> int:
    with engine.begin() as conn:
        return conn.execute(
            insert(intake_receipt).values(
                sha256=outcome.sha256,
                original_name=outcome.original_name,
                received_at=outcome.received_at,
                outcome="duplicate",
                submission_id=submission_id,
                run_id=run_id,
                stored_path=stored_path,
            )
        ).inserted_primary_key[0]


def _evidence_row(r: dict[str, Any], outcome: Outcome, submission_id: int, now: datetime) -> dict[str, Any]:
    when = r.get("evidence_date")
    if isinstance(when, datetime):
        when = when.date()
    return {
        "assessment_year": outcome.assessment_year,
        "department_id": outcome.department_id,
        "element_id": r["element_id"],
        "title": r["evidence_title"],
        "evidence_type": r["evidence_type"],
        "link": r.get("link"),
        "evidence_date": when if isinstance(when, date) else None,
        "owner": r.get("owner"),
        "self_rating": r.get("self_rating"),
        "cplus_claim": r.get("cplus_claim") == "Yes",
        "cplus_justification": r.get("cplus_justification"),
        "notes": r.get("notes"),
        "confirm": r.get("confirm"),
        "submission_id": submission_id,
        "sheet": r["sheet"],
        "row_number": r["row_number"],
        "is_current": True,
        "created_at": now,
    }


def current_register(engine: Engine, assessment_year: int) -> list[dict[str, Any]]:
    """The current evidence rows with their provenance (file, sheet, row, submitter, received, version)."""
    query = (
        select(
            evidence,
            submission.c.sha256,
            submission.c.original_name,
            submission.c.submitter,
            submission.c.received_at,
            submission.c.version,
        )
        .join(submission, evidence.c.submission_id == submission.c.id)
        .where(and_(evidence.c.assessment_year == assessment_year, evidence.c.is_current.is_(True)))
        .order_by(evidence.c.department_id, evidence.c.element_id, evidence.c.id)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def submissions(engine: Engine, ids: Sequence[int]) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(submission).where(submission.c.id.in_(list(ids))).order_by(submission.c.id))
        return [dict(r._mapping) for r in rows]


def submissions_by_department(engine: Engine, assessment_year: int) -> dict[str, list[dict[str, Any]]]:
    """Department id ("" when unidentified) -> its submissions for the year, newest first."""
    query = (
        select(submission)
        .where(submission.c.assessment_year == assessment_year)
        .order_by(submission.c.received_at.desc(), submission.c.id.desc())
    )
    out: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            out.setdefault(row.department_id or "", []).append(dict(row._mapping))
    return out
