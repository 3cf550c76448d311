"""Gap analysis: how ready each element of the standard is for the assessment, and why not.

Runs whenever intake updates the evidence register (Asset ``reaccreditation://evidence_register``) and
every morning. Each run recomputes a snapshot for the assessment year from the evidence register,
the submissions and the imported assessment history, and keeps it in the project database keyed by the
run (a rerun replaces its own snapshot; the season's readiness history is kept). It writes to
``output/<year>/gaps/``:

- ``gap_register.xlsx``: one row per gap and department (element, criterion, reason, department,
  evidence contact, due date), filterable, for the quality team to chase;
- ``gaps.json``: the whole snapshot for the dashboard and the readiness packs (shape in
  docs/gap-analysis.md);
- ``gaps.html``: a one-page readiness summary (criteria, departments, elements not ready, year on year).

Rules, forecast and score are explained in docs/gap-analysis.md.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from reaccreditation.gaps import pipeline
from reaccreditation.orchestration import assets, context, policies
from reaccreditation.orchestration.connections import engine
from reaccreditation.settings import data_paths


@dag(
    dag_display_name="Find evidence gaps",
    description="Daily at 06:00 and after new evidence: how ready each element is, and why not",
    dag_id=pipeline.DAG_ID,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 6 * * *", timezone="Europe/London"),
        assets=assets.EVIDENCE_REGISTER,
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args=policies.default_args(),
    tags=["reaccreditation", "gaps"],
    doc_md=__doc__,
)
def gap_analysis():
    @task(task_display_name="Rate readiness")
    def analyse_and_store() -> dict:
        """Recompute the year's snapshot from the database and store it under this run."""
        return pipeline.analyse_and_store(context.organisation_today(), engine(), context.run_today(), context.run_id())

    @task(task_display_name="Publish the gap register", outlets=[assets.GAP_SNAPSHOT])
    def publish(payload: dict) -> dict:
        """Write the gap register (xlsx), gaps.json and gaps.html; record the run for the dashboard."""
        return pipeline.publish(engine(), payload, data_paths().output, context.run_id())

    publish(analyse_and_store())


gap_analysis()
