"""The demo season end to end through the real DAGs: the gap analysis finds exactly what the demo planted.

requests (T-120) -> the demo departments' returns (some silent, some self-rated Partial, some mistakes)
-> intake -> gap analysis (T-100) -> the demo quality lead's review and the review round. Every planted
problem shows up as its gap reason, naming the right department, and no department is blamed for something
the demo did not plant.
"""

from __future__ import annotations

import json
from datetime import timedelta

from reaccreditation.demo.returns import write_returns
from reaccreditation.organisation.config import load_organisation

from ..conftest import FIRST_DAY, run_dag


def _reasons(gaps: dict, code: str) -> set[tuple[str, str]]:
    """(element, department) pairs named by reasons of one code."""
    return {(e["element_id"], d) for e in gaps["elements"] for r in e["reasons"] if r["code"] == code for d in r["departments"]}


def test_gap_register_lists_exactly_what_the_demo_planted(airflow_db, project_db, outbox, demo, gx_dir):
    org = load_organisation(demo["config"])
    assert run_dag("evidence_requests", FIRST_DAY - timedelta(days=120)).state == "success"
    planted = write_returns(org, demo["data"] / "inbox")
    assert run_dag("evidence_intake", FIRST_DAY - timedelta(days=100)).state == "success"
    assert run_dag("gap_analysis", FIRST_DAY - timedelta(days=100)).state == "success"
    gaps = json.loads((demo["data"] / "output" / "2027" / "gaps" / "gaps.json").read_text())

    silent = set(planted["not_returned"])
    assert silent
    expected_late = {(e, d.id) for d in org.departments if d.id in silent for e in d.elements}
    assert _reasons(gaps, "workbook_not_returned") == expected_late

    # Self-rated Partial, except where intake rejected that very row (a planted mistake on the same element).
    rejected = {(m["element_id"], d) for d, entry in planted["departments"].items() for m in entry["mistakes"]}
    expected_partial = {(e, d) for d, entry in planted["departments"].items() for e in entry["partial_self_ratings"]} - rejected
    assert expected_partial and _reasons(gaps, "self_rated_partial") == expected_partial

    # An element with no evidence at all: every owner is silent, had its only row there rejected (planted
    # mistake) or sent nothing for it (planted: the one element a department alone owns and left out).
    not_sent = {(e, d) for d, entry in planted["departments"].items() for e in entry["not_sent"]}
    empty = []
    for e in gaps["elements"]:
        if any(r["code"] == "no_evidence" for r in e["reasons"]):
            empty.append(e["element_id"])
            assert all(o in silent or (e["element_id"], o) in rejected | not_sent for o in e["owners"]), e["element_id"]
    assert len(not_sent) == 1 and {e for e, _ in not_sent} <= set(empty)

    # Last year's partials are in the assessor's focus, with their open action.
    history = json.loads(demo["planted"].read_text())
    for element_id in history["last_year_partials"]:
        element = next(x for x in gaps["elements"] if x["element_id"] == element_id)
        assert element["in_focus"] and element["last_rating"] == "Partial Compliance"

    # The register xlsx is written beside it, one row per gap reason.
    assert (demo["data"] / "output" / "2027" / "gaps" / "gap_register.xlsx").stat().st_size > 5_000

    # The review (scripts/run's step 4): two items of one department sent back, one email in its thread.
    from reaccreditation.db import make_engine
    from reaccreditation.demo.review import review_one_department

    engine = make_engine(project_db)
    done = review_one_department(org, engine)
    assert len(done["sent_back"]) == 2 and done["accepted"] >= 1 and review_one_department(org, engine) == {}
    before = len(outbox.messages())
    assert run_dag("evidence_review_round", FIRST_DAY - timedelta(days=90)).state == "success"
    [mail] = outbox.messages()[before:]
    dept = org.department(done["department_id"])
    assert {a.addr_spec for a in mail["To"].addresses} == {c.email for c in dept.evidence_contacts}
    assert mail["In-Reply-To"] and "NEEDS WORK (2)" in mail.get_body(("plain",)).get_content()
    assert [a.get_filename() for a in mail.iter_attachments()] == [f"Evidence to improve 2027 - {dept.name}.xlsx"]
    engine.dispose()
