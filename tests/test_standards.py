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
    assert cse.labels == ("Compliance Plus", "Compliance", "Partial Compliance", "Non-Compliance")
    assert (cse.pass_rules.min_share_met, cse.pass_rules.forbidden) == (None, ())


def test_charter_mark_counts_and_partial_limits():
    cm = load_standard("charter_mark")
    assert (len(cm.criteria), len(cm.elements)) == (6, 63)
    assert [c.max_partials for c in cm.criteria] == [3, 4, 3, 3, 2, 2]
    assert [len(c.elements) for c in cm.criteria] == [11, 15, 10, 13, 7, 7]


def test_charter_mark_has_its_own_bands_and_pass_rules():
    cm = load_standard("charter_mark")
    assert cm.labels == ("Best Practice", "Full Compliance", "Partial Compliance", "Major non-compliance")
    assert [r.short for r in cm.ratings] == ["BP", "FC", "PC", "MNC"]
    assert cm.rating("full compliance").level == cm.rating("FC").level == "meets"
    assert cm.label("exceeds") == "Best Practice" and cm.rating("Major Non-Compliance").id == "major_non_compliance"
    assert (cm.pass_rules.min_share_met, cm.pass_rules.forbidden) == (0.7, ("major_non_compliance",))
    with pytest.raises(KeyError, match="unknown CM rating 'Compliance Plus'; expected one of Best Practice, Full"):
        cm.rating("Compliance Plus")


def _criterion_of(n, max_partials=None, share=0.7):
    """A hand-made standard with one criterion of n elements, to test the pass rules at their edges."""
    data = _raw("charter_mark")
    data["counts"] = {}
    crit = data["criteria"][0]
    elements = [{"id": f"1.1.{i}", "title": f"E{i}", "asks": "x"} for i in range(1, n + 1)]
    crit["sub_criteria"] = [{"id": "1.1", "title": "S", "elements": elements}]
    data["criteria"] = [crit]
    data["pass_rules"]["partial_limits"] = {} if max_partials is None else {"1": max_partials}
    data["pass_rules"]["min_share_met"] = share
    standard = parse_standard(data, "test.yaml")
    return standard, standard.criteria[0]


def test_seventy_percent_met_passes_at_the_boundary_and_fails_one_below():
    standard, crit = _criterion_of(10)
    assert standard.check_criterion(crit, ["FC"] * 7 + ["PC"] * 3) == []  # exactly 70%
    assert standard.check_criterion(crit, ["BP"] * 2 + ["FC"] * 5 + ["PC"] * 3) == []  # Best Practice counts as met
    (problem,) = standard.check_criterion(crit, ["FC"] * 6 + ["PC"] * 4)
    assert (problem.code, problem.message) == (
        "min_share_met",
        "Criterion 1 has 6 of 10 elements met (60%); Charter Mark needs at least 70% in every criterion",
    )
    standard, crit = _criterion_of(7)  # 5 of 7 is 71%: passes; 4 of 7 is 57%: fails
    assert standard.check_criterion(crit, ["FC"] * 5 + ["PC"] * 2) == []
    assert [p.code for p in standard.check_criterion(crit, ["FC"] * 4 + ["PC"] * 3)] == ["min_share_met"]


def test_one_major_non_compliance_fails_the_criterion_whatever_the_rest():
    standard, crit = _criterion_of(10)
    (problem,) = standard.check_criterion(crit, ["BP"] * 9 + ["Major non-compliance"])
    assert problem.code == "forbidden_rating"
    assert problem.message == "Criterion 1 has 1 Major non-compliance; a single one fails the criterion under Charter Mark"


def test_pass_rules_are_checked_when_loading():
    data = _raw("charter_mark")
    data["pass_rules"]["forbidden"] = ["non_compliance"]
    with pytest.raises(StandardError, match="pass_rules.forbidden: 'non_compliance' is not a rating id"):
        parse_standard(data, "cm.yaml")
    data = _raw("charter_mark")
    data["pass_rules"]["partial_limits"]["7"] = 1
    with pytest.raises(StandardError, match="partial_limits: no criterion 7"):
        parse_standard(data, "cm.yaml")
    data = _raw("charter_mark")
    data["ratings"][1]["level"] = "exceeds"
    with pytest.raises(StandardError, match="one rating per level"):
        parse_standard(data, "cm.yaml")


@pytest.mark.parametrize("standard_id", ["cse", "charter_mark"])
def test_every_element_is_described_and_nested(standard_id):
    standard = load_standard(standard_id)
    assert available() == ["charter_mark", "cse"]
    assert [r.level for r in standard.ratings] == ["exceeds", "meets", "partial", "fails"]
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
