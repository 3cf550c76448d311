"""Named retry rules, composed once into the policies the DAGs use (Airflow's example_retry_policy.py).

Bad input or config fails at once: a retry cannot fix a spreadsheet, and the failure alert says what to
fix. A mail server or database outage is retried with backoff. Anything else gets the task's retries.
Exceptions are named by dotted path and imported when a task fails, not when a DAG file is parsed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule


class Rule(RetryRule):
    """A RetryRule that does not import its exceptions at parse time (the base class does, to warn about a
    typo): every DAG file imports this module, and the exceptions' modules are the domain's.
    ``tests/dags/test_dag_integrity.py`` checks that every dotted path here resolves."""

    def __post_init__(self) -> None:
        pass


BAD_CONFIG = Rule(
    exception=["reaccreditation.organisation.config.ConfigError", "reaccreditation.standards.StandardError"],
    action=RetryAction.FAIL,
    reason="the organisation config or a standard file is wrong: fix the file, then rerun",
)
OUTAGE = Rule(
    exception=["smtplib.SMTPException", "builtins.ConnectionError", "builtins.TimeoutError", "sqlalchemy.exc.OperationalError"],
    action=RetryAction.RETRY,
    reason="mail server or database unavailable: retrying with backoff",
)
WRONG_OUTCOMES_FILE = Rule(
    exception=["reaccreditation.outcomes.history.HistoryError"],
    action=RetryAction.FAIL,
    reason="the outcomes file is wrong: fix the rows named in the log, then trigger again",
)
WRONG_HISTORY_FILE = Rule(
    exception=["reaccreditation.requests.seed.HistoryError", "reaccreditation.outcomes.history.HistoryError"],
    action=RetryAction.FAIL,
    reason="a history file is wrong: fix the rows named in the log (or remove the file), then rerun",
)
WRONG_REQUEST = Rule(
    exception=["reaccreditation.requests.plan.PlanError"],
    action=RetryAction.FAIL,
    reason="the run's parameters cannot be carried out: trigger again with the ones the log names",
)
NO_TIMETABLE = Rule(
    exception=["reaccreditation.timetable.solution.TimetableInfeasible", "reaccreditation.timetable.replan.ReplanError"],
    action=RetryAction.FAIL,
    reason="the timetable rules (or the re-plan form) cannot all be met: nothing was sent; change them, then rerun",
)
WRONG_OUTCOME_FORM = Rule(
    exception=["reaccreditation.outcomes.form.OutcomeFormError", "reaccreditation.outcomes.history.HistoryError"],
    action=RetryAction.FAIL,
    reason="the outcome was not stored: fix the form or the report file named in the log, then trigger again",
)
LAPSED_ANSWER = Rule(
    exception=[
        "airflow.providers.standard.exceptions.HITLTimeoutError",
        "airflow.providers.standard.exceptions.HITLTriggerEventError",
    ],
    action=RetryAction.FAIL,
    reason="nobody answered in time: nothing was stored or sent; trigger the DAG again to ask again",
)
NOT_APPROVED = Rule(
    exception=["reaccreditation.approvals.decisions.NotApproved"],
    action=RetryAction.FAIL,
    reason="no recorded approval of exactly what would be sent: nothing was sent; trigger the DAG again to ask again",
)

STANDARD = ExceptionRetryPolicy(rules=[NOT_APPROVED, BAD_CONFIG, OUTAGE])
HISTORY_IMPORT = ExceptionRetryPolicy(rules=[WRONG_OUTCOMES_FILE, BAD_CONFIG, OUTAGE])
REQUESTS = ExceptionRetryPolicy(rules=[WRONG_HISTORY_FILE, WRONG_REQUEST, BAD_CONFIG, OUTAGE])
TIMETABLE = ExceptionRetryPolicy(rules=[NO_TIMETABLE, NOT_APPROVED, BAD_CONFIG, OUTAGE])
OUTCOME_ENTRY = ExceptionRetryPolicy(rules=[WRONG_OUTCOME_FORM, BAD_CONFIG, OUTAGE])
HUMAN_ANSWER = ExceptionRetryPolicy(rules=[LAPSED_ANSWER, BAD_CONFIG, OUTAGE])  # the approval and entry tasks
OUTCOME_FORM = ExceptionRetryPolicy(rules=[WRONG_OUTCOME_FORM, LAPSED_ANSWER, BAD_CONFIG, OUTAGE])  # a wrong form fails at once


def default_args(policy: ExceptionRetryPolicy = STANDARD) -> dict[str, Any]:
    """Task defaults shared by every reaccreditation DAG: owner, retries with backoff, the failure alert."""
    from reaccreditation.orchestration.callbacks import log_outcome, notify_failure

    return {
        "owner": "quality-team",
        "retries": 3,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,
        "on_failure_callback": notify_failure,
        "post_execute": log_outcome,  # one plain line per task: what it decided or did
        "retry_policy": policy,
    }
