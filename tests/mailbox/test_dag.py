"""A real evidence_intake run with replies in the mailbox: register filled, answers threaded, once."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import evidence, mailbox_message, submission

from ..conftest import run_dag
from .conftest import TODAY
from .mails import contact, raw, reply, workbook

STRANGER = ("Sam Stranger", "sam@elsewhere.example.net")


def _plain(msg) -> str:  # type: ignore[no-untyped-def]
    return msg.get_body(("plain",)).get_content()


def test_replies_in_the_mailbox_are_registered_and_answered_in_their_threads(
    airflow_db, project_db, outbox, demo, gx_dir, imap, org
):  # type: ignore[no-untyped-def]
    engine = make_engine(project_db)
    cs, housing = contact(org, "customer-services"), contact(org, "housing")
    good_workbook = workbook(org, "customer-services")
    good = reply(org, "customer-services", cs, attachments=[("customer-services-evidence-2027.xlsx", good_workbook)])
    mistakes = reply(org, "housing", housing, attachments=[("housing-evidence-2027.xlsx", workbook(org, "housing", stale=True))])
    stranger = reply(org, "housing", STRANGER, attachments=[("housing-evidence-2027.xlsx", workbook(org, "housing", seed=9))])
    away = reply(org, "housing", housing, subject="Automatic reply: Evidence request", headers={"Auto-Submitted": "auto-replied"})
    imap.append(*(raw(m) for m in (good, mistakes, stranger, away)))

    run = run_dag("evidence_intake", TODAY)
    assert run.state == "success"
    messages = outbox.messages()
    assert len(messages) == 3, [m["Subject"] for m in messages]
    answer = {m["In-Reply-To"]: m for m in messages if m["In-Reply-To"]}

    accepted = answer[good["Message-ID"]]
    assert accepted["Subject"] == good["Subject"] and accepted["References"].split()[-1] == good["Message-ID"]
    assert [a.addr_spec for a in accepted["To"].addresses] == [cs[1]]
    n = len(org.department("customer-services").elements)
    assert f"accepted: {n} evidence items for {n} elements" in _plain(accepted)

    corrected = answer[mistakes["Message-ID"]]
    assert corrected["Subject"] == mistakes["Subject"] and [a.addr_spec for a in corrected["To"].addresses] == [housing[1]]
    assert "is before the evidence window" in _plain(corrected)
    [attachment] = list(corrected.iter_attachments())
    wb = load_workbook(io.BytesIO(attachment.get_content()))
    assert wb.sheetnames[0] == "Problems to fix"
    assert any(
        c.comment is not None and "before the evidence window" in c.comment.text
        for row in wb["Evidence"].iter_rows()
        for c in row
    )

    [notice] = [m for m in messages if not m["In-Reply-To"]]
    assert {a.addr_spec for a in notice["To"].addresses} == {m.email for m in org.quality_team.members}
    assert STRANGER[1] in _plain(notice)
    everyone = {a.addr_spec for m in messages for h in ("To", "Cc") if m[h] for a in m[h].addresses}
    assert STRANGER[1] not in everyone

    with engine.connect() as conn:
        subs = {s.department_id: s for s in conn.execute(select(submission))}
        current = conn.execute(select(evidence).where(evidence.c.is_current.is_(True))).all()
        handled = {m.message_key: m.handling for m in conn.execute(select(mailbox_message))}
    assert set(subs) == {"customer-services", "housing"} and {s.source for s in subs.values()} == {"imap"}
    assert subs["housing"].status == "partial"
    mail = subs["customer-services"].details["mail"]
    assert mail["message_id"] == good["Message-ID"] and mail["sender"] == cs[1] and Path(mail["eml"]).exists()
    assert sum(1 for r in current if r.department_id == "customer-services") == n
    assert handled == {
        good["Message-ID"]: "evidence",
        mistakes["Message-ID"]: "evidence",
        stranger["Message-ID"]: "stranger",
        away["Message-ID"]: "automatic",
    }
    register = (demo["data"] / "output" / "2027" / "intake" / "evidence_register.csv").read_text(encoding="utf-8-sig")
    assert "customer-services-evidence-2027.xlsx" in register

    # a second run: nothing new in the mailbox, nothing processed or answered again
    outbox.clear()
    assert run_dag("evidence_intake", TODAY).state == "success"
    assert outbox.messages() == []

    # the same workbook sent again in a new email: "already received", in that email's thread
    resend = reply(org, "customer-services", cs, attachments=[("customer-services-evidence-2027.xlsx", good_workbook)])
    imap.append(raw(resend))
    assert run_dag("evidence_intake", TODAY).state == "success"
    [again] = outbox.messages()
    assert again["In-Reply-To"] == resend["Message-ID"] and "Already received" in _plain(again)
    with engine.connect() as conn:
        assert len(conn.execute(select(submission)).all()) == 2  # nothing registered twice


def test_mail_server_down_still_sweeps_the_inbox_folder(airflow_db, project_db, outbox, demo, gx_dir, imap, org):  # type: ignore[no-untyped-def]
    """IMAP unreachable: fetch_mailbox fails (retried, then alerted); the dropped file is still answered."""
    import json
    import os
    import socket
    from datetime import timedelta

    import pendulum
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.taskinstance import TaskInstance
    from airflow.settings import Session

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    os.environ["AIRFLOW_CONN_IMAP_DEFAULT"] = json.dumps(
        {"conn_type": "imap", "host": "127.0.0.1", "port": closed, "login": "x", "password": "y", "extra": {"use_ssl": False}}
    )
    inbox = demo["data"] / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "customer-services-evidence-2027.xlsx").write_bytes(workbook(org, "customer-services"))
    from ..conftest import ROOT

    dag = DagBag(dag_folder=str(ROOT / "dags" / "evidence_intake.py")).get_dag("evidence_intake")
    dag.get_task("fetch_mailbox").retries = 0
    dag.get_task("fetch_mailbox").retry_delay = timedelta(seconds=1)
    run = dag.test(logical_date=pendulum.datetime(TODAY.year, TODAY.month, TODAY.day, 12, tz="UTC"))
    with Session() as session:
        states = {
            ti.task_id: str(ti.state)
            for ti in session.query(TaskInstance).filter(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id)
        }
    assert states["fetch_mailbox"] == "failed" and states["sweep_inbox"] == "success" and states["send_replies"] == "success"
    messages = outbox.messages()
    [answer] = [m for m in messages if "accepted:" in _plain(m)]
    assert sorted(a.addr_spec for a in answer["To"].addresses) == sorted(
        c.email for c in org.department("customer-services").evidence_contacts
    )
    assert answer["In-Reply-To"] is None  # a dropped file: not threaded
    assert list(inbox.iterdir()) == []
    [alert] = [m for m in messages if m is not answer]  # the failed task's alert to the quality team
    assert "fetch_mailbox" in _plain(alert)


def test_a_contact_presses_reply_on_the_real_request_email(airflow_db, project_db, outbox, demo, gx_dir, imap, org):  # type: ignore[no-untyped-def]
    """Round trip: evidence_requests sends the request; the contact fills its workbook and replies the way a
    mail client does (Re:, In-Reply-To/References, quoted text); evidence_intake answers in that thread."""
    import random
    from datetime import timedelta
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    from reaccreditation.demo.returns import fill, good_rows
    from reaccreditation.mail.compose import POLICY

    from ..conftest import FIRST_DAY

    assert run_dag("evidence_requests", FIRST_DAY - timedelta(days=120)).state == "success"
    name, address = contact(org, "housing")
    [request] = [m for m in outbox.messages() if any(a.addr_spec == address for a in m["To"].addresses)]
    assert request["Reply-To"].addresses[0].addr_spec == org.quality_team.mailbox
    [attached] = list(request.iter_attachments())
    rows = good_rows(org, org.department("housing"), random.Random(3), partial_share=0.0)
    filled = fill(attached.get_content(), rows)

    answer = EmailMessage(policy=POLICY)  # what pressing Reply produces: no reference header, only the thread
    answer["From"] = f"{name} <{address}>"
    answer["To"] = str(request["Reply-To"])
    answer["Subject"] = "RE: " + request["Subject"]
    answer["Date"] = formatdate()
    answer["Message-ID"] = make_msgid(domain="mail.kestrelvale.example.org")
    answer["In-Reply-To"] = request["Message-ID"]
    answer["References"] = request["Message-ID"]
    answer.set_content("Here is our return.\n\n> " + request.get_body(("plain",)).get_content()[:300].replace("\n", "\n> "))
    answer.add_attachment(
        filled,
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=attached.get_filename(),
    )
    imap.append(raw(answer))
    outbox.clear()

    assert run_dag("evidence_intake", TODAY).state == "success"
    [verdict] = outbox.messages()
    assert verdict["In-Reply-To"] == answer["Message-ID"] and verdict["References"].split() == [
        request["Message-ID"],
        answer["Message-ID"],
    ]
    assert verdict["Subject"] == answer["Subject"]
    assert [a.addr_spec for a in verdict["To"].addresses] == [address]
    # the contact filled new rows but did not confirm last year's pre-filled ones: the corrections come back in the thread
    assert "need correcting" in _plain(verdict) and "last year's evidence must be confirmed" in _plain(verdict)
    [to_correct] = list(verdict.iter_attachments())
    assert to_correct.get_filename().endswith("-to-correct.xlsx")
    assert load_workbook(io.BytesIO(to_correct.get_content())).sheetnames[0] == "Problems to fix"
