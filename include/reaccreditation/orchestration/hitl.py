"""Sign-off tasks in the Airflow UI: the standard provider's human-in-the-loop operators, configured.

An approval task takes its subject and Markdown page from an upstream task's XCom (``page_from``, a
dict made by ``approvals.pages.request``; Jinja fields, rendered when the task runs), its approvers and
timeout from the organisation config (a ``pre_execute`` hook, so a config change applies to the next
request) and tells the quality team through its ``notifiers``.

Sign-off is bound to content and kept out of XCom's reach: when the request opens, the task computes
what it is about (``binds``: the stage's ``approval_binding``, a SHA-256 of exactly what would be sent)
and appends a "requested" row to the project database; when it resumes with the answer (which Airflow
hands it from the HITL response, not from XCom) it appends the answer with that digest.
:func:`branch_on_answer` and the stages' ``send_approved`` read those rows, so rewriting the task's
XCom through the REST API and clearing the downstream tasks changes nothing.

The provider's notifiers log a failed notification instead of failing the task: if the mail server is
down when a request opens, the request still waits on the Required Actions page, without the email.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from airflow.providers.standard.operators.hitl import HITLEntryOperator, HITLOperator
from airflow.sdk import BaseNotifier, conf, get_current_context

from reaccreditation.approvals import notices
from reaccreditation.approvals.binding import Binding
from reaccreditation.approvals.decisions import (
    APPROVE,
    REJECT,
    answer_of,
    approvers,
    decision_from,
    decision_of,
    record_answer,
    record_request,
)
from reaccreditation.orchestration import policies
from reaccreditation.orchestration.connections import engine, smtp_transport
from reaccreditation.orchestration.context import organisation
from reaccreditation.organisation.config import Organisation
from reaccreditation.settings import data_paths

# ``binds(org, engine, output, page)``: what the request is about, from the stage (e.g. packs.pipeline.approval_binding)
Binder = Callable[[Organisation, Any, Path, dict[str, Any]], Binding]


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
    """Approve / Reject (/ Re-plan) in the UI; a request nobody answers resolves to ``defaults`` (never "send").

    The request and its answer are appended to ``approval_decision`` by this task itself, bound to the
    digest ``binds`` computes when the request opens (shown on the page as its fingerprint).
    """

    def __init__(self, *, page_from: str, item: str, binds: Binder, **kwargs: Any) -> None:
        super().__init__(**_configured(page_from, item, kwargs))
        self.page_from, self.binds = page_from, binds

    def execute(self, context: Any) -> Any:
        ti = context["ti"]
        page = ti.xcom_pull(task_ids=self.page_from)
        binding = self.binds(organisation(), engine(), data_paths().output, page)
        record_request(
            engine(),
            digest=binding.digest,
            assessment_year=binding.assessment_year,
            item_kind=binding.item_kind,
            item_ref=binding.item_ref,
            subject=self.subject,
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            task_id=ti.task_id,
        )
        self.body = (self.body or "") + (
            f"\n\n**Fingerprint** of what Approve releases (SHA-256): `{binding.digest[:16]}`. "
            "Anything else (changed since, or a later run's plan) is refused at sending."
        )
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        result = super().execute_complete(context, event)
        ti = context["ti"]
        record_answer(engine(), decision_from(result), dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id)
        return result


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


def recorded_answer(asked: str) -> dict[str, Any]:
    """The answer approval task ``asked`` of this run recorded in the project database, shaped like the HITL
    XCom (``chosen_options``, ``params_input``) for steps that read the form, e.g. a re-plan."""
    ctx = get_current_context()
    row = answer_of(engine(), ctx["dag"].dag_id, ctx["run_id"], asked)
    d = decision_of(row)
    return {"chosen_options": [d.option] if d.option else [], "params_input": d.params, "decision": d.decision}


def branch_on_answer(page: Mapping[str, Any], *, asked: str, go: str, replan: str | None = None) -> list[str]:
    """Follow the answer task ``asked`` recorded in the project database (never its XCom): Approve follows
    ``go``, Re-plan ``replan``, anything else (Reject, no answer, no record) holds the item and tells the
    quality team."""
    ctx = get_current_context()
    run = (ctx["dag"].dag_id, ctx["run_id"])
    org, db = organisation(), engine()
    d = decision_of(answer_of(db, run[0], run[1], asked))
    if d.go:
        return [go]
    if d.decision == "replan" and replan:
        return [replan]
    link = required_actions_link(run[0], run[1], asked)
    notices.held(db, smtp_transport(), org, d, item=page["approval_item"], run=run, task_id=asked, link=link)
    return []
