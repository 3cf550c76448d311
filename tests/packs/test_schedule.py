"""When a pack is due: pack dates from the config, at or after each date until sent, closing pack."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from reaccreditation.packs.schedule import CLOSING, current_pack, decide, pack_dates

from ..conftest import FIRST_DAY
from ..gaps.helpers import make_org


@pytest.fixture
def org():  # type: ignore[no-untyped-def]
    return make_org()


def test_pack_dates_follow_the_config(org):
    dates = pack_dates(org)
    assert [(p.pack_date, p.label) for p in dates] == [
        (date(2027, 2, 12), "T-30 pack"),  # T-30, T-23, T-16 and T-9 are Saturdays: the Friday before
        (date(2027, 2, 19), "T-23 pack"),
        (date(2027, 2, 26), "T-16 pack"),
        (date(2027, 3, 5), "T-9 pack"),
        (date(2027, 3, 12), "T-3 pack"),
        (date(2027, 3, 22), "closing pack"),  # the first working day after the assessment (Mon-Fri 15-19 March)
    ]
    custom = make_org().model_copy(update={"schedule": org.schedule.model_copy(update={"packs_days_before": (14, 7)})})
    assert [p.days_before for p in pack_dates(custom)] == [14, 7, None]


@pytest.mark.parametrize(
    ("today", "due", "label"),
    [
        (FIRST_DAY - timedelta(days=32), False, None),  # before the first pack (Friday T-31)
        (FIRST_DAY - timedelta(days=30), True, "T-30 pack"),
        (FIRST_DAY - timedelta(days=26), True, "T-30 pack"),  # missed on the day: sent late, until sent
        (FIRST_DAY - timedelta(days=20), True, "T-23 pack"),  # only the latest pack date reached counts
        (FIRST_DAY - timedelta(days=1), True, "T-3 pack"),
        (FIRST_DAY, False, "T-3 pack"),  # the assessment is under way: too late for a readiness pack
    ],
)
def test_due_at_or_after_each_pack_date(org, today, due, label):
    decision = decide(org, today, sent=False, outcomes_imported=False)
    assert decision.due is due
    assert (decision.pack.label if decision.pack else None) == label
    assert decision.reason


def test_not_due_once_sent(org):
    decision = decide(org, FIRST_DAY - timedelta(days=28), sent=True, outcomes_imported=False)
    assert not decision.due and "already sent" in decision.reason


def test_closing_pack_waits_for_the_outcomes(org):
    after = org.assessment.last_day + timedelta(days=4)
    assert current_pack(org, after).kind == CLOSING
    waiting = decide(org, after, sent=False, outcomes_imported=False)
    assert not waiting.due and "outcomes" in waiting.reason
    ready = decide(org, after, sent=False, outcomes_imported=True)
    assert ready.due and ready.pack.label == "closing pack" and ready.to_dict()["pack"]["pack_date"] == "2027-03-22"
