"""The ``timetable.people`` and ``timetable.diaries`` keys: clear messages for a non-programmer's mistakes."""

from __future__ import annotations

import pytest
import yaml

from reaccreditation.organisation.config import ConfigError, parse_organisation
from reaccreditation.timetable.config import TimetableConfig

DAV = "https://dav.example.org/dan/"
GROUP = {"id": "housing", "name": "Housing staff", "kind": "staff", "departments": ["housing"]}


def problems(people: list, demo_config) -> str:
    data = yaml.safe_load(demo_config.read_text())
    data["timetable"]["people"] = people
    with pytest.raises(ConfigError) as caught:
        parse_organisation(data)
    return str(caught.value)


def test_mistakes_are_named_by_index_with_what_to_fix(demo):
    config = demo["config"]
    said = problems(
        [
            {"email": "ann@example.org", "diary": {"ics_file": "ann.ics", "ics_url": "https://cal.example.org/ann.ics"}},
            {"email": "ben@example.org", "diary": {}},
            {"email": "cat@example.org", "diary": {"ics_url": "ftp://cal.example.org/cat.ics"}},
            {"email": "dan@example.org", "diary": {"caldav": {"url": DAV, "username": "dan", "password": "x"}}},
            {"email": "eve@example.org", "when_unreachable": "guess"},
        ],
        config,
    )
    assert "timetable.people[0].diary: give exactly one of ics_file, ics_url or caldav (got ics_file, ics_url)" in said
    assert "timetable.people[1].diary: give exactly one of ics_file, ics_url or caldav" in said
    assert "people[2].diary.ics_url: ics_url 'ftp://cal.example.org/cat.ics' must be a web address starting https://" in said
    assert "timetable.people[3].diary.caldav.password: unknown key" in said  # a password never goes in the YAML
    assert "timetable.people[3].diary.caldav.password_variable: required key is missing" in said
    assert "timetable.people[4].when_unreachable:" in said and "'typed_rules' or 'assumed_free'" in said


def test_a_person_given_twice_is_refused(demo):
    said = problems([{"email": "ann@example.org"}, {"email": "Ann@Example.org", "availability": [{"day": 1}]}], demo["config"])
    assert "people[1].email: 'ann@example.org' is already people[0]; give each person once" in said


def test_people_are_found_by_email_whatever_the_case():
    tt = TimetableConfig.model_validate(
        {
            "groups": [GROUP],
            "people": [{"email": "Ann.Smith@Example.org", "diary": {"ics_url": "webcal://cal.example.org/a.ics"}}],
        }
    )
    person = tt.person("ANN.SMITH@example.ORG")
    assert person is not None and person.email == "ann.smith@example.org"
    assert person.diary is not None and person.diary.ics_url == "https://cal.example.org/a.ics"  # webcal:// is https
    assert tt.person("someone@example.org") is None
    assert (tt.diaries.timeout_seconds, tt.diaries.when_unreachable) == (5, "typed_rules")


def test_people_checked_against_the_organisation(demo):
    from reaccreditation.timetable.diaries import people_problems

    data = yaml.safe_load(demo["config"].read_text())
    member = data["timetable"]["groups"][0]["members"][0]["email"]
    data["timetable"]["people"] = [
        {"email": member.upper(), "availability": [{"day": 1}, {"day": 9}, {"day": "2027-03-13"}]},
        {"email": "nobody@example.org"},
    ]
    said = people_problems(parse_organisation(data))
    assert said[0].startswith("timetable.people[0].availability[1].day: 9 is not a day of the assessment (1..")
    assert said[1].startswith("timetable.people[0].availability[2].day: 2027-03-13 is not a day of the assessment")
    assert said[2] == (
        "timetable.people[1].email: 'nobody@example.org' is not a member of any group nor an assessor "
        "(check the spelling against the groups' members)"
    )
    assert len(said) == 3
