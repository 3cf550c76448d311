"""One department's contact cannot register evidence for another (attacks tried on the demo council).

The mailbox decides who sent a message and for which department; intake registers a file only for that
department. A workbook whose hidden request details, or a CSV whose name, claims another department is
refused, quarantined with its reason, the quality team told, and the sender hears nothing about it.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from sqlalchemy import select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import evidence, submission
from reaccreditation.demo.returns import good_rows
from reaccreditation.workbook import layout

from ..conftest import run_dag
from .conftest import TODAY
from .mails import contact, raw, reply, workbook

VICTIM = "adult-social-care"


def _plain(msg) -> str:  # type: ignore[no-untyped-def]
    return msg.get_body(("plain",)).get_content()


def _set_meta(data: bytes, **values: str) -> bytes:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    for row in wb[layout.META_SHEET].iter_rows(min_row=1, max_col=2):
        if row[0].value in values:
            row[1].value = values[row[0].value]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _one_row_csv(org, dept_id: str) -> bytes:  # type: ignore[no-untyped-def]
    """A CSV with one good evidence row for one of ``dept_id``'s elements."""
    keys = ["element_id", "evidence_title", "evidence_type", "link", "evidence_date", "owner", "self_rating", "cplus_claim"]
    [row] = good_rows(org, org.department(dept_id), random.Random(5), partial_share=0.0)[:1]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([layout.COLUMN_BY_KEY[k].heading(org.standard) for k in keys])
    w.writerow([row[k].strftime("%d/%m/%Y") if k == "evidence_date" else row[k] for k in keys])
    return buf.getvalue().encode()


def test_a_contact_cannot_register_another_departments_evidence(airflow_db, project_db, outbox, demo, gx_dir, imap, org):  # type: ignore[no-untyped-def]
    engine = make_engine(project_db)
    victim_name = org.department(VICTIM).name
    digital = contact(org, "digital")
    # the victim's genuine evidence, registered first
    genuine = reply(org, VICTIM, contact(org, VICTIM), attachments=[(f"{VICTIM}-evidence-2027.xlsx", workbook(org, VICTIM))])
    imap.append(raw(genuine))
    assert run_dag("evidence_intake", TODAY).state == "success"
    with engine.connect() as conn:
        before = conn.execute(
            select(evidence.c.id).where(evidence.c.department_id == VICTIM, evidence.c.is_current.is_(True))
        ).all()
    assert before
    outbox.clear()

    by_meta = _set_meta(
        workbook(org, "digital", seed=3),
        department_id=VICTIM,
        department_name=victim_name,
        request_reference=layout.request_reference(2027, VICTIM),
    )
    by_name = reply(org, "digital", digital)
    by_name.add_attachment(_one_row_csv(org, VICTIM), maintype="text", subtype="csv", filename=f"{VICTIM}.csv")
    attacks = [reply(org, "digital", digital, attachments=[("digital-evidence-2027.xlsx", by_meta)]), by_name]
    imap.append(*(raw(m) for m in attacks))
    assert run_dag("evidence_intake", TODAY).state == "success"

    with engine.connect() as conn:
        after = conn.execute(
            select(evidence.c.id).where(evidence.c.department_id == VICTIM, evidence.c.is_current.is_(True))
        ).all()
        subs = conn.execute(select(submission).order_by(submission.c.id)).all()
    refused = subs[1:]
    assert [(s.status, s.department_id) for s in refused] == [("quarantined", "digital")] * 2
    assert after == before  # nothing of the victim's replaced
    assert [(s.status, s.department_id, s.version, s.rows_accepted) for s in refused] == [("quarantined", "digital", 0, 0)] * 2
    assert {s.submitter for s in refused} == {digital[1]}  # who sent it, from the mailbox, not the file's properties
    assert {s.details["refused_claim"]["by"] for s in refused} == {"workbook's hidden request details", "file"}
    for s in refused:
        reason = (Path(s.quarantine_path) / "REASON.txt").read_text()
        assert VICTIM in reason and digital[1] in reason

    messages = outbox.messages()
    quality = {m.email for m in org.quality_team.members}
    to_sender = [m for m in messages if digital[1] in {a.addr_spec for a in m["To"].addresses}]
    to_quality = [m for m in messages if {a.addr_spec for a in m["To"].addresses} == quality]
    assert len(to_sender) == 2 and len(to_quality) == 2, [m["Subject"] for m in messages]
    for m in to_sender:
        text = _plain(m) + str(m["Subject"]) + str(m["Cc"] or "")
        assert "different department" in text and "nothing from it was registered" in text
        assert victim_name not in text and VICTIM not in text.replace(f"{VICTIM}.csv", "")
        victims = {p.email for p in [*org.department(VICTIM).evidence_contacts, org.department(VICTIM).head]}
        assert not victims & {a.addr_spec for h in ("To", "Cc") if m[h] for a in m[h].addresses}
    for m in to_quality:
        assert "sends evidence for digital only" in _plain(m) and VICTIM in _plain(m)
