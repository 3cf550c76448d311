"""Evidence portfolio: the assessor's desk-review package, built from what departments actually sent.

Runs every morning (after the gap analysis) and whenever a new gap snapshot is published. ``decide``
opens the window at ``schedule.portfolio_days_before`` (a working day, as the readiness packs' dates)
until the assessment's last day. ``build`` gathers each element's evidence items with their kept
documents and checked links, and, when that differs from the latest version, writes a new version
under ``output/<year>/portfolio/``: ``index.html``, ``portfolio.xlsx``, the documents by element and a
``MANIFEST`` of SHA-256 digests, zipped. Nothing new since the version the assessor has: the run stops.

Nothing leaves unseen: the quality lead approves the version in the Airflow UI (docs/approvals.md);
``send`` then mails each assessor once (index and workbook attached, a signed download link for the
whole bundle served by plugins/portfolio_download.py, what changed since the last version they got),
only the version whose SHA-256 the approval recorded in the project database.
Reject or no answer sends nothing and tells the quality team. Details in docs/portfolio.md.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from reaccreditation.approvals.decisions import APPROVE, REJECT
from reaccreditation.orchestration import assets, context, forms, policies
from reaccreditation.orchestration.connections import SMTP_POOL, engine, signing_key, smtp_transport
from reaccreditation.orchestration.hitl import ApprovalTask, branch_on_answer
from reaccreditation.portfolio import pipeline
from reaccreditation.settings import data_paths


@dag(
    dag_display_name="Evidence portfolio for the assessor",
    description="Daily from T-21: a new portfolio version when the evidence changed, sent after you sign it off",
    dag_id=pipeline.DAG_ID,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("30 7 * * *", timezone="Europe/London"),
        assets=assets.GAP_SNAPSHOT,
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args=policies.default_args(),
    tags=["reaccreditation", "portfolio", "approval"],
    doc_md=__doc__,
)
def evidence_portfolio():
    @task.short_circuit(task_display_name="Is the portfolio window open?")
    def decide() -> dict | None:
        """Is the portfolio window open today? Skips the rest of the run when not (the reason is logged)."""
        return pipeline.due(context.organisation_today(), context.run_today())

    @task.short_circuit(task_display_name="Build a new version")
    def build(decision: dict) -> dict | None:
        """Build a new version when the evidence changed; skips approval and sending when nothing is new."""
        return pipeline.build(context.organisation_today(), engine(), data_paths().output, context.run_id())

    @task(pool=SMTP_POOL, task_display_name="Send it to the assessor")
    def send(built: dict) -> dict:
        """Mail the approved version to each assessor once, with the signed download link."""
        from airflow.sdk import conf

        base_url = conf.get("api", "base_url", fallback=None) or f"http://localhost:{conf.get('api', 'port', fallback='8080')}"
        return pipeline.send_approved(
            context.organisation_today(),
            engine(),
            smtp_transport(),
            built,
            signing_key=signing_key(),
            base_url=base_url,
            run_id=context.run_id(),
        )

    approve = ApprovalTask(
        task_id="approve_portfolio",
        task_display_name="Sign off the portfolio",
        page_from="build",
        item="evidence portfolio",
        options=[APPROVE, REJECT],
        defaults=[REJECT],
        params=forms.COMMENT,
        binds=pipeline.approval_binding,
    )

    @task.branch(task_display_name="Act on your answer")
    def release(built: dict) -> list[str]:
        """Follow the answer approve_portfolio recorded: Approve sends, Reject or none holds it and tells the team."""
        return branch_on_answer(built, asked="approve_portfolio", go="send")

    built = build(decide())
    built >> approve >> release(built) >> send(built)


evidence_portfolio()
