import copy

import pytest
import yaml

from reaccreditation.standards import STANDARDS_DIR, StandardError, available, load_standard, parse_standard


def test_cse_counts_are_pinned():
    cse = load_standard("cse")
    assert (len(cse.criteria), len(cse.sub_criteria), len(cse.elements)) == (5, 15, 57)
    assert [c.title for c in cse.criteria] == [
        "Customer Insight",
        "The Culture of the Organisation",
        "Information and Access",
        "Delivery",
        "Timeliness and Quality of Service",
    ]
    assert all(c.max_partials is None for c in cse.criteria)


def test_charter_mark_counts_and_partial_limits():
    cm = load_standard("charter_mark")
    assert (len(cm.criteria), len(cm.elements)) == (6, 63)
    assert [c.max_partials for c in cm.criteria] == [3, 4, 3, 3, 2, 2]


@pytest.mark.parametrize("standard_id", ["cse", "charter_mark"])
def test_every_element_is_described_and_nested(standard_id):
    standard = load_standard(standard_id)
    assert available() == ["charter_mark", "cse"]
    assert [r.label for r in standard.ratings] == ["Compliance Plus", "Compliance", "Partial Compliance", "Non-Compliance"]
    for e in standard.elements:
        assert e.id.startswith(e.sub_criterion_id + ".") and e.sub_criterion_id.startswith(e.criterion_id + ".")
        assert e.title and e.asks and e.evidence, e.id
        assert standard.element(e.id) is e
    titles = [e.title for e in standard.elements]
    assert len(titles) == len(set(titles))


def _raw(standard_id="cse"):
    return yaml.safe_load((STANDARDS_DIR / f"{standard_id}.yaml").read_text())


def test_duplicate_element_id_names_both_places():
    data = _raw()
    elements = data["criteria"][0]["sub_criteria"][0]["elements"]
    elements.append(copy.deepcopy(elements[0]))
    with pytest.raises(StandardError, match=r"id '1\.1\.1' is used twice"):
        parse_standard(data, "cse.yaml")


def test_element_filed_under_wrong_sub_criterion():
    data = _raw()
    data["criteria"][0]["sub_criteria"][0]["elements"][0]["id"] = "2.1.9"
    with pytest.raises(StandardError, match="element 2.1.9 is filed under sub-criterion 1.1"):
        parse_standard(data, "cse.yaml")


def test_declared_counts_are_checked():
    data = _raw()
    data["criteria"][4]["sub_criteria"][2]["elements"].pop()
    with pytest.raises(StandardError, match="declares 57 elements but defines 56"):
        parse_standard(data, "cse.yaml")


def test_missing_field_is_named():
    data = _raw()
    del data["criteria"][1]["sub_criteria"][0]["elements"][2]["asks"]
    with pytest.raises(StandardError, match=r"element 2\.1\.3: missing 'asks'"):
        parse_standard(data, "cse.yaml")


def test_unknown_standard():
    with pytest.raises(StandardError, match="unknown standard 'iso9001'; available: charter_mark, cse"):
        load_standard("iso9001")


def test_rating_lookup_accepts_label_id_and_short_form():
    cse = load_standard("cse")
    assert cse.rating("compliance plus").id == cse.rating("C+").id == "compliance_plus"
    with pytest.raises(KeyError):
        cse.rating("excellent")
