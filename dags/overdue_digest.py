"""Overdue digest: each morning after the return deadline, email the quality team the departments that
have not returned their evidence workbook.

Once a day at most (the dedupe key is the date), nothing before the deadline, after the assessment or
when every department has returned. The list is the same as the "overdue" badge on the Reaccreditation
page in the Airflow UI.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from reaccreditation.orchestration.connections import default_args


@dag(
    schedule="0 7 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    default_args=default_args(),
    tags=["reaccreditation", "monitoring"],
    doc_md=__doc__,
)
def overdue_digest():
    @task
    def email_overdue_departments() -> dict:
        """Find departments past the return deadline without an accepted or partial workbook; email them."""
        from reaccreditation.dashboard.alerts import send_overdue_digest
        from reaccreditation.orchestration import connections as airflow_adapter

        today = airflow_adapter.run_today()
        org = airflow_adapter.organisation(today)
        return send_overdue_digest(
            airflow_adapter.engine(), airflow_adapter.smtp_transport(), org, today, airflow_adapter.run_id()
        )

    email_overdue_departments()


overdue_digest()
