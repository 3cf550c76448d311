"""A new version never silently wipes a department (the real evidence_intake DAG, Dovecot, the SMTP sink).

The demo council's config with sender authentication on, as a real one has it. One contact registers the
department's workbook; the other contact's one-row file is held (not current, every earlier row still
current), the quality team is told how to confirm it, and the head and contacts hear it is held. Once the
quality team confirms it (the CLI), the next run tells the head and contacts what changed and by whom; a
further version from the same sender is registered at once, its reply saying what it replaced.
"""

from __future__ import annotations

import csv
import io
import random

import yaml
from sqlalchemy import select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import evidence, submission
from reaccreditation.demo.returns import good_rows
from reaccreditation.workbook import layout

from ..conftest import run_dag
from .conftest import TODAY
from .mails import AUTHSERV, contact, delivered, raw, reply, verdict, workbook

DEPT = "policy-insight"


def _one_row_csv(org, n: int, title: str) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    keys = ["element_id", "evidence_title", "evidence_type", "link", "evidence_date", "owner", "self_rating", "cplus_claim"]
    row = good_rows(org, org.department(DEPT), random.Random(5), partial_share=0.0)[n] | {"evidence_title": title}
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([layout.COLUMN_BY_KEY[k].heading(org.standard) for k in keys])
    w.writerow([row[k].strftime("%d/%m/%Y") if k == "evidence_date" else row[k] for k in keys])
    return row["element_id"], buf.getvalue().encode()


def _send(imap, org, who, name: str, data: bytes) -> None:  # type: ignore[no-untyped-def]
    msg = reply(org, DEPT, who)
    maintype, subtype = ("text", "csv") if name.endswith(".csv") else ("application", "octet-stream")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    imap.append(delivered(raw(msg), verdict(who)))


def _current(engine) -> dict[int, str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(
            select(evidence.c.id, evidence.c.element_id).where(evidence.c.department_id == DEPT, evidence.c.is_current.is_(True))
        )
        return {r.id: r.element_id for r in rows}


def _text(m) -> str:  # type: ignore[no-untyped-def]
    return m.get_body(("plain",)).get_content()


def _addresses(m) -> set[str]:  # type: ignore[no-untyped-def]
    return {a.addr_spec for h in ("To", "Cc") if m[h] for a in m[h].addresses}


def test_a_new_senders_version_is_held_and_every_change_is_told(airflow_db, project_db, outbox, demo, gx_dir, imap, org):  # type: ignore[no-untyped-def]
    from reaccreditation.intake.__main__ import main as intake_cli

    config = yaml.safe_load(demo["config"].read_text())
    config["mailbox"] = {"authentication": {"authserv_id": AUTHSERV, "required": True}}
    demo["config"].write_text(yaml.safe_dump(config, sort_keys=False))
    engine = make_engine(project_db)
    dept = org.department(DEPT)
    first, second = contact(org, DEPT, 0), contact(org, DEPT, 1)
    everyone = {first[1], second[1], dept.head.email}
    quality = {m.email for m in org.quality_team.members}

    _send(imap, org, first, f"{DEPT}-evidence-2027.xlsx", workbook(org, DEPT))
    assert run_dag("evidence_intake", TODAY).state == "success"
    before = _current(engine)
    assert len(before) == len(dept.elements)
    outbox.clear()

    element, one_row = _one_row_csv(org, 0, "Held survey results")
    _send(imap, org, second, "corrections.csv", one_row)
    assert run_dag("evidence_intake", TODAY).state == "success"
    with engine.connect() as conn:
        held = conn.execute(select(submission).order_by(submission.c.id.desc())).first()
    assert (held.status, held.version, held.rows_accepted, held.submitter) == ("held", 0, 1, second[1])
    assert (
        held.source == "imap"
        and held.details["mail"]["authentication"] == f"DMARC pass for {second[1].split('@')[1]} ({AUTHSERV})"
    )
    assert _current(engine) == before  # nothing of the department's replaced
    messages = outbox.messages()
    [to_dept] = [m for m in messages if second[1] in _addresses(m)]
    [to_quality] = [m for m in messages if {a.addr_spec for a in m["To"].addresses} == quality]
    assert _addresses(to_dept) == everyone  # the sender, the other contact and the head
    assert "Nothing has changed yet" in _text(to_dept) and f"sent by {first[1]}" in _text(to_dept)
    assert f"element {element}: its 1 current item(s) replaced by 1; new: 'Held survey results'" in _text(to_dept)
    assert f"python -m reaccreditation.intake confirm {held.id}" in _text(to_quality)
    outbox.clear()

    assert intake_cli(["--url", project_db, "confirm", str(held.id), "--by", "Priya Raman"]) == 0
    assert intake_cli(["--url", project_db, "confirm", str(held.id), "--by", "Priya Raman"]) == 1  # once only
    after = _current(engine)
    assert {i for i, e in before.items() if e != element} <= set(after) and len(after) == len(before)
    assert [e for i, e in after.items() if i not in before] == [element]  # the held row replaced its element only

    # the confirmed version's reply comes with the next run; a further version from its sender is not held
    element2, again = _one_row_csv(org, 1, "Second correction")
    _send(imap, org, second, "more-corrections.csv", again)
    assert run_dag("evidence_intake", TODAY).state == "success"
    with engine.connect() as conn:
        subs = conn.execute(select(submission).where(submission.c.department_id == DEPT).order_by(submission.c.id)).all()
    assert [(s.status, s.version) for s in subs] == [("accepted", 1), ("accepted", 2), ("accepted", 3)]
    confirmed, direct = sorted((m for m in outbox.messages() if second[1] in _addresses(m)), key=lambda m: "Second" in _text(m))
    assert "confirmed by Priya Raman" in _text(confirmed) and _addresses(confirmed) == everyone
    assert f"What changed (sent by {second[1]}; replacing version 1 sent by {first[1]}" in _text(confirmed)
    assert _addresses(direct) == everyone and f"element {element2}: its 1 current item(s) replaced by 1" in _text(direct)
    assert "No reply went to" not in _text(direct) and "held" not in _text(direct).lower()
