"""Assessment timetable: the assessor's five days, solved with OR-Tools CP-SAT and sent as invites.

Reads the ``timetable:`` section of the organisation config (participant groups, availability, lunch,
session types, travel between sites), decides which elements the visit must cover (all of them for a
full assessment; last year's partials, at-risk elements and Compliance Plus claims for surveillance)
and solves: nobody double-booked, availability, lunch, day length and travel respected, days balanced,
departments kept together. A rerun moves as few sessions as possible from the stored timetable.

Outputs in ``output/<year>/timetable/``: ``timetable.xlsx`` (a sheet per day, per participant, coverage),
``timetable.json`` (for other DAGs), ``timetable.ics`` and a Gantt chart per day. Each session's
participants get an iCalendar invite (METHOD:REQUEST, stable UID, SEQUENCE bumped when it moves); the
assessor gets the full calendar. Reruns send nothing new; a change sends only the moved sessions.

Trigger with ``{"at_risk": ["3.2.1", ...]}`` to name at-risk elements when there is no gap snapshot.
When no timetable exists the first task fails saying which rules conflict (docs/timetable.md).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from reaccreditation.airflow_adapter import default_args


@dag(
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    default_args=default_args(),
    tags=["reaccreditation", "timetable"],
    params={"at_risk": Param(None, type=["null", "array"], description="at-risk element ids (default: the latest gap snapshot)")},
    doc_md=__doc__,
)
def assessment_timetable():
    @task
    def plan(params: dict | None = None) -> dict:
        """Scope, solve and check the timetable; fails at once (no retry) when the rules conflict."""
        from airflow.sdk.exceptions import AirflowFailException

        from reaccreditation import airflow_adapter
        from reaccreditation.organisation import ConfigError
        from reaccreditation.timetable import pipeline
        from reaccreditation.timetable.solution import TimetableInfeasible

        org = airflow_adapter.organisation(airflow_adapter.run_today())
        try:
            return pipeline.plan(org, airflow_adapter.engine(), (params or {}).get("at_risk"))
        except (TimetableInfeasible, ConfigError) as exc:
            raise AirflowFailException(str(exc)) from None

    @task
    def publish(planned: dict) -> dict:
        """Store the timetable (sequence numbers) and write xlsx, json, ics and the day charts."""
        from reaccreditation import airflow_adapter
        from reaccreditation.db.records import save_run_record
        from reaccreditation.settings import data_paths
        from reaccreditation.timetable import pipeline

        org = airflow_adapter.organisation()
        folder = data_paths().output / str(org.assessment.year) / "timetable"
        summary = pipeline.publish(org, airflow_adapter.engine(), planned, folder, airflow_adapter.run_id())
        save_run_record(
            airflow_adapter.engine(),
            kind="assessment_timetable",
            dag_id="assessment_timetable",
            run_id=airflow_adapter.run_id(),
            assessment_year=org.assessment.year,
            payload=summary,
        )
        return summary

    @task
    def send_invites(planned: dict, summary: dict) -> dict:
        """An invite per new or changed session, a cancellation per dropped one, the calendar to the assessor."""
        from pathlib import Path

        from reaccreditation import airflow_adapter
        from reaccreditation.timetable import pipeline

        org = airflow_adapter.organisation()
        return pipeline.send(org, airflow_adapter.engine(), airflow_adapter.smtp_transport(), planned, Path(summary["folder"]), airflow_adapter.run_id())

    planned = plan()
    send_invites(planned, publish(planned))


assessment_timetable()
