"""What is due on which day, from the config's schedule (no Airflow, no database)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reaccreditation.requests.plan import PlanError, escalation_key, plan_run, request_key, stages

from ..conftest import FIRST_DAY

T = FIRST_DAY


def day(before: int):  # type: ignore[no-untyped-def]
    return T - timedelta(days=before)


def keys(plan) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.dedupe_key for w in plan.work for s in w.sends]


def contacts(org, departments=None) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(d.id, c.email) for d in org.departments for c in d.evidence_contacts if departments is None or d.id in departments}


def all_requests(org) -> set[str]:  # type: ignore[no-untyped-def]
    return {request_key(org.assessment.year, d.id, c.email) for d in org.departments for c in d.evidence_contacts}


def test_stage_windows_follow_the_schedule(org):
    got = [(st.label, (T - st.opens).days, (T - st.closes).days) for st in stages(org)]
    # T-120 is a Sunday: requests open on the Friday before; the other stages fall on working days
    assert got == [("request", 122, 1), ("reminder 1", 90, 61), ("reminder 2", 60, 46), ("escalation", 45, 1)]


def test_nothing_due_before_the_requests_says_when(org):
    plan = plan_run(org, day(130), run_id="r", sent=set(), requested_before=set(), evidenced={})
    assert plan.work == [] and plan.stages == []
    assert plan.notes == [f"nothing is due on {day(130)}: the next stage is request on {day(122)} (8 days)"]


@pytest.mark.parametrize("before", [120, 101])
def test_requests_go_on_the_day_and_any_day_after_until_sent(org, before):
    plan = plan_run(org, day(before), run_id="r", sent=set(), requested_before=set(), evidenced={})
    assert set(keys(plan)) == all_requests(org) and len(keys(plan)) == 13
    sent = plan_run(org, day(before), run_id="r2", sent=all_requests(org), requested_before=set(), evidenced={})
    assert sent.work == [] and "already in the request log" in sent.notes[0]


def test_reminders_only_for_open_elements_and_earlier_requests(org):
    housing = org.department("housing")
    evidenced = {"housing": set(housing.elements), "digital": set(org.department("digital").elements[:1])}
    requested = contacts(org) - contacts(org, {"people-od"})
    plan = plan_run(org, day(90), run_id="r", sent=all_requests(org), requested_before=requested, evidenced=evidenced)
    departments = {w.department_id for w in plan.work}
    assert "housing" not in departments  # fully evidenced
    assert "digital" in departments  # one element is not enough
    assert "people-od" not in departments and any("people-od: no reminder 1" in n for n in plan.notes)
    assert all(k.startswith("reminder1:2027:") for k in keys(plan))
    # a missed reminder day is caught up until the next reminder opens, never twice
    later = plan_run(
        org, day(75), run_id="r", sent=all_requests(org) | set(keys(plan)), requested_before=requested, evidenced=evidenced
    )
    assert later.work == []
    second = plan_run(org, day(60), run_id="r", sent=all_requests(org), requested_before=requested, evidenced=evidenced)
    assert keys(second) and all(k.startswith("reminder2:") for k in keys(second))


def test_a_contact_added_late_gets_the_request_before_any_reminder(org):
    requested = contacts(org) - {("policy-insight", "owen.price@kestrelvale.example.org")}
    sent = all_requests(org) - {request_key(2027, "policy-insight", "owen.price@kestrelvale.example.org")}
    plan = plan_run(org, day(90), run_id="r", sent=sent, requested_before=requested, evidenced={})
    work = next(w for w in plan.work if w.department_id == "policy-insight")
    assert [(s.kind, s.contact_email) for s in work.sends] == [
        ("request", "owen.price@kestrelvale.example.org"),
        ("reminder", "laura.chen@kestrelvale.example.org"),
    ]


def test_escalation_goes_once_per_department_with_open_elements(org):
    requested = contacts(org, {"waste-environment"})
    evidenced = {d.id: set(d.elements) for d in org.departments if d.id != "waste-environment"}
    plan = plan_run(org, day(45), run_id="r", sent=all_requests(org), requested_before=requested, evidenced=evidenced)
    assert keys(plan) == [escalation_key(2027, "waste-environment")]
    assert plan.work[0].sends[0].contact_email is None


def test_manual_department_sends_its_request_early_and_only_its_own(org):
    plan = plan_run(org, day(150), run_id="m", sent=set(), requested_before=set(), evidenced={}, department="housing")
    assert keys(plan) == ["request:2027:housing:ben.ashworth@kestrelvale.example.org"]
    assert "manual run for housing" in plan.notes[0]


def test_resend_needs_a_department_and_uses_a_new_key(org):
    with pytest.raises(PlanError, match="resend=true needs a department"):
        plan_run(org, day(100), run_id="m", sent=set(), requested_before=set(), evidenced={}, resend=True)
    with pytest.raises(PlanError, match="'nope' is not in the config; departments: customer-services, "):
        plan_run(org, day(100), run_id="m", sent=set(), requested_before=set(), evidenced={}, department="nope")
    plan = plan_run(
        org,
        day(100),
        run_id="manual__1",
        sent=all_requests(org),
        requested_before=set(),
        evidenced={},
        department="policy-insight",
        resend=True,
    )
    assert keys(plan) == [
        "resend:2027:policy-insight:manual__1:laura.chen@kestrelvale.example.org",
        "resend:2027:policy-insight:manual__1:owen.price@kestrelvale.example.org",
    ]


def test_after_the_assessment_starts_nothing_is_due(org):
    plan = plan_run(org, T, run_id="r", sent=set(), requested_before=set(), evidenced={})
    assert plan.work == [] and "assessment started" in plan.notes[0]
