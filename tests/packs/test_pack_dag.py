"""Real runs of readiness_pack on the demo council, delivered to the local SMTP sink and read back."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import outbound_message, run_record
from reaccreditation.organisation.config import load_organisation

from ..approvals.answer import Answer, answering
from ..conftest import FIRST_DAY
from ..conftest import run_dag as _run_dag
from .conftest import T30, import_history, simulate_intake

LEADERS = {
    "margaret.okafor@kestrelvale.example.org",
    "daniel.reeve@kestrelvale.example.org",
    "susan.pike@kestrelvale.example.org",
}


def _parts(msg):  # type: ignore[no-untyped-def]
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    images = {str(p["Content-ID"]).strip().strip("<>"): p for p in msg.walk() if p.get_content_type() == "image/png"}
    attachments = [p for p in msg.iter_attachments() if p.get_filename()]
    return html, text, images, attachments


def run_dag(dag_id, when):  # type: ignore[no-untyped-def]
    """A pack waits for sign-off (docs/approvals.md): approve it as the quality team would."""
    if dag_id != "readiness_pack":
        return _run_dag(dag_id, when)
    with answering(dag_id, Answer("approve_pack", "Approve")) as answers:
        run = _run_dag(dag_id, when)
    assert not answers.errors
    return run


def _pack_messages(outbox):  # type: ignore[no-untyped-def]
    return [m for m in outbox.messages() if "Approval needed" not in m["Subject"]]


def _json(value):  # type: ignore[no-untyped-def]
    """An XCom value as stored (JSON, sometimes a JSON string inside JSON) back to Python."""
    while isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            break
    return value


def _xcom_text(run) -> str:  # type: ignore[no-untyped-def]
    from airflow.models.xcom import XComModel
    from airflow.settings import Session

    with Session() as session:
        rows = session.query(XComModel).filter(XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id).all()
        assert rows
        values = [_json(r.value) for r in rows if "body" not in r.key]
    values = [{k: v for k, v in x.items() if "body" not in k} if isinstance(x, dict) else x for x in values]
    # the approval page lists the recipients for the approver (approvals.pages): the rest carries ids
    return json.dumps(values, default=str)


def test_t30_pack_goes_to_leadership_and_heads_once(airflow_db, project_db, demo, outbox, place_timetable):
    engine = make_engine(project_db)
    import_history(engine, demo["history"])
    org = load_organisation(demo["config"])
    planted = json.loads(demo["planted"].read_text())
    simulate_intake(engine, org, planted["last_year_partials"][0])
    # the quality team has reviewed three items: two accepted, one of Complaints and Legal's sent back
    from reaccreditation.review import store as review

    items = {(i["department_id"], i["element_id"]): i["evidence_id"] for i in review.queue(engine, 2027)}
    decisions = {("complaints-legal", "4.3.1"): "needs_work", ("housing", "3.4.1"): "accepted", ("digital", "3.1.1"): "accepted"}
    for key, state in decisions.items():
        comment = "Add the 2026 action plan" if state == "needs_work" else None
        review.record(
            engine, items[key], seen_state="unreviewed", seen_version=0, to_state=state, comment=comment, reviewer="priya.raman"
        )
    assert run_dag("gap_analysis", T30).state == "success"
    place_timetable()

    run = run_dag("readiness_pack", T30)
    assert run.state == "success"
    assert "@" not in _xcom_text(run)  # XCom carries ids and paths; the addresses stay in the manifest
    messages = _pack_messages(outbox)
    by_to = {m["To"].addresses[0].addr_spec: m for m in messages}
    heads = {d.head.email for d in org.departments}
    assert set(by_to) == LEADERS | heads and len(messages) == len(LEADERS | heads)

    ceo = by_to["margaret.okafor@kestrelvale.example.org"]
    assert ceo["Subject"].startswith("[Red] Readiness pack T-30: Kestrel Vale")
    assert ceo["Reply-To"].addresses[0].addr_spec == org.quality_team.mailbox
    html, text, images, attachments = _parts(ceo)
    cids = set(re.findall(r'src="cid:([^"]+)"', html))
    assert len(cids) == 2 and cids == set(images)  # readiness by criterion + year on year, embedded
    assert all(p.get_content().startswith(b"\x89PNG") for p in images.values())
    assert not re.search(r'src="(https?:|file:|/)', html)  # no remote or local images
    assert "Before the assessor arrives" in html and "31 days to go" in html  # sent on Friday T-31
    assert "1.1.1 Profile of current and potential customers" in html  # top gap, no evidence
    assert "Policy" in html and "overdue" in html  # the department that has not returned
    assert "Missing from this pack" not in html
    assert "OVERALL STATUS: RED" in text and "BEFORE THE ASSESSOR ARRIVES" in text and "TOP GAPS" in text
    assert "Day 1 Mon 15 Mar 2027" in text
    total = len(items)
    reviewed = f"3 of {total} current evidence items reviewed: 2 accepted, 1 sent back for more work, 0 not relevant"
    assert f"{reviewed}; {total - 3} not reviewed yet." in text
    assert "Sent back to: Complaints and Legal (1 item)." in text
    assert "evidence review" in html and f"3 of {total} current evidence items reviewed" in html

    [xlsx] = attachments
    wb = load_workbook(BytesIO(xlsx.get_content()))
    assert wb.sheetnames[0] == "Cover" and wb.sheetnames[-2:] == ["Gap register", "Timetable"]
    assert len(wb.sheetnames) == 2 + len(org.standard.criteria) + 1
    assert wb["Cover"]["B6"].value == "Red"
    sheet1 = wb[wb.sheetnames[1]]
    rows = {r[0]: r for r in sheet1.iter_rows(min_row=2, values_only=True)}
    assert rows["1.1.1"][2] == "gap" and rows["1.1.1"][3] == "Non-Compliance"
    assert sheet1.auto_filter.ref.startswith("A1:J")
    # the hostile evidence title stays text
    c2 = wb[wb.sheetnames[2]]
    cell = next(r[9] for r in c2.iter_rows(min_row=2) if r[0].value == "2.1.1")
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    assert wb["Timetable"].max_row == 41  # 40 sessions

    head = by_to["janet.cole@kestrelvale.example.org"]  # complaints-legal: self-rated 4.3.1 partial
    html, text, images, attachments = _parts(head)
    assert "Complaints" in head["Subject"] and "4.3.1" in html and "Dear Janet Cole" in text
    assert set(re.findall(r'src="cid:([^"]+)"', html)) == set(images) and len(images) == 1
    dept_wb = load_workbook(BytesIO(attachments[0].get_content()))
    assert {r[0].value for r in dept_wb["Gap register"].iter_rows(min_row=2)} <= set(org.department("complaints-legal").elements)

    folder = demo["data"] / "output" / "2027" / "packs" / T30.isoformat()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert len(manifest["messages"]) == len(messages)
    assert (folder / "leadership.html").read_text().rstrip() == ceo.get_body(("html",)).get_content().replace(
        "\r\n", "\n"
    ).rstrip()  # kept as sent
    with engine.connect() as conn:
        keys = set(
            conn.execute(select(outbound_message.c.dedupe_key).where(outbound_message.c.kind == "readiness_pack")).scalars()
        )
        record = conn.execute(select(run_record.c.payload).where(run_record.c.kind == "readiness_pack")).scalar_one()
    assert f"pack:2027:{T30.isoformat()}:margaret.okafor@kestrelvale.example.org" in keys and len(keys) == len(messages)
    assert record["label"] == "T-30 pack" and record["sent"] == len(messages) and record["overall"]["gaps"] >= 4

    # a rerun sends nothing (the days between pack dates are covered in test_schedule.py)
    outbox.clear()
    assert run_dag("readiness_pack", T30).state == "success"
    assert outbox.messages() == []

    # T-23: the gap is closed (evidence arrives), the pack says what changed since T-30
    from .conftest import close_gap

    close_gap(engine, "complaints-legal", "4.3.1")
    t23 = FIRST_DAY - timedelta(days=23)
    assert run_dag("gap_analysis", t23).state == "success"
    assert run_dag("readiness_pack", t23).state == "success"
    ceo = next(m for m in outbox.messages() if m["To"].addresses[0].addr_spec == "margaret.okafor@kestrelvale.example.org")
    assert "Readiness pack T-23" in ceo["Subject"]
    text = ceo.get_body(("plain",)).get_content()
    assert f"Since the last pack (T-30 pack, {T30.day} Feb 2027): gaps −1" in text


def test_pack_still_sends_and_says_what_is_missing(airflow_db, project_db, demo, outbox):
    """No gap snapshot, no timetable, no history: the T-30 pack still goes, saying so."""
    run = run_dag("readiness_pack", T30)
    assert run.state == "success"
    messages = _pack_messages(outbox)
    org = load_organisation(demo["config"])
    assert len(messages) == len(org.leadership) + len(org.departments)
    ceo = next(m for m in messages if m["To"].addresses[0].addr_spec == "margaret.okafor@kestrelvale.example.org")
    assert ceo["Subject"].startswith("[Unknown] Readiness pack T-30")
    html, text, images, attachments = _parts(ceo)
    assert "Missing from this pack" in html
    assert "No gap analysis yet: gaps.json has not been written for 2027 (DAG gap_analysis has not run)" in text
    assert "No assessment timetable yet" in text and "No past assessment outcomes are imported" in text
    assert "Readiness unknown" in html
    assert images == {} and "cid:" not in html  # no chart without data, and no broken image
    assert "12 departments have not returned evidence" in text  # still known from the register
    wb = load_workbook(BytesIO(attachments[0].get_content()))
    assert wb["Gap register"]["A2"].value.startswith("The gap analysis has not run")
    assert wb["Timetable"]["A2"].value.startswith("The assessment timetable has not been planned")
