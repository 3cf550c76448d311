"""The outcome form checks itself on submit (Airflow Params) and is refused before the assessment is over.

Real ``assessment_outcome`` runs through ``dag.test()``, answered by the in-process HITL answerer; the
failure email reaches the test SMTP sink. The demo assessment runs Mon 15 to Fri 19 Mar 2027.
"""

from __future__ import annotations

from datetime import date

from airflow.sdk import Param
from airflow.sdk.exceptions import ParamValidationError

from reaccreditation.db import make_engine
from reaccreditation.orchestration import forms
from reaccreditation.outcomes.history import load_outcomes

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


def _check(name: str, value: object) -> bool:
    param: Param = forms.OUTCOME[name]
    try:
        param.resolve(value=value)
    except ParamValidationError:
        return False
    return True


def test_the_form_fields_say_what_they_accept():
    assert forms.OUTCOME["partial"].schema["format"] == "multiline"  # "one per line" is a text area
    assert forms.OUTCOME["non_compliance"].schema["format"] == "multiline"
    for ok in (None, "", "1.1.1", "1.1.1, 2.2.1", "1.1.1; 2.2.1\n3.1.4"):
        assert _check("compliance_plus", ok), ok
    for bad in ("1.1", "one point one", "1.1.1 and 2.2.1", "1.1.1, 2.2"):
        assert not _check("compliance_plus", bad), bad
    good = "3.2.1: publish the service standards\n4.1.2: close complaints within 10 days\n"
    for ok in (None, "", good, "3.2.1: publish; 4.1.2: close", "  3.2.1 : publish them  "):
        assert _check("partial", ok), ok
    for bad in ("3.2.1", "3.2.1:", "3.2.1: publish\n4.1.2", "publish the standards", "3.2: publish"):
        assert not _check("partial", bad), bad


def _failure_email(outbox) -> str:  # type: ignore[no-untyped-def]
    [alert] = [m for m in outbox.messages() if "task failed" in m["Subject"]]
    return alert.get_body(("plain",)).get_content()


def test_a_wrong_line_is_refused_on_submit_in_the_forms_words(council):
    bad = FORM | {"partial": "3.2.1\n4.1.2: close complaints within 10 days"}
    with answering("assessment_outcome", Answer("enter_outcome", "OK", bad, ("tom.hollis", "Tom Hollis"))) as answers:
        run = run_dag("assessment_outcome", date(2027, 3, 22))
    assert run.state == "failed" and [s["task_id"] for s in answers.seen] == ["enter_outcome"]
    states = {ti.task_id: (str(ti.state), ti.try_number) for ti in run.get_task_instances()}
    assert states["enter_outcome"] == ("failed", 1)  # at once, on submit: no retry asks again
    assert states["store"][0] == "upstream_failed"  # nothing reached the store step
    assert [r for r in load_outcomes(make_engine(council["url"])) if r["assessment_year"] == 2027] == []
    text = _failure_email(council["outbox"])
    assert "The form was not accepted: 'Rated partial' (partial):" in text and "'3.2.1\\n4.1.2" in text
    assert "Trigger assessment_outcome again and fill in the form" in text and "clear the task in Airflow" not in text


def test_an_outcome_before_the_assessments_last_day_is_refused_in_words(council):
    with answering("assessment_outcome", Answer("enter_outcome", "OK", FORM)) as answers:
        run = run_dag("assessment_outcome", date(2027, 3, 16))
    assert run.state == "failed" and answers.seen == []  # no form was opened
    text = _failure_email(council["outbox"])
    assert "Not yet: the 2027 assessment runs Mon 15 Mar to Fri 19 Mar 2027, and this run is for Tue 16 Mar 2027." in text
    assert "Trigger assessment_outcome on or after Fri 19 Mar" in text and "Nothing was asked or stored." in text
