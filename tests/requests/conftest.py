"""Helpers for the request stage's tests: a demo organisation, a real run with a conf, evidence rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ..conftest import FIRST_DAY, ROOT

T_REQUESTS = FIRST_DAY - timedelta(days=122)  # T-120 is Sunday 15 Nov 2026: requests go on the Friday before


@pytest.fixture
def org(demo):  # type: ignore[no-untyped-def]
    from reaccreditation.organisation.config import load_organisation

    return load_organisation(demo["config"])


@pytest.fixture
def engine(project_db):  # type: ignore[no-untyped-def]
    from reaccreditation.db import make_engine

    return make_engine(project_db)


def run_requests(logical_date: date, conf: dict | None = None):  # type: ignore[no-untyped-def]
    """A real ``dag.test()`` of evidence_requests, optionally with a manual run's params."""
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / "evidence_requests.py"))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag("evidence_requests")
    when = pendulum.datetime(*logical_date.timetuple()[:3], 7, tz="UTC")
    return dag.test(logical_date=when, run_conf=conf)


def add_evidence(
    engine, year: int, rows: Iterable[tuple[str, str]], *, current: bool = True, name: str = "returned.xlsx"
) -> None:  # type: ignore[no-untyped-def]
    """Insert accepted evidence rows (department id, element id) as the intake stage would."""
    from sqlalchemy import insert

    from reaccreditation.db.schema import evidence, submission

    now = datetime.now(UTC)
    rows = list(rows)
    with engine.begin() as conn:
        sub = conn.execute(
            insert(submission).values(
                sha256=f"{name}-{year}-{len(rows)}-{now.timestamp()}"[:64],
                original_name=name,
                assessment_year=year,
                source="inbox",
                received_at=now,
                status="accepted",
                rows_total=len(rows),
                rows_accepted=len(rows),
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(evidence),
            [
                {
                    "assessment_year": year,
                    "department_id": d,
                    "element_id": e,
                    "title": f"Evidence for {e}",
                    "evidence_type": "Document",
                    "link": "https://example.org/x",
                    "evidence_date": date(year - 1, 6, 1),
                    "submission_id": sub,
                    "sheet": "Evidence",
                    "row_number": i,
                    "is_current": current,
                    "created_at": now,
                }
                for i, (d, e) in enumerate(rows, 2)
            ],
        )


def output_folder(demo) -> Path:  # type: ignore[no-untyped-def]
    return demo["data"] / "output" / str(FIRST_DAY.year) / "requests"
