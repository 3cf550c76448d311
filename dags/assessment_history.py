"""Assessment history: import past assessor outcomes (CSV or xlsx) into the project database.

Trigger by hand after each assessment (or once, to load earlier years). The ``path`` parameter is the
outcomes file, read only from the ``history`` folder beside the organisation config (default
``history/outcomes.csv``; any other path is refused before it is opened). Columns: assessment_year,
framework, assessment_type, element_id, rating, action. The whole file is checked first: a wrong row
fails the run with the file, row and column of every problem and imports nothing. Re-importing a file
is harmless (upsert by year and element). The gap analysis uses this history for last year's
partials, actions and Compliance Plus.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from reaccreditation.orchestration import context, policies
from reaccreditation.orchestration.connections import engine
from reaccreditation.outcomes import pipeline


@dag(
    dag_display_name="Import past assessment outcomes",
    description="By hand: loads earlier years' assessor ratings from a CSV or workbook",
    dag_id=pipeline.HISTORY_DAG_ID,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    default_args=policies.default_args(policies.HISTORY_IMPORT),  # a wrong file is not fixed by retrying
    params={
        "path": Param(
            pipeline.DEFAULT_HISTORY,
            type="string",
            minLength=1,
            description="Outcomes file (.csv or .xlsx) in the history folder beside the organisation config",
        )
    },
    tags=["reaccreditation", "history"],
    doc_md=__doc__,
)
def assessment_history():
    @task(task_display_name="Import the outcomes file")
    def import_history(params: dict | None = None) -> dict:
        """Check the whole file, then upsert its outcomes; returns what changed."""
        path = (params or {}).get("path")
        return pipeline.import_history(engine(), context.organisation(), path, context.run_today(), context.run_id())

    import_history()


assessment_history()
