"""Sign-off is bound to what was approved, and its audit cannot be rewritten (issue 19, tried as an attacker).

Between the request opening and the send, what would be sent changes (a later run's re-plan stored over
the timetable; a pack file edited while the request waits, in a real ``dag.test()``). The send step
recomputes the SHA-256 and refuses; nothing is sent, and the quality team gets the failure alert. The
audit table refuses UPDATE and DELETE on SQLite and PostgreSQL. The XCom-rewrite attack against a live
api-server is in test_live_airflow.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from reaccreditation.approvals.decisions import Decision, NotApproved, record, record_answer, record_request
from reaccreditation.db import make_engine, upgrade
from reaccreditation.db.schema import approval_decision
from reaccreditation.demo import generate
from reaccreditation.organisation.config import load_organisation
from reaccreditation.timetable import pipeline

from ..conftest import FIRST_DAY, run_dag
from .answer import Answer, Answerer


class ChangeThenAnswer(Answerer):
    """Answers as usual, but first runs ``change`` (once): what a later run or a person did meanwhile."""

    def __init__(self, dag_id: str, change: Callable[[], None], *answers: Answer) -> None:
        super().__init__(dag_id, list(answers))
        self.change: Callable[[], None] | None = change

    def _try(self, answer: Answer) -> bool:
        from airflow.models.taskinstance import TaskInstance as TI
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState

        with create_session() as session:
            waiting = session.scalars(
                select(TI).where(
                    TI.dag_id == self.dag_id, TI.task_id == answer.task_id, TI.state == TaskInstanceState.AWAITING_INPUT
                )
            ).first()
        if waiting is not None and self.change is not None:
            self.change()
            self.change = None
        return super()._try(answer)


def _failure_alerts(outbox) -> list:  # type: ignore[no-untyped-def]
    return [m for m in outbox.messages() if "failed" in m["Subject"].lower()]


def test_an_approved_run_never_sends_a_later_replan(tmp_path):
    """Run 1 published and approved; before its send step, run 2's re-plan is published (as it was, with no
    max_active_runs): run 1's send recomputes the digest, refuses, and sends nothing. Plain Python (the
    steps the DAG calls): a dag.test() of the timetable costs a minute here."""
    paths = generate(tmp_path / "demo", FIRST_DAY)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    upgrade(url)
    org, engine, output = load_organisation(paths["config"]), make_engine(url), tmp_path / "output"
    first = pipeline.plan(org, engine, seconds=3)
    summary = pipeline.publish_for_approval(org, engine, first, output, "run-1")
    _approve(engine, pipeline.approval_binding(org, engine, output, summary), "run-1")

    later = pipeline.replan(org, engine, first, {"params_input": {"move_sessions": "depot-visit=3"}})
    pipeline.publish_for_approval(org, engine, later, output, "run-2")  # stored over run 1's plan, not approved
    sent: list = []
    with pytest.raises(NotApproved, match="changed after priya.raman approved it"):
        pipeline.send_approved(org, engine, sent.append, summary, output, "run-1", "approve_timetable")
    assert sent == []
    with pytest.raises(NotApproved, match="no sign-off recorded"):  # nor on run 2, which nobody approved
        pipeline.send_approved(org, engine, sent.append, summary, output, "run-2", "approve_timetable")
    assert sent == []


def _approve(engine, binding, run_id: str) -> None:  # type: ignore[no-untyped-def]
    """What the approval task writes: the request with its digest, then the approver's answer."""
    where = dict(dag_id=pipeline.DAG_ID, run_id=run_id, task_id="approve_timetable")
    item = dict(assessment_year=binding.assessment_year, item_kind=binding.item_kind, item_ref=binding.item_ref)
    record_request(engine, digest=binding.digest, subject="Timetable", **item, **where)
    record_answer(engine, Decision("approved", "Approve", "priya.raman", "Priya Raman", None, None), **where)


def test_a_pack_edited_after_the_request_is_not_sent(council):
    """A recipient's body file changed while the request waited: the approved digest no longer matches."""
    folder = council["data"] / "output" / "2027" / "packs"

    def edit_pack() -> None:
        [body] = [p for p in folder.glob("*/leadership.html")]
        body.write_text(body.read_text() + "<p>Please also send your password.</p>")

    t30 = FIRST_DAY - timedelta(days=30)
    with ChangeThenAnswer("readiness_pack", edit_pack, Answer("approve_pack", "Approve", {"comment": "ok"})) as answers:
        run = run_dag("readiness_pack", t30)
    assert not answers.errors
    assert {ti.task_id: ti.state for ti in run.get_task_instances()}["send"] == "failed"
    outbox = council["outbox"]
    assert [m for m in outbox.messages() if m["Subject"].startswith("[")] == []  # no pack message
    [alert] = _failure_alerts(outbox)
    assert "Nothing was sent: the readiness pack changed after" in alert.get_body(("plain",)).get_content()


def _refuses_rewrites(url: str) -> None:
    engine = make_engine(url)
    item = dict(assessment_year=2027, item_kind="timetable", item_ref="t.xlsx", subject="Timetable", dag_id="d", task_id="t")
    record(engine, Decision("rejected", "Reject", "tom.hollis", "Tom Hollis", None, "no"), run_id="r1", digest="a" * 64, **item)
    for statement in (
        "UPDATE approval_decision SET decision = 'approved', responded_by = 'priya.raman'",
        "DELETE FROM approval_decision",
    ):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        [row] = conn.execute(select(approval_decision)).mappings()
    assert (row["decision"], row["responded_by"]) == ("rejected", "tom.hollis")
    engine.dispose()


def test_the_audit_refuses_update_and_delete_on_sqlite(project_db):
    _refuses_rewrites(project_db)


def test_the_audit_refuses_update_delete_and_truncate_on_postgresql(postgres_database):
    upgrade(postgres_database)
    _refuses_rewrites(postgres_database)
    engine = make_engine(postgres_database)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(text("TRUNCATE approval_decision"))
    engine.dispose()
