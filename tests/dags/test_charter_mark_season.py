"""A Charter Mark season through the real DAGs (dag.test()), on Charter Mark's own terms.

History with Charter Mark's bands imports; requests and workbooks offer its bands; intake and the gap
analysis forecast in them and apply its pass rules (a single Major non-compliance fails a criterion);
the forecast is measured against the assessor; the timetable is planned on working days; the pack and
the outcome form speak Charter Mark. No email says "Compliance Plus", "Compliance" or "Non-Compliance".
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from reaccreditation.db import make_engine
from reaccreditation.demo import generate
from reaccreditation.demo.returns import write_returns
from reaccreditation.organisation.config import load_organisation
from reaccreditation.organisation.working_days import day_off
from reaccreditation.outcomes.history import load_outcomes

from ..approvals.answer import Answer, answering
from ..conftest import FIRST_DAY, run_dag

CM_LABELS = {"Best Practice", "Full Compliance", "Partial Compliance", "Major non-compliance"}
CSE_ONLY = re.compile(r"(?<!Full )(?<!Partial )\bCompliance\b")  # CSE's Compliance, Compliance Plus, Non-Compliance


@pytest.fixture
def cm_demo(tmp_path: Path) -> Iterator[dict[str, Path]]:
    paths = generate(tmp_path / "demo", FIRST_DAY, "charter_mark")
    text = paths["config"].read_text().replace("solver_seconds: 10", "solver_seconds: 4")
    paths["config"].write_text(text)
    old = os.environ["REACCREDITATION_CONFIG"], os.environ["REACCREDITATION_DATA"]
    os.environ["REACCREDITATION_CONFIG"] = str(paths["config"])
    os.environ["REACCREDITATION_DATA"] = str(tmp_path / "data")
    yield paths | {"data": tmp_path / "data"}
    os.environ["REACCREDITATION_CONFIG"], os.environ["REACCREDITATION_DATA"] = old


def _texts(messages) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    out = []
    for m in messages:
        for part in m.walk():
            if part.get_content_type() in ("text/plain", "text/html"):
                out.append((m["Subject"], part.get_content()))
    return out


def test_a_charter_mark_season_end_to_end(airflow_db, project_db, outbox, cm_demo, gx_dir):
    org = load_organisation(cm_demo["config"])
    engine = make_engine(project_db)
    assert org.standard.id == "charter_mark" and len(org.standard.elements) == 63 and not org.unowned_elements
    t = org.due_date  # stage dates on working days (T-120 is a Sunday: requests go on the Friday)

    assert run_dag("organisation_summary", t(120)).state == "success"
    summary = outbox.messages()
    assert run_dag("assessment_history", t(120)).state == "success"
    ratings = {r["rating"] for r in load_outcomes(engine)}
    assert ratings == {"Best Practice", "Full Compliance", "Partial Compliance"}  # Charter Mark's own labels imported

    assert run_dag("evidence_requests", t(120)).state == "success"
    book = load_workbook(cm_demo["data"] / "output" / "2027" / "requests" / "housing.xlsx")
    headers = [c.value for c in book["Evidence"][1]]
    assert "Best Practice claim" in headers and "Best Practice justification" in headers
    lists = {str(dv.sqref): dv.formula1 for dv in book["Evidence"].data_validations.dataValidation}
    assert '"Best Practice,Full Compliance,Partial Compliance,Major non-compliance"' in lists.values()
    cover = " ".join(str(c.value) for row in book["How to fill in"].iter_rows() for c in row if c.value)
    assert "review year 1" in cover and "Major non-compliance" in cover
    requests = [m for m in outbox.messages() if m["Subject"].startswith("Evidence request 2027")]
    assert len(requests) == 13 and all("review year 1" in body for _, body in _texts(requests))

    planted = write_returns(org, cm_demo["data"] / "inbox")
    assert run_dag("evidence_intake", t(100)).state == "success"
    assert run_dag("gap_analysis", t(100)).state == "success"
    gaps = json.loads((cm_demo["data"] / "output" / "2027" / "gaps" / "gaps.json").read_text())
    assert gaps["labels"] == {
        "exceeds": "Best Practice",
        "meets": "Full Compliance",
        "partial": "Partial Compliance",
        "fails": "Major non-compliance",
    }
    assert {e["forecast"] for e in gaps["elements"]} <= CM_LABELS
    # the silent departments' elements have no evidence: Major non-compliance, and that fails the criterion
    failing = [e for e in gaps["elements"] if e["forecast"] == "Major non-compliance"]
    assert failing and planted["not_returned"]
    for e in failing:
        assert "criterion_forbidden_rating" in {r["code"] for r in e["reasons"]} and e["readiness"] == "gap"
        criterion = next(c for c in gaps["criteria"] if c["key"] == e["criterion_id"])
        assert any("a single one fails the criterion under Charter Mark" in f for f in criterion["fails"])
    assert gaps["cycle"] == "review year 1"
    accuracy = gaps["forecast_accuracy"]
    assert accuracy["sentence"].startswith("Last year the forecast matched the assessor on 57 of 63 elements")
    assert "Best Practice" in accuracy["sentence"] and len(accuracy["years"]) == 3

    with answering("assessment_timetable", Answer("approve_timetable", "Approve")) as answers:
        assert run_dag("assessment_timetable", t(40)).state == "success"
    assert not answers.errors
    timetable = json.loads((cm_demo["data"] / "output" / "2027" / "timetable" / "timetable.json").read_text())
    assert all(day_off(date.fromisoformat(d)) is None for d in timetable["days"])

    intake_and_more = outbox.messages()  # intake replies, the timetable's approval request and invites
    outbox.clear()
    assert run_dag("gap_analysis", t(30)).state == "success"
    with answering("readiness_pack", Answer("approve_pack", "Approve")) as answers:  # packs go after sign-off
        assert run_dag("readiness_pack", t(30)).state == "success"
    assert not answers.errors
    pack = next(
        m for m in outbox.messages() if m["Subject"].startswith("[") and "Readiness pack T-30: Kestrel Vale" in m["Subject"]
    )
    html = pack.get_body(("html",)).get_content()
    assert "How far to trust the forecast" in html and "57 of 63 elements" in html
    assert "Major non-compliance" in html and "Best Practice" in html
    assert "out of date" not in html

    last_day = org.assessment.last_day
    form = {
        "compliance_plus": "1.1.1",
        "partial": "2.1.1: consult new tenants",
        "non_compliance": "",
        "rest_are_compliance": True,
        "report_path": "",
        "comment": "CM report",
    }
    with answering("assessment_outcome", Answer("enter_outcome", "OK", form)) as answers:
        assert run_dag("assessment_outcome", last_day + timedelta(days=3)).state == "success"
    assert not answers.errors and "**Best Practice**" in answers.seen[0]["body"]
    this_year = {r["element_id"]: r["rating"] for r in load_outcomes(engine) if r["assessment_year"] == 2027}
    assert (this_year["1.1.1"], this_year["2.1.1"], this_year["6.2.3"]) == (
        "Best Practice",
        "Partial Compliance",
        "Full Compliance",
    )

    for subject, body in _texts(outbox.messages()) + _texts(requests) + _texts(summary) + _texts(intake_and_more):
        assert not CSE_ONLY.search(body), (subject, CSE_ONLY.search(body))
