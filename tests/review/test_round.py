"""The review round's logic on a real project database: what a department hears, once, and nothing for reverts."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, update

from reaccreditation.db import make_engine
from reaccreditation.db.schema import evidence, outbound_message
from reaccreditation.requests.workbook import read_meta
from reaccreditation.review import resubmission, round, store
from reaccreditation.review.store import ACCEPTED, NEEDS_WORK, NOT_RELEVANT, UNREVIEWED
from reaccreditation.review.workbook import ImproveWorkbook
from reaccreditation.workbook import layout, signature

from ..gaps.helpers import ev, insert_evidence, insert_submission, make_org

AT = datetime(2027, 1, 10, 9, tzinfo=UTC)
MARKUP = "<b>No date</b> & no owner"


@pytest.fixture
def engine(project_db):  # type: ignore[no-untyped-def]
    engine = make_engine(project_db)
    yield engine
    engine.dispose()


def _dept_items(engine, org, dept: str = "customer-services", extra=()):  # type: ignore[no-untyped-def]
    d = org.department(dept)
    rows = [ev(dept, e, title=f"Evidence for {e}") for e in d.elements[:3]] + list(extra)
    insert_evidence(engine, insert_submission(engine, dept), rows)
    items = store.queue(engine, 2027, dept)
    return [i["evidence_id"] for i in items]


def _review(engine, item: int, to: str, comment: str | None = None, who: str = "priya.raman") -> None:  # type: ignore[no-untyped-def]
    now = next(i for i in store.queue(engine, 2027) if i["evidence_id"] == item)
    store.record(engine, item, seen_state=now["state"], seen_version=now["version"], to_state=to, comment=comment,
                 reviewer=who, reviewer_name="Priya Raman", now=AT)  # fmt: skip


def _sent(engine, found: round.Round) -> None:  # type: ignore[no-untyped-def]
    """What send_once leaves in the outbox for a round."""
    with engine.begin() as conn:
        conn.execute(
            insert(outbound_message).values(
                dedupe_key=found.key, assessment_year=2027, department_id=found.department_id, kind=round.KIND,
                recipients="x@example.org", subject="s", status="sent", created_at=AT,
            )
        )  # fmt: skip


def test_a_round_reports_acceptances_and_what_needs_work_then_only_news(engine):
    org = make_org()
    a, b, c = _dept_items(engine, org)
    _review(engine, a, ACCEPTED)
    _review(engine, b, NEEDS_WORK, MARKUP)
    _review(engine, c, NOT_RELEVANT, "This is about complaints, not 1.1.3")
    [found] = round.plan(engine, 2027)
    assert found.department_id == "customer-services" and found.news
    assert [i.evidence_id for i in found.accepted] == [a]
    assert [(i.evidence_id, i.comment, i.new) for i in found.to_improve] == [(b, MARKUP, True)]
    assert [i.evidence_id for i in found.not_relevant] == [c] and found.kept == []
    assert found.key == f"review-round:2027:customer-services:{found.mark}"

    _sent(engine, found)
    assert round.plan(engine, 2027) == []  # nothing new since the round: nothing to send (a rerun sends nothing)

    _review(engine, c, ACCEPTED)  # news: c accepted; b is still waiting, listed again but not new
    [second] = round.plan(engine, 2027)
    assert second.mark > found.mark
    assert [i.evidence_id for i in second.accepted] == [c]
    assert [(i.evidence_id, i.new) for i in second.to_improve] == [(b, False)]


def test_an_item_sent_back_and_put_back_before_the_send_produces_nothing(engine):
    org = make_org()
    a, b, _ = _dept_items(engine, org)
    _review(engine, a, NEEDS_WORK, "Wrong year")
    _review(engine, a, UNREVIEWED)  # a slip, undone before the daily send
    assert round.plan(engine, 2027) == []

    _review(engine, b, ACCEPTED)
    [found] = round.plan(engine, 2027)
    _sent(engine, found)
    _review(engine, b, NEEDS_WORK, "Second look: the link is broken")
    _review(engine, b, ACCEPTED)  # back to what the department last heard
    assert round.plan(engine, 2027) == []

    _review(engine, a, NEEDS_WORK, "Wrong year")
    _review(engine, a, NEEDS_WORK, "Wrong year, and no owner")  # only the newest reason goes
    [found] = round.plan(engine, 2027)
    assert [(i.evidence_id, i.comment) for i in found.to_improve] == [(a, "Wrong year, and no owner")] and not found.accepted


def test_a_replaced_item_is_not_reported(engine):
    org = make_org()
    a, b, _ = _dept_items(engine, org)
    _review(engine, a, NEEDS_WORK, "Wrong year")
    with engine.begin() as conn:
        conn.execute(update(evidence).where(evidence.c.id == a).values(is_current=False))
    assert round.plan(engine, 2027) == []


def test_the_workbook_holds_only_the_rows_to_improve_and_keeps_their_element_siblings(engine):
    org = make_org()
    dept = org.department("customer-services")
    sibling = ev("customer-services", dept.elements[0], title="Second item, accepted")
    a, b, _, _ = _dept_items(engine, org, extra=[sibling])
    _review(engine, a, NEEDS_WORK, MARKUP)
    _review(engine, b, ACCEPTED)
    [found] = round.plan(engine, 2027)
    data = ImproveWorkbook(org, dept, improve=found.to_improve, keep=found.kept).to_bytes()
    wb = load_workbook(io.BytesIO(data))
    ws = wb[layout.EVIDENCE_SHEET]
    head = [c.value for c in ws[1]]
    title, comment, confirm = (head.index(h) for h in ("Evidence title", layout.REVIEW_COMMENT, "Confirm (pre-filled rows)"))
    filled = [r for r in ws.iter_rows(min_row=2) if r[title].value]
    assert [r[title].value for r in filled] == ["Evidence for " + dept.elements[0], "Second item, accepted"]
    assert filled[0][comment].value == f"Priya Raman: {MARKUP}" and filled[0][title].comment.text == f"Priya Raman: {MARKUP}"
    assert filled[1][comment].value is None and filled[1][confirm].value == "Still current"
    meta = read_meta(wb)  # signed for the department: intake takes it as the department's return
    assert meta["department_id"] == dept.id and signature.verify(signature.DEMO_KEY, meta) is None


def test_a_resubmission_is_paired_with_the_version_sent_back_and_diffed(engine):
    org = make_org()
    a, b, _ = _dept_items(engine, org)
    _review(engine, a, NEEDS_WORK, "No date")
    queue = store.queue(engine, 2027)
    old = next(i for i in queue if i["evidence_id"] == a)
    with engine.begin() as conn:  # the department's corrected workbook replaces element a's rows
        conn.execute(update(evidence).where(evidence.c.element_id == old["element_id"]).values(is_current=False))
    fixed = ev("customer-services", old["element_id"], title="Evidence for " + old["element_id"], link="https://x.example.org/v2")
    insert_evidence(engine, insert_submission(engine, "customer-services", "partial"), [fixed])
    items = store.queue(engine, 2027)
    resubmission.mark(engine, 2027, items)
    [resub] = [i for i in items if i["resubmission"]]
    assert resub["element_id"] == old["element_id"] and resub["state"] == UNREVIEWED
    assert resub["resubmission"]["comment"] == "No date" and resub["resubmission"]["sent_back_by"] == "Priya Raman"
    assert resub["resubmission"]["changes"] == [
        {"field": "Link or file name", "old": "https://intranet.example.org/doc", "new": "https://x.example.org/v2"}
    ]
    assert not any(i["resubmission"] for i in items if i["evidence_id"] != resub["evidence_id"])
