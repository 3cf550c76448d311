"""A real evidence_intake run over the corpus: register contents, emails, attachments, Data Docs."""

from __future__ import annotations

import io
import shutil
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import evidence, intake_receipt, outbound_message, submission

from ..conftest import run_dag


def _drop(files, inbox):  # type: ignore[no-untyped-def]
    inbox.mkdir(parents=True, exist_ok=True)
    for name, path in files.items():
        shutil.copyfile(path, inbox / name)


def test_intake_over_the_corpus(airflow_db, project_db, outbox, demo, gx_dir, corpus, expected, org):  # type: ignore[no-untyped-def]
    inbox = demo["data"] / "inbox"
    engine = make_engine(project_db)
    contacts = {d.id: sorted(c.email for c in d.evidence_contacts) for d in org.departments}
    quality = sorted(m.email for m in org.quality_team.members)

    for sweep, day in ((1, date(2027, 1, 20)), (2, date(2027, 1, 21))):
        outbox.clear()
        _drop(corpus[sweep], inbox)
        run = run_dag("evidence_intake", day)
        assert run.state == "success"
        assert list(inbox.iterdir()) == []  # every file moved out, after its outcome was committed

        rows = [e for e in expected if int(e["sweep"]) == sweep]
        with engine.connect() as conn:
            subs = {s.original_name: s for s in conn.execute(select(submission))}
            receipts = {r.original_name: r for r in conn.execute(select(intake_receipt))}
        messages = outbox.messages()
        assert len(messages) == len(rows), [m["Subject"] for m in messages]
        for e in rows:
            name = e["file"]
            receipt = receipts[name]
            if e["status"] == "duplicate":
                assert receipt.outcome == "duplicate"
                sub = next(s for s in subs.values() if s.id == receipt.submission_id)
                assert sub.original_name != name
            else:
                sub = subs[name]
                assert (sub.status, sub.rows_accepted, sub.rows_rejected) == (
                    e["status"],
                    int(e["rows_accepted"]),
                    int(e["rows_rejected"]),
                ), name
                assert e["message_contains"] in sub.message, (name, sub.message)
                archived = demo["data"] / "archive" / sub.sha256[:2] / (sub.sha256 + "." + name.rsplit(".", 1)[-1].lower())
                assert archived.exists()
                if sub.status in ("rejected", "quarantined"):
                    assert e["message_contains"] in (demo["data"] / "quarantine" / sub.sha256[:12] / "REASON.txt").read_text()
            to = sorted(
                a.split("<")[-1].rstrip(">")
                for a in str([m for m in messages if name in m.get_body(("plain",)).get_content()][0]["To"]).split(", ")
            )
            assert to == (quality if e["reply"] == "quality" else contacts[e["reply"]]), name

        if sweep == 1:
            housing = next(m for m in messages if "housing-evidence-2027.xlsx" in m.get_body(("plain",)).get_content())
            assert housing["Subject"] == "Kestrel Vale evidence return 2027, Housing Services: some rows need correcting"
            html = housing.get_body(("html",)).get_content()
            assert "is before the evidence window, which starts on 15 March 2026" in html
            [attachment] = list(housing.iter_attachments())
            wb = load_workbook(io.BytesIO(attachment.get_content()))
            ws = wb["Evidence"]
            header = {c.value: c.column for c in ws[1]}
            stale = ws.cell(row=2, column=header["Date of evidence"])
            assert (
                stale.comment.text
                == "Sheet Evidence, row 2, column 'Date of evidence': 1 March 2019 is before the evidence window, which starts "
                "on 15 March 2026: use evidence from then on"
            )
            assert ws.cell(row=3, column=header["Link or file name"]).comment is not None
            assert wb.sheetnames[0] == "Problems to fix"
            problems = wb["Problems to fix"]  # prints on A4 landscape, one page wide
            assert problems.page_setup.orientation == "landscape" and int(problems.page_setup.paperSize) == 9  # A4
            assert problems.sheet_properties.pageSetUpPr.fitToPage and problems.page_setup.fitToWidth == 1
            assert problems.page_setup.fitToHeight == 0
            accepted = next(m for m in messages if "customer-services-evidence-2027.xlsx" in m.get_body(("plain",)).get_content())
            assert "accepted: 15 evidence items for 15 elements" in accepted.get_body(("plain",)).get_content()
            assert list(accepted.iter_attachments()) == []
            assert (gx_dir / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()
            assert list((gx_dir / "uncommitted" / "validations").rglob("*.json"))

    with engine.connect() as conn:
        current = conn.execute(select(evidence).where(evidence.c.is_current.is_(True))).all()
        housing = conn.execute(
            select(evidence.c.is_current, submission.c.version, submission.c.original_name)
            .join(submission, evidence.c.submission_id == submission.c.id)
            .where(evidence.c.department_id == "housing")
        ).all()
        cs = conn.execute(
            select(evidence).where(evidence.c.department_id == "customer-services").order_by(evidence.c.row_number)
        ).all()
        kinds = conn.execute(select(outbound_message.c.kind)).scalars().all()
    # customer-services 15 + policy 11 + people-od 11 + communications 12 + waste 4 + libraries 7 + housing v2 10
    assert len(current) == 70
    assert {(r.is_current, r.version) for r in housing} == {(False, 1), (True, 2)}
    assert sum(1 for r in housing if r.is_current) == 10
    assert len(cs) == 15  # the identical re-send registered nothing
    assert cs[0].notes == "=1+1" and cs[1].title.startswith("=HYPERLINK(")  # stored as text
    assert kinds.count("intake_duplicate") == 1 and kinds.count("intake_quarantine") == 2

    register = (demo["data"] / "output" / "2027" / "intake" / "evidence_register.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(" in register and len(register.strip().splitlines()) == 71
