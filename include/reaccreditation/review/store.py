"""Review states, append-only: every change is a new ``evidence_review`` row, never an update.

An item is one row of the register's current evidence (``evidence.is_current``). Its state is the
``to_state`` of its newest change (``unreviewed`` before any); its *version* is the number of changes so
far. A change names the state and version its reviewer saw (what the queue showed), so:

- two reviewers at once: both saw version 3; the first becomes version 4, the second is a
  :class:`Conflict` that says who changed it to what (the unique key on ``(evidence_id, version)`` makes
  this hold across processes too) - the last writer never silently wins;
- a double-click: the same reviewer sending the same change for the same version again gets the change
  already made back (``repeated``), and nothing is stored twice;
- an item whose document the safety checks refused cannot be accepted;
- "needs work" requires a comment; comments are stored exactly as typed (templates escape them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, select
from sqlalchemy.exc import IntegrityError

from reaccreditation.db.schema import assessment_outcome, evidence, evidence_document, evidence_review
from reaccreditation.documents.matching import fold, named_files

UNREVIEWED, ACCEPTED, NEEDS_WORK, NOT_RELEVANT = "unreviewed", "accepted", "needs_work", "not_relevant"
STATES = (UNREVIEWED, ACCEPTED, NEEDS_WORK, NOT_RELEVANT)
LABELS = {UNREVIEWED: "Not reviewed", ACCEPTED: "Accepted", NEEDS_WORK: "Needs work", NOT_RELEVANT: "Not relevant"}
MAX_COMMENT = 2000


class ReviewError(ValueError):
    """A change that cannot be made as asked; the message says why in words (HTTP 422)."""

    status = 422


class NotFound(ReviewError):
    status = 404


class Conflict(ReviewError):
    """The item changed since the reviewer looked (HTTP 409); ``current`` is what it is now."""

    status = 409

    def __init__(self, message: str, current: dict[str, Any]) -> None:
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class Change:
    evidence_id: int
    version: int
    from_state: str
    to_state: str
    comment: str | None
    reviewer: str
    reviewer_name: str | None
    reviewed_at: datetime
    repeated: bool = False  # the same change sent again (a double-click): nothing new was stored

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"reviewed_at": self.reviewed_at.isoformat()}


def _changes(conn: Connection, evidence_id: int) -> list[dict[str, Any]]:
    t = evidence_review
    rows = conn.execute(select(t).where(t.c.evidence_id == evidence_id).order_by(t.c.version))
    return [dict(r._mapping) for r in rows]


def _state(changes: list[dict[str, Any]]) -> dict[str, Any]:
    last = changes[-1] if changes else None
    return {
        "state": last["to_state"] if last else UNREVIEWED,
        "version": last["version"] if last else 0,
        "reviewer": last["reviewer"] if last else None,
        "reviewer_name": last["reviewer_name"] if last else None,
        "reviewed_at": last["reviewed_at"].isoformat() if last and last["reviewed_at"] else None,
        "comment": last["comment"] if last else None,
    }


def refused_document(conn: Connection, row: Any) -> str | None:
    """Why the item cannot be accepted: a document its cell names whose newest copy the safety checks refused."""
    t = evidence_document
    for name in named_files(row.link):
        newest = conn.execute(
            select(t.c.filename, t.c.status, t.c.reason)
            .where(t.c.department_id == row.department_id, t.c.assessment_year == row.assessment_year)
            .where(t.c.match_name == fold(name))
            .order_by(t.c.id.desc())
            .limit(1)
        ).first()
        if newest is not None and newest.status == "refused":
            return f"the document {newest.filename!r} was refused by the safety checks ({newest.reason or 'no reason given'})"
    return None


def record(
    engine: Engine,
    evidence_id: int,
    *,
    seen_state: str,
    seen_version: int,
    to_state: str,
    comment: str | None,
    reviewer: str,
    reviewer_name: str | None = None,
    now: datetime | None = None,
) -> Change:
    """Move one item from the state and version its reviewer saw to ``to_state``; see the module docstring."""
    for given in (to_state, seen_state):
        if given not in STATES:
            raise ReviewError(f"Unknown review state {given!r}; use one of {', '.join(STATES)}.")
    comment = comment if comment and comment.strip() else None
    if to_state == NEEDS_WORK and comment is None:
        raise ReviewError("Say what needs work: a comment is required when sending an item back.")
    if comment is not None and len(comment) > MAX_COMMENT:
        raise ReviewError(f"The comment is {len(comment)} characters long; keep it under {MAX_COMMENT}.")
    try:
        return _record(engine, evidence_id, seen_state, seen_version, to_state, comment, reviewer, reviewer_name, now)
    except IntegrityError:
        # Another reviewer's change took this version between our read and our insert: read again, so the
        # answer is the same as if they had been first (a repeat of ours, or a conflict naming theirs).
        return _record(engine, evidence_id, seen_state, seen_version, to_state, comment, reviewer, reviewer_name, now)


def _record(
    engine: Engine,
    evidence_id: int,
    seen_state: str,
    seen_version: int,
    to_state: str,
    comment: str | None,
    reviewer: str,
    reviewer_name: str | None,
    now: datetime | None,
) -> Change:
    with engine.begin() as conn:
        row = conn.execute(select(evidence).where(evidence.c.id == evidence_id)).first()
        if row is None:
            raise NotFound(f"No evidence item {evidence_id} in the register.")
        changes = _changes(conn, evidence_id)
        current = _state(changes)
        if seen_version < current["version"]:
            made = changes[seen_version]  # the change that followed the version this reviewer saw
            same = (made["reviewer"], made["from_state"], made["to_state"], made["comment"])
            if same == (reviewer, seen_state, to_state, comment):
                return _change(made, repeated=True)
        if (seen_version, seen_state) != (current["version"], current["state"]):
            who = current["reviewer_name"] or current["reviewer"] or "nobody"
            raise Conflict(
                f"This item changed since you looked: it is now {LABELS[current['state']]!r} "
                f"(version {current['version']}, by {who}). Reload the queue and review it again.",
                current,
            )
        if not row.is_current:
            raise Conflict("The department has replaced this item with a newer version; review the new one.", current)
        if to_state == current["state"] and comment == current["comment"]:
            raise ReviewError(f"The item is already {LABELS[to_state]!r}.")
        if to_state == ACCEPTED:
            why = refused_document(conn, row)
            if why:
                raise ReviewError(f"This item cannot be accepted: {why}. Send it back (needs work) instead.")
        values = {
            "evidence_id": evidence_id,
            "assessment_year": row.assessment_year,
            "department_id": row.department_id,
            "element_id": row.element_id,
            "version": current["version"] + 1,
            "from_state": current["state"],
            "to_state": to_state,
            "comment": comment,
            "reviewer": reviewer,
            "reviewer_name": reviewer_name,
            "reviewed_at": now or datetime.now(UTC),
        }
        conn.execute(insert(evidence_review).values(**values))
    return _change(values)


def _change(row: dict[str, Any], repeated: bool = False) -> Change:
    return Change(
        evidence_id=row["evidence_id"],
        version=row["version"],
        from_state=row["from_state"],
        to_state=row["to_state"],
        comment=row["comment"],
        reviewer=row["reviewer"],
        reviewer_name=row["reviewer_name"],
        reviewed_at=row["reviewed_at"],
        repeated=repeated,
    )


def history(engine: Engine, evidence_id: int) -> list[dict[str, Any]]:
    """Every change of one item, oldest first (the audit trail)."""
    with engine.connect() as conn:
        return [c | {"reviewed_at": c["reviewed_at"].isoformat()} for c in _changes(conn, evidence_id)]


def states(engine: Engine, assessment_year: int) -> dict[int, dict[str, Any]]:
    """The newest change of every reviewed item of the year (items never reviewed are absent)."""
    t = evidence_review
    newest = (
        select(t.c.evidence_id, func.max(t.c.version).label("version"))
        .where(t.c.assessment_year == assessment_year)
        .group_by(t.c.evidence_id)
        .subquery()
    )
    query = select(t).join(newest, and_(t.c.evidence_id == newest.c.evidence_id, t.c.version == newest.c.version))
    with engine.connect() as conn:
        return {r.evidence_id: _state([dict(r._mapping)]) for r in conn.execute(query)}


def queue(engine: Engine, assessment_year: int, department_id: str | None = None) -> list[dict[str, Any]]:
    """The current evidence items with their review state, last year's rating and action, and what blocks acceptance."""
    query = select(evidence).where(evidence.c.assessment_year == assessment_year, evidence.c.is_current.is_(True))
    if department_id:
        query = query.where(evidence.c.department_id == department_id)
    query = query.order_by(evidence.c.department_id, evidence.c.element_id, evidence.c.id)
    reviewed = states(engine, assessment_year)
    o = assessment_outcome
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        last: dict[str, Any] = {}
        for r in conn.execute(select(o).where(o.c.assessment_year < assessment_year).order_by(o.c.assessment_year)):
            last[r.element_id] = r  # the newest earlier year wins
        items = []
        for r in rows:
            state = reviewed.get(r.id) or _state([])
            before = last.get(r.element_id)
            items.append(
                {
                    "evidence_id": r.id,
                    "department_id": r.department_id,
                    "element_id": r.element_id,
                    "title": r.title,
                    "evidence_type": r.evidence_type,
                    "link": r.link,
                    "evidence_date": r.evidence_date.isoformat() if r.evidence_date else None,
                    "self_rating": r.self_rating,
                    "statement": r.statement,
                    "last_rating": before.rating if before else None,
                    "last_action": before.action if before else None,
                    "last_year": before.assessment_year if before else None,
                    "cannot_accept": refused_document(conn, r),
                    **state,
                    "state_label": LABELS[state["state"]],
                }
            )
    return items


def progress(items: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per department: how many items are in each state (from :func:`queue`)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATES, 0))
    for item in items:
        out[item["department_id"]][item["state"]] += 1
    return dict(out)


def needs_work(engine: Engine, assessment_year: int) -> dict[str, list[tuple[str, str, str, str]]]:
    """Element -> (department, item title, the reviewer's reason, reviewer) of current items sent back."""
    out: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    for item in queue(engine, assessment_year):
        if item["state"] == NEEDS_WORK:
            who = item["reviewer_name"] or item["reviewer"] or ""
            out[item["element_id"]].append((item["department_id"], item["title"], item["comment"] or "", who))
    return dict(out)


def department_progress(engine: Engine, assessment_year: int) -> dict[str, dict[str, int]]:
    """Per department: how many current items are in each state (the dashboard's review progress; one query
    per table, unlike :func:`queue`, which also checks each item's documents)."""
    reviewed = states(engine, assessment_year)
    query = select(evidence.c.id, evidence.c.department_id).where(
        evidence.c.assessment_year == assessment_year, evidence.c.is_current.is_(True)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return progress([{"department_id": d, "state": reviewed.get(i, {}).get("state", UNREVIEWED)} for i, d in rows])
