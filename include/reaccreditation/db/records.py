"""Run records: what each DAG run produced, kept for history and the dashboard."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from reaccreditation.db.schema import run_record


def save_run_record(engine: Engine, *, kind: str, dag_id: str, run_id: str, assessment_year: int, payload: Any) -> None:
    """Store (or replace, on a rerun of the same run) one record."""
    data = json.loads(json.dumps(payload, default=str))
    key = (run_record.c.kind == kind) & (run_record.c.dag_id == dag_id) & (run_record.c.run_id == run_id)
    with engine.begin() as conn:
        conn.execute(delete(run_record).where(key))
        conn.execute(
            insert(run_record).values(
                kind=kind,
                dag_id=dag_id,
                run_id=run_id,
                assessment_year=assessment_year,
                created_at=datetime.now(UTC),
                payload=data,
            )
        )


def latest_run_record(engine: Engine, kind: str, assessment_year: int | None = None) -> dict[str, Any] | None:
    query = select(run_record).where(run_record.c.kind == kind)
    if assessment_year is not None:
        query = query.where(run_record.c.assessment_year == assessment_year)
    with engine.connect() as conn:
        row = conn.execute(query.order_by(run_record.c.id.desc()).limit(1)).first()
    return dict(row._mapping) if row else None
