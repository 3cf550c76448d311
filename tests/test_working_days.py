"""Working days: deadlines move off weekends and bank holidays of the organisation's nation."""

from datetime import date

import pytest

from reaccreditation.demo import build_config
from reaccreditation.organisation.config import parse_organisation
from reaccreditation.organisation.summary import calendar_notes, key_dates
from reaccreditation.organisation.working_days import day_off, previous_working_day, working_days_before, working_days_from
from reaccreditation.packs.schedule import pack_dates

EASTER_MONDAY_2027 = date(2027, 3, 29)


def org_with(first_day: date, nation: str | None = None, **schedule):
    config = build_config(first_day)
    if nation:
        config["nation"] = nation
    config["schedule"].update(schedule)
    return parse_organisation(config, source="test")


def test_a_deadline_on_easter_monday_moves_to_the_thursday_before():
    assert day_off(EASTER_MONDAY_2027) == "Easter Monday, a bank holiday"
    assert day_off(date(2027, 3, 26)) == "Good Friday, a bank holiday"
    # first day 2027-05-18: the return deadline 50 days before is Easter Monday 29 March
    org = org_with(date(2027, 5, 18))
    assert org.scheduled_date(50) == EASTER_MONDAY_2027
    assert org.return_deadline == date(2027, 3, 25)  # Thursday: Good Friday and the weekend are days off too
    assert org.moved_because(50) == "Easter Monday, a bank holiday"
    row = next(r for r in key_dates(org) if r["what"] == "Workbooks due back")
    assert (row["date"], row["moved"]) == (date(2027, 3, 25), "moved from Mon 29 Mar (Easter Monday, a bank holiday)")


def test_scotland_keeps_easter_monday_but_not_st_andrews_day_or_2_january():
    assert previous_working_day(EASTER_MONDAY_2027, "scotland") == EASTER_MONDAY_2027
    assert org_with(date(2027, 5, 18), "scotland").return_deadline == EASTER_MONDAY_2027
    assert day_off(date(2027, 11, 30), "scotland") == "Saint Andrew's Day, a bank holiday"
    assert day_off(date(2027, 11, 30)) is None  # a working day in England and Wales
    assert day_off(date(2026, 1, 2), "scotland") is not None and day_off(date(2026, 1, 2)) is None
    assert day_off(date(2027, 8, 2), "scotland") and not day_off(date(2027, 8, 2))  # Scotland's summer holiday
    assert day_off(date(2027, 8, 30)) and not day_off(date(2027, 8, 30), "scotland")
    assert day_off(date(2027, 3, 17), "northern-ireland") == "Saint Patrick's Day, a bank holiday"


def test_weekend_dates_move_to_the_friday_and_packs_are_on_working_days():
    org = org_with(date(2027, 3, 15))  # a Monday: T-50 is a Sunday, T-30 a Saturday
    assert org.scheduled_date(50) == date(2027, 1, 24) and org.return_deadline == date(2027, 1, 22)
    dates = [p.pack_date for p in pack_dates(org)]
    assert all(day_off(d) is None for d in dates)
    assert dates[0] == date(2027, 2, 12)  # T-30 Saturday 13 Feb -> Friday 12 Feb
    assert all(day_off(r["date"]) is None for r in key_dates(org))


def test_assessment_days_skip_bank_holidays_and_the_config_check_says_so():
    org = org_with(date(2027, 3, 25))  # Thursday before Easter: Good Friday, the weekend and Easter Monday are off
    assert org.assessment.dates == (date(2027, 3, 25), *working_days_from(date(2027, 3, 30), 4))
    assert org.assessment.last_day == date(2027, 4, 2)
    (note,) = calendar_notes(org)
    assert "skip Fri 26 Mar (Good Friday, a bank holiday), Mon 29 Mar (Easter Monday, a bank holiday)" in note
    assert "they run Thu 25 Mar to Fri 2 Apr 2027" in note
    on_holiday = org_with(EASTER_MONDAY_2027)
    assert on_holiday.assessment.dates[0] == date(2027, 3, 30)
    assert "is a day off in England and Wales (Easter Monday, a bank holiday)" in calendar_notes(on_holiday)[0]
    assert calendar_notes(org_with(date(2027, 3, 15))) == []


def test_nation_must_be_one_of_the_three():
    config = build_config(date(2027, 3, 15))
    config["nation"] = "wales"
    with pytest.raises(Exception, match="nation"):
        parse_organisation(config, source="test")


def test_working_days_before_skip_weekends_and_bank_holidays():
    """Counting back over Easter in England and Wales: Easter Monday and Good Friday are not working days."""
    assert working_days_before(date(2027, 3, 30), 2, "england-and-wales") == date(2027, 3, 24)  # Tue -> Thu 25 -> Wed 24
    assert working_days_before(date(2027, 3, 30), 2, "scotland") == date(2027, 3, 25)  # Easter Monday is worked there
    assert working_days_before(date(2027, 3, 28), 0) == date(2027, 3, 25)  # a Sunday moves back to a working day
