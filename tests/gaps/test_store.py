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
