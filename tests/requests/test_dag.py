"""Real runs of the evidence_requests DAG (dag.test) against the local SMTP sink, across the season."""

from __future__ import annotations

import io
import time
from datetime import timedelta

import yaml
from openpyxl import load_workbook
from sqlalchemy import select

from reaccreditation.db.schema import outbound_message
from reaccreditation.requests.emails import XLSX
from reaccreditation.requests.workbook import read_meta

from ..conftest import FIRST_DAY, run_dag, task_log
from .conftest import T_REQUESTS, add_evidence, output_folder, run_requests

QUALITY = "Kestrel Vale quality team <quality@kestrelvale.example.org>"  # the one sender name (quality_team.sender_name)


def addresses(msg, header: str) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(a.addr_spec for a in msg[header].addresses) if msg[header] else []


def log(engine) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """The request log: this stage's rows of outbound_message (failure alerts are another stage's)."""
    c = outbound_message.c
    with engine.connect() as conn:
        return conn.execute(
            select(c.kind, c.dedupe_key, c.status)
            .where(c.kind.in_(("request", "resend", "reminder", "escalation")))
            .order_by(c.id)
        ).all()


def test_the_season_requests_reminders_escalation(airflow_db, project_db, engine, outbox, demo, org, caplog):
    contacts = {c.email: d for d in org.departments for c in d.evidence_contacts}

    # before T-120 nothing is due: the run succeeds and sends nothing
    with task_log(caplog, "reaccreditation.requests"):
        assert run_dag("evidence_requests", T_REQUESTS - timedelta(days=10)).state == "success"
    assert outbox.messages() == []
    assert (
        f"nothing is due on {T_REQUESTS - timedelta(days=10)}: the next stage is request on {T_REQUESTS} (10 days)" in caplog.text
    )

    # the departments go in batches of requests.batch_size, one mapped task each, named in the UI
    cfg = yaml.safe_load(demo["config"].read_text())
    demo["config"].write_text(yaml.safe_dump(cfg | {"requests": {"batch_size": 5}}, sort_keys=False))
    started = time.perf_counter()
    run = run_dag("evidence_requests", T_REQUESTS)
    print(f"\nrequest run (12 departments in 3 batches, 13 emails): {time.perf_counter() - started:.1f}s")
    assert run.state == "success"
    mapped = sorted((ti for ti in run.get_task_instances() if ti.task_id == "send_batch"), key=lambda ti: ti.map_index)
    ids = [d.id for d in org.departments]
    assert [ti.rendered_map_index for ti in mapped] == [
        f"{ids[0]} … {ids[4]} (5)",
        f"{ids[5]} … {ids[9]} (5)",
        f"{ids[10]} … {ids[11]} (2)",
    ]
    messages = outbox.messages()
    assert len(messages) == 13  # one per evidence contact
    assert sorted(addresses(m, "To")[0] for m in messages) == sorted(contacts)
    for msg in messages:
        [to] = addresses(msg, "To")
        d = contacts[to]
        assert msg["Reply-To"] == QUALITY and not msg["Cc"]
        assert msg["X-Reaccreditation-Reference"] == f"REQ-2027-{d.id}"
        [attachment] = list(msg.iter_attachments())
        assert attachment.get_content_type() == XLSX
        assert attachment.get_filename().startswith("Evidence request 2027 - ") and attachment.get_filename().endswith(".xlsx")
        # the output folder holds exactly what was sent, and the workbook is the recipient's department's
        assert (output_folder(demo) / f"{d.id}.xlsx").read_bytes() == attachment.get_content()
        meta = read_meta(load_workbook(io.BytesIO(attachment.get_content())))
        assert meta["department_id"] == d.id and meta["request_reference"] == msg["X-Reaccreditation-Reference"]
        body = msg.get_body(("plain",)).get_content()
        assert f"owns {len(set(d.elements))} element" in body
    assert sorted(p.name for p in output_folder(demo).glob("*.xlsx")) == sorted(f"{d.id}.xlsx" for d in org.departments)
    wb = load_workbook(output_folder(demo) / "housing.xlsx")
    assert wb["Evidence"]["E2"].value  # the last assessment came through the history import

    # a second run of the same day (or a retry, or a backfill) sends nothing
    outbox.clear()
    assert run_dag("evidence_requests", T_REQUESTS).state == "success"
    assert outbox.messages() == []
    assert sorted(k for k, _, s in log(engine) if s == "sent") == ["request"] * 13

    # reminder 1: three departments have evidence for every element they own, one only for some
    done = ["housing", "digital", "waste-environment"]
    add_evidence(engine, 2027, [(d, e) for d in done for e in org.department(d).elements])
    add_evidence(engine, 2027, [("people-od", e) for e in org.department("people-od").elements[1:]])
    add_evidence(
        engine, 2027, [("people-od", org.department("people-od").elements[0])], current=False
    )  # superseded: not evidence
    outbox.clear()
    assert run_dag("evidence_requests", FIRST_DAY - timedelta(days=90)).state == "success"
    reminders = outbox.messages()
    expected = sorted(e for e, d in contacts.items() if d.id not in done)
    assert sorted(addresses(m, "To")[0] for m in reminders) == expected and len(reminders) == 10
    people = next(m for m in reminders if addresses(m, "To") == ["sam.irving@kestrelvale.example.org"])
    assert "1 element still open" in people["Subject"] and not list(people.iter_attachments())
    assert all(m["Reply-To"] == QUALITY and m["X-Reaccreditation-Reference"] for m in reminders)

    # escalation: heads of the departments still open, the quality team in copy, once
    outbox.clear()
    assert run_dag("evidence_requests", FIRST_DAY - timedelta(days=45)).state == "success"
    escalations = outbox.messages()
    heads = sorted(d.head.email for d in org.departments if d.id not in done)
    assert sorted(addresses(m, "To")[0] for m in escalations) == heads
    for msg in escalations:
        assert addresses(msg, "Cc") == ["priya.raman@kestrelvale.example.org", "tom.hollis@kestrelvale.example.org"]
        assert msg["Reply-To"] == QUALITY


def test_manual_department_and_resend(airflow_db, project_db, engine, outbox, demo):
    # before the scheduled date: a manual run for one department sends only its request
    run = run_requests(T_REQUESTS - timedelta(days=5), {"department": "housing"})
    assert run.state == "success"
    [msg] = outbox.messages()
    assert addresses(msg, "To") == ["ben.ashworth@kestrelvale.example.org"]
    assert msg["Subject"].startswith("Evidence request 2027: Housing Services")

    # the same manual run again sends nothing; an explicit resend sends a fresh copy under a new key
    outbox.clear()
    assert run_requests(T_REQUESTS - timedelta(days=5), {"department": "housing"}).state == "success"
    assert outbox.messages() == []
    assert run_requests(T_REQUESTS - timedelta(days=4), {"department": "housing", "resend": True}).state == "success"
    [again] = outbox.messages()
    assert again["Subject"].startswith("Resent: Evidence request 2027: Housing Services")
    assert len(list(again.iter_attachments())) == 1
    keys = [k for _, k, _ in log(engine)]
    assert keys[0] == "request:2027:housing:ben.ashworth@kestrelvale.example.org"
    assert keys[1].startswith("resend:2027:housing:manual__") and keys[1].endswith(":ben.ashworth@kestrelvale.example.org")

    # resend without a department fails at once with a message, sending no request (a failure alert may go)
    outbox.clear()
    assert run_requests(T_REQUESTS, {"resend": True}).state == "failed"
    assert [m["Subject"] for m in outbox.messages() if m["X-Reaccreditation-Reference"]] == [] and len(log(engine)) == 2


def test_a_wrong_history_file_stops_the_requests_at_once(airflow_db, project_db, engine, outbox, demo):
    """Sending without last year's evidence could not be undone (each request goes once): fail and say why."""
    demo["evidence_history"].write_text("department_id,element_id,title,evidence_type\nhousing,4.1.1,Tenant survey,Spreadsheet\n")
    started = time.perf_counter()
    assert run_dag("evidence_requests", T_REQUESTS).state == "failed"
    assert time.perf_counter() - started < 60  # failed at once, not retried with a 2-minute backoff
    assert [m for m in outbox.messages() if m["X-Reaccreditation-Reference"]] == [] and log(engine) == []
