"""The readiness pack waits for sign-off: the page summarises it; a rejection sends nothing and says why."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from reaccreditation.approvals.decisions import recent_approvals
from reaccreditation.dashboard.files import output_file
from reaccreditation.db import make_engine
from reaccreditation.db.schema import outbound_message

from ..conftest import FIRST_DAY, run_dag
from .answer import Answer, answering

T30 = FIRST_DAY - timedelta(days=30)


def test_approval_page_summarises_the_pack_and_approve_sends_it(council):
    with answering("readiness_pack", Answer("approve_pack", "Approve", {"comment": "ok to go"})) as answers:
        run = run_dag("readiness_pack", T30)
    assert run.state == "success" and not answers.errors
    [seen] = answers.seen
    body = seen["body"]
    assert seen["options"] == ["Approve", "Reject"] and seen["subject"].startswith("Readiness pack T-30 pack:")
    assert "**Recipients** (" in body and "Margaret Okafor <margaret\\.okafor@kestrelvale\\.example\\.org> (leadership)" in body
    assert "Missing from this pack" in body and "**Top gaps**" in body
    # Links, through the plugin, to exactly what will be sent: the previews and the attached workbook.
    links = re.findall(r"\]\(/reaccreditation/files/([^)]+)\)", body)
    assert len(links) == 3 and [Path(link).suffix for link in links] == [".html", ".xlsx", ".html"]
    paths = [str(output_file(council["data"] / "output", link)) for link in links]
    assert all(Path(p).is_file() for p in paths) and paths[0].endswith("leadership.preview.html")
    sent = [m for m in council["outbox"].messages() if m["Subject"].startswith("[")]  # packs: "[Red] Readiness pack ..."
    assert len(sent) > 10
    [row] = recent_approvals(make_engine(council["url"]))
    assert (row["item_kind"], row["decision"], row["responded_by"], row["comment"]) == (
        "readiness_pack",
        "approved",
        "priya.raman",
        "ok to go",
    )
    assert row["item_ref"] in paths[0]


def test_a_rejected_pack_is_not_sent_and_the_reason_is_kept(council):
    with answering(
        "readiness_pack", Answer("approve_pack", "Reject", {"comment": "wait for the gap analysis"}, ("tom.hollis", "Tom Hollis"))
    ) as answers:
        run = run_dag("readiness_pack", T30)
    assert run.state == "success" and not answers.errors
    assert {ti.task_id: ti.state for ti in run.get_task_instances()}["send"] == "skipped"
    messages = council["outbox"].messages()
    assert [m for m in messages if m["Subject"].startswith("[")] == []  # no pack ("[Red] Readiness pack ...")
    [held] = [m for m in messages if "not sent" in m["Subject"]]
    assert (
        "wait for the gap analysis" in held.get_body(("plain",)).get_content()
        and "Tom Hollis" in held.get_body(("plain",)).get_content()
    )
    engine = make_engine(council["url"])
    [row] = recent_approvals(engine)
    assert (row["decision"], row["responded_by"], row["comment"]) == ("rejected", "tom.hollis", "wait for the gap analysis")
    with engine.connect() as conn:
        assert "readiness_pack" not in set(conn.execute(select(outbound_message.c.kind)).scalars())
