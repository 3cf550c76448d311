"""Data retention: each night, delete archived mail, quarantine cases and superseded documents older than
the organisation config's ``retention.years`` (default 6), with one log line per deletion.

What counts as old and what is kept is in ``reaccreditation.retention.pipeline``; docs/security.md says
what is not covered yet.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from reaccreditation.orchestration import context, policies
from reaccreditation.orchestration.connections import engine
from reaccreditation.retention import pipeline
from reaccreditation.settings import data_paths


@dag(
    dag_display_name="Delete old mail, quarantine and superseded documents",
    description="Nightly at 02:30: deletes archived mail, quarantine cases and superseded documents past the retention period",
    schedule="30 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args=policies.default_args(),
    tags=["reaccreditation", "retention"],
    doc_md=__doc__,
)
def data_retention():
    @task(task_display_name="Delete what is past the retention period")
    def delete_expired() -> dict:
        """Delete what is older than the retention period; the counts (each deletion is a log line)."""
        today = context.run_today()
        return pipeline.purge(engine(), data_paths(), context.organisation(today).retention.years, today)

    delete_expired()


data_retention()
