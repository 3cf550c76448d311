"""Evidence intake: every returned workbook in the inbox is checked, validated, registered and answered.

A run starts within seconds of a workbook arriving: Airflow's triggerer watches the inbox folder
(`REACCREDITATION_DATA/inbox`) and the quality mailbox (IMAP IDLE) and queues a run on each new arrival
(`reaccreditation.orchestration.arrival`); every 15 minutes a run starts anyway, so nothing waits longer
when the triggerer is down. The inbox is swept. Each file is checked for safety
before any parser reads it (size, zip bomb, macros, encryption, Strict OOXML, oversized sheets), read
by header (renamed or reordered columns are fine), validated with Great Expectations (suite
`evidence_rows`, Data Docs under `great_expectations/uncommitted/data_docs`) and the rules GX cannot
express, and recorded with provenance. The sender gets "accepted: N evidence items for M elements" or
their workbook back with every problem cell highlighted and commented. A re-sent identical file is
answered "already received"; a corrected file replaces the department's earlier version (history kept).
When rows were registered, the evidence register Asset is updated and gap analysis follows.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task
from airflow.sdk.exceptions import AirflowSkipException

from reaccreditation.intake import pipeline
from reaccreditation.mailbox import pipeline as mailbox
from reaccreditation.orchestration import arrival, assets, context, policies
from reaccreditation.orchestration.connections import SMTP_POOL, engine, imap_mailbox, signing_key, smtp_transport
from reaccreditation.settings import data_paths


@dag(
    dag_display_name="Read returned workbooks",
    description="On arrival (and every 15 minutes): checks each workbook departments send back and answers the sender",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("*/15 * * * *", timezone="Europe/London"),
        assets=arrival.watched(data_paths().inbox, "evidence_intake"),
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args=policies.default_args(),
    tags=["reaccreditation", "intake"],
    doc_md=__doc__,
)
def evidence_intake():
    @task(pool=SMTP_POOL, task_display_name="Collect emails from the mailbox")
    def fetch_mailbox() -> dict:
        """Evidence by email: workbooks in replies to the quality mailbox go to the inbox (docs/mailbox.md).

        Without an ``imap_default`` connection this does nothing and the inbox folder alone is swept.
        """
        paths, run_id = data_paths(), context.run_id()
        return mailbox.fetch(imap_mailbox(), smtp_transport(), context.organisation_today, engine(), paths, run_id)

    # trigger_rule all_done: a mail server outage fails fetch_mailbox (alerted); the inbox folder is still swept
    @task(task_display_name="Check returned workbooks", trigger_rule="all_done")
    def sweep_inbox() -> dict:
        """Process every file waiting in the inbox; one bad file never stops the others."""
        today, run_id = context.run_today(), context.run_id()
        return pipeline.sweep_inbox(context.organisation_today, engine(), data_paths(), today, run_id, signing_key())

    @task(pool=SMTP_POOL, task_display_name="Answer the senders")
    def send_replies(result: dict) -> int:
        """One email per file, built from its committed record; a retry never sends one twice.

        Also answers files committed by an earlier run that failed before its replies went out.
        """
        return pipeline.answer_senders(engine(), context.organisation(), smtp_transport(), result, context.run_id())

    @task(task_display_name="Update the evidence register", outlets=[assets.EVIDENCE_REGISTER])
    def publish_register(result: dict) -> str:
        """Write the current register (CSV) and update the Asset when it changed.

        It changes when this sweep registered rows, or when an earlier run committed rows and then failed
        before publishing them (a mail or database outage): the next run publishes them.
        """
        written, rows = pipeline.publish_register(engine(), context.organisation(), data_paths().output)
        if written is None:
            raise AirflowSkipException(f"the evidence register is unchanged ({rows} current rows)")
        return str(written)

    result = sweep_inbox()
    fetch_mailbox() >> result
    send_replies(result) >> publish_register(result)


evidence_intake()
