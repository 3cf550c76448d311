"""Sign-off tasks in the Airflow UI: the standard provider's human-in-the-loop operators, configured.

An approval task takes its subject and Markdown page from an upstream task's XCom (``page_from``, a
dict made by ``approvals.pages.request``; Jinja fields, rendered when the task runs), its approvers and
timeout from the organisation config (a ``pre_execute`` hook, so a config change applies to the next
request) and tells the quality team through its ``notifiers``. :func:`branch_on_answer` is the step
after it: record the answer beside the item, then follow the chosen branch or hold the item.

The provider's notifiers log a failed notification instead of failing the task: if the mail server is
down when a request opens, the request still waits on the Required Actions page, without the email.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from airflow.providers.standard.operators.hitl import HITLEntryOperator, HITLOperator
from airflow.sdk import BaseNotifier, conf, get_current_context

from reaccreditation.approvals import notices
from reaccreditation.approvals.decisions import APPROVE, REJECT, approvers, decision_from, record
from reaccreditation.orchestration import policies
from reaccreditation.orchestration.connections import engine, smtp_transport
from reaccreditation.orchestration.context import organisation


def required_actions_link(dag_id: str, run_id: str, task_id: str, *, highlight: str | None = None) -> str:
    """The UI page where the approver answers (the provider's path) under ``[api] base_url``, else this
    machine's API server. ``highlight`` makes that option the filled button (the UI's ``_options``)."""
    base_url = conf.get("api", "base_url", fallback=None) or f"http://localhost:{conf.get('api', 'port', fallback='8080')}"
    dag, run, task = (quote(part, safe="") for part in (dag_id, run_id, task_id))
    link = f"{base_url.rstrip('/')}/dags/{dag}/runs/{run}/tasks/{task}/required_actions"
    return link + ("?_options=" + quote(json.dumps([highlight])) if highlight else "")


class RequestNotice(BaseNotifier):
    """One email to the quality team when a request opens: what waits, who may answer, the link."""

    def __init__(self, item: str) -> None:
        super().__init__()
        self.item = item

    def notify(self, context: Any) -> None:
        task, ti = context["task"], context["ti"]
        notices.waiting(
            engine(),
            smtp_transport(),
            organisation(),
            subject=task.subject,
            item=self.item,
            approvers=task.assigned_users,
            run=(ti.dag_id, ti.run_id),
            task_id=ti.task_id,
            link=required_actions_link(ti.dag_id, ti.run_id, ti.task_id, highlight=primary(task.options)),
            deadline=datetime.now(UTC) + task.response_timeout if task.response_timeout else None,
        )


def primary(options: list[str]) -> str | None:
    """The answer shown as the filled button: Approve when the choice is Approve or Reject (the UI otherwise
    fills the default, Reject, which is only what happens when nobody answers)."""
    return APPROVE if sorted(options) == sorted([APPROVE, REJECT]) else None


def _approvers_and_timeout(context: Any) -> None:
    """Who may answer and how long the request waits, from the config as it is when the task runs."""
    org = organisation()
    task = context["task"]
    task.assigned_users = approvers(org)
    task.response_timeout = org.approvals.timeout


def _from(task_id: str, key: str) -> str:
    return "{{ ti.xcom_pull(task_ids='" + task_id + "')['" + key + "'] }}"


def _configured(page_from: str, item: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {
        "subject": _from(page_from, "approval_subject"),
        "body": _from(page_from, "approval_body"),
        "notifiers": [RequestNotice(item)],
        "pre_execute": _approvers_and_timeout,
        "retry_policy": policies.HUMAN_ANSWER,
    } | kwargs


class ApprovalTask(HITLOperator):
    """Approve / Reject (/ Re-plan) in the UI; a request nobody answers resolves to ``defaults`` (never "send")."""

    def __init__(self, *, page_from: str, item: str, **kwargs: Any) -> None:
        super().__init__(**_configured(page_from, item, kwargs))


class EntryTask(HITLEntryOperator):
    """A form to fill in (one "OK" button). No default: a form nobody fills in fails after the timeout.

    The answer is checked against the form's Params (pattern, enum, type) the moment it is submitted, and
    ``form_error`` (a ValueError subclass the task's retry policy fails at once) names every wrong field
    in the form's own words, instead of jsonschema's.
    """

    def __init__(self, *, page_from: str, item: str, form_error: type[ValueError] = ValueError, **kwargs: Any) -> None:
        super().__init__(**_configured(page_from, item, {"options": ["OK"], "defaults": None} | kwargs))
        self.form_error = form_error

    def validate_params_input(self, params_input: Mapping) -> None:
        from airflow.sdk.exceptions import ParamValidationError

        problems = []
        for key, value in (params_input or {}).items():
            if key not in self.params:
                continue
            try:
                self.params[key] = value
            except ParamValidationError:
                param = self.params.get_param(key)
                title = param.schema.get("title") or key
                problems.append(f"'{title}' ({key}): {str(value).strip()!r} is not as asked ({param.description})")
        if problems:
            raise self.form_error("The form was not accepted: " + "; ".join(problems))
        super().validate_params_input(params_input)


def branch_on_answer(
    result: Mapping[str, Any], page: Mapping[str, Any], *, asked: str, go: str, replan: str | None = None
) -> list[str]:
    """Record the answer to task ``asked`` beside the item; Approve follows ``go``, Re-plan ``replan``,
    anything else (Reject, no answer) holds the item and tells the quality team."""
    ctx = get_current_context()
    run = (ctx["dag"].dag_id, ctx["run_id"])
    org, db = organisation(), engine()
    d = decision_from(result)
    record(
        db,
        d,
        assessment_year=org.assessment.year,
        item_kind=page["approval_kind"],
        item_ref=page["approval_ref"],
        subject=page["approval_subject"],
        dag_id=run[0],
        run_id=run[1],
        task_id=asked,
    )
    if d.go:
        return [go]
    if d.decision == "replan" and replan:
        return [replan]
    link = required_actions_link(run[0], run[1], asked)
    notices.held(db, smtp_transport(), org, d, item=page["approval_item"], run=run, task_id=asked, link=link)
    return []
