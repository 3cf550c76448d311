"""The demo council's week planned from people's own diaries: the plan reads them once, plans around them, says
on the sign-off page which could not be read, keeps busy times out of the database and the files, and a
diary change re-plans moving only what it must."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from reaccreditation.db import make_engine, upgrade
from reaccreditation.db.schema import run_record
from reaccreditation.demo import generate
from reaccreditation.demo.diaries import busy_ics
from reaccreditation.organisation.config import load_organisation
from reaccreditation.timetable import pipeline
from reaccreditation.timetable.checker import check
from reaccreditation.timetable.solution import Timetable

from ..conftest import FIRST_DAY

PRIYA = "priya.raman@kestrelvale.example.org"
ASSESSOR = "alan.wicks@northfield-cert.example.com"


@pytest.fixture
def council(tmp_path):  # type: ignore[no-untyped-def]
    paths = generate(tmp_path / "demo", FIRST_DAY)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    upgrade(url)
    return load_organisation(paths["config"]), make_engine(url), paths["config"].parent, tmp_path / "out"


def _overlaps(pl, spans) -> bool:  # type: ignore[no-untyped-def]
    return any(d == pl.day and a < pl.end and pl.start < b for d, a, b in spans)


def test_the_week_is_planned_around_everyones_diary_and_the_sign_off_page_says_which_could_not_be_read(council):
    org, engine, config_dir, out = council
    planned = pipeline.plan(org, engine, seconds=5, config_dir=config_dir)
    busy = planned["busy"]
    assert busy[PRIYA] == [[0, 15 * 60, 17 * 60], [2, 12 * 60, 14 * 60]]  # her diary file, in day minutes
    assert busy[ASSESSOR] == [[0, 14 * 60, 15 * 60 + 30], [3, 9 * 60, 10 * 60]]  # clipped to the 09:00 start
    assert planned["source_of"][PRIYA] == "ics file"
    assert any("Alan Booth" in n for n in planned["diary_notes"]), planned["diary_notes"]  # his address is down

    p = pipeline.problem_for(org, planned["scope"], busy=busy)
    t = Timetable.from_dict(planned["timetable"])
    assert check(p, t) == []
    for pl in t.placements:
        people = {e.lower() for e in p.session(pl.key).emails} | {pl.assessor}
        assert not any(_overlaps(pl, p.busy_of(e)) for e in people), pl
    assert t.placement("housing-managers").day != 0  # Fiona Grant is in court on Monday (typed rule)
    assert t.placement("vale-homes").day == 3  # Rita Gomez only does Thursdays

    summary = pipeline.publish_for_approval(org, engine, planned, out, "run-1")
    body = summary["approval_body"]
    assert (
        "**Diaries**: 6 people planned from their own availability (ics file 3, typed rules 2, "
        "assumed free \\(diary unreachable\\) 1)" in body
    )
    assert "**Diaries that could not be read (1)**, and what was assumed instead:" in body and "Alan Booth" in body
    assert summary["diary_notes"] == planned["diary_notes"] and "busy" not in summary

    # busy times go only into XCom (the returned dict): not the run record, not the published files
    with engine.connect() as conn:
        payloads = conn.execute(select(run_record.c.payload)).scalars().all()
    assert payloads and all("busy" not in (json.loads(x) if isinstance(x, str) else x) for x in payloads)
    folder = out / str(org.assessment.year) / "timetable"
    published = json.loads((folder / "timetable.json").read_text())
    assert "busy" not in published and "Budget board" not in (folder / "timetable.json").read_text()


def test_a_change_in_one_diary_moves_only_the_sessions_it_must(council):
    org, engine, config_dir, out = council
    first = pipeline.plan(org, engine, seconds=5, config_dir=config_dir)
    pipeline.publish(org, engine, first, out, "run-1")
    before = Timetable.from_dict(first["timetable"])
    quality = before.placement("quality-team")  # Priya Raman's walk-through; she books a meeting over it
    dates = org.assessment.dates
    # over the walk-through only: to the day's end it could also cover the only window of another of her sessions
    # (the closing feedback's, day 5 from 14:30), wherever the first plan happened to put the walk-through
    busy = [
        {"day": 1, "from": "15:00", "to": "17:00"},
        {"day": 3, "from": "12:00", "to": "14:00"},
        {
            "day": quality.day + 1,
            "from": f"{quality.start // 60:02d}:{quality.start % 60:02d}",
            "to": f"{quality.end // 60:02d}:{quality.end % 60:02d}",
        },
    ]
    (config_dir / "diaries" / "priya-raman.ics").write_bytes(busy_ics(PRIYA, busy, dates, _stamp()))

    second = pipeline.plan(org, engine, seconds=5, config_dir=config_dir)
    after = Timetable.from_dict(second["timetable"])
    assert "quality-team" in after.moved and len(after.moved) <= 3, after.moved
    assert check(pipeline.problem_for(org, second["scope"], busy=second["busy"]), after) == []
    assert all(before.placement(k) == after.placement(k) for k in {pl.key for pl in before.placements} - set(after.moved))


def _stamp():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2027, 1, 1, tzinfo=UTC)
