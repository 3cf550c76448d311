"""The timetable waits for sign-off: re-plan with constraints then approve; reject; each answer audited.

Real ``dag.test()`` runs; the approver's answer is written the way the HITL REST API writes it
(tests/approvals/answer.py). The live REST API, login, refusal and timeout are in test_live_airflow.py.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from reaccreditation.approvals.decisions import recent_approvals
from reaccreditation.db import make_engine
from reaccreditation.db.schema import outbound_message, timetable_session

from ..conftest import run_dag
from .answer import Answer, answering

REPLAN = {
    "lock_sessions": "opening-meeting",
    "exclude_people": "paul.ingram@greenway.example.com",
    "exclude_days": "",
    "move_sessions": "depot-visit=2",
    "comment": "depot team are out on day 1",
}


def _invites(outbox) -> list:  # type: ignore[no-untyped-def]
    return [m for m in outbox.messages() if "CSE assessment" in m["Subject"]]


def test_replan_then_approve_sends_the_replanned_invites_only(council):
    outbox = council["outbox"]
    with answering(
        "assessment_timetable",
        Answer("approve_timetable", "Re-plan", REPLAN, ("tom.hollis", "Tom Hollis")),
        Answer("approve_replanned", "Approve", {"comment": "fine now"}),
    ) as answers:
        run = run_dag("assessment_timetable", date(2026, 11, 25))
    assert run.state == "success" and not answers.errors
    first, second = answers.seen
    assert first["options"] == ["Approve", "Re-plan", "Reject"] and {u["id"] for u in first["assigned"]} == {
        "priya.raman",
        "tom.hollis",
    }
    assert (
        "**5 days**" in first["body"]
        and "Who is needed" in first["body"]
        and "timetable.xlsx" in first["body"]
        and "timetable-day5.png" in first["body"]
    )
    assert set(first["params"]) == {"lock_sessions", "exclude_people", "exclude_days", "move_sessions", "comment"}
    assert "(re-planned)" in second["subject"] and "move depot\\-visit to day 2" in second["body"]

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["send_invites"] == "skipped" and states["send_replanned_invites"] == "success"
    engine = make_engine(council["url"])
    with engine.connect() as conn:
        rows = {r.session_key: r for r in conn.execute(select(timetable_session))}
    assert rows["depot-visit"].day == 1  # day 2 (0-based 1), as asked
    assert rows["waste-contractor"].attendees == []  # left out: nobody invited to it
    data = json.loads((council["data"] / "output" / "2027" / "timetable" / "timetable.json").read_text())
    assert next(s for s in data["sessions"] if s["key"] == "depot-visit")["day"] == 2

    invites = _invites(outbox)
    to = {a.addr_spec for m in invites for a in m["To"].addresses}
    # 39 sessions with people, the assessor's own request for each of the 40, and the assessor's calendar
    assert len(invites) == 80 and "paul.ingram@greenway.example.com" not in to
    assert sum("Approval needed" in m["Subject"] for m in outbox.messages()) == 2  # one per approval request

    audit = recent_approvals(engine)
    assert [(a["task_id"], a["decision"], a["responded_by"]) for a in audit] == [
        ("approve_replanned", "approved", "priya.raman"),
        ("approve_timetable", "replan", "tom.hollis"),
    ]
    assert (
        audit[1]["comment"] == "depot team are out on day 1"
        and audit[1]["params"]["move_sessions"] == "depot-visit=2"
        and audit[0]["responded_at"] is not None
    )


def test_reject_sends_no_invite_records_the_reason_and_tells_the_quality_team(council):
    outbox = council["outbox"]
    with answering(
        "assessment_timetable", Answer("approve_timetable", "Reject", {"comment": "the assessor cannot do Friday"})
    ) as answers:
        run = run_dag("assessment_timetable", date(2026, 11, 25))
    assert run.state == "success" and not answers.errors
    assert _invites(outbox) == []
    [alert] = [m for m in outbox.messages() if "not sent" in m["Subject"]]
    assert {a.addr_spec for a in alert["To"].addresses} == {
        "priya.raman@kestrelvale.example.org",
        "tom.hollis@kestrelvale.example.org",
    }
    assert "the assessor cannot do Friday" in alert.get_body(("plain",)).get_content()
    engine = make_engine(council["url"])
    [row] = recent_approvals(engine)
    assert (row["decision"], row["responded_by"], row["comment"], row["item_kind"]) == (
        "rejected",
        "priya.raman",
        "the assessor cannot do Friday",
        "timetable",
    )
    with engine.connect() as conn:
        kinds = conn.execute(select(outbound_message.c.kind)).scalars().all()
    assert sorted(kinds) == ["approval_held", "approval_request"]
