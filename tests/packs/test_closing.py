"""The closing pack: this year's imported outcome against the last forecast taken before the assessment."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import insert

from reaccreditation.db import make_engine, upgrade
from reaccreditation.db.schema import assessment_outcome
from reaccreditation.demo import generate
from reaccreditation.gaps.analysis import analyse
from reaccreditation.gaps.store import load_inputs, save_snapshot
from reaccreditation.organisation.config import load_organisation
from reaccreditation.packs import sources
from reaccreditation.packs.render import render_pack
from reaccreditation.packs.schedule import current_pack

from ..conftest import FIRST_DAY
from .conftest import import_history, simulate_intake


def test_closing_pack_compares_outcome_with_forecast(tmp_path):
    paths = generate(tmp_path / "demo", FIRST_DAY)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    upgrade(url)
    engine = make_engine(url)
    import_history(engine, paths["history"])
    org = load_organisation(paths["config"])
    simulate_intake(engine, org, json.loads(paths["planted"].read_text())["last_year_partials"][0])
    inputs = load_inputs(engine, 2027)
    before = FIRST_DAY - timedelta(days=3)
    snapshot = analyse(org, inputs["evidence"], inputs["submissions"], inputs["outcomes"], before)
    save_snapshot(engine, snapshot, dag_id="gap_analysis", run_id="t-3")
    forecast = {e.element_id: e.forecast for e in snapshot.elements}
    # the assessor: as forecast, except 1.1.1 (forecast Non-Compliance) rated Partial with an action
    outcome = {e: ("Partial Compliance" if e == "1.1.1" else f) for e, f in forecast.items()}
    with engine.begin() as conn:
        conn.execute(
            insert(assessment_outcome),
            [
                {
                    "assessment_year": 2027,
                    "framework": "cse",
                    "assessment_type": "surveillance",
                    "element_id": e,
                    "rating": r,
                    "action": "Publish the customer profile with its data sources" if e == "1.1.1" else None,
                    "source": "test",
                }
                for e, r in outcome.items()
            ],
        )

    today = org.assessment.last_day + timedelta(days=5)
    pack_date = current_pack(org, today)
    src = sources.load(org, engine, tmp_path / "out", pack_date.pack_date, closing=True)
    manifest = render_pack(org, src, pack_date, today, tmp_path / "out")

    folder = tmp_path / "out" / "2027" / "packs" / "2027-03-22"  # the first working day after the assessment
    assert manifest["folder"] == str(folder)
    text = (folder / "leadership.txt").read_text()
    assert "closing pack" in text and "OUTCOME AGAINST FORECAST" in text
    assert f"{len(forecast) - 1} of {len(forecast)} elements as forecast" in text
    assert (
        "1.1.1 Profile of current and potential customers: Partial Compliance (forecast Non-Compliance), better than forecast"
        in text
    )
    assert "Publish the customer profile with its data sources" in text
    assert "No gap analysis yet" in text  # gaps.json was never written in this test: said, not hidden
    html = (folder / "leadership.html").read_text()
    assert "Outcome against forecast" in html and "cid:leadership-closing." in html
    dept = (folder / "department-customer-services.txt").read_text()
    assert "OUTCOME FOR YOUR ELEMENTS" in dept and "1.1.1" in dept
    assert date.fromisoformat(src.forecast_before["as_of"]) == before
