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

    # the file was read and its department known: the department is answered (without the error's text), and
    # the quality team gets the error; a second reply run sends neither again
    from reaccreditation.intake.pipeline import summary
    from reaccreditation.intake.replies import send_replies

    sent: list = []
    engine = make_engine(url)
    send_replies(engine, org, sent.append, summary(outcomes)["replies"], run_id="bug")
    send_replies(engine, org, sent.append, summary(outcomes)["replies"], run_id="bug-again")
    about = [m for m in sent if bad.original_name in m.get_body(("plain",)).get_content()]
    texts = {str(m["To"]): " ".join(m.get_body(("plain",)).get_content().split()) for m in about}
    dept = org.department(broken)
    assert len(about) == 2, [m["To"] for m in about]
    [to_dept] = [t for to, t in texts.items() if dept.evidence_contacts[0].email in to]
    [to_quality] = [t for to, t in texts.items() if org.quality_team.members[0].email in to]
    assert "could not finish checking it, because of a fault on our side" in to_dept
    assert "will check it and come back to you" in to_dept and "send it again" not in to_dept
    assert "simulated bug" not in to_dept and "RuntimeError" not in to_dept
    assert "simulated bug while annotating" in to_quality and f"{dept.name} was told" in to_quality
