"""The gap analysis and the project database: read its inputs, keep one snapshot per run.

Snapshots are keyed by (dag_id, run_id): rerunning a run replaces its snapshot, a new run adds one, so
the readiness history over the season is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from reaccreditation.dates import as_date
from reaccreditation.db.schema import assessment_outcome, evidence, gap_element, gap_snapshot, submission
from reaccreditation.gaps.model import Snapshot


def load_inputs(engine: Engine, assessment_year: int) -> dict[str, list[dict[str, Any]]]:
    """The register rows of the year (current only), the year's submissions and every past outcome."""
    with engine.connect() as conn:
        rows = (
            conn.execute(select(evidence).where(evidence.c.assessment_year == assessment_year, evidence.c.is_current.is_(True)))
            .mappings()
            .all()
        )
        subs = (
            conn.execute(
                select(submission.c.department_id, submission.c.assessment_year, submission.c.status).where(
                    submission.c.assessment_year == assessment_year
                )
            )
            .mappings()
            .all()
        )
        outcomes = (
            conn.execute(select(assessment_outcome).where(assessment_outcome.c.assessment_year < assessment_year))
            .mappings()
            .all()
        )
    return {"evidence": [dict(r) for r in rows], "submissions": [dict(s) for s in subs], "outcomes": [dict(o) for o in outcomes]}


def past_evidence(engine: Engine, before_year: int) -> dict[int, list[dict[str, Any]]]:
    """Current register rows of every year before ``before_year``, by year (for the forecast-accuracy rerun)."""
    out: dict[int, list[dict[str, Any]]] = {}
    query = select(evidence).where(evidence.c.assessment_year < before_year, evidence.c.is_current.is_(True))
    with engine.connect() as conn:
        for row in conn.execute(query).mappings():
            out.setdefault(int(row["assessment_year"]), []).append(dict(row))
    return out


def forecast_accuracy(engine: Engine, org: Any, outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """The forecast rerun on every past year with evidence and outcome (gaps.accuracy), as gaps.json carries it."""
    from reaccreditation.gaps import accuracy

    years = accuracy.forecast_accuracy(org, past_evidence(engine, org.assessment.year), outcomes)
    return accuracy.summary(org.standard, years, org.assessment.year)


def save_snapshot(engine: Engine, snapshot: Snapshot, *, dag_id: str, run_id: str) -> int:
    """Store (or, on a rerun of the same run, replace) the snapshot; returns its id."""
    data = snapshot.to_dict()
    summary = {
        k: data[k]
        for k in (
            "overall",
            "criteria",
            "sub_criteria",
            "departments",
            "year_on_year",
            "due_date",
            "last_assessment_year",
            "evidence_window_start",
        )
    }
    key = (gap_snapshot.c.dag_id == dag_id) & (gap_snapshot.c.run_id == run_id)
    with engine.begin() as conn:
        old = conn.execute(select(gap_snapshot.c.id).where(key)).scalars().all()
        if old:
            conn.execute(delete(gap_element).where(gap_element.c.snapshot_id.in_(old)))
            conn.execute(delete(gap_snapshot).where(gap_snapshot.c.id.in_(old)))
        snapshot_id = conn.execute(
            insert(gap_snapshot).values(
                dag_id=dag_id,
                run_id=run_id,
                assessment_year=snapshot.assessment_year,
                framework=snapshot.framework,
                assessment_type=snapshot.assessment_type,
                as_of=snapshot.as_of,
                created_at=datetime.now(UTC),
                elements=snapshot.overall.elements,
                ready=snapshot.overall.ready,
                at_risk=snapshot.overall.at_risk,
                gaps=snapshot.overall.gaps,
                score=snapshot.overall.score,
                summary=summary,
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(gap_element),
            [
                {
                    "snapshot_id": snapshot_id,
                    "element_id": e.element_id,
                    "criterion_id": e.criterion_id,
                    "sub_criterion_id": e.sub_criterion_id,
                    "readiness": e.readiness,
                    "forecast": e.forecast,
                    "score": e.score,
                    "in_focus": e.in_focus,
                    "reasons": [asdict(r) for r in e.reasons],
                }
                for e in snapshot.elements
            ],
        )
    return int(snapshot_id)


def readiness_history(engine: Engine, assessment_year: int) -> list[dict[str, Any]]:
    """Every stored snapshot of the year, oldest first: how readiness moved over the season."""
    cols = (
        gap_snapshot.c.id,
        gap_snapshot.c.run_id,
        gap_snapshot.c.as_of,
        gap_snapshot.c.ready,
        gap_snapshot.c.at_risk,
        gap_snapshot.c.gaps,
        gap_snapshot.c.score,
    )
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(*cols)
                .where(gap_snapshot.c.assessment_year == assessment_year)
                .order_by(gap_snapshot.c.as_of, gap_snapshot.c.id)
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def latest_snapshot(engine: Engine, assessment_year: int) -> tuple[dict[str, Any] | None, str | None]:
    """The year's newest stored snapshot in the shape of gaps.json (roll-ups, as_of, elements) and its run id.

    What the dashboard shows when gaps.json is not at hand (deleted, or another machine's output folder).
    """
    with engine.connect() as conn:
        head = conn.execute(
            select(gap_snapshot)
            .where(gap_snapshot.c.assessment_year == assessment_year)
            .order_by(gap_snapshot.c.as_of.desc(), gap_snapshot.c.id.desc())
            .limit(1)
        ).first()
        if head is None:
            return None, None
        rows = conn.execute(select(gap_element).where(gap_element.c.snapshot_id == head.id).order_by(gap_element.c.id))
        elements = [dict(r._mapping) for r in rows]
    summary = dict(head.summary) if isinstance(head.summary, Mapping) else {}
    as_of = as_date(head.as_of)
    return {**summary, "as_of": as_of.isoformat() if as_of else None, "elements": elements}, head.run_id
