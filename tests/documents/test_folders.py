"""Documents dropped in the inbox folder: beside the workbook, in a delivery folder with it, or from nobody."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import evidence_document
from reaccreditation.demo.documents import pdf
from reaccreditation.demo.returns import fill, good_rows
from reaccreditation.intake.pipeline import Sweep, inbox_files
from reaccreditation.requests.workbook import RequestWorkbook
from reaccreditation.settings import Paths

from .hostile import pdf_with_javascript

TODAY = date(2027, 1, 20)


def test_folders_beside_and_around_workbooks(project_db, org, gx_dir, tmp_path):  # type: ignore[no-untyped-def]
    from reaccreditation.intake.gx_validation import Validator

    paths = Paths(tmp_path / "data")
    engine = make_engine(project_db)
    a, b = org.departments[0], org.departments[1]
    rows_a = good_rows(org, a, random.Random(1), partial_share=0.0)
    rows_a[0]["link"] = "Plan 2026.pdf"
    rows_a[1]["link"] = "absent.pdf"
    (paths.inbox / f"{a.id}-evidence").mkdir(parents=True)
    (paths.inbox / f"{a.id}-evidence.xlsx").write_bytes(fill(RequestWorkbook(org, a).to_bytes(), rows_a))
    (paths.inbox / f"{a.id}-evidence" / "plan_2026.PDF").write_bytes(pdf("Plan"))
    rows_b = good_rows(org, b, random.Random(2), partial_share=0.0)
    rows_b[0]["link"] = "survey.pdf"
    delivery = paths.inbox / f"from {b.id}"
    delivery.mkdir()
    (delivery / f"{b.id}-evidence.xlsx").write_bytes(fill(RequestWorkbook(org, b).to_bytes(), rows_b))
    (delivery / "survey.pdf").write_bytes(pdf("Survey"))
    (delivery / "macro.pdf").write_bytes(pdf_with_javascript())
    stranger = paths.inbox / "misc"
    stranger.mkdir()
    (stranger / "notes.pdf").write_bytes(pdf("Who sent this?"))

    outcomes = Sweep(org, engine, paths, Validator, today=TODAY, run_id="t").run(inbox_files(paths.inbox))
    by_dept = {o.department_id: o for o in outcomes}
    assert set(by_dept) == {a.id, b.id} and all(o.status == "accepted" for o in outcomes), [o.message for o in outcomes]
    with engine.connect() as conn:
        docs = {(r.department_id, r.filename): (r.status, r.container) for r in conn.execute(select(evidence_document))}
    assert docs == {
        (a.id, "plan_2026.PDF"): ("kept", f"with {a.id}-evidence.xlsx"),
        (b.id, "survey.pdf"): ("kept", f"with {b.id}-evidence.xlsx"),
        (b.id, "macro.pdf"): ("refused", f"with {b.id}-evidence.xlsx"),
    }
    notes_a = " ".join(by_dept[a.id].details["notes"])
    assert "'absent.pdf', which we have not received" in notes_a and "Plan 2026.pdf" not in notes_a
    assert "macro.pdf was not kept" in " ".join(by_dept[b.id].details["notes"])
    assert list(paths.inbox.iterdir()) == []  # every folder taken; nothing left behind
    [quarantined] = [p for p in paths.quarantine.iterdir() if p.name.startswith("folder-")]
    assert (quarantined / "notes.pdf").exists() and "no department" in (quarantined / "REASON.txt").read_text()
