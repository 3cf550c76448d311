"""A review decision carried to an item a department sends again unchanged.

Intake replaces a department's items element by element, so a workbook that corrects one item of an
element (the review round's, whose other items of that element come pre-filled as "still current") also
sends that element's accepted items again, as new rows. Where a new row is the same item — every reviewed
field equal (:data:`reaccreditation.review.item.FIELDS`) and no newer copy of a document it names received
since the decision — the decision (accepted, or not relevant) is recorded for it too, in the same
transaction as the rows, naming whose decision it was and on which item. "Needs work" is never carried: a
sent-back item that comes back unchanged waits for the reviewer (the queue shows it as a resubmission).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select

from reaccreditation.db.schema import evidence, evidence_document, evidence_review
from reaccreditation.documents.matching import fold, named_files
from reaccreditation.review.resubmission import diff
from reaccreditation.review.store import ACCEPTED, LABELS, NOT_RELEVANT, UNREVIEWED

CARRIED = "reaccreditation"  # the reviewer id of a carried decision: no person made it on this item
PASSED_ON = (ACCEPTED, NOT_RELEVANT)


def decided(conn: Connection, department_id: str, year: int, elements: Sequence[str]) -> list[dict[str, Any]]:
    """The department's current items of ``elements`` whose last decision may pass on, with that decision;
    read before a new version replaces them. One indexed look-up when nothing of the department is reviewed."""
    t = evidence_review
    if (
        conn.execute(select(t.c.id).where(t.c.assessment_year == year, t.c.department_id == department_id).limit(1)).first()
        is None
    ):
        return []
    rows = conn.execute(
        select(evidence).where(
            evidence.c.department_id == department_id,
            evidence.c.assessment_year + 0 == year,  # the department's index, as intake's look-ups (intake.store)
            evidence.c.is_current.is_(True),
            evidence.c.element_id.in_(list(elements)),
        )
    ).all()
    if not rows:
        return []
    newest = (
        select(t.c.evidence_id, func.max(t.c.version).label("version"))
        .where(t.c.evidence_id.in_([r.id for r in rows]))
        .group_by(t.c.evidence_id)
        .subquery()
    )
    last = {
        r.evidence_id: r
        for r in conn.execute(
            select(t).join(newest, and_(t.c.evidence_id == newest.c.evidence_id, t.c.version == newest.c.version))
        )
    }
    return [
        dict(r._mapping) | {"decision": last[r.id]._mapping} for r in rows if r.id in last and last[r.id].to_state in PASSED_ON
    ]


def _documents_unchanged(conn: Connection, row: dict[str, Any], since: datetime) -> bool:
    """No newer copy of a document the item names arrived after the decision (it would be a different item)."""
    t = evidence_document
    for name in named_files(row["link"]):
        newest = conn.execute(
            select(func.max(t.c.received_at)).where(
                t.c.department_id == row["department_id"],
                t.c.assessment_year == row["assessment_year"],
                t.c.match_name == fold(name),
            )
        ).scalar()
        if newest is not None and _aware(newest) > _aware(since):
            return False
    return True


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def carry(conn: Connection, before: list[dict[str, Any]], submission_id: int, now: datetime) -> int:
    """Record each decision of ``before`` (from :func:`decided`) for the one new row of ``submission_id`` that
    is the same item; each earlier item passes its decision to one new row at most. Returns how many."""
    if not before:
        return 0
    pool = sorted(before, key=lambda r: r["id"])
    carried = 0
    new_rows = conn.execute(select(evidence).where(evidence.c.submission_id == submission_id).order_by(evidence.c.id)).all()
    for new in (dict(r._mapping) for r in new_rows):
        if not new["is_current"]:
            continue
        old = next((o for o in pool if o["element_id"] == new["element_id"] and not diff(o, new)), None)
        if old is None:
            continue
        decision = old["decision"]
        if not _documents_unchanged(conn, new, decision["reviewed_at"]):
            continue
        pool.remove(old)
        who = decision["reviewer_name"] or decision["reviewer"]
        conn.execute(
            insert(evidence_review).values(
                evidence_id=new["id"],
                assessment_year=new["assessment_year"],
                department_id=new["department_id"],
                element_id=new["element_id"],
                version=1,
                from_state=UNREVIEWED,
                to_state=decision["to_state"],
                comment=(
                    f"Sent again unchanged: {who} marked it {LABELS[decision['to_state']]!r} "
                    f"on {_aware(decision['reviewed_at']):%d %B %Y} (item {old['id']})."
                    + (f" Their comment: {decision['comment']}" if decision["comment"] else "")
                )[:2000],
                reviewer=CARRIED,
                reviewer_name=f"{who} (carried over)",
                reviewed_at=now,
            )
        )
        carried += 1
    return carried
