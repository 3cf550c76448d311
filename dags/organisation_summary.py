"""Organisation summary: validate the config against the standard, publish the season's key dates.

The quality team's first DAG after editing ``config/organisation.yaml``: it fails with a message that
names the key at fault, or it publishes a summary (JSON + HTML in the output folder, a record in the
project database) and emails it to the quality team once per run.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from reaccreditation.orchestration import context, policies
from reaccreditation.orchestration.connections import SMTP_POOL, engine, smtp_transport
from reaccreditation.organisation import pipeline
from reaccreditation.settings import data_paths


@dag(
    dag_display_name="Check the config and key dates",
    description="Weekly: checks the organisation config against the standard and publishes the season's key dates",
    dag_id=pipeline.DAG_ID,
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    default_args=policies.default_args(),
    tags=["reaccreditation", "config"],
    doc_md=__doc__,
)
def organisation_summary():
    @task(task_display_name="Check the config")
    def summarise_config() -> dict:
        """Load and check the config; the summary is JSON-safe for XCom."""
        return pipeline.summarise(context.organisation_today(), context.run_today())

    @task(task_display_name="Publish the season summary")
    def publish(summary: dict) -> str:
        """Write summary.json and summary.html to the output folder and record the run."""
        return pipeline.publish(engine(), summary, data_paths().output, context.run_id())

    @task(pool=SMTP_POOL, task_display_name="Email the quality team")
    def email_quality_team(summary: dict) -> bool:
        """One email per run to the quality team; a retry or rerun of the same run sends nothing."""
        return pipeline.email_quality_team(engine(), smtp_transport(), context.organisation(), summary, context.run_id())

    summary = summarise_config()
    publish(summary)
    email_quality_team(summary)


organisation_summary()
