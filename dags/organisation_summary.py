"""Organisation summary: validate the config against the standard, publish the season's key dates.

The quality team's first DAG after editing ``config/organisation.yaml``: it fails with a message that
names the key at fault, or it publishes a summary (JSON + HTML in the output folder, a record in the
project database) and emails it to the quality team once per run.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from reaccreditation.orchestration.connections import default_args


@dag(
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    default_args=default_args(),
    tags=["reaccreditation", "config"],
    doc_md=__doc__,
)
def organisation_summary():
    @task
    def summarise_config() -> dict:
        """Load and check the config; the summary is JSON-safe for XCom."""
        import json

        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.organisation.summary import summarise

        today = airflow_adapter.run_today()
        org = airflow_adapter.organisation(today)
        return json.loads(json.dumps(summarise(org, today), default=str))

    @task
    def publish(summary: dict) -> str:
        """Write summary.json and summary.html to the output folder and record the run."""
        from reaccreditation.db.records import save_run_record
        from reaccreditation.files import write_atomic, write_json
        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.render import render
        from reaccreditation.settings import data_paths

        folder = data_paths().output / str(summary["assessment_year"]) / "summary"
        write_json(folder / "summary.json", summary)
        html = render("summary.html", s=_dates(summary))
        write_atomic(folder / "summary.html", html.encode())
        save_run_record(
            airflow_adapter.engine(),
            kind="organisation_summary",
            dag_id="organisation_summary",
            run_id=airflow_adapter.run_id(),
            assessment_year=summary["assessment_year"],
            payload=summary,
        )
        return str(folder / "summary.html")

    @task
    def email_quality_team(summary: dict) -> bool:
        """One email per run to the quality team; a retry or rerun of the same run sends nothing."""
        from reaccreditation.mail.compose import Draft, address, build_message, sender
        from reaccreditation.mail.outbox import send_once
        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.render import render

        org = airflow_adapter.organisation()
        run_id = airflow_adapter.run_id()
        s = _dates(summary)
        draft = Draft(
            to=[address(m.name, m.email) for m in org.quality_team.members],
            subject=f"{org.organisation.short_name}: {summary['framework']} {summary['assessment_year']} season summary",
            text=render("summary.txt", s=s),
            html=render("summary.html", s=s),
            sender=sender(org),
        )
        return send_once(
            airflow_adapter.engine(),
            airflow_adapter.smtp_transport(),
            build_message(draft),
            dedupe_key=f"summary:{summary['assessment_year']}:{run_id}",
            assessment_year=summary["assessment_year"],
            kind="summary",
            run_id=run_id,
        )

    summary = summarise_config()
    publish(summary)
    email_quality_team(summary)


def _dates(summary: dict) -> dict:
    """XCom carries dates as ISO strings; templates want dates back."""
    from datetime import date

    def fix(value):  # type: ignore[no-untyped-def]
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
            try:
                return date.fromisoformat(value)
            except ValueError:
                return value
        return value

    return fix(summary)


organisation_summary()
