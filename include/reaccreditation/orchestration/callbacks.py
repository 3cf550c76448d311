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
