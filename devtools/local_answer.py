"""Answer a human-in-the-loop task while ``dag.test()`` waits for it, the way the HITL REST API does.

For runs without an api-server: the demo chain (``scripts/run_dags.py``, which approves as the first
quality team approver and says so) and the DAG tests. ``dag.test()`` (Airflow 3.3) keeps a run alive
while a task sits in AWAITING_INPUT and resumes it when a response appears in the metadata DB. This
writes that response from a thread with the same steps as ``PATCH /api/v2/dags/{dag}/dagRuns/{run}/
taskInstances/{task}/-1/hitlDetails``: it refuses users who are not assigned, records who answered and
when, and resumes the task with ``handle_event_submit``. In a deployment people answer in the UI.
Airflow internals are imported inside functions only.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Answer:
    task_id: str  # "*": whichever task of the DAG asks next
    option: str
    params: dict[str, Any] = field(default_factory=dict)
    user: tuple[str, str] = ("priya.raman", "Priya Raman")


@dataclass
class Answerer:
    dag_id: str
    answers: list[Answer]
    seen: list[dict[str, Any]] = field(default_factory=list)  # the requests as the approver saw them
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _try(self, answer: Answer) -> bool:
        from airflow._shared.timezones import timezone
        from airflow.models.hitl import HITLDetail
        from airflow.models.taskinstance import TaskInstance as TI
        from airflow.models.trigger import handle_event_submit
        from airflow.triggers.base import TriggerEvent
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState
        from sqlalchemy import select

        with create_session() as session:
            ti = session.scalars(
                select(TI).where(
                    TI.dag_id == self.dag_id,
                    TI.state == TaskInstanceState.AWAITING_INPUT,
                    *(() if answer.task_id == "*" else (TI.task_id == answer.task_id,)),
                )
            ).first()
            if ti is None:
                return False
            detail = session.scalars(select(HITLDetail).where(HITLDetail.ti_id == ti.id)).one()
            self.seen.append(
                {
                    "task_id": ti.task_id,
                    "subject": detail.subject,
                    "body": detail.body,
                    "options": list(detail.options),
                    "assigned": detail.assigned_users,
                    "params": dict(detail.params or {}),
                }
            )
            assigned = {u["id"] for u in detail.assigned_users}
            if assigned and answer.user[0] not in assigned:
                self.errors.append(f"{answer.user[0]} is not a respondent for {ti.task_id}")
                return True
            form = {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in (detail.params or {}).items()}
            detail.responded_by = {"id": answer.user[0], "name": answer.user[1]}
            detail.responded_at = timezone.utcnow()
            detail.chosen_options = [answer.option]
            detail.params_input = form | answer.params
            session.add(detail)
            handle_event_submit(TriggerEvent(detail.as_resume_event_payload()), task_instance=ti, session=session)
        return True

    def _run(self) -> None:
        pending = list(self.answers)
        while pending and not self._stop.is_set():
            try:
                if self._try(pending[0]):
                    pending.pop(0)
                    continue
            except Exception as exc:  # noqa: BLE001 - reported by the test
                self.errors.append(repr(exc))
                return
            time.sleep(0.5)

    def __enter__(self) -> Answerer:
        # Import and map every model here, in the main thread: two threads importing Airflow's models at
        # once deadlock on the import lock.
        import airflow.models.dagrun  # noqa: F401
        import airflow.models.hitl  # noqa: F401
        import airflow.models.taskinstance  # noqa: F401
        import airflow.models.trigger  # noqa: F401
        from airflow.models import import_all_models
        from sqlalchemy.orm import configure_mappers

        import_all_models()
        configure_mappers()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def answering(dag_id: str, *answers: Answer) -> Answerer:
    return Answerer(dag_id, list(answers))
