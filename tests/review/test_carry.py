"""A decision passes to an item sent again unchanged (the review round's "still current" rows), and only then."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import evidence, evidence_document, evidence_review
from reaccreditation.intake import store as intake
from reaccreditation.review import store as review
from reaccreditation.review.carry import CARRIED

YEAR, DEPT = 2027, "customer-services"
T0 = datetime(2027, 1, 10, 9, tzinfo=UTC)


def _row(n: int, element: str, title: str, link: str) -> dict:
    return {
        "element_id": element,
        "evidence_title": title,
        "evidence_type": "Report",
        "link": link,
        "evidence_date": date(2026, 6, 1),
        "owner": "Helen Marsh",
        "self_rating": "Compliance",
        "cplus_claim": "No",
        "notes": None,
        "sheet": "Evidence",
        "row_number": n + 2,
    }


def _send(engine, sha: str, rows: list[dict], when: datetime) -> intake.Outcome:  # type: ignore[no-untyped-def]
    outcome = intake.Outcome(sha, f"{sha}.xlsx", when, "accepted", "accepted", DEPT, YEAR, rows=rows, submitter="joe@x.org")
    return intake.record(engine, outcome)


def _current(engine) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(select(evidence).where(evidence.c.is_current.is_(True))).all()
    states = review.states(engine, YEAR)
    return {r.title: {"id": r.id, **(states.get(r.id) or {"state": review.UNREVIEWED, "version": 0})} for r in rows}


def _decide(engine, item: dict, to_state: str, comment: str | None = None) -> None:  # type: ignore[no-untyped-def]
    review.record(
        engine,
        item["id"],
        seen_state=item["state"],
        seen_version=item["version"],
        to_state=to_state,
        comment=comment,
        reviewer="priya.raman",
        reviewer_name="Priya Raman",
        now=T0 + timedelta(hours=1),
    )


def test_an_unchanged_item_keeps_its_decision_a_changed_one_waits(project_db):
    engine = make_engine(project_db)
    first = [
        _row(0, "1.1.1", "Customer survey 2026", "https://intranet.example.org/survey"),
        _row(1, "1.1.1", "Customer profile", "https://intranet.example.org/profile"),
        _row(2, "1.2.1", "Consultation plan", "plan.pdf"),
        _row(3, "1.2.1", "Engagement log", "https://intranet.example.org/log"),
    ]
    _send(engine, "v1", first, T0)
    items = _current(engine)
    _decide(engine, items["Customer survey 2026"], review.ACCEPTED)
    _decide(engine, items["Customer profile"], review.NEEDS_WORK, "No date on the profile")
    _decide(engine, items["Consultation plan"], review.ACCEPTED)
    _decide(engine, items["Engagement log"], review.NOT_RELEVANT, "About another element")
    # a newer copy of plan.pdf arrives after the plan was accepted: the same row is no longer the same item
    with engine.begin() as conn:
        conn.execute(
            insert(evidence_document).values(
                assessment_year=YEAR, department_id=DEPT, filename="plan.pdf", match_name="plan.pdf", sha256="0" * 64,
                size=10, status="kept", source="inbox", received_at=T0 + timedelta(days=1),
            )
        )  # fmt: skip

    second = [dict(r) for r in first]
    second[1]["link"] = "https://intranet.example.org/profile-2026"  # the correction
    outcome = _send(engine, "v2", second, T0 + timedelta(days=2))
    items = _current(engine)

    survey = items["Customer survey 2026"]
    assert survey["state"] == review.ACCEPTED and survey["reviewer"] == CARRIED
    assert survey["reviewer_name"] == "Priya Raman (carried over)"
    assert "Sent again unchanged: Priya Raman marked it 'Accepted' on 10 January 2027" in survey["comment"]
    assert items["Engagement log"]["state"] == review.NOT_RELEVANT
    assert "Their comment: About another element" in items["Engagement log"]["comment"]
    assert items["Customer profile"]["state"] == review.UNREVIEWED  # needs work never passes on
    assert items["Consultation plan"]["state"] == review.UNREVIEWED  # its document changed since
    assert outcome.details["review_carried"] == 2

    # the reviewer can still change a carried decision (its version is the item's own)
    _decide(engine, survey, review.NEEDS_WORK, "Out of date after all")
    assert _current(engine)["Customer survey 2026"]["state"] == review.NEEDS_WORK

    # a title edited is a different item: nothing passes on
    third = [dict(r) for r in second]
    third[3]["evidence_title"] = "Engagement log (updated)"
    _send(engine, "v3", third, T0 + timedelta(days=3))
    items = _current(engine)
    assert items["Engagement log (updated)"]["state"] == review.UNREVIEWED
    assert items["Customer survey 2026"]["state"] == review.UNREVIEWED  # needs work, sent again: waits


def test_nothing_is_recorded_for_a_department_nobody_reviewed(project_db):
    engine = make_engine(project_db)
    rows = [_row(0, "1.1.1", "Customer survey 2026", "https://intranet.example.org/survey")]
    _send(engine, "v1", rows, T0)
    outcome = _send(engine, "v2", [dict(r) for r in rows], T0 + timedelta(days=1))
    assert "review_carried" not in outcome.details
    with engine.connect() as conn:
        assert conn.execute(select(evidence_review)).all() == []
