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
from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from reaccreditation.orchestration.assets import EVIDENCE_REGISTER, GAP_SNAPSHOT
from reaccreditation.orchestration.connections import default_args

DAG_ID = "gap_analysis"


@dag(
    dag_id=DAG_ID,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 6 * * *", timezone="Europe/London"),
        assets=Asset(EVIDENCE_REGISTER),
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["reaccreditation", "gaps"],
    doc_md=__doc__,
)
def gap_analysis():
    @task
    def analyse_and_store() -> dict:
        """Recompute the year's snapshot from the database and store it under this run."""
        from reaccreditation.gaps import analyse
        from reaccreditation.gaps.store import forecast_accuracy, load_inputs, readiness_history, save_snapshot
        from reaccreditation.orchestration import connections as airflow_adapter

        today = airflow_adapter.run_today()
        org = airflow_adapter.organisation(today)
        engine = airflow_adapter.engine()
        inputs = load_inputs(engine, org.assessment.year)
        snapshot = analyse(org, inputs["evidence"], inputs["submissions"], inputs["outcomes"], today)
        snapshot_id = save_snapshot(engine, snapshot, dag_id=DAG_ID, run_id=airflow_adapter.run_id())
        trend = [{**h, "as_of": h["as_of"].isoformat()} for h in readiness_history(engine, org.assessment.year)]
        accuracy = forecast_accuracy(engine, org, inputs["outcomes"])  # the forecast checked against past years
        return snapshot.to_dict() | {"snapshot_id": snapshot_id, "readiness_history": trend, "forecast_accuracy": accuracy}

    @task(outlets=[Asset(GAP_SNAPSHOT)])
    def publish(payload: dict) -> dict:
        """Write the gap register (xlsx), gaps.json and gaps.html; record the run for the dashboard."""
        from reaccreditation.db.records import save_run_record
        from reaccreditation.files import write_atomic, write_json
        from reaccreditation.gaps.gap_register import write_register
        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.render import render
        from reaccreditation.settings import data_paths

        year = payload["assessment_year"]
        folder = data_paths().output / str(year) / "gaps"
        write_register(folder / "gap_register.xlsx", payload)
        write_json(folder / "gaps.json", payload)
        write_atomic(folder / "gaps.html", render("gap_summary.html", g=payload).encode())
        summary = {
            "snapshot_id": payload["snapshot_id"],
            "as_of": payload["as_of"],
            "overall": payload["overall"],
            "gap_rows": len(payload["gaps"]),
            "register": str(folder / "gap_register.xlsx"),
        }
        save_run_record(
            airflow_adapter.engine(),
            kind="gap_analysis",
            dag_id=DAG_ID,
            run_id=airflow_adapter.run_id(),
            assessment_year=year,
            payload=summary,
        )
        return summary

    publish(analyse_and_store())


gap_analysis()
