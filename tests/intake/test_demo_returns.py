"""The demo returns: what write_returns planted is exactly what intake reports (no Airflow needed)."""

from __future__ import annotations

import json
from datetime import date

from reaccreditation.db import make_engine, upgrade
from reaccreditation.demo import generate
from reaccreditation.demo.returns import write_returns
from reaccreditation.intake.gx_validation import Validator
from reaccreditation.intake.pipeline import Sweep, inbox_files
from reaccreditation.organisation.config import load_organisation
from reaccreditation.settings import Paths


def test_demo_returns_match_what_was_planted(tmp_path, gx_dir):  # type: ignore[no-untyped-def]
    today = date(2027, 1, 20)
    org = load_organisation(generate(tmp_path / "demo", date(2027, 3, 15))["config"], today=today)
    paths = Paths(tmp_path / "data")
    planted = write_returns(org, paths.inbox, seed=7)
    assert planted == json.loads((paths.root / "planted_returns.json").read_text())
    assert 1 <= len(planted["not_returned"]) <= 2
    mistaken = {d: e["mistakes"][0] for d, e in planted["departments"].items() if e["mistakes"]}
    assert 3 <= len(mistaken) <= 4
    assert any(e["partial_self_ratings"] for e in planted["departments"].values())

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    outcomes = Sweep(org, make_engine(url), paths, Validator, today=today, run_id="demo").run(inbox_files(paths.inbox))
    by_dept = {o.department_id: o for o in outcomes}
    assert set(by_dept) == set(planted["departments"])
    for dept_id, entry in planted["departments"].items():
        o = by_dept[dept_id]
        if dept_id in mistaken:
            assert o.status == "partial" and o.rows_rejected == 1, (dept_id, o.message)
            [issue] = o.details["issues"]
            assert {
                "stale_date": "before the evidence window",
                "unknown_element": "is not an element of the standard",
                "cplus_without_justification": "needs a justification",
                "missing_type": "is required",
            }[mistaken[dept_id]["kind"]] in issue["problem"]
        else:
            assert o.status == "accepted" and o.rows_accepted == entry["rows"], (dept_id, o.message)


def test_a_failure_inside_one_file_never_stops_the_others(tmp_path, gx_dir, monkeypatch):  # type: ignore[no-untyped-def]
    from reaccreditation.intake import annotate as annotating  # the sweep imports annotate() when it needs it

    today = date(2027, 1, 20)
    org = load_organisation(generate(tmp_path / "demo", date(2027, 3, 15))["config"], today=today)
    paths = Paths(tmp_path / "data")
    planted = write_returns(org, paths.inbox, seed=7)
    mistaken = sorted(d for d, e in planted["departments"].items() if e["mistakes"])
    broken = mistaken[0]

    real = annotating.annotate

    def annotate(data, returned, issues, encoding=None):  # type: ignore[no-untyped-def]
        if returned.name.startswith(broken):
            raise RuntimeError("simulated bug while annotating")
        return real(data, returned, issues, encoding)

    monkeypatch.setattr(annotating, "annotate", annotate)
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    outcomes = Sweep(org, make_engine(url), paths, Validator, today=today, run_id="bug").run(inbox_files(paths.inbox))
    by_name = {o.original_name: o for o in outcomes}
    bad = by_name[planted["departments"][broken]["file"]]
    assert bad.status == "quarantined" and "simulated bug" in bad.details["internal_error"]
    assert (paths.quarantine / bad.sha256[:12] / "REASON.txt").exists()
    assert sum(o.status in ("accepted", "partial") for o in outcomes) == len(planted["departments"]) - 1
    assert list(paths.inbox.iterdir()) == []
