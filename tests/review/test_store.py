"""reaccreditation.review.store on a real (migrated) project database: append-only, conflicts, repeats, refusals."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, update

from reaccreditation.db import make_engine
from reaccreditation.db.schema import evidence, evidence_document, evidence_review, submission
from reaccreditation.review import store
from reaccreditation.review.store import ACCEPTED, NEEDS_WORK, NOT_RELEVANT, UNREVIEWED, Conflict, ReviewError

NOW = datetime(2027, 1, 10, 9, tzinfo=UTC)
MARKUP = '<img src=x onerror="alert(1)"> rewrite & resend'


def _items(engine) -> list[int]:  # type: ignore[no-untyped-def]
    """Two current items of one department (one names a document the safety checks refused), one replaced."""
    with engine.begin() as conn:
        sub = conn.execute(
            insert(submission).values(
                sha256="c" * 64, original_name="hr.xlsx", assessment_year=2027, department_id="people-od", source="inbox",
                received_at=NOW, status="accepted",
            )
        ).inserted_primary_key[0]  # fmt: skip
        base = {"assessment_year": 2027, "department_id": "people-od", "evidence_type": "document", "submission_id": sub}
        ids = [
            conn.execute(
                insert(evidence).values(
                    **base, element_id=element, title=title, link=link, sheet="Evidence", row_number=n, is_current=current,
                    created_at=NOW,
                )
            ).inserted_primary_key[0]
            for n, (element, title, link, current) in enumerate(
                [
                    ("1.1.1", "Staff survey 2026", "https://intranet.example.org/survey", True),
                    ("1.1.2", "Macro workbook", "Training_Plan.xlsm", True),
                    ("1.1.2", "Old plan", None, False),
                ],
                start=2,
            )
        ]  # fmt: skip
        conn.execute(
            insert(evidence_document).values(
                assessment_year=2027, department_id="people-od", filename="Training_Plan.xlsm", match_name="trainingplan.xlsm",
                sha256="d" * 64, size=10, status="refused", reason="it contains macros", source="inbox", version=1,
                received_at=NOW,
            )
        )  # fmt: skip
    return ids


@pytest.fixture
def engine(project_db):  # type: ignore[no-untyped-def]
    engine = make_engine(project_db)
    yield engine
    engine.dispose()


def _move(engine, item, seen, version, to, comment=None, who="priya.raman"):  # type: ignore[no-untyped-def]
    return store.record(
        engine, item, seen_state=seen, seen_version=version, to_state=to, comment=comment, reviewer=who,
        reviewer_name=who.title(), now=NOW,
    )  # fmt: skip


def test_changes_are_appended_and_the_trail_is_complete(engine):
    survey, macro, _old = _items(engine)
    first = _move(engine, survey, UNREVIEWED, 0, NEEDS_WORK, MARKUP)
    assert (first.version, first.from_state, first.to_state, first.comment) == (1, UNREVIEWED, NEEDS_WORK, MARKUP)
    _move(engine, survey, NEEDS_WORK, 1, ACCEPTED, who="tom.hollis")
    _move(engine, survey, ACCEPTED, 2, UNREVIEWED)  # reverted
    trail = store.history(engine, survey)
    assert [(c["version"], c["from_state"], c["to_state"], c["reviewer"]) for c in trail] == [
        (1, UNREVIEWED, NEEDS_WORK, "priya.raman"),
        (2, NEEDS_WORK, ACCEPTED, "tom.hollis"),
        (3, ACCEPTED, UNREVIEWED, "priya.raman"),
    ]
    assert trail[0]["comment"] == MARKUP  # stored exactly as typed
    [item] = [i for i in store.queue(engine, 2027, "people-od") if i["evidence_id"] == survey]
    assert (item["state"], item["version"], item["reviewer_name"]) == (UNREVIEWED, 3, "Priya.Raman")
    assert store.progress(store.queue(engine, 2027))["people-od"] == {UNREVIEWED: 2, ACCEPTED: 0, NEEDS_WORK: 0, NOT_RELEVANT: 0}


def test_a_stale_version_is_a_conflict_and_a_double_click_is_one_change(engine):
    survey, _macro, old = _items(engine)
    made = _move(engine, survey, UNREVIEWED, 0, ACCEPTED)
    again = _move(engine, survey, UNREVIEWED, 0, ACCEPTED)  # the same click, twice
    assert again.repeated and again.version == made.version == 1
    with pytest.raises(Conflict, match="now 'Accepted' .version 1, by Priya.Raman") as seen:
        _move(engine, survey, UNREVIEWED, 0, NEEDS_WORK, "too old", who="tom.hollis")  # saw version 0 too
    assert seen.value.current["version"] == 1 and seen.value.status == 409
    with pytest.raises(Conflict):
        _move(engine, survey, NEEDS_WORK, 1, NOT_RELEVANT)  # right version, wrong state
    with pytest.raises(Conflict, match="replaced"):
        _move(engine, old, UNREVIEWED, 0, ACCEPTED)
    with engine.connect() as conn:
        assert conn.execute(select(evidence_review.c.version).where(evidence_review.c.evidence_id == survey)).scalars().all() == [
            1
        ]


def test_two_reviewers_at_once_one_wins_one_sees_the_conflict(engine):
    survey, *_ = _items(engine)
    results: list[object] = []

    def review(who: str, to: str) -> None:
        try:
            results.append(_move(engine, survey, UNREVIEWED, 0, to, "why" if to == NEEDS_WORK else None, who=who))
        except Conflict as exc:
            results.append(exc)

    threads = [threading.Thread(target=review, args=a) for a in (("priya.raman", ACCEPTED), ("tom.hollis", NEEDS_WORK))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(r).__name__ for r in results) == ["Change", "Conflict"]
    assert len(store.history(engine, survey)) == 1


def test_refusals_say_why(engine):
    survey, macro, _old = _items(engine)
    with pytest.raises(ReviewError, match="comment is required"):
        _move(engine, survey, UNREVIEWED, 0, NEEDS_WORK, "   ")
    with pytest.raises(ReviewError, match="'Training_Plan.xlsm' was refused by the safety checks .it contains macros"):
        _move(engine, macro, UNREVIEWED, 0, ACCEPTED)
    [blocked] = [i for i in store.queue(engine, 2027) if i["evidence_id"] == macro]
    assert "contains macros" in blocked["cannot_accept"]
    assert _move(engine, macro, UNREVIEWED, 0, NOT_RELEVANT).version == 1  # it can still be judged otherwise
    with pytest.raises(ReviewError, match="Unknown review state 'approved'"):
        _move(engine, survey, UNREVIEWED, 0, "approved")
    with pytest.raises(ReviewError, match="already 'Not relevant'"):
        _move(engine, macro, NOT_RELEVANT, 1, NOT_RELEVANT)
    with engine.begin() as conn:  # a kept copy arriving later lifts the block
        conn.execute(update(evidence_document).values(status="kept"))
    assert _move(engine, macro, NOT_RELEVANT, 1, ACCEPTED).to_state == ACCEPTED


def test_needs_work_lists_the_reason_per_element(engine):
    survey, *_ = _items(engine)
    _move(engine, survey, UNREVIEWED, 0, NEEDS_WORK, MARKUP)
    assert store.needs_work(engine, 2027) == {"1.1.1": [("people-od", "Staff survey 2026", MARKUP, "Priya.Raman")]}


def test_the_database_refuses_to_rewrite_the_trail(engine):
    from sqlalchemy import delete
    from sqlalchemy.exc import DatabaseError

    survey, *_ = _items(engine)
    _move(engine, survey, UNREVIEWED, 0, NEEDS_WORK, "why")
    for statement in (update(evidence_review).values(to_state=ACCEPTED), delete(evidence_review)):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
    assert [c["to_state"] for c in store.history(engine, survey)] == [NEEDS_WORK]
