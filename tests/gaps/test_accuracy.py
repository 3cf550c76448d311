"""Forecast accuracy: the gap analysis rerun on past years and compared with the assessor, element by element."""

from __future__ import annotations

import json
from datetime import date

from reaccreditation.db import make_engine
from reaccreditation.gaps import accuracy
from reaccreditation.gaps.store import forecast_accuracy, load_inputs
from reaccreditation.requests.seed import import_history

from .helpers import covered, ev, make_org, outcome

PAST = 2026
IN_WINDOW = date(2025, 9, 1)  # inside 2026's evidence window (from 15 March 2025), before its desk review


def test_hand_made_history_gives_the_known_answers():
    org = make_org()
    assert accuracy.desk_review_date(org, PAST) == date(2026, 2, 27)  # 14 days before 15 March 2026, a Friday
    actual = {e.id: "Compliance" for e in org.standard.elements} | {
        "1.1.1": "Compliance Plus",  # claimed with a justification: forecast Compliance Plus (exact)
        "1.1.2": "Partial Compliance",  # looked met: a missed partial
        "1.2.1": "Compliance Plus",  # no claim before the desk review: a missed Compliance Plus
        "3.1.1": "Non-Compliance",  # no evidence at all: forecast Non-Compliance (exact)
    }
    rows = [r | {"evidence_date": IN_WINDOW} for r in covered(org) if r["element_id"] != "3.1.1"]
    for r in rows:
        if r["element_id"] == "1.1.1":
            r.update(self_rating="Compliance Plus", cplus_claim=True, cplus_justification="Peer-reviewed exemplar")
        if r["element_id"] == "1.1.3":
            r.update(self_rating="Partial Compliance")  # the assessor found it met: a false alarm
    late_claim = ev("customer-services", "1.2.1", date(2026, 3, 5), "Compliance Plus", cplus_claim=True, cplus_justification="x")
    outcomes = [outcome(PAST, e, r) for e, r in actual.items()] + [outcome(2025, "1.1.1", "Compliance")]
    (year,) = accuracy.forecast_accuracy(org, {PAST: rows + [late_claim], 2025: []}, outcomes)  # 2025: no evidence
    assert (year.assessment_year, year.as_of, year.elements) == (PAST, date(2026, 2, 27), 57)
    assert (year.exact, year.within_one) == (54, 57)
    assert (year.missed_partials, year.missed_top, year.false_alarms) == (("1.1.2",), ("1.2.1",), ("1.1.3",))
    assert [(m.element_id, m.forecast, m.outcome, m.steps) for m in year.mismatches] == [
        ("1.1.2", "Compliance", "Partial Compliance", -1),
        ("1.1.3", "Partial Compliance", "Compliance", 1),
        ("1.2.1", "Compliance", "Compliance Plus", 1),
    ]
    said = accuracy.summary(org.standard, [year], 2027)
    assert said["sentence"] == (
        "Last year the forecast matched the assessor on 54 of 57 elements (57 within one step); it missed 1 partial "
        "(1.1.2), missed 1 Compliance Plus (1.2.1), flagged 1 element the assessor found met (1.1.3)."
    )
    assert accuracy.summary(org.standard, [], 2027)["last"] is None


def test_demo_history_measures_what_it_planted(tmp_path, demo, project_db):
    org = make_org()
    engine = make_engine(project_db)
    import_history(engine, demo["config"].parent / "history", 2027, None, org.standard)
    measured = forecast_accuracy(engine, org, load_inputs(engine, 2027)["outcomes"])
    planted = json.loads(demo["planted"].read_text())["forecast_accuracy"]
    assert [y["assessment_year"] for y in measured["years"]] == [2024, 2025, 2026]  # the years with evidence
    for y in measured["years"]:
        want = planted[str(y["assessment_year"])]
        got = {k: y[k] if not isinstance(y[k], tuple | list) else sorted(y[k]) for k in want}
        assert got == want, y["assessment_year"]
    assert measured["sentence"].startswith("Last year the forecast matched the assessor on 51 of 57 elements")
