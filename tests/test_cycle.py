"""The cycle year (full / review year 1 / review year 2) from config and history, and what it changes."""

from __future__ import annotations

from datetime import date

from reaccreditation.demo import build_config, build_history
from reaccreditation.organisation.config import parse_organisation
from reaccreditation.organisation.cycle import FULL, REVIEW_1, REVIEW_2, cycle_year, review_focus

FIRST_DAY = date(2027, 3, 15)


def org_of(kind: str = "surveillance", **assessment):
    config = build_config(FIRST_DAY)
    config["assessment"] |= {"type": kind, **assessment}
    return parse_organisation(config, source="test")


def outcomes(full_year: int) -> list[dict]:
    return [
        {"assessment_year": y, "framework": "cse", "assessment_type": "full" if y == full_year else "surveillance"}
        for y in range(2022, 2027)
    ]


def test_cycle_year_comes_from_the_history_then_the_config():
    demo = cycle_year(org_of(), build_history(FIRST_DAY))  # the demo's last full assessment was 2026
    assert (demo.kind, demo.label, demo.last_full_year, demo.source) == (REVIEW_1, "review year 1", 2026, "history")
    assert cycle_year(org_of(), outcomes(2025)).kind == REVIEW_2
    assert cycle_year(org_of("full"), outcomes(2025)).kind == FULL
    overdue = cycle_year(org_of(), outcomes(2023))
    assert overdue.kind == REVIEW_2 and "a full assessment is due every 3 years" in overdue.note
    assert cycle_year(org_of(review_year=2), outcomes(2026)).kind == REVIEW_2  # the config has the last word
    unknown = cycle_year(org_of(), [])
    assert (unknown.kind, unknown.source) == (REVIEW_1, "assumed") and "assessment.review_year" in unknown.note
    assert cycle_year(org_of(), outcomes(2025)).cycle_years(2027) == [2025, 2026]


def test_each_year_asks_departments_for_something_different():
    org = org_of()
    asks = {
        kind: cycle_year(o, outcomes(full)).asks(org.standard)
        for kind, o, full in ((FULL, org_of("full"), 2024), (REVIEW_1, org, 2026), (REVIEW_2, org, 2025))
    }
    assert "every element" in asks[FULL]
    assert "review year 1" in asks[REVIEW_1] and "Compliance Plus claim" in asks[REVIEW_1]
    assert "lighter-touch" in asks[REVIEW_2] and "only where something has changed" in asks[REVIEW_2]
    cm = parse_organisation(build_config(FIRST_DAY, "charter_mark") | {"assessment": org.assessment.model_dump()})
    assert "Best Practice claim" in cycle_year(cm, []).asks(cm.standard)


def test_review_year_two_covers_less_than_review_year_one():
    kw = dict(last_year_short={"1.1.1"}, cycle_short={"1.1.1", "2.2.2"}, at_risk={"3.3.3"}, top_claims={"4.1.1"})
    assert review_focus(REVIEW_1, **kw) == {"1.1.1", "3.3.3", "4.1.1"}
    assert review_focus(REVIEW_2, **kw) == {"1.1.1", "2.2.2", "4.1.1"}  # earlier areas for improvement, not at-risk
