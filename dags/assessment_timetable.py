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

Invites go out only after a quality team member approves in the Airflow UI (docs/approvals.md): the
approval page shows the days, sessions per day, who is needed and where the workbook and day pictures
are. "Re-plan" solves again with the form's constraints (lock sessions, leave out people or days, move
a session to another day) and asks again; "Reject", or no answer within ``approvals.timeout``, sends
nothing and emails the quality team. A run with nothing new to send asks nobody.

Trigger with ``{"at_risk": ["3.2.1", ...]}`` to name at-risk elements when there is no gap snapshot.
When no timetable exists the first task fails saying which rules conflict (docs/timetable.md).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from reaccreditation.approvals.decisions import APPROVE, REJECT, REPLAN, operator
from reaccreditation.orchestration.connections import default_args

REPLAN_FORM = {
    "lock_sessions": Param(
        None,
        type=["null", "string"],
        title="Lock sessions",
        description="session keys to keep exactly where they are, comma-separated",
    ),
    "exclude_people": Param(
        None,
        type=["null", "string"],
        title="Leave out people",
        description="emails (or names) who cannot attend, comma-separated",
    ),
    "exclude_days": Param(
        None, type=["null", "string"], title="Leave out days", description="assessment day numbers to keep free, e.g. 2"
    ),
    "move_sessions": Param(
        None,
        type=["null", "string"],
        title="Move sessions",
        description="session=day, e.g. depot-visit=3 (site visits to another day)",
    ),
    "comment": Param(None, type=["null", "string"], title="Comment", description="why (kept in the approval record)"),
}


def _publish(planned: dict) -> dict:
    """Store the timetable, write its files and the approval page (subject and Markdown body)."""
    import json

    from reaccreditation.approvals.decisions import pending_invites, timetable_body
    from reaccreditation.db.records import save_run_record
    from reaccreditation.orchestration import connections as airflow_adapter
    from reaccreditation.settings import data_paths
    from reaccreditation.timetable import pipeline
    from reaccreditation.timetable.replan import Replan

    org = airflow_adapter.organisation()
    engine = airflow_adapter.engine()
    folder = data_paths().output / str(org.assessment.year) / "timetable"
    summary = pipeline.publish(org, engine, planned, folder, airflow_adapter.run_id())
    save_run_record(
        engine,
        kind="assessment_timetable",
        dag_id="assessment_timetable",
        run_id=airflow_adapter.run_id(),
        assessment_year=org.assessment.year,
        payload=summary,
    )
    data = json.loads((folder / "timetable.json").read_text(encoding="utf-8"))
    replan = Replan.from_dict(planned.get("replan")).describe()
    days = len(data["days"])
    summary["pending"] = pending_invites(engine, org.assessment.year)
    summary["approval_subject"] = f"Timetable {org.assessment.year}: {days} days, {len(data['sessions'])} sessions" + (
        " (re-planned)" if replan else ""
    )
    summary["approval_body"] = timetable_body(data, summary, replan=replan)
    return summary


def _decide(result: dict, summary: dict, task_id: str, go: str, replan: str | None) -> list[str]:
    """Record the answer beside the timetable; follow the chosen branch or hold and alert."""
    from airflow.sdk import conf, get_current_context

    from reaccreditation.approvals.decisions import decision_from, held, record, required_actions_link
    from reaccreditation.orchestration import connections as airflow_adapter
    from reaccreditation.settings import data_paths

    ctx = get_current_context()
    org = airflow_adapter.organisation()
    engine = airflow_adapter.engine()
    d = decision_from(result)
    dag_id, run_id = ctx["dag"].dag_id, ctx["run_id"]
    item_ref = str(data_paths().output / str(org.assessment.year) / "timetable" / "timetable.xlsx")
    subject = summary.get("approval_subject", "timetable")
    record(
        engine,
        d,
        assessment_year=org.assessment.year,
        item_kind="timetable",
        item_ref=item_ref,
        subject=subject,
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
    )
    if d.decision == "approved":
        return [go]
    if d.decision == "replan" and replan:
        return [replan]
    link = required_actions_link(conf.get("api", "base_url", fallback=None), dag_id, run_id, task_id)
    held(
        engine,
        airflow_adapter.smtp_transport(),
        org,
        d,
        item="timetable invites",
        run=(dag_id, run_id),
        task_id=task_id,
        link=link,
    )
    return []


def _send(summary: dict) -> dict:
    from pathlib import Path

    from reaccreditation.orchestration import connections as airflow_adapter
    from reaccreditation.timetable import pipeline

    org = airflow_adapter.organisation()
    return pipeline.send(
        org,
        airflow_adapter.engine(),
        airflow_adapter.smtp_transport(),
        summary,
        Path(summary["folder"]),
        airflow_adapter.run_id(),
    )


@dag(
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    default_args=default_args(),
    tags=["reaccreditation", "timetable", "approval"],
    params={"at_risk": Param(None, type=["null", "array"], description="at-risk element ids (default: the latest gap snapshot)")},
    doc_md=__doc__,
)
def assessment_timetable():
    @task
    def plan(params: dict | None = None) -> dict:
        """Scope, solve and check the timetable; fails at once (no retry) when the rules conflict."""
        from airflow.sdk.exceptions import AirflowFailException

        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.organisation.config import ConfigError
        from reaccreditation.timetable import pipeline
        from reaccreditation.timetable.solution import TimetableInfeasible

        org = airflow_adapter.organisation(airflow_adapter.run_today())
        try:
            return pipeline.plan(org, airflow_adapter.engine(), (params or {}).get("at_risk"))
        except (TimetableInfeasible, ConfigError) as exc:
            raise AirflowFailException(str(exc)) from None

    @task
    def publish(planned: dict) -> dict:
        """Store the timetable (sequence numbers), write xlsx, json, ics and the day charts, and the approval page."""
        return _publish(planned)

    @task.short_circuit
    def anything_to_send(summary: dict) -> bool:
        """Ask for approval only when invites are waiting (a rerun with nothing new asks nobody)."""
        return bool(summary["pending"])

    approve = operator(
        task_id="approve_timetable",
        subject="Approve the assessment timetable",
        body="(the timetable summary is written by the publish task)",
        body_task="publish",
        item="timetable",
        options=[APPROVE, REPLAN, REJECT],
        defaults=[REJECT],
        params=REPLAN_FORM,
    )

    @task.branch
    def decide(result: dict, summary: dict) -> list[str]:
        """Approve: send the invites. Re-plan: solve again. Reject or no answer: hold and tell the quality team."""
        return _decide(result, summary, "approve_timetable", "send_invites", "replan")

    @task
    def send_invites(summary: dict) -> dict:
        """An invite per new or changed session, a cancellation per dropped one, the calendar to the assessor."""
        return _send(summary)

    @task
    def replan(planned: dict, result: dict, params: dict | None = None) -> dict:
        """Solve again with the approver's constraints (and any from earlier re-plans), then publish."""
        from airflow.sdk.exceptions import AirflowFailException

        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.organisation.config import ConfigError
        from reaccreditation.timetable import pipeline
        from reaccreditation.timetable.replan import Replan, ReplanError
        from reaccreditation.timetable.solution import TimetableInfeasible

        org = airflow_adapter.organisation(airflow_adapter.run_today())
        try:
            asked = Replan.from_dict(planned.get("replan")).merge(Replan.from_form(result.get("params_input") or {}))
            constraints = asked.to_dict() | {"locked_at": planned["timetable"]}
            again = pipeline.plan(org, airflow_adapter.engine(), (params or {}).get("at_risk"), replan=constraints)
        except (TimetableInfeasible, ConfigError, ReplanError) as exc:
            raise AirflowFailException(f"Re-plan failed, nothing was sent: {exc}") from None
        return _publish(again)

    approve_again = operator(
        task_id="approve_replanned",
        subject="Approve the re-planned assessment timetable",
        body="(the timetable summary is written by the replan task)",
        body_task="replan",
        item="re-planned timetable",
        options=[APPROVE, REJECT],
        defaults=[REJECT],
        params={"comment": REPLAN_FORM["comment"]},
    )

    @task.branch
    def decide_replanned(result: dict, summary: dict) -> list[str]:
        """Approve: send the re-planned invites. Reject or no answer: hold and tell the quality team."""
        return _decide(result, summary, "approve_replanned", "send_replanned_invites", None)

    @task
    def send_replanned_invites(summary: dict) -> dict:
        """The re-planned timetable's invites (only after its own approval)."""
        return _send(summary)

    planned = plan()
    summary = publish(planned)
    gate = anything_to_send(summary)
    gate >> approve
    branch = decide(approve.output, summary)
    branch >> send_invites(summary)
    replanned = replan(planned, approve.output)
    branch >> replanned
    replanned >> approve_again
    decide_replanned(approve_again.output, replanned) >> send_replanned_invites(replanned)


assessment_timetable()
