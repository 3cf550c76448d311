"""Enter this year's assessment outcome: the assessor's ratings, typed into a form after the assessment.

Trigger it by hand once the assessor's report has arrived (from the assessment's last day; earlier it
stops at once and says when). It opens a form for the quality team members named in the config
(``quality_team.members[].airflow_user``): the top-rated elements (Compliance Plus, Best Practice), one
line per partially (or not) met element with the assessor's action, and a tick that everything else is
Compliance; or the path of a report already in the history format (CSV/xlsx with assessment_year,
framework, assessment_type, element_id, rating, action). The form checks each field as it is submitted
(element ids like 1.1.1; "element: action" lines); a wrong form stores nothing and says which field,
and is put right by triggering the DAG again (clearing a task would read the same answers again). The
rows are checked against the standard and stored in ``assessment_outcome`` by
``reaccreditation.outcomes.history`` (upsert by year and element, so entering it again corrects it), and
who entered it is kept in the ``approval`` table. A form nobody fills in within ``approvals.timeout``
stores nothing (docs/approvals.md).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from reaccreditation.orchestration import context, forms, policies
from reaccreditation.orchestration.connections import engine
from reaccreditation.orchestration.hitl import EntryTask
from reaccreditation.outcomes import pipeline
from reaccreditation.outcomes.form import OutcomeFormError
from reaccreditation.settings import data_paths


@dag(
    dag_display_name="Enter this year's assessment outcome",
    description="By hand after the assessment: a form for the assessor's ratings and actions",
    dag_id=pipeline.OUTCOME_DAG_ID,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    default_args=policies.default_args(policies.OUTCOME_ENTRY),
    tags=["reaccreditation", "history", "approval"],
    doc_md=__doc__,
)
def assessment_outcome():
    @task(task_display_name="Prepare the form")
    def prepare() -> dict:
        """Not before the assessment's last day; then the form's page: this year's assessment, the standard's
        labels, last year's top ratings and partials."""
        org = context.organisation()
        pipeline.check_entry_day(org, context.run_today())
        return pipeline.outcome_page(org, engine())

    enter = EntryTask(
        task_id="enter_outcome",
        task_display_name="Enter the assessor's outcome",
        page_from="prepare",
        item="assessment outcome form",
        params=forms.OUTCOME,
        form_error=OutcomeFormError,
        retry_policy=policies.OUTCOME_FORM,
    )

    @task(task_display_name="Check and store the outcome")
    def store(result: dict) -> dict:
        """Check and store the outcome (history import); record who entered it."""
        org, output, today = context.organisation(), data_paths().output, context.run_today()
        return pipeline.store_outcome(engine(), org, result, output, today, context.run_id())

    prepare() >> enter
    store(enter.output)


assessment_outcome()
