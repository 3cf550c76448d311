"""The gap_analysis DAG's steps as plain functions: analyse and store a snapshot, then publish its files."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the DAG imports this module when it is parsed: the rest is imported when a step runs
    from sqlalchemy import Engine

    from reaccreditation.organisation.config import Organisation

DAG_ID = "gap_analysis"


def analyse_and_store(org: Organisation, engine: Engine, today: date, run_id: str) -> dict[str, Any]:
    """Recompute the year's snapshot from the database and store it under this run; JSON-ready."""
    from reaccreditation.gaps.analysis import analyse
    from reaccreditation.gaps.store import forecast_accuracy, load_inputs, readiness_history, save_snapshot

    inputs = load_inputs(engine, org.assessment.year)
    from reaccreditation.links.store import broken
    from reaccreditation.review.store import UNREVIEWED, needs_work, states

    sent_back = needs_work(engine, org.assessment.year)
    reviewed = states(engine, org.assessment.year)
    rows = [r | {"review_state": reviewed.get(r["id"], {}).get("state", UNREVIEWED)} for r in inputs["evidence"]]
    snapshot = analyse(org, rows, inputs["submissions"], inputs["outcomes"], today, broken(engine), sent_back)
    snapshot_id = save_snapshot(engine, snapshot, dag_id=DAG_ID, run_id=run_id)
    trend = [{**h, "as_of": h["as_of"].isoformat()} for h in readiness_history(engine, org.assessment.year)]
    accuracy = forecast_accuracy(engine, org, inputs["outcomes"])  # the forecast checked against past years
    return snapshot.to_dict() | {"snapshot_id": snapshot_id, "readiness_history": trend, "forecast_accuracy": accuracy}


def publish(engine: Engine, payload: dict[str, Any], output: Path, run_id: str) -> dict[str, Any]:
    """Write the gap register (xlsx), gaps.json and gaps.html; record the run for the dashboard."""
    from reaccreditation.db.records import save_run_record
    from reaccreditation.files import write_atomic
    from reaccreditation.gaps import gaps_json
    from reaccreditation.gaps.gap_register import write_register
    from reaccreditation.render import render

    year = payload["assessment_year"]
    folder = gaps_json.folder(output, year)
    write_register(folder / "gap_register.xlsx", payload)
    gaps_json.write(output, payload)
    write_atomic(folder / "gaps.html", render("gap_summary.html", g=payload).encode())
    summary = {
        "snapshot_id": payload["snapshot_id"],
        "as_of": payload["as_of"],
        "overall": payload["overall"],
        "gap_rows": len(payload["gaps"]),
        "register": str(folder / "gap_register.xlsx"),
    }
    save_run_record(engine, kind="gap_analysis", dag_id=DAG_ID, run_id=run_id, assessment_year=year, payload=summary)
    return summary
