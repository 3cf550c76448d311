"""A re-plan after one group's diary changes: few sessions move, only their people hear, through a real SMTP server.

The demo council's virtual Digital and ICT managers' session can no longer happen on the day it was
planned. The minimal-change re-plan moves it (and only what it must); a from-scratch solve of the same
problem moves most of the week. The updates (same UID, SEQUENCE 1, METHOD:REQUEST, the joining link
where Outlook, Google and Thunderbird show it) are read back by icalendar and ical.js.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from icalendar import Calendar
from openpyxl import load_workbook

from reaccreditation.db import make_engine, upgrade
from reaccreditation.demo import generate
from reaccreditation.orchestration.connections import smtp_transport
from reaccreditation.organisation.config import load_organisation
from reaccreditation.timetable import pipeline
from reaccreditation.timetable.config import Window
from reaccreditation.timetable.replan import Replan
from reaccreditation.timetable.solution import Timetable
from reaccreditation.timetable.solver import moved_from, solve

from ..conftest import FIRST_DAY, ROOT

ASSESSOR = "alan.wicks@northfield-cert.example.com"
GROUP = "digital-managers"
LINK = f"https://meet.kestrelvale.example.org/cse-2027-{GROUP}"


@pytest.fixture
def council(tmp_path):  # type: ignore[no-untyped-def]
    paths = generate(tmp_path / "demo", FIRST_DAY)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    upgrade(url)
    return load_organisation(paths["config"]), make_engine(url), tmp_path / "out"


def _only_on(org, group: str, day: int):  # type: ignore[no-untyped-def]
    """The organisation with one group's availability narrowed to one day (1-based), as its diary now says."""
    tt = org.timetable
    groups = tuple(g.model_copy(update={"availability": (Window(day=day),)}) if g.id == group else g for g in tt.groups)
    return org.model_copy(update={"timetable": tt.model_copy(update={"groups": groups})})


def _icaljs(files: list[Path]) -> dict[str, dict]:
    node = shutil.which("node")
    tools = ROOT / "tests" / "node"
    assert node and (tools / "node_modules" / "ical.js").exists(), "run scripts/install-node-tools"
    out = subprocess.run([node, str(tools / "ical_check.mjs"), *map(str, files)], capture_output=True, text=True, check=True)
    return {Path(f["file"]).name: f for f in json.loads(out.stdout)}


def test_a_diary_change_moves_only_what_it_must_and_only_those_people_hear(council, outbox, tmp_path):
    org, engine, folder = council
    transport = smtp_transport()
    first = pipeline.plan(org, engine, seconds=5)
    pipeline.publish(org, engine, first, folder, "run-1")
    everyone: list = []  # the first round into a list (the second goes through the SMTP server)
    pipeline.send(org, engine, everyone.append, first, folder, "run-1")
    assert len(everyone) == 81  # 40 invites, the assessor's 40 and the covering email

    before = {pl.key: pl for pl in Timetable.from_dict(first["timetable"]).placements}
    assert before[GROUP].mode == "virtual" and before[GROUP].link == LINK
    changed = _only_on(org, GROUP, (before[GROUP].day + 2) % 5 + 1)
    second = pipeline.plan(changed, engine, seconds=5)
    after = Timetable.from_dict(second["timetable"])
    assert GROUP in after.moved and len(after.moved) <= 3, after.moved
    assert after.terms["moves"] == len(after.moved) and check_clean(changed, second)
    scratch = solve(pipeline.problem_for(changed, second["scope"]), seconds=5)
    assert len(moved_from(before, scratch)) >= 10  # what a plan from scratch would have sent

    summary = pipeline.publish(changed, engine, second, folder, "run-2")
    assert summary["moved"] == list(after.moved) and set(summary["changed"]) == set(after.moved)
    counts = pipeline.send(changed, engine, transport, second, folder, "run-2")
    n = len(after.moved)
    assert counts == {"invites": n, "cancellations": 0, "assessor": 1, "assessor_sessions": n, "skipped": 40 - n}
    p = pipeline.problem_for(changed, second["scope"])
    people = {e for k in after.moved for e in p.session(k).emails}
    messages = outbox.messages()
    assert {a.addr_spec for m in messages for a in m["To"].addresses} == people | {ASSESSOR}
    assert len(messages) == 2 * n + 1

    files = []
    for i, m in enumerate(messages):
        for part in m.walk():
            if part.get_content_type() == "text/calendar" and part.get_content_disposition() is None:
                files.append(tmp_path / f"{i:02d}.ics")
                files[-1].write_bytes(part.get_payload(decode=True))
                if "Changed:" not in m["Subject"]:
                    assert m["Subject"].startswith("Updated: ") and part.get_param("method") == "REQUEST"
    by_js = _icaljs(files)
    moved_uids = {f"cse-2027-{k}@kestrelvale.example.org" for k in after.moved}
    for path in files:
        (event,) = Calendar.from_ical(path.read_bytes()).walk("VEVENT")
        assert str(event["UID"]) in moved_uids and int(event["SEQUENCE"]) == 1
        (js,) = by_js[path.name]["events"]
        assert (js["uid"], js["sequence"]) == (str(event["UID"]), 1) and by_js[path.name]["method"] == "REQUEST"
        if str(event["UID"]).startswith(f"cse-2027-{GROUP}@"):
            assert str(event["LOCATION"]) == str(event["URL"]) == LINK and LINK in str(event["DESCRIPTION"])
            assert js["location"] == js["url"] == LINK and f"Join online (Teams meeting): {LINK}" in js["description"]
            assert event.decoded("DTSTART").date() == p.days[after.placement(GROUP).day]
    invite = next(m for m in messages if p.session(GROUP).title in m["Subject"] and ASSESSOR not in str(m["To"]))
    text = invite.get_body(("plain",)).get_content()
    assert f"Join: {LINK}" in text and "(was: " in text
    assert f'href="{LINK}"' in invite.get_body(("html",)).get_content()

    data = json.loads((folder / "timetable.json").read_text())
    (row,) = [s for s in data["sessions"] if s["key"] == GROUP]
    assert row["joining_link"] == LINK and row["where"] == f"Teams meeting: {LINK}"
    wb = load_workbook(BytesIO((folder / "timetable.xlsx").read_bytes()))
    sheet = wb.worksheets[after.placement(GROUP).day]
    (cell,) = [r[10] for r in sheet.iter_rows(min_row=2) if r[2].value == p.session(GROUP).title]
    assert cell.value == LINK and cell.hyperlink.target == LINK

    outbox.clear()
    assert pipeline.send(changed, engine, transport, second, folder, "run-3")["invites"] == 0
    assert outbox.messages() == []  # a rerun sends nothing twice

    # the approver leaves one of the group out: that person gets a CANCEL, the rest of the group the update
    (gone,) = [e for e in p.session(GROUP).emails if sum(e in s.emails for s in p.sessions) == 1][:1]
    third = pipeline.plan(changed, engine, seconds=5, replan=Replan(exclude_people=(gone,)).to_dict())
    assert Timetable.from_dict(third["timetable"]).moved == ()
    pipeline.publish(changed, engine, third, folder, "run-4")
    counts = pipeline.send(changed, engine, transport, third, folder, "run-4")
    assert counts == {"invites": 1, "cancellations": 1, "assessor": 1, "assessor_sessions": 1, "skipped": 39}
    messages = outbox.messages()
    stay = set(p.session(GROUP).emails) - {gone}
    assert {a.addr_spec for m in messages for a in m["To"].addresses} == stay | {gone, ASSESSOR}
    (cancel,) = [m for m in messages if m["To"].addresses[0].addr_spec == gone]
    part = next(x for x in cancel.walk() if x.get_content_type() == "text/calendar" and x.get_content_disposition() is None)
    cal = Calendar.from_ical(part.get_payload(decode=True))
    (event,) = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == "CANCEL" and int(event["SEQUENCE"]) == 2 and str(event["UID"]).startswith(f"cse-2027-{GROUP}@")
    assert [str(a).removeprefix("mailto:") for a in event.get("ATTENDEE") if a.params["ROLE"] != "CHAIR"] == [gone]
    assert "no longer needed" in cancel.get_body(("plain",)).get_content()


def check_clean(org, planned) -> bool:  # type: ignore[no-untyped-def]
    from reaccreditation.timetable.checker import check

    return check(pipeline.problem_for(org, planned["scope"]), Timetable.from_dict(planned["timetable"])) == []
