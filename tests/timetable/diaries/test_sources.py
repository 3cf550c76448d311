"""Reading people's diaries from every kind of source, and what happens when a source is down, slow or broken."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml

from reaccreditation.organisation.config import parse_organisation
from reaccreditation.timetable.config import TimetableConfig
from reaccreditation.timetable.diaries import DiaryReading, read_diaries, read_for

from .conftest import (
    CALDAV_BUSY,
    DAY_END,
    DAY_START,
    DAYS,
    LONDON,
    SECRET,
    CalDavServer,
    WebDiaries,
    at,
    calendar,
    event,
    refused_url,
    write,
)

GROUP = {"id": "housing", "name": "Housing staff", "kind": "staff", "departments": ["housing"]}
TIMEOUT = 2.0  # generous: the machine is shared; the slow diary takes twice as long

# An Outlook-style published diary: busy blocks as events (recurring), and a free/busy block.
ANN = calendar(
    event("a1", "DTSTART;TZID=Europe/London:20270315T100000", "DTEND;TZID=Europe/London:20270315T120000"),
    event("a2", "DTSTART:20270301T150000Z", "DTEND:20270301T160000Z", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE"),
    "BEGIN:VFREEBUSY\r\nUID:a3\r\nFREEBUSY:20270316T130000Z/20270316T140000Z\r\nEND:VFREEBUSY\r\n",
)
ANN_BUSY = ((at(1, 10), at(1, 12)), (at(1, 15), at(1, 16)), (at(2, 13), at(2, 14)), (at(3, 15), at(3, 16)))


def timetable(*people: dict, **diaries: object) -> TimetableConfig:
    return TimetableConfig.model_validate(
        {"groups": [GROUP], "people": list(people), "diaries": {"timeout_seconds": TIMEOUT} | diaries}
    )


def read(tt: TimetableConfig, folder: Path, secrets=lambda name: None) -> DiaryReading:
    return read_diaries(tt, DAYS, LONDON, DAY_START, DAY_END, config_dir=folder, secrets=secrets)


def test_every_kind_of_source(tmp_path: Path, web: WebDiaries, caldav_server: CalDavServer):
    web.files["/ann.ics"] = ANN
    tt = timetable(
        {"email": "Ann@Example.org", "diary": {"ics_url": web.url("/moved/ann.ics")}},  # a redirect is followed
        {"email": "ben@example.org", "diary": {"ics_file": write(tmp_path, "ben.ics", ANN)}},
        {"email": "priya@example.org", "diary": {"caldav": _caldav(caldav_server, "priya")}},
        {"email": "tom@example.org", "diary": {"caldav": _caldav(caldav_server, "tom")}},
        {"email": "una@example.org", "availability": [{"day": 1, "from": "10:00", "to": "12:00"}, {"day": DAYS[2].isoformat()}]},
        {"email": "vic@example.org"},
    )
    reading = read(tt, tmp_path, secrets={f"{u}_caldav": p for u, p in caldav_server.passwords.items()}.get)
    assert reading.notes == ()
    assert reading.source_of == {
        "ann@example.org": "ics url",
        "ben@example.org": "ics file",
        "priya@example.org": "caldav",
        "tom@example.org": "caldav",
        "una@example.org": "typed rules",
        "vic@example.org": "typed rules",
    }
    assert reading.busy["ann@example.org"] == ANN_BUSY
    assert reading.busy["ben@example.org"] == ANN_BUSY
    assert list(reading.busy["priya@example.org"]) == CALDAV_BUSY["priya"]  # transparent and cancelled left out
    assert list(reading.busy["tom@example.org"]) == CALDAV_BUSY["tom"]  # an all-day event: the whole working day
    # typed rules: busy outside the windows (day 1 10-12, all of day 3), all of day 2
    assert reading.busy["una@example.org"] == ((at(1, 9), at(1, 10)), (at(1, 12), at(1, 17)), (at(2, 9), at(2, 17)))
    assert reading.busy["vic@example.org"] == ()


def _caldav(server: CalDavServer, user: str) -> dict:
    return {"url": server.calendar_url(user), "username": user, "password_variable": f"{user}_caldav"}


def test_sources_down_slow_or_broken_fall_back_with_a_note(tmp_path: Path, web: WebDiaries, caldav_server: CalDavServer):
    web.files["/slow.ics"] = ANN
    web.slow["/slow.ics"] = 2 * TIMEOUT
    web.files["/broken.ics"] = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:" + SECRET.encode()
    web.files["/login"] = b"<!DOCTYPE html><html>Sign in to see " + SECRET.encode() + b"</html>"
    windows = [{"day": 2, "from": "13:00"}]
    tt = timetable(
        {"email": "down@example.org", "name": "Dee Down", "diary": {"ics_url": refused_url()}, "availability": windows},
        {"email": "slow@example.org", "diary": {"ics_url": web.url("/slow.ics")}, "when_unreachable": "assumed_free"},
        {"email": "broken@example.org", "diary": {"ics_url": web.url("/broken.ics")}},
        {"email": "page@example.org", "diary": {"ics_url": web.url("/login")}, "availability": windows},
        {"email": "gone@example.org", "diary": {"ics_url": web.url("/nothing-here.ics")}, "availability": windows},
        {"email": "nofile@example.org", "diary": {"ics_file": "diaries/missing.ics"}, "availability": windows},
        {"email": "wrongpw@example.org", "diary": {"caldav": _caldav(caldav_server, "priya")}},
        {"email": "nopw@example.org", "diary": {"caldav": _caldav(caldav_server, "tom")}},
    )
    reading = read(tt, tmp_path, secrets={"priya_caldav": "not-her-password"}.get)
    typed = ((at(1, 9), at(1, 17)), (at(2, 9), at(2, 13)), (at(3, 9), at(3, 17)))
    assert reading.source_of == {
        "down@example.org": "typed rules (diary unreachable)",
        "slow@example.org": "assumed free (diary unreachable)",
        "broken@example.org": "typed rules (diary unreachable)",
        "page@example.org": "typed rules (diary unreachable)",
        "gone@example.org": "typed rules (diary unreachable)",
        "nofile@example.org": "typed rules (diary unreachable)",
        "wrongpw@example.org": "typed rules (diary unreachable)",
        "nopw@example.org": "typed rules (diary unreachable)",
    }
    for email in ("down", "page", "gone", "nofile"):
        assert reading.busy[f"{email}@example.org"] == typed
    for email in ("slow", "broken", "wrongpw", "nopw"):  # no typed rules, or assumed free: never busy
        assert reading.busy[f"{email}@example.org"] == ()
    port = refused_url().split(":")[2]  # only the host is named: a published address's path is its secret
    assert list(reading.notes) == [
        "Dee Down (down@example.org): the published diary at 127.0.0.1 could not be reached (the connection was refused "
        "or the server is unknown); planned from their availability typed in the config.",
        f"slow@example.org: the published diary at 127.0.0.1 did not answer within {TIMEOUT:g} seconds; "
        "assumed free at any time of the assessment.",
        "broken@example.org: the published diary at 127.0.0.1 is not a readable iCalendar file (no complete calendar in it); "
        "they have no availability typed in the config, so they are assumed free.",
        "page@example.org: the published diary at 127.0.0.1 gave a web page, not a calendar (use the calendar's published "
        ".ics address); planned from their availability typed in the config.",
        "gone@example.org: the published diary at 127.0.0.1 answered 404 Not Found; "
        "planned from their availability typed in the config.",
        "nofile@example.org: the diary file diaries/missing.ics was not found (the path is relative to the organisation "
        "config's folder); planned from their availability typed in the config.",
        "wrongpw@example.org: the CalDAV calendar at 127.0.0.1 refused the user name 'priya' or its password; "
        "they have no availability typed in the config, so they are assumed free.",
        "nopw@example.org: the CalDAV calendar at 127.0.0.1 could not be asked: the password variable 'tom_caldav' is not set "
        "(Airflow: Admin > Variables); they have no availability typed in the config, so they are assumed free.",
    ]
    assert port not in "".join(reading.notes)


def test_the_default_fallback_can_be_assumed_free(tmp_path: Path):
    tt = timetable(
        {"email": "down@example.org", "diary": {"ics_url": refused_url()}, "availability": [{"day": 1}]},
        when_unreachable="assumed_free",
    )
    reading = read(tt, tmp_path)
    assert reading.source_of == {"down@example.org": "assumed free (diary unreachable)"}
    assert reading.busy == {"down@example.org": ()}


def test_each_address_is_fetched_once_per_reading(tmp_path: Path, web: WebDiaries):
    web.files["/team.ics"] = ANN
    shared = {"ics_url": web.url("/team.ics")}
    tt = timetable(*({"email": f"p{i}@example.org", "diary": shared} for i in range(5)))
    first = read(tt, tmp_path)
    assert web.hits["/team.ics"] == 1
    assert all(first.busy[f"p{i}@example.org"] == ANN_BUSY for i in range(5))
    read(tt, tmp_path)  # a new plan reads the diaries again: a diary changes
    assert web.hits["/team.ics"] == 2


def test_a_diarys_titles_and_details_appear_nowhere(tmp_path: Path, web: WebDiaries, caldav_server: CalDavServer, caplog):
    web.files["/ann.ics"] = ANN
    web.files["/broken.ics"] = ANN[:-40]
    tt = timetable(
        {"email": "ann@example.org", "diary": {"ics_url": web.url("/ann.ics")}},
        {"email": "ben@example.org", "diary": {"ics_file": write(tmp_path, "ben.ics", ANN)}},
        {"email": "bad@example.org", "diary": {"ics_url": web.url("/broken.ics")}},
        {"email": "priya@example.org", "diary": {"caldav": _caldav(caldav_server, "priya")}},
    )
    with caplog.at_level(logging.DEBUG):
        reading = read(tt, tmp_path, secrets={"priya_caldav": caldav_server.passwords["priya"]}.get)
    assert reading.source_of["ann@example.org"] == "ics url" and reading.busy["priya@example.org"]
    assert len(reading.notes) == 1
    shown = [repr(reading), json.dumps(reading.to_dict()), *reading.notes, caplog.text]
    assert SECRET in ANN.decode() and caplog.text  # the diaries held it and something was logged
    for text in shown:
        assert SECRET not in text
        assert "jones@example.org" not in text  # an attendee
        assert "/ann.ics" not in text  # nor a published diary's address


def test_read_for_the_organisation_assessment(demo: dict[str, Path]):
    """The facade: the assessment's days, working hours and time zone; ics files beside the config in use."""
    config = demo["config"]
    data = yaml.safe_load(config.read_text())
    write(config.parent, "ann.ics", ANN)
    data["timetable"]["people"] = [{"email": "ann@example.org", "diary": {"ics_file": "ann.ics"}}]
    org = parse_organisation(data)
    assert org.assessment.dates[:3] == DAYS and (org.assessment.day_start, org.assessment.day_end) == (DAY_START, DAY_END)
    reading = read_for(org)
    assert reading.source_of == {"ann@example.org": "ics file"}
    assert reading.busy["ann@example.org"][:4] == ANN_BUSY


def test_a_caldav_password_comes_from_an_airflow_variable(tmp_path: Path, caldav_server: CalDavServer, monkeypatch):
    from reaccreditation.orchestration.connections import variable_secrets

    monkeypatch.setenv("AIRFLOW_VAR_PRIYA_CALDAV", caldav_server.passwords["priya"])
    tt = timetable({"email": "priya@example.org", "diary": {"caldav": _caldav(caldav_server, "priya")}})
    reading = read(tt, tmp_path, secrets=variable_secrets)
    assert reading.notes == () and list(reading.busy["priya@example.org"]) == CALDAV_BUSY["priya"]
    assert variable_secrets("no_such_variable_set") is None


BOMB = (
    b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY a "'
    + SECRET.encode()
    + b'">'
    + b"".join(b'<!ENTITY %c "%s">' % (98 + i, (b"&%c;" % (97 + i)) * 10) for i in range(9))
    + b']>\n<d:multistatus xmlns:d="DAV:"><d:response><d:href>&j;</d:href></d:response></d:multistatus>'
)
EXTERNAL = (
    b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    b'<d:multistatus xmlns:d="DAV:"><d:response><d:href>&x;</d:href></d:response></d:multistatus>'
)


UNCLOSED = b"<d:multistatus xmlns:d='DAV:'><d:response>" * 1000


@pytest.mark.parametrize("answer", [BOMB, EXTERNAL, UNCLOSED], ids=["bomb", "xxe", "broken"])
def test_a_hostile_caldav_server_gets_a_note_not_a_hang(tmp_path: Path, web: WebDiaries, answer: bytes, caplog):
    web.files["/evil/cal/"] = answer
    source = {"url": web.url("/evil/cal/"), "username": "me", "password_variable": "evil_pw"}
    tt = timetable({"email": "eve@example.org", "diary": {"caldav": source}, "availability": [{"day": 2}]})
    with caplog.at_level(logging.INFO):
        reading = read(tt, tmp_path, secrets={"evil_pw": "pw"}.get)
    assert web.hits["/evil/cal/"] >= 1
    assert reading.source_of == {"eve@example.org": "typed rules (diary unreachable)"}
    assert reading.busy["eve@example.org"] == ((at(1, 9), at(1, 17)), (at(3, 9), at(3, 17)))
    assert reading.notes[0].startswith("eve@example.org: the CalDAV calendar at 127.0.0.1 ")
    for text in (*reading.notes, caplog.text):
        assert SECRET not in text and "root:" not in text


def test_a_caldav_server_without_free_busy_is_asked_for_its_events_and_only_their_times_kept(
    tmp_path: Path, caldav_without_free_busy: tuple[CalDavServer, object], caplog
):
    server, refused = caldav_without_free_busy
    tt = timetable({"email": "priya@example.org", "diary": {"caldav": _caldav(server, "priya")}})
    with caplog.at_level(logging.DEBUG):
        reading = read(tt, tmp_path, secrets={"priya_caldav": server.passwords["priya"]}.get)
    assert refused["/priya/work/"] == 1  # the free/busy query was tried first
    assert reading.notes == () and reading.source_of == {"priya@example.org": "caldav"}
    assert list(reading.busy["priya@example.org"]) == CALDAV_BUSY["priya"]  # transparent, cancelled left out; repeats expanded
    for text in (repr(reading), json.dumps(reading.to_dict()), caplog.text):
        assert SECRET not in text and "jones@example.org" not in text
