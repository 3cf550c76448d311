"""Snapshots are kept per run: a rerun replaces its own, a new run adds one (readiness history)."""

from __future__ import annotations

from sqlalchemy import func, select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import gap_element, gap_snapshot
from reaccreditation.gaps.analysis import analyse
from reaccreditation.gaps.store import load_inputs, readiness_history, save_snapshot

from .helpers import TODAY, covered, insert_evidence, insert_submission, make_org


def test_rerun_replaces_its_snapshot_and_new_runs_add_history(project_db):
    engine = make_engine(project_db)
    org = make_org()
    sid = insert_submission(engine, "customer-services")
    insert_evidence(engine, sid, [r for r in covered(org) if r["department_id"] == "customer-services"])
    old = insert_submission(engine, "customer-services", year=2026)
    insert_evidence(engine, old, covered(org)[:3], year=2026)  # another year: ignored
    replaced = insert_submission(engine, "customer-services", "partial")
    insert_evidence(engine, replaced, [r | {"is_current": False} for r in covered(org)[:3]])  # superseded: ignored

    inputs = load_inputs(engine, 2027)
    assert len(inputs["evidence"]) == 15
    assert sorted(s["status"] for s in inputs["submissions"]) == ["accepted", "partial"]
    snap = analyse(org, inputs["evidence"], inputs["submissions"], inputs["outcomes"], TODAY)

    save_snapshot(engine, snap, dag_id="gap_analysis", run_id="manual__1")
    save_snapshot(engine, snap, dag_id="gap_analysis", run_id="manual__1")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(gap_snapshot)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(gap_element)).scalar() == 57
    save_snapshot(engine, snap, dag_id="gap_analysis", run_id="scheduled__2")
    history = readiness_history(engine, 2027)
    assert [h["run_id"] for h in history] == ["manual__1", "scheduled__2"]
    assert history[0]["gaps"] == snap.overall.gaps and history[0]["score"] == snap.overall.score
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(gap_element)).scalar() == 114


def test_the_gap_analysis_reads_the_review_state_from_the_register(project_db):
    """analyse_and_store (the DAG's step) on the database: sent back -> gap with the reason; accepted again -> ready."""
    from datetime import UTC, datetime

    from reaccreditation.db.schema import evidence
    from reaccreditation.gaps.pipeline import analyse_and_store
    from reaccreditation.review import store as review

    engine = make_engine(project_db)
    org = make_org()
    for department in {d.id for d in org.departments}:
        insert_evidence(
            engine, insert_submission(engine, department), [r for r in covered(org) if r["department_id"] == department]
        )
    with engine.connect() as conn:
        item = conn.execute(select(evidence.c.id).where(evidence.c.element_id == "1.1.1").limit(1)).scalar_one()

    def element(run: str) -> dict:  # type: ignore[type-arg]
        payload = analyse_and_store(org, engine, TODAY, run)
        return next(e for e in payload["elements"] if e["element_id"] == "1.1.1")

    assert element("manual__1")["readiness"] == "ready"
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    review.record(engine, item, seen_state="unreviewed", seen_version=0, to_state="needs_work", comment="No date on it",
                  reviewer="priya.raman", reviewer_name="Priya Raman", now=at)  # fmt: skip
    sent_back = element("manual__2")
    assert sent_back["readiness"] == "gap"
    assert [r["message"] for r in sent_back["reasons"]] == ["Needs work (Priya Raman): 'Evidence for 1.1.1': No date on it"]
    review.record(engine, item, seen_state="needs_work", seen_version=1, to_state="accepted", comment=None,
                  reviewer="tom.hollis", reviewer_name="Tom Hollis", now=at)  # fmt: skip
    assert element("manual__3")["readiness"] == "ready"
    engine.dispose()
