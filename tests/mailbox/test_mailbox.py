"""The mailbox pass against a real IMAP server (Dovecot): who is answered, what reaches intake, once."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import func, select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import mailbox_attachment, mailbox_message, outbound_message
from reaccreditation.mail.compose import POLICY

from .mails import contact, raw, reply, workbook

STRANGER = ("Sam Stranger", "sam@elsewhere.example.net")


def _rows(engine, table):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).order_by(table.c.id))]


def test_good_reply_reaches_intake_once(run, imap, org):  # type: ignore[no-untyped-def]
    data = workbook(org, "housing")
    msg = reply(org, "housing", contact(org, "housing"), attachments=[("housing-evidence-2027.xlsx", data)])
    imap.append(raw(msg))
    assert run() == {"answers_sent": 0, "evidence": 1}
    [row] = _rows(run.engine, mailbox_message)
    assert (row["message_key"], row["department_id"], row["request_reference"], row["status"]) == (
        msg["Message-ID"],
        "housing",
        "REQ-2027-housing",
        "done",
    )
    eml = Path(row["eml_path"])
    assert eml == run.paths.archive / "mail" / row["raw_sha256"][:2] / f"{row['raw_sha256']}.eml"
    assert hashlib.sha256(eml.read_bytes()).hexdigest() == row["raw_sha256"]
    [att] = _rows(run.engine, mailbox_attachment)
    assert (att["handling"], att["sha256"], att["inbox_name"]) == (
        "intake",
        hashlib.sha256(data).hexdigest(),
        "housing-evidence-2027.xlsx",
    )
    dropped = run.paths.inbox / "housing-evidence-2027.xlsx"
    assert dropped.read_bytes() == data
    written = att["written_at"].replace(tzinfo=UTC)
    assert abs(datetime.fromtimestamp(dropped.stat().st_mtime, UTC) - written).total_seconds() < 0.001  # the sweep's receipt time
    assert "$Reaccreditation" in imap.flags()[0] and "\\Seen" in imap.flags()[0]
    assert run() == {"answers_sent": 0}  # flagged: nothing waiting
    assert len(_rows(run.engine, mailbox_message)) == 1


def test_stranger_is_quarantined_and_quality_told(run, imap, org):  # type: ignore[no-untyped-def]
    other = contact(org, "finance") if any(d.id == "finance" for d in org.departments) else contact(org, org.departments[-1].id)
    imap.append(
        raw(reply(org, "housing", STRANGER, attachments=[("housing-evidence-2027.xlsx", workbook(org, "housing"))])),
        raw(reply(org, "housing", other, attachments=[("housing-evidence-2027.xlsx", workbook(org, "housing", seed=2))])),
    )
    assert run() == {"answers_sent": 2, "stranger": 2}
    assert not run.paths.inbox.exists() or list(run.paths.inbox.iterdir()) == []
    quality = {m.email for m in org.quality_team.members}
    for sent in run.sent:
        assert {a.addr_spec for a in sent["To"].addresses} == quality
        assert "not an evidence contact or the head of Housing Services" in sent.get_body(("plain",)).get_content()
    senders = {STRANGER[1], other[1]}
    assert not any(a.addr_spec in senders for m in run.sent for a in m["To"].addresses)
    folders = sorted((run.paths.quarantine).glob("mail-*"))
    assert len(folders) == 2 and all(
        (f / "REASON.txt").exists() and (f / "01-housing-evidence-2027.xlsx").exists() for f in folders
    )
    assert {a["handling"] for a in _rows(run.engine, mailbox_attachment)} == {"quarantined"}


def test_robots_are_never_answered(run, imap, org):  # type: ignore[no-untyped-def]
    who = contact(org, "housing")
    wb = [("housing-evidence-2027.xlsx", workbook(org, "housing"))]
    ooo = reply(org, "housing", who, subject="Automatic reply: Evidence request", headers={"Auto-Submitted": "auto-replied"})
    ooo_outlook = reply(org, "housing", who, subject="Out of Office: back on Monday", headers={"X-Auto-Response-Suppress": "All"})
    listed = reply(org, "housing", who, attachments=wb, headers={"List-Id": "<staff.kestrelvale.example.org>"})
    bulk = reply(org, "housing", who, headers={"Precedence": "bulk"})
    autoreply = reply(org, "housing", who, headers={"X-Autoreply": "yes"})
    bounce = EmailMessage(policy=POLICY)
    bounce["From"] = "Mail Delivery System <MAILER-DAEMON@mx.kestrelvale.example.org>"
    bounce["To"] = org.quality_team.mailbox
    bounce["Subject"] = "Undelivered Mail Returned to Sender"
    bounce["Return-Path"] = "<>"
    bounce["Message-ID"] = "<bounce-1@mx.kestrelvale.example.org>"
    bounce.set_content("This is the mail system. Your message could not be delivered.")
    bounce.make_mixed()
    bounce.set_param("report-type", "delivery-status")
    bounce.replace_header("Content-Type", 'multipart/report; report-type=delivery-status; boundary="b1"')
    imap.append(*(raw(m) for m in (ooo, ooo_outlook, listed, bulk, autoreply)), raw(bounce))
    assert run() == {"answers_sent": 0, "automatic": 6}
    reasons = [r["reason"] for r in _rows(run.engine, mailbox_message)]
    assert reasons[0].startswith("automatic message (Auto-Submitted") and "Out of Office" in reasons[1]
    assert "List-Id" in reasons[2] and "Precedence: bulk" in reasons[3] and "X-Autoreply" in reasons[4]
    assert reasons[5].startswith("bounce") or "report" in reasons[5]
    assert run.sent == [] and not run.paths.inbox.exists()


def test_a_message_id_in_our_own_domain_is_answered_unless_we_sent_it(run, imap, org):  # type: ignore[no-untyped-def]
    """Anyone can write a Message-ID that looks like ours: only one in our outbox log is our own mail."""
    from reaccreditation.mail.compose import MSGID_TAG
    from reaccreditation.mail.outbox import send_once

    who, domain = contact(org, "housing"), org.mail_domain
    ours = reply(org, "housing", ("Kestrel Vale quality team", org.quality_team.mailbox), subject="Evidence request")
    del ours["Message-ID"]
    ours["Message-ID"] = f"<1.2.{MSGID_TAG}@{domain}>"
    send_once(run.engine, lambda m: None, ours, dedupe_key="test:ours", assessment_year=2027, kind="test")
    lookalikes = []
    for n, (sender, attachments) in enumerate(
        [(who, []), (STRANGER, [("housing-evidence-2027.xlsx", workbook(org, "housing"))]), (("Q", org.quality_team.mailbox), [])]
    ):
        msg = reply(org, "housing", sender, attachments=attachments)
        del msg["Message-ID"]
        msg["Message-ID"] = f"<{n}.9.{MSGID_TAG}@{domain}>"
        lookalikes.append(msg)
    imap.append(raw(ours), *(raw(m) for m in lookalikes))
    assert run() == {"answers_sent": 3, "no_workbook": 1, "own_message": 1, "stranger": 2}
    answer, stranger, forged_own = run.sent
    assert answer["In-Reply-To"] == lookalikes[0]["Message-ID"] and [a.addr_spec for a in answer["To"].addresses] == [who[1]]
    quality = {m.email for m in org.quality_team.members}
    assert {a.addr_spec for a in stranger["To"].addresses} == quality == {a.addr_spec for a in forged_own["To"].addresses}
    assert "not a message this system sent" in forged_own.get_body(("plain",)).get_content()


def test_a_from_that_parsers_read_differently_is_a_stranger(run, imap, org):  # type: ignore[no-untyped-def]
    """``grace@council <attacker@evil>``: lenient parsing reads the council address; strict parsing refuses it."""
    who = contact(org, "housing")
    data = workbook(org, "housing")
    froms = [
        f"{who[1]} <attacker@evil.example>",
        f"{who[0]} <{who[1]}> <attacker@evil.example>",
        f"{who[1]}, attacker@evil.example",
    ]
    for value in froms:
        msg = reply(org, "housing", who, attachments=[("housing-evidence-2027.xlsx", data)])
        msg.replace_header("From", value)
        imap.append(raw(msg))
    two_froms = reply(org, "housing", who, attachments=[("housing-evidence-2027.xlsx", data)])
    imap.append(raw(two_froms).replace(b"From: ", b"From: attacker@evil.example\r\nFrom: ", 1))
    assert run() == {"answers_sent": 4, "stranger": 4}
    assert not run.paths.inbox.exists()  # nothing reached intake
    reasons = [r["reason"] for r in _rows(run.engine, mailbox_message)]
    assert "malformed" in reasons[0] and "malformed" in reasons[1] and "2 addresses" in reasons[2], reasons
    assert "2 From headers" in reasons[3]
    assert all(who[1] not in str(m["To"]) for m in run.sent)


def test_no_workbook_gets_a_specific_threaded_answer(run, imap, org):  # type: ignore[no-untyped-def]
    who = contact(org, "housing")
    empty = reply(org, "housing", who, body="Here you go!")
    pdf = reply(org, "housing", who, attachments=[("policy.pdf", b"%PDF-1.4 not a workbook")])
    imap.append(raw(empty), raw(pdf))
    assert run() == {"answers_sent": 2, "no_workbook": 2}
    first, second = run.sent
    for answer, original in ((first, empty), (second, pdf)):
        assert answer["In-Reply-To"] == original["Message-ID"]
        assert original["Message-ID"] in answer["References"]
        assert answer["Subject"] == original["Subject"]  # already "Re: ..."
        assert [a.addr_spec for a in answer["To"].addresses] == [who[1]]
        assert answer["Auto-Submitted"] == "auto-replied"
    assert "nothing was attached" in first.get_body(("plain",)).get_content()
    text = second.get_body(("plain",)).get_content()
    assert "We kept your documents as evidence, but no evidence workbook came with them" in text and "policy.pdf" in text
    assert run() == {"answers_sent": 0}  # never answered twice


def test_several_zipped_nested_and_forwarded_workbooks(run, imap, org):  # type: ignore[no-untyped-def]
    import io
    import zipfile

    who = contact(org, "housing")
    two = reply(
        org,
        "housing",
        who,
        attachments=[
            ("housing-part-1.xlsx", workbook(org, "housing", seed=3)),
            ("housing-part-2.xlsx", workbook(org, "housing", seed=4)),
            ("cover.pdf", b"%PDF"),
        ],
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("returns/housing-zipped.xlsx", workbook(org, "housing", seed=5))
        z.writestr("returns/readme.txt", "hello")
    zipped = reply(org, "housing", who, attachments=[("evidence.zip", buf.getvalue())])
    empty_zip = io.BytesIO()
    with zipfile.ZipFile(empty_zip, "w") as z:
        z.writestr("notes.txt", "nothing here")
    no_wb_zip = reply(org, "housing", who, attachments=[("evidence.zip", empty_zip.getvalue())])
    inner = reply(org, "housing", who, attachments=[("housing-inner.xlsx", workbook(org, "housing", seed=6))])
    outer = reply(org, "housing", who, subject="Re: our evidence (see attached message)")
    outer.add_attachment(inner)  # message/rfc822, as "attach as item" does
    original = reply(
        org, "housing", contact(org, "housing", -1), attachments=[("housing-fwd.xlsx", workbook(org, "housing", seed=7))]
    )
    forwarded = reply(org, None, who, subject="Fwd: from my colleague", body="Forwarding our return.")
    forwarded.add_attachment(original)
    imap.append(*(raw(m) for m in (two, zipped, no_wb_zip, outer, forwarded)))
    assert run() == {"answers_sent": 1, "evidence": 4, "no_workbook": 1}
    names = sorted(p.name for p in run.paths.inbox.iterdir())
    assert names == [
        "housing-fwd.xlsx",
        "housing-inner.xlsx",
        "housing-part-1.xlsx",
        "housing-part-2.xlsx",
        "housing-zipped.xlsx",
    ]
    atts = _rows(run.engine, mailbox_attachment)
    assert {(a["filename"], a["handling"]) for a in atts} >= {
        ("cover.pdf", "refused_document"),  # b"%PDF" is not a PDF: refused with why
        ("readme.txt", "document"),
        ("evidence.zip", "refused"),
    }
    assert next(a for a in atts if a["filename"] == "housing-zipped.xlsx")["container"] == "zip: evidence.zip"
    assert next(a for a in atts if a["filename"] == "housing-fwd.xlsx")["container"].startswith("message: Re: Evidence request")
    [answer] = run.sent
    assert (
        "evidence.zip" in answer.get_body(("plain",)).get_content()
        and "contains no workbook" in answer.get_body(("plain",)).get_content()
    )


def test_resend_of_the_same_file_is_handed_on_with_its_own_message(run, imap, org):  # type: ignore[no-untyped-def]
    data = workbook(org, "housing")
    who = contact(org, "housing")
    first, again = (reply(org, "housing", who, attachments=[("housing-evidence-2027.xlsx", data)]) for _ in range(2))
    imap.append(raw(first), raw(again))
    assert run() == {"answers_sent": 0, "evidence": 2}
    atts = _rows(run.engine, mailbox_attachment)
    assert len({a["sha256"] for a in atts}) == 1 and len({a["mailbox_message_id"] for a in atts}) == 2
    assert sorted(p.name for p in run.paths.inbox.iterdir()) == ["housing-evidence-2027 (2).xlsx", "housing-evidence-2027.xlsx"]
    # the same message delivered twice (e.g. a copy in another folder) is one message
    imap.append(raw(first))
    assert run() == {"already_done": 1, "answers_sent": 0}


def test_two_runs_at_once_handle_each_message_once(run, imap, org):  # type: ignore[no-untyped-def]
    who = contact(org, "housing")
    messages = [
        reply(org, "housing", who, attachments=[(f"housing-{i}.xlsx", workbook(org, "housing", seed=10 + i))]) for i in range(6)
    ]
    messages += [reply(org, "housing", who, body=f"forgot it {i}") for i in range(4)]
    messages += [reply(org, "housing", STRANGER, body=f"hello {i}") for i in range(2)]
    imap.append(*(raw(m) for m in messages))
    results: list[dict] = []
    errors: list[BaseException] = []

    def go() -> None:
        try:
            results.append(run())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    total = {k: sum(r.get(k, 0) for r in results) for k in ("evidence", "no_workbook", "stranger", "answers_sent")}
    assert total == {"evidence": 6, "no_workbook": 4, "stranger": 2, "answers_sent": 6}
    with run.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(mailbox_message)).scalar() == 12
        assert conn.execute(select(func.count()).select_from(outbound_message)).scalar() == 6
    assert len(list(run.paths.inbox.iterdir())) == 6
    assert len(run.sent) == 6


def test_processed_messages_can_move_to_a_folder(run, imap, org):  # type: ignore[no-untyped-def]
    imap.append(raw(reply(org, "housing", contact(org, "housing"), body="nothing attached")))
    assert run(processed_folder="Processed-evidence") == {"answers_sent": 1, "no_workbook": 1}
    assert imap.count("INBOX") == 0 and imap.count("Processed-evidence") == 1


def test_no_imap_connection_means_no_mailbox(monkeypatch):  # type: ignore[no-untyped-def]
    from reaccreditation.orchestration import connections

    monkeypatch.delenv("AIRFLOW_CONN_IMAP_DEFAULT", raising=False)
    with connections.imap_mailbox() as opened:
        assert opened is None


def test_department_from_the_request_thread_and_csv_named_for_it(run, imap, org):  # type: ignore[no-untyped-def]
    """A reply whose subject lost the reference is matched by the request it answers (our outbox log)."""
    from reaccreditation.mail.compose import Draft, address, build_message
    from reaccreditation.mail.outbox import send_once

    request = build_message(
        Draft(to=[address("x", contact(org, "housing")[1])], subject="Evidence request", text="t", html="<p>t</p>")
    )
    assert send_once(
        run.engine,
        lambda m: None,
        request,
        dedupe_key="request:test",
        assessment_year=2027,
        kind="request",
        department_id="housing",
    )
    who = contact(org, "housing")
    msg = reply(
        org,
        None,
        who,
        subject="Our figures",
        in_reply_to=request["Message-ID"],
        attachments=[("figures.xlsx", workbook(org, "housing"))],
    )
    imap.append(raw(msg))
    assert run() == {"answers_sent": 0, "evidence": 1}
    [row] = _rows(run.engine, mailbox_message)
    assert (row["department_id"], row["details"]["found_by"]) == ("housing", "thread")
    assert [p.name for p in run.paths.inbox.iterdir()] == ["housing-figures.xlsx"]  # intake can identify it by name


def test_a_dead_runs_claim_is_taken_over_a_live_one_is_not(project_db, org):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from reaccreditation.mailbox import store
    from reaccreditation.mailbox.message import parse

    engine = make_engine(project_db)
    incoming = parse(raw(reply(org, "housing", contact(org, "housing"))))
    start = datetime(2027, 1, 20, 9, 0, tzinfo=UTC)
    kw = {"folder": "INBOX", "uid": 1, "uidvalidity": "1", "received_at": start}
    row_id, state = store.claim(engine, incoming, run_id="a", now=start, **kw)
    assert state == "new"
    assert store.claim(engine, incoming, run_id="b", now=start + timedelta(minutes=5), **kw) == (None, "busy")
    assert store.claim(engine, incoming, run_id="c", now=start + timedelta(minutes=31), **kw) == (row_id, "retaken")
    assert store.claim(engine, incoming, run_id="d", now=start + timedelta(minutes=32), **kw) == (None, "busy")
    store.finish(engine, row_id, handling="evidence")
    assert store.claim(engine, incoming, run_id="e", now=start + timedelta(hours=2), **kw) == (None, "done")


def test_their_subject_is_escaped_in_our_answer(run, imap, org):  # type: ignore[no-untyped-def]
    """Whatever the subject says, our answer's headers stay single lines and the HTML escapes it."""
    who = contact(org, "housing")
    msg = reply(org, "housing", who, subject="Re: <script>alert(1)</script> [REQ-2027-housing]")
    imap.append(raw(msg))
    assert run() == {"answers_sent": 1, "no_workbook": 1}
    [answer] = run.sent
    assert (
        "<script>" not in answer.get_body(("html",)).get_content()
        and "&lt;script&gt;" in answer.get_body(("html",)).get_content()
    )
    assert "\n" not in answer["Subject"]


def test_a_message_we_fail_on_goes_to_the_quality_team_and_the_rest_go_on(run, imap, org, monkeypatch):  # type: ignore[no-untyped-def]
    from reaccreditation.mailbox import process

    real = process.sort_parts

    def flaky(parts):  # type: ignore[no-untyped-def]
        if any(p.filename == "odd.xlsx" for p in parts):
            raise ValueError("something nobody foresaw")
        return real(parts)

    monkeypatch.setattr(process, "sort_parts", flaky)
    who = contact(org, "housing")
    imap.append(
        raw(reply(org, "housing", who, attachments=[("odd.xlsx", b"PK")])),
        raw(reply(org, "housing", who, attachments=[("housing-evidence-2027.xlsx", workbook(org, "housing"))])),
    )
    assert run() == {"answers_sent": 1, "evidence": 1, "unreadable": 1}
    [notice] = run.sent
    assert {a.addr_spec for a in notice["To"].addresses} == {m.email for m in org.quality_team.members}
    assert "something nobody foresaw" in notice.get_body(("plain",)).get_content()
    assert all("$Reaccreditation" in f for f in imap.flags())
