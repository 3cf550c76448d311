"""Overdue digest: each morning after the return deadline, email the quality team the departments that
have not returned their evidence workbook.

Once a day at most (the dedupe key is the date), nothing before the deadline, after the assessment or
when every department has returned. The list is the same as the "overdue" badge on the Reaccreditation
page in the Airflow UI.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from reaccreditation.dashboard.alerts import send_overdue_digest
from reaccreditation.orchestration import context, policies
from reaccreditation.orchestration.connections import SMTP_POOL, engine, smtp_transport


@dag(
    dag_display_name="Email the overdue departments list",
    description="Daily at 07:00 after the return deadline: tells the quality team who has not returned a workbook",
    schedule="0 7 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    default_args=policies.default_args(),
    tags=["reaccreditation", "monitoring"],
    doc_md=__doc__,
)
def overdue_digest():
    @task(pool=SMTP_POOL, task_display_name="Email the overdue list")
    def email_overdue_departments() -> dict:
        """Find departments past the return deadline without an accepted or partial workbook; email them."""
        today = context.run_today()
        org = context.organisation(today)
        return send_overdue_digest(engine(), smtp_transport(), org, today, context.run_id())

    email_overdue_departments()


overdue_digest()
