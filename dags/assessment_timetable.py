"""Assessment timetable: the assessor's days planned around everyone's availability, signed off by you, then sent as invites.

Plans from the config's ``timetable:`` section the sessions the visit must cover (nobody double-booked,
availability, lunch, day length and travel respected; a rerun moves as few sessions as possible), writes
``output/<year>/timetable/`` and asks a quality team member in the Airflow UI: Approve sends the invites
and the assessor's calendar; Re-plan solves again with the form's constraints; Reject, or no answer in
time, sends nothing and tells the quality team. The send refuses anything but what was approved (its
SHA-256, from the project database). Rules that cannot all be met fail the first task, saying which.
Trigger with ``{"at_risk": ["3.2.1", ...]}`` when there is no gap snapshot. See docs/timetable.md.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from reaccreditation.approvals.decisions import APPROVE, REJECT, REPLAN
from reaccreditation.orchestration import context, forms, policies
from reaccreditation.orchestration.connections import SMTP_POOL, engine, smtp_transport, variable_secrets
from reaccreditation.orchestration.hitl import ApprovalTask, branch_on_answer, recorded_answer
from reaccreditation.settings import data_paths
from reaccreditation.timetable import pipeline


@dag(
    dag_display_name="Plan the assessment timetable",
    description="Weekly: plans the assessor's days, asks you to sign them off, then sends the invitations",
    dag_id=pipeline.DAG_ID,
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,  # one plan at a time: an approval can only ever be about this run's plan
    default_args=policies.default_args(policies.TIMETABLE),  # rules that cannot all be met fail at once
    tags=["reaccreditation", "timetable", "approval"],
    params={"at_risk": Param(None, type=["null", "array"], description="at-risk element ids (default: the latest gap snapshot)")},
    doc_md=__doc__,
)
def assessment_timetable():
    @task(task_display_name="Plan the timetable")
    def plan(params: dict | None = None) -> dict:
        """Read people's diaries, scope, solve and check the timetable; fails at once (no retry) when the rules conflict."""
        return pipeline.plan(context.organisation_today(), engine(), (params or {}).get("at_risk"), secrets=variable_secrets)

    @task(task_display_name="Publish it for sign-off")
    def publish(planned: dict) -> dict:
        """Store the timetable (sequence numbers), write xlsx, json, ics and the day charts, and the approval page."""
        return pipeline.publish_for_approval(context.organisation(), engine(), planned, data_paths().output, context.run_id())

    @task.short_circuit(task_display_name="Anything new to send?")
    def anything_to_send(summary: dict) -> bool:
        """Ask for approval only when invites are waiting (a rerun with nothing new asks nobody)."""
        return bool(summary["pending"])

    @task.branch(task_display_name="Act on your answer")
    def decide(summary: dict, asked: str, go: str, replan: str | None = None) -> list[str]:
        """The recorded answer: Approve sends, Re-plan (first request) solves again, Reject or none holds them."""
        return branch_on_answer(summary, asked=asked, go=go, replan=replan)

    @task(pool=SMTP_POOL, task_display_name="Send the invitations")
    def send_invites(summary: dict, approved_by: str) -> dict:
        """An invite per new or changed session, a cancellation per dropped one, the calendar to the assessor."""
        org, out = context.organisation(), data_paths().output
        return pipeline.send_approved(org, engine(), smtp_transport(), summary, out, context.run_id(), approved_by)

    @task(task_display_name="Re-plan with your changes")
    def replan(planned: dict, params: dict | None = None) -> dict:
        """Solve again with the approver's constraints (and any from earlier re-plans), then publish."""
        answer = recorded_answer("approve_timetable")
        org, at_risk = context.organisation_today(), (params or {}).get("at_risk")
        again = pipeline.replan(org, engine(), planned, answer, at_risk, secrets=variable_secrets)
        return pipeline.publish_for_approval(context.organisation(), engine(), again, data_paths().output, context.run_id())

    approve = ApprovalTask(
        task_id="approve_timetable",
        task_display_name="Sign off the timetable",
        page_from="publish",
        item="timetable",
        options=[APPROVE, REPLAN, REJECT],
        defaults=[REJECT],
        params=forms.REPLAN,
        binds=pipeline.approval_binding,
    )
    approve_again = ApprovalTask(
        task_id="approve_replanned",
        task_display_name="Sign off the re-planned timetable",
        page_from="replan",
        item="re-planned timetable",
        options=[APPROVE, REJECT],
        defaults=[REJECT],
        params=forms.REPLANNED,
        binds=pipeline.approval_binding,
    )

    planned = plan()
    summary = publish(planned)
    anything_to_send(summary) >> approve
    branch = decide(summary, asked="approve_timetable", go="send_invites", replan="replan")
    approve >> branch >> send_invites(summary, "approve_timetable")
    replanned = replan(planned)
    branch >> replanned >> approve_again
    decided_again = decide.override(task_id="decide_replanned", task_display_name="Act on your answer (re-planned)")(
        replanned, asked="approve_replanned", go="send_replanned_invites"
    )
    approve_again >> decided_again
    decided_again >> send_invites.override(task_id="send_replanned_invites", task_display_name="Send the re-planned invitations")(
        replanned, "approve_replanned"
    )


assessment_timetable()
