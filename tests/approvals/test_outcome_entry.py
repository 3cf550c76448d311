"""The assessor's outcome entered through the assessment_outcome form lands in assessment_outcome."""

from __future__ import annotations

from datetime import date

import pytest

from reaccreditation.approvals.decisions import recent_approvals
from reaccreditation.db import make_engine
from reaccreditation.outcomes.form import OutcomeFormError, rows_from_form
from reaccreditation.outcomes.history import load_outcomes
from reaccreditation.standards import load_standard

from ..conftest import run_dag
from .answer import Answer, answering

FORM = {
    "compliance_plus": "1.1.1, 2.2.1",
    "partial": "3.2.1: publish the service standards\n4.1.2: close complaints within 10 days",
    "non_compliance": "",
    "rest_are_compliance": True,
    "report_path": "",
    "comment": "report ref KV-2027",
}


def test_the_form_is_stored_as_outcomes_with_who_entered_it(council):
    with answering("assessment_outcome", Answer("enter_outcome", "OK", FORM, ("tom.hollis", "Tom Hollis"))) as answers:
        run = run_dag("assessment_outcome", date(2027, 3, 22))
    assert run.state == "success" and not answers.errors
    [seen] = answers.seen
    assert seen["options"] == ["OK"] and "Last year (2026)" in seen["body"]
    engine = make_engine(council["url"])
    rows = {r["element_id"]: r for r in load_outcomes(engine) if r["assessment_year"] == 2027}
    assert len(rows) == 57
    assert rows["1.1.1"]["rating"] == rows["2.2.1"]["rating"] == "Compliance Plus"
    assert rows["3.2.1"]["rating"] == "Partial Compliance" and rows["3.2.1"]["action"] == "publish the service standards"
    assert sum(r["rating"] == "Compliance" for r in rows.values()) == 53
    [audit] = recent_approvals(engine)
    assert (audit["decision"], audit["responded_by"], audit["comment"], audit["item_kind"]) == (
        "entered",
        "tom.hollis",
        "report ref KV-2027",
        "assessment_outcome",
    )
    assert audit["item_ref"].endswith("outcome-2027.csv")


def test_a_wrong_form_stores_nothing_and_says_why(council):
    bad = FORM | {"partial": "3.2.1: publish the service standards\n9.9.9: nothing"}
    with answering("assessment_outcome", Answer("enter_outcome", "OK", bad)) as answers:
        run = run_dag("assessment_outcome", date(2027, 3, 22))
    assert run.state == "failed" and not answers.errors
    assert [r for r in load_outcomes(make_engine(council["url"])) if r["assessment_year"] == 2027] == []


def test_form_rules():
    cse = load_standard("cse")
    kw = {"year": 2027, "assessment_type": "full", "framework": "cse"}
    with pytest.raises(OutcomeFormError, match="rest_are_compliance"):
        rows_from_form(FORM | {"rest_are_compliance": False}, cse, **kw)
    with pytest.raises(OutcomeFormError, match="also listed under compliance_plus"):
        rows_from_form(FORM | {"non_compliance": "1.1.1: x"}, cse, **kw)
    with pytest.raises(OutcomeFormError, match="needs the assessor's action"):
        rows_from_form(FORM | {"partial": "3.2.1"}, cse, **kw)
