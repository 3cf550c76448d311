"""Readiness packs: leadership and department heads see, on their phone, whether the council is ready.

Runs every morning (after the gap analysis) and whenever a new gap snapshot is published. The first
task decides from the config (``schedule.packs_days_before``, default T-30, T-23, T-16, T-9, T-3) and
the run's logical date whether a pack is due: at or after a pack date, until it has been sent. After
the assessment a closing pack (outcome against forecast) goes once that year's outcomes are imported.

``render`` writes everything to ``output/<year>/packs/<pack date>/`` (HTML and text per message,
charts, workbooks, ``manifest.json``) and returns the paths; ``send`` mails exactly those files, each
message at most once (dedupe key ``pack:<year>:<pack date>:[<department>:]<email>``), and records the
pack's headline figures so the next pack can say what changed. A missing gap analysis or timetable
does not stop the pack: it says what is missing. Details in docs/packs.md.

Nothing is sent unseen: between ``render`` and ``send`` a quality team member approves the pack in the
Airflow UI (docs/approvals.md). The page summarises it (readiness, RAG per criterion, top gaps,
recipients) and links the rendered HTML and workbook; "Reject" with a comment, or no answer within
``approvals.timeout``, sends nothing, records the reason and emails the quality team. The approval is
bound to the SHA-256 of the pack's files and recipients and read from the project database: ``send``
refuses a pack that changed since, or a run with no recorded approval.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from reaccreditation.approvals.decisions import APPROVE, REJECT
from reaccreditation.orchestration import assets, context, forms, policies
from reaccreditation.orchestration.connections import SMTP_POOL, engine, smtp_transport
from reaccreditation.orchestration.hitl import ApprovalTask, branch_on_answer
from reaccreditation.packs import pipeline
from reaccreditation.settings import data_paths


@dag(
    dag_display_name="Readiness packs for leadership",
    description="Daily at 07:00: on pack days builds the pack, asks you to sign it off, then emails leadership and heads",
    dag_id=pipeline.DAG_ID,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 7 * * *", timezone="Europe/London"),
        assets=assets.GAP_SNAPSHOT,
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args=policies.default_args(),
    tags=["reaccreditation", "packs", "approval"],
    doc_md=__doc__,
)
def readiness_pack():
    @task.short_circuit(task_display_name="Is a pack due today?")
    def decide() -> dict | None:
        """Is a pack due today? Skips the rest of the run when not (the reason is logged)."""
        return pipeline.due(context.organisation_today(), engine(), context.run_today())

    @task(task_display_name="Build the pack")
    def render(decision: dict) -> dict:
        """Gather the figures and write the pack folder; returns the paths (for an approver, then send)."""
        return pipeline.render(context.organisation_today(), engine(), data_paths().output, decision)

    @task(pool=SMTP_POOL, task_display_name="Send the pack")
    def send() -> dict:
        """Mail the pack this run's approval approved (as recorded in the project database, digest unchanged)."""
        return pipeline.send_approved(engine(), smtp_transport(), context.run_id(), approval_task="approve_pack")

    approve = ApprovalTask(
        task_id="approve_pack",
        task_display_name="Sign off the pack",
        page_from="render",
        item="readiness pack",
        options=[APPROVE, REJECT],
        defaults=[REJECT],
        params=forms.COMMENT,
        binds=pipeline.approval_binding,
    )

    @task.branch(task_display_name="Act on your answer")
    def decide_pack(rendered: dict) -> list[str]:
        """Follow the answer approve_pack recorded: Approve sends, Reject or no answer holds it and tells the quality team."""
        return branch_on_answer(rendered, asked="approve_pack", go="send")

    rendered = render(decide())
    rendered >> approve >> decide_pack(rendered) >> send()


readiness_pack()
