"""Evidence requests: every department's workbook by email, then reminders and an escalation.

Runs **daily** at 07:00 UK time; the run's logical date decides what is due, from the config's `schedule`:

| stage | opens (days before the assessment) | goes to |
| --- | --- | --- |
| request (workbook attached) | `requests_days_before`, and every day after until sent | each evidence contact |
| reminder *n* | each of `reminders_days_before`, until the next stage opens | contacts of departments with open elements |
| escalation | `escalation_days_before`, until the assessment | the head of department, quality team in Cc |

"Open elements" are owned elements with no current evidence this year in the register. Every email is
logged in `outbound_message` under a dedupe key, so reruns, retries and backfills never send twice.
Nothing due: the run succeeds and the `plan` task's log says why.

**Manual runs** (Trigger DAG w/ config): `department` sends that department its request now (if not sent
yet) and limits every stage to it; `resend: true` with a `department` sends its request again under a new
key. Workbooks sent are kept in the output folder under `<year>/requests/<department>.xlsx`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from reaccreditation.orchestration.connections import default_args


def _args() -> dict:
    """A wrong history file is not fixed by retrying: fail at once and say which row."""
    from airflow.sdk import RetryAction, RetryRule

    args = default_args()
    args["retry_policy"].rules.insert(
        0,
        RetryRule(
            exception=["reaccreditation.requests.seed.HistoryError", "reaccreditation.outcomes.history.HistoryError"],
            action=RetryAction.FAIL,
            reason="a history file is wrong: fix the rows named in the log (or remove the file), then rerun",
        ),
    )
    return args


@dag(
    schedule="0 7 * * *",  # daily, 07:00 UK time: requests land at the start of the working day
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args=_args(),
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
    @task
    def import_history() -> list[str]:
        """Load last year's accepted evidence and past ratings from the config's history/ folder, once."""
        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.requests.seed import import_history as load
        from reaccreditation.settings import config_path

        org = airflow_adapter.organisation(airflow_adapter.run_today())
        valid = {e.id for e in org.standard.elements}
        results = load(airflow_adapter.engine(), config_path().parent / "history", org.assessment.year, valid, org.standard)
        for r in results:
            print(f"history: {r}")
        return [str(r) for r in results]

    @task
    def plan(params: dict | None = None) -> list[dict]:
        """Decide what is due today; one item per department with something to send."""
        from airflow.sdk.exceptions import AirflowFailException

        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.requests import queries as register
        from reaccreditation.requests.plan import PlanError, plan_run

        params = params or {}
        today = airflow_adapter.run_today()
        org = airflow_adapter.organisation(today)
        engine = airflow_adapter.engine()
        run_id = airflow_adapter.run_id()
        year = org.assessment.year
        try:
            result = plan_run(
                org,
                today,
                run_id=run_id,
                sent=set(register.sent_keys(engine, year)),
                requested_before=register.requested_before(engine, year, run_id),
                evidenced=register.evidenced_elements(engine, year),
                department=(params.get("department") or "").strip() or None,
                resend=bool(params.get("resend")),
            )
        except PlanError as exc:
            raise AirflowFailException(str(exc)) from None
        print(f"{today}: stages open: {', '.join(st.label for st in result.stages) or 'none'}")
        for note in result.notes:
            print(note)
        for item in result.work:
            print(f"{item.department_id}: " + ", ".join(s.dedupe_key for s in item.sends))
        return [item.to_dict() for item in result.work]

    @task(map_index_template="{{ department_id }}")
    def send_department(work: dict) -> dict:
        """Build the department's workbook and emails; each email at most once."""
        from airflow.sdk import get_current_context

        from reaccreditation.orchestration import connections as airflow_adapter
        from reaccreditation.requests.plan import DepartmentWork
        from reaccreditation.requests.send import carry_out
        from reaccreditation.settings import data_paths

        get_current_context()["department_id"] = work["department_id"]  # names the mapped task in the UI
        today = airflow_adapter.run_today()
        counts = carry_out(
            airflow_adapter.engine(),
            airflow_adapter.smtp_transport(),
            airflow_adapter.organisation(today),
            DepartmentWork.from_dict(work),
            today=today,
            run_id=airflow_adapter.run_id(),
            output=data_paths().output,
        )
        return {"department_id": work["department_id"], **counts}

    @task(trigger_rule="none_failed")
    def report() -> dict:
        """What this run sent, from the request log (so a retried department is counted once)."""
        from collections import Counter

        from reaccreditation.mail.outbox import sent_messages
        from reaccreditation.orchestration import connections as airflow_adapter

        org = airflow_adapter.organisation(airflow_adapter.run_today())
        run_id = airflow_adapter.run_id()
        rows = [r for r in sent_messages(airflow_adapter.engine(), org.assessment.year) if r["run_id"] == run_id]
        totals = Counter(r["kind"] for r in rows if r["status"] == "sent")
        departments = {r["department_id"] for r in rows}
        print(f"sent by this run: {dict(totals) or 'nothing'} to {len(departments)} department(s)")
        return dict(totals)

    work = plan()
    import_history() >> work
    send_department.expand(work=work) >> report()


evidence_requests()
