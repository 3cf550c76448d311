"""The demo's planted problems are found by the analysis; a planted gap the analysis misses is reported."""

from __future__ import annotations

import json

from reaccreditation.demo import generate
from reaccreditation.gaps.analysis import analyse
from reaccreditation.gaps.compare import planted_gaps
from reaccreditation.organisation.config import load_organisation
from reaccreditation.outcomes.history import check_rows, read_table

from .helpers import FIRST_DAY, TODAY, covered, returned


def test_demo_planted_history_is_found_and_a_missing_gap_is_reported(tmp_path):
    paths = generate(tmp_path / "demo", FIRST_DAY)
    org = load_organisation(paths["config"])
    planted = json.loads(paths["planted"].read_text())
    outcomes = [r.__dict__ for r in check_rows(*read_table(paths["history"]))]
    rows = [r for r in covered(org) if r["element_id"] != "2.2.1"]
    snap = analyse(org, rows, returned(org), outcomes, TODAY)

    planted["gaps"] = [
        {"element_id": "2.2.1", "reason": "no_evidence", "department_id": "people-od"},
        {"element_id": "3.1.1", "reason": "stale_evidence"},
    ]
    report = planted_gaps(snap, planted)
    assert report["missing"] == ["3.1.1 stale_evidence"]
    assert report["found"][0] == "2.2.1 no_evidence (people-od)"
    assert (
        len(report["found"]) == 1 + len(planted["last_year_partials"]) + len(planted["last_year_compliance_plus"]) == 1 + 3 + 12
    )
