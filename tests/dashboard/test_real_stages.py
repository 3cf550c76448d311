"""The page reads what the other stages really write: a gap_analysis run and the timetable pipeline."""

from __future__ import annotations

import json
from datetime import date

from markupsafe import escape

from reaccreditation.dashboard import page as dashboard
from reaccreditation.db import make_engine
from reaccreditation.organisation.config import load_organisation
from reaccreditation.render import render

from ..conftest import run_dag
from . import season as s


def test_page_shows_the_real_gap_snapshot_history_and_timetable(airflow_db, season):
    engine, output = season["engine"], season["output"]
    for p in (output / "2027" / "gaps" / "gaps.json", output / "2027" / "timetable" / "timetable.json"):
        p.unlink()  # the hand-made files of the season fixture; the real stages write their own
    today = date(2026, 12, 16)
    assert run_dag("gap_analysis", today).state == "success"

    from reaccreditation.timetable import pipeline

    org = load_organisation(season["config"], today)
    planned = pipeline.plan(org, make_engine(season["url"]), seconds=2)
    pipeline.publish(org, engine, planned, output / "2027" / "timetable")

    data = dashboard.gather(engine, org, today, output, runs=[])
    gaps = json.loads((output / "2027" / "gaps" / "gaps.json").read_text())
    assert data["gaps"]["status"] == "ok" and data["gaps"]["as_of"] == today
    assert data["gaps"]["counts"]["ready"] == gaps["overall"]["ready"]
    assert data["gaps"]["counts"]["gap"] == gaps["overall"]["gaps"] and data["gaps"]["counts"]["elements"] == 57
    shown = {e["id"]: e for c in data["gaps"]["criteria"] for e in c["elements"]}
    real = {e["element_id"]: e for e in gaps["elements"]}
    assert all(shown[k]["readiness"] == real[k]["readiness"] for k in real)
    assert all(len(shown[k]["reasons"]) == len(real[k]["reasons"]) for k in real)
    assert data["history"]["points"][-1]["as_of"] == today and data["history"]["points"][-1]["gaps"] == gaps["overall"]["gaps"]
    rows = {r["id"]: r for r in data["departments"]["rows"]}
    assert rows[s.HOSTILE_ID]["open_source"] == "gap analysis"

    timetable = json.loads((output / "2027" / "timetable" / "timetable.json").read_text())
    sessions = data["timetable"]["sessions"]
    assert data["timetable"]["status"] == "ok" and len(sessions) == len(timetable["sessions"]) > 0
    assert all(row["when"].endswith("2027") and row["start"] and row["where"] for row in sessions)
    html = render("dashboard.html", d=data)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    accuracy = gaps["forecast_accuracy"]  # measured on past years (none with evidence in this fixture: it says so)
    assert data["gaps"]["accuracy"] == accuracy
    assert f"How far to trust the forecast:</strong> {escape(accuracy['sentence'])}" in html

    # without gaps.json (deleted, or another machine's output folder) the snapshot comes from the database
    (output / "2027" / "gaps" / "gaps.json").unlink()
    again = dashboard.gather(engine, org, today, output, runs=[])
    assert again["gaps"]["source"].startswith("gap snapshot of run ") and again["gaps"]["counts"] == data["gaps"]["counts"]
    assert [e["reasons"] for c in again["gaps"]["criteria"] for e in c["elements"]] == [
        e["reasons"] for c in data["gaps"]["criteria"] for e in c["elements"]
    ]


def test_timetable_shows_each_invitees_answer(season):
    from datetime import UTC, datetime

    from reaccreditation.timetable import pipeline, rsvp

    engine, output = season["engine"], season["output"]
    (output / "2027" / "timetable" / "timetable.json").unlink()
    org = load_organisation(season["config"], date(2026, 12, 16))
    planned = pipeline.plan(org, engine, seconds=8)  # stops when optimal (~2 s idle); 2 s found nothing at load 16
    pipeline.publish(org, engine, planned, output / "2027" / "timetable")
    answers = [
        rsvp.Answer(
            "helen.marsh@kestrelvale.example.org", "accepted", uid="cse-2027-customer-services-managers@kestrelvale.example.org"
        ),
        rsvp.Answer("alan.booth@kvnhs.example.org", "declined", uid="cse-2027-nhs-trust@kestrelvale.example.org"),
    ]
    done = rsvp.record(
        engine,
        2027,
        answers,
        sender=None,
        thread=[],
        message_key="<t@x>",
        answered_at=datetime.now(UTC),
        assessors=rsvp.assessor_emails(org),
    )
    assert len(done.recorded) == 2 and not done.ignored
    data = dashboard.gather(engine, org, date(2026, 12, 16), output, runs=[])
    rows = {r["title"]: r for r in data["timetable"]["sessions"]}
    managers = next(r for t, r in rows.items() if r["uid"].endswith("customer-services-managers@kestrelvale.example.org"))
    assert managers["answers"]["counts"] == [("Accepted", 1, "accepted"), ("No answer", 1, "none")]
    nhs = next(r for r in rows.values() if r["uid"].startswith("cse-2027-nhs-trust@"))
    assert nhs["answers"]["people"] == [("Dr Alan Booth", "Declined", "declined")]
    html = render("dashboard.html", d=data)
    assert 'Alan Booth: <span class="rsvp declined">declined</span>' in html and "1 no answer" in html
