"""Assessment history: import past assessor outcomes (CSV or xlsx) into the project database.

Trigger by hand after each assessment (or once, to load earlier years). The ``path`` parameter is the
outcomes file; a relative path is read beside the organisation config (default
``history/outcomes.csv``). Columns: assessment_year, framework, assessment_type, element_id, rating,
action. The whole file is checked first: a wrong row fails the run with the file, row and column of
every problem and imports nothing. Re-importing a file is harmless (upsert by year and element).
The gap analysis uses this history for last year's partials, actions and Compliance Plus.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from reaccreditation.orchestration.connections import default_args

DAG_ID = "assessment_history"


def _args() -> dict:
    """A wrong file is not fixed by retrying: fail at once on HistoryError."""
    from airflow.sdk import RetryAction, RetryRule

    args = default_args()
    args["retry_policy"].rules.insert(
        0,
        RetryRule(
            exception=["reaccreditation.outcomes.history.HistoryError"],
            action=RetryAction.FAIL,
            reason="the outcomes file is wrong: fix the rows named in the log, then trigger again",
        ),
    )
    return args


@dag(
    dag_id=DAG_ID,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    default_args=_args(),
    params={
        "path": Param(
            "history/outcomes.csv",
            type="string",
            minLength=1,
            description="Outcomes file (.csv or .xlsx); relative paths are read beside the organisation config",
        )
    },
    tags=["reaccreditation", "history"],
    doc_md=__doc__,
)
def assessment_history():
    @task
    def import_history(params: dict | None = None) -> dict:
        """Check the whole file, then upsert its outcomes; returns what changed."""
        from dataclasses import asdict
        from pathlib import Path

        from reaccreditation.db.records import save_run_record
        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.outcomes.history import import_outcomes
        from reaccreditation.settings import config_path

        path = Path((params or {}).get("path") or "history/outcomes.csv").expanduser()
        if not path.is_absolute():
            path = config_path().parent / path
        today = airflow_adapter.run_today()
        result = asdict(import_outcomes(airflow_adapter.engine(), path, today))
        org = airflow_adapter.organisation()
        save_run_record(
            airflow_adapter.engine(),
            kind="assessment_history",
            dag_id=DAG_ID,
            run_id=airflow_adapter.run_id(),
            assessment_year=org.assessment.year,
            payload=result,
        )
        return result

    import_history()


assessment_history()
