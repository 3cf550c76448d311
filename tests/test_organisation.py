from datetime import date

import pytest
import yaml

from reaccreditation.demo import build_config
from reaccreditation.organisation.config import ConfigError, load_organisation, parse_organisation

from .conftest import FIRST_DAY


@pytest.fixture
def config():
    return build_config(FIRST_DAY)


def _error(data, today=None) -> str:
    with pytest.raises(ConfigError) as info:
        parse_organisation(data, "organisation.yaml", today=today)
    return str(info.value)


def test_demo_config_loads_with_typed_values(demo):
    org = load_organisation(demo["config"], today=date(2026, 11, 25))
    assert org.assessment.first_day == FIRST_DAY and org.assessment.last_day == date(2027, 3, 19)
    assert org.assessment.type == "surveillance"
    assert org.assessment.evidence_window_start == date(2026, 3, 15)
    assert org.return_deadline == date(2027, 1, 22)  # T-50 is a Sunday
    assert org.unowned_elements == []
    assert org.department("housing").head.email == "fiona.grant@kestrelvale.example.org"


def test_unknown_element_id(config):
    config["departments"][2]["elements"].append("9.9.9")
    message = _error(config)
    assert "departments[2].elements[" in message and "unknown element id '9.9.9' for CSE" in message
    assert "department people-od" in message


def test_duplicate_department(config):
    config["departments"][5]["id"] = config["departments"][1]["id"]
    assert "departments[5].id: duplicate department id 'policy-insight'" in _error(config)


def test_bad_email_names_the_key(config):
    config["departments"][0]["evidence_contacts"][0]["email"] = "joe.barker at kestrelvale"
    message = _error(config)
    assert "departments[0].evidence_contacts[0].email: 'joe.barker at kestrelvale' is not a valid email address" in message


def test_assessment_in_the_past(config):
    message = _error(config, today=date(2028, 1, 10))
    assert "assessment.first_day: 2027-03-15 is in the past (today is 2028-01-10)" in message


def test_shortly_after_the_assessment_is_still_valid(config):
    parse_organisation(config, today=date(2027, 4, 20))


def test_unknown_key_is_reported_as_a_typo(config):
    config["assessment"]["dayz"] = 5
    assert "assessment.dayz: unknown key" in _error(config)


def test_missing_key_and_bad_type(config):
    del config["quality_team"]
    config["assessment"]["type"] = "annual"
    message = _error(config)
    assert "quality_team: required key is missing" in message
    assert "assessment.type: Input should be 'full' or 'surveillance' (got 'annual')" in message


def test_name_with_newline_is_rejected(config):
    config["departments"][0]["name"] = "Customer\nBcc: everyone@example.org"
    assert "departments[0].name: must be a single non-empty line of text" in _error(config)


def test_reminder_before_request_is_rejected(config):
    config["schedule"]["reminders_days_before"] = [130, 60]
    assert "every reminder must come after the requests" in _error(config)


def test_unparseable_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "organisation.yaml"
    bad.write_text("organisation: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_organisation(bad)
    with pytest.raises(ConfigError, match="file not found"):
        load_organisation(tmp_path / "missing.yaml")
    bad.write_text(yaml.safe_dump(["a", "list"]))
    with pytest.raises(ConfigError, match="expected a mapping of keys at the top level"):
        load_organisation(bad)


def test_portfolio_include_is_one_of_two_choices_said_in_words(config):
    assert parse_organisation(config).portfolio.include == "accepted_and_unreviewed"  # the demo's choice
    config["portfolio"] = {}
    assert parse_organisation(config).portfolio.include == "accepted"  # a real config's default
    config["portfolio"] = {"include": "everything"}
    assert _error(config).endswith(
        "portfolio.include: 'everything' is not a choice: use 'accepted' (only items a reviewer accepted) or "
        "'accepted_and_unreviewed' (also items nobody has reviewed yet); items sent back or marked not relevant never go in"
    )
