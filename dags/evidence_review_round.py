"""Review round: each department hears, in the thread of its last submission, what the quality team's review
found since its last round.

Runs **daily** at 08:00 UK time, and whenever a reviewer presses "Send review round now" on the review
queue (`/reaccreditation/review`). Per department with review changes since its last round: ONE email with
what was accepted, what needs work and why (the reviewer's comment), and a workbook of only the rows to
improve, pre-filled with what the department sent, which intake takes back as an ordinary return. Sent
through the outbox under `review-round:<year>:<department>:<newest change>`, so a rerun sends nothing twice;
an item sent back and put back before the send produces nothing. Workbooks are kept under
`<year>/review/<department>/`. docs/review.md.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from reaccreditation.orchestration import context, policies
from reaccreditation.orchestration.connections import SMTP_POOL, engine, signing_key, smtp_transport
from reaccreditation.review import round as review_round
from reaccreditation.settings import data_paths


@dag(
    dag_display_name="Email departments their review round",
    description="Daily at 08:00 and from the review queue: what was accepted and what needs work, in each department's thread",
    dag_id=review_round.DAG_ID,
    schedule="0 8 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args=policies.default_args(),
    tags=["reaccreditation", "review"],
    doc_md=__doc__,
    params={
        "department": Param(
            None, type=["null", "string"], title="Department id", description="Only this department. Empty: every department."
        ),
    },
)
def evidence_review_round():
    @task(pool=SMTP_POOL, task_display_name="Email each department its review round")
    def send_rounds(params: dict | None = None) -> list[dict]:
        """Work out each department's round now (a revert just before counts) and send it, at most once."""
        org, today = context.organisation_today(), context.run_today()
        department = (params or {}).get("department") or None
        output, key, run_id = data_paths().output, signing_key(), context.run_id()
        return review_round.send_rounds(
            engine(), org, smtp_transport(), output, today, key, department_id=department, run_id=run_id
        )

    send_rounds()


evidence_review_round()
