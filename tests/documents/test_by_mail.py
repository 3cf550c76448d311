"""Documents sent with a workbook, through the real Dovecot server, the mailbox pass and the intake sweep."""

from __future__ import annotations

import email
import hashlib
import io
import random
import zipfile
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import evidence, evidence_document, mailbox_attachment, submission
from reaccreditation.demo.documents import pdf
from reaccreditation.demo.returns import fill, good_rows
from reaccreditation.intake.pipeline import Sweep, inbox_files
from reaccreditation.intake.replies import send_replies
from reaccreditation.mailbox.imap import Mailbox, MailboxSettings
from reaccreditation.mailbox.process import Context, collect, own_addresses, send_answers
from reaccreditation.requests.workbook import RequestWorkbook
from reaccreditation.settings import Paths
from tests.mailbox.conftest import TODAY
from tests.mailbox.mails import contact, raw, reply

from .hostile import docm_renamed_docx, encrypted_pdf, pdf_with_javascript

DEPT = "housing"


class Sent(list):
    def __call__(self, msg: EmailMessage) -> None:
        self.append(email.message_from_bytes(msg.as_bytes(), policy=policy.default))


@pytest.fixture
def season(imap, project_db, org, gx_dir, tmp_path):  # type: ignore[no-untyped-def]
    """A mailbox pass then an intake sweep, as the evidence_intake DAG runs them; the answers sent."""
    from reaccreditation.intake.gx_validation import Validator

    engine = make_engine(project_db)
    paths = Paths(tmp_path / "data")
    sent = Sent()

    def once() -> Sent:
        client = imap.client()
        try:
            ctx = Context(org, engine, paths, "test", own_addresses(org))
            collect(Mailbox(client, MailboxSettings()), ctx)  # type: ignore[arg-type]
            send_answers(ctx, sent)
        finally:
            client.logout()
        outcomes = Sweep(org, engine, paths, Validator, today=TODAY, run_id="test").run(inbox_files(paths.inbox))
        items = [
            {"submission_id": o.submission_id, "receipt_id": o.receipt_id, "status": o.status, "name": o.original_name}
            for o in outcomes
        ]
        send_replies(engine, org, sent, items, run_id="test")
        return sent

    once.engine, once.paths = engine, paths  # type: ignore[attr-defined]
    return once


def _rows(engine, table):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).order_by(table.c.id))]


def _workbook(org, links: dict[int, str]) -> bytes:  # type: ignore[no-untyped-def]
    dept = org.department(DEPT)
    rows = good_rows(org, dept, random.Random(3), partial_share=0.0)
    for n, link in links.items():
        rows[n]["link"] = link
    return fill(RequestWorkbook(org, dept).to_bytes(), rows)


def _text(msg: email.message.EmailMessage) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_workbook_and_three_pdfs_stored_and_tied_missing_named_hostile_refused(season, imap, org):  # type: ignore[no-untyped-def]
    insight, survey, leaflet = pdf("Customer insight 2026"), pdf("Tenant survey"), pdf("Leaflet")
    data = _workbook(org, {0: "Customer Insight 2026.PDF", 1: "tenant_survey.pdf", 2: "board minutes.pdf"})
    msg = reply(
        org,
        DEPT,
        contact(org, DEPT),
        attachments=[
            ("housing-evidence-2027.xlsx", data),
            ("customer-insight-2026.pdf", insight),
            ("Tenant Survey.pdf", survey),
            ("leaflet.pdf", leaflet),
            ("clever.pdf", pdf_with_javascript()),
        ],
    )
    imap.append(raw(msg))
    sent = season()
    engine, paths = season.engine, season.paths

    docs = {d["filename"]: d for d in _rows(engine, evidence_document)}
    assert {n: d["status"] for n, d in docs.items()} == {
        "customer-insight-2026.pdf": "kept",
        "Tenant Survey.pdf": "kept",
        "leaflet.pdf": "kept",
        "clever.pdf": "refused",
    }
    for name, content in (("customer-insight-2026.pdf", insight), ("Tenant Survey.pdf", survey), ("leaflet.pdf", leaflet)):
        sha = hashlib.sha256(content).hexdigest()
        stored = Path(docs[name]["stored_path"])
        assert stored == paths.root / "documents" / sha[:2] / f"{sha}.pdf" and stored.read_bytes() == content
        assert (docs[name]["sha256"], docs[name]["message_key"], docs[name]["version"]) == (sha, msg["Message-ID"], 1)
    refused = Path(docs["clever.pdf"]["stored_path"])
    assert refused.parent == paths.quarantine and "JavaScript" in (refused / "REASON.txt").read_text()
    assert not any(p.name == "clever.pdf" for p in (paths.root / "documents").rglob("*"))
    handlings = {a["filename"]: a["handling"] for a in _rows(engine, mailbox_attachment)}
    assert handlings["clever.pdf"] == "refused_document" and handlings["leaflet.pdf"] == "document"

    [sub] = _rows(engine, submission)
    assert sub["status"] == "accepted", sub_details(engine)["issues"]  # a missing document is named, the row still counts
    ties = sub_details(engine)["documents"]
    rows = {r["row_number"]: r for r in _rows(engine, evidence)}
    tied_rows = {int(k): v for k, v in ties.items()}
    assert sorted(tied_rows.values()) == sorted(
        [[docs["customer-insight-2026.pdf"]["sha256"]], [docs["Tenant Survey.pdf"]["sha256"]]]
    )
    assert all(n in rows for n in tied_rows)

    [answer] = [m for m in sent if "evidence return" in m["Subject"]]
    text = _text(answer)
    assert "'board minutes.pdf', which we have not received" in text
    assert "clever.pdf was not kept" in text and "JavaScript" in text
    assert "no row names them" in text and "leaflet.pdf" in text
    [annotated] = [p for p in answer.iter_attachments() if p.get_filename().endswith(".xlsx")]
    wb = load_workbook(io.BytesIO(annotated.get_content()))
    comments = [c.comment.text for row in wb["Evidence"].iter_rows() for c in row if c.comment]
    assert any("board minutes.pdf" in c for c in comments), comments


def sub_details(engine):  # type: ignore[no-untyped-def]
    from reaccreditation.intake.store import submissions

    [sub] = submissions(engine, [r["id"] for r in _rows(engine, submission)])
    return sub["details"]


def test_zip_with_workbook_and_documents_keeps_the_rest_when_one_is_hostile(season, imap, org):  # type: ignore[no-untyped-def]
    data = _workbook(org, {0: "plan.pdf", 1: "Report.docx"})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("evidence/housing-evidence-2027.xlsx", data)
        z.writestr("evidence/plan.pdf", pdf("Plan"))
        z.writestr("evidence/Report.docx", docm_renamed_docx())
        z.writestr("evidence/locked.pdf", encrypted_pdf())
    imap.append(raw(reply(org, DEPT, contact(org, DEPT), attachments=[("housing-evidence.zip", buf.getvalue())])))
    sent = season()
    docs = {d["filename"]: d for d in _rows(season.engine, evidence_document)}
    assert {n: (d["status"], d["container"]) for n, d in docs.items()} == {
        "plan.pdf": ("kept", "zip: housing-evidence.zip"),
        "Report.docx": ("refused", "zip: housing-evidence.zip"),
        "locked.pdf": ("refused", "zip: housing-evidence.zip"),
    }
    [sub] = _rows(season.engine, submission)
    assert sub["status"] == "accepted" and sub["rows_accepted"] > 0
    text = _text(next(m for m in sent if "evidence return" in m["Subject"]))
    assert "Report.docx was not kept" in text and "macros" in text
    assert "locked.pdf was not kept" in text and "encrypted" in text
    assert "'Report.docx', which we have not received" in text  # refused, so not sent as far as the row goes
