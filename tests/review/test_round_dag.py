"""The department loop end to end: a return through the real intake, a review, the review round DAG's one
threaded email with the rows to improve, the department's corrected workbook through the real intake, the
queue showing the resubmission with its diff, and the gap analysis moving the element to ready on acceptance."""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from reaccreditation.db import make_engine
from reaccreditation.demo.returns import fill, good_rows
from reaccreditation.files import write_atomic
from reaccreditation.gaps.pipeline import analyse_and_store
from reaccreditation.organisation.config import load_organisation
from reaccreditation.requests.workbook import RequestWorkbook
from reaccreditation.review import page, store
from reaccreditation.review.store import ACCEPTED, NEEDS_WORK, UNREVIEWED
from reaccreditation.workbook import layout

from ..conftest import FIRST_DAY, run_dag

DAY = FIRST_DAY - timedelta(days=100)
MARKUP = "<script>alert(1)</script> The survey is from 2024: send this year's"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _change(engine, item: dict, to: str, comment: str | None = None) -> None:  # type: ignore[no-untyped-def, type-arg]
    store.record(engine, item["evidence_id"], seen_state=item["state"], seen_version=item["version"], to_state=to,
                 comment=comment, reviewer="priya.raman", reviewer_name="Priya Raman")  # fmt: skip


def _queue(org, engine) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return page.gather(org, engine, "priya.raman", b"k")["items"]


def _readiness(org, engine, element_id: str, run: str) -> str:  # type: ignore[no-untyped-def]
    payload = analyse_and_store(org, engine, DAY, run)
    return next(e for e in payload["elements"] if e["element_id"] == element_id)["readiness"]


def _screenshot(html: str) -> None:
    """The email as a phone shows it (headless Chromium, 420 px): $TMPDIR/reaccreditation-review-round-email.png."""
    from reaccreditation.packs.screenshot import FLAGS

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return
    folder = Path(tempfile.gettempdir())
    page_file = folder / "reaccreditation-review-round-email.html"
    page_file.write_text(html, encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        png = folder / "reaccreditation-review-round-email.png"
        args = [browser, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}", "--window-size=420,1000"]
        subprocess.run([*args, page_file.as_uri()], check=True, capture_output=True, timeout=120)
    assert png.read_bytes().startswith(b"\x89PNG")


def test_review_round_email_resubmission_and_readiness(airflow_db, project_db, outbox, demo, gx_dir):
    org = load_organisation(demo["config"])
    engine = make_engine(project_db)
    # A department that alone owns elements returns its workbook (every row good, self-rated 'meets').
    dept = next(d for d in org.departments if sum(len(org.owners(e)) == 1 for e in d.elements) >= 2)
    sole = [e for e in dept.elements if len(org.owners(e)) == 1]
    rows = good_rows(org, dept, random.Random(1), partial_share=0)
    inbox = demo["data"] / "inbox"
    write_atomic(inbox / f"{dept.id}.xlsx", fill(RequestWorkbook(org, dept).to_bytes(), rows))
    assert run_dag("evidence_intake", DAY).state == "success"
    [reply] = outbox.messages()
    assert "accepted" in str(reply["Subject"])

    # The quality lead sends two items back (one comment with markup), accepts the rest, and slips once.
    items = {i["element_id"]: i for i in _queue(org, engine) if i["department_id"] == dept.id}
    back = sole[:2]
    for element_id, item in items.items():
        _change(engine, item, NEEDS_WORK, MARKUP if element_id == back[0] else "No owner named") if element_id in back else (
            _change(engine, item, ACCEPTED)
        )  # fmt: skip
    slip = items[dept.elements[-1]] if dept.elements[-1] not in back else items[dept.elements[0]]
    now = next(i for i in _queue(org, engine) if i["evidence_id"] == slip["evidence_id"])
    _change(engine, now, NEEDS_WORK, "wrong item")
    _change(engine, next(i for i in _queue(org, engine) if i["evidence_id"] == slip["evidence_id"]), ACCEPTED)  # put back
    assert _readiness(org, engine, back[0], "manual__before") == "gap"

    assert run_dag("evidence_review_round", DAY).state == "success"
    [_, mail] = outbox.messages()
    assert mail["In-Reply-To"] == reply["Message-ID"] and reply["Message-ID"] in mail["References"]
    assert mail["Subject"] == f"Re: {reply['Subject']}" and mail["X-Reaccreditation-Reference"] == f"REQ-2027-{dept.id}"
    assert {a.addr_spec for a in mail["To"].addresses} == {c.email for c in dept.evidence_contacts}
    html = mail.get_body(("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    text = mail.get_body(("plain",)).get_content()
    assert "NEEDS WORK (2)" in text and f"ACCEPTED ({len(items) - 2})" in text and "wrong item" not in text
    [attachment] = [p for p in mail.iter_attachments()]
    assert attachment.get_content_type() == XLSX
    data = attachment.get_content()
    _screenshot(html)

    # Opened back by two independent readers: only the two rows to improve, each with its comment.
    ws = load_workbook(io.BytesIO(data))[layout.EVIDENCE_SHEET]
    head = [c.value for c in ws[1]]
    title, comment, element = (head.index(h) for h in ("Evidence title", layout.REVIEW_COMMENT, "Element"))
    filled = [r for r in ws.iter_rows(min_row=2) if r[title].value]
    assert [r[element].value for r in filled] == back
    assert [r[title].comment.text for r in filled] == [f"Priya Raman: {MARKUP}", "Priya Raman: No owner named"]
    grid = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(layout.EVIDENCE_SHEET).to_python()
    assert [(r[element], r[comment]) for r in grid[1:] if r[title]] == [
        (back[0], f"Priya Raman: {MARKUP}"),
        (back[1], "Priya Raman: No owner named"),
    ]

    # A rerun (the next day's run, or the button pressed twice) sends nothing twice.
    assert run_dag("evidence_review_round", DAY + timedelta(days=1)).state == "success"
    assert len(outbox.messages()) == 2

    # The department corrects one row (a new link) and sends the workbook back through the real intake.
    wb = load_workbook(io.BytesIO(data))
    sheet = wb[layout.EVIDENCE_SHEET]
    link = head.index("Link or file name") + 1
    fixed = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(row=r, column=element + 1).value == back[0])
    sheet.cell(row=fixed, column=link).value = "https://intranet.example.org/survey-2026"
    buf = io.BytesIO()
    wb.save(buf)
    write_atomic(inbox / f"{dept.id}-corrected.xlsx", buf.getvalue())
    assert run_dag("evidence_intake", DAY + timedelta(days=2)).state == "success"
    answer = outbox.messages()[-1]
    said = answer.get_body(("plain",)).get_content()
    assert "accepted" in str(answer["Subject"]) and "columns not recognised" not in said
    assert "no accepted evidence yet" not in said  # its other elements keep their current evidence

    queue = {i["element_id"]: i for i in _queue(org, engine) if i["department_id"] == dept.id}
    resub = queue[back[0]]
    assert resub["state"] == UNREVIEWED and resub["resubmission"]["comment"] == MARKUP
    assert resub["resubmission"]["changes"] == [
        {"field": "Link or file name", "old": rows[dept.elements.index(back[0])]["link"], "new": "https://intranet.example.org/survey-2026"}
    ]  # fmt: skip
    assert queue[back[1]]["resubmission"]["changes"] == []  # sent back unchanged: shown as such
    _change(engine, resub, ACCEPTED)
    assert _readiness(org, engine, back[0], "manual__accepted") == "ready"
    engine.dispose()
