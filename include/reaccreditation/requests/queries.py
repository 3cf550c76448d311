"""What the project database says about a department's evidence: open elements, last year's, the request log.

The request stage's read-only queries (the dashboard uses them too) on the shared tables (``evidence``,
``assessment_outcome``, ``outbound_message``); the intake stage writes evidence,
:mod:`reaccreditation.requests.seed` writes last year's for the demo.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, and_, func, select

from reaccreditation.dates import as_date
from reaccreditation.db.schema import assessment_outcome, evidence, outbound_message
from reaccreditation.organisation.config import Department
from reaccreditation.requests.workbook import PrefilledEvidence


def evidenced_elements(engine: Engine, assessment_year: int) -> dict[str, set[str]]:
    """Department id -> element ids with at least one current evidence row this assessment year."""
    query = (
        select(evidence.c.department_id, evidence.c.element_id)
        .where(evidence.c.assessment_year == assessment_year, evidence.c.is_current.is_(True))
        .distinct()
    )
    out: dict[str, set[str]] = {}
    with engine.connect() as conn:
        for dept, element in conn.execute(query):
            out.setdefault(dept, set()).add(element)
    return out


def prefilled_evidence(engine: Engine, assessment_year: int, department: Department) -> list[PrefilledEvidence]:
    """Last year's accepted (current) evidence of this department for the elements it owns now."""
    c = evidence.c
    query = (
        select(evidence)
        .where(
            c.assessment_year == assessment_year - 1,
            c.department_id == department.id,
            c.is_current.is_(True),
            c.element_id.in_(department.elements),
        )
        .order_by(c.element_id, c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        PrefilledEvidence(
            element_id=r["element_id"],
            evidence_title=r["title"],
            evidence_type=r["evidence_type"],
            link=r["link"],
            evidence_date=r["evidence_date"],
            owner=r["owner"],
            self_rating=r["self_rating"],
            cplus_claim=bool(r["cplus_claim"]),
            cplus_justification=r["cplus_justification"],
            notes=r["notes"],
            statement=r["statement"],
        )
        for r in rows
    ]


@dataclass(frozen=True)
class LastOutcomes:
    year: int | None
    ratings: dict[str, str]
    actions: dict[str, str]


def last_outcomes(engine: Engine, assessment_year: int, element_ids: Iterable[str]) -> LastOutcomes:
    """The assessor's ratings (and actions) from the latest assessment before this one."""
    c = assessment_outcome.c
    with engine.connect() as conn:
        year = conn.execute(select(func.max(c.assessment_year)).where(c.assessment_year < assessment_year)).scalar()
        if year is None:
            return LastOutcomes(None, {}, {})
        rows = conn.execute(
            select(c.element_id, c.rating, c.action).where(c.assessment_year == year, c.element_id.in_(list(element_ids)))
        ).all()
    return LastOutcomes(year, {e: r for e, r, _ in rows}, {e: a for e, _, a in rows if a})


def sent_keys(engine: Engine, assessment_year: int) -> dict[str, dict]:
    """The request log of this assessment year: dedupe key -> row (status, run_id, department_id...)."""
    c = outbound_message.c
    query = select(c.dedupe_key, c.kind, c.department_id, c.status, c.run_id).where(
        c.assessment_year == assessment_year, c.kind.in_(("request", "resend", "reminder", "escalation"))
    )
    with engine.connect() as conn:
        return {r.dedupe_key: dict(r._mapping) for r in conn.execute(query)}


def requested_before(engine: Engine, assessment_year: int, run_id: str) -> set[tuple[str, str]]:
    """(department id, contact email) whose request (or a resend) went out in an earlier run.

    Only they get reminders, so a contact added late gets the request first and follow-ups on later days.
    """
    c = outbound_message.c
    query = select(c.department_id, c.dedupe_key).where(
        and_(
            c.assessment_year == assessment_year,
            c.kind.in_(("request", "resend")),
            c.status == "sent",
            (c.run_id != run_id) | c.run_id.is_(None),
        )
    )
    with engine.connect() as conn:
        return {(d, key.rsplit(":", 1)[1]) for d, key in conn.execute(query) if d}


def request_log(engine: Engine, assessment_year: int) -> dict[str, dict[str, list[date]]]:
    """Department id -> request / reminder / escalation -> the days they were sent, oldest first."""
    c = outbound_message.c
    query = select(c.department_id, c.kind, c.sent_at, c.created_at).where(
        c.assessment_year == assessment_year, c.status == "sent", c.department_id.is_not(None)
    )
    out: dict[str, dict[str, list[date]]] = defaultdict(lambda: defaultdict(list))
    with engine.connect() as conn:
        for dept, kind, sent_at, created_at in conn.execute(query):
            group = "reminder" if kind.startswith("reminder") else kind
            when = as_date(sent_at or created_at)
            if group in ("request", "reminder", "escalation") and when and when not in out[dept][group]:
                out[dept][group].append(when)
    for groups in out.values():
        for dates in groups.values():
            dates.sort()
    return out
