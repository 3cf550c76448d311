"""Evidence intake: every returned workbook in the inbox is checked, validated, registered and answered.

Every 15 minutes the inbox (`REACCREDITATION_DATA/inbox`) is swept. Each file is checked for safety
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
from airflow.sdk import Asset, dag, task

from reaccreditation.orchestration.assets import EVIDENCE_REGISTER
from reaccreditation.orchestration.connections import default_args


@dag(
    schedule="*/15 * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["reaccreditation", "intake"],
    doc_md=__doc__,
)
def evidence_intake():
    @task
    def fetch_mailbox() -> dict:
        """Evidence by email: workbooks in replies to the quality mailbox go to the inbox (docs/mailbox.md).

        Without an ``imap_default`` connection this does nothing and the inbox folder alone is swept.
        """
        from reaccreditation.mailbox.imap import Mailbox, MailboxSettings
        from reaccreditation.mailbox.process import Context, collect, own_addresses, send_answers
        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.settings import data_paths

        with airflow_adapter.imap_mailbox() as opened:
            if opened is None:
                return {"mailbox": "not configured"}
            client, extra = opened
            org = airflow_adapter.organisation(airflow_adapter.run_today())
            ctx = Context(org, airflow_adapter.engine(), data_paths(), airflow_adapter.run_id(), own_addresses(org))
            counts = collect(Mailbox(client, MailboxSettings.from_extra(extra)), ctx)
        return counts | {"answers_sent": send_answers(ctx, airflow_adapter.smtp_transport())}

    @task(trigger_rule="all_done")  # a mail server outage fails fetch_mailbox (alerted); the inbox folder is still swept
    def sweep_inbox() -> dict:
        """Process every file waiting in the inbox; one bad file never stops the others."""
        from reaccreditation.intake.gx_validation import Validator
        from reaccreditation.intake.pipeline import Sweep, inbox_files, summary
        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.settings import data_paths

        files = inbox_files(data_paths().inbox)
        if not files:
            return summary([]) | {"data_docs": None}
        today = airflow_adapter.run_today()
        sweep = Sweep(
            airflow_adapter.organisation(today),
            airflow_adapter.engine(),
            data_paths(),
            Validator,
            today=today,
            run_id=airflow_adapter.run_id(),
        )
        outcomes = sweep.run(files)
        docs = sweep.validator().build_data_docs() if sweep.validated else None
        return summary(outcomes) | {"data_docs": docs}

    @task
    def send_replies(result: dict) -> int:
        """One email per file, built from its committed record; a retry never sends one twice.

        Also answers files committed by an earlier run that failed before its replies went out.
        """
        from reaccreditation.intake.replies import send_replies
        from reaccreditation.mailbox.answers import threader
        from reaccreditation.orchestration import connections as airflow_adapter

        engine = airflow_adapter.engine()
        org = airflow_adapter.organisation()
        return send_replies(
            engine,
            org,
            airflow_adapter.smtp_transport(),
            result["replies"],
            run_id=airflow_adapter.run_id(),
            thread=threader(engine, org),
        )

    @task(outlets=[Asset(EVIDENCE_REGISTER)])
    def publish_register(result: dict) -> str:
        """Write the current register (CSV) and update the Asset when it changed.

        It changes when this sweep registered rows, or when an earlier run committed rows and then failed
        before publishing them (a mail or database outage): the next run publishes them.
        """
        import csv
        import io

        from airflow.sdk.exceptions import AirflowSkipException

        from reaccreditation.files import write_atomic
        from reaccreditation.intake.store import current_register
        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.settings import data_paths

        org = airflow_adapter.organisation()
        rows = current_register(airflow_adapter.engine(), org.assessment.year)
        buf = io.StringIO()
        columns = [
            "department_id",
            "element_id",
            "title",
            "evidence_type",
            "link",
            "evidence_date",
            "owner",
            "self_rating",
            "cplus_claim",
            "cplus_justification",
            "confirm",
            "sheet",
            "row_number",
            "original_name",
            "sha256",
            "submitter",
            "received_at",
            "version",
        ]
        writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in columns})
        path = data_paths().output / str(org.assessment.year) / "intake" / "evidence_register.csv"
        content = buf.getvalue().encode("utf-8-sig")
        if (path.read_bytes() == content) if path.exists() else not rows:
            raise AirflowSkipException(f"the evidence register is unchanged ({len(rows)} current rows)")
        write_atomic(path, content)
        return str(path)

    result = sweep_inbox()
    fetch_mailbox() >> result
    send_replies(result) >> publish_register(result)


def _cell(value: object) -> object:
    """Spreadsheet-safe CSV cell: text a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
        return "'" + value
    return value


evidence_intake()
