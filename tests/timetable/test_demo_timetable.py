"""The demo council's five days (~40 sessions): solved, checked independently, written, invited, rerun."""

from __future__ import annotations

import csv
import json
from datetime import date
from io import BytesIO

import pytest
from icalendar import Calendar
from openpyxl import load_workbook
from sqlalchemy import insert, select

from reaccreditation.db import make_engine, upgrade
from reaccreditation.db.schema import assessment_outcome, outbound_message, timetable_session
from reaccreditation.demo import generate
from reaccreditation.organisation.config import load_organisation
from reaccreditation.timetable import pipeline
from reaccreditation.timetable.checker import check
from reaccreditation.timetable.solution import Timetable

from ..approvals.answer import Answer, answering
from ..conftest import FIRST_DAY, run_dag


@pytest.fixture
def council(tmp_path):  # type: ignore[no-untyped-def]
    paths = generate(tmp_path / "demo", FIRST_DAY)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    upgrade(url)
    return {"paths": paths, "org": load_organisation(paths["config"]), "engine": make_engine(url), "out": tmp_path / "out"}


def _import_history(engine, history_csv) -> None:  # type: ignore[no-untyped-def]
    with history_csv.open() as f, engine.begin() as conn:
        rows = [r | {"assessment_year": int(r["assessment_year"]), "source": "demo"} for r in csv.DictReader(f)]
        conn.execute(insert(assessment_outcome), rows)


def test_demo_timetable_is_valid_complete_and_written(council):
    org, engine = council["org"], council["engine"]
    _import_history(engine, council["paths"]["history"])
    planned = pipeline.plan(org, engine, at_risk=["3.2.1"], seconds=5)
    planted = json.loads(council["paths"]["planted"].read_text())
    scope = planned["scope"]
    assert scope["partials"] == planted["last_year_partials"] and scope["at_risk"] == ["3.2.1"]
    assert set(scope["elements"]) == set(planted["last_year_partials"]) | {"3.2.1"}  # surveillance: the focus only

    p = pipeline.problem_for(org, scope)
    t = Timetable.from_dict(planned["timetable"])
    assert len(t.placements) == len(p.sessions) == 40
    assert check(p, t) == []  # no overlaps, availability, lunch, travel, rooms, coverage
    full = pipeline.problem_for(org, {"elements": [e.id for e in org.standard.elements], "focus": []})
    assert check(full, t) == []  # the demo's groups cover every element of the standard too
    assert {pl.day for pl in t.placements} == {0, 1, 2, 3, 4}
    assert t.status in ("OPTIMAL", "FEASIBLE") and t.terms["department_days"] <= 2

    summary = pipeline.publish(org, engine, planned, council["out"], "run-1")
    assert len(summary["changed"]) == 40
    data = json.loads((council["out"] / "timetable.json").read_text())
    assert data["schema"] == "reaccreditation.timetable/1" and len(data["sessions"]) == 40
    opening = next(s for s in data["sessions"] if s["key"] == "opening-meeting")
    assert (opening["date"], opening["uid"], opening["sequence"]) == (
        "2027-03-15",
        "cse-2027-opening-meeting@kestrelvale.example.org",
        0,
    )
    assert opening["starts_at"].startswith("2027-03-15T09:")

    wb = load_workbook(BytesIO((council["out"] / "timetable.xlsx").read_bytes()))
    assert wb.sheetnames == [
        "Day 1 Mon 15 Mar",
        "Day 2 Tue 16 Mar",
        "Day 3 Wed 17 Mar",
        "Day 4 Thu 18 Mar",
        "Day 5 Fri 19 Mar",
        "Participants",
        "Coverage",
    ]
    day1 = [r for r in wb["Day 1 Mon 15 Mar"].iter_rows(min_row=2, values_only=True)]
    assert sum(r[2] == "Lunch" for r in day1) == 1
    travel = [r for r in day1 if r[2] == "Travel"]
    assert len(day1) == 1 + len(travel) + sum(pl.day == 0 for pl in t.placements)
    assert [r[5] for r in travel] == [leg["text"] for leg in data["travel"] if leg["day"] == 1]
    assert all(r[4].endswith(" minutes") for r in travel)
    people = {r[1] for r in wb["Participants"].iter_rows(min_row=2, values_only=True)}
    assert "helen.marsh@kestrelvale.example.org" in people

    cal = Calendar.from_ical((council["out"] / "timetable.ics").read_bytes())
    events = cal.walk("VEVENT")
    assert len(events) == 40 and str(cal["METHOD"]) == "PUBLISH"
    uids = {str(e["UID"]) for e in events}
    assert len(uids) == 40 and all(u.startswith("cse-2027-") for u in uids)
    assert (council["out"] / "timetable-day1.png").read_bytes()[:4] == b"\x89PNG"


def test_an_availability_change_moves_few_sessions_and_bumps_only_their_sequence(council, tmp_path):
    org, engine = council["org"], council["engine"]
    first = pipeline.plan(org, engine, seconds=5)
    pipeline.publish(org, engine, first, council["out"], "run-1")
    t1 = Timetable.from_dict(first["timetable"])
    housing = t1.placement("housing-managers")
    other_day = (housing.day + 2) % 5 + 1
    text = (
        council["paths"]["config"]
        .read_text()
        .replace(
            "    departments:\n    - housing\n    members:",
            f"    departments:\n    - housing\n    availability:\n    - day: {other_day}\n    members:",
            1,
        )
    )
    assert text != council["paths"]["config"].read_text()
    council["paths"]["config"].write_text(text)
    changed_org = load_organisation(council["paths"]["config"])
    second = pipeline.plan(changed_org, engine, seconds=5)
    t2 = Timetable.from_dict(second["timetable"])
    assert t2.placement("housing-managers").day == other_day - 1
    assert "housing-managers" in t2.moved and len(t2.moved) <= 4, t2.moved
    summary = pipeline.publish(changed_org, engine, second, council["out"], "run-2")
    assert set(summary["changed"]) == set(t2.moved)
    with engine.connect() as conn:
        seq = dict(conn.execute(select(timetable_session.c.session_key, timetable_session.c.sequence)).all())
    assert seq["housing-managers"] == 1 and sum(seq.values()) == len(t2.moved)


def test_a_change_sends_only_the_changed_sessions_and_a_dropped_group_is_cancelled(council):
    org, engine = council["org"], council["engine"]
    first = pipeline.plan(org, engine, seconds=5)
    pipeline.publish(org, engine, first, council["out"], "run-1")
    sent = []
    pipeline.send(org, engine, sent.append, first, council["out"], "run-1")
    assert len(sent) == 81
    tt = org.timetable
    dropped = tt.groups[-1]
    smaller = org.model_copy(update={"timetable": tt.model_copy(update={"groups": tt.groups[:-1]})})
    second = pipeline.plan(smaller, engine, seconds=5)
    summary = pipeline.publish(smaller, engine, second, council["out"], "run-2")
    assert summary["cancelled"] == [dropped.id] and summary["moved"] == []
    sent.clear()
    counts = pipeline.send(smaller, engine, sent.append, second, council["out"], "run-2")
    assert counts == {"invites": 0, "cancellations": 1, "assessor": 1, "assessor_sessions": 1, "skipped": 39}
    cancel = next(m for m in sent if m["Subject"].startswith("Cancelled") and "northfield" not in str(m["To"]))
    ics = next(part for part in cancel.iter_attachments() if part.get_filename() == "invite.ics")
    cal = Calendar.from_ical(ics.get_content())
    (event,) = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1
    assert str(event["UID"]) == f"cse-2027-{dropped.id}@kestrelvale.example.org"
    assessor_cal = Calendar.from_ical(
        next(p for p in sent[-1].iter_attachments() if p.get_filename() == "assessment-timetable.ics").get_content()
    )
    assert len(assessor_cal.walk("VEVENT")) == 39


def test_invites_parse_back_and_a_rerun_sends_nothing(council):
    org, engine = council["org"], council["engine"]
    planned = pipeline.plan(org, engine, seconds=5)
    pipeline.publish(org, engine, planned, council["out"], "run-1")
    sent = []
    counts = pipeline.send(org, engine, sent.append, planned, council["out"], "run-1")
    assert counts == {"invites": 40, "cancellations": 0, "assessor": 1, "assessor_sessions": 40, "skipped": 0}
    invite = next(m for m in sent if "Opening meeting" in m["Subject"])
    ics = next(part for part in invite.iter_attachments() if part.get_filename() == "invite.ics")
    cal = Calendar.from_ical(ics.get_content())
    (event,) = cal.walk("VEVENT")
    assert ics.get_content_type() == "application/ics" and ics.get_param("method") == "REQUEST"
    assert str(cal["METHOD"]) == "REQUEST" and str(event["UID"]) == "cse-2027-opening-meeting@kestrelvale.example.org"
    assert int(event["SEQUENCE"]) == 0 and event.decoded("DTSTART").date() == date(2027, 3, 15)
    attendees = {str(a).removeprefix("mailto:") for a in event.get("ATTENDEE")}
    assert {"margaret.okafor@kestrelvale.example.org", "alan.wicks@northfield-cert.example.com"} <= attendees
    assert pipeline.send(org, engine, sent.append, planned, council["out"], "run-2") == {
        "invites": 0,
        "cancellations": 0,
        "assessor": 0,
        "assessor_sessions": 0,
        "skipped": 40,
    }
    assert len(sent) == 81  # 40 invites, the assessor's 40 meeting requests and one covering email


def test_the_dag_delivers_invites_to_the_smtp_sink_once(airflow_db, project_db, outbox, demo):
    text = demo["config"].read_text().replace("solver_seconds: 10", "solver_seconds: 4")
    demo["config"].write_text(text)
    with answering("assessment_timetable", Answer("approve_timetable", "Approve")) as answers:  # invites wait for sign-off
        run = run_dag("assessment_timetable", date(2026, 11, 25))
    assert run.state == "success" and not answers.errors
    messages = [m for m in outbox.messages() if "Approval needed" not in m["Subject"]]
    assert len(messages) == 81
    assessor = [
        m
        for m in messages
        if m["To"].addresses[0].addr_spec == "alan.wicks@northfield-cert.example.com" and "timetable" in m["Subject"]
    ]
    assert len(assessor) == 1 and {p.get_filename() for p in assessor[0].iter_attachments()} == {
        "assessment-timetable.ics",
        "timetable.xlsx",
    }
    folder = demo["data"] / "output" / "2027" / "timetable"
    assert {p.name for p in folder.iterdir()} >= {"timetable.json", "timetable.xlsx", "timetable.ics", "timetable-day1.png"}

    outbox.clear()
    rerun = run_dag("assessment_timetable", date(2026, 11, 26))
    assert rerun.state == "success"
    assert outbox.messages() == []
    engine = make_engine(project_db)
    with engine.connect() as conn:
        kinds = conn.execute(select(outbound_message.c.kind)).scalars().all()
    assert kinds.count("timetable_invite") == 40 and kinds.count("timetable_assessor") == 1
    assert kinds.count("timetable_chair") == 40


def test_an_impossible_config_fails_the_run_with_the_reason(airflow_db, project_db, outbox, demo):
    text = (
        demo["config"]
        .read_text()
        .replace(
            "    departments:\n    - housing\n    members:",
            "    departments:\n    - housing\n    availability:\n    - day: 9\n    members:",
            1,
        )
    )
    demo["config"].write_text(text)
    run = run_dag("assessment_timetable", date(2026, 11, 25))
    assert run.state == "failed"
    assert [
        m for m in outbox.messages() if "CSE assessment" in m["Subject"]
    ] == []  # (a failure alert may go to the quality team)
