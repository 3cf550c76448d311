"""Real runs of assessment_history and gap_analysis on the demo council, with intake simulated in the database."""

from __future__ import annotations

import json
from datetime import date, datetime

from openpyxl import load_workbook
from sqlalchemy import func, select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import assessment_outcome, gap_element, gap_snapshot, run_record
from reaccreditation.gaps.gap_register import REGISTER_COLUMNS
from reaccreditation.organisation.config import load_organisation

from ..conftest import run_dag
from .helpers import FRESH, STALE, ev, insert_evidence, insert_submission

TODAY = date(2026, 12, 1)


def simulate_intake(engine, org, planted):
    """Every department returns a workbook except policy-insight; a few planted problems in the register."""
    partial_last_year = planted["last_year_partials"][0]
    by_department: dict[str, list[dict]] = {}
    for d in org.departments:
        for e in d.elements:
            if e == "1.1.1":
                continue  # no evidence at all
            when = STALE if e in ("3.2.1", partial_last_year) else FRESH
            rating = "Partial Compliance" if e == "4.3.1" and d.id == "complaints-legal" else "Compliance"
            by_department.setdefault(d.id, []).append(ev(d.id, e, when, rating))
    for department_id, rows in by_department.items():
        status = "rejected" if department_id == "policy-insight" else "accepted"
        sid = insert_submission(engine, department_id, status)
        if status == "accepted":
            insert_evidence(engine, sid, rows)
    return partial_last_year


def test_history_then_gap_analysis_stores_a_snapshot_and_writes_the_register(airflow_db, project_db, demo):
    engine = make_engine(project_db)
    run = run_dag("assessment_history", TODAY)
    assert run.state == "success"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(assessment_outcome)).scalar() == 285

    org = load_organisation(demo["config"])
    planted = json.loads(demo["planted"].read_text())
    partial_last_year = simulate_intake(engine, org, planted)

    run = run_dag("gap_analysis", TODAY)
    assert run.state == "success"

    folder = demo["data"] / "output" / "2027" / "gaps"
    payload = json.loads((folder / "gaps.json").read_text())
    assert payload["schema"] == "reaccreditation.gaps/1"
    assert (payload["assessment_year"], payload["assessment_type"], payload["as_of"], payload["due_date"]) == (
        2027,
        "surveillance",
        "2026-12-01",
        "2027-01-22",
    )
    elements = {e["element_id"]: e for e in payload["elements"]}
    assert [r["code"] for r in elements["1.1.1"]["reasons"]][:2] == ["no_evidence", "workbook_not_returned"]
    assert {r["code"] for r in elements[partial_last_year]["reasons"]} >= {"stale_evidence", "open_action"}
    assert elements["4.3.1"]["forecast"] == "Partial Compliance"
    for e in planted["last_year_compliance_plus"]:
        assert "cplus_lapsing" in {r["code"] for r in elements[e]["reasons"]} and elements[e]["in_focus"]
    assert [(y["assessment_year"], y["kind"]) for y in payload["year_on_year"]][-2:] == [(2026, "outcome"), (2027, "forecast")]

    with engine.connect() as conn:
        snaps = conn.execute(select(gap_snapshot)).mappings().all()
        assert len(snaps) == 1
        snap = snaps[0]
        assert (snap["dag_id"], snap["assessment_year"], snap["as_of"], snap["elements"]) == ("gap_analysis", 2027, TODAY, 57)
        assert (snap["ready"], snap["at_risk"], snap["gaps"]) == (
            payload["overall"]["ready"],
            payload["overall"]["at_risk"],
            payload["overall"]["gaps"],
        )
        assert snap["gaps"] >= 4 and snap["ready"] > 0
        stored = {r.element_id: r for r in conn.execute(select(gap_element).where(gap_element.c.snapshot_id == snap["id"]))}
        assert len(stored) == 57
        assert stored["1.1.1"].readiness == "gap" and stored["1.1.1"].forecast == "Non-Compliance"
        assert stored["1.1.1"].reasons[0]["contacts"][0]["email"] == "joe.barker@kestrelvale.example.org"
        assert conn.execute(select(run_record.c.kind).where(run_record.c.dag_id == "gap_analysis")).scalars().all() == [
            "gap_analysis"
        ]

    html = (folder / "gaps.html").read_text()
    assert "Kestrel Vale Borough Council: readiness for the 2027 surveillance assessment" in html
    assert f"<strong>{payload['overall']['gaps']}</strong> gaps of 57 elements" in html
    assert "Children&#39;s Services" in html  # names are escaped

    wb = load_workbook(folder / "gap_register.xlsx")
    assert wb.sheetnames == ["Gap register", "About"]
    ws = wb["Gap register"]
    assert [c.value for c in ws[1]] == [header for _, header, _ in REGISTER_COLUMNS]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:N{len(payload['gaps']) + 1}"
    assert ws.column_dimensions["I"].width == 70 and ws.column_dimensions["L"].width == 45
    rows = [dict(zip([k for k, _, _ in REGISTER_COLUMNS], (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=2)]
    assert len(rows) == len(payload["gaps"])
    no_evidence = [r for r in rows if r["element_id"] == "1.1.1" and r["reason_code"] == "no_evidence"]
    assert [(r["department"], r["contact"]) for r in no_evidence] == [
        ("Customer Services", "Joe Barker <joe.barker@kestrelvale.example.org>"),
        (
            org.department("policy-insight").name,
            "Laura Chen <laura.chen@kestrelvale.example.org>; Owen Price <owen.price@kestrelvale.example.org>",
        ),
    ]
    assert no_evidence[0]["due_date"] == datetime(2027, 1, 22) and no_evidence[0]["criterion_id"] == "1"
    self_rated = [r for r in rows if r["reason_code"] == "self_rated_partial"]
    assert [(r["element_id"], r["department_id"], r["readiness"]) for r in self_rated] == [("4.3.1", "complaints-legal", "gap")]

    # a later run adds a snapshot (readiness history); the first is kept unchanged
    run = run_dag("gap_analysis", date(2026, 12, 2))
    assert run.state == "success"
    trend = json.loads((folder / "gaps.json").read_text())["readiness_history"]
    assert [(t["as_of"], t["gaps"]) for t in trend] == [("2026-12-01", snap["gaps"]), ("2026-12-02", snap["gaps"])]
    with engine.connect() as conn:
        history = conn.execute(select(gap_snapshot.c.as_of, gap_snapshot.c.gaps).order_by(gap_snapshot.c.as_of)).all()
        assert [h.as_of for h in history] == [TODAY, date(2026, 12, 2)]
        assert history[0].gaps == history[1].gaps
        assert conn.execute(select(func.count()).select_from(gap_element)).scalar() == 114


def test_history_run_with_a_bad_file_fails_and_imports_nothing(airflow_db, project_db, demo):
    path = demo["history"]
    text = path.read_text().replace("Partial Compliance", "Almost", 1)
    path.write_text(text)
    run = run_dag("assessment_history", TODAY)
    assert run.state == "failed"
    (ti,) = run.get_task_instances()
    assert (ti.task_id, ti.state, ti.try_number) == ("import_history", "failed", 1)  # a wrong file is not retried
    with make_engine(project_db).connect() as conn:
        assert conn.execute(select(func.count()).select_from(assessment_outcome)).scalar() == 0


def test_gap_analysis_runs_on_the_evidence_register_asset_or_daily(airflow_db):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable

    from reaccreditation.orchestration.assets import EVIDENCE_REGISTER, GAP_SNAPSHOT

    from ..conftest import ROOT

    dag = DagBag(dag_folder=str(ROOT / "dags" / "gap_analysis.py")).dags["gap_analysis"]
    timetable = dag.timetable
    assert isinstance(timetable, AssetOrTimeSchedule)
    assert timetable.asset_condition == EVIDENCE_REGISTER == Asset("reaccreditation://evidence_register")
    assert isinstance(timetable.timetable, CronTriggerTimetable) and timetable.timetable.expression == "0 6 * * *"
    assert dag.get_task("publish").outlets == [GAP_SNAPSHOT] == [Asset("reaccreditation://gap_snapshot")]
