"""Airflow callbacks: a failed task emails the quality team once, with a link to its log.

The callback takes Airflow's context (a mapping) and hands a plain :class:`Failure` to the domain
(``dashboard.alerts``). It never raises: a broken alert must not hide the failure it reports.

No Deadline Alert is attached to any DAG: Airflow 3.3.2's ``dag.test()`` fails on a DAG with
``deadline=`` ("'dict' object has no attribute 'hex'"), and every test and the demo run DAGs that way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from reaccreditation.dashboard.alerts import Failure, send_failure

log = logging.getLogger(__name__)
# Not under "reaccreditation": scripts/run_dags.py echoes those loggers on the demo's terminal, which
# already says what each DAG did; this line is for the task log in the UI.
outcome_log = logging.getLogger("task.outcome")


def failure_from_context(context: Mapping[str, Any]) -> Failure:
    ti = context.get("ti") or context["task_instance"]
    exc = context.get("exception")
    error = f"{type(exc).__name__}: {exc}" if isinstance(exc, BaseException) else str(exc or "no error message recorded")
    run = context.get("dag_run")
    when = context.get("logical_date") or getattr(run, "logical_date", None)
    try:
        url = str(ti.log_url)
    except Exception:  # noqa: BLE001 - a missing base_url must not stop the alert
        url = ""
    map_index = getattr(ti, "map_index", None)
    return Failure(
        dag_id=str(ti.dag_id),
        run_id=str(ti.run_id),
        task_id=str(ti.task_id),
        try_number=int(ti.try_number or 0),
        map_index=int(map_index) if map_index is not None else -1,
        logical_date=when,
        log_url=url,
        error=error,
    )


def notify_failure(context: Mapping[str, Any]) -> bool:
    """``on_failure_callback`` of every reaccreditation task (``policies.default_args``)."""
    try:
        from reaccreditation.orchestration.connections import engine, smtp_transport

        return send_failure(engine(), smtp_transport(), failure_from_context(context))
    except Exception:
        log.exception("failure alert could not be sent")
        return False


def outcome_words(result: Any, *, short_circuit: bool = False) -> str:
    """What a task decided or did, in one line, from what it returned (its XCom)."""
    if short_circuit:
        return "due: carrying on" if result else "nothing due today: the rest of this run is skipped"
    if result is None:
        return "done"
    if isinstance(result, dict):
        parts = []
        for key, value in result.items():
            if isinstance(value, bool | int | float | str) and len(str(value)) <= 60:
                parts.append(f"{key.replace('_', ' ')} {value}")
            elif isinstance(value, list | tuple | dict):
                parts.append(f"{key.replace('_', ' ')} {len(value)}")
            if len(parts) == 6:
                break
        return "done: " + (", ".join(parts) or "nothing to report")
    if isinstance(result, list | tuple):
        if result and all(isinstance(r, str) for r in result) and len(result) <= 3:
            return "next: " + ", ".join(result)
        return f"done: {len(result)} item(s)"
    return f"done: {str(result)[:120]}"


def log_outcome(context: Mapping[str, Any], result: Any) -> None:
    """``post_execute`` of every reaccreditation task: one INFO line in the task log the UI shows."""
    try:
        task = context.get("task")
        short = "ShortCircuit" in type(task).__name__ or getattr(task, "_task_type", "") == "_ShortCircuitDecoratedOperator"
        outcome_log.info("Outcome of %s: %s", getattr(task, "task_id", "task"), outcome_words(result, short_circuit=short))
    except Exception:  # noqa: BLE001 - a summary line must never fail the task it describes
        log.exception("could not summarise the task's outcome")
