"""The evidence register: one transaction per file records the submission, its rows and its receipt.

A file is known by its SHA-256 (``submission.sha256`` is unique), so a re-sent identical file is only a
new ``intake_receipt``. A file that registers rows for a department and year becomes the next
*version*: for each element it gives accepted evidence for, the earlier rows stay, marked
``is_current = false``. An element whose rows in the new file all failed (or that it leaves out) keeps
its earlier accepted evidence current, so a correction never knocks out what was already accepted; the
reply says so. A fully rejected file registers nothing and leaves the current version alone (its
``version`` is 0).

A new version never replaces evidence silently: its record says what it changes (items replaced, added
and removed per element, whose version it replaces, by whom; the reply shows it to the department's head
and contacts). A file that came by email from someone other than the sender of the department's last
version is *held* (status ``held``, version 0, its rows kept but not current) until the quality team
confirms it (:func:`confirm_held`, ``python -m reaccreditation.intake confirm <id>``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, select, update

from reaccreditation.db.schema import evidence, intake_receipt, submission
from reaccreditation.review import carry as review_carry

REGISTERING = ("accepted", "partial")
HELD = "held"
CHANGE_TITLES = 20  # item titles kept per element and kind in a change summary


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
    by_mail: bool = False  # its sender is the mailbox's authenticated sender (not the quality team's drop folder)

    @property
    def rows_accepted(self) -> int:
        return len(self.rows)


def current_evidence(department_id: str | None, year: int | None) -> Any:
    """The condition for a department's current evidence rows of a year.

    ``assessment_year + 0``: without statistics SQLite searches by the year's index, which holds every row
    of every department and version of the year (a full scan, longer with every file registered); so the
    year is only checked, and the department's index finds the rows.
    """
    return and_(
        evidence.c.department_id == department_id,
        evidence.c.assessment_year + 0 == year,
        evidence.c.is_current.is_(True),
    )


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
        held = False
        if registering:
            _note_kept(conn, outcome, replaced)
            changed = _changes(conn, outcome.department_id, outcome.assessment_year, outcome.rows, outcome.submitter)  # type: ignore[arg-type]
            if changed["replacing"]:
                outcome.details["changes"] = changed
            held = _hold(conn, outcome, changed)
            if held:
                version, registering = 0, False
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
            decided = review_carry.decided(conn, outcome.department_id, outcome.assessment_year, replaced)  # type: ignore[arg-type]
            conn.execute(
                update(evidence)
                .where(current_evidence(outcome.department_id, outcome.assessment_year), evidence.c.element_id.in_(replaced))
                .values(is_current=False)
            )
            if outcome.rows:
                conn.execute(insert(evidence), [_evidence_row(r, outcome, sub_id, now) for r in outcome.rows])
            if carried := review_carry.carry(conn, decided, sub_id, now):
                outcome.details["review_carried"] = carried
        elif held and outcome.rows:  # kept for the quality team's confirmation, not current
            conn.execute(insert(evidence), [_evidence_row(r, outcome, sub_id, now) | {"is_current": False} for r in outcome.rows])
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


def _last_version(conn: Connection, department_id: str, year: int) -> Any:
    return conn.execute(
        select(submission.c.id, submission.c.submitter, submission.c.received_at, submission.c.version)
        .where(
            and_(
                submission.c.department_id == department_id,
                submission.c.assessment_year == year,
                submission.c.status.in_(REGISTERING),
            )
        )
        .order_by(submission.c.version.desc(), submission.c.id.desc())
        .limit(1)
    ).first()


def _hold(conn: Connection, outcome: Outcome, changed: dict[str, Any]) -> bool:
    """Hold a mailed version whose sender did not send the department's last one: the quality team confirms."""
    if not outcome.by_mail:
        return False  # the quality team's own drop folder: they are the ones who would confirm
    last = _last_version(conn, outcome.department_id, outcome.assessment_year)  # type: ignore[arg-type]
    if last is None or (last.submitter or "").lower() == (outcome.submitter or "").lower():
        return False
    from reaccreditation.render import long_date

    outcome.details["held"] = {
        "status": outcome.status,
        "message": outcome.message,
        "previous": {"submission_id": last.id, "submitter": last.submitter, "received": last.received_at.isoformat()},
    }
    outcome.details["changes"] = changed  # what it would change: shown even when it replaces nothing current
    outcome.status = HELD
    outcome.message = (
        f"held for the quality team's confirmation, nothing has changed yet ({outcome.message}); the department's "
        f"current version was sent by {last.submitter} on {long_date(last.received_at)}"
    )
    return True


def _title(text: Any) -> str:
    return " ".join(str(text or "").split())[:120]


def _changes(conn: Connection, department_id: str, year: int, rows: Sequence[dict[str, Any]], by: str | None) -> dict[str, Any]:
    """What a new version changes: per element it gives evidence for, the current items it replaces and
    which of them it adds and removes (by title), whose versions it replaces and who sent it."""
    elements = sorted({r["element_id"] for r in rows})
    current = conn.execute(
        select(evidence.c.element_id, evidence.c.title, evidence.c.submission_id)
        .where(current_evidence(department_id, year), evidence.c.element_id.in_(elements))
        .order_by(evidence.c.id)
    ).all()
    # the versions replaced, read once each (not once per evidence row: their times are parsed per row read)
    ids = sorted({r.submission_id for r in current})
    versions = (
        conn.execute(
            select(submission.c.id, submission.c.version, submission.c.submitter, submission.c.received_at).where(
                submission.c.id.in_(ids)
            )
        ).all()
        if ids
        else []
    )
    replacing = {r.id: {"version": r.version, "submitter": r.submitter, "received": r.received_at.isoformat()} for r in versions}
    before_by: dict[str, list[str]] = {}
    after_by: dict[str, list[str]] = {}
    for r in current:
        before_by.setdefault(r.element_id, []).append(_title(r.title))
    for r in rows:
        after_by.setdefault(r["element_id"], []).append(_title(r.get("evidence_title")))
    per_element = []
    for element in elements:
        before, after = before_by.get(element, []), after_by.get(element, [])
        old, new = {t.casefold() for t in before}, {t.casefold() for t in after}
        per_element.append(
            {
                "element": element,
                "before": len(before),
                "after": len(after),
                "added": [t for t in after if t.casefold() not in old][:CHANGE_TITLES],
                "removed": [t for t in before if t.casefold() not in new][:CHANGE_TITLES],
            }
        )
    return {"by": by, "replacing": sorted(replacing.values(), key=lambda v: v["version"] or 0), "elements": per_element}


class NotHeld(ValueError):
    """The file asked for is not waiting for confirmation."""


def held_versions(engine: Engine, assessment_year: int | None = None) -> list[dict[str, Any]]:
    """Files waiting for the quality team's confirmation, oldest first."""
    query = select(submission).where(submission.c.status == HELD).order_by(submission.c.id)
    if assessment_year is not None:
        query = query.where(submission.c.assessment_year == assessment_year)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def confirm_held(engine: Engine, submission_id: int, by: str, now: datetime | None = None) -> dict[str, Any]:
    """Make a held version current, as if it had just arrived: the next version, replacing element by
    element what is current now (the change summary is worked out again). The reply saying what changed
    goes to the department with the next evidence_intake run (its outbox key differs from the held one's)."""
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        row = conn.execute(select(submission).where(submission.c.id == submission_id)).first()
        if row is None:
            raise NotHeld(f"no received file has id {submission_id} (python -m reaccreditation.intake held lists them)")
        if row.status != HELD:
            raise NotHeld(f"{row.original_name} (id {submission_id}) is not held: its status is {row.status}")
        details = dict(row.details or {})
        held = dict(details["held"])
        rows = [
            {"element_id": r.element_id, "evidence_title": r.title}
            for r in conn.execute(select(evidence.c.element_id, evidence.c.title).where(evidence.c.submission_id == row.id))
        ]
        elements = sorted({r["element_id"] for r in rows})
        details["changes"] = _changes(conn, row.department_id, row.assessment_year, rows, row.submitter)
        version = _next_version(conn, row.department_id, row.assessment_year)
        held |= {"confirmed_by": by, "confirmed_at": now.isoformat()}
        details["held"] = held
        done = conn.execute(
            update(submission)
            .where(and_(submission.c.id == row.id, submission.c.status == HELD))
            .values(
                status=held["status"],
                version=version,
                details=details,
                message=f"{held['message']} (held, then confirmed by {by})",
            )
        ).rowcount
        if done != 1:
            raise NotHeld(f"{row.original_name} (id {submission_id}) was confirmed meanwhile")
        conn.execute(
            update(evidence)
            .where(current_evidence(row.department_id, row.assessment_year), evidence.c.element_id.in_(elements))
            .values(is_current=False)
        )
        conn.execute(update(evidence).where(evidence.c.submission_id == row.id).values(is_current=True))
    return {"id": row.id, "name": row.original_name, "department_id": row.department_id, "version": version, **details["changes"]}


def _note_kept(conn: Connection, outcome: Outcome, replaced: list[str]) -> None:
    """Say which elements whose new rows failed keep the evidence accepted earlier (in the reply's notes)."""
    failed = [e for e in outcome.details.get("failed_elements", []) if e not in replaced]
    if not failed:
        return
    rows = conn.execute(
        select(evidence.c.element_id, func.max(submission.c.received_at))
        .join(submission, evidence.c.submission_id == submission.c.id)
        .where(current_evidence(outcome.department_id, outcome.assessment_year), evidence.c.element_id.in_(failed))
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
        "statement": r.get("statement"),
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
