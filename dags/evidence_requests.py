"""Evidence requests: every department's workbook by email, then reminders and an escalation.

Runs **daily** at 07:00 UK time; the run's logical date decides what is due, from the config's `schedule`:

| stage | opens (days before the assessment) | goes to |
| --- | --- | --- |
| request (workbook attached) | `requests_days_before`, and every day after until sent | each evidence contact |
| reminder *n* | each of `reminders_days_before`, until the next stage opens | contacts of departments with open elements |
| escalation | `escalation_days_before`, until the assessment | the head of department, quality team in Cc |

"Open elements" are owned elements with no current evidence this year in the register. Every email is
logged in `outbound_message` under a dedupe key, so reruns, retries and backfills never send twice.
Departments go in batches of `requests.batch_size` (default 25), one mapped task each: a department that
fails (an address the mail server refuses, a workbook that cannot be stored) does not stop the rest of its
batch; the batch fails naming it, and its retry sends only what is missing.
Nothing due: the run succeeds and the `plan` task's log says why.

**Manual runs** (Trigger DAG w/ config): `department` sends that department its request now (if not sent
yet) and limits every stage to it; `resend: true` with a `department` sends its request again under a new
key. Workbooks sent are kept in the output folder under `<year>/requests/<department>.xlsx`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from reaccreditation.orchestration import context, policies
from reaccreditation.orchestration.connections import SMTP_POOL, engine, signing_key, smtp_transport
from reaccreditation.requests import pipeline
from reaccreditation.settings import data_paths


@dag(
    dag_display_name="Send evidence requests and reminders",
    description="Daily at 07:00: each department's evidence workbook, then reminders and an escalation when due",
    schedule="0 7 * * *",  # daily, 07:00 UK time: requests land at the start of the working day
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args=policies.default_args(policies.REQUESTS),
    tags=["reaccreditation", "requests"],
    doc_md=__doc__,
    params={
        "department": Param(
            None,
            type=["null", "string"],
            title="Department id",
            description="Only this department (its request is sent now if it has not been). Empty: all departments.",
        ),
        "resend": Param(
            False,
            type="boolean",
            title="Resend the request",
            description="Send this department's request again, with a fresh workbook. Needs a department.",
        ),
    },
)
def evidence_requests():
    @task(task_display_name="Import past outcomes")
    def import_history() -> list[str]:
        """Load last year's accepted evidence and past ratings from the config's history/ folder, once."""
        return pipeline.import_history(context.organisation_today(), engine())

    @task(task_display_name="Work out what is due")
    def plan(params: dict | None = None) -> list[dict]:
        """Decide what is due today; batches of `requests.batch_size` departments with something to send."""
        return pipeline.plan(context.organisation_today(), engine(), context.run_today(), context.run_id(), params or {})

    @task(pool=SMTP_POOL, task_display_name="Email a batch of departments", map_index_template="{{ batch_label }}")
    def send_batch(batch: dict) -> dict:
        """Each department's workbook and emails, each email at most once; one department's failure spares the rest."""
        context.name_mapped_task(batch_label=batch["label"])
        org, today, output = context.organisation_today(), context.run_today(), data_paths().output
        key = signing_key()
        return pipeline.send_batch(engine(), smtp_transport(), org, batch, today, context.run_id(), output, key)

    @task(task_display_name="Report what was sent", trigger_rule="none_failed")
    def report() -> dict:
        """What this run sent, from the request log (so a retried batch is counted once)."""
        return pipeline.report(engine(), context.organisation_today(), context.run_id())

    work = plan()
    import_history() >> work
    send_batch.expand(batch=work) >> report()


evidence_requests()
