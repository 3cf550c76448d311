"""Each gap rule pinned on a small hand-made case over the demo council (no Airflow, no database)."""

from __future__ import annotations

from datetime import date

import pytest

from reaccreditation.demo import build_config
from reaccreditation.gaps.analysis import analyse, due_date
from reaccreditation.organisation.config import parse_organisation

from .helpers import FIRST_DAY, FRESH, STALE, TODAY, covered, ev, make_org, outcome, returned

E = "1.1.1"  # owned by customer-services (Joe Barker) and policy-insight (Laura Chen, Owen Price)


@pytest.fixture(scope="module")
def org():
    return make_org()


def without(rows, element_id=E, department_id=None):
    return [
        r for r in rows if not (r["element_id"] == element_id and (department_id is None or r["department_id"] == department_id))
    ]


def test_everything_fresh_and_returned_is_ready(org):
    snap = analyse(org, covered(org), returned(org), [], TODAY)
    assert snap.overall.ready == 57 and snap.overall.gaps == 0 and snap.overall.at_risk == 0
    e = snap.element(E)
    assert (e.readiness, e.forecast, e.score, e.reasons, e.forecast_because) == ("ready", "Compliance", 2, (), ())
    assert snap.overall.score == 2.0 and snap.overall.compliant_pct == 100.0


def test_no_evidence_names_every_owner_and_contact(org):
    snap = analyse(org, without(covered(org)), returned(org), [], TODAY)
    e = snap.element(E)
    assert (e.readiness, e.forecast, e.forecast_because) == ("gap", "Non-Compliance", ("no_evidence",))
    (reason,) = e.reasons
    assert reason.code == "no_evidence" and reason.severity == "gap"
    assert reason.departments == ("customer-services", "policy-insight")
    assert [c.name for c in reason.contacts] == ["Joe Barker", "Laura Chen", "Owen Price"]
    assert snap.overall.gaps == 1 and snap.overall.ready == 56


def test_only_stale_or_undated_evidence_is_a_gap_capped_at_partial(org):
    rows = without(covered(org)) + [ev("customer-services", E, STALE), ev("policy-insight", E, None)]
    e = analyse(org, rows, returned(org), [], TODAY).element(E)
    assert [r.code for r in e.reasons] == ["stale_evidence"]
    assert e.reasons[0].message == "Only stale evidence: 2 item(s), newest dated 2025-01-10; the window starts 2026-03-15"
    assert (e.readiness, e.forecast, e.fresh_evidence_count, e.evidence_count) == ("gap", "Partial Compliance", 0, 2)
    # one fresh item among stale ones is enough
    e = analyse(org, rows + [ev("policy-insight", E, FRESH)], returned(org), [], TODAY).element(E)
    assert e.readiness == "ready"


def test_evidence_no_longer_current_does_not_count(org):
    rows = without(covered(org)) + [ev("customer-services", E, FRESH, is_current=False)]
    assert analyse(org, rows, returned(org), [], TODAY).codes(E) == {"no_evidence"}


@pytest.mark.parametrize(
    ("rating", "code", "forecast"),
    [("Partial Compliance", "self_rated_partial", "Partial Compliance"), ("NC", "self_rated_non_compliance", "Non-Compliance")],
)
def test_self_rating_below_compliance_names_only_that_department(org, rating, code, forecast):
    rows = without(covered(org), department_id="policy-insight") + [ev("policy-insight", E, FRESH, rating)]
    e = analyse(org, rows, returned(org), [], TODAY).element(E)
    (reason,) = e.reasons
    assert (reason.code, reason.departments, [c.name for c in reason.contacts]) == (
        code,
        ("policy-insight",),
        ["Laura Chen", "Owen Price"],
    )
    assert (e.readiness, e.forecast, e.forecast_because) == ("gap", forecast, (code,))


def test_partial_last_time_needs_evidence_dated_since_the_last_assessment():
    org = make_org(evidence_window_months=24)  # window from 2025-03-15; the 2026 assessment was about 2026-03-15
    outcomes = [outcome(2026, E, "Partial Compliance", "Publish the customer profile"), outcome(2025, E, "Compliance")]
    before = without(covered(org)) + [ev("customer-services", E, date(2025, 11, 1))]
    e = analyse(org, before, returned(org), outcomes, TODAY).element(E)
    assert [r.code for r in e.reasons] == ["open_action"]
    assert e.reasons[0].message == (
        "Partial Compliance at the 2026 assessment and no evidence dated since 2026-03-15: action was 'Publish the customer "
        "profile'"
    )
    assert (e.forecast, e.readiness, e.last_rating, e.last_year) == ("Partial Compliance", "gap", "Partial Compliance", 2026)
    after = before + [ev("policy-insight", E, date(2026, 6, 1))]
    assert analyse(org, after, returned(org), outcomes, TODAY).element(E).readiness == "ready"


def test_older_partial_is_not_an_open_action(org):
    outcomes = [outcome(2025, E, "Partial Compliance"), outcome(2026, E, "Compliance")]
    assert analyse(org, covered(org), returned(org), outcomes, TODAY).element(E).reasons == ()


def test_owner_without_accepted_workbook_puts_the_element_at_risk(org):
    subs = [s for s in returned(org) if s["department_id"] != "policy-insight"]
    subs += [
        {"department_id": "policy-insight", "assessment_year": 2027, "status": "rejected"},
        {"department_id": "policy-insight", "assessment_year": 2026, "status": "accepted"},
    ]
    e = analyse(org, covered(org), subs, [], TODAY).element(E)
    (reason,) = e.reasons
    assert (reason.code, reason.severity, reason.departments) == ("workbook_not_returned", "risk", ("policy-insight",))
    assert reason.message == "Workbook not returned by policy-insight (due 2027-01-22)"
    assert (e.readiness, e.forecast) == ("at risk", "Compliance")
    late = analyse(org, covered(org), subs, [], date(2027, 2, 1)).element(E).reasons[0]
    assert late.message == "Workbook not returned by policy-insight (overdue since 2027-01-22)"
    partial = subs + [{"department_id": "policy-insight", "assessment_year": 2027, "status": "partial"}]
    assert analyse(org, covered(org), partial, [], TODAY).element(E).readiness == "ready"


def test_compliance_plus_candidate_unjustified_and_lapsing(org):
    base = without(covered(org), department_id="customer-services")
    claim = ev(
        "customer-services", E, FRESH, "Compliance Plus", cplus_claim=True, cplus_justification="Sector-leading segmentation"
    )
    e = analyse(org, base + [claim], returned(org), [], TODAY).element(E)
    assert [r.code for r in e.reasons] == ["cplus_candidate"] and e.reasons[0].severity == "info"
    assert (e.forecast, e.readiness, e.score, e.forecast_because) == ("Compliance Plus", "ready", 3, ("cplus_candidate",))

    bare = ev("customer-services", E, FRESH, "Compliance Plus", cplus_claim=True)
    e = analyse(org, base + [bare], returned(org), [], TODAY).element(E)
    assert [r.code for r in e.reasons] == ["cplus_unjustified"]
    assert (e.forecast, e.readiness) == ("Compliance", "at risk")

    last_plus = [outcome(2026, E, "Compliance Plus")]
    e = analyse(org, covered(org), returned(org), last_plus, TODAY).element(E)
    assert [r.code for r in e.reasons] == ["cplus_lapsing"]
    assert e.reasons[0].message == "Compliance Plus at the 2026 assessment; no fresh, justified evidence to keep it"
    assert (e.forecast, e.readiness) == ("Compliance", "at risk")
    # a stale claim does not keep it either
    old_claim = ev("customer-services", E, STALE, cplus_claim=True, cplus_justification="Old")
    e = analyse(org, base + [old_claim], returned(org), last_plus, TODAY).element(E)
    assert "cplus_lapsing" in {r.code for r in e.reasons} and "cplus_candidate" not in {r.code for r in e.reasons}
    assert analyse(org, base + [claim], returned(org), last_plus, TODAY).element(E).readiness == "ready"


def test_charter_mark_partials_per_criterion_over_the_limit_fail_the_criterion():
    org = make_org("charter_mark")
    assert org.standard.criterion("1").max_partials == 3
    owners = {e: org.owners(e)[0].id for d in org.departments for e in d.elements}
    partial = ["1.1.1", "1.1.2", "1.1.3", "1.3.1"]
    owned = [e for e in partial if e in owners]
    assert owned == partial

    def rows(elements):
        base = [r for r in covered(org) if r["element_id"] not in elements]
        return base + [ev(owners[e], e, FRESH, "Partial Compliance") for e in elements]

    assert analyse(org, rows([]), returned(org), [], TODAY).overall.ratings["Full Compliance"] == 63
    at_limit = analyse(org, rows(partial[:3]), returned(org), [], TODAY)
    assert not at_limit.criteria[0].partial_limit_exceeded
    assert all("criterion_partial_limit" not in at_limit.codes(e) for e in partial[:3])

    over = analyse(org, rows(partial), returned(org), [], TODAY)
    crit = over.criteria[0]
    assert (crit.key, crit.max_partials, crit.ratings["Partial Compliance"], crit.partial_limit_exceeded) == ("1", 3, 4, True)
    limit = "Criterion 1 has 4 Partial Compliance; Charter Mark allows at most 3"
    share = "Criterion 1 has 7 of 11 elements met (64%); Charter Mark needs at least 70% in every criterion"
    for e in partial:  # 4 partials of 11 also leave only 64% met: both rules fail the criterion
        reasons = {r.code: r.message for r in over.element(e).reasons}
        assert reasons["criterion_partial_limit"] == limit and reasons["criterion_min_share_met"] == share
    assert crit.fails == (limit, share)
    assert not over.criteria[1].partial_limit_exceeded


def test_cse_has_no_partial_limit(org):
    rows = [r for r in covered(org) if r["element_id"] not in ("1.1.1", "1.1.2", "1.1.3", "1.2.1")]
    rows += [ev("customer-services", e, FRESH, "Partial Compliance") for e in ("1.1.1", "1.1.2", "1.1.3")]
    rows += [ev("communications", "1.2.1", FRESH, "Partial Compliance")]
    snap = analyse(org, rows, returned(org), [], TODAY)
    assert snap.criteria[0].ratings["Partial Compliance"] == 4 and snap.criteria[0].max_partials is None
    assert not any(r.code == "criterion_partial_limit" for e in snap.elements for r in e.reasons)


def test_surveillance_focuses_on_last_years_partials_actions_risks_and_claims():
    surveillance, full = make_org(assessment_type="surveillance"), make_org(assessment_type="full")
    outcomes = [
        outcome(2026, "2.1.1", "Partial Compliance", "Train all staff"),
        outcome(2026, "3.1.1", "Compliance Plus"),
        outcome(2026, "4.1.1", "Compliance", "Refresh the complaints leaflet"),
        outcome(2026, "5.1.1", "Compliance"),
    ]
    rows = [r for r in covered(surveillance) if r["element_id"] not in ("1.2.1", "5.2.1")]
    rows += [
        ev("communications", "1.2.1", FRESH, cplus_claim=True, cplus_justification="Award-winning"),
        ev("revenues-benefits", "5.2.1", FRESH, "Partial Compliance"),
    ]
    rows += [
        ev("people-od", "2.1.1", FRESH),
        ev("digital", "3.1.1", FRESH, cplus_claim=True, cplus_justification="Still leading"),
    ]
    subs = returned(surveillance)

    s = analyse(surveillance, rows, subs, outcomes, TODAY)
    f = analyse(full, rows, subs, outcomes, TODAY)
    focus = {e.element_id: e.focus for e in s.elements if e.in_focus}
    assert focus == {
        "1.2.1": ("Compliance Plus claim",),
        "2.1.1": ("Partial Compliance in 2026", "action from 2026"),
        "3.1.1": ("Compliance Plus claim", "Compliance Plus in 2026"),
        "4.1.1": ("action from 2026",),
        "5.2.1": ("gap",),
    }
    assert all(e.in_focus for e in f.elements) and f.element("1.1.1").focus == ("full assessment",)
    # the same rules run in both scopes: readiness and forecast agree, only the focus differs
    assert [(e.readiness, e.forecast) for e in s.elements] == [(e.readiness, e.forecast) for e in f.elements]
    assert len(focus) == 5 and sum(e.in_focus for e in f.elements) == 57


def test_rollups_per_sub_criterion_criterion_department_and_overall(org):
    rows = without(covered(org), "3.2.1") + [ev("communications", "3.2.1", STALE)]
    subs = [s for s in returned(org) if s["department_id"] != "digital"]
    snap = analyse(org, rows, subs, [], TODAY)
    overall = snap.overall
    assert overall.elements == 57 and overall.ready + overall.at_risk + overall.gaps == 57
    assert overall.gaps == 1  # 3.2.1 stale
    digital = {d.key: d for d in snap.departments}["digital"]
    assert (digital.elements, digital.at_risk, digital.ready, digital.reasons) == (6, 6, 0, 6)
    sub = {s.key: s for s in snap.sub_criteria}["3.2"]
    assert (sub.gaps, sub.ratings["Partial Compliance"]) == (1, 1)
    assert sub.score == round((2 * (sub.elements - 1) + 1) / sub.elements, 2)
    assert sum(c.elements for c in snap.criteria) == 57 == sum(s.elements for s in snap.sub_criteria)
    assert overall.score == round((56 * 2 + 1) / 57, 2)
    assert overall.compliant_pct == round(100 * 56 / 57, 1)


def test_due_date_is_the_return_deadline_then_the_next_pack(org):
    assert due_date(org, TODAY) == date(2027, 1, 22) == org.return_deadline  # T-50 is a Sunday: the Friday before
    assert due_date(org, date(2027, 1, 25)) == date(2027, 2, 12)  # first pack: T-30 is Saturday 13 Feb, so Friday
    assert due_date(org, date(2027, 3, 13)) == date(2027, 3, 15)  # after the last pack (T-3 = 12 March)


def test_element_without_owner_is_a_gap_for_the_quality_team():
    config = build_config(FIRST_DAY, "charter_mark")
    for d in config["departments"]:
        d["elements"] = [e for e in d["elements"] if e != "6.2.3"] or d["elements"]
    org = parse_organisation(config, source="test")
    assert org.unowned_elements == ["6.2.3"]
    element_id = org.unowned_elements[0]
    e = analyse(org, [], [], [], TODAY).element(element_id)
    assert [r.code for r in e.reasons][:2] == ["no_owner", "no_evidence"]  # then the criterion fails its pass rules
    assert e.reasons[0].departments == () and [c.name for c in e.reasons[0].contacts] == ["Priya Raman", "Tom Hollis"]


def test_year_on_year_counts_history_and_forecast(org):
    from reaccreditation.demo import build_history

    snap = analyse(org, covered(org), returned(org), build_history(org.assessment.first_day), TODAY)
    rows = [(r["assessment_year"], r["kind"], r["compliance_plus"], r["partials"], r["elements"]) for r in snap.year_on_year]
    assert rows == [
        (2022, "outcome", 6, 4, 57),
        (2023, "outcome", 7, 3, 57),
        (2024, "outcome", 9, 3, 57),
        (2025, "outcome", 10, 2, 57),
        (2026, "outcome", 12, 3, 57),
        (2027, "forecast", 0, 0, 57),  # fresh evidence everywhere but no C+ claims: last year's twelve C+ lapse
    ]


def test_charter_mark_criterion_with_one_forecast_major_non_compliance_fails():
    org = make_org("charter_mark")
    rows = [r for r in covered(org) if r["element_id"] != "3.2.2"]  # criterion 3: one element with no evidence
    snap = analyse(org, rows, returned(org), [], TODAY)
    e = snap.element("3.2.2")
    assert (e.forecast, e.readiness) == ("Major non-compliance", "gap")
    assert "criterion_forbidden_rating" in snap.codes("3.2.2")
    crit = next(c for c in snap.criteria if c.key == "3")
    assert crit.fails == ("Criterion 3 has 1 Major non-compliance; a single one fails the criterion under Charter Mark",)
    assert crit.ratings["Full Compliance"] == 9 and crit.partial_limit_exceeded is False  # 90% met: only this rule fails
    assert all(not c.fails for c in snap.criteria if c.key != "3")
    # the same gap under CSE is a gap on its element, and no criterion fails
    cse = make_org()
    snap = analyse(cse, [r for r in covered(cse) if r["element_id"] != "3.2.2"], returned(cse), [], TODAY)
    assert snap.element("3.2.2").forecast == "Non-Compliance" and not any(c.fails for c in snap.criteria)


def test_an_item_the_quality_team_sent_back_is_a_gap_with_their_reason(org):
    why = "<i>Survey</i> predates the new service & has no results"
    sent = {E: [("policy-insight", "Customer survey", why, "Priya Raman")]}
    e = analyse(org, covered(org), returned(org), [], TODAY, needs_work=sent).element(E)
    [reason] = e.reasons
    assert (reason.code, reason.severity, reason.departments) == ("needs_work", "gap", ("policy-insight",))
    assert reason.message == f"Needs work (Priya Raman): 'Customer survey': {why}"
    assert e.readiness == "gap" and e.forecast == org.standard.label("partial")
    assert analyse(org, covered(org), returned(org), [], TODAY, needs_work={}).element(E).readiness == "ready"


def test_items_marked_not_relevant_leave_the_elements_evidence(org):
    """An element whose only evidence a reviewer found not relevant has no evidence: a gap that says why."""
    rows = [r | {"review_state": "not_relevant" if r["element_id"] == E else "accepted"} for r in covered(org)]
    e = analyse(org, rows, returned(org), [], TODAY).element(E)
    assert e.readiness == "gap" and e.evidence_count == 0
    [reason] = [r for r in e.reasons if r.code == "no_evidence"]
    assert reason.message.endswith("the 2 item(s) sent were marked not relevant to it by the quality team")
    # one relevant item left: evidenced again
    rows[[i for i, r in enumerate(rows) if r["element_id"] == E][0]]["review_state"] = "accepted"
    e = analyse(org, rows, returned(org), [], TODAY).element(E)
    assert e.readiness == "ready" and e.evidence_count == 1


def test_unreviewed_items_are_at_risk_near_the_desk_review(org):
    """From schedule.unreviewed_at_risk_working_days working days before the desk review (T-14, moved off
    weekends): the day before that nothing; on it, each element with unreviewed items is at risk, saying how many."""
    assert org.desk_review == date(2027, 3, 1)  # Monday: T-14
    assert org.unreviewed_at_risk_from == date(2027, 2, 22)  # 5 working days before
    rows = [r | {"review_state": "unreviewed" if r["element_id"] == E else "accepted"} for r in covered(org)]
    subs = returned(org)
    assert analyse(org, rows, subs, [], date(2027, 2, 19)).element(E).readiness == "ready"
    e = analyse(org, rows, subs, [], date(2027, 2, 22)).element(E)
    [reason] = e.reasons
    assert (reason.code, reason.severity, e.readiness) == ("unreviewed", "risk", "at risk")
    assert reason.message == "2 evidence item(s) not reviewed yet (desk review 2027-03-01): the quality team has not judged them"
    assert set(reason.departments) == {"customer-services", "policy-insight"}
    assert {c.email for c in reason.contacts} == {m.email for m in org.quality_team.members}  # who can act
    # rows whose review is not tracked (a past year's register, the forecast-accuracy rerun) never count
    assert analyse(org, covered(org), subs, [], date(2027, 2, 22)).element(E).readiness == "ready"
    # the number of working days is the config's
    config = build_config(FIRST_DAY)
    config["schedule"]["unreviewed_at_risk_working_days"] = 0
    later = parse_organisation(config)
    assert later.unreviewed_at_risk_from == date(2027, 3, 1)
    assert analyse(later, rows, subs, [], date(2027, 2, 26)).element(E).readiness == "ready"
